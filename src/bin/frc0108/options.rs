//! What validation the commands that read F3 data share: the level and the network (a known
//! network, a manifest file or a custom name), turned into the library's [`Options`].

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use frc0108::networks::{self, Network};
use frc0108::report::Analysis;
use frc0108::validate::{Level, Manifest, Options};
use serde_json::{json, Value};

use crate::Failure;

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

/// The level and the network.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// How deep to go [default: crypto with --network or --manifest, else chain].
    #[arg(long, value_parser = level_parser())]
    level: Option<Level>,
    #[command(flatten)]
    network: NetworkArgs,
}

impl ValidateArgs {
    /// The options these arguments ask for, and the network chosen.
    pub fn options(&self) -> Result<(Options, Option<Chosen>), Failure> {
        let chosen = self.network.resolve()?;
        let level = self.level.unwrap_or(match chosen {
            Some(_) => Level::Crypto,
            None => Level::Chain,
        });
        if level == Level::Crypto && chosen.is_none() {
            return Err(Failure(
                "--level crypto needs --network NAME or --manifest FILE".into(),
            ));
        }
        let known = chosen.as_ref().filter(|c| c.known).map(|c| &c.network);
        let opts = Options {
            level,
            manifest: Manifest {
                initial_instance: known.map(|n| n.initial_instance),
                initial_power_table: known.and_then(|n| n.initial_power_table),
            },
            network: chosen
                .as_ref()
                .map(|c| c.network.name.clone())
                .unwrap_or_default(),
            ..Options::default()
        };
        Ok((opts, chosen))
    }
}

/// `--level` takes the library's level names.
pub fn level_parser() -> impl TypedValueParser<Value = Level> {
    PossibleValuesParser::new(LEVELS.map(Level::name))
        .map(|s| Level::from_name(&s).unwrap_or(Level::Chain))
}

const LEVELS: [Level; 4] = [Level::Structure, Level::Import, Level::Chain, Level::Crypto];

/// The network chosen on the command line, and how.
pub struct Chosen {
    pub network: Network,
    /// Known by name (or read from a manifest): its initial instance and table are checked.
    pub known: bool,
    source: &'static str,
}

impl NetworkArgs {
    pub fn resolve(&self) -> Result<Option<Chosen>, Failure> {
        if let Some(path) = &self.manifest {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::with(format!("cannot read {}", path.display()), e))?;
            let network = Network::from_manifest_json(&bytes)
                .map_err(|e| Failure(format!("{}: {e} [{}]", path.display(), e.code())))?;
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
    pub fn json(&self) -> Value {
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
    pub fn note(&self) -> Option<String> {
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
    pub fn header_matches(&self, a: &Analysis) -> Option<bool> {
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
