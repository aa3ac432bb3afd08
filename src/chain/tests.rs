//! The header decoder against Lotus's decoder (verdicts recorded by running cbor-gen v0.3.1's
//! code generated for Lotus's `BlockHeader` on each input) and against real headers.

use super::*;
use crate::car::CarReader;
use crate::cids::cid_of;

/// Lotus's smallest valid header: Miner f01000, Ticket `[h'']`, ElectionProof null, no beacon
/// entries or proofs, Parents `[E]`, weight 0, Height 1, three links to `E`, no signatures,
/// Timestamp 0, ForkSignaling 0, ParentBaseFee 0 (`E` = the CID of the block `0x80`).
const MINIMAL: &str = "904300e8078140f6808081d82a5827000171a0e4022045b0cfc220ceec5b7c1c62c4d4193d38e4eba48e8815729ce75f9c0ab0e4c1c04001d82a5827000171a0e4022045b0cfc220ceec5b7c1c62c4d4193d38e4eba48e8815729ce75f9c0ab0e4c1c0d82a5827000171a0e4022045b0cfc220ceec5b7c1c62c4d4193d38e4eba48e8815729ce75f9c0ab0e4c1c0d82a5827000171a0e4022045b0cfc220ceec5b7c1c62c4d4193d38e4eba48e8815729ce75f9c0ab0e4c1c0f600f60040";

const E: &str = "0171a0e4022045b0cfc220ceec5b7c1c62c4d4193d38e4eba48e8815729ce75f9c0ab0e4c1c0";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The minimal header with the bytes of one field (found by its old encoding) replaced.
fn with(old: &str, new: &str) -> Vec<u8> {
    let s = MINIMAL.replacen(old, new, 1);
    assert_ne!(s, MINIMAL, "{old} not found");
    unhex(&s)
}

#[test]
fn lotus_minimal_header() {
    let b = unhex(MINIMAL);
    assert_eq!(b.len(), 190);
    assert_eq!(
        cid_of(DAG_CBOR, &b).to_string(),
        "bafy2bzacebd4g3cweocosgahazv642277ksknhop7eacuke7tgsnhvzrx2mxq"
    );
    let h = BlockHeader::decode(&b).unwrap();
    assert_eq!(h.height, 1);
    assert_eq!(h.parent_count(), 1);
    assert_eq!(h.parents_key(), unhex(E));
    assert!(is_header_candidate(&cid_of(DAG_CBOR, &b), &b));
}

/// Inputs Lotus's decoder accepts: so does this one.
#[test]
fn accepted_like_lotus() {
    for (what, b) in [
        ("Ticket null", with("8140f6", "f6f6")),
        ("Parents []", with("81d82a5827", "80").replacen_bytes(E, "")),
        ("Height -1", with("4001d82a", "4020d82a")),
        (
            "ParentWeight 5 with a leading zero",
            with("4001d82a", "4300000501d82a"),
        ),
        ("ParentWeight [0x00]", with("4001d82a", "410001d82a")),
        ("ParentWeight [0x01]", with("4001d82a", "410101d82a")),
        ("BLSAggregate of 200 bytes", {
            let mut s = MINIMAL.to_string();
            let sig = format!("58c8{}", "02".repeat(200));
            s = s.replacen("c1c0f600f6", &format!("c1c0{sig}00f6"), 1);
            unhex(&s)
        }),
    ] {
        let h = BlockHeader::decode(&b).unwrap_or_else(|e| panic!("{what}: {e}"));
        if what == "Height -1" {
            assert_eq!(h.height, -1);
        }
    }
}

trait ReplaceBytes {
    fn replacen_bytes(self, old: &str, new: &str) -> Vec<u8>;
}

impl ReplaceBytes for Vec<u8> {
    fn replacen_bytes(self, old: &str, new: &str) -> Vec<u8> {
        let s: String = self.iter().map(|b| format!("{b:02x}")).collect();
        // Drops the `0x00`-prefixed CID right after the emptied array header.
        unhex(&s.replacen(&format!("00{old}"), new, 1))
    }
}

/// Inputs Lotus's decoder rejects: so does this one, with the field named.
#[test]
fn rejected_like_lotus() {
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "Parents null",
            with("81d82a5827", "f6").replacen_bytes(E, ""),
            "cbor-unexpected-type",
            "BlockHeader.Parents",
        ),
        (
            "Height 1 as 18 01",
            with("4001d82a", "401801d82a"),
            "cbor-non-minimal",
            "BlockHeader.Height",
        ),
        (
            "ParentWeight sign byte 2",
            with("4001d82a", "42020501d82a"),
            "bigint-sign",
            "BlockHeader.ParentWeight",
        ),
        (
            "ParentWeight null",
            with("4001d82a", "f601d82a"),
            "cbor-unexpected-type",
            "BlockHeader.ParentWeight",
        ),
        (
            "BLSAggregate of 201 bytes",
            unhex(&MINIMAL.replacen(
                "c1c0f600f6",
                &format!("c1c058c9{}00f6", "02".repeat(201)),
                1,
            )),
            "cbor-bytes-too-long",
            "BlockHeader.BLSAggregate",
        ),
        (
            "17 fields",
            {
                let mut b = with("9043", "9143");
                b.push(0);
                b
            },
            "cbor-wrong-arity",
            "BlockHeader",
        ),
        (
            "indefinite array",
            {
                let mut b = with("9043", "9f43");
                b.push(0xff);
                b
            },
            "cbor-indefinite-length",
            "BlockHeader",
        ),
        (
            "Ticket as a 2-tuple",
            with("8140f6", "824040f6"),
            "cbor-wrong-arity",
            "BlockHeader.Ticket",
        ),
        (
            "CID multibase byte 01",
            with("81d82a582700", "81d82a582701"),
            "cid-prefix",
            "BlockHeader.Parents",
        ),
        (
            "CID with a trailing byte",
            with(&format!("81d82a582700{E}"), &format!("81d82a582800{E}00")),
            "cid-malformed",
            "BlockHeader.Parents",
        ),
        (
            "Timestamp negative",
            with("c1c0f600f6", "c1c0f620f6"),
            "cbor-unexpected-type",
            "BlockHeader.Timestamp",
        ),
        // Lotus reads one item and ignores what follows; the CID covers the bytes, so the
        // strict reader refuses them (a Lotus re-encoding would name another block).
        (
            "a trailing byte",
            {
                let mut b = unhex(MINIMAL);
                b.push(0);
                b
            },
            "cbor-trailing-bytes",
            "BlockHeader",
        ),
    ];
    for (what, b, code, field) in cases {
        let e = BlockHeader::decode(&b).expect_err(what);
        assert_eq!(e.code(), code, "{what}: {e}");
        assert_eq!(e.location.field, Some(field), "{what}: {e}");
    }
}

/// Inputs Lotus's decoder rejects for what their values say (address, signature type), which
/// this decoder does not read: documented as not checked.
#[test]
fn values_are_not_judged() {
    for (what, b) in [
        ("Miner empty", with("4300e807", "40")),
        ("BLSAggregate empty", with("c1c0f600f6", "c1c04000f6")),
        ("BLSAggregate type 4", with("c1c0f600f6", "c1c0410400f6")),
    ] {
        assert!(BlockHeader::decode(&b).is_ok(), "{what}");
    }
}

fn real_blocks() -> Vec<(cid::Cid, Vec<u8>)> {
    let bytes = include_bytes!("../../tests/data/export40-headers.car");
    let mut car = CarReader::new(&bytes[..]).unwrap();
    let mut out = Vec::new();
    while let Some(s) = car.next_section().unwrap() {
        let mut data = Vec::new();
        car.read_section(1 << 20, &mut data).unwrap();
        out.push((s.cid, data));
    }
    out
}

/// Every real header decodes, its parents are real blocks one tipset down, and the one real
/// state object shaped like a header (an array of 16) is refused.
#[test]
fn real_headers() {
    let blocks = real_blocks();
    let mut heights = std::collections::HashMap::new();
    let mut refused = Vec::new();
    for (cid, data) in &blocks {
        assert!(is_header_candidate(cid, data));
        match BlockHeader::decode(data) {
            Ok(h) => {
                heights.insert(*cid, (h.height, h.parents_key()));
            }
            Err(e) => refused.push((*cid, e)),
        }
    }
    assert_eq!(heights.len(), 49);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].1.location.field, Some("BlockHeader.Ticket"));
    let mut unresolved = Vec::new();
    for (height, parents) in heights.values() {
        for p in key_cids(parents).unwrap() {
            match heights.get(&p) {
                Some((ph, _)) => assert!(ph < height),
                None => unresolved.push((*height, p)),
            }
        }
    }
    // Every parent link resolves but the genesis block's: its parent is the sha2-256
    // "filecoin genesis" block, not a header.
    assert_eq!(unresolved.len(), 1, "{unresolved:?}");
    assert_eq!(unresolved[0].0, 0);
    assert_eq!(unresolved[0].1.hash().code(), 0x12);
    let max = heights.values().map(|h| h.0).max();
    assert_eq!(max, Some(39));
}

#[cfg(feature = "tools")]
#[test]
fn written_headers_decode() {
    use super::build::{encode_header, ChainBuilder, Style};
    for style in [Style::Compact, Style::Realistic] {
        let mut c = ChainBuilder::new(7, style, vec![cid_of(DAG_CBOR, b"base")]);
        c.push(10, 3);
        c.push(12, 2);
        let t = &c.tipsets()[1];
        for (cid, data) in &t.blocks {
            assert!(is_header_candidate(cid, data));
            let h = BlockHeader::decode(data).unwrap();
            assert_eq!(h.height, 12);
            assert_eq!(h.parents_key(), c.tipsets()[0].key());
        }
        let fields = c.fields(5, vec![]);
        let b = encode_header(&fields);
        let len = b.len();
        match style {
            Style::Compact => assert!((250..400).contains(&len), "{len}"),
            Style::Realistic => assert!((850..1050).contains(&len), "{len}"),
        }
    }
}
