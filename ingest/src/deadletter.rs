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
        h.insert(H_REASON, err.reason.as_str());
        h.insert(H_FIELD, err.field.as_str());
        h.insert(H_SUBJECT, m.subject.as_str());
        h.insert(H_SEQ, m.seq.to_string().as_str());
        tracing::warn!(seq = m.seq, subject = %m.subject, field = %err.field, reason = %err.reason, "dead letter");
        let p = Publish::build()
            .payload(m.payload.clone())
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
            Err(_) => continue, // deleted
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
    /// `republished`, or `still_invalid`.
    pub status: &'static str,
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
        let checked = WireEvent::from_json(&bytes).and_then(|w| validator.validate(&w));
        match checked {
            Ok(event) => {
                publish_each(js, vec![Outgoing::event(&event)])
                    .await
                    .remove(0)?;
                stream.delete_message(dl.seq).await.map_err(Error::nats)?;
                results.push(Replayed {
                    seq: dl.seq,
                    status: "republished",
                    field: None,
                    reason: None,
                });
            }
            Err(e) => results.push(Replayed {
                seq: dl.seq,
                status: "still_invalid",
                field: Some(e.field),
                reason: Some(e.reason),
            }),
        }
    }
    Ok(results)
}
