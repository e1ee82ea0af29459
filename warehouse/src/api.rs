//! The query API, as an axum router the server mounts (behind the analyst
//! key, which the dashboard checks):
//!
//! - `GET /v1/metrics` — every metric: name, definition, breakdowns;
//! - `GET /v1/metrics/{name}?from=&to=&bucket=&by=a,b&format=json|csv&engine=` —
//!   one metric, the same JSON object as `showrunner metrics --format json`;
//!   `engine=clickhouse` computes it on ClickHouse (when configured; 400
//!   otherwise), `engine=datafusion` (the default) over the lake;
//! - `POST /v1/sql` (`{"sql": "SELECT …", "format": "json|csv"}`) —
//!   read-only SQL with a memory limit and a time limit per query.
//!
//! Errors answer `showrunner_web`'s one body, `{"error": {"code",
//! "message", "field"}}`; each error's code and status are in one match
//! (the `ApiError` impl below); query parameters are strict (an unknown
//! one is a 400 naming it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use showrunner_events::Family;
use showrunner_lake::Layout;
use showrunner_lake::listing::{self, Signature};
use showrunner_web::{ApiError, Query, QueryFields};
use tokio::sync::Mutex;

use crate::clickhouse::ClickHouseEngine;
use crate::error::{Error, Result};
use crate::lake::{Lake, LakeOptions};
use crate::metrics::{self, Params};
use crate::output;

/// Limits of the API's queries.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Memory one query may use, bytes.
    pub memory_bytes: usize,
    /// Time one query may take.
    pub timeout: Duration,
}

/// State of the API: the lake, and its projections computed once per change
/// of the lake's files.
#[derive(Clone)]
pub struct ApiState {
    root: PathBuf,
    limits: QueryLimits,
    cached: Arc<Mutex<Option<(Signature, Lake)>>>,
    clickhouse: Option<ClickHouseEngine>,
}

/// What the player and billing files of the lake look like (the
/// families the cached projections read); unreadable counts as empty, so
/// the next request tries again.
fn signature(root: &std::path::Path) -> Signature {
    listing::signature(&Layout::new(root), &[Family::Player, Family::Billing]).unwrap_or_default()
}

impl ApiState {
    /// The API over the lake at `root`.
    pub fn new(root: PathBuf, limits: QueryLimits) -> Self {
        Self {
            root,
            limits,
            cached: Arc::new(Mutex::new(None)),
            clickhouse: None,
        }
    }

    /// Also answers `engine=clickhouse`, from this server.
    pub fn with_clickhouse(mut self, engine: ClickHouseEngine) -> Self {
        self.clickhouse = Some(engine);
        self
    }

    /// A session whose projections reflect the lake's current files
    /// (recomputed when they changed; concurrent requests wait for one
    /// computation).
    pub async fn lake(&self) -> Result<Lake> {
        let sig = signature(&self.root);
        let mut guard = self.cached.lock().await;
        if let Some((s, lake)) = guard.as_ref()
            && *s == sig
        {
            return Ok(lake.clone());
        }
        let lake = Lake::open(&self.root).await?;
        let all: Vec<&metrics::Metric> = metrics::METRICS.iter().collect();
        lake.prepare(&all).await?;
        *guard = Some((sig, lake.clone()));
        Ok(lake)
    }
}

/// The router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/metrics", get(list))
        .route("/v1/metrics/{name}", get(metric))
        .route("/v1/sql", post(sql))
        .with_state(state)
}

impl ApiError for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::UnknownMetric(_) => "unknown_metric",
            Error::UnknownDimension(..) => "unknown_dimension",
            Error::UnsupportedDimension(..) => "unsupported_dimension",
            Error::UnknownBucket(_) => "unknown_bucket",
            Error::BadDate(_) => "bad_date",
            Error::BadRequest(_) => "bad_request",
            Error::Refused(_) => "refused",
            Error::Query(q) if is_user_error(q) => "bad_query",
            Error::MemoryLimit(_) => "memory_limit",
            Error::Timeout(_) => "timeout",
            Error::ClickHouse(_) => "clickhouse_failed",
            Error::Query(_) | Error::Output(_) | Error::Lake(_) => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Error::UnknownMetric(_) => StatusCode::NOT_FOUND,
            Error::UnknownDimension(..)
            | Error::UnsupportedDimension(..)
            | Error::UnknownBucket(_)
            | Error::BadDate(_)
            | Error::BadRequest(_)
            | Error::Refused(_) => StatusCode::BAD_REQUEST,
            Error::Query(q) if is_user_error(q) => StatusCode::BAD_REQUEST,
            Error::MemoryLimit(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
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
            Error::UnknownBucket(_) => Some("bucket"),
            Error::Refused(_) | Error::Query(_) => Some("sql"),
            _ => None,
        }
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

async fn list() -> Json<Value> {
    Json(json!({
        "metrics": metrics::METRICS.iter().map(|m| json!({
            "name": m.name,
            "summary": m.summary,
            "monthly_only": m.source == metrics::Source::Monthly,
            "breakdowns": m.dims,
            "by_currency": m.by_currency(),
        })).collect::<Vec<_>>()
    }))
}

/// Query of `GET /v1/metrics/{name}`.
#[derive(Debug, Deserialize)]
pub struct MetricQuery {
    from: Option<String>,
    to: Option<String>,
    bucket: Option<String>,
    /// Breakdowns, comma-separated.
    by: Option<String>,
    format: Option<String>,
    /// `datafusion` (default) or `clickhouse`.
    engine: Option<String>,
}

impl QueryFields for MetricQuery {
    const FIELDS: &'static [&'static str] = &["from", "to", "bucket", "by", "format", "engine"];
}

async fn metric(
    State(st): State<ApiState>,
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
        };
        let csv = format_is_csv(q.format.as_deref())?;
        metrics::render(m, &p)?; // refuse bad parameters before touching the lake
        let head = json!({ "metric": m.name, "params": m.effective(&p) });
        match q.engine.as_deref() {
            None | Some("datafusion") => {
                let lake = st.lake().await?;
                answer(&st, metrics::compute(&lake, m, &p), csv, head).await
            }
            Some("clickhouse") => {
                let ch = st.clickhouse.as_ref().ok_or_else(|| {
                    Error::BadRequest(
                        "engine `clickhouse` is not configured (config `clickhouse.enabled`)"
                            .into(),
                    )
                })?;
                answer(&st, ch.compute(m, &p), csv, head).await
            }
            Some(other) => Err(Error::BadRequest(format!(
                "unknown engine `{other}` (expected datafusion or clickhouse)"
            ))),
        }
    };
    run.await.unwrap_or_else(|e| error(&e))
}

/// Body of `POST /v1/sql`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlRequest {
    sql: String,
    format: Option<String>,
}

async fn sql(State(st): State<ApiState>, body: axum::body::Bytes) -> Response {
    let run = async {
        // JSON whatever the content type says (`curl -d` sends a form type)
        let req: SqlRequest = serde_json::from_slice(&body).map_err(|e| {
            Error::BadRequest(format!("body must be {{\"sql\": \"SELECT …\"}}: {e}"))
        })?;
        let csv = format_is_csv(req.format.as_deref())?;
        // a session of its own, so the memory limit is this query's
        let lake = Lake::open_with(
            &st.root,
            LakeOptions {
                memory_bytes: Some(st.limits.memory_bytes),
            },
        )
        .await?;
        answer(&st, crate::query::run(&lake, &req.sql), csv, json!({})).await
    };
    run.await.unwrap_or_else(|e| error(&e))
}

/// Runs a query within the time limit; answers CSV, or `head` (a JSON
/// object) with `columns` and `rows` added.
async fn answer(
    st: &ApiState,
    query: impl std::future::Future<Output = Result<(Vec<String>, Vec<arrow_array::RecordBatch>)>>,
    csv: bool,
    mut head: Value,
) -> Result<Response> {
    let (columns, batches) = tokio::time::timeout(st.limits.timeout, query)
        .await
        .map_err(|_| Error::Timeout(st.limits.timeout))??;
    let rows = output::rows(&batches)?;
    if csv {
        return Ok(csv_response(&columns, &rows));
    }
    head["columns"] = json!(columns);
    head["rows"] = json!(rows);
    Ok(Json(head).into_response())
}

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
