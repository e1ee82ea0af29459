//! Ingest: from clients to the event stream, and from the stream to the lake.
//!
//! Module map:
//! - [`collector`] — `POST /v1/events` (axum router): validate, publish, ack;
//! - [`config`] — the `[ingest]` and `[clickhouse]` configuration sections;
//! - [`publish`] — pipelined JetStream publishing with `Nats-Msg-Id`;
//! - [`consumer`] — `showrunner ingest`: durable pull consumer, batching,
//!   commit-then-ack into the lake;
//! - [`sinks::parquet`] — the stream's writer into the lake (through
//!   `showrunner-lake`): one commit per batch, exactly-once lookups;
//! - [`deadletter`] — the `DEADLETTER` stream: publish, list, replay;
//! - [`metrics`] — Prometheus counters;
//! - [`error`] — this crate's [`Error`].

pub mod collector;
pub mod config;
pub mod consumer;
pub mod deadletter;
pub mod error;
pub mod metrics;
pub mod publish;
pub mod sinks;

pub use error::{Error, Result};
