//! Dead letters: invalid messages from `EVENTS` go to the `DEADLETTER`
//! stream (subjects `deadletter.<family>`, outside `events.>`) with the
//! reason in headers and the original payload untouched. `list` shows them;
//! `replay` re-validates them (as stored, or as fixed by the operator) and
//! re-publishes those that now pass, deleting them from `DEADLETTER`.

use async_nats::HeaderMap;
use std::future::IntoFuture;

use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage as Publish;
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use serde::{Deserialize, Serialize};
use showrunner_events::{FieldError, Validator, WireEvent};

use crate::consumer::process::Incoming;
use crate::error::{Error, Result};
use crate::publish::{Outgoing, publish_each};
use crate::sinks::clickhouse::{ClickHouseSettings, decode_row, encode_row, insert};

/// Header: why the message was refused.
pub const H_REASON: &str = "Showrunner-Reason";
/// Header: the field at fault.
pub const H_FIELD: &str = "Showrunner-Field";
/// Header: the original subject.
pub const H_SUBJECT: &str = "Showrunner-Subject";
/// Header: the original stream sequence.
pub const H_SEQ: &str = "Showrunner-Seq";

/// Largest payload kept in a dead letter; longer ones are truncated (and
/// marked) so the dead letter always fits in a NATS message.
pub const MAX_DEAD_PAYLOAD: usize = 512 * 1024;
/// Header: set to `true` when the payload was truncated.
pub const H_TRUNCATED: &str = "Showrunner-Truncated";

/// A header value from untrusted text: control characters (CR, LF…) would
/// break the NATS header block, so they become spaces; capped at 1 KiB.
fn header_value(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.len() > 1024 {
        let mut cut = 1024;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// The dead-letter subject for a message published on `subject`.
pub fn subject_for(subject: &str) -> String {
    showrunner_bus::subjects::deadletter(subject)
}

/// Header: the sink that refused the event (`clickhouse`), for an event
/// the contract accepted and the lake stored but a sink's server refused;
/// absent for events refused by the contract.
pub const H_SINK: &str = "Showrunner-Sink";

/// [`H_SINK`] of the rows the ClickHouse sink refused.
pub const CLICKHOUSE: &str = "clickhouse";

/// One refused message, as the dead-letter stream keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Letter<'a> {
    /// Its subject in the event stream.
    pub subject: &'a str,
    /// Its sequence in the event stream.
    pub seq: u64,
    /// The original payload.
    pub payload: &'a bytes::Bytes,
    /// The field at fault (`$` for the whole event).
    pub field: &'a str,
    /// Why it was refused.
    pub reason: &'a str,
}

/// Publishes the refused messages of a batch and waits for the stream's
/// acks. The id `<stream>:<seq>` makes a redelivered refusal a duplicate.
pub async fn publish(
    js: &jetstream::Context,
    stream: &str,
    batch: &[Incoming],
    dead: &[(usize, FieldError)],
) -> Result<()> {
    let letters: Vec<Letter<'_>> = dead
        .iter()
        .map(|(i, err)| Letter {
            subject: &batch[*i].subject,
            seq: batch[*i].seq,
            payload: &batch[*i].payload,
            field: &err.field,
            reason: &err.reason,
        })
        .collect();
    publish_letters(js, stream, None, &letters).await
}

/// Publishes dead letters (from the contract's checks when `sink` is
/// `None`, else refused by that sink's server) and waits for the stream's
/// acks. The id `[<sink>:]<stream>:<seq>` makes a repeated refusal of the
/// same delivery a duplicate.
pub async fn publish_letters(
    js: &jetstream::Context,
    stream: &str,
    sink: Option<&str>,
    letters: &[Letter<'_>],
) -> Result<()> {
    let mut acks = FuturesOrdered::new();
    for l in letters {
        let mut h = HeaderMap::new();
        h.insert(H_REASON, header_value(l.reason).as_str());
        h.insert(H_FIELD, header_value(l.field).as_str());
        h.insert(H_SUBJECT, header_value(l.subject).as_str());
        h.insert(H_SEQ, l.seq.to_string().as_str());
        if let Some(sink) = sink {
            h.insert(H_SINK, sink);
        }
        let mut payload = l.payload.clone();
        if payload.len() > MAX_DEAD_PAYLOAD {
            payload.truncate(MAX_DEAD_PAYLOAD);
            h.insert(H_TRUNCATED, "true");
        }
        tracing::warn!(seq = l.seq, subject = %l.subject, sink = sink.unwrap_or("contract"),
            field = %l.field, reason = %l.reason, "dead letter");
        let id = match sink {
            Some(sink) => format!("{sink}:{stream}:{}", l.seq),
            None => format!("{stream}:{}", l.seq),
        };
        let p = Publish::build().payload(payload).headers(h).message_id(id);
        acks.push_back(
            js.send_publish(subject_for(l.subject), p)
                .await
                .map_err(Error::nats)?
                .into_future(),
        );
    }
    while let Some(ack) = acks.next().await {
        ack.map_err(Error::nats)?;
    }
    Ok(())
}

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
