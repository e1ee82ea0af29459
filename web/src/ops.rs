//! The operator routes every process serves, the same everywhere:
//!
//! - `GET /healthz` — the process answers (`ok`);
//! - `GET /readyz` — each [`Ops::check`] run (at most [`CHECK_TIMEOUT`]
//!   each; an answer reused for [`READINESS_FOR`]), answered as
//!   [`Readiness`]: 200 when every *required* check passed, else 503;
//!   checks that are only reported (a model not trained yet) say so
//!   without taking the process out of a load balancer;
//! - `GET /metrics` — the process's [`Telemetry`], encoded by the
//!   Prometheus client library.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::telemetry::{CONTENT_TYPE, Telemetry};

/// How long one readiness check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an answer of `/readyz` is reused: a flood of probes costs the
/// checked services one round of checks a second, not one per probe.
pub const READINESS_FOR: Duration = Duration::from_secs(1);

/// What a check found: `Ok(detail)` usable, `Err(why)` not.
pub type Outcome = Result<String, String>;

/// A readiness check: called at each `/readyz`.
pub type CheckFn = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Outcome> + Send>> + Send + Sync>;

#[derive(Clone)]
struct Check {
    name: &'static str,
    required: bool,
    run: CheckFn,
}

/// The operator routes' state: telemetry and readiness checks.
#[derive(Clone)]
pub struct Ops {
    telemetry: Telemetry,
    checks: Vec<Check>,
    last: Arc<tokio::sync::Mutex<Option<(tokio::time::Instant, Readiness)>>>,
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops")
            .field(
                "checks",
                &self.checks.iter().map(|c| c.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// One check's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckResult {
    /// What was checked (`nats`, `lake`, `model`).
    pub name: String,
    /// Whether it is usable.
    pub ok: bool,
    /// Whether readiness depends on it.
    pub required: bool,
    /// What was found, or why it is not usable.
    pub detail: String,
}

/// The answer of `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Readiness {
    /// Every required check passed.
    pub ready: bool,
    /// Each check.
    pub checks: Vec<CheckResult>,
}

impl Ops {
    /// Operator routes over `telemetry`, with no check yet.
    pub fn new(telemetry: Telemetry) -> Self {
        Ops {
            telemetry,
            checks: Vec::new(),
            last: Arc::default(),
        }
    }

    /// Adds a check; `required`: readiness depends on it.
    pub fn check<F, Fut>(mut self, name: &'static str, required: bool, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        self.checks.push(Check {
            name,
            required,
            run: Arc::new(move || Box::pin(f())),
        });
        self.last = Arc::default(); // other checks, another answer
        self
    }

    /// The telemetry it serves.
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// The readiness of the last [`READINESS_FOR`], else [`Ops::check_now`]'s
    /// (one round at a time: concurrent probes wait for it).
    pub async fn readiness(&self) -> Readiness {
        let mut last = self.last.lock().await;
        if let Some((at, r)) = last.as_ref()
            && at.elapsed() < READINESS_FOR
        {
            return r.clone();
        }
        let r = self.check_now().await;
        *last = Some((tokio::time::Instant::now(), r.clone()));
        r
    }

    /// Runs every check (concurrently, each bounded by [`CHECK_TIMEOUT`]).
    pub async fn check_now(&self) -> Readiness {
        let runs = self.checks.iter().map(|c| {
            let run = (c.run)();
            async move {
                let outcome = tokio::time::timeout(CHECK_TIMEOUT, run)
                    .await
                    .unwrap_or_else(|_| {
                        Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs()))
                    });
                let (ok, detail) = match outcome {
                    Ok(d) => (true, d),
                    Err(d) => (false, d),
                };
                CheckResult {
                    name: c.name.to_owned(),
                    ok,
                    required: c.required,
                    detail,
                }
            }
        });
        let checks = futures::future::join_all(runs).await;
        Readiness {
            ready: checks.iter().all(|c| c.ok || !c.required),
            checks,
        }
    }
}

/// `/healthz`, `/readyz`, `/metrics` of `ops`.
pub fn router<S: Clone + Send + Sync + 'static>(ops: Ops) -> Router<S> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

/// The process answers.
#[utoipa::path(get, path = "/healthz", tag = "operators",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")))]
async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok\n")
}

/// Whether the process can serve: each check, and whether every required
/// one passed.
#[utoipa::path(get, path = "/readyz", tag = "operators",
    responses(
        (status = 200, description = "ready", body = Readiness),
        (status = 503, description = "a required check failed", body = Readiness),
    ))]
async fn readyz(State(ops): State<Ops>) -> Response {
    let r = ops.readiness().await;
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(r)).into_response()
}

/// The process's figures (Prometheus / OpenMetrics text).
#[utoipa::path(get, path = "/metrics", tag = "operators",
    responses((status = 200, description = "the exposition", body = String,
        content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8")))]
async fn metrics(State(ops): State<Ops>) -> Response {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        ops.telemetry.encode(),
    )
        .into_response()
}

/// The operator routes, described.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(healthz, readyz, metrics),
    components(schemas(Readiness, CheckResult))
)]
pub struct OpsApi;

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    async fn get_json(app: &Router, uri: &str) -> (StatusCode, Readiness) {
        let r = app
            .clone()
            .oneshot(
                axum::http::Request::get(uri)
                    .body(Body::empty())
                    .expect("req"),
            )
            .await
            .expect("answer");
        let status = r.status();
        let body = axum::body::to_bytes(r.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, serde_json::from_slice(&body).expect("json"))
    }

    #[tokio::test]
    async fn ready_only_when_every_required_check_passes() {
        let ops = Ops::new(Telemetry::new())
            .check("nats", true, || async { Ok("connected".to_owned()) })
            .check("model", false, || async { Err("no model yet".to_owned()) });
        let app: Router = router(ops.clone());
        let (s, r) = get_json(&app, "/readyz").await;
        assert_eq!(s, StatusCode::OK);
        assert!(r.ready);
        assert_eq!(r.checks[1].detail, "no model yet");
        assert!(!r.checks[1].ok && !r.checks[1].required);

        let app: Router =
            router(ops.check("lake", true, || async { Err("lake unreadable".to_owned()) }));
        let (s, r) = get_json(&app, "/readyz").await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!r.ready);
        assert_eq!(r.checks.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_probes_checks_once_a_second() {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ops = Ops::new(Telemetry::new()).check("nats", true, {
            let calls = calls.clone();
            move || {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                async { Ok(String::new()) }
            }
        });
        for _ in 0..50 {
            assert!(ops.readiness().await.ready);
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
        tokio::time::advance(READINESS_FOR).await;
        ops.readiness().await;
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_hangs_fails_after_the_timeout() {
        let ops = Ops::new(Telemetry::new()).check("nats", true, || async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(String::new())
        });
        let r = ops.readiness().await;
        assert!(!r.ready);
        assert!(r.checks[0].detail.contains("no answer"), "{:?}", r.checks);
    }
}
