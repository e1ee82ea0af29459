//! Error types of the event contract.

use std::fmt;

/// A rule broken by one field of one event: the field's name and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The JSON field at fault (`$` for the event as a whole).
    pub field: String,
    /// What is wrong with it, lowercase, no trailing period.
    pub reason: String,
}

impl FieldError {
    /// A field that is wrong for the given reason.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A required field that is absent.
    pub fn missing(field: &str) -> Self {
        Self::new(field, "is required")
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}` {}", self.field, self.reason)
    }
}

impl std::error::Error for FieldError {}

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One event broke a rule.
    #[error("invalid event: {0}")]
    Invalid(#[from] FieldError),
    /// A request body could not be parsed as JSON array or NDJSON.
    #[error("unparseable body: {0}")]
    Unparseable(String),
    /// A batch is over the event-count or byte limit.
    #[error("batch too large: {0}")]
    BatchTooLarge(String),
    /// An Arrow batch did not have the shape of a family table.
    #[error("arrow: {0}")]
    Arrow(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
