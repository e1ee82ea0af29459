//! The warehouse: Apache DataFusion over the Parquet lake.
//!
//! Module map:
//! - [`lake`] — [`Lake`]: a `SessionContext` with one listing table per
//!   event family (`<family>_raw`, partition column `date`), a view per
//!   family that keeps one row per `event_id` (`<family>`), and the `views`
//!   projections: `views` (one row per play attempt, `sql/views.sql`),
//!   `watch_sessions` and
//!   the subscription replay (`billing_months`, `subscription_changes`,
//!   `subscriptions`, `subscription_movements`, `monthly_churn`);
//! - [`metrics`] — the metric registry: one SQL file per metric under
//!   `sql/metrics/`, rendered for a bucket, a window and breakdowns;
//! - [`drill`] — drill-down: the views behind a metric's cell (same window
//!   and filters) and one view's timeline;
//! - [`query`] — read-only SQL (DDL, DML, COPY and statements refused);
//! - [`update`] — a session's projections updated with the files that
//!   came since (the views those files touch computed again), not
//!   computed again from every file;
//! - [`churn`] — the churn-risk model's feature rows per weekly snapshot
//!   (`sql/churn_features.sql`), read by the `churn` crate;
//! - [`materialize`] — metric tables as Parquet under `<lake>/metrics/`,
//!   recomputing only the months new or late event files touch;
//! - [`api`] — the HTTP query API (`/v1/metrics`, `/v1/sql`), an axum router;
//! - [`runtime`] — the CPU runtime the API's queries run on, with their
//!   time limit and abort; [`coop`] — the optimizer rule that makes joins
//!   yield, so an aborted query stops;
//! - [`clickhouse`] — the second engine: the same metrics from the
//!   ClickHouse tables, SQL beside DataFusion's (`sql/**/<name>.clickhouse.sql`);
//! - [`config`] — the `[warehouse]` configuration section;
//! - [`output`] — result tables as JSON rows, CSV or text;
//! - [`report`] — the metrics a request names, computed on either engine,
//!   rendered for people and scripts (`showrunner metrics`, `sql`);
//! - [`error`] — this crate's [`Error`].
//!
//! The definitions are `docs/metrics.md`.

pub mod api;
pub mod churn;
pub mod clickhouse;
pub mod config;
pub mod coop;
pub mod drill;
pub mod error;
pub mod lake;
pub mod materialize;
pub mod metrics;
pub mod output;
pub mod query;
pub mod report;
pub mod runtime;
pub mod update;

pub use error::{Error, Result};
pub use lake::Lake;
