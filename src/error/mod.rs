//! Errors: one enum of everything that can be wrong with a snapshot, each kind with a stable
//! machine-readable code, and a wrapper that says where (byte offset, instance, field).
//!
//! The codes are part of the conformance corpus: `vectors/manifest.json` names them and other
//! implementations' runners match on them, so a code never changes meaning once published.

use std::fmt;

mod kind;

pub use kind::ErrorKind;

/// Where the error was found, as precisely as the layer that found it knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// Absolute byte offset in the decompressed input where the offending item starts.
    pub offset: Option<u64>,
    /// GPBFT instance of the certificate concerned.
    pub instance: Option<u64>,
    /// The field path, e.g. `FinalityCertificate.ECChain.TipSet.Key`.
    pub field: Option<&'static str>,
}

/// An error with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What is wrong.
    pub kind: ErrorKind,
    /// Where.
    pub location: Location,
}

impl Error {
    /// An error of `kind` at absolute byte `offset`.
    pub fn at(kind: ErrorKind, offset: u64) -> Self {
        Error {
            kind,
            location: Location {
                offset: Some(offset),
                ..Location::default()
            },
        }
    }

    /// An error with no location yet.
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            kind,
            location: Location::default(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// Records the instance, unless an inner layer already did.
    pub fn in_instance(mut self, instance: u64) -> Self {
        self.location.instance.get_or_insert(instance);
        self
    }

    /// Records the field path, unless an inner layer already named a more precise one.
    pub fn in_field(mut self, field: &'static str) -> Self {
        self.location.field.get_or_insert(field);
        self
    }

    /// Records the offset, unless an inner layer already did.
    pub fn at_offset(mut self, offset: u64) -> Self {
        self.location.offset.get_or_insert(offset);
        self
    }

    /// Shifts a block-relative offset to an absolute one.
    pub(crate) fn shifted(mut self, base: u64) -> Self {
        if let Some(off) = self.location.offset.as_mut() {
            *off = off.saturating_add(base);
        }
        self
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        // A decompressor's fault travels inside an I/O error; it is the input's, not the I/O's.
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<crate::report::ZstdFault>())
        {
            Some(fault) => Error::new(ErrorKind::Zstd(fault.0.clone())),
            None => Error::new(ErrorKind::Io(e.to_string())),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        let loc = &self.location;
        let mut sep = " (";
        if let Some(field) = loc.field {
            write!(f, "{sep}in {field}")?;
            sep = ", ";
        }
        if let Some(i) = loc.instance {
            write!(f, "{sep}instance {i}")?;
            sep = ", ";
        }
        if let Some(o) = loc.offset {
            write!(f, "{sep}at byte {o}")?;
            sep = ", ";
        }
        if sep == ", " {
            write!(f, ")")?;
        }
        write!(f, " [{}]", self.code())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

/// Result with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
