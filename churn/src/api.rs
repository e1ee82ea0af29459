//! `GET /v1/users/{user}/churn-risk` (marketing): a subscriber's latest
//! score, where it ranks among every subscriber scored, and the features
//! that raise it — the lake's scores table (`scores/churn/scores.parquet`,
//! written by `churn score`) held in memory.
//!
//! Invariant: a request answers from one whole table, the one it started
//! with. [`RiskState::reload`] looks at the file (one `stat` or one HEAD)
//! and reads it again only when its size or modification time changed;
//! the new table is swapped in whole, so a scoring run that replaces the
//! file never shows a half-read table, and a file that cannot be read
//! keeps the table served.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use showrunner_lake::Store;
use showrunner_lake::layout::keys;
use showrunner_web::{ErrorBody, Path as UrlPath};
use utoipa::{OpenApi, ToSchema};

use crate::error::Result;
use crate::served::{self, Score};

/// One read of the scores table.
#[derive(Debug)]
pub struct Table {
    /// Each subscriber's row.
    by_user: HashMap<String, Score>,
    /// Every score, ascending: where a score ranks.
    sorted: Vec<f64>,
    /// The file's size and modification time when read.
    version: (u64, Option<SystemTime>),
}

impl Table {
    /// The table of `scores`, read from a file of `version`.
    pub fn new(scores: Vec<Score>, version: (u64, Option<SystemTime>)) -> Table {
        let mut sorted: Vec<f64> = scores.iter().map(|s| s.score).collect();
        sorted.sort_by(f64::total_cmp);
        Table {
            by_user: scores.into_iter().map(|s| (s.user_id.clone(), s)).collect(),
            sorted,
            version,
        }
    }

    /// Subscribers scored.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether no subscriber is scored.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// `user`'s row and the share of scored subscribers whose score is
    /// lower.
    pub fn get(&self, user: &str) -> Option<(&Score, f64)> {
        let s = self.by_user.get(user)?;
        let below = self.sorted.partition_point(|&x| x < s.score);
        Some((s, below as f64 / self.sorted.len() as f64))
    }
}

/// The served scores table.
#[derive(Clone)]
pub struct RiskState {
    store: Store,
    table: Arc<RwLock<Option<Arc<Table>>>>,
}

impl std::fmt::Debug for RiskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.table().map(|t| t.len());
        write!(f, "RiskState({}, {n:?} scored)", self.store)
    }
}

impl RiskState {
    /// Nothing read yet from the lake in `store`.
    pub fn new(store: Store) -> RiskState {
        RiskState {
            store,
            table: Arc::default(),
        }
    }

    /// A state over `store` with its table read (a missing or unreadable
    /// one is logged: the reload loop keeps looking).
    pub async fn open(store: Store) -> RiskState {
        let s = RiskState::new(store);
        if let Err(e) = s.reload().await {
            tracing::warn!(error = %e, "the churn scores cannot be read; serving 503 until they can");
        }
        s
    }

    /// The table requests use now.
    pub fn table(&self) -> Option<Arc<Table>> {
        self.table.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads the scores file again if it changed; whether the table did.
    pub async fn reload(&self) -> Result<bool> {
        let key = keys::churn_scores();
        let Some(head) = self.store.head(&key).await? else {
            return Ok(false);
        };
        let version = (head.bytes, head.modified);
        if self.table().is_some_and(|t| t.version == version) {
            return Ok(false);
        }
        let bytes = self.store.get(&key).await?;
        let scores = served::read_scores(bytes)?;
        let table = Arc::new(Table::new(scores, version));
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = Some(table);
        Ok(true)
    }
}

/// Looks at the scores file every `every` and serves a new one.
pub async fn reload_loop(state: RiskState, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        match state.reload().await {
            Ok(true) => tracing::info!(
                subscribers = state.table().map_or(0, |t| t.len()),
                "serving new churn scores"
            ),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "reading the churn scores failed; keeping the served ones")
            }
        }
    }
}

/// An error of this API: its code and status in `showrunner_web::ApiError`,
/// its body the one error body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No scores yet.
    #[error("no churn scores yet: run `showrunner churn train` then `showrunner churn score`")]
    NoScores,
    /// The user was not a trialing or paying subscriber at the snapshot.
    #[error("`{0}` was not scored: not a trialing or paying subscriber at the latest snapshot")]
    NotScored(String),
}

impl showrunner_web::ApiError for ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::NoScores => "no_scores",
            ApiError::NotScored(_) => "not_scored",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::NoScores => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotScored(_) => StatusCode::NOT_FOUND,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::NoScores => None,
            ApiError::NotScored(_) => Some("user"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        showrunner_web::error_response(&self)
    }
}

/// The routes (no auth: the caller puts them behind marketing keys).
pub fn router(state: RiskState) -> Router {
    Router::new()
        .route("/v1/users/{user}/churn-risk", get(churn_risk))
        .with_state(state)
}

/// `GET /v1/users/{user}/churn-risk`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, ToSchema)]
pub struct ChurnRisk {
    /// The subscriber.
    pub user_id: String,
    /// Probability of cancelling or lapsing within 30 days of the snapshot.
    pub score: f64,
    /// Share of the subscribers scored whose score is lower (0.93: riskier
    /// than 93 % of them).
    pub percentile: f64,
    /// Subscribers scored at the snapshot.
    pub subscribers: usize,
    /// The snapshot the features were computed at (UTC, RFC 3339).
    pub snapshot: String,
    /// The model's kind: `logistic` or `gbdt`.
    pub model: String,
    /// Up to three features that raise the risk most, largest first.
    pub reasons: Vec<RiskReason>,
}

/// A feature that raises a subscriber's risk.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, ToSchema)]
pub struct RiskReason {
    /// The feature (`days_since_play`, `watch_trend`, …; docs/churn.md).
    pub feature: String,
    /// Its value for the subscriber.
    pub value: f64,
    /// What it adds to the log-odds of churn.
    pub log_odds: f64,
}

/// A subscriber's churn risk and why.
#[utoipa::path(get, path = "/v1/users/{user}/churn-risk", tag = "marketing",
    params(("user" = String, Path, description = "the user's id")),
    responses(
        (status = 200, description = "the latest score", body = ChurnRisk),
        (status = 404, description = "not a trialing or paying subscriber at the latest snapshot (code `not_scored`)", body = ErrorBody),
        (status = 503, description = "no scores written yet (code `no_scores`)", body = ErrorBody),
    ))]
async fn churn_risk(
    State(st): State<RiskState>,
    UrlPath(user): UrlPath<String>,
) -> std::result::Result<Json<ChurnRisk>, ApiError> {
    let table = st.table().ok_or(ApiError::NoScores)?;
    let (s, percentile) = table.get(&user).ok_or(ApiError::NotScored(user))?;
    Ok(Json(ChurnRisk {
        user_id: s.user_id.clone(),
        score: s.score,
        percentile,
        subscribers: table.len(),
        snapshot: chrono::DateTime::from_timestamp_millis(s.snapshot)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default(),
        model: s.model.clone(),
        reasons: s
            .reasons
            .iter()
            .map(|r| RiskReason {
                feature: r.feature.clone(),
                value: r.value,
                log_odds: r.log_odds,
            })
            .collect(),
    }))
}

/// This API's description.
#[derive(OpenApi)]
#[openapi(paths(churn_risk), components(schemas(ChurnRisk, RiskReason)))]
pub struct RiskApi;
