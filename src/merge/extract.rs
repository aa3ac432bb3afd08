//! Taking a v2 snapshot apart: its metadata, its F3 block, its chain.

use std::io::{self, Read, Write};

use cid::Cid;

use super::copy::{copy_chain, section_read, CopyStats, Hashing};
use super::{write_err, MergeError, NoChainCheck};
use crate::car::{CarReader, CarWriter, Section};
use crate::cids::{cid_from_digest, cid_of, DAG_CBOR};
use crate::error::{Error, ErrorKind};
use crate::report::{decompressed, Compression, Limits};
use crate::snapshot::{self, check_metadata, MAX_METADATA_LEN};
use crate::types::{Cbor, SnapshotMetadata};

/// Reads a v2 snapshot's metadata block, the first section, checked as the reader checks it:
/// it must be the single root, hash to it, have version 2 and a head tipset.
pub fn read_metadata<R: Read>(
    car: &mut CarReader<R>,
) -> std::result::Result<(Cid, SnapshotMetadata), MergeError> {
    let roots = &car.header().roots;
    let [root] = roots.as_slice() else {
        return Err(MergeError::NotV2(format!(
            "{} roots; a v2 snapshot has one, the metadata block",
            roots.len()
        )));
    };
    let root = *root;
    let Some(first) = car.next_section().map_err(MergeError::Snapshot)? else {
        return Err(MergeError::NotV2("the CAR holds no block".into()));
    };
    if first.data_len > MAX_METADATA_LEN {
        return Err(MergeError::NotV2(
            "the first block is too large to be SnapshotMetadata".into(),
        ));
    }
    let mut buf = Vec::new();
    car.read_section(MAX_METADATA_LEN, &mut buf)
        .map_err(MergeError::Snapshot)?;
    if buf
        .first()
        .is_none_or(|b| b >> 5 != crate::cbor::major::MAP)
    {
        return Err(MergeError::NotV2(
            "the first block is not a map (SnapshotMetadata): a v1 snapshot".into(),
        ));
    }
    let at = first.data_offset;
    let md = SnapshotMetadata::from_cbor(&buf).map_err(|e| MergeError::Snapshot(e.shifted(at)))?;
    check_metadata(root, &first, &md, cid_of(DAG_CBOR, &buf)).map_err(MergeError::Snapshot)?;
    Ok((root, md))
}

/// Reads the F3 section that follows the metadata `md` names: its data is left unread.
pub fn f3_section<R: Read>(
    car: &mut CarReader<R>,
    md: &SnapshotMetadata,
) -> std::result::Result<Section, MergeError> {
    let f3 = md.f3_data.ok_or(MergeError::NoF3Data)?;
    snapshot::f3_section(car, f3).map_err(MergeError::Snapshot)
}

/// What [`extract`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractSummary {
    /// The metadata.
    pub metadata: SnapshotMetadata,
    /// How the snapshot was compressed.
    pub compression: Compression,
    /// Bytes of F3 data written.
    pub f3_bytes: u64,
    /// Chain blocks written to the v1 CAR, when one was asked for.
    pub chain: Option<CopyStats>,
}

/// Takes a v2 snapshot (plain or zstd, CARv1 or CARv2) apart: writes its F3 data to `f3_out`
/// (checked against the metadata's CID) and, when `v1_out` is given, its chain as a v1 CAR
/// whose roots are `HeadTipsetKey` (each block checked, every head block required). On an
/// error, what was written is incomplete and must be discarded.
pub fn extract<R: Read>(
    snapshot: R,
    f3_out: &mut dyn Write,
    v1_out: Option<&mut dyn Write>,
) -> std::result::Result<ExtractSummary, MergeError> {
    let (compression, r) =
        decompressed(snapshot, Limits::default()).map_err(MergeError::Snapshot)?;
    let mut car = CarReader::new(r).map_err(MergeError::Snapshot)?;
    let (_, metadata) = read_metadata(&mut car)?;
    let sec = f3_section(&mut car, &metadata)?;
    let mut data = Hashing::new(car.section_data());
    let copied = io::copy(&mut data, f3_out);
    let (digest, count) = (data.digest(), data.count);
    section_read(data.failed, &car)?;
    copied.map_err(write_err)?;
    let computed = cid_from_digest(crate::cids::RAW, &digest);
    if computed != sec.cid {
        return Err(MergeError::Snapshot(Error::at(
            ErrorKind::CidMismatch {
                what: "F3 block",
                expected: sec.cid.to_string(),
                computed: computed.to_string(),
            },
            sec.data_offset,
        )));
    }
    let chain = match v1_out {
        None => None,
        Some(out) => {
            let mut w = CarWriter::new(out, &metadata.head_tipset_key).map_err(write_err)?;
            let stats = copy_chain(
                &mut car,
                &mut w,
                None,
                Vec::new(),
                &metadata.head_tipset_key,
                &mut NoChainCheck,
            )?;
            w.finish().map_err(write_err)?;
            Some(stats)
        }
    };
    Ok(ExtractSummary {
        metadata,
        compression,
        f3_bytes: count,
        chain,
    })
}
