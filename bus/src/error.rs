//! The bus crate's error type.

use std::path::PathBuf;

/// Errors of connecting, stream creation and the local server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// NATS could not be reached or refused an operation.
    #[error("nats: {0}")]
    Nats(String),
    /// The nats-server binary is not installed.
    #[error("`{0}` not found on PATH: install it with `apt-get install -y nats-server`")]
    NatsServerMissing(String),
    /// A local nats-server did not start.
    #[error("nats-server did not start: {0}")]
    NatsServerStart(String),
    /// A file-system or socket operation failed.
    #[error("{op} `{path}`: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl Error {
    /// A NATS error, kept as its message.
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

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
