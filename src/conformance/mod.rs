//! The conformance corpus: a manifest of cases (valid, invalid, acceptable), each a file with
//! the stable error code a strict reader gives, generated deterministically from the go-f3
//! fixtures, and a runner that drives any implementation over them.
//!
//! Modelled on Project Wycheproof: `acceptable` marks inputs where either outcome is allowed
//! (the spec is silent and go-f3 is lenient); `flags` name the rule concerned, so a runner can
//! skip a class it does not implement (e.g. `Signature` without BLS verification).

pub mod consistency;
pub mod generate;
pub mod node;
pub mod run;

use serde::{Deserialize, Serialize};

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
    /// `f3data` or `car`.
    pub kind: String,
    /// One line on what the case is.
    pub description: String,
    /// What a conforming reader does with it.
    pub result: Expected,
    /// The code the strict reference reader gives (`null` for valid cases).
    pub error: Option<String>,
    /// The shallowest `check --level` that finds the error (`crypto` needs signatures).
    pub level: String,
    /// The network name the certificates are signed for, for signature checking.
    pub network: String,
    /// Rule classes concerned.
    pub flags: Vec<String>,
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
    /// The cases, sorted by id.
    pub cases: Vec<Case>,
}

/// A flag and what it means, for vectors/README.md.
pub const FLAGS: &[(&str, &str)] = &[
    ("LengthPrefix", "the uvarint length prefix of a block"),
    (
        "Cbor",
        "the CBOR encoding of a block (major types, lengths, minimal forms)",
    ),
    (
        "Cid",
        "a CID inside a block (tag 42, prefix, version, codec, hash)",
    ),
    ("BigInt", "the Filecoin big integer encoding"),
    ("Bitfield", "the RLE+ signer bitfield"),
    (
        "SizeLimit",
        "one of go-f3's size limits (array lengths, byte-string maxlen)",
    ),
    ("Sequence", "the certificate sequence against the header"),
    ("Header", "the F3 snapshot header"),
    ("PowerTable", "the header's initial power table"),
    (
        "PowerDelta",
        "a power table delta, as go-f3's ApplyPowerTableDiffs judges it",
    ),
    (
        "PowerTableCid",
        "SupplementalData.PowerTable against the computed table",
    ),
    (
        "Checkpoint",
        "a rule go-f3's import checks only at its power-table checkpoints",
    ),
    ("EcChain", "a certificate's ECChain"),
    (
        "Signature",
        "needs BLS signature verification to judge (skip without it)",
    ),
    ("Car", "the CAR container or the v2 snapshot layout"),
    (
        "Consistency",
        "the F3 data against the snapshot's chain of block headers (no node checks this)",
    ),
    ("Zstd", "zstd-compressed input"),
    (
        "GoF3Lenient",
        "go-f3 accepts this on import; the spec or canonical encoding rules it out",
    ),
    (
        "GoF3Crash",
        "go-f3's import (or Lotus's snapshot import around it) crashes on this input",
    ),
    (
        "GoF3Allocates",
        "go-f3 allocates the declared block length before reading a byte of it",
    ),
];

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
