//! Copying a CAR's sections, each block's hash checked on the way, and the small readers and
//! writers that count and hash what passes.

use std::collections::HashSet;
use std::io::{self, Read, Write};

use cid::Cid;

use super::{write_err, ChainCheck, MergeError, BLOCK_BUFFER};
use crate::car::{CarReader, CarWriter, Section};
use crate::cids::cid_from_digest;
use crate::error::{Error, ErrorKind};

/// A reader hashing what passes through it with blake2b-256, on the calling thread, and
/// noting whether its source failed (so a copy's failure can be told from the writer's).
pub(super) struct Hashing<R> {
    inner: R,
    state: blake2b_simd::State,
    pub(super) count: u64,
    pub(super) failed: Option<io::Error>,
}

impl<R: Read> Hashing<R> {
    pub(super) fn new(inner: R) -> Self {
        Hashing {
            inner,
            state: crate::cids::blake2b256_state(),
            count: 0,
            failed: None,
        }
    }

    pub(super) fn digest(&self) -> [u8; 32] {
        crate::cids::finish_blake2b256(&self.state)
    }
}

/// Whether a section streamed through a [`Hashing`] reader was read whole: its source may
/// have failed (`failed`), or the CAR ended inside it. Asked before the writer's result, so a
/// short input is not reported as a failure to write.
pub(super) fn section_read<R: Read>(
    failed: Option<io::Error>,
    car: &CarReader<R>,
) -> Result<(), MergeError> {
    if let Some(e) = failed {
        return Err(MergeError::Snapshot(e.into()));
    }
    if car.truncated() {
        return Err(MergeError::Snapshot(Error::at(
            ErrorKind::CarTruncated,
            car.position(),
        )));
    }
    Ok(())
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.failed = Some(io::Error::new(e.kind(), e.to_string()));
            }
        })?;
        self.state.update(buf.get(..n).unwrap_or_default());
        self.count += n as u64;
        Ok(n)
    }
}

/// Counts the bytes written through it.
pub(super) struct Counting<W> {
    pub(super) inner: W,
    pub(super) count: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What a copy of chain blocks did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Sections copied.
    pub blocks: u64,
    /// Of those, blocks whose blake2b-256 hash was checked (the others use another hash).
    pub verified: u64,
}

/// Copies chain sections from `car` to `w`, starting with `first` if given (its data already
/// in `buf` when it is at most [`BLOCK_BUFFER`] bytes, else unread), each blake2b-256 block
/// checked against its CID; fails if a block of `head` was not among them.
pub(super) fn copy_chain<R: Read, W: Write>(
    car: &mut CarReader<R>,
    w: &mut CarWriter<W>,
    mut first: Option<Section>,
    mut buf: Vec<u8>,
    head: &[Cid],
    check: &mut dyn ChainCheck,
) -> std::result::Result<CopyStats, MergeError> {
    let mut missing: HashSet<Cid> = head.iter().copied().collect();
    let mut stats = CopyStats::default();
    loop {
        let sec = match first.take() {
            Some(sec) => sec,
            None => {
                let Some(sec) = car.next_section().map_err(MergeError::Snapshot)? else {
                    break;
                };
                if sec.data_len <= BLOCK_BUFFER {
                    car.read_section(BLOCK_BUFFER, &mut buf)
                        .map_err(MergeError::Snapshot)?;
                }
                sec
            }
        };
        missing.remove(&sec.cid);
        stats.blocks += 1;
        let checkable = crate::cids::is_blake2b256(&sec.cid);
        let digest = if sec.data_len <= BLOCK_BUFFER {
            let digest = checkable.then(|| crate::cids::blake2b256(&buf));
            verify(&sec, digest)?;
            check
                .block(&sec.cid, &buf, sec.data_offset)
                .map_err(MergeError::Inconsistent)?;
            w.write_block(&sec.cid, &buf).map_err(write_err)?;
            digest
        } else {
            let mut data = Hashing::new(car.section_data());
            let res = w.write_block_from(&sec.cid, sec.data_len, &mut data);
            let digest = data.digest();
            section_read(data.failed, car)?;
            res.map_err(write_err)?;
            let digest = checkable.then_some(digest);
            verify(&sec, digest)?;
            digest
        };
        if digest.is_some() {
            stats.verified += 1;
        }
    }
    if let Some(c) = head.iter().find(|c| missing.contains(c)) {
        return Err(MergeError::Snapshot(Error::at(
            ErrorKind::CarBlockMissing {
                what: "head tipset block",
                cid: c.to_string(),
            },
            car.position(),
        )));
    }
    Ok(stats)
}

/// Compares a block's blake2b-256 digest, when it has one, with its CID.
fn verify(sec: &Section, digest: Option<[u8; 32]>) -> std::result::Result<(), MergeError> {
    match digest {
        Some(d) if d != sec.cid.hash().digest() => Err(MergeError::Snapshot(Error::at(
            ErrorKind::CidMismatch {
                what: "CAR block",
                expected: sec.cid.to_string(),
                computed: cid_from_digest(sec.cid.codec(), &d).to_string(),
            },
            sec.data_offset,
        ))),
        _ => Ok(()),
    }
}
