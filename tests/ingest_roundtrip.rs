//! Publish simulated events (and one example of every type) → ingest →
//! read the Parquet back: exactly the same multiset of events, each in its
//! family and date partition, with provenance in every footer.

mod common;

use common::*;
use showrunner_events::examples::examples;
use showrunner_events::{Event, Family};
use showrunner_lake::format::read_provenance;
use showrunner_lake::read::{lake_files, read_file};

#[tokio::test(flavor = "multi_thread")]
async fn lake_holds_exactly_the_published_events() {
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let mut events: Vec<Event> = sim_events(120, 12, 5);
    events.extend(examples());
    publish(&js, &events).await;

    let report = ingest_drain(&h.url(), &h.lake(), &["--batch-max", "3000"]);
    assert_eq!(report["ingested"], events.len() as u64, "{report}");
    assert_eq!(report["deadlettered"], 0);

    assert_eq!(lake_canonical(&h.lake()), canonical_events(&events));

    let files = lake_files(&h.lake()).expect("files");
    assert!(files.len() > 6, "only {} files", files.len());
    let mut rows = 0u64;
    for f in &files {
        let family: Family = f
            .parent()
            .and_then(|p| p.parent())
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .expect("family dir")
            .parse()
            .expect("family");
        let date = f
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .and_then(showrunner_lake::layout::partition_date)
            .expect("date=…")
            .to_owned();
        let got = read_file(f).expect("reads");
        for w in &got {
            let e = Event::from_wire(w).expect("valid");
            assert_eq!(e.family(), family);
            assert_eq!(e.envelope.occurred_at.date_string(), date);
        }
        let p = read_provenance(f).expect("footer").expect("provenance");
        assert_eq!(p.stream, "EVENTS");
        assert!(p.incarnation.parse::<i128>().expect("ns") > 0);
        assert_eq!(p.seqs.len(), got.len() as u64);
        rows += got.len() as u64;
    }
    assert_eq!(rows, events.len() as u64);

    // running again finds nothing to do and changes nothing
    let again = ingest_drain(&h.url(), &h.lake(), &[]);
    assert_eq!(again["messages"], 0, "{again}");
    assert_eq!(lake_files(&h.lake()).expect("files"), files);
}
