//! The conformance corpus: a manifest of cases (valid, invalid, acceptable), each a file with
//! the stable error code a strict reader gives, generated deterministically from the go-f3
//! fixtures, and a runner that drives any implementation over them.
//!
//! Modelled on Project Wycheproof: `acceptable` marks inputs where either outcome is allowed
//! (the spec is silent and go-f3 is lenient); `flags` name the rule concerned, so a runner can
//! skip a class it does not implement (e.g. `Signature` without BLS verification), and the
//! manifest's `notes` say what each flag means ([`notes`]).

pub mod error;
pub mod generate;
pub mod node;
pub mod notes;
pub mod run;
pub mod sidecar;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::Digest;

pub use error::{Error, Result};
pub use notes::{BugType, Flag, Note};

use crate::report::Analysis;
use crate::validate::Level;

/// Schema identifier written into the manifest.
pub const MANIFEST_FORMAT: &str = "frc0108-vectors/1";

/// The expected outcome of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    /// Every conforming reader must accept it.
    Valid,
    /// Every conforming reader must reject it.
    Invalid,
    /// Either outcome conforms; `error` is what the strict reference says.
    Acceptable,
}

/// What a case file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A bare F3 data stream, as go-f3's `ExportSnapshot` writes it.
    F3data,
    /// A Filecoin snapshot CAR (possibly CARv2-wrapped or zstd-compressed).
    Car,
}

/// Facts a reader must find in a valid case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Facts {
    /// `f3data`, `car-v1-snapshot` or `car-v2-snapshot`.
    pub format: String,
    /// CID of the F3 data, if any.
    pub f3_cid: Option<String>,
    /// Header fields.
    pub header: Option<HeaderFacts>,
    /// Certificates in the F3 data.
    pub certificates: u64,
    /// Power table CID after the last certificate's delta.
    pub final_power_table_cid: Option<String>,
}

impl Facts {
    /// The facts the reference found in a valid input.
    pub fn of(a: &Analysis) -> Facts {
        let f3 = a.f3.as_ref();
        Facts {
            format: a.format.map(|f| f.name().to_string()).unwrap_or_default(),
            f3_cid: f3.and_then(|f| f.cid).map(|c| c.to_string()),
            header: f3.and_then(|f| {
                let h = f.header.as_ref()?;
                Some(HeaderFacts {
                    version: h.version,
                    first_instance: h.first_instance,
                    latest_instance: h.latest_instance,
                    initial_power_table_cid: f.initial_power_table_cid?.to_string(),
                    initial_power_table_entries: h.initial_power_table.0.len() as u64,
                })
            }),
            certificates: f3.map_or(0, |f| f.certificates),
            final_power_table_cid: f3
                .and_then(|f| f.summary.as_ref())
                .and_then(|s| s.final_power_table)
                .map(|c| c.to_string()),
        }
    }
}

/// Header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderFacts {
    /// Version.
    pub version: u64,
    /// FirstInstance.
    pub first_instance: u64,
    /// LatestInstance.
    pub latest_instance: u64,
    /// CID of the initial power table.
    pub initial_power_table_cid: String,
    /// Entries in the initial power table.
    pub initial_power_table_entries: u64,
}

/// One case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Stable identifier, `group/name`.
    pub id: String,
    /// Path of the input, relative to the manifest.
    pub file: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// What the file holds.
    pub kind: Kind,
    /// One line on what the case is.
    pub description: String,
    /// What a conforming reader does with it.
    pub result: Expected,
    /// The code the strict reference reader gives (`null` for valid cases).
    pub error: Option<String>,
    /// The shallowest `check --level` that finds the error (`crypto` for valid cases).
    pub level: Level,
    /// The network name the certificates are signed for, for signature checking.
    pub network: String,
    /// Rule classes concerned.
    pub flags: Vec<Flag>,
    /// For valid cases, what must be found.
    pub expected: Option<Facts>,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// Version of go-f3 that wrote the base fixtures.
    pub go_f3_version: String,
    /// What each flag means (absent from corpora written before notes existed).
    #[serde(default)]
    pub notes: BTreeMap<Flag, Note>,
    /// The cases, sorted by id.
    pub cases: Vec<Case>,
}

/// Codes of rules the strict reader enforces that go-f3 enforces nowhere, neither on import
/// nor in `ValidateFinalityCertificates` (see vectors/COMPATIBILITY.md).
pub const GO_F3_LENIENT: &[&str] = &[
    "header-version",
    "varint-overlong",
    "cbor-trailing-bytes",
    "bigint-non-canonical",
    "bitfield-non-canonical",
    "bitfield-malformed",
    "cid-codec",
    "cid-hash",
    "cid-version",
    "power-table-unsorted",
    "power-table-duplicate",
    "power-table-non-positive",
    "power-table-key-length",
];

/// Codes of rules go-f3's certificate validation enforces but its snapshot import does not.
pub const GO_F3_IMPORT_ONLY_LENIENT: &[&str] = &[
    "chain-empty",
    "chain-epochs",
    "chain-too-long",
    "chain-empty-key",
    "block-truncated",
];

/// The SHA-256 of `bytes` in lowercase hex, as the manifest records case files.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
