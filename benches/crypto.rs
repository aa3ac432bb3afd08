//! Where a certificate's signature check spends its time, on go-f3's `large` fixture (100
//! participants): hashing the payload to G2, aggregating the signers' BDN-weighted keys (one
//! multi-scalar multiplication), the pairing check, and the BDN weights of a new power table.

use std::path::PathBuf;

use blst::min_pk::{AggregatePublicKey, PublicKey, Signature};
use criterion::{criterion_group, criterion_main, Criterion};
use frc0108::f3data::F3DataReader;
use frc0108::validate::crypto::{bdn_weights, signing_payload, DST};

fn bench(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/go-f3/large.f3");
    let bytes = std::fs::read(path).expect("vectors/go-f3/large.f3");
    let mut r = F3DataReader::new(&bytes[..]).expect("header");
    let header = r.header().value.clone();
    let cert = r.next().expect("a certificate").expect("decodes").value;
    let table = &header.initial_power_table.0;
    let raw: Vec<&[u8]> = table.iter().map(|e| e.pub_key.as_slice()).collect();
    let keys: Vec<PublicKey> = raw
        .iter()
        .map(|k| PublicKey::key_validate(k).expect("key"))
        .collect();
    let weights = bdn_weights(&raw);
    let signers: Vec<usize> = cert.signers.iter().map(|i| i as usize).collect();
    let pks: Vec<PublicKey> = signers.iter().map(|&i| keys[i]).collect();
    let scalars: Vec<u8> = signers.iter().flat_map(|&i| weights[i]).collect();
    let payload = signing_payload("frc0108-vectors", &cert);
    let sig = Signature::sig_validate(&cert.signature, true).expect("signature");
    let agg = AggregatePublicKey::aggregate_with_randomness(&pks, &scalars, 129, false)
        .expect("aggregate")
        .to_public_key();
    assert_eq!(
        sig.verify(false, &payload, DST, &[], &agg, false),
        blst::BLST_ERROR::BLST_SUCCESS
    );

    let mut g = c.benchmark_group(format!("crypto-{}-signers", signers.len()));
    g.sample_size(20);
    g.bench_function("hash-to-g2", |b| {
        b.iter(|| {
            let mut out = blst::blst_p2::default();
            // SAFETY: blst reads `payload` and `DST` within the lengths given and writes `out`.
            unsafe {
                blst::blst_hash_to_g2(
                    &mut out,
                    payload.as_ptr(),
                    payload.len(),
                    DST.as_ptr(),
                    DST.len(),
                    std::ptr::null(),
                    0,
                )
            };
            out
        })
    });
    g.bench_function("aggregate-keys-msm", |b| {
        b.iter(|| AggregatePublicKey::aggregate_with_randomness(&pks, &scalars, 129, false))
    });
    g.bench_function("verify-hash-and-pairing", |b| {
        b.iter(|| sig.verify(false, &payload, DST, &[], &agg, false))
    });
    g.bench_function("signature-subgroup-check", |b| {
        b.iter(|| Signature::sig_validate(&cert.signature, true))
    });
    g.bench_function("bdn-weights-per-table", |b| b.iter(|| bdn_weights(&raw)));
    g.bench_function("decompress-keys-per-table", |b| {
        b.iter(|| {
            raw.iter()
                .filter(|k| PublicKey::key_validate(k).is_ok())
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
