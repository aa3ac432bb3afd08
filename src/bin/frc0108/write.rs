//! `dump`, `assemble`, `merge` and `extract`: the writer's commands, thin shells over the
//! library's [`frc0108::json`] and [`frc0108::merge`]. Outputs appear whole or not at all
//! ([`frc0108::output`]); an existing file is replaced only with `--force`.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use frc0108::merge::{self, ConsistencyCheck, F3Input, MergeError};
use frc0108::output::{OutputFile, OutputOptions, TempFile};

use crate::options::ValidateArgs;
use crate::{input, Failure, Outcome};

#[derive(clap::Args)]
pub struct DumpArgs {
    /// F3 data or a v2 snapshot (plain or zstd), or `-` for standard input.
    file: String,
    /// First instance to print.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Last instance to print.
    #[arg(long, default_value_t = u64::MAX)]
    to: u64,
}

#[derive(clap::Args)]
pub struct AssembleArgs {
    /// The initial power table: a JSON array of {"ID", "Power", "PubKey"} as the F3 manifests
    /// publish it, or a snapshot header as `dump` prints first. Not needed when the
    /// certificates begin with such a header.
    #[arg(long)]
    initial_power_table: Option<PathBuf>,
    /// Certificates as Filecoin.F3GetCertificate returns them: a JSON array, or one per line
    /// (as `dump` prints, header line included); `-` for standard input.
    #[arg(long)]
    certificates: String,
    /// Instance of the first certificate [default: the header's, else the first certificate's].
    #[arg(long)]
    first_instance: Option<u64>,
    /// Write a v2 snapshot CAR (with a one-block stand-in chain) instead of F3 data.
    #[arg(long)]
    car: bool,
    /// Output file (`.zst`: compressed).
    #[arg(long)]
    out: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    validate: ValidateArgs,
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The v1 chain snapshot (CARv1 or CARv2, plain, zstd or Forest's .forest.car.zst), or `-`.
    #[arg(long)]
    v1: String,
    /// The F3 data (plain or zstd); read twice, so a file.
    #[arg(long)]
    f3: PathBuf,
    /// Output file (`.zst`: compressed).
    #[arg(long)]
    out: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,
    /// Write the snapshot even when the F3 data does not finalize a tipset of the chain (the
    /// inconsistency is reported as a warning, and `check` refuses the output).
    #[arg(long)]
    allow_inconsistent: bool,
    /// zstd threads for a `.zst` output (0: one per core, at most 4).
    #[arg(long, default_value_t = 0)]
    threads: u32,
    #[command(flatten)]
    validate: ValidateArgs,
}

#[derive(clap::Args)]
pub struct ExtractArgs {
    /// A v2 snapshot (plain or zstd), or `-` for standard input.
    file: String,
    /// Where to write the F3 data (`.zst`: compressed).
    #[arg(long)]
    f3: PathBuf,
    /// Where to write the chain as a v1 snapshot CAR (`.zst`: compressed).
    #[arg(long)]
    v1: Option<PathBuf>,
    /// Replace output files that exist.
    #[arg(long)]
    force: bool,
}

/// An output file that replaces `path` when done; never one of `inputs` (with `--force`, the
/// rename would replace the input the command is reading).
fn create(path: &Path, force: bool, threads: u32, inputs: &[&str]) -> Result<OutputFile, Failure> {
    if path.as_os_str() == "-" {
        return Err(Failure(
            "outputs are files (written whole, then renamed into place), not `-`".into(),
        ));
    }
    if let Ok(out) = path.canonicalize() {
        for input in inputs.iter().filter(|i| **i != "-") {
            if Path::new(input).canonicalize().is_ok_and(|i| i == out) {
                return Err(Failure(format!(
                    "{} is an input of this command; not writing over it",
                    path.display()
                )));
            }
        }
    }
    OutputFile::create(path, OutputOptions { force, threads })
        .map_err(|e| Failure::with(format!("cannot write {}", path.display()), e))
}

fn commit(out: OutputFile) -> Result<(), Failure> {
    let path = out.path().display().to_string();
    out.commit()
        .map_err(|e| Failure::with(format!("cannot write {path}"), e))
}

/// A refusal of the inputs (exit 1) or a failure to read or write them (exit 2).
fn refused(command: &str, e: &MergeError) -> Result<Outcome, Failure> {
    let code = format!("[{}]", e.code());
    let mut msg = e.to_string();
    if !msg.ends_with(&code) {
        msg = format!("{msg} {code}");
    }
    if e.is_verdict() {
        eprintln!("frc0108 {command}: {msg}");
        Ok(Outcome::Invalid)
    } else {
        Err(Failure::with(command, msg))
    }
}

/// Standard output, noting whether its reader went away (`dump | head`): then `dump` stops
/// quietly.
struct Stdout<'a> {
    inner: io::StdoutLock<'a>,
    closed: bool,
}

impl Write for Stdout<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            self.closed |= e.kind() == io::ErrorKind::BrokenPipe;
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            self.closed |= e.kind() == io::ErrorKind::BrokenPipe;
        })
    }
}

pub fn dump(args: DumpArgs) -> Result<Outcome, Failure> {
    let input = input::open(&args.file)?;
    let mut stdout = Stdout {
        inner: io::stdout().lock(),
        closed: false,
    };
    match frc0108::json::dump(input.reader, &mut stdout, args.from, args.to) {
        Ok(_) => Ok(Outcome::Success),
        Err(MergeError::Write(_)) if stdout.closed => Ok(Outcome::Success),
        Err(e) => refused("dump", &e),
    }
}

pub fn assemble(args: AssembleArgs) -> Result<Outcome, Failure> {
    let (opts, _) = args.validate.options()?;
    let table = match &args.initial_power_table {
        None => None,
        Some(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| Failure::with(format!("cannot read {}", path.display()), e))?;
            let v = match frc0108::json::read_value(file) {
                Ok(v) => v,
                Err(e) if !e.is_verdict() => {
                    return Err(Failure::with(format!("cannot read {}", path.display()), e))
                }
                Err(e) => {
                    eprintln!("frc0108 assemble: {}: {e}", path.display());
                    return Ok(Outcome::Invalid);
                }
            };
            match frc0108::json::initial_power_table(&v) {
                Ok(t) => Some(t),
                Err(e) => {
                    eprintln!("frc0108 assemble: {}: {e}", path.display());
                    return Ok(Outcome::Invalid);
                }
            }
        }
    };
    let table_path = args.initial_power_table.as_deref().and_then(Path::to_str);
    let mut out = create(
        &args.out,
        args.force,
        0,
        &[args.certificates.as_str(), table_path.unwrap_or("-")],
    )?;
    let mut spool = TempFile::near(&args.out)
        .map_err(|e| Failure::with("cannot create a temporary file", e))?;
    let spool_file = spool
        .file()
        .map_err(|e| Failure::with("temporary file", e))?;
    let certificates = input::open(&args.certificates)?;
    let assembled = frc0108::json::assemble_json(
        table,
        certificates.reader,
        args.first_instance,
        spool_file,
        opts,
    );
    let mut assembled = match assembled {
        Ok(a) => a,
        Err(e) if e.is_verdict() => {
            eprintln!("frc0108 assemble: {}: {e}", args.certificates);
            return Ok(Outcome::Invalid);
        }
        Err(e) => return Err(Failure::with("assemble", e)),
    };
    let written = if args.car {
        let head = frc0108::snapshot::placeholder_block(b"frc0108 assemble");
        assembled.write_car(&mut out, &head).map(|(_, md)| Some(md))
    } else {
        assembled.write_f3(&mut out).map(|_| None)
    };
    let md =
        written.map_err(|e| Failure::with(format!("cannot write {}", args.out.display()), e))?;
    commit(out)?;
    eprintln!(
        "wrote {}: {}F3 data {} ({} bytes, instances {}..={})",
        args.out.display(),
        md.map(|c| format!("v2 snapshot {c} with "))
            .unwrap_or_default(),
        assembled.cid,
        assembled.len,
        assembled.header.first_instance,
        assembled.header.latest_instance,
    );
    Ok(Outcome::Success)
}

pub fn merge(args: MergeArgs) -> Result<Outcome, Failure> {
    let (opts, _) = args.validate.options()?;
    let open_f3 = || {
        File::open(&args.f3)
            .map_err(|e| Failure::with(format!("cannot open {}", args.f3.display()), e))
    };
    let f3_path = args.f3.to_str().unwrap_or("-");
    let mut out = create(&args.out, args.force, args.threads, &[&args.v1, f3_path])?;
    let f3 = match F3Input::scan(io::BufReader::new(open_f3()?), opts) {
        Ok(f3) => f3,
        Err(e) => return refused("merge", &e),
    };
    let v1 = input::open(&args.v1)?;
    // The F3 data must finalize a tipset of this chain (the `chain` level's consistency
    // check); `--allow-inconsistent` writes the snapshot anyway and warns.
    let mut check = ConsistencyCheck::new(!args.allow_inconsistent);
    let res = merge::merge(
        v1.reader,
        &f3,
        io::BufReader::new(open_f3()?),
        &mut out,
        &mut check,
    );
    let summary = match res {
        Ok((_, s)) => s,
        Err(e) => return refused("merge", &e),
    };
    commit(out)?;
    if let Some(e) = check.failure() {
        eprintln!("frc0108: warning: written despite --allow-inconsistent: {e}");
    } else if let Some(c) = check.summary().filter(|c| !c.checked) {
        eprintln!(
            "frc0108: note: consistency not checked: {}",
            c.skipped.unwrap_or_default()
        );
    }
    eprintln!(
        "wrote {}: v2 snapshot {}, F3 data {} ({} certificates), {} chain blocks ({} hash-checked), head {}",
        args.out.display(),
        summary.metadata_cid,
        f3.cid,
        f3.certificates,
        summary.chain.blocks,
        summary.chain.verified,
        summary
            .head_tipset_key
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    Ok(Outcome::Success)
}

pub fn extract(args: ExtractArgs) -> Result<Outcome, Failure> {
    if args.v1.as_deref() == Some(args.f3.as_path()) {
        return Err(Failure("--f3 and --v1 name the same file".into()));
    }
    let mut f3_out = create(&args.f3, args.force, 0, &[&args.file])?;
    let mut v1_out = match &args.v1 {
        Some(p) => Some(create(p, args.force, 0, &[&args.file])?),
        None => None,
    };
    let input = input::open(&args.file)?;
    let res = merge::extract(
        input.reader,
        &mut f3_out,
        v1_out.as_mut().map(|w| w as &mut dyn Write),
    );
    let summary = match res {
        Ok(s) => s,
        Err(e) => return refused("extract", &e),
    };
    let paths = format!(
        "{}{}",
        args.f3.display(),
        args.v1
            .as_ref()
            .map(|p| format!(" and {}", p.display()))
            .unwrap_or_default()
    );
    OutputFile::commit_all([Some(f3_out), v1_out].into_iter().flatten().collect())
        .map_err(|e| Failure::with(format!("cannot write {paths}"), e))?;
    eprintln!(
        "wrote {}: F3 data {} ({} bytes){}",
        args.f3.display(),
        summary
            .metadata
            .f3_data
            .map(|c| c.to_string())
            .unwrap_or_default(),
        summary.f3_bytes,
        match (&args.v1, summary.chain) {
            (Some(p), Some(c)) => format!("; {}: v1 snapshot, {} blocks", p.display(), c.blocks),
            _ => String::new(),
        }
    );
    Ok(Outcome::Success)
}
