//! One pass over any input (raw F3 data or a CAR snapshot, plain or zstd-compressed) that
//! decodes, optionally validates, and records what it learned, so that `inspect` and `check`
//! can report on a failure everything read before it.
//!
//! With the `json` feature, the `json` module renders an [`Analysis`] as the JSON objects
//! `inspect` and `check` print.

use std::cell::RefCell;
use std::io::{self, Cursor, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[cfg(feature = "json")]
pub mod json;

use cid::Cid;

use crate::chain::consistency::{Checker, Consistency, TipsetRef};
use crate::error::{Error, ErrorKind, Result};
use crate::f3data::F3DataReader;
use crate::snapshot::{read_car_snapshot_with, CarInfo, ChainVisitor, SnapshotVersion};
use crate::types::{F3SnapshotHeader, TipSet};
use crate::validate::{Level, Options, Summary, Validator};

/// The largest zstd window accepted, as a power of two: 2^27 (128 MiB), zstd's own default
/// limit for decoding without `--long`. A frame declaring a larger window is refused before its
/// window is allocated.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// Resource limits of a pass over untrusted input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest zstd window, as a power of two (the decoder allocates the window a frame
    /// declares, up to this).
    pub zstd_window_log_max: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            zstd_window_log_max: ZSTD_WINDOW_LOG_MAX,
        }
    }
}

/// The magic number of a zstd frame.
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// What the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A bare F3 data stream.
    F3Data,
    /// A CAR snapshot whose root is the head tipset (FRC-0108 v1).
    CarV1Snapshot,
    /// A CAR snapshot whose root is `SnapshotMetadata` (FRC-0108 v2).
    CarV2Snapshot,
}

impl Format {
    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::F3Data => "f3data",
            Format::CarV1Snapshot => "car-v1-snapshot",
            Format::CarV2Snapshot => "car-v2-snapshot",
        }
    }
}

/// How the input was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// zstd (snapshots are published as `.car.zst`).
    Zstd,
}

impl Compression {
    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Zstd => "zstd",
        }
    }
}

/// Progress of a long run, for a progress display.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Certificates read.
    pub certificates: u64,
}

/// What a pass over the F3 data learned.
#[derive(Debug, Clone, Default)]
pub struct F3Info {
    /// The header, once decoded.
    pub header: Option<F3SnapshotHeader>,
    /// CID of the header's initial power table.
    pub initial_power_table_cid: Option<Cid>,
    /// Certificates decoded.
    pub certificates: u64,
    /// Bytes of F3 data read.
    pub bytes: u64,
    /// CID of the F3 data, when read to the end.
    pub cid: Option<Cid>,
    /// Validation summary, when validation completed.
    pub summary: Option<Summary>,
    /// The head of the last certificate's ECChain: the last tipset the F3 data finalizes.
    pub finalized: Option<crate::types::TipSet>,
}

/// Everything one pass learned.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Compression detected.
    pub compression: Compression,
    /// Format, once known.
    pub format: Option<Format>,
    /// CAR facts, for CAR input.
    pub car: Option<CarInfo>,
    /// F3 facts, where F3 data was present.
    pub f3: Option<F3Info>,
    /// The validation level, when validating.
    pub level: Option<Level>,
    /// The check of the F3 data against the chain (levels `chain` and `crypto`), once reached:
    /// what it found, or why it was skipped.
    pub consistency: Option<Consistency>,
    /// The first error, if any.
    pub error: Option<Error>,
}

/// A reader that first yields bytes already taken from the rest.
type Peeked<R> = io::Chain<Cursor<Vec<u8>>, R>;

/// Reads up to `n` bytes from `r` without losing them: returns them and a reader that yields
/// them again followed by the rest.
fn peek<R: Read>(mut r: R, n: u64) -> io::Result<(Vec<u8>, Peeked<R>)> {
    let mut head = Vec::new();
    (&mut r).take(n).read_to_end(&mut head)?;
    Ok((head.clone(), Cursor::new(head).chain(r)))
}

/// Whether `head` starts a zstd frame or a skippable frame (`0x184D2A5?` little-endian), which
/// Forest's archives may begin with.
fn is_zstd(head: &[u8]) -> bool {
    head.starts_with(&ZSTD_MAGIC) || matches!(head, [b0, 0x2a, 0x4d, 0x18, ..] if b0 & 0xf0 == 0x50)
}

/// Decides the format from the first decompressed bytes: a CARv2 pragma, or a length prefix
/// followed by a CBOR map (a CARv1 header) means CAR; anything else is read as F3 data, whose
/// first block is an array.
fn sniff(head: &[u8]) -> bool {
    if head.starts_with(&crate::car::CARV2_PRAGMA) {
        return true;
    }
    match crate::framing::decode_uvarint(head) {
        Ok(Some((_, n))) => head
            .get(n)
            .is_some_and(|b| b >> 5 == crate::cbor::major::MAP),
        _ => false,
    }
}

/// `input` decompressed as a stream when it is zstd (by its first bytes, as [`analyze`]
/// decides), with the window limit of `limits`, and which compression it was.
///
/// A fault of the zstd stream itself (not of the reader under it) reaches the caller as an
/// I/O error carrying a [`ZstdFault`], which [`Error`]'s conversion turns into
/// [`ErrorKind::Zstd`]: a verdict on the input, where a failing source stays an I/O error.
pub fn decompressed<'a, R: Read + 'a>(
    input: R,
    limits: Limits,
) -> Result<(Compression, Box<dyn Read + 'a>)> {
    let (head, input) = peek(input, 4)?;
    if !is_zstd(&head) {
        return Ok((Compression::None, Box::new(input)));
    }
    let failed = Arc::new(AtomicBool::new(false));
    let source = Source {
        inner: input,
        failed: Arc::clone(&failed),
    };
    let fault = |e: io::Error| Error::new(ErrorKind::Zstd(e.to_string()));
    let mut decoder = zstd::stream::read::Decoder::new(source).map_err(fault)?;
    decoder
        .window_log_max(limits.zstd_window_log_max)
        .map_err(fault)?;
    Ok((Compression::Zstd, Box::new(Zstd { decoder, failed })))
}

/// A fault of a zstd stream, carried inside the `io::Error` its decoder returns.
#[derive(Debug)]
pub struct ZstdFault(pub String);

impl std::fmt::Display for ZstdFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ZstdFault {}

/// The input under a decompressor, noting whether reading it ever failed.
struct Source<R> {
    inner: R,
    failed: Arc<AtomicBool>,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.failed.store(true, Ordering::Relaxed);
            }
        })
    }
}

/// A zstd decoder whose own errors are marked as [`ZstdFault`]s.
struct Zstd<D> {
    decoder: D,
    failed: Arc<AtomicBool>,
}

impl<D: Read> Read for Zstd<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.decoder.read(buf).map_err(|e| {
            if self.failed.load(Ordering::Relaxed) || e.kind() == io::ErrorKind::Interrupted {
                e
            } else {
                io::Error::other(ZstdFault(e.to_string()))
            }
        })
    }
}

/// Whether decompressed input that starts with `head` (at least 11 bytes when there are) is a
/// CAR; anything else is read as F3 data.
pub fn is_car(head: &[u8]) -> bool {
    sniff(head)
}

/// Counts bytes and reports progress every `every` bytes.
struct ProgressReader<'a, R> {
    inner: R,
    bytes: u64,
    next: u64,
    progress: &'a mut dyn FnMut(Progress),
    certificates: &'a std::cell::Cell<u64>,
}

const PROGRESS_EVERY: u64 = 4 << 20;

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        if self.bytes >= self.next {
            self.next = self.bytes + PROGRESS_EVERY;
            (self.progress)(Progress {
                bytes: self.bytes,
                certificates: self.certificates.get(),
            });
        }
        Ok(n)
    }
}

/// Reads `input` to the end (or to the first error), validating at `opts.level` when `opts`
/// is given, and reports what it found. `progress` is called every few MiB.
pub fn analyze<R: Read>(
    input: R,
    opts: Option<Options>,
    progress: &mut dyn FnMut(Progress),
) -> Analysis {
    analyze_limited(input, opts, Limits::default(), progress)
}

/// [`analyze`] with explicit resource limits.
pub fn analyze_limited<R: Read>(
    input: R,
    opts: Option<Options>,
    limits: Limits,
    progress: &mut dyn FnMut(Progress),
) -> Analysis {
    let mut a = Analysis {
        compression: Compression::None,
        format: None,
        car: None,
        f3: None,
        level: opts.as_ref().map(|o| o.level),
        consistency: None,
        error: None,
    };
    if let Err(e) = run(input, opts, limits, progress, &mut a) {
        a.error = Some(e);
    }
    a
}

/// Counts the bytes read through it.
struct Counted<'a, R> {
    inner: R,
    count: &'a std::cell::Cell<u64>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

fn run<R: Read>(
    input: R,
    opts: Option<Options>,
    limits: Limits,
    progress: &mut dyn FnMut(Progress),
    a: &mut Analysis,
) -> Result<()> {
    let certs = std::cell::Cell::new(0u64);
    let (compression, reader) = decompressed(input, limits)?;
    a.compression = compression;
    let counted = ProgressReader {
        inner: reader,
        bytes: 0,
        next: PROGRESS_EVERY,
        progress,
        certificates: &certs,
    };
    let (head, input) = peek(counted, crate::car::CARV2_PRAGMA.len() as u64)?;
    let consistent = opts.as_ref().is_some_and(|o| o.level >= Level::Chain);
    if !sniff(&head) {
        a.format = Some(Format::F3Data);
        let mut info = F3Info::default();
        let r = read_f3(input, 0, opts, &mut info, &certs);
        a.f3 = Some(info);
        if consistent && r.is_ok() {
            a.consistency = Some(Consistency::skipped(
                "F3 data alone: there is no chain to check it against",
            ));
        }
        return r.map(drop);
    }
    let mut car = CarInfo::default();
    let mut f3 = None;
    let finalized = RefCell::new(None);
    let mut chain = SnapshotConsistency {
        active: consistent,
        finalized: &finalized,
        checker: None,
        skipped: None,
    };
    let r = {
        let mut on_f3 = |r: &mut dyn Read, base: u64| -> Result<Cid> {
            let mut info = F3Info::default();
            let res = read_f3(r, base, opts.clone(), &mut info, &certs);
            finalized.replace(info.finalized.clone());
            f3 = Some(info);
            res
        };
        read_car_snapshot_with(input, &mut car, &mut on_f3, &mut chain)
    };
    a.format = car.version.map(|v| match v {
        SnapshotVersion::V1 => Format::CarV1Snapshot,
        SnapshotVersion::V2 => Format::CarV2Snapshot,
    });
    a.car = Some(car);
    a.f3 = f3;
    r?;
    match (chain.checker.as_mut(), chain.skipped) {
        (Some(checker), _) => {
            let r = checker.finish();
            a.consistency = Some(checker.summary());
            r
        }
        (None, Some(why)) => {
            a.consistency = Some(Consistency::skipped(why));
            Ok(())
        }
        (None, None) => Ok(()),
    }
}

/// The consistency check of a CAR snapshot at levels `chain` and `crypto`: starts once the
/// F3 block has been read (its last finalized tipset is in `finalized`), or notes why not.
struct SnapshotConsistency<'a> {
    active: bool,
    finalized: &'a RefCell<Option<TipSet>>,
    checker: Option<Checker>,
    skipped: Option<&'static str>,
}

impl ChainVisitor for SnapshotConsistency<'_> {
    fn start(&mut self, version: SnapshotVersion, head: &[Cid]) {
        if !self.active {
            return;
        }
        let finalized = self.finalized.borrow().clone();
        match (version, finalized) {
            (SnapshotVersion::V1, _) => {
                self.skipped = Some("a v1 snapshot carries no F3 data to check against its chain")
            }
            (SnapshotVersion::V2, None) => {
                self.skipped = Some("F3Data is null: no F3 data to check against the chain")
            }
            (SnapshotVersion::V2, Some(t)) => {
                let mut c = Checker::new(TipsetRef {
                    epoch: t.epoch,
                    key: t.key,
                });
                c.set_head(head);
                self.checker = Some(c);
            }
        }
    }

    fn wants(&self, cid: &Cid, len: u64) -> bool {
        self.checker.as_ref().is_some_and(|c| c.wants(cid, len))
    }

    fn block(&mut self, cid: &Cid, data: &[u8], offset: u64) -> Result<()> {
        match self.checker.as_mut() {
            Some(c) => c.block(cid, data, offset),
            None => Ok(()),
        }
    }
}

/// Reads and (with `opts`) validates one F3 data stream; returns its CID.
fn read_f3<R: Read>(
    r: R,
    base: u64,
    opts: Option<Options>,
    info: &mut F3Info,
    certs: &std::cell::Cell<u64>,
) -> Result<Cid> {
    let consumed = std::cell::Cell::new(0);
    let counted = Counted {
        inner: r,
        count: &consumed,
    };
    let mut reader = match F3DataReader::with_base(counted, base) {
        Ok(r) => r,
        Err(e) => {
            info.bytes = consumed.get();
            return Err(e);
        }
    };
    let mut last_head = Vec::new();
    let result = (|| -> Result<Cid> {
        let header = reader.header();
        info.initial_power_table_cid = Some(header.value.initial_power_table.cid());
        info.header = Some(header.value.clone());
        let mut validator = match opts {
            Some(o) => Some(Validator::new(o, header).map_err(|e| e.shifted(base))?),
            None => None,
        };
        let first = header.value.first_instance;
        // Certificates are read in place, as views of the reader's buffer.
        while let Some(block) = reader.next_view() {
            // A block that does not decode is located by the instance it should have held.
            let block =
                block.map_err(|e| e.in_instance(first.saturating_add(info.certificates)))?;
            info.certificates += 1;
            certs.set(certs.get() + 1);
            // The last head, kept as its encoding (no allocation a certificate), is the
            // finalized tipset once reading stops.
            if let Some(h) = block.value.head_encoding() {
                last_head.clear();
                last_head.extend_from_slice(h);
            }
            if let Some(v) = validator.as_mut() {
                v.certificate_view(&block).map_err(|e| e.shifted(base))?;
            }
        }
        if let Some(v) = validator.as_mut() {
            info.summary = Some(
                v.finish()
                    .map_err(|e| e.at_offset(base + reader.bytes_read()))?,
            );
        }
        Ok(reader.cid())
    })();
    // The reader reads ahead: what it consumed is what the blocks took.
    info.bytes = reader.bytes_read();
    if !last_head.is_empty() {
        info.finalized = <TipSet as crate::types::Cbor>::from_cbor(&last_head).ok();
    }
    let cid = result?;
    info.cid = Some(cid);
    Ok(cid)
}

impl Analysis {
    /// Whether the input passed validation.
    pub fn is_valid(&self) -> bool {
        self.error.is_none()
    }
}
