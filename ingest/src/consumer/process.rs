//! One ingest batch, on a blocking thread: decode and validate every
//! message, drop sequences already in the lake, build one Arrow batch per
//! (family, date) and commit each as a Parquet file. Returns what to do with
//! every message: ack, dead-letter, or hand back.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use bytes::Bytes;
use showrunner_events::arrow::BatchBuilder;
use showrunner_events::{Event, Family, FieldError, Validator, WireEvent};

use crate::error::Result;
use crate::sinks::parquet::{CommittedFile, ParquetSink};

/// A message pulled from the stream.
#[derive(Debug)]
pub struct Incoming {
    /// Stream sequence.
    pub seq: u64,
    /// Delivery count (1 on first delivery).
    pub delivered: i64,
    /// Subject it was published on.
    pub subject: String,
    /// The event's JSON.
    pub payload: Bytes,
    /// Where to ack.
    pub reply: Option<async_nats::Subject>,
    /// When it arrived here.
    pub received: Instant,
}

/// What to do with each message of a processed batch (indexes into it).
#[derive(Debug, Default)]
pub struct Outcome {
    /// Committed now or found already committed: ack.
    pub ack: Vec<usize>,
    /// Invalid: publish to dead letters with the reason, then ack.
    pub dead: Vec<(usize, FieldError)>,
    /// Too old to commit safely (half the ack wait has passed): nak.
    pub expired: Vec<usize>,
    /// Rows committed to the lake.
    pub ingested: u64,
    /// Redelivered messages already in the lake.
    pub duplicates: u64,
    /// Files committed.
    pub files: Vec<CommittedFile>,
}

/// Checks that a message's subject is `events.<family>.<type>` of its event.
fn check_subject(subject: &str, event: &Event) -> Result<(), FieldError> {
    let expected = event.subject();
    if subject == expected {
        Ok(())
    } else {
        Err(FieldError::new(
            "event_type",
            format!(
                "is `{}` but the message was published on `{subject}`",
                event.event_type()
            ),
        ))
    }
}

/// Decodes and validates one message.
fn decode(v: &Validator, m: &Incoming) -> Result<(Event, WireEvent), FieldError> {
    v.check_size(m.payload.len())?;
    let w = WireEvent::from_json(&m.payload)?;
    let e = v.validate(&w)?;
    check_subject(&m.subject, &e)?;
    Ok((e, w))
}

/// Processes one batch. `deadline` is the age past which a message may have
/// been redelivered elsewhere, so must not be committed.
pub fn process(
    sink: &mut ParquetSink,
    validator: &Validator,
    batch: &[Incoming],
    deadline: std::time::Duration,
) -> Result<Outcome> {
    let mut out = Outcome::default();
    let mut groups: BTreeMap<(Family, String), Vec<(usize, WireEvent)>> = BTreeMap::new();
    let mut seen: HashSet<u64> = HashSet::with_capacity(batch.len());
    let mut repeats = Vec::new();
    for (i, m) in batch.iter().enumerate() {
        if !seen.insert(m.seq) {
            repeats.push(i); // the same sequence twice in one batch: write once, ack both
            continue;
        }
        match decode(validator, m) {
            Ok((e, w)) => {
                let date = e.envelope.occurred_at.date_string();
                groups.entry((e.family(), date)).or_default().push((i, w));
            }
            Err(err) => out.dead.push((i, err)),
        }
    }
    for ((family, date), rows) in groups {
        let suspects: Vec<u64> = rows
            .iter()
            .map(|(i, _)| &batch[*i])
            .filter(|m| sink.may_be_committed(m.seq, m.delivered))
            .map(|m| m.seq)
            .collect();
        let already: HashSet<u64> = if suspects.is_empty() {
            HashSet::new()
        } else {
            sink.committed_in(family, &date, &suspects)?
                .into_iter()
                .collect()
        };
        let mut builder = BatchBuilder::new(family, rows.len());
        let mut seqs = Vec::with_capacity(rows.len());
        let mut acks = Vec::with_capacity(rows.len());
        let now = Instant::now();
        for (i, w) in &rows {
            let m = &batch[*i];
            if already.contains(&m.seq) {
                out.duplicates += 1;
                out.ack.push(*i);
            } else if now.duration_since(m.received) >= deadline {
                out.expired.push(*i);
            } else {
                builder.append(w);
                seqs.push(m.seq);
                acks.push(*i);
            }
        }
        if !builder.is_empty() {
            let rb = builder.finish()?;
            let file = sink.write(family, &date, &rb, &seqs)?;
            out.ingested += rb.num_rows() as u64;
            out.files.push(file);
        }
        out.ack.extend(acks);
    }
    // repeats are acked only if their first copy was settled by an ack
    let acked: HashSet<u64> = out.ack.iter().map(|&i| batch[i].seq).collect();
    let dead: HashSet<u64> = out.dead.iter().map(|(i, _)| batch[*i].seq).collect();
    for i in repeats {
        let s = batch[i].seq;
        if acked.contains(&s) || dead.contains(&s) {
            out.ack.push(i);
        } else {
            out.expired.push(i);
        }
    }
    Ok(out)
}
