//! Header cases: the F3 snapshot header and its initial power table.

use num_bigint::BigInt;

use super::fixture::F3;
use super::Bytes::Made;
use super::{f3, invalid, Def};
use crate::conformance::notes::Flag::{GoF3Lenient, Header, PowerTable};
use crate::validate::Level::Structure;

pub(super) const CASES: &[Def] = &[
    f3(
        "header/unknown-version",
        "header Version 2 (go-f3 never reads the version)",
        invalid("header-version", Structure),
        &[Header, GoF3Lenient],
        Made(|fx| Ok(fx.tiny.with_values(|f| f.header.version = 2))),
    ),
    f3(
        "header/first-above-latest",
        "FirstInstance 1, LatestInstance 0",
        invalid("header-instance-range", Structure),
        &[Header],
        Made(|fx| Ok(fx.tiny.with_values(first_above_latest))),
    ),
    f3(
        "header/power-table-empty",
        "an initial power table with no entries",
        invalid("power-table-empty", Structure),
        &[Header, PowerTable],
        Made(|fx| {
            Ok(fx
                .tiny
                .with_values(|f| f.header.initial_power_table.0.clear()))
        }),
    ),
    f3(
        "header/power-table-unsorted",
        "the initial power table's first two entries exchanged (go-f3 sorts as it goes)",
        invalid("power-table-unsorted", Structure),
        &[Header, PowerTable, GoF3Lenient],
        Made(|fx| {
            Ok(fx
                .tiny
                .with_values(|f| f.header.initial_power_table.0.swap(0, 1)))
        }),
    ),
    f3(
        "header/power-table-duplicate",
        "a participant listed twice in the initial power table",
        invalid("power-table-duplicate", Structure),
        &[Header, PowerTable],
        Made(|fx| Ok(fx.tiny.with_values(duplicate_participant))),
    ),
    f3(
        "header/zero-power-entry",
        "an initial power table entry with zero power",
        invalid("power-table-non-positive", Structure),
        &[Header, PowerTable],
        Made(|fx| Ok(fx.tiny.with_values(zero_power_entry))),
    ),
];

fn first_above_latest(f: &mut F3) {
    f.header.latest_instance = 0;
    f.header.first_instance = 1;
}

/// The second entry takes the first one's ID.
fn duplicate_participant(f: &mut F3) {
    let table = &mut f.header.initial_power_table.0;
    let id0 = table.first().map(|e| e.id).unwrap_or_default();
    if let Some(e) = table.get_mut(1) {
        e.id = id0;
    }
}

fn zero_power_entry(f: &mut F3) {
    if let Some(e) = f.header.initial_power_table.0.last_mut() {
        e.power = BigInt::default();
    }
}
