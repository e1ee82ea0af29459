//! Where everything lives under a lake root. Nothing else in the workspace
//! spells a lake path: the event partitions, the names of the files ingest
//! commits, and the directories of derived data (metric tables, models,
//! scores) are all built here.
//!
//! ```text
//! <lake>/events/<family>/date=YYYY-MM-DD/part-<first>-<last>-<writer><n>.parquet
//! <lake>/metrics/<metric>/month=YYYY-MM/data.parquet, <lake>/metrics/_state.json
//! <lake>/models/<version>/…, <lake>/models/CURRENT
//! <lake>/scores/churn/model.json, <lake>/scores/churn/scores.parquet
//! ```

use std::path::{Path, PathBuf};

use showrunner_events::Family;

/// Directory of the event partitions, under the root.
pub const EVENTS: &str = "events";
/// Directory of the materialized metric tables, under the root.
pub const METRICS: &str = "metrics";
/// Directory of the recommender's model versions, under the root.
pub const MODELS: &str = "models";
/// Directory of derived per-user scores (e.g. churn risk), under the root.
pub const SCORES: &str = "scores";
/// The Hive partition column of event files: the UTC day of `occurred_at`.
pub const PARTITION_COLUMN: &str = "date";
/// The Hive partition column of metric tables: the month of the bucket.
pub const METRIC_PARTITION_COLUMN: &str = "month";
/// Extension of committed data files.
pub const DATA_EXTENSION: &str = ".parquet";
/// The name of materialization's state file under `metrics/`.
pub const MATERIALIZE_STATE: &str = "_state.json";

/// A lake root and the paths below it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The lake at `root` (nothing is created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<lake>/events`.
    pub fn events(&self) -> PathBuf {
        self.root.join(EVENTS)
    }

    /// `<lake>/events/<family>`: the Hive-partitioned table of a family.
    pub fn family(&self, family: Family) -> PathBuf {
        self.events().join(family.as_str())
    }

    /// `<lake>/events/<family>/date=<date>`.
    pub fn partition(&self, family: Family, date: &str) -> PathBuf {
        self.family(family).join(partition_name(date))
    }

    /// `<lake>/metrics`.
    pub fn metrics(&self) -> PathBuf {
        self.root.join(METRICS)
    }

    /// `<lake>/metrics/<name>`: one metric's table.
    pub fn metric(&self, name: &str) -> PathBuf {
        self.metrics().join(name)
    }

    /// `<lake>/metrics/<name>/month=<YYYY-MM>`.
    pub fn metric_month(&self, name: &str, month: &str) -> PathBuf {
        self.metric(name)
            .join(format!("{METRIC_PARTITION_COLUMN}={month}"))
    }

    /// `<lake>/metrics/_state.json`'s directory and name.
    pub fn materialize_state(&self) -> (PathBuf, &'static str) {
        (self.metrics(), MATERIALIZE_STATE)
    }

    /// `<lake>/models`.
    pub fn models(&self) -> PathBuf {
        self.root.join(MODELS)
    }

    /// `<lake>/scores`.
    pub fn scores(&self) -> PathBuf {
        self.root.join(SCORES)
    }
}

/// Keys: the same places as [`Layout`]'s paths, relative to the root and
/// `/`-separated, for a [`crate::Store`] (directory or object store).
pub mod keys {
    use showrunner_events::Family;

    use super::{EVENTS, partition_name};

    /// `events/<family>`.
    pub fn family(family: Family) -> String {
        format!("{EVENTS}/{family}")
    }

    /// `events/<family>/date=<date>`.
    pub fn partition(family: Family, date: &str) -> String {
        format!("{EVENTS}/{family}/{}", partition_name(date))
    }

    /// `events/<family>/date=<date>/<name>`.
    pub fn file(family: Family, date: &str, name: &str) -> String {
        format!("{}/{name}", partition(family, date))
    }

    /// `metrics/<name>/month=<YYYY-MM>/data.parquet`: a month of a metric's
    /// table.
    pub fn metric_month(name: &str, month: &str) -> String {
        format!(
            "{}/{name}/{}={month}/data.parquet",
            super::METRICS,
            super::METRIC_PARTITION_COLUMN
        )
    }

    /// `scores/churn`: the churn-risk model's directory (its one Parquet
    /// file is the scores table).
    pub fn churn() -> String {
        format!("{}/churn", super::SCORES)
    }

    /// `scores/churn/model.json`: the served churn-risk model and its
    /// evaluation.
    pub fn churn_model() -> String {
        format!("{}/model.json", churn())
    }

    /// `scores/churn/scores.parquet`: every subscriber's latest churn risk.
    pub fn churn_scores() -> String {
        format!("{}/scores.parquet", churn())
    }

    /// `metrics/_state.json`: what materialization has folded in.
    pub fn materialize_state() -> String {
        format!("{}/{}", super::METRICS, super::MATERIALIZE_STATE)
    }

    /// The family, date and name of an event file's key; `None` for any
    /// other key.
    pub fn parse(key: &str) -> Option<(Family, &str, &str)> {
        let rest = key.strip_prefix(EVENTS)?.strip_prefix('/')?;
        let mut it = rest.splitn(3, '/');
        let family: Family = it.next()?.parse().ok()?;
        let date = super::partition_date(it.next()?)?;
        let name = it.next().filter(|n| !n.contains('/'))?;
        Some((family, date, name))
    }
}

/// A partition directory's name: `date=YYYY-MM-DD`.
pub fn partition_name(date: &str) -> String {
    format!("{PARTITION_COLUMN}={date}")
}

/// The date of a partition directory's name (`date=2026-03-01` →
/// `2026-03-01`); `None` for any other name.
pub fn partition_date(name: &str) -> Option<&str> {
    name.strip_prefix(PARTITION_COLUMN)?.strip_prefix('=')
}

/// Name of a file committed by a stream writer:
/// `part-<first>-<last>-<writer><n:04>.parquet`, where first and last bound
/// the stream sequences of its rows.
pub fn part_name(first: u64, last: u64, writer: &str, n: u64) -> String {
    format!("part-{first}-{last}-{writer}{n:04}{DATA_EXTENSION}")
}

/// The writer name of the files compaction writes ([`part_name`] with it).
pub const COMPACTED_WRITER: &str = "compacted";

/// Whether a committed file name is one compaction wrote.
pub fn is_compacted(name: &str) -> bool {
    part_span(name).is_some() && name.contains(&format!("-{COMPACTED_WRITER}"))
}

/// The sequence span of a [`part_name`]; `None` for other names (temp
/// files included).
pub fn part_span(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("part-")?.strip_suffix(DATA_EXTENSION)?;
    let mut it = rest.splitn(3, '-');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_names() {
        let l = Layout::new("/l");
        assert_eq!(
            l.partition(Family::Watch, "2026-03-01"),
            Path::new("/l/events/watch/date=2026-03-01")
        );
        assert_eq!(
            l.metric_month("active_users", "2026-03"),
            Path::new("/l/metrics/active_users/month=2026-03")
        );
        assert_eq!(l.models(), Path::new("/l/models"));
        assert_eq!(partition_date("date=2026-03-01"), Some("2026-03-01"));
        assert_eq!(partition_date("month=2026-03"), None);
        assert_eq!(part_span(&part_name(7, 42, "abc", 3)), Some((7, 42)));
        assert_eq!(part_span(".tmp-part-1-2-x.parquet.tmp"), None);
        assert!(is_compacted(&part_name(1, 9, COMPACTED_WRITER, 1)));
        assert!(!is_compacted(&part_name(1, 9, "0a1b2c", 1)));
        let k = keys::file(Family::Watch, "2026-03-01", "part-1-2-a0001.parquet");
        assert_eq!(k, "events/watch/date=2026-03-01/part-1-2-a0001.parquet");
        assert_eq!(
            keys::parse(&k),
            Some((Family::Watch, "2026-03-01", "part-1-2-a0001.parquet"))
        );
        assert_eq!(keys::parse("events/watch/x/part.parquet"), None);
        assert_eq!(keys::parse("metrics/a/month=2026-03/data.parquet"), None);
    }
}
