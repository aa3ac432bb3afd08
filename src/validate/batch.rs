//! Batch verification of certificates' signatures: one multi-pairing for many certificates.
//!
//! For certificates `j` with aggregate keys `A_j`, messages `m_j` and signatures `s_j`, each
//! valid when `e(A_j, H(m_j)) == e(g1, s_j)`, the batch checks
//! `prod_j e(r_j * A_j, H(m_j)) == e(g1, sum_j r_j * s_j)`: n + 1 Miller loops and one final
//! exponentiation instead of 2n and n. The `r_j` are drawn from the operating system's CSPRNG
//! when the batch runs, 64 bits each and never zero, so whoever wrote the file cannot make
//! invalid signatures cancel out (e.g. `s_1 + D` and `s_2 - D`): a batch with an invalid
//! certificate passes with probability about 2^-64. A zero scalar would drop its certificate
//! from the check, which is why it is never used.
//!
//! When a batch fails, halves are checked with the same scalars down to the earliest failing
//! certificate, and a one-certificate check with a non-zero scalar is exactly the plain check,
//! so the certificate reported is the one per-certificate verification reports.
//!
//! The scalars come from `getrandom` (the kernel's CSPRNG, one call per batch): it is already
//! in the dependency tree, needs no seeding or state of ours, and costs about a microsecond per
//! batch against tens of milliseconds of pairings; a userspace generator (`rand`'s) would add
//! a crate and a seed to manage for nothing measurable.
//!
//! # Threads
//!
//! A batch runs on one of the validator's pool threads, and blst is built without its own
//! thread pool (`no-threads`): the pool already keeps both cores busy with whole batches, and
//! blst's threads, measured on 200-certificate mainnet-shaped files with two pool threads
//! (CPU seconds for the whole check, medians of 3), cost more for the same work: 0.697 s
//! against 0.636 s at low churn, 1.543 s against 1.506 s at 80% churn. The difference is in
//! the small MSMs of signer differences: with its threads, blst multiplies each point of an
//! MSM under 32 points separately on its pool (16 points: 1.09 ms of CPU, against 0.41 ms for
//! one-thread Pippenger). It also keeps `--threads 1` to one thread.

use std::sync::Arc;

use blst::min_pk::{AggregatePublicKey, Signature};
use blst::{blst_fp12, blst_p1, blst_p1_affine, blst_p2_affine, MultiPoint, Pairing, BLST_ERROR};

use super::aggregate::{to_affine, KeyList, Plan};
use super::crypto::DST;
use crate::error::{Error, ErrorKind, Location, Result};

/// Bits of each random scalar.
const SCALAR_BITS: usize = 64;

/// One certificate waiting in a batch: how to get its aggregate key, and what it signed.
pub struct Entry {
    /// The key list in force.
    pub list: Arc<KeyList>,
    /// How to compute the aggregate key.
    pub plan: Plan,
    /// The signature bytes, parsed (and checked) on the worker.
    pub signature: Vec<u8>,
    /// The signed payload.
    pub payload: Vec<u8>,
    /// The certificate's place in stream order.
    pub seq: u64,
    /// Where its failure is reported.
    pub location: Location,
}

/// Certificates whose signatures are checked together.
pub struct Batch {
    network: Arc<str>,
    entries: Vec<Entry>,
}

/// A certificate ready for the pairing: affine aggregate key, parsed signature, payload.
struct Ready<'a> {
    key: blst_p1_affine,
    signature: Signature,
    payload: &'a [u8],
}

impl Batch {
    /// An empty batch for certificates signed over `network`.
    pub fn new(network: Arc<str>) -> Self {
        Batch {
            network,
            entries: Vec::new(),
        }
    }

    /// Adds a certificate.
    pub fn push(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The last certificate added.
    pub fn last(&self) -> Option<&Entry> {
        self.entries.last()
    }

    /// The first certificate's sequence number and location (where a panic is reported).
    pub fn first(&self) -> Option<(u64, Location)> {
        self.entries.first().map(|e| (e.seq, e.location.clone()))
    }

    /// Checks every certificate; the error is the earliest failing certificate's, with its
    /// sequence number, as checking them one by one in order would report it.
    pub fn run(self) -> std::result::Result<(), (u64, Error)> {
        let fail = |e: &Entry, kind: ErrorKind| {
            (
                e.seq,
                Error {
                    kind,
                    location: e.location.clone(),
                },
            )
        };
        let invalid = || ErrorKind::SignatureInvalid {
            network: self.network.to_string(),
        };
        // Everything that can fail before the pairing, certificate by certificate; the first
        // such failure ends the batch there.
        let mut early: Option<(usize, ErrorKind)> = None;
        let mut keys: Vec<blst_p1> = Vec::with_capacity(self.entries.len());
        let mut signatures = Vec::with_capacity(self.entries.len());
        let mut prev: Option<AggregatePublicKey> = None;
        for (i, e) in self.entries.iter().enumerate() {
            let signature = match parse_signature(&e.signature) {
                Ok(s) => s,
                Err(err) => {
                    early = Some((i, err.kind));
                    break;
                }
            };
            let Some(key) = e.list.aggregate(&e.plan, prev.as_ref()) else {
                early = Some((
                    i,
                    ErrorKind::Internal("an aggregation plan does not fit its key list".into()),
                ));
                break;
            };
            prev = Some(key);
            keys.push(blst_p1::from(key));
            signatures.push(signature);
        }
        let mut ready = Vec::with_capacity(keys.len());
        for (i, ((key, signature), e)) in to_affine(&keys)
            .into_iter()
            .zip(signatures)
            .zip(&self.entries)
            .enumerate()
        {
            // An aggregate at infinity never verifies (blst refuses it as a key).
            if key == blst_p1_affine::default() {
                early = Some((i, invalid()));
                break;
            }
            ready.push(Ready {
                key,
                signature,
                payload: &e.payload,
            });
        }
        if !ready.is_empty() {
            let scalars = random_scalars(ready.len()).map_err(|err| {
                let first = self.entries.first().map_or(0, |e| e.seq);
                (first, err)
            })?;
            if !holds(&ready, &scalars) {
                if let Some(i) = earliest_failure(&ready, &scalars) {
                    if let Some(e) = self.entries.get(i) {
                        return Err(fail(e, invalid()));
                    }
                }
            }
        }
        match early {
            Some((i, kind)) => match self.entries.get(i) {
                Some(e) => Err(fail(e, kind)),
                None => Ok(()),
            },
            None => Ok(()),
        }
    }
}

/// The earliest failing certificate of a failed batch: halves are checked, the first half
/// first. `None` if every part holds (possible only if the whole batch's random combination of
/// signatures happened to be the identity).
fn earliest_failure(ready: &[Ready<'_>], scalars: &[[u8; 8]]) -> Option<usize> {
    fn search(ready: &[Ready<'_>], scalars: &[[u8; 8]], lo: usize, hi: usize) -> Option<usize> {
        let part = (ready.get(lo..hi)?, scalars.get(lo..hi)?);
        if holds(part.0, part.1) {
            return None;
        }
        if hi - lo == 1 {
            return Some(lo);
        }
        let mid = lo + (hi - lo) / 2;
        search(ready, scalars, lo, mid).or_else(|| search(ready, scalars, mid, hi))
    }
    let n = ready.len();
    if n == 1 {
        return Some(0);
    }
    let mid = n / 2;
    search(ready, scalars, 0, mid).or_else(|| search(ready, scalars, mid, n))
}

/// Whether `prod e(r_j * A_j, H(m_j)) == e(g1, sum r_j * s_j)` over the (non-empty) slice.
fn holds(ready: &[Ready<'_>], scalars: &[[u8; 8]]) -> bool {
    if ready.is_empty() || ready.len() != scalars.len() {
        return false;
    }
    let signatures: Vec<Signature> = ready.iter().map(|r| r.signature).collect();
    let flat: Vec<u8> = scalars.iter().flatten().copied().collect();
    let combined = blst_p2_affine::from(signatures.mult(&flat, SCALAR_BITS).to_signature());
    // The identity cannot be paired; the halves decide instead.
    if combined == blst_p2_affine::default() {
        return false;
    }
    let mut gt = blst_fp12::default();
    Pairing::aggregated(&mut gt, &combined);
    let mut pairing = Pairing::new(true, DST);
    for (r, s) in ready.iter().zip(scalars) {
        let e = pairing.mul_n_aggregate(&r.key, false, &(), false, s, SCALAR_BITS, r.payload, &[]);
        if e != BLST_ERROR::BLST_SUCCESS {
            return false;
        }
    }
    pairing.commit();
    pairing.finalverify(Some(&gt))
}

/// `n` scalars of 64 bits from the operating system's CSPRNG, none zero.
fn random_scalars(n: usize) -> Result<Vec<[u8; 8]>> {
    let os = |e: getrandom::Error| {
        Error::new(ErrorKind::Internal(format!(
            "the operating system's random source failed: {e}"
        )))
    };
    let mut bytes = vec![0u8; n * 8];
    getrandom::fill(&mut bytes).map_err(os)?;
    let mut out = Vec::with_capacity(n);
    for c in bytes.chunks_exact(8) {
        let mut s = [0u8; 8];
        s.copy_from_slice(c);
        while s == [0; 8] {
            s = getrandom::u64().map_err(os)?.to_le_bytes();
        }
        out.push(s);
    }
    Ok(out)
}

/// A compressed G2 signature of exactly 96 bytes, in the subgroup and not infinity.
///
/// go-f3 (gnark-crypto's `G2Affine.SetBytes`) also takes a compressed point followed by any
/// bytes, reading the first 96, and an uncompressed 192-byte point: other encodings of the same
/// signature, under which the F3 data's CID changes while the certificate does not. Those are
/// told apart from bytes that are no signature at all.
pub fn parse_signature(bytes: &[u8]) -> Result<Signature> {
    let valid = |b: &[u8]| Signature::sig_validate(b, true);
    if bytes.len() == 96 {
        return valid(bytes)
            .map_err(|e| Error::new(ErrorKind::SignatureMalformed(format!("{e:?}"))));
    }
    // The top bit of the first byte says whether the point is compressed (ZCash's encoding).
    let compressed = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let point = if compressed {
        bytes.get(..96)
    } else {
        bytes.get(..192)
    };
    if point.is_some_and(|p| valid(p).is_ok()) {
        return Err(Error::new(ErrorKind::SignatureNonCanonical {
            len: bytes.len() as u64,
        }));
    }
    Err(Error::new(ErrorKind::SignatureMalformed(format!(
        "{} bytes, expected 96",
        bytes.len()
    ))))
}
