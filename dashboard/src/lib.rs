//! The HTTP application: composes the crates' routers and serves the
//! operator endpoints.
//!
//! Module map:
//! - [`router_for`] — the routes of the roles a process takes
//!   ([`Surface`]); [`router`] — the whole app: the analysts' pages
//!   ([`pages`]: `/` leads to `/overview`; sign-in), `/healthz`, `/readyz`,
//!   `/metrics` (the operator routes of `showrunner_web::ops`), the collector's `/v1/events`,
//!   the warehouse's `/v1/metrics` and `/v1/sql`, the
//!   recommender's `/v1/users/…`, `/v1/titles/…` and `/v1/models/current`,
//!   marketing's `/v1/users/{user}/churn-risk` and `/v1/campaigns…`,
//!   and `POST /v1/admin/keys/reload` — all behind the one gate
//!   (keys, roles, rate limits) and CORS for the configured origins;
//! - [`access`] — the route → role table;
//! - [`config`] — the `[http]` configuration section.

pub mod access;
pub mod config;
pub mod live;
pub mod pages;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use showrunner_ingest::collector::{self, CollectorState};
use showrunner_web::{ErrorBody, ErrorDetail, Gate, Keyring, Ops, Refusal};
use utoipa::OpenApi;

/// Reads the keys again (from the configuration file), checked: what
/// `POST /v1/admin/keys/reload` and `SIGHUP` put in place.
pub type ReloadKeys = Arc<dyn Fn() -> Result<Keyring, String> + Send + Sync>;

/// Shared state of the app.
#[derive(Clone)]
pub struct AppState {
    /// The collector (and its NATS handles).
    pub collector: CollectorState,
    /// `/healthz`, `/readyz` (its checks), `/metrics` (the process's
    /// telemetry, to which every component reports its own figures).
    pub ops: Ops,
    /// The warehouse's query API over the lake.
    pub warehouse: showrunner_warehouse::api::ApiState,
    /// The recommender's serving state.
    pub recommender: showrunner_recommender::serve::ServeState,
    /// The churn scores marketing reads.
    pub churn: showrunner_churn::api::RiskState,
    /// Marketing's campaigns.
    pub campaigns: showrunner_campaigns::CampaignsState,
    /// Keys, roles and rate limits of every route ([`access::ROUTES`]).
    pub gate: Arc<Gate>,
    /// How the keys are read again when they rotate.
    pub reload_keys: ReloadKeys,
    /// Origins whose pages may call from a browser (CORS); empty: none.
    pub cors_origins: Arc<Vec<String>>,
    /// The last minutes of the player events, followed from the bus (the
    /// Live page's `/v1/live`).
    pub pulse: live::SharedPulse,
}

/// Which routes a process serves: the `collector` role's, the `api`
/// role's, or both; the operator endpoints are always there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surface {
    /// `POST /v1/events`.
    pub collector: bool,
    /// The analysts' and apps' APIs.
    pub api: bool,
}

impl Surface {
    /// Everything.
    pub const ALL: Surface = Surface {
        collector: true,
        api: true,
    };
}

/// The whole HTTP app.
pub fn router(state: AppState) -> Router {
    router_for(state, Surface::ALL)
}

/// The operator endpoints and the routes of `surface`, behind the gate.
pub fn router_for(state: AppState, surface: Surface) -> Router {
    // the tests hold the description and the table to each other; should
    // they ever disagree, /openapi.json says so as a 500, never as a 200
    let doc = Arc::new(openapi(surface).inspect_err(|e| {
        tracing::error!(error = %e, "the API description does not match the route table");
    }));
    let mut r = Router::new()
        .route("/v1/admin/keys/reload", post(reload_keys))
        .with_state(state.clone())
        .route(
            "/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move {
                    match doc.as_ref() {
                        Ok(d) => Json(d.clone()).into_response(),
                        Err(e) => Refusal::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "no_description",
                            format!("the API description does not match the route table: {e}"),
                        )
                        .into_response(),
                    }
                }
            }),
        )
        .merge(showrunner_web::ops::router(state.ops.clone()))
        .fallback(not_found);
    if surface.collector {
        r = r.merge(collector::router(state.collector.clone()));
    }
    if surface.api {
        r = r
            .merge(pages::router(pages::Pages {
                gate: state.gate.clone(),
                warehouse: state.warehouse.clone(),
            }))
            .merge(
                Router::new()
                    .route("/v1/live", get(live::stream))
                    .with_state(state.pulse.clone()),
            )
            .merge(showrunner_warehouse::api::router(state.warehouse.clone()))
            .merge(showrunner_recommender::serve::router(
                state.recommender.clone(),
            ))
            .merge(showrunner_churn::api::router(state.churn.clone()))
            .merge(showrunner_campaigns::router(state.campaigns.clone()));
    }
    let r = showrunner_web::access::guard(r, state.gate.clone());
    let r = showrunner_web::telemetry::track(r, state.ops.telemetry().http().clone());
    with_cors(r, &state.cors_origins)
}

/// The app's own routes, described (the rest come from each crate).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Showrunner",
        description = "Events in; metrics, SQL and recommendations out. Errors answer one body, `{\"error\": {\"code\", \"message\", \"field\"}}`; `code` is stable."
    ),
    paths(reload_keys, openapi_json),
    components(schemas(ErrorBody, ErrorDetail, KeysReloaded))
)]
struct AppApi;

/// This description (OpenAPI 3.1).
#[utoipa::path(get, path = "/openapi.json", tag = "operators",
    responses((status = 200, description = "the description", body = Object)))]
#[allow(dead_code)] // described here; served by `router_for`'s closure
async fn openapi_json() {}

/// The description of what a process of `surface` serves: every route's
/// parameters, bodies and answers, with the gate's rules from
/// [`access::ROUTES`] (bearer keys, roles, 401/403/429), as JSON.
pub fn openapi(surface: Surface) -> Result<serde_json::Value, String> {
    openapi_doc(surface).and_then(|d| serde_json::to_value(d).map_err(|e| e.to_string()))
}

/// [`openapi`] as utoipa's document.
pub fn openapi_doc(surface: Surface) -> Result<utoipa::openapi::OpenApi, String> {
    let mut doc = AppApi::openapi();
    doc.merge(showrunner_web::ops::OpsApi::openapi());
    if surface.collector {
        doc.merge(collector::CollectorApi::openapi());
    }
    if surface.api {
        doc.merge(showrunner_warehouse::api::WarehouseApi::openapi());
        doc.merge(live::LiveApi::openapi());
        doc.merge(showrunner_recommender::serve::ServeApi::openapi());
        doc.merge(showrunner_churn::api::RiskApi::openapi());
        doc.merge(showrunner_campaigns::CampaignsApi::openapi());
    }
    showrunner_web::openapi::apply_access(&mut doc, access::ROUTES)?;
    Ok(doc)
}

/// A path no route matches: the one error body.
async fn not_found(uri: axum::http::Uri) -> Refusal {
    Refusal::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route {} (see /openapi.json)", uri.path()),
    )
}

/// The recommender's API behind `gate` (also what `bench recommend` loads).
pub fn app_router(
    recommender: showrunner_recommender::serve::ServeState,
    gate: Arc<Gate>,
) -> Router {
    showrunner_web::access::guard(showrunner_recommender::serve::router(recommender), gate)
}

/// `router` answering browsers of `origins` (the gate's refusals
/// included, so a page can read why); origins were checked when the
/// config was read.
fn with_cors(router: Router, origins: &[String]) -> Router {
    match showrunner_web::cors::layer(origins, &[Method::GET, Method::POST, Method::PUT]) {
        Ok(Some(cors)) => router.layer(cors),
        Ok(None) => router,
        Err(e) => {
            tracing::error!(error = %e, "CORS origins refused; no origin allowed");
            router
        }
    }
}

/// The answer of a key reload.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct KeysReloaded {
    /// How many keys are in place now.
    pub keys: usize,
}

/// Reads the keys again and puts them in place; the old ones stay when
/// the new ones are refused.
pub fn reload_keys_now(st: &AppState) -> Result<KeysReloaded, String> {
    let ring = (st.reload_keys)()?;
    let keys = ring.len();
    st.gate.keys().replace(ring);
    tracing::info!(keys, "keys reloaded");
    Ok(KeysReloaded { keys })
}

/// Reads the keys again from the configuration (as `SIGHUP` does); the old
/// ones stay when the new ones are refused.
#[utoipa::path(post, path = "/v1/admin/keys/reload", tag = "operators",
    responses(
        (status = 200, description = "the new keys are in place", body = KeysReloaded),
        (status = 422, description = "the configuration's keys were refused; the old ones stay (code `keys_refused`)", body = ErrorBody),
    ))]
async fn reload_keys(State(st): State<AppState>) -> Response {
    match reload_keys_now(&st) {
        Ok(r) => Json(r).into_response(),
        Err(message) => Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "keys_refused",
            format!("the keys were not reloaded (the old ones stay): {message}"),
        )
        .into_response(),
    }
}
