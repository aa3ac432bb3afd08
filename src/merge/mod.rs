//! Joining a v1 chain snapshot and F3 data into a v2 snapshot, and taking a v2 snapshot apart,
//! streamed with bounded memory whatever the input size.
//!
//! [`merge`] writes Lotus's `ExportV2` layout: the CAR header whose one root is the
//! `SnapshotMetadata` CID, the metadata block (`HeadTipsetKey` = the v1 CAR's roots), the F3
//! block, then the v1 CAR's sections in their order, byte for byte. The F3 data is read twice:
//! once by [`F3Input::scan`], which validates it and learns its CID and length (the metadata
//! names the CID, and comes first), then again while it is copied, its hash compared with the
//! first pass's. Each chain block's blake2b-256 hash is checked on the way and every head block
//! must be present. Forest's `merge-f3` only refuses a chain snapshot that is already v2 and
//! takes the F3 file as opaque bytes; Lotus's import checks the chain blocks' hashes but never
//! the F3 block's.
//!
//! [`extract`] is the inverse: the F3 block's bytes (checked against the metadata's CID), and
//! optionally the chain as a v1 CAR whose roots are `HeadTipsetKey`, every block checked as it
//! is copied. For a CARv1 chain snapshot with a canonical header, `extract` of `merge`'s output
//! gives back the chain snapshot's bytes (decompressed).
//!
//! Memory: one block buffer of [`BLOCK_BUFFER`] bytes (larger blocks are streamed), the head
//! tipset's CIDs, and the validator's power table.

use std::io::{self, Read, Write};

use cid::Cid;

use crate::car::{CarReader, CarWriter};
use crate::chain::consistency::{Checker, Consistency, TipsetRef};
use crate::cids::{cid_from_digest, cid_of, DAG_CBOR};
use crate::error::{Error, Result};
use crate::f3data::F3DataReader;
use crate::report::{decompressed, is_car, Compression, Limits};
use crate::snapshot::{MAX_METADATA_LEN, METADATA_VERSION};
use crate::types::{Cbor, F3SnapshotHeader, SnapshotMetadata, TipSet};
use crate::validate::{Options, Summary, Validator};

mod copy;
mod extract;

pub use copy::CopyStats;
use copy::{copy_chain, Counting, Hashing};
pub use extract::{extract, f3_section, read_metadata, ExtractSummary};

/// Blocks up to this size are read whole (and shown to the [`ChainCheck`]); larger ones are
/// streamed. Filecoin block headers are far smaller.
pub const BLOCK_BUFFER: u64 = 1 << 20;

/// What `merge`, `extract` and `dump` can fail with, each with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// The F3 data breaks a rule (its code is the reader's or the validator's).
    #[error("F3 data: {0}")]
    F3(Error),
    /// The snapshot (the chain snapshot given to `merge`, the snapshot given to `extract` or
    /// `dump`) breaks a rule.
    #[error("snapshot: {0}")]
    Snapshot(Error),
    /// `merge` was given a v2 snapshot as its chain.
    #[error("the chain snapshot is already a v2 snapshot (its root {root} names SnapshotMetadata); merge takes a v1 snapshot")]
    V2Input {
        /// The root, a metadata block.
        root: String,
    },
    /// `extract` was given something other than a v2 snapshot.
    #[error("not a v2 snapshot: {0}")]
    NotV2(String),
    /// The v2 snapshot has no F3 data (`F3Data` is null).
    #[error("the snapshot carries no F3 data (F3Data is null)")]
    NoF3Data,
    /// `merge` was given a CAR where F3 data belongs.
    #[error(
        "the F3 input is a CAR snapshot, not F3 data (extract takes F3 data out of a snapshot)"
    )]
    F3IsCar,
    /// The F3 input read differently the second time.
    #[error("the F3 input changed while it was read: first {first}, then {second}")]
    F3Changed {
        /// What the first pass read.
        first: String,
        /// What the second pass read.
        second: String,
    },
    /// The chain-consistency check refused the inputs.
    #[error("the chain and the F3 data disagree: {0}")]
    Inconsistent(Error),
    /// A JSON failure (`dump`).
    #[cfg(feature = "json")]
    #[error("{0}")]
    Json(crate::json::JsonError),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Write(String),
}

impl MergeError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MergeError::F3(e) | MergeError::Snapshot(e) | MergeError::Inconsistent(e) => e.code(),
            MergeError::V2Input { .. } => "merge-v2-input",
            MergeError::NotV2(_) => "not-v2-snapshot",
            MergeError::NoF3Data => "no-f3-data",
            MergeError::F3IsCar => "merge-f3-is-car",
            MergeError::F3Changed { .. } => "f3-input-changed",
            #[cfg(feature = "json")]
            MergeError::Json(e) => e.code(),
            MergeError::Write(_) => "io",
        }
    }

    /// Whether this is a verdict on the inputs (exit 1) rather than a failure to read or write
    /// them (exit 2).
    pub fn is_verdict(&self) -> bool {
        match self {
            MergeError::F3(e) | MergeError::Snapshot(e) | MergeError::Inconsistent(e) => {
                e.kind.is_verdict()
            }
            #[cfg(feature = "json")]
            MergeError::Json(e) => e.is_verdict(),
            MergeError::F3Changed { .. } | MergeError::Write(_) => false,
            MergeError::V2Input { .. }
            | MergeError::NotV2(_)
            | MergeError::NoF3Data
            | MergeError::F3IsCar => true,
        }
    }
}

fn write_err(e: impl std::fmt::Display) -> MergeError {
    MergeError::Write(e.to_string())
}

/// The check that the chain and the F3 data agree (the F3 data must finalize tipsets of the
/// chain it ships with), run by [`merge`] on what it copies, before the output is kept.
///
/// `merge` calls [`ChainCheck::start`] once the F3 data is known and before any chain block,
/// [`ChainCheck::block`] for every chain block of at most [`BLOCK_BUFFER`] bytes in CAR order,
/// and [`ChainCheck::finish`] after the last. An error stops the merge: nothing is written.
pub trait ChainCheck {
    /// The head tipset (the chain snapshot's roots) and the F3 data.
    fn start(&mut self, head_tipset_key: &[Cid], f3: &F3Input) -> Result<()>;
    /// A chain block, its hash already checked; its data starts at `offset` in the chain
    /// snapshot (decompressed).
    fn block(&mut self, cid: &Cid, data: &[u8], offset: u64) -> Result<()>;
    /// The end of the chain.
    fn finish(&mut self) -> Result<()>;
}

/// A [`ChainCheck`] that accepts everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoChainCheck;

impl ChainCheck for NoChainCheck {
    fn start(&mut self, _: &[Cid], _: &F3Input) -> Result<()> {
        Ok(())
    }
    fn block(&mut self, _: &Cid, _: &[u8], _: u64) -> Result<()> {
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// The `chain` level's consistency check (the F3 data must finalize a tipset of the chain it
/// ships with, [`crate::chain::consistency`]) as `merge` runs it on the chain it copies.
///
/// Enforced, its failure stops the merge; not enforced (`--force`), the failure is kept for
/// the caller to report and the merge goes on.
#[derive(Debug, Default)]
pub struct ConsistencyCheck {
    enforce: bool,
    checker: Option<Checker>,
    failure: Option<Error>,
}

impl ConsistencyCheck {
    /// A check that stops the merge on failure when `enforce` is set.
    pub fn new(enforce: bool) -> Self {
        ConsistencyCheck {
            enforce,
            ..ConsistencyCheck::default()
        }
    }

    /// What the check established (`None` when the F3 data finalizes nothing to check).
    pub fn summary(&self) -> Option<Consistency> {
        self.checker.as_ref().map(Checker::summary)
    }

    /// The failure a check that is not enforced let pass.
    pub fn failure(&self) -> Option<&Error> {
        self.failure.as_ref()
    }

    fn judge(&mut self, r: Result<()>) -> Result<()> {
        match r {
            Err(e) if !self.enforce => {
                self.failure.get_or_insert(e);
                // One failure is enough: the rest of the chain is copied unchecked.
                self.checker = None;
                Ok(())
            }
            r => r,
        }
    }
}

impl ChainCheck for ConsistencyCheck {
    fn start(&mut self, head_tipset_key: &[Cid], f3: &F3Input) -> Result<()> {
        if let Some(t) = &f3.finalized {
            let mut c = Checker::new(TipsetRef {
                epoch: t.epoch,
                key: t.key.clone(),
            });
            c.set_head(head_tipset_key);
            self.checker = Some(c);
        }
        Ok(())
    }

    fn block(&mut self, cid: &Cid, data: &[u8], offset: u64) -> Result<()> {
        let r = match self.checker.as_mut() {
            Some(c) if c.wants(cid, data.len() as u64) => c.block(cid, data, offset),
            _ => Ok(()),
        };
        self.judge(r)
    }

    fn finish(&mut self) -> Result<()> {
        let r = self.checker.as_mut().map_or(Ok(()), Checker::finish);
        self.judge(r)
    }
}

/// F3 data read once to the end: validated, and what the metadata and the CAR section need.
#[derive(Debug, Clone)]
pub struct F3Input {
    /// The F3 block's CID (raw codec, blake2b-256 of every byte).
    pub cid: Cid,
    /// Its length in bytes (decompressed).
    pub len: u64,
    /// How the input was compressed.
    pub compression: Compression,
    /// The header.
    pub header: F3SnapshotHeader,
    /// Certificates read.
    pub certificates: u64,
    /// The head of the last certificate's ECChain: the last tipset the F3 data finalizes.
    pub finalized: Option<TipSet>,
    /// What validation established.
    pub summary: Summary,
}

impl F3Input {
    /// Reads F3 data (plain or zstd) to its end, validating it at `opts.level` (at least the
    /// structure level: every block decodes strictly, the header and the certificate sequence
    /// hold together).
    pub fn scan<R: Read>(r: R, opts: Options) -> std::result::Result<F3Input, MergeError> {
        let (compression, r) = decompressed(r, Limits::default()).map_err(MergeError::F3)?;
        let (car, r) = sniff_car(r).map_err(|e| MergeError::F3(e.into()))?;
        if car {
            return Err(MergeError::F3IsCar);
        }
        let mut reader = F3DataReader::new(r).map_err(MergeError::F3)?;
        let header = reader.header().value.clone();
        let mut validator = Validator::new(opts, reader.header()).map_err(MergeError::F3)?;
        let (mut certificates, mut finalized) = (0u64, None);
        for block in reader.by_ref() {
            let block = block
                .map_err(|e| e.in_instance(header.first_instance.saturating_add(certificates)))
                .map_err(MergeError::F3)?;
            certificates += 1;
            validator.certificate(&block).map_err(MergeError::F3)?;
            finalized = block.value.tipsets().last().cloned();
        }
        let len = reader.bytes_read();
        let summary = validator
            .finish()
            .map_err(|e| MergeError::F3(e.at_offset(len)))?;
        Ok(F3Input {
            cid: reader.cid(),
            len,
            compression,
            header,
            certificates,
            finalized,
            summary,
        })
    }
}

/// A reader that yields bytes already taken from the rest first.
pub(crate) type Sniffed<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// Whether decompressed input is a CAR (else it is read as F3 data), and the input again,
/// whole.
pub(crate) fn sniff_car<R: Read>(mut r: R) -> io::Result<(bool, Sniffed<R>)> {
    let mut head = Vec::new();
    (&mut r)
        .take(crate::car::CARV2_PRAGMA.len() as u64)
        .read_to_end(&mut head)?;
    Ok((is_car(&head), io::Cursor::new(head).chain(r)))
}

/// What [`merge`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeSummary {
    /// The root: the metadata block's CID.
    pub metadata_cid: Cid,
    /// The head tipset: the chain snapshot's roots.
    pub head_tipset_key: Vec<Cid>,
    /// How the chain snapshot was compressed.
    pub chain_compression: Compression,
    /// Chain blocks copied.
    pub chain: CopyStats,
    /// Bytes written (before any compression the writer applies).
    pub bytes: u64,
}

/// Writes the v2 snapshot of the v1 chain snapshot `v1` (CARv1 or CARv2, plain or zstd,
/// Forest's framed `.forest.car.zst` included) and the F3 data `f3` (read again from
/// `f3_bytes`, which must give the bytes [`F3Input::scan`] read) to `out`.
///
/// Refuses a v2 chain snapshot, a chain snapshot without every head block, and F3 data that
/// changed between the two reads; `check` may refuse the pair (see [`ChainCheck`]). On an
/// error, what was written to `out` is incomplete and must be discarded.
pub fn merge<V: Read, F: Read, W: Write>(
    v1: V,
    f3: &F3Input,
    f3_bytes: F,
    out: W,
    check: &mut dyn ChainCheck,
) -> std::result::Result<(W, MergeSummary), MergeError> {
    let (chain_compression, v1) =
        decompressed(v1, Limits::default()).map_err(MergeError::Snapshot)?;
    let mut car = CarReader::new(v1).map_err(MergeError::Snapshot)?;
    let head = car.header().roots.clone();
    // The first block decides v1 or v2 as the reader decides it (a single root and a first
    // block that is a CBOR map is v2): it is read before anything is written.
    let mut buf = Vec::new();
    let first = car.next_section().map_err(MergeError::Snapshot)?;
    if let Some(sec) = first.as_ref().filter(|s| s.data_len <= BLOCK_BUFFER) {
        car.read_section(BLOCK_BUFFER, &mut buf)
            .map_err(MergeError::Snapshot)?;
        let is_map = buf
            .first()
            .is_some_and(|b| b >> 5 == crate::cbor::major::MAP);
        if head.len() == 1 && is_map && sec.data_len <= MAX_METADATA_LEN {
            return Err(MergeError::V2Input {
                root: head.first().map(Cid::to_string).unwrap_or_default(),
            });
        }
    }
    check.start(&head, f3).map_err(MergeError::Inconsistent)?;

    let md = SnapshotMetadata {
        version: METADATA_VERSION,
        head_tipset_key: head.clone(),
        f3_data: Some(f3.cid),
    };
    let md_bytes = md.to_cbor();
    let metadata_cid = cid_of(DAG_CBOR, &md_bytes);
    let out = Counting {
        inner: out,
        count: 0,
    };
    let mut w = CarWriter::new(out, &[metadata_cid]).map_err(write_err)?;
    w.write_block(&metadata_cid, &md_bytes).map_err(write_err)?;

    // The F3 block, streamed from the second read and compared with the first.
    let (_, f3_bytes) = decompressed(f3_bytes, Limits::default()).map_err(MergeError::F3)?;
    let mut data = Hashing::new(f3_bytes);
    let res = w.write_block_from(&f3.cid, f3.len, &mut data);
    let (len, second) = (
        data.count,
        cid_from_digest(crate::cids::RAW, &data.digest()),
    );
    let more = if len == f3.len {
        data.read(&mut [0u8; 1]).unwrap_or(0)
    } else {
        0
    };
    if let Some(e) = data.failed {
        return Err(MergeError::F3(e.into()));
    }
    if len != f3.len || more > 0 || second != f3.cid {
        return Err(MergeError::F3Changed {
            first: format!("{} bytes, {}", f3.len, f3.cid),
            second: if more > 0 {
                format!("more than {} bytes", f3.len)
            } else {
                format!("{len} bytes, {second}")
            },
        });
    }
    res.map_err(write_err)?;

    let chain = copy_chain(&mut car, &mut w, first, buf, &head, check)?;
    check.finish().map_err(MergeError::Inconsistent)?;
    let out = w.finish().map_err(write_err)?;
    let summary = MergeSummary {
        metadata_cid,
        head_tipset_key: head,
        chain_compression,
        chain,
        bytes: out.count,
    };
    Ok((out.inner, summary))
}
