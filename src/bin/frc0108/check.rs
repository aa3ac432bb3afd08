//! `inspect` and `check`: one pass of the library's [`analyze`] over the input, printed as
//! text or as one JSON object.

use std::io::Write;

use frc0108::chain::consistency::{key_string, Consistency};
use frc0108::report::{analyze, Analysis};
use frc0108::validate::DEFAULT_POWER_TABLE_FREQUENCY;
use serde_json::{json, Value};

use crate::options::{Chosen, NetworkArgs, ValidateArgs};
use crate::{input, Failure, Outcome};

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
    #[command(flatten)]
    validate: ValidateArgs,
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
    let (mut opts, chosen) = args.validate.options()?;
    if let Some(first) = args.initial_instance {
        opts.manifest.initial_instance = Some(first);
    }
    if let Some(cid) = &args.initial_power_table {
        let cid = cid
            .parse::<cid::Cid>()
            .map_err(|e| Failure::with("--initial-power-table is not a CID", e))?;
        opts.manifest.initial_power_table = Some(cid);
    }
    opts.power_table_frequency = args.power_table_frequency;
    opts.threads = args.threads;
    let level = opts.level;
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
