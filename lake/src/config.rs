//! `[lake]` of the configuration: where the lake is, and when its
//! partitions close and are compacted.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::store::{S3Config, Store};

/// `[lake]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LakeConfig {
    /// Root of the lake: a directory, `file:///abs/dir`, or
    /// `s3://bucket/prefix` (with `[lake.s3]`).
    pub path: PathBuf,
    /// A partition is closed (compacted) once its date is this many days
    /// before today (UTC).
    pub closed_after_days: u32,
    /// The compactor role compacts the closed partitions this often
    /// (`compact_every_secs`; 0: never).
    #[serde(rename = "compact_every_secs", with = "showrunner_events::time::secs")]
    pub compact_every: Duration,
    /// How an `s3://` lake is reached.
    pub s3: S3Config,
}

impl LakeConfig {
    /// The lake's storage, as `path` and `s3` say.
    pub fn store(&self) -> Result<Store> {
        Store::open(&self.path.to_string_lossy(), &self.s3)
    }
}

impl Default for LakeConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("showrunner-data/lake"),
            closed_after_days: 2,
            compact_every: Duration::from_secs(3_600),
            s3: S3Config::default(),
        }
    }
}
