//! `frc0108`: inspect and check FRC-0108 snapshots. A thin shell over the library: it parses
//! arguments, opens input, shows progress, and prints what the library reports.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use frc0108::report::{analyze, Analysis, Progress};
use frc0108::validate::{Level, Manifest, Options, DEFAULT_POWER_TABLE_FREQUENCY};
use frc0108::ErrorKind;

#[derive(Parser)]
#[command(
    name = "frc0108",
    version,
    about = "Reference reader and checker for FRC-0108 Filecoin snapshots"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Say what the input is: F3 data or a v1/v2 CAR snapshot, plain or zstd, and what it holds.
    Inspect {
        /// Input file, or `-` for standard input.
        file: String,
        /// Print one JSON object (see README).
        #[arg(long)]
        json: bool,
    },
    /// Validate the input. Exit 0 valid, 1 invalid, 2 usage or I/O error.
    Check {
        /// Input file, or `-` for standard input.
        file: String,
        /// Print one JSON object (see README).
        #[arg(long)]
        json: bool,
        /// How deep to go.
        #[arg(long, value_enum, default_value_t = LevelArg::Chain)]
        level: LevelArg,
        /// The header's FirstInstance must equal this (a network manifest's InitialInstance).
        #[arg(long)]
        initial_instance: Option<u64>,
        /// The header's power table must have this CID (a manifest's InitialPowerTable).
        #[arg(long)]
        initial_power_table: Option<String>,
        /// Checkpoint interval of the `import` level (go-f3's default is 1440).
        #[arg(long, default_value_t = DEFAULT_POWER_TABLE_FREQUENCY)]
        power_table_frequency: u64,
        /// Threads checking signatures (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Network name the certificates are signed for (level `crypto`): a known network
        /// (`filecoin`, `calibrationnet`) also fixes the initial instance and power table.
        #[arg(long)]
        network: Option<String>,
    },
    /// The conformance corpus: generate it, run an implementation over it, compare several.
    Vectors {
        #[command(subcommand)]
        command: VectorsCommand,
    },
    /// Write a synthetic snapshot from a seed: valid at the `chain` level; with --sign-for,
    /// signed with real BLS keys and valid at the `crypto` level too.
    Synth {
        /// Output file.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Participants in the initial power table.
        #[arg(long, default_value_t = 4)]
        participants: usize,
        /// Certificates.
        #[arg(long, default_value_t = 10)]
        instances: u64,
        /// Instance of the first certificate.
        #[arg(long, default_value_t = 0)]
        first_instance: u64,
        /// Percentage of certificates with a power table delta.
        #[arg(long, default_value_t = 30)]
        churn_percent: u64,
        /// Wrap the F3 data in a v2 CAR snapshot.
        #[arg(long)]
        car: bool,
        /// Use real BLS keys and sign every certificate for this network, as go-f3 signs.
        #[arg(long)]
        sign_for: Option<String>,
    },
}

#[derive(Subcommand)]
enum VectorsCommand {
    /// Generate the corpus (cases/ and manifest.json) into DIR from the go-f3 fixtures.
    Generate {
        /// Output directory; its cases/ and manifest.json are replaced.
        #[arg(long, default_value = "vectors")]
        out: std::path::PathBuf,
        /// The go-f3 fixtures (default: OUT/go-f3).
        #[arg(long)]
        fixtures: Option<std::path::PathBuf>,
    },
    /// Run an implementation (the reference in-process, or an adapter) over every case.
    Run {
        /// The corpus directory.
        #[arg(long, default_value = "vectors")]
        dir: std::path::PathBuf,
        /// Adapter command: `{}` is replaced by the case file, `{network}` by its network.
        /// It prints one JSON line {"result":"accept"|"reject","error":"..."}.
        #[arg(long)]
        adapter: Option<String>,
        /// Skip cases with this flag (repeatable), e.g. Signature.
        #[arg(long = "skip-flag")]
        skip_flags: Vec<String>,
        /// Write JUnit XML here.
        #[arg(long)]
        junit: Option<std::path::PathBuf>,
        /// Per-case time limit for an adapter, in seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Run several adapters and write the compatibility matrix as Markdown.
    Compat {
        /// The corpus directory.
        #[arg(long, default_value = "vectors")]
        dir: std::path::PathBuf,
        /// `NAME=COMMAND` (repeatable), as for `run --adapter`.
        #[arg(long = "adapter", required = true)]
        adapters: Vec<String>,
        /// Output file.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

fn vectors(cmd: VectorsCommand) -> ExitCode {
    use frc0108::conformance::{generate, run};
    match cmd {
        VectorsCommand::Generate { out, fixtures } => {
            let fixtures = fixtures.unwrap_or_else(|| out.join("go-f3"));
            match generate::generate(&out, &fixtures) {
                Ok(m) => {
                    eprintln!("wrote {} cases to {}", m.cases.len(), out.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("frc0108: {e}");
                    ExitCode::from(2)
                }
            }
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
            let results = match run::run(&opts) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("frc0108: {e}");
                    return ExitCode::from(2);
                }
            };
            print!("{}", run::table(&results));
            if let Some(path) = junit {
                let suite = adapter.as_deref().unwrap_or("frc0108 reference");
                if let Err(e) = std::fs::write(&path, run::junit(&results, suite)) {
                    eprintln!("frc0108: cannot write {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
            if run::tally(&results).1 == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        VectorsCommand::Compat { dir, adapters, out } => {
            let mut runs = Vec::new();
            for a in &adapters {
                let Some((name, cmd)) = a.split_once('=') else {
                    eprintln!("frc0108: --adapter takes NAME=COMMAND, got {a:?}");
                    return ExitCode::from(2);
                };
                let opts = run::RunOptions {
                    dir: dir.clone(),
                    adapter: Some(cmd.to_string()),
                    ..Default::default()
                };
                match run::run(&opts) {
                    Ok(r) => runs.push((name.to_string(), r)),
                    Err(e) => {
                        eprintln!("frc0108: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            let version = run::load_manifest(&dir)
                .map(|m| m.go_f3_version)
                .unwrap_or_default();
            match std::fs::write(&out, run::compatibility_markdown(&version, &runs)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("frc0108: cannot write {}: {e}", out.display());
                    ExitCode::from(2)
                }
            }
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LevelArg {
    /// Bytes, header, per-certificate structure and sequence.
    Structure,
    /// Structure plus go-f3's import checks.
    Import,
    /// Import plus power table CIDs after every certificate and chain continuity.
    Chain,
    /// Chain plus strong quorum and BDN-aggregated BLS signatures (needs --network).
    Crypto,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::Structure => Level::Structure,
            LevelArg::Import => Level::Import,
            LevelArg::Chain => Level::Chain,
            LevelArg::Crypto => Level::Crypto,
        }
    }
}

/// The input, read a few MiB ahead on a thread of its own.
fn open(path: &str) -> io::Result<Box<dyn Read>> {
    if path == "-" {
        Ok(Box::new(frc0108::framing::Prefetch::new(io::stdin())))
    } else {
        Ok(Box::new(frc0108::framing::Prefetch::new(File::open(path)?)))
    }
}

/// A progress line on stderr when it is a terminal; nothing otherwise.
fn progress_bar() -> Box<dyn FnMut(Progress)> {
    if !io::stderr().is_terminal() {
        return Box::new(|_| {});
    }
    let bar = indicatif::ProgressBar::new_spinner();
    let start = Instant::now();
    Box::new(move |p: Progress| {
        let secs = start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!(
            "{} read, {} certificates ({:.1} MiB/s, {:.0} certificates/s)",
            indicatif::HumanBytes(p.bytes),
            p.certificates,
            p.bytes as f64 / secs / (1 << 20) as f64,
            p.certificates as f64 / secs,
        ));
        bar.tick();
    })
}

fn print_json(v: &serde_json::Value) {
    let mut out = io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

fn print_inspect(a: &Analysis) {
    let v = a.inspect_json();
    let get = |k: &str| v.get(k).cloned().unwrap_or_default();
    println!(
        "format:       {} ({})",
        get("format").as_str().unwrap_or("unknown"),
        a.compression.name()
    );
    if let Some(car) = &a.car {
        if let Some(c) = car.container {
            println!("container:    {}", c.name());
        }
        for r in &car.roots {
            println!("root:         {r}");
        }
        if let Some(md) = &car.metadata {
            println!(
                "metadata:     version {}, {} head blocks",
                md.version,
                md.head_tipset_key.len()
            );
            match &md.f3_data {
                Some(c) => println!("f3 data:      {c}"),
                None => println!("f3 data:      none"),
            }
        }
        println!("sections:     {}", car.sections);
    }
    if let Some(f3) = &a.f3 {
        if let Some(h) = &f3.header {
            println!(
                "f3 header:    version {}, instances {}..={}, initial power table {} entries",
                h.version,
                h.first_instance,
                h.latest_instance,
                h.initial_power_table.0.len()
            );
            if let Some(c) = f3.initial_power_table_cid {
                println!("power table:  {c}");
            }
        }
        println!("certificates: {}", f3.certificates);
        println!("f3 bytes:     {}", f3.bytes);
        if let Some(c) = f3.cid {
            println!("f3 cid:       {c}");
        }
    }
    if let Some(e) = &a.error {
        println!("error:        {e}");
    }
}

fn is_io(a: &Analysis) -> bool {
    matches!(a.error.as_ref().map(|e| &e.kind), Some(ErrorKind::Io(_)))
}

fn synth(out: &std::path::Path, params: &frc0108::synth::Params, car: bool) -> frc0108::Result<()> {
    if out.exists() {
        return Err(frc0108::Error::new(ErrorKind::Io(format!(
            "{} exists; not overwriting it",
            out.display()
        ))));
    }
    let (header, certs) = frc0108::synth::build(params);
    let (f3, f3_cid) = frc0108::f3data::encode(&header, &certs);
    let mut file = io::BufWriter::new(File::create_new(out)?);
    if car {
        let (head, block) = frc0108::snapshot::placeholder_block(&params.seed.to_be_bytes());
        frc0108::snapshot::write_v2_snapshot(
            &mut file,
            &[head],
            Some((&f3_cid, &f3)),
            &[(head, block)],
        )?;
    } else {
        file.write_all(&f3)?;
    }
    file.flush()?;
    eprintln!(
        "wrote {} ({} certificates, F3 data {f3_cid})",
        out.display(),
        certs.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Vectors { command } => vectors(command),
        Command::Synth {
            out,
            seed,
            participants,
            instances,
            first_instance,
            churn_percent,
            car,
            sign_for,
        } => {
            let params = frc0108::synth::Params {
                seed,
                participants,
                instances,
                first_instance,
                churn_percent,
                sign_for,
                ..Default::default()
            };
            match synth(&out, &params, car) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("frc0108: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Inspect { file, json } => {
            let input = match open(&file) {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("frc0108: cannot open {file}: {e}");
                    return ExitCode::from(2);
                }
            };
            let a = analyze(input, None, &mut progress_bar());
            if json {
                print_json(&a.inspect_json());
            } else {
                print_inspect(&a);
            }
            match &a.error {
                None => ExitCode::SUCCESS,
                Some(_) if is_io(&a) => ExitCode::from(2),
                Some(_) => ExitCode::from(1),
            }
        }
        Command::Check {
            file,
            json,
            level,
            initial_instance,
            initial_power_table,
            power_table_frequency,
            network,
            threads,
        } => {
            let initial_power_table = match initial_power_table
                .map(|s| s.parse::<cid::Cid>())
                .transpose()
            {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("frc0108: --initial-power-table is not a CID: {e}");
                    return ExitCode::from(2);
                }
            };
            if power_table_frequency == 0 {
                eprintln!("frc0108: --power-table-frequency must be positive");
                return ExitCode::from(2);
            }
            let opts = Options {
                level: level.into(),
                power_table_frequency,
                manifest: Manifest {
                    initial_instance,
                    initial_power_table,
                },
                network: network.clone().unwrap_or_default(),
                threads,
            };
            if opts.level == Level::Crypto && network.is_none() {
                eprintln!("frc0108: --level crypto needs --network NAME");
                return ExitCode::from(2);
            }
            let mut opts = opts;
            if let Some(known) = network.as_deref().and_then(frc0108::networks::by_name) {
                opts.manifest
                    .initial_instance
                    .get_or_insert(known.initial_instance);
                opts.manifest
                    .initial_power_table
                    .get_or_insert(known.initial_power_table);
            }
            let input = match open(&file) {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("frc0108: cannot open {file}: {e}");
                    return ExitCode::from(2);
                }
            };
            let a = analyze(input, Some(opts), &mut progress_bar());
            if json {
                print_json(&a.check_json());
            } else {
                match &a.error {
                    None => {
                        let f3 = a.f3.as_ref();
                        let n = f3.map_or(0, |f| f.certificates);
                        let level = a.level.map_or("", Level::name);
                        match f3.and_then(|f| f.cid) {
                            Some(cid) => {
                                println!("valid ({level} level): {n} certificates, F3 data {cid}")
                            }
                            None => println!("valid ({level} level): no F3 data"),
                        }
                    }
                    Some(e) => println!("invalid: {e}"),
                }
            }
            match &a.error {
                None => ExitCode::SUCCESS,
                Some(_) if is_io(&a) => ExitCode::from(2),
                Some(_) => ExitCode::from(1),
            }
        }
    }
}
