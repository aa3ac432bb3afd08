//! Framing cases: the `uvarint(len) ‖ block` layer of the F3 data stream.

use super::fixture::{frame, Fixtures};
use super::Bytes::Made;
use super::{f3, invalid, Def};
use crate::conformance::error::Result;
use crate::conformance::notes::Flag::{GoF3Allocates, GoF3Crash, GoF3Lenient, LengthPrefix};
use crate::framing::encode_uvarint;
use crate::validate::Level::Structure;

pub(super) const CASES: &[Def] = &[
    f3(
        "framing/varint-truncated",
        "the stream ends inside a length prefix",
        invalid("varint-truncated", Structure),
        &[LengthPrefix],
        Made(|fx| Ok(appended(fx, &[0x80]))),
    ),
    f3(
        "framing/varint-overlong",
        "a length prefix with a redundant 0x80 .. 0x00 group (go-f3 reads it)",
        invalid("varint-overlong", Structure),
        &[LengthPrefix, GoF3Lenient],
        Made(varint_overlong),
    ),
    f3(
        "framing/varint-over-64-bits",
        "a length prefix longer than ten bytes",
        invalid("varint-overflow", Structure),
        &[LengthPrefix],
        Made(|fx| Ok(appended(fx, &OVER_64_BITS))),
    ),
    f3(
        "framing/zero-length",
        "a block of declared length zero after the last certificate",
        invalid("block-empty", Structure),
        &[LengthPrefix],
        Made(|fx| Ok(appended(fx, &[0x00]))),
    ),
    f3(
        "framing/length-past-end",
        "a block declaring more bytes than the input holds",
        invalid("block-truncated", Structure),
        &[LengthPrefix],
        Made(|fx| Ok(appended(fx, &[0x40, 0x86, 0x00]))),
    ),
    f3(
        "framing/dangling-prefix",
        "a complete length prefix and no block after the last certificate (go-f3 takes it as the end)",
        invalid("block-truncated", Structure),
        &[LengthPrefix, GoF3Lenient],
        Made(|fx| Ok(appended(fx, &[0x05]))),
    ),
    f3(
        "framing/huge-length",
        "20 bytes whose prefix declares a 2^62-byte header (go-f3 allocates it)",
        invalid("block-too-large", Structure),
        &[LengthPrefix, GoF3Crash],
        Made(|_| Ok(huge_length())),
    ),
    f3(
        "framing/large-length",
        "a certificate prefix declaring 3 GiB, beyond any valid certificate (go-f3 allocates it)",
        invalid("block-too-large", Structure),
        &[LengthPrefix, GoF3Allocates],
        Made(large_length),
    ),
];

/// Ten continuation bytes and one more: eleven groups, past the ten a 64-bit varint can use.
const OVER_64_BITS: [u8; 11] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
];

/// `tiny` with `tail` after its last certificate.
fn appended(fx: &Fixtures, tail: &[u8]) -> Vec<u8> {
    let mut b = fx.tiny.bytes();
    b.extend_from_slice(tail);
    b
}

/// The first certificate's prefix with one redundant group; the rest as it was.
fn varint_overlong(fx: &Fixtures) -> Result<Vec<u8>> {
    let tiny = &fx.tiny;
    let mut b = frame([&tiny.header_block]);
    let first = tiny.blocks.first().cloned().unwrap_or_default();
    let mut p = Vec::new();
    encode_uvarint(first.len() as u64, &mut p);
    if let Some(last) = p.last_mut() {
        *last |= 0x80;
    }
    p.push(0);
    b.extend_from_slice(&p);
    b.extend_from_slice(&first);
    b.extend_from_slice(&frame(tiny.blocks.iter().skip(1)));
    Ok(b)
}

fn huge_length() -> Vec<u8> {
    let mut b = Vec::new();
    encode_uvarint(1 << 62, &mut b);
    b.resize(20, 0x84);
    b
}

/// The header, then the first certificate behind a prefix declaring 3 GiB.
fn large_length(fx: &Fixtures) -> Result<Vec<u8>> {
    let tiny = &fx.tiny;
    let mut b = frame([&tiny.header_block]);
    encode_uvarint(3 << 30, &mut b);
    b.extend_from_slice(tiny.blocks.first().map(Vec::as_slice).unwrap_or_default());
    Ok(b)
}
