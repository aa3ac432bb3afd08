//! The go-f3 fixtures the cases are built from, decoded once, and the tools to rebuild them
//! with a change: F3 data as blocks and values, a block as an editable CBOR tree, a snapshot
//! CAR as its blocks.

use std::path::{Path, PathBuf};

use cid::Cid;

use crate::car::{CarHeader, CarReader, CarWriter};
use crate::cbor::Encoder;
use crate::conformance::error::{Error, Result};
use crate::conformance::node::{parse_all, Node};
use crate::conformance::sidecar::{Index, Sidecar};
use crate::f3data::F3DataReader;
use crate::framing::encode_uvarint;
use crate::types::{Cbor, F3SnapshotHeader, FinalityCertificate, SnapshotMetadata};

/// The certificate most cases change: instance 5 of `tiny`, in the middle of the chain.
pub(super) const CERT: usize = 5;

/// The network mainnet's certificates are signed for.
pub(super) const MAINNET: &str = "filecoin";

/// A CAR block: its CID and data.
pub(super) type Block = (Cid, Vec<u8>);

/// The fixtures, decoded.
pub(super) struct Fixtures {
    dir: PathBuf,
    /// `index.json`.
    pub index: Index,
    /// 12 certificates, 4 participants, no churn.
    pub tiny: F3,
    /// Joins, leaves, power changes and key rotations.
    pub churn: F3,
    /// ECChains with null rounds.
    pub nullrounds: F3,
    /// 1500 certificates across go-f3's power-table checkpoint at 1439.
    pub checkpoint: F3,
    /// The v2 snapshot around `tiny`.
    pub car: Snapshot,
    /// Mainnet's first ten certificates (instances 0 to 9, real BLS signatures from about 950
    /// of 1,560 participants, a power-only delta at instance 9), as go-f3 exported them from
    /// Lotus's RPC JSON.
    pub mainnet: F3,
}

impl Fixtures {
    /// Reads and decodes the fixtures in `dir`.
    pub fn load(dir: &Path) -> Result<Fixtures> {
        let f3 = |name: &str| {
            F3::parse(&fixture_bytes(dir, name)?)
                .map_err(Error::input(format!("go-f3 fixture {name}")))
        };
        Ok(Fixtures {
            dir: dir.to_path_buf(),
            index: Index::load(dir)?,
            tiny: f3("tiny")?,
            churn: f3("churn")?,
            nullrounds: f3("nullrounds")?,
            checkpoint: f3("checkpoint")?,
            car: Snapshot::parse("car-v2-tiny", fixture_bytes(dir, "car-v2-tiny")?)?,
            mainnet: f3("mainnet-0-9")?,
        })
    }

    /// The sidecar of fixture `name`.
    pub fn sidecar(&self, name: &str) -> Result<Sidecar> {
        Sidecar::load(&self.dir, name)
    }

    /// The bytes of fixture `name`.
    pub fn bytes(&self, name: &str) -> Result<Vec<u8>> {
        fixture_bytes(&self.dir, name)
    }
}

/// The bytes of fixture `name` in `dir`, found through its sidecar.
fn fixture_bytes(dir: &Path, name: &str) -> Result<Vec<u8>> {
    Sidecar::load(dir, name)?.read(dir)
}

/// A decoded F3 fixture: the header and certificates, and their blocks as written.
#[derive(Clone)]
pub(super) struct F3 {
    pub header: F3SnapshotHeader,
    pub certs: Vec<FinalityCertificate>,
    pub header_block: Vec<u8>,
    pub blocks: Vec<Vec<u8>>,
}

impl F3 {
    fn parse(bytes: &[u8]) -> crate::Result<F3> {
        let mut r = F3DataReader::new(bytes)?;
        let header = r.header().value.clone();
        let header_block = r.last_block_bytes().to_vec();
        let mut certs = Vec::new();
        let mut blocks = Vec::new();
        while let Some(b) = r.next() {
            certs.push(b?.value);
            blocks.push(r.last_block_bytes().to_vec());
        }
        Ok(F3 {
            header,
            certs,
            header_block,
            blocks,
        })
    }

    /// The stream with `self.header_block` and `self.blocks` as they are now.
    pub fn bytes(&self) -> Vec<u8> {
        frame(std::iter::once(&self.header_block).chain(&self.blocks))
    }

    /// The stream re-encoded from the decoded header and certificates as they are now.
    pub fn re_encoded(&self) -> Vec<u8> {
        let header = self.header.to_cbor();
        let certs: Vec<_> = self.certs.iter().map(Cbor::to_cbor).collect();
        frame(std::iter::once(&header).chain(&certs))
    }

    /// The stream with certificate block `i`'s CBOR tree edited.
    pub fn with_cert_node(&self, i: usize, edit: impl FnOnce(&mut Node)) -> Vec<u8> {
        let mut f = self.clone();
        if let Some(b) = f.blocks.get_mut(i) {
            *b = edited(b, edit);
        }
        f.bytes()
    }

    /// The stream with the header block's CBOR tree edited.
    pub fn with_header_node(&self, edit: impl FnOnce(&mut Node)) -> Vec<u8> {
        let mut f = self.clone();
        f.header_block = edited(&f.header_block, edit);
        f.bytes()
    }

    /// The stream with the decoded values changed, then re-encoded.
    pub fn with_values(&self, edit: impl FnOnce(&mut F3)) -> Vec<u8> {
        let mut f = self.clone();
        edit(&mut f);
        f.re_encoded()
    }

    /// The stream with the certificate blocks `blocks` (by index, repeats allowed).
    pub fn with_blocks(&self, blocks: impl IntoIterator<Item = usize>) -> Vec<u8> {
        let mut f = self.clone();
        f.blocks = blocks
            .into_iter()
            .filter_map(|i| self.blocks.get(i).cloned())
            .collect();
        f.bytes()
    }
}

/// A block's CBOR tree, edited and emitted (an empty leaf if the block does not parse).
fn edited(block: &[u8], edit: impl FnOnce(&mut Node)) -> Vec<u8> {
    let mut n = parse_all(block).unwrap_or(Node::Leaf(vec![]));
    edit(&mut n);
    n.emit()
}

/// `uvarint(len) ‖ block` for each block.
pub(super) fn frame<'a>(blocks: impl IntoIterator<Item = &'a Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for b in blocks {
        encode_uvarint(b.len() as u64, &mut out);
        out.extend_from_slice(b);
    }
    out
}

/// Replaces the node at `path`, if there is one.
pub(super) fn replace(node: &mut Node, path: &[usize], with: Node) {
    if let Some(n) = node.at(path) {
        *n = with;
    }
}

/// A CID item (tag 42) over arbitrary CID bytes.
pub(super) fn cid_node(cid_bytes: &[u8]) -> Node {
    let mut inner = vec![0u8];
    inner.extend_from_slice(cid_bytes);
    tagged_cid(&inner)
}

/// Tag 42 over a byte string, whatever its content.
pub(super) fn tagged_cid(content: &[u8]) -> Node {
    let mut e = Encoder::new();
    e.header(crate::cbor::major::TAG, 42);
    e.bytes(content);
    parse_all(&e.into_bytes()).unwrap_or(Node::Leaf(vec![]))
}

/// A v2 snapshot CAR fixture as its parts.
pub(super) struct Snapshot {
    /// The file as go-f3's side wrote it.
    pub bytes: Vec<u8>,
    /// The header's roots.
    pub roots: Vec<Cid>,
    /// The metadata block, first.
    pub metadata_block: Block,
    /// The metadata, decoded.
    pub metadata: SnapshotMetadata,
    /// The F3 block, second.
    pub f3: Block,
    /// The chain blocks after them.
    pub chain: Vec<Block>,
}

impl Snapshot {
    fn parse(name: &str, bytes: Vec<u8>) -> Result<Snapshot> {
        let input = || Error::input(format!("go-f3 fixture {name}"));
        let mut car = CarReader::new(&bytes[..]).map_err(input())?;
        let roots = car.header().roots.clone();
        let mut blocks = Vec::new();
        while let Some(s) = car.next_section().map_err(input())? {
            let mut data = Vec::new();
            car.read_section(1 << 30, &mut data).map_err(input())?;
            blocks.push((s.cid, data));
        }
        let mut blocks = blocks.into_iter();
        let (Some(metadata_block), Some(f3)) = (blocks.next(), blocks.next()) else {
            return Err(Error::Fixture {
                name: name.into(),
                why: "fewer than two blocks: no metadata and F3 block".into(),
            });
        };
        let metadata = SnapshotMetadata::from_cbor(&metadata_block.1).map_err(input())?;
        Ok(Snapshot {
            roots,
            metadata_block,
            metadata,
            f3,
            chain: blocks.collect(),
            bytes,
        })
    }

    /// Every block in order: metadata, F3, chain.
    pub fn blocks(&self) -> Vec<Block> {
        let mut v = vec![self.metadata_block.clone(), self.f3.clone()];
        v.extend(self.chain.iter().cloned());
        v
    }
}

/// A CARv1 payload: a header with `roots` and `version` (as given, even when not 1), then
/// `blocks`.
pub(super) fn car_bytes(roots: &[Cid], version: u64, blocks: &[Block]) -> Result<Vec<u8>> {
    let write = || -> crate::Result<Vec<u8>> {
        let header = CarHeader {
            roots: roots.to_vec(),
            version,
        };
        let mut w = CarWriter::with_header(Vec::new(), &header)?;
        for (c, d) in blocks {
            w.write_block(c, d)?;
        }
        w.finish()
    };
    write().map_err(Error::input("writing a CAR"))
}
