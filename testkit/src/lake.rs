//! Lakes written directly, as the Parquet sink would write them, without a
//! bus or an ingest process: for tests whose subject is what reads a lake.

use std::collections::BTreeMap;
use std::path::Path;

use showrunner_events::arrow::BatchBuilder;
use showrunner_events::{Event, Family, WireEvent};
use showrunner_lake::seqs::SeqSet;
use showrunner_lake::{Layout, commit, format, layout::part_name};

/// Writes `rows` (all of `family`) as one committed file per event date,
/// named after sequence `part`.
pub fn write_events(lake: &Path, family: Family, rows: &[WireEvent], part: u64) {
    let mut by_date: BTreeMap<String, BatchBuilder> = BTreeMap::new();
    for w in rows {
        let date = w.occurred_at.expect("time").date_string();
        by_date
            .entry(date)
            .or_insert_with(|| BatchBuilder::new(family, 8))
            .append(w);
    }
    for (date, mut b) in by_date {
        let batch = b.finish().expect("batch");
        let seqs = SeqSet::from_seqs(&[part]);
        let bytes = format::encode(
            &batch,
            format::properties("EVENTS", "0", &seqs).expect("props"),
        )
        .expect("encode");
        commit::commit_file(
            &Layout::new(lake).partition(family, &date),
            &part_name(part, part, "t", 0),
            &bytes,
        )
        .expect("commit");
    }
}

/// Writes `events` (any families) as a lake: each family's events by
/// [`write_events`], part numbers in family order.
pub fn write_lake(lake: &Path, events: impl IntoIterator<Item = Event>) {
    let mut by_family: BTreeMap<&'static str, (Family, Vec<WireEvent>)> = BTreeMap::new();
    for e in events {
        let f = e.family();
        by_family
            .entry(f.as_str())
            .or_insert((f, Vec::new()))
            .1
            .push(e.to_wire());
    }
    for (i, (family, rows)) in by_family.values().enumerate() {
        write_events(lake, *family, rows, i as u64 + 1);
    }
}
