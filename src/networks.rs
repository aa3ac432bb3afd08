//! The networks whose F3 manifests are public: a snapshot checked with their name is also held
//! to their initial instance and initial power table, so one checked against the wrong network
//! is reported as such.

use cid::Cid;

/// A network's F3 parameters.
#[derive(Debug, Clone)]
pub struct Network {
    /// F3 `NetworkName`, the name signatures are made over.
    pub name: &'static str,
    /// `InitialInstance`.
    pub initial_instance: u64,
    /// `InitialPowerTable` CID.
    pub initial_power_table: Cid,
}

const KNOWN: &[(&str, u64, &str)] = &[
    // Mainnet's F3 manifest (BootstrapEpoch 4920480).
    (
        "filecoin",
        0,
        "bafy2bzacecklgxd2eksmodvhgurqvorkg3wamgqkrunir3al2gchv2cikgmbu",
    ),
    // Calibration net's F3 manifest (BootstrapEpoch 2081674).
    (
        "calibrationnet",
        0,
        "bafy2bzaceab236vmmb3n4q4tkvua2n4dphcbzzxerxuey3mot4g3cov5j3r2c",
    ),
];

/// The known network called `name`.
pub fn by_name(name: &str) -> Option<Network> {
    KNOWN
        .iter()
        .find(|(n, _, _)| *n == name)
        .and_then(|(n, i, c)| {
            Some(Network {
                name: n,
                initial_instance: *i,
                initial_power_table: c.parse().ok()?,
            })
        })
}

/// Names of the known networks.
pub fn names() -> impl Iterator<Item = &'static str> {
    KNOWN.iter().map(|(n, _, _)| *n)
}
