//! One ingest batch, on a blocking thread: decode and validate every
//! message straight into one Arrow builder per (family, date), skip
//! sequences already in the lake, and commit the builders as Parquet
//! files, together. Returns what to do with every message: ack, dead-letter, or hand
//! back.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use showrunner_bus::sink::{Refusal, Settlement};

use showrunner_events::arrow::BatchBuilder;
use showrunner_events::{Family, FieldError, Validator, WireEvent};

use crate::error::Result;
use crate::sinks::parquet::{CommittedFile, ParquetSink, PartitionRows};

/// A message pulled from the stream.
pub use showrunner_bus::sink::Delivery as Incoming;

/// What to do with each message of a processed batch (indexes into it).
#[derive(Debug, Default)]
pub struct Outcome {
    /// Committed now or found already committed: ack.
    pub ack: Vec<usize>,
    /// Invalid: publish to dead letters with the reason, then ack.
    pub dead: Vec<(usize, FieldError)>,
    /// Too old to commit safely (half the ack wait has passed): left
    /// unacked, so the server redelivers it after the ack wait.
    pub expired: Vec<usize>,
    /// Rows committed to the lake.
    pub ingested: u64,
    /// Redelivered messages already in the lake.
    pub duplicates: u64,
    /// Files committed.
    pub files: Vec<CommittedFile>,
}

impl Outcome {
    /// What the sink run loop does with the messages.
    pub fn settlement(&self) -> Settlement {
        Settlement {
            ack: self.ack.clone(),
            dead: self
                .dead
                .iter()
                .map(|(i, e)| {
                    let refusal = Refusal {
                        field: e.field.clone(),
                        reason: e.reason.clone(),
                    };
                    (*i, refusal)
                })
                .collect(),
            leave: self.expired.clone(),
        }
    }
}

/// Decodes and validates one message; checks it came on its own subject
/// (`events.<family>.<type>`).
fn decode(v: &Validator, m: &Incoming) -> Result<(Family, WireEvent), FieldError> {
    v.check_size(m.payload.len())?;
    let w = WireEvent::from_json(&m.payload)?;
    let (family, event_type) = v.check(&w)?;
    let subject: &str = &m.subject;
    let on_own_subject = showrunner_bus::subjects::is_event(subject, family, event_type);
    if !on_own_subject {
        return Err(FieldError::new(
            "event_type",
            format!("is `{event_type}` but the message was published on `{subject}`"),
        ));
    }
    Ok((family, w))
}

/// Rows of one partition in the making.
struct Group {
    builder: BatchBuilder,
    rows: Vec<usize>,
    seqs: Vec<u64>,
    oldest: Instant,
}

/// Sequences among the batch's possible repeats that the lake already has.
fn already_committed(
    sink: &mut ParquetSink,
    v: &Validator,
    batch: &[Incoming],
) -> Result<HashSet<u64>> {
    let mut by_partition: HashMap<(Family, String), Vec<u64>> = HashMap::new();
    for m in batch
        .iter()
        .filter(|m| sink.may_be_committed(m.seq, m.delivered))
    {
        if let Ok((family, w)) = decode(v, m) {
            let key = (family, w.occurred_at.unwrap_or_default().date_string());
            by_partition.entry(key).or_default().push(m.seq);
        }
    }
    let mut found = HashSet::new();
    for ((family, date), seqs) in by_partition {
        found.extend(sink.committed_in(family, &date, &seqs)?);
    }
    Ok(found)
}

/// Processes one batch. `deadline` is the age past which a message may have
/// been redelivered elsewhere, so must not be committed.
pub fn process(
    sink: &mut ParquetSink,
    validator: &Validator,
    batch: &[Incoming],
    deadline: Duration,
) -> Result<Outcome> {
    let mut out = Outcome::default();
    let already = already_committed(sink, validator, batch)?;
    let mut groups: BTreeMap<(Family, i64), Group> = BTreeMap::new();
    let mut first_of: HashMap<u64, usize> = HashMap::with_capacity(batch.len());
    let mut repeats = Vec::new();
    let now = Instant::now();
    for (i, m) in batch.iter().enumerate() {
        if first_of.insert(m.seq, i).is_some() {
            repeats.push(i); // the same sequence twice in one batch: settle like its first copy
            continue;
        }
        if already.contains(&m.seq) {
            out.duplicates += 1;
            out.ack.push(i);
            continue;
        }
        if now.duration_since(m.received) >= deadline {
            out.expired.push(i);
            continue;
        }
        match decode(validator, m) {
            Ok((family, w)) => {
                let day = w.occurred_at.unwrap_or_default().epoch_day();
                let g = groups.entry((family, day)).or_insert_with(|| Group {
                    builder: BatchBuilder::new(family, 1_024),
                    rows: Vec::new(),
                    seqs: Vec::new(),
                    oldest: m.received,
                });
                g.builder.append(&w);
                g.rows.push(i);
                g.seqs.push(m.seq);
                g.oldest = g.oldest.min(m.received);
            }
            Err(err) => out.dead.push((i, err)),
        }
    }
    let mut parts = Vec::with_capacity(groups.len());
    let mut rows_of = Vec::with_capacity(groups.len());
    for ((family, day), mut g) in groups {
        if g.oldest.elapsed() >= deadline {
            // writing took too long: these may be redelivered elsewhere by now
            out.expired.extend(g.rows);
            continue;
        }
        let batch = g.builder.finish()?;
        let date =
            showrunner_events::Timestamp(day * showrunner_events::time::DAY_MS).date_string();
        parts.push(PartitionRows {
            family,
            date,
            batch,
            seqs: g.seqs,
        });
        rows_of.push(g.rows);
    }
    // one durable commit for every partition of the batch
    for (file, rows) in sink.write_all(parts)?.into_iter().zip(rows_of) {
        out.ingested += file.rows as u64;
        out.files.push(file);
        out.ack.extend(rows);
    }
    let acked: HashSet<usize> = out
        .ack
        .iter()
        .chain(out.dead.iter().map(|(i, _)| i))
        .copied()
        .collect();
    for i in repeats {
        if acked.contains(&first_of[&batch[i].seq]) {
            out.ack.push(i);
        } else {
            out.expired.push(i);
        }
    }
    Ok(out)
}
