//! A lake write that fails is retried by the sink run loop with the same
//! batch: the failed attempt raises the sink's high water mark over the
//! batch, so the retry looks every row up before writing and a row the
//! failed attempt did commit is not written twice.

use std::time::{Duration, Instant};

use showrunner_bus::sink::Delivery;
use showrunner_events::{Family, Validator};
use showrunner_ingest::consumer::process;
use showrunner_ingest::publish::Outgoing;
use showrunner_ingest::sinks::parquet::ParquetSink;
use showrunner_lake::Store;

fn deliveries() -> Vec<Delivery> {
    let now = Instant::now();
    showrunner_events::examples::examples()
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let out = Outgoing::event(e);
            Delivery {
                seq: i as u64 + 1,
                delivered: 1,
                subject: out.subject.into(),
                payload: out.payload,
                reply: None,
                received: now,
            }
        })
        .collect()
}

#[test]
fn a_failed_commit_is_retried_without_writing_a_row_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = dir.path().join("lake");
    let batch = deliveries();
    let families: std::collections::BTreeSet<&str> = batch
        .iter()
        .filter_map(|d| showrunner_bus::subjects::parse(&d.subject).map(|(f, _)| f))
        .collect();
    assert!(families.len() >= 3, "{families:?}");
    let v = Validator::default();
    let mut sink =
        ParquetSink::open(Store::dir(&lake), "EVENTS", "1", Duration::from_secs(60)).expect("open");
    assert!(!sink.may_be_committed(1, 1), "a fresh lake has nothing");

    // the watch family's directory cannot be created: the commit fails
    let blocked = lake.join("events").join(Family::Watch.as_str());
    std::fs::write(&blocked, b"not a directory").expect("block");
    let first = process::process(&mut sink, &v, &batch, Duration::from_secs(60));
    assert!(first.is_err(), "the commit must fail");
    for d in &batch {
        assert!(
            sink.may_be_committed(d.seq, 1),
            "seq {} is looked up on retry",
            d.seq
        );
    }

    // some of the batch is committed by hand, as a commit failing after its
    // first renames would leave it: the retry must find those rows
    let player: Vec<Delivery> = batch
        .iter()
        .filter(|d| d.subject.starts_with("events.player."))
        .cloned()
        .collect();
    assert!(!player.is_empty());
    let early = process::process(&mut sink, &v, &player, Duration::from_secs(60)).expect("player");
    assert_eq!(early.ingested as usize, player.len());

    std::fs::remove_file(&blocked).expect("unblock");
    let retry = process::process(&mut sink, &v, &batch, Duration::from_secs(60)).expect("retry");
    assert_eq!(retry.duplicates as usize, player.len(), "{retry:?}");
    assert_eq!(retry.ingested as usize, batch.len() - player.len());
    assert_eq!(retry.ack.len(), batch.len());

    let rows = showrunner_lake::read::read_lake(&lake).expect("read");
    let mut ids: Vec<String> = rows.into_iter().filter_map(|w| w.event_id).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!((n, ids.len()), (batch.len(), batch.len()), "each row once");
}
