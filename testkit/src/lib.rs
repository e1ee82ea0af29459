//! Dev-only helpers shared by the workspace's tests and benchmarks: local
//! servers they start themselves. Nothing in a shipped binary depends on
//! this crate (checked by `tests/architecture.rs`).
//!
//! - [`s3`] — a real S3-compatible server (SeaweedFS's `weed mini`) on
//!   loopback, with credentials and a bucket, and a [`showrunner_lake::Store`]
//!   on it.

pub mod s3;
