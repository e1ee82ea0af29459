//! The HTTP application: composes the crates' routers and serves the
//! operator endpoints.
//!
//! Module map:
//! - [`router_for`] — the routes of the roles a process takes
//!   ([`Surface`]); [`router`] — the whole app: `/` (index), `/healthz`, `/readyz`,
//!   `/metrics` (Prometheus), the collector's `/v1/events` (ingest keys),
//!   the warehouse's `/v1/metrics` and `/v1/sql` (analyst keys), and the
//!   recommender's `/v1/users/…`, `/v1/titles/…` and `/v1/models/current`
//!   (app keys);
//! - [`metrics_router`] — `/metrics` alone, for a separate ingest worker;
//! - [`config`] — the `[http]` configuration section.

pub mod config;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use showrunner_ingest::collector::{self, CollectorState};
use showrunner_ingest::metrics::{Metrics, render_gauge};

/// Shared state of the app.
#[derive(Clone)]
pub struct AppState {
    /// The collector (and its NATS handles).
    pub collector: CollectorState,
    /// Durable consumer whose lag `/metrics` reports.
    pub ingest_durable: String,
    /// The ClickHouse sink's durable consumer (its lag is reported when it
    /// exists).
    pub clickhouse_durable: String,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The warehouse's query API over the lake.
    pub warehouse: showrunner_warehouse::api::ApiState,
    /// Keys accepted by the analyst endpoints.
    pub analyst_keys: Arc<Vec<String>>,
    /// The recommender's serving state.
    pub recommender: showrunner_recommender::serve::ServeState,
    /// Keys accepted by the app endpoints.
    pub app_keys: Arc<Vec<String>>,
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

/// The operator endpoints and the routes of `surface`.
pub fn router_for(state: AppState, surface: Surface) -> Router {
    let ops = Router::new()
        .route("/", get(index))
        .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state.clone());
    let analyst = with_keys(
        showrunner_warehouse::api::router(state.warehouse.clone()),
        state.analyst_keys.clone(),
        "analyst",
    );
    let app = app_router(state.recommender.clone(), state.app_keys.clone());
    let mut r = ops;
    if surface.collector {
        r = r.merge(collector::router(state.collector));
    }
    if surface.api {
        r = r.merge(analyst).merge(app);
    }
    r
}

/// The recommender's API behind app keys (also what `bench recommend` loads).
pub fn app_router(
    recommender: showrunner_recommender::serve::ServeState,
    keys: Arc<Vec<String>>,
) -> Router {
    with_keys(
        showrunner_recommender::serve::router(recommender),
        keys,
        "app",
    )
}

/// `router` with every route behind `Authorization: Bearer <key>` of `keys`
/// (`who` names the kind of key in the 401 answer).
fn with_keys(router: Router, keys: Arc<Vec<String>>, who: &'static str) -> Router {
    router.route_layer(middleware::from_fn_with_state((keys, who), require_key))
}

/// Lets a request through only with `Authorization: Bearer <key>` of `keys`.
async fn require_key(
    State((keys, who)): State<(Arc<Vec<String>>, &'static str)>,
    req: Request,
    next: Next,
) -> Response {
    if collector::bearer_ok(req.headers(), &keys) {
        return next.run(req).await;
    }
    showrunner_web::Refusal::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        format!("missing or unknown key (Authorization: Bearer <{who} key>)"),
    )
    .into_response()
}

/// A router with only `/metrics` (the ingest worker's counters) and
/// `/healthz`, for `showrunner ingest --metrics-bind`.
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    let mut out = String::new();
                    metrics.render(&mut out);
                    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
                }
            }),
        )
}

async fn readyz(State(st): State<AppState>) -> Response {
    if collector::ready(&st.collector).await {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "nats unreachable\n").into_response()
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    let mut out = String::new();
    st.metrics.render(&mut out);
    let lags = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        let stream = st
            .collector
            .js
            .get_stream(&st.collector.streams.events)
            .await
            .ok()?;
        let ingest = stream.consumer_info(&st.ingest_durable).await.ok();
        let clickhouse = stream.consumer_info(&st.clickhouse_durable).await.ok();
        Some((ingest, clickhouse))
    })
    .await
    .ok()
    .flatten();
    let (ingest, clickhouse) = lags.unwrap_or((None, None));
    for (info, name, help) in [
        (
            ingest,
            "showrunner_ingest_lag_messages",
            "messages in the event stream not yet committed to the lake (pending + unacked)",
        ),
        (
            clickhouse,
            "showrunner_clickhouse_lag_messages",
            "messages in the event stream not yet inserted into ClickHouse (pending + unacked)",
        ),
    ] {
        if let Some(info) = info {
            render_gauge(
                &mut out,
                name,
                help,
                (info.num_pending + info.num_ack_pending as u64) as f64,
            );
        }
    }
    st.recommender.render_metrics(&mut out);
    let up = f64::from(u8::from(
        st.collector.client.connection_state() == async_nats::connection::State::Connected,
    ));
    render_gauge(
        &mut out,
        "showrunner_nats_up",
        "1 when connected to NATS",
        up,
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

async fn index() -> Html<&'static str> {
    Html(include_str!("index.html"))
}
