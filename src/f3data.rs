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
use crate::frames::FrameReader;
use crate::types::{limits, Cbor, F3SnapshotHeader, FinalityCertificate};
use crate::view::CertificateRef;

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

/// A streaming F3Data reader: [`F3DataReader::new`] reads the header block, then the reader
/// iterates over the certificates, one block in memory at a time.
///
/// After the first error the reader is exhausted. When it has returned `None` the whole input
/// has been read and [`F3DataReader::cid`] is the CID of the F3 data.
///
/// ```
/// use frc0108::f3data::{encode, F3DataReader};
/// # use frc0108::{F3SnapshotHeader, PowerEntries, PowerEntry};
/// # let header = F3SnapshotHeader {
/// #     version: 1,
/// #     first_instance: 0,
/// #     latest_instance: 0,
/// #     initial_power_table: PowerEntries(vec![PowerEntry {
/// #         id: 1000,
/// #         power: 1.into(),
/// #         pub_key: vec![0xaa; 48],
/// #     }]),
/// # };
/// let (bytes, cid) = encode(&header, &[]);
/// let mut reader = F3DataReader::new(&bytes[..])?;
/// assert_eq!(reader.header().value.first_instance, 0);
/// for certificate in reader.by_ref() {
///     let certificate = certificate?;
///     println!("instance {}", certificate.value.instance);
/// }
/// assert_eq!(reader.cid(), cid);
/// # Ok::<(), frc0108::Error>(())
/// ```
pub struct F3DataReader<R: Read> {
    inner: FrameReader<R>,
    base: u64,
    /// Where the last block's body is in the reader's buffer.
    last: std::ops::Range<usize>,
    header: Block<F3SnapshotHeader>,
    done: bool,
}

impl<R: Read> F3DataReader<R> {
    /// Reads the header block from `r`; the certificates follow by iteration.
    pub fn new(r: R) -> Result<Self> {
        Self::with_base(r, 0)
    }

    /// As [`F3DataReader::new`], with error offsets shifted by `base` (the F3 block's offset
    /// in a CAR).
    pub fn with_base(r: R, base: u64) -> Result<Self> {
        // The header is read exactly: a stream that fails in it is left where it failed.
        let mut inner = FrameReader::new(r);
        let Some((offset, len, body)) =
            inner.next_frame(base, MAX_HEADER_LEN, "F3SnapshotHeader")?
        else {
            return Err(Error::at(ErrorKind::VarintTruncated, base).in_field("F3SnapshotHeader"));
        };
        let value = F3SnapshotHeader::from_cbor(inner.bytes(body.clone()))
            .map_err(|e| e.shifted(body_base(base, offset, len)))?;
        inner.read_ahead();
        Ok(F3DataReader {
            inner,
            base,
            last: body,
            header: Block { offset, len, value },
            done: false,
        })
    }

    /// The header block.
    pub fn header(&self) -> &Block<F3SnapshotHeader> {
        &self.header
    }

    /// Bytes consumed so far: every block read, and what a failed one took (the reader reads
    /// ahead of the last block; those bytes are not counted).
    pub fn bytes_read(&self) -> u64 {
        self.inner.consumed()
    }

    /// The CID of the bytes consumed so far: the F3 data's CID once the stream has ended.
    pub fn cid(&mut self) -> Cid {
        cid_from_digest(RAW, &self.inner.digest())
    }

    /// Whether the stream has been read to its end (or stopped at an error).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The CBOR body of the last block read (the header until a certificate is read), as it
    /// was in the input.
    pub fn last_block_bytes(&self) -> &[u8] {
        self.inner.bytes(self.last.clone())
    }

    /// The underlying reader (whatever was read ahead of the last block is lost with it).
    pub fn into_inner(self) -> R {
        self.inner.into_inner()
    }

    /// The next certificate as a view of the reader's block buffer, checked whole as the
    /// iterator checks it (same errors) but with nothing copied or allocated: a lending
    /// iterator, whose view lives until the next call.
    ///
    /// ```
    /// # use frc0108::f3data::{encode, F3DataReader};
    /// # use frc0108::{F3SnapshotHeader, PowerEntries, PowerEntry};
    /// # let header = F3SnapshotHeader {
    /// #     version: 1,
    /// #     first_instance: 0,
    /// #     latest_instance: 0,
    /// #     initial_power_table: PowerEntries(vec![PowerEntry {
    /// #         id: 1000,
    /// #         power: 1.into(),
    /// #         pub_key: vec![0xaa; 48],
    /// #     }]),
    /// # };
    /// # let (bytes, cid) = encode(&header, &[]);
    /// let mut reader = F3DataReader::new(&bytes[..])?;
    /// while let Some(block) = reader.next_view() {
    ///     let view = block?.value;
    ///     println!("instance {}: {} signers", view.instance(), view.signers().len());
    /// }
    /// assert_eq!(reader.cid(), cid);
    /// # Ok::<(), frc0108::Error>(())
    /// ```
    pub fn next_view(&mut self) -> Option<Result<Block<CertificateRef<'_>>>> {
        self.next_with(CertificateRef::from_cbor)
    }

    /// Reads the next certificate block and decodes it with `decode`; after the end or an
    /// error, `None`.
    fn next_with<'s, T>(
        &'s mut self,
        decode: impl FnOnce(&'s [u8]) -> Result<T>,
    ) -> Option<Result<Block<T>>> {
        if self.done {
            return None;
        }
        let framed = self
            .inner
            .next_frame(self.base, MAX_CERTIFICATE_LEN, "FinalityCertificate");
        let r = match framed {
            Ok(Some((offset, len, body))) => {
                self.last = body.clone();
                decode(self.inner.bytes(body))
                    .map(|value| Block { offset, len, value })
                    .map_err(|e| e.shifted(body_base(self.base, offset, len)))
            }
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => Err(e),
        };
        self.done = r.is_err();
        Some(r)
    }
}

/// Absolute offset of the body of the frame at `offset` whose body is `len` bytes: the prefix
/// of `len` is minimal (the reader refuses any other), so its size follows from `len`.
fn body_base(base: u64, offset: u64, len: u64) -> u64 {
    base + offset + crate::framing::uvarint_len(len) as u64
}

impl<R: Read> Iterator for F3DataReader<R> {
    type Item = Result<Block<FinalityCertificate>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_with(FinalityCertificate::from_cbor)
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
