//! # frc0108
//!
//! Reference reader, writer and validator for FRC-0108 Filecoin snapshots: CAR files whose root
//! names a `SnapshotMetadata` block and whose second block is F3 data, a length-prefixed stream
//! of one `F3SnapshotHeader` and every `FinalityCertificate` in instance order.
//!
//! The modules follow the layers a reader walks through:
//!
//! | layer | module |
//! |---|---|
//! | `uvarint(len) ‖ bytes` framing | [`framing`] |
//! | frames read in place, hashed on a thread | [`frames`] |
//! | strict CBOR primitives | [`cbor`] |
//! | RLE+ signer bitfields | [`bitfield`] |
//! | CIDs and blake2b-256 | [`cids`] |
//! | the snapshot's CBOR types | [`types`] |
//! | borrowed views of certificate blocks | [`view`] |
//! | the F3Data block stream | [`f3data`] |
//! | the CAR container | [`car`] |
//! | Filecoin v1/v2 snapshots in a CAR | [`snapshot`] |
//! | validation: structure, power tables, chain, signatures | [`validate`] |
//! | the networks with public F3 manifests | [`networks`] |
//! | the conformance corpus and its runner | [`conformance`] |
//! | what `inspect` and `check` report | [`report`] |
//! | seeded synthetic chains for tests and benchmarks | [`synth`] |
//!
//! Every error is an [`Error`] with a stable [`Error::code`]. Nothing in the library panics on
//! input, and no allocation is sized by a length the input declares.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bitfield;
pub mod car;
pub mod cbor;
pub mod cids;
#[cfg(feature = "tools")]
pub mod conformance;
pub mod error;
pub mod f3data;
pub mod frames;
pub mod framing;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod networks;
pub mod report;
pub mod snapshot;
#[cfg(feature = "tools")]
pub mod synth;
pub mod types;
pub mod validate;
pub mod view;

pub use error::{Error, ErrorKind, Location, Result};
pub use types::{
    Cbor, F3SnapshotHeader, FinalityCertificate, PowerEntries, PowerEntry, PowerTableDelta,
    Signers, SnapshotMetadata, SupplementalData, TipSet,
};
pub use view::CertificateRef;
