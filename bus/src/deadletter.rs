//! Storing dead letters: a refused message goes to the `DEADLETTER` stream
//! (subject `deadletter.<family>`, outside `events.>`) with its payload
//! untouched and the reason in headers. The sink run loop ([`crate::sink`])
//! is the only writer; `showrunner deadletter list|replay` (in `ingest`)
//! reads the headers named here.

use std::future::IntoFuture;

use async_nats::HeaderMap;
use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage as Publish;
use futures::StreamExt;
use futures::stream::FuturesOrdered;

use crate::{Error, Result, subjects};

/// Header: why the message was refused.
pub const H_REASON: &str = "Showrunner-Reason";
/// Header: the field at fault.
pub const H_FIELD: &str = "Showrunner-Field";
/// Header: the original subject.
pub const H_SUBJECT: &str = "Showrunner-Subject";
/// Header: the original stream sequence.
pub const H_SEQ: &str = "Showrunner-Seq";
/// Header: set to `true` when the payload was truncated.
pub const H_TRUNCATED: &str = "Showrunner-Truncated";
/// Header: the sink that refused the event (`clickhouse`), for an event
/// the contract accepted and the lake stored but a sink's server refused;
/// absent for events refused by the contract.
pub const H_SINK: &str = "Showrunner-Sink";

/// Largest payload kept in a dead letter; longer ones are truncated (and
/// marked) so the dead letter always fits in a NATS message.
pub const MAX_DEAD_PAYLOAD: usize = 512 * 1024;

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

/// Publishes dead letters (from the contract's checks when `sink` is
/// `None`, else refused by that sink's server) and waits for the stream's
/// acks. The id `[<sink>:]<stream>:<seq>` makes a repeated refusal of the
/// same delivery a duplicate.
pub async fn publish(
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
            js.send_publish(subjects::deadletter(l.subject), p)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_lose_control_characters_and_length() {
        assert_eq!(header_value("a\r\nb"), "a  b");
        let long = "é".repeat(1_000);
        let v = header_value(&long);
        assert!(
            v.len() <= 1024 && v.chars().all(|c| c == 'é'),
            "{}",
            v.len()
        );
    }
}
