//! The recommender's error type.

/// Errors of the recommender.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file could not be read.
    #[error("reading {0}: {1}")]
    Io(String, std::io::Error),
    /// An input line that is not what its format says.
    #[error("{0}:{1}: {2}")]
    Parse(String, usize, String),
    /// A hyper-parameter out of its range.
    #[error("invalid parameter: {0}")]
    Param(String),
    /// Linear algebra failed (for example a matrix that is not positive definite).
    #[error("linear algebra: {0}")]
    Linalg(String),
    /// The lake could not be read.
    #[error("reading the lake: {0}")]
    Lake(String),
    /// A read model could not be loaded.
    #[error(transparent)]
    Projections(#[from] showrunner_projections::Error),
    /// A model artifact that cannot be written or read.
    #[error("model artifact: {0}")]
    Artifact(String),
    /// An error of linfa itself.
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
