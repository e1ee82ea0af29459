//! Serving: the HTTP API apps call for their home-screen rows, over the
//! current model artifact and every user's live state.
//!
//! - [`router`] — `GET /v1/users/{user}/recommendations`,
//!   `GET /v1/users/{user}/continue-watching`, `GET /v1/titles/{title}/similar`,
//!   `GET /v1/models/current`; the caller mounts it behind its app keys;
//! - [`ServeState`] — the loaded model (swapped whole when a new version is
//!   published: requests hold the `Arc` they started with, so none fails
//!   during a reload) and the [`users::Users`] store;
//! - [`live`] — follows the event stream into the users store, and polls
//!   `<lake>/models/CURRENT` for new versions;
//! - [`rank`] — the rows themselves;
//! - [`users`] — per-user positions, completions, country and maturity.

pub mod live;
pub mod rank;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use showrunner_web::Path as UrlPath;
use showrunner_web::{ErrorBody, Query, QueryFields};
use utoipa::{IntoParams, OpenApi, ToSchema};

use showrunner_events::types::player::DeviceType;

use crate::artifact::{self, Artifact};
use crate::error::Result;
use crate::feedback::FeedbackParams;
use rank::{Context, Loaded, Row};
use users::Users;

/// Shared state of the serving API.
#[derive(Clone)]
pub struct ServeState {
    model: Arc<RwLock<Option<Arc<Loaded>>>>,
    /// Every user's live state.
    pub users: Arc<Users>,
    /// Where artifacts are published (`<lake>/models`).
    pub models_dir: PathBuf,
    /// Engagement threshold (from the model's feedback parameters).
    pub min_fraction: f64,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl ServeState {
    /// A state over `users` with no model yet.
    pub fn new(models_dir: PathBuf, users: Users) -> ServeState {
        ServeState {
            model: Arc::new(RwLock::new(None)),
            users: Arc::new(users),
            models_dir,
            min_fraction: FeedbackParams::default().min_fraction,
        }
    }

    /// Users from the lake, and the current model if one is
    /// published (an unreadable one is logged and skipped: the reload
    /// poller keeps trying). Blocking.
    pub fn open(lake_dir: &Path) -> Result<ServeState> {
        Self::open_store(
            &showrunner_lake::Store::dir(lake_dir),
            showrunner_lake::Layout::new(lake_dir).models(),
        )
    }

    /// [`ServeState::open`] over any store, the model versions read from
    /// the directory `models_dir` (`<lake>/models` for a directory lake).
    /// Blocking.
    pub fn open_store(store: &showrunner_lake::Store, models_dir: PathBuf) -> Result<ServeState> {
        let users = Users::load_store(store)?;
        let s = ServeState::new(models_dir, users);
        if let Err(e) = s.reload() {
            tracing::warn!(error = %e, "the current model cannot be loaded; serving 503 until one can");
        }
        Ok(s)
    }

    /// The model requests use now.
    pub fn model(&self) -> Option<Arc<Loaded>> {
        self.model.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Serves `artifact` from now on.
    pub fn install(&self, artifact: Artifact) {
        let loaded = Arc::new(Loaded::new(artifact));
        *self.model.write().unwrap_or_else(|e| e.into_inner()) = Some(loaded);
    }

    /// Loads the current version if it is not the one served. Blocking;
    /// returns whether the model changed.
    pub fn reload(&self) -> Result<bool> {
        let Some(version) = artifact::current(&self.models_dir)? else {
            return Ok(false);
        };
        if self.model().is_some_and(|m| m.version() == version) {
            return Ok(false);
        }
        let a = Artifact::load(&self.models_dir.join(&version))?;
        self.install(a);
        Ok(true)
    }
}

/// An error of the serving API: its code and status in
/// `showrunner_web::ApiError` (below), its body the one error body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter out of its domain.
    #[error("{message}")]
    BadParameter {
        /// The parameter.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// An unknown title.
    #[error("{0}")]
    UnknownTitle(String),
    /// No model has been trained yet.
    #[error("no model yet: run `showrunner recommend train`")]
    NoModel,
}

impl showrunner_web::ApiError for ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::BadParameter { .. } => "bad_parameter",
            ApiError::UnknownTitle(_) => "unknown_title",
            ApiError::NoModel => "no_model",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnknownTitle(_) => StatusCode::NOT_FOUND,
            ApiError::NoModel => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::BadParameter { field, .. } => Some(field),
            ApiError::UnknownTitle(_) => Some("title"),
            ApiError::NoModel => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        showrunner_web::error_response(&self)
    }
}

type ApiResult<T> = std::result::Result<T, ApiError>;

/// The serving API's routes (no auth: the caller layers app keys on).
pub fn router(state: ServeState) -> Router {
    Router::new()
        .route("/v1/users/{user}/recommendations", get(recommendations))
        .route("/v1/users/{user}/continue-watching", get(continue_watching))
        .route("/v1/titles/{title}/similar", get(similar))
        .route("/v1/models/current", get(current_model))
        .with_state(state)
}

/// Query parameters, checked.
struct Params {
    k: usize,
    row: Row,
    country: Option<String>,
}

/// The query of `GET /v1/users/{user}/recommendations`.
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RecommendationsQuery {
    /// How many titles, 1 to 200 (default 20).
    k: Option<String>,
    /// `for_you` (default), `because_you_watched` or `trending`.
    row: Option<String>,
    /// ISO 3166-1 alpha-2 country to rank for (default: the profile's).
    country: Option<String>,
    /// The device type asking (`tv`, `mobile`, `web`, …).
    device: Option<String>,
}

impl QueryFields for RecommendationsQuery {
    const FIELDS: &'static [&'static str] = &["k", "row", "country", "device"];
}

/// The query of `GET /v1/users/{user}/continue-watching`.
#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ContinueQuery {
    /// How many rows, 1 to 200 (default 20).
    k: Option<String>,
    /// ISO 3166-1 alpha-2 country (default: the profile's).
    country: Option<String>,
    /// The device type asking.
    device: Option<String>,
}

impl QueryFields for ContinueQuery {
    const FIELDS: &'static [&'static str] = &["k", "country", "device"];
}

/// The query of `GET /v1/titles/{title}/similar`.
#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SimilarQuery {
    /// How many titles, 1 to 200 (default 20).
    k: Option<String>,
    /// ISO 3166-1 alpha-2 country whose availability applies.
    country: Option<String>,
}

impl QueryFields for SimilarQuery {
    const FIELDS: &'static [&'static str] = &["k", "country"];
}

fn bad(field: &'static str, message: String) -> ApiError {
    ApiError::BadParameter { field, message }
}

fn params(q: RecommendationsQuery) -> ApiResult<Params> {
    let k = match q.k.as_deref() {
        None => 20,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|k| (1..=200).contains(k))
            .ok_or_else(|| bad("k", format!("k must be an integer in 1..=200, got `{s}`")))?,
    };
    let row = match q.row.as_deref() {
        None => Row::ForYou,
        Some(s) => Row::parse(s).ok_or_else(|| {
            bad(
                "row",
                format!("row must be for_you, because_you_watched or trending, got `{s}`"),
            )
        })?,
    };
    let country = match q.country {
        None => None,
        Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) => Some(c),
        Some(c) => {
            return Err(bad(
                "country",
                format!(
                    "country must be an ISO 3166-1 alpha-2 code (two uppercase letters), got `{c}`"
                ),
            ));
        }
    };
    if let Some(d) = q.device.as_deref()
        && !DeviceType::ALL.iter().any(|t| t.as_str() == d)
    {
        let all: Vec<&str> = DeviceType::ALL.iter().map(|t| t.as_str()).collect();
        return Err(bad(
            "device",
            format!("device must be one of {}, got `{d}`", all.join(", ")),
        ));
    }
    Ok(Params { k, row, country })
}

fn row_name(r: Row) -> &'static str {
    match r {
        Row::ForYou => "for_you",
        Row::BecauseYouWatched => "because_you_watched",
        Row::Trending => "trending",
    }
}

impl ServeState {
    /// Runs `f` with the context of a request for `user`: their live state
    /// (read-locked for the call), the request's country else the
    /// profile's, the time now. Also returns that country.
    fn in_context<R>(
        &self,
        user: &str,
        country: Option<&str>,
        f: impl FnOnce(&Context<'_>) -> R,
    ) -> (R, Option<String>) {
        self.users.with(user, |u| {
            let country = country
                .map(str::to_owned)
                .or_else(|| u.and_then(|u| u.country.clone()));
            let ctx = Context {
                user: u,
                country: country.as_deref(),
                now_ms: now_ms(),
                min_fraction: self.min_fraction,
            };
            (f(&ctx), country)
        })
    }
}

/// A home-screen row for a user.
#[utoipa::path(get, path = "/v1/users/{user}/recommendations", tag = "apps",
    params(("user" = String, Path, description = "the user's id"), RecommendationsQuery),
    responses(
        (status = 200, description = "the row", body = Recommendations),
        (status = 400, description = "a bad parameter (code `bad_parameter` or `unknown_parameter`, `field` names it)", body = ErrorBody),
        (status = 503, description = "no model trained yet (code `no_model`)", body = ErrorBody),
    ))]
async fn recommendations(
    State(st): State<ServeState>,
    UrlPath(user): UrlPath<String>,
    Query(q): Query<RecommendationsQuery>,
) -> ApiResult<Json<Recommendations>> {
    let p = params(q)?;
    let m = st.model().ok_or(ApiError::NoModel)?;
    let ((items, known), country) = st.in_context(&user, p.country.as_deref(), |ctx| {
        (rank::recommend(&m, ctx, p.row, p.k), ctx.user.is_some())
    });
    Ok(Json(Recommendations {
        user,
        known_user: known,
        row: row_name(p.row),
        country,
        model_version: m.version().to_owned(),
        items,
    }))
}

/// Resume points and next episodes of a user.
#[utoipa::path(get, path = "/v1/users/{user}/continue-watching", tag = "apps",
    params(("user" = String, Path, description = "the user's id"), ContinueQuery),
    responses(
        (status = 200, description = "the row", body = ContinueWatching),
        (status = 400, description = "a bad parameter (code `bad_parameter` or `unknown_parameter`, `field` names it)", body = ErrorBody),
        (status = 503, description = "no model trained yet (code `no_model`)", body = ErrorBody),
    ))]
async fn continue_watching(
    State(st): State<ServeState>,
    UrlPath(user): UrlPath<String>,
    Query(q): Query<ContinueQuery>,
) -> ApiResult<Json<ContinueWatching>> {
    let p = params(RecommendationsQuery {
        k: q.k,
        country: q.country,
        device: q.device,
        row: None,
    })?;
    let m = st.model().ok_or(ApiError::NoModel)?;
    let (items, _) = st.in_context(&user, p.country.as_deref(), |ctx| {
        rank::continue_watching(&m, ctx, p.k)
    });
    Ok(Json(ContinueWatching {
        user,
        model_version: m.version().to_owned(),
        items,
    }))
}

/// Titles like a title.
#[utoipa::path(get, path = "/v1/titles/{title}/similar", tag = "apps",
    params(("title" = String, Path, description = "the title's (or an episode's) id"), SimilarQuery),
    responses(
        (status = 200, description = "the titles", body = Similar),
        (status = 400, description = "a bad parameter (code `bad_parameter` or `unknown_parameter`, `field` names it)", body = ErrorBody),
        (status = 503, description = "no model trained yet (code `no_model`)", body = ErrorBody),
        (status = 404, description = "no such title (code `unknown_title`)", body = ErrorBody),
    ))]
async fn similar(
    State(st): State<ServeState>,
    UrlPath(title): UrlPath<String>,
    Query(q): Query<SimilarQuery>,
) -> ApiResult<Json<Similar>> {
    let p = params(RecommendationsQuery {
        k: q.k,
        country: q.country,
        ..RecommendationsQuery::default()
    })?;
    let m = st.model().ok_or(ApiError::NoModel)?;
    let t = m
        .artifact
        .catalog
        .resolve(&title)
        .ok_or_else(|| ApiError::UnknownTitle(format!("unknown title `{title}`")))?;
    let items = rank::similar(&m, t, p.country.as_deref(), now_ms(), p.k);
    Ok(Json(Similar {
        title_id: m.artifact.catalog.titles[t].id.clone(),
        model_version: m.version().to_owned(),
        items,
    }))
}

/// The model version serving, and its manifest.
#[utoipa::path(get, path = "/v1/models/current", tag = "apps",
    responses(
        (status = 200, description = "the served version", body = CurrentModel),
        (status = 503, description = "no model trained yet (code `no_model`)", body = ErrorBody),
    ))]
async fn current_model(State(st): State<ServeState>) -> ApiResult<Json<CurrentModel>> {
    let m = st.model().ok_or(ApiError::NoModel)?;
    Ok(Json(CurrentModel {
        manifest: m.artifact.manifest.clone(),
        users_known: st.users.len(),
    }))
}

/// `GET /v1/users/{user}/recommendations`.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct Recommendations {
    /// The user asked about.
    pub user: String,
    /// Whether the lake or the stream knows them (else: trending).
    pub known_user: bool,
    /// The row: `for_you`, `because_you_watched` or `trending`.
    pub row: &'static str,
    /// The country ranked for: the request's, else the profile's.
    pub country: Option<String>,
    /// The model version that ranked.
    pub model_version: String,
    /// The titles, best first.
    pub items: Vec<rank::Item>,
}

/// `GET /v1/users/{user}/continue-watching`.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct ContinueWatching {
    /// The user asked about.
    pub user: String,
    /// The model version serving.
    pub model_version: String,
    /// Resume points and next episodes, latest first.
    pub items: Vec<rank::Resume>,
}

/// `GET /v1/titles/{title}/similar`.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct Similar {
    /// The title (a series, for an episode asked about).
    pub title_id: String,
    /// The model version that ranked.
    pub model_version: String,
    /// The titles, most similar first.
    pub items: Vec<rank::Item>,
}

/// `GET /v1/models/current`.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct CurrentModel {
    /// The served version's manifest.
    #[schema(value_type = Object)]
    pub manifest: artifact::Manifest,
    /// Users serving knows.
    pub users_known: usize,
}

/// Serving's routes, described.
#[derive(OpenApi)]
#[openapi(
    paths(recommendations, continue_watching, similar, current_model),
    components(schemas(
        Recommendations,
        ContinueWatching,
        Similar,
        CurrentModel,
        rank::Item,
        rank::Resume
    ))
)]
pub struct ServeApi;

/// Serving's figures, read at each scrape: the followers' counters, users
/// known, and the served model's age.
#[derive(Debug, Clone)]
pub struct ServeCollector(pub ServeState);

impl std::fmt::Debug for ServeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeState")
            .field("models_dir", &self.models_dir)
            .field("users", &self.users.len())
            .finish()
    }
}

impl showrunner_web::telemetry::Collector for ServeCollector {
    fn encode(&self, mut e: showrunner_web::telemetry::DescriptorEncoder) -> std::fmt::Result {
        use showrunner_web::telemetry::gauge;
        live::encode(&self.0, &mut e)?;
        gauge(
            &mut e,
            "showrunner_recommender_users",
            "users serving knows (from the lake and the stream)",
            self.0.users.len() as f64,
        )?;
        if let Some(m) = self.0.model() {
            gauge(
                &mut e,
                "showrunner_recommender_model_age_seconds",
                "age of the served model version",
                (now_ms() - m.artifact.manifest.created_at_ms) as f64 / 1e3,
            )?;
        }
        Ok(())
    }
}
