//! The warehouse's error type.

/// Errors of the warehouse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// DataFusion failed to plan or run a query.
    #[error("query: {0}")]
    Query(datafusion::error::DataFusionError),
    /// A metric name that does not exist.
    #[error("unknown metric `{0}` (see `showrunner metrics list`)")]
    UnknownMetric(String),
    /// A breakdown dimension that does not exist.
    #[error("unknown dimension `{0}` (expected one of: {1})")]
    UnknownDimension(String, String),
    /// A breakdown the metric does not have.
    #[error("metric `{0}` does not break down by `{1}` (it accepts: {2})")]
    UnsupportedDimension(String, String, String),
    /// A filter the metric does not take.
    #[error(
        "metric `{0}` cannot be filtered by `{1}` (filters apply to the view metrics, on their breakdowns)"
    )]
    UnsupportedFilter(String, String),
    /// A filter's values that cannot be used.
    #[error("bad filter on `{0}`: {1}")]
    BadFilter(String, String),
    /// A comparison that cannot be made.
    #[error("bad comparison: {0}")]
    BadCompare(String),
    /// A request parameter that cannot be used: (its name, why).
    #[error("{1}")]
    BadParameter(&'static str, String),
    /// A view the lake has no play request for.
    #[error("unknown view `{0}`")]
    UnknownView(String),
    /// A bucket that does not exist.
    #[error("unknown bucket `{0}` (expected hour, day, week or month)")]
    UnknownBucket(String),
    /// A date that is not YYYY-MM-DD.
    #[error("bad date `{0}` (expected YYYY-MM-DD)")]
    BadDate(String),
    /// A statement that would change something.
    #[error("only read-only statements run here ({0})")]
    Refused(String),
    /// A request that is malformed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A query that needed more memory than its limit.
    #[error("query exceeded its memory limit: {0}")]
    MemoryLimit(String),
    /// A query that ran past its time limit.
    #[error("query exceeded its time limit of {0:?}")]
    Timeout(std::time::Duration),
    /// The key already has its share of queries running.
    #[error("this key already has {0} queries running; retry when one ends")]
    TooManyQueries(usize),
    /// The ClickHouse engine failed (server unreachable, query refused).
    #[error("clickhouse: {0}")]
    ClickHouse(String),
    /// Listing or writing the lake failed.
    #[error(transparent)]
    Lake(#[from] showrunner_lake::Error),
    /// Converting results failed.
    #[error("output: {0}")]
    Output(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        if let datafusion::error::DataFusionError::ResourcesExhausted(m) = e.find_root() {
            return Error::MemoryLimit(m.clone());
        }
        Error::Query(e)
    }
}
