//! ECChain cases: a certificate's finalized chain of tipsets.

use super::fixture::{replace, Fixtures, CERT, F3};
use super::Bytes::Made;
use super::{f3, invalid, Def};
use crate::cbor::NULL;
use crate::conformance::node::{leaf, Node};
use crate::conformance::notes::Flag::{EcChain, GoF3Crash, GoF3Lenient, SizeLimit};
use crate::validate::Level::{Chain, Structure};

pub(super) const CASES: &[Def] = &[
    f3(
        "ec-chain/empty",
        "a certificate whose ECChain has no tipset (go-f3's import stores it)",
        invalid("chain-empty", Structure),
        &[EcChain, GoF3Lenient],
        Made(|fx| Ok(fx.tiny.with_cert_node(CERT, |n| replace(n, &[1], leaf(|e| e.array(0)))))),
    ),
    f3(
        "ec-chain/null",
        "a certificate whose ECChain is null (go-f3's import stores it)",
        invalid("chain-empty", Structure),
        &[EcChain, GoF3Lenient],
        Made(|fx| Ok(null_chain(fx, CERT))),
    ),
    f3(
        "ec-chain/null-on-last",
        "the last certificate's ECChain is null: go-f3 imports it, then its store panics when reopened",
        invalid("chain-empty", Structure),
        &[EcChain, GoF3Lenient, GoF3Crash],
        Made(|fx| Ok(null_chain(fx, fx.tiny.blocks.len().saturating_sub(1)))),
    ),
    f3(
        "ec-chain/epochs-not-increasing",
        "two tipsets of a chain at the same epoch",
        invalid("chain-epochs", Structure),
        &[EcChain],
        Made(|fx| Ok(fx.nullrounds.with_values(epochs_not_increasing))),
    ),
    f3(
        "ec-chain/base-mismatch",
        "a chain whose base is not the previous certificate's head",
        invalid("chain-base", Chain),
        &[EcChain, GoF3Lenient],
        Made(|fx| Ok(fx.tiny.with_values(base_mismatch))),
    ),
    f3(
        "ec-chain/too-long",
        "a chain of 129 tipsets (go-f3's limit is 128)",
        invalid("chain-too-long", Structure),
        &[EcChain, SizeLimit, GoF3Lenient],
        Made(|fx| Ok(fx.tiny.with_values(too_long))),
    ),
];

/// `tiny` with certificate `i`'s ECChain written as null.
fn null_chain(fx: &Fixtures, i: usize) -> Vec<u8> {
    fx.tiny
        .with_cert_node(i, |n| replace(n, &[1], Node::Leaf(vec![NULL])))
}

/// In the first certificate with three tipsets or more, the third at the second's epoch.
fn epochs_not_increasing(f: &mut F3) {
    let ci = f
        .certs
        .iter()
        .position(|x| x.tipsets().len() >= 3)
        .unwrap_or(0);
    if let Some(ts) = f.certs.get_mut(ci).and_then(|x| x.ec_chain.as_mut()) {
        let e1 = ts.get(1).map(|t| t.epoch).unwrap_or(0);
        if let Some(t) = ts.get_mut(2) {
            t.epoch = e1;
        }
    }
}

/// Certificate [`CERT`]'s base one epoch early.
fn base_mismatch(f: &mut F3) {
    if let Some(t) = f
        .certs
        .get_mut(CERT)
        .and_then(|x| x.ec_chain.as_mut())
        .and_then(|ts| ts.first_mut())
    {
        t.epoch -= 1;
    }
}

/// Certificate [`CERT`]'s chain extended to 129 tipsets, copies of its base at later epochs.
fn too_long(f: &mut F3) {
    if let Some(ts) = f.certs.get_mut(CERT).and_then(|x| x.ec_chain.as_mut()) {
        if let Some(base) = ts.first().cloned() {
            while ts.len() < 129 {
                let mut t = base.clone();
                t.epoch = base.epoch + ts.len() as i64;
                ts.push(t);
            }
        }
    }
}
