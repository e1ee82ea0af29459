//! What the recommender reads from the lake — a directory or an object
//! store ([`Store`]): the `watch` family with polars (a lazy scan
//! deduplicated by `event_id` by the lake's rule, aggregated per user ×
//! watched id in the scan), and the catalog and profiles as the
//! `projections` folds say. On an object store the family's committed
//! objects are fetched through the `Store` and read by polars from memory
//! (the same files, the same rule: `tests/s3.rs` trains on both). Blocking:
//! on an object store, call from a blocking thread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use showrunner_events::Family;
use showrunner_lake::layout::keys;
use showrunner_lake::{Layout, Store, dedup, listing};

use showrunner_projections::viewing::Watched;
use showrunner_projections::{CatalogFold, Profiles, Viewing, load};

pub use showrunner_projections::profiles::Profile;

use crate::catalog::Catalog;
use crate::error::{Error, Result};

/// What one user did with one watched id (a movie or an episode).
#[derive(Debug, Clone, PartialEq)]
pub struct WatchAgg {
    /// User id.
    pub user: String,
    /// Watched id: a movie, or an episode of a series.
    pub watched: String,
    /// Largest position ÷ duration reached (0 when only completions).
    pub max_fraction: f64,
    /// Position of the latest progress event, ms.
    pub position_ms: i64,
    /// Duration of the latest progress event, ms.
    pub duration_ms: i64,
    /// Time of the latest event of either kind, ms.
    pub last_at: i64,
    /// Number of `completed` events.
    pub completions: u32,
    /// Time of the latest `completed` event, ms.
    pub completed_at: Option<i64>,
}

/// Everything the recommender reads from the lake.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The catalog, replayed.
    pub catalog: Catalog,
    /// Watch aggregates, by (user, watched id), sorted.
    pub watch: Vec<WatchAgg>,
    /// Profiles by user id.
    pub profiles: HashMap<String, Profile>,
    /// The earliest and latest watch event times, ms (0, 0 when none).
    pub window: (i64, i64),
}

fn plerr(e: PolarsError) -> Error {
    Error::Lake(e.to_string())
}

/// The committed Parquet files of a family (the lake's listing), sorted.
pub fn files(lake: &Path, family: Family) -> Result<Vec<PathBuf>> {
    Ok(listing::family_files(&Layout::new(lake), family)
        .map_err(|e| Error::Lake(e.to_string()))?
        .into_iter()
        .map(|f| f.path)
        .collect())
}

/// A lazy scan of a family's files, each event once by the lake's rule
/// (`showrunner_lake::dedup`: the copy received first, then occurred
/// first, nulls last); `None` without files.
pub fn scan(lake: &Path, family: Family) -> Result<Option<LazyFrame>> {
    scan_store(&Store::dir(lake), family)
}

/// [`scan`] on any store: a directory's files are scanned lazily, an
/// object store's objects fetched and read from memory.
pub fn scan_store(store: &Store, family: Family) -> Result<Option<LazyFrame>> {
    let lf = match store.local_root() {
        Some(root) => {
            let paths = files(root, family)?;
            if paths.is_empty() {
                return Ok(None);
            }
            let args = ScanArgsParquet {
                hive_options: HiveOptions {
                    enabled: Some(false),
                    ..HiveOptions::default()
                },
                ..ScanArgsParquet::default()
            };
            let sources = paths
                .iter()
                .map(|p| PlRefPath::from(p.to_string_lossy().as_ref()))
                .collect();
            LazyFrame::scan_parquet_files(sources, args).map_err(plerr)?
        }
        None => {
            let lake = |e: showrunner_lake::Error| Error::Lake(e.to_string());
            let objects = store
                .blocking(store.list_committed(&keys::family(family)))
                .map_err(lake)?;
            if objects.is_empty() {
                return Ok(None);
            }
            let mut frames = Vec::with_capacity(objects.len());
            for o in &objects {
                let bytes = store.blocking(store.get(&o.key)).map_err(lake)?;
                let df = ParquetReader::new(std::io::Cursor::new(bytes))
                    .finish()
                    .map_err(plerr)?;
                frames.push(df.lazy());
            }
            concat(frames, UnionArgs::default()).map_err(plerr)?
        }
    };
    let order = SortMultipleOptions::default()
        .with_nulls_last(true)
        .with_maintain_order(true);
    Ok(Some(
        lf.sort(dedup::ORDER, order)
            .unique_stable(Some(cols([dedup::KEY])), UniqueKeepStrategy::First)
            .with_column(col("occurred_at").cast(DataType::Int64).alias("at")),
    ))
}

fn strs<'a>(df: &'a DataFrame, name: &str) -> Result<impl Iterator<Item = Option<&'a str>>> {
    Ok(df.column(name).map_err(plerr)?.str().map_err(plerr)?.iter())
}

fn ints(df: &DataFrame, name: &str) -> Result<Vec<Option<i64>>> {
    let c = df
        .column(name)
        .map_err(plerr)?
        .cast(&DataType::Int64)
        .map_err(plerr)?;
    Ok(c.i64().map_err(plerr)?.iter().collect())
}

/// Per user × watched id: the progress and completion aggregates.
pub fn watch(lake: &Path) -> Result<Vec<WatchAgg>> {
    watch_store(&Store::dir(lake))
}

/// [`watch`] on any store.
pub fn watch_store(store: &Store) -> Result<Vec<WatchAgg>> {
    let Some(lf) = scan_store(store, Family::Watch)? else {
        return Ok(Vec::new());
    };
    let lf = lf.filter(
        col("user_id")
            .is_not_null()
            .and(col("title_id").is_not_null()),
    );
    let keys = [col("user_id"), col("title_id")];
    let by_time = || SortMultipleOptions::default();
    let progress = lf
        .clone()
        .filter(col("event_type").eq(lit("progress")))
        .group_by(keys.clone())
        .agg([
            (col("position_ms").cast(DataType::Float64)
                / col("duration_ms").cast(DataType::Float64))
            .max()
            .alias("max_fraction"),
            col("position_ms")
                .sort_by([col("at")], by_time())
                .last()
                .alias("position_ms"),
            col("duration_ms")
                .sort_by([col("at")], by_time())
                .last()
                .alias("duration_ms"),
            col("at").max().alias("last_at"),
        ])
        .collect()
        .map_err(plerr)?;
    let completed = lf
        .filter(col("event_type").eq(lit("completed")))
        .group_by(keys)
        .agg([
            len().cast(DataType::Int64).alias("completions"),
            col("at").max().alias("completed_at"),
        ])
        .collect()
        .map_err(plerr)?;
    let mut out: HashMap<(String, String), WatchAgg> = HashMap::new();
    let fr: Vec<Option<f64>> = progress
        .column("max_fraction")
        .map_err(plerr)?
        .f64()
        .map_err(plerr)?
        .iter()
        .collect();
    let (pos, dur, last) = (
        ints(&progress, "position_ms")?,
        ints(&progress, "duration_ms")?,
        ints(&progress, "last_at")?,
    );
    for (k, (u, t)) in strs(&progress, "user_id")?
        .zip(strs(&progress, "title_id")?)
        .enumerate()
    {
        let (Some(u), Some(t)) = (u, t) else { continue };
        out.insert(
            (u.to_owned(), t.to_owned()),
            WatchAgg {
                user: u.to_owned(),
                watched: t.to_owned(),
                max_fraction: fr[k].filter(|f| f.is_finite()).unwrap_or(0.0),
                position_ms: pos[k].unwrap_or(0),
                duration_ms: dur[k].unwrap_or(0),
                last_at: last[k].unwrap_or(0),
                completions: 0,
                completed_at: None,
            },
        );
    }
    let (n, at) = (
        ints(&completed, "completions")?,
        ints(&completed, "completed_at")?,
    );
    for (k, (u, t)) in strs(&completed, "user_id")?
        .zip(strs(&completed, "title_id")?)
        .enumerate()
    {
        let (Some(u), Some(t)) = (u, t) else { continue };
        let e = out
            .entry((u.to_owned(), t.to_owned()))
            .or_insert_with(|| WatchAgg {
                user: u.to_owned(),
                watched: t.to_owned(),
                max_fraction: 0.0,
                position_ms: 0,
                duration_ms: 0,
                last_at: 0,
                completions: 0,
                completed_at: None,
            });
        e.completions = n[k].unwrap_or(0) as u32;
        e.completed_at = at[k];
        e.last_at = e.last_at.max(at[k].unwrap_or(0));
    }
    let mut rows: Vec<WatchAgg> = out.into_values().collect();
    rows.sort_by(|a, b| (&a.user, &a.watched).cmp(&(&b.user, &b.watched)));
    Ok(rows)
}

/// Viewing seeded from watch aggregates (serving's start, without reading
/// every watch event a second time).
pub fn viewing(watch: &[WatchAgg]) -> Viewing {
    let mut v = Viewing::default();
    for w in watch {
        v.insert(
            &w.user,
            &w.watched,
            Watched::from_aggregate(
                w.position_ms,
                w.duration_ms,
                w.last_at,
                w.max_fraction,
                w.completed_at,
                w.last_at,
            ),
        );
    }
    v
}

/// Profiles, folded from the `user` family.
pub fn profiles(lake: &Path) -> Result<Profiles> {
    profiles_store(&Store::dir(lake))
}

/// [`profiles`] on any store.
pub fn profiles_store(store: &Store) -> Result<Profiles> {
    let mut p = Profiles::default();
    store
        .blocking(async { Ok(load::from_store(store, &mut p).await) })
        .map_err(|e| Error::Lake(e.to_string()))??;
    Ok(p)
}

/// The catalog, folded from the `catalog` family.
pub fn catalog(lake: &Path) -> Result<Catalog> {
    catalog_store(&Store::dir(lake))
}

fn catalog_store(store: &Store) -> Result<Catalog> {
    let mut c = CatalogFold::default();
    store
        .blocking(async { Ok(load::from_store(store, &mut c).await) })
        .map_err(|e| Error::Lake(e.to_string()))??;
    Ok(c.catalog())
}

/// Reads everything the recommender needs.
pub fn snapshot(lake: &Path) -> Result<Snapshot> {
    snapshot_store(&Store::dir(lake))
}

/// [`snapshot`] on any store.
pub fn snapshot_store(store: &Store) -> Result<Snapshot> {
    let watch = watch_store(store)?;
    let window = watch
        .iter()
        .map(|w| w.last_at)
        .fold(None, |acc: Option<(i64, i64)>, t| {
            Some(acc.map_or((t, t), |(a, b)| (a.min(t), b.max(t))))
        })
        .unwrap_or((0, 0));
    Ok(Snapshot {
        catalog: catalog_store(store)?,
        watch,
        profiles: profiles_store(store)?.all(),
        window,
    })
}
