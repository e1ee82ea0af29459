//! One run of each periodic job, as the timers and `standalone`'s first
//! run call them.

use std::path::Path;

use showrunner_lake::Store;
use showrunner_lake::compact::{self, CompactOptions, Report as CompactReport};
use showrunner_recommender::artifact::Manifest;
use showrunner_recommender::protocol::{self, Tuning};
use showrunner_recommender::train::{self, TrainOptions};

use crate::Result;

/// Brings the metric tables under `<lake>/metrics/` up to date (a
/// directory or an object store).
pub async fn materialize(lake: &Store) -> Result<showrunner_warehouse::materialize::Report> {
    Ok(showrunner_warehouse::materialize::run_store(lake).await?)
}

/// Trains the recommender on the lake with the protocol's defaults and
/// `seed`, publishes the version under `<lake>/models/`, keeps `keep`
/// versions. Blocking.
pub fn train(lake: &Path, seed: u64, keep: usize) -> Result<Manifest> {
    let models = showrunner_lake::Layout::new(lake).models();
    train_store(&Store::dir(lake), &models, seed, keep)
}

/// [`train`] on any store (a directory, or `s3://…`), the versions under
/// the directory `models`. Blocking: from a blocking thread.
pub fn train_store(store: &Store, models: &Path, seed: u64, keep: usize) -> Result<Manifest> {
    let o = TrainOptions {
        tuning: Tuning::new(protocol::K, seed),
        keep_versions: keep.max(1),
        ..TrainOptions::default()
    };
    Ok(train::train_store(store, models, &o)?.manifest)
}

/// What to compact now: partitions dated more than `closed_after_days`
/// days before today (UTC) with at least two files.
pub fn compact_options(closed_after_days: u32) -> CompactOptions {
    let now = showrunner_events::Timestamp::now();
    let closed = now.plus_ms(-i64::from(closed_after_days) * 86_400_000);
    CompactOptions {
        closed_before: closed.date_string(),
        min_files: 2,
    }
}

/// Compacts the lake's closed partitions (a directory or an object
/// store). Blocking: from a blocking thread.
pub fn compact(lake: &Store, closed_after_days: u32) -> Result<(CompactOptions, CompactReport)> {
    let opts = compact_options(closed_after_days);
    let r = compact::compact(lake, &opts)?;
    Ok((opts, r))
}
