//! The conformance corpus: the committed corpus equals a fresh generation, the reference passes
//! every case, the manifest follows its schema's shape, and vectors/README.md documents every
//! error code and flag. With the go-f3 harness: COMPATIBILITY.md is current.

use std::path::{Path, PathBuf};

use frc0108::conformance::{generate, notes, run, Flag};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, base, out);
        } else {
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().to_string();
            out.push((rel, std::fs::read(&p).unwrap()));
        }
    }
}

#[test]
fn committed_corpus_equals_a_fresh_generation() {
    let tmp = tempfile::tempdir().unwrap();
    generate::generate(tmp.path(), &root().join("vectors/go-f3")).unwrap();
    let mut fresh = Vec::new();
    files(&tmp.path().join("cases"), tmp.path(), &mut fresh);
    let mut committed = Vec::new();
    files(
        &root().join("vectors/cases"),
        &root().join("vectors"),
        &mut committed,
    );
    fresh.sort();
    committed.sort();
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&fresh),
        names(&committed),
        "case files differ: run `frc0108 vectors generate`"
    );
    for ((name, a), (_, b)) in fresh.iter().zip(&committed) {
        assert!(a == b, "{name} differs from a fresh generation");
    }
    let m1 = std::fs::read(tmp.path().join("manifest.json")).unwrap();
    let m2 = std::fs::read(root().join("vectors/manifest.json")).unwrap();
    assert!(m1 == m2, "manifest.json differs from a fresh generation");
}

#[test]
fn reference_passes_every_case() {
    let results = run::run(&run::RunOptions {
        dir: root().join("vectors"),
        ..Default::default()
    })
    .unwrap();
    let (_, failed, _, skipped) = run::tally(&results);
    assert_eq!(skipped, 0);
    assert_eq!(failed, 0, "{}", run::table(&results));
    assert!(results.len() >= 80);
    // Every class the corpus promises has cases.
    for group in [
        "framing",
        "cbor",
        "sequence",
        "header",
        "delta",
        "power-table-cid",
        "ec-chain",
        "signature",
        "car",
        "consistency",
        "valid",
    ] {
        assert!(
            results
                .iter()
                .any(|r| r.case.id.starts_with(&format!("{group}/"))),
            "no {group} case"
        );
    }
}

#[test]
fn skip_flag_skips() {
    let results = run::run(&run::RunOptions {
        dir: root().join("vectors"),
        skip_flags: vec![frc0108::conformance::notes::Flag::Signature],
        ..Default::default()
    })
    .unwrap();
    let skipped: Vec<_> = results
        .iter()
        .filter(|r| r.verdict == run::Verdict::Skipped)
        .collect();
    assert!(!skipped.is_empty());
    assert!(skipped
        .iter()
        .all(|r| r.case.flags.contains(&Flag::Signature)));
}

/// An adapter that rejects everything fails every valid case, and the JUnit XML says so.
#[test]
fn adapter_protocol_and_junit() {
    let results = run::run(&run::RunOptions {
        dir: root().join("vectors"),
        adapter: Some(r#"echo '{"result":"reject","error":"no"}'"#.into()),
        ..Default::default()
    })
    .unwrap();
    let (_, failed, _, _) = run::tally(&results);
    let valid = results
        .iter()
        .filter(|r| r.case.result == frc0108::conformance::Expected::Valid)
        .count();
    assert_eq!(failed, valid);
    let xml = run::junit(&results, "reject-all");
    assert_eq!(xml.matches("<failure").count(), valid);
    // Exit status and missing lines are crashes.
    let crash = run::run(&run::RunOptions {
        dir: root().join("vectors"),
        adapter: Some("exit 3".into()),
        ..Default::default()
    })
    .unwrap();
    assert!(crash
        .iter()
        .all(|r| matches!(r.outcome, run::Outcome::Crash(_))));
}

#[test]
fn manifest_matches_its_schema() {
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg("import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))")
        .arg(root().join("vectors/schema.json"))
        .arg(root().join("vectors/manifest.json"))
        .status()
        .expect("python3 with jsonschema (scripts/test.sh installs it)");
    assert!(
        status.success(),
        "vectors/manifest.json does not validate against vectors/schema.json"
    );
}

#[test]
fn readme_documents_every_code_and_flag() {
    let readme = std::fs::read_to_string(root().join("vectors/README.md")).unwrap();
    let mut src = std::fs::read_to_string(root().join("src/error/kind.rs")).unwrap();
    // The consistency codes live with their rule.
    src += &std::fs::read_to_string(root().join("src/chain/consistency.rs")).unwrap();
    let mut n = 0;
    for part in src.split("=> \"").skip(1) {
        let code = part.split('"').next().unwrap();
        assert!(
            readme.contains(&format!("`{code}`")),
            "vectors/README.md does not document {code}"
        );
        n += 1;
    }
    assert!(n > 50);
    // The bug types and flags tables are the notes the manifest carries, as they are now.
    let tables = notes::notes_markdown();
    assert!(
        readme.contains(&tables),
        "vectors/README.md's bug type and flag tables differ from the notes; they should read:\n{tables}"
    );
}

/// The manifest's notes describe every flag, and every flag a case carries has a note.
#[test]
fn manifest_notes_cover_every_flag() {
    let m = run::load_manifest(&root().join("vectors")).unwrap();
    assert_eq!(m.notes, notes::notes());
    assert_eq!(m.notes.len(), Flag::ALL.len());
    for c in &m.cases {
        for f in &c.flags {
            assert!(m.notes.contains_key(f), "{}: {f:?} has no note", c.id);
        }
    }
}

#[test]
#[ignore = "needs the go-f3 harness: run through scripts/test.sh"]
fn compatibility_matrix_is_current() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("COMPATIBILITY.md");
    let status = std::process::Command::new(root().join("scripts/compat.sh"))
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let fresh = std::fs::read_to_string(&out).unwrap();
    let committed = std::fs::read_to_string(root().join("vectors/COMPATIBILITY.md")).unwrap();
    assert!(
        fresh == committed,
        "vectors/COMPATIBILITY.md is stale: run ./scripts/compat.sh"
    );
}
