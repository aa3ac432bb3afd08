//! Signature-level verification of finality certificates, as go-f3's
//! `certs.ValidateFinalityCertificates` does it, in pure Rust on blst.
//!
//! For each certificate, against the power table in force:
//! 1. every power is positive and is scaled to `power * 0xffff / total` (integer division,
//!    `gpbft.PowerEntries.Scaled`); each signer must keep some power after scaling and the
//!    signers together a strong quorum: `sum >= ceil(2 * total / 3)` (`gpbft.IsStrongQuorum`);
//! 2. the signed bytes are `Payload.MarshalForSigning(network)`: `"GPBFT:" network ":"`, phase
//!    DECIDE (5), round 0 and the instance as 8-byte big-endian, the commitments, the ECChain's
//!    merkle key (Keccak-256) and the power table CID's bytes;
//! 3. the aggregate is BDN (kyber's `sign/bdn` at the commit go-f3 pins): coefficient `c_i` is the
//!    i-th 16-byte little-endian chunk of a BLAKE2Xs XOF over every public key of the table in
//!    order, and the aggregate key is `sum over signers of (c_i + 1) * P_i`;
//! 4. BLS12-381, keys in G1, signatures in G2, hashed to G2 with the RFC 9380 suite
//!    `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`: `e(aggPK, H(m)) == e(g1, sig)`.
//!
//! Every key of the table must be a valid G1 point, signers or not (go-f3 decodes them all).
//! The cost is kept low by decompressing each key once, deriving coefficients once per ordered
//! key list, aggregating keys from what earlier certificates under the same list computed
//! ([`super::aggregate`]), and checking many certificates with one multi-pairing
//! ([`super::batch`]).

use std::collections::HashMap;
use std::sync::Arc;

use blst::min_pk::PublicKey;
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use sha3::{Digest, Keccak256};

use super::aggregate::{Key, KeyList, Rental};
use super::batch::{Batch, Entry};
use crate::error::{Error, ErrorKind, Location, Result};
use crate::types::{FinalityCertificate, PowerEntry, TipSet};

/// The hash-to-curve domain separation tag go-f3 signs with.
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";

/// GPBFT's domain separation prefix of signed payloads.
pub const DOMAIN: &str = "GPBFT";

/// GPBFT's DECIDE phase, which certificates sign.
pub const PHASE_DECIDE: u8 = 5;

/// Scaled powers sum to at most this (`gpbft.maxPower`).
const MAX_SCALED: u64 = 0xffff;

/// The bytes a tipset contributes to the chain's merkle tree (`gpbft.TipSet.MarshalForSigning`):
/// epoch (8 bytes big-endian), commitments, the CID of the CBOR byte string of the key, and the
/// power table CID.
pub fn tipset_signing_bytes(t: &TipSet) -> Vec<u8> {
    let mut e = crate::cbor::Encoder::new();
    e.bytes(&t.key);
    let key_cid = crate::cids::cid_of(crate::cids::DAG_CBOR, &e.into_bytes());
    let mut out = Vec::with_capacity(8 + 32 + 38 + 38);
    out.extend_from_slice(&t.epoch.to_be_bytes());
    out.extend_from_slice(&t.commitments);
    out.extend_from_slice(&key_cid.to_bytes());
    out.extend_from_slice(&t.power_table.to_bytes());
    out
}

fn keccak(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The merkle root go-f3 computes over `values` (`merkle.Tree`): leaves `keccak(0x01 ‖ v)`,
/// nodes `keccak(0x00 ‖ left ‖ right)`, a tree of depth `ceil(log2 n)` whose missing right
/// subtrees count as 32 zero bytes; no values give 32 zero bytes.
pub fn merkle_root(values: &[Vec<u8>]) -> [u8; 32] {
    fn build(depth: u32, vals: &[Vec<u8>]) -> [u8; 32] {
        match vals {
            [] => [0; 32],
            [v] if depth == 0 => keccak(&[&[1], v]),
            _ => {
                let half = 1usize << depth.saturating_sub(1);
                let (l, r) = vals.split_at(half.min(vals.len()));
                keccak(&[&[0], &build(depth - 1, l), &build(depth - 1, r)])
            }
        }
    }
    let depth = usize::BITS - values.len().saturating_sub(1).leading_zeros();
    build(depth, values)
}

/// The ECChain's key (`gpbft.ECChain.Key`).
pub fn chain_key(tipsets: &[TipSet]) -> [u8; 32] {
    let values: Vec<Vec<u8>> = tipsets.iter().map(tipset_signing_bytes).collect();
    merkle_root(&values)
}

/// The bytes a certificate's signers signed (`gpbft.Payload.MarshalForSigning` for phase
/// DECIDE, round 0).
pub fn signing_payload(network: &str, cert: &FinalityCertificate) -> Vec<u8> {
    let mut out = Vec::with_capacity(network.len() + 128);
    out.extend_from_slice(DOMAIN.as_bytes());
    out.push(b':');
    out.extend_from_slice(network.as_bytes());
    out.push(b':');
    out.push(PHASE_DECIDE);
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(&cert.instance.to_be_bytes());
    out.extend_from_slice(&cert.supplemental_data.commitments);
    out.extend_from_slice(&chain_key(cert.tipsets()));
    out.extend_from_slice(&cert.supplemental_data.power_table.to_bytes());
    out
}

/// BLAKE2Xs with an unknown output length, as golang.org/x/crypto/blake2s's `NewXOF` computes
/// it: a BLAKE2s-256 root with the XOF length field set to 0xffff, then output block `i` a
/// BLAKE2s-256 of the root with node offset `i`, leaf length 32 and inner length 32.
pub fn blake2xs(input: &[u8], out_len: usize) -> Vec<u8> {
    const UNKNOWN: u64 = 0xffff;
    let root = blake2s_simd::Params::new()
        .hash_length(32)
        .node_offset(UNKNOWN << 32)
        .hash(input);
    let mut out = Vec::with_capacity(out_len + 32);
    let mut i = 0u64;
    while out.len() < out_len {
        let block = blake2s_simd::Params::new()
            .hash_length(32)
            .fanout(0)
            .max_depth(0)
            .max_leaf_length(32)
            .node_offset(i | (UNKNOWN << 32))
            .node_depth(0)
            .inner_hash_length(32)
            .hash(root.as_bytes());
        out.extend_from_slice(block.as_bytes());
        i += 1;
    }
    out.truncate(out_len);
    out
}

/// BDN weights `c_i + 1` for a table's keys, each as a 17-byte little-endian scalar (`c_i` is
/// a 128-bit number, so `c_i + 1` may need 129 bits).
pub fn bdn_weights(keys: &[&[u8]]) -> Vec<[u8; 17]> {
    let input: Vec<u8> = keys.iter().flat_map(|k| k.iter().copied()).collect();
    let xof = blake2xs(&input, 16 * keys.len());
    xof.chunks(16)
        .map(|c| {
            let mut w = [0u8; 17];
            for (d, s) in w.iter_mut().zip(c) {
                *d = *s;
            }
            // Add one, carrying.
            for b in w.iter_mut() {
                let (v, carry) = b.overflowing_add(1);
                *b = v;
                if !carry {
                    break;
                }
            }
            w
        })
        .collect()
}

/// Powers scaled as go-f3 scales them; fails on a non-positive power.
pub fn scaled_powers(entries: &[PowerEntry]) -> Result<(Vec<u64>, u64)> {
    // No table is a strong quorum of nothing (go-f3 takes 0 of 0 as one).
    if entries.is_empty() {
        return Err(Error::new(ErrorKind::PowerTableEmpty));
    }
    if let Some(r) = scaled_powers_small(entries) {
        return Ok(r);
    }
    // Every power positive first: a total of zero (or below) has no scale.
    if let Some(e) = entries.iter().find(|e| e.power <= BigInt::default()) {
        return Err(Error::new(ErrorKind::PowerTableNonPositive(e.id)));
    }
    let total: BigInt = entries.iter().map(|e| &e.power).sum();
    if total <= BigInt::default() {
        return Err(Error::new(ErrorKind::PowerTableEmpty));
    }
    let mut scaled = Vec::with_capacity(entries.len());
    let mut sum = 0u64;
    for e in entries {
        let s = (&e.power * MAX_SCALED / &total).to_u64().unwrap_or(0);
        sum += s;
        scaled.push(s);
    }
    Ok((scaled, sum))
}

/// [`scaled_powers`] in 128-bit arithmetic, when every power is positive and the products
/// fit (mainnet's total is about 2^65); `None` otherwise.
fn scaled_powers_small(entries: &[PowerEntry]) -> Option<(Vec<u64>, u64)> {
    let mut powers = Vec::with_capacity(entries.len());
    let mut total = 0u128;
    for e in entries {
        let p = e.power.to_u128().filter(|p| *p > 0)?;
        total = total.checked_add(p)?;
        powers.push(p);
    }
    total.checked_mul(u128::from(MAX_SCALED))?;
    let mut sum = 0u64;
    let scaled = powers
        .into_iter()
        .map(|p| {
            // p <= total, so the quotient is at most MAX_SCALED.
            let s = (p * u128::from(MAX_SCALED) / total) as u64;
            sum += s;
            s
        })
        .collect();
    Some((scaled, sum))
}

/// `part >= ceil(2 * whole / 3)`.
pub fn is_strong_quorum(part: u64, whole: u64) -> bool {
    let twice = u128::from(whole) * 2;
    u128::from(part) >= twice.div_ceil(3)
}

/// The key list in force and what the planner knows about it.
struct ListState {
    /// The keys in table order, concatenated: the next table is compared with it.
    raw: Vec<u8>,
    list: Result<Arc<KeyList>>,
    /// Which weighted keys are bought.
    rental: Rental,
}

/// Decompresses and validates keys (`None` for an invalid one), on up to `threads` threads:
/// mainnet's 1,560 keys take about 0.1 s on one core.
fn decompress(keys: &[&[u8]], threads: usize) -> Vec<Option<Arc<Key>>> {
    let one = |ks: &[&[u8]]| -> Vec<Option<Arc<Key>>> {
        ks.iter()
            .map(|k| {
                PublicKey::key_validate(k)
                    .ok()
                    .map(|k| Arc::new(Key::new(k)))
            })
            .collect()
    };
    if threads < 2 || keys.len() < 256 {
        return one(keys);
    }
    let parts = std::thread::scope(|s| {
        let handles: Vec<_> = keys
            .chunks(keys.len().div_ceil(threads))
            .map(|c| s.spawn(move || one(c)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok())
            .collect::<Option<Vec<_>>>()
    });
    match parts {
        Some(parts) => parts.into_iter().flatten().collect(),
        None => one(keys),
    }
}

/// Most certificates in one batch: enough to spread the final exponentiation and the
/// signatures' combination thinly (see benches/crypto.rs), few enough to keep memory small.
pub const BATCH: usize = 32;

/// Most key lists one batch may hold (each about 180 KB for mainnet's 1,560 keys).
const BATCH_LISTS: usize = 8;

/// Verifies certificates' signatures: checks what is cheap in stream order, and gathers the
/// pairing work into [`Batch`]es that can run on any thread.
pub struct Verifier {
    network: Arc<str>,
    decompressed: HashMap<Vec<u8>, Arc<Key>>,
    /// The table version the powers below belong to.
    version: Option<u64>,
    scaled: Result<(Vec<u64>, u64)>,
    state: Option<ListState>,
    batch: Batch,
    /// The previous certificate's signers, if it is the last one in `batch`.
    prev: Option<Vec<u32>>,
    lists: usize,
    batch_size: usize,
    threads: usize,
}

impl Verifier {
    /// A verifier for certificates signed over `network`, batching [`BATCH`] at a time.
    pub fn new(network: &str) -> Self {
        Self::with_batch(network, BATCH)
    }

    /// A verifier that puts at most `batch_size` certificates in a batch (1: each certificate
    /// is checked on its own).
    pub fn with_batch(network: &str, batch_size: usize) -> Self {
        let network: Arc<str> = network.into();
        Verifier {
            batch: Batch::new(Arc::clone(&network)),
            network,
            decompressed: HashMap::new(),
            version: None,
            scaled: Ok((Vec::new(), 0)),
            state: None,
            prev: None,
            lists: 0,
            batch_size: batch_size.max(1),
            threads: 1,
        }
    }

    /// Lets the verifier decompress a new table's keys on up to `threads` threads.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Brings the key list up to date with `entries` (table `version`).
    fn refresh(&mut self, version: u64, entries: &[PowerEntry]) {
        if self.version == Some(version) {
            return;
        }
        self.version = Some(version);
        self.scaled = scaled_powers(entries);
        let same = self.state.as_ref().is_some_and(|s| {
            s.raw.len() == entries.len() * 48
                && entries
                    .iter()
                    .zip(s.raw.chunks_exact(48))
                    .all(|(e, k)| e.pub_key == k)
        });
        if same {
            return;
        }
        let raw: Vec<u8> = entries
            .iter()
            .flat_map(|e| e.pub_key.iter().copied())
            .collect();
        // Keep the decompressed keys of the tables in force only (keys change by joins and
        // rotations), without decompressing those still in use again.
        if self.decompressed.len() > 2 * entries.len() + 64 {
            let mut old = std::mem::take(&mut self.decompressed);
            for e in entries {
                if let Some((k, v)) = old.remove_entry(&e.pub_key) {
                    self.decompressed.insert(k, v);
                }
            }
        }
        let missing: Vec<&[u8]> = entries
            .iter()
            .map(|e| e.pub_key.as_slice())
            .filter(|k| !self.decompressed.contains_key(*k))
            .collect();
        for (k, pk) in missing.iter().zip(decompress(&missing, self.threads)) {
            if let Some(pk) = pk {
                self.decompressed.insert(k.to_vec(), pk);
            }
        }
        let mut keys = Vec::with_capacity(entries.len());
        let mut bad = None;
        for e in entries {
            match self.decompressed.get(&e.pub_key) {
                Some(pk) => keys.push(Arc::clone(pk)),
                None => {
                    bad = Some(e.id);
                    break;
                }
            }
        }
        let list = match bad {
            Some(id) => Err(Error::new(ErrorKind::SignatureBadKey(id))),
            None => {
                let split: Vec<&[u8]> = entries.iter().map(|e| e.pub_key.as_slice()).collect();
                Ok(Arc::new(KeyList::new(keys, bdn_weights(&split))))
            }
        };
        self.state = Some(ListState {
            raw,
            list,
            rental: Rental::new(entries.len()),
        });
        self.prev = None;
    }

    /// Checks `cert` against the table `entries` (table `version`: the same version means the
    /// same entries) as far as can be done now: scaled powers, signer indexes, quorum and key
    /// validity. Queues the rest of the check, to be reported as `seq` at `location`; returns
    /// a batch when one is full.
    pub fn add(
        &mut self,
        version: u64,
        entries: &[PowerEntry],
        cert: &FinalityCertificate,
        seq: u64,
        location: Location,
    ) -> Result<Option<Batch>> {
        self.refresh(version, entries);
        let (scaled, total) = self.scaled.as_ref().map_err(Clone::clone)?;
        let len = entries.len() as u64;
        let mut signed = 0u64;
        let mut signers = Vec::new();
        for i in cert.signers.iter() {
            let s = usize::try_from(i)
                .ok()
                .and_then(|i| scaled.get(i))
                .ok_or_else(|| Error::new(ErrorKind::SignerOutOfRange { index: i, len }))?;
            if *s == 0 {
                return Err(Error::new(ErrorKind::SignatureZeroPower(i)));
            }
            signed += s;
            signers.push(
                u32::try_from(i)
                    .map_err(|_| Error::new(ErrorKind::SignerOutOfRange { index: i, len }))?,
            );
        }
        if !is_strong_quorum(signed, *total) {
            return Err(Error::new(ErrorKind::SignatureQuorum {
                signed,
                total: *total,
            }));
        }
        let list = match self.state.as_ref().map(|s| &s.list) {
            Some(Ok(list)) => Arc::clone(list),
            Some(Err(e)) => return Err(e.clone()),
            None => return Err(Error::new(ErrorKind::Internal("no key list".into()))),
        };
        let mut full = None;
        let same_list = self
            .batch
            .last()
            .is_some_and(|e| Arc::ptr_eq(&e.list, &list));
        if !same_list && self.lists >= BATCH_LISTS {
            full = self.take();
        }
        let Some(state) = self.state.as_mut() else {
            return Err(Error::new(ErrorKind::Internal("no key list".into())));
        };
        let prev = match (same_list, self.prev.take()) {
            (true, Some(p)) => Some(p),
            _ => None,
        };
        list.set_base(&signers);
        let mut plan = list.plan(&signers, prev.as_deref());
        state.rental.apply(&mut plan);
        if !same_list {
            self.lists += 1;
        }
        self.batch.push(Entry {
            list,
            plan,
            signature: cert.signature.clone(),
            payload: signing_payload(&self.network, cert),
            seq,
            location,
        });
        self.prev = Some(signers);
        if self.batch.len() >= self.batch_size {
            return Ok(full.or_else(|| self.take()));
        }
        Ok(full)
    }

    /// The certificates queued so far, as a batch to run (none if there are none).
    pub fn take(&mut self) -> Option<Batch> {
        self.prev = None;
        self.lists = 0;
        if self.batch.is_empty() {
            return None;
        }
        Some(std::mem::replace(
            &mut self.batch,
            Batch::new(Arc::clone(&self.network)),
        ))
    }

    /// Checks one certificate completely, now.
    pub fn verify(
        &mut self,
        version: u64,
        entries: &[PowerEntry],
        cert: &FinalityCertificate,
    ) -> Result<()> {
        let _ = self.take();
        let queued = self.add(version, entries, cert, 0, Location::default())?;
        match queued.or_else(|| self.take()) {
            Some(b) => b.run().map_err(|(_, e)| e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_refuses_a_non_positive_power_before_dividing() {
        let entry = |id, power: i64| PowerEntry {
            id,
            power: BigInt::from(power),
            pub_key: vec![0; 48],
        };
        // Powers summing to zero: no division by the total is attempted.
        let r = scaled_powers(&[entry(1, 5), entry(2, -5)]);
        assert_eq!(r.unwrap_err().code(), "power-table-non-positive");
        assert_eq!(scaled_powers(&[]).unwrap_err().code(), "power-table-empty");
    }

    #[test]
    fn quorum_boundaries() {
        assert!(is_strong_quorum(2, 3));
        assert!(!is_strong_quorum(1, 3));
        // ceil(2 * 65535 / 3) = 43690
        assert!(is_strong_quorum(43690, 65535));
        assert!(!is_strong_quorum(43689, 65535));
    }

    /// go-f3's scaling, in big integers.
    fn scaled_big(entries: &[PowerEntry]) -> (Vec<u64>, u64) {
        let total: BigInt = entries.iter().map(|e| &e.power).sum();
        let s: Vec<u64> = entries
            .iter()
            .map(|e| (&e.power * MAX_SCALED / &total).to_u64().unwrap())
            .collect();
        let sum = s.iter().sum();
        (s, sum)
    }

    #[test]
    fn scaling_in_128_bits_matches_big_integers() {
        let entry = |power: BigInt| PowerEntry {
            id: 1,
            power,
            pub_key: Vec::new(),
        };
        // 1,560 powers up to 2^60, a total near mainnet's 2^65.
        let mainnet: Vec<PowerEntry> = (1..=1560u64)
            .map(|i| entry((i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 4).into()))
            .collect();
        let tables = [
            mainnet,
            vec![entry(1.into()), entry(2.into()), entry(3.into())],
            // The products no longer fit in 128 bits: the big-integer path.
            vec![entry(BigInt::from(u128::MAX) * 5), entry(7.into())],
        ];
        for t in &tables {
            assert_eq!(scaled_powers(t).unwrap(), scaled_big(t));
        }
        assert!(scaled_powers_small(&tables[2]).is_none());
        let bad = vec![entry(3.into()), entry(0.into())];
        assert_eq!(
            scaled_powers(&bad).unwrap_err().code(),
            "power-table-non-positive"
        );
    }

    #[test]
    fn merkle_of_nothing_is_zero() {
        assert_eq!(merkle_root(&[]), [0; 32]);
    }
}
