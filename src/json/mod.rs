//! Lotus's RPC JSON of F3 data: finality certificates as `Filecoin.F3GetCertificate` returns
//! them, power tables as the F3 manifests and `Filecoin.F3GetPowerTable` publish them, and the
//! F3 snapshot header as go-f3's `certstore.SnapshotHeader` goes through Go's `encoding/json`.
//!
//! The shapes are Go's: struct fields in declaration order under their Go names, CIDs as
//! `{"/": "…"}`, byte strings in standard base64 with padding (`null` when empty), big integers
//! as decimal strings, a tipset key as the list of its block CIDs, `Signers` as go-bitfield's
//! run lengths. go-f3 v0.8.14 tags `PowerTableDelta` with `omitempty`, so an empty delta is not
//! written at all; RPC output from other releases carries `[]` (the mainnet certificates in
//! `../shared/real-data` do), and an absent, `null` or `[]` delta is read as empty.
//!
//! [`encode`] writes exactly the bytes Go's `json.Marshal` writes for the same values, so the
//! output of `dump` can be compared with go-f3's byte for byte. [`decode`] is strict where
//! Go's decoder is lenient: field names must match exactly (Go matches them ignoring case),
//! unknown fields are refused (Go ignores them), big integers must be in their canonical
//! decimal form and base64 must be canonical. Every error names the certificate (its index in
//! the input, counting from 0) and the field (a path such as `ECChain[2].Key[0]`).
//!
//! [`stream`] reads certificates one at a time from a JSON array or from a sequence of JSON
//! values (NDJSON, as `dump` prints), so memory is bounded by one certificate.

pub mod assemble;
pub mod decode;
pub mod dump;
pub mod encode;
pub mod stream;

use std::fmt;

pub use assemble::{assemble_json, initial_power_table, AssembleError};
pub use decode::{certificate_from_json, header_from_json, power_table_from_json};
pub use dump::{dump, DumpSummary};
pub use encode::{certificate_to_json, header_to_json, power_table_to_json};
pub use stream::{read_items, read_value, Item};

/// The most bytes one JSON value (a certificate, a header or a power table) may take. The
/// largest valid certificate encodes to about 15 MiB of CBOR
/// ([`MAX_CERTIFICATE_LEN`](crate::f3data::MAX_CERTIFICATE_LEN)); base64, CIDs written as
/// strings and field names make its JSON at most about four times longer. A value is refused
/// as soon as it passes this, so one endless value cannot take all memory.
pub const MAX_VALUE_LEN: u64 = 4 * crate::f3data::MAX_CERTIFICATE_LEN;

/// What is wrong with a JSON input (or with a certificate that cannot be shown as JSON).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// The input is not JSON.
    #[error("not valid JSON: {0}")]
    Syntax(String),
    /// A required field is absent.
    #[error("missing field")]
    Missing,
    /// A field the format does not have.
    #[error("unknown field")]
    Unknown,
    /// A value of the wrong JSON type.
    #[error("expected {0}")]
    Type(&'static str),
    /// A value of the right type that is not acceptable (bad base64, CID, number, length).
    #[error("{0}")]
    Value(String),
    /// No certificate in the input.
    #[error("no finality certificate in the input")]
    NoCertificates,
    /// A header where only certificates may be (a header may only come first).
    #[error("a snapshot header may only be the first item")]
    MisplacedHeader,
    /// A tipset key that is not a concatenation of CIDs: go-f3 cannot show it as JSON.
    #[error("tipset key is not a concatenation of CIDs: {0}")]
    TipSetKey(String),
    /// One JSON value longer than [`MAX_VALUE_LEN`] bytes.
    #[error("a JSON value longer than {0} bytes")]
    TooLarge(u64),
    /// Reading the input failed.
    #[error("I/O error: {0}")]
    Io(String),
}

impl JsonErrorKind {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            JsonErrorKind::Syntax(_) => "json-syntax",
            JsonErrorKind::Missing => "json-missing-field",
            JsonErrorKind::Unknown => "json-unknown-field",
            JsonErrorKind::Type(_) => "json-type",
            JsonErrorKind::Value(_) => "json-value",
            JsonErrorKind::NoCertificates => "json-no-certificates",
            JsonErrorKind::MisplacedHeader => "json-misplaced-header",
            JsonErrorKind::TipSetKey(_) => "json-tipset-key",
            JsonErrorKind::TooLarge(_) => "json-too-large",
            JsonErrorKind::Io(_) => "io",
        }
    }
}

/// A JSON error with where it is: the certificate's index in the input and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong.
    pub kind: JsonErrorKind,
    /// Index of the certificate in the input, counting from 0 (none for a power table or a
    /// header).
    pub index: Option<u64>,
    /// The field, as a path: `ECChain[2].Key[0]`, `InitialPowerTable[7].Power`.
    pub field: Option<String>,
}

impl JsonError {
    /// An error of `kind` with no location yet.
    pub fn new(kind: JsonErrorKind) -> Self {
        JsonError {
            kind,
            index: None,
            field: None,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// Records the certificate's index, unless already known.
    pub fn in_certificate(mut self, index: u64) -> Self {
        self.index.get_or_insert(index);
        self
    }

    /// Whether this is a verdict on the input rather than a failure to read it.
    pub fn is_verdict(&self) -> bool {
        !matches!(self.kind, JsonErrorKind::Io(_))
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        match (self.index, &self.field) {
            (Some(i), Some(field)) => write!(f, " (certificate {i}, field {field})")?,
            (Some(i), None) => write!(f, " (certificate {i})")?,
            (None, Some(field)) => write!(f, " (field {field})")?,
            (None, None) => {}
        }
        write!(f, " [{}]", self.code())
    }
}

impl std::error::Error for JsonError {}

impl From<std::io::Error> for JsonError {
    fn from(e: std::io::Error) -> Self {
        JsonError::new(JsonErrorKind::Io(e.to_string()))
    }
}
