//! `metrics materialize`: every metric's default table (day buckets, month
//! buckets for the monthly metrics, no breakdown) written as Parquet under
//! `<lake>/metrics/<name>/month=YYYY-MM/data.parquet`, one file per month of
//! buckets, incrementally.
//!
//! The state (`<lake>/metrics/_state.json`) lists the event files already
//! folded in and a fingerprint of the SQL definitions. A run finds the new
//! player and billing files (new events or late ones: files are immutable
//! and only added) and recomputes only the months they can touch:
//! - view metrics: the months of each new player file's date, the day
//!   before (a view is bucketed by its start, its later events may sit in
//!   the next day's partition) and the day after (a view playing past
//!   midnight adds viewer-minutes to the next day) — views are assumed
//!   shorter than a day;
//! - `transactional_revenue`, `ad_revenue`: the months of new billing dates;
//! - the monthly metrics: every month from the earliest new billing date on
//!   (the replay carries a change forward); the cohort metrics entirely;
//! - everything, when the definitions changed or no state exists.
//!
//! A run with no new files changes nothing. Each file is replaced
//! atomically ([`Store::replace`]: temp, fsync, rename, fsync dir on a
//! directory, one PUT on an object store); the state is written last, so
//! an interrupted run is redone by the next. On a directory or S3 alike.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow_array::RecordBatch;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use showrunner_events::Family;
use showrunner_lake::Store;
use showrunner_lake::layout::{EVENTS, keys};

use crate::Lake;
use crate::error::{Error, Result};
use crate::lake::LakeOptions;
use crate::lake::PROJECTIONS;
use crate::metrics::{self, Bucket, METRICS, Metric, Params, Source};

/// What a run recomputed.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Report {
    /// Event files found that earlier runs had not folded in.
    pub new_files: usize,
    /// Whether every month of every metric was recomputed (first run, or
    /// changed definitions).
    pub full: bool,
    /// Per metric, the months (`YYYY-MM`) recomputed.
    pub recomputed: BTreeMap<String, Vec<String>>,
    /// Files written or removed.
    pub files_written: usize,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    definitions: String,
    files: BTreeSet<String>,
}

/// FNV-1a of every SQL definition: a changed definition recomputes all.
fn fingerprint() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let sqls = PROJECTIONS
        .iter()
        .map(|(_, s)| *s)
        .chain(METRICS.iter().map(|m| m.sql));
    for b in sqls.flat_map(str::bytes) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The lake's committed player and billing files, by key under `events/`
/// (`family/date=…/name`) and date.
async fn event_files(store: &Store) -> Result<BTreeMap<String, Option<NaiveDate>>> {
    let mut out = BTreeMap::new();
    for family in [Family::Player, Family::Billing] {
        for e in store.list_committed(&keys::family(family)).await? {
            let Some((_, date, _)) = keys::parse(&e.key) else {
                continue;
            };
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok();
            let rel = e.key.strip_prefix(EVENTS).unwrap_or(&e.key);
            out.insert(rel.trim_start_matches('/').to_owned(), date);
        }
    }
    Ok(out)
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// Bucketed by cohort month, with cells in the months after it: computed
/// whole, every month rewritten.
fn by_cohort(m: &Metric) -> bool {
    matches!(m.name, "cohort_retention" | "cohort_mrr_retention")
}

fn next_month(m: NaiveDate) -> NaiveDate {
    m.checked_add_months(chrono::Months::new(1)).unwrap_or(m)
}

fn label(m: NaiveDate) -> String {
    m.format("%Y-%m").to_string()
}

/// Months (first days) that `metric` must recompute for new files on
/// `player` and `billing` dates; `all` are every month of the lake.
fn months_for(
    m: &Metric,
    player: &BTreeSet<NaiveDate>,
    billing: &BTreeSet<NaiveDate>,
    all: &BTreeSet<NaiveDate>,
) -> BTreeSet<NaiveDate> {
    match m.source {
        Source::Views | Source::ViewMinutes => player
            .iter()
            .flat_map(|d| [*d - Duration::days(1), *d, *d + Duration::days(1)])
            .map(month_start)
            .collect(),
        // a day's views count in the rolling windows of the 28 days from it
        Source::RollingDays => player
            .iter()
            .flat_map(|d| (-1..=28).map(|k| month_start(*d + Duration::days(k))))
            .collect(),
        Source::Billing => billing.iter().copied().map(month_start).collect(),
        Source::Monthly => match billing.first() {
            None => BTreeSet::new(),
            Some(_) if by_cohort(m) => all.clone(),
            Some(first) => all
                .iter()
                .copied()
                .filter(|x| *x >= month_start(*first))
                .collect(),
        },
    }
}

/// Runs materialization over the directory lake at `root`.
pub async fn run(root: &Path) -> Result<Report> {
    run_store(&Store::dir(root)).await
}

/// Runs materialization over the lake in `store` (a directory or S3); the
/// tables go beside its events.
pub async fn run_store(store: &Store) -> Result<Report> {
    let state_key = keys::materialize_state();
    let state: State = store
        .get_opt(&state_key)
        .await?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let dated = event_files(store).await?;
    let files: BTreeSet<String> = dated.keys().cloned().collect();
    let defs = fingerprint();
    let full = state.definitions != defs;
    let new: Vec<&String> = files
        .iter()
        .filter(|f| full || !state.files.contains(*f))
        .collect();
    let mut report = Report {
        new_files: new.len(),
        full,
        ..Report::default()
    };
    if new.is_empty() {
        return Ok(report);
    }
    let date_of = |f: &str| dated.get(f).copied().flatten();
    let dates = |family: &str, only_new: bool| -> BTreeSet<NaiveDate> {
        let pick: Vec<&String> = if only_new {
            new.clone()
        } else {
            files.iter().collect()
        };
        pick.into_iter()
            .filter(|f| f.starts_with(family))
            .filter_map(|f| date_of(f))
            .collect()
    };
    let (new_player, new_billing) = (dates("player/", true), dates("billing/", true));
    let all_months: BTreeSet<NaiveDate> = dates("", false)
        .into_iter()
        .flat_map(|d| [month_start(d), month_start(d + Duration::days(1))])
        .collect();

    // the metrics with months to recompute; only their projections are built
    let work: Vec<(&Metric, BTreeSet<NaiveDate>)> = METRICS
        .iter()
        .map(|m| {
            let months = if full {
                all_months.clone()
            } else {
                months_for(m, &new_player, &new_billing, &all_months)
            };
            (m, months)
        })
        .filter(|(_, months)| !months.is_empty())
        .collect();
    let lake = Lake::open_store(store, LakeOptions::default()).await?;
    let needed: Vec<&Metric> = work.iter().map(|(m, _)| *m).collect();
    lake.prepare(&needed).await?;
    for (m, months) in work {
        let table = Table {
            store,
            name: m.name,
        };
        if by_cohort(m) {
            // its bucket is the cohort month, its cells run past it: compute
            // it whole and split the rows by cohort month
            let p = Params {
                bucket: Bucket::Month,
                ..Params::default()
            };
            let (_, batches) = metrics::compute(&lake, m, &p).await?;
            let mut by_month: BTreeMap<NaiveDate, Vec<RecordBatch>> = BTreeMap::new();
            for b in &batches {
                for (month, rows) in split_by_month(b)? {
                    by_month.entry(month).or_default().push(rows);
                }
            }
            for month in &all_months {
                report.files_written +=
                    write_month(&table, *month, by_month.get(month).map_or(&[][..], |v| v)).await?;
            }
        } else {
            for month in &months {
                let p = Params {
                    from: Some(*month),
                    to: Some(next_month(*month)),
                    bucket: if m.source == Source::Monthly {
                        Bucket::Month
                    } else {
                        Bucket::Day
                    },
                    by: Vec::new(),
                    filters: Vec::new(),
                };
                let (_, batches) = metrics::compute(&lake, m, &p).await?;
                report.files_written += write_month(&table, *month, &batches).await?;
            }
        }
        report.recomputed.insert(
            m.name.to_owned(),
            months.iter().copied().map(label).collect(),
        );
    }
    let state = State {
        definitions: defs,
        files,
    };
    let bytes = serde_json::to_vec(&state).map_err(|e| Error::Output(e.to_string()))?;
    store.replace(&state_key, bytes.into()).await?;
    Ok(report)
}

/// Rows of a batch grouped by the month of their `bucket` (first column).
fn split_by_month(b: &RecordBatch) -> Result<Vec<(NaiveDate, RecordBatch)>> {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    let col = b.column(0);
    let mut idx: BTreeMap<NaiveDate, Vec<u32>> = BTreeMap::new();
    for r in 0..b.num_rows() {
        let s = if col.is_null(r) {
            ""
        } else if let Some(a) = col.as_string_opt::<i32>() {
            a.value(r)
        } else if let Some(a) = col.as_string_view_opt() {
            a.value(r)
        } else {
            ""
        };
        let d = NaiveDate::parse_from_str(s.get(..10).unwrap_or(""), "%Y-%m-%d")
            .map_err(|_| Error::Output(format!("bucket `{s}` is not a date")))?;
        idx.entry(month_start(d)).or_default().push(r as u32);
    }
    idx.into_iter()
        .map(|(m, rows)| {
            let take = arrow_array::UInt32Array::from(rows);
            let cols = b
                .columns()
                .iter()
                .map(|c| datafusion::arrow::compute::take(c.as_ref(), &take, None))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::Output(e.to_string()))?;
            let batch =
                RecordBatch::try_new(b.schema(), cols).map_err(|e| Error::Output(e.to_string()))?;
            Ok((m, batch))
        })
        .collect()
}

/// One metric's table in the lake.
struct Table<'a> {
    store: &'a Store,
    name: &'a str,
}

/// Writes (or, without rows, removes) a month's file; 1 when the lake
/// changed.
async fn write_month(
    table: &Table<'_>,
    month: NaiveDate,
    batches: &[RecordBatch],
) -> Result<usize> {
    let key = keys::metric_month(table.name, &label(month));
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows == 0 {
        return Ok(usize::from(table.store.delete_if_exists(&key).await?));
    }
    let schema = batches[0].schema();
    let mut buf = Vec::new();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, Some(props))
        .map_err(|e| Error::Output(e.to_string()))?;
    for b in batches {
        w.write(b).map_err(|e| Error::Output(e.to_string()))?;
    }
    w.close().map_err(|e| Error::Output(e.to_string()))?;
    table.store.replace(&key, buf.into()).await?;
    Ok(1)
}
