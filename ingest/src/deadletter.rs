//! Dead letters: invalid messages from `EVENTS` go to the `DEADLETTER`
//! stream (subjects `deadletter.<family>`, outside `events.>`) with the
//! reason in headers and the original payload untouched; the sink run loop
//! stores them ([`showrunner_bus::deadletter`]). `list` shows them;
//! `replay` re-validates them (as stored, or as fixed by the operator) and
//! re-publishes those that now pass, deleting them from `DEADLETTER`.

use async_nats::HeaderMap;

use async_nats::jetstream;
use serde::{Deserialize, Serialize};
use showrunner_events::{Validator, WireEvent};

use crate::error::{Error, Result};
use crate::publish::{Outgoing, publish_each};
use crate::sinks::clickhouse::{ClickHouseSettings, decode_row, encode_row, insert};

pub use showrunner_bus::deadletter::{
    H_FIELD, H_REASON, H_SEQ, H_SINK, H_SUBJECT, H_TRUNCATED, Letter, MAX_DEAD_PAYLOAD,
};

/// The dead-letter subject for a message published on `subject`.
pub fn subject_for(subject: &str) -> String {
    showrunner_bus::subjects::deadletter(subject)
}

/// [`H_SINK`] of the rows the ClickHouse sink refused (its
/// [`showrunner_bus::sink::Sink::NAME`]).
pub const CLICKHOUSE: &str = "clickhouse";

/// A dead letter as listed (and as edited for replay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Sequence in the dead-letter stream.
    pub seq: u64,
    /// Original subject.
    pub source_subject: String,
    /// Original sequence in the event stream.
    pub source_seq: u64,
    /// The field at fault.
    pub field: String,
    /// Why it was refused.
    pub reason: String,
    /// The original message: its JSON value, or the raw text when it was not JSON.
    pub payload: serde_json::Value,
    /// The sink whose server refused it (`clickhouse`); absent when the
    /// contract refused it. Such an event is in the lake already: replay
    /// re-inserts it into that sink only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sink: Option<String>,
}

fn header(h: &HeaderMap, k: &str) -> String {
    h.get(k).map(|v| v.as_str().to_owned()).unwrap_or_default()
}

/// Lists the dead letters, oldest first.
pub async fn list(js: &jetstream::Context, deadletter_stream: &str) -> Result<Vec<DeadLetter>> {
    let mut stream = js
        .get_stream(deadletter_stream)
        .await
        .map_err(|e| Error::Nats(format!("stream {deadletter_stream}: {e}")))?;
    let state = stream.info().await.map_err(Error::nats)?.state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return Ok(out);
    }
    for seq in state.first_sequence..=state.last_sequence {
        let m = match stream.get_raw_message(seq).await {
            Ok(m) => m,
            Err(e)
                if e.kind()
                    == async_nats::jetstream::stream::RawMessageErrorKind::NoMessageFound =>
            {
                continue;
            } // deleted
            Err(e) => return Err(Error::Nats(format!("reading dead letter {seq}: {e}"))),
        };
        let payload = serde_json::from_slice(&m.payload).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&m.payload).into_owned())
        });
        out.push(DeadLetter {
            seq,
            source_subject: header(&m.headers, H_SUBJECT),
            source_seq: header(&m.headers, H_SEQ).parse().unwrap_or(0),
            field: header(&m.headers, H_FIELD),
            reason: header(&m.headers, H_REASON),
            payload,
            sink: m.headers.get(H_SINK).map(|v| v.as_str().to_owned()),
        });
    }
    Ok(out)
}

/// The result of replaying one dead letter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replayed {
    /// Sequence in the dead-letter stream.
    pub seq: u64,
    /// `republished`, `duplicate` (the stream already had this event id
    /// within its duplicate window: not stored again), `still_invalid`;
    /// for a sink's refusal: `reinserted` (into that sink only: the lake has
    /// it), `still_refused`, or `needs_clickhouse` (replay was given no
    /// ClickHouse server; the letter is kept).
    pub status: &'static str,
    /// Sequence of the re-published event in the event stream (the earlier
    /// copy's, for a duplicate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_seq: Option<u64>,
    /// The field still at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Why it is still refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Re-validates dead letters and re-publishes those that pass (with
/// `Nats-Msg-Id = event_id`), deleting them from the dead-letter stream.
/// A letter a sink's server refused (`sink = clickhouse`) is never
/// re-published — the lake stored it, and a copy after the duplicate window
/// would be stored twice — but inserted again into ClickHouse (`clickhouse`,
/// when given), and deleted once the server takes it.
pub async fn replay(
    js: &jetstream::Context,
    deadletter_stream: &str,
    letters: Vec<DeadLetter>,
    validator: &Validator,
    clickhouse: Option<&ClickHouseSettings>,
) -> Result<Vec<Replayed>> {
    let stream = js
        .get_stream(deadletter_stream)
        .await
        .map_err(|e| Error::Nats(format!("stream {deadletter_stream}: {e}")))?;
    let mut results = Vec::with_capacity(letters.len());
    // one connection for every letter the ClickHouse sink refused
    let client = clickhouse.map(|ch| (ch.client(), ch.database.as_str()));
    for dl in letters {
        let bytes = match &dl.payload {
            serde_json::Value::String(s) => s.clone().into_bytes(),
            v => v.to_string().into_bytes(),
        };
        let still = |status, field: String, reason: String| Replayed {
            seq: dl.seq,
            status,
            stream_seq: None,
            field: Some(field),
            reason: Some(reason),
        };
        if let Some(other) = dl.sink.as_deref().filter(|s| *s != CLICKHOUSE) {
            // a sink this build does not know: its event is in the lake, so
            // re-publishing it would store it twice; left as it is
            results.push(still(
                "unknown_sink",
                "$".into(),
                format!("refused by a sink this build does not know: {other}"),
            ));
            continue;
        }
        if dl.sink.as_deref() == Some(CLICKHOUSE) {
            // the row the sink would send, to the server it was refused by
            let (family, wire) = match decode_row(validator, &bytes) {
                Ok(decoded) => decoded,
                Err(e) => {
                    results.push(still("still_invalid", e.field, e.reason));
                    continue;
                }
            };
            let Some((c, db)) = &client else {
                results.push(still(
                    "needs_clickhouse",
                    "$".into(),
                    "refused by the ClickHouse sink: replay it with a ClickHouse server".into(),
                ));
                continue;
            };
            let mut row = Vec::new();
            encode_row(family, &wire, &mut row);
            match insert(c, db, family, bytes::Bytes::from(row)).await {
                Ok(()) => {
                    stream.delete_message(dl.seq).await.map_err(Error::nats)?;
                    results.push(Replayed {
                        seq: dl.seq,
                        status: "reinserted",
                        stream_seq: None,
                        field: None,
                        reason: None,
                    });
                }
                Err(e) => results.push(still("still_refused", "$".into(), e.to_string())),
            }
            continue;
        }
        let checked = WireEvent::from_json(&bytes)
            .and_then(|w| validator.validate(&w))
            .and_then(|e| {
                let out = Outgoing::event(&e);
                validator.check_size(out.payload.len()).map(|()| out)
            });
        let out = match checked {
            Ok(out) => out,
            Err(e) => {
                results.push(still("still_invalid", e.field, e.reason));
                continue;
            }
        };
        let ack = publish_each(js, vec![out]).await.remove(0)?;
        stream.delete_message(dl.seq).await.map_err(Error::nats)?;
        // a duplicate: the stream already held this event id (within its window)
        let status = if ack.duplicate {
            "duplicate"
        } else {
            "republished"
        };
        results.push(Replayed {
            seq: dl.seq,
            status,
            stream_seq: Some(ack.sequence),
            field: None,
            reason: None,
        });
    }
    Ok(results)
}

/// Dead letters from NDJSON (as `list` prints them, possibly edited);
/// blank lines are skipped, a bad line is named by its number.
pub fn read_letters(r: impl std::io::BufRead) -> Result<Vec<DeadLetter>> {
    let mut out = Vec::new();
    for (n, line) in r.lines().enumerate() {
        let line = line.map_err(|e| Error::DeadLetter(format!("line {}: {e}", n + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .map_err(|e| Error::DeadLetter(format!("line {}: {e}", n + 1)))?,
        );
    }
    Ok(out)
}

/// One line saying what a replay did.
pub fn summary(results: &[Replayed]) -> String {
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    // a duplicate's letter is deleted too: the stream had the event
    let done = ["republished", "duplicate", "reinserted"].map(count);
    format!(
        "{} republished, {} already in the stream, {} reinserted into ClickHouse, {} left",
        done[0],
        done[1],
        done[2],
        results.len() - done.iter().sum::<usize>()
    )
}
