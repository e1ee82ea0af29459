//! Each read model on a few events whose answers are worked out by hand.

use serde_json::{Value, json};
use showrunner_events::types::catalog::Maturity;
use showrunner_events::{Event, Timestamp};
use showrunner_projections::campaigns::Status as CampaignStatus;
use showrunner_projections::entitlements::{Access, Denial, Status};
use showrunner_projections::{
    Campaigns, Catalog, Entitlements, Fold, Notifications, Profiles, Viewing,
};

const H: i64 = 3_600_000;

struct Events(u128);

impl Events {
    /// An event `ty` at `at` ms.
    fn at(&mut self, at: i64, ty: &str, extra: Value) -> Event {
        self.0 += 1;
        let t = Timestamp(at).to_string();
        let mut v = json!({
            "event_id": uuid::Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0000 | self.0).to_string(),
            "event_type": ty, "schema_version": 1, "occurred_at": t, "received_at": t,
        });
        for (k, x) in extra.as_object().expect("object") {
            v[k] = x.clone();
        }
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{ty}: {e}"))
    }
}

fn ts(ms: i64) -> String {
    Timestamp(ms).to_string()
}

/// s1 published at 10 h in US+DE rated 13+ from 10 h; episodes s1e2 (1,2),
/// s1e1 (1,1), s2e1 (2,1) — listed in that order: s1e1, s1e2, s2e1; an
/// episode of an unknown series is not shown; withdrawn in DE at 50 h; an
/// update at 40 h ends availability at 1,000 h. So: US at 500 h yes, DE at
/// 500 h no, US at 5 h no (before), US at 1,000 h no (the end is exclusive).
#[test]
fn catalog_orders_episodes_and_applies_withdrawals() {
    let mut ev = Events(0);
    let events = [
        ev.at(50 * H, "title_withdrawn", json!({ "title_id": "s1", "countries": ["DE"] })),
        ev.at(12 * H, "episode_added", json!({ "title_id": "s1e2", "series_id": "s1", "season": 1, "episode": 2, "duration_ms": 1 })),
        ev.at(11 * H, "episode_added", json!({ "title_id": "s1e1", "series_id": "s1", "season": 1, "episode": 1, "duration_ms": 1 })),
        ev.at(13 * H, "episode_added", json!({ "title_id": "s2e1", "series_id": "s1", "season": 2, "episode": 1, "duration_ms": 1 })),
        ev.at(14 * H, "episode_added", json!({ "title_id": "x", "series_id": "unknown", "season": 1, "episode": 1, "duration_ms": 1 })),
        ev.at(10 * H, "title_published", json!({
            "title_id": "s1", "name": "Name s1", "kind": "series", "genres": [], "language": "en",
            "maturity_rating": "13+", "countries": ["US", "DE"], "available_from": ts(10 * H),
        })),
        ev.at(40 * H, "title_updated", json!({ "title_id": "s1", "available_until": ts(1_000 * H) })),
    ];
    let c = Catalog::from_events(&events);
    let t = c.get("s1").expect("s1");
    let eps: Vec<&str> = t.episodes.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(eps, ["s1e1", "s1e2", "s2e1"]);
    assert_eq!(t.maturity, Maturity::Plus13);
    assert!(t.available("US", 500 * H));
    assert!(!t.available("DE", 500 * H), "withdrawn in DE");
    assert!(!t.available("US", 5 * H), "before publication");
    assert!(!t.available("US", 1_000 * H), "after available_until");
    assert_eq!(c.resolve("s1e2"), Some(0));
    assert_eq!(c.episode("s2e1"), Some((0, 2)));
    assert_eq!(c.resolve("x"), None);
    assert_eq!(c.titles.len(), 1, "the unknown series is not published");
    // an update setting the countries again restores DE
    let mut more = events.to_vec();
    more.push(ev.at(
        60 * H,
        "title_updated",
        json!({ "title_id": "s1", "countries": ["US", "DE"] }),
    ));
    assert!(
        Catalog::from_events(&more)
            .get("s1")
            .expect("s1")
            .available("DE", 500 * H)
    );
}

/// u1: trial standard at 1 h, plan_changed to basic 1000 at 2 h (still a
/// trial: price 0), renewed basic 1000 at 3 h (converts: active, 1000),
/// payment_failed at 4 h (nothing), canceled at 5 h. Rental of m1 for 2 h
/// at 6 h: m1 playable until 8 h (exclusive), then rental expired; m2 never.
#[test]
fn entitlements_follow_the_subscription_rule() {
    let mut ev = Events(0);
    let mut e = Entitlements::default();
    for x in [
        ev.at(H, "subscription_started", json!({ "user_id": "u1", "plan": "standard", "price_minor": 1500, "currency": "EUR", "trial": true })),
        ev.at(2 * H, "plan_changed", json!({ "user_id": "u1", "plan": "basic", "price_minor": 1000, "currency": "EUR" })),
        ev.at(3 * H, "renewed", json!({ "user_id": "u1", "plan": "basic", "price_minor": 1000, "currency": "EUR" })),
        ev.at(4 * H, "payment_failed", json!({ "user_id": "u1" })),
        ev.at(5 * H, "canceled", json!({ "user_id": "u1" })),
        ev.at(6 * H, "rental_purchased", json!({ "user_id": "u1", "title_id": "m1", "amount_minor": 399, "currency": "EUR", "rental_hours": 2 })),
    ] {
        e.apply(&x);
    }
    let at = |t: i64| {
        e.subscription_at("u1", t)
            .map(|s| (s.status, s.plan, s.price_minor))
    };
    assert_eq!(at(H - 1), None);
    assert_eq!(at(H), Some((Status::Trial, Some("standard".into()), 0)));
    assert_eq!(at(2 * H), Some((Status::Trial, Some("basic".into()), 0)));
    assert_eq!(
        at(3 * H),
        Some((Status::Active, Some("basic".into()), 1000))
    );
    assert_eq!(
        at(4 * H),
        Some((Status::Active, Some("basic".into()), 1000))
    );
    assert_eq!(at(5 * H), Some((Status::Canceled, None, 0)));
    assert_eq!(
        e.access("u1", "m1", 3 * H),
        Ok(Access::Subscription {
            plan: "basic".into(),
            status: Status::Active
        })
    );
    assert_eq!(e.access("u1", "m1", 5 * H + 1), Err(Denial::NotSubscribed));
    assert_eq!(
        e.access("u1", "m1", 7 * H),
        Ok(Access::Rental { until: 8 * H })
    );
    assert_eq!(e.access("u1", "m1", 8 * H), Err(Denial::RentalExpired));
    assert_eq!(e.access("u1", "m2", 7 * H), Err(Denial::NotSubscribed));
    assert_eq!(e.access("nobody", "m1", 7 * H), Err(Denial::NotSubscribed));
}

/// Progress 300/1000 at 1 h, 800/1000 at 2 h, 100/1000 at 3 h (rewound):
/// resume at 100, furthest 0.8; completed twice (3.5 h, 4 h), the second
/// delivered twice: two completions, latest at 4 h.
#[test]
fn viewing_keeps_resume_points_and_distinct_completions() {
    let mut ev = Events(0);
    let mut v = Viewing::default();
    let p = |pos: i64| json!({ "user_id": "u1", "title_id": "m1", "position_ms": pos, "duration_ms": 1000 });
    let done = ev.at(
        4 * H,
        "completed",
        json!({ "user_id": "u1", "title_id": "m1" }),
    );
    for x in [
        ev.at(2 * H, "progress", p(800)),
        ev.at(H, "progress", p(300)),
        ev.at(3 * H, "progress", p(100)),
        ev.at(
            7 * H / 2,
            "completed",
            json!({ "user_id": "u1", "title_id": "m1" }),
        ),
        done.clone(),
        done,
    ] {
        v.apply(&x);
    }
    let w = v.get("u1", "m1").expect("m1");
    assert_eq!(
        (w.position_ms(), w.duration_ms(), w.progress_at()),
        (100, 1000, 3 * H)
    );
    assert_eq!(w.max_fraction(), 0.8);
    assert_eq!(
        (w.completions(), w.completed_at(), w.last_at()),
        (2, Some(4 * H), 4 * H)
    );
}

/// Signed up in FR at 1 h (language fr); at 2 h opts in and limits to 13+;
/// at 3 h changes the time zone only: all three kept.
#[test]
fn profiles_merge_partial_updates() {
    let mut ev = Events(0);
    let mut p = Profiles::default();
    for x in [
        ev.at(
            3 * H,
            "profile_updated",
            json!({ "user_id": "u1", "time_zone": "Europe/Paris" }),
        ),
        ev.at(
            2 * H,
            "profile_updated",
            json!({ "user_id": "u1", "push_opt_in": true, "maturity_limit": "13+" }),
        ),
        ev.at(
            H,
            "signed_up",
            json!({ "user_id": "u1", "country": "FR", "language": "fr" }),
        ),
    ] {
        p.apply(&x);
    }
    let u = p.get("u1").expect("u1");
    assert_eq!(u.signed_up_at, Some(H));
    assert_eq!(
        (u.country.as_deref(), u.language.as_deref()),
        (Some("FR"), Some("fr"))
    );
    assert_eq!(u.time_zone.as_deref(), Some("Europe/Paris"));
    assert!(u.push_opt_in);
    assert_eq!(u.maturity_limit, Some(Maturity::Plus13));
}

/// Sent c1 at 1 h and 5 h, c2 at 3 h, suppressed c1 at 6 h: 2 sent in
/// [0, 4 h), the latest c1 at 5 h.
#[test]
fn notifications_count_what_was_sent() {
    let mut ev = Events(0);
    let mut n = Notifications::default();
    for (at, ty, c) in [
        (H, "push_sent", "c1"),
        (5 * H, "push_sent", "c1"),
        (3 * H, "push_sent", "c2"),
        (4 * H, "push_opened", "c2"),
    ] {
        n.apply(&ev.at(at, ty, json!({ "user_id": "u1", "campaign_id": c })));
    }
    n.apply(&ev.at(
        6 * H,
        "push_suppressed",
        json!({ "user_id": "u1", "campaign_id": "c1", "rule": "quiet_hours" }),
    ));
    assert_eq!(n.sent_between("u1", 0, 4 * H), 2);
    assert_eq!(n.sent_between("u1", 0, 10 * H), 3);
    assert_eq!(n.last_sent("u1", "c1"), Some(5 * H));
    assert_eq!(n.history("u1").count(), 5);
}

/// c1 created by ada at 1 h (draft), launched at 2 h for 5 h, paused by
/// bob at 3 h, updated (renamed) at 4 h, launched again at 6 h (at once),
/// archived at 8 h; a pause at 9 h is refused (archived) and an update at
/// 0.5 h, before the creation, is not part of the campaign at all. The
/// launch at 2 h arrives last: it is put in its place.
#[test]
fn campaigns_follow_their_lifecycle_and_keep_who_did_what() {
    let mut ev = Events(0);
    let c = |extra: Value| {
        let mut v = json!({ "campaign_id": "c1" });
        for (k, x) in extra.as_object().expect("object") {
            v[k] = x.clone();
        }
        v
    };
    let launch_2h = ev.at(
        2 * H,
        "campaign_launched",
        c(json!({ "actor": "ada", "send_at": ts(5 * H) })),
    );
    let events = [
        ev.at(
            H / 2,
            "campaign_updated",
            c(json!({ "actor": "eve", "definition": {"priority": 9} })),
        ),
        ev.at(
            H,
            "campaign_created",
            c(json!({ "actor": "ada", "name": "Spring", "definition": {"priority": 1} })),
        ),
        ev.at(3 * H, "campaign_paused", c(json!({ "actor": "bob" }))),
        ev.at(
            4 * H,
            "campaign_updated",
            c(json!({ "actor": "bob", "name": "Spring 2", "definition": {"priority": 2} })),
        ),
        ev.at(6 * H, "campaign_launched", c(json!({ "actor": "ada" }))),
    ];
    let mut f = Campaigns::default();
    for e in &events {
        assert!(f.apply(e));
    }
    // before the late launch arrives: paused at 3 h is refused (a draft)
    let early = f.get("c1").expect("created");
    assert_eq!(early.status, CampaignStatus::Launched { send_at: 6 * H });
    assert!(
        !early
            .audit
            .iter()
            .find(|a| a.at == 3 * H)
            .expect("pause")
            .applied
    );
    f.apply(&launch_2h);
    let late = ev.at(8 * H, "campaign_archived", c(json!({ "actor": "bob" })));
    let refused = ev.at(9 * H, "campaign_paused", c(json!({ "actor": "eve" })));
    f.apply(&late);
    f.apply(&refused);
    f.apply(&late);
    let got = f.get("c1").expect("created");
    assert_eq!(got.name, "Spring 2");
    assert_eq!(got.definition["priority"], json!(2));
    assert_eq!(
        (got.revision, got.created_at, got.created_by.as_str()),
        (2, H, "ada")
    );
    assert_eq!(got.status, CampaignStatus::Archived);
    assert_eq!(got.updated_at, 8 * H);
    let trail: Vec<(i64, &str, &str, bool)> = got
        .audit
        .iter()
        .map(|a| (a.at / H, a.actor.as_str(), a.action, a.applied))
        .collect();
    assert_eq!(
        trail,
        [
            (1, "ada", "campaign_created", true),
            (2, "ada", "campaign_launched", true),
            (3, "bob", "campaign_paused", true),
            (4, "bob", "campaign_updated", true),
            (6, "ada", "campaign_launched", true),
            (8, "bob", "campaign_archived", true),
            (9, "eve", "campaign_paused", false),
        ]
    );
    assert!(f.get("c2").is_none());
}
