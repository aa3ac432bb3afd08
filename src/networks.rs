//! F3 networks: the ones whose manifests Lotus ships, known by name, and any other described
//! by a go-f3 / Lotus manifest file.
//!
//! A snapshot checked against a network with a manifest is held to its `InitialInstance` and
//! `InitialPowerTable`, so one checked against the wrong network says so; the certificates'
//! signatures are made over its `NetworkName`.

use cid::Cid;

/// A network's F3 parameters: the manifest fields a snapshot is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// F3 `NetworkName`, the name signatures are made over.
    pub name: String,
    /// `InitialInstance`: the header's `FirstInstance` must equal it.
    pub initial_instance: u64,
    /// `InitialPowerTable`: the CID of the header's power table, where the manifest gives one.
    pub initial_power_table: Option<Cid>,
    /// `BootstrapEpoch`: the EC epoch F3 started from.
    pub bootstrap_epoch: i64,
}

/// A network whose manifest Lotus ships (`build/buildconstants/f3manifest_*.json`).
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// `NetworkName`.
    pub name: &'static str,
    /// Other names it is known by on the command line.
    pub aliases: &'static [&'static str],
    /// `InitialInstance`.
    pub initial_instance: u64,
    /// `InitialPowerTable`.
    pub initial_power_table: &'static str,
    /// `BootstrapEpoch`.
    pub bootstrap_epoch: i64,
    /// Replaced by a newer bootstrap of the same chain's F3.
    pub retired: bool,
}

/// The known networks.
pub const KNOWN: &[Known] = &[
    Known {
        name: "filecoin",
        aliases: &["mainnet"],
        initial_instance: 0,
        initial_power_table: "bafy2bzacecklgxd2eksmodvhgurqvorkg3wamgqkrunir3al2gchv2cikgmbu",
        bootstrap_epoch: 4_920_480,
        retired: false,
    },
    // The calibration net's F3 was bootstrapped a second time under a new name; snapshots of
    // today's calibration net carry this network's certificates.
    Known {
        name: "calibrationnet2",
        aliases: &["calibnet"],
        initial_instance: 0,
        initial_power_table: "bafy2bzacednijkh5dhb6jb7snxhhtjt7zuqaydlewoha3ordhy76dhgwtmptg",
        bootstrap_epoch: 3_451_774,
        retired: false,
    },
    Known {
        name: "calibrationnet",
        aliases: &[],
        initial_instance: 0,
        initial_power_table: "bafy2bzaceab236vmmb3n4q4tkvua2n4dphcbzzxerxuey3mot4g3cov5j3r2c",
        bootstrap_epoch: 2_081_674,
        retired: true,
    },
];

impl Known {
    /// Its parameters.
    pub fn network(&self) -> Network {
        Network {
            name: self.name.to_string(),
            initial_instance: self.initial_instance,
            // The table above is a valid CID literal; a test holds it to the manifests.
            initial_power_table: self.initial_power_table.parse().ok(),
            bootstrap_epoch: self.bootstrap_epoch,
        }
    }
}

/// The known network called `name` (its `NetworkName` or an alias).
pub fn by_name(name: &str) -> Option<&'static Known> {
    KNOWN
        .iter()
        .find(|k| k.name == name || k.aliases.contains(&name))
}

/// Names of the known networks, aliases included.
pub fn names() -> impl Iterator<Item = &'static str> {
    KNOWN
        .iter()
        .flat_map(|k| std::iter::once(k.name).chain(k.aliases.iter().copied()))
}

/// What is wrong with a manifest file, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON, or not a JSON object.
    #[error("manifest is not a JSON object: {0}")]
    NotJson(String),
    /// A required field is absent.
    #[error("manifest has no {0}")]
    Missing(&'static str),
    /// A field of the wrong type or value.
    #[error("manifest field {field}: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl ManifestError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ManifestError::NotJson(_) => "manifest-not-json",
            ManifestError::Missing(_) => "manifest-missing-field",
            ManifestError::Field { .. } => "manifest-field",
        }
    }
}

#[cfg(feature = "json")]
impl Network {
    /// Reads a go-f3 / Lotus manifest (`NetworkName`, `InitialInstance`, `InitialPowerTable`,
    /// `BootstrapEpoch`; every other field is ignored). `InitialPowerTable` may be `null` or
    /// absent (go-f3 then takes the table from the chain), `InitialInstance` absent means 0.
    pub fn from_manifest_json(bytes: &[u8]) -> Result<Network, ManifestError> {
        use serde_json::Value;
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::NotJson(e.to_string()))?;
        let Value::Object(m) = v else {
            return Err(ManifestError::NotJson(
                "the top level is not an object".into(),
            ));
        };
        let bad = |field, reason: &str| ManifestError::Field {
            field,
            reason: reason.to_string(),
        };
        let name = match m.get("NetworkName") {
            None | Some(Value::Null) => return Err(ManifestError::Missing("NetworkName")),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return Err(bad("NetworkName", "must be a non-empty string")),
        };
        let initial_instance = match m.get("InitialInstance") {
            None => 0,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| bad("InitialInstance", "must be an unsigned integer"))?,
        };
        let bootstrap_epoch = match m.get("BootstrapEpoch") {
            None | Some(Value::Null) => return Err(ManifestError::Missing("BootstrapEpoch")),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| bad("BootstrapEpoch", "must be an integer"))?,
        };
        let initial_power_table =
            match m.get("InitialPowerTable") {
                None | Some(Value::Null) => None,
                Some(v) => {
                    let s = v
                        .get("/")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad("InitialPowerTable", "must be {\"/\": CID} or null"))?;
                    Some(s.parse::<Cid>().map_err(|e| {
                        bad("InitialPowerTable", &format!("{s:?} is not a CID: {e}"))
                    })?)
                }
            };
        Ok(Network {
            name,
            initial_instance,
            initial_power_table,
            bootstrap_epoch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_table_is_a_cid_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for k in KNOWN {
            assert!(k.network().initial_power_table.is_some(), "{}", k.name);
        }
        for n in names() {
            assert!(seen.insert(n), "{n} named twice");
        }
        assert_eq!(by_name("mainnet").map(|k| k.name), Some("filecoin"));
        assert_eq!(by_name("calibnet").map(|k| k.name), Some("calibrationnet2"));
        assert!(by_name("devnet").is_none());
    }

    #[cfg(feature = "json")]
    #[test]
    fn manifest_errors_name_the_field() {
        let err = |s: &str| Network::from_manifest_json(s.as_bytes()).unwrap_err();
        assert_eq!(
            err("[]"),
            ManifestError::NotJson("the top level is not an object".into())
        );
        assert_eq!(
            err(r#"{"BootstrapEpoch": 1}"#),
            ManifestError::Missing("NetworkName")
        );
        assert!(matches!(
            err(r#"{"NetworkName": "x", "BootstrapEpoch": 1, "InitialInstance": -1}"#),
            ManifestError::Field {
                field: "InitialInstance",
                ..
            }
        ));
        assert!(matches!(
            err(r#"{"NetworkName": "x", "BootstrapEpoch": 1, "InitialPowerTable": {"/": "nope"}}"#),
            ManifestError::Field {
                field: "InitialPowerTable",
                ..
            }
        ));
        let n = Network::from_manifest_json(
            br#"{"NetworkName": "devnet", "BootstrapEpoch": 10, "InitialPowerTable": null}"#,
        )
        .unwrap();
        assert_eq!(n.initial_instance, 0);
        assert_eq!(n.initial_power_table, None);
    }
}
