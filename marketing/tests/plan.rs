//! A campaign's plan over a small audience, worked out by hand: the
//! definition checked, outcomes counted by rule, messages rendered with the
//! segment's columns and the profile's fields, a missing variable counted
//! (not sent), repeated rows decided once, and the preview's counts equal
//! to what the dry run lists and to what the sender then records.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;
use showrunner_marketing::campaign::Checked;
use showrunner_marketing::plan::{self, Mode, Reach, Recipient};
use showrunner_marketing::{Decider, Decision, Policy, QuietHours, Rule, Zone, ZoneSource};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn definition(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn checked() -> Checked {
    Checked::from_json(&definition(json!({
        "audience": {"segment": "SELECT user_id, title FROM churn_scores JOIN …"},
        "message": {"title": "{{title}} misses you", "body": "Back in {{country}}?", "deep_link": "app://u/{{user_id}}"},
        "channel": "mobile",
        "priority": 3,
        "control_share": 0.0,
        "ttl_hours": 24,
    })))
    .expect("a valid definition")
}

fn recipient(user: &str, title: Option<&str>) -> Recipient {
    Recipient {
        user_id: user.into(),
        vars: title
            .map(|t| BTreeMap::from([("title".to_owned(), t.to_owned())]))
            .unwrap_or_default(),
    }
}

/// Who the profiles say: p1 Paris (opted in), p2 New York, p3 opted out,
/// p4 with no zone in a country off the table (UTC), p5 unknown.
fn reach(user: &str) -> Reach {
    let zone = |tz: &str| Zone::resolve(Some(tz), None);
    match user {
        "p1" => Reach {
            zone: zone("Europe/Paris"),
            opted_in: true,
            country: Some("FR".into()),
            language: Some("fr".into()),
        },
        "p2" | "p6" => Reach {
            zone: zone("America/New_York"),
            opted_in: true,
            country: Some("US".into()),
            language: None,
        },
        "p3" => Reach {
            opted_in: false,
            ..reach("p2")
        },
        "p4" => Reach {
            zone: Zone::resolve(None, Some("ZZ")),
            opted_in: true,
            country: Some("ZZ".into()),
            language: None,
        },
        _ => Reach::UNKNOWN,
    }
}

#[test]
fn definitions_are_checked_before_anything_is_written() {
    let bad = |v: serde_json::Value| {
        Checked::from_json(&definition(v))
            .map(|_| ())
            .expect_err("refused")
    };
    let base = json!({"audience": {"segment": "SELECT user_id FROM x"}, "message": {"title": "t", "body": "b"}});
    let with = |k: &str, v: serde_json::Value| {
        let mut d = base.clone();
        d[k] = v;
        d
    };
    assert!(Checked::from_json(&definition(base.clone())).is_ok());
    assert_eq!(
        bad(with("control_share", json!(0.9))).field,
        "control_share"
    );
    assert_eq!(bad(with("channel", json!("Push.All"))).field, "channel");
    assert_eq!(
        bad(with("caps", json!({"per_day": 0}))).field,
        "caps.per_day"
    );
    assert_eq!(
        bad(with(
            "conversion",
            json!({"event": "bought_a_car", "within_hours": 48})
        ))
        .field,
        "conversion.event"
    );
    assert_eq!(
        bad(with("message", json!({"title": "{{Title}}", "body": "b"}))).field,
        "message.title"
    );
    assert_eq!(
        bad(with("audience", json!({"segment": " "}))).field,
        "audience.segment"
    );
    assert_eq!(bad(with("sparkles", json!(true))).field, "definition");
    let c = checked();
    assert_eq!(
        c.variables().into_iter().collect::<Vec<_>>(),
        ["country", "title", "user_id"]
    );
}

#[test]
fn preview_dry_run_and_send_agree_and_say_why() {
    let c = checked();
    // 20:30Z: 22:30 in Paris (quiet until 06:00Z), 16:30 in New York
    let now = utc("2026-06-10T20:30:00Z");
    let audience = vec![
        recipient("p1", Some("Dark")),
        recipient("p2", Some("Severance")),
        recipient("p2", Some("again")),
        recipient("p3", Some("Dark")),
        recipient("p4", Some("Dark")),
        recipient("p5", Some("Dark")),
        recipient("p6", None),
    ];
    let policy = Policy {
        quiet_hours: Some(QuietHours::default()),
        holdout_share: 0.0,
        ..Policy::default()
    };
    let mut decider = Decider::new(policy);
    let (preview, listed) = plan::plan(
        "c1",
        &c,
        "once",
        &audience,
        reach,
        &mut decider,
        now,
        Mode::Preview,
    );
    assert_eq!(preview.audience, 6);
    assert_eq!(preview.repeated_rows, 1);
    let outcomes: Vec<(&str, usize)> = preview
        .outcomes
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("deferred:quiet_hours", 1),
            ("send", 3),
            ("suppressed:opt_out", 2),
        ]
    );
    assert_eq!(
        preview.zones,
        BTreeMap::from([(ZoneSource::Profile, 4), (ZoneSource::Default, 2)])
    );
    assert_eq!(
        preview.missing_variables,
        BTreeMap::from([("title".to_owned(), 1)])
    );
    let by: BTreeMap<&str, &plan::Planned> =
        listed.iter().map(|p| (p.user_id.as_str(), p)).collect();
    assert_eq!(
        by["p1"].decision,
        Decision::Defer {
            until: utc("2026-06-11T06:00:00Z"),
            rule: Rule::QuietHours
        }
    );
    let m = by["p2"].message.as_ref().expect("rendered");
    assert_eq!(
        (m.title.as_str(), m.body.as_str(), m.deep_link.as_deref()),
        ("Severance misses you", "Back in US?", Some("app://u/p2"))
    );
    assert_eq!(by["p2"].key, "c1:p2:once");
    assert_eq!(
        by["p1"].message.as_ref().expect("deferred, rendered").body,
        "Back in FR?"
    );
    assert!(by["p3"].message.is_none() && by["p3"].missing.is_none());
    assert_eq!(by["p6"].missing.as_deref(), Some("title"));
    assert_eq!(by["p4"].decision, Decision::Send);
    assert_eq!(decider.ledger.keys(), 0, "a preview records nothing");

    // the sample: reached users only, the same each time
    let s1: Vec<&str> = plan::sample(&listed, 2)
        .iter()
        .map(|p| p.user_id.as_str())
        .collect();
    let s2: Vec<&str> = plan::sample(&listed, 2)
        .iter()
        .map(|p| p.user_id.as_str())
        .collect();
    assert_eq!(s1, s2);
    assert_eq!(s1.len(), 2);
    assert!(s1.iter().all(|u| ["p1", "p2", "p4", "p6"].contains(u)));

    // the dry run lists what the preview counted; the sender records the same
    let (dry, _) = plan::plan(
        "c1",
        &c,
        "once",
        &audience,
        reach,
        &mut decider,
        now,
        Mode::Preview,
    );
    assert_eq!(dry, preview);
    let (sent, recorded) = plan::plan(
        "c1",
        &c,
        "once",
        &audience,
        reach,
        &mut decider,
        now,
        Mode::Record,
    );
    assert_eq!(sent.outcomes, preview.outcomes);
    assert_eq!(recorded, listed);
    // run again (a restart, a replay): every key was decided — but p6's,
    // which could not be rendered and so was neither sent nor recorded
    let (again, _) = plan::plan(
        "c1",
        &c,
        "once",
        &audience,
        reach,
        &mut decider,
        now,
        Mode::Record,
    );
    assert_eq!(
        again.outcomes,
        BTreeMap::from([("duplicate".to_owned(), 5), ("send".to_owned(), 1)])
    );
}
