//! The simulator is deterministic for a seed and its audience has the
//! structure the metrics and models rely on.

use std::collections::HashMap;

use chrono::NaiveDate;
use showrunner_events::types::player::PlayerEvent;
use showrunner_events::{Event, Family, Payload, Validator};
use showrunner_simulator::{SimConfig, Simulator};

fn run(seed: u64) -> Vec<Event> {
    let start = NaiveDate::from_ymd_opt(2026, 2, 1).expect("date");
    let mut c = SimConfig::new(120, 20, seed, start);
    c.heartbeat_secs = 120;
    Simulator::new(c).flatten().collect()
}

#[test]
fn same_seed_same_events_other_seed_other_events() {
    let a = run(7);
    let b = run(7);
    assert!(a.len() > 5_000, "only {} events", a.len());
    assert_eq!(a, b);
    let c = run(8);
    assert_ne!(a, c);
}

#[test]
fn every_event_is_valid_and_ids_are_unique() {
    let events = run(3);
    let v = Validator::default();
    let mut ids = std::collections::HashSet::new();
    for e in &events {
        let w = e.to_wire();
        assert_eq!(
            v.validate(&w).as_ref(),
            Ok(e),
            "{}",
            String::from_utf8_lossy(&w.to_json())
        );
        assert!(ids.insert(e.envelope.event_id), "duplicate id");
    }
}

#[test]
fn the_audience_has_the_expected_shape() {
    let events = run(11);
    let mut by_type: HashMap<&str, usize> = HashMap::new();
    for e in &events {
        *by_type.entry(e.event_type()).or_default() += 1;
    }
    for t in [
        "play_requested",
        "first_frame",
        "rebuffer_start",
        "rebuffer_end",
        "bitrate_changed",
        "seek",
        "pause",
        "resume",
        "heartbeat",
        "error",
        "view_ended",
        "progress",
        "completed",
        "subscription_started",
        "renewed",
        "canceled",
        "ad_impression",
        "title_published",
        "episode_added",
        "signed_up",
        "profile_updated",
    ] {
        assert!(
            by_type.get(t).copied().unwrap_or(0) > 0,
            "no {t} in {by_type:?}"
        );
    }
    // every view starts with play_requested and ends once
    let mut views: HashMap<&str, (usize, usize)> = HashMap::new();
    for e in events.iter().filter(|e| e.family() == Family::Player) {
        let v = views
            .entry(e.envelope.view_id.as_deref().expect("view id"))
            .or_default();
        match &e.payload {
            Payload::Player(PlayerEvent::PlayRequested(_)) => v.0 += 1,
            Payload::Player(PlayerEvent::ViewEnded(_)) => v.1 += 1,
            _ => {}
        }
    }
    assert!(
        views.values().all(|&(s, e)| s == 1 && e <= 1),
        "a view without exactly one start"
    );
    // exits before start and start failures both happen, but are rare
    let starts = by_type["play_requested"] as f64;
    let ff = by_type["first_frame"] as f64;
    assert!(
        ff / starts > 0.85 && ff / starts < 0.995,
        "first frame share {}",
        ff / starts
    );
}
