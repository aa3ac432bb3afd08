//! `vectors`: generate the conformance corpus, run an implementation over it, compare several.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use frc0108::conformance::notes::Flag;
use frc0108::conformance::{generate, run};

use crate::{Failure, Outcome};

#[derive(clap::Subcommand)]
pub enum VectorsCommand {
    /// Generate the corpus (cases/ and manifest.json) into DIR from the go-f3 fixtures.
    Generate {
        /// Output directory; its cases/ and manifest.json are replaced.
        #[arg(long, default_value = "vectors")]
        out: PathBuf,
        /// The go-f3 fixtures (default: OUT/go-f3).
        #[arg(long)]
        fixtures: Option<PathBuf>,
    },
    /// Run an implementation (the reference in-process, or an adapter) over every case.
    Run {
        /// The corpus directory.
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
        /// Adapter command: `{}` is replaced by the case file, `{network}` by its network.
        /// It prints one JSON line {"result":"accept"|"reject","error":"..."}.
        #[arg(long)]
        adapter: Option<String>,
        /// Skip cases with this flag (repeatable), e.g. Signature.
        #[arg(long = "skip-flag", value_parser = flag_parser())]
        skip_flags: Vec<Flag>,
        /// Write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Per-case time limit for an adapter, in seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Run several adapters and write the compatibility matrix as Markdown.
    Compat {
        /// The corpus directory.
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
        /// `NAME=COMMAND` (repeatable), as for `run --adapter`.
        #[arg(long = "adapter", required = true)]
        adapters: Vec<String>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: VectorsCommand) -> Result<Outcome, Failure> {
    match cmd {
        VectorsCommand::Generate { out, fixtures } => {
            let fixtures = fixtures.unwrap_or_else(|| out.join("go-f3"));
            let m = generate::generate(&out, &fixtures)
                .map_err(|e| Failure::with("generating the corpus", e))?;
            eprintln!("wrote {} cases to {}", m.cases.len(), out.display());
            Ok(Outcome::Success)
        }
        VectorsCommand::Run {
            dir,
            adapter,
            skip_flags,
            junit,
            timeout,
        } => {
            let opts = run::RunOptions {
                dir,
                adapter: adapter.clone(),
                skip_flags,
                timeout: Some(std::time::Duration::from_secs(timeout)),
            };
            let results = run::run(&opts).map_err(|e| Failure::with("running the corpus", e))?;
            print!("{}", run::table(&results));
            if let Some(path) = junit {
                let suite = adapter.as_deref().unwrap_or("frc0108 reference");
                std::fs::write(&path, run::junit(&results, suite))
                    .map_err(|e| Failure::with(format!("cannot write {}", path.display()), e))?;
            }
            Ok(if run::tally(&results).1 == 0 {
                Outcome::Success
            } else {
                Outcome::Invalid
            })
        }
        VectorsCommand::Compat { dir, adapters, out } => {
            let mut runs = Vec::new();
            for a in &adapters {
                let Some((name, cmd)) = a.split_once('=') else {
                    return Err(Failure(format!("--adapter takes NAME=COMMAND, got {a:?}")));
                };
                let opts = run::RunOptions {
                    dir: dir.clone(),
                    adapter: Some(cmd.to_string()),
                    ..Default::default()
                };
                let r = run::run(&opts).map_err(|e| Failure::with(format!("running {name}"), e))?;
                runs.push((name.to_string(), r));
            }
            let version = run::load_manifest(&dir)
                .map(|m| m.go_f3_version)
                .unwrap_or_default();
            std::fs::write(&out, run::compatibility_markdown(&version, &runs))
                .map_err(|e| Failure::with(format!("cannot write {}", out.display()), e))?;
            Ok(Outcome::Success)
        }
    }
}

/// `--skip-flag` takes the corpus's flag names; any other is a usage error.
fn flag_parser() -> impl TypedValueParser<Value = Flag> {
    PossibleValuesParser::new(Flag::ALL.map(Flag::name)).map(|s| {
        Flag::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .unwrap_or(Flag::Signature)
    })
}
