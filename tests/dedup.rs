//! The lake's one dedup rule (`showrunner_lake::dedup`: of an event's
//! copies, the one received first, then occurred first) keeps the same copy
//! in every reader: DataFusion's family views, the recommender's polars
//! scans and ClickHouse's queries. Two copies of a watch event and of an ad
//! impression, each copy with its own value, go through NATS into the lake
//! and ClickHouse; the copy received later is published first, so stream
//! order and the rule disagree. Every engine must answer with the earlier
//! received copy's value.

mod common;

use common::*;
use showrunner_events::types::Payload;
use showrunner_events::types::billing::BillingEvent;
use showrunner_events::types::watch::WatchEvent;
use showrunner_events::{Event, Family, Timestamp};
use showrunner_ingest::publish::{Outgoing, publish_all};

/// The example event of a payload kind.
fn example(pick: impl Fn(&Payload) -> bool) -> Event {
    showrunner_events::examples::examples()
        .into_iter()
        .find(|e| pick(&e.payload))
        .expect("example")
}

/// A copy of `e` received `late_ms` after `e`, changed by `edit`.
fn copy(e: &Event, late_ms: i64, edit: impl Fn(&mut Payload)) -> Event {
    let mut c = e.clone();
    c.envelope.received_at = Timestamp(e.envelope.received_at.0 + late_ms);
    edit(&mut c.payload);
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicated_event_keeps_the_same_copy_in_every_engine() {
    let h = Harness::new();
    let ch = ClickHouse::start().await;
    let (_client, js) = h.js().await;
    let lake = h.lake();

    // the watch progress copies: kept at 60 s, the later one at 600 s
    let progress = example(|p| matches!(p, Payload::Watch(WatchEvent::Progress(_))));
    let set_position = |ms: i64| {
        move |p: &mut Payload| {
            if let Payload::Watch(WatchEvent::Progress(x)) = p {
                x.position_ms = ms;
            }
        }
    };
    let kept_watch = copy(&progress, 0, set_position(60_000));
    let later_watch = copy(&progress, 5_000, set_position(600_000));
    // the ad impression copies: kept at 1,000 micros, the later at 9,000
    let ad = example(|p| matches!(p, Payload::Billing(BillingEvent::AdImpression(_))));
    let set_revenue = |micros: i64| {
        move |p: &mut Payload| {
            if let Payload::Billing(BillingEvent::AdImpression(x)) = p {
                x.revenue_micros = micros;
            }
        }
    };
    let kept_ad = copy(&ad, 0, set_revenue(1_000));
    let later_ad = copy(&ad, 5_000, set_revenue(9_000));

    // the later copies first, each under its own message id
    let msgs = [
        (&later_watch, "later"),
        (&later_ad, "later"),
        (&kept_watch, "kept"),
        (&kept_ad, "kept"),
    ]
    .map(|(e, tag)| {
        let mut m = Outgoing::event(e);
        m.msg_id.push_str(tag);
        m
    });
    publish_all(&js, msgs.into_iter(), 16, |_| {})
        .await
        .expect("publish");
    ingest_drain(&h.url(), &lake, &["--clickhouse", &ch.url()]);
    let watch_id = progress.envelope.event_id.to_string();
    let ad_id = ad.envelope.event_id.to_string();

    // both stores hold both copies
    let copies = ch
        .query(&format!(
            "SELECT count() FROM showrunner.watch WHERE event_id = '{watch_id}' FORMAT TSV"
        ))
        .await;
    assert_eq!(copies.trim(), "2");
    let raw = showrunner_lake::read::read_lake(&lake).expect("lake");
    assert_eq!(raw.len(), 4, "{raw:?}");

    // DataFusion: the family views
    let df = showrunner_warehouse::Lake::open(&lake).await.expect("lake");
    let one = async |sql: String| -> String {
        let batches = df
            .ctx()
            .sql(&sql)
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
        let rows = showrunner_warehouse::output::rows(&batches).expect("rows");
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows[0][0].to_string()
    };
    let df_position = one(format!(
        "SELECT position_ms FROM watch WHERE event_id = '{watch_id}'"
    ))
    .await;
    let df_revenue = one(format!(
        "SELECT revenue_micros FROM billing WHERE event_id = '{ad_id}'"
    ))
    .await;
    assert_eq!(
        (df_position.as_str(), df_revenue.as_str()),
        ("60000", "1000")
    );

    // polars: the recommender's scan
    use polars::prelude::*;
    let scanned = showrunner_recommender::lake::scan(&lake, Family::Watch)
        .expect("scan")
        .expect("files")
        .filter(col("event_id").eq(lit(watch_id.as_str())))
        .select([col("position_ms").cast(DataType::Int64)])
        .collect()
        .expect("collect");
    let positions: Vec<Option<i64>> = scanned
        .column("position_ms")
        .expect("column")
        .i64()
        .expect("i64")
        .iter()
        .collect();
    assert_eq!(positions, vec![Some(60_000)]);

    // ClickHouse: the rule as the warehouse's ClickHouse SQL renders it
    let clause = showrunner_lake::dedup::clickhouse_clause();
    let ch_position = ch
        .query(&format!(
            "SELECT position_ms FROM showrunner.watch WHERE event_id = '{watch_id}' {clause} FORMAT TSV"
        ))
        .await;
    assert_eq!(ch_position.trim(), "60000");

    // and the metric both engines compute from the copies
    let revenue = |engine: &[&str]| {
        let out = bin()
            .args(["metrics", "--metric", "ad_revenue", "--format", "json"])
            .args(engine)
            .output()
            .expect("run metrics");
        let m = json_lines(&out).remove(0);
        m["rows"][0].clone()
    };
    let lake_s = lake.to_str().expect("utf8");
    let ch_url = ch.url();
    let on_lake = revenue(&["--lake", lake_s]);
    let on_ch = revenue(&["--engine", "clickhouse", "--clickhouse", &ch_url]);
    assert_eq!(on_lake, on_ch);
    let cols = on_lake.as_array().expect("row");
    assert!(
        cols.iter().any(|v| v == &serde_json::json!(1000)),
        "ad revenue from the kept copy: {on_lake}"
    );
}
