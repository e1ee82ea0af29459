//! The lake's only owner. Everything that reads or writes the Parquet lake
//! goes through this crate:
//!
//! - [`config`] — the `[lake]` configuration section;
//! - [`store`] — where the bytes live: a directory or an object store
//!   (`s3://bucket/prefix`), read, listed and committed by key (on object
//!   stores the commit is a conditional create);
//! - [`layout`] — where everything lives: event partitions, committed
//!   file names, metric tables, models, scores;
//! - [`listing`] — which files are committed (the one temp rule) and the
//!   signature readers use to notice new files;
//! - [`commit`] — atomic, durable commits of files (one or many at once)
//!   and of directories; sweeping the temps of interrupted commits;
//! - [`format`] — the Parquet encoding of event files and their provenance
//!   footer (stream, incarnation, sequences);
//! - [`seqs`] — sequence sets as kept in that footer;
//! - [`dedup`] — the one "one row per `event_id`" rule, rendered for
//!   DataFusion, ClickHouse and polars;
//! - [`compact`] — a closed partition's small files rewritten as one,
//!   keeping the union of their provenance (exactly-once holds);
//! - [`read`] — reading committed events back (tests, tools).
//!
//! Invariants: only this crate spells a lake path; a committed file is
//! never modified; a reader never sees a file being written.

pub mod commit;
pub mod compact;
pub mod config;
pub mod dedup;
pub mod error;
pub mod format;
pub mod layout;
pub mod listing;
pub mod read;
pub mod seqs;
pub mod store;

pub use error::{Error, Result};
pub use layout::Layout;
pub use listing::{LakeFile, Signature};
pub use store::{S3Config, Store};
