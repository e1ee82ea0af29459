//! The HTTP server of the `collector` and `api` roles: one listener, the
//! routes of the roles taken (`dashboard::router_for`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use showrunner_bus::{self as nats, StreamSettings};
use showrunner_churn::api::RiskState;
use showrunner_dashboard::{AppState, ReloadKeys, Surface};
use showrunner_events::{Limits, Validator};
use showrunner_ingest::collector::{self, CollectorState};
use showrunner_ingest::metrics::Metrics;
use showrunner_lake::Store;
use showrunner_recommender::serve::{ServeCollector, ServeState, live, users::Users};
use showrunner_warehouse::api::{ApiState, QueryLimits};
use showrunner_warehouse::clickhouse::ClickHouseEngine;
use showrunner_web::limit::{Limiter, RateLimits};
use showrunner_web::{Gate, Keys, Ops, Telemetry};
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
    /// The lake the APIs read (a directory or an object store).
    pub lake: Store,
    /// Where model versions are published and served from (a directory);
    /// `None` (an object-store lake without `recommender.models_dir`):
    /// the `api` and `trainer` roles are refused.
    pub models: Option<PathBuf>,
    /// Event rules of the collector.
    pub limits: Limits,
    /// The keys in use (shared: rotation replaces them).
    pub keys: Keys,
    /// Rate limits of each role, per key.
    pub rate_limits: RateLimits,
    /// Reads the keys again (`POST /v1/admin/keys/reload`, `SIGHUP`).
    pub reload_keys: ReloadKeys,
    /// Origins whose pages may post events from a browser (CORS).
    pub cors_origins: Vec<String>,
    /// Limits of analysts' queries.
    pub query: QueryLimits,
    /// `engine=clickhouse` on the metrics API, when configured.
    pub clickhouse: Option<ClickHouseEngine>,
    /// How far back serving replays the stream over its lake snapshot.
    pub replay: Duration,
    /// How often serving looks for a new model version.
    pub reload: Duration,
    /// Campaigns: the sender and webhook endpoints.
    pub marketing: showrunner_campaigns::config::MarketingConfig,
}

/// Builds the app state: a NATS client that connects (and reconnects) in
/// the background, stream creation retried until NATS answers, and — for
/// the `api` role — the recommender's users and model from the lake,
/// followed live. The serving and query figures are registered with
/// `telemetry`, and `/readyz` checks NATS (and, for `api`, the lake and
/// the model).
pub async fn state(
    s: &ApiSettings,
    telemetry: &Telemetry,
    metrics: Arc<Metrics>,
    api: bool,
) -> Result<AppState> {
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
    let recommender = if api {
        let (lake, models) = (s.lake.clone(), s.models.clone().unwrap_or_default());
        let r = tokio::task::spawn_blocking(move || ServeState::open_store(&lake, models))
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
        ServeState::new(s.models.clone().unwrap_or_default(), Users::default())
    };
    // marketing's churn scores, read again when `churn score` replaces them
    let churn = if api {
        let c = RiskState::open(s.lake.clone()).await;
        tokio::spawn(showrunner_churn::api::reload_loop(c.clone(), s.reload));
        c
    } else {
        RiskState::new(s.lake.clone())
    };
    // marketing's campaigns: campaigns, profiles and pushes from the lake,
    // then followed from the bus
    let campaigns = {
        let mut c = showrunner_campaigns::CampaignsState::new(s.lake.clone(), js.clone());
        if api {
            c.book = showrunner_campaigns::load(&s.lake)
                .await
                .map_err(|e| Error::Task {
                    role: "api",
                    message: format!("loading campaigns from the lake: {e}"),
                })?;
            let since = time::OffsetDateTime::now_utc() - s.replay;
            showrunner_projections::live::spawn_followers(
                js.clone(),
                &s.streams.events,
                since,
                c.book.clone(),
            );
            tokio::spawn(showrunner_campaigns::sender::run(
                c.clone(),
                s.marketing.sender(),
            ));
            spawn_webhooks(&js, &s.marketing)?;
        }
        c
    };
    // the Live page's pulse: the last hour of player events, from the bus
    let pulse: showrunner_dashboard::live::SharedPulse = Arc::default();
    if api {
        let since = time::OffsetDateTime::now_utc()
            - Duration::from_secs(showrunner_projections::pulse::MAX_MINUTES as u64 * 60);
        showrunner_projections::live::spawn_followers(
            js.clone(),
            &s.streams.events,
            since,
            pulse.clone(),
        );
    }
    let mut warehouse = ApiState::over(s.lake.clone(), s.query);
    if let Some(engine) = &s.clickhouse {
        warehouse = warehouse.with_clickhouse(engine.clone());
    }
    let collector = CollectorState {
        client,
        js,
        validator: Arc::new(Validator::new(s.limits.clone())),
        metrics,
        streams: s.streams.clone(),
    };
    telemetry.register_collector(collector::NatsUp(collector.client.clone()));
    let mut ops = Ops::new(telemetry.clone()).check("nats", true, {
        let c = collector.clone();
        move || {
            let c = c.clone();
            async move {
                if collector::ready(&c).await {
                    Ok(format!("connected; stream {} reachable", c.streams.events))
                } else {
                    Err(format!(
                        "NATS unreachable or stream {} missing",
                        c.streams.events
                    ))
                }
            }
        }
    });
    if api {
        warehouse = warehouse.with_telemetry(telemetry);
        telemetry.register_collector(ServeCollector(recommender.clone()));
        ops = ops
            .check("lake", true, {
                let lake = s.lake.clone();
                move || lake_readable(lake.clone())
            })
            .check("model", false, {
                let r = recommender.clone();
                move || {
                    let r = r.clone();
                    async move {
                        r.model()
                            .map(|m| format!("serving version {}", m.version()))
                            .ok_or_else(|| {
                                format!("no model published under {}", r.models_dir.display())
                            })
                    }
                }
            });
    }
    Ok(AppState {
        collector,
        ops,
        warehouse,
        recommender,
        churn,
        campaigns,
        gate: Arc::new(Gate::new(
            showrunner_dashboard::access::ROUTES,
            s.keys.clone(),
            Limiter::new(s.rate_limits),
        )),
        reload_keys: checked_reload(s.reload_keys.clone(), bind_addrs(&s.bind).await?),
        cors_origins: Arc::new(s.cors_origins.clone()),
        pulse,
    })
}

/// Feeds the configured webhook endpoints from the push gateway's stream,
/// in the background (reconnecting when the feed fails); none configured:
/// nothing. A secret's variable missing from the environment is an error.
fn spawn_webhooks(
    js: &async_nats::jetstream::Context,
    m: &showrunner_campaigns::config::MarketingConfig,
) -> Result<()> {
    use showrunner_campaigns::webhook::{Webhooks, feed};
    if m.webhooks.is_empty() {
        return Ok(());
    }
    let config = |message: String| Error::Config(message);
    let endpoints = m.endpoints(|k| std::env::var(k).ok()).map_err(config)?;
    let hooks =
        Arc::new(Webhooks::new(endpoints, m.retry(), m.webhook_disable_after).map_err(config)?);
    let (js, window) = (js.clone(), m.duplicate_window);
    tokio::spawn(async move {
        loop {
            let ready = showrunner_campaigns::sender::ensure_push_stream(&js, window).await;
            let fed = match ready {
                Ok(()) => feed(&js, hooks.clone(), Duration::from_secs(600)).await,
                Err(e) => Err(e),
            };
            if let Err(e) = fed {
                tracing::warn!(error = %e, "feeding the webhooks failed; retrying");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Ok(())
}

/// The operator routes' state of a worker without the HTTP roles (`ingest
/// --metrics-bind`): its telemetry, and readiness checking its NATS
/// connection (a client of its own, connecting in the background).
pub async fn worker_ops(telemetry: &Telemetry, nats_url: &str) -> Result<Ops> {
    let client = nats::connect_lazy(nats_url).await?;
    Ok(Ops::new(telemetry.clone()).check("nats", true, move || {
        let up = client.connection_state() == async_nats::connection::State::Connected;
        async move {
            match up {
                true => Ok("connected".to_owned()),
                false => Err("NATS unreachable".to_owned()),
            }
        }
    }))
}

/// Whether the lake can be read: its directory listed (one not created yet
/// is an empty lake: ingest creates it), or its object store answering a
/// look-up of the materializer's state (one small HEAD/GET, whatever the
/// lake's size).
async fn lake_readable(lake: Store) -> showrunner_web::ops::Outcome {
    if let Some(dir) = lake.local_root() {
        return match tokio::fs::read_dir(dir).await {
            Ok(_) => Ok(format!("{} readable", dir.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(format!("{} empty (not created yet)", dir.display()))
            }
            Err(e) => Err(format!("{}: {e}", dir.display())),
        };
    }
    match lake
        .get_opt(&showrunner_lake::layout::keys::materialize_state())
        .await
    {
        Ok(_) => Ok(format!("{lake} answers")),
        Err(e) => Err(format!("{lake}: {e}")),
    }
}

/// Every address `bind` (`host:port`, a name resolved) stands for.
async fn bind_addrs(bind: &str) -> Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(bind)
        .await
        .map_err(|source| Error::Http {
            addr: bind.to_owned(),
            source,
        })?
        .collect();
    Ok(addrs)
}

/// Refuses the development keys of `ring` unless every address in `addrs`
/// is a loopback one.
fn check_addrs(ring: &showrunner_web::Keyring, addrs: &[SocketAddr]) -> Result<(), String> {
    addrs.iter().try_for_each(|a| ring.check_bind(*a))
}

/// `reload`, refusing the development keys where the server listens off
/// loopback (`addrs`: what its bind address resolved to).
fn checked_reload(reload: ReloadKeys, addrs: Vec<SocketAddr>) -> ReloadKeys {
    Arc::new(move || {
        let ring = reload()?;
        check_addrs(&ring, &addrs)?;
        Ok(ring)
    })
}

/// Reloads the keys on each `SIGHUP` until `stop`.
fn reload_on_hangup(state: AppState, stop: &Stop) {
    let stopped = stop.stopped();
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            tracing::warn!(
                "SIGHUP cannot be watched; keys reload by POST /v1/admin/keys/reload only"
            );
            return;
        };
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                got = hup.recv() => {
                    if got.is_none() {
                        return;
                    }
                    if let Err(e) = showrunner_dashboard::reload_keys_now(&state) {
                        tracing::warn!(error = %e, "SIGHUP: the keys were not reloaded; the old ones stay");
                    }
                }
            }
        }
    });
}

/// Binds `addr` and serves `surface` of `state` until `stop` (keys reload
/// on `SIGHUP`). The development keys are refused unless `addr` is a
/// loopback address.
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
    // every address the name resolves to, before anything listens
    check_addrs(&state.gate.keys().current(), &bind_addrs(addr).await?).map_err(Error::Keys)?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(http)?;
    let local = listener.local_addr().map_err(http)?;
    // and what was bound (a name may resolve differently the second time)
    check_addrs(&state.gate.keys().current(), &[local]).map_err(Error::Keys)?;
    reload_on_hangup(state.clone(), stop);
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
