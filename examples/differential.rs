//! Differential fuzzing against go-f3: snapshots from the structure-aware mutator
//! (`frc0108::fuzzing::structured`) go through the reference reader at the `import` level and
//! through go-f3's `ImportSnapshotToDatastore` (the harness's `import-batch`, 50 cases a call).
//! A case where go-f3 rejects what the reference accepts is always a finding; one where go-f3
//! accepts what the reference rejects is a finding unless the reference's code is a documented
//! go-f3 leniency. The input of every finding is kept in `target/differential-findings/`.
//!
//! `cargo run --release --example differential -- [CASES] [SEED]` (needs target/f3harness);
//! exits 1 when there is a finding.

use std::collections::BTreeMap;
use std::process::Command;

use arbitrary::{Arbitrary, Unstructured};
use frc0108::conformance::{GO_F3_IMPORT_ONLY_LENIENT, GO_F3_LENIENT};
use frc0108::fuzzing::structured::{build, Case};
use frc0108::report::analyze;
use frc0108::synth::Rng;
use frc0108::validate::{Level, Options};

/// Cases per call of the harness.
const BATCH: usize = 50;

/// Where the input of every finding is kept, to be fixed or added to the corpus.
const FINDINGS: &str = "target/differential-findings";

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let seed: u64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let harness = root.join("target/f3harness");
    let dir = std::env::temp_dir().join(format!("frc0108-differential-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut rng = Rng::new(seed);
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut findings = Vec::new();
    let mut batch = Vec::new();
    for i in 0..n {
        let len = 64 + rng.below(256) as usize;
        let raw = rng.bytes(len);
        if let Ok(case) = Case::arbitrary(&mut Unstructured::new(&raw)) {
            let bytes = build(&case);
            let path = dir.join(format!("case-{i}.f3"));
            std::fs::write(&path, &bytes).expect("write");
            batch.push((i, path, bytes));
        }
        if batch.len() == BATCH || (i + 1 == n && !batch.is_empty()) {
            run_batch(&harness, &batch, seed, &root, &mut tally, &mut findings);
            for (_, path, _) in batch.drain(..) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    let _ = std::fs::remove_dir(&dir);
    for (k, v) in &tally {
        println!("{v:>6}  {k}");
    }
    for f in &findings {
        println!("{f}");
    }
    println!(
        "differential: {} cases, {} findings",
        tally.values().sum::<usize>(),
        findings.len()
    );
    if !findings.is_empty() {
        println!("inputs kept in {FINDINGS}/");
        std::process::exit(1);
    }
}

/// One harness call for the batch; every verdict compared with the reference's.
fn run_batch(
    harness: &std::path::Path,
    batch: &[(usize, std::path::PathBuf, Vec<u8>)],
    seed: u64,
    root: &std::path::Path,
    tally: &mut BTreeMap<String, usize>,
    findings: &mut Vec<String>,
) {
    let out = Command::new(harness)
        .arg("import-batch")
        .args(batch.iter().map(|(_, p, _)| p))
        .output()
        .expect("harness");
    let mut verdicts: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
            if let Some(f) = v["file"].as_str() {
                verdicts.insert(f.to_string(), v.clone());
            }
        }
    }
    for (i, path, bytes) in batch {
        let opts = Options {
            level: Level::Import,
            ..Options::default()
        };
        let ours = analyze(&bytes[..], Some(opts), &mut |_| {}).error;
        let go = verdicts
            .get(path.to_string_lossy().as_ref())
            .cloned()
            .unwrap_or_default();
        let go_accepts = go["result"] == "accept";
        let (key, finding) = match (&ours, go_accepts) {
            (None, true) => ("both accept".to_string(), None),
            (Some(e), false) => (format!("both reject ({})", e.code()), None),
            (Some(e), true)
                if GO_F3_LENIENT.contains(&e.code())
                    || GO_F3_IMPORT_ONLY_LENIENT.contains(&e.code()) =>
            {
                (format!("go-f3 lenient ({})", e.code()), None)
            }
            (Some(e), true) => (
                format!("FINDING: go-f3 accepts {}", e.code()),
                Some(format!("case {i}: go-f3 accepts, reference says {e}")),
            ),
            (None, false) => (
                "FINDING: go-f3 rejects what the reference accepts".to_string(),
                Some(format!("case {i}: reference accepts, go-f3 says {go}")),
            ),
        };
        if let Some(f) = finding {
            let keep = root.join(FINDINGS).join(format!("seed-{seed}-case-{i}.f3"));
            let _ = std::fs::create_dir_all(root.join(FINDINGS));
            let _ = std::fs::write(&keep, bytes);
            findings.push(format!("{f} ({})", keep.display()));
        }
        *tally.entry(key).or_default() += 1;
    }
}
