//! Dev-only helpers shared by the workspace's tests and benchmarks: local
//! servers they start themselves, the simulated fixtures, the one row
//! comparator. Nothing in a shipped binary depends on
//! this crate (checked by `tests/architecture.rs`).
//!
//! - [`s3`] — a real S3-compatible server (SeaweedFS's `weed mini`) on
//!   loopback, with credentials and a bucket, and a [`showrunner_lake::Store`]
//!   on it;
//! - [`clickhouse`] — a real clickhouse-server on loopback, with queries
//!   over HTTP;
//! - [`lake`] — lakes written directly, as the Parquet sink would;
//! - [`fixtures`] — simulated audiences (the end-to-end tests', the busy
//!   days and the multi-day streams of the benchmarks);
//! - [`rows`] — the one comparator of query results across engines;
//! - [`proc`] — the CPU time a process has spent (`/proc`);
//! - [`python`] — the pinned Python environment of the independent checks.
//!
//! (The local nats-server is `showrunner_bus::server`: `standalone` runs
//! one in production too.)

pub mod clickhouse;
pub mod fixtures;
pub mod lake;
pub mod proc;
pub mod python;
pub mod rows;
pub mod s3;
