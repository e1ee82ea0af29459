//! The metric registry: one SQL file per metric (`sql/metrics/<name>.sql`,
//! each with a header stating what it measures and its exact formula),
//! rendered over the `views` projection for a bucket, a window and
//! breakdowns. Names are a contract: APIs, dashboards and alerts key on them.

use arrow_array::RecordBatch;
use chrono::NaiveDate;
use serde::Serialize;

use crate::Lake;
use crate::error::{Error, Result};

mod impact;
pub use impact::{Impact, impacts};

/// Where a metric's rows come from, which decides how its SQL is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The `views` projection: `v` is the views whose start lies in the
    /// window, with their `bucket`; bucketed by view start.
    Views,
    /// The `views` projection, unfiltered (`{{views}}`); the SQL buckets and
    /// windows its own instants `t` with `{{bucket}}`, `{{from_ms}}`, `{{to_ms}}`.
    ViewMinutes,
    /// The views projection, unfiltered (`{{views}}`), always by day: the
    /// SQL makes its own days `t` (`{{bucket}}`) and looks back before
    /// `{{from_ms}}` (rolling windows).
    RollingDays,
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
                | "cohort_mrr_retention"
                | "transactional_revenue"
                | "ad_revenue"
        )
    }

    /// The parameters it is computed with: monthly-only metrics always use
    /// month buckets.
    pub fn effective(&self, p: &Params) -> Params {
        let mut p = p.clone();
        match self.source {
            Source::Monthly => p.bucket = Bucket::Month,
            Source::RollingDays => p.bucket = Bucket::Day,
            _ => {}
        }
        p
    }

    /// Computed over the views projection (and so filtered by its dimensions)?
    pub fn over_views(&self) -> bool {
        matches!(
            self.source,
            Source::Views | Source::ViewMinutes | Source::RollingDays
        )
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

    /// Accepts every filter of `filters`? Only the metrics over views take
    /// filters, on the dimensions they break down by.
    pub fn accepts_filters(&self, filters: &[Filter]) -> Result<()> {
        for f in filters {
            let (name, _) = dimension(&f.dimension)?;
            let over_views = self.over_views();
            if !over_views || !self.dims.contains(&name) {
                return Err(Error::UnsupportedFilter(
                    self.name.to_owned(),
                    name.to_owned(),
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
    "startup",
    "rebuffering",
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
        "rolling_active_users",
        RollingDays,
        VIEW_DIMS,
        "per day: distinct users with a view that day, in the last 7 days and in the last 28 days"
    ),
    metric!(
        "play_time",
        Views,
        VIEW_DIMS,
        "views, started views, Σ and average playing time per started view (by startup or rebuffering band: QoE against engagement)"
    ),
    metric!(
        "sessions",
        ViewMinutes,
        VIEW_DIMS,
        "viewing sessions (a 30-minute gap opens a new one) by their start: sessions, users, views, playing time"
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
        "cohort_mrr_retention",
        Monthly,
        &[],
        "per first-paid month, currency and offset: the cohort's MRR then ÷ its MRR in its first month"
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
    ("startup", "startup_band"),
    ("rebuffering", "rebuffering_band"),
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

/// The period a metric is compared with (`compare=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    /// The period of the same length just before: as many whole months
    /// when the window is whole months (`from` and `to` first days of a
    /// month), else as many days.
    Previous,
    /// The same days a week earlier (the same weekdays).
    Week,
}

impl std::str::FromStr for Compare {
    type Err = Error;
    fn from_str(s: &str) -> Result<Compare> {
        match s {
            "previous" => Ok(Compare::Previous),
            "week" => Ok(Compare::Week),
            other => Err(Error::BadCompare(format!(
                "unknown comparison `{other}` (expected previous or week)"
            ))),
        }
    }
}

impl Compare {
    /// The parameters of the comparison period of `p` for `m`: `p` with
    /// its window moved back. The window must be bounded on both sides; a
    /// monthly metric compares only with whole previous months.
    pub fn params(self, m: &Metric, p: &Params) -> Result<Params> {
        use chrono::{Datelike, Days, Months};
        let (Some(from), Some(to)) = (p.from, p.to) else {
            return Err(Error::BadCompare(
                "a comparison needs both `from` and `to`".to_owned(),
            ));
        };
        if to <= from {
            return Err(Error::BadCompare("`to` must be after `from`".to_owned()));
        }
        let whole_months = from.day() == 1 && to.day() == 1;
        let (cfrom, cto) = match self {
            Compare::Week if m.source == Source::Monthly => {
                return Err(Error::BadCompare(format!(
                    "`{}` is monthly: compare it with `previous` months",
                    m.name
                )));
            }
            Compare::Week => (
                from.checked_sub_days(Days::new(7)),
                to.checked_sub_days(Days::new(7)),
            ),
            Compare::Previous if whole_months => {
                let n = u32::try_from(month_index(to) - month_index(from)).unwrap_or(0);
                (from.checked_sub_months(Months::new(n)), Some(from))
            }
            Compare::Previous if m.source == Source::Monthly => {
                return Err(Error::BadCompare(format!(
                    "`{}` is monthly: give `from` and `to` as first days of months",
                    m.name
                )));
            }
            Compare::Previous => {
                let days = u64::try_from((to - from).num_days()).unwrap_or(0);
                (from.checked_sub_days(Days::new(days)), Some(from))
            }
        };
        let (Some(cfrom), Some(cto)) = (cfrom, cto) else {
            return Err(Error::BadCompare(
                "the comparison period starts before year 1".to_owned(),
            ));
        };
        Ok(Params {
            from: Some(cfrom),
            to: Some(cto),
            ..p.clone()
        })
    }
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
    /// Filters: only the views whose dimension holds one of these values
    /// (by dimension name; several filters all apply).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
}

/// One filter of a metric: the dimension (a name of [`DIMENSIONS`]) holds
/// one of `values`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filter {
    /// The dimension's name.
    pub dimension: String,
    /// The values kept.
    pub values: Vec<String>,
}

impl Filter {
    /// A filter of `dimension` (a name or column of [`DIMENSIONS`]) on
    /// comma-separated `values`. A value may hold any character but a
    /// quote, a backslash, a control character, a brace (templates' `{{…}}`)
    /// or `?` (the ClickHouse client's bind mark), so it is a literal in
    /// every engine's SQL as it is.
    pub fn parse(dimension: &str, values: &str) -> Result<Filter> {
        let (name, _) = self::dimension(dimension)?;
        let values: Vec<String> = values
            .split(',')
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect();
        if values.is_empty() {
            return Err(Error::BadFilter(
                name.to_owned(),
                "give at least one value".to_owned(),
            ));
        }
        if let Some(v) = values.iter().find(|v| {
            v.chars()
                .any(|c| matches!(c, '\'' | '\\' | '{' | '}' | '?') || c.is_control())
        }) {
            return Err(Error::BadFilter(
                name.to_owned(),
                format!("{v:?} holds a quote, a backslash, a brace, `?` or a control character"),
            ));
        }
        Ok(Filter {
            dimension: name.to_owned(),
            values,
        })
    }
}

impl Default for Params {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            bucket: Bucket::Day,
            by: Vec::new(),
            filters: Vec::new(),
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

/// Breaks down or filters by the viewer's plan (a join with the
/// subscription replay)?
pub(crate) fn by_plan(p: &Params) -> bool {
    p.by.iter()
        .chain(p.filters.iter().map(|f| &f.dimension))
        .any(|d| dimension(d).is_ok_and(|(n, _)| n == "plan"))
}

/// The filters as SQL conditions over the views' columns, each preceded
/// by ` AND ` (the same text in DataFusion and ClickHouse: `Filter::parse`
/// keeps quotes and backslashes out of values).
pub(crate) fn filter_conditions(p: &Params) -> Result<String> {
    let mut sql = String::new();
    for f in &p.filters {
        let (_, col) = dimension(&f.dimension)?;
        let values: Vec<String> = f.values.iter().map(|v| format!("'{v}'")).collect();
        sql.push_str(&format!(" AND {col} IN ({})", values.join(", ")));
    }
    Ok(sql)
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

/// The views `p` is about, as SQL over the `views` projection: every
/// column of it, with the viewer's `plan` when `p` breaks down or filters
/// by plan, and only the views its filters keep (its window is not
/// applied here).
pub(crate) fn views_base(p: &Params) -> Result<String> {
    // the plan of a view: the viewer's subscription state at its start
    let base = if by_plan(p) {
        "SELECT views.*, c.plan FROM views LEFT JOIN subscription_changes c \
         ON c.user_id = views.user_id AND c.t <= views.start_ms \
         AND (c.next_t IS NULL OR c.next_t > views.start_ms)"
    } else {
        "SELECT * FROM views"
    };
    let filters = filter_conditions(p)?;
    Ok(if filters.is_empty() {
        base.to_owned()
    } else {
        format!("SELECT * FROM ({base}) f WHERE TRUE{filters}")
    })
}

/// The SQL of a metric for these parameters.
pub fn render(m: &Metric, p: &Params) -> Result<String> {
    m.accepts(&p.by)?;
    m.accepts_filters(&p.filters)?;
    let p = m.effective(p);
    let dims = dim_columns(m, &p)?;
    let Window {
        from,
        to,
        from_mi,
        to_mi,
    } = Window::of(&p);
    let base = views_base(&p)?;
    let base = base.as_str();
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
        Source::ViewMinutes | Source::RollingDays | Source::Billing | Source::Monthly => body,
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

#[cfg(test)]
mod compare_tests {
    use super::*;

    fn window(from: &str, to: &str) -> Params {
        Params {
            from: Some(date(from).expect("date")),
            to: Some(date(to).expect("date")),
            ..Params::default()
        }
    }

    fn moved(name: &str, c: Compare, from: &str, to: &str) -> Result<(String, String)> {
        let p = c.params(find(name).expect("metric"), &window(from, to))?;
        let show = |d: Option<NaiveDate>| d.expect("bounded").to_string();
        Ok((show(p.from), show(p.to)))
    }

    #[test]
    fn previous_periods_are_days_or_whole_months() {
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        // 9 days back
        assert_eq!(
            moved("watch_hours", Compare::Previous, "2026-03-10", "2026-03-19").expect("ok"),
            pair("2026-03-01", "2026-03-10")
        );
        // March is compared with February (28 days), not the 31 days before
        assert_eq!(
            moved("watch_hours", Compare::Previous, "2026-03-01", "2026-04-01").expect("ok"),
            pair("2026-02-01", "2026-03-01")
        );
        // a quarter with the quarter before, across a year
        assert_eq!(
            moved("mrr", Compare::Previous, "2026-01-01", "2026-04-01").expect("ok"),
            pair("2025-10-01", "2026-01-01")
        );
        // a week earlier: the same weekdays
        assert_eq!(
            moved("active_users", Compare::Week, "2026-03-02", "2026-03-04").expect("ok"),
            pair("2026-02-23", "2026-02-25")
        );
        // monthly metrics: whole months only, never weeks
        assert!(matches!(
            moved("mrr", Compare::Previous, "2026-03-02", "2026-04-01"),
            Err(Error::BadCompare(_))
        ));
        assert!(matches!(
            moved("mrr", Compare::Week, "2026-03-01", "2026-04-01"),
            Err(Error::BadCompare(_))
        ));
        assert!(matches!(
            moved("watch_hours", Compare::Previous, "2026-03-02", "2026-03-02"),
            Err(Error::BadCompare(_))
        ));
    }

    #[test]
    fn filter_values_cannot_leave_their_literal() {
        assert_eq!(
            Filter::parse("device_type", "tv,mobile").expect("ok"),
            Filter {
                dimension: "device".into(),
                values: vec!["tv".into(), "mobile".into()]
            }
        );
        for bad in ["a'b", "a\\b", "a\nb", "", ",", "{{views}}", "a?b", "}"] {
            assert!(
                matches!(Filter::parse("cdn", bad), Err(Error::BadFilter(..))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Filter::parse("colour", "red"),
            Err(Error::UnknownDimension(..))
        ));
    }
}
