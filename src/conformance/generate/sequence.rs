//! Sequence cases: the certificates against each other and the header's instance range.

use super::fixture::{Fixtures, MAINNET};
use super::Bytes::Made;
use super::{f3, invalid, Def};
use crate::conformance::error::Result;
use crate::conformance::notes::Flag::Sequence;
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
