//! The query API, as an axum router the server mounts (behind the analyst
//! key, which the dashboard checks):
//!
//! - `GET /v1/metrics` — every metric: name, definition, breakdowns;
//! - `GET /v1/metrics/{name}?from=&to=&bucket=&by=a,b&format=json|csv&engine=` —
//!   one metric, the same JSON object as `showrunner metrics --format json`;
//!   `engine=clickhouse` computes it on ClickHouse (when configured; 400
//!   otherwise), `engine=datafusion` (the default) over the lake;
//! - `POST /v1/sql` (`{"sql": "SELECT …", "format": "json|csv"}`) —
//!   read-only SQL with a memory limit and a time limit per query;
//! - `GET /v1/views?from=&to=&<filters>&outcome=&sort=&limit=&offset=` —
//!   the views behind a metric's cell; `GET /v1/views/{view}/timeline` —
//!   one view's player events in order ([`crate::drill`]).
//!
//! Errors answer `showrunner_web`'s one body, `{"error": {"code",
//! "message", "field"}}`; each error's code and status are in one match
//! (the `ApiError` impl below); query parameters are strict (an unknown
//! one is a 400 naming it).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use showrunner_events::Family;
use showrunner_lake::Store;
use showrunner_lake::listing::{self, Signature};
use showrunner_web::keys::Principal;
use showrunner_web::telemetry::Durations;
use showrunner_web::{ApiError, ErrorBody, Path, Query, QueryFields, Refusal, Telemetry};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::clickhouse::ClickHouseEngine;
use crate::error::{Error, Result};
use crate::lake::{Lake, LakeOptions};
use crate::metrics::{self, Params};
use crate::{drill, output, runtime};

/// Limits of the API's queries.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Memory one query may use, bytes.
    pub memory_bytes: usize,
    /// Time one query may take.
    pub timeout: Duration,
    /// Rows an SQL answer holds at most.
    pub max_rows: usize,
    /// Queries one key may have running at once.
    pub per_key: usize,
    /// How long the metrics may answer from projections the lake has moved
    /// past while fresh ones are computed in the background (zero: every
    /// request waits for projections of the lake's current files).
    pub max_staleness: Duration,
}

impl Default for QueryLimits {
    /// `[warehouse]`'s defaults.
    fn default() -> Self {
        crate::config::WarehouseConfig::default().query_limits()
    }
}

/// State of the API: the lake, and its projections computed once per change
/// of the lake's files.
#[derive(Clone)]
pub struct ApiState {
    store: Store,
    limits: QueryLimits,
    /// What requests are answered from, and since when the lake has newer
    /// files than it; read without waiting for a refresh.
    served: Arc<std::sync::Mutex<Option<Served>>>,
    /// Held by the one refresh that computes projections; the others wait
    /// their turn, then find its result.
    refresh_turn: Arc<Mutex<()>>,
    /// A background refresh is running.
    refreshing: Arc<std::sync::atomic::AtomicBool>,
    clickhouse: Option<ClickHouseEngine>,
    /// How long each answered query took, by metric name (`sql` for SQL).
    queries: Durations,
    /// Each key's running queries (at most `limits.per_key`).
    running: Arc<std::sync::Mutex<HashMap<Arc<str>, Arc<Semaphore>>>>,
}

/// The projections requests are answered from.
struct Served {
    sig: Signature,
    /// The files they were computed from (what the next update compares).
    inputs: crate::update::Inputs,
    lake: Lake,
    /// When a request first saw the lake with files these projections lack.
    stale_since: Option<std::time::Instant>,
}

/// What the player and billing files of the lake look like (the
/// families the cached projections read); unreadable counts as empty, so
/// the next request tries again.
async fn signature(store: &Store) -> Signature {
    listing::signature_store(store, &[Family::Player, Family::Billing])
        .await
        .unwrap_or_default()
}

impl ApiState {
    /// The API over the lake at `root` (a directory).
    pub fn new(root: PathBuf, limits: QueryLimits) -> Self {
        Self::over(Store::dir(root), limits)
    }

    /// The API over the lake in `store`: a directory, or an object store
    /// (DataFusion reads the same files there).
    pub fn over(store: Store, limits: QueryLimits) -> Self {
        Self {
            store,
            limits,
            served: Arc::default(),
            refresh_turn: Arc::default(),
            refreshing: Arc::default(),
            clickhouse: None,
            queries: Durations::default(),
            running: Arc::default(),
        }
    }

    /// The latest day with player events in the lake (its newest
    /// `date=` partition); `None` for an empty or unreadable lake. What the
    /// dashboard's pages show by default: read from the files the served
    /// projections were computed from, the lake listed only before any.
    pub async fn latest_day(&self) -> Option<chrono::NaiveDate> {
        let day = |key: &str| {
            let (_, date, _) = showrunner_lake::layout::keys::parse(key)?;
            chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
        };
        let served = self
            .served()
            .as_ref()
            // keys sort by date within the family: the last one's is the latest
            .map(|s| s.inputs.player.iter().rev().find_map(|k| day(k)));
        if let Some(latest) = served {
            return latest;
        }
        let key = showrunner_lake::layout::keys::family(Family::Player);
        let entries = self.store.list_committed(&key).await.ok()?;
        entries.iter().filter_map(|e| day(&e.key)).max()
    }

    /// Reports query durations into `telemetry`
    /// (`showrunner_query_duration_seconds{what}`).
    pub fn with_telemetry(mut self, telemetry: &Telemetry) -> Self {
        self.queries = telemetry.durations(
            "showrunner_query_duration_seconds",
            "time to answer a metric (by name) or an SQL query (`sql`) through the API, rows included; failures and timeouts too",
        );
        self
    }

    /// Also answers `engine=clickhouse`, from this server.
    pub fn with_clickhouse(mut self, engine: ClickHouseEngine) -> Self {
        self.clickhouse = Some(engine);
        self
    }

    /// A session whose projections reflect the lake's files: its current
    /// ones, or, for at most `limits.max_staleness` after newer files
    /// appear, the ones it had while fresh projections are computed in the
    /// background (one refresh at a time, on the query runtime).
    pub async fn lake(&self) -> Result<Lake> {
        let sig = signature(&self.store).await;
        {
            let mut served = self.served();
            if let Some(s) = served.as_mut() {
                if s.sig == sig {
                    s.stale_since = None;
                    return Ok(s.lake.clone());
                }
                let since = *s.stale_since.get_or_insert_with(std::time::Instant::now);
                if since.elapsed() < self.limits.max_staleness {
                    let lake = s.lake.clone();
                    drop(served);
                    self.refresh_in_background();
                    return Ok(lake);
                }
            }
        }
        self.refresh().await
    }

    /// Starts a refresh unless one is running.
    fn refresh_in_background(&self) {
        use std::sync::atomic::Ordering;
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        /// Lets the next refresh start when this one ends, however it ends.
        struct Done(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let st = self.clone();
        let done = Done(self.refreshing.clone());
        tokio::spawn(async move {
            let _done = done;
            if let Err(e) = st.refresh().await {
                tracing::warn!(error = %e, "refreshing the lake's projections failed; the next request tries again");
            }
        });
    }

    /// Projections of the lake's current files, computed unless the last
    /// computed ones are of them; concurrent callers wait for one
    /// computation (and the lake is looked at again once it is their turn).
    async fn refresh(&self) -> Result<Lake> {
        let _turn = self.refresh_turn.lock().await;
        let started = std::time::Instant::now();
        let sig = signature(&self.store).await;
        if let Some(s) = self.served().as_mut().filter(|s| s.sig == sig) {
            s.stale_since = None;
            return Ok(s.lake.clone());
        }
        let store = self.store.clone();
        let inputs = crate::update::Inputs::of(&store).await?;
        let previous = self
            .served()
            .as_ref()
            .map(|s| (s.lake.clone(), s.inputs.clone()));
        let now = inputs.clone();
        // no time limit: the refresh is shared by every waiting request;
        // a request that stops waiting aborts it. The served projections
        // are updated with the new files (`crate::update`); the first are
        // computed from every file.
        let lake = runtime::run(None, async move {
            if let Some((old, before)) = previous {
                let (lake, done) = old.update(&before, &now).await?;
                tracing::debug!(?done, "projections updated");
                return Ok(lake);
            }
            let lake = Lake::open_store(&store, LakeOptions::default()).await?;
            let all: Vec<&metrics::Metric> = metrics::METRICS.iter().collect();
            lake.prepare(&all).await?;
            Ok(lake)
        })
        .await?;
        // files that came during the computation are not in it: the lake
        // has looked newer than these projections since it started
        let newer = signature(&self.store).await != sig;
        *self.served() = Some(Served {
            sig,
            inputs,
            lake: lake.clone(),
            stale_since: newer.then_some(started),
        });
        Ok(lake)
    }

    /// The served projections, locked (never across an await).
    fn served(&self) -> std::sync::MutexGuard<'_, Option<Served>> {
        self.served
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many queries the key `id` has running now.
    pub fn running(&self, id: &str) -> usize {
        let running = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        running.get(id).map_or(0, |s| {
            self.limits
                .per_key
                .max(1)
                .saturating_sub(s.available_permits())
        })
    }

    /// A place among `caller`'s running queries, held until dropped;
    /// [`Error::TooManyQueries`] when it has none left. A request without a
    /// caller (the router used without the gate, as in-process tools do)
    /// is not counted.
    fn place(&self, caller: Option<&Principal>) -> Result<Option<OwnedSemaphorePermit>> {
        let Some(caller) = caller else {
            return Ok(None);
        };
        let per_key = self.limits.per_key.max(1);
        let semaphore = {
            let mut running = self
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            running
                .entry(caller.id.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(per_key)))
                .clone()
        };
        semaphore
            .try_acquire_owned()
            .map(Some)
            .map_err(|_| Error::TooManyQueries(per_key))
    }
}

/// The router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/metrics", get(list))
        .route("/v1/metrics/{name}", get(metric))
        .route("/v1/sql", post(sql))
        .route("/v1/views", get(views))
        .route("/v1/views/{view}/timeline", get(timeline))
        .with_state(state)
}

impl ApiError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::UnknownMetric(_) => "unknown_metric",
            Error::UnknownDimension(..) => "unknown_dimension",
            Error::UnsupportedDimension(..) => "unsupported_dimension",
            Error::UnsupportedFilter(..) => "unsupported_filter",
            Error::BadFilter(..) => "bad_filter",
            Error::BadCompare(_) => "bad_compare",
            Error::UnknownBucket(_) => "unknown_bucket",
            Error::BadDate(_) => "bad_date",
            Error::BadRequest(_) => "bad_request",
            Error::BadParameter(..) => "bad_parameter",
            Error::UnknownView(_) => "unknown_view",
            Error::Refused(_) => "refused",
            Error::Query(q) if is_user_error(q) => "bad_query",
            Error::MemoryLimit(_) => "memory_limit",
            Error::Timeout(_) => "timeout",
            Error::TooManyQueries(_) => "too_many_queries",
            Error::ClickHouse(_) => "clickhouse_failed",
            Error::Query(_) | Error::Output(_) | Error::Lake(_) => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Error::UnknownMetric(_) | Error::UnknownView(_) => StatusCode::NOT_FOUND,
            Error::UnknownDimension(..)
            | Error::UnsupportedDimension(..)
            | Error::UnsupportedFilter(..)
            | Error::BadFilter(..)
            | Error::BadCompare(_)
            | Error::BadParameter(..)
            | Error::UnknownBucket(_)
            | Error::BadDate(_)
            | Error::BadRequest(_)
            | Error::Refused(_) => StatusCode::BAD_REQUEST,
            Error::Query(q) if is_user_error(q) => StatusCode::BAD_REQUEST,
            Error::MemoryLimit(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Error::TooManyQueries(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::ClickHouse(_) => StatusCode::BAD_GATEWAY,
            Error::Query(_) | Error::Output(_) | Error::Lake(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::UnknownMetric(_) => Some("name"),
            Error::UnknownDimension(..) | Error::UnsupportedDimension(..) => Some("by"),
            Error::UnsupportedFilter(_, d) | Error::BadFilter(d, _) => Some(d),
            Error::UnknownBucket(_) => Some("bucket"),
            Error::BadCompare(_) => Some("compare"),
            Error::BadParameter(f, _) => Some(f),
            Error::UnknownView(_) => Some("view"),
            Error::Refused(_) | Error::Query(_) => Some("sql"),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<u64> {
        // a query takes seconds; a second is a fair first wait
        matches!(self, Error::TooManyQueries(_)).then_some(1)
    }
}

/// The HTTP status of an error.
pub fn status(e: &Error) -> StatusCode {
    ApiError::status(e)
}

fn is_user_error(e: &datafusion::error::DataFusionError) -> bool {
    use datafusion::error::DataFusionError as D;
    matches!(
        e.find_root(),
        D::SQL(..) | D::Plan(_) | D::SchemaError(..) | D::NotImplemented(_)
    )
}

fn error(e: &Error) -> Response {
    showrunner_web::error_response(e)
}

/// `GET /v1/metrics`: every metric the API computes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MetricList {
    /// The metrics, in the contract's order.
    pub metrics: Vec<MetricInfo>,
}

/// One metric of the list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MetricInfo {
    /// Its name (`GET /v1/metrics/{name}`).
    pub name: String,
    /// Its one-line definition.
    pub summary: String,
    /// Computed per month only (`bucket` is ignored).
    pub monthly_only: bool,
    /// Computed per day only (`bucket` is ignored).
    pub daily_only: bool,
    /// The breakdowns it accepts in `by`.
    pub breakdowns: Vec<String>,
    /// Broken down by currency first (money).
    pub by_currency: bool,
}

/// The answer of a metric: what was computed, and its rows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MetricAnswer {
    /// The metric's name.
    pub metric: String,
    /// The parameters it was computed for (`from`, `to`, `bucket`, `by`),
    /// after the metric's own rules (a monthly metric's bucket is `month`).
    #[schema(value_type = Object)]
    pub params: Value,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each a value per column (numbers, strings, null).
    pub rows: Vec<Vec<Value>>,
    /// With `compare`: the same metric over the comparison period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<ComparedRows>,
}

/// A metric over a comparison period: the same columns, its own buckets.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ComparedRows {
    /// `previous` or `week`.
    #[schema(value_type = String)]
    pub kind: metrics::Compare,
    /// The parameters of the comparison period (its `from` and `to`).
    #[schema(value_type = Object)]
    pub params: Value,
    /// Rows, as the answer's `rows`.
    pub rows: Vec<Vec<Value>>,
}

/// The answer of an SQL query.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SqlAnswer {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each a value per column.
    pub rows: Vec<Vec<Value>>,
    /// The query had more rows than `warehouse.query_max_rows`: these are
    /// its first ones (add `LIMIT`, or aggregate).
    #[serde(default)]
    pub truncated: bool,
}

/// Header of an SQL answer cut at `warehouse.query_max_rows` (`true`),
/// for CSV, which has no place for it in the body.
pub const TRUNCATED_HEADER: &str = "showrunner-truncated";

/// Header of a view list after which more views follow (`true`), for CSV.
pub const MORE_HEADER: &str = "showrunner-more";

/// Every metric: name, definition, breakdowns.
#[utoipa::path(get, path = "/v1/metrics", tag = "analysts",
    responses((status = 200, description = "the metrics", body = MetricList)))]
async fn list() -> Json<MetricList> {
    Json(MetricList {
        metrics: metrics::METRICS
            .iter()
            .map(|m| MetricInfo {
                name: m.name.to_owned(),
                summary: m.summary.to_owned(),
                monthly_only: m.source == metrics::Source::Monthly,
                daily_only: m.source == metrics::Source::RollingDays,
                breakdowns: m.dims.iter().map(|d| (*d).to_owned()).collect(),
                by_currency: m.by_currency(),
            })
            .collect(),
    })
}

/// Declares a query struct: its own fields, then a filter per dimension
/// (the view metrics' [`metrics::Filter`]s), with `filters()` and its
/// accepted names.
macro_rules! query_with_filters {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident,)* }) => {
        $(#[$m])*
        #[derive(Debug, Deserialize, IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $($(#[$fm])* $field: Option<String>,)*
            /// Only views whose device type (`tv`, `mobile`, …) is one of these (comma-separated).
            device: Option<String>,
            /// Only views whose operating system is one of these (comma-separated).
            os: Option<String>,
            /// Only views whose player name is one of these (comma-separated).
            player: Option<String>,
            /// Only views whose player version is one of these (comma-separated).
            player_version: Option<String>,
            /// Only views whose app version is one of these (comma-separated).
            app_version: Option<String>,
            /// Only views whose CDN is one of these (comma-separated).
            cdn: Option<String>,
            /// Only views whose viewer's country (ISO 3166-1 alpha-2) is one of these (comma-separated).
            country: Option<String>,
            /// Only views whose ISP is one of these (comma-separated).
            isp: Option<String>,
            /// Only views whose network type is one of these (comma-separated).
            network: Option<String>,
            /// Only views whose title id is one of these (comma-separated).
            title: Option<String>,
            /// Only views whose viewer's plan at the view's start is one of these (comma-separated).
            plan: Option<String>,
            /// Only views whose startup band is one of these (comma-separated):
            /// `not_started`, `under_1s`, `1_2s`, `2_4s`, `4_8s`, `over_8s`.
            startup: Option<String>,
            /// Only views whose rebuffering band is one of these (comma-separated):
            /// `not_started`, `none`, `under_1pct`, `1_2pct`, `2_5pct`, `over_5pct`.
            rebuffering: Option<String>,
        }

        impl $name {
            /// The filters the query gives, in [`metrics::DIMENSIONS`] order.
            fn filters(&self) -> Result<Vec<metrics::Filter>> {
                // one per dimension (a new dimension without its field
                // fails to compile here)
                let given: [(&str, &Option<String>); metrics::DIMENSIONS.len()] = [
                    ("device", &self.device),
                    ("os", &self.os),
                    ("player", &self.player),
                    ("player_version", &self.player_version),
                    ("app_version", &self.app_version),
                    ("cdn", &self.cdn),
                    ("country", &self.country),
                    ("isp", &self.isp),
                    ("network", &self.network),
                    ("title", &self.title),
                    ("plan", &self.plan),
                    ("startup", &self.startup),
                    ("rebuffering", &self.rebuffering),
                ];
                given
                    .into_iter()
                    .filter_map(|(d, v)| v.as_deref().map(|v| metrics::Filter::parse(d, v)))
                .collect()
            }
        }

        impl QueryFields for $name {
            const FIELDS: &'static [&'static str] = &[
                $(stringify!($field),)*
                "device", "os", "player", "player_version", "app_version", "cdn",
                "country", "isp", "network", "title", "plan", "startup", "rebuffering",
            ];
        }
    };
}

query_with_filters! {
    /// Query of `GET /v1/metrics/{name}`.
    MetricQuery {
        /// First day, inclusive (`YYYY-MM-DD`).
        from,
        /// Last day, exclusive (`YYYY-MM-DD`).
        to,
        /// `hour`, `day` (default), `week` or `month`.
        bucket,
        /// Breakdowns, comma-separated (the metric's `breakdowns`).
        by,
        /// `json` (default) or `csv`.
        format,
        /// `datafusion` (default) or `clickhouse`.
        engine,
        /// Also compute the metric over a comparison period (needs `from` and
        /// `to`): `previous` (the same length just before: whole months when
        /// `from` and `to` are first days of months, else days) or `week` (the
        /// same days a week earlier). In CSV, a first column `period` says
        /// `current` or the comparison.
        compare,
        /// `true`: with a breakdown, add a column `impact`, how much each
        /// segment moves its bucket's total, as Mux ranks segments:
        /// (segment value − total value) × segment volume ÷ total volume
        /// (QoE metrics only; positive is worse).
        impact,
    }
}

query_with_filters! {
    /// Query of `GET /v1/views`.
    ViewsQuery {
        /// First day of the views' start, inclusive (`YYYY-MM-DD`).
        from,
        /// Last day, exclusive (`YYYY-MM-DD`).
        to,
        /// Only these outcomes, comma-separated: `start_failure`,
        /// `exit_before_start`, `playback_failure`, `completed`, `played`.
        outcome,
        /// Order, largest first: `start` (default), `startup`, `stall` or `playing`.
        sort,
        /// At most this many views (default 100, at most 1,000).
        limit,
        /// Skip this many first (default 0, at most 1,000,000).
        offset,
        /// `json` (default) or `csv`.
        format,
    }
}

/// One metric over the lake (or ClickHouse), by time bucket and breakdowns.
#[utoipa::path(get, path = "/v1/metrics/{name}", tag = "analysts",
    params(("name" = String, Path, description = "the metric's name"), MetricQuery),
    responses(
        (status = 200, description = "the metric's rows", content(
            (MetricAnswer = "application/json"),
            (String = "text/csv"))),
        (status = 400, description = "a bad parameter (`field` names it)", body = ErrorBody),
        (status = 404, description = "no such metric (code `unknown_metric`)", body = ErrorBody),
        (status = 408, description = "over the query time limit (code `timeout`)", body = ErrorBody),
        (status = 422, description = "over the query memory limit (code `memory_limit`)", body = ErrorBody),
        (status = 500, description = "the lake could not be read (code `internal`)", body = ErrorBody),
        (status = 502, description = "ClickHouse failed (code `clickhouse_failed`)", body = ErrorBody),
        (status = 429, description = "the key's rate limit is spent (code `rate_limited`), or it already has `warehouse.queries_per_key` queries running (code `too_many_queries`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
async fn metric(
    State(st): State<ApiState>,
    caller: Option<Extension<Principal>>,
    Path(name): Path<String>,
    Query(q): Query<MetricQuery>,
) -> Response {
    let run = async {
        let m = metrics::find(&name)?;
        let p = Params {
            from: q.from.as_deref().map(metrics::date).transpose()?,
            to: q.to.as_deref().map(metrics::date).transpose()?,
            bucket: q.bucket.as_deref().unwrap_or("day").parse()?,
            by: q
                .by
                .iter()
                .flat_map(|b| b.split(','))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            filters: q.filters()?,
        };
        let csv = format_is_csv(q.format.as_deref())?;
        metrics::render(m, &p)?; // refuse bad parameters before touching the lake
        let compare = q
            .compare
            .as_deref()
            .map(|c| {
                let c: metrics::Compare = c.parse()?;
                Ok::<_, Error>((c, c.params(m, &p)?))
            })
            .transpose()?;
        let impact = impact_of(m, &p, q.impact.as_deref())?;
        let place = st.place(caller.as_deref())?;
        // the other parameter sets computed with the answer: the comparison
        // period, the totals the impacts are weighed against
        let mut extra: Vec<Params> = compare.iter().map(|(_, cp)| cp.clone()).collect();
        if impact.is_some() {
            extra.push(Params {
                by: Vec::new(),
                ..p.clone()
            });
        }
        let engine = match q.engine.as_deref() {
            None | Some("datafusion") => Computer::Lake(st.lake().await?),
            Some("clickhouse") => Computer::ClickHouse(st.clickhouse.clone().ok_or_else(|| {
                Error::BadRequest(
                    "engine `clickhouse` is not configured (config `clickhouse.enabled`)".into(),
                )
            })?),
            Some(other) => {
                return Err(Error::BadRequest(format!(
                    "unknown engine `{other}` (expected datafusion or clickhouse)"
                )));
            }
        };
        let params = p.clone();
        let query = async move {
            let engine = engine.engine();
            let (columns, batches) = engine.compute_one(m, &params).await?;
            let mut extras = Vec::with_capacity(extra.len());
            for p in &extra {
                let (c, b) = engine.compute_one(m, p).await?;
                extras.push((c, output::rows(&b)?));
            }
            Ok((columns, batches, extras))
        };
        let (mut columns, mut rows, mut extras) = answer(&st, m.name, place, query).await?;
        if let Some(imp) = impact {
            let (total_columns, totals) = extras.pop().unwrap_or_default();
            let impacts = metrics::impacts(imp, &columns, &rows, &total_columns, &totals)?;
            columns.push("impact".to_owned());
            for (row, i) in rows.iter_mut().zip(impacts) {
                row.push(i);
            }
        }
        let compare = match (compare, extras.pop()) {
            (Some((kind, cp)), Some((_, rows))) => Some(ComparedRows {
                kind,
                params: serde_json::to_value(m.effective(&cp))
                    .map_err(|e| Error::Output(e.to_string()))?,
                rows,
            }),
            _ => None,
        };
        if csv {
            return Ok(match compare {
                None => csv_response(&columns, &rows),
                Some(c) => with_period(columns, rows, c)?,
            });
        }
        Ok(Json(MetricAnswer {
            metric: m.name.to_owned(),
            params: serde_json::to_value(m.effective(&p))
                .map_err(|e| Error::Output(e.to_string()))?,
            columns,
            rows,
            compare,
        })
        .into_response())
    };
    run.await.unwrap_or_else(|e| error(&e))
}

/// Where a metric is computed, owned by the query's task.
enum Computer {
    Lake(Lake),
    ClickHouse(ClickHouseEngine),
}

impl Computer {
    fn engine(&self) -> crate::report::Engine<'_> {
        match self {
            Computer::Lake(l) => crate::report::Engine::DataFusion(l),
            Computer::ClickHouse(ch) => crate::report::Engine::ClickHouse(ch),
        }
    }
}

/// The `impact` parameter: the metric's weighing when `true` (it must
/// have one, and a breakdown), none when absent or `false`.
fn impact_of(m: &metrics::Metric, p: &Params, v: Option<&str>) -> Result<Option<metrics::Impact>> {
    let bad = |why: String| Err(Error::BadParameter("impact", why));
    match v {
        None | Some("false") => Ok(None),
        Some("true") => match (m.impact(), p.by.is_empty()) {
            (Some(imp), false) => Ok(Some(imp)),
            (None, _) => bad(format!(
                "`{}` has no impact (the QoE metrics have one)",
                m.name
            )),
            (_, true) => bad("an impact ranks the segments of a breakdown: give `by`".to_owned()),
        },
        Some(other) => bad(format!("`impact` is true or false, not `{other}`")),
    }
}

/// A metric and its comparison as one CSV: a first column `period` says
/// `current` or the comparison's kind.
fn with_period(columns: Vec<String>, rows: Vec<Vec<Value>>, c: ComparedRows) -> Result<Response> {
    let columns: Vec<String> = std::iter::once("period".to_owned())
        .chain(columns)
        .collect();
    let kind = serde_json::to_value(c.kind).map_err(|e| Error::Output(e.to_string()))?;
    let mut labelled: Vec<Vec<Value>> = Vec::with_capacity(rows.len() + c.rows.len());
    for (label, part) in [(Value::from("current"), rows), (kind, c.rows)] {
        for r in part {
            labelled.push(std::iter::once(label.clone()).chain(r).collect());
        }
    }
    Ok(csv_response(&columns, &labelled))
}

/// Body of `POST /v1/sql`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlRequest {
    /// One read-only statement (`SELECT`, `WITH`, `SHOW`, `DESCRIBE`).
    sql: String,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// Read-only SQL over the lake's tables and projections.
#[utoipa::path(post, path = "/v1/sql", tag = "analysts",
    request_body(content = SqlRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "the query's rows (at most `warehouse.query_max_rows`)", content(
            (SqlAnswer = "application/json"),
            (String = "text/csv")),
            headers(("showrunner-truncated" = String, description = "`true` when the rows were cut at `warehouse.query_max_rows`"))),
        (status = 400, description = "not JSON, not read-only, or not valid SQL (`field` is `sql`)", body = ErrorBody),
        (status = 413, description = "a body over 2 MiB (code `payload_too_large`)", body = ErrorBody),
        (status = 408, description = "over the query time limit (code `timeout`)", body = ErrorBody),
        (status = 422, description = "over the query memory limit (code `memory_limit`)", body = ErrorBody),
        (status = 500, description = "the lake could not be read (code `internal`)", body = ErrorBody),
        (status = 429, description = "the key's rate limit is spent (code `rate_limited`), or it already has `warehouse.queries_per_key` queries running (code `too_many_queries`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
async fn sql(
    State(st): State<ApiState>,
    caller: Option<Extension<Principal>>,
    body: std::result::Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => {
            let code = match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
                _ => "unreadable_body",
            };
            return Refusal::new(r.status(), code, r.body_text()).into_response();
        }
    };
    let run = async {
        // JSON whatever the content type says (`curl -d` sends a form type)
        let req: SqlRequest = serde_json::from_slice(&body).map_err(|e| {
            Error::BadRequest(format!("body must be {{\"sql\": \"SELECT …\"}}: {e}"))
        })?;
        let csv = format_is_csv(req.format.as_deref())?;
        let place = st.place(caller.as_deref())?;
        // a session of its own, so the memory limit is this query's
        let lake = Lake::open_store(
            &st.store,
            LakeOptions {
                memory_bytes: Some(st.limits.memory_bytes),
                ..LakeOptions::default()
            },
        )
        .await?;
        let max_rows = st.limits.max_rows;
        let query = async move { crate::query::run_capped(&lake, &req.sql, max_rows).await };
        let (columns, rows, truncated) = answer(&st, "sql", place, query).await?;
        let mut r = if csv {
            csv_response(&columns, &rows)
        } else {
            Json(SqlAnswer {
                columns,
                rows,
                truncated,
            })
            .into_response()
        };
        if truncated {
            r.headers_mut()
                .insert(TRUNCATED_HEADER, header::HeaderValue::from_static("true"));
        }
        Ok(r)
    };
    run.await.unwrap_or_else(|e| error(&e))
}

/// The answer of `GET /v1/views`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ViewList {
    /// Column names ([`drill::COLUMNS`]).
    pub columns: Vec<String>,
    /// One row per view.
    pub rows: Vec<Vec<Value>>,
    /// More views follow: ask again with `offset` + `limit` (in CSV, the
    /// header `showrunner-more: true`).
    pub more: bool,
}

/// A count parameter: `default` when absent, at most `max`.
fn count(v: Option<&str>, field: &'static str, default: usize, max: usize) -> Result<usize> {
    let Some(v) = v else { return Ok(default) };
    match v.parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(Error::BadParameter(
            field,
            format!("`{field}` must be a whole number from 0 to {max}, not `{v}`"),
        )),
    }
}

/// The views behind a metric's cell: the same window and filters, one row
/// per view with its QoE figures and outcome.
#[utoipa::path(get, path = "/v1/views", tag = "analysts", params(ViewsQuery),
    responses(
        (status = 200, description = "the views, largest first by `sort`", content(
            (ViewList = "application/json"),
            (String = "text/csv"))),
        (status = 400, description = "a bad parameter (`field` names it)", body = ErrorBody),
        (status = 408, description = "over the query time limit (code `timeout`)", body = ErrorBody),
        (status = 422, description = "over the query memory limit (code `memory_limit`)", body = ErrorBody),
        (status = 500, description = "the lake could not be read (code `internal`)", body = ErrorBody),
        (status = 429, description = "the key's rate limit is spent (code `rate_limited`), or it already has `warehouse.queries_per_key` queries running (code `too_many_queries`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
async fn views(
    State(st): State<ApiState>,
    caller: Option<Extension<Principal>>,
    Query(q): Query<ViewsQuery>,
) -> Response {
    let run = async {
        let vq = drill::ViewQuery {
            from: q.from.as_deref().map(metrics::date).transpose()?,
            to: q.to.as_deref().map(metrics::date).transpose()?,
            filters: q.filters()?,
            outcomes: q
                .outcome
                .as_deref()
                .map(drill::Outcome::parse_list)
                .transpose()?
                .unwrap_or_default(),
            sort: q
                .sort
                .as_deref()
                .map(str::parse)
                .transpose()?
                .unwrap_or_default(),
            limit: count(q.limit.as_deref(), "limit", 100, 1_000)?,
            offset: count(q.offset.as_deref(), "offset", 0, 1_000_000)?,
        };
        let csv = format_is_csv(q.format.as_deref())?;
        drill::render(&vq)?; // refuse bad parameters before touching the lake
        let place = st.place(caller.as_deref())?;
        let lake = st.lake().await?;
        let limit = vq.limit;
        let query = async move {
            let (columns, batches) = drill::list(&lake, &vq).await?;
            Ok((columns, batches, ()))
        };
        let (columns, mut rows, ()) = answer(&st, "views", place, query).await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        if csv {
            let mut r = csv_response(&columns, &rows);
            if more {
                r.headers_mut()
                    .insert(MORE_HEADER, header::HeaderValue::from_static("true"));
            }
            return Ok(r);
        }
        Ok(Json(ViewList {
            columns,
            rows,
            more,
        })
        .into_response())
    };
    run.await.unwrap_or_else(|e| error(&e))
}

/// One view's timeline: its row of `/v1/views` and its player events in
/// order (play request, first frame, stalls, bitrate switches, errors,
/// end), each with its offset from the play request.
#[utoipa::path(get, path = "/v1/views/{view}/timeline", tag = "analysts",
    params(("view" = String, Path, description = "the view's id")),
    responses(
        (status = 200, description = "the view and its events", body = drill::Timeline),
        (status = 400, description = "a bad parameter (`field` names it)", body = ErrorBody),
        (status = 404, description = "no play request for this view (code `unknown_view`)", body = ErrorBody),
        (status = 408, description = "over the query time limit (code `timeout`)", body = ErrorBody),
        (status = 422, description = "over the query memory limit (code `memory_limit`)", body = ErrorBody),
        (status = 500, description = "the lake could not be read (code `internal`)", body = ErrorBody),
        (status = 429, description = "the key's rate limit is spent (code `rate_limited`), or it already has `warehouse.queries_per_key` queries running (code `too_many_queries`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
async fn timeline(
    State(st): State<ApiState>,
    caller: Option<Extension<Principal>>,
    Path(view): Path<String>,
) -> Response {
    let run = async {
        let place = st.place(caller.as_deref())?;
        let lake = st.lake().await?;
        let query = async move {
            let t = drill::timeline(&lake, &view).await?;
            Ok((Vec::new(), Vec::new(), t))
        };
        let (_, _, t) = answer(&st, "timeline", place, query).await?;
        Ok(Json(t).into_response())
    };
    run.await.unwrap_or_else(|e| error(&e))
}

/// Runs a query on the query runtime within the time limit (timed as
/// `what`): its columns, its rows as JSON values, and what else it says.
/// The caller's `place` goes with the query: it is given back when the
/// query's task ends, not when the request gives up waiting.
async fn answer<X, F>(
    st: &ApiState,
    what: &str,
    place: Option<OwnedSemaphorePermit>,
    query: F,
) -> Result<(Vec<String>, Vec<Vec<Value>>, X)>
where
    X: Send + 'static,
    F: Future<Output = Result<(Vec<String>, Vec<RecordBatch>, X)>> + Send + 'static,
{
    let started = std::time::Instant::now();
    let answered = runtime::run(Some(st.limits.timeout), async move {
        let _place = place;
        let (columns, batches, extra) = query.await?;
        Ok((columns, output::rows(&batches)?, extra))
    })
    .await;
    // failures and timeouts are timed too
    st.queries.observe(what, started.elapsed().as_secs_f64());
    answered
}

/// The warehouse's routes, described.
#[derive(OpenApi)]
#[openapi(
    paths(list, metric, sql, views, timeline),
    components(schemas(
        MetricList,
        MetricInfo,
        MetricAnswer,
        ComparedRows,
        SqlAnswer,
        SqlRequest,
        ViewList,
        drill::Timeline,
        drill::TimelineEvent
    ))
)]
pub struct WarehouseApi;

fn format_is_csv(f: Option<&str>) -> Result<bool> {
    match f {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(Error::BadRequest(format!(
            "unknown format `{other}` (expected json or csv)"
        ))),
    }
}

fn csv_response(columns: &[String], rows: &[Vec<Value>]) -> Response {
    (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        output::csv(columns, rows),
    )
        .into_response()
}
