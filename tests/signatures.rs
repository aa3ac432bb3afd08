//! Batched signature verification reports exactly what checking certificates one by one
//! reports: the earliest failing certificate, with its code, instance, byte offset and field,
//! whatever the batch size and the number of threads; and random scalars catch invalid
//! signatures whose errors cancel out in a plain sum.

use std::path::PathBuf;

use blst::min_pk::{AggregateSignature, SecretKey, Signature};
use frc0108::f3data::{encode, F3DataReader};
use frc0108::report::analyze;
use frc0108::synth::{build, Params};
use frc0108::validate::{Level, Options};
use frc0108::{Error, F3SnapshotHeader, FinalityCertificate};
use num_bigint::BigUint;

const NET: &str = "frc0108-batch";

/// (batch size, threads): one by one inline (the reference), then batched on threads.
const MODES: [(usize, usize); 5] = [(1, 1), (8, 1), (8, 2), (3, 2), (0, 2)];

fn signed(
    seed: u64,
    participants: usize,
    instances: u64,
) -> (F3SnapshotHeader, Vec<FinalityCertificate>) {
    build(&Params {
        seed,
        participants,
        instances,
        churn_percent: 30,
        sign_for: Some(NET.into()),
        ..Params::default()
    })
}

fn check(bytes: &[u8], network: &str, level: Level, batch: usize, threads: usize) -> Option<Error> {
    let opts = Options {
        level,
        network: network.into(),
        threads,
        signature_batch: batch,
        ..Options::default()
    };
    analyze(bytes, Some(opts), &mut |_| {}).error
}

/// The error in every mode, asserted identical across modes.
fn error_in_every_mode(header: &F3SnapshotHeader, certs: &[FinalityCertificate]) -> Option<Error> {
    let (bytes, _) = encode(header, certs);
    let reference = check(&bytes, NET, Level::Crypto, 1, 1);
    for (batch, threads) in MODES {
        let e = check(&bytes, NET, Level::Crypto, batch, threads);
        assert_eq!(e, reference, "batch {batch}, threads {threads}");
    }
    reference
}

/// The byte offset of certificate `k` in the encoding of the chain.
fn offset(header: &F3SnapshotHeader, certs: &[FinalityCertificate], k: usize) -> u64 {
    let (bytes, _) = encode(header, certs);
    let mut r = F3DataReader::new(&bytes[..]).unwrap();
    r.nth(k).unwrap().unwrap().offset
}

fn assert_at(
    e: Option<Error>,
    code: &str,
    header: &F3SnapshotHeader,
    certs: &[FinalityCertificate],
    k: usize,
) {
    let e = e.unwrap_or_else(|| panic!("accepted; expected {code} at certificate {k}"));
    assert_eq!(e.code(), code, "{e}");
    assert_eq!(e.location.instance, Some(certs[k].instance), "{e}");
    assert_eq!(e.location.offset, Some(offset(header, certs, k)), "{e}");
    assert_eq!(
        e.location.field,
        Some("FinalityCertificate.Signature"),
        "{e}"
    );
}

/// A valid signature point over the wrong message.
fn wrong(certs: &[FinalityCertificate], k: usize) -> Vec<u8> {
    certs[(k + 1) % certs.len()].signature.clone()
}

/// Bytes that do not decode as a G2 point (the compression flag cleared).
fn malformed(sig: &[u8]) -> Vec<u8> {
    let mut s = sig.to_vec();
    s[0] &= 0x7f;
    s
}

#[test]
fn errors_that_cancel_in_a_plain_sum_are_caught() {
    let (header, mut certs) = signed(3, 6, 12);
    assert_eq!(error_in_every_mode(&header, &certs), None);
    // D = sk * H(m) and -D = (r - sk) * H(m): A's signature gets +D, B's -D.
    let order = BigUint::parse_bytes(
        b"73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001",
        16,
    )
    .unwrap();
    let sk = SecretKey::key_gen(&[9; 32], &[]).unwrap();
    let neg = (&order - BigUint::from_bytes_be(&sk.to_bytes())).to_bytes_be();
    let mut neg32 = [0u8; 32];
    neg32[32 - neg.len()..].copy_from_slice(&neg);
    let neg_sk = SecretKey::from_bytes(&neg32).unwrap();
    let dst = frc0108::validate::crypto::DST;
    let d = sk.sign(b"anything", dst, &[]);
    let minus_d = neg_sk.sign(b"anything", dst, &[]);
    let shift = |sig: &[u8], by: &Signature| {
        let mut a = AggregateSignature::from_signature(&Signature::from_bytes(sig).unwrap());
        a.add_signature(by, true).unwrap();
        a.to_signature().to_bytes().to_vec()
    };
    let (a, b) = (4, 5);
    let sum = |s: &[&[u8]]| {
        let sigs: Vec<Signature> = s
            .iter()
            .map(|x| Signature::from_bytes(x).unwrap())
            .collect();
        let refs: Vec<&Signature> = sigs.iter().collect();
        AggregateSignature::aggregate(&refs, true)
            .unwrap()
            .to_signature()
    };
    let before = sum(&[&certs[a].signature, &certs[b].signature]);
    certs[a].signature = shift(&certs[a].signature, &d);
    certs[b].signature = shift(&certs[b].signature, &minus_d);
    // Both are invalid, yet their plain sum is unchanged: a batch without random scalars
    // (or with equal ones) would accept them.
    assert_eq!(sum(&[&certs[a].signature, &certs[b].signature]), before);
    assert_at(
        error_in_every_mode(&header, &certs),
        "signature-invalid",
        &header,
        &certs,
        a,
    );
    // Each on its own is caught as well.
    let mut only_b = signed(3, 6, 12).1;
    only_b[b].signature = certs[b].signature.clone();
    assert_at(
        error_in_every_mode(&header, &only_b),
        "signature-invalid",
        &header,
        &only_b,
        b,
    );
}

#[test]
fn the_earliest_of_several_bad_certificates_is_reported() {
    let (header, good) = signed(5, 7, 30);
    let mut certs = good.clone();
    for k in [9, 20, 26] {
        certs[k].signature = wrong(&good, k);
    }
    assert_at(
        error_in_every_mode(&header, &certs),
        "signature-invalid",
        &header,
        &certs,
        9,
    );
    // A malformed signature before a wrong one is reported first, and after one, second.
    certs[6].signature = malformed(&good[6].signature);
    assert_at(
        error_in_every_mode(&header, &certs),
        "signature-malformed",
        &header,
        &certs,
        6,
    );
    certs[4].signature = wrong(&good, 4);
    assert_at(
        error_in_every_mode(&header, &certs),
        "signature-invalid",
        &header,
        &certs,
        4,
    );
}

#[test]
fn errors_found_before_the_pairing_keep_their_place_in_the_stream() {
    let (header, good) = signed(8, 5, 24);
    // The signer with the least power, alone, is below the quorum.
    let lone = |c: &mut FinalityCertificate| {
        let smallest = c.signers.last().unwrap();
        c.signers = frc0108::Signers::from_indexes([smallest]);
    };
    let mut certs = good.clone();
    lone(&mut certs[11]);
    certs[7].signature = wrong(&good, 7);
    assert_at(
        error_in_every_mode(&header, &certs),
        "signature-invalid",
        &header,
        &certs,
        7,
    );
    let mut certs = good.clone();
    lone(&mut certs[7]);
    certs[11].signature = wrong(&good, 11);
    let e = error_in_every_mode(&header, &certs).unwrap();
    assert_eq!(e.code(), "signature-quorum");
    assert_eq!(e.location.instance, Some(certs[7].instance));
    // A bad signature followed, in the same certificate, by a bad delta: the signature first,
    // as when each certificate was checked in full before the next.
    let mut certs = good.clone();
    certs[9].signature = wrong(&good, 9);
    certs[9].power_table_delta = vec![frc0108::PowerTableDelta {
        participant_id: 1,
        power_delta: 0.into(),
        signing_key: Vec::new(),
    }];
    assert_at(
        error_in_every_mode(&header, &certs),
        "signature-invalid",
        &header,
        &certs,
        9,
    );
}

#[test]
fn bisection_finds_failures_at_the_edges_of_batches() {
    let (header, good) = signed(11, 4, 40);
    // With batches of 8: the first and last of the first and second batches, and the last
    // certificate of the chain.
    for k in [0, 7, 8, 15, 39] {
        let mut certs = good.clone();
        certs[k].signature = wrong(&good, k);
        let (bytes, _) = encode(&header, &certs);
        for threads in [1, 2] {
            let e = check(&bytes, NET, Level::Crypto, 8, threads);
            assert_at(e, "signature-invalid", &header, &certs, k);
        }
        // Two failures in one batch, found by the pairing or before it: the first of them.
        if k + 3 < good.len() {
            certs[k + 3].signature = wrong(&good, k + 3);
            assert_at(
                error_in_every_mode(&header, &certs),
                "signature-invalid",
                &header,
                &certs,
                k,
            );
            certs[k + 3].signature = malformed(&good[k + 3].signature);
            assert_at(
                error_in_every_mode(&header, &certs),
                "signature-invalid",
                &header,
                &certs,
                k,
            );
        }
    }
}

#[test]
fn mainnet_shaped_chains_check_the_same_in_every_mode() {
    let (header, good) = build(&Params::mainnet(36, 50, Some(NET.into())));
    assert_eq!(error_in_every_mode(&header, &good), None);
    let mut certs = good.clone();
    for k in [13, 30] {
        certs[k].signature = wrong(&good, k);
    }
    assert_at(
        error_in_every_mode(&header, &certs),
        "signature-invalid",
        &header,
        &certs,
        13,
    );
}

/// Every case of the conformance corpus gets the same verdict and error, batched or not.
#[test]
fn the_corpus_checks_the_same_batched_and_one_by_one() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let mut checked = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let level = Level::from_name(case["level"].as_str().unwrap()).unwrap();
        let network = case["network"].as_str().unwrap_or_default();
        let bytes = std::fs::read(root.join(case["file"].as_str().unwrap())).unwrap();
        let reference = check(&bytes, network, level, 1, 1);
        for (batch, threads) in [(0, 2), (5, 2), (0, 1)] {
            assert_eq!(
                check(&bytes, network, level, batch, threads),
                reference,
                "{} (batch {batch}, threads {threads})",
                case["id"]
            );
        }
        checked += 1;
    }
    assert!(checked > 50, "{checked} cases");
}

/// Joins and key rotations on most certificates: many key lists, and more keys over the chain
/// than the verifier keeps decompressed at once.
#[test]
fn heavy_key_churn_checks_the_same_in_every_mode() {
    let (header, good) = build(&Params {
        seed: 21,
        participants: 4,
        instances: 160,
        churn_percent: 100,
        sign_for: Some(NET.into()),
        ..Params::default()
    });
    let keys: std::collections::HashSet<&[u8]> = good
        .iter()
        .flat_map(|c| c.power_table_delta.iter())
        .map(|d| d.signing_key.as_slice())
        .filter(|k| !k.is_empty())
        .collect();
    assert!(keys.len() > 100, "{} new keys", keys.len());
    assert_eq!(error_in_every_mode(&header, &good), None);
    let mut certs = good.clone();
    certs[150].signature = wrong(&good, 150);
    assert_at(
        error_in_every_mode(&header, &certs),
        "signature-invalid",
        &header,
        &certs,
        150,
    );
}
