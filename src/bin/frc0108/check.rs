//! `inspect` and `check`: one pass of the library's [`analyze`] over the input, printed as
//! text or as one JSON object.

use std::io::Write;
use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::builder::TypedValueParser;
use frc0108::chain::consistency::{key_string, Consistency};
use frc0108::networks::{self, Network};
use frc0108::report::{analyze, Analysis};
use frc0108::validate::{Level, Manifest, Options, DEFAULT_POWER_TABLE_FREQUENCY};
use serde_json::{json, Value};

use crate::{input, Failure, Outcome};

/// The network options shared by `inspect` and `check`.
#[derive(clap::Args)]
pub struct NetworkArgs {
    /// Network the certificates are signed for: a known one (`filecoin` or `mainnet`,
    /// `calibrationnet2` or `calibnet`, the retired `calibrationnet`) also fixes the initial
    /// instance and power table; any other name is taken as a custom network.
    #[arg(long, conflicts_with = "manifest")]
    network: Option<String>,
    /// A go-f3 / Lotus F3 manifest (JSON) giving the network's name, initial instance and
    /// initial power table.
    #[arg(long)]
    manifest: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct InspectArgs {
    /// Input file, or `-` for standard input.
    file: String,
    /// Print one JSON object (see README).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    network: NetworkArgs,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Input file, or `-` for standard input.
    file: String,
    /// Print one JSON object (see README).
    #[arg(long)]
    json: bool,
    /// How deep to go [default: crypto with --network or --manifest, else chain].
    #[arg(long, value_parser = level_parser())]
    level: Option<Level>,
    #[command(flatten)]
    network: NetworkArgs,
    /// The header's FirstInstance must equal this (overrides the network's).
    #[arg(long)]
    initial_instance: Option<u64>,
    /// The header's power table must have this CID (overrides the network's).
    #[arg(long)]
    initial_power_table: Option<String>,
    /// Checkpoint interval of the `import` level (go-f3's default is 1440).
    #[arg(long, default_value_t = DEFAULT_POWER_TABLE_FREQUENCY,
          value_parser = clap::value_parser!(u64).range(1..))]
    power_table_frequency: u64,
    /// Threads checking signatures and power tables (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// `--level` takes the library's level names.
fn level_parser() -> impl TypedValueParser<Value = Level> {
    PossibleValuesParser::new(LEVELS.map(Level::name))
        .map(|s| Level::from_name(&s).unwrap_or(Level::Chain))
}

const LEVELS: [Level; 4] = [Level::Structure, Level::Import, Level::Chain, Level::Crypto];

/// The network chosen on the command line, and how.
struct Chosen {
    network: Network,
    /// Known by name (or read from a manifest): its initial instance and table are checked.
    known: bool,
    source: &'static str,
}

impl NetworkArgs {
    fn resolve(&self) -> Result<Option<Chosen>, Failure> {
        if let Some(path) = &self.manifest {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::with(format!("cannot read {}", path.display()), e))?;
            let network = Network::from_manifest_json(&bytes)
                .map_err(|e| Failure::with(path.display(), e))?;
            return Ok(Some(Chosen {
                network,
                known: true,
                source: "manifest",
            }));
        }
        Ok(self
            .network
            .as_deref()
            .map(|name| match networks::by_name(name) {
                Some(k) => Chosen {
                    network: k.network(),
                    known: true,
                    source: "known",
                },
                None => Chosen {
                    network: Network {
                        name: name.to_string(),
                        initial_instance: 0,
                        initial_power_table: None,
                        bootstrap_epoch: 0,
                    },
                    known: false,
                    source: "unknown",
                },
            }))
    }
}

impl Chosen {
    fn json(&self) -> Value {
        let n = &self.network;
        let mut v = json!({
            "name": n.name,
            "known": self.known,
            "source": self.source,
        });
        if self.known {
            v["initial_instance"] = json!(n.initial_instance);
            v["initial_power_table"] = json!(n.initial_power_table.map(|c| c.to_string()));
            v["bootstrap_epoch"] = json!(n.bootstrap_epoch);
        }
        v
    }

    /// The line printed when the network is not known: what is and is not checked.
    fn note(&self) -> Option<String> {
        (!self.known).then(|| {
            format!(
                "note: {:?} is not a known network (known: {}); signatures are checked over its \
                 name, the initial instance and power table are not",
                self.network.name,
                networks::names().collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// Whether the header starts where the network does (known networks only).
    fn header_matches(&self, a: &Analysis) -> Option<bool> {
        let f3 = a.f3.as_ref()?;
        let h = f3.header.as_ref()?;
        if !self.known {
            return None;
        }
        let table_ok = match (self.network.initial_power_table, f3.initial_power_table_cid) {
            (Some(want), Some(got)) => want == got,
            (None, _) => true,
            (Some(_), None) => false,
        };
        Some(h.first_instance == self.network.initial_instance && table_ok)
    }
}

/// The outcome of a pass: invalid, or the input could not be read (a failure, exit 2).
fn outcome(a: &Analysis, file: &str) -> Result<Outcome, Failure> {
    match &a.error {
        None => Ok(Outcome::Success),
        Some(e) if !e.kind.is_verdict() => Err(Failure::with(format!("cannot read {file}"), e)),
        Some(_) => Ok(Outcome::Invalid),
    }
}

fn print_json(v: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

pub fn inspect(args: InspectArgs) -> Result<Outcome, Failure> {
    let chosen = args.network.resolve()?;
    let input = input::open(&args.file)?;
    let mut progress = input.progress();
    let a = analyze(input.reader, None, &mut progress);
    if args.json {
        let mut v = a.inspect_json();
        if let Some(c) = &chosen {
            let mut n = c.json();
            n["header_matches"] = json!(c.header_matches(&a));
            v["network"] = n;
        }
        print_json(&v);
    } else {
        print_inspect(&a);
        if let Some(c) = &chosen {
            match c.header_matches(&a) {
                Some(true) => println!(
                    "network:      {} (the header starts where it does)",
                    c.network.name
                ),
                Some(false) => println!(
                    "network:      {} (the header does NOT start where it does)",
                    c.network.name
                ),
                None => println!("network:      {} (unknown)", c.network.name),
            }
        }
    }
    outcome(&a, &args.file)
}

pub fn check(args: CheckArgs) -> Result<Outcome, Failure> {
    let chosen = args.network.resolve()?;
    let level = args.level.unwrap_or(match chosen {
        Some(_) => Level::Crypto,
        None => Level::Chain,
    });
    if level == Level::Crypto && chosen.is_none() {
        return Err(Failure(
            "--level crypto needs --network NAME or --manifest FILE".into(),
        ));
    }
    let initial_power_table = args
        .initial_power_table
        .as_deref()
        .map(|s| s.parse::<cid::Cid>())
        .transpose()
        .map_err(|e| Failure::with("--initial-power-table is not a CID", e))?;
    let known = chosen.as_ref().filter(|c| c.known).map(|c| &c.network);
    let opts = Options {
        level,
        power_table_frequency: args.power_table_frequency,
        manifest: Manifest {
            initial_instance: args.initial_instance.or(known.map(|n| n.initial_instance)),
            initial_power_table: initial_power_table.or(known.and_then(|n| n.initial_power_table)),
        },
        network: chosen
            .as_ref()
            .map(|c| c.network.name.clone())
            .unwrap_or_default(),
        threads: args.threads,
    };
    let input = input::open(&args.file)?;
    let mut progress = input.progress();
    let a = analyze(input.reader, Some(opts), &mut progress);
    let result = outcome(&a, &args.file)?;
    if args.json {
        let mut v = a.check_json();
        v["network"] = chosen.as_ref().map_or(Value::Null, Chosen::json);
        print_json(&v);
    } else {
        if let Some(note) = chosen.as_ref().and_then(Chosen::note) {
            println!("{note}");
        }
        let network = chosen
            .as_ref()
            .map(|c| format!(", network {}", c.network.name))
            .unwrap_or_default();
        match &a.error {
            None => {
                let f3 = a.f3.as_ref();
                let n = f3.map_or(0, |f| f.certificates);
                match f3.and_then(|f| f.cid) {
                    Some(cid) => println!(
                        "valid ({} level{network}): {n} certificates, F3 data {cid}",
                        level.name()
                    ),
                    None => println!("valid ({} level{network}): no F3 data", level.name()),
                }
            }
            Some(e) => println!("invalid: {e}"),
        }
        let valid = a.error.is_none();
        if let Some(line) = a
            .consistency
            .as_ref()
            .filter(|_| valid)
            .and_then(consistency_line)
        {
            println!("{line}");
        }
    }
    Ok(result)
}

/// The line a valid `check` prints about the F3 data against the chain: what was found, or why
/// it was not checked.
fn consistency_line(c: &Consistency) -> Option<String> {
    if !c.checked {
        return Some(format!(
            "consistency: not checked: {}",
            c.skipped.as_deref().unwrap_or("")
        ));
    }
    let (f, h) = (c.finalized.as_ref()?, c.head.as_ref()?);
    Some(format!(
        "consistency: the F3 data finalizes epoch {} {}, {} tipsets below the head at epoch {}",
        f.epoch,
        key_string(&f.key),
        c.tipsets_walked,
        h.epoch
    ))
}

fn print_inspect(a: &Analysis) {
    let format = a.format.map_or("unknown", |f| f.name());
    println!("format:       {format} ({})", a.compression.name());
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
