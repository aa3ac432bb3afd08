//! `frc0108`: inspect, check and write FRC-0108 snapshots. A thin shell over the library: it
//! parses arguments, opens files, shows progress and prints what the library reports.
//!
//! Exit codes, decided in one place ([`main`]): 0 success (valid), 1 the input is invalid,
//! 2 a usage mistake or a failure to read or write (the input could not be judged).

mod check;
mod input;
mod options;
mod synth;
mod vectors;
mod write;

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "frc0108",
    version,
    about = "Reference reader, checker and writer for FRC-0108 Filecoin snapshots"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Say what the input is: F3 data or a v1/v2 CAR snapshot, plain or zstd, and what it holds.
    Inspect(check::InspectArgs),
    /// Validate the input. Exit 0 valid, 1 invalid, 2 usage or I/O error.
    Check(check::CheckArgs),
    /// The conformance corpus: generate it, run an implementation over it, compare several.
    Vectors {
        #[command(subcommand)]
        command: vectors::VectorsCommand,
    },
    /// Write a synthetic snapshot from a seed: valid at the `chain` level; with --sign-for,
    /// signed with real BLS keys and valid at the `crypto` level too.
    Synth(synth::SynthArgs),
    /// Print the F3 data's header and certificates as JSON lines, as Lotus's RPC shows them.
    Dump(write::DumpArgs),
    /// Build F3 data (or a v2 CAR) from a JSON power table and JSON certificates, byte for
    /// byte as go-f3's certstore exports them.
    Assemble(write::AssembleArgs),
    /// Join a v1 chain snapshot and F3 data into a v2 snapshot (Lotus's layout).
    Merge(write::MergeArgs),
    /// Take the F3 data, and with --v1 the chain as a v1 snapshot, out of a v2 snapshot.
    Extract(write::ExtractArgs),
}

/// How a command that ran to its end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Done; the input, if judged, is valid.
    Success,
    /// The input is invalid.
    Invalid,
}

/// Why a command could not do its work: a usage mistake, or a file that could not be read or
/// written. Either way the input was not judged.
#[derive(Debug)]
struct Failure(String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Failure {
    /// A failure with `context` (what was being done) and its cause.
    fn with(context: impl fmt::Display, cause: impl fmt::Display) -> Failure {
        Failure(format!("{context}: {cause}"))
    }
}

fn run(cli: Cli) -> Result<Outcome, Failure> {
    match cli.command {
        Command::Inspect(args) => check::inspect(args),
        Command::Check(args) => check::check(args),
        Command::Vectors { command } => vectors::run(command),
        Command::Synth(args) => synth::run(args),
        Command::Dump(args) => write::dump(args),
        Command::Assemble(args) => write::assemble(args),
        Command::Merge(args) => write::merge(args),
        Command::Extract(args) => write::extract(args),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) => ExitCode::from(1),
        Err(e) => {
            eprintln!("frc0108: {e}");
            ExitCode::from(2)
        }
    }
}

/// Refuses to replace a file the user already has.
fn refuse_existing(path: &Path) -> Result<(), Failure> {
    if path.exists() {
        return Err(Failure(format!(
            "{} exists; not overwriting it",
            path.display()
        )));
    }
    Ok(())
}
