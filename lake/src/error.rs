//! The lake crate's error type: what failed, on which path.

use std::path::PathBuf;

/// Errors of lake operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file-system operation failed.
    #[error("{op} `{path}`: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An object-store operation failed.
    #[error("{op} `{key}`: {source}")]
    Object {
        /// What was being done.
        op: &'static str,
        /// On which object.
        key: String,
        /// The cause.
        source: object_store::Error,
    },
    /// A conditional create found the object already there: a name was
    /// about to be written twice.
    #[error("`{0}` already exists: lake files are never replaced")]
    Exists(String),
    /// The lake's configuration is unusable.
    #[error("{0}")]
    Config(String),
    /// Writing or reading Parquet failed.
    #[error("parquet: {0}")]
    Parquet(String),
    /// A lake file's rows do not decode as events.
    #[error(transparent)]
    Events(#[from] showrunner_events::Error),
}

impl Error {
    /// An I/O error on a path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

impl Error {
    /// An object-store error on an object.
    pub fn object(
        op: &'static str,
        key: &object_store::path::Path,
        source: object_store::Error,
    ) -> Self {
        Error::Object {
            op,
            key: key.to_string(),
            source,
        }
    }
}

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Self {
        Error::Parquet(e.to_string())
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
