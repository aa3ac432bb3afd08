//! Power table CID cases: `SupplementalData.PowerTable` against the table the deltas give.

use super::fixture::{Fixtures, F3, MAINNET};
use super::Bytes::Made;
use super::{f3, invalid, Def};
use crate::cids::{cid_of, DAG_CBOR};
use crate::conformance::notes::Flag::{Checkpoint, GoF3Lenient, PowerDelta, PowerTableCid};
use crate::validate::Level::{Chain, Import};

pub(super) const CASES: &[Def] = &[
    Def {
        network: Some(MAINNET),
        ..f3(
            "power-table-cid/mainnet-delta-altered",
            "mainnet instance 9's first power delta one unit larger: the table it gives is not the one the certificate commits to",
            invalid("power-table-cid-mismatch", Import),
            &[PowerTableCid, PowerDelta],
            Made(|fx| Ok(fx.mainnet.with_values(alter_last_delta))),
        )
    },
    Def {
        network: Some(MAINNET),
        ..f3(
            "power-table-cid/mainnet-commitment-changed",
            "mainnet instance 9 commits to the table before its delta (SupplementalData.PowerTable changed)",
            invalid("power-table-cid-mismatch", Import),
            &[PowerTableCid],
            Made(|fx| Ok(fx.mainnet.with_values(commit_to_initial_table))),
        )
    },
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

/// The last certificate's first delta entry one unit larger.
fn alter_last_delta(f: &mut F3) {
    if let Some(d) = f
        .certs
        .last_mut()
        .and_then(|c| c.power_table_delta.first_mut())
    {
        d.power_delta += 1;
    }
}

/// The last certificate committing to the header's table, as if its delta were not applied.
fn commit_to_initial_table(f: &mut F3) {
    let initial = f.header.initial_power_table.cid();
    if let Some(c) = f.certs.last_mut() {
        c.supplemental_data.power_table = initial;
    }
}
