//! Lotus block headers written for tests, the corpus and synthetic snapshots: every field of
//! the 16-tuple, encoded as Lotus's cbor-gen code encodes it, so that Lotus's decoder accepts
//! them, grouped into tipsets in Lotus's canonical order (by the blake2b-256 of the ticket,
//! then by CID) and laid out head first, as Lotus's export walks a chain.

use cid::Cid;

use crate::cbor::Encoder;
use crate::cids::{blake2b256, cid_of, DAG_CBOR};
use crate::framing::encode_uvarint;
use crate::synth::Rng;

/// Mainnet's genesis timestamp; a header at height `h` is stamped 30 s per epoch after it.
pub const GENESIS_TIMESTAMP: u64 = 1_598_306_400;

/// The values of one block header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderFields {
    /// Miner actor ID (`f0…` address).
    pub miner: u64,
    /// Ticket VRF proof.
    pub ticket: Vec<u8>,
    /// Election proof: win count and VRF proof.
    pub election_proof: Option<(i64, Vec<u8>)>,
    /// Beacon entries: round and data.
    pub beacon_entries: Vec<(u64, Vec<u8>)>,
    /// WinningPoSt proofs: proof type and bytes.
    pub win_post_proofs: Vec<(i64, Vec<u8>)>,
    /// Parent tipset key, in canonical order.
    pub parents: Vec<Cid>,
    /// Parent weight.
    pub parent_weight: u64,
    /// Epoch.
    pub height: i64,
    /// ParentStateRoot, ParentMessageReceipts and Messages.
    pub links: [Cid; 3],
    /// BLS aggregate signature (type byte and data).
    pub bls_aggregate: Option<Vec<u8>>,
    /// Timestamp.
    pub timestamp: u64,
    /// Block signature (type byte and data).
    pub block_sig: Option<Vec<u8>>,
    /// Parent base fee.
    pub parent_base_fee: u64,
}

fn bigint(e: &mut Encoder, v: u64) {
    if v == 0 {
        e.bytes(&[]);
        return;
    }
    let be = v.to_be_bytes();
    let skip = be.iter().take_while(|&&b| b == 0).count();
    let mut b = vec![0u8];
    b.extend_from_slice(be.get(skip..).unwrap_or_default());
    e.bytes(&b);
}

fn nullable_bytes(e: &mut Encoder, v: &Option<Vec<u8>>) {
    match v {
        Some(b) => e.bytes(b),
        None => e.null(),
    }
}

/// Encodes `h` as Lotus does: the 16-tuple in field order.
pub fn encode_header(h: &HeaderFields) -> Vec<u8> {
    let mut out = vec![crate::chain::HEADER_FIRST_BYTE];
    for f in encode_fields(h) {
        out.extend_from_slice(&f);
    }
    out
}

/// The encodings of the 16 fields, in order (to build a header with one field changed).
pub fn encode_fields(h: &HeaderFields) -> Vec<Vec<u8>> {
    let mut fields = Vec::with_capacity(16);
    let mut field = |f: &mut dyn FnMut(&mut Encoder)| {
        let mut e = Encoder::new();
        f(&mut e);
        fields.push(e.into_bytes());
    };
    field(&mut |e| {
        let mut addr = vec![0u8];
        encode_uvarint(h.miner, &mut addr);
        e.bytes(&addr);
    });
    field(&mut |e| {
        e.array(1);
        e.bytes(&h.ticket);
    });
    field(&mut |e| match &h.election_proof {
        Some((wins, vrf)) => {
            e.array(2);
            e.i64(*wins);
            e.bytes(vrf);
        }
        None => e.null(),
    });
    field(&mut |e| {
        e.array(h.beacon_entries.len() as u64);
        for (round, data) in &h.beacon_entries {
            e.array(2);
            e.u64(*round);
            e.bytes(data);
        }
    });
    field(&mut |e| {
        e.array(h.win_post_proofs.len() as u64);
        for (kind, proof) in &h.win_post_proofs {
            e.array(2);
            e.i64(*kind);
            e.bytes(proof);
        }
    });
    field(&mut |e| {
        e.array(h.parents.len() as u64);
        for p in &h.parents {
            e.cid(p);
        }
    });
    field(&mut |e| bigint(e, h.parent_weight));
    field(&mut |e| e.i64(h.height));
    for l in &h.links {
        field(&mut |e| e.cid(l));
    }
    field(&mut |e| nullable_bytes(e, &h.bls_aggregate));
    field(&mut |e| e.u64(h.timestamp));
    field(&mut |e| nullable_bytes(e, &h.block_sig));
    field(&mut |e| e.u64(0));
    field(&mut |e| bigint(e, h.parent_base_fee));
    fields
}

/// How much of a real header to imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// About 330 bytes: a 32-byte ticket and election proof, a block signature, no beacon
    /// entry, proof or BLS aggregate (corpus cases).
    Compact,
    /// About 950 bytes, shaped like mainnet's: 96-byte VRF proofs, a beacon entry, a 192-byte
    /// WinningPoSt proof, the empty BLS aggregate and a block signature.
    Realistic,
}

/// A tipset: its epoch and its blocks (CID and bytes) in canonical order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tipset {
    /// Epoch.
    pub epoch: i64,
    /// Blocks, in the order of the tipset key.
    pub blocks: Vec<(Cid, Vec<u8>)>,
}

impl Tipset {
    /// The block CIDs.
    pub fn cids(&self) -> Vec<Cid> {
        self.blocks.iter().map(|b| b.0).collect()
    }

    /// The key as F3 writes it: the binary CIDs concatenated.
    pub fn key(&self) -> Vec<u8> {
        self.blocks.iter().flat_map(|b| b.0.to_bytes()).collect()
    }
}

/// The one-byte DAG-CBOR block `0x80` (an empty array) that synthetic headers name as their
/// state root, receipts and messages, and its CID.
pub fn empty_block() -> (Cid, Vec<u8>) {
    let data = vec![0x80];
    (cid_of(DAG_CBOR, &data), data)
}

/// Builds a chain tipset by tipset, each on top of the last.
#[derive(Debug, Clone)]
pub struct ChainBuilder {
    rng: Rng,
    style: Style,
    base: Vec<Cid>,
    tipsets: Vec<Tipset>,
}

impl ChainBuilder {
    /// An empty chain whose first tipset will have `base` as its parents (blocks the CAR
    /// need not hold).
    pub fn new(seed: u64, style: Style, base: Vec<Cid>) -> Self {
        ChainBuilder {
            rng: Rng::new(seed),
            style,
            base,
            tipsets: Vec::new(),
        }
    }

    /// The tipsets so far, lowest first.
    pub fn tipsets(&self) -> &[Tipset] {
        &self.tipsets
    }

    /// The same chain up to its first `keep` tipsets, continued with another seed: a fork.
    pub fn fork(&self, keep: usize, seed: u64) -> ChainBuilder {
        let mut f = self.clone();
        f.tipsets.truncate(keep);
        f.rng = Rng::new(seed);
        f
    }

    /// The header values a block of this style at `height` on `parents` gets.
    pub fn fields(&mut self, height: i64, parents: Vec<Cid>) -> HeaderFields {
        let (empty, _) = empty_block();
        let r = &mut self.rng;
        let miner = 1000 + r.below(8);
        let realistic = self.style == Style::Realistic;
        let vrf = if realistic { 96 } else { 32 };
        let mut sig = vec![2u8];
        sig.extend(r.bytes(96));
        HeaderFields {
            miner,
            ticket: r.bytes(vrf),
            election_proof: Some((1, r.bytes(vrf))),
            beacon_entries: if realistic {
                vec![(height.unsigned_abs() + 1_000_000, r.bytes(96))]
            } else {
                vec![]
            },
            win_post_proofs: if realistic {
                vec![(3, r.bytes(192))]
            } else {
                vec![]
            },
            parents,
            parent_weight: height.unsigned_abs() * 1_000,
            height,
            links: [empty; 3],
            bls_aggregate: realistic.then(|| {
                let mut b = vec![2u8, 0xc0];
                b.resize(97, 0);
                b
            }),
            timestamp: GENESIS_TIMESTAMP + 30 * height.unsigned_abs(),
            block_sig: Some(sig),
            parent_base_fee: 100_000_000,
        }
    }

    /// Adds a tipset of `blocks` blocks at `epoch` on top of the last one.
    pub fn push(&mut self, epoch: i64, blocks: usize) -> &Tipset {
        let fields: Vec<HeaderFields> = (0..blocks.max(1))
            .map(|_| {
                let parents = self.parents();
                self.fields(epoch, parents)
            })
            .collect();
        self.push_fields(epoch, fields)
    }

    /// The parents a new tipset gets: the last tipset's key, or the base.
    pub fn parents(&self) -> Vec<Cid> {
        self.tipsets
            .last()
            .map_or_else(|| self.base.clone(), Tipset::cids)
    }

    /// Adds a tipset of the headers `fields` (in any order) at `epoch`.
    pub fn push_fields(&mut self, epoch: i64, fields: Vec<HeaderFields>) -> &Tipset {
        self.push_encoded(epoch, fields.iter().map(encode_header).collect())
    }

    /// Adds a tipset of already-encoded headers, sorted into canonical order (by ticket
    /// digest, then CID) when they decode as headers.
    pub fn push_encoded(&mut self, epoch: i64, blocks: Vec<Vec<u8>>) -> &Tipset {
        let mut blocks: Vec<([u8; 32], Cid, Vec<u8>)> = blocks
            .into_iter()
            .map(|b| (ticket_digest(&b), cid_of(DAG_CBOR, &b), b))
            .collect();
        blocks.sort_by_key(|a| (a.0, a.1.to_bytes()));
        self.tipsets.push(Tipset {
            epoch,
            blocks: blocks.into_iter().map(|(_, c, b)| (c, b)).collect(),
        });
        match self.tipsets.last() {
            Some(t) => t,
            None => unreachable!("a tipset was just pushed"),
        }
    }

    /// A synthetic chain of `epochs` epochs from epoch 1: one to three blocks a tipset, and
    /// about one epoch in 25 a null round (never the last).
    pub fn synthetic(seed: u64, style: Style, epochs: u64) -> ChainBuilder {
        let base = vec![cid_of(DAG_CBOR, b"frc0108 synthetic chain base")];
        let mut c = ChainBuilder::new(seed, style, base);
        for epoch in 1..=epochs as i64 {
            if epoch < epochs as i64 && c.rng.below(25) == 0 {
                continue;
            }
            let blocks = 1 + c.rng.below(3) as usize;
            c.push(epoch, blocks);
        }
        c
    }

    /// Every block, in the order Lotus's export writes headers: the head tipset first, then
    /// each tipset below it, with the one block headers name as their messages and state
    /// after the first header.
    pub fn export_order(&self) -> Vec<(Cid, Vec<u8>)> {
        let empty = empty_block();
        self.export_blocks(&empty)
            .map(|(c, d)| (*c, d.to_vec()))
            .collect()
    }

    /// [`ChainBuilder::export_order`] without copying, given the block [`empty_block`]
    /// returns.
    pub fn export_blocks<'a>(
        &'a self,
        empty: &'a (Cid, Vec<u8>),
    ) -> impl Iterator<Item = (&'a Cid, &'a [u8])> + 'a {
        let headers = self.tipsets.iter().rev().flat_map(|t| t.blocks.iter());
        let mut first = true;
        headers.flat_map(move |b| {
            let extra = std::mem::take(&mut first).then_some((&empty.0, empty.1.as_slice()));
            std::iter::once((&b.0, b.1.as_slice())).chain(extra)
        })
    }
}

/// blake2b-256 of a header's ticket, which orders a tipset's blocks (zero if it has none).
fn ticket_digest(block: &[u8]) -> [u8; 32] {
    let mut d = crate::cbor::Decoder::new(block);
    let ticket = (|| {
        d.array(16).ok()?;
        d.bytes(64).ok()?;
        d.array(1).ok()?;
        d.bytes(crate::types::limits::MAX_BYTES).ok()
    })();
    ticket.map(blake2b256).unwrap_or_default()
}
