//! Invalid messages on the bus go to DEADLETTER with the reason and the
//! original payload; `deadletter list` shows them; `deadletter replay`
//! re-publishes fixed ones, which then reach the lake.

mod common;

use bytes::Bytes;
use common::*;
use serde_json::Value;
use showrunner_events::examples::examples;

fn lines(out: &std::process::Output) -> Vec<Value> {
    json_lines(out)
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_messages_are_dead_lettered_listed_and_replayed() {
    let h = Harness::new();
    let (client, js) = h.js().await;
    let good: Vec<_> = examples().into_iter().take(5).collect();
    publish(&js, &good).await;
    let seek = examples()
        .into_iter()
        .find(|e| e.event_type() == "seek")
        .expect("seek");
    let mut missing = serde_json::to_value(&seek).expect("json");
    missing.as_object_mut().expect("o").remove("to_ms");
    let wrong_subject = serde_json::to_value(&examples()[0]).expect("json");
    for (subject, payload) in [
        (
            "events.player.seek",
            Bytes::from_static(b"this is not json"),
        ),
        ("events.player.seek", Bytes::from(missing.to_string())),
        (
            "events.billing.renewed",
            Bytes::from(wrong_subject.to_string()),
        ),
        // a newline in an unknown field name must not break the dead letter's headers
        ("events.player.seek", Bytes::from_static(br#"{"a\nb": 1}"#)),
    ] {
        js.publish(subject, payload)
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    client.flush().await.expect("flush");

    let report = ingest_drain(&h.url(), &h.lake(), &[]);
    assert_eq!(report["ingested"], 5, "{report}");
    assert_eq!(report["deadlettered"], 4, "{report}");
    assert_eq!(lake_canonical(&h.lake()), canonical_events(&good));

    let listed = lines(
        &bin()
            .args(["deadletter", "list", "--nats", &h.url()])
            .output()
            .expect("list"),
    );
    assert_eq!(listed.len(), 4);
    assert_eq!(
        listed[3]["field"], "a b",
        "control characters are replaced in headers"
    );
    assert_eq!(listed[3]["payload"], serde_json::json!({"a\nb": 1}));
    assert_eq!(listed[0]["source_subject"], "events.player.seek");
    assert_eq!(listed[0]["payload"], "this is not json");
    assert_eq!(listed[0]["field"], "$");
    assert_eq!(listed[1]["field"], "to_ms");
    assert_eq!(listed[1]["reason"], "is required");
    assert_eq!(listed[1]["payload"], missing);
    assert_eq!(listed[2]["field"], "event_type");
    assert!(
        listed[2]["reason"]
            .as_str()
            .expect("r")
            .contains("events.billing.renewed")
    );
    assert!(
        listed
            .iter()
            .all(|l| l["source_seq"].as_u64().expect("seq") > 5)
    );

    // fix one payload and replay the edited file
    let mut fixed = listed.clone();
    fixed[1]["payload"]["to_ms"] = Value::from(300_000);
    // a letter from a sink this build does not know is left alone: its
    // event is in the lake, and re-publishing would store it twice
    let mut foreign = listed[2].clone();
    foreign["sink"] = Value::from("elsewhere");
    fixed.push(foreign);
    let file = h.dir.path().join("fixed.ndjson");
    std::fs::write(
        &file,
        fixed
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("write");
    let replay = bin()
        .args(["deadletter", "replay", "--nats", &h.url(), "--file"])
        .arg(&file)
        .output()
        .expect("replay");
    let results = lines(&replay);
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| r["status"].as_str().expect("s"))
        .collect();
    // the third was a valid event on the wrong subject: replay publishes it
    // on its own subject, where the stream already holds its id
    assert_eq!(
        statuses,
        [
            "still_invalid",
            "republished",
            "duplicate",
            "still_invalid",
            "unknown_sink"
        ]
    );
    // a duplicate's letter is deleted like a republished one
    let summary = String::from_utf8_lossy(&replay.stderr);
    assert!(
        summary.contains(
            "1 republished, 1 already in the stream, 0 reinserted into ClickHouse, 3 left"
        ),
        "{summary}"
    );

    let left = lines(
        &bin()
            .args(["deadletter", "list", "--nats", &h.url()])
            .output()
            .expect("list"),
    );
    assert_eq!(left.len(), 2, "replayed letters are removed");
    assert_eq!(left[0]["payload"], "this is not json");
    let report = ingest_drain(&h.url(), &h.lake(), &[]);
    assert_eq!(report["ingested"], 1, "{report}");
    let mut expected = good.clone();
    let mut repaired = seek.clone();
    if let showrunner_events::Payload::Player(showrunner_events::types::PlayerEvent::Seek(s)) =
        &mut repaired.payload
    {
        s.to_ms = 300_000;
    }
    expected.push(repaired);
    assert_eq!(lake_canonical(&h.lake()), canonical_events(&expected));
}
