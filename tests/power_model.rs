//! The power table's incremental upkeep (inline powers below 2^128, `BigInt` above, order kept
//! alongside while it is used and rebuilt after, cached entry encodings) checked against a plain model of go-f3's
//! `certs.ApplyPowerTableDiffs`: rebuild, sort, encode from scratch after every delta.

use std::collections::BTreeMap;

use frc0108::cids::{cid_of, DAG_CBOR};
use frc0108::types::{Cbor, PowerEntries, PowerEntry, PowerTableDelta};
use frc0108::validate::power::{table_order, PowerTable};
use num_bigint::{BigInt, Sign};
use proptest::prelude::*;

type Model = BTreeMap<u64, (BigInt, Vec<u8>)>;

/// go-f3's rules, in go-f3's order, on plain big integers. Returns the error code on failure.
fn model_apply(m: &mut Model, delta: &[PowerTableDelta]) -> Result<(), &'static str> {
    let mut last: Option<u64> = None;
    for d in delta {
        let id = d.participant_id;
        if last.is_some_and(|l| id <= l) {
            return Err("delta-unsorted");
        }
        last = Some(id);
        if d.power_delta.sign() == Sign::NoSign && d.signing_key.is_empty() {
            return Err("delta-zero");
        }
        if !d.signing_key.is_empty() && d.signing_key.len() != 48 {
            return Err("power-table-key-length");
        }
        let (old, old_key) = match m.get(&id) {
            Some((p, k)) => {
                if *k == d.signing_key {
                    return Err("delta-unchanged-key");
                }
                (p.clone(), k.clone())
            }
            None => {
                if d.power_delta.sign() != Sign::Plus {
                    return Err("delta-new-non-positive");
                }
                if d.signing_key.is_empty() {
                    return Err("delta-new-without-key");
                }
                (BigInt::default(), Vec::new())
            }
        };
        let power = old + &d.power_delta;
        if !d.signing_key.is_empty() && power.sign() == Sign::NoSign {
            return Err("delta-key-on-removal");
        }
        let key = if d.signing_key.is_empty() {
            old_key
        } else {
            d.signing_key.clone()
        };
        match power.sign() {
            Sign::NoSign => {
                m.remove(&id);
            }
            Sign::Minus => return Err("delta-negative-power"),
            Sign::Plus => {
                m.insert(id, (power, key));
            }
        }
    }
    Ok(())
}

fn model_encoding(m: &Model) -> Vec<u8> {
    let mut v: Vec<PowerEntry> = m
        .iter()
        .map(|(id, (power, key))| PowerEntry {
            id: *id,
            power: power.clone(),
            pub_key: key.clone(),
        })
        .collect();
    v.sort_by(table_order);
    PowerEntries(v).to_cbor()
}

/// Powers around the places the inline representation changes: small, just under and over
/// 2^64 and 2^128, and far beyond.
fn power() -> impl Strategy<Value = BigInt> {
    let two128 = BigInt::from(1u8) << 128;
    let two64 = BigInt::from(1u8) << 64;
    prop_oneof![
        (1i64..1000).prop_map(BigInt::from),
        (-3i64..3).prop_map(move |k| &two64 + k),
        (-3i64..3).prop_map(move |k| &two128 + k),
        (1u32..300).prop_map(|bits| BigInt::from(1u8) << bits),
    ]
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (0u8..3).prop_map(|k| vec![k; 48]),
        4 => Just(Vec::new()),
        1 => (0usize..60).prop_map(|n| vec![7; n]),
    ]
}

fn delta(ids: u64) -> impl Strategy<Value = PowerTableDelta> {
    (0u64..ids, any::<bool>(), power(), key()).prop_map(|(id, neg, p, signing_key)| {
        PowerTableDelta {
            participant_id: id,
            power_delta: if neg { -p } else { p },
            signing_key,
        }
    })
}

fn deltas() -> impl Strategy<Value = Vec<PowerTableDelta>> {
    deltas_in(10, 5)
}

fn deltas_in(ids: u64, most: usize) -> impl Strategy<Value = Vec<PowerTableDelta>> {
    (
        proptest::collection::vec(delta(ids), 0..most),
        any::<bool>(),
    )
        .prop_map(|(mut v, sort)| {
            if sort {
                v.sort_by_key(|d| d.participant_id);
                v.dedup_by_key(|d| d.participant_id);
            }
            v
        })
}

/// Most random deltas break a rule at once; this turns one into a valid delta for `m`, so runs
/// of steps reach the table's upkeep: sorted unique participants, a key and positive power for
/// newcomers, no repeated key, no power taken below zero.
fn make_valid(m: &Model, delta: &[PowerTableDelta]) -> Vec<PowerTableDelta> {
    let mut v: Vec<PowerTableDelta> = delta.to_vec();
    v.sort_by_key(|d| d.participant_id);
    v.dedup_by_key(|d| d.participant_id);
    for d in &mut v {
        if !d.signing_key.is_empty() {
            d.signing_key = vec![d.signing_key[0] % 3; 48];
        }
        match m.get(&d.participant_id) {
            None => {
                if d.power_delta.sign() != Sign::Plus {
                    d.power_delta = -d.power_delta.clone() + 1;
                }
                if d.signing_key.is_empty() {
                    d.signing_key = vec![1; 48];
                }
            }
            Some((p, k)) => {
                if *k == d.signing_key {
                    d.signing_key.clear();
                }
                if p + &d.power_delta < BigInt::default() {
                    // Down to zero: the participant leaves.
                    d.power_delta = -p.clone();
                    d.signing_key.clear();
                }
                if d.power_delta.sign() == Sign::NoSign && d.signing_key.is_empty() {
                    d.power_delta = BigInt::from(1);
                }
                if !d.signing_key.is_empty() && (p + &d.power_delta).sign() == Sign::NoSign {
                    d.signing_key.clear();
                }
            }
        }
    }
    v
}

fn initial() -> impl Strategy<Value = Model> {
    proptest::collection::btree_map(
        0u64..10,
        (power(), (0u8..3).prop_map(|k| vec![k; 48])),
        1..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn incremental_table_matches_rebuilt_model(
        init in initial(),
        steps in proptest::collection::vec((deltas(), any::<bool>(), 0u8..10), 1..12),
    ) {
        let mut model = init;
        let mut entries: Vec<PowerEntry> = model
            .iter()
            .map(|(id, (p, k))| PowerEntry { id: *id, power: p.clone(), pub_key: k.clone() })
            .collect();
        entries.sort_by(table_order);
        let mut table = PowerTable::new(&PowerEntries(entries));
        prop_assert_eq!(table.encoded(), model_encoding(&model));
        // Unlooked-at steps let the table drop its order and rebuild it at the next look.
        for (delta, look, raw) in &steps {
            let delta = if *raw == 0 { delta.clone() } else { make_valid(&model, delta) };
            let want = model_apply(&mut model, &delta);
            let got = table.apply(&delta).map(|_| ()).map_err(|e| e.code());
            prop_assert_eq!(got, want);
            if want.is_err() {
                break;
            }
            if !look {
                continue;
            }
            prop_assert_eq!(table.encoded(), model_encoding(&model));
            prop_assert_eq!(table.len(), model.len());
            let listed: Vec<(u64, BigInt)> = table.entries().0.iter().map(|e| (e.id, e.power.clone())).collect();
            let mut want_listed: Vec<(u64, BigInt)> = model.iter().map(|(id, (p, _))| (*id, p.clone())).collect();
            want_listed.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            prop_assert_eq!(listed, want_listed);
        }
        prop_assert_eq!(table.encoded(), model_encoding(&model));
    }

    /// Tables of hundreds of participants, whose order is kept in many parts that split and
    /// merge as entries move: the encoding, the CID, and the encoding shared for hashing
    /// (taken before later changes, hashed after them) all match the model.
    #[test]
    fn large_tables_match_rebuilt_model(
        init in proptest::collection::btree_map(0u64..400, (power(), (0u8..3).prop_map(|k| vec![k; 48])), 40..200),
        steps in proptest::collection::vec((deltas_in(400, 12), 0u8..4), 1..40),
    ) {
        let mut model = init;
        let mut entries: Vec<PowerEntry> = model
            .iter()
            .map(|(id, (p, k))| PowerEntry { id: *id, power: p.clone(), pub_key: k.clone() })
            .collect();
        entries.sort_by(table_order);
        let mut table = PowerTable::new(&PowerEntries(entries));
        let mut shared = Vec::new();
        for (delta, look) in &steps {
            let delta = make_valid(&model, delta);
            let want = model_apply(&mut model, &delta);
            let got = table.apply(&delta).map(|_| ()).map_err(|e| e.code());
            prop_assert_eq!(got, want);
            let encoding = model_encoding(&model);
            match look {
                0 => prop_assert_eq!(table.encoded(), encoding),
                1 => prop_assert_eq!(table.cid(), cid_of(DAG_CBOR, &encoding)),
                2 => shared.push((table.snapshot_for_hashing(), cid_of(DAG_CBOR, &encoding))),
                _ => {}
            }
        }
        for (bytes, want) in shared {
            prop_assert_eq!(bytes.cid(), want);
        }
        prop_assert_eq!(table.encoded(), model_encoding(&model));
    }
}
