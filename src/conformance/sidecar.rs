//! The go-f3 fixtures' JSON: `index.json`, and next to each fixture a sidecar of what go-f3
//! (through the harness in `interop/go-f3`) says about it. The corpus generator takes valid
//! cases' expected facts from here, and the interop tests check the reader against every field.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{read, read_json, Result};
use super::{Facts, HeaderFacts, Kind};

/// `index.json`: the fixtures, in the order go-f3 wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// The go-f3 release that wrote them.
    pub go_f3_version: String,
    /// The network name the fixtures are signed for.
    pub network: String,
    /// Fixture names; `NAME.json` is each one's sidecar.
    pub fixtures: Vec<String>,
}

impl Index {
    /// Reads `dir/index.json`.
    pub fn load(dir: &Path) -> Result<Index> {
        read_json(dir.join("index.json"))
    }
}

/// What go-f3 did with a fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoResult {
    /// It accepted it.
    Accept,
    /// It returned an error.
    Reject,
    /// It panicked.
    Crash,
}

/// go-f3's verdict and its error text (empty when it accepts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoOutcome {
    /// Accept, reject or crash.
    pub result: GoResult,
    /// go-f3's error message.
    pub error: String,
}

/// How the fixture's signatures were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signatures {
    /// Real BLS signatures by the participants.
    Valid,
    /// At least one signature deliberately wrong.
    Invalid,
    /// No certificates to sign (a CAR without F3 data).
    None,
    /// Not checked when the fixture was written.
    NotChecked,
}

/// The container go-car or the CARv2 wrapper gave a CAR fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CarContainer {
    /// A bare CARv1 stream.
    Carv1,
    /// A CARv2 file.
    Carv2,
}

/// A snapshot's metadata block, as go-f3's side read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataSidecar {
    /// `SnapshotMetadata.Version`.
    pub version: u64,
    /// The head tipset's block CIDs.
    pub head_tipset_key: Vec<String>,
    /// The F3 data's CID, if the snapshot has F3 data.
    pub f3_data: Option<String>,
}

/// A CAR fixture's container facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarSidecar {
    /// CARv1 or CARv2.
    pub container: CarContainer,
    /// The header's roots.
    pub roots: Vec<String>,
    /// The metadata block's CID (v2 snapshots).
    pub metadata_cid: Option<String>,
    /// The metadata (v2 snapshots).
    pub metadata: Option<MetadataSidecar>,
    /// Sections in the CARv1 payload.
    pub blocks: u64,
}

/// One fixture's sidecar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    /// The fixture's name.
    pub name: String,
    /// A bare F3 data stream or a CAR.
    pub kind: Kind,
    /// The fixture file, relative to the sidecar.
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// The go-f3 release that wrote it.
    pub go_f3_version: String,
    /// The network name its certificates are signed for.
    pub network: String,
    /// The seed of the chain it was built from.
    pub seed: u64,
    /// Participants in the initial power table.
    pub participants: u64,
    /// The F3 data's CID, if there is F3 data.
    pub f3_cid: Option<String>,
    /// The header as go-f3 read it.
    pub header: Option<HeaderFacts>,
    /// Certificates go-f3 read.
    pub certificates: u64,
    /// The power table CID after the last certificate.
    pub final_power_table_cid: Option<String>,
    /// How the signatures were made.
    pub signatures: Signatures,
    /// go-f3's `ValidateFinalityCertificates` over it.
    pub go_f3_validation: GoOutcome,
    /// go-f3's snapshot import of it.
    pub go_f3_import: GoOutcome,
    /// CAR facts, for CAR fixtures.
    pub car: Option<CarSidecar>,
}

impl Sidecar {
    /// Reads `dir/NAME.json`.
    pub fn load(dir: &Path, name: &str) -> Result<Sidecar> {
        read_json(dir.join(format!("{name}.json")))
    }

    /// The path of the fixture file in `dir`.
    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.file)
    }

    /// The fixture's bytes, from `dir`.
    pub fn read(&self, dir: &Path) -> Result<Vec<u8>> {
        read(self.path(dir))
    }

    /// The facts a reader must find, for a case whose format is `format`.
    pub fn facts(&self, format: &str) -> Facts {
        Facts {
            format: format.into(),
            f3_cid: self.f3_cid.clone(),
            header: self.header.clone(),
            certificates: self.certificates,
            final_power_table_cid: self.final_power_table_cid.clone(),
        }
    }
}
