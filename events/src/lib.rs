//! The Showrunner event contract: event types, the flat JSON wire format,
//! validation rules and the Arrow schema of each family's lake table.
//!
//! This crate does no I/O and never touches tokio: it is pure data and rules,
//! shared by the collector, ingest, the simulator and every reader.
//!
//! Module map:
//! - [`time`] — the millisecond UTC [`Timestamp`] used by every event;
//! - [`wire`] — [`WireEvent`], the flat JSON object (every field optional),
//!   and the [`FieldId`] catalogue of every column;
//! - [`types`] — the typed [`Event`]: [`Envelope`] plus one [`Payload`] per
//!   family (`player`, `watch`, `billing`, `catalog`, `user`, `notification`);
//! - [`validate`] — [`Limits`] and the rules an event must pass to be stored;
//! - [`batch`] — parsing request bodies (JSON arrays or NDJSON) into events;
//! - [`arrow`] — Arrow schemas per family and conversion to and from
//!   `RecordBatch`.

pub mod arrow;
pub mod batch;
pub mod config;
pub mod error;
pub mod examples;
pub mod time;
pub mod types;
pub mod validate;
pub mod wire;

pub use error::{Error, FieldError, Result};
pub use time::Timestamp;
pub use types::{Envelope, Event, Family, Payload};
pub use validate::{Limits, Validator};
pub use wire::{FieldId, FieldKind, WireEvent};

/// The schema version this build writes; readers accept `1..=SCHEMA_VERSION`.
pub const SCHEMA_VERSION: i64 = 1;
