//! `assemble`: F3 data from Lotus's RPC JSON, byte for byte as go-f3's certstore exports the
//! same certificates (see [`crate::assemble`]).

use std::fmt;
use std::io::{Read, Seek, Write};

use serde_json::Value;

use super::{header_from_json, power_table_from_json, read_items, Item, JsonError};
use crate::assemble::{Assembled, Assembler};
use crate::error::Error;
use crate::types::PowerEntries;
use crate::validate::Options;

/// What `assemble` can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssembleError {
    /// The JSON is bad (the error names the certificate and the field).
    Json(JsonError),
    /// A certificate, or the F3 data they make, breaks a rule; `index` is the certificate's
    /// position in the input, where known.
    Invalid {
        /// The certificate's index in the input, counting from 0.
        index: Option<u64>,
        /// What is wrong.
        error: Box<Error>,
    },
    /// No initial power table: neither given nor in a leading header.
    NoPowerTable,
    /// An initial power table given and a header in the certificates too.
    PowerTableTwice,
}

impl AssembleError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AssembleError::Json(e) => e.code(),
            AssembleError::Invalid { error, .. } => error.code(),
            AssembleError::NoPowerTable => "assemble-no-power-table",
            AssembleError::PowerTableTwice => "assemble-power-table-twice",
        }
    }

    /// Whether this is a verdict on the input (exit 1), rather than a usage mistake or a
    /// failure to read or write (exit 2).
    pub fn is_verdict(&self) -> bool {
        match self {
            AssembleError::Json(e) => e.is_verdict(),
            AssembleError::Invalid { error, .. } => error.kind.is_verdict(),
            AssembleError::NoPowerTable | AssembleError::PowerTableTwice => false,
        }
    }
}

impl fmt::Display for AssembleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssembleError::Json(e) => write!(f, "{e}"),
            AssembleError::Invalid {
                index: Some(i),
                error,
            } => write!(f, "certificate {i}: {error}"),
            AssembleError::Invalid { index: None, error } => write!(f, "{error}"),
            AssembleError::NoPowerTable => write!(
                f,
                "no initial power table: give one, or begin the certificates with a snapshot \
                 header (as dump prints) [{}]",
                self.code()
            ),
            AssembleError::PowerTableTwice => write!(
                f,
                "the certificates begin with a snapshot header, which holds the initial power \
                 table: give no other [{}]",
                self.code()
            ),
        }
    }
}

impl std::error::Error for AssembleError {}

impl From<JsonError> for AssembleError {
    fn from(e: JsonError) -> Self {
        AssembleError::Json(e)
    }
}

/// An initial power table from JSON: an array of entries (as the F3 manifests publish it) or
/// a snapshot header (as `dump` prints first), which also gives the first instance.
pub fn initial_power_table(v: &Value) -> Result<(PowerEntries, Option<u64>), JsonError> {
    if v.is_object() {
        let h = header_from_json(v)?;
        Ok((h.initial_power_table, Some(h.first_instance)))
    } else {
        Ok((power_table_from_json(v)?, None))
    }
}

/// Assembles F3 data from `table` (the initial power table and, from a header, the first
/// instance), or from the header the certificates begin with, and the certificates read
/// from `certificates` (see [`read_items`]), spooling to `spool`; validates it with `opts`.
/// `first_instance` overrides the first instance (default: the header's, else the first
/// certificate's). The result is written with [`Assembled::write_f3`] or
/// [`Assembled::write_car`].
pub fn assemble_json<R: Read, S: Read + Write + Seek>(
    table: Option<(PowerEntries, Option<u64>)>,
    certificates: R,
    first_instance: Option<u64>,
    spool: S,
    opts: Options,
) -> Result<Assembled<S>, AssembleError> {
    let given = table.is_some();
    let mut pending = table;
    let mut spool = Some(spool);
    let mut asm: Option<Assembler<S>> = None;
    read_items(certificates, &mut |item| -> Result<(), AssembleError> {
        match item {
            Item::Header(_) if given => Err(AssembleError::PowerTableTwice),
            Item::Header(h) => {
                pending = Some((h.initial_power_table, Some(h.first_instance)));
                Ok(())
            }
            Item::Certificate(index, c) => {
                if asm.is_none() {
                    let (t, first) = pending.take().ok_or(AssembleError::NoPowerTable)?;
                    let s = spool.take().ok_or(AssembleError::NoPowerTable)?;
                    asm = Some(Assembler::new(t, first_instance.or(first), s));
                }
                match asm.as_mut() {
                    Some(a) => a.push(&c).map_err(|error| AssembleError::Invalid {
                        index: Some(index),
                        error: Box::new(error),
                    }),
                    None => Err(AssembleError::NoPowerTable),
                }
            }
        }
    })?;
    let asm = asm.ok_or(AssembleError::NoPowerTable)?;
    let first = asm.first_instance();
    asm.finish(opts).map_err(|error| AssembleError::Invalid {
        index: error
            .location
            .instance
            .zip(first)
            .map(|(i, f)| i.saturating_sub(f)),
        error: Box::new(error),
    })
}
