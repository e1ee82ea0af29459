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
use showrunner_events::{Family, FieldError, Validator, WireEvent};

use crate::consumer::process::Incoming;
use crate::error::{Error, Result};
use crate::publish::{Outgoing, publish_each};

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
    let family = subject
        .split('.')
        .nth(1)
        .filter(|f| f.parse::<Family>().is_ok())
        .unwrap_or("unknown");
    format!("deadletter.{family}")
}

/// Publishes the refused messages of a batch and waits for the stream's
/// acks. The id `<stream>:<seq>` makes a redelivered refusal a duplicate.
pub async fn publish(
    js: &jetstream::Context,
    stream: &str,
    batch: &[Incoming],
    dead: &[(usize, FieldError)],
) -> Result<()> {
    let mut acks = FuturesOrdered::new();
    for (i, err) in dead {
        let m = &batch[*i];
        let mut h = HeaderMap::new();
        h.insert(H_REASON, header_value(&err.reason).as_str());
        h.insert(H_FIELD, header_value(&err.field).as_str());
        h.insert(H_SUBJECT, header_value(&m.subject).as_str());
        h.insert(H_SEQ, m.seq.to_string().as_str());
        let mut payload = m.payload.clone();
        if payload.len() > MAX_DEAD_PAYLOAD {
            payload.truncate(MAX_DEAD_PAYLOAD);
            h.insert(H_TRUNCATED, "true");
        }
        tracing::warn!(seq = m.seq, subject = %m.subject, field = %err.field, reason = %err.reason, "dead letter");
        let p = Publish::build()
            .payload(payload)
            .headers(h)
            .message_id(format!("{stream}:{}", m.seq));
        acks.push_back(
            js.send_publish(subject_for(&m.subject), p)
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
    /// within its duplicate window: not stored again), or `still_invalid`.
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
pub async fn replay(
    js: &jetstream::Context,
    deadletter_stream: &str,
    letters: Vec<DeadLetter>,
    validator: &Validator,
) -> Result<Vec<Replayed>> {
    let stream = js
        .get_stream(deadletter_stream)
        .await
        .map_err(|e| Error::Nats(format!("stream {deadletter_stream}: {e}")))?;
    let mut results = Vec::with_capacity(letters.len());
    for dl in letters {
        let bytes = match &dl.payload {
            serde_json::Value::String(s) => s.clone().into_bytes(),
            v => v.to_string().into_bytes(),
        };
        let checked = WireEvent::from_json(&bytes)
            .and_then(|w| validator.validate(&w))
            .and_then(|e| {
                let out = Outgoing::event(&e);
                validator.check_size(out.payload.len()).map(|()| out)
            });
        match checked {
            Ok(out) => {
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
            Err(e) => results.push(Replayed {
                seq: dl.seq,
                status: "still_invalid",
                stream_seq: None,
                field: Some(e.field),
                reason: Some(e.reason),
            }),
        }
    }
    Ok(results)
}
