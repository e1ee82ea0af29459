//! Showrunner's benchmarks, kept out of the shipped `showrunner` binary and
//! run by `showrunner-bench` (`cargo build --release -p
//! showrunner-benchmarks`). Each prints one JSON object on stdout; logs go
//! to stderr.
//!
//! Module map:
//! - [`ingest`] — `ingest`: a bare JetStream consumer against real ingest
//!   into Parquet, on the same pre-filled stream;
//! - [`stages`] — `stages`: ingest's CPU per event by stage, no NATS;
//! - [`metrics`] — `metrics`: the metric suite on DataFusion, cold and
//!   warm, next to DuckDB on the same SQL and Parquet files;
//! - [`clickhouse`] — `clickhouse`: the ClickHouse sink's insert throughput
//!   and the suite on ClickHouse next to DataFusion;
//! - [`recommend`] — `recommend`: recommendation serving under HTTP load;
//! - [`campaigns`] — `campaigns`: marketing's send decisions and preview
//!   for a large audience;
//! - [`shared`] — the simulated message fixture and the row comparator
//!   that several of them use.

pub mod campaigns;
pub mod clickhouse;
pub mod dashboard;
pub mod ingest;
pub mod metrics;
pub mod recommend;
pub mod shared;
pub mod stages;
