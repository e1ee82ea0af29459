//! The warehouse: Apache DataFusion over the Parquet lake.
//!
//! Module map:
//! - [`lake`] — [`Lake`]: a `SessionContext` with one listing table per
//!   event family (`<family>_raw`, partition column `date`), a view per
//!   family that keeps one row per `event_id` (`<family>`), and the `views`
//!   projection (one row per play attempt, `sql/views.sql`);
//! - [`metrics`] — the metric registry: one SQL file per metric under
//!   `sql/metrics/`, rendered for a bucket, a window and breakdowns;
//! - [`query`] — read-only SQL (DDL, DML, COPY and statements refused);
//! - [`output`] — result tables as JSON rows, CSV or text;
//! - [`error`] — this crate's [`Error`].
//!
//! The definitions are `docs/metrics.md`.

pub mod error;
pub mod lake;
pub mod metrics;
pub mod output;
pub mod query;

pub use error::{Error, Result};
pub use lake::Lake;
