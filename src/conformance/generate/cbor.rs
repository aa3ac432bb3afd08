//! CBOR cases: the encoding of a block (major types, lengths, minimal forms, trailing bytes,
//! go-f3's size limits), and the values encoded inside it (CIDs, big integers, bitfields).

use num_traits::Zero;

use super::fixture::{cid_node, replace, tagged_cid, Fixtures, CERT};
use super::Bytes::Made;
use super::{acceptable, f3, invalid, Def};
use crate::cids::{cid_from_digest, RAW};
use crate::conformance::error::{Error, Result};
use crate::conformance::node::{leaf, Node};
use crate::conformance::notes::Flag::{
    BigInt, Bitfield, Cbor, Cid, GoF3Lenient, Header, SizeLimit,
};
use crate::validate::Level::Structure;

pub(super) const CASES: &[Def] = &[
    f3(
        "cbor/wrong-major-type",
        "GPBFTInstance written as a byte string",
        invalid("cbor-unexpected-type", Structure),
        &[Cbor],
        Made(|fx| Ok(cert(fx, |n| replace(n, &[0], leaf(|e| e.bytes(&[5])))))),
    ),
    f3(
        "cbor/wrong-arity",
        "a certificate array with seven fields",
        invalid("cbor-wrong-arity", Structure),
        &[Cbor],
        Made(|fx| Ok(cert(fx, |n| n.push(leaf(|e| e.u64(0)))))),
    ),
    f3(
        "cbor/indefinite-length",
        "the ECChain as an indefinite-length array",
        invalid("cbor-indefinite-length", Structure),
        &[Cbor],
        Made(|fx| Ok(cert_at(fx, &[1], Node::make_indefinite))),
    ),
    f3(
        "cbor/non-minimal-integer",
        "GPBFTInstance in a longer form than needed",
        invalid("cbor-non-minimal", Structure),
        &[Cbor],
        Made(|fx| Ok(cert_at(fx, &[0], Node::widen_header))),
    ),
    f3(
        "cbor/non-minimal-length",
        "the delta array's length in a longer form than needed",
        invalid("cbor-non-minimal", Structure),
        &[Cbor],
        Made(|fx| Ok(cert_at(fx, &[5], Node::widen_header))),
    ),
    f3(
        "cbor/cid-tag-missing",
        "SupplementalData.PowerTable as bare bytes, without tag 42",
        invalid("cid-tag", Structure),
        &[Cbor, Cid],
        Made(cid_tag_missing),
    ),
    f3(
        "cbor/cid-tag-on-wrong-field",
        "tag 42 on SupplementalData.Commitments",
        invalid("cbor-unexpected-type", Structure),
        &[Cbor, Cid],
        Made(|fx| Ok(cert(fx, |n| replace(n, &[2, 0], tagged_cid(&[0; 32]))))),
    ),
    f3(
        "cbor/cid-version-0",
        "SupplementalData.PowerTable as a CIDv0 (go-f3 decodes any CID)",
        invalid("cid-version", Structure),
        &[Cid, GoF3Lenient],
        Made(|fx| power_table_cid(fx, &[2, 1], &[0x12, 0x20], None)),
    ),
    f3(
        "cbor/cid-wrong-codec",
        "SupplementalData.PowerTable with the raw codec",
        invalid("cid-codec", Structure),
        &[Cid, GoF3Lenient],
        Made(cid_wrong_codec),
    ),
    f3(
        "cbor/cid-wrong-hash",
        "a tipset's PowerTable CID with a sha2-256 multihash",
        invalid("cid-hash", Structure),
        &[Cid, GoF3Lenient],
        Made(|fx| power_table_cid(fx, &[1, 0, 2], &[0x01, 0x71, 0x12, 0x20], None)),
    ),
    f3(
        "cbor/cid-truncated",
        "a CID whose digest is shorter than its multihash declares",
        invalid("cid-malformed", Structure),
        &[Cid],
        Made(|fx| power_table_cid(fx, &[2, 1], &[0x01, 0x71, 0xa0, 0xe4, 0x02, 0x20], Some(16))),
    ),
    f3(
        "cbor/trailing-bytes-in-block",
        "two bytes after the certificate inside its block (go-f3 ignores and re-exports them)",
        acceptable("cbor-trailing-bytes", Structure),
        &[Cbor, GoF3Lenient],
        Made(trailing_bytes_in_block),
    ),
    f3(
        "cbor/trailing-bytes-in-header",
        "a byte after the header inside its block (go-f3 ignores it)",
        acceptable("cbor-trailing-bytes", Structure),
        &[Cbor, Header, GoF3Lenient],
        Made(trailing_bytes_in_header),
    ),
    f3(
        "cbor/signing-key-over-maxlen",
        "a delta's SigningKey of 49 bytes (maxlen 48)",
        invalid("cbor-bytes-too-long", Structure),
        &[Cbor, SizeLimit],
        Made(signing_key_over_maxlen),
    ),
    f3(
        "cbor/tipset-key-over-maxlen",
        "a tipset key of 761 bytes (maxlen 760)",
        invalid("cbor-bytes-too-long", Structure),
        &[Cbor, SizeLimit],
        Made(|fx| {
            Ok(cert(fx, |n| {
                replace(n, &[1, 0, 1], leaf(|e| e.bytes(&[1; 761])))
            }))
        }),
    ),
    f3(
        "cbor/commitments-wrong-size",
        "SupplementalData.Commitments of 31 bytes (exactly 32 required)",
        invalid("cbor-bytes-wrong-length", Structure),
        &[Cbor, SizeLimit],
        Made(|fx| {
            Ok(cert(fx, |n| {
                replace(n, &[2, 0], leaf(|e| e.bytes(&[0; 31])))
            }))
        }),
    ),
    f3(
        "cbor/array-over-8192",
        "a delta array declaring 8193 entries",
        invalid("cbor-array-too-long", Structure),
        &[Cbor, SizeLimit],
        Made(|fx| Ok(cert(fx, |n| replace(n, &[5], leaf(|e| e.array(8193)))))),
    ),
    f3(
        "cbor/bigint-leading-zero",
        "a header power with a leading zero magnitude byte (go-f3 reads the same number)",
        acceptable("bigint-non-canonical", Structure),
        &[BigInt, GoF3Lenient],
        Made(bigint_leading_zero),
    ),
    f3(
        "cbor/bigint-negative-zero",
        "a key rotation whose power delta is negative zero (0x01)",
        acceptable("bigint-non-canonical", Structure),
        &[BigInt, GoF3Lenient],
        Made(bigint_negative_zero),
    ),
    f3(
        "cbor/bigint-bad-sign",
        "a header power whose sign byte is 0x02",
        invalid("bigint-sign", Structure),
        &[BigInt],
        Made(|fx| Ok(header_power(fx, &[0x02, 0x05]))),
    ),
    f3(
        "cbor/bigint-too-long",
        "a header power of 129 bytes (Filecoin's limit is 128)",
        invalid("bigint-too-long", Structure),
        &[BigInt, SizeLimit],
        Made(|fx| Ok(header_power(fx, &[0; 129]))),
    ),
    f3(
        "cbor/bitfield-trailing-zero",
        "the signer bitfield with a trailing zero byte (go-f3 does not decode it on import)",
        acceptable("bitfield-non-canonical", Structure),
        &[Bitfield, GoF3Lenient],
        Made(|fx| Ok(signers(fx, |b| b.push(0)))),
    ),
    f3(
        "cbor/bitfield-bad-version",
        "an RLE+ bitfield whose version bits are not 00",
        invalid("bitfield-malformed", Structure),
        &[Bitfield, GoF3Lenient],
        Made(|fx| Ok(signers(fx, |b| set_version_bit(b)))),
    ),
];

/// `tiny` with certificate [`CERT`]'s CBOR tree edited.
fn cert(fx: &Fixtures, edit: impl FnOnce(&mut Node)) -> Vec<u8> {
    fx.tiny.with_cert_node(CERT, edit)
}

/// `tiny` with the item at `path` in certificate [`CERT`] edited.
fn cert_at(fx: &Fixtures, path: &[usize], edit: fn(&mut Node)) -> Vec<u8> {
    cert(fx, |n| n.at(path).into_iter().for_each(edit))
}

/// Certificate [`CERT`]'s `SupplementalData.PowerTable`.
fn power_table(fx: &Fixtures) -> Option<cid::Cid> {
    fx.tiny
        .certs
        .get(CERT)
        .map(|c| c.supplemental_data.power_table)
}

fn cid_tag_missing(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut inner = vec![0u8];
    inner.extend_from_slice(&power_table(fx).map(|c| c.to_bytes()).unwrap_or_default());
    Ok(cert(fx, |n| replace(n, &[2, 1], leaf(|e| e.bytes(&inner)))))
}

/// `tiny` with a CID at `path` of certificate [`CERT`] made of `prefix` and the digest of its
/// `SupplementalData.PowerTable` (its first `digest_len` bytes, if given).
fn power_table_cid(
    fx: &Fixtures,
    path: &[usize],
    prefix: &[u8],
    digest_len: Option<usize>,
) -> Result<Vec<u8>> {
    let digest = power_table(fx)
        .map(|c| c.hash().digest().to_vec())
        .unwrap_or_default();
    let digest = digest_len.map_or(&digest[..], |n| digest.get(..n).unwrap_or_default());
    let mut cid = prefix.to_vec();
    cid.extend_from_slice(digest);
    Ok(cert(fx, |n| replace(n, path, cid_node(&cid))))
}

fn cid_wrong_codec(fx: &Fixtures) -> Result<Vec<u8>> {
    let digest = power_table(fx)
        .and_then(|c| <[u8; 32]>::try_from(c.hash().digest()).ok())
        .unwrap_or_default();
    let raw = cid_from_digest(RAW, &digest);
    Ok(cert(fx, |n| replace(n, &[2, 1], cid_node(&raw.to_bytes()))))
}

fn trailing_bytes_in_block(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut f = fx.tiny.clone();
    if let Some(b) = f.blocks.get_mut(CERT) {
        b.extend_from_slice(&[0xde, 0xad]);
    }
    Ok(f.bytes())
}

fn trailing_bytes_in_header(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut f = fx.tiny.clone();
    f.header_block.push(0x00);
    Ok(f.bytes())
}

/// A delta's key of 49 bytes, in the first `churn` certificate with a delta.
fn signing_key_over_maxlen(fx: &Fixtures) -> Result<Vec<u8>> {
    let churn = &fx.churn;
    let ci = churn
        .certs
        .iter()
        .position(|x| !x.power_table_delta.is_empty())
        .unwrap_or(0);
    Ok(churn.with_cert_node(ci, |n| replace(n, &[5, 0, 2], leaf(|e| e.bytes(&[7; 49])))))
}

/// `tiny` with the first initial power table entry's power bytes replaced.
fn header_power(fx: &Fixtures, power: &[u8]) -> Vec<u8> {
    fx.tiny
        .with_header_node(|n| replace(n, &[3, 0, 1], leaf(|e| e.bytes(power))))
}

/// The first header power with a zero byte inserted before its magnitude.
fn bigint_leading_zero(fx: &Fixtures) -> Result<Vec<u8>> {
    Ok(fx.tiny.with_header_node(|n| {
        if let Some(Node::Leaf(b)) = n.at(&[3, 0, 1]) {
            // The leaf is the byte string's header (one byte for these short powers), then
            // the sign byte, then the magnitude.
            if let Some((_, mag)) = b.split_first() {
                let mut v = vec![0u8, 0u8];
                v.extend_from_slice(mag.get(1..).unwrap_or_default());
                *b = leaf(|e| e.bytes(&v)).emit();
            }
        }
    }))
}

/// A `churn` key rotation (zero power change, new key) whose power is written as negative
/// zero, which go-f3 reads as a zero delta.
fn bigint_negative_zero(fx: &Fixtures) -> Result<Vec<u8>> {
    let churn = &fx.churn;
    let rotation = churn.certs.iter().enumerate().find_map(|(ci, c)| {
        let di = c
            .power_table_delta
            .iter()
            .position(|d| d.power_delta.is_zero() && !d.signing_key.is_empty())?;
        Some((ci, di))
    });
    let Some((ci, di)) = rotation else {
        return Err(Error::Fixture {
            name: "churn".into(),
            why: "no key rotation with an unchanged power".into(),
        });
    };
    Ok(churn.with_cert_node(ci, |n| replace(n, &[5, di, 1], leaf(|e| e.bytes(&[0x01])))))
}

/// `tiny` with certificate [`CERT`]'s signer bitfield bytes edited.
fn signers(fx: &Fixtures, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut rle = fx
        .tiny
        .certs
        .get(CERT)
        .map(|c| c.signers.to_rle())
        .unwrap_or_default();
    edit(&mut rle);
    cert(fx, |n| replace(n, &[3], leaf(|e| e.bytes(&rle))))
}

/// Sets the low version bit of an RLE+ bitfield (version 00 is the only one defined).
fn set_version_bit(rle: &mut [u8]) {
    if let Some(b) = rle.first_mut() {
        *b |= 0x01;
    }
}
