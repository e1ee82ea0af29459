//! The metric registry: one SQL file per metric (`sql/metrics/<name>.sql`,
//! each with a header stating what it measures and its exact formula),
//! rendered over the `views` projection for a bucket, a window and
//! breakdowns. Names are a contract: APIs, dashboards and alerts key on them.

use arrow_array::RecordBatch;
use chrono::NaiveDate;
use serde::Serialize;

use crate::Lake;
use crate::error::{Error, Result};

/// A metric.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Name (the contract).
    pub name: &'static str,
    /// One-line definition.
    pub summary: &'static str,
    /// SQL body over `v` (views with `bucket` added), `{{dims}}` standing for
    /// the breakdown columns.
    pub sql: &'static str,
}

macro_rules! metric {
    ($name:literal, $summary:literal) => {
        Metric {
            name: $name,
            summary: $summary,
            sql: include_str!(concat!("../../sql/metrics/", $name, ".sql")),
        }
    };
}

/// Every metric, in documentation order.
pub const METRICS: &[Metric] = &[
    metric!(
        "video_startup_time",
        "first frame − play request over started views: nearest-rank p50/p90/p95 (ms)"
    ),
    metric!(
        "exits_before_video_start",
        "views left before the first frame without a fatal error ÷ views"
    ),
    metric!(
        "video_start_failures",
        "views with a fatal error before the first frame ÷ views"
    ),
    metric!("playback_failures", "views with any fatal error ÷ views"),
    metric!(
        "rebuffering_ratio",
        "Σ stall ÷ Σ (play + stall), startup and seek stalls excluded"
    ),
    metric!(
        "rebuffer_frequency",
        "non-seek stalls per minute of playback"
    ),
    metric!(
        "average_bitrate",
        "time-weighted bitrate over [first frame, end] (kbps)"
    ),
    metric!("watch_hours", "Σ playing time in hours"),
    metric!(
        "active_users",
        "distinct users with a view (day: DAU, week: WAU, month: MAU)"
    ),
    metric!(
        "title_engagement",
        "per title: starts, completions, completion rate, watch hours"
    ),
];

/// Looks a metric up by name.
pub fn find(name: &str) -> Result<&'static Metric> {
    METRICS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| Error::UnknownMetric(name.to_owned()))
}

/// Time bucket of a metric row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    /// Hours, `2026-03-01T14:00:00Z`.
    Hour,
    /// Days, `2026-03-01`.
    Day,
    /// ISO weeks (Monday), `2026-03-02`.
    Week,
    /// Months, `2026-03-01`.
    Month,
}

impl std::str::FromStr for Bucket {
    type Err = Error;
    fn from_str(s: &str) -> Result<Bucket> {
        match s {
            "hour" => Ok(Bucket::Hour),
            "day" => Ok(Bucket::Day),
            "week" => Ok(Bucket::Week),
            "month" => Ok(Bucket::Month),
            other => Err(Error::UnknownBucket(other.to_owned())),
        }
    }
}

impl Bucket {
    fn expr(self, ms: &str) -> String {
        let ts = format!("to_timestamp_millis({ms})");
        match self {
            Bucket::Hour => format!("to_char(date_trunc('hour', {ts}), '%Y-%m-%dT%H:00:00Z')"),
            Bucket::Day => format!("to_char(date_trunc('day', {ts}), '%Y-%m-%d')"),
            Bucket::Week => format!("to_char(date_trunc('week', {ts}), '%Y-%m-%d')"),
            Bucket::Month => format!("to_char(date_trunc('month', {ts}), '%Y-%m-%d')"),
        }
    }
}

/// Breakdown dimensions of the QoE and engagement metrics: (name, column).
pub const DIMENSIONS: &[(&str, &str)] = &[
    ("device", "device_type"),
    ("os", "os"),
    ("player", "player_name"),
    ("player_version", "player_version"),
    ("app_version", "app_version"),
    ("cdn", "cdn"),
    ("country", "country"),
    ("isp", "isp"),
    ("network", "network_type"),
    ("title", "title_id"),
];

/// The column of a dimension, by its name or its column name.
pub fn dimension(name: &str) -> Result<&'static str> {
    DIMENSIONS
        .iter()
        .find(|(n, c)| *n == name || *c == name)
        .map(|(_, c)| *c)
        .ok_or_else(|| {
            let all: Vec<&str> = DIMENSIONS.iter().map(|(n, _)| *n).collect();
            Error::UnknownDimension(name.to_owned(), all.join(", "))
        })
}

/// Parses `YYYY-MM-DD`.
pub fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| Error::BadDate(s.to_owned()))
}

/// What a metric is computed for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Params {
    /// First day (inclusive).
    pub from: Option<NaiveDate>,
    /// Last day (exclusive).
    pub to: Option<NaiveDate>,
    /// Time bucket.
    pub bucket: Bucket,
    /// Breakdown columns, in order.
    pub by: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            bucket: Bucket::Day,
            by: Vec::new(),
        }
    }
}

fn epoch_ms(d: NaiveDate) -> i64 {
    d.and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_millis()
}

/// The SQL of a metric for these parameters.
pub fn render(m: &Metric, p: &Params) -> Result<String> {
    let mut dims = String::new();
    for d in &p.by {
        let col = dimension(d)?;
        if m.name == "title_engagement" && col == "title_id" {
            continue; // already first
        }
        dims.push_str(", ");
        dims.push_str(col);
    }
    let from = p.from.map_or(i64::MIN, epoch_ms);
    let to = p.to.map_or(i64::MAX, epoch_ms);
    Ok(format!(
        "WITH v AS (SELECT {} AS bucket, * FROM views WHERE start_ms >= {from} AND start_ms < {to})\n{}",
        p.bucket.expr("start_ms"),
        m.sql.replace("{{dims}}", &dims)
    ))
}

/// Computes a metric: column names and rows.
pub async fn compute(
    lake: &Lake,
    m: &Metric,
    p: &Params,
) -> Result<(Vec<String>, Vec<RecordBatch>)> {
    crate::query::collect(lake.ctx().sql(&render(m, p)?).await?).await
}
