//! The changes [`super::case`] makes to a signed chain, each re-signed or not as its name
//! says, with the verdict it calls for.

use num_bigint::BigInt;

use super::{plan, NETWORK};
use crate::synth::quorum;
use crate::synth::signed::{
    infinity_signature, resolve, Built, KeyRing, Plan, SignaturePlan, SignerChoice,
};
use crate::synth::Rng;
use crate::types::{PowerEntry, PowerTableDelta};

/// Applies one change to a built plan.
pub(super) struct Mutator {
    pub rng: Rng,
    pub keys: KeyRing,
    pub plan: Plan,
    pub built: Built,
    pub next_id: u64,
    pub notes: Vec<String>,
    /// Whether the quorum boundary the change used was reached exactly.
    pub exact: bool,
}

impl Mutator {
    /// Applies `kind`; returns the expected verdict, or `None` (outer) if the change does not
    /// apply to this chain (which is then left as it was).
    pub fn apply(&mut self, kind: &str) -> Option<Option<bool>> {
        let saved = (self.plan.clone(), self.notes.len(), self.next_id);
        let r = self.change(kind).filter(|_| plan::deltas_apply(&self.plan));
        if r.is_none() {
            (self.plan, _, self.next_id) = saved.clone();
            self.notes.truncate(saved.1);
        }
        r
    }

    fn change(&mut self, kind: &str) -> Option<Option<bool>> {
        let n = self.plan.certs.len();
        let j = self.rng.below(n as u64) as usize;
        // Changes made through the previous certificate's delta need one.
        let jd = 1 + self.rng.below(n.saturating_sub(1) as u64) as usize;
        let expect = match kind {
            "none" => Some(true),
            "add-signer/resigned" | "add-signer/stale-signature" => {
                let (table, signers) = self.at(j)?;
                let table = table.as_slice();
                let scaled = quorum::scaled(table)?.0;
                let free: Vec<usize> = (0..table.len())
                    .filter(|i| !signers.contains(i) && scaled.get(*i).is_some_and(|&s| s > 0))
                    .collect();
                let add = *free.get(self.rng.below(free.len() as u64) as usize)?;
                let mut ids = ids_of(table, &signers);
                ids.extend(table.get(add).map(|e| e.id));
                self.note(format!("certificate {j} adds signer {add}"));
                self.set_signers(j, SignerChoice::Ids(ids), kind.ends_with("resigned"));
                Some(kind.ends_with("resigned"))
            }
            "add-signer/zero-power" => {
                let (table, signers) = self.at(j)?;
                let table = table.as_slice();
                let scaled = quorum::scaled(table)?.0;
                let zero: Vec<usize> = (0..table.len())
                    .filter(|i| scaled.get(*i) == Some(&0))
                    .collect();
                let add = *zero.get(self.rng.below(zero.len() as u64) as usize)?;
                let mut ids = ids_of(table, &signers);
                ids.extend(table.get(add).map(|e| e.id));
                self.note(format!("certificate {j} adds zero-power signer {add}"));
                self.set_signers(j, SignerChoice::Ids(ids), true);
                Some(false)
            }
            "add-signer/out-of-range" => {
                let (table, signers) = self.at(j)?;
                let table = table.as_slice();
                let mut idx: Vec<u64> = signers.iter().map(|&i| i as u64).collect();
                let extra = table.len() as u64 + self.rng.below(3);
                idx.push(extra);
                self.note(format!(
                    "certificate {j} adds signer {extra} of {}",
                    table.len()
                ));
                self.set_signers(j, SignerChoice::Indexes(idx), true);
                Some(false)
            }
            "remove-signer/resigned" | "remove-signer/stale-signature" => {
                let (table, mut signers) = self.at(j)?;
                let table = table.as_slice();
                if signers.is_empty() {
                    return None;
                }
                let gone = signers.remove(self.rng.below(signers.len() as u64) as usize);
                let resign = kind.ends_with("resigned");
                let expect = resign && quorum::is_quorum(table, &signers) == Some(true);
                self.note(format!("certificate {j} drops signer {gone}"));
                self.set_signers(j, SignerChoice::Ids(ids_of(table, &signers)), resign);
                Some(expect)
            }
            "signature/swapped" => {
                let k = (j + 1 + self.rng.below(n as u64 - 1) as usize) % n;
                if k == j {
                    return None;
                }
                let sig = self.built.certs.get(k)?.signature.clone();
                self.note(format!(
                    "certificate {j} carries certificate {k}'s signature"
                ));
                self.plan.certs.get_mut(j)?.signature = SignaturePlan::Bytes(sig);
                Some(false)
            }
            "signature/bit-flip" => {
                // A quarter of the flips hit the sign of y, which leaves a valid point (the
                // signature's negation); most other flips leave no point of the group.
                let bit = match self.rng.below(4) {
                    0 => 2,
                    _ => self.rng.below(768) as u16,
                };
                self.note(format!("certificate {j}'s signature bit {bit} flipped"));
                self.plan.certs.get_mut(j)?.signature = SignaturePlan::FlipBit(bit);
                Some(false)
            }
            "signature/other-set" => {
                let (table, signers) = self.at(j)?;
                let table = table.as_slice();
                let other = self.other_set(table, &signers)?;
                self.note(format!(
                    "certificate {j} signed by {other:?} while naming {signers:?}"
                ));
                self.plan.certs.get_mut(j)?.signature =
                    SignaturePlan::SignAs(SignerChoice::Ids(ids_of(table, &other)));
                Some(false)
            }
            "signature/other-network" => {
                self.note(format!("certificate {j} signed for another network"));
                self.plan.certs.get_mut(j)?.signature =
                    SignaturePlan::SignFor(format!("{NETWORK}-other"));
                Some(false)
            }
            "signature/infinity" => {
                self.note(format!(
                    "certificate {j}'s signature is the point at infinity"
                ));
                self.plan.certs.get_mut(j)?.signature = SignaturePlan::Bytes(infinity_signature());
                Some(false)
            }
            "quorum/exact-at" | "quorum/exact-below" => {
                let (mut table, _) = self.at(j)?;
                let mut b = self.boundary(&table)?;
                let mut j = j;
                if !b.exact() && self.rng.below(4) != 0 {
                    // Newcomers with small scaled powers fill the gaps around the threshold.
                    j = jd;
                    table = self.at(j)?.0;
                    self.fine_joins(j, &mut table);
                    b = self.boundary(&table)?;
                }
                let table = table.as_slice();
                let at = kind.ends_with("at");
                let (set, power) = if at {
                    (b.at.clone(), b.at_power)
                } else {
                    (b.below.clone(), b.below_power)
                };
                self.exact = b.exact();
                self.note(format!(
                    "certificate {j} signed with scaled power {power} of {} (threshold {}{})",
                    b.total,
                    b.threshold,
                    if b.exact() { ", exact" } else { "" }
                ));
                self.set_signers(j, SignerChoice::Ids(ids_of(table, &set)), true);
                Some(at)
            }
            "quorum/delta-stays" | "quorum/delta-below" => {
                self.quorum_delta(jd, kind.ends_with("below"))?
            }
            "key-rotation/resigned" | "key-rotation/old-key" => {
                let (table, signers) = self.at(jd)?;
                let table = table.as_slice();
                let x = *signers.get(self.rng.below(signers.len() as u64) as usize)?;
                let e = table.get(x)?.clone();
                let key = if self.rng.below(4) == 0 {
                    // Rotate to another participant's key.
                    table
                        .iter()
                        .map(|o| o.pub_key.clone())
                        .find(|k| *k != e.pub_key)
                        .unwrap_or_else(|| self.keys.generate(&mut self.rng))
                } else {
                    self.keys.generate(&mut self.rng)
                };
                self.rotate_key(jd - 1, e.id, key)?;
                let old = kind.ends_with("old-key");
                self.note(format!(
                    "certificate {} rotates participant {}'s key{}",
                    jd - 1,
                    e.id,
                    if old {
                        format!(", certificate {jd} signs with the old one")
                    } else {
                        String::new()
                    }
                ));
                if old {
                    self.plan.certs.get_mut(jd)?.signature =
                        SignaturePlan::SignWithKeys(vec![(e.id, e.pub_key.clone())]);
                }
                Some(!old)
            }
            "key-rotation/invalid-key" => {
                // go-f3 decodes every key of the table in force, signer or not.
                let (table, _) = self.at(jd)?;
                let e = table
                    .get(self.rng.below(table.len() as u64) as usize)?
                    .clone();
                let mut key = self.keys.generate(&mut self.rng);
                let what = match self.rng.below(3) {
                    0 => {
                        key = vec![0; 48];
                        key[0] = 0xc0;
                        "the point at infinity"
                    }
                    1 => {
                        key[0] &= 0x7f;
                        "a key with the compression flag cleared"
                    }
                    _ => {
                        let bit = 3 + self.rng.below(381) as usize;
                        key[bit / 8] ^= 0x80 >> (bit % 8);
                        "a key with a bit of x flipped"
                    }
                };
                self.rotate_key(jd - 1, e.id, key)?;
                self.note(format!(
                    "certificate {} gives participant {} {what}",
                    jd - 1,
                    e.id
                ));
                Some(false)
            }
            "duplicate-key/join-signs" => {
                let (table, _) = self.at(jd)?;
                let table = table.as_slice();
                let y = table
                    .get(self.rng.below(table.len() as u64) as usize)?
                    .clone();
                let id = self.fresh_id();
                let join = PowerTableDelta {
                    participant_id: id,
                    power_delta: y.power.clone(),
                    signing_key: y.pub_key.clone(),
                };
                self.join(jd, join);
                self.note(format!(
                    "certificate {} adds participant {id} with participant {}'s key and power",
                    jd - 1,
                    y.id
                ));
                Some(true)
            }
            "zero-power/join-abstains" | "zero-power/join-signs" => {
                let (table, _) = self.at(jd)?;
                let table = table.as_slice();
                let total: BigInt = table.iter().map(|e| &e.power).sum();
                // Scaled to zero: 0xffff * p < total + p, i.e. 0xfffe * p < total.
                let limit: BigInt = (&total - 1) / BigInt::from(0xfffeu64);
                if limit < BigInt::from(1u8) {
                    return None;
                }
                let p = BigInt::from(1 + self.rng.below(u64::try_from(&limit).unwrap_or(1 << 62)))
                    .min(limit.clone());
                let id = self.fresh_id();
                let key = self.keys.generate(&mut self.rng);
                self.join(
                    jd,
                    PowerTableDelta {
                        participant_id: id,
                        power_delta: p.clone(),
                        signing_key: key,
                    },
                );
                let signs = kind.ends_with("signs");
                if signs {
                    let mut ids: Vec<u64> = table.iter().map(|e| e.id).collect();
                    ids.push(id);
                    self.set_signers(jd, SignerChoice::Ids(ids), true);
                }
                self.note(format!(
                    "certificate {} adds participant {id} with power {p} (scaled to zero){}",
                    jd - 1,
                    if signs { ", who signs" } else { "" }
                ));
                Some(!signs)
            }
            _ => return None,
        };
        Some(expect)
    }

    fn note(&mut self, s: String) {
        self.notes.push(s);
    }

    /// The table in force for certificate `j` and its signers' indexes, as built.
    fn at(&self, j: usize) -> Option<(Vec<PowerEntry>, Vec<usize>)> {
        let table = self.built.in_force.get(j)?.0.clone();
        let signers = self
            .built
            .certs
            .get(j)?
            .signers
            .iter()
            .map(|i| i as usize)
            .collect();
        Some((table, signers))
    }

    /// Sets certificate `j`'s signers, re-signed or keeping the signature it had.
    fn set_signers(&mut self, j: usize, choice: SignerChoice, resign: bool) {
        let old = self.built.certs.get(j).map(|c| c.signature.clone());
        if let Some(c) = self.plan.certs.get_mut(j) {
            c.signers = choice;
            c.signature = match (resign, old) {
                (false, Some(sig)) => SignaturePlan::Bytes(sig),
                _ => SignaturePlan::Sign,
            };
        }
    }

    fn boundary(&mut self, table: &[PowerEntry]) -> Option<quorum::Boundary> {
        let mut order: Vec<usize> = (0..table.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, self.rng.below(i as u64 + 1) as usize);
        }
        quorum::boundary(table, &order)
    }

    fn other_set(&mut self, table: &[PowerEntry], signers: &[usize]) -> Option<Vec<usize>> {
        let scaled = quorum::scaled(table)?.0;
        let live: Vec<usize> = (0..table.len())
            .filter(|i| scaled.get(*i).is_some_and(|&s| s > 0))
            .collect();
        let mut other: Vec<usize> = signers.to_vec();
        match self.rng.below(3) {
            0 if other.len() > 1 => {
                other.remove(self.rng.below(other.len() as u64) as usize);
            }
            1 => {
                let free: Vec<usize> = live
                    .iter()
                    .copied()
                    .filter(|i| !other.contains(i))
                    .collect();
                other.push(*free.get(self.rng.below(free.len() as u64) as usize)?);
            }
            _ => {
                let seed = self.rng.next_u64();
                other = resolve(&SignerChoice::Random(seed), table)
                    .into_iter()
                    .map(|i| i as usize)
                    .collect();
            }
        }
        other.sort_unstable();
        (other != signers).then_some(other)
    }

    /// Gives participant `id` the signing key `key` in certificate `j`'s delta.
    fn rotate_key(&mut self, j: usize, id: u64, key: Vec<u8>) -> Option<()> {
        let rot = PowerTableDelta {
            participant_id: id,
            power_delta: BigInt::default(),
            signing_key: key,
        };
        let cert = self.plan.certs.get_mut(j)?;
        cert.delta = plan::merge(&cert.delta, std::slice::from_ref(&rot));
        Some(())
    }

    fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1 + self.rng.below(9);
        id
    }

    /// Adds a participant in certificate `j - 1`'s delta, and lets every participant sign
    /// from certificate `j` on (the new table's quorum is then certain).
    fn join(&mut self, j: usize, d: PowerTableDelta) {
        if let Some(prev) = self.plan.certs.get_mut(j - 1) {
            prev.delta = plan::merge(&prev.delta, &[d]);
        }
        for c in self.plan.certs.iter_mut().skip(j) {
            c.signers = SignerChoice::All;
        }
    }

    /// Newcomers in certificate `j - 1`'s delta whose powers scale to 1, 1, 2, 4, ..., 2^k in
    /// the table they join, so that subsets of the table reach every scaled power near the
    /// threshold: the smallest `k` that does it (or the largest tried). `table`, the one in
    /// force for certificate `j`, gets them too.
    fn fine_joins(&mut self, j: usize, table: &mut Vec<PowerEntry>) {
        let total: BigInt = table.iter().map(|e| &e.power).sum();
        let mut best = Vec::new();
        for k in 3 + self.rng.below(4) as u32..=14 {
            let ladder: Vec<u64> = std::iter::once(1).chain((0..=k).map(|i| 1 << i)).collect();
            // Powers that scale to the ladder in the table with them: a few rounds of
            // `p = ceil(v * T / 0xffff)` with `T` the total they make.
            let fine: u64 = ladder.iter().sum();
            let mut t: BigInt = &total * quorum::MAX_SCALED / (quorum::MAX_SCALED - fine);
            let mut powers = Vec::new();
            for _ in 0..4 {
                powers = ladder
                    .iter()
                    .map(|&v| ceil_share(&t, v))
                    .collect::<Vec<BigInt>>();
                t = &total + powers.iter().sum::<BigInt>();
            }
            let mut trial = table.clone();
            trial.extend(powers.iter().map(|p| PowerEntry {
                id: 0,
                power: p.clone(),
                pub_key: Vec::new(),
            }));
            best = powers;
            if quorum::boundary(&trial, &[]).is_some_and(|b| b.exact()) {
                break;
            }
        }
        let count = best.len();
        for power in best {
            let id = self.fresh_id();
            let pub_key = self.keys.generate(&mut self.rng);
            table.push(PowerEntry {
                id,
                power: power.clone(),
                pub_key: pub_key.clone(),
            });
            self.join(
                j,
                PowerTableDelta {
                    participant_id: id,
                    power_delta: power,
                    signing_key: pub_key,
                },
            );
        }
        self.note(format!(
            "certificate {} adds {count} participants of small power",
            j - 1
        ));
    }

    /// Certificate `j` signed by the least quorum of its table; certificate `j - 1`'s delta
    /// then gives a non-signer (a newcomer, or a participant the delta leaves alone) the power
    /// that takes the signers just below the threshold, or the most that keeps them at it.
    fn quorum_delta(&mut self, j: usize, below: bool) -> Option<Option<bool>> {
        let (table, _) = self.at(j)?;
        let table = table.as_slice();
        let b = self.boundary(table)?;
        let signers = ids_of(table, &b.at);
        let touched: Vec<u64> = self
            .plan
            .certs
            .get(j - 1)?
            .delta
            .iter()
            .map(|d| d.participant_id)
            .collect();
        let others: Vec<&PowerEntry> = table
            .iter()
            .filter(|e| !signers.contains(&e.id) && !touched.contains(&e.id))
            .collect();
        let (id, key) = match others.get(self.rng.below(others.len() as u64 + 1) as usize) {
            Some(e) => (e.id, Vec::new()),
            None => (self.fresh_id(), self.keys.generate(&mut self.rng)),
        };
        let holds = |d: &BigInt| -> bool {
            let mut t = table.to_vec();
            match t.iter_mut().find(|e| e.id == id) {
                Some(e) => e.power += d,
                None if *d > BigInt::default() => t.push(PowerEntry {
                    id,
                    power: d.clone(),
                    pub_key: vec![0; 48],
                }),
                None => {}
            }
            let idx: Vec<usize> = (0..t.len())
                .filter(|&i| t.get(i).is_some_and(|e| signers.contains(&e.id)))
                .collect();
            quorum::is_quorum(&t, &idx) == Some(true)
        };
        // Doubling until the signers lose the quorum, then bisection: `lo` keeps it, `hi` not.
        let mut lo = BigInt::default();
        let mut hi = BigInt::from(1u8);
        while holds(&hi) {
            lo = hi.clone();
            hi *= 2;
        }
        while &hi - &lo > BigInt::from(1u8) {
            let mid: BigInt = (&lo + &hi) / 2;
            if holds(&mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let d = if below { hi } else { lo };
        self.note(format!(
            "certificate {j} signed by the least quorum ({} of {}), certificate {} gives participant {id} {d} more power",
            b.at_power,
            b.total,
            j - 1
        ));
        if d > BigInt::default() {
            let change = PowerTableDelta {
                participant_id: id,
                power_delta: d,
                signing_key: key,
            };
            if let Some(prev) = self.plan.certs.get_mut(j - 1) {
                prev.delta = plan::merge(&prev.delta, &[change]);
            }
        }
        for c in self.plan.certs.iter_mut().skip(j + 1) {
            c.signers = SignerChoice::All;
        }
        self.set_signers(j, SignerChoice::Ids(signers), true);
        Some(Some(!below))
    }
}

/// `max(1, ceil(total * v / 0xffff))`: the least power that scales to `v` in a table of
/// `total`.
fn ceil_share(total: &BigInt, v: u64) -> BigInt {
    let m = BigInt::from(quorum::MAX_SCALED);
    let p: BigInt = (total * BigInt::from(v) + &m - 1) / &m;
    p.max(BigInt::from(1u8))
}

fn ids_of(table: &[PowerEntry], idx: &[usize]) -> Vec<u64> {
    idx.iter()
        .filter_map(|&i| table.get(i).map(|e| e.id))
        .collect()
}
