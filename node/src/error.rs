//! Errors of starting and running roles.

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration does not load or validate (the message names the
    /// field or the environment variable).
    #[error("{0}")]
    Config(String),
    /// A role list that does not parse.
    #[error("{0}")]
    Roles(String),
    /// Ingest or the ClickHouse sink failed.
    #[error(transparent)]
    Ingest(#[from] showrunner_ingest::Error),
    /// NATS could not be reached.
    #[error(transparent)]
    Bus(#[from] showrunner_bus::Error),
    /// The lake could not be compacted.
    #[error(transparent)]
    Lake(#[from] showrunner_lake::Error),
    /// Materializing failed.
    #[error(transparent)]
    Warehouse(#[from] showrunner_warehouse::Error),
    /// Training or loading the recommender failed.
    #[error(transparent)]
    Recommender(#[from] showrunner_recommender::Error),
    /// The keys cannot be served here (development keys off loopback).
    #[error("{0}")]
    Keys(String),
    /// The HTTP listener could not be bound or failed.
    #[error("http {addr}: {source}")]
    Http {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A role's task panicked or was cancelled.
    #[error("{role} task: {message}")]
    Task {
        /// The role.
        role: &'static str,
        /// What the runtime said.
        message: String,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
