//! The HTTP server of the `collector` and `api` roles: one listener, the
//! routes of the roles taken (`dashboard::router_for`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use showrunner_bus::{self as nats, StreamSettings};
use showrunner_dashboard::{AppState, Surface};
use showrunner_events::{Limits, Validator};
use showrunner_ingest::collector::CollectorState;
use showrunner_ingest::metrics::Metrics;
use showrunner_recommender::serve::{ServeState, live, users::Users};
use showrunner_warehouse::api::{ApiState, QueryLimits};
use showrunner_warehouse::clickhouse::ClickHouseEngine;
use tokio::task::JoinHandle;

use crate::stop::Stop;
use crate::{Error, Result};

/// What the HTTP roles need.
#[derive(Clone)]
pub struct ApiSettings {
    /// Listen address.
    pub bind: String,
    /// NATS URL (the collector publishes, serving follows).
    pub nats_url: String,
    /// Stream names.
    pub streams: StreamSettings,
    /// The lake the APIs read.
    pub lake: PathBuf,
    /// Event rules of the collector.
    pub limits: Limits,
    /// Keys of `POST /v1/events`.
    pub ingest_keys: Vec<String>,
    /// Keys of the analysts' API.
    pub analyst_keys: Vec<String>,
    /// Keys of the apps' API.
    pub app_keys: Vec<String>,
    /// Origins whose pages may post events from a browser (CORS).
    pub cors_origins: Vec<String>,
    /// The ingest durable whose lag `/metrics` reports.
    pub ingest_durable: String,
    /// The ClickHouse sink's durable (its lag too, when it exists).
    pub clickhouse_durable: String,
    /// Limits of analysts' queries.
    pub query: QueryLimits,
    /// `engine=clickhouse` on the metrics API, when configured.
    pub clickhouse: Option<ClickHouseEngine>,
    /// How far back serving replays the stream over its lake snapshot.
    pub replay: Duration,
    /// How often serving looks for a new model version.
    pub reload: Duration,
}

/// Builds the app state: a NATS client that connects (and reconnects) in
/// the background, stream creation retried until NATS answers, and — for
/// the `api` role — the recommender's users and model from the lake,
/// followed live.
pub async fn state(s: &ApiSettings, metrics: Arc<Metrics>, api: bool) -> Result<AppState> {
    let client = nats::connect_lazy(&s.nats_url).await?;
    let js = nats::context(client.clone(), Duration::from_secs(5), 8_192);
    {
        let (js, streams) = (js.clone(), s.streams.clone());
        tokio::spawn(async move {
            while let Err(e) = nats::ensure_streams(&js, &streams).await {
                tracing::warn!(error = %e, "streams not ready; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    let layout = showrunner_lake::Layout::new(&s.lake);
    let recommender = if api {
        let lake = s.lake.clone();
        let r = tokio::task::spawn_blocking(move || ServeState::open(&lake))
            .await
            .map_err(|e| Error::Task {
                role: "api",
                message: e.to_string(),
            })??;
        let since = time::OffsetDateTime::now_utc() - s.replay;
        live::spawn_followers(js.clone(), &s.streams.events, since, &r);
        tokio::spawn(live::reload_loop(r.clone(), s.reload));
        r
    } else {
        ServeState::new(layout.models(), Users::default())
    };
    let mut warehouse = ApiState::new(s.lake.clone(), s.query);
    if let Some(engine) = &s.clickhouse {
        warehouse = warehouse.with_clickhouse(engine.clone());
    }
    Ok(AppState {
        collector: CollectorState {
            client,
            js,
            validator: Arc::new(Validator::new(s.limits.clone())),
            ingest_keys: Arc::new(s.ingest_keys.clone()),
            metrics: metrics.clone(),
            streams: s.streams.clone(),
            cors_origins: Arc::new(s.cors_origins.clone()),
        },
        ingest_durable: s.ingest_durable.clone(),
        clickhouse_durable: s.clickhouse_durable.clone(),
        metrics,
        warehouse,
        analyst_keys: Arc::new(s.analyst_keys.clone()),
        recommender,
        app_keys: Arc::new(s.app_keys.clone()),
    })
}

/// Binds `addr` and serves `surface` of `state` until `stop`.
pub async fn serve(
    addr: &str,
    state: AppState,
    surface: Surface,
    stop: &Stop,
) -> Result<(SocketAddr, JoinHandle<Result<()>>)> {
    let http = |source| Error::Http {
        addr: addr.to_owned(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(http)?;
    let local = listener.local_addr().map_err(http)?;
    let app = showrunner_dashboard::router_for(state, surface);
    let shutdown = stop.stopped();
    let addr = addr.to_owned();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| Error::Http { addr, source })
    });
    Ok((local, task))
}
