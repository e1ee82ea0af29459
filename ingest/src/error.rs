//! The ingest crate's error type.

use std::path::PathBuf;

/// Errors of the collector, the consumer, the sinks and dead letters.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// ClickHouse could not be reached, or failed without an exception.
    #[error("clickhouse: {0}")]
    ClickHouse(String),
    /// ClickHouse answered with an exception: its code (the server's
    /// `ErrorCodes`, read once where the response is received) and text.
    #[error("clickhouse: Code: {code}. {message}")]
    ClickHouseServer {
        /// The exception's code.
        code: u32,
        /// The server's text.
        message: String,
    },
    /// NATS could not be reached or refused an operation.
    #[error("nats: {0}")]
    Nats(String),
    /// Connecting, stream creation or the local nats-server failed.
    #[error(transparent)]
    Bus(#[from] showrunner_bus::Error),
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
    /// Writing or reading Parquet failed.
    #[error("parquet: {0}")]
    Parquet(String),
    /// A lake operation failed.
    #[error(transparent)]
    Lake(#[from] showrunner_lake::Error),
    /// The event contract refused something.
    #[error(transparent)]
    Events(#[from] showrunner_events::Error),
    /// A setting is out of range.
    #[error("bad setting: {0}")]
    Config(String),
    /// A dead-letter record could not be handled.
    #[error("dead letter: {0}")]
    DeadLetter(String),
}

impl Error {
    /// A NATS error from anything displayable.
    pub fn nats(e: impl std::fmt::Display) -> Self {
        Error::Nats(e.to_string())
    }

    /// An I/O error on a path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
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
