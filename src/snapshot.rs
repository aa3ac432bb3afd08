//! Filecoin snapshots on top of the CAR container (FRC-0108 "V1" and "V2").
//!
//! v1 versus v2 is decided as Lotus's importer does: with a single root, the first block is
//! tried as `SnapshotMetadata`; if it is not one, the snapshot is v1 (a genesis CAR, say).
//! The strict reader draws the line by shape: a first block that is a CBOR map is meant as
//! metadata, so any defect in it is reported rather than read as v1 (Lotus falls back to v1 on
//! any decoding failure); any other first block (a block header is an array) makes it v1.
//!
//! In a v2 snapshot the root must be the first section, whose bytes must hash to it; when
//! `F3Data` is set the second section must carry that CID, and its bytes are streamed to the
//! caller's F3 handler without being held whole. The remaining sections are walked, each
//! blake2b-256 block checked against its CID, none stored.

use std::io::{Read, Write};

use cid::Cid;

use crate::car::{CarReader, CarWriter, Container, Section};
use crate::cbor::major;
use crate::cids::{cid_of, DAG_CBOR};
use crate::error::{Error, ErrorKind, Result};
use crate::types::{Cbor, SnapshotMetadata};

/// The only `SnapshotMetadata` version FRC-0108 defines.
pub const METADATA_VERSION: u64 = 2;

/// The largest metadata block accepted (8192 head CIDs fit well within it).
pub const MAX_METADATA_LEN: u64 = 1 << 20;

/// Which snapshot format the CAR holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotVersion {
    /// Roots are the head tipset's block CIDs.
    V1,
    /// The root names a `SnapshotMetadata` block.
    V2,
}

/// What was learned from a CAR snapshot, filled in as reading goes so that a failure still
/// reports everything before it.
#[derive(Debug, Clone, Default)]
pub struct CarInfo {
    /// The container, once its header was read.
    pub container: Option<Container>,
    /// Root CIDs.
    pub roots: Vec<Cid>,
    /// v1 or v2, once decided.
    pub version: Option<SnapshotVersion>,
    /// CID of the metadata block (v2).
    pub metadata_cid: Option<Cid>,
    /// The metadata (v2).
    pub metadata: Option<SnapshotMetadata>,
    /// Sections read, metadata and F3 block included.
    pub sections: u64,
    /// Chain blocks whose hash was checked.
    pub verified_blocks: u64,
}

/// Handles the F3 block: gets a reader over its bytes and their absolute offset, must read
/// them to the end, and returns their CID.
pub type F3Handler<'a> = dyn FnMut(&mut dyn Read, u64) -> Result<Cid> + 'a;

/// Sees a snapshot's chain blocks (those after the metadata and F3 block): told the head
/// tipset once the layout is known, then given the data of each block it asks for. Every
/// block's hash is checked either way.
pub trait ChainVisitor {
    /// Called once, before any chain block: `head` is a v1 snapshot's roots or a v2
    /// snapshot's `HeadTipsetKey`.
    fn start(&mut self, version: SnapshotVersion, head: &[Cid]);
    /// Whether to be given the data of the block `cid` of `len` bytes (read into memory).
    fn wants(&self, cid: &Cid, len: u64) -> bool;
    /// A block it asked for, its hash checked; its data starts at absolute `offset`.
    fn block(&mut self, cid: &Cid, data: &[u8], offset: u64) -> Result<()>;
}

/// A visitor that wants nothing.
struct NoVisitor;

impl ChainVisitor for NoVisitor {
    fn start(&mut self, _: SnapshotVersion, _: &[Cid]) {}
    fn wants(&self, _: &Cid, _: u64) -> bool {
        false
    }
    fn block(&mut self, _: &Cid, _: &[u8], _: u64) -> Result<()> {
        Ok(())
    }
}

/// Reads a CAR snapshot, calling `on_f3` for the F3 block. `info` is filled as reading goes.
pub fn read_car_snapshot<R: Read>(
    r: R,
    info: &mut CarInfo,
    on_f3: &mut F3Handler<'_>,
) -> Result<()> {
    read_car_snapshot_with(r, info, on_f3, &mut NoVisitor)
}

/// [`read_car_snapshot`], showing the chain blocks to `chain`.
pub fn read_car_snapshot_with<R: Read>(
    r: R,
    info: &mut CarInfo,
    on_f3: &mut F3Handler<'_>,
    chain: &mut dyn ChainVisitor,
) -> Result<()> {
    let mut car = CarReader::new(r)?;
    info.container = Some(car.container());
    info.roots = car.header().roots.clone();

    let mut buf = Vec::new();
    let Some(first) = car.next_section()? else {
        // A header with no block: a v1 snapshot missing its head.
        info.version = Some(SnapshotVersion::V1);
        return missing(&info.roots, &[], "root", car.position());
    };
    info.sections += 1;
    let single_root = info.roots.len() == 1;
    car.read_section(MAX_METADATA_LEN, &mut buf).map_err(|e| {
        if single_root {
            e.in_field("SnapshotMetadata")
        } else {
            e
        }
    })?;
    let is_map = buf.first().is_some_and(|b| b >> 5 == major::MAP);
    if !(single_root && is_map) {
        info.version = Some(SnapshotVersion::V1);
        check_block(&first.cid, &buf, first.data_offset)?;
        let roots = info.roots.clone();
        chain.start(SnapshotVersion::V1, &roots);
        if chain.wants(&first.cid, buf.len() as u64) {
            chain.block(&first.cid, &buf, first.data_offset)?;
        }
        let mut found = vec![first.cid];
        walk_rest(&mut car, info, &roots, &mut found, chain)?;
        return missing(&roots, &found, "root", car.position());
    }

    // v2: the root is the metadata block, first in the CAR, hashing to its CID.
    info.version = Some(SnapshotVersion::V2);
    let root = info.roots.first().copied().unwrap_or_default();
    let at = first.data_offset;
    let md = SnapshotMetadata::from_cbor(&buf).map_err(|e| e.shifted(at))?;
    info.metadata = Some(md.clone());
    let computed = cid_of(DAG_CBOR, &buf);
    info.metadata_cid = Some(computed);
    check_metadata(root, &first, &md, computed)?;

    if let Some(f3) = md.f3_data {
        let sec = f3_section(&mut car, f3)?;
        info.sections += 1;
        let result = on_f3(&mut car.section_data(), sec.data_offset);
        if car.truncated() {
            return Err(Error::at(ErrorKind::CarTruncated, car.position()));
        }
        let computed = result?;
        if computed != f3 {
            return Err(Error::at(
                ErrorKind::CidMismatch {
                    what: "F3 block",
                    expected: f3.to_string(),
                    computed: computed.to_string(),
                },
                sec.data_offset,
            ));
        }
    }
    let mut found = Vec::new();
    chain.start(SnapshotVersion::V2, &md.head_tipset_key);
    walk_rest(&mut car, info, &md.head_tipset_key, &mut found, chain)?;
    missing(
        &md.head_tipset_key,
        &found,
        "head tipset block",
        car.position(),
    )
}

/// Checks a v2 snapshot's metadata block `md`, read from section `first` whose data hashes to
/// `computed`, against the CAR's one root: the root's block must come first and hash to it,
/// with version 2 and a head tipset.
pub(crate) fn check_metadata(
    root: Cid,
    first: &Section,
    md: &SnapshotMetadata,
    computed: Cid,
) -> Result<()> {
    let at = first.data_offset;
    if first.cid != root {
        return Err(Error::at(
            ErrorKind::MetadataNotFirst {
                root: root.to_string(),
                found: first.cid.to_string(),
            },
            first.offset,
        ));
    }
    if computed != root {
        return Err(Error::at(
            ErrorKind::CidMismatch {
                what: "SnapshotMetadata block",
                expected: root.to_string(),
                computed: computed.to_string(),
            },
            at,
        ));
    }
    if md.version != METADATA_VERSION {
        return Err(Error::at(ErrorKind::MetadataVersion(md.version), at)
            .in_field("SnapshotMetadata.Version"));
    }
    if md.head_tipset_key.is_empty() {
        return Err(
            Error::at(ErrorKind::MetadataEmptyHead, at).in_field("SnapshotMetadata.HeadTipsetKey")
        );
    }
    Ok(())
}

/// The section after the metadata, which must be the F3 block `f3` the metadata names; its
/// data is left unread.
pub(crate) fn f3_section<R: Read>(car: &mut CarReader<R>, f3: Cid) -> Result<Section> {
    let missing = |found: String, at| {
        Error::at(
            ErrorKind::F3BlockMissing {
                expected: f3.to_string(),
                found,
            },
            at,
        )
    };
    match car.next_section()? {
        None => Err(missing("the end of the CAR".into(), car.position())),
        Some(sec) if sec.cid != f3 => Err(missing(sec.cid.to_string(), sec.offset)),
        Some(sec) => Ok(sec),
    }
}

/// Fails with the first of `wanted` not in `found`, located at `end`, the end of the CAR
/// (where the block was looked for last).
fn missing(wanted: &[Cid], found: &[Cid], what: &'static str, end: u64) -> Result<()> {
    let found: std::collections::HashSet<&Cid> = found.iter().collect();
    match wanted.iter().find(|c| !found.contains(c)) {
        Some(c) => Err(Error::at(
            ErrorKind::CarBlockMissing {
                what,
                cid: c.to_string(),
            },
            end,
        )),
        None => Ok(()),
    }
}

fn check_block(cid: &Cid, data: &[u8], at: u64) -> Result<()> {
    if crate::cids::is_blake2b256(cid) {
        let computed = cid_of(cid.codec(), data);
        if &computed != cid {
            return Err(Error::at(
                ErrorKind::CidMismatch {
                    what: "CAR block",
                    expected: cid.to_string(),
                    computed: computed.to_string(),
                },
                at,
            ));
        }
    }
    Ok(())
}

/// Walks the remaining sections, checking hashes, and notes which of `wanted` it sees (memory
/// bounded by `wanted`, not by the CAR). Blocks `chain` asks for are read whole (one buffer,
/// reused) and shown to it.
fn walk_rest<R: Read>(
    car: &mut CarReader<R>,
    info: &mut CarInfo,
    wanted: &[Cid],
    found: &mut Vec<Cid>,
    chain: &mut dyn ChainVisitor,
) -> Result<()> {
    let mut buf = Vec::new();
    // Up to 8192 wanted CIDs: sets, so a long CAR costs one lookup a block.
    let wanted: std::collections::HashSet<&Cid> = wanted.iter().collect();
    let mut seen: std::collections::HashSet<Cid> = found.iter().copied().collect();
    while let Some(sec) = car.next_section()? {
        info.sections += 1;
        if wanted.contains(&sec.cid) && seen.insert(sec.cid) {
            found.push(sec.cid);
        }
        if chain.wants(&sec.cid, sec.data_len) {
            car.read_section(sec.data_len, &mut buf)?;
            check_block(&sec.cid, &buf, sec.data_offset)?;
            if crate::cids::is_blake2b256(&sec.cid) {
                info.verified_blocks += 1;
            }
            chain.block(&sec.cid, &buf, sec.data_offset)?;
        } else if car.skip_section(&sec.cid)? {
            info.verified_blocks += 1;
        }
    }
    Ok(())
}

/// A stand-in chain block for snapshots made without a chain: a DAG-CBOR array (the shape
/// of a block header) holding `seed`, and its CID.
pub fn placeholder_block(seed: &[u8]) -> (Cid, Vec<u8>) {
    let mut e = crate::cbor::Encoder::new();
    e.array(1);
    e.bytes(seed);
    let data = e.into_bytes();
    (cid_of(DAG_CBOR, &data), data)
}

/// Writes a v2 snapshot laid out as Lotus's `ExportV2` lays it out: the CAR header whose one
/// root is the metadata block's CID, the metadata block, the F3 block when there is one, then
/// the chain blocks. Returns the metadata CID.
pub fn write_v2_snapshot<W: Write>(
    w: W,
    head_tipset_key: &[Cid],
    f3: Option<(&Cid, &[u8])>,
    chain_blocks: &[(Cid, Vec<u8>)],
) -> Result<(W, Cid)> {
    let blocks = chain_blocks.iter().map(|(c, d)| (c, d.as_slice()));
    write_v2_snapshot_from(w, head_tipset_key, f3, blocks)
}

/// [`write_v2_snapshot`] with the chain blocks from an iterator (a long chain need not be
/// gathered into one list).
pub fn write_v2_snapshot_from<'a, W: Write>(
    w: W,
    head_tipset_key: &[Cid],
    f3: Option<(&Cid, &[u8])>,
    chain_blocks: impl IntoIterator<Item = (&'a Cid, &'a [u8])>,
) -> Result<(W, Cid)> {
    let md = SnapshotMetadata {
        version: METADATA_VERSION,
        head_tipset_key: head_tipset_key.to_vec(),
        f3_data: f3.map(|(c, _)| *c),
    };
    let md_bytes = md.to_cbor();
    let md_cid = cid_of(DAG_CBOR, &md_bytes);
    let mut car = CarWriter::new(w, &[md_cid])?;
    car.write_block(&md_cid, &md_bytes)?;
    if let Some((cid, data)) = f3 {
        car.write_block(cid, data)?;
    }
    for (cid, data) in chain_blocks {
        car.write_block(cid, data)?;
    }
    Ok((car.finish()?, md_cid))
}
