//! Drill-down: the views behind a metric's cell (the same window and
//! filters, over the same `views` projection, so a cell's view count is
//! the length of its list) and one view's timeline, its player events in
//! order.

use arrow_array::RecordBatch;
use chrono::NaiveDate;
use datafusion::scalar::ScalarValue;
use serde::Serialize;
use serde_json::{Map, Value};
use showrunner_events::Family;

use crate::Lake;
use crate::error::{Error, Result};
use crate::metrics::{self, Filter, Params, Window};

/// How a view ended, from the same flags the start and failure metrics
/// count (docs/metrics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A fatal error before the first frame (`video_start_failures`).
    StartFailure,
    /// Left before the first frame without a fatal error
    /// (`exits_before_video_start`).
    ExitBeforeStart,
    /// Started, then a fatal error (`playback_failures` less start failures).
    PlaybackFailure,
    /// Started and ended `completed`.
    Completed,
    /// Started, no fatal error, not completed.
    Played,
}

impl Outcome {
    /// Every outcome, in the order of the `CASE` below.
    pub const ALL: [Outcome; 5] = [
        Outcome::StartFailure,
        Outcome::ExitBeforeStart,
        Outcome::PlaybackFailure,
        Outcome::Completed,
        Outcome::Played,
    ];

    /// Its name (the API's and the `outcome` column's).
    pub fn name(self) -> &'static str {
        match self {
            Outcome::StartFailure => "start_failure",
            Outcome::ExitBeforeStart => "exit_before_start",
            Outcome::PlaybackFailure => "playback_failure",
            Outcome::Completed => "completed",
            Outcome::Played => "played",
        }
    }

    /// Outcomes by name, comma-separated.
    pub fn parse_list(s: &str) -> Result<Vec<Outcome>> {
        s.split(',')
            .filter(|v| !v.is_empty())
            .map(|v| {
                Outcome::ALL
                    .into_iter()
                    .find(|o| o.name() == v)
                    .ok_or_else(|| {
                        Error::BadParameter(
                            "outcome",
                            format!(
                                "unknown outcome `{v}` (expected start_failure, \
                                 exit_before_start, playback_failure, completed or played)"
                            ),
                        )
                    })
            })
            .collect()
    }
}

/// The `outcome` column over the views projection.
const OUTCOME_SQL: &str = "CASE WHEN fatal_before_ff THEN 'start_failure' \
     WHEN ff_ms IS NULL AND NOT fatal_any THEN 'exit_before_start' \
     WHEN fatal_any THEN 'playback_failure' \
     WHEN completed THEN 'completed' ELSE 'played' END";

/// The order of a view list (always the largest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Latest start first.
    #[default]
    Start,
    /// Longest startup first (views without a first frame last).
    Startup,
    /// Most stalled time first.
    Stall,
    /// Most played time first.
    Playing,
}

impl std::str::FromStr for Sort {
    type Err = Error;
    fn from_str(s: &str) -> Result<Sort> {
        match s {
            "start" => Ok(Sort::Start),
            "startup" => Ok(Sort::Startup),
            "stall" => Ok(Sort::Stall),
            "playing" => Ok(Sort::Playing),
            other => Err(Error::BadParameter(
                "sort",
                format!("unknown sort `{other}` (expected start, startup, stall or playing)"),
            )),
        }
    }
}

impl Sort {
    fn column(self) -> &'static str {
        match self {
            Sort::Start => "start_ms",
            Sort::Startup => "startup_ms",
            Sort::Stall => "stall_ms",
            Sort::Playing => "playing_ms",
        }
    }
}

/// Which views to list.
#[derive(Debug, Clone, Default)]
pub struct ViewQuery {
    /// First day (inclusive) of the views' start.
    pub from: Option<NaiveDate>,
    /// Last day (exclusive).
    pub to: Option<NaiveDate>,
    /// The metrics' filters.
    pub filters: Vec<Filter>,
    /// Only these outcomes (all when empty).
    pub outcomes: Vec<Outcome>,
    /// Order.
    pub sort: Sort,
    /// At most this many.
    pub limit: usize,
    /// Skipping this many first.
    pub offset: usize,
}

/// The columns of a view list, in order.
pub const COLUMNS: &[&str] = &[
    "view_id",
    "start",
    "user_id",
    "title_id",
    "outcome",
    "startup_ms",
    "playing_ms",
    "stall_ms",
    "stalls",
    "seek_stall_ms",
    "paused_ms",
    "average_bitrate_kbps",
    "device",
    "os",
    "player",
    "player_version",
    "app_version",
    "cdn",
    "country",
    "isp",
    "network",
];

/// The views `q` selects, unordered, as SQL: the list's columns.
fn selection(q: &ViewQuery) -> Result<String> {
    let p = Params {
        from: q.from,
        to: q.to,
        filters: q.filters.clone(),
        ..Params::default()
    };
    let w = Window::of(&p);
    let base = metrics::views_base(&p)?;
    let outcomes = if q.outcomes.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = q
            .outcomes
            .iter()
            .map(|o| format!("'{}'", o.name()))
            .collect();
        format!(" AND outcome IN ({})", names.join(", "))
    };
    Ok(format!(
        "SELECT view_id, \
           to_char(to_timestamp_millis(start_ms), '%Y-%m-%dT%H:%M:%S%.3fZ') AS start, \
           user_id, title_id, outcome, startup_ms, playing_ms, stall_ms, stalls, \
           seek_stall_ms, paused_ms, \
           CASE WHEN bitrate_ms > 0 THEN CAST(bitrate_kbps_ms AS DOUBLE) / bitrate_ms END \
             AS average_bitrate_kbps, \
           device_type AS device, os, player_name AS player, player_version, app_version, \
           cdn, country, isp, network_type AS network, start_ms, {} AS sort_key \
         FROM (SELECT *, {OUTCOME_SQL} AS outcome FROM ({base}) b \
               WHERE start_ms >= {} AND start_ms < {}) v \
         WHERE TRUE{outcomes}",
        q.sort.column(),
        w.from,
        w.to,
    ))
}

/// The SQL of a view list: one more row than `limit`, to tell whether
/// more follow.
pub fn render(q: &ViewQuery) -> Result<String> {
    Ok(format!(
        "SELECT {} FROM ({}) s ORDER BY sort_key DESC NULLS LAST, view_id LIMIT {} OFFSET {}",
        COLUMNS.join(", "),
        selection(q)?,
        q.limit.saturating_add(1),
        q.offset,
    ))
}

/// The views `q` selects: columns, their rows' batches (at most
/// `q.limit + 1` rows: the last one only says more follow).
pub async fn list(lake: &Lake, q: &ViewQuery) -> Result<(Vec<String>, Vec<RecordBatch>)> {
    crate::query::collect(lake.ctx().sql(&render(q)?).await?).await
}

/// One view's timeline: its row of the views projection (as a JSON
/// object) and its player events in order, each with its offset from the
/// play request and its own fields (nulls left out).
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Timeline {
    /// The view's row of the list (`COLUMNS`).
    #[schema(value_type = Object)]
    pub view: Map<String, Value>,
    /// Its events, by time (ties by event id).
    pub events: Vec<TimelineEvent>,
}

/// One event of a timeline.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TimelineEvent {
    /// When it happened (RFC 3339, ms).
    pub at: String,
    /// Milliseconds since the view's play request (negative before it).
    pub offset_ms: i64,
    /// The event type.
    pub event_type: String,
    /// The payload fields the contract gives its type (nulls left out):
    /// a play request's are the view's context.
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

/// The timeline of view `id`; [`Error::UnknownView`] when the lake has no
/// play request for it.
pub async fn timeline(lake: &Lake, id: &str) -> Result<Timeline> {
    let param = || vec![ScalarValue::from(id)];
    // the list's columns, then the view's start (offsets count from it)
    let view_sql = format!(
        "SELECT {}, start_ms FROM ({}) s WHERE view_id = $1",
        COLUMNS.join(", "),
        selection(&ViewQuery::default())?
    );
    let df = lake
        .ctx()
        .sql(&view_sql)
        .await?
        .with_param_values(param())?;
    let (columns, batches) = crate::query::collect(df).await?;
    let Some(mut row) = crate::output::rows(&batches)?.into_iter().next() else {
        return Err(Error::UnknownView(id.to_owned()));
    };
    let start = row.pop().and_then(|v| v.as_i64()).unwrap_or_default();
    let view: Map<String, Value> = columns.into_iter().zip(row).collect();
    // the view's raw rows first, then the lake's copy of each: the dedup
    // window over this view's rows, not over the whole family
    let events =
        showrunner_lake::dedup::window_sql("(SELECT * FROM player_raw WHERE view_id = $1) r");
    let df = lake
        .ctx()
        .sql(&format!(
            "SELECT *, CAST(occurred_at AS BIGINT) AS t, \
             to_char(occurred_at, '%Y-%m-%dT%H:%M:%S%.3fZ') AS at_text \
             FROM ({events}) e ORDER BY occurred_at, event_id"
        ))
        .await?
        .with_param_values(param())?;
    let (columns, batches) = crate::query::collect(df).await?;
    let mut events = Vec::new();
    for row in crate::output::rows(&batches)? {
        let mut fields = Map::new();
        let (mut at, mut t, mut event_type) = (String::new(), 0, String::new());
        let mut values = Map::new();
        for (c, v) in columns.iter().zip(row) {
            match c.as_str() {
                "at_text" => at = v.as_str().unwrap_or_default().to_owned(),
                "t" => t = v.as_i64().unwrap_or_default(),
                "event_type" => event_type = v.as_str().unwrap_or_default().to_owned(),
                _ => {
                    values.insert(c.clone(), v);
                }
            }
        }
        // the payload fields the contract gives this type, where set
        for f in Family::fields_of(&event_type).unwrap_or_default() {
            if let Some(v) = values.remove(f.name()).filter(|v| !v.is_null()) {
                fields.insert(f.name().to_owned(), v);
            }
        }
        events.push(TimelineEvent {
            at,
            offset_ms: t - start,
            event_type,
            fields,
        });
    }
    Ok(Timeline { view, events })
}
