//! Certificates' BDN aggregate public keys, with the work that depends only on the power
//! table's ordered key list done once per list.
//!
//! A certificate's aggregate key is `sum over signers of (c_i + 1) * P_i`, where the
//! coefficients `c_i` hash the table's whole ordered key list ([`super::crypto::bdn_weights`]).
//! Any change to that list changes every coefficient, and a change of powers alone changes it
//! when it reorders the table (mainnet's instance 9, seven power changes, moves 32 entries).
//! So what is reused is tied to one [`KeyList`]:
//!
//! - its first certificate's signers become the list's *base*, whose aggregate key is one
//!   multi-scalar multiplication (MSM) with 129-bit weights (about 950 terms on mainnet; see
//!   [`Key`] for how the weights are split into digits);
//! - every later certificate starts from a known aggregate (the base, or the previous
//!   certificate of the same batch) and adds or removes only the signers that differ:
//!   consecutive mainnet certificates differ by 25 to 127 signers of about 950;
//! - those differences are added by MSM, except for participants whose weighted key
//!   `W_i = (c_i + 1) * P_i` has been computed: computing one costs about as much as two MSM
//!   terms, so a participant's is computed the second time it is needed under the list (ski
//!   rental: never more than twice the cost of the better choice made in hindsight), and from
//!   then on it is a plain point addition (blst's batched affine addition). Measured on
//!   200 to 1,000-certificate mainnet-shaped files, CPU seconds: buying at the first use
//!   2.02 / 0.299 / 1.519 (10% churn, no churn, 80% churn), at the second 2.12 / 0.302 /
//!   1.424, at the fourth 2.14 / 0.309 / ~1.44, never 2.20 / 0.452 / -.
//!
//! Computing every `W_i` of a list up front (1,560 scalar multiplications, several base MSMs'
//! worth) pays only for a list that serves many certificates, and mainnet's deltas reorder the
//! table; renting by participant gets the saving on long-lived lists and loses little on
//! short-lived ones. With a base to start from, the table's total less the non-signers (about
//! 610 terms) is never the fewest.
//!
//! [`Plan`]s are made on the validator's thread, in stream order, so the choices never depend
//! on timing; the points are computed on the workers.

use std::sync::{Arc, OnceLock};

use blst::min_pk::{AggregatePublicKey, PublicKey};
use blst::{blst_p1, blst_p1_affine, p1_affines, MultiPoint};

/// The ski rental's price: a participant's difference terms are done by MSM this many times
/// less one, then its weighted key is computed (see benches/crypto.rs for the two costs).
pub const BUY_AFTER: u8 = 2;

/// An MSM term's 129-bit weight is split into three digits of this many bits ...
const DIGIT_BITS: usize = 43;

/// ... each stored in this many little-endian bytes.
const DIGIT_BYTES: usize = 6;

/// A key `P`, and once needed `2^43 * P` and `2^86 * P`: an MSM term with a 129-bit weight
/// becomes three terms with 43-bit digits, which blst's Pippenger adds with about a quarter
/// less work (its cost grows with the weights' bits more than with the number of points; see
/// benches/crypto.rs). The multiples depend on the key alone, so they are computed once per
/// key, by the first thread that needs them, and shared by every key list.
#[derive(Debug)]
pub struct Key {
    key: PublicKey,
    multiples: OnceLock<[PublicKey; 2]>,
}

impl Key {
    /// A decompressed, validated key.
    pub fn new(key: PublicKey) -> Self {
        Key {
            key,
            multiples: OnceLock::new(),
        }
    }

    /// The key itself.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// `[P, 2^43 P, 2^86 P]`, if the multiples are computed.
    fn powers(&self) -> Option<[PublicKey; 3]> {
        let [a, b] = self.multiples.get()?;
        Some([self.key, *a, *b])
    }

    /// Computes the multiples of those of `keys` that lack them, with one shared inversion.
    pub fn compute_multiples(keys: &[&Key]) {
        let missing: Vec<&Key> = keys
            .iter()
            .copied()
            .filter(|k| k.multiples.get().is_none())
            .collect();
        // 43 doublings each (blst adds a point to itself as a doubling).
        let double = |p: &mut AggregatePublicKey| {
            for _ in 0..DIGIT_BITS {
                let q = *p;
                p.add_aggregate(&q);
            }
        };
        let jacobian: Vec<blst_p1> = missing
            .iter()
            .flat_map(|k| {
                let mut p = AggregatePublicKey::from_public_key(&k.key);
                double(&mut p);
                let first = blst_p1::from(p);
                double(&mut p);
                [first, blst_p1::from(p)]
            })
            .collect();
        for (k, m) in missing.iter().zip(to_affine(&jacobian).chunks_exact(2)) {
            if let [a, b] = m {
                // Another thread may have set them meanwhile, to the same points.
                let _ = k.multiples.set([PublicKey::from(*a), PublicKey::from(*b)]);
            }
        }
    }
}

/// The three 43-bit digits of a 129-bit little-endian weight, as MSM scalars.
fn digits(w: &[u8; 17]) -> [[u8; DIGIT_BYTES]; 3] {
    let mut lo = [0u8; 16];
    lo.copy_from_slice(&w[..16]);
    let lo = u128::from_le_bytes(lo);
    let top = u128::from(w[16] & 1);
    let mask = (1u128 << DIGIT_BITS) - 1;
    let d = [
        lo & mask,
        (lo >> DIGIT_BITS) & mask,
        (lo >> (2 * DIGIT_BITS)) | (top << (128 - 2 * DIGIT_BITS)),
    ];
    d.map(|x| {
        let mut out = [0u8; DIGIT_BYTES];
        out.copy_from_slice(&x.to_le_bytes()[..DIGIT_BYTES]);
        out
    })
}

/// The point at infinity (the identity).
fn identity() -> AggregatePublicKey {
    AggregatePublicKey::from(blst_p1::default())
}

/// Affine forms of Jacobian points with one shared inversion; empty in, empty out.
pub(crate) fn to_affine(points: &[blst_p1]) -> Vec<blst_p1_affine> {
    if points.is_empty() {
        return Vec::new();
    }
    p1_affines::from(points).as_slice().to_vec()
}

/// Everything derived from one ordered key list.
pub struct KeyList {
    keys: Vec<Arc<Key>>,
    weights: Vec<[u8; 17]>,
    /// The first certificate's signers (set on the validator's thread) ...
    base: OnceLock<Vec<u32>>,
    /// ... and their aggregate key (computed by the first worker that needs it).
    base_key: OnceLock<AggregatePublicKey>,
    /// The weighted keys bought so far (the table allocated at the first purchase).
    weighted: OnceLock<Vec<OnceLock<PublicKey>>>,
}

/// Where a certificate's aggregate starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Nothing: every term is a signer.
    Zero,
    /// The list's base aggregate.
    Base,
    /// The previous certificate's aggregate, in the same batch and under the same list.
    Prev,
}

/// How to compute one certificate's aggregate key: `start`, plus the terms of `plus`, minus
/// those of `minus`; the terms in `plus_w` and `minus_w` as weighted keys, the others by MSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The starting aggregate.
    pub start: Start,
    /// Indexes added by MSM.
    pub plus: Vec<u32>,
    /// Indexes subtracted by MSM.
    pub minus: Vec<u32>,
    /// Indexes added as weighted keys.
    pub plus_w: Vec<u32>,
    /// Indexes subtracted as weighted keys.
    pub minus_w: Vec<u32>,
}

impl Plan {
    /// Number of terms.
    pub fn terms(&self) -> usize {
        self.plus.len() + self.minus.len() + self.plus_w.len() + self.minus_w.len()
    }
}

/// `(b - a, a - b)` of two ascending index lists.
pub fn difference(a: &[u32], b: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let (mut plus, mut minus) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                minus.push(*x);
                i += 1;
            }
            (Some(_), Some(y)) => {
                plus.push(*y);
                j += 1;
            }
            (Some(x), None) => {
                minus.push(*x);
                i += 1;
            }
            (None, Some(y)) => {
                plus.push(*y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    (plus, minus)
}

/// Which participants' weighted keys are bought under one key list, kept on the validator's
/// thread: how many times each was an MSM term, or bought.
pub struct Rental {
    uses: Vec<u8>,
}

impl Rental {
    /// Nothing bought yet, for a list of `n` keys.
    pub fn new(n: usize) -> Self {
        Rental { uses: vec![0; n] }
    }

    /// Moves to the weighted side the terms of `plan` whose weighted key is bought, or is
    /// bought now.
    pub fn apply(&mut self, plan: &mut Plan) {
        let mut split = |msm: &mut Vec<u32>, weighted: &mut Vec<u32>| {
            msm.retain(|&i| match self.uses.get_mut(i as usize) {
                Some(u) if *u + 1 >= BUY_AFTER => {
                    *u = BUY_AFTER;
                    weighted.push(i);
                    false
                }
                Some(u) => {
                    *u += 1;
                    true
                }
                None => true,
            });
        };
        split(&mut plan.plus, &mut plan.plus_w);
        split(&mut plan.minus, &mut plan.minus_w);
    }
}

impl KeyList {
    /// A list of decompressed, validated keys in table order and their BDN weights.
    pub fn new(keys: Vec<Arc<Key>>, weights: Vec<[u8; 17]>) -> Self {
        KeyList {
            keys,
            weights,
            base: OnceLock::new(),
            base_key: OnceLock::new(),
            weighted: OnceLock::new(),
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The base signers, if a certificate set them.
    pub fn base(&self) -> Option<&[u32]> {
        self.base.get().map(Vec::as_slice)
    }

    /// Makes `signers` the base unless one is set; returns whether they became it.
    pub fn set_base(&self, signers: &[u32]) -> bool {
        self.base.set(signers.to_vec()).is_ok()
    }

    /// The plan for a certificate signed by `signers` (ascending), given the previous
    /// certificate's signers in the same batch under this list, if any: whichever start needs
    /// the fewest terms, all by MSM (see [`Rental::apply`]).
    pub fn plan(&self, signers: &[u32], prev: Option<&[u32]>) -> Plan {
        let mut best = Plan {
            start: Start::Zero,
            plus: signers.to_vec(),
            minus: Vec::new(),
            plus_w: Vec::new(),
            minus_w: Vec::new(),
        };
        let candidates = [(Start::Base, self.base()), (Start::Prev, prev)];
        for (start, from) in candidates {
            if let Some(from) = from {
                let (plus, minus) = difference(from, signers);
                if plus.len() + minus.len() < best.terms() {
                    best = Plan {
                        start,
                        plus,
                        minus,
                        plus_w: Vec::new(),
                        minus_w: Vec::new(),
                    };
                }
            }
        }
        best
    }

    fn key(&self, i: u32) -> Option<&Key> {
        self.keys.get(i as usize).map(|k| &**k)
    }

    /// The keys of `ix` with their multiples computed.
    fn powers_of(&self, ix: &[u32]) -> Option<Vec<[PublicKey; 3]>> {
        let keys: Vec<&Key> = ix.iter().map(|&i| self.key(i)).collect::<Option<_>>()?;
        Key::compute_multiples(&keys);
        keys.iter().map(|k| k.powers()).collect()
    }

    fn weight(&self, i: u32) -> Option<&[u8; 17]> {
        self.weights.get(i as usize)
    }

    /// The weighted keys of `ix`, computing those not bought yet (with one shared inversion).
    fn weighted_keys(&self, ix: &[u32]) -> Option<Vec<PublicKey>> {
        let table = self
            .weighted
            .get_or_init(|| (0..self.keys.len()).map(|_| OnceLock::new()).collect());
        let missing: Vec<u32> = ix
            .iter()
            .copied()
            .filter(|&i| table.get(i as usize).is_some_and(|w| w.get().is_none()))
            .collect();
        let mut jacobian = Vec::with_capacity(missing.len());
        for (&i, powers) in missing.iter().zip(self.powers_of(&missing)?) {
            let w = powers.mult(&digits(self.weight(i)?).concat(), DIGIT_BITS);
            jacobian.push(blst_p1::from(w));
        }
        for (&i, w) in missing.iter().zip(to_affine(&jacobian)) {
            // Another thread may have set it meanwhile, to the same point.
            let _ = table.get(i as usize)?.set(PublicKey::from(w));
        }
        ix.iter()
            .map(|&i| table.get(i as usize)?.get().copied())
            .collect()
    }

    /// `sum(plus) - sum(minus)` by one MSM over the keys' powers (those of `minus` negated)
    /// and their weights' digits.
    fn msm(&self, plus: &[u32], minus: &[u32]) -> Option<AggregatePublicKey> {
        let terms = plus.len() + minus.len();
        let mut points: Vec<PublicKey> = Vec::with_capacity(3 * terms);
        let mut scalars: Vec<u8> = Vec::with_capacity(3 * DIGIT_BYTES * terms);
        for (&i, powers) in plus.iter().zip(self.powers_of(plus)?) {
            points.extend_from_slice(&powers);
            scalars.extend(digits(self.weight(i)?).iter().flatten());
        }
        let mut negated = Vec::with_capacity(3 * minus.len());
        for (&i, powers) in minus.iter().zip(self.powers_of(minus)?) {
            for p in &powers {
                let mut n = identity();
                n.sub_aggregate(&AggregatePublicKey::from_public_key(p));
                negated.push(blst_p1::from(n));
            }
            scalars.extend(digits(self.weight(i)?).iter().flatten());
        }
        points.extend(to_affine(&negated).into_iter().map(PublicKey::from));
        if points.is_empty() {
            return Some(identity());
        }
        Some(points.mult(&scalars, DIGIT_BITS))
    }

    /// The base aggregate, computed here unless another thread has.
    fn base_key(&self) -> Option<&AggregatePublicKey> {
        let base = self.base.get()?;
        Some(
            self.base_key
                .get_or_init(|| self.msm(base, &[]).unwrap_or_else(identity)),
        )
    }

    /// The aggregate key a plan describes; `prev` is the previous certificate's, for
    /// [`Start::Prev`]. `None` only if the plan does not fit this list (a bug).
    pub fn aggregate(
        &self,
        plan: &Plan,
        prev: Option<&AggregatePublicKey>,
    ) -> Option<AggregatePublicKey> {
        let mut out = match plan.start {
            Start::Zero => identity(),
            Start::Base => *self.base_key()?,
            Start::Prev => *prev?,
        };
        if !plan.plus.is_empty() || !plan.minus.is_empty() {
            out.add_aggregate(&self.msm(&plan.plus, &plan.minus)?);
        }
        if !plan.plus_w.is_empty() {
            out.add_aggregate(&sum(&self.weighted_keys(&plan.plus_w)?));
        }
        if !plan.minus_w.is_empty() {
            out.sub_aggregate(&sum(&self.weighted_keys(&plan.minus_w)?));
        }
        Some(out)
    }
}

/// The sum of affine points by blst's batched addition (one inversion for the lot); the
/// identity for none.
fn sum(points: &[PublicKey]) -> AggregatePublicKey {
    if points.is_empty() {
        return identity();
    }
    points.add()
}

#[cfg(test)]
mod tests {
    use super::*;
    use blst::min_pk::SecretKey;

    fn list(n: usize) -> KeyList {
        let keys: Vec<PublicKey> = (0..n)
            .map(|i| {
                let mut ikm = [7u8; 32];
                ikm[0] = i as u8;
                ikm[1] = (i >> 8) as u8;
                SecretKey::key_gen(&ikm, &[]).unwrap().sk_to_pk()
            })
            .collect();
        let raw: Vec<[u8; 48]> = keys.iter().map(PublicKey::to_bytes).collect();
        let refs: Vec<&[u8]> = raw.iter().map(|k| k.as_slice()).collect();
        let weights = super::super::crypto::bdn_weights(&refs);
        KeyList::new(
            keys.iter().map(|k| Arc::new(Key::new(*k))).collect(),
            weights,
        )
    }

    /// The aggregate as go-f3 defines it, by one MSM over the signers.
    fn reference(l: &KeyList, signers: &[u32]) -> PublicKey {
        let pks: Vec<PublicKey> = signers.iter().map(|&i| *l.keys[i as usize].key()).collect();
        let sc: Vec<u8> = signers
            .iter()
            .flat_map(|&i| l.weights[i as usize])
            .collect();
        AggregatePublicKey::aggregate_with_randomness(&pks, &sc, 129, false)
            .unwrap()
            .to_public_key()
    }

    #[test]
    fn digits_recombine_to_the_weight() {
        for w in [[0u8; 17], [0xff; 17], {
            let mut w = [0x5a; 17];
            w[16] = 1;
            w
        }] {
            let d = digits(&w);
            let num = |b: &[u8]| num_bigint::BigUint::from_bytes_le(b);
            let back = num(&d[0]) + (num(&d[1]) << 43) + (num(&d[2]) << 86);
            let mut expected = w;
            expected[16] &= 1;
            assert_eq!(back, num(&expected));
            assert!(d.iter().all(|x| num(x).bits() <= 43));
        }
    }

    #[test]
    fn differences() {
        assert_eq!(
            difference(&[1, 2, 5, 9], &[0, 2, 5, 7, 10]),
            (vec![0, 7, 10], vec![1, 9])
        );
        assert_eq!(difference(&[], &[]), (vec![], vec![]));
        assert_eq!(difference(&[3], &[]), (vec![], vec![3]));
    }

    #[test]
    fn every_plan_gives_the_reference_aggregate() {
        let l = list(150);
        let sets: Vec<Vec<u32>> = vec![
            (0..100).collect(),
            (0..100).filter(|i| i % 7 != 3).chain(100..110).collect(),
            (20..150).collect(),
            vec![5],
            (0..150).collect(),
            (0..100).filter(|i| i % 7 != 3).chain(100..110).collect(),
            (0..100).filter(|i| i % 5 != 3).chain(100..120).collect(),
        ];
        assert!(l.set_base(&sets[0]));
        assert!(!l.set_base(&sets[1]), "the first base stays");
        let mut rental = Rental::new(l.len());
        let mut bought = 0;
        for round in 0..5 {
            let mut prev: Option<(&[u32], AggregatePublicKey)> = None;
            for s in &sets {
                let mut plan = l.plan(s, prev.as_ref().map(|p| p.0));
                if round > 0 {
                    rental.apply(&mut plan);
                }
                bought += plan.plus_w.len() + plan.minus_w.len();
                let a = l.aggregate(&plan, prev.as_ref().map(|p| &p.1)).unwrap();
                assert_eq!(a.to_public_key(), reference(&l, s), "{plan:?}");
                prev = Some((s, a));
            }
        }
        assert!(bought > 0, "weighted keys were used");
    }

    #[test]
    fn plans_take_the_fewest_terms_and_rent_before_buying() {
        let l = list(100);
        let base: Vec<u32> = (0..60).collect();
        l.set_base(&base);
        let near: Vec<u32> = (0..59).chain(60..61).collect();
        let p = l.plan(&near, None);
        assert_eq!(
            (p.start, &p.plus, &p.minus),
            (Start::Base, &vec![60], &vec![59])
        );
        let prev: Vec<u32> = (0..59).collect();
        let p = l.plan(&near, Some(&prev));
        assert_eq!(
            (p.start, &p.plus, &p.minus),
            (Start::Prev, &vec![60], &vec![])
        );
        let far: Vec<u32> = (61..100).collect();
        assert_eq!(l.plan(&far, None).start, Start::Zero);
        let mut rental = Rental::new(l.len());
        for time in 1..=BUY_AFTER + 1 {
            let mut p = l.plan(&near, None);
            rental.apply(&mut p);
            let bought = time >= BUY_AFTER;
            assert_eq!(p.plus_w.is_empty(), !bought, "time {time}");
            assert_eq!(p.plus.is_empty(), bought, "time {time}");
        }
    }
}
