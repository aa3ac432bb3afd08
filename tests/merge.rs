//! `merge` and `extract`: v1 chain snapshots built here (Filecoin-shaped blocks, a block
//! larger than the copy buffer, blocks under other hashes, multi-block heads) joined with
//! go-f3's F3 fixtures, plain, zstd and in Forest's framed archive layout; the round trip;
//! every refusal; and the command line's outputs, which appear whole or not at all.
//!
//! With the harness (`FRC0108_F3HARNESS`, as `scripts/test.sh` sets; ignored otherwise):
//! go-f3's import, behind Lotus's CAR and zstd handling, accepts what `merge` writes.

#[path = "support/forest.rs"]
mod forest;

use std::path::{Path, PathBuf};
use std::process::Command;

use cid::Cid;
use frc0108::car::{CarReader, CarWriter};
use frc0108::cids::{cid_of, DAG_CBOR, RAW};
use frc0108::merge::{extract, merge, F3Input, MergeError, NoChainCheck};
use frc0108::report::{analyze, Format};
use frc0108::synth::Rng;
use frc0108::validate::{Level, Options};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("vectors/go-f3")
            .join(name),
    )
    .unwrap()
}

fn crypto() -> Options {
    Options {
        level: Level::Crypto,
        network: "frc0108-vectors".into(),
        ..Options::default()
    }
}

/// A v1 chain snapshot: `heads` header-shaped head blocks (DAG-CBOR arrays) first, then
/// DAG-CBOR and raw blocks of assorted sizes, a block under a sha2-256 CID (which the reader
/// does not hash, like the genesis block's parent), and with `big` one block larger than the copy
/// buffer. Returns the CAR and its roots.
fn chain(seed: u64, heads: usize, big: bool) -> (Vec<u8>, Vec<Cid>) {
    let mut rng = Rng::new(seed);
    let mut blocks: Vec<(Cid, Vec<u8>)> = Vec::new();
    let mut roots = Vec::new();
    for i in 0..heads {
        let (c, data) = frc0108::snapshot::placeholder_block(
            &[seed.to_le_bytes(), (i as u64).to_le_bytes()].concat(),
        );
        roots.push(c);
        blocks.push((c, data));
    }
    for i in 0..60u64 {
        let len = 1 + rng.below(if i % 7 == 0 { 40_000 } else { 900 }) as usize;
        let data = rng.bytes(len);
        let codec = if i % 2 == 0 { RAW } else { DAG_CBOR };
        blocks.push((cid_of(codec, &data), data));
    }
    let data = b"under sha2-256, as the genesis block's parent".to_vec();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&data);
    let sha = multihash::Multihash::<64>::wrap(0x12, &digest[..]).unwrap();
    blocks.push((Cid::new_v1(DAG_CBOR, sha), data));
    if big {
        let data = rng.bytes((frc0108::merge::BLOCK_BUFFER as usize) * 3 / 2 + 17);
        blocks.insert(3, (cid_of(RAW, &data), data));
    }
    let mut w = CarWriter::new(Vec::new(), &roots).unwrap();
    for (c, d) in &blocks {
        w.write_block(c, d).unwrap();
    }
    (w.finish().unwrap(), roots)
}

fn merged(v1: &[u8], f3: &[u8]) -> Result<Vec<u8>, MergeError> {
    merged_at(v1, f3, crypto())
}

fn merged_at(v1: &[u8], f3: &[u8], opts: Options) -> Result<Vec<u8>, MergeError> {
    let input = F3Input::scan(f3, opts)?;
    merge(v1, &input, f3, Vec::new(), &mut NoChainCheck).map(|(out, _)| out)
}

/// The blocks of a CAR, in order.
fn blocks(car: &[u8]) -> (Vec<Cid>, Vec<(Cid, Vec<u8>)>) {
    let mut r = CarReader::new(car).unwrap();
    let mut out = Vec::new();
    while let Some(s) = r.next_section().unwrap() {
        let mut d = Vec::new();
        r.read_section(u64::MAX, &mut d).unwrap();
        out.push((s.cid, d));
    }
    (r.header().roots.clone(), out)
}

/// The merged snapshot is laid out as Lotus's ExportV2, passes `check` at the crypto level,
/// and `extract` gives back both inputs byte for byte.
#[test]
fn merge_then_extract_gives_back_both_inputs() {
    for (seed, heads, big, f3_name) in [
        (1, 1, false, "tiny.f3"),
        (2, 3, true, "churn.f3"),
        (3, 2, false, "first-instance-nonzero.f3"),
    ] {
        let (v1, roots) = chain(seed, heads, big);
        let f3 = fixture(f3_name);
        let out = merged(&v1, &f3).unwrap();

        let (out_roots, out_blocks) = blocks(&out);
        let (_, in_blocks) = blocks(&v1);
        assert_eq!(out_roots, [out_blocks[0].0]);
        let md = frc0108::SnapshotMetadata::from_cbor(&out_blocks[0].1).unwrap();
        assert_eq!(md.version, 2);
        assert_eq!(md.head_tipset_key, roots);
        assert_eq!(md.f3_data, Some(cid_of(RAW, &f3)));
        assert_eq!(out_blocks[1], (cid_of(RAW, &f3), f3.clone()));
        assert_eq!(out_blocks[2..], in_blocks[..]);

        let a = analyze(&out[..], Some(crypto()), &mut |_| {});
        assert!(a.error.is_none(), "{f3_name}: {:?}", a.error);
        assert_eq!(a.format, Some(Format::CarV2Snapshot));

        let (mut f3_back, mut v1_back) = (Vec::new(), Vec::new());
        let s = extract(&out[..], &mut f3_back, Some(&mut v1_back)).unwrap();
        assert!(f3_back == f3, "{f3_name}: F3 data differs");
        assert!(v1_back == v1, "{f3_name}: chain differs");
        assert_eq!(s.chain.unwrap().blocks, in_blocks.len() as u64);
    }
}

/// Mainnet's first ten certificates (go-f3's fixture) merged with a chain: valid at the crypto
/// level for the network they were signed for, which fixes their first instance and table.
#[test]
fn mainnet_f3_data_merges() {
    let (v1, _) = chain(13, 2, false);
    let f3 = fixture("mainnet-0-9.f3");
    let known = frc0108::networks::by_name("filecoin").unwrap().network();
    let opts = Options {
        level: Level::Crypto,
        network: known.name.clone(),
        manifest: frc0108::validate::Manifest {
            initial_instance: Some(known.initial_instance),
            initial_power_table: known.initial_power_table,
        },
        ..Options::default()
    };
    let input = F3Input::scan(&f3[..], opts.clone()).unwrap();
    assert_eq!(input.certificates, 10);
    assert_eq!(input.finalized.as_ref().map(|t| t.epoch), Some(4_919_771));
    let (out, s) = merge(&v1[..], &input, &f3[..], Vec::new(), &mut NoChainCheck).unwrap();
    let a = analyze(&out[..], Some(opts), &mut |_| {});
    assert!(a.error.is_none(), "{:?}", a.error);
    assert_eq!(a.car.unwrap().metadata_cid, Some(s.metadata_cid));
}

use frc0108::types::Cbor;

/// Compressed inputs (zstd, and Forest's archive of independent frames with an index in a
/// skippable frame) give the same output as the plain ones.
#[test]
fn compressed_and_forest_inputs_give_the_same_snapshot() {
    let (v1, _) = chain(4, 2, true);
    let f3 = fixture("churn.f3");
    let plain = merged(&v1, &f3).unwrap();
    let zv1 = zstd::encode_all(&v1[..], 3).unwrap();
    let zf3 = zstd::encode_all(&f3[..], 19).unwrap();
    assert!(merged(&zv1, &zf3).unwrap() == plain);

    let archive = forest::write(&v1);
    let frames = forest::frames(&archive);
    assert!(frames.len() > 4, "{} frames", frames.len());
    assert!(frames[frames.len() - 1].2 && frames[frames.len() - 2].2);
    // It is the CAR when decompressed, and the reader takes it as a v1 snapshot.
    assert!(zstd::decode_all(&archive[..]).unwrap() == v1);
    let a = analyze(&archive[..], Some(Options::default()), &mut |_| {});
    assert!(a.error.is_none(), "{:?}", a.error);
    assert_eq!(a.format, Some(Format::CarV1Snapshot));
    assert!(merged(&archive, &f3).unwrap() == plain);
    // The index names every block's frame.
    let entries = forest::entries_of(&archive);
    let data = forest::index_data(&entries);
    let at = frames[frames.len() - 2].0;
    assert_eq!(&archive[at + 8..at + 8 + data.len()], &data[..]);
}

fn refusal(v1: &[u8], f3: &[u8]) -> String {
    merged(v1, f3).unwrap_err().code().to_string()
}

/// Inputs merge must refuse: a v2 chain, a missing head block, a bad block, a truncated
/// chain, a CAR or invalid data as the F3 input, F3 data that changes between reads.
#[test]
fn merge_refuses_what_it_must() {
    let f3 = fixture("tiny.f3");
    assert_eq!(refusal(&fixture("car-v2-tiny.car"), &f3), "merge-v2-input");
    assert_eq!(
        refusal(&fixture("carv2-wrapped-v2-tiny.car"), &f3),
        "merge-v2-input"
    );
    assert_eq!(refusal(&fixture("car-v2-no-f3.car"), &f3), "merge-v2-input");

    // A head block that is not in the CAR.
    let (v1, mut roots) = chain(5, 2, false);
    let (_, bl) = blocks(&v1);
    roots.push(cid_of(DAG_CBOR, b"elsewhere"));
    let mut w = CarWriter::new(Vec::new(), &roots).unwrap();
    for (c, d) in &bl {
        w.write_block(c, d).unwrap();
    }
    let missing = w.finish().unwrap();
    assert_eq!(refusal(&missing, &f3), "car-block-missing");

    // A flipped byte in a small block, and in one larger than the copy buffer.
    let (v1, _) = chain(6, 1, true);
    let (_, bl) = blocks(&v1);
    for victim in [5, 3] {
        let mut w = CarWriter::new(Vec::new(), &[bl[0].0]).unwrap();
        for (i, (c, d)) in bl.iter().enumerate() {
            let mut d = d.clone();
            if i == victim {
                let at = d.len() / 2;
                d[at] ^= 1;
            }
            w.write_block(c, &d).unwrap();
        }
        assert_eq!(
            refusal(&w.finish().unwrap(), &f3),
            "cid-mismatch",
            "block {victim}"
        );
    }
    assert_eq!(refusal(&v1[..v1.len() - 5], &f3), "car-truncated");
    assert_eq!(refusal(&v1[..900_000], &f3), "car-truncated");

    let (v1, _) = chain(7, 1, false);
    assert_eq!(refusal(&v1, &fixture("car-v2-tiny.car")), "merge-f3-is-car");
    assert_eq!(
        refusal(&v1, &fixture("tiny-truncated.f3")),
        "block-truncated"
    );
    assert_eq!(
        refusal(&v1, &fixture("tiny-bad-signature.f3")),
        "signature-invalid"
    );

    let input = F3Input::scan(&f3[..], crypto()).unwrap();
    let other = fixture("tiny-bad-signature.f3");
    let e = merge(&v1[..], &input, &other[..], Vec::new(), &mut NoChainCheck).unwrap_err();
    assert_eq!(e.code(), "f3-input-changed");
    let e = merge(
        &v1[..],
        &input,
        &f3[..f3.len() - 1],
        Vec::new(),
        &mut NoChainCheck,
    )
    .unwrap_err();
    assert_eq!(e.code(), "f3-input-changed");
    let longer = [&f3[..], b"x"].concat();
    let e = merge(&v1[..], &input, &longer[..], Vec::new(), &mut NoChainCheck).unwrap_err();
    assert_eq!(e.code(), "f3-input-changed");
}

/// `extract` takes only a v2 snapshot with F3 data, and checks the F3 block and the chain.
#[test]
fn extract_refuses_what_it_must() {
    let code = |car: &[u8], v1: bool| {
        let mut chain = Vec::new();
        extract(
            car,
            &mut Vec::new(),
            v1.then_some(&mut chain as &mut dyn std::io::Write),
        )
        .unwrap_err()
        .code()
    };
    assert_eq!(code(&fixture("car-v1.car"), false), "not-v2-snapshot");
    assert_eq!(code(&chain(8, 2, false).0, false), "not-v2-snapshot");
    assert_eq!(code(&fixture("car-v2-no-f3.car"), false), "no-f3-data");
    let mut car = fixture("car-v2-tiny.car");
    let f3_at = {
        let mut r = CarReader::new(&car[..]).unwrap();
        r.next_section().unwrap();
        r.next_section().unwrap().unwrap().data_offset as usize
    };
    car[f3_at + 100] ^= 1;
    assert_eq!(code(&car, false), "cid-mismatch");
    let good = fixture("car-v2-tiny.car");
    assert_eq!(code(&good[..good.len() - 3], true), "car-truncated");
}

// ---------------------------------------------------------------------------------------------
// The command line

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_frc0108"))
}

fn run(args: &[&str]) -> (i32, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

/// An existing output is never replaced without --force; a failed command leaves no output
/// and no temporary file; exit codes are 0 written, 1 inputs refused, 2 usage or I/O.
#[test]
fn outputs_appear_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (v1, _) = chain(9, 1, false);
    let v1p = write(d, "chain.car", &v1);
    let f3p = write(d, "tiny.f3", &fixture("tiny.f3"));
    let bad = write(
        d,
        "bad.f3",
        &fixture("tiny-wrong-power-table-cid-midchain.f3"),
    );
    let out = d.join("out.car.zst");
    let outp = out.to_str().unwrap();
    let before = listing(d);

    let (code, err) = run(&["merge", "--v1", &v1p, "--f3", &bad, "--out", outp]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("[power-table-cid-mismatch]"), "{err}");
    assert_eq!(listing(d), before, "a refused merge left files behind");

    let (code, err) = run(&[
        "merge",
        "--v1",
        &v1p,
        "--f3",
        &f3p,
        "--out",
        outp,
        "--level",
        "crypto",
        "--network",
        "frc0108-vectors",
    ]);
    assert_eq!(code, 0, "{err}");
    let first = std::fs::read(&out).unwrap();
    assert_eq!(
        zstd::decode_all(&first[..]).unwrap(),
        merged(&v1, &fixture("tiny.f3")).unwrap()
    );

    let (code, err) = run(&["merge", "--v1", &v1p, "--f3", &f3p, "--out", outp]);
    assert_eq!(code, 2);
    assert!(err.contains("exists"), "{err}");
    // The output named as an input too: refused before anything is read, even with --force.
    let (code, err) = run(&[
        "merge", "--v1", outp, "--f3", &f3p, "--out", outp, "--force",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is an input"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), first, "the output changed");
    let other = d.join("other.car");
    let (code, err) = run(&[
        "merge",
        "--v1",
        outp,
        "--f3",
        &f3p,
        "--out",
        other.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("[merge-v2-input]"), "{err}");
    assert!(!other.exists());

    let (x3, xv) = (d.join("x.f3"), d.join("x.car"));
    let (code, err) = run(&[
        "extract",
        outp,
        "--f3",
        x3.to_str().unwrap(),
        "--v1",
        xv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&x3).unwrap(), fixture("tiny.f3"));
    assert_eq!(std::fs::read(&xv).unwrap(), v1);
    let (code, _) = run(&["extract", outp, "--f3", x3.to_str().unwrap()]);
    assert_eq!(code, 2);
    let (code, _) = run(&[
        "extract",
        &v1p,
        "--f3",
        d.join("y.f3").to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(code, 1);
    assert!(!d.join("y.f3").exists());

    // dump to a file, then assemble from it (a header line first), and the --car form.
    let dumped = bin().args(["dump", &f3p]).output().unwrap();
    assert!(dumped.status.success());
    let dp = write(d, "tiny.ndjson", &dumped.stdout);
    let a = d.join("a.f3");
    let (code, err) = run(&[
        "assemble",
        "--certificates",
        &dp,
        "--out",
        a.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&a).unwrap(), fixture("tiny.f3"));
    let ac = d.join("a.car");
    let (code, err) = run(&[
        "assemble",
        "--certificates",
        &dp,
        "--car",
        "--out",
        ac.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let a = analyze(
        &std::fs::read(&ac).unwrap()[..],
        Some(crypto()),
        &mut |_| {},
    );
    assert!(
        a.error.is_none() && a.format == Some(Format::CarV2Snapshot),
        "{:?}",
        a.error
    );
    let broken =
        String::from_utf8(dumped.stdout)
            .unwrap()
            .replacen("\"Epoch\":", "\"Epoch\":\"", 1);
    let bp = write(d, "broken.ndjson", broken.as_bytes());
    let (code, err) = run(&[
        "assemble",
        "--certificates",
        &bp,
        "--out",
        d.join("b.f3").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("[json-syntax]"), "{err}");
    assert!(!d.join("b.f3").exists());
    assert!(
        !listing(d).iter().any(|n| n.ends_with(".tmp")),
        "{:?}",
        listing(d)
    );
}

// ---------------------------------------------------------------------------------------------
// go-f3 as the judge

fn harness() -> PathBuf {
    let p = std::env::var_os("FRC0108_F3HARNESS")
        .map(PathBuf::from)
        .expect("FRC0108_F3HARNESS must name the built harness (scripts/test.sh sets it)");
    assert!(p.exists(), "{} does not exist", p.display());
    p
}

/// go-f3's import (behind Lotus's CAR and zstd handling) accepts merged snapshots, plain and
/// compressed, of several fixtures.
#[test]
#[ignore = "needs the go-f3 harness: run through scripts/test.sh"]
fn go_f3_imports_merged_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, f3_name) in [
        (10, "tiny.f3"),
        (11, "churn.f3"),
        (12, "checkpoint.f3"),
        (13, "mainnet-0-9.f3"),
    ] {
        let (v1, _) = chain(seed, 2, seed == 11);
        let out = merged_at(&v1, &fixture(f3_name), Options::default()).unwrap();
        for (name, bytes) in [
            ("m.car", out.clone()),
            ("m.car.zst", zstd::encode_all(&out[..], 3).unwrap()),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let o = Command::new(harness())
                .arg("import")
                .arg(&p)
                .output()
                .unwrap();
            let line = String::from_utf8_lossy(&o.stdout);
            assert!(
                line.contains("\"result\":\"accept\""),
                "{f3_name} {name}: {line}"
            );
        }
    }
}
