//! Delta cases: power table deltas go-f3's `ApplyPowerTableDiffs` refuses, on `tiny`'s
//! certificate [`CERT`] (found at the import level, where deltas are applied).

use num_bigint::BigInt;

use super::fixture::{Fixtures, CERT};
use super::Bytes::Made;
use super::{f3, invalid, Def};
use crate::conformance::notes::Flag::PowerDelta;
use crate::types::{PowerEntry, PowerTableDelta};
use crate::validate::Level::Import;

pub(super) const CASES: &[Def] = &[
    f3(
        "delta/unsorted",
        "deltas not in ascending participant order",
        invalid("delta-unsorted", Import),
        &[PowerDelta],
        Made(|fx| {
            Ok(deltas(fx, |p| {
                vec![d(p.hi.id, 1.into(), vec![]), d(p.lo.id, 1.into(), vec![])]
            }))
        }),
    ),
    f3(
        "delta/duplicate-participant",
        "two deltas for one participant",
        invalid("delta-unsorted", Import),
        &[PowerDelta],
        Made(|fx| {
            Ok(deltas(fx, |p| {
                vec![d(p.lo.id, 1.into(), vec![]), d(p.lo.id, 1.into(), vec![])]
            }))
        }),
    ),
    f3(
        "delta/zero",
        "a delta that changes neither power nor key",
        invalid("delta-zero", Import),
        &[PowerDelta],
        Made(|fx| {
            Ok(deltas(fx, |p| {
                vec![d(p.first.id, BigInt::default(), vec![])]
            }))
        }),
    ),
    f3(
        "delta/negative-power",
        "a delta taking a participant below zero power",
        invalid("delta-negative-power", Import),
        &[PowerDelta],
        Made(|fx| {
            Ok(deltas(fx, |p| {
                vec![d(p.first.id, -(&p.first.power + BigInt::from(1)), vec![])]
            }))
        }),
    ),
    f3(
        "delta/new-without-key",
        "a new participant with power and no key",
        invalid("delta-new-without-key", Import),
        &[PowerDelta],
        Made(|fx| Ok(deltas(fx, |p| vec![d(p.new_id, 5.into(), vec![])]))),
    ),
    f3(
        "delta/new-non-positive",
        "a new participant with negative power",
        invalid("delta-new-non-positive", Import),
        &[PowerDelta],
        Made(|fx| Ok(deltas(fx, |p| vec![d(p.new_id, (-5).into(), vec![9; 48])]))),
    ),
    f3(
        "delta/unchanged-key",
        "a delta setting the key a participant already has",
        invalid("delta-unchanged-key", Import),
        &[PowerDelta],
        Made(|fx| {
            Ok(deltas(fx, |p| {
                vec![d(p.first.id, 1.into(), p.first.pub_key.clone())]
            }))
        }),
    ),
    f3(
        "delta/key-on-removal",
        "a delta removing a participant and setting its key",
        invalid("delta-key-on-removal", Import),
        &[PowerDelta],
        Made(|fx| {
            Ok(deltas(fx, |p| {
                vec![d(p.first.id, -&p.first.power, vec![9; 48])]
            }))
        }),
    ),
    f3(
        "delta/short-key",
        "a new participant whose key is 47 bytes",
        invalid("power-table-key-length", Import),
        &[PowerDelta],
        Made(|fx| Ok(deltas(fx, |p| vec![d(p.new_id, 5.into(), vec![9; 47])]))),
    ),
];

/// Participants of `tiny`'s initial power table that the deltas name.
struct Participants {
    /// The first entry.
    first: PowerEntry,
    /// Of the first two entries, the one with the lower ID.
    lo: PowerEntry,
    /// Of the first two entries, the one with the higher ID.
    hi: PowerEntry,
    /// An ID no entry has.
    new_id: u64,
}

fn d(participant_id: u64, power_delta: BigInt, signing_key: Vec<u8>) -> PowerTableDelta {
    PowerTableDelta {
        participant_id,
        power_delta,
        signing_key,
    }
}

/// `tiny` with certificate [`CERT`]'s deltas replaced by those `make` gives, re-encoded.
fn deltas(fx: &Fixtures, make: impl FnOnce(&Participants) -> Vec<PowerTableDelta>) -> Vec<u8> {
    let table = &fx.tiny.header.initial_power_table.0;
    let first = table.first().cloned().unwrap_or(PowerEntry {
        id: 0,
        power: BigInt::default(),
        pub_key: vec![],
    });
    let second = table.get(1).cloned().unwrap_or_else(|| first.clone());
    let (lo, hi) = if first.id < second.id {
        (first.clone(), second)
    } else {
        (second, first.clone())
    };
    let p = Participants {
        new_id: table.iter().map(|e| e.id).max().unwrap_or(0) + 1,
        first,
        lo,
        hi,
    };
    let deltas = make(&p);
    fx.tiny.with_values(|f| {
        if let Some(c) = f.certs.get_mut(CERT) {
            c.power_table_delta = deltas;
        }
    })
}
