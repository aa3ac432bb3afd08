//! Forest's `.forest.car.zst` archive layout, written from a CARv1 for tests: independent zstd
//! frames (the CAR header alone, then whole sections grouped into frames), a skippable frame
//! holding Forest's hash index of every block's frame, and a 16-byte skippable footer naming
//! where the index starts. Decompressed as one zstd stream it is the CARv1 byte for byte.
//!
//! The index, all integers little-endian u64: version magic `0xDEADBEF0`, the longest
//! distance of an entry from its ideal slot, the number of entries sharing their hash with
//! the one before, the bucket count, then 16-byte slots `(hash, frame offset)`, an empty slot
//! being `(u64::MAX, u64::MAX)`. An entry's hash XORs the CID's codec, its multihash code and
//! every whole 8-byte little-endian word of its digest, minus one (never `u64::MAX`). Entries
//! are placed in (hash, offset) order, each at or after its ideal slot `hash * buckets >> 64`,
//! with `buckets = max(n / 0.8, n)`; empty slots pad the table to `buckets`, plus one.

#![allow(dead_code)]

use cid::Cid;
use frc0108::car::CarReader;
use frc0108::framing::encode_uvarint;

const SKIPPABLE_MAGIC: [u8; 4] = [0x50, 0x2a, 0x4d, 0x18];
const INDEX_VERSION: u64 = 0xdead_bef0;
const EMPTY: (u64, u64) = (u64::MAX, u64::MAX);
/// Forest closes a block frame once it has compressed this much.
const FRAME_BYTES: usize = 8192;

/// The index hash of a CID.
pub fn hash(cid: &Cid) -> u64 {
    let mh = cid.hash();
    let mut h = cid.codec() ^ mh.code();
    for word in mh.digest().chunks_exact(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        h ^= u64::from_le_bytes(w);
    }
    h.saturating_sub(1)
}

/// The index data for `(hash, frame offset)` entries.
pub fn index_data(entries: &[(u64, u64)]) -> Vec<u8> {
    let mut entries = entries.to_vec();
    entries.sort_unstable();
    entries.dedup();
    let n = entries.len() as u64;
    let buckets = ((n as f64 / 0.8) as u64).max(n);
    let mut slots: Vec<(u64, u64)> = Vec::new();
    let (mut longest, mut collisions) = (0u64, 0u64);
    for (i, &(h, off)) in entries.iter().enumerate() {
        if i > 0 && entries[i - 1].0 == h {
            collisions += 1;
        }
        let ideal = ((u128::from(h) * u128::from(buckets)) >> 64) as u64;
        while (slots.len() as u64) < ideal {
            slots.push(EMPTY);
        }
        longest = longest.max(slots.len() as u64 - ideal);
        slots.push((h, off));
    }
    while (slots.len() as u64) < buckets {
        slots.push(EMPTY);
    }
    slots.push(EMPTY);
    let mut out = Vec::with_capacity(32 + 16 * slots.len());
    for v in [INDEX_VERSION, longest, collisions, buckets] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (h, off) in slots {
        out.extend_from_slice(&h.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
    }
    out
}

fn skippable(payload: &[u8]) -> Vec<u8> {
    let mut out = SKIPPABLE_MAGIC.to_vec();
    out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn frame(raw: &[u8]) -> Vec<u8> {
    zstd::encode_all(raw, 3).unwrap()
}

/// The archive of `car` (a CARv1).
pub fn write(car: &[u8]) -> Vec<u8> {
    let mut reader = CarReader::new(car).unwrap();
    let mut sections = Vec::new();
    while let Some(s) = reader.next_section().unwrap() {
        let mut data = Vec::new();
        reader.read_section(u64::MAX, &mut data).unwrap();
        sections.push((s.cid, data));
    }
    let header_len = {
        let body = reader.header().to_cbor();
        let mut h = Vec::new();
        encode_uvarint(body.len() as u64, &mut h);
        h.len() + body.len()
    };
    let mut out = frame(&car[..header_len]);
    let mut entries = Vec::new();
    let (mut raw, mut cids) = (Vec::new(), Vec::new());
    let flush =
        |out: &mut Vec<u8>, raw: &mut Vec<u8>, cids: &mut Vec<Cid>, entries: &mut Vec<_>| {
            if raw.is_empty() {
                return;
            }
            let at = out.len() as u64;
            entries.extend(cids.drain(..).map(|c: Cid| (hash(&c), at)));
            out.extend_from_slice(&frame(raw));
            raw.clear();
        };
    for (cid, data) in &sections {
        let cid_bytes = cid.to_bytes();
        encode_uvarint((cid_bytes.len() + data.len()) as u64, &mut raw);
        raw.extend_from_slice(&cid_bytes);
        raw.extend_from_slice(data);
        cids.push(*cid);
        // Raw bytes stand in for Forest's compressed size: frames of a few blocks each.
        if raw.len() >= FRAME_BYTES * 2 {
            flush(&mut out, &mut raw, &mut cids, &mut entries);
        }
    }
    flush(&mut out, &mut raw, &mut cids, &mut entries);
    let index_at = out.len() as u64;
    out.extend_from_slice(&skippable(&index_data(&entries)));
    out.extend_from_slice(&skippable(&(index_at + 8).to_le_bytes()));
    out
}

/// The frames of a zstd file: `(offset, length, skippable)`.
pub fn frames(file: &[u8]) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < file.len() {
        let rest = &file[at..];
        let len = zstd::zstd_safe::find_frame_compressed_size(rest).unwrap();
        out.push((at, len, rest[1..4] == SKIPPABLE_MAGIC[1..4]));
        at += len;
    }
    out
}

/// The `(hash, frame offset)` of every block in the block frames of an archive (every zstd
/// frame after the first, which holds only the CAR header).
pub fn entries_of(file: &[u8]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for (at, len, skip) in frames(file).into_iter().skip(1) {
        if skip {
            continue;
        }
        let raw = zstd::decode_all(&file[at..at + len]).unwrap();
        let mut rest = &raw[..];
        while !rest.is_empty() {
            let (n, used) = frc0108::framing::decode_uvarint(rest).unwrap().unwrap();
            let mut section = &rest[used..used + n as usize];
            let cid = Cid::read_bytes(&mut section).unwrap();
            out.push((hash(&cid), at as u64));
            rest = &rest[used + n as usize..];
        }
    }
    out
}
