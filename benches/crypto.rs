//! Where a certificate's signature check spends its time at mainnet's shape: a mainnet-shaped
//! signed chain (`synth`'s mainnet shape: mainnet's 1,560 powers, about 950 signers) made in
//! memory, one thread.
//!
//! - `aggregate/*`: a certificate's BDN aggregate key. `msm-129bit-signers` is one MSM over
//!   the signers with their 129-bit weights (what every certificate cost before keys were
//!   reused per key list); `msm-digits-signers` the same sum as the validator computes it for
//!   the first certificate under a key list, with 43-bit digits; `msm-digits-delta` the
//!   difference between two consecutive certificates (about 60 signers), what a later
//!   certificate under the same list costs by MSM; `weighted-delta` that difference once the
//!   weighted keys are bought (additions only); `buy-delta-weighted-keys` buying them.
//! - `pairing/*`: `verify-one` is the plain check of one certificate (hashing to G2, two
//!   Miller loops, a final exponentiation); `batch-of-32-per-certificate` is a batch of 32
//!   certificates with their aggregates already known, divided by 32 (signature decoding and
//!   subgroup checks, random scalars, hashing, 33 Miller loops, one final exponentiation);
//!   `hash-to-g2` and `signature-subgroup-check` are parts of both.
//! - `table/*`: once per new table (`bdn-weights`, per key list) or per new key
//!   (`decompress-keys`, `key-multiples`, for all 1,560).

use std::sync::Arc;

use blst::min_pk::{AggregatePublicKey, PublicKey, Signature};
use blst::MultiPoint;
use criterion::{criterion_group, criterion_main, Criterion};
use frc0108::synth::{build, Params};
use frc0108::validate::aggregate::{Key, KeyList, Plan, Rental, Start, BUY_AFTER};
use frc0108::validate::batch::{Batch, Entry};
use frc0108::validate::crypto::{bdn_weights, scaled_powers, signing_payload, DST};
use frc0108::Location;

const NET: &str = "frc0108-bench";

fn plan(start: Start, plus: Vec<u32>, minus: Vec<u32>) -> Plan {
    Plan {
        start,
        plus,
        minus,
        plus_w: Vec::new(),
        minus_w: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    // No deltas: every certificate below signs the initial table.
    let (header, certs) = build(&Params::mainnet(40, 0, Some(NET.into())));
    let table = &header.initial_power_table.0;
    assert!(scaled_powers(table).is_ok());
    let raw: Vec<&[u8]> = table.iter().map(|e| e.pub_key.as_slice()).collect();
    let pks: Vec<PublicKey> = raw
        .iter()
        .map(|k| PublicKey::key_validate(k).expect("key"))
        .collect();
    let weights = bdn_weights(&raw);
    let keys: Vec<Arc<Key>> = pks.iter().map(|k| Arc::new(Key::new(*k))).collect();
    let list = KeyList::new(keys.clone(), weights.clone());
    let signers: Vec<Vec<u32>> = certs
        .iter()
        .map(|c| c.signers.iter().map(|i| i as u32).collect())
        .collect();
    let (s0, s1) = (&signers[0], &signers[1]);
    let (plus, minus) = frc0108::validate::aggregate::difference(s0, s1);
    let name = format!(
        "crypto-mainnet-{}-signers-of-{}-delta-{}",
        s0.len(),
        table.len(),
        plus.len() + minus.len()
    );
    let mut g = c.benchmark_group(name);
    g.sample_size(20);

    // Aggregation.
    let msm_pks: Vec<PublicKey> = s0.iter().map(|&i| pks[i as usize]).collect();
    let msm_scalars: Vec<u8> = s0.iter().flat_map(|&i| weights[i as usize]).collect();
    let reference = msm_pks.mult(&msm_scalars, 129);
    g.bench_function("aggregate/msm-129bit-signers", |b| {
        b.iter(|| msm_pks.mult(&msm_scalars, 129))
    });
    let zero = plan(Start::Zero, s0.clone(), Vec::new());
    let affine = |a: Option<AggregatePublicKey>| a.map(|a| a.to_public_key());
    assert_eq!(
        affine(list.aggregate(&zero, None)),
        Some(reference.to_public_key())
    );
    g.bench_function("aggregate/msm-digits-signers", |b| {
        b.iter(|| list.aggregate(&zero, None))
    });
    let delta = plan(Start::Prev, plus.clone(), minus.clone());
    let second = affine(list.aggregate(&plan(Start::Zero, s1.clone(), Vec::new()), None));
    assert_eq!(affine(list.aggregate(&delta, Some(&reference))), second);
    g.bench_function("aggregate/msm-digits-delta", |b| {
        b.iter(|| list.aggregate(&delta, Some(&reference)))
    });
    let mut bought = delta.clone();
    let mut rental = Rental::new(table.len());
    for _ in 0..BUY_AFTER {
        bought = delta.clone();
        rental.apply(&mut bought);
    }
    assert!(bought.plus.is_empty() && bought.minus.is_empty());
    assert_eq!(affine(list.aggregate(&bought, Some(&reference))), second);
    g.bench_function("aggregate/weighted-delta", |b| {
        b.iter(|| list.aggregate(&bought, Some(&reference)))
    });
    // Buying the difference's weighted keys: a fresh list (the keys' multiples known).
    g.bench_function("aggregate/buy-delta-weighted-keys", |b| {
        b.iter(|| {
            let fresh = KeyList::new(keys.clone(), weights.clone());
            fresh.aggregate(&bought, Some(&reference))
        })
    });

    // Pairings: one certificate, then a batch of 32 whose aggregates are known.
    let payloads: Vec<Vec<u8>> = certs.iter().map(|c| signing_payload(NET, c)).collect();
    let agg = reference.to_public_key();
    let sig = Signature::sig_validate(&certs[0].signature, true).expect("signature");
    assert_eq!(
        sig.verify(false, &payloads[0], DST, &[], &agg, false),
        blst::BLST_ERROR::BLST_SUCCESS
    );
    g.bench_function("pairing/verify-one", |b| {
        b.iter(|| sig.verify(false, &payloads[0], DST, &[], &agg, false))
    });
    let lists: Vec<Arc<KeyList>> = signers
        .iter()
        .take(32)
        .map(|s| {
            let l = KeyList::new(keys.clone(), weights.clone());
            l.set_base(s);
            let _: Option<AggregatePublicKey> =
                l.aggregate(&plan(Start::Base, vec![], vec![]), None);
            Arc::new(l)
        })
        .collect();
    let batch = || {
        let mut b = Batch::new(NET.into());
        for (k, l) in lists.iter().enumerate() {
            b.push(Entry {
                list: Arc::clone(l),
                plan: plan(Start::Base, Vec::new(), Vec::new()),
                signature: certs[k].signature.clone(),
                payload: payloads[k].clone(),
                seq: k as u64,
                location: Location::default(),
            });
        }
        b
    };
    assert!(batch().run().is_ok());
    g.bench_function("pairing/batch-of-32-per-certificate", |b| {
        b.iter_custom(|iters| {
            let start = std::time::Instant::now();
            for _ in 0..iters {
                let _ = batch().run();
            }
            start.elapsed() / 32
        })
    });
    g.bench_function("pairing/hash-to-g2", |b| {
        b.iter(|| {
            let mut out = blst::blst_p2::default();
            // SAFETY: blst reads `payload` and `DST` within the lengths given and writes `out`.
            unsafe {
                blst::blst_hash_to_g2(
                    &mut out,
                    payloads[0].as_ptr(),
                    payloads[0].len(),
                    DST.as_ptr(),
                    DST.len(),
                    std::ptr::null(),
                    0,
                )
            };
            out
        })
    });
    g.bench_function("pairing/signature-subgroup-check", |b| {
        b.iter(|| Signature::sig_validate(&certs[0].signature, true))
    });

    // Per table and per key.
    g.sample_size(10);
    g.bench_function("table/bdn-weights", |b| b.iter(|| bdn_weights(&raw)));
    g.bench_function("table/decompress-keys", |b| {
        b.iter(|| {
            raw.iter()
                .filter(|k| PublicKey::key_validate(k).is_ok())
                .count()
        })
    });
    g.bench_function("table/key-multiples", |b| {
        b.iter(|| {
            // Fresh keys, so the multiples are computed again.
            let fresh: Vec<Key> = pks.iter().map(|k| Key::new(*k)).collect();
            let refs: Vec<&Key> = fresh.iter().collect();
            Key::compute_multiples(&refs);
            fresh
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
