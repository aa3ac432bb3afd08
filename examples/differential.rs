//! Differential fuzzing against go-f3, at two levels.
//!
//! - `import` (the default): snapshots from the structure-aware mutator
//!   (`frc0108::fuzzing::structured`) go through the reference reader at the `import` level and
//!   through go-f3's `ImportSnapshotToDatastore` (the harness's `import-batch`).
//! - `crypto`: signed chains changed at the signature level (`frc0108::fuzzing::crypto`: signers
//!   added or removed, signatures swapped, flipped or made by another set, quorums moved by
//!   deltas, key rotations, scaled-power edge cases), through the reference at the `crypto` level
//!   and through go-f3's `ValidateFinalityCertificates` (the harness's `validate-batch`).
//!
//! A case where go-f3 rejects what the reference accepts is always a finding; one where go-f3
//! accepts what the reference rejects is a finding unless the reference's code is a documented
//! go-f3 leniency. At the `crypto` level each case also says what it expects, and a verdict both
//! sides share against that expectation is a finding too. The input of every finding is kept in
//! `target/differential-findings/` with a line on what it is.
//!
//! `cargo run --release --features fuzzing --example differential -- [CASES] [SEED]
//! [--level import|crypto] [--probes]` (needs target/f3harness); exits 1 when there is a
//! finding. `--probes` runs, instead of the mix, the `crypto` cases where go-f3 is known to
//! accept what the reference rejects (`frc0108::fuzzing::crypto::PROBES`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use arbitrary::{Arbitrary, Unstructured};
use frc0108::conformance::{GO_F3_IMPORT_ONLY_LENIENT, GO_F3_LENIENT};
use frc0108::fuzzing::crypto::{self, NETWORK};
use frc0108::fuzzing::structured::{build, Case};
use frc0108::report::analyze;
use frc0108::synth::Rng;
use frc0108::validate::{Level, Options};

/// Cases per call of the harness.
const BATCH: usize = 50;

/// Where the input of every finding is kept, to be fixed or added to the corpus.
const FINDINGS: &str = "target/differential-findings";

/// One case to judge.
struct Input {
    index: usize,
    path: PathBuf,
    bytes: Vec<u8>,
    /// The change and what it expects (`crypto` level).
    kind: &'static str,
    detail: String,
    expect: Option<bool>,
}

struct Run {
    level: Level,
    seed: u64,
    root: PathBuf,
    harness: PathBuf,
    tally: BTreeMap<String, usize>,
    findings: Vec<String>,
    accepted: usize,
    rejected: usize,
}

fn main() {
    let mut positional = Vec::new();
    let mut level = Level::Import;
    let mut probes = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--level" => {
                level = match args.next().as_deref() {
                    Some("import") => Level::Import,
                    Some("crypto") => Level::Crypto,
                    other => usage(&format!("unknown level {other:?}")),
                }
            }
            "--probes" => probes = true,
            _ => positional.push(a),
        }
    }
    let number = |i: usize, default: u64| -> u64 {
        positional.get(i).map_or(default, |a| {
            a.parse()
                .unwrap_or_else(|_| usage(&format!("not a number: {a}")))
        })
    };
    let n = number(0, 500) as usize;
    let seed = number(1, 1);
    if probes && level != Level::Crypto {
        usage("--probes needs --level crypto");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut run = Run {
        level,
        seed,
        harness: root.join("target/f3harness"),
        root,
        tally: BTreeMap::new(),
        findings: Vec::new(),
        accepted: 0,
        rejected: 0,
    };
    let dir = std::env::temp_dir().join(format!("frc0108-differential-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut rng = Rng::new(seed);
    let mut batch = Vec::new();
    for i in 0..n {
        let input = match (level, probes) {
            (Level::Crypto, false) => {
                let c = crypto::case(rng.next_u64());
                Some((c.bytes, c.kind, c.detail, c.expect))
            }
            (Level::Crypto, true) => {
                let name = crypto::PROBES[i % crypto::PROBES.len()];
                crypto::probe(name, rng.next_u64()).map(|c| (c.bytes, c.kind, c.detail, c.expect))
            }
            _ => {
                let len = 64 + rng.below(256) as usize;
                let raw = rng.bytes(len);
                Case::arbitrary(&mut Unstructured::new(&raw))
                    .ok()
                    .map(|case| (build(&case), "structured", String::new(), None))
            }
        };
        if let Some((bytes, kind, detail, expect)) = input {
            let path = dir.join(format!("case-{i}.f3"));
            std::fs::write(&path, &bytes).expect("write");
            batch.push(Input {
                index: i,
                path,
                bytes,
                kind,
                detail,
                expect,
            });
        }
        if batch.len() == BATCH || (i + 1 == n && !batch.is_empty()) {
            run.batch(&batch);
            for input in batch.drain(..) {
                let _ = std::fs::remove_file(input.path);
            }
        }
    }
    let _ = std::fs::remove_dir(&dir);
    for (k, v) in &run.tally {
        println!("{v:>6}  {k}");
    }
    for f in &run.findings {
        println!("{f}");
    }
    let total = run.tally.values().sum::<usize>();
    if level == Level::Crypto {
        println!(
            "balance: {} accepted by both, {} rejected by both",
            run.accepted, run.rejected
        );
    }
    println!(
        "differential ({}): {total} cases, {} findings",
        level.name(),
        run.findings.len()
    );
    if !run.findings.is_empty() {
        println!("inputs kept in {FINDINGS}/");
        std::process::exit(1);
    }
}

fn usage(why: &str) -> ! {
    eprintln!("{why}\nusage: differential [CASES] [SEED] [--level import|crypto] [--probes]");
    std::process::exit(2)
}

impl Run {
    /// One harness call for the batch (running while the reference judges the same cases);
    /// every verdict compared with the reference's.
    fn batch(&mut self, batch: &[Input]) {
        let mut cmd = Command::new(&self.harness);
        match self.level {
            Level::Crypto => cmd.args(["validate-batch", "--network", NETWORK]),
            _ => cmd.arg("import-batch"),
        };
        let child = cmd
            .args(batch.iter().map(|b| &b.path))
            .stdout(Stdio::piped())
            .spawn()
            .expect("harness");
        let ours: Vec<Option<frc0108::Error>> = batch
            .iter()
            .map(|b| {
                let opts = Options {
                    level: self.level,
                    network: NETWORK.to_string(),
                    threads: 1,
                    ..Options::default()
                };
                analyze(&b.bytes[..], Some(opts), &mut |_| {}).error
            })
            .collect();
        let out = child.wait_with_output().expect("harness");
        let mut verdicts: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if let Some(f) = v["file"].as_str() {
                    verdicts.insert(f.to_string(), v.clone());
                }
            }
        }
        for (b, ours) in batch.iter().zip(ours) {
            let go = verdicts
                .get(b.path.to_string_lossy().as_ref())
                .cloned()
                .unwrap_or_default();
            self.judge(b, ours, &go);
        }
    }

    fn judge(&mut self, b: &Input, ours: Option<frc0108::Error>, go: &serde_json::Value) {
        let lenient = |code: &str| {
            GO_F3_LENIENT.contains(&code)
                || (self.level == Level::Import && GO_F3_IMPORT_ONLY_LENIENT.contains(&code))
        };
        let go_result = go["result"].as_str().unwrap_or("no verdict");
        let (key, finding) = match (&ours, go_result) {
            (None, "accept") => {
                self.accepted += 1;
                match b.expect {
                    Some(false) => (
                        "FINDING: both accept, expected a rejection".to_string(),
                        Some("both accept, the change calls for a rejection".to_string()),
                    ),
                    _ => ("both accept".to_string(), None),
                }
            }
            (Some(e), "reject") => {
                self.rejected += 1;
                match b.expect {
                    Some(true) => (
                        format!("FINDING: both reject ({}), expected acceptance", e.code()),
                        Some(format!(
                            "both reject, the change keeps it valid; reference: {e}; go-f3: {go}"
                        )),
                    ),
                    _ => (format!("both reject ({})", e.code()), None),
                }
            }
            (Some(e), "accept") if lenient(e.code()) => {
                (format!("go-f3 lenient ({})", e.code()), None)
            }
            (Some(e), "accept") => (
                format!("FINDING: go-f3 accepts {}", e.code()),
                Some(format!("go-f3 accepts, reference says {e}")),
            ),
            (None, _) => (
                "FINDING: go-f3 rejects what the reference accepts".to_string(),
                Some(format!("reference accepts, go-f3 says {go}")),
            ),
            (Some(e), _) => (
                format!("FINDING: go-f3 {go_result} ({})", e.code()),
                Some(format!("go-f3 says {go}, reference says {e}")),
            ),
        };
        let key = match self.level {
            Level::Crypto => format!("{:<32} {key}", b.kind),
            _ => key,
        };
        if let Some(f) = finding {
            self.keep(b, &f);
        }
        *self.tally.entry(key).or_default() += 1;
    }

    fn keep(&mut self, b: &Input, what: &str) {
        let dir = self.root.join(FINDINGS);
        let name = format!("{}-seed-{}-case-{}", self.level.name(), self.seed, b.index);
        let keep = dir.join(format!("{name}.f3"));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(&keep, &b.bytes);
        let about = format!("{}: {}\n{}\n", b.kind, b.detail, what);
        let _ = std::fs::write(dir.join(format!("{name}.txt")), about);
        self.findings.push(format!(
            "case {} [{}] {what} ({})",
            b.index,
            b.kind,
            display(&keep)
        ));
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
