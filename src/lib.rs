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
//! | Filecoin block headers and the F3 data's consistency with the chain | [`chain`] |
//! | Filecoin v1/v2 snapshots in a CAR | [`snapshot`] |
//! | validation: structure, power tables, chain, signatures | [`validate`] |
//! | the F3 networks and their manifests | [`networks`] |
//! | one pass over any input, and what `inspect` and `check` report | [`report`] |
//! | F3 data from certificates arriving one at a time | [`assemble`] |
//! | v1 chain + F3 data into a v2 snapshot, and back | [`merge`] |
//! | outputs written whole or not at all | [`output`] |
//!
//! With the `tools` feature (on by default) come the conformance corpus and its runner
//! (`conformance`) and seeded synthetic chains (`synth`); `json` adds JSON reports and Lotus's
//! RPC JSON of certificates (`json`, behind which `dump` and `assemble` read and write); `cli`
//! the `frc0108` command line. `default-features = false` leaves the codec, validation (BLS
//! signatures included: a light client reads F3 data to verify it) and the snapshot writers.
//!
//! Every error is an [`Error`] with a stable [`Error::code`]. Nothing in the library panics on
//! input, and no allocation is sized by a length the input declares.
//!
//! ## Writing, reading and validating
//!
//! ```
//! use frc0108::f3data::{F3DataReader, F3DataWriter};
//! use frc0108::report::analyze;
//! use frc0108::validate::{Level, Options};
//! use frc0108::{F3SnapshotHeader, FinalityCertificate, PowerEntries, PowerEntry};
//! # use frc0108::{Signers, SupplementalData, TipSet};
//!
//! // A one-participant table and one certificate finalizing one tipset.
//! let table = PowerEntries(vec![PowerEntry { id: 1000, power: 7.into(), pub_key: vec![0xaa; 48] }]);
//! let header = F3SnapshotHeader {
//!     version: 1,
//!     first_instance: 0,
//!     latest_instance: 0,
//!     initial_power_table: table.clone(),
//! };
//! # let tipset = TipSet { epoch: 0, key: vec![1; 38], power_table: table.cid(), commitments: [0; 32] };
//! let certificate = FinalityCertificate {
//!     instance: 0,
//!     // ... the ECChain, the signers and their aggregate signature, any power table delta
//! #   ec_chain: Some(vec![tipset]),
//! #   supplemental_data: SupplementalData { commitments: [0; 32], power_table: table.cid() },
//! #   signers: Signers::from_indexes([0]),
//! #   signature: vec![0; 96],
//! #   power_table_delta: vec![],
//! };
//!
//! // Write it as go-f3 exports it: the bytes and their CID are go-f3's.
//! let mut writer = F3DataWriter::new(Vec::new(), &header)?;
//! writer.write_certificate(&certificate)?;
//! let (bytes, cid) = writer.finish()?;
//!
//! // Read it back, one block at a time.
//! let reader = F3DataReader::new(&bytes[..])?;
//! assert_eq!(reader.header().value, header);
//! for block in reader {
//!     assert_eq!(block?.value, certificate);
//! }
//!
//! // Validate any input (F3 data, or a CAR snapshot, plain or zstd) in one pass.
//! let opts = Options { level: Level::Chain, ..Options::default() };
//! let analysis = analyze(&bytes[..], Some(opts), &mut |_progress| {});
//! assert!(analysis.is_valid(), "{:?}", analysis.error);
//! assert_eq!(analysis.f3.and_then(|f3| f3.cid), Some(cid));
//! # Ok::<(), frc0108::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod assemble;
pub mod bitfield;
pub mod car;
pub mod cbor;
pub mod chain;
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
#[cfg(feature = "json")]
pub mod json;
pub mod merge;
pub mod networks;
pub mod output;
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
