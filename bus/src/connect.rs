//! NATS JetStream plumbing: connecting, and the `EVENTS` and `DEADLETTER`
//! streams that whoever touches NATS first creates.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::error::{Error, Result};
use crate::subjects;

/// Names and retention of the streams.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSettings {
    /// The event stream (subjects `events.>`).
    pub events: String,
    /// The dead-letter stream (subjects `deadletter.>`).
    pub deadletter: String,
    /// Window in which a repeated `Nats-Msg-Id` is dropped by the server.
    pub duplicate_window: Duration,
    /// How long events are kept in the stream (0 = forever).
    pub max_age: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            events: subjects::EVENTS_STREAM.into(),
            deadletter: subjects::DEADLETTER_STREAM.into(),
            duplicate_window: Duration::from_secs(120),
            max_age: Duration::ZERO,
        }
    }
}

/// Connects to NATS; retries the first connection for up to `wait`.
pub async fn connect(url: &str, wait: Duration) -> Result<async_nats::Client> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match async_nats::ConnectOptions::new()
            .name("showrunner")
            .connection_timeout(Duration::from_secs(2))
            .connect(url)
            .await
        {
            Ok(c) => return Ok(c),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(Error::Nats(format!("cannot connect to {url}: {e}")));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Connects in the background: returns at once, and the client keeps
/// (re)connecting for as long as it lives. For servers that must start and
/// answer (503) while NATS is down.
pub async fn connect_lazy(url: &str) -> Result<async_nats::Client> {
    async_nats::ConnectOptions::new()
        .name("showrunner")
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2))
        .connect(url)
        .await
        .map_err(|e| Error::Nats(format!("cannot connect to {url}: {e}")))
}

/// A JetStream context whose publishes wait at most `timeout` for an ack
/// and keep at most `inflight` acks outstanding (back-pressure beyond).
pub fn context(
    client: async_nats::Client,
    timeout: Duration,
    inflight: usize,
) -> jetstream::Context {
    jetstream::ContextBuilder::new()
        .timeout(timeout)
        .max_ack_inflight(inflight)
        .backpressure_on_inflight(true)
        .build(client)
}

/// Creates the `EVENTS` and `DEADLETTER` streams when missing; returns the
/// events stream.
pub async fn ensure_streams(js: &jetstream::Context, s: &StreamSettings) -> Result<stream::Stream> {
    let events = get_or_create(
        js,
        stream::Config {
            name: s.events.clone(),
            subjects: vec![subjects::EVENTS.into()],
            storage: stream::StorageType::File,
            duplicate_window: s.duplicate_window,
            max_age: s.max_age,
            ..Default::default()
        },
    )
    .await?;
    get_or_create(
        js,
        stream::Config {
            name: s.deadletter.clone(),
            subjects: vec![subjects::DEADLETTER.into()],
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(24 * 3600),
            ..Default::default()
        },
    )
    .await?;
    Ok(events)
}

/// The stream of `config`'s name, created when missing. Roles of one
/// process (ingest and the ClickHouse sink at start) and other processes
/// race to create it: a create that fails because another won the race
/// (nats-server 2.9 answers "subjects overlap with an existing stream",
/// 10065) is followed by one more look-up, which then finds it.
async fn get_or_create(js: &jetstream::Context, config: stream::Config) -> Result<stream::Stream> {
    let name = config.name.clone();
    match js.get_or_create_stream(config).await {
        Ok(s) => Ok(s),
        Err(first) => js
            .get_stream(&name)
            .await
            .map_err(|_| Error::Nats(format!("stream {name}: {first}"))),
    }
}
