//! The F3Data stream (FRC-0108 "F3Data"): `uvarint(len) ‖ F3SnapshotHeader`, then
//! `uvarint(len) ‖ FinalityCertificate` for every certificate in instance order.
//!
//! [`F3DataReader`] streams it from any [`Read`], one block in memory at a time, and computes the
//! F3 block's CID (CIDv1, raw codec, blake2b-256 over every byte, as go-f3's `ExportSnapshot`
//! returns it) as it goes. [`F3DataWriter`] writes the same bytes go-f3 writes.

use std::io::{Read, Write};

use cid::Cid;

use crate::cids::{cid_from_digest, RAW};
use crate::error::{Error, ErrorKind, Result};
use crate::framing::{read_exact_growing, read_uvarint, HashingReader};
use crate::types::{limits, Cbor, F3SnapshotHeader, FinalityCertificate};

/// The header version go-f3 writes and the only one FRC-0108 defines.
pub const HEADER_VERSION: u64 = 1;

// Upper bounds of an encoding, from the schema's limits, with 9 bytes for every CBOR header.
const H: u64 = 9;
const CID_MAX: u64 = H + H + 1 + crate::cbor::MAX_CID_BYTES;
const POWER_ENTRY_MAX: u64 = H + H + (H + limits::BIGINT) + (H + limits::PUBKEY);
const TIPSET_MAX: u64 = H + H + (H + limits::TIPSET_KEY) + CID_MAX + (H + 32);

/// The largest encoding a valid `F3SnapshotHeader` can have.
pub const MAX_HEADER_LEN: u64 = H + 3 * H + H + limits::MAX_ARRAY * POWER_ENTRY_MAX;

/// The largest encoding a valid `FinalityCertificate` can have (about 15 MiB: a chain of 8192
/// maximal tipsets, a 2 MiB signature and 8192 deltas). A declared length above it is refused
/// before a byte of the block is read.
pub const MAX_CERTIFICATE_LEN: u64 = H
    + H
    + (H + limits::MAX_ARRAY * TIPSET_MAX)
    + (H + (H + 32) + CID_MAX)
    + (H + limits::BITFIELD)
    + (H + limits::MAX_BYTES)
    + (H + limits::MAX_ARRAY * POWER_ENTRY_MAX);

/// One decoded block of the stream and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<T> {
    /// Offset of the block's length prefix in the F3 data.
    pub offset: u64,
    /// Length of the CBOR body (without the prefix).
    pub len: u64,
    /// The decoded value.
    pub value: T,
}

/// A streaming F3Data reader. Call [`F3DataReader::header`] first, then iterate certificates.
///
/// After the first error the reader is exhausted. When it has returned `None` the whole input
/// has been read and [`F3DataReader::cid`] is the CID of the F3 data.
pub struct F3DataReader<R: Read> {
    inner: HashingReader<R>,
    base: u64,
    buf: Vec<u8>,
    header_read: bool,
    done: bool,
}

impl<R: Read> F3DataReader<R> {
    /// A reader over `r`.
    pub fn new(r: R) -> Self {
        Self::with_base(r, 0)
    }

    /// A reader whose error offsets are shifted by `base` (the F3 block's offset in a CAR).
    pub fn with_base(r: R, base: u64) -> Self {
        F3DataReader {
            inner: HashingReader::new(r),
            base,
            buf: Vec::new(),
            header_read: false,
            done: false,
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.inner.count()
    }

    /// The CID of the bytes consumed so far: the F3 data's CID once the stream has ended.
    pub fn cid(&mut self) -> Cid {
        cid_from_digest(RAW, &self.inner.digest())
    }

    /// Whether the stream has been read to its end (or stopped at an error).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The CBOR body of the last block read, as it was in the input.
    pub fn last_block_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.inner.into_inner()
    }

    /// Reads the next frame into `self.buf`. `Ok(None)` at a clean end of input.
    fn frame(&mut self, limit: u64, what: &'static str) -> Result<Option<(u64, u64)>> {
        let offset = self.inner.count();
        let abs = self.base + offset;
        let Some((len, _)) = read_uvarint(&mut self.inner).map_err(|e| e.shifted(abs))? else {
            return Ok(None);
        };
        if len == 0 {
            return Err(Error::at(ErrorKind::BlockEmpty, abs));
        }
        if len > limit {
            return Err(Error::at(
                ErrorKind::BlockTooLarge {
                    declared: len,
                    limit,
                    what,
                },
                abs,
            ));
        }
        read_exact_growing(&mut self.inner, len, &mut self.buf).map_err(|e| e.at_offset(abs))?;
        Ok(Some((offset, len)))
    }

    fn body_base(&self, offset: u64, len: u64) -> u64 {
        // The body starts after the prefix; the prefix of `len` is minimal, so its size is known.
        let mut p = Vec::new();
        crate::framing::encode_uvarint(len, &mut p);
        self.base + offset + p.len() as u64
    }

    /// Reads and decodes the header block. Must be called once, before any certificate.
    pub fn header(&mut self) -> Result<Block<F3SnapshotHeader>> {
        if self.header_read || self.done {
            return Err(Error::new(ErrorKind::Io("header already read".into())));
        }
        self.header_read = true;
        let r = self.read_header();
        if r.is_err() {
            self.done = true;
        }
        r
    }

    fn read_header(&mut self) -> Result<Block<F3SnapshotHeader>> {
        let Some((offset, len)) = self.frame(MAX_HEADER_LEN, "F3SnapshotHeader")? else {
            return Err(
                Error::at(ErrorKind::VarintTruncated, self.base).in_field("F3SnapshotHeader")
            );
        };
        let base = self.body_base(offset, len);
        let value = F3SnapshotHeader::from_cbor(&self.buf).map_err(|e| e.shifted(base))?;
        Ok(Block { offset, len, value })
    }

    fn read_certificate(&mut self) -> Result<Option<Block<FinalityCertificate>>> {
        let Some((offset, len)) = self.frame(MAX_CERTIFICATE_LEN, "FinalityCertificate")? else {
            return Ok(None);
        };
        let base = self.body_base(offset, len);
        let value = FinalityCertificate::from_cbor(&self.buf).map_err(|e| e.shifted(base))?;
        Ok(Some(Block { offset, len, value }))
    }
}

impl<R: Read> Iterator for F3DataReader<R> {
    type Item = Result<Block<FinalityCertificate>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if !self.header_read {
            self.done = true;
            return Some(Err(Error::new(ErrorKind::Io(
                "F3DataReader::header must be read before the certificates".into(),
            ))));
        }
        match self.read_certificate() {
            Ok(Some(b)) => Some(Ok(b)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Writes F3 data as go-f3's `ExportSnapshot` does: the header, then each certificate, each
/// behind its minimal uvarint length, and returns the CID of all bytes written.
pub struct F3DataWriter<W: Write> {
    inner: W,
    state: blake2b_simd::State,
    count: u64,
}

impl<W: Write> F3DataWriter<W> {
    /// Starts the stream with `header`.
    pub fn new(inner: W, header: &F3SnapshotHeader) -> Result<Self> {
        let mut w = F3DataWriter {
            inner,
            state: crate::cids::blake2b256_state(),
            count: 0,
        };
        w.write_block(&header.to_cbor())?;
        Ok(w)
    }

    /// Appends a certificate.
    pub fn write_certificate(&mut self, cert: &FinalityCertificate) -> Result<()> {
        self.write_block(&cert.to_cbor())
    }

    /// Appends a block given as its CBOR bytes, as go-f3 writes stored certificates.
    pub fn write_block(&mut self, body: &[u8]) -> Result<()> {
        let mut prefix = Vec::with_capacity(crate::framing::MAX_VARINT_LEN);
        crate::framing::encode_uvarint(body.len() as u64, &mut prefix);
        for part in [&prefix[..], body] {
            self.inner.write_all(part)?;
            self.state.update(part);
            self.count += part.len() as u64;
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.count
    }

    /// Flushes and returns the writer and the F3 data's CID.
    pub fn finish(mut self) -> Result<(W, Cid)> {
        self.inner.flush()?;
        let cid = cid_from_digest(RAW, &crate::cids::finish_blake2b256(&self.state));
        Ok((self.inner, cid))
    }
}

/// Encodes a whole F3 data stream in memory; returns the bytes and their CID.
pub fn encode(header: &F3SnapshotHeader, certs: &[FinalityCertificate]) -> (Vec<u8>, Cid) {
    let mut out = Vec::new();
    for body in std::iter::once(header.to_cbor()).chain(certs.iter().map(Cbor::to_cbor)) {
        crate::framing::encode_uvarint(body.len() as u64, &mut out);
        out.extend_from_slice(&body);
    }
    let cid = crate::cids::cid_of(RAW, &out);
    (out, cid)
}
