//! The metric registry: one SQL file per metric (`sql/metrics/<name>.sql`,
//! each with a header stating what it measures and its exact formula),
//! rendered over the `views` projection for a bucket, a window and
//! breakdowns. Names are a contract: APIs, dashboards and alerts key on them.

use arrow_array::RecordBatch;
use chrono::NaiveDate;
use serde::Serialize;

use crate::Lake;
use crate::error::{Error, Result};

/// Where a metric's rows come from, which decides how its SQL is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The `views` projection: `v` is the views whose start lies in the
    /// window, with their `bucket`; bucketed by view start.
    Views,
    /// The `views` projection, unfiltered (`{{views}}`); the SQL buckets and
    /// windows its own instants `t` with `{{bucket}}`, `{{from_ms}}`, `{{to_ms}}`.
    ViewMinutes,
    /// Billing events; the SQL buckets and windows their instants `t`.
    Billing,
    /// Month ends of the subscription replay: always monthly, windowed by
    /// month index (`{{from_mi}}`, `{{to_mi}}`: months overlapping the window).
    Monthly,
}

/// A metric.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Name (the contract).
    pub name: &'static str,
    /// One-line definition.
    pub summary: &'static str,
    /// How the SQL is rendered.
    pub source: Source,
    /// Breakdown dimensions it accepts (names of [`DIMENSIONS`]).
    pub dims: &'static [&'static str],
    /// SQL template (`sql/metrics/<name>.sql`): `{{dims}}` stands for the
    /// breakdown columns, each preceded by a comma.
    pub sql: &'static str,
    /// The same definition for ClickHouse (`sql/metrics/<name>.clickhouse.sql`,
    /// rendered by [`crate::clickhouse::render`]).
    pub clickhouse_sql: &'static str,
}

impl Metric {
    /// Breaks down by money currency (always, before other breakdowns).
    pub fn by_currency(&self) -> bool {
        matches!(
            self.name,
            "mrr"
                | "mrr_movements"
                | "mrr_churn"
                | "arpu"
                | "ltv"
                | "transactional_revenue"
                | "ad_revenue"
        )
    }

    /// The parameters it is computed with: monthly-only metrics always use
    /// month buckets.
    pub fn effective(&self, p: &Params) -> Params {
        let mut p = p.clone();
        if self.source == Source::Monthly {
            p.bucket = Bucket::Month;
        }
        p
    }

    /// Accepts every breakdown of `by`?
    pub fn accepts(&self, by: &[String]) -> Result<()> {
        for d in by {
            let (name, _) = dimension(d)?;
            if !self.dims.contains(&name) {
                return Err(Error::UnsupportedDimension(
                    self.name.to_owned(),
                    name.to_owned(),
                    if self.dims.is_empty() {
                        "none".to_owned()
                    } else {
                        self.dims.join(", ")
                    },
                ));
            }
        }
        Ok(())
    }
}

/// Every breakdown of the view-based metrics.
const VIEW_DIMS: &[&str] = &[
    "device",
    "os",
    "player",
    "player_version",
    "app_version",
    "cdn",
    "country",
    "isp",
    "network",
    "title",
    "plan",
];

macro_rules! metric {
    ($name:literal, $source:ident, $dims:expr, $summary:literal) => {
        Metric {
            name: $name,
            summary: $summary,
            source: Source::$source,
            dims: $dims,
            sql: include_str!(concat!("../../sql/metrics/", $name, ".sql")),
            clickhouse_sql: include_str!(concat!("../../sql/metrics/", $name, ".clickhouse.sql")),
        }
    };
}

/// Every metric, in documentation order.
pub const METRICS: &[Metric] = &[
    metric!(
        "video_startup_time",
        Views,
        VIEW_DIMS,
        "first frame − play request over started views: nearest-rank p50/p90/p95 (ms)"
    ),
    metric!(
        "exits_before_video_start",
        Views,
        VIEW_DIMS,
        "views left before the first frame without a fatal error ÷ views"
    ),
    metric!(
        "video_start_failures",
        Views,
        VIEW_DIMS,
        "views with a fatal error before the first frame ÷ views"
    ),
    metric!(
        "playback_failures",
        Views,
        VIEW_DIMS,
        "views with any fatal error ÷ views"
    ),
    metric!(
        "rebuffering_ratio",
        Views,
        VIEW_DIMS,
        "Σ stall ÷ Σ (play + stall), startup and seek stalls excluded"
    ),
    metric!(
        "rebuffer_frequency",
        Views,
        VIEW_DIMS,
        "non-seek stalls per minute of playback"
    ),
    metric!(
        "average_bitrate",
        Views,
        VIEW_DIMS,
        "time-weighted bitrate over [first frame, end] (kbps)"
    ),
    metric!(
        "concurrent_viewers",
        ViewMinutes,
        VIEW_DIMS,
        "views playing at each whole minute: peak and average per bucket"
    ),
    metric!("watch_hours", Views, VIEW_DIMS, "Σ playing time in hours"),
    metric!(
        "active_users",
        Views,
        VIEW_DIMS,
        "distinct users with a view (day: DAU, week: WAU, month: MAU)"
    ),
    metric!(
        "title_engagement",
        Views,
        VIEW_DIMS,
        "per title: starts, completions, completion rate, watch hours"
    ),
    metric!(
        "mrr",
        Monthly,
        &["plan"],
        "monthly recurring revenue at each month end, per currency"
    ),
    metric!(
        "mrr_movements",
        Monthly,
        &[],
        "MRR change per month: new, expansion, contraction, churn, reactivation, net new"
    ),
    metric!(
        "customer_churn",
        Monthly,
        &[],
        "users paying at the start of a month who pay nothing at its end ÷ users paying at its start"
    ),
    metric!(
        "mrr_churn",
        Monthly,
        &[],
        "gross (churn + contraction) and net (− expansion − reactivation) ÷ MRR at the month start"
    ),
    metric!(
        "arpu",
        Monthly,
        &["plan"],
        "MRR ÷ paying users at each month end"
    ),
    metric!(
        "ltv",
        Monthly,
        &[],
        "ARPU ÷ mean customer churn rate of the last three months"
    ),
    metric!(
        "cohort_retention",
        Monthly,
        &[],
        "per signup (first paid) month and offset: users still paying ÷ cohort size"
    ),
    metric!(
        "transactional_revenue",
        Billing,
        &["title"],
        "TVOD: Σ rentals, their count, and Σ refunds (apart)"
    ),
    metric!(
        "ad_revenue",
        Billing,
        &["title"],
        "AVOD: Σ ad impression revenue (micros) and impressions"
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

    pub(crate) fn unit(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }

    /// Epoch ms of the start of the bucket holding `ms`.
    fn start_ms(self, ms: &str) -> String {
        format!(
            "CAST(date_trunc('{}', to_timestamp_millis({ms})) AS BIGINT)",
            self.unit()
        )
    }

    /// Epoch ms of the end (exclusive) of the bucket holding `ms`.
    fn end_ms(self, ms: &str) -> String {
        let u = self.unit();
        format!("CAST(date_trunc('{u}', to_timestamp_millis({ms})) + INTERVAL '1 {u}' AS BIGINT)")
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
    ("plan", "plan"),
];

/// A dimension, by its name or its column name: (name, column).
pub fn dimension(name: &str) -> Result<(&'static str, &'static str)> {
    DIMENSIONS
        .iter()
        .find(|(n, c)| *n == name || *c == name)
        .copied()
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

/// Month index (year · 12 + month − 1) of a day.
fn month_index(d: NaiveDate) -> i64 {
    use chrono::Datelike;
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

/// The breakdown columns of a metric's SQL, each preceded by a comma.
pub(crate) fn dim_columns(m: &Metric, p: &Params) -> Result<String> {
    let mut dims = String::new();
    for d in &p.by {
        let (_, col) = dimension(d)?;
        if m.name == "title_engagement" && col == "title_id" {
            continue; // already first
        }
        dims.push_str(", ");
        dims.push_str(col);
    }
    Ok(dims)
}

/// Breaks down by the viewer's plan (a join with the subscription replay)?
pub(crate) fn by_plan(p: &Params) -> bool {
    p.by.iter()
        .any(|d| dimension(d).is_ok_and(|(n, _)| n == "plan"))
}

/// The window of a computation: `[from, to)` in epoch ms, and the month
/// indexes `[from_mi, to_mi)` of the months overlapping it; unbounded sides
/// are `i64::MIN` / `i64::MAX`.
pub(crate) struct Window {
    pub(crate) from: i64,
    pub(crate) to: i64,
    pub(crate) from_mi: i64,
    pub(crate) to_mi: i64,
}

impl Window {
    pub(crate) fn of(p: &Params) -> Window {
        Window {
            from: p.from.map_or(i64::MIN, epoch_ms),
            to: p.to.map_or(i64::MAX, epoch_ms),
            from_mi: p.from.map_or(i64::MIN, month_index),
            to_mi: p
                .to
                .and_then(|d| d.pred_opt())
                .map_or(i64::MAX, |d| month_index(d) + 1),
        }
    }
}

/// The SQL of a metric for these parameters.
pub fn render(m: &Metric, p: &Params) -> Result<String> {
    m.accepts(&p.by)?;
    let p = m.effective(p);
    let dims = dim_columns(m, &p)?;
    let Window {
        from,
        to,
        from_mi,
        to_mi,
    } = Window::of(&p);
    // the plan of a view: the viewer's subscription state at its start
    let base = if by_plan(&p) {
        "SELECT views.*, c.plan FROM views LEFT JOIN subscription_changes c \
         ON c.user_id = views.user_id AND c.t <= views.start_ms \
         AND (c.next_t IS NULL OR c.next_t > views.start_ms)"
    } else {
        "SELECT * FROM views"
    };
    let body = m
        .sql
        .replace("{{views}}", base)
        .replace("{{dims}}", &dims)
        .replace("{{bucket}}", &p.bucket.expr("t"))
        .replace("{{bucket_start}}", &p.bucket.start_ms("t"))
        .replace("{{bucket_end}}", &p.bucket.end_ms("t"))
        .replace("{{from_ms}}", &from.to_string())
        .replace("{{to_ms}}", &to.to_string())
        .replace("{{from_mi}}", &from_mi.to_string())
        .replace("{{to_mi}}", &to_mi.to_string());
    Ok(match m.source {
        Source::Views => format!(
            "WITH v AS (SELECT {} AS bucket, * FROM ({base}) b WHERE start_ms >= {from} AND start_ms < {to})\n{body}",
            p.bucket.expr("start_ms"),
        ),
        Source::ViewMinutes | Source::Billing | Source::Monthly => body,
    })
}

/// Computes a metric: column names and rows.
pub async fn compute(
    lake: &Lake,
    m: &Metric,
    p: &Params,
) -> Result<(Vec<String>, Vec<RecordBatch>)> {
    crate::query::collect(lake.ctx().sql(&render(m, p)?).await?).await
}
