//! A strict reader and a canonical writer for the subset of CBOR that go-f3's and Lotus's
//! cbor-gen code produces: unsigned and negative integers, byte and text strings, arrays, maps,
//! tag 42 (CIDs) and `null`.
//!
//! Strict means: every integer and length in its shortest form, definite lengths only, no
//! reserved additional information, and (checked by the caller with [`Decoder::finish`]) no
//! bytes after the item. The generic DAG-CBOR decoders accept non-minimal integers, and each
//! deviation needs its own error code for the conformance corpus, so this layer is written
//! for the purpose; `tests/dagcbor_oracle.rs` checks it against serde_ipld_dagcbor.

use cid::Cid;

use crate::error::{Error, ErrorKind, Result};

/// CBOR major types.
pub mod major {
    /// Unsigned integer.
    pub const UINT: u8 = 0;
    /// Negative integer.
    pub const NINT: u8 = 1;
    /// Byte string.
    pub const BYTES: u8 = 2;
    /// Text string.
    pub const TEXT: u8 = 3;
    /// Array.
    pub const ARRAY: u8 = 4;
    /// Map.
    pub const MAP: u8 = 5;
    /// Tag.
    pub const TAG: u8 = 6;
    /// Simple values and floats.
    pub const SIMPLE: u8 = 7;
}

/// The tag DAG-CBOR uses for CIDs.
pub const CID_TAG: u64 = 42;

/// The CBOR `null` simple value.
pub const NULL: u8 = 0xf6;

fn major_name(major: u8) -> &'static str {
    match major {
        major::UINT => "unsigned integer",
        major::NINT => "negative integer",
        major::BYTES => "byte string",
        major::TEXT => "text string",
        major::ARRAY => "array",
        major::MAP => "map",
        major::TAG => "tag",
        _ => "simple value or float",
    }
}

/// A cursor over one CBOR block. Offsets in errors are relative to the block's start; the
/// stream layer shifts them to absolute offsets.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// A decoder at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Decoder { buf, pos: 0 }
    }

    /// Current position in the block.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn err(&self, kind: ErrorKind, at: usize) -> Error {
        Error::at(kind, at as u64)
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err(ErrorKind::CborTruncated, self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    fn take(&mut self, n: u64, at: usize) -> Result<&'a [u8]> {
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| self.pos.checked_add(n))
            .filter(|&end| end <= self.buf.len())
            .ok_or_else(|| self.err(ErrorKind::CborTruncated, at))?;
        let out = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(out)
    }

    fn take_array<const N: usize>(&mut self, at: usize) -> Result<[u8; N]> {
        let slice = self.take(N as u64, at)?;
        <[u8; N]>::try_from(slice).map_err(|_| self.err(ErrorKind::CborTruncated, at))
    }

    /// The bytes not yet read.
    pub fn remaining(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// The bytes from `start` to the current position: the encoding of what was read since.
    pub fn since(&self, start: usize) -> &'a [u8] {
        self.buf.get(start..self.pos).unwrap_or_default()
    }

    /// Skips `n` bytes already known to be there (at most [`Decoder::remaining`]'s length).
    pub fn skip(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.buf.len());
    }

    /// The next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Reads an item header: its major type and argument, enforcing the shortest form.
    #[inline]
    pub fn header(&mut self) -> Result<(u8, u64)> {
        // The common forms first: the argument in the initial byte, or in one byte after it.
        let at = self.pos;
        if let Some(&initial) = self.buf.get(at) {
            let (major, info) = (initial >> 5, initial & 0x1f);
            if info < 24 {
                self.pos = at + 1;
                return Ok((major, u64::from(info)));
            }
            if let (24, Some(&v)) = (info, self.buf.get(at + 1)) {
                if v >= 24 {
                    self.pos = at + 2;
                    return Ok((major, u64::from(v)));
                }
            }
        }
        self.header_slow()
    }

    /// [`Decoder::header`] for every form, with its errors.
    #[inline(never)]
    fn header_slow(&mut self) -> Result<(u8, u64)> {
        let at = self.pos;
        let initial = self.byte()?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        let value = match info {
            0..=23 => u64::from(info),
            24 => {
                let v = u64::from(self.byte()?);
                if v < 24 {
                    return Err(self.err(ErrorKind::CborNonMinimal, at));
                }
                v
            }
            25 => {
                let v = u64::from(u16::from_be_bytes(self.take_array(at)?));
                if v <= 0xff {
                    return Err(self.err(ErrorKind::CborNonMinimal, at));
                }
                v
            }
            26 => {
                let v = u64::from(u32::from_be_bytes(self.take_array(at)?));
                if v <= 0xffff {
                    return Err(self.err(ErrorKind::CborNonMinimal, at));
                }
                v
            }
            27 => {
                let v = u64::from_be_bytes(self.take_array(at)?);
                if v <= 0xffff_ffff {
                    return Err(self.err(ErrorKind::CborNonMinimal, at));
                }
                v
            }
            31 => return Err(self.err(ErrorKind::CborIndefiniteLength, at)),
            r => return Err(self.err(ErrorKind::CborReserved(r), at)),
        };
        // Simple values and floats carry their meaning in `info`; only `null` is in the schema,
        // and its one-byte form is checked by the callers that allow it.
        Ok((major, value))
    }

    #[inline]
    fn expect_major(&mut self, want: u8, expected: &'static str) -> Result<u64> {
        let at = self.pos;
        let (major, value) = self.header()?;
        if major != want {
            return Err(self.err(
                ErrorKind::CborUnexpectedType {
                    expected,
                    found: major_name(major),
                },
                at,
            ));
        }
        Ok(value)
    }

    /// An unsigned integer (major type 0).
    #[inline]
    pub fn u64(&mut self) -> Result<u64> {
        self.expect_major(major::UINT, "unsigned integer")
    }

    /// A signed 64-bit integer (major type 0 or 1), as cbor-gen writes `int64`.
    #[inline]
    pub fn i64(&mut self) -> Result<i64> {
        let at = self.pos;
        let (major, value) = self.header()?;
        match major {
            major::UINT => {
                i64::try_from(value).map_err(|_| self.err(ErrorKind::CborIntegerOverflow, at))
            }
            major::NINT => i64::try_from(value)
                .map(|v| -1 - v)
                .map_err(|_| self.err(ErrorKind::CborIntegerOverflow, at)),
            m => Err(self.err(
                ErrorKind::CborUnexpectedType {
                    expected: "integer",
                    found: major_name(m),
                },
                at,
            )),
        }
    }

    /// An array header with at most `max` elements; returns the length.
    #[inline]
    pub fn array(&mut self, max: u64) -> Result<u64> {
        let at = self.pos;
        let len = self.expect_major(major::ARRAY, "array")?;
        if len > max {
            return Err(self.err(ErrorKind::CborArrayTooLong { len, max }, at));
        }
        Ok(len)
    }

    /// The header of a tuple struct of exactly `fields` fields.
    #[inline]
    pub fn tuple(&mut self, what: &'static str, fields: u64) -> Result<()> {
        let at = self.pos;
        let found = self.expect_major(major::ARRAY, "array")?;
        if found != fields {
            return Err(self.err(
                ErrorKind::CborWrongArity {
                    what,
                    expected: fields,
                    found,
                },
                at,
            ));
        }
        Ok(())
    }

    /// A map header; returns the number of pairs.
    pub fn map(&mut self, max: u64) -> Result<u64> {
        let at = self.pos;
        let len = self.expect_major(major::MAP, "map")?;
        if len > max {
            return Err(self.err(ErrorKind::CborMapTooLong { len, max }, at));
        }
        Ok(len)
    }

    /// A byte string of at most `max` bytes.
    #[inline]
    pub fn bytes(&mut self, max: u64) -> Result<&'a [u8]> {
        let at = self.pos;
        let len = self.expect_major(major::BYTES, "byte string")?;
        if len > max {
            return Err(self.err(ErrorKind::CborBytesTooLong { len, max }, at));
        }
        self.take(len, at)
    }

    /// A byte string of exactly `N` bytes.
    pub fn bytes_fixed<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.bytes_fixed_ref().copied()
    }

    /// A byte string of exactly `N` bytes, in place.
    #[inline]
    pub fn bytes_fixed_ref<const N: usize>(&mut self) -> Result<&'a [u8; N]> {
        let at = self.pos;
        let len = self.expect_major(major::BYTES, "byte string")?;
        if len != N as u64 {
            let kind = if len > N as u64 {
                ErrorKind::CborBytesTooLong { len, max: N as u64 }
            } else {
                ErrorKind::CborBytesWrongLength {
                    len,
                    expected: N as u64,
                }
            };
            return Err(self.err(kind, at));
        }
        let slice = self.take(N as u64, at)?;
        <&[u8; N]>::try_from(slice).map_err(|_| self.err(ErrorKind::CborTruncated, at))
    }

    /// A text string of at most `max` bytes.
    pub fn text(&mut self, max: u64) -> Result<&'a str> {
        let at = self.pos;
        let len = self.expect_major(major::TEXT, "text string")?;
        if len > max {
            return Err(self.err(ErrorKind::CborBytesTooLong { len, max }, at));
        }
        let bytes = self.take(len, at)?;
        std::str::from_utf8(bytes).map_err(|_| self.err(ErrorKind::CborInvalidUtf8, at))
    }

    /// Consumes a `null` if one is next; returns whether it did.
    #[inline]
    pub fn null(&mut self) -> bool {
        if self.peek() == Some(NULL) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A CID: tag 42 around a byte string of 0x00 then the binary CID, which must parse whole.
    pub fn cid(&mut self) -> Result<Cid> {
        let at = self.pos;
        let (major, value) = self.header()?;
        if major != major::TAG {
            return Err(self.err(ErrorKind::CidTag(major_name(major)), at));
        }
        if value != CID_TAG {
            return Err(self.err(ErrorKind::CidTag("another tag"), at));
        }
        let inner_at = self.pos;
        // go-cid bounds a CID's bytes; 512 leaves room for any real multihash.
        let bytes = self.bytes(MAX_CID_BYTES)?;
        let (&prefix, rest) = bytes
            .split_first()
            .ok_or_else(|| self.err(ErrorKind::CidPrefix, inner_at))?;
        if prefix != 0 {
            return Err(self.err(ErrorKind::CidPrefix, inner_at));
        }
        parse_cid_exact(rest).map_err(|e| e.at_offset(inner_at as u64))
    }

    /// Fails unless the whole block has been consumed.
    pub fn finish(&self) -> Result<()> {
        let left = self.buf.len().saturating_sub(self.pos);
        if left != 0 {
            return Err(self.err(
                ErrorKind::CborTrailingBytes { count: left as u64 },
                self.pos,
            ));
        }
        Ok(())
    }
}

/// The largest CID byte string accepted inside tag 42.
pub const MAX_CID_BYTES: u64 = 512;

/// Parses a binary CID that must span all of `bytes`.
pub fn parse_cid_exact(bytes: &[u8]) -> Result<Cid> {
    let mut cursor = bytes;
    let cid = Cid::read_bytes(&mut cursor)
        .map_err(|e| Error::new(ErrorKind::CidMalformed(e.to_string())))?;
    if !cursor.is_empty() {
        return Err(Error::new(ErrorKind::CidMalformed(format!(
            "{} bytes after the CID",
            cursor.len()
        ))));
    }
    Ok(cid)
}

/// Canonical CBOR output, as cbor-gen writes it.
#[derive(Debug, Default, Clone)]
pub struct Encoder {
    /// The bytes written so far.
    pub buf: Vec<u8>,
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Encoder::default()
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// An item header in its shortest form.
    pub fn header(&mut self, major: u8, value: u64) {
        let m = major << 5;
        if value < 24 {
            self.buf.push(m | value as u8);
        } else if value <= 0xff {
            self.buf.extend_from_slice(&[m | 24, value as u8]);
        } else if value <= 0xffff {
            self.buf.push(m | 25);
            self.buf.extend_from_slice(&(value as u16).to_be_bytes());
        } else if value <= 0xffff_ffff {
            self.buf.push(m | 26);
            self.buf.extend_from_slice(&(value as u32).to_be_bytes());
        } else {
            self.buf.push(m | 27);
            self.buf.extend_from_slice(&value.to_be_bytes());
        }
    }

    /// An unsigned integer.
    pub fn u64(&mut self, v: u64) {
        self.header(major::UINT, v);
    }

    /// A signed integer.
    pub fn i64(&mut self, v: i64) {
        if v >= 0 {
            self.header(major::UINT, v as u64);
        } else {
            self.header(major::NINT, (-1 - v) as u64);
        }
    }

    /// An array header.
    pub fn array(&mut self, len: u64) {
        self.header(major::ARRAY, len);
    }

    /// A map header.
    pub fn map(&mut self, len: u64) {
        self.header(major::MAP, len);
    }

    /// A byte string.
    pub fn bytes(&mut self, b: &[u8]) {
        self.header(major::BYTES, b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    /// A text string.
    pub fn text(&mut self, s: &str) {
        self.header(major::TEXT, s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// `null`.
    pub fn null(&mut self) {
        self.buf.push(NULL);
    }

    /// A CID as tag 42 over 0x00 and its binary form.
    pub fn cid(&mut self, cid: &Cid) {
        let bin = cid.to_bytes();
        self.header(major::TAG, CID_TAG);
        self.header(major::BYTES, bin.len() as u64 + 1);
        self.buf.push(0);
        self.buf.extend_from_slice(&bin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(bytes: &[u8], f: impl FnOnce(&mut Decoder) -> Result<()>) -> &'static str {
        f(&mut Decoder::new(bytes)).unwrap_err().code()
    }

    #[test]
    fn shortest_form_is_required() {
        assert_eq!(
            code(&[0x18, 0x01], |d| d.u64().map(drop)),
            "cbor-non-minimal"
        );
        assert_eq!(
            code(&[0x19, 0x00, 0xff], |d| d.u64().map(drop)),
            "cbor-non-minimal"
        );
        assert_eq!(
            code(&[0x98, 0x02], |d| d.array(10).map(drop)),
            "cbor-non-minimal"
        );
        assert_eq!(
            code(&[0x9f], |d| d.array(10).map(drop)),
            "cbor-indefinite-length"
        );
        assert_eq!(code(&[0x1c], |d| d.u64().map(drop)), "cbor-reserved");
        assert_eq!(Decoder::new(&[0x18, 0x18]).u64().unwrap(), 24);
    }

    #[test]
    fn encoder_writes_shortest_form() {
        for v in [
            0u64,
            23,
            24,
            255,
            256,
            65535,
            65536,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
            u64::MAX,
        ] {
            let mut e = Encoder::new();
            e.u64(v);
            let mut d = Decoder::new(&e.buf);
            assert_eq!(d.u64().unwrap(), v);
            d.finish().unwrap();
        }
        for v in [0i64, -1, -24, -25, i64::MIN, i64::MAX] {
            let mut e = Encoder::new();
            e.i64(v);
            assert_eq!(Decoder::new(&e.buf).i64().unwrap(), v);
        }
    }

    #[test]
    fn int64_range() {
        // -2^63 - 1 does not fit.
        let mut e = Encoder::new();
        e.header(major::NINT, 1 << 63);
        assert_eq!(code(&e.buf, |d| d.i64().map(drop)), "cbor-integer-overflow");
    }
}
