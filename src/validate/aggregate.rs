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
//!   multi-scalar multiplication (MSM) with 129-bit weights;
//! - every later certificate starts from a known aggregate (the base, the previous certificate
//!   of the same batch, or the table's total) and adds or removes only the signers that differ:
//!   consecutive mainnet certificates differ by 25 to 130 signers of about 950;
//! - once a list has cost as much in MSMs as weighting every key once would, the weighted keys
//!   `W_i = (c_i + 1) * P_i` and their sum are computed (shared by every thread, in chunks) and
//!   the differences become plain point additions (ski rental: never more than twice the
//!   cheaper of the two choices).
//!
//! [`Plan`]s are made on the validator's thread, in stream order, so the choice never depends
//! on timing; the points are computed on the workers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use blst::min_pk::{AggregatePublicKey, PublicKey};
use blst::{blst_p1, blst_p1_affine, p1_affines, MultiPoint};

/// Bits of a BDN weight `c_i + 1` (`c_i` has 128).
const WEIGHT_BITS: usize = 129;

/// Weighted keys are computed in chunks of this many, so that threads needing them at the
/// same time share the work.
const CHUNK: usize = 64;

/// The ski rental's price: weighting every key once costs about this many MSM terms per key
/// (one 129-bit scalar multiplication against an MSM's per-term share; see benches/crypto.rs).
pub const WEIGHTING_COST_PER_KEY: u64 = 6;

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

/// One chunk of weighted keys and their sum.
struct Chunk {
    keys: Vec<PublicKey>,
    sum: AggregatePublicKey,
}

/// Everything derived from one ordered key list.
pub struct KeyList {
    keys: Vec<PublicKey>,
    weights: Vec<[u8; 17]>,
    /// The first certificate's signers (set on the validator's thread) ...
    base: OnceLock<Vec<u32>>,
    /// ... and their aggregate key (computed by the first worker that needs it).
    base_key: OnceLock<AggregatePublicKey>,
    /// Weighted keys, by chunk; `next` hands chunks out to threads.
    chunks: Vec<OnceLock<Chunk>>,
    next: AtomicUsize,
    total: OnceLock<AggregatePublicKey>,
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
    /// The sum of all weighted keys (only with weighted keys).
    Total,
}

/// How to compute one certificate's aggregate key: `start + sum(plus) - sum(minus)`, by MSM
/// or, once the list's weighted keys are bought, by additions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The starting aggregate.
    pub start: Start,
    /// Indexes whose weighted keys are added.
    pub plus: Vec<u32>,
    /// Indexes whose weighted keys are subtracted.
    pub minus: Vec<u32>,
    /// Use the weighted keys (computing them if no thread has yet).
    pub weighted: bool,
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

/// The indexes below `n` missing from the ascending list `a`.
fn complement(a: &[u32], n: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(n.saturating_sub(a.len()));
    let mut it = a.iter().peekable();
    for i in 0..n as u32 {
        if it.peek() == Some(&&i) {
            it.next();
        } else {
            out.push(i);
        }
    }
    out
}

impl KeyList {
    /// A list of decompressed, validated keys in table order and their BDN weights.
    pub fn new(keys: Vec<PublicKey>, weights: Vec<[u8; 17]>) -> Self {
        let chunks = keys.len().div_ceil(CHUNK);
        KeyList {
            keys,
            weights,
            base: OnceLock::new(),
            base_key: OnceLock::new(),
            chunks: (0..chunks).map(|_| OnceLock::new()).collect(),
            next: AtomicUsize::new(0),
            total: OnceLock::new(),
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
    /// the fewest terms. `weighted` says whether the weighted keys are bought.
    pub fn plan(&self, signers: &[u32], prev: Option<&[u32]>, weighted: bool) -> Plan {
        let mut best = Plan {
            start: Start::Zero,
            plus: signers.to_vec(),
            minus: Vec::new(),
            weighted,
        };
        let consider = |best: &mut Plan, start: Start, (plus, minus): (Vec<u32>, Vec<u32>)| {
            if plus.len() + minus.len() < best.plus.len() + best.minus.len() {
                *best = Plan {
                    start,
                    plus,
                    minus,
                    weighted,
                };
            }
        };
        if let Some(base) = self.base() {
            consider(&mut best, Start::Base, difference(base, signers));
        }
        if let Some(prev) = prev {
            consider(&mut best, Start::Prev, difference(prev, signers));
        }
        let unsigned = self.keys.len().saturating_sub(signers.len());
        if weighted && unsigned < best.plus.len() + best.minus.len() {
            let minus = complement(signers, self.keys.len());
            consider(&mut best, Start::Total, (Vec::new(), minus));
        }
        best
    }

    fn key(&self, i: u32) -> Option<&PublicKey> {
        self.keys.get(i as usize)
    }

    /// One chunk of weighted keys, computed here unless another thread has.
    fn chunk(&self, c: usize) -> Option<&Chunk> {
        let cell = self.chunks.get(c)?;
        Some(cell.get_or_init(|| {
            let lo = c * CHUNK;
            let hi = (lo + CHUNK).min(self.keys.len());
            let jacobian: Vec<blst_p1> = (lo..hi)
                .filter_map(|i| Some((self.keys.get(i)?, self.weights.get(i)?)))
                .map(|(k, w)| blst_p1::from(std::slice::from_ref(k).mult(w, WEIGHT_BITS)))
                .collect();
            let keys: Vec<PublicKey> = to_affine(&jacobian)
                .into_iter()
                .map(PublicKey::from)
                .collect();
            let sum = sum(&keys);
            Chunk { keys, sum }
        }))
    }

    /// Computes every weighted key (sharing the chunks with other threads) and their total.
    fn weighted(&self) -> &AggregatePublicKey {
        loop {
            let c = self.next.fetch_add(1, Ordering::Relaxed);
            if c >= self.chunks.len() {
                break;
            }
            let _ = self.chunk(c);
        }
        self.total.get_or_init(|| {
            let mut total = identity();
            for c in 0..self.chunks.len() {
                if let Some(chunk) = self.chunk(c) {
                    total.add_aggregate(&chunk.sum);
                }
            }
            total
        })
    }

    fn weighted_key(&self, i: u32) -> Option<&PublicKey> {
        let i = i as usize;
        self.chunks.get(i / CHUNK)?.get()?.keys.get(i % CHUNK)
    }

    /// `sum(plus) - sum(minus)` of weighted keys, by additions (the keys must be computed).
    fn add_weighted(&self, plus: &[u32], minus: &[u32]) -> Option<AggregatePublicKey> {
        let gather = |ix: &[u32]| -> Option<Vec<PublicKey>> {
            ix.iter().map(|&i| self.weighted_key(i).copied()).collect()
        };
        let mut out = sum(&gather(plus)?);
        out.sub_aggregate(&sum(&gather(minus)?));
        Some(out)
    }

    /// `sum(plus) - sum(minus)` of weighted keys, by one MSM over the keys (those of `minus`
    /// negated) and their weights.
    fn msm(&self, plus: &[u32], minus: &[u32]) -> Option<AggregatePublicKey> {
        let mut points: Vec<PublicKey> = Vec::with_capacity(plus.len() + minus.len());
        let mut scalars: Vec<u8> = Vec::with_capacity(17 * (plus.len() + minus.len()));
        for &i in plus {
            points.push(*self.key(i)?);
            scalars.extend_from_slice(self.weights.get(i as usize)?);
        }
        let mut negated = Vec::with_capacity(minus.len());
        for &i in minus {
            let mut n = identity();
            n.sub_aggregate(&AggregatePublicKey::from_public_key(self.key(i)?));
            negated.push(blst_p1::from(n));
            scalars.extend_from_slice(self.weights.get(i as usize)?);
        }
        points.extend(to_affine(&negated).into_iter().map(PublicKey::from));
        if points.is_empty() {
            return Some(identity());
        }
        Some(points.mult(&scalars, WEIGHT_BITS))
    }

    /// The base aggregate, computed here unless another thread has.
    fn base_key(&self, weighted: bool) -> Option<&AggregatePublicKey> {
        let base = self.base.get()?;
        Some(self.base_key.get_or_init(|| {
            let r = if weighted {
                self.weighted();
                self.add_weighted(base, &[])
            } else {
                self.msm(base, &[])
            };
            r.unwrap_or_else(identity)
        }))
    }

    /// The aggregate key a plan describes; `prev` is the previous certificate's, for
    /// [`Start::Prev`]. `None` only if the plan does not fit this list (a bug).
    pub fn aggregate(
        &self,
        plan: &Plan,
        prev: Option<&AggregatePublicKey>,
    ) -> Option<AggregatePublicKey> {
        let mut start = match plan.start {
            Start::Zero => identity(),
            Start::Base => *self.base_key(plan.weighted)?,
            Start::Prev => *prev?,
            Start::Total => *self.weighted(),
        };
        let delta = if plan.weighted {
            self.weighted();
            self.add_weighted(&plan.plus, &plan.minus)?
        } else {
            self.msm(&plan.plus, &plan.minus)?
        };
        start.add_aggregate(&delta);
        Some(start)
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
        KeyList::new(keys, weights)
    }

    /// The aggregate as go-f3 defines it, by one MSM over the signers.
    fn reference(l: &KeyList, signers: &[u32]) -> PublicKey {
        let pks: Vec<PublicKey> = signers.iter().map(|&i| l.keys[i as usize]).collect();
        let sc: Vec<u8> = signers
            .iter()
            .flat_map(|&i| l.weights[i as usize])
            .collect();
        AggregatePublicKey::aggregate_with_randomness(&pks, &sc, 129, false)
            .unwrap()
            .to_public_key()
    }

    #[test]
    fn differences_and_complements() {
        assert_eq!(
            difference(&[1, 2, 5, 9], &[0, 2, 5, 7, 10]),
            (vec![0, 7, 10], vec![1, 9])
        );
        assert_eq!(difference(&[], &[]), (vec![], vec![]));
        assert_eq!(complement(&[0, 2, 3], 6), vec![1, 4, 5]);
        assert_eq!(complement(&[], 2), vec![0, 1]);
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
        ];
        assert!(l.set_base(&sets[0]));
        assert!(!l.set_base(&sets[1]), "the first base stays");
        for weighted in [false, true] {
            let mut prev: Option<(&[u32], AggregatePublicKey)> = None;
            for s in &sets {
                let plan = l.plan(s, prev.as_ref().map(|p| p.0), weighted);
                let a = l.aggregate(&plan, prev.as_ref().map(|p| &p.1)).unwrap();
                assert_eq!(a.to_public_key(), reference(&l, s), "{plan:?}");
                prev = Some((s, a));
            }
        }
    }

    #[test]
    fn plans_take_the_fewest_terms() {
        let l = list(100);
        let base: Vec<u32> = (0..60).collect();
        l.set_base(&base);
        let near: Vec<u32> = (0..59).chain(60..61).collect();
        let p = l.plan(&near, None, false);
        assert_eq!(
            (p.start, p.plus, p.minus),
            (Start::Base, vec![60], vec![59])
        );
        let prev: Vec<u32> = (0..59).collect();
        let p = l.plan(&near, Some(&prev), false);
        assert_eq!((p.start, p.plus, p.minus), (Start::Prev, vec![60], vec![]));
        // Most of the table signs: with weighted keys, the total less the few who did not.
        let most: Vec<u32> = (0..100).filter(|i| i % 20 != 0).collect();
        let p = l.plan(&most, None, true);
        assert_eq!((p.start, p.minus.len()), (Start::Total, 5));
        let p = l.plan(&most, None, false);
        assert_eq!(p.start, Start::Base);
    }
}
