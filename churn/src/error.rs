//! This crate's [`Error`].

/// What can go wrong training, storing or scoring a churn model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A hyper-parameter out of its range.
    #[error("bad parameter: {0}")]
    Param(String),
    /// Rows a model cannot be fitted or evaluated on.
    #[error("{0}")]
    Data(String),
    /// The feature rows are not what `churn_features.sql` returns.
    #[error("features: {0}")]
    Features(String),
    /// A fit failed.
    #[error("fit: {0}")]
    Fit(String),
    /// linfa refused the data set.
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
    /// The warehouse failed computing the features.
    #[error(transparent)]
    Warehouse(#[from] showrunner_warehouse::Error),
    /// Reading or writing the model or the scores failed.
    #[error(transparent)]
    Lake(#[from] showrunner_lake::Error),
    /// A stored model or score file is not what this version writes.
    #[error("{0}")]
    Format(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
