//! Agreement with go-f3 itself.
//!
//! Always: every fixture under `vectors/go-f3/` (written by go-f3 through the harness in
//! `interop/go-f3`) is read by the Rust reader, which must agree with every field go-f3 recorded
//! in the fixture's JSON sidecar and re-encode it byte for byte.
//!
//! With the harness (`FRC0108_F3HARNESS=path/to/f3harness`, as `scripts/test.sh` sets; these
//! tests are ignored otherwise, never silently passed): snapshots written by the Rust writer are
//! imported by go-f3, and Rust-written snapshots that must be rejected are rejected by go-f3 too.

use std::path::{Path, PathBuf};
use std::process::Command;

use frc0108::car::CarReader;
use frc0108::conformance::sidecar::{CarContainer, GoResult, Index, Sidecar};
use frc0108::conformance::Kind;
use frc0108::f3data::{self, F3DataReader};
use frc0108::report::analyze;
use frc0108::types::Cbor;
use frc0108::validate::{Level, Options};
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/go-f3")
}

fn fixtures() -> Vec<(String, Sidecar, PathBuf)> {
    let dir = fixtures_dir();
    let index = Index::load(&dir).unwrap();
    assert!(
        index.fixtures.len() >= 10,
        "expected the go-f3 fixtures to be present"
    );
    index
        .fixtures
        .into_iter()
        .map(|n| {
            let side = Sidecar::load(&dir, &n).unwrap();
            let file = side.path(&dir);
            (n, side, file)
        })
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    // The sidecar's hash, recomputed with the system's sha256sum so the check is independent.
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(data)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

use frc0108::conformance::GO_F3_LENIENT;

/// Fixtures go-f3 both imports and validates are valid for the strict reader at every level
/// below crypto, and every fact go-f3 recorded matches ours.
#[test]
fn rust_reader_agrees_with_every_go_f3_sidecar() {
    let mut checked = 0;
    for (name, side, file) in fixtures() {
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(bytes.len() as u64, side.size, "{name}");
        assert_eq!(sha256_hex(&bytes), side.sha256, "{name}");
        let go_valid = side.go_f3_validation.result == GoResult::Accept;
        let go_import = side.go_f3_import.result == GoResult::Accept;
        let a = analyze(&bytes[..], Some(Options::default()), &mut |_| {});
        if go_valid && go_import {
            // Where go-f3 accepts what the strict reader refuses, the reason must be one of
            // go-f3's documented leniencies (vectors/README.md).
            if let Some(e) = &a.error {
                assert!(
                    GO_F3_LENIENT.contains(&e.code()),
                    "{name}: go-f3 validates it, we say {e}, which is no known go-f3 leniency"
                );
            }
        }
        if !go_import {
            // Nothing go-f3's own import rejects may pass the strict reader.
            assert!(
                a.error.is_some(),
                "{name}: go-f3's import rejects it, we accept it"
            );
        }
        if a.error.is_some() {
            continue;
        }
        // Facts.
        let f3 = a.f3.as_ref();
        assert_eq!(
            f3.and_then(|f| f.cid).map(|c| c.to_string()),
            side.f3_cid,
            "{name}: F3 CID"
        );
        if let Some(h) = &side.header {
            let ours = f3.and_then(|f| f.header.as_ref()).unwrap();
            assert_eq!(ours.version, h.version, "{name}");
            assert_eq!(ours.first_instance, h.first_instance, "{name}");
            assert_eq!(ours.latest_instance, h.latest_instance, "{name}");
            assert_eq!(
                ours.initial_power_table.0.len() as u64,
                h.initial_power_table_entries,
                "{name}"
            );
            assert_eq!(
                f3.and_then(|f| f.initial_power_table_cid)
                    .unwrap()
                    .to_string(),
                h.initial_power_table_cid,
                "{name}"
            );
            assert_eq!(f3.unwrap().certificates, side.certificates, "{name}");
            let final_pt = f3
                .and_then(|f| f.summary.as_ref())
                .and_then(|s| s.final_power_table);
            assert_eq!(
                final_pt.map(|c| c.to_string()),
                side.final_power_table_cid,
                "{name}: final power table"
            );
        }
        if let Some(car) = &side.car {
            let ours = a.car.as_ref().unwrap();
            let container = match car.container {
                CarContainer::Carv1 => frc0108::car::Container::CarV1,
                CarContainer::Carv2 => frc0108::car::Container::CarV2,
            };
            assert_eq!(ours.container, Some(container), "{name}");
            let roots: Vec<String> = ours.roots.iter().map(|c| c.to_string()).collect();
            assert_eq!(roots, car.roots, "{name}");
            assert_eq!(ours.sections, car.blocks, "{name}: sections");
            assert_eq!(
                ours.metadata_cid.map(|c| c.to_string()),
                car.metadata_cid,
                "{name}"
            );
            match (ours.metadata.as_ref(), car.metadata.as_ref()) {
                (None, None) => {}
                (Some(md), Some(want)) => {
                    assert_eq!(md.version, want.version);
                    let head: Vec<String> =
                        md.head_tipset_key.iter().map(|c| c.to_string()).collect();
                    assert_eq!(head, want.head_tipset_key, "{name}");
                    assert_eq!(md.f3_data.map(|c| c.to_string()), want.f3_data, "{name}");
                }
                (o, w) => panic!("{name}: metadata {o:?} vs {w:?}"),
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} fixtures were checked");
}

/// Every valid F3 fixture decodes and re-encodes to the same bytes through the writer, and
/// every valid CAR fixture is rebuilt byte for byte from its parts by the snapshot writer.
#[test]
fn go_f3_fixtures_re_encode_byte_identically() {
    let mut n = 0;
    for (name, side, file) in fixtures() {
        if side.go_f3_import.result != GoResult::Accept {
            continue;
        }
        let bytes = std::fs::read(&file).unwrap();
        if analyze(&bytes[..], Some(Options::default()), &mut |_| {})
            .error
            .is_some()
        {
            continue;
        }
        if side.kind == Kind::F3data {
            let mut r = F3DataReader::new(&bytes[..]).unwrap();
            let h = r.header().value.clone();
            let certs: Vec<_> = r.by_ref().map(|b| b.unwrap().value).collect();
            let mut w = f3data::F3DataWriter::new(Vec::new(), &h).unwrap();
            for c in &certs {
                w.write_certificate(c).unwrap();
            }
            let (out, cid) = w.finish().unwrap();
            assert!(out == bytes, "{name}: re-encoding differs");
            assert_eq!(Some(cid.to_string()), side.f3_cid);
            n += 1;
        } else if side
            .car
            .as_ref()
            .is_some_and(|c| c.container == CarContainer::Carv1 && c.metadata.is_some())
        {
            let mut car = CarReader::new(&bytes[..]).unwrap();
            let mut blocks = Vec::new();
            while let Some(s) = car.next_section().unwrap() {
                let mut data = Vec::new();
                car.read_section(1 << 30, &mut data).unwrap();
                blocks.push((s.cid, data));
            }
            let md = frc0108::SnapshotMetadata::from_cbor(&blocks[0].1).unwrap();
            let (f3, chain) = match md.f3_data {
                Some(c) => {
                    assert_eq!(blocks[1].0, c);
                    (Some((&blocks[1].0, &blocks[1].1[..])), &blocks[2..])
                }
                None => (None, &blocks[1..]),
            };
            let (out, md_cid) =
                frc0108::snapshot::write_v2_snapshot(Vec::new(), &md.head_tipset_key, f3, chain)
                    .unwrap();
            assert!(out == bytes, "{name}: rebuilt CAR differs from go-car's");
            assert_eq!(md_cid, blocks[0].0);
            n += 1;
        }
    }
    assert!(n >= 8, "only {n} fixtures re-encoded");
}

// ---------------------------------------------------------------------------------------------
// go-f3 judging what Rust writes

fn harness() -> PathBuf {
    let p = std::env::var_os("FRC0108_F3HARNESS")
        .map(PathBuf::from)
        .expect("FRC0108_F3HARNESS must name the built harness (scripts/test.sh sets it)");
    assert!(p.exists(), "{} does not exist", p.display());
    p
}

/// Runs the harness and returns its one JSON line.
fn harness_json(args: &[&std::ffi::OsStr]) -> Value {
    let out = Command::new(harness()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "harness failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn go_import(path: &Path) -> Value {
    harness_json(&["import".as_ref(), path.as_os_str()])
}

fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
#[ignore = "needs the go-f3 harness: run through scripts/test.sh"]
fn go_f3_imports_what_rust_writes() {
    let dir = tempfile::tempdir().unwrap();
    // Rust-generated chains with churn, as raw F3 data and as v2 CARs.
    for seed in 0..12u64 {
        let p = frc0108::synth::Params {
            seed,
            participants: 1 + (seed as usize % 9),
            instances: 5 + seed * 7,
            first_instance: seed * 100,
            churn_percent: 20 + seed * 6,
            ..Default::default()
        };
        let (h, certs) = frc0108::synth::build(&p);
        let (f3, cid) = f3data::encode(&h, &certs);
        let path = write_tmp(dir.path(), &format!("synth-{seed}.f3"), &f3);
        let v = go_import(&path);
        assert_eq!(v["result"], "accept", "seed {seed}: {v}");
        let (head, block) = frc0108::snapshot::placeholder_block(&seed.to_le_bytes());
        let (car, _) = frc0108::snapshot::write_v2_snapshot(
            Vec::new(),
            &[head],
            Some((&cid, &f3)),
            &[(head, block)],
        )
        .unwrap();
        let path = write_tmp(dir.path(), &format!("synth-{seed}.car"), &car);
        let v = go_import(&path);
        assert_eq!(v["result"], "accept", "seed {seed} (CAR): {v}");
    }
    // Decoded go-f3 fixtures, written back by Rust.
    for (name, side, file) in fixtures() {
        if side.kind != Kind::F3data || side.go_f3_import.result != GoResult::Accept {
            continue;
        }
        let bytes = std::fs::read(&file).unwrap();
        let Ok(r) = F3DataReader::new(&bytes[..]) else {
            continue;
        };
        let h = r.header().clone();
        let certs: Result<Vec<_>, _> = r.map(|b| b.map(|b| b.value)).collect();
        let Ok(certs) = certs else { continue };
        let (out, _) = f3data::encode(&h.value, &certs);
        let path = write_tmp(dir.path(), &format!("{name}.f3"), &out);
        assert_eq!(go_import(&path)["result"], "accept", "{name}");
    }
}

/// Snapshots that break a rule go-f3's import enforces are rejected by both.
#[test]
#[ignore = "needs the go-f3 harness: run through scripts/test.sh"]
fn go_f3_rejects_what_rust_rejects_on_imports_rules() {
    let dir = tempfile::tempdir().unwrap();
    let p = frc0108::synth::Params {
        seed: 5,
        participants: 5,
        instances: 20,
        churn_percent: 100,
        ..Default::default()
    };
    let (h, certs) = frc0108::synth::build(&p);
    type Mutate = fn(&mut frc0108::F3SnapshotHeader, &mut Vec<frc0108::FinalityCertificate>);
    let cases: Vec<(&str, &str, Mutate)> = vec![
        ("gap", "sequence-gap", |_, c| {
            c.remove(5);
        }),
        ("no-certificates", "sequence-empty", |_, c| c.clear()),
        ("short", "sequence-short", |_, c| {
            c.pop();
        }),
        ("beyond-latest", "sequence-beyond-latest", |h, _| {
            h.latest_instance -= 1
        }),
        ("delta-unsorted", "delta-unsorted", |_, c| {
            let d = &mut c[3].power_table_delta;
            d.push(d[0].clone());
        }),
        (
            "wrong-final-power-table",
            "power-table-cid-mismatch",
            |_, c| {
                let last = c.len() - 1;
                c[last].supplemental_data.power_table = c[0].tipsets()[0].power_table;
            },
        ),
    ];
    for (name, code, mutate) in cases {
        let (mut h2, mut c2) = (h.clone(), certs.clone());
        mutate(&mut h2, &mut c2);
        let (f3, _) = f3data::encode(&h2, &c2);
        let ours = analyze(
            &f3[..],
            Some(Options {
                level: Level::Import,
                ..Options::default()
            }),
            &mut |_| {},
        );
        assert_eq!(ours.error.as_ref().map(|e| e.code()), Some(code), "{name}");
        let path = write_tmp(dir.path(), &format!("{name}.f3"), &f3);
        let v = go_import(&path);
        assert_eq!(v["result"], "reject", "{name}: go-f3 {v}");
    }
}

fn go_validate(path: &Path, network: &str) -> Value {
    harness_json(&[
        "validate".as_ref(),
        path.as_os_str(),
        "--network".as_ref(),
        network.as_ref(),
    ])
}

fn crypto_verdict(bytes: &[u8], network: &str) -> Option<frc0108::Error> {
    let opts = Options {
        level: Level::Crypto,
        network: network.to_string(),
        ..Options::default()
    };
    analyze(bytes, Some(opts), &mut |_| {}).error
}

/// go-f3's certificate validation and the crypto level agree on every go-f3 fixture, except
/// where the strict reader refuses something go-f3 never looks at (documented leniencies).
#[test]
#[ignore = "needs the go-f3 harness: run through scripts/test.sh"]
fn crypto_level_agrees_with_go_f3_validate_on_fixtures() {
    let mut compared = 0;
    for (name, side, file) in fixtures() {
        if side.kind != Kind::F3data {
            continue;
        }
        let network = side.network.as_str();
        let go = go_validate(&file, network);
        let go_result: GoResult = serde_json::from_value(go["result"].clone()).unwrap();
        assert_eq!(
            go_result, side.go_f3_validation.result,
            "{name}: harness and sidecar"
        );
        let ours = crypto_verdict(&std::fs::read(&file).unwrap(), network);
        let go_accepts = go["result"] == "accept";
        match &ours {
            None => assert!(go_accepts, "{name}: we accept, go-f3 says {go}"),
            Some(e) if go_accepts => assert!(
                GO_F3_LENIENT.contains(&e.code())
                    || e.code().starts_with("sequence-")
                    || e.code() == "chain-empty",
                "{name}: go-f3 validates it, we say {e}"
            ),
            Some(_) => {}
        }
        compared += 1;
    }
    assert!(compared >= 10);
}

/// Chains signed by the independent Rust signer, intact and with signature-level damage: the
/// crypto level and go-f3's validation give the same verdict on every one.
#[test]
#[ignore = "needs the go-f3 harness: run through scripts/test.sh"]
fn crypto_level_agrees_with_go_f3_validate_on_random_signed_chains() {
    let dir = tempfile::tempdir().unwrap();
    let network = "frc0108-differential";
    let mut rng = frc0108::synth::Rng::new(2024);
    let (mut accepted, mut rejected) = (0, 0);
    for seed in 0..16u64 {
        let p = frc0108::synth::Params {
            seed,
            participants: 2 + rng.below(12) as usize,
            instances: 3 + rng.below(12),
            first_instance: rng.below(5000),
            churn_percent: rng.below(101),
            sign_for: Some(network.into()),
            ..Default::default()
        };
        let (h, certs) = frc0108::synth::build(&p);
        let n = certs.len() as u64;
        let mut variants: Vec<(String, Vec<frc0108::FinalityCertificate>, &str)> =
            vec![("intact".into(), certs.clone(), network)];
        let i = rng.below(n) as usize;
        let mut c = certs.clone();
        let bit = rng.below(96 * 8) as usize;
        c[i].signature[bit / 8] ^= 1 << (bit % 8);
        variants.push((format!("flip bit {bit} of {i}"), c, network));
        let mut c = certs.clone();
        let signers: Vec<u64> = c[i].signers.iter().collect();
        if signers.len() > 1 {
            let drop = signers[rng.below(signers.len() as u64) as usize];
            c[i].signers =
                frc0108::Signers::from_indexes(signers.into_iter().filter(|&s| s != drop));
            variants.push((format!("drop signer {drop} of {i}"), c, network));
        }
        if n > 1 {
            let mut c = certs.clone();
            let j = (i + 1) % n as usize;
            let s = c[j].signature.clone();
            c[i].signature = s;
            variants.push((format!("signature of {j} on {i}"), c, network));
        }
        variants.push(("other network".into(), certs.clone(), "frc0108-elsewhere"));
        for (what, c, net) in variants {
            let (bytes, _) = f3data::encode(&h, &c);
            let path = write_tmp(dir.path(), &format!("s{seed}.f3"), &bytes);
            let go = go_validate(&path, net);
            let ours = crypto_verdict(&bytes, net);
            assert_eq!(
                go["result"] == "accept",
                ours.is_none(),
                "seed {seed}, {what}: go-f3 {go}, ours {ours:?}"
            );
            if ours.is_none() {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
    }
    assert!(
        accepted >= 16 && rejected >= 40,
        "accepted {accepted}, rejected {rejected}"
    );
}
