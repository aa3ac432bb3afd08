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
//! The cost is kept low by decompressing each key once, deriving coefficients once per table,
//! and aggregating the signers' weighted keys with one multi-scalar multiplication.

use std::collections::HashMap;
use std::sync::Arc;

use blst::min_pk::{AggregatePublicKey, PublicKey, Signature};
use blst::BLST_ERROR;
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use sha3::{Digest, Keccak256};

use crate::error::{Error, ErrorKind, Result};
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
    let total: BigInt = entries.iter().map(|e| &e.power).sum();
    let mut scaled = Vec::with_capacity(entries.len());
    let mut sum = 0u64;
    for e in entries {
        if e.power <= BigInt::default() {
            return Err(Error::new(ErrorKind::PowerTableNonPositive(e.id)));
        }
        let s = (&e.power * MAX_SCALED / &total).to_u64().unwrap_or(0);
        sum += s;
        scaled.push(s);
    }
    Ok((scaled, sum))
}

/// `part >= ceil(2 * whole / 3)`.
pub fn is_strong_quorum(part: u64, whole: u64) -> bool {
    let twice = u128::from(whole) * 2;
    u128::from(part) >= twice.div_ceil(3)
}

/// What is derived once per power table: decompressed keys, BDN weights, scaled powers.
struct TableKeys {
    version: u64,
    keys: Result<Vec<PublicKey>>,
    weights: Vec<[u8; 17]>,
    scaled: Result<(Vec<u64>, u64)>,
}

/// Verifies certificates' signatures, caching per-key and per-table work.
pub struct Verifier {
    network: Arc<str>,
    decompressed: HashMap<Vec<u8>, PublicKey>,
    table: Option<Arc<TableKeys>>,
}

impl Verifier {
    /// A verifier for certificates signed over `network`.
    pub fn new(network: &str) -> Self {
        Verifier {
            network: network.into(),
            decompressed: HashMap::new(),
            table: None,
        }
    }

    fn table_keys(&mut self, version: u64, entries: &[PowerEntry]) -> Arc<TableKeys> {
        if let Some(t) = self.table.as_ref().filter(|t| t.version == version) {
            return Arc::clone(t);
        }
        let mut keys = Vec::with_capacity(entries.len());
        let mut bad = None;
        for e in entries {
            let pk = match self.decompressed.get(&e.pub_key) {
                Some(pk) => Some(*pk),
                None => match PublicKey::key_validate(&e.pub_key) {
                    Ok(pk) => {
                        self.decompressed.insert(e.pub_key.clone(), pk);
                        Some(pk)
                    }
                    Err(_) => None,
                },
            };
            match pk {
                Some(pk) => keys.push(pk),
                None => {
                    bad = Some(e.id);
                    break;
                }
            }
        }
        let raw: Vec<&[u8]> = entries.iter().map(|e| e.pub_key.as_slice()).collect();
        let t = Arc::new(TableKeys {
            version,
            keys: match bad {
                Some(id) => Err(Error::new(ErrorKind::SignatureBadKey(id))),
                None => Ok(keys),
            },
            weights: bdn_weights(&raw),
            scaled: scaled_powers(entries),
        });
        self.table = Some(Arc::clone(&t));
        t
    }

    /// Checks `cert` against the table `entries`; `version` identifies the table (the same
    /// version means the same entries, so per-table work is reused).
    pub fn verify(
        &mut self,
        version: u64,
        entries: &[PowerEntry],
        cert: &FinalityCertificate,
    ) -> Result<()> {
        self.prepare(version, entries, cert)?.run()
    }

    /// The cheap, table-dependent part of a check: scaled powers, signer indexes, quorum and
    /// key validity; returns the pairing work as a [`Job`] that can run on any thread.
    pub fn prepare(
        &mut self,
        version: u64,
        entries: &[PowerEntry],
        cert: &FinalityCertificate,
    ) -> Result<Job> {
        let t = self.table_keys(version, entries);
        let (scaled, total) = t.scaled.as_ref().map_err(Clone::clone)?;
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
            signers.push(i as usize);
        }
        if !is_strong_quorum(signed, *total) {
            return Err(Error::new(ErrorKind::SignatureQuorum {
                signed,
                total: *total,
            }));
        }
        if let Err(e) = &t.keys {
            return Err(e.clone());
        }
        Ok(Job {
            table: t,
            signers,
            signature: cert.signature.clone(),
            payload: signing_payload(&self.network, cert),
            network: Arc::clone(&self.network),
        })
    }
}

/// The expensive part of one certificate's check: parse the signature, aggregate the signers'
/// weighted keys with one multi-scalar multiplication, and check the pairing.
pub struct Job {
    table: Arc<TableKeys>,
    signers: Vec<usize>,
    signature: Vec<u8>,
    payload: Vec<u8>,
    network: Arc<str>,
}

impl Job {
    /// Runs the check.
    pub fn run(&self) -> Result<()> {
        let keys = self.table.keys.as_ref().map_err(Clone::clone)?;
        let sig = parse_signature(&self.signature)?;
        let mut pks = Vec::with_capacity(self.signers.len());
        let mut weights = Vec::with_capacity(self.signers.len() * 17);
        for &i in &self.signers {
            if let (Some(pk), Some(w)) = (keys.get(i), self.table.weights.get(i)) {
                pks.push(*pk);
                weights.extend_from_slice(w);
            }
        }
        let agg = AggregatePublicKey::aggregate_with_randomness(&pks, &weights, 129, false)
            .map_err(|e| Error::new(ErrorKind::SignatureMalformed(format!("{e:?}"))))?
            .to_public_key();
        if sig.verify(false, &self.payload, DST, &[], &agg, false) != BLST_ERROR::BLST_SUCCESS {
            return Err(Error::new(ErrorKind::SignatureInvalid {
                network: self.network.to_string(),
            }));
        }
        Ok(())
    }
}

/// A compressed G2 signature of exactly 96 bytes, in the subgroup and not infinity.
///
/// go-f3 reads only the first 96 bytes of a longer compressed signature and ignores the rest;
/// the strict reader requires the exact length.
fn parse_signature(bytes: &[u8]) -> Result<Signature> {
    if bytes.len() != 96 {
        return Err(Error::new(ErrorKind::SignatureMalformed(format!(
            "{} bytes, expected 96",
            bytes.len()
        ))));
    }
    Signature::sig_validate(bytes, true)
        .map_err(|e| Error::new(ErrorKind::SignatureMalformed(format!("{e:?}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_boundaries() {
        assert!(is_strong_quorum(2, 3));
        assert!(!is_strong_quorum(1, 3));
        // ceil(2 * 65535 / 3) = 43690
        assert!(is_strong_quorum(43690, 65535));
        assert!(!is_strong_quorum(43689, 65535));
    }

    #[test]
    fn merkle_of_nothing_is_zero() {
        assert_eq!(merkle_root(&[]), [0; 32]);
    }
}
