//! CAR cases: the container, the v2 snapshot layout around the F3 block, and compression.
//! All are built from the `car-v2-tiny` snapshot's blocks.

use super::fixture::{car_bytes, Block, Fixtures};
use super::Bytes::Made;
use super::{acceptable, car, invalid, Def, File};
use crate::car::wrap_carv2;
use crate::cbor::Encoder;
use crate::cids::{cid_of, DAG_CBOR};
use crate::conformance::error::{Error, Result};
use crate::conformance::notes::Flag::{Car, GoF3Crash, GoF3Lenient, Zstd};
use crate::types::Cbor;
use crate::validate::Level::Structure;

pub(super) const CASES: &[Def] = &[
    car(
        "car/metadata-cid-mismatch",
        "the metadata block's bytes do not hash to the root CID",
        invalid("cid-mismatch", Structure),
        &[Car, GoF3Lenient],
        Made(metadata_cid_mismatch),
    ),
    car(
        "car/f3-cid-mismatch",
        "the F3 block holds valid F3 data that does not hash to its CID (no one else checks this hash)",
        invalid("cid-mismatch", Structure),
        &[Car, GoF3Lenient],
        Made(f3_cid_mismatch),
    ),
    car(
        "car/f3-block-missing",
        "the metadata names F3 data but the next section is a chain block",
        invalid("f3-block-missing", Structure),
        &[Car],
        Made(f3_block_missing),
    ),
    car(
        "car/metadata-version-1",
        "SnapshotMetadata version 1 (only 2 is defined; Lotus never reads it)",
        invalid("metadata-version", Structure),
        &[Car, GoF3Lenient],
        Made(metadata_version_1),
    ),
    car(
        "car/metadata-empty-head",
        "SnapshotMetadata with an empty HeadTipsetKey (Lotus indexes its first element and panics)",
        invalid("metadata-empty-head", Structure),
        &[Car, GoF3Crash],
        Made(metadata_empty_head),
    ),
    car(
        "car/zero-roots",
        "a CAR header with no roots",
        invalid("car-no-roots", Structure),
        &[Car],
        Made(|fx| car_bytes(&[], 1, &fx.car.blocks())),
    ),
    car(
        "car/header-version-2",
        "a CARv1 header claiming version 2 without the CARv2 pragma",
        invalid("car-version", Structure),
        &[Car],
        Made(|fx| car_bytes(&fx.car.roots, 2, &fx.car.blocks())),
    ),
    car(
        "car/carv2-truncated",
        "a CARv2 file whose payload ends before its data size",
        invalid("car-truncated", Structure),
        &[Car],
        Made(carv2_truncated),
    ),
    Def {
        file: File::CarZst,
        ..car(
            "car/zstd-window-2gib",
            "a valid zstd frame declaring a 2 GiB window (the reference refuses windows over 128 MiB rather than allocate them)",
            acceptable("zstd", Structure),
            &[Car, Zstd],
            Made(zstd_window_2gib),
        )
    },
    car(
        "car/chain-block-hash-mismatch",
        "a chain block whose bytes do not hash to its CID",
        invalid("cid-mismatch", Structure),
        &[Car],
        Made(chain_block_hash_mismatch),
    ),
    car(
        "car/head-block-missing",
        "a v2 snapshot without the first head tipset block",
        invalid("car-block-missing", Structure),
        &[Car],
        Made(head_block_missing),
    ),
];

/// The snapshot with `blocks` in place of its own, under its own roots.
fn with_blocks(fx: &Fixtures, blocks: &[Block]) -> Result<Vec<u8>> {
    car_bytes(&fx.car.roots, 1, blocks)
}

/// A snapshot whose root and first block are metadata `md_bytes`, then `rest`.
fn with_metadata(md_bytes: Vec<u8>, rest: &[Block]) -> Result<Vec<u8>> {
    let md_cid = cid_of(DAG_CBOR, &md_bytes);
    let mut blocks = vec![(md_cid, md_bytes)];
    blocks.extend_from_slice(rest);
    car_bytes(&[md_cid], 1, &blocks)
}

/// Metadata bytes changed (the head reversed), CIDs kept.
fn metadata_cid_mismatch(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut md = fx.car.metadata.clone();
    md.head_tipset_key.reverse();
    let mut blocks = fx.car.blocks();
    if let Some(b) = blocks.first_mut() {
        b.1 = md.to_cbor();
    }
    with_blocks(fx, &blocks)
}

/// The F3 block's bytes replaced by another valid stream (`churn`), its CID kept.
fn f3_cid_mismatch(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut blocks = fx.car.blocks();
    if let Some(b) = blocks.get_mut(1) {
        b.1 = fx.bytes("churn")?;
    }
    with_blocks(fx, &blocks)
}

/// The metadata names F3 data; the F3 block is absent.
fn f3_block_missing(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut blocks = vec![fx.car.metadata_block.clone()];
    blocks.extend_from_slice(&fx.car.chain);
    with_blocks(fx, &blocks)
}

fn metadata_version_1(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut md = fx.car.metadata.clone();
    md.version = 1;
    let mut rest = vec![fx.car.f3.clone()];
    rest.extend_from_slice(&fx.car.chain);
    with_metadata(md.to_cbor(), &rest)
}

/// `{F3Data: null, Version: 2, HeadTipsetKey: []}`, written by hand: the library's metadata
/// encoder is for valid metadata only.
fn metadata_empty_head(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut e = Encoder::new();
    e.map(3);
    e.text("F3Data");
    e.null();
    e.text("Version");
    e.u64(2);
    e.text("HeadTipsetKey");
    e.array(0);
    with_metadata(e.into_bytes(), &fx.car.chain)
}

/// The snapshot in a CARv2 file, its last 100 bytes cut off.
fn carv2_truncated(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut b = wrap_carv2(&with_blocks(fx, &fx.car.blocks())?);
    b.truncate(b.len().saturating_sub(100));
    Ok(b)
}

/// A valid zstd frame (one raw block) around the snapshot, declaring a 2 GiB window. Found by
/// fuzzing: the decoder allocates the window a frame declares.
fn zstd_window_2gib(fx: &Fixtures) -> Result<Vec<u8>> {
    let base = &fx.car.bytes;
    // Magic, a frame header descriptor with no content size and no checksum, then the window
    // descriptor: exponent 21 + 10, no mantissa, 2^31 bytes.
    let mut zst = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3];
    let size = u32::try_from(base.len())
        .ok()
        .filter(|&n| n < 1 << 21)
        .ok_or_else(|| Error::Fixture {
            name: "car-v2-tiny".into(),
            why: "too large for one raw zstd block".into(),
        })?;
    // Block header: last block, raw, its size.
    let block_header = (size << 3) | 1;
    zst.extend_from_slice(block_header.to_le_bytes().get(..3).unwrap_or_default());
    zst.extend_from_slice(base);
    Ok(zst)
}

/// The last chain block's last byte changed.
fn chain_block_hash_mismatch(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut blocks = fx.car.blocks();
    if let Some(x) = blocks.last_mut().and_then(|b| b.1.last_mut()) {
        *x ^= 1;
    }
    with_blocks(fx, &blocks)
}

/// The first chain block, which is the head's first block, left out.
fn head_block_missing(fx: &Fixtures) -> Result<Vec<u8>> {
    let s = &fx.car;
    let head = s.metadata.head_tipset_key.first();
    if head.is_none() || head != s.chain.first().map(|b| &b.0) {
        return Err(Error::Fixture {
            name: "car-v2-tiny".into(),
            why: "the first chain block is not the head's first block".into(),
        });
    }
    let mut blocks = vec![s.metadata_block.clone(), s.f3.clone()];
    blocks.extend(s.chain.iter().skip(1).cloned());
    with_blocks(fx, &blocks)
}
