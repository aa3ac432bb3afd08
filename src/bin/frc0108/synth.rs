//! `synth`: a seeded synthetic snapshot, as F3 data or a v2 CAR.

use std::io::Write;
use std::path::PathBuf;

use frc0108::chain::build::{empty_block, ChainBuilder, Style};
use frc0108::output::{OutputFile, OutputOptions};
use frc0108::synth::mainnet::LOW_CHURN_PERCENT;
use frc0108::synth::{build, build_finalizing, Params, Shape};

use crate::{refuse_existing, Failure, Outcome};

#[derive(clap::Args)]
pub struct SynthArgs {
    /// Output file (never overwritten).
    #[arg(long)]
    out: PathBuf,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The kind of chain: `uniform` (random powers, everyone signs, mixed deltas) or
    /// `mainnet` (mainnet's 1,560 powers, about 950 signers, power-only deltas).
    #[arg(long, default_value = "uniform", value_parser = ["uniform", "mainnet"])]
    shape: String,
    /// Participants in the initial power table [default: 4, or 1560 with --shape mainnet].
    #[arg(long)]
    participants: Option<usize>,
    /// Certificates.
    #[arg(long, default_value_t = 10)]
    instances: u64,
    /// Instance of the first certificate.
    #[arg(long, default_value_t = 0)]
    first_instance: u64,
    /// Percentage of certificates with a power table delta [default: 30, or 10 with --shape
    /// mainnet, as among mainnet's first ten certificates].
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=100))]
    churn_percent: Option<u64>,
    /// Wrap the F3 data in a v2 CAR snapshot.
    #[arg(long)]
    car: bool,
    /// Use real BLS keys and sign every certificate for this network, as go-f3 signs.
    #[arg(long)]
    sign_for: Option<String>,
    /// With --car: a chain of Lotus block headers over this many epochs (about 950 bytes a
    /// header, one to three a tipset, some null rounds) instead of one stand-in block; the
    /// certificates finalize its tipsets up to two below the head.
    #[arg(long, requires = "car", value_parser = clap::value_parser!(u64).range(3..))]
    chain_epochs: Option<u64>,
}

pub fn run(args: SynthArgs) -> Result<Outcome, Failure> {
    let mainnet = args.shape == "mainnet";
    let base = if mainnet {
        Params::mainnet(args.instances, LOW_CHURN_PERCENT, None)
    } else {
        Params::default()
    };
    let params = Params {
        seed: args.seed,
        participants: args.participants.unwrap_or(base.participants),
        instances: args.instances,
        first_instance: args.first_instance,
        churn_percent: args.churn_percent.unwrap_or(base.churn_percent),
        sign_for: args.sign_for,
        ..base
    };
    if mainnet && args.chain_epochs.is_some() {
        return Err(Failure::with(
            "--chain-epochs",
            "chains of block headers are made for the uniform shape only",
        ));
    }
    if args
        .first_instance
        .checked_add(args.instances.max(1) - 1)
        .is_none()
    {
        return Err(Failure::with(
            "--first-instance",
            format!(
                "{} certificates from instance {} pass the largest instance, {}",
                args.instances,
                args.first_instance,
                u64::MAX
            ),
        ));
    }
    refuse_existing(&args.out)?;
    let chain = args
        .chain_epochs
        .map(|n| ChainBuilder::synthetic(params.seed, Style::Realistic, n));
    let finalized: Vec<(i64, Vec<u8>)> = chain.as_ref().map_or_else(Vec::new, |c| {
        // Two tipsets a certificate, the last two tipsets left unfinalized.
        let ts = c.tipsets();
        let end = ts.len().saturating_sub(2).max(1);
        let start = end.saturating_sub(2 * params.instances.max(1) as usize + 1);
        ts.get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|t| (t.epoch, t.key()))
            .collect()
    });
    let (header, certs) = match params.shape {
        Shape::Mainnet => build(&params),
        Shape::Uniform => build_finalizing(&params, &finalized),
    };
    let (f3, f3_cid) = frc0108::f3data::encode(&header, &certs);
    let write_err = |e: &dyn std::fmt::Display| {
        Failure::with(format!("cannot write {}", args.out.display()), e)
    };
    // Written whole or not at all, never over an existing file (`.zst`: compressed).
    let mut file =
        OutputFile::create(&args.out, OutputOptions::default()).map_err(|e| write_err(&e))?;
    if let Some(chain) = &chain {
        let empty = empty_block();
        let head = chain.tipsets().last().map(|t| t.cids()).unwrap_or_default();
        frc0108::snapshot::write_v2_snapshot_from(
            &mut file,
            &head,
            Some((&f3_cid, &f3)),
            chain.export_blocks(&empty),
        )
        .map_err(|e| write_err(&e))?;
    } else if args.car {
        let (head, block) = frc0108::snapshot::placeholder_block(&params.seed.to_be_bytes());
        frc0108::snapshot::write_v2_snapshot(
            &mut file,
            &[head],
            Some((&f3_cid, &f3)),
            &[(head, block)],
        )
        .map_err(|e| write_err(&e))?;
    } else {
        file.write_all(&f3).map_err(|e| write_err(&e))?;
    }
    file.commit().map_err(|e| write_err(&e))?;
    eprintln!(
        "wrote {} ({} certificates, F3 data {f3_cid})",
        args.out.display(),
        certs.len()
    );
    Ok(Outcome::Success)
}
