//! The ClickHouse sink: a durable consumer of its own on the event stream
//! (so a slow or absent ClickHouse never holds the Parquet ingest back, and
//! the sink catches up from the stream when the server returns), batches
//! encoded as RowBinary per family, inserted with retries and backoff, then
//! acknowledged (`AckPolicy::All`: one ack per batch). A message that does
//! not decode or validate is skipped and counted (the Parquet ingest sends
//! it to the dead letters); it never fails its batch. Redeliveries collapse
//! in the `ReplacingMergeTree` and are deduplicated by queries.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer::AckPolicy, consumer::pull};
use bytes::Bytes;
use clickhouse::Client;
use futures::StreamExt;
use serde::Serialize;
use showrunner_events::arrow::columns;
use showrunner_events::{Family, Validator, WireEvent};

use super::{ClickHouseSettings, ch, encode_row};
use crate::error::{Error, Result};
use crate::nats::{self, StreamSettings};

/// Settings of the sink.
#[derive(Debug, Clone)]
pub struct SinkSettings {
    /// The server and database.
    pub clickhouse: ClickHouseSettings,
    /// Its durable consumer.
    pub durable: String,
    /// Most events per insert batch.
    pub batch_max: usize,
    /// Longest a batch waits for more events.
    pub batch_wait: Duration,
    /// Exit once nothing is pending.
    pub drain: bool,
}

/// Counters of the sink.
#[derive(Debug, Default, Serialize)]
pub struct SinkReport {
    /// Rows inserted (redeliveries included).
    pub inserted: AtomicU64,
    /// Messages skipped as undecodable or invalid.
    pub invalid: AtomicU64,
    /// Batches inserted and acknowledged.
    pub batches: AtomicU64,
    /// Failed insert attempts (retried).
    pub retries: AtomicU64,
}

fn client(s: &ClickHouseSettings) -> Client {
    s.server_client().with_database(&s.database)
}

async fn insert(c: &Client, db: &str, family: Family, rows: Vec<u8>) -> Result<()> {
    let cols: Vec<String> = columns(family)
        .iter()
        .map(|f| format!("`{}`", f.name()))
        .collect();
    let sql = format!(
        "INSERT INTO `{db}`.`{}` ({}) FORMAT RowBinary",
        family.as_str(),
        cols.join(", ")
    );
    let mut ins = c.insert_formatted_with(sql);
    ins.send(Bytes::from(rows)).await.map_err(ch)?;
    ins.end().await.map_err(ch)
}

/// Runs the sink until `shutdown` (or, draining, until nothing is
/// pending). A batch whose insert fails is retried (backoff up to 5 s)
/// and is acknowledged only once inserted; at shutdown an unacknowledged
/// batch is left to the stream.
pub async fn run(
    js: jetstream::Context,
    streams: &StreamSettings,
    s: SinkSettings,
    validator: Validator,
    report: std::sync::Arc<SinkReport>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let stream = nats::ensure_streams(&js, streams).await?;
    let consumer = stream
        .get_or_create_consumer(
            &s.durable,
            pull::Config {
                durable_name: Some(s.durable.clone()),
                ack_policy: AckPolicy::All,
                ack_wait: Duration::from_secs(300),
                max_ack_pending: (s.batch_max * 2).max(1_000) as i64,
                filter_subject: "events.>".into(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| Error::Nats(format!("consumer {}: {e}", s.durable)))?;
    let c = client(&s.clickhouse);
    tokio::pin!(shutdown);
    loop {
        let mut msgs = consumer
            .batch()
            .max_messages(s.batch_max)
            .expires(s.batch_wait)
            .messages()
            .await
            .map_err(Error::nats)?;
        let mut batch = Vec::new();
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => return Ok(()),
                next = msgs.next() => match next {
                    Some(Ok(m)) => batch.push(m),
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "clickhouse sink: pull failed; retrying");
                        break;
                    }
                    None => break,
                },
            }
        }
        let Some(last) = batch.last() else {
            if s.drain {
                let mut consumer = consumer.clone();
                let info = consumer.info().await.map_err(Error::nats)?;
                if info.num_pending == 0 && info.num_ack_pending == 0 {
                    return Ok(());
                }
            }
            continue;
        };
        let mut rows: BTreeMap<&'static str, (Family, Vec<u8>, u64)> = BTreeMap::new();
        for m in &batch {
            let decoded = WireEvent::from_json(&m.payload)
                .ok()
                .filter(|_| validator.check_size(m.payload.len()).is_ok())
                .and_then(|w| validator.check(&w).ok().map(|(f, _)| (f, w)));
            match decoded {
                Some((family, w)) => {
                    let e = rows
                        .entry(family.as_str())
                        .or_insert((family, Vec::new(), 0));
                    encode_row(family, &w, &mut e.1);
                    e.2 += 1;
                }
                None => {
                    report.invalid.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        for (_, (family, bytes, n)) in rows {
            let mut backoff = Duration::from_millis(100);
            loop {
                match insert(&c, &s.clickhouse.database, family, bytes.clone()).await {
                    Ok(()) => {
                        report.inserted.fetch_add(n, Ordering::Relaxed);
                        break;
                    }
                    Err(e) => {
                        report.retries.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(family = %family, error = %e, "clickhouse insert failed; retrying");
                        tokio::select! {
                            biased;
                            () = &mut shutdown => return Ok(()),
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        }
        last.ack().await.map_err(Error::nats)?;
        report.batches.fetch_add(1, Ordering::Relaxed);
    }
}
