//! The warehouse's error type.

/// Errors of the warehouse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// DataFusion failed to plan or run a query.
    #[error("query: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    /// A metric name that does not exist.
    #[error("unknown metric `{0}` (see `showrunner metrics list`)")]
    UnknownMetric(String),
    /// A breakdown dimension that does not exist.
    #[error("unknown dimension `{0}` (expected one of: {1})")]
    UnknownDimension(String, String),
    /// A breakdown the metric does not have.
    #[error("metric `{0}` does not break down by `{1}` (it accepts: {2})")]
    UnsupportedDimension(String, String, String),
    /// A bucket that does not exist.
    #[error("unknown bucket `{0}` (expected hour, day, week or month)")]
    UnknownBucket(String),
    /// A date that is not YYYY-MM-DD.
    #[error("bad date `{0}` (expected YYYY-MM-DD)")]
    BadDate(String),
    /// A statement that would change something.
    #[error("refused: {0}")]
    Refused(String),
    /// Converting results failed.
    #[error("output: {0}")]
    Output(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
