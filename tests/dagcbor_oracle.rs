//! The strict CBOR layer is written for this crate, so it is checked against an independent
//! DAG-CBOR implementation, serde_ipld_dagcbor: everything we encode is canonical DAG-CBOR
//! (serde_ipld_dagcbor decodes it and re-encodes the same bytes), and where serde_ipld_dagcbor
//! accepts bytes that we reject, the difference is one of the rules we enforce on purpose.

use frc0108::f3data;
use frc0108::synth;
use frc0108::types::{Cbor, FinalityCertificate};
use ipld_core::ipld::Ipld;

fn canonical_per_oracle(bytes: &[u8]) {
    let v: Ipld = serde_ipld_dagcbor::from_slice(bytes).expect("oracle decodes our encoding");
    let again = serde_ipld_dagcbor::to_vec(&v).expect("oracle encodes");
    assert_eq!(again, bytes, "our encoding is not canonical DAG-CBOR");
}

#[test]
fn our_encodings_are_canonical_dag_cbor() {
    for seed in 0..20 {
        let p = synth::Params {
            seed,
            participants: 3 + seed as usize,
            instances: 15,
            churn_percent: 60,
            ..Default::default()
        };
        let (header, certs) = synth::build(&p);
        canonical_per_oracle(&header.to_cbor());
        for c in &certs {
            canonical_per_oracle(&c.to_cbor());
        }
        let md = frc0108::SnapshotMetadata {
            version: 2,
            head_tipset_key: vec![header.initial_power_table.cid()],
            f3_data: Some(f3data::encode(&header, &certs).1),
        };
        canonical_per_oracle(&md.to_cbor());
        let md_none = frc0108::SnapshotMetadata {
            f3_data: None,
            ..md
        };
        canonical_per_oracle(&md_none.to_cbor());
    }
}

/// The metadata map's key order is what serde_ipld_dagcbor produces from a map of the same
/// keys: DAG-CBOR's length-first order, which Lotus's cbor-gen output also follows.
#[test]
fn metadata_key_order_matches_dag_cbor_canonical_order() {
    use std::collections::BTreeMap;
    let md = frc0108::SnapshotMetadata {
        version: 2,
        head_tipset_key: vec![],
        f3_data: None,
    };
    let mut m = BTreeMap::new();
    m.insert("Version".to_string(), Ipld::Integer(2));
    m.insert("HeadTipsetKey".to_string(), Ipld::List(vec![]));
    m.insert("F3Data".to_string(), Ipld::Null);
    let oracle = serde_ipld_dagcbor::to_vec(&Ipld::Map(m)).unwrap();
    assert_eq!(md.to_cbor(), oracle);
}

/// The generic decoders accept a non-minimal integer (`0x18 0x05` for 5); the strict reader
/// names it, with its offset.
#[test]
fn non_minimal_integer_is_named() {
    let (_, certs) = synth::build(&synth::Params::default());
    let bytes = certs[0].to_cbor();
    // The instance is the second byte, a small unsigned integer; write it in two bytes.
    assert!(bytes[1] < 24);
    let mut lenient = vec![bytes[0], 0x18, bytes[1]];
    lenient.extend_from_slice(&bytes[2..]);
    let err = FinalityCertificate::from_cbor(&lenient).unwrap_err();
    assert_eq!(err.code(), "cbor-non-minimal");
    assert_eq!(err.location.offset, Some(1));
    assert_eq!(
        err.location.field,
        Some("FinalityCertificate.GPBFTInstance")
    );
}
