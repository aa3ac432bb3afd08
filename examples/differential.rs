//! Differential fuzzing against go-f3: snapshots from the structure-aware mutator
//! (`frc0108::fuzzing::structured`) go through the reference reader at the `import` level and
//! through go-f3's `ImportSnapshotToDatastore` (the harness's `import`), in batches. A case where
//! go-f3 rejects what the reference accepts is always a finding; one where go-f3 accepts what the
//! reference rejects is a finding unless the reference's code is a documented go-f3 leniency.
//!
//! `cargo run --release --example differential -- [CASES] [SEED]` (needs target/f3harness).

use std::collections::BTreeMap;
use std::process::Command;

use arbitrary::{Arbitrary, Unstructured};
use frc0108::conformance::{GO_F3_IMPORT_ONLY_LENIENT, GO_F3_LENIENT};
use frc0108::fuzzing::structured::{build, Case};
use frc0108::report::analyze;
use frc0108::synth::Rng;
use frc0108::validate::{Level, Options};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let seed: u64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let harness = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/f3harness");
    let dir = std::env::temp_dir().join(format!("frc0108-differential-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut rng = Rng::new(seed);
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut findings = Vec::new();
    for i in 0..n {
        let len = 64 + rng.below(256) as usize;
        let raw = rng.bytes(len);
        let Ok(case) = Case::arbitrary(&mut Unstructured::new(&raw)) else {
            continue;
        };
        let bytes = build(&case);
        let path = dir.join(format!("case-{i}.f3"));
        std::fs::write(&path, &bytes).expect("write");
        let opts = Options {
            level: Level::Import,
            ..Options::default()
        };
        let ours = analyze(&bytes[..], Some(opts), &mut |_| {}).error;
        let out = Command::new(&harness)
            .arg("import")
            .arg(&path)
            .output()
            .expect("harness");
        let line = String::from_utf8_lossy(&out.stdout);
        let go: serde_json::Value =
            serde_json::from_str(line.lines().last().unwrap_or("")).unwrap_or_default();
        let go_accepts = go["result"] == "accept";
        let key = match (&ours, go_accepts) {
            (None, true) => "both accept".to_string(),
            (Some(e), false) => format!("both reject ({})", e.code()),
            (Some(e), true)
                if GO_F3_LENIENT.contains(&e.code())
                    || GO_F3_IMPORT_ONLY_LENIENT.contains(&e.code()) =>
            {
                format!("go-f3 lenient ({})", e.code())
            }
            (Some(e), true) => {
                findings.push(format!("case {i}: go-f3 accepts, reference says {e}"));
                format!("FINDING: go-f3 accepts {}", e.code())
            }
            (None, false) => {
                findings.push(format!("case {i}: reference accepts, go-f3 says {go}"));
                "FINDING: go-f3 rejects what the reference accepts".to_string()
            }
        };
        *tally.entry(key).or_default() += 1;
        let _ = std::fs::remove_file(&path);
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
        std::process::exit(1);
    }
}
