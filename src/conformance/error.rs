//! Failures of the corpus tools themselves (generating, loading, running), kept apart from the
//! library's input errors: a damaged fixture or an unwritable folder is not a bad snapshot.

use std::path::PathBuf;

/// A failure of `vectors generate` or `vectors run`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file (manifest, fixture sidecar, fixture index) does not parse, or does not
    /// have the shape its type requires (an unknown `level`, say).
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },
    /// A go-f3 fixture lacks what a case is built from.
    #[error("go-f3 fixture {name}: {why}")]
    Fixture {
        /// The fixture's name in the index.
        name: String,
        /// What is missing.
        why: String,
    },
    /// The library refused an input the tools handle: a fixture that does not decode, or a
    /// case that cannot be written.
    #[error("{what}: {source}")]
    Input {
        /// The input or step concerned.
        what: String,
        /// The library's error (boxed: it is large, and rare here).
        #[source]
        source: Box<crate::Error>,
    },
    /// A case does not provoke what it states (its code at its level and not below), or a
    /// valid case's facts differ from go-f3's.
    #[error("case {id}: {why}")]
    Case {
        /// The case's id.
        id: String,
        /// What the reference reader said instead.
        why: String,
    },
    /// A case file's SHA-256 differs from the manifest's.
    #[error("{file}: sha256 {sha256} does not match the manifest; the corpus is damaged")]
    Damaged {
        /// The case file, relative to the manifest.
        file: String,
        /// Its actual SHA-256.
        sha256: String,
    },
    /// Generation would replace a `cases/` folder that is not next to a corpus manifest.
    #[error("{} exists and is not a corpus this command wrote; not replacing it", .0.display())]
    NotACorpus(PathBuf),
}

/// A result of the corpus tools.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O error on `path`, for `map_err`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    /// A library error on `what`, for `map_err`.
    pub(crate) fn input(what: impl Into<String>) -> impl FnOnce(crate::Error) -> Error {
        let what = what.into();
        move |source| Error::Input {
            what,
            source: Box::new(source),
        }
    }
}

/// Reads `path`.
pub(crate) fn read(path: PathBuf) -> Result<Vec<u8>> {
    std::fs::read(&path).map_err(Error::io(path))
}

/// Reads `path` as JSON of type `T`.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: PathBuf) -> Result<T> {
    let bytes = read(path.clone())?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Json { path, source })
}
