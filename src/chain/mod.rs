//! Filecoin chain block headers: the fields the consistency check needs.
//!
//! A v2 snapshot's chain is a stream of blocks: block headers, messages and state. The
//! consistency check ([`consistency`]) needs, of each block header, only its `Parents` and its
//! `Height`. [`BlockHeader::decode`] reads Lotus's `BlockHeader` (`chain/types/blockheader.go`,
//! encoded by cbor-gen as a tuple) strictly but partially:
//!
//! **Checked**: the block is one CBOR array of exactly 16 items and nothing follows it; every
//! integer and length has its shortest form, every length is definite; each field has the major
//! type cbor-gen's decoder requires, `null` only where the field is a pointer (Ticket,
//! ElectionProof, BLSAggregate, BlockSig); cbor-gen's size limits: at most 8,192 beacon entries,
//! PoSt proofs and parents, byte strings at most 2 MiB, an address at most 64 bytes, a
//! signature at most 200 bytes, a big integer at most 128 bytes with a sign byte of 0 or 1;
//! Ticket is a 1-tuple and ElectionProof, each beacon entry and each PoSt proof a 2-tuple of
//! the right types; `Height`, `WinCount` and `PoStProof` fit int64, `Timestamp`,
//! `ForkSignaling` and `Round` are unsigned; every CID (Parents, ParentStateRoot,
//! ParentMessageReceipts, Messages) is tag 42 over `0x00` and a binary CID that parses whole.
//!
//! **Not checked**: what an address says (its protocol and payload), a signature's type byte,
//! whether a big integer is in its canonical form (Lotus's decoder accepts and normalises
//! leading zeros), the codecs of the CIDs, and anything about the values (ticket order,
//! proofs, signatures, weights). No field other than `Parents` and `Height` is kept, and
//! decoding allocates nothing: the parents are read back from the block's bytes on demand.
//!
//! **Which blocks are headers** ([`is_header_candidate`]): a chain block is taken for a header
//! when its CID is CIDv1 DAG-CBOR (0x71) with a blake2b-256 multihash, as every header's is,
//! its data is at most [`MAX_HEADER_LEN`] bytes, its first byte is `0x90` (an array of 16), and
//! it decodes as above. Messages, receipts and most state fail the first-byte test without
//! being parsed; the rare state object that is also an array of 16 (real chains have some)
//! fails the decoding and is skipped as not a header.

#[cfg(feature = "tools")]
pub mod build;
pub mod consistency;

use cid::Cid;

use crate::cbor::{major, Decoder, NULL};
use crate::cids::{is_blake2b256, DAG_CBOR};
use crate::error::{Error, ErrorKind, Result};
use crate::types::limits;

/// Fields of Lotus's `BlockHeader` tuple.
pub const HEADER_FIELDS: u64 = 16;

/// The first byte of every block header: a CBOR array of 16 items.
pub const HEADER_FIRST_BYTE: u8 = 0x90;

/// Chain blocks larger than this are never read as headers. Real headers are about 1 KB; the
/// bound only keeps the one buffer a header is read into small.
pub const MAX_HEADER_LEN: u64 = 1 << 20;

/// go-address's bound on an encoded address.
const MAX_ADDRESS: u64 = 64;

/// go-state-types' bound on an encoded `crypto.Signature` (type byte and data).
const MAX_SIGNATURE: u64 = 200;

/// The field names of the tuple, in order, for error locations.
const FIELD_NAMES: [&str; 16] = [
    "BlockHeader.Miner",
    "BlockHeader.Ticket",
    "BlockHeader.ElectionProof",
    "BlockHeader.BeaconEntries",
    "BlockHeader.WinPoStProof",
    "BlockHeader.Parents",
    "BlockHeader.ParentWeight",
    "BlockHeader.Height",
    "BlockHeader.ParentStateRoot",
    "BlockHeader.ParentMessageReceipts",
    "BlockHeader.Messages",
    "BlockHeader.BLSAggregate",
    "BlockHeader.Timestamp",
    "BlockHeader.BlockSig",
    "BlockHeader.ForkSignaling",
    "BlockHeader.ParentBaseFee",
];

/// Whether a chain block may be a header, from its CID, length and first byte (see the module
/// documentation): the cheap test every chain block goes through before any decoding.
pub fn is_header_candidate(cid: &Cid, data: &[u8]) -> bool {
    cid.codec() == DAG_CBOR
        && is_blake2b256(cid)
        && data.len() as u64 <= MAX_HEADER_LEN
        && data.first() == Some(&HEADER_FIRST_BYTE)
}

/// The two fields of a decoded block header the consistency check uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader<'a> {
    /// `Height`: the header's epoch.
    pub height: i64,
    /// The `Parents` array's items (tag-42 CIDs), as they appear in the block.
    parents: &'a [u8],
    parent_count: u64,
}

impl<'a> BlockHeader<'a> {
    /// Decodes `data` as Lotus's `BlockHeader`, checking what the module documentation says.
    /// Errors carry the field and the offset in the block.
    pub fn decode(data: &'a [u8]) -> Result<Self> {
        let mut d = Decoder::new(data);
        d.tuple("BlockHeader", HEADER_FIELDS)
            .map_err(|e| e.in_field("BlockHeader"))?;
        let mut height = 0;
        let mut parents: &[u8] = &[];
        let mut parent_count = 0;
        for (i, name) in FIELD_NAMES.iter().enumerate() {
            let r = match i {
                0 => bounded_bytes(&mut d, MAX_ADDRESS),
                1 => nullable(&mut d, |d| {
                    d.tuple("Ticket", 1)?;
                    d.bytes(limits::MAX_BYTES).map(drop)
                }),
                2 => nullable(&mut d, |d| {
                    d.tuple("ElectionProof", 2)?;
                    d.i64()?;
                    d.bytes(limits::MAX_BYTES).map(drop)
                }),
                3 => each(&mut d, |d| {
                    d.tuple("BeaconEntry", 2)?;
                    d.u64()?;
                    d.bytes(limits::MAX_BYTES).map(drop)
                }),
                4 => each(&mut d, |d| {
                    d.tuple("PoStProof", 2)?;
                    d.i64()?;
                    d.bytes(limits::MAX_BYTES).map(drop)
                }),
                5 => {
                    let n = d.array(limits::MAX_ARRAY);
                    n.and_then(|n| {
                        let start = d.position();
                        for _ in 0..n {
                            d.cid()?;
                        }
                        parents = data.get(start..d.position()).unwrap_or_default();
                        parent_count = n;
                        Ok(())
                    })
                }
                6 | 15 => bigint(&mut d),
                7 => d.i64().map(|h| height = h),
                8..=10 => d.cid().map(drop),
                11 | 13 => nullable(&mut d, |d| bounded_bytes(d, MAX_SIGNATURE)),
                _ => d.u64().map(drop),
            };
            r.map_err(|e| e.in_field(name))?;
        }
        d.finish().map_err(|e| e.in_field("BlockHeader"))?;
        Ok(BlockHeader {
            height,
            parents,
            parent_count,
        })
    }

    /// Number of parents.
    pub fn parent_count(&self) -> u64 {
        self.parent_count
    }

    /// The parents' binary CIDs, in the header's order (Lotus's canonical tipset order).
    pub fn parents(&self) -> Parents<'a> {
        Parents {
            d: Decoder::new(self.parents),
        }
    }

    /// The parents as a tipset key: their binary CIDs concatenated, the form F3 certificates
    /// use for `TipSet.Key`.
    pub fn parents_key(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.parents.len());
        for cid in self.parents() {
            key.extend_from_slice(cid);
        }
        key
    }
}

/// The binary CIDs of a header's `Parents` (see [`BlockHeader::parents`]).
#[derive(Debug, Clone)]
pub struct Parents<'a> {
    d: Decoder<'a>,
}

impl<'a> Iterator for Parents<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // Each item was checked by `decode`: tag 42, then a byte string of 0x00 and the CID.
        self.d.peek()?;
        self.d.header().ok()?;
        self.d.bytes(crate::cbor::MAX_CID_BYTES).ok()?.get(1..)
    }
}

/// Splits a tipset key (binary CIDs concatenated) into its CIDs; `None` if it is not one.
pub fn key_cids(key: &[u8]) -> Option<Vec<Cid>> {
    let mut out = Vec::new();
    let mut rest = key;
    while !rest.is_empty() {
        out.push(Cid::read_bytes(&mut rest).ok()?);
    }
    Some(out)
}

/// A byte string of at most `max` bytes, skipped.
fn bounded_bytes(d: &mut Decoder<'_>, max: u64) -> Result<()> {
    d.bytes(max).map(drop)
}

/// `null`, or an item read by `f`.
fn nullable(d: &mut Decoder<'_>, f: impl FnOnce(&mut Decoder<'_>) -> Result<()>) -> Result<()> {
    if d.peek() == Some(NULL) {
        d.null();
        return Ok(());
    }
    f(d)
}

/// An array of at most cbor-gen's 8,192 items, each read by `f`.
fn each(d: &mut Decoder<'_>, mut f: impl FnMut(&mut Decoder<'_>) -> Result<()>) -> Result<()> {
    let n = d.array(limits::MAX_ARRAY)?;
    for _ in 0..n {
        f(d)?;
    }
    Ok(())
}

/// A Filecoin big integer: a byte string of at most 128 bytes whose sign byte, if any, is 0
/// or 1 (go-state-types' decoder; it accepts non-canonical magnitudes, and so does this).
fn bigint(d: &mut Decoder<'_>) -> Result<()> {
    let at = d.position() as u64;
    let bytes = d.bytes(limits::MAX_BYTES)?;
    if bytes.len() as u64 > limits::BIGINT {
        return Err(Error::at(ErrorKind::BigIntTooLong(bytes.len() as u64), at));
    }
    match bytes.first() {
        None | Some(0 | 1) => Ok(()),
        Some(&other) => Err(Error::at(ErrorKind::BigIntSign(other), at)),
    }
}

// The major type constant keeps `HEADER_FIRST_BYTE` honest.
const _: () = assert!(HEADER_FIRST_BYTE == (major::ARRAY << 5) | HEADER_FIELDS as u8);

#[cfg(test)]
mod tests;
