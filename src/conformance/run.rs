//! `frc0108 vectors run`: drives an implementation over every case.
//!
//! The adapter protocol: the command template gets `{}` replaced by the case file's path (and
//! `{network}` by the case's network name), runs through `sh -c`, and prints one JSON line
//! `{"result":"accept"|"reject","error":"..."}` as its last line of output. A non-zero exit,
//! no such line, or no answer within the time limit is a crash.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::error::{read, read_json, Error, Result};
use super::{sha256_hex, Case, Expected, Facts, Flag, Manifest};
use crate::report::analyze;
use crate::validate::{Level, Options};

/// What an implementation did with a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It accepted the input.
    Accept,
    /// It rejected the input, saying why.
    Reject(String),
    /// It crashed, hung, or did not follow the protocol.
    Crash(String),
}

/// How the outcome compares with the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// As expected.
    Pass,
    /// An acceptable case, either way.
    Acceptable,
    /// Not run: a skipped flag.
    Skipped,
    /// Disagrees with the case.
    Fail(String),
}

/// One case's result.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// What happened.
    pub outcome: Outcome,
    /// Judgement.
    pub verdict: Verdict,
    /// Wall time.
    pub seconds: f64,
}

/// Reads `dir/manifest.json`. A case whose kind, level or flags are not ones this version
/// knows is an error here, never a guess later.
pub fn load_manifest(dir: &Path) -> Result<Manifest> {
    read_json(dir.join("manifest.json"))
}

/// The reference reader on one case: strict, at the case's level (the deepest for valid cases;
/// for the others, the level whose first error the case names, since a deeper level may meet
/// another error first, e.g. a signature over the altered bytes).
fn reference(case: &Case, bytes: &[u8]) -> (Outcome, Option<Facts>) {
    let level = match case.result {
        Expected::Valid => Level::Crypto,
        _ => case.level,
    };
    let opts = Options {
        level,
        network: case.network.clone(),
        ..Options::default()
    };
    let a = analyze(bytes, Some(opts), &mut |_| {});
    match &a.error {
        None => (Outcome::Accept, Some(Facts::of(&a))),
        Some(e) => (Outcome::Reject(e.code().to_string()), None),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs an adapter command on one case.
fn adapter(template: &str, case: &Case, path: &Path, timeout: Duration) -> Outcome {
    let cmd = template
        .replace("{network}", &shell_quote(&case.network))
        .replace("{}", &shell_quote(&path.to_string_lossy()));
    let child = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Outcome::Crash(format!("cannot start adapter: {e}")),
    };
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = stdout.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let out = reader.join().unwrap_or_default();
    let Some(status) = status else {
        return Outcome::Crash(format!("no answer within {}s", timeout.as_secs()));
    };
    if !status.success() {
        return Outcome::Crash(format!("adapter exited with {status}"));
    }
    let line = out
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let v: serde_json::Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(_) => return Outcome::Crash(format!("no JSON result line (last line: {line:?})")),
    };
    let error = v["error"].as_str().unwrap_or("").to_string();
    match v["result"].as_str() {
        Some("accept") => Outcome::Accept,
        Some("reject") => Outcome::Reject(error),
        Some("crash") => Outcome::Crash(error),
        other => Outcome::Crash(format!("unknown result {other:?}")),
    }
}

/// Settings of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The corpus directory (holding manifest.json).
    pub dir: PathBuf,
    /// Adapter command template, or `None` for the reference in-process.
    pub adapter: Option<String>,
    /// Cases with any of these flags are skipped.
    pub skip_flags: Vec<Flag>,
    /// Per-case time limit for an adapter.
    pub timeout: Option<Duration>,
}

/// Runs every case of the corpus.
pub fn run(opts: &RunOptions) -> Result<Vec<CaseResult>> {
    let m = load_manifest(&opts.dir)?;
    let mut results = Vec::with_capacity(m.cases.len());
    for case in m.cases {
        let start = Instant::now();
        if case.flags.iter().any(|f| opts.skip_flags.contains(f)) {
            results.push(CaseResult {
                case,
                outcome: Outcome::Accept,
                verdict: Verdict::Skipped,
                seconds: 0.0,
            });
            continue;
        }
        let path = opts.dir.join(&case.file);
        let bytes = read(path.clone())?;
        let sha256 = sha256_hex(&bytes);
        if sha256 != case.sha256 {
            return Err(Error::Damaged {
                file: case.file,
                sha256,
            });
        }
        let (outcome, facts) = match &opts.adapter {
            None => reference(&case, &bytes),
            Some(t) => (
                adapter(
                    t,
                    &case,
                    &path,
                    opts.timeout.unwrap_or(Duration::from_secs(120)),
                ),
                None,
            ),
        };
        let strict = opts.adapter.is_none();
        let verdict = judge(&case, &outcome, strict, facts.as_ref());
        results.push(CaseResult {
            case,
            outcome,
            verdict,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    Ok(results)
}

/// Judges an outcome. The reference (`strict`) must also give the exact error code and, for
/// valid cases, the expected facts.
fn judge(case: &Case, outcome: &Outcome, strict: bool, facts: Option<&Facts>) -> Verdict {
    match (case.result, outcome) {
        (_, Outcome::Crash(why)) => Verdict::Fail(format!("crash: {why}")),
        (Expected::Valid, Outcome::Accept) => match (strict, facts, &case.expected) {
            (true, Some(got), Some(want)) if got != want => {
                Verdict::Fail(format!("facts differ: {got:?}"))
            }
            _ => Verdict::Pass,
        },
        (Expected::Valid, Outcome::Reject(e)) => {
            Verdict::Fail(format!("rejected a valid case: {e}"))
        }
        (Expected::Invalid, Outcome::Accept) => Verdict::Fail("accepted an invalid case".into()),
        (Expected::Invalid, Outcome::Reject(e)) => {
            if strict && Some(e) != case.error.as_ref() {
                Verdict::Fail(format!(
                    "error {e}, expected {}",
                    case.error.as_deref().unwrap_or("-")
                ))
            } else {
                Verdict::Pass
            }
        }
        (Expected::Acceptable, Outcome::Reject(e)) if strict && Some(e) != case.error.as_ref() => {
            Verdict::Fail(format!(
                "error {e}, expected {}",
                case.error.as_deref().unwrap_or("-")
            ))
        }
        (Expected::Acceptable, _) => Verdict::Acceptable,
    }
}

fn outcome_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Accept => "accept",
        Outcome::Reject(_) => "reject",
        Outcome::Crash(_) => "crash",
    }
}

fn expected_word(e: Expected) -> &'static str {
    match e {
        Expected::Valid => "valid",
        Expected::Invalid => "invalid",
        Expected::Acceptable => "acceptable",
    }
}

/// Counts of a run: (passed, failed, acceptable, skipped).
pub fn tally(results: &[CaseResult]) -> (usize, usize, usize, usize) {
    let mut t = (0, 0, 0, 0);
    for r in results {
        match r.verdict {
            Verdict::Pass => t.0 += 1,
            Verdict::Fail(_) => t.1 += 1,
            Verdict::Acceptable => t.2 += 1,
            Verdict::Skipped => t.3 += 1,
        }
    }
    t
}

/// A plain-text table of the results, then a summary line.
pub fn table(results: &[CaseResult]) -> String {
    let w = results
        .iter()
        .map(|r| r.case.id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut s = format!(
        "{:<w$}  {:<10}  {:<7}  verdict\n",
        "case", "expected", "got"
    );
    for r in results {
        let v = match &r.verdict {
            Verdict::Pass => "pass".to_string(),
            Verdict::Acceptable => "acceptable".to_string(),
            Verdict::Skipped => "skipped".to_string(),
            Verdict::Fail(why) => format!("FAIL: {why}"),
        };
        let got = match (&r.verdict, &r.outcome) {
            (Verdict::Skipped, _) => "-",
            (_, o) => outcome_word(o),
        };
        s.push_str(&format!(
            "{:<w$}  {:<10}  {:<7}  {v}\n",
            r.case.id,
            expected_word(r.case.result),
            got
        ));
    }
    let (p, f, a, k) = tally(results);
    s.push_str(&format!(
        "vectors: {} passed, {f} failed, {k} skipped\n",
        p + a
    ));
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML for CI systems: one test case per vector.
pub fn junit(results: &[CaseResult], suite: &str) -> String {
    let (_, f, _, k) = tally(results);
    let total: f64 = results.iter().map(|r| r.seconds).sum();
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" skipped=\"{k}\" time=\"{total:.3}\">\n",
        xml_escape(suite),
        results.len()
    );
    for r in results {
        let (class, name) = r.case.id.split_once('/').unwrap_or(("vectors", &r.case.id));
        s.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            xml_escape(class),
            xml_escape(name),
            r.seconds
        ));
        match &r.verdict {
            Verdict::Fail(why) => {
                s.push_str(&format!("<failure message=\"{}\"/>", xml_escape(why)))
            }
            Verdict::Skipped => s.push_str("<skipped/>"),
            _ => {}
        }
        s.push_str("</testcase>\n");
    }
    s.push_str("</testsuite>\n");
    s
}

/// The compatibility matrix of several implementations (name, results) as Markdown.
pub fn compatibility_markdown(go_f3_version: &str, runs: &[(String, Vec<CaseResult>)]) -> String {
    let mut s = String::from("# Compatibility matrix\n\n");
    s.push_str(&format!(
        "Every case of `manifest.json` run through each implementation's adapter, against go-f3 {go_f3_version}.\n\
         Regenerate with `./scripts/compat.sh`. `accept`/`reject`/`crash` is what the implementation did;\n\
         a mark `✗` is a disagreement with the expected result (`acceptable` cases allow either).\n\n"
    ));
    s.push_str("| case | expected | reference error |");
    for (name, _) in runs {
        s.push_str(&format!(" {name} |"));
    }
    s.push_str("\n|---|---|---|");
    for _ in runs {
        s.push_str("---|");
    }
    s.push('\n');
    let Some((_, first)) = runs.first() else {
        return s;
    };
    for (i, r) in first.iter().enumerate() {
        s.push_str(&format!(
            "| `{}` | {} | {} |",
            r.case.id,
            expected_word(r.case.result),
            r.case
                .error
                .as_deref()
                .map_or("-".into(), |e| format!("`{e}`"))
        ));
        for (_, rs) in runs {
            let cell = rs.get(i).map_or("-".to_string(), |x| {
                let mark = if matches!(x.verdict, Verdict::Fail(_)) {
                    " ✗"
                } else {
                    ""
                };
                match x.verdict {
                    Verdict::Skipped => "skipped".into(),
                    _ => format!("{}{mark}", outcome_word(&x.outcome)),
                }
            });
            s.push_str(&format!(" {cell} |"));
        }
        s.push('\n');
    }
    s.push_str("\n## Divergences\n\nWhere an implementation accepts what the format rules out, or crashes, and what it means for a node operator.\n\n");
    let mut any = false;
    for (name, rs) in runs {
        for x in rs {
            let what = match (&x.verdict, &x.outcome) {
                (Verdict::Fail(_), Outcome::Accept) => "accepts",
                (_, Outcome::Crash(_)) => "crashes",
                _ => continue,
            };
            any = true;
            let why = match &x.outcome {
                Outcome::Crash(w) => format!(
                    " ({})",
                    w.lines()
                        .next()
                        .unwrap_or("")
                        .chars()
                        .take(90)
                        .collect::<String>()
                ),
                _ => String::new(),
            };
            s.push_str(&format!(
                "- **{name}** {what} `{}`{why}: {}\n",
                x.case.id,
                operator_note(&x.case, what)
            ));
        }
    }
    if !any {
        s.push_str("None.\n");
    }
    s
}

/// What a divergence means for someone running a node, by the rule the case breaks.
fn operator_note(case: &Case, what: &str) -> String {
    let code = case.error.as_deref().unwrap_or("");
    let id = case.id.as_str();
    let note = match code {
        "block-too-large" if what == "crashes" => "a 20-byte file takes the node down on import: the declared length is allocated before anything is read.",
        "block-too-large" => "the declared length is allocated before anything is read; a small file can make the node reserve gigabytes.",
        "block-truncated" => "a file cut or padded after the last certificate imports as complete.",
        "varint-overlong" => "byte-different files carry the same certificates; a CID comparison of F3 data can no longer tell equal content.",
        "header-version" => "a snapshot of an unknown, future F3 format version is imported as if it were version 1.",
        "power-table-unsorted" => "the header's power table is not what its CID commits to in canonical form; a manifest check over it fails or passes by accident.",
        "chain-empty" if id.ends_with("null-on-last") => "the import succeeds, then the node's F3 certificate store panics when it is opened again (at the next start).",
        "chain-empty" | "chain-epochs" | "chain-base" | "chain-too-long" => "certificates whose finalized chain is malformed are stored and served as final.",
        "power-table-cid-mismatch" => "a wrong power table is stored between checkpoints; certificates up to the next checkpoint are judged against it.",
        "signature-invalid" | "signature-quorum" | "signature-malformed" | "signer-out-of-range" => "import never checks signatures: certificates nobody (or too few) signed are stored as final.",
        "cid-version" | "cid-codec" | "cid-hash" => "a power table reference that no power table can have is stored and served.",
        "metadata-version" => "metadata of an undefined version is read as version 2.",
        "metadata-empty-head" => "the node panics on import (Lotus indexes the first head block).",
        "cid-mismatch" if id.contains("f3") => "the F3 block's hash is never checked: an F3 block swapped or corrupted in transit imports.",
        "cid-mismatch" => "a block that does not match its CID gets past this stage.",
        "car-block-missing" => "a snapshot without its head tipset blocks passes the F3 stage.",
        "car-truncated" => "a truncated CARv2 payload is not noticed at this stage.",
        "sequence-short" => "certificate validation alone does not hold the stream to the header's LatestInstance.",
        _ => "",
    };
    if note.is_empty() {
        format!("{}.", case.description)
    } else {
        note.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest whose first case has `field` set to `value`, written to a fresh folder.
    fn manifest_with(field: &str, value: &str) -> tempfile::TempDir {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
        let mut m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
        m["cases"][0][field] = value.into();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest.json"), m.to_string()).unwrap();
        dir
    }

    /// An unknown level is an error when the manifest is loaded, not a run at another level.
    #[test]
    fn unknown_level_is_a_load_error() {
        let dir = manifest_with("level", "deepest");
        let err = load_manifest(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Json { .. }), "{err}");
        assert!(err.to_string().contains("deepest"), "{err}");
        assert!(run(&RunOptions {
            dir: dir.path().into(),
            ..RunOptions::default()
        })
        .is_err());
    }

    /// So is an unknown kind, and the committed manifest loads.
    #[test]
    fn unknown_kind_is_a_load_error() {
        let dir = manifest_with("kind", "tarball");
        assert!(matches!(load_manifest(dir.path()), Err(Error::Json { .. })));
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
        assert!(load_manifest(&root).is_ok_and(|m| m.cases.len() >= 80));
    }
}
