//! The `consistency` cases: v2 snapshots whose chain is made of Lotus block headers (the
//! 16-tuple Lotus's decoder accepts) and whose F3 data, signed for the corpus network by the
//! independent Rust signer ([`crate::synth`]), finalizes a tipset of that chain, or fails to
//! in one way per code of [`crate::chain::consistency`]. Every other rule holds, so go-f3
//! (which never sees the chain) accepts them all.
//!
//! The chain `A`: tipsets at epochs 100 to 112 (a null round at 105), one to three blocks
//! each; the F3 data: three certificates over `A`'s tipsets 100 to 110, so the last one
//! finalizes epoch 110, two epochs below the head.

use cid::Cid;

use super::{Expected, Facts, HeaderFacts};
use crate::chain::build::{encode_fields, ChainBuilder, Style, Tipset};
use crate::chain::consistency::MAX_LAG;
use crate::cids::{cid_of, DAG_CBOR};
use crate::error::Result;
use crate::snapshot::write_v2_snapshot;
use crate::synth::{build_finalizing, Params};
use crate::types::F3SnapshotHeader;
use crate::validate::Level;

/// A case built but not yet checked against the reference or written.
pub struct BuiltCase {
    /// `group/name`.
    pub id: &'static str,
    /// One line on what it is.
    pub description: &'static str,
    /// Valid or invalid.
    pub result: Expected,
    /// The code at `level`.
    pub error: Option<&'static str>,
    /// Where the code is found.
    pub level: Level,
    /// Flags.
    pub flags: &'static [&'static str],
    /// The CAR.
    pub bytes: Vec<u8>,
    /// Facts of a valid case, from the writer's side.
    pub expected: Option<Facts>,
}

/// The finalized epoch of every case.
const FINALIZED: i64 = 110;

/// The chain `A`.
fn chain_a() -> ChainBuilder {
    let base = vec![cid_of(
        DAG_CBOR,
        b"frc0108 consistency cases: below epoch 100",
    )];
    let mut a = ChainBuilder::new(0xc0ffee, Style::Compact, base);
    for (epoch, blocks) in [
        (100, 1),
        (101, 2),
        (102, 1),
        (103, 3),
        (104, 1),
        (106, 2),
        (107, 1),
        (108, 2),
        (109, 1),
        (110, 3),
        (111, 2),
        (112, 2),
    ] {
        a.push(epoch, blocks);
    }
    a
}

/// The index of the tipset at `epoch`.
fn index(c: &ChainBuilder, epoch: i64) -> usize {
    c.tipsets()
        .iter()
        .position(|t| t.epoch == epoch)
        .unwrap_or_default()
}

/// F3 data whose certificates finalize `A`'s tipsets from 100 to 110.
struct F3 {
    header: F3SnapshotHeader,
    bytes: Vec<u8>,
    cid: Cid,
    final_power_table: Option<Cid>,
    certificates: u64,
}

fn f3_data(a: &ChainBuilder, network: &str) -> F3 {
    let tipsets: Vec<(i64, Vec<u8>)> = a
        .tipsets()
        .iter()
        .filter(|t| t.epoch <= FINALIZED)
        .map(|t| (t.epoch, t.key()))
        .collect();
    let p = Params {
        seed: 108,
        participants: 4,
        instances: 3,
        churn_percent: 50,
        sign_for: Some(network.to_string()),
        ..Params::default()
    };
    let (header, certs) = build_finalizing(&p, &tipsets);
    let (bytes, cid) = crate::f3data::encode(&header, &certs);
    F3 {
        header,
        bytes,
        cid,
        final_power_table: certs.last().map(|c| c.supplemental_data.power_table),
        certificates: certs.len() as u64,
    }
}

/// Blocks of `tipsets`, head first as Lotus exports them.
fn blocks(tipsets: &[&Tipset]) -> Vec<(Cid, Vec<u8>)> {
    let mut t: Vec<&Tipset> = tipsets.to_vec();
    t.sort_by_key(|t| std::cmp::Reverse(t.epoch));
    t.iter().flat_map(|t| t.blocks.iter().cloned()).collect()
}

fn car(head: &Tipset, f3: &F3, chain: &[(Cid, Vec<u8>)]) -> Result<Vec<u8>> {
    write_v2_snapshot(Vec::new(), &head.cids(), Some((&f3.cid, &f3.bytes)), chain).map(|r| r.0)
}

fn invalid(
    id: &'static str,
    description: &'static str,
    error: &'static str,
    bytes: Vec<u8>,
) -> BuiltCase {
    BuiltCase {
        id,
        description,
        result: Expected::Invalid,
        error: Some(error),
        level: Level::Chain,
        flags: &["Car", "Consistency"],
        bytes,
        expected: None,
    }
}

/// Every case of the group, for certificates signed for `network`.
pub fn cases(network: &str) -> Result<Vec<BuiltCase>> {
    let a = chain_a();
    let f3 = f3_data(&a, network);
    let ts = a.tipsets();
    let all: Vec<&Tipset> = ts.iter().collect();
    let head = ts
        .last()
        .ok_or_else(|| crate::Error::new(crate::ErrorKind::Internal("empty chain".into())))?;
    let upto = |epoch: i64| -> Vec<&Tipset> { ts.iter().filter(|t| t.epoch <= epoch).collect() };
    let from = |epoch: i64| -> Vec<&Tipset> { ts.iter().filter(|t| t.epoch >= epoch).collect() };
    let mut out = Vec::new();

    out.push(BuiltCase {
        id: "valid/car-v2-consistent-chain",
        description: "v2 snapshot whose chain is Lotus block headers (tipsets of 1 to 3 blocks, a null round) and whose last certificate finalizes its tipset at epoch 110, two below the head",
        result: Expected::Valid,
        error: None,
        level: Level::Crypto,
        flags: &["Car", "Consistency", "Signature"],
        bytes: car(head, &f3, &a.export_order())?,
        expected: Some(Facts {
            format: "car-v2-snapshot".into(),
            f3_cid: Some(f3.cid.to_string()),
            header: Some(HeaderFacts {
                version: f3.header.version,
                first_instance: f3.header.first_instance,
                latest_instance: f3.header.latest_instance,
                initial_power_table_cid: f3.header.initial_power_table.cid().to_string(),
                initial_power_table_entries: f3.header.initial_power_table.0.len() as u64,
            }),
            certificates: f3.certificates,
            final_power_table_cid: f3.final_power_table.map(|c| c.to_string()),
        }),
    });

    out.push(invalid(
        "consistency/finalized-missing",
        "the chain's headers stop above the finalized epoch: the tipsets at and below it are not in the CAR",
        "consistency-finalized-missing",
        car(head, &f3, &blocks(&from(FINALIZED + 1)))?,
    ));

    // Chain B: A up to 108, null rounds at 109 and 110, then its own 111 and 112.
    let mut b = a.fork(index(&a, 108) + 1, 0xb);
    b.push(111, 1);
    b.push(112, 2);
    let b_all: Vec<&Tipset> = b.tipsets().iter().collect();
    out.push(invalid(
        "consistency/finalized-null-round",
        "the chain has null rounds where the F3 data finalizes a tipset (epoch 110): another chain",
        "consistency-finalized-missing",
        car(b.tipsets().last().unwrap_or(head), &f3, &blocks(&b_all))?,
    ));

    // Chain C: A up to 108, then its own tipsets at 109 to 112: a fork below the finalized
    // tipset.
    let mut c = a.fork(index(&a, 108) + 1, 0xc);
    for (epoch, n) in [(109, 1), (110, 2), (111, 1), (112, 1)] {
        c.push(epoch, n);
    }
    let c_head = c.tipsets().last().unwrap_or(head);
    let c_all: Vec<&Tipset> = c.tipsets().iter().collect();
    out.push(invalid(
        "consistency/other-fork",
        "the chain forks from the F3 data's below epoch 110: the tipset the F3 data finalizes there is not on it",
        "consistency-other-fork",
        car(c_head, &f3, &blocks(&c_all))?,
    ));
    let mut both = c_all.clone();
    both.extend(ts.iter().filter(|t| (109..=FINALIZED).contains(&t.epoch)));
    out.push(invalid(
        "consistency/other-fork-in-car",
        "the finalized tipset is in the CAR, on a side branch: the head descends from another tipset at its epoch",
        "consistency-other-fork",
        car(c_head, &f3, &blocks(&both))?,
    ));

    let old = upto(108);
    out.push(invalid(
        "consistency/finalized-above-head",
        "the chain was exported at epoch 108, the F3 data finalizes epoch 110: a chain older than its F3 data",
        "consistency-finalized-above-head",
        car(old.last().copied().unwrap_or(head), &f3, &blocks(&old))?,
    ));

    let below_head = ts.iter().rev().nth(1).unwrap_or(head);
    out.push(invalid(
        "consistency/head-not-highest",
        "the metadata names the tipset at epoch 111 as the head, but the CAR also holds the tipset at 112 above it",
        "consistency-head-not-highest",
        car(below_head, &f3, &blocks(&all))?,
    ));

    // Chain D: A up to 110, then 901 epochs of null rounds and a head at 1011.
    let mut d = a.fork(index(&a, FINALIZED) + 1, 0xd);
    d.push(FINALIZED + MAX_LAG + 1, 2);
    let d_all: Vec<&Tipset> = d.tipsets().iter().collect();
    out.push(invalid(
        "consistency/too-far",
        "the head is 901 epochs above the finalized tipset (null rounds between): beyond the 900 within which Lotus uses F3 finality",
        "consistency-too-far",
        car(d.tipsets().last().unwrap_or(head), &f3, &blocks(&d_all))?,
    ));

    // Head tipset of two blocks, one whose Parents is null (Lotus: "expected cbor array").
    let mut e = a.fork(index(&a, 111) + 1, 0xe);
    let parents = e.parents();
    let good = e.fields(112, parents.clone());
    let mut broken = encode_fields(&e.fields(112, parents));
    if let Some(p) = broken.get_mut(5) {
        *p = vec![crate::cbor::NULL];
    }
    let mut broken_block = vec![crate::chain::HEADER_FIRST_BYTE];
    broken_block.extend(broken.concat());
    e.push_encoded(
        112,
        vec![crate::chain::build::encode_header(&good), broken_block],
    );
    let e_all: Vec<&Tipset> = e.tipsets().iter().collect();
    out.push(invalid(
        "consistency/head-not-header",
        "one of the head tipset's two blocks is an array of 16 that is not a block header (its Parents is null)",
        "consistency-head-not-header",
        car(e.tipsets().last().unwrap_or(head), &f3, &blocks(&e_all))?,
    ));

    // Head tipset of two headers at different heights.
    let mut m = a.fork(index(&a, 111) + 1, 0xf);
    let parents = m.parents();
    let at_112 = m.fields(112, parents.clone());
    let at_113 = m.fields(113, parents);
    m.push_fields(112, vec![at_112, at_113]);
    let m_all: Vec<&Tipset> = m.tipsets().iter().collect();
    out.push(invalid(
        "consistency/malformed-chain",
        "the head tipset's two blocks have different heights (112 and 113): not a tipset",
        "consistency-malformed-chain",
        car(m.tipsets().last().unwrap_or(head), &f3, &blocks(&m_all))?,
    ));

    Ok(out)
}
