//! NATS in one place:
//!
//! - [`config`] — the `[nats]` configuration section;
//! - [`subjects`] — every subject and default stream name;
//! - [`connect`] — connecting (eager or lazy), JetStream contexts, the
//!   `EVENTS` and `DEADLETTER` streams;
//! - [`durable`] — durable pull consumers: settings, creation, one pull
//!   request at a time with shutdown, drain detection;
//! - [`sink`] — the run loop of a stream sink (batching, order, retries,
//!   dead letters, acks, stop and drain) around a [`sink::Sink`] that only
//!   writes; [`deadletter`] — storing refused messages;
//! - [`follow`] — ordered follow of a family for live readers;
//! - [`server`] — a local `nats-server` child process (standalone, tests,
//!   benchmarks).
//!
//! Invariant: only this crate spells a subject or a stream name.

pub mod config;
pub mod connect;
pub mod deadletter;
pub mod durable;
pub mod error;
pub mod follow;
pub mod server;
pub mod sink;
pub mod subjects;

pub use connect::{StreamSettings, connect, connect_lazy, context, ensure_streams};
pub use error::{Error, Result};
