//! The `consistency` cases: v2 snapshots whose chain is made of Lotus block headers (the
//! 16-tuple Lotus's decoder accepts) and whose F3 data, signed for the corpus network by the
//! independent Rust signer ([`crate::synth`]), finalizes a tipset of that chain, or fails to
//! in one way per code of [`crate::chain::consistency`]. Every other rule holds, so go-f3
//! (which never sees the chain) accepts them all. The valid one, `valid/car-v2-consistent-chain`,
//! sits in the `valid` table; its facts come from this writer ([`consistent_facts`]), as no
//! go-f3 fixture has a chain of headers.
//!
//! The chain `A`: tipsets at epochs 100 to 112 (a null round at 105), one to three blocks
//! each; the F3 data: three certificates over `A`'s tipsets 100 to 110, so the last one
//! finalizes epoch 110, two epochs below the head.

use cid::Cid;

use super::fixture::Fixtures;
use super::Bytes::Made;
use super::{acceptable, car, invalid, Def};
use crate::chain::build::{encode_fields, encode_header, ChainBuilder, Style, Tipset};
use crate::chain::consistency::MAX_LAG;
use crate::cids::{cid_of, DAG_CBOR};
use crate::conformance::error::{Error, Result};
use crate::conformance::notes::Flag::{Car, Consistency};
use crate::conformance::{Facts, HeaderFacts};
use crate::snapshot::write_v2_snapshot;
use crate::synth::{build_finalizing, Params};
use crate::types::F3SnapshotHeader;
use crate::validate::Level::Chain;

pub(super) const CASES: &[Def] = &[
    car(
        "consistency/finalized-missing",
        "the chain's headers stop above the finalized epoch: the tipsets at and below it are not in the CAR",
        invalid("consistency-finalized-missing", Chain),
        &[Car, Consistency],
        Made(|fx| Scenario::new(fx).finalized_missing()),
    ),
    car(
        "consistency/finalized-null-round",
        "the chain has null rounds where the F3 data finalizes a tipset (epoch 110): another chain",
        invalid("consistency-finalized-missing", Chain),
        &[Car, Consistency],
        Made(|fx| Scenario::new(fx).finalized_null_round()),
    ),
    car(
        "consistency/other-fork",
        "the chain forks from the F3 data's below epoch 110: the tipset the F3 data finalizes there is not on it",
        invalid("consistency-other-fork", Chain),
        &[Car, Consistency],
        Made(|fx| Scenario::new(fx).other_fork(false)),
    ),
    car(
        "consistency/other-fork-in-car",
        "the finalized tipset is in the CAR, on a side branch: the head descends from another tipset at its epoch",
        invalid("consistency-other-fork", Chain),
        &[Car, Consistency],
        Made(|fx| Scenario::new(fx).other_fork(true)),
    ),
    car(
        "consistency/finalized-above-head",
        "the chain was exported at epoch 108, the F3 data finalizes epoch 110: a chain older than its F3 data; acceptable, since Lotus's ExportV2 writes the latest F3 data whatever tipset it exports, so its snapshot of an older tipset looks the same",
        acceptable("consistency-finalized-above-head", Chain),
        &[Car, Consistency],
        Made(|fx| Scenario::new(fx).finalized_above_head()),
    ),
    car(
        "consistency/head-not-highest",
        "the metadata names the tipset at epoch 111 as the head, but the CAR also holds the tipset at 112 above it",
        invalid("consistency-head-not-highest", Chain),
        &[Car, Consistency],
        Made(|fx| Scenario::new(fx).head_not_highest()),
    ),
    car(
        "consistency/too-far",
        "the head is 901 epochs above the finalized tipset (null rounds between): beyond the 900 within which Lotus uses F3 finality; acceptable, since an honest snapshot taken while F3 is paused or lagging looks the same",
        acceptable("consistency-too-far", Chain),
        &[Car, Consistency],
        Made(|fx| Scenario::new(fx).too_far()),
    ),
    car(
        "consistency/head-not-header",
        "one of the head tipset's two blocks is an array of 16 that is not a block header (its Parents is null)",
        invalid("consistency-head-not-header", Chain),
        &[Car, Consistency],
        Made(|fx| Scenario::new(fx).head_not_header()),
    ),
    car(
        "consistency/malformed-chain",
        "the head tipset's two blocks have different heights (112 and 113): not a tipset",
        invalid("consistency-malformed-chain", Chain),
        &[Car, Consistency],
        Made(|fx| Scenario::new(fx).malformed_chain()),
    ),
];

/// The consistent snapshot: `A` whole, laid out as Lotus exports it.
pub(super) fn consistent(fx: &Fixtures) -> Result<Vec<u8>> {
    let s = Scenario::new(fx);
    s.car(s.head(), &s.a.export_order())
}

/// The consistent snapshot's facts, as its writer knows them.
pub(super) fn consistent_facts(fx: &Fixtures) -> Result<Facts> {
    let f3 = Scenario::new(fx).f3;
    Ok(Facts {
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
    })
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

/// The head tipset of a chain.
fn last(c: &ChainBuilder) -> &Tipset {
    match c.tipsets().last() {
        Some(t) => t,
        None => unreachable!("every chain here has tipsets"),
    }
}

/// Chain `A` and the F3 data over it, signed for the fixtures' network.
struct Scenario {
    a: ChainBuilder,
    f3: F3,
}

impl Scenario {
    fn new(fx: &Fixtures) -> Scenario {
        let a = chain_a();
        let f3 = f3_data(&a, &fx.index.network);
        Scenario { a, f3 }
    }

    fn head(&self) -> &Tipset {
        last(&self.a)
    }

    /// A v2 snapshot whose head is `head`, with the F3 data and `chain`.
    fn car(&self, head: &Tipset, chain: &[(Cid, Vec<u8>)]) -> Result<Vec<u8>> {
        let f3 = Some((&self.f3.cid, self.f3.bytes.as_slice()));
        write_v2_snapshot(Vec::new(), &head.cids(), f3, chain)
            .map(|r| r.0)
            .map_err(Error::input("the consistency case"))
    }

    /// `A`'s tipsets that `keep` selects.
    fn a_where(&self, keep: impl Fn(i64) -> bool) -> Vec<&Tipset> {
        self.a.tipsets().iter().filter(|t| keep(t.epoch)).collect()
    }

    fn finalized_missing(&self) -> Result<Vec<u8>> {
        self.car(self.head(), &blocks(&self.a_where(|e| e > FINALIZED)))
    }

    /// Chain `B`: `A` up to 108, null rounds at 109 and 110, then its own 111 and 112.
    fn finalized_null_round(&self) -> Result<Vec<u8>> {
        let mut b = self.a.fork(index(&self.a, 108) + 1, 0xb);
        b.push(111, 1);
        b.push(112, 2);
        let all: Vec<&Tipset> = b.tipsets().iter().collect();
        self.car(last(&b), &blocks(&all))
    }

    /// Chain `C`: `A` up to 108, then its own tipsets at 109 to 112; with `side`, `A`'s 109
    /// and 110 are in the CAR too, as a side branch.
    fn other_fork(&self, side: bool) -> Result<Vec<u8>> {
        let mut c = self.a.fork(index(&self.a, 108) + 1, 0xc);
        for (epoch, n) in [(109, 1), (110, 2), (111, 1), (112, 1)] {
            c.push(epoch, n);
        }
        let mut all: Vec<&Tipset> = c.tipsets().iter().collect();
        if side {
            all.extend(self.a_where(|e| (109..=FINALIZED).contains(&e)));
        }
        self.car(last(&c), &blocks(&all))
    }

    fn finalized_above_head(&self) -> Result<Vec<u8>> {
        let old = self.a_where(|e| e <= 108);
        let head = old.last().copied().unwrap_or(self.head());
        self.car(head, &blocks(&old))
    }

    fn head_not_highest(&self) -> Result<Vec<u8>> {
        let ts = self.a.tipsets();
        let below_head = ts.iter().rev().nth(1).unwrap_or(self.head());
        self.car(below_head, &blocks(&self.a_where(|_| true)))
    }

    /// Chain `D`: `A` up to 110, then 901 epochs of null rounds and a head at 1011.
    fn too_far(&self) -> Result<Vec<u8>> {
        let mut d = self.a.fork(index(&self.a, FINALIZED) + 1, 0xd);
        d.push(FINALIZED + MAX_LAG + 1, 2);
        let all: Vec<&Tipset> = d.tipsets().iter().collect();
        self.car(last(&d), &blocks(&all))
    }

    /// A head tipset of two blocks, one whose Parents is null (Lotus: "expected cbor array").
    fn head_not_header(&self) -> Result<Vec<u8>> {
        let mut e = self.a.fork(index(&self.a, 111) + 1, 0xe);
        let parents = e.parents();
        let good = e.fields(112, parents.clone());
        let mut broken = encode_fields(&e.fields(112, parents));
        if let Some(p) = broken.get_mut(5) {
            *p = vec![crate::cbor::NULL];
        }
        let mut broken_block = vec![crate::chain::HEADER_FIRST_BYTE];
        broken_block.extend(broken.concat());
        e.push_encoded(112, vec![encode_header(&good), broken_block]);
        let all: Vec<&Tipset> = e.tipsets().iter().collect();
        self.car(last(&e), &blocks(&all))
    }

    /// A head tipset of two headers at different heights.
    fn malformed_chain(&self) -> Result<Vec<u8>> {
        let mut m = self.a.fork(index(&self.a, 111) + 1, 0xf);
        let parents = m.parents();
        let at_112 = m.fields(112, parents.clone());
        let at_113 = m.fields(113, parents);
        m.push_fields(112, vec![at_112, at_113]);
        let all: Vec<&Tipset> = m.tipsets().iter().collect();
        self.car(last(&m), &blocks(&all))
    }
}
