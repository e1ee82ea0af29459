//! The read models' invariant, as property tests: applying events in any
//! order, with any of them repeated, gives the same state as applying them
//! once in stamp order. Events are drawn for a few keys (titles, users)
//! with times in a narrow range, so that ties on `occurred_at` (broken by
//! `event_id`) happen often.

use proptest::prelude::*;
use serde_json::{Value, json};
use showrunner_events::Event;
use showrunner_projections::{
    Campaigns, CatalogFold, Entitlements, Fold, Notifications, Profiles, Viewing,
};

const T0: i64 = 1_767_225_600_000; // 2026-01-01

/// An event from its type, time offset (minutes), sequence number and
/// payload fields.
fn event(n: usize, ty: &str, minutes: i64, extra: Value) -> Event {
    let at = showrunner_events::Timestamp(T0 + minutes * 60_000).to_string();
    let mut v = json!({
        "event_id": uuid::Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0000 | n as u128).to_string(),
        "event_type": ty, "schema_version": 1,
        "occurred_at": at, "received_at": at,
    });
    for (k, x) in extra.as_object().expect("object") {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{ty}: {e}"))
}

fn pick<'a>(xs: &'a [&'a str], k: u8) -> &'a str {
    xs[k as usize % xs.len()]
}

/// One drawn event: (kind, key, minute, a, b).
type Draw = (u8, u8, i64, u8, u8);

fn catalog_event(n: usize, (kind, key, min, a, b): Draw) -> Event {
    let id = pick(&["s1", "s2", "m1"], key);
    let countries =
        [vec!["US"], vec!["US", "FR"], vec!["FR", "DE"], vec!["DE"]][a as usize % 4].clone();
    let rating = pick(&["all", "7+", "13+", "16+", "18+"], b);
    match kind % 4 {
        0 => event(
            n,
            "title_published",
            min,
            json!({
                "title_id": id, "name": format!("{id} v{a}"), "kind": "series", "genres": [pick(&["drama", "comedy"], b)],
                "language": "en", "maturity_rating": rating, "countries": countries,
                "available_from": showrunner_events::Timestamp(T0 + i64::from(a) * 60_000).to_string(),
            }),
        ),
        1 => {
            let mut v = json!({ "title_id": id });
            if a % 2 == 0 {
                v["name"] = json!(format!("{id} u{b}"));
            }
            if b % 3 == 0 {
                v["maturity_rating"] = json!(rating);
            }
            if a % 3 == 1 {
                v["countries"] = json!(countries);
            }
            if b % 2 == 1 {
                v["available_until"] = json!(
                    showrunner_events::Timestamp(T0 + 100 * 60_000 + i64::from(b)).to_string()
                );
            }
            event(n, "title_updated", min, v)
        }
        2 => {
            let mut v = json!({ "title_id": id });
            if a % 4 != 0 {
                v["countries"] = json!(countries);
            }
            event(n, "title_withdrawn", min, v)
        }
        _ => event(
            n,
            "episode_added",
            min,
            json!({
                "title_id": format!("{id}e{}", a % 3), "series_id": id, "season": i64::from(b % 2) + 1,
                "episode": i64::from(a % 3) + 1, "duration_ms": 1_000,
            }),
        ),
    }
}

fn watch_event(n: usize, (kind, key, min, a, b): Draw) -> Event {
    let (user, title) = (pick(&["u1", "u2"], key), pick(&["m1", "e1", "e2"], b));
    if kind % 3 == 2 {
        event(
            n,
            "completed",
            min,
            json!({ "user_id": user, "title_id": title, "duration_ms": 1_000 }),
        )
    } else {
        event(
            n,
            "progress",
            min,
            json!({
                "user_id": user, "title_id": title, "position_ms": i64::from(a) * 10, "duration_ms": 1_000 + i64::from(b % 2),
            }),
        )
    }
}

fn user_event(n: usize, (kind, key, min, a, b): Draw) -> Event {
    let user = pick(&["u1", "u2"], key);
    if kind % 2 == 0 {
        event(
            n,
            "signed_up",
            min,
            json!({ "user_id": user, "country": pick(&["US", "FR"], a), "language": pick(&["en", "fr"], b) }),
        )
    } else {
        let mut v = json!({ "user_id": user });
        if a % 2 == 0 {
            v["push_opt_in"] = json!(b % 2 == 0);
        }
        if b % 3 != 0 {
            v["maturity_limit"] = json!(pick(&["7+", "13+", "18+"], a));
        }
        if a % 3 == 0 {
            v["time_zone"] = json!(pick(&["Europe/Paris", "America/New_York"], b));
        }
        event(n, "profile_updated", min, v)
    }
}

fn billing_event(n: usize, (kind, key, min, a, b): Draw) -> Event {
    let user = pick(&["u1", "u2"], key);
    let plan = pick(&["basic", "standard", "premium"], a);
    let price = [1000, 1500, 2000][a as usize % 3];
    match kind % 6 {
        0 => event(
            n,
            "subscription_started",
            min,
            json!({ "user_id": user, "plan": plan, "price_minor": price, "currency": "EUR", "trial": b % 2 == 0 }),
        ),
        1 => event(
            n,
            "renewed",
            min,
            json!({ "user_id": user, "plan": plan, "price_minor": price, "currency": "EUR" }),
        ),
        2 => event(
            n,
            "plan_changed",
            min,
            json!({ "user_id": user, "plan": plan, "price_minor": price, "currency": "EUR" }),
        ),
        3 => event(n, "canceled", min, json!({ "user_id": user })),
        4 => event(n, "payment_failed", min, json!({ "user_id": user })),
        _ => event(
            n,
            "rental_purchased",
            min,
            json!({ "user_id": user, "title_id": pick(&["m1", "m2"], b), "amount_minor": 399, "currency": "EUR", "rental_hours": i64::from(a % 3) + 1 }),
        ),
    }
}

fn notification_event(n: usize, (kind, key, min, _a, b): Draw) -> Event {
    let (user, campaign) = (pick(&["u1", "u2"], key), pick(&["c1", "c2"], b));
    match kind % 3 {
        0 => event(
            n,
            "push_sent",
            min,
            json!({ "user_id": user, "campaign_id": campaign }),
        ),
        1 => event(
            n,
            "push_opened",
            min,
            json!({ "user_id": user, "campaign_id": campaign }),
        ),
        _ => event(
            n,
            "push_suppressed",
            min,
            json!({ "user_id": user, "campaign_id": campaign, "rule": "frequency_cap" }),
        ),
    }
}

fn campaign_event(n: usize, (kind, key, min, a, b): Draw) -> Event {
    let id = pick(&["c1", "c2"], key);
    let actor = pick(&["ada", "bob"], b);
    let def = json!({ "priority": a % 4 });
    match kind % 6 {
        0 | 1 => event(
            n,
            "campaign_created",
            min,
            json!({ "campaign_id": id, "name": format!("{id} n{a}"), "definition": def, "actor": actor }),
        ),
        2 => event(
            n,
            "campaign_updated",
            min,
            json!({ "campaign_id": id, "definition": def, "actor": actor }),
        ),
        3 => {
            let mut v = json!({ "campaign_id": id, "actor": actor });
            if a % 2 == 0 {
                v["send_at"] =
                    json!(showrunner_events::Timestamp(T0 + i64::from(a) * 60_000).to_string());
            }
            event(n, "campaign_launched", min, v)
        }
        4 => event(
            n,
            "campaign_paused",
            min,
            json!({ "campaign_id": id, "actor": actor }),
        ),
        _ => event(
            n,
            "campaign_archived",
            min,
            json!({ "campaign_id": id, "actor": actor }),
        ),
    }
}

/// Draws, a permutation of them and indexes of repeats.
fn draws() -> impl Strategy<Value = (Vec<Draw>, Vec<usize>, Vec<usize>)> {
    prop::collection::vec(
        (any::<u8>(), any::<u8>(), 0i64..6, any::<u8>(), any::<u8>()),
        1..24,
    )
    .prop_flat_map(|d| {
        let n = d.len();
        (
            Just(d),
            Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            prop::collection::vec(0..n, 0..n + 1),
        )
    })
}

/// The fold of `events` in stamp order, and of the permutation with repeats.
fn both<F: Fold + Default>(events: &[Event], order: &[usize], repeats: &[usize]) -> (F, F) {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| (e.envelope.occurred_at.0, e.envelope.event_id));
    let mut once = F::default();
    for e in sorted {
        once.apply(e);
    }
    let mut shuffled = F::default();
    for &k in order.iter().chain(repeats) {
        assert!(
            shuffled.apply(&events[k]),
            "every drawn event concerns its fold"
        );
    }
    (once, shuffled)
}

fn build(d: &[Draw], f: fn(usize, Draw) -> Event) -> Vec<Event> {
    d.iter().enumerate().map(|(n, x)| f(n, *x)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn catalog_is_order_free_and_idempotent((d, order, repeats) in draws()) {
        let events = build(&d, catalog_event);
        let (a, b) = both::<CatalogFold>(&events, &order, &repeats);
        prop_assert_eq!(a.catalog(), b.catalog());
    }

    #[test]
    fn viewing_is_order_free_and_idempotent((d, order, repeats) in draws()) {
        let events = build(&d, watch_event);
        let (a, b) = both::<Viewing>(&events, &order, &repeats);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn profiles_are_order_free_and_idempotent((d, order, repeats) in draws()) {
        let events = build(&d, user_event);
        let (a, b) = both::<Profiles>(&events, &order, &repeats);
        prop_assert_eq!(a.all(), b.all());
    }

    #[test]
    fn entitlements_are_order_free_and_idempotent((d, order, repeats) in draws()) {
        let events: Vec<Event> = build(&d, billing_event);
        let (a, b) = {
            // payment_failed concerns no fold: apply only the others
            let keep: Vec<usize> = (0..events.len()).filter(|&k| events[k].event_type() != "payment_failed").collect();
            let order: Vec<usize> = order.into_iter().filter(|k| keep.contains(k)).collect();
            let repeats: Vec<usize> = repeats.into_iter().filter(|k| keep.contains(k)).collect();
            both::<Entitlements>(&events, &order, &repeats)
        };
        for m in -1..8 {
            let t = T0 + m * 60_000;
            for u in ["u1", "u2"] {
                prop_assert_eq!(a.subscription_at(u, t), b.subscription_at(u, t));
                for title in ["m1", "m2"] {
                    prop_assert_eq!(a.access(u, title, t), b.access(u, title, t));
                }
            }
        }
    }

    #[test]
    fn notifications_are_order_free_and_idempotent((d, order, repeats) in draws()) {
        let events = build(&d, notification_event);
        let (a, b) = both::<Notifications>(&events, &order, &repeats);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn campaigns_are_order_free_and_idempotent((d, order, repeats) in draws()) {
        let events = build(&d, campaign_event);
        let (a, b) = both::<Campaigns>(&events, &order, &repeats);
        prop_assert_eq!(a.all(), b.all());
    }
}
