//! Request bodies: a JSON array of events, or NDJSON (one event per line).
//!
//! A body whose framing is broken (not an array, a line that is not JSON)
//! is unparseable as a whole; an element that is JSON but not a valid
//! event is reported for that element only.

use serde_json::value::RawValue;

use crate::error::{Error, FieldError, Result};
use crate::validate::Limits;
use crate::wire::WireEvent;

/// One element of a body: the parsed wire event, or why it was refused.
pub type Element = std::result::Result<WireEvent, FieldError>;

/// Splits and parses a body. Enforces the batch limits of `limits`.
pub fn parse_body(body: &[u8], limits: &Limits) -> Result<Vec<Element>> {
    if body.len() > limits.max_batch_bytes {
        return Err(Error::BatchTooLarge(format!(
            "body is {} bytes, over the limit of {}",
            body.len(),
            limits.max_batch_bytes
        )));
    }
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Err(Error::Unparseable("empty body".into()));
    }
    let raw: Vec<&[u8]> = if trimmed.first() == Some(&b'[') {
        let items: Vec<&RawValue> = serde_json::from_slice(trimmed)
            .map_err(|e| Error::Unparseable(format!("not a JSON array: {e}")))?;
        items.into_iter().map(|r| r.get().as_bytes()).collect()
    } else {
        let mut out = Vec::new();
        for (n, line) in trimmed.split(|&b| b == b'\n').enumerate() {
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            serde_json::from_slice::<&RawValue>(line)
                .map_err(|e| Error::Unparseable(format!("line {} is not JSON: {e}", n + 1)))?;
            out.push(line);
        }
        out
    };
    if raw.len() > limits.max_batch_events {
        return Err(Error::BatchTooLarge(format!(
            "{} events, over the limit of {}",
            raw.len(),
            limits.max_batch_events
        )));
    }
    Ok(raw
        .into_iter()
        .map(|bytes| {
            if bytes.len() > limits.max_event_bytes {
                return Err(FieldError::new(
                    "$",
                    format!(
                        "event is {} bytes, over the limit of {}",
                        bytes.len(),
                        limits.max_event_bytes
                    ),
                ));
            }
            WireEvent::from_json(bytes)
        })
        .collect())
}
