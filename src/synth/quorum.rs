//! The strong-quorum rule computed from first principles, apart from the verifier's code: go-f3
//! scales each power to `power * 0xffff / total` (integer division, `gpbft.PowerEntries.Scaled`)
//! and a signer set is a strong quorum when its scaled powers sum to at least
//! `ceil(2 * scaled_total / 3)` (`gpbft.IsStrongQuorum`).
//!
//! Test generators use it to place signer sets on either side of the boundary: the set whose
//! scaled power is exactly the threshold, and the one a unit below it, found by subset sum.

use num_bigint::BigInt;

use crate::types::PowerEntry;

/// The sum scaled powers add up to at most (`gpbft.maxPower`).
pub const MAX_SCALED: u64 = 0xffff;

/// Each entry's scaled power and their sum; `None` if a power is not positive.
pub fn scaled(entries: &[PowerEntry]) -> Option<(Vec<u64>, u64)> {
    let zero = BigInt::from(0u8);
    if entries.iter().any(|e| e.power <= zero) {
        return None;
    }
    let total: BigInt = entries.iter().map(|e| &e.power).sum();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let s = &e.power * BigInt::from(MAX_SCALED) / &total;
        out.push(u64::try_from(s).ok()?);
    }
    let sum = out.iter().sum();
    Some((out, sum))
}

/// The least scaled power a strong quorum holds: `ceil(2 * total / 3)`.
pub fn threshold(total: u64) -> u64 {
    (2 * total).div_ceil(3)
}

/// Whether `signers` (indexes) hold a strong quorum of `entries`, each signer with power left
/// after scaling and within the table; `None` when a signer is out of range or scaled to zero.
pub fn is_quorum(entries: &[PowerEntry], signers: &[usize]) -> Option<bool> {
    let (s, total) = scaled(entries)?;
    let mut sum = 0;
    for &i in signers {
        let p = *s.get(i)?;
        if p == 0 {
            return None;
        }
        sum += p;
    }
    Some(sum >= threshold(total))
}

/// Subset sums of `values` up to `limit`: for each reachable sum, the index of the value that
/// reached it first (knapsack order), so that a subset can be read back.
struct Reach {
    from: Vec<Option<usize>>,
}

impl Reach {
    fn new(values: &[u64], limit: u64) -> Reach {
        let limit = usize::try_from(limit).unwrap_or(0);
        let mut from: Vec<Option<usize>> = vec![None; limit + 1];
        let mut reached = vec![false; limit + 1];
        if let Some(r) = reached.first_mut() {
            *r = true;
        }
        for (i, &v) in values.iter().enumerate() {
            let v = usize::try_from(v).unwrap_or(usize::MAX);
            if v == 0 || v > limit {
                continue;
            }
            for sum in (v..=limit).rev() {
                if !reached[sum] && reached[sum - v] {
                    reached[sum] = true;
                    from[sum] = Some(i);
                }
            }
        }
        Reach { from }
    }

    fn reachable(&self, sum: u64) -> bool {
        sum == 0 || self.from.get(sum as usize).is_some_and(Option::is_some)
    }

    /// The indexes of values that sum to `sum` (which must be reachable).
    fn subset(&self, values: &[u64], mut sum: u64) -> Vec<usize> {
        let mut out = Vec::new();
        while sum > 0 {
            let Some(Some(i)) = self.from.get(sum as usize) else {
                break;
            };
            out.push(*i);
            sum -= values.get(*i).copied().unwrap_or(sum);
        }
        out.sort_unstable();
        out
    }
}

/// Signer sets on either side of the quorum boundary of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boundary {
    /// Sum of the scaled powers.
    pub total: u64,
    /// `ceil(2 * total / 3)`.
    pub threshold: u64,
    /// The set (table indexes) with the least scaled power at or above the threshold.
    pub at: Vec<usize>,
    /// Its scaled power (the threshold itself when some subset reaches it exactly).
    pub at_power: u64,
    /// The set with the most scaled power below the threshold.
    pub below: Vec<usize>,
    /// Its scaled power (`threshold - 1` when some subset reaches it exactly).
    pub below_power: u64,
}

impl Boundary {
    /// Whether both sets sit exactly on the boundary: `threshold` and `threshold - 1`.
    pub fn exact(&self) -> bool {
        self.at_power == self.threshold && self.below_power + 1 == self.threshold
    }
}

/// The tightest signer sets around the quorum boundary of `entries`, among participants with
/// power left after scaling (others cannot sign). `order` permutes the participants before the
/// search, so that different orders give different sets of the same power. `None` when a power
/// is not positive.
pub fn boundary(entries: &[PowerEntry], order: &[usize]) -> Option<Boundary> {
    let (s, total) = scaled(entries)?;
    let thr = threshold(total);
    let mut seen = vec![false; s.len()];
    let mut idx = Vec::with_capacity(s.len());
    for i in order.iter().copied().chain(0..s.len()) {
        if let Some(false) = seen.get(i) {
            seen[i] = true;
            idx.push(i);
        }
    }
    let values: Vec<u64> = idx
        .iter()
        .map(|&i| s.get(i).copied().unwrap_or(0))
        .collect();
    let reach = Reach::new(&values, total);
    let at_power = (thr..=total).find(|&v| reach.reachable(v))?;
    let below_power = (0..thr).rev().find(|&v| reach.reachable(v)).unwrap_or(0);
    let map = |sub: Vec<usize>| -> Vec<usize> {
        let mut v: Vec<usize> = sub.iter().filter_map(|&k| idx.get(k).copied()).collect();
        v.sort_unstable();
        v
    };
    Some(Boundary {
        total,
        threshold: thr,
        at: map(reach.subset(&values, at_power)),
        at_power,
        below: map(reach.subset(&values, below_power)),
        below_power,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(powers: &[u64]) -> Vec<PowerEntry> {
        powers
            .iter()
            .enumerate()
            .map(|(i, &p)| PowerEntry {
                id: i as u64,
                power: BigInt::from(p),
                pub_key: vec![0; 48],
            })
            .collect()
    }

    #[test]
    fn threshold_is_two_thirds_rounded_up() {
        assert_eq!(threshold(3), 2);
        assert_eq!(threshold(4), 3);
        assert_eq!(threshold(0xffff), 43690);
        assert_eq!(threshold(0xfffe), 43690);
        assert_eq!(threshold(0xfffd), 43689);
    }

    #[test]
    fn scaling_truncates_and_may_leave_nothing() {
        let (s, total) = scaled(&table(&[1, 1_000_000])).unwrap();
        assert_eq!(s, vec![0, 65534]);
        assert_eq!(total, 65534);
        assert!(scaled(&table(&[0, 1])).is_none());
    }

    #[test]
    fn boundary_sets_have_the_powers_they_claim() {
        // Scaled powers 21845 each: the threshold 43690 is two of them, one is below.
        let t = table(&[5, 5, 5]);
        let b = boundary(&t, &[2, 0, 1]).unwrap();
        assert_eq!((b.total, b.threshold), (65535, 43690));
        assert_eq!((b.at.len(), b.at_power), (2, 43690));
        assert_eq!((b.below.len(), b.below_power), (1, 21845));
        assert!(!b.exact());
        assert_eq!(is_quorum(&t, &b.at), Some(true));
        assert_eq!(is_quorum(&t, &b.below), Some(false));
        // An order that names a participant twice still gives sets of distinct participants.
        let b = boundary(&t, &[1, 1, 1, 0]).unwrap();
        assert!(b.at.windows(2).all(|w| w[0] < w[1]), "{b:?}");
        // Powers 2^i (any multiple of them) scale to themselves and reach every sum.
        let mut t = table(&(0..16).map(|i| 1u64 << i).collect::<Vec<_>>());
        for e in &mut t {
            e.power *= BigInt::from(10u64).pow(20);
        }
        let b = boundary(&t, &[]).unwrap();
        assert_eq!((b.total, b.threshold), (65535, 43690));
        assert!(b.exact(), "{b:?}");
        let (s, _) = scaled(&t).unwrap();
        assert_eq!(b.at.iter().map(|&i| s[i]).sum::<u64>(), b.threshold);
        assert_eq!(b.below.iter().map(|&i| s[i]).sum::<u64>(), b.threshold - 1);
    }
}
