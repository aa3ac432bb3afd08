//! `frc0108 vectors generate`: builds every case from the go-f3 fixtures, deterministically.
//!
//! Each invalid case states the error code it is meant to provoke and the shallowest level
//! that finds it; generation checks both against the reference reader (the code must appear
//! at that level and not below it), so a case that tests something else fails to generate.
//! Valid cases take their expected facts from go-f3's sidecars, not from this reader.

use std::path::{Path, PathBuf};

use num_bigint::BigInt;
use serde_json::Value;
use sha2::Digest;

use super::node::{leaf, parse_all, Node};
use super::{Case, Expected, Facts, HeaderFacts, Manifest, MANIFEST_FORMAT};
use crate::car::{wrap_carv2, CarHeader, CarReader, CarWriter};
use crate::cbor::Encoder;
use crate::cids::{cid_of, DAG_CBOR, RAW};
use crate::error::{Error, ErrorKind, Result};
use crate::f3data::F3DataReader;
use crate::framing::encode_uvarint;
use crate::report::analyze;
use crate::types::{Cbor, F3SnapshotHeader, FinalityCertificate, SnapshotMetadata};
use crate::validate::{Level, Options};

fn io_err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Io(msg.into()))
}

/// A decoded F3 fixture: the header and certificates, and their blocks as written.
#[derive(Clone)]
struct F3 {
    header: F3SnapshotHeader,
    certs: Vec<FinalityCertificate>,
    header_block: Vec<u8>,
    blocks: Vec<Vec<u8>>,
}

impl F3 {
    fn parse(bytes: &[u8]) -> Result<F3> {
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
    fn bytes(&self) -> Vec<u8> {
        frame(std::iter::once(&self.header_block).chain(&self.blocks))
    }

    /// Re-encodes the header and certificates from the decoded values.
    fn re_encoded(&self) -> F3 {
        let mut f = self.clone();
        f.header_block = f.header.to_cbor();
        f.blocks = f.certs.iter().map(Cbor::to_cbor).collect();
        f
    }

    fn cert_node(&self, i: usize) -> Node {
        self.blocks
            .get(i)
            .and_then(|b| parse_all(b))
            .unwrap_or(Node::Leaf(vec![]))
    }

    fn with_cert_node(&self, i: usize, edit: impl FnOnce(&mut Node)) -> F3 {
        let mut n = self.cert_node(i);
        edit(&mut n);
        let mut f = self.clone();
        if let Some(b) = f.blocks.get_mut(i) {
            *b = n.emit();
        }
        f
    }

    fn with_header_node(&self, edit: impl FnOnce(&mut Node)) -> F3 {
        let mut n = parse_all(&self.header_block).unwrap_or(Node::Leaf(vec![]));
        edit(&mut n);
        let mut f = self.clone();
        f.header_block = n.emit();
        f
    }
}

fn frame<'a>(blocks: impl IntoIterator<Item = &'a Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for b in blocks {
        encode_uvarint(b.len() as u64, &mut out);
        out.extend_from_slice(b);
    }
    out
}

fn replace(node: &mut Node, path: &[usize], with: Node) {
    if let Some(n) = node.at(path) {
        *n = with;
    }
}

/// A CID item (tag 42) over arbitrary CID bytes.
fn cid_node(cid_bytes: &[u8]) -> Node {
    let mut e = Encoder::new();
    e.header(crate::cbor::major::TAG, 42);
    let mut inner = vec![0u8];
    inner.extend_from_slice(cid_bytes);
    e.bytes(&inner);
    parse_all(&e.into_bytes()).unwrap_or(Node::Leaf(vec![]))
}

/// The parts of a CARv1 payload.
struct CarParts {
    roots: Vec<cid::Cid>,
    blocks: Vec<(cid::Cid, Vec<u8>)>,
}

fn car_parts(bytes: &[u8]) -> Result<CarParts> {
    let mut car = CarReader::new(bytes)?;
    let roots = car.header().roots.clone();
    let mut blocks = Vec::new();
    while let Some(s) = car.next_section()? {
        let mut data = Vec::new();
        car.read_section(1 << 30, &mut data)?;
        blocks.push((s.cid, data));
    }
    Ok(CarParts { roots, blocks })
}

fn car_bytes(roots: &[cid::Cid], version: u64, blocks: &[(cid::Cid, Vec<u8>)]) -> Result<Vec<u8>> {
    if version == 1 {
        let mut w = CarWriter::new(Vec::new(), roots)?;
        for (c, d) in blocks {
            w.write_block(c, d)?;
        }
        return w.finish();
    }
    let h = CarHeader {
        roots: roots.to_vec(),
        version,
    }
    .to_cbor();
    let mut out = Vec::new();
    encode_uvarint(h.len() as u64, &mut out);
    out.extend_from_slice(&h);
    let mut w = CarWriter::new(Vec::new(), &[])?;
    for (c, d) in blocks {
        w.write_block(c, d)?;
    }
    // Drop the empty header the writer put first; keep its sections.
    let body = w.finish()?;
    let skip = CarHeader {
        roots: vec![],
        version: 1,
    }
    .to_cbor();
    let mut pre = Vec::new();
    encode_uvarint(skip.len() as u64, &mut pre);
    out.extend_from_slice(body.get(pre.len() + skip.len()..).unwrap_or_default());
    Ok(out)
}

/// What one case is meant to be.
struct Spec<'a> {
    id: &'a str,
    description: &'a str,
    result: Expected,
    error: Option<&'a str>,
    level: Level,
    flags: &'a [&'a str],
    network: Option<&'a str>,
}

fn invalid<'a>(
    id: &'a str,
    description: &'a str,
    error: &'a str,
    level: Level,
    flags: &'a [&'a str],
) -> Spec<'a> {
    Spec {
        id,
        description,
        result: Expected::Invalid,
        error: Some(error),
        level,
        flags,
        network: None,
    }
}

fn acceptable<'a>(
    id: &'a str,
    description: &'a str,
    error: &'a str,
    level: Level,
    flags: &'a [&'a str],
) -> Spec<'a> {
    Spec {
        result: Expected::Acceptable,
        ..invalid(id, description, error, level, flags)
    }
}

struct Gen {
    out: PathBuf,
    fixtures: PathBuf,
    network: String,
    go_f3_version: String,
    cases: Vec<Case>,
}

impl Gen {
    fn fixture(&self, name: &str) -> Result<Vec<u8>> {
        let side = self.sidecar(name)?;
        let file = side["file"]
            .as_str()
            .ok_or_else(|| io_err(format!("{name}: sidecar has no file")))?;
        Ok(std::fs::read(self.fixtures.join(file))?)
    }

    fn sidecar(&self, name: &str) -> Result<Value> {
        let p = self.fixtures.join(format!("{name}.json"));
        let bytes = std::fs::read(&p).map_err(|e| io_err(format!("{}: {e}", p.display())))?;
        serde_json::from_slice(&bytes).map_err(|e| io_err(format!("{}: {e}", p.display())))
    }

    fn facts_from_sidecar(&self, name: &str, format: &str) -> Result<Facts> {
        let s = self.sidecar(name)?;
        let h = s["header"].as_object().map(|h| HeaderFacts {
            version: h["version"].as_u64().unwrap_or_default(),
            first_instance: h["first_instance"].as_u64().unwrap_or_default(),
            latest_instance: h["latest_instance"].as_u64().unwrap_or_default(),
            initial_power_table_cid: h["initial_power_table_cid"]
                .as_str()
                .unwrap_or_default()
                .into(),
            initial_power_table_entries: h["initial_power_table_entries"]
                .as_u64()
                .unwrap_or_default(),
        });
        Ok(Facts {
            format: format.into(),
            f3_cid: s["f3_cid"].as_str().map(String::from),
            header: h,
            certificates: s["certificates"].as_u64().unwrap_or_default(),
            final_power_table_cid: s["final_power_table_cid"].as_str().map(String::from),
        })
    }

    fn opts(&self, level: Level, network: &str) -> Options {
        Options {
            level,
            network: network.to_string(),
            ..Options::default()
        }
    }

    /// Writes the case file and records the case after checking it against the reference.
    fn add(
        &mut self,
        spec: Spec<'_>,
        ext: &str,
        bytes: &[u8],
        expected: Option<Facts>,
    ) -> Result<()> {
        let network = spec.network.unwrap_or(&self.network).to_string();
        let fail = |msg: String| Err(io_err(format!("case {}: {msg}", spec.id)));
        let deepest = analyze(bytes, Some(self.opts(Level::Crypto, &network)), &mut |_| {});
        match spec.result {
            Expected::Valid => {
                if let Some(e) = &deepest.error {
                    return fail(format!("meant to be valid, the reference says {e}"));
                }
                if let Some(f) = &expected {
                    let got = facts_of(&deepest);
                    if &got != f {
                        return fail(format!("facts differ: reference {got:?}, go-f3 {f:?}"));
                    }
                }
            }
            Expected::Invalid | Expected::Acceptable => {
                let want = spec.error.unwrap_or_default();
                let at = analyze(bytes, Some(self.opts(spec.level, &network)), &mut |_| {});
                let got = at.error.as_ref().map(Error::code);
                if got != Some(want) {
                    return fail(format!(
                        "meant to give {want} at level {}, gives {got:?}",
                        spec.level.name()
                    ));
                }
                if let Some(below) = level_below(spec.level) {
                    let b = analyze(bytes, Some(self.opts(below, &network)), &mut |_| {});
                    if b.error.as_ref().map(Error::code) == Some(want) {
                        return fail(format!("{want} is already found at level {}", below.name()));
                    }
                }
            }
        }
        let file = format!("cases/{}.{ext}", spec.id);
        let path = self.out.join(&file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, bytes)?;
        let kind = if ext.starts_with("car") {
            "car"
        } else {
            "f3data"
        };
        self.cases.push(Case {
            id: spec.id.to_string(),
            file,
            sha256: hex(&sha2::Sha256::digest(bytes)),
            kind: kind.into(),
            description: spec.description.into(),
            result: spec.result,
            error: spec.error.map(String::from),
            level: match spec.result {
                Expected::Valid => Level::Crypto.name().into(),
                _ => spec.level.name().into(),
            },
            network,
            flags: spec.flags.iter().map(|f| f.to_string()).collect(),
            expected,
        });
        Ok(())
    }
}

fn level_below(l: Level) -> Option<Level> {
    match l {
        Level::Structure => None,
        Level::Import => Some(Level::Structure),
        Level::Chain => Some(Level::Import),
        Level::Crypto => Some(Level::Chain),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The facts the reference found in a valid input.
pub fn facts_of(a: &crate::report::Analysis) -> Facts {
    let f3 = a.f3.as_ref();
    Facts {
        format: a.format.map(|f| f.name().to_string()).unwrap_or_default(),
        f3_cid: f3.and_then(|f| f.cid).map(|c| c.to_string()),
        header: f3.and_then(|f| {
            let h = f.header.as_ref()?;
            Some(HeaderFacts {
                version: h.version,
                first_instance: h.first_instance,
                latest_instance: h.latest_instance,
                initial_power_table_cid: f.initial_power_table_cid?.to_string(),
                initial_power_table_entries: h.initial_power_table.0.len() as u64,
            })
        }),
        certificates: f3.map_or(0, |f| f.certificates),
        final_power_table_cid: f3
            .and_then(|f| f.summary.as_ref())
            .and_then(|s| s.final_power_table)
            .map(|c| c.to_string()),
    }
}

/// Generates the corpus into `out` from the go-f3 fixtures in `fixtures`; returns the manifest.
pub fn generate(out: &Path, fixtures: &Path) -> Result<Manifest> {
    let index: Value = serde_json::from_slice(&std::fs::read(fixtures.join("index.json"))?)
        .map_err(|e| io_err(format!("index.json: {e}")))?;
    let mut g = Gen {
        out: out.to_path_buf(),
        fixtures: fixtures.to_path_buf(),
        network: index["network"].as_str().unwrap_or_default().to_string(),
        go_f3_version: index["go_f3_version"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        cases: Vec::new(),
    };
    // Regeneration replaces the previous corpus, and only a corpus: a `cases/` folder next to
    // anything but one of our manifests is left alone.
    let cases_dir = out.join("cases");
    if cases_dir.exists() {
        let ours = std::fs::read(out.join("manifest.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
            .is_some_and(|m| m.format == MANIFEST_FORMAT);
        if !ours {
            return Err(io_err(format!(
                "{} exists and is not a corpus this command wrote; not replacing it",
                cases_dir.display()
            )));
        }
        std::fs::remove_dir_all(&cases_dir)?;
    }
    valid_cases(&mut g)?;
    framing_cases(&mut g)?;
    cbor_cases(&mut g)?;
    sequence_and_header_cases(&mut g)?;
    delta_cases(&mut g)?;
    chain_cases(&mut g)?;
    signature_cases(&mut g)?;
    car_cases(&mut g)?;
    consistency_cases(&mut g)?;
    g.cases.sort_by(|a, b| a.id.cmp(&b.id));
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        go_f3_version: g.go_f3_version.clone(),
        cases: g.cases,
    };
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(|e| io_err(e.to_string()))?;
    json.push(b'\n');
    std::fs::write(out.join("manifest.json"), json)?;
    Ok(manifest)
}

fn valid_cases(g: &mut Gen) -> Result<()> {
    let f3s = [
        ("tiny", "12 certificates, 4 participants, no churn"),
        (
            "churn",
            "joins, leaves, power up and down, key rotation, a power above 2^64",
        ),
        ("nullrounds", "ECChains with epoch gaps (null rounds)"),
        (
            "checkpoint",
            "1500 certificates crossing go-f3's power-table checkpoint at 1439",
        ),
        (
            "first-instance-nonzero",
            "FirstInstance 1430, crossing the 1439 checkpoint",
        ),
        ("large", "2000 certificates, 100 participants"),
    ];
    for (name, what) in f3s {
        let bytes = g.fixture(name)?;
        let facts = g.facts_from_sidecar(name, "f3data")?;
        let id = format!("valid/{name}");
        let desc = format!("go-f3's export: {what}");
        g.add(
            Spec {
                id: &id,
                description: &desc,
                result: Expected::Valid,
                error: None,
                level: Level::Crypto,
                flags: &["Signature"],
                network: None,
            },
            "f3",
            &bytes,
            Some(facts),
        )?;
    }
    let cars = [
        (
            "car-v2-tiny",
            "car-v2-snapshot",
            "v2 snapshot laid out as Lotus's ExportV2",
        ),
        (
            "car-v2-churn",
            "car-v2-snapshot",
            "v2 snapshot around the churn chain",
        ),
        (
            "car-v2-no-f3",
            "car-v2-snapshot",
            "v2 snapshot whose metadata has F3Data null",
        ),
        ("car-v1", "car-v1-snapshot", "v1 snapshot with two roots"),
        (
            "car-v1-one-root",
            "car-v1-snapshot",
            "single-root v1 snapshot: the first block is not metadata, so v1",
        ),
        (
            "carv2-wrapped-v2-tiny",
            "car-v2-snapshot",
            "v2 snapshot inside a CARv2 container",
        ),
    ];
    for (name, format, what) in cars {
        let bytes = g.fixture(name)?;
        let facts = g.facts_from_sidecar(name, format)?;
        let id = format!("valid/{name}");
        g.add(
            Spec {
                id: &id,
                description: what,
                result: Expected::Valid,
                error: None,
                level: Level::Crypto,
                flags: &["Car", "Signature"],
                network: None,
            },
            "car",
            &bytes,
            Some(facts),
        )?;
    }
    let bytes = g.fixture("car-v2-tiny")?;
    let zst = zstd::encode_all(&bytes[..], 19)?;
    let facts = g.facts_from_sidecar("car-v2-tiny", "car-v2-snapshot")?;
    g.add(
        Spec {
            id: "valid/car-v2-tiny-zstd",
            description: "the v2 tiny snapshot compressed with zstd, as snapshots are published",
            result: Expected::Valid,
            error: None,
            level: Level::Crypto,
            flags: &["Car", "Zstd", "Signature"],
            network: None,
        },
        "car.zst",
        &zst,
        Some(facts),
    )
}

fn framing_cases(g: &mut Gen) -> Result<()> {
    let tiny = F3::parse(&g.fixture("tiny")?)?;
    let base = tiny.bytes();
    let s = Level::Structure;

    let mut b = base.clone();
    b.push(0x80);
    g.add(
        invalid(
            "framing/varint-truncated",
            "the stream ends inside a length prefix",
            "varint-truncated",
            s,
            &["LengthPrefix"],
        ),
        "f3",
        &b,
        None,
    )?;

    // The first certificate's prefix written with a redundant trailing group.
    let mut b = Vec::new();
    encode_uvarint(tiny.header_block.len() as u64, &mut b);
    b.extend_from_slice(&tiny.header_block);
    // The first certificate's prefix with one redundant group; the rest as it was.
    let first = tiny.blocks.first().cloned().unwrap_or_default();
    let mut p = Vec::new();
    encode_uvarint(first.len() as u64, &mut p);
    if let Some(last) = p.last_mut() {
        *last |= 0x80;
    }
    p.push(0);
    b.extend_from_slice(&p);
    b.extend_from_slice(&first);
    b.extend_from_slice(&frame(tiny.blocks.iter().skip(1)));
    g.add(
        invalid(
            "framing/varint-overlong",
            "a length prefix with a redundant 0x80 .. 0x00 group (go-f3 reads it)",
            "varint-overlong",
            s,
            &["LengthPrefix", "GoF3Lenient"],
        ),
        "f3",
        &b,
        None,
    )?;

    let mut b = base.clone();
    b.extend_from_slice(&[0xff; 10]);
    b.push(0x01);
    g.add(
        invalid(
            "framing/varint-over-64-bits",
            "a length prefix longer than ten bytes",
            "varint-overflow",
            s,
            &["LengthPrefix"],
        ),
        "f3",
        &b,
        None,
    )?;

    let mut b = base.clone();
    b.push(0x00);
    g.add(
        invalid(
            "framing/zero-length",
            "a block of declared length zero after the last certificate",
            "block-empty",
            s,
            &["LengthPrefix"],
        ),
        "f3",
        &b,
        None,
    )?;

    let mut b = base.clone();
    b.extend_from_slice(&[0x40, 0x86, 0x00]);
    g.add(
        invalid(
            "framing/length-past-end",
            "a block declaring more bytes than the input holds",
            "block-truncated",
            s,
            &["LengthPrefix"],
        ),
        "f3",
        &b,
        None,
    )?;

    let mut b = base.clone();
    b.push(0x05);
    g.add(invalid("framing/dangling-prefix", "a complete length prefix and no block after the last certificate (go-f3 takes it as the end)", "block-truncated", s, &["LengthPrefix", "GoF3Lenient"]), "f3", &b, None)?;

    let mut b = Vec::new();
    encode_uvarint(1 << 62, &mut b);
    b.resize(20, 0x84);
    g.add(
        invalid(
            "framing/huge-length",
            "20 bytes whose prefix declares a 2^62-byte header (go-f3 allocates it)",
            "block-too-large",
            s,
            &["LengthPrefix", "GoF3Crash"],
        ),
        "f3",
        &b,
        None,
    )?;

    let mut b = Vec::new();
    encode_uvarint(tiny.header_block.len() as u64, &mut b);
    b.extend_from_slice(&tiny.header_block);
    encode_uvarint(3 << 30, &mut b);
    b.extend_from_slice(tiny.blocks.first().map(Vec::as_slice).unwrap_or_default());
    g.add(invalid("framing/large-length", "a certificate prefix declaring 3 GiB, beyond any valid certificate (go-f3 allocates it)", "block-too-large", s, &["LengthPrefix", "GoF3Allocates"]), "f3", &b, None)
}

fn cbor_cases(g: &mut Gen) -> Result<()> {
    let tiny = F3::parse(&g.fixture("tiny")?)?;
    let churn = F3::parse(&g.fixture("churn")?)?;
    let s = Level::Structure;
    let c = 5;

    let f = tiny.with_cert_node(c, |n| replace(n, &[0], leaf(|e| e.bytes(&[5]))));
    g.add(
        invalid(
            "cbor/wrong-major-type",
            "GPBFTInstance written as a byte string",
            "cbor-unexpected-type",
            s,
            &["Cbor"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_cert_node(c, |n| n.push(leaf(|e| e.u64(0))));
    g.add(
        invalid(
            "cbor/wrong-arity",
            "a certificate array with seven fields",
            "cbor-wrong-arity",
            s,
            &["Cbor"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_cert_node(c, |n| {
        if let Some(x) = n.at(&[1]) {
            x.make_indefinite();
        }
    });
    g.add(
        invalid(
            "cbor/indefinite-length",
            "the ECChain as an indefinite-length array",
            "cbor-indefinite-length",
            s,
            &["Cbor"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_cert_node(c, |n| {
        if let Some(x) = n.at(&[0]) {
            x.widen_header();
        }
    });
    g.add(
        invalid(
            "cbor/non-minimal-integer",
            "GPBFTInstance in a longer form than needed",
            "cbor-non-minimal",
            s,
            &["Cbor"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_cert_node(c, |n| {
        if let Some(x) = n.at(&[5]) {
            x.widen_header();
        }
    });
    g.add(
        invalid(
            "cbor/non-minimal-length",
            "the delta array's length in a longer form than needed",
            "cbor-non-minimal",
            s,
            &["Cbor"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    // SupplementalData.PowerTable without its tag.
    let pt = tiny
        .certs
        .get(c)
        .map(|x| x.supplemental_data.power_table.to_bytes())
        .unwrap_or_default();
    let f = tiny.with_cert_node(c, |n| {
        let mut inner = vec![0u8];
        inner.extend_from_slice(&pt);
        replace(n, &[2, 1], leaf(|e| e.bytes(&inner)));
    });
    g.add(
        invalid(
            "cbor/cid-tag-missing",
            "SupplementalData.PowerTable as bare bytes, without tag 42",
            "cid-tag",
            s,
            &["Cbor", "Cid"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_cert_node(c, |n| {
        let mut e = Encoder::new();
        e.header(crate::cbor::major::TAG, 42);
        e.bytes(&[0u8; 32]);
        replace(
            n,
            &[2, 0],
            parse_all(&e.into_bytes()).unwrap_or(Node::Leaf(vec![])),
        );
    });
    g.add(
        invalid(
            "cbor/cid-tag-on-wrong-field",
            "tag 42 on SupplementalData.Commitments",
            "cbor-unexpected-type",
            s,
            &["Cbor", "Cid"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let digest = tiny
        .certs
        .get(c)
        .map(|x| x.supplemental_data.power_table.hash().digest().to_vec())
        .unwrap_or_default();
    let mut v0 = vec![0x12, 0x20];
    v0.extend_from_slice(&digest);
    let f = tiny.with_cert_node(c, |n| replace(n, &[2, 1], cid_node(&v0)));
    g.add(
        invalid(
            "cbor/cid-version-0",
            "SupplementalData.PowerTable as a CIDv0 (go-f3 decodes any CID)",
            "cid-version",
            s,
            &["Cid", "GoF3Lenient"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let raw_cid =
        crate::cids::cid_from_digest(RAW, &<[u8; 32]>::try_from(&digest[..]).unwrap_or_default());
    let f = tiny.with_cert_node(c, |n| replace(n, &[2, 1], cid_node(&raw_cid.to_bytes())));
    g.add(
        invalid(
            "cbor/cid-wrong-codec",
            "SupplementalData.PowerTable with the raw codec",
            "cid-codec",
            s,
            &["Cid", "GoF3Lenient"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let mut sha = vec![0x01, 0x71, 0x12, 0x20];
    sha.extend_from_slice(&digest);
    let f = tiny.with_cert_node(c, |n| replace(n, &[1, 0, 2], cid_node(&sha)));
    g.add(
        invalid(
            "cbor/cid-wrong-hash",
            "a tipset's PowerTable CID with a sha2-256 multihash",
            "cid-hash",
            s,
            &["Cid", "GoF3Lenient"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let mut bad = vec![0x01, 0x71, 0xa0, 0xe4, 0x02, 0x20];
    bad.extend_from_slice(&digest[..16]);
    let f = tiny.with_cert_node(c, |n| replace(n, &[2, 1], cid_node(&bad)));
    g.add(
        invalid(
            "cbor/cid-truncated",
            "a CID whose digest is shorter than its multihash declares",
            "cid-malformed",
            s,
            &["Cid"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let mut f = tiny.clone();
    if let Some(b) = f.blocks.get_mut(c) {
        b.extend_from_slice(&[0xde, 0xad]);
    }
    g.add(
        acceptable(
            "cbor/trailing-bytes-in-block",
            "two bytes after the certificate inside its block (go-f3 ignores and re-exports them)",
            "cbor-trailing-bytes",
            s,
            &["Cbor", "GoF3Lenient"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let mut f = tiny.clone();
    f.header_block.push(0x00);
    g.add(
        acceptable(
            "cbor/trailing-bytes-in-header",
            "a byte after the header inside its block (go-f3 ignores it)",
            "cbor-trailing-bytes",
            s,
            &["Cbor", "Header", "GoF3Lenient"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    // A delta with a 49-byte key: pick a churn certificate with a delta.
    let ci = churn
        .certs
        .iter()
        .position(|x| !x.power_table_delta.is_empty())
        .unwrap_or(0);
    let f = churn.with_cert_node(ci, |n| {
        replace(n, &[5, 0, 2], leaf(|e| e.bytes(&[7u8; 49])))
    });
    g.add(
        invalid(
            "cbor/signing-key-over-maxlen",
            "a delta's SigningKey of 49 bytes (maxlen 48)",
            "cbor-bytes-too-long",
            s,
            &["Cbor", "SizeLimit"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_cert_node(c, |n| {
        replace(n, &[1, 0, 1], leaf(|e| e.bytes(&[1u8; 761])))
    });
    g.add(
        invalid(
            "cbor/tipset-key-over-maxlen",
            "a tipset key of 761 bytes (maxlen 760)",
            "cbor-bytes-too-long",
            s,
            &["Cbor", "SizeLimit"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_cert_node(c, |n| replace(n, &[2, 0], leaf(|e| e.bytes(&[0u8; 31]))));
    g.add(
        invalid(
            "cbor/commitments-wrong-size",
            "SupplementalData.Commitments of 31 bytes (exactly 32 required)",
            "cbor-bytes-wrong-length",
            s,
            &["Cbor", "SizeLimit"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_cert_node(c, |n| {
        let mut e = Encoder::new();
        e.array(8193);
        replace(n, &[5], Node::Leaf(e.into_bytes()));
    });
    g.add(
        invalid(
            "cbor/array-over-8192",
            "a delta array declaring 8193 entries",
            "cbor-array-too-long",
            s,
            &["Cbor", "SizeLimit"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_header_node(|n| {
        if let Some(Node::Leaf(b)) = n.at(&[3, 0, 1]) {
            if let Some((_, mag)) = b.split_first() {
                let mut v = vec![0u8, 0u8];
                v.extend_from_slice(mag.get(1..).unwrap_or_default());
                *b = leaf(|e| e.bytes(&v)).emit();
            }
        }
    });
    g.add(
        acceptable(
            "cbor/bigint-leading-zero",
            "a header power with a leading zero magnitude byte (go-f3 reads the same number)",
            "bigint-non-canonical",
            s,
            &["BigInt", "GoF3Lenient"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    // Negative zero on a key rotation, which go-f3 reads as a zero delta with a new key.
    let rot = churn.certs.iter().position(|x| {
        x.power_table_delta
            .iter()
            .any(|d| d.power_delta == BigInt::default() && !d.signing_key.is_empty())
    });
    if let Some(ri) = rot {
        let di = churn.certs.get(ri).and_then(|x| {
            x.power_table_delta
                .iter()
                .position(|d| d.power_delta == BigInt::default() && !d.signing_key.is_empty())
        });
        let f = churn.with_cert_node(ri, |n| {
            replace(n, &[5, di.unwrap_or(0), 1], leaf(|e| e.bytes(&[0x01])))
        });
        g.add(
            acceptable(
                "cbor/bigint-negative-zero",
                "a key rotation whose power delta is negative zero (0x01)",
                "bigint-non-canonical",
                s,
                &["BigInt", "GoF3Lenient"],
            ),
            "f3",
            &f.bytes(),
            None,
        )?;
    }

    let f = tiny.with_header_node(|n| replace(n, &[3, 0, 1], leaf(|e| e.bytes(&[0x02, 0x05]))));
    g.add(
        invalid(
            "cbor/bigint-bad-sign",
            "a header power whose sign byte is 0x02",
            "bigint-sign",
            s,
            &["BigInt"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_header_node(|n| replace(n, &[3, 0, 1], leaf(|e| e.bytes(&[0u8; 129]))));
    g.add(
        invalid(
            "cbor/bigint-too-long",
            "a header power of 129 bytes (Filecoin's limit is 128)",
            "bigint-too-long",
            s,
            &["BigInt", "SizeLimit"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let signers = tiny
        .certs
        .get(c)
        .map(|x| x.signers.to_rle())
        .unwrap_or_default();
    let mut padded = signers.clone();
    padded.push(0);
    let f = tiny.with_cert_node(c, |n| replace(n, &[3], leaf(|e| e.bytes(&padded))));
    g.add(
        acceptable(
            "cbor/bitfield-trailing-zero",
            "the signer bitfield with a trailing zero byte (go-f3 does not decode it on import)",
            "bitfield-non-canonical",
            s,
            &["Bitfield", "GoF3Lenient"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let mut badver = signers;
    if let Some(b) = badver.first_mut() {
        *b |= 0x01;
    }
    let f = tiny.with_cert_node(c, |n| replace(n, &[3], leaf(|e| e.bytes(&badver))));
    g.add(
        invalid(
            "cbor/bitfield-bad-version",
            "an RLE+ bitfield whose version bits are not 00",
            "bitfield-malformed",
            s,
            &["Bitfield", "GoF3Lenient"],
        ),
        "f3",
        &f.bytes(),
        None,
    )
}

fn sequence_and_header_cases(g: &mut Gen) -> Result<()> {
    let tiny = F3::parse(&g.fixture("tiny")?)?;
    let s = Level::Structure;
    let with_blocks = |blocks: Vec<Vec<u8>>| {
        let mut f = tiny.clone();
        f.blocks = blocks;
        f.bytes()
    };
    let b = &tiny.blocks;
    let pick = |idx: &[usize]| {
        idx.iter()
            .filter_map(|&i| b.get(i).cloned())
            .collect::<Vec<_>>()
    };
    let n = b.len();

    let gap: Vec<usize> = (0..n).filter(|&i| i != 5).collect();
    g.add(
        invalid(
            "sequence/gap",
            "instance 5 is missing",
            "sequence-gap",
            s,
            &["Sequence"],
        ),
        "f3",
        &with_blocks(pick(&gap)),
        None,
    )?;

    let mut dup: Vec<usize> = (0..n).collect();
    dup.insert(6, 5);
    g.add(
        invalid(
            "sequence/duplicate",
            "instance 5 appears twice in a row",
            "sequence-duplicate",
            s,
            &["Sequence"],
        ),
        "f3",
        &with_blocks(pick(&dup)),
        None,
    )?;

    let mut ooo: Vec<usize> = (0..n).collect();
    ooo.insert(6, 2);
    g.add(
        invalid(
            "sequence/out-of-order",
            "instance 2 again after instance 5",
            "sequence-out-of-order",
            s,
            &["Sequence"],
        ),
        "f3",
        &with_blocks(pick(&ooo)),
        None,
    )?;

    let mut swap: Vec<usize> = (0..n).collect();
    swap.swap(5, 6);
    g.add(
        invalid(
            "sequence/swapped",
            "instances 5 and 6 exchanged",
            "sequence-gap",
            s,
            &["Sequence"],
        ),
        "f3",
        &with_blocks(pick(&swap)),
        None,
    )?;

    g.add(
        invalid(
            "sequence/first-not-first-instance",
            "the first certificate is instance 1, the header says 0",
            "sequence-first",
            s,
            &["Sequence"],
        ),
        "f3",
        &with_blocks(pick(&(1..n).collect::<Vec<_>>())),
        None,
    )?;

    let mut extra = tiny.clone();
    if let Some(last) = tiny.certs.last() {
        let mut c = last.clone();
        c.instance += 1;
        c.ec_chain = c.ec_chain.map(|ts| ts.into_iter().rev().take(1).collect());
        extra.blocks.push(c.to_cbor());
    }
    g.add(
        invalid(
            "sequence/extra-after-latest",
            "a certificate for LatestInstance + 1",
            "sequence-beyond-latest",
            s,
            &["Sequence"],
        ),
        "f3",
        &extra.bytes(),
        None,
    )?;

    g.add(
        invalid(
            "sequence/ends-before-latest",
            "the last certificate is missing",
            "sequence-short",
            s,
            &["Sequence"],
        ),
        "f3",
        &with_blocks(pick(&(0..n - 1).collect::<Vec<_>>())),
        None,
    )?;

    g.add(
        invalid(
            "sequence/no-certificates",
            "a header and no certificate",
            "sequence-empty",
            s,
            &["Sequence"],
        ),
        "f3",
        &with_blocks(vec![]),
        None,
    )?;

    // Header.
    let mut f = tiny.clone();
    f.header.version = 2;
    g.add(
        invalid(
            "header/unknown-version",
            "header Version 2 (go-f3 never reads the version)",
            "header-version",
            s,
            &["Header", "GoF3Lenient"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let mut f = tiny.clone();
    f.header.latest_instance = 0;
    f.header.first_instance = 1;
    g.add(
        invalid(
            "header/first-above-latest",
            "FirstInstance 1, LatestInstance 0",
            "header-instance-range",
            s,
            &["Header"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let mut f = tiny.clone();
    f.header.initial_power_table.0.clear();
    g.add(
        invalid(
            "header/power-table-empty",
            "an initial power table with no entries",
            "power-table-empty",
            s,
            &["Header", "PowerTable"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let mut f = tiny.clone();
    f.header.initial_power_table.0.swap(0, 1);
    g.add(
        invalid(
            "header/power-table-unsorted",
            "the initial power table's first two entries exchanged (go-f3 sorts as it goes)",
            "power-table-unsorted",
            s,
            &["Header", "PowerTable", "GoF3Lenient"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let mut f = tiny.clone();
    let id0 = f
        .header
        .initial_power_table
        .0
        .first()
        .map(|e| e.id)
        .unwrap_or_default();
    if let Some(e) = f.header.initial_power_table.0.get_mut(1) {
        e.id = id0;
    }
    g.add(
        invalid(
            "header/power-table-duplicate",
            "a participant listed twice in the initial power table",
            "power-table-duplicate",
            s,
            &["Header", "PowerTable"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let mut f = tiny.clone();
    if let Some(e) = f.header.initial_power_table.0.last_mut() {
        e.power = BigInt::default();
    }
    g.add(
        invalid(
            "header/zero-power-entry",
            "an initial power table entry with zero power",
            "power-table-non-positive",
            s,
            &["Header", "PowerTable"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )
}

fn delta_cases(g: &mut Gen) -> Result<()> {
    let tiny = F3::parse(&g.fixture("tiny")?)?;
    let i = Level::Import;
    let c = 5;
    let table = tiny.header.initial_power_table.0.clone();
    let p0 = table
        .first()
        .cloned()
        .unwrap_or_else(|| crate::types::PowerEntry {
            id: 0,
            power: BigInt::default(),
            pub_key: vec![],
        });
    let p1 = table.get(1).cloned().unwrap_or_else(|| p0.clone());
    let new_id = table.iter().map(|e| e.id).max().unwrap_or(0) + 1;
    let d = |id: u64, power: BigInt, key: Vec<u8>| crate::types::PowerTableDelta {
        participant_id: id,
        power_delta: power,
        signing_key: key,
    };
    let add = |g: &mut Gen,
               id: &str,
               desc: &str,
               code: &str,
               deltas: Vec<crate::types::PowerTableDelta>|
     -> Result<()> {
        let mut f = tiny.clone();
        if let Some(cert) = f.certs.get_mut(c) {
            cert.power_table_delta = deltas;
        }
        let f = f.re_encoded();
        g.add(
            invalid(id, desc, code, i, &["PowerDelta"]),
            "f3",
            &f.bytes(),
            None,
        )
    };
    let (lo, hi) = if p0.id < p1.id {
        (p0.clone(), p1.clone())
    } else {
        (p1.clone(), p0.clone())
    };
    add(
        g,
        "delta/unsorted",
        "deltas not in ascending participant order",
        "delta-unsorted",
        vec![
            d(hi.id, BigInt::from(1), vec![]),
            d(lo.id, BigInt::from(1), vec![]),
        ],
    )?;
    add(
        g,
        "delta/duplicate-participant",
        "two deltas for one participant",
        "delta-unsorted",
        vec![
            d(lo.id, BigInt::from(1), vec![]),
            d(lo.id, BigInt::from(1), vec![]),
        ],
    )?;
    add(
        g,
        "delta/zero",
        "a delta that changes neither power nor key",
        "delta-zero",
        vec![d(p0.id, BigInt::default(), vec![])],
    )?;
    add(
        g,
        "delta/negative-power",
        "a delta taking a participant below zero power",
        "delta-negative-power",
        vec![d(p0.id, -(p0.power.clone() + BigInt::from(1)), vec![])],
    )?;
    add(
        g,
        "delta/new-without-key",
        "a new participant with power and no key",
        "delta-new-without-key",
        vec![d(new_id, BigInt::from(5), vec![])],
    )?;
    add(
        g,
        "delta/new-non-positive",
        "a new participant with negative power",
        "delta-new-non-positive",
        vec![d(new_id, BigInt::from(-5), vec![9; 48])],
    )?;
    add(
        g,
        "delta/unchanged-key",
        "a delta setting the key a participant already has",
        "delta-unchanged-key",
        vec![d(p0.id, BigInt::from(1), p0.pub_key.clone())],
    )?;
    add(
        g,
        "delta/key-on-removal",
        "a delta removing a participant and setting its key",
        "delta-key-on-removal",
        vec![d(p0.id, -p0.power.clone(), vec![9; 48])],
    )?;
    add(
        g,
        "delta/short-key",
        "a new participant whose key is 47 bytes",
        "power-table-key-length",
        vec![d(new_id, BigInt::from(5), vec![9; 47])],
    )?;

    // Power table CIDs.
    let mut f = tiny.clone();
    let last = f.certs.len().saturating_sub(1);
    let other = f
        .certs
        .first()
        .and_then(|x| x.tipsets().first())
        .map(|t| t.power_table);
    let wrong = cid_of(DAG_CBOR, b"not the power table");
    if let Some(x) = f.certs.get_mut(last) {
        x.supplemental_data.power_table = wrong;
    }
    let _ = other;
    g.add(
        invalid(
            "power-table-cid/after-last",
            "the last certificate commits to a wrong power table CID",
            "power-table-cid-mismatch",
            i,
            &["PowerTableCid"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let ck = F3::parse(&g.fixture("checkpoint")?)?;
    let mut f = ck.clone();
    if let Some(x) = f.certs.iter_mut().find(|x| x.instance == 1439) {
        x.supplemental_data.power_table = wrong;
    }
    g.add(
        invalid(
            "power-table-cid/at-checkpoint",
            "instance 1439, a go-f3 checkpoint, commits to a wrong power table CID",
            "power-table-cid-mismatch",
            i,
            &["PowerTableCid", "Checkpoint"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let mut f = ck;
    if let Some(x) = f.certs.iter_mut().find(|x| x.instance == 700) {
        x.supplemental_data.power_table = wrong;
    }
    g.add(invalid("power-table-cid/between-checkpoints", "instance 700, between go-f3's checkpoints, commits to a wrong power table CID (go-f3's import misses it)", "power-table-cid-mismatch", Level::Chain, &["PowerTableCid", "Checkpoint", "GoF3Lenient"]), "f3", &f.re_encoded().bytes(), None)
}

fn chain_cases(g: &mut Gen) -> Result<()> {
    let tiny = F3::parse(&g.fixture("tiny")?)?;
    let nr = F3::parse(&g.fixture("nullrounds")?)?;
    let s = Level::Structure;
    let c = 5;

    let f = tiny.with_cert_node(c, |n| replace(n, &[1], leaf(|e| e.array(0))));
    g.add(
        invalid(
            "ec-chain/empty",
            "a certificate whose ECChain has no tipset (go-f3's import stores it)",
            "chain-empty",
            s,
            &["EcChain", "GoF3Lenient"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let f = tiny.with_cert_node(c, |n| replace(n, &[1], Node::Leaf(vec![crate::cbor::NULL])));
    g.add(
        invalid(
            "ec-chain/null",
            "a certificate whose ECChain is null (go-f3's import stores it)",
            "chain-empty",
            s,
            &["EcChain", "GoF3Lenient"],
        ),
        "f3",
        &f.bytes(),
        None,
    )?;

    let last = tiny.blocks.len().saturating_sub(1);
    let f = tiny.with_cert_node(last, |n| {
        replace(n, &[1], Node::Leaf(vec![crate::cbor::NULL]))
    });
    g.add(invalid("ec-chain/null-on-last", "the last certificate's ECChain is null: go-f3 imports it, then its store panics when reopened", "chain-empty", s, &["EcChain", "GoF3Lenient", "GoF3Crash"]), "f3", &f.bytes(), None)?;

    let ci = nr
        .certs
        .iter()
        .position(|x| x.tipsets().len() >= 3)
        .unwrap_or(0);
    let mut f = nr.clone();
    if let Some(ts) = f.certs.get_mut(ci).and_then(|x| x.ec_chain.as_mut()) {
        let e1 = ts.get(1).map(|t| t.epoch).unwrap_or(0);
        if let Some(t) = ts.get_mut(2) {
            t.epoch = e1;
        }
    }
    g.add(
        invalid(
            "ec-chain/epochs-not-increasing",
            "two tipsets of a chain at the same epoch",
            "chain-epochs",
            s,
            &["EcChain"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let mut f = tiny.clone();
    if let Some(t) = f
        .certs
        .get_mut(c)
        .and_then(|x| x.ec_chain.as_mut())
        .and_then(|ts| ts.first_mut())
    {
        t.epoch -= 1;
    }
    g.add(
        invalid(
            "ec-chain/base-mismatch",
            "a chain whose base is not the previous certificate's head",
            "chain-base",
            Level::Chain,
            &["EcChain", "GoF3Lenient"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let mut f = tiny.clone();
    if let Some(ts) = f.certs.get_mut(c).and_then(|x| x.ec_chain.as_mut()) {
        let base = ts.first().cloned();
        if let Some(b) = base {
            while ts.len() < 129 {
                let mut t = b.clone();
                t.epoch = b.epoch + ts.len() as i64;
                ts.push(t);
            }
        }
    }
    g.add(
        invalid(
            "ec-chain/too-long",
            "a chain of 129 tipsets (go-f3's limit is 128)",
            "chain-too-long",
            s,
            &["EcChain", "SizeLimit", "GoF3Lenient"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )
}

fn signature_cases(g: &mut Gen) -> Result<()> {
    let tiny = F3::parse(&g.fixture("tiny")?)?;
    let k = Level::Crypto;
    let c = 5;

    let mut f = tiny.clone();
    if let Some(x) = f.certs.get_mut(c) {
        if let Some(b) = x.signature.get_mut(40) {
            *b ^= 0x01;
        }
    }
    let bytes = f.re_encoded().bytes();
    let code = crate::report::analyze(&bytes[..], Some(g.opts(k, &g.network.clone())), &mut |_| {})
        .error
        .map(|e| e.code())
        .unwrap_or("none");
    // A flipped bit either leaves a point that is not on the curve or one that does not verify.
    let code = if code == "signature-malformed" {
        "signature-malformed"
    } else {
        "signature-invalid"
    };
    g.add(
        invalid(
            "signature/flipped-bit",
            "one bit of instance 5's aggregate signature flipped",
            code,
            k,
            &["Signature", "GoF3Lenient"],
        ),
        "f3",
        &bytes,
        None,
    )?;

    let bad = g.fixture("tiny-bad-signature")?;
    g.add(
        invalid(
            "signature/go-f3-bad-signature",
            "go-f3's own fixture with a wrong signature on instance 5",
            "signature-invalid",
            k,
            &["Signature", "GoF3Lenient"],
        ),
        "f3",
        &bad,
        None,
    )?;

    let mut f = tiny.clone();
    let n = f.header.initial_power_table.0.len() as u64;
    if let Some(x) = f.certs.get_mut(c) {
        x.signers = crate::types::Signers::from_indexes(x.signers.iter().chain([n + 3]));
    }
    g.add(
        invalid(
            "signature/signer-out-of-range",
            "a signer index beyond the power table",
            "signer-out-of-range",
            Level::Chain,
            &["Signature", "GoF3Lenient"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let mut f = tiny.clone();
    if let Some(x) = f.certs.get_mut(c) {
        let first: Vec<u64> = x.signers.iter().take(1).collect();
        x.signers = crate::types::Signers::from_indexes(first);
    }
    g.add(
        invalid(
            "signature/below-quorum",
            "a certificate signed by one of four equal participants",
            "signature-quorum",
            k,
            &["Signature", "GoF3Lenient"],
        ),
        "f3",
        &f.re_encoded().bytes(),
        None,
    )?;

    let bytes = g.fixture("tiny")?;
    g.add(
        Spec {
            network: Some("another-network"),
            ..invalid(
                "signature/other-network",
                "valid certificates checked against another network name",
                "signature-invalid",
                k,
                &["Signature"],
            )
        },
        "f3",
        &bytes,
        None,
    )
}

fn car_cases(g: &mut Gen) -> Result<()> {
    let base = g.fixture("car-v2-tiny")?;
    let parts = car_parts(&base)?;
    let s = Level::Structure;
    let blocks = &parts.blocks;
    let Some((md_cid, md_bytes)) = blocks.first().cloned() else {
        return Err(io_err("car-v2-tiny has no blocks"));
    };
    let md = SnapshotMetadata::from_cbor(&md_bytes)?;
    let f3 = blocks
        .get(1)
        .cloned()
        .ok_or_else(|| io_err("car-v2-tiny has no F3 block"))?;
    let chain: Vec<_> = blocks.iter().skip(2).cloned().collect();

    // Metadata bytes changed, CIDs kept.
    let mut changed = md.clone();
    changed.head_tipset_key.reverse();
    let mut bl = blocks.clone();
    if let Some(b) = bl.get_mut(0) {
        b.1 = changed.to_cbor();
    }
    g.add(
        invalid(
            "car/metadata-cid-mismatch",
            "the metadata block's bytes do not hash to the root CID",
            "cid-mismatch",
            s,
            &["Car", "GoF3Lenient"],
        ),
        "car",
        &car_bytes(&parts.roots, 1, &bl)?,
        None,
    )?;

    // F3 bytes replaced by another valid stream under the same CID.
    let churn = g.fixture("churn")?;
    let mut bl = blocks.clone();
    if let Some(b) = bl.get_mut(1) {
        b.1 = churn;
    }
    g.add(invalid("car/f3-cid-mismatch", "the F3 block holds valid F3 data that does not hash to its CID (no one else checks this hash)", "cid-mismatch", s, &["Car", "GoF3Lenient"]), "car", &car_bytes(&parts.roots, 1, &bl)?, None)?;

    // Metadata names F3 data; the F3 block is absent.
    let mut bl = vec![(md_cid, md_bytes.clone())];
    bl.extend(chain.iter().cloned());
    g.add(
        invalid(
            "car/f3-block-missing",
            "the metadata names F3 data but the next section is a chain block",
            "f3-block-missing",
            s,
            &["Car"],
        ),
        "car",
        &car_bytes(&parts.roots, 1, &bl)?,
        None,
    )?;

    // Metadata version 1.
    let mut v1 = md.clone();
    v1.version = 1;
    let v1_bytes = v1.to_cbor();
    let v1_cid = cid_of(DAG_CBOR, &v1_bytes);
    let mut bl = vec![(v1_cid, v1_bytes)];
    bl.push(f3.clone());
    bl.extend(chain.iter().cloned());
    g.add(
        invalid(
            "car/metadata-version-1",
            "SnapshotMetadata version 1 (only 2 is defined; Lotus never reads it)",
            "metadata-version",
            s,
            &["Car", "GoF3Lenient"],
        ),
        "car",
        &car_bytes(&[v1_cid], 1, &bl)?,
        None,
    )?;

    let mut e = Encoder::new();
    e.map(3);
    e.text("F3Data");
    e.null();
    e.text("Version");
    e.u64(2);
    e.text("HeadTipsetKey");
    e.array(0);
    let empty_head = e.into_bytes();
    let eh_cid = cid_of(DAG_CBOR, &empty_head);
    let mut bl = vec![(eh_cid, empty_head)];
    bl.extend(chain.iter().cloned());
    g.add(invalid("car/metadata-empty-head", "SnapshotMetadata with an empty HeadTipsetKey (Lotus indexes its first element and panics)", "metadata-empty-head", s, &["Car", "GoF3Crash"]), "car", &car_bytes(&[eh_cid], 1, &bl)?, None)?;

    g.add(
        invalid(
            "car/zero-roots",
            "a CAR header with no roots",
            "car-no-roots",
            s,
            &["Car"],
        ),
        "car",
        &car_bytes(&[], 1, blocks)?,
        None,
    )?;

    g.add(
        invalid(
            "car/header-version-2",
            "a CARv1 header claiming version 2 without the CARv2 pragma",
            "car-version",
            s,
            &["Car"],
        ),
        "car",
        &car_bytes(&parts.roots, 2, blocks)?,
        None,
    )?;

    let payload = car_bytes(&parts.roots, 1, blocks)?;
    let mut truncated = wrap_carv2(&payload);
    truncated.truncate(truncated.len() - 100);
    g.add(
        invalid(
            "car/carv2-truncated",
            "a CARv2 file whose payload ends before its data size",
            "car-truncated",
            s,
            &["Car"],
        ),
        "car",
        &truncated,
        None,
    )?;

    // A valid zstd frame (one raw block) around the v2 snapshot, declaring a 2 GiB window.
    // Found by fuzzing: the decoder allocates the window a frame declares.
    let mut zst = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3];
    let block_header = ((base.len() as u32) << 3) | 1;
    zst.extend_from_slice(&block_header.to_le_bytes()[..3]);
    zst.extend_from_slice(&base);
    g.add(
        acceptable(
            "car/zstd-window-2gib",
            "a valid zstd frame declaring a 2 GiB window (the reference refuses windows over 128 MiB rather than allocate them)",
            "zstd",
            s,
            &["Car", "Zstd"],
        ),
        "car.zst",
        &zst,
        None,
    )?;

    let mut bl = blocks.clone();
    if let Some(b) = bl.last_mut() {
        if let Some(x) = b.1.last_mut() {
            *x ^= 1;
        }
    }
    g.add(
        invalid(
            "car/chain-block-hash-mismatch",
            "a chain block whose bytes do not hash to its CID",
            "cid-mismatch",
            s,
            &["Car"],
        ),
        "car",
        &car_bytes(&parts.roots, 1, &bl)?,
        None,
    )?;

    let mut bl = vec![(md_cid, md_bytes)];
    bl.push(f3);
    bl.extend(chain.iter().skip(1).cloned());
    let missing_head = md
        .head_tipset_key
        .first()
        .is_some_and(|h| chain.first().is_some_and(|c| &c.0 == h));
    if missing_head {
        g.add(
            invalid(
                "car/head-block-missing",
                "a v2 snapshot without the first head tipset block",
                "car-block-missing",
                s,
                &["Car"],
            ),
            "car",
            &car_bytes(&parts.roots, 1, &bl)?,
            None,
        )?;
    }
    Ok(())
}

/// The `consistency` group (and its valid case), built in [`super::consistency`].
fn consistency_cases(g: &mut Gen) -> Result<()> {
    for c in super::consistency::cases(&g.network)? {
        let spec = Spec {
            id: c.id,
            description: c.description,
            result: c.result,
            error: c.error,
            level: c.level,
            flags: c.flags,
            network: None,
        };
        g.add(spec, "car", &c.bytes, c.expected)?;
    }
    Ok(())
}
