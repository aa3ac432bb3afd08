//! Valid cases: go-f3's own output with real BLS signatures, the facts from its sidecars; and
//! one snapshot over a chain of Lotus block headers, built and signed here.

use super::fixture::{Fixtures, MAINNET};
use super::Bytes::{Fixture, Made};
use super::{car, consistency, f3, valid, valid_built, Def, File};
use crate::conformance::error::{Error, Result};
use crate::conformance::notes::Flag::{Car, Consistency, Signature, Zstd};

pub(super) const CASES: &[Def] = &[
    Def {
        network: Some(MAINNET),
        ..f3(
            "valid/mainnet-0-9",
            "mainnet's first ten certificates as Lotus's RPC serves them, exported by go-f3's certstore: real signatures, a power delta at instance 9",
            valid("mainnet-0-9", "f3data"),
            &[Signature],
            Fixture("mainnet-0-9"),
        )
    },
    Def {
        network: Some(MAINNET),
        ..car(
            "valid/car-v2-mainnet-0-9",
            "mainnet's first ten certificates in a v2 snapshot laid out as Lotus's ExportV2",
            valid("car-v2-mainnet-0-9", "car-v2-snapshot"),
            &[Car, Signature],
            Fixture("car-v2-mainnet-0-9"),
        )
    },
    f3(
        "valid/tiny",
        "go-f3's export: 12 certificates, 4 participants, no churn",
        valid("tiny", "f3data"),
        &[Signature],
        Fixture("tiny"),
    ),
    f3(
        "valid/churn",
        "go-f3's export: joins, leaves, power up and down, key rotation, a power above 2^64",
        valid("churn", "f3data"),
        &[Signature],
        Fixture("churn"),
    ),
    f3(
        "valid/nullrounds",
        "go-f3's export: ECChains with epoch gaps (null rounds)",
        valid("nullrounds", "f3data"),
        &[Signature],
        Fixture("nullrounds"),
    ),
    f3(
        "valid/checkpoint",
        "go-f3's export: 1500 certificates crossing go-f3's power-table checkpoint at 1439",
        valid("checkpoint", "f3data"),
        &[Signature],
        Fixture("checkpoint"),
    ),
    f3(
        "valid/first-instance-nonzero",
        "go-f3's export: FirstInstance 1430, crossing the 1439 checkpoint",
        valid("first-instance-nonzero", "f3data"),
        &[Signature],
        Fixture("first-instance-nonzero"),
    ),
    f3(
        "valid/large",
        "go-f3's export: 2000 certificates, 100 participants",
        valid("large", "f3data"),
        &[Signature],
        Fixture("large"),
    ),
    car(
        "valid/car-v2-tiny",
        "v2 snapshot laid out as Lotus's ExportV2",
        valid("car-v2-tiny", "car-v2-snapshot"),
        &[Car, Signature],
        Fixture("car-v2-tiny"),
    ),
    car(
        "valid/car-v2-churn",
        "v2 snapshot around the churn chain",
        valid("car-v2-churn", "car-v2-snapshot"),
        &[Car, Signature],
        Fixture("car-v2-churn"),
    ),
    car(
        "valid/car-v2-no-f3",
        "v2 snapshot whose metadata has F3Data null",
        valid("car-v2-no-f3", "car-v2-snapshot"),
        &[Car, Signature],
        Fixture("car-v2-no-f3"),
    ),
    car(
        "valid/car-v1",
        "v1 snapshot with two roots",
        valid("car-v1", "car-v1-snapshot"),
        &[Car, Signature],
        Fixture("car-v1"),
    ),
    car(
        "valid/car-v1-one-root",
        "single-root v1 snapshot: the first block is not metadata, so v1",
        valid("car-v1-one-root", "car-v1-snapshot"),
        &[Car, Signature],
        Fixture("car-v1-one-root"),
    ),
    car(
        "valid/carv2-wrapped-v2-tiny",
        "v2 snapshot inside a CARv2 container",
        valid("carv2-wrapped-v2-tiny", "car-v2-snapshot"),
        &[Car, Signature],
        Fixture("carv2-wrapped-v2-tiny"),
    ),
    Def {
        file: File::CarZst,
        ..car(
            "valid/car-v2-tiny-zstd",
            "the v2 tiny snapshot compressed with zstd, as snapshots are published",
            valid("car-v2-tiny", "car-v2-snapshot"),
            &[Car, Zstd, Signature],
            Made(car_v2_tiny_zstd),
        )
    },
    car(
        "valid/car-v2-consistent-chain",
        "v2 snapshot whose chain is Lotus block headers (tipsets of 1 to 3 blocks, a null round) and whose last certificate finalizes its tipset at epoch 110, two below the head",
        valid_built(consistency::consistent_facts),
        &[Car, Consistency, Signature],
        Made(consistency::consistent),
    ),
];

fn car_v2_tiny_zstd(fx: &Fixtures) -> Result<Vec<u8>> {
    zstd::encode_all(&fx.car.bytes[..], 19).map_err(|e| Error::Fixture {
        name: "car-v2-tiny".into(),
        why: format!("zstd cannot compress it: {e}"),
    })
}
