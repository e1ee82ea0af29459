//! Delivery to webhook endpoints, signed per the Standard Webhooks
//! specification (the `standardwebhooks` crate): each POST carries
//! `webhook-id` (the push's idempotency key, the same on every retry, so a
//! receiver deduplicates), `webhook-timestamp` (seconds, fresh on every
//! attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body">` under the endpoint's `whsec_…` secret.
//!
//! A delivery is retried on a connection error, a timeout, a 429 or a 5xx,
//! with exponential backoff and full jitter (the wait before attempt n ≥ 2
//! is a uniform draw in `[0, min(max, base × 2ⁿ⁻²)]`), up to
//! [`Retry::attempts`]; any
//! other status ends it. Every attempt goes to the delivery log (the last
//! [`LOG_SIZE`] deliveries). An endpoint whose deliveries fail
//! [`Webhooks::disable_after`] times in a row is disabled (a success resets
//! the count) and receives nothing until it is enabled again.
//!
//! Plain `http://` endpoints only: this build's HTTP client has no TLS.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use serde::Serialize;
use standardwebhooks::Webhook;

/// Deliveries the log keeps.
pub const LOG_SIZE: usize = 10_000;

/// An endpoint, as configured.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its id (in the log).
    pub id: String,
    /// Where to POST.
    pub url: String,
    /// Its signing secret, `whsec_<base64>`.
    pub secret: String,
}

/// How deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts per delivery, the first included.
    pub attempts: u32,
    /// The first backoff's ceiling.
    pub base: Duration,
    /// No backoff's ceiling exceeds this.
    pub max: Duration,
    /// One attempt's time limit.
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 6,
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Retry {
    /// The ceiling of the wait before attempt `n` (n ≥ 2).
    pub fn ceiling(&self, n: u32) -> Duration {
        let doubled = self
            .base
            .saturating_mul(1u32.checked_shl(n.saturating_sub(2)).unwrap_or(u32::MAX));
        doubled.min(self.max)
    }
}

/// One attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    /// The HTTP status, if one came back.
    pub status: Option<u16>,
    /// What went wrong without a status.
    pub error: Option<String>,
    /// How long it took, ms.
    pub millis: f64,
    /// How long it waited before, ms.
    pub waited_ms: f64,
}

/// One push's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// The endpoint.
    pub endpoint: String,
    /// `webhook-id`.
    pub msg_id: String,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
    /// A 2xx came back.
    pub delivered: bool,
}

struct State {
    endpoint: Endpoint,
    signer: Webhook,
    failures: AtomicU32,
    disabled: AtomicBool,
}

/// The configured endpoints, their health and the delivery log.
pub struct Webhooks {
    client: reqwest::Client,
    endpoints: Vec<State>,
    retry: Retry,
    /// Consecutive failed deliveries that disable an endpoint.
    pub disable_after: u32,
    log: Mutex<VecDeque<Delivery>>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Webhooks({} endpoints)", self.endpoints.len())
    }
}

impl Webhooks {
    /// The endpoints, their secrets checked.
    pub fn new(
        endpoints: Vec<Endpoint>,
        retry: Retry,
        disable_after: u32,
    ) -> Result<Webhooks, String> {
        let endpoints = endpoints
            .into_iter()
            .map(|e| {
                let signer = Webhook::new(&e.secret).map_err(|err| {
                    format!(
                        "webhook `{}`: its secret is not whsec_<base64>: {err}",
                        e.id
                    )
                })?;
                if !e.url.starts_with("http://") {
                    return Err(format!(
                        "webhook `{}`: only http:// URLs are supported",
                        e.id
                    ));
                }
                Ok(State {
                    endpoint: e,
                    signer,
                    failures: AtomicU32::new(0),
                    disabled: AtomicBool::new(false),
                })
            })
            .collect::<Result<_, String>>()?;
        let client = reqwest::Client::builder()
            .timeout(retry.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Webhooks {
            client,
            endpoints,
            retry,
            disable_after: disable_after.max(1),
            log: Mutex::default(),
        })
    }

    /// Whether endpoint `id` is disabled.
    pub fn is_disabled(&self, id: &str) -> bool {
        self.endpoints
            .iter()
            .any(|s| s.endpoint.id == id && s.disabled.load(Ordering::Acquire))
    }

    /// Enables endpoint `id` again (its failure count reset).
    pub fn enable(&self, id: &str) {
        for s in self.endpoints.iter().filter(|s| s.endpoint.id == id) {
            s.failures.store(0, Ordering::Release);
            s.disabled.store(false, Ordering::Release);
        }
    }

    /// The delivery log, oldest first.
    pub fn log(&self) -> Vec<Delivery> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Delivers `body` (JSON) as message `msg_id` to every enabled
    /// endpoint, one after another; the deliveries.
    pub async fn deliver(&self, msg_id: &str, body: &[u8]) -> Vec<Delivery> {
        let mut out = Vec::new();
        for s in &self.endpoints {
            if s.disabled.load(Ordering::Acquire) {
                continue;
            }
            let d = self.deliver_to(s, msg_id, body).await;
            if d.delivered {
                s.failures.store(0, Ordering::Release);
            } else if s.failures.fetch_add(1, Ordering::AcqRel) + 1 >= self.disable_after {
                s.disabled.store(true, Ordering::Release);
                tracing::warn!(endpoint = %s.endpoint.id, failures = self.disable_after, "webhook endpoint disabled");
            }
            let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() == LOG_SIZE {
                log.pop_front();
            }
            log.push_back(d.clone());
            out.push(d);
        }
        out
    }

    async fn deliver_to(&self, s: &State, msg_id: &str, body: &[u8]) -> Delivery {
        let mut d = Delivery {
            endpoint: s.endpoint.id.clone(),
            msg_id: msg_id.to_owned(),
            attempts: Vec::new(),
            delivered: false,
        };
        for n in 1..=self.retry.attempts {
            let mut waited_ms = 0.0;
            if n > 1 {
                let ceiling = self.retry.ceiling(n);
                let wait = ceiling.mul_f64(rand::rng().random::<f64>());
                waited_ms = wait.as_secs_f64() * 1e3;
                tokio::time::sleep(wait).await;
            }
            let t = Instant::now();
            let ts = chrono::Utc::now().timestamp();
            let signature = match s.signer.sign(msg_id, ts, body) {
                Ok(sig) => sig,
                Err(e) => {
                    d.attempts.push(Attempt {
                        status: None,
                        error: Some(format!("cannot sign: {e}")),
                        millis: 0.0,
                        waited_ms,
                    });
                    return d;
                }
            };
            let sent = self
                .client
                .post(&s.endpoint.url)
                .header("content-type", "application/json")
                .header("webhook-id", msg_id)
                .header("webhook-timestamp", ts.to_string())
                .header("webhook-signature", signature)
                .body(body.to_vec())
                .send()
                .await;
            let millis = t.elapsed().as_secs_f64() * 1e3;
            let (status, error, retry) = match sent {
                Ok(r) => {
                    let st = r.status();
                    let retry = st.is_server_error() || st.as_u16() == 429;
                    (Some(st.as_u16()), None, retry)
                }
                Err(e) => (None, Some(e.to_string()), true),
            };
            d.attempts.push(Attempt {
                status,
                error,
                millis,
                waited_ms,
            });
            if status.is_some_and(|s| (200..300).contains(&s)) {
                d.delivered = true;
                return d;
            }
            if !retry {
                return d;
            }
        }
        d
    }
}

/// The durable consumer that feeds the webhooks from the gateway's stream.
pub const FEED_CONSUMER: &str = "webhooks";

/// Feeds `hooks` from the push gateway's stream until the connection
/// fails: a durable consumer ([`FEED_CONSUMER`]) on
/// [`crate::sender::PUSH_STREAM`] hands each push to every enabled
/// endpoint ([`Webhooks::deliver`], retries included) and acks it after.
/// The stream is the queue: the sender never waits for an endpoint, and a
/// worker stopped mid-delivery leaves the push unacked, so it is handed
/// out again after `ack_wait` under the same `webhook-id` (receivers drop
/// the repeat). A push whose every attempt failed is acked too: its
/// failure is in the log, and the endpoint's count of failures moves
/// towards disabling it.
pub async fn feed(
    js: &async_nats::jetstream::Context,
    hooks: std::sync::Arc<Webhooks>,
    ack_wait: Duration,
) -> Result<(), String> {
    use async_nats::jetstream::consumer::{AckPolicy, pull};
    use futures::StreamExt;
    let stream = js
        .get_stream(crate::sender::PUSH_STREAM)
        .await
        .map_err(|e| format!("stream {}: {e}", crate::sender::PUSH_STREAM))?;
    let consumer = stream
        .get_or_create_consumer(
            FEED_CONSUMER,
            pull::Config {
                durable_name: Some(FEED_CONSUMER.into()),
                ack_policy: AckPolicy::Explicit,
                ack_wait,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("consumer {FEED_CONSUMER}: {e}"))?;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| format!("consumer {FEED_CONSUMER}: {e}"))?;
    while let Some(m) = messages.next().await {
        let m = m.map_err(|e| format!("consumer {FEED_CONSUMER}: {e}"))?;
        let id = m
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.as_str().to_owned())
            .unwrap_or_else(|| m.subject.to_string());
        hooks.deliver(&id, &m.payload).await;
        m.ack().await.map_err(|e| format!("acking {id}: {e}"))?;
    }
    Ok(())
}
