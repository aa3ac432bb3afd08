//! Sequence cases: the certificates against each other and the header's instance range.

use super::fixture::{Fixtures, MAINNET};
use super::Bytes::Made;
use super::{f3, invalid, Def};
use crate::conformance::error::Result;
use crate::conformance::notes::Flag::Sequence;
use crate::synth::signed::{build, plan_all_sign, KeyRing};
use crate::synth::Rng;
use crate::types::Cbor;
use crate::validate::Level::Structure;

pub(super) const CASES: &[Def] = &[
    Def {
        network: Some(MAINNET),
        ..f3(
            "sequence/mainnet-swapped",
            "mainnet instances 4 and 5 exchanged",
            invalid("sequence-gap", Structure),
            &[Sequence],
            Made(|fx| Ok(fx.mainnet.with_blocks([0, 1, 2, 3, 5, 4, 6, 7, 8, 9]))),
        )
    },
    Def {
        network: Some(MAINNET),
        ..f3(
            "sequence/mainnet-dropped",
            "mainnet instance 5 missing",
            invalid("sequence-gap", Structure),
            &[Sequence],
            Made(|fx| Ok(fx.mainnet.with_blocks([0, 1, 2, 3, 4, 6, 7, 8, 9]))),
        )
    },
    f3(
        "sequence/gap",
        "instance 5 is missing",
        invalid("sequence-gap", Structure),
        &[Sequence],
        Made(|fx| Ok(blocks(fx, |b| b.retain(|&i| i != 5)))),
    ),
    f3(
        "sequence/duplicate",
        "instance 5 appears twice in a row",
        invalid("sequence-duplicate", Structure),
        &[Sequence],
        Made(|fx| Ok(blocks(fx, |b| b.insert(6, 5)))),
    ),
    f3(
        "sequence/out-of-order",
        "instance 2 again after instance 5",
        invalid("sequence-out-of-order", Structure),
        &[Sequence],
        Made(|fx| Ok(blocks(fx, |b| b.insert(6, 2)))),
    ),
    f3(
        "sequence/swapped",
        "instances 5 and 6 exchanged",
        invalid("sequence-gap", Structure),
        &[Sequence],
        Made(|fx| Ok(blocks(fx, |b| b.swap(5, 6)))),
    ),
    f3(
        "sequence/first-not-first-instance",
        "the first certificate is instance 1, the header says 0",
        invalid("sequence-first", Structure),
        &[Sequence],
        Made(|fx| Ok(blocks(fx, |b| b.retain(|&i| i != 0)))),
    ),
    f3(
        "sequence/extra-after-latest",
        "a certificate for LatestInstance + 1",
        invalid("sequence-beyond-latest", Structure),
        &[Sequence],
        Made(extra_after_latest),
    ),
    f3(
        "sequence/ends-before-latest",
        "the last certificate is missing",
        invalid("sequence-short", Structure),
        &[Sequence],
        Made(|fx| Ok(blocks(fx, |b| b.truncate(b.len().saturating_sub(1))))),
    ),
    f3(
        "sequence/repeat-after-last-instance",
        "signed certificates up to instance 2^64 - 1, the last possible, and that one again after it: no instance can follow it, so the repeat is a duplicate, not a next instance",
        invalid("sequence-duplicate", Structure),
        &[Sequence],
        Made(repeat_after_last_instance),
    ),
    f3(
        "sequence/no-certificates",
        "a header and no certificate",
        invalid("sequence-empty", Structure),
        &[Sequence],
        Made(|fx| Ok(blocks(fx, Vec::clear))),
    ),
];

/// `tiny` with its certificate blocks rearranged: `edit` gets their indexes in order.
fn blocks(fx: &Fixtures, edit: impl FnOnce(&mut Vec<usize>)) -> Vec<u8> {
    let mut order: Vec<usize> = (0..fx.tiny.blocks.len()).collect();
    edit(&mut order);
    fx.tiny.with_blocks(order)
}

/// `tiny` and one more certificate: the last one's successor, whose chain is the last one's
/// head alone.
fn extra_after_latest(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut f = fx.tiny.clone();
    if let Some(last) = f.certs.last() {
        let mut c = last.clone();
        c.instance += 1;
        c.ec_chain = c.ec_chain.map(|ts| ts.into_iter().rev().take(1).collect());
        f.blocks.push(c.to_cbor());
    }
    Ok(f.bytes())
}

/// Three signed certificates ending at instance `u64::MAX`, and the last one repeated.
fn repeat_after_last_instance(fx: &Fixtures) -> Result<Vec<u8>> {
    let mut rng = Rng::new(0x5e9);
    let mut keys = KeyRing::new();
    let initial = (0..4u64)
        .map(|i| crate::types::PowerEntry {
            id: 1000 + i,
            power: (10 + i).into(),
            pub_key: keys.generate(&mut rng),
        })
        .collect();
    let mut plan = plan_all_sign(&fx.index.network, initial, 3, &mut rng);
    plan.first_instance = u64::MAX - 2;
    let mut built = build(&plan, &keys);
    if let Some(last) = built.certs.last().cloned() {
        built.certs.push(last);
    }
    Ok(built.encode())
}
