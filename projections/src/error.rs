//! Errors of loading and following read models.

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lake could not be listed or read.
    #[error(transparent)]
    Lake(#[from] showrunner_lake::Error),
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
