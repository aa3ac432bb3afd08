//! The CAR container: a CARv1 stream (`uvarint(len) ‖ DAG-CBOR {roots, version: 1}`, then
//! sections `uvarint(len) ‖ CID ‖ data`), optionally wrapped in a CARv2 file (an 11-byte pragma,
//! a 40-byte header, and the CARv1 payload at the offset the header gives). Lotus's snapshot
//! reader accepts both.
//!
//! [`CarReader`] streams: it reads a section's prefix and CID and leaves the data to the caller,
//! who reads it through [`CarReader::section_data`] (a bounded reader, never a buffer sized by
//! the declared length) or skips it while checking its hash with [`CarReader::skip_section`].

use std::io::{self, Read, Write};

use cid::Cid;

use crate::cbor::{Decoder, Encoder};
use crate::error::{Error, ErrorKind, Result};
use crate::framing::{encode_uvarint, read_exact_growing, read_uvarint};

/// The 11 bytes that open a CARv2 file: the CBOR of `{"version": 2}` behind its length.
pub const CARV2_PRAGMA: [u8; 11] = [
    0x0a, 0xa1, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x02,
];

/// Size of the CARv2 header after the pragma.
pub const CARV2_HEADER_LEN: u64 = 40;

/// The largest CARv1 header accepted: room for 8192 roots.
pub const MAX_CAR_HEADER_LEN: u64 = 1 << 20;

/// The container a CAR payload came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// A bare CARv1 stream.
    CarV1,
    /// A CARv2 file wrapping a CARv1 payload.
    CarV2,
}

impl Container {
    /// Name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Container::CarV1 => "carv1",
            Container::CarV2 => "carv2",
        }
    }
}

/// The CARv2 header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarV2Header {
    /// Characteristics bitfield (16 bytes).
    pub characteristics: [u8; 16],
    /// Offset of the CARv1 payload from the start of the file.
    pub data_offset: u64,
    /// Size of the CARv1 payload.
    pub data_size: u64,
    /// Offset of the index, or 0.
    pub index_offset: u64,
}

/// The CARv1 header: `{"roots": [CID...], "version": 1}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarHeader {
    /// Root CIDs.
    pub roots: Vec<Cid>,
    /// Always 1 in a valid CARv1 header.
    pub version: u64,
}

impl CarHeader {
    /// Decodes the header block strictly: a map of exactly `roots` then `version`.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        let n = d.map(16)?;
        if n != 2 {
            return Err(Error::new(ErrorKind::CarHeader(format!(
                "header map has {n} entries, expected 2 (roots, version)"
            ))));
        }
        let mut roots = Vec::new();
        let mut version = None;
        for _ in 0..2 {
            let at = d.position() as u64;
            match d.text(64)? {
                "roots" if version.is_none() && roots.is_empty() => {
                    let n = d.array(crate::types::limits::MAX_ARRAY)?;
                    for _ in 0..n {
                        roots.push(d.cid()?);
                    }
                }
                "version" if version.is_none() => version = Some(d.u64()?),
                k => {
                    return Err(Error::at(
                        ErrorKind::CarHeader(format!("unexpected or repeated key {k:?}")),
                        at,
                    ))
                }
            }
        }
        d.finish()?;
        let version =
            version.ok_or_else(|| Error::new(ErrorKind::CarHeader("missing version".into())))?;
        Ok(CarHeader { roots, version })
    }

    /// The canonical encoding, as go-car writes it.
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.map(2);
        e.text("roots");
        e.array(self.roots.len() as u64);
        for r in &self.roots {
            e.cid(r);
        }
        e.text("version");
        e.u64(self.version);
        e.into_bytes()
    }
}

/// A section's position and CID; its data follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Offset of the section's length prefix in the CARv1 payload.
    pub offset: u64,
    /// Absolute offset of the data (after the CID) in the input.
    pub data_offset: u64,
    /// Length of the data.
    pub data_len: u64,
    /// The block's CID.
    pub cid: Cid,
}

struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// A streaming CAR reader over CARv1 or CARv2 input.
pub struct CarReader<R: Read> {
    r: Counting<R>,
    container: Container,
    v2: Option<CarV2Header>,
    header: CarHeader,
    /// Absolute offset of the CARv1 payload.
    payload_start: u64,
    /// Absolute end of the CARv1 payload (CARv2 only).
    payload_end: Option<u64>,
    /// Unread data bytes of the current section.
    pending: u64,
    truncated: bool,
    scratch: Vec<u8>,
}

impl<R: Read> CarReader<R> {
    /// Reads the container headers (CARv2 pragma and header when present, then the CARv1
    /// header).
    pub fn new(r: R) -> Result<Self> {
        let mut r = Counting { inner: r, count: 0 };
        let (container, v2) = {
            let mut pragma = Vec::new();
            (&mut r)
                .take(CARV2_PRAGMA.len() as u64)
                .read_to_end(&mut pragma)?;
            if pragma == CARV2_PRAGMA {
                (Container::CarV2, Some(read_v2_header(&mut r)?))
            } else {
                // Not CARv2: the bytes read are the start of a CARv1 header.
                let header = read_v1_header(&mut io::Cursor::new(pragma).chain(&mut r), 0)?;
                return Ok(CarReader {
                    payload_start: 0,
                    payload_end: None,
                    r,
                    container: Container::CarV1,
                    v2: None,
                    header,
                    pending: 0,
                    truncated: false,
                    scratch: Vec::new(),
                });
            }
        };
        let v2h = v2.ok_or_else(|| Error::new(ErrorKind::Carv2Header("missing".into())))?;
        // Skip to the payload; the characteristics and padding between are not interpreted.
        let skip = v2h.data_offset.saturating_sub(r.count);
        let skipped = io::copy(&mut (&mut r).take(skip), &mut io::sink())?;
        if skipped < skip {
            return Err(Error::at(
                ErrorKind::Carv2Header("data offset is past the end of the file".into()),
                11,
            ));
        }
        let start = r.count;
        let header = read_v1_header(&mut r, start)?;
        Ok(CarReader {
            payload_start: start,
            payload_end: Some(start.saturating_add(v2h.data_size)),
            r,
            container,
            v2: Some(v2h),
            header,
            pending: 0,
            truncated: false,
            scratch: Vec::new(),
        })
    }

    /// The container.
    pub fn container(&self) -> Container {
        self.container
    }

    /// The CARv2 header, for CARv2 input.
    pub fn v2_header(&self) -> Option<&CarV2Header> {
        self.v2.as_ref()
    }

    /// The CARv1 header.
    pub fn header(&self) -> &CarHeader {
        &self.header
    }

    /// Absolute bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.r.count
    }

    /// Reads the next section's prefix and CID. Any unread data of the previous section is
    /// skipped first. `Ok(None)` at the end of the payload.
    pub fn next_section(&mut self) -> Result<Option<Section>> {
        if self.pending > 0 {
            let p = self.pending;
            let n = io::copy(&mut (&mut self.r).take(p), &mut io::sink())?;
            self.pending = 0;
            if n < p {
                return Err(Error::at(ErrorKind::CarTruncated, self.r.count));
            }
        }
        let offset = self.r.count;
        if self.payload_end.is_some_and(|end| offset >= end) {
            return Ok(None);
        }
        let Some((len, _)) = read_uvarint(&mut self.r).map_err(|e| e.shifted(offset))? else {
            if self.payload_end.is_some_and(|end| offset < end) {
                return Err(Error::at(ErrorKind::CarTruncated, offset));
            }
            return Ok(None);
        };
        if len == 0 {
            // go-car treats a zero-length section as an error unless told to read it as the end.
            return Err(Error::at(
                ErrorKind::CarSection("zero-length section".into()),
                offset,
            ));
        }
        let cid_start = self.r.count;
        let cid = read_cid(&mut self.r).map_err(|e| e.at_offset(cid_start))?;
        let cid_len = self.r.count - cid_start;
        let data_len = len.checked_sub(cid_len).ok_or_else(|| {
            Error::at(
                ErrorKind::CarSection("section shorter than its CID".into()),
                offset,
            )
        })?;
        let data_offset = self.r.count;
        if let Some(end) = self.payload_end {
            if data_offset.saturating_add(data_len) > end {
                return Err(Error::at(
                    ErrorKind::CarSection("section runs past the CARv2 data size".into()),
                    offset,
                ));
            }
        }
        self.pending = data_len;
        Ok(Some(Section {
            offset: offset - self.payload_start,
            data_offset,
            data_len,
            cid,
        }))
    }

    /// Whether the input ended inside a section read through [`CarReader::section_data`].
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// A reader over the current section's data, bounded by its declared length.
    pub fn section_data(&mut self) -> SectionData<'_, R> {
        SectionData { car: self }
    }

    /// Reads the current section's data into `buf` if it is at most `limit` bytes.
    pub fn read_section(&mut self, limit: u64, buf: &mut Vec<u8>) -> Result<()> {
        let at = self.r.count;
        if self.pending > limit {
            return Err(Error::at(
                ErrorKind::BlockTooLarge {
                    declared: self.pending,
                    limit,
                    what: "CAR block",
                },
                at,
            ));
        }
        let n = self.pending;
        self.pending = 0;
        read_exact_growing(&mut self.r, n, buf).map_err(|e| match e.kind {
            ErrorKind::BlockTruncated { .. } => Error::at(ErrorKind::CarTruncated, at),
            _ => e.at_offset(at),
        })
    }

    /// Skips the current section's data, checking it against its CID when the CID's hash is
    /// blake2b-256 (as every Filecoin chain block's is). Returns whether the hash was checked.
    pub fn skip_section(&mut self, cid: &Cid) -> Result<bool> {
        let at = self.r.count;
        let n = self.pending;
        self.pending = 0;
        let mh = cid.hash();
        let check = crate::cids::is_blake2b256(cid);
        let mut state = crate::cids::blake2b256_state();
        let mut buf = std::mem::take(&mut self.scratch);
        buf.resize(64 * 1024, 0);
        let mut left = n;
        while left > 0 {
            let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            let chunk = buf.get_mut(..want).unwrap_or_default();
            let got = self.r.read(chunk)?;
            if got == 0 {
                self.scratch = buf;
                return Err(Error::at(ErrorKind::CarTruncated, at));
            }
            if check {
                state.update(chunk.get(..got).unwrap_or_default());
            }
            left -= got as u64;
        }
        self.scratch = buf;
        if check && crate::cids::finish_blake2b256(&state) != mh.digest() {
            let computed =
                crate::cids::cid_from_digest(cid.codec(), &crate::cids::finish_blake2b256(&state));
            return Err(Error::at(
                ErrorKind::CidMismatch {
                    what: "CAR block",
                    expected: cid.to_string(),
                    computed: computed.to_string(),
                },
                at,
            ));
        }
        Ok(check)
    }
}

/// The data of the current section (see [`CarReader::section_data`]).
pub struct SectionData<'a, R: Read> {
    car: &'a mut CarReader<R>,
}

impl<R: Read> Read for SectionData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.car.pending;
        if left == 0 {
            return Ok(0);
        }
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = self.car.r.read(buf.get_mut(..want).unwrap_or_default())?;
        if n == 0 {
            // The consumer sees a short block; the CAR layer reports the truncation.
            self.car.truncated = true;
        }
        self.car.pending -= n as u64;
        Ok(n)
    }
}

fn read_v2_header<R: Read>(r: &mut Counting<R>) -> Result<CarV2Header> {
    let mut b = Vec::new();
    r.take(CARV2_HEADER_LEN).read_to_end(&mut b)?;
    let arr: [u8; 40] = b.as_slice().try_into().map_err(|_| {
        Error::at(
            ErrorKind::Carv2Header("file ends inside the CARv2 header".into()),
            11,
        )
    })?;
    let u64_at = |i: usize| {
        let mut x = [0u8; 8];
        x.copy_from_slice(arr.get(i..i + 8).unwrap_or(&[0; 8]));
        u64::from_le_bytes(x)
    };
    let mut characteristics = [0u8; 16];
    characteristics.copy_from_slice(arr.get(..16).unwrap_or(&[0; 16]));
    let h = CarV2Header {
        characteristics,
        data_offset: u64_at(16),
        data_size: u64_at(24),
        index_offset: u64_at(32),
    };
    let min = CARV2_PRAGMA.len() as u64 + CARV2_HEADER_LEN;
    if h.data_offset < min {
        return Err(Error::at(
            ErrorKind::Carv2Header(format!("data offset {} overlaps the header", h.data_offset)),
            11,
        ));
    }
    if h.index_offset != 0 && h.index_offset < h.data_offset.saturating_add(h.data_size) {
        return Err(Error::at(
            ErrorKind::Carv2Header("index overlaps the data".into()),
            11,
        ));
    }
    Ok(h)
}

fn read_v1_header<R: Read>(r: &mut R, base: u64) -> Result<CarHeader> {
    let Some((len, prefix)) = read_uvarint(r).map_err(|e| e.shifted(base))? else {
        return Err(Error::at(ErrorKind::CarHeader("empty input".into()), base));
    };
    if len == 0 || len > MAX_CAR_HEADER_LEN {
        return Err(Error::at(
            ErrorKind::CarHeader(format!("header length {len}")),
            base,
        ));
    }
    let mut buf = Vec::new();
    read_exact_growing(r, len, &mut buf).map_err(|e| e.at_offset(base))?;
    let body = base + prefix as u64;
    let h = CarHeader::from_cbor(&buf).map_err(|e| {
        let e = e.shifted(body);
        match e.kind {
            ErrorKind::CarHeader(_) => e,
            ref k => Error {
                kind: ErrorKind::CarHeader(k.to_string()),
                location: e.location.clone(),
            },
        }
    })?;
    if h.version != 1 {
        return Err(Error::at(ErrorKind::CarVersion(h.version), body));
    }
    if h.roots.is_empty() {
        return Err(Error::at(ErrorKind::CarNoRoots, body));
    }
    Ok(h)
}

/// Reads a binary CID from a stream: CIDv0 (a bare sha2-256 multihash, `0x12 0x20` + 32 bytes)
/// or CIDv1 (`version ‖ codec ‖ multihash`, all varints minimal).
fn read_cid<R: Read>(r: &mut R) -> Result<Cid> {
    let mut bytes = Vec::with_capacity(40);
    let push_varint = |r: &mut R, bytes: &mut Vec<u8>| -> Result<u64> {
        let (v, _) = read_uvarint(r)?.ok_or_else(|| Error::new(ErrorKind::CarTruncated))?;
        encode_uvarint(v, bytes);
        Ok(v)
    };
    let first = push_varint(r, &mut bytes)?;
    let digest_len = if first == 0x12 {
        // CIDv0: the multihash code was the first varint; the length must be 32.
        let len = push_varint(r, &mut bytes)?;
        if len != 32 {
            return Err(Error::new(ErrorKind::CidMalformed(
                "CIDv0 digest must be 32 bytes".into(),
            )));
        }
        len
    } else {
        if first != 1 {
            return Err(Error::new(ErrorKind::CidVersion(first)));
        }
        push_varint(r, &mut bytes)?; // codec
        push_varint(r, &mut bytes)?; // multihash code
        let len = push_varint(r, &mut bytes)?;
        if len > 64 {
            return Err(Error::new(ErrorKind::CidMalformed(format!(
                "digest of {len} bytes"
            ))));
        }
        len
    };
    let mut digest = Vec::new();
    r.take(digest_len).read_to_end(&mut digest)?;
    if digest.len() as u64 != digest_len {
        return Err(Error::new(ErrorKind::CarTruncated));
    }
    bytes.extend_from_slice(&digest);
    crate::cbor::parse_cid_exact(&bytes)
}

/// Writes a CARv1 stream.
pub struct CarWriter<W: Write> {
    w: W,
}

impl<W: Write> CarWriter<W> {
    /// Writes the CARv1 header with `roots`.
    pub fn new(w: W, roots: &[Cid]) -> Result<Self> {
        Self::with_header(
            w,
            &CarHeader {
                roots: roots.to_vec(),
                version: 1,
            },
        )
    }

    /// Writes `header` as given, whatever its version: the conformance corpus writes a CARv1
    /// payload whose header claims another version.
    pub fn with_header(mut w: W, header: &CarHeader) -> Result<Self> {
        let body = header.to_cbor();
        let mut prefix = Vec::new();
        encode_uvarint(body.len() as u64, &mut prefix);
        w.write_all(&prefix)?;
        w.write_all(&body)?;
        Ok(CarWriter { w })
    }

    /// Writes one section.
    pub fn write_block(&mut self, cid: &Cid, data: &[u8]) -> Result<()> {
        let cid_bytes = cid.to_bytes();
        let mut prefix = Vec::new();
        encode_uvarint((cid_bytes.len() + data.len()) as u64, &mut prefix);
        self.w.write_all(&prefix)?;
        self.w.write_all(&cid_bytes)?;
        self.w.write_all(data)?;
        Ok(())
    }

    /// Writes a section whose data comes from a reader of known length (the F3 block, which
    /// may be far larger than memory should hold).
    pub fn write_block_from(&mut self, cid: &Cid, len: u64, data: &mut dyn Read) -> Result<()> {
        let cid_bytes = cid.to_bytes();
        let mut prefix = Vec::new();
        encode_uvarint(cid_bytes.len() as u64 + len, &mut prefix);
        self.w.write_all(&prefix)?;
        self.w.write_all(&cid_bytes)?;
        let n = io::copy(&mut data.take(len), &mut self.w)?;
        if n != len {
            return Err(Error::new(ErrorKind::Io(format!(
                "block source gave {n} of {len} bytes"
            ))));
        }
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Wraps a CARv1 payload in a CARv2 file with no index, as go-car writes one.
pub fn wrap_carv2(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 51);
    out.extend_from_slice(&CARV2_PRAGMA);
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&(CARV2_PRAGMA.len() as u64 + CARV2_HEADER_LEN).to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(payload);
    out
}
