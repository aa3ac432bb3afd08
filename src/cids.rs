//! CIDs as FRC-0108 uses them: DAG-CBOR blocks and power tables (codec 0x71) and the raw F3
//! block (codec 0x55), all CIDv1 with a blake2b-256 multihash (0xb220).

use cid::Cid;

use crate::error::{Error, ErrorKind, Result};

/// Multicodec of DAG-CBOR.
pub const DAG_CBOR: u64 = 0x71;
/// Multicodec of raw bytes.
pub const RAW: u64 = 0x55;
/// Multihash code of blake2b-256.
pub const BLAKE2B_256: u64 = 0xb220;

/// A fresh blake2b-256 hasher (unkeyed, 32-byte output, as multihash 0xb220 defines it).
pub fn blake2b256_state() -> blake2b_simd::State {
    blake2b_simd::Params::new().hash_length(32).to_state()
}

/// The digest of a hasher's input so far.
pub fn finish_blake2b256(state: &blake2b_simd::State) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(state.finalize().as_bytes());
    out
}

/// blake2b-256 of `bytes`.
pub fn blake2b256(bytes: &[u8]) -> [u8; 32] {
    let mut st = blake2b256_state();
    st.update(bytes);
    finish_blake2b256(&st)
}

/// A CIDv1 with `codec` over a blake2b-256 `digest`.
pub fn cid_from_digest(codec: u64, digest: &[u8; 32]) -> Cid {
    // A 32-byte digest always fits the 64-byte multihash.
    match multihash::Multihash::<64>::wrap(BLAKE2B_256, digest) {
        Ok(mh) => Cid::new_v1(codec, mh),
        Err(_) => unreachable!("32-byte digest fits a 64-byte multihash"),
    }
}

/// The CIDv1 of `bytes` under `codec` with blake2b-256.
pub fn cid_of(codec: u64, bytes: &[u8]) -> Cid {
    cid_from_digest(codec, &blake2b256(bytes))
}

/// Whether `cid` names its content by a 32-byte blake2b-256 digest, which can be checked.
pub fn is_blake2b256(cid: &Cid) -> bool {
    cid.hash().code() == BLAKE2B_256 && cid.hash().size() == 32
}

/// Checks that `cid` is CIDv1 with `codec` and a 32-byte blake2b-256 multihash.
pub fn expect_blake2b_cid(cid: &Cid, codec: u64) -> Result<()> {
    if cid.version() != cid::Version::V1 {
        return Err(Error::new(ErrorKind::CidVersion(0)));
    }
    if cid.codec() != codec {
        return Err(Error::new(ErrorKind::CidCodec {
            expected: codec,
            found: cid.codec(),
        }));
    }
    let mh = cid.hash();
    if mh.code() != BLAKE2B_256 || mh.size() != 32 {
        return Err(Error::new(ErrorKind::CidHash {
            code: mh.code(),
            size: u64::from(mh.size()),
        }));
    }
    Ok(())
}
