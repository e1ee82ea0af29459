//! The event contract: JSON round trips of every type, Arrow round trips,
//! and one test per validation rule.

use serde_json::{Value, json};
use showrunner_events::arrow::{BatchBuilder, read_batch, schema};
use showrunner_events::batch::parse_body;
use showrunner_events::examples::examples;
use showrunner_events::{Event, Family, FieldError, Limits, Validator, WireEvent};

fn example(event_type: &str) -> Value {
    let e = examples()
        .into_iter()
        .find(|e| e.event_type() == event_type)
        .expect("example exists");
    serde_json::to_value(&e).expect("serialises")
}

fn check(v: &Value) -> Result<Event, FieldError> {
    let w = WireEvent::from_json(v.to_string().as_bytes())?;
    Validator::default().validate(&w)
}

fn refused(v: Value) -> FieldError {
    check(&v).expect_err("must be refused")
}

fn with(event_type: &str, field: &str, value: Value) -> Value {
    let mut v = example(event_type);
    v[field] = value;
    v
}

fn without(event_type: &str, field: &str) -> Value {
    let mut v = example(event_type);
    v.as_object_mut().expect("object").remove(field);
    v
}

#[test]
fn every_type_has_an_example_that_validates_and_round_trips() {
    let all = examples();
    for family in Family::ALL {
        for t in family.types() {
            assert!(
                all.iter().any(|e| e.event_type() == *t),
                "no example for {t}"
            );
            assert_eq!(Family::of_type(t), Some(*family));
        }
    }
    for e in &all {
        let text = serde_json::to_string(e).expect("serialises");
        let back: Event = serde_json::from_str(&text).expect("parses");
        assert_eq!(&back, e, "{text}");
        assert_eq!(
            check(&serde_json::from_str(&text).expect("json")),
            Ok(e.clone())
        );
    }
}

#[test]
fn arrow_round_trip_of_every_family() {
    let all = examples();
    for family in Family::ALL {
        let mine: Vec<&Event> = all.iter().filter(|e| e.family() == *family).collect();
        let mut b = BatchBuilder::new(*family, 4);
        for e in &mine {
            b.append(&e.to_wire());
        }
        let batch = b.finish().expect("batch");
        assert_eq!(batch.schema(), schema(*family));
        assert_eq!(batch.num_rows(), mine.len());
        let back: Vec<Event> = read_batch(&batch)
            .expect("reads")
            .iter()
            .map(|w| Event::from_wire(w).expect("valid"))
            .collect();
        assert_eq!(back, mine.into_iter().cloned().collect::<Vec<_>>());
    }
}

#[test]
fn metrics_contract_columns_exist() {
    let names = |f: Family| -> Vec<String> {
        schema(f)
            .fields()
            .iter()
            .map(|x| x.name().clone())
            .collect()
    };
    let player = names(Family::Player);
    for c in [
        "event_id",
        "event_type",
        "schema_version",
        "occurred_at",
        "received_at",
        "user_id",
        "profile_id",
        "device_id",
        "view_id",
        "title_id",
        "device_type",
        "os",
        "player_name",
        "player_version",
        "app_version",
        "cdn",
        "country",
        "isp",
        "network_type",
        "bitrate_kbps",
        "position_ms",
        "code",
        "fatal",
        "reason",
    ] {
        assert!(player.contains(&c.to_owned()), "player lacks {c}");
    }
    let billing = names(Family::Billing);
    for c in [
        "plan",
        "price_minor",
        "currency",
        "trial",
        "amount_minor",
        "revenue_micros",
        "title_id",
    ] {
        assert!(billing.contains(&c.to_owned()), "billing lacks {c}");
    }
}

#[test]
fn required_payload_field() {
    let e = refused(without("bitrate_changed", "bitrate_kbps"));
    assert_eq!(
        (e.field.as_str(), e.reason.as_str()),
        ("bitrate_kbps", "is required")
    );
    assert_eq!(refused(without("error", "fatal")).field, "fatal");
    assert_eq!(
        refused(without("subscription_started", "trial")).field,
        "trial"
    );
}

#[test]
fn required_envelope_fields() {
    for f in [
        "event_id",
        "event_type",
        "occurred_at",
        "received_at",
        "schema_version",
    ] {
        assert_eq!(refused(without("seek", f)).field, f);
    }
    assert_eq!(refused(without("seek", "view_id")).field, "view_id");
    assert_eq!(
        refused(without("play_requested", "title_id")).field,
        "title_id"
    );
    assert_eq!(refused(without("renewed", "user_id")).field, "user_id");
    assert_eq!(
        refused(without("rental_purchased", "title_id")).field,
        "title_id"
    );
    assert_eq!(refused(without("progress", "title_id")).field, "title_id");
    assert_eq!(refused(without("push_sent", "user_id")).field, "user_id");
    // anonymous viewers are fine in the player family
    assert!(check(&without("seek", "user_id")).is_ok());
}

#[test]
fn enum_values() {
    let e = refused(with("view_ended", "reason", json!("bored")));
    assert_eq!(e.field, "reason");
    assert!(
        e.reason.contains("completed, user_exit, error, background"),
        "{}",
        e.reason
    );
    assert_eq!(
        refused(with("play_requested", "device_type", json!("fridge"))).field,
        "device_type"
    );
    assert_eq!(
        refused(with("play_requested", "network_type", json!("5g"))).field,
        "network_type"
    );
    assert_eq!(
        refused(with("title_published", "kind", json!("podcast"))).field,
        "kind"
    );
    assert_eq!(
        refused(with("push_suppressed", "rule", json!("mood"))).field,
        "rule"
    );
    assert_eq!(
        refused(with("title_published", "maturity_rating", json!("R"))).field,
        "maturity_rating"
    );
}

#[test]
fn codes_and_ids() {
    assert_eq!(
        refused(with("renewed", "currency", json!("eur"))).field,
        "currency"
    );
    assert_eq!(
        refused(with("play_requested", "country", json!("FRA"))).field,
        "country"
    );
    assert_eq!(
        refused(with("seek", "event_id", json!("not-a-uuid"))).field,
        "event_id"
    );
    assert_eq!(
        refused(with("seek", "event_type", json!("teleport"))).field,
        "event_type"
    );
}

#[test]
fn wrong_json_types() {
    assert_eq!(
        refused(with("seek", "from_ms", json!("12"))).field,
        "from_ms"
    );
    assert_eq!(refused(with("error", "fatal", json!(1))).field, "fatal");
    assert_eq!(
        refused(with("seek", "occurred_at", json!(12))).field,
        "occurred_at"
    );
    assert_eq!(refused(with("seek", "bogus", json!(1))).field, "bogus");
}

#[test]
fn field_foreign_to_the_type() {
    let e = refused(with("seek", "bitrate_kbps", json!(100)));
    assert_eq!(e.field, "bitrate_kbps");
    assert!(e.reason.contains("not a field of `seek`"));
}

#[test]
fn no_negative_numbers() {
    for (t, f) in [
        ("bitrate_changed", "bitrate_kbps"),
        ("seek", "to_ms"),
        ("progress", "position_ms"),
        ("renewed", "price_minor"),
        ("refunded", "amount_minor"),
        ("ad_impression", "revenue_micros"),
    ] {
        let e = refused(with(t, f, json!(-1)));
        assert_eq!(e.field, f);
        assert!(e.reason.contains("negative"));
    }
}

#[test]
fn string_limits() {
    let e = refused(with("seek", "view_id", json!("v".repeat(129))));
    assert_eq!(e.field, "view_id");
    assert!(check(&with("seek", "view_id", json!("v".repeat(128)))).is_ok());
    assert_eq!(
        refused(with("error", "message", json!("m".repeat(4097)))).field,
        "message"
    );
    assert_eq!(refused(with("error", "code", json!(""))).field, "code");
    let many: Vec<String> = (0..257).map(|i| format!("g{i}")).collect();
    assert_eq!(
        refused(with("title_published", "genres", json!(many))).field,
        "genres"
    );
    let e = refused(with(
        "title_published",
        "genres",
        json!(["drama", "x".repeat(4097)]),
    ));
    assert!(e.reason.contains("over the limit of 4096"), "{}", e.reason);
    let e = refused(with("title_published", "genres", json!(["drama", ""])));
    assert_eq!(
        (e.field.as_str(), e.reason.as_str()),
        ("genres", "must not contain empty strings")
    );
    let e = refused(with(
        "title_published",
        "countries",
        json!(["FR", "france"]),
    ));
    assert_eq!(e.field, "countries");
    assert!(e.reason.contains("`france`"), "{}", e.reason);
}

#[test]
fn clock_bounds() {
    let e = refused(with("seek", "occurred_at", json!("2026-01-01T00:00:00Z")));
    assert_eq!(e.field, "occurred_at");
    assert!(e.reason.contains("days before received_at"), "{}", e.reason);
    let e = refused(with("seek", "occurred_at", json!("2026-03-01T15:00:00Z")));
    assert!(e.reason.contains("clock skew"), "{}", e.reason);
    // 44 days late is offline viewing, still fine
    let ok = with("seek", "occurred_at", json!("2026-01-16T14:01:30Z"));
    assert!(check(&ok).is_ok());
    let mut v = with("seek", "occurred_at", json!("1999-12-31T23:59:59Z"));
    v["received_at"] = json!("1999-12-31T23:59:59Z");
    assert!(refused(v).reason.contains("outside 2000-01-01..2100-01-01"));
    let mut v = with("seek", "occurred_at", json!("2100-01-01T00:00:00Z"));
    v["received_at"] = json!("2100-01-01T00:00:00Z");
    assert!(refused(v).reason.contains("outside 2000-01-01..2100-01-01"));
    let mut v = with("seek", "occurred_at", json!("2099-12-31T23:59:59.999Z"));
    v["received_at"] = json!("2099-12-31T23:59:59.999Z");
    assert!(
        check(&v).is_ok(),
        "the last millisecond before 2100 is fine"
    );
}

#[test]
fn schema_version_must_be_known() {
    assert_eq!(
        refused(with("seek", "schema_version", json!(2))).field,
        "schema_version"
    );
    assert_eq!(
        refused(with("seek", "schema_version", json!(0))).field,
        "schema_version"
    );
}

#[test]
fn event_size_limit() {
    let mut v = example("signed_up");
    v["properties"] = json!({ "blob": "x".repeat(70_000) });
    let body = v.to_string();
    let parsed = parse_body(body.as_bytes(), &Limits::default()).expect("body parses");
    let e = parsed[0].as_ref().expect_err("too big");
    assert!(e.reason.contains("over the limit of 65536"), "{}", e.reason);
    assert!(Validator::default().check_size(65_537).is_err());
    assert!(Validator::default().check_size(65_536).is_ok());
}

#[test]
fn batch_limits_and_framing() {
    let limits = Limits::default();
    let one = example("seek").to_string();
    let array = format!("[{}]", vec![one.as_str(); 1000].join(","));
    assert_eq!(
        parse_body(array.as_bytes(), &limits).expect("ok").len(),
        1000
    );
    let array = format!("[{}]", vec![one.as_str(); 1001].join(","));
    let e = parse_body(array.as_bytes(), &limits).expect_err("1001 events");
    assert!(
        matches!(e, showrunner_events::Error::BatchTooLarge(_)),
        "{e}"
    );
    let ndjson = format!("{one}\n\n{one}\n");
    assert_eq!(parse_body(ndjson.as_bytes(), &limits).expect("ok").len(), 2);
    let mut big = format!("[{one}]").into_bytes();
    big.resize(1024 * 1024 + 1, b' ');
    let e = parse_body(&big, &limits).expect_err("over 1 MiB");
    assert!(
        matches!(e, showrunner_events::Error::BatchTooLarge(_)),
        "{e}"
    );
    big.truncate(1024 * 1024);
    assert_eq!(
        parse_body(&big, &limits)
            .expect("exactly 1 MiB is fine")
            .len(),
        1
    );
    assert!(parse_body(b"[{\"a\":", &limits).is_err());
    assert!(parse_body(b"hello", &limits).is_err());
    assert!(parse_body(b"  ", &limits).is_err());
    // JSON that is not an event is reported per element
    let mixed = format!("[{one}, 42, {{\"event_type\":\"seek\"}}]");
    let parsed = parse_body(mixed.as_bytes(), &limits).expect("framing ok");
    assert!(parsed[0].is_ok());
    assert_eq!(parsed[1].as_ref().expect_err("not an object").field, "$");
    assert!(
        parsed[2].is_ok(),
        "structure is checked later, by the validator"
    );
}
