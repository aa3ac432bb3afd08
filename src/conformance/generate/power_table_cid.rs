//! Power table CID cases: `SupplementalData.PowerTable` against the table the deltas give.

use super::fixture::{Fixtures, F3};
use super::Bytes::Made;
use super::{f3, invalid, Def};
use crate::cids::{cid_of, DAG_CBOR};
use crate::conformance::notes::Flag::{Checkpoint, GoF3Lenient, PowerTableCid};
use crate::validate::Level::{Chain, Import};

pub(super) const CASES: &[Def] = &[
    f3(
        "power-table-cid/after-last",
        "the last certificate commits to a wrong power table CID",
        invalid("power-table-cid-mismatch", Import),
        &[PowerTableCid],
        Made(|fx| Ok(wrong_power_table(&fx.tiny, |f| f.certs.len().saturating_sub(1)))),
    ),
    f3(
        "power-table-cid/at-checkpoint",
        "instance 1439, a go-f3 checkpoint, commits to a wrong power table CID",
        invalid("power-table-cid-mismatch", Import),
        &[PowerTableCid, Checkpoint],
        Made(|fx| Ok(at_instance(fx, 1439))),
    ),
    f3(
        "power-table-cid/between-checkpoints",
        "instance 700, between go-f3's checkpoints, commits to a wrong power table CID (go-f3's import misses it)",
        invalid("power-table-cid-mismatch", Chain),
        &[PowerTableCid, Checkpoint, GoF3Lenient],
        Made(|fx| Ok(at_instance(fx, 700))),
    ),
];

/// `f` re-encoded with certificate `which(f)` committing to a CID no power table has.
fn wrong_power_table(f: &F3, which: impl FnOnce(&F3) -> usize) -> Vec<u8> {
    let i = which(f);
    f.with_values(|f| {
        if let Some(c) = f.certs.get_mut(i) {
            c.supplemental_data.power_table = cid_of(DAG_CBOR, b"not the power table");
        }
    })
}

/// `checkpoint` with instance `instance` committing to a wrong power table.
fn at_instance(fx: &Fixtures, instance: u64) -> Vec<u8> {
    wrong_power_table(&fx.checkpoint, |f| {
        f.certs
            .iter()
            .position(|c| c.instance == instance)
            .unwrap_or(usize::MAX)
    })
}
