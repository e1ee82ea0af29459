//! Telemetry on the Prometheus client library (`prometheus-client`): one
//! [`Telemetry`] per process, into which each component registers its own
//! figures — live metrics (counters, histograms) or a [`Collector`] that
//! reads its counters at scrape time — and which `/metrics` encodes
//! ([`Telemetry::encode`], the library's text encoder; nothing here
//! formats the exposition by hand).
//!
//! Shared by every router: [`HttpMetrics`] (requests and latency by
//! method, route and status, [`track`]) and [`Durations`] (how long a named
//! piece of work took: queries, training, jobs). [`counter`] and [`gauge`]
//! write one figure from a [`Collector`].
//!
//! Names follow `showrunner_<what>_<unit>`; counters are registered
//! without `_total`, which the encoder appends.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};

pub use prometheus_client::collector::Collector;
pub use prometheus_client::encoding::DescriptorEncoder;

/// The content type of [`Telemetry::encode`]'s text (OpenMetrics, which
/// Prometheus scrapes).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One process's metrics registry, shared by every component.
#[derive(Debug, Clone)]
pub struct Telemetry {
    registry: Arc<Mutex<Registry>>,
    http: HttpMetrics,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl Telemetry {
    /// A registry holding the HTTP metrics.
    pub fn new() -> Self {
        let t = Telemetry {
            registry: Arc::new(Mutex::new(Registry::default())),
            http: HttpMetrics::default(),
        };
        t.register(
            "showrunner_http_requests",
            "HTTP requests answered, by method, route (as declared) and status",
            t.http.requests.clone(),
        );
        t.register(
            "showrunner_http_request_duration_seconds",
            "HTTP request latency (until the answer's head), by method, route and status",
            t.http.latency.clone(),
        );
        t
    }

    fn with<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        match self.registry.lock() {
            Ok(mut g) => f(&mut g),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// Registers a live metric (keep a clone to update it).
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.with(|r| r.register(name, help, metric));
    }

    /// Registers a collector, read at each scrape.
    pub fn register_collector(&self, collector: impl Collector) {
        self.with(|r| r.register_collector(Box::new(collector)));
    }

    /// A histogram family of durations in seconds labelled `what`,
    /// registered as `name`.
    pub fn durations(&self, name: &str, help: &str) -> Durations {
        let d = Durations::default();
        self.register(name, help, d.0.clone());
        d
    }

    /// The HTTP metrics ([`track`] records into them).
    pub fn http(&self) -> &HttpMetrics {
        &self.http
    }

    /// Every registered figure in the text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.with(|r| prometheus_client::encoding::text::encode(&mut out, r))
            .expect("writing to a String cannot fail");
        out
    }
}

/// Labels of an HTTP request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// `GET`, `POST`, … (`other` for a non-standard method).
    pub method: String,
    /// The route as declared (`/v1/metrics/{name}`), `unmatched` for none:
    /// never the raw path, whose values would make a series each.
    pub route: String,
    /// The answer's status.
    pub status: u16,
}

/// Requests and their latency.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: Family<HttpLabels, Counter>,
    latency: Family<HttpLabels, Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        }
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl HttpMetrics {
    /// Records one answered request.
    pub fn observe(&self, labels: &HttpLabels, seconds: f64) {
        self.requests.get_or_create(labels).inc();
        self.latency.get_or_create(labels).observe(seconds);
    }
}

/// `router` with every request (its routes' and its fallback's) counted and
/// timed into `http`. Put it outside the gate, so refusals count too.
pub fn track<S: Clone + Send + Sync + 'static>(router: Router<S>, http: HttpMetrics) -> Router<S> {
    router.layer(middleware::from_fn_with_state(http, record))
}

/// A method as a label: the standard ones by name, any other `other` (a
/// client may send any token as a method; each would be a series).
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

async fn record(State(http): State<HttpMetrics>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method()).to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let labels = HttpLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    http.observe(&labels, started.elapsed().as_secs_f64());
    response
}

/// Label of a duration: what was timed (a metric's name, a model, a job).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WhatLabel {
    /// What was timed.
    pub what: String,
}

/// How long named pieces of work took, in seconds (a histogram per name).
#[derive(Debug, Clone)]
pub struct Durations(Family<WhatLabel, Histogram>);

impl Default for Durations {
    fn default() -> Self {
        // 1 ms … ~9 min
        Durations(Family::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 20))
        }))
    }
}

impl Durations {
    /// Records that `what` took `seconds`.
    pub fn observe(&self, what: &str, seconds: f64) {
        self.0
            .get_or_create(&WhatLabel {
                what: what.to_owned(),
            })
            .observe(seconds);
    }

    /// Times `f` as `what`.
    pub fn time<T>(&self, what: &str, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let out = f();
        self.observe(what, started.elapsed().as_secs_f64());
        out
    }
}

/// Writes one counter from a [`Collector`] (`name` without `_total`).
pub fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> std::fmt::Result {
    let c = ConstCounter::new(value);
    c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)
}

/// Writes one gauge from a [`Collector`].
pub fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: f64,
) -> std::fmt::Result {
    let g = ConstGauge::new(value);
    g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use tower::ServiceExt;

    #[derive(Debug)]
    struct Two;

    impl Collector for Two {
        fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
            counter(&mut e, "showrunner_things", "things seen", 7)?;
            gauge(&mut e, "showrunner_level", "a level", 0.5)
        }
    }

    #[tokio::test]
    async fn requests_are_counted_by_route_and_status_and_collectors_read() {
        let t = Telemetry::new();
        t.register_collector(Two);
        let jobs = t.durations("showrunner_job_duration_seconds", "jobs");
        jobs.time("compact", || ());
        let app = track(
            Router::new().route("/v1/titles/{title}", get(|| async { "ok" })),
            t.http().clone(),
        );
        for uri in ["/v1/titles/a", "/v1/titles/b", "/nowhere"] {
            let r = app
                .clone()
                .oneshot(
                    axum::http::Request::get(uri)
                        .body(Body::empty())
                        .expect("req"),
                )
                .await
                .expect("answer");
            assert!(r.status() == StatusCode::OK || r.status() == StatusCode::NOT_FOUND);
        }
        for method in ["FOO1", "FOO2"] {
            let r = app
                .clone()
                .oneshot(
                    axum::http::Request::builder()
                        .method(method)
                        .uri("/nowhere")
                        .body(Body::empty())
                        .expect("req"),
                )
                .await
                .expect("answer");
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
        }
        let text = t.encode();
        assert!(
            text.contains(
                r#"showrunner_http_requests_total{method="GET",route="/v1/titles/{title}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"showrunner_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
            ),
            "{text}"
        );
        // invented methods share one series
        assert!(
            text.contains(
                r#"showrunner_http_requests_total{method="other",route="unmatched",status="404"} 2"#
            ),
            "{text}"
        );
        assert!(!text.contains("FOO1"), "{text}");
        assert!(text.contains(r#"showrunner_http_request_duration_seconds_count{method="GET",route="/v1/titles/{title}",status="200"} 2"#), "{text}");
        assert!(text.contains("showrunner_things_total 7"), "{text}");
        assert!(text.contains("showrunner_level 0.5"), "{text}");
        assert!(
            text.contains(r#"showrunner_job_duration_seconds_count{what="compact"} 1"#),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
