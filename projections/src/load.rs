//! Filling a fold from the lake: every committed file of the families it
//! reads, each row decoded as a typed [`Event`] and applied. Copies of an
//! event (the lake keeps at-least-once duplicates until compaction) are
//! absorbed by the folds' idempotence, so no dedup pass is needed.

use std::path::Path;
use std::time::Instant;

use showrunner_events::Event;
use showrunner_lake::layout::keys;
use showrunner_lake::{Store, read};

use crate::{Fold, Result};

/// What a load read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadStats {
    /// Files read.
    pub files: usize,
    /// Rows applied.
    pub events: usize,
    /// Rows that are not valid events (skipped; the lake only holds valid
    /// ones, so this is 0 unless a file was written by something else).
    pub invalid: usize,
    /// Seconds spent.
    pub seconds: f64,
}

/// Applies every committed event of `fold`'s families in the directory
/// lake `lake` to it.
pub fn from_lake(lake: &Path, fold: &mut impl Fold) -> Result<LoadStats> {
    let store = Store::dir(lake);
    store.blocking(async { Ok(from_store(&store, fold).await) })?
}

/// [`from_lake`] on any store: a directory, or an object store (`s3://…`)
/// read through GETs.
pub async fn from_store(store: &Store, fold: &mut impl Fold) -> Result<LoadStats> {
    let started = Instant::now();
    let mut stats = LoadStats::default();
    for &family in fold.families() {
        for f in store.list_committed(&keys::family(family)).await? {
            stats.files += 1;
            for w in read::read_bytes(store.get(&f.key).await?)? {
                match Event::from_wire(&w) {
                    Ok(e) => {
                        fold.apply(&e);
                        stats.events += 1;
                    }
                    Err(_) => stats.invalid += 1,
                }
            }
        }
    }
    stats.seconds = started.elapsed().as_secs_f64();
    Ok(stats)
}
