//! `showrunner-bench campaigns`: marketing's send decisions at scale — a
//! synthetic audience of `--users` subscribers (zones from twelve IANA
//! zones, a share without a profile zone placed by country or UTC, 90 %
//! opted in, zero to four capped sends in the past week each), one
//! campaign (priority, 10 % control, one per local day) under the default
//! policy (quiet hours 21:00–08:00, two per day and five per week, 5 %
//! holdout).
//!
//! Stages, each timed: building the ledger from the history (what a
//! restart does from the log); evaluating the audience (a segment over the
//! users' churn scores and countries, as a segment query's result is
//! filtered); the preview of the whole segment on `--threads` threads
//! (counts by outcome and rule, recording nothing); the send decisions,
//! recorded, on one thread (what the sender does). Prints one JSON object.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use showrunner_marketing::{CampaignRules, Caps, Decider, Decision, Due, Policy, Rule, Zone};

/// Arguments of `showrunner-bench campaigns`.
#[derive(clap::Args, Debug, Clone)]
pub struct CampaignsArgs {
    /// Subscribers.
    #[arg(long, default_value_t = 1_000_000)]
    pub users: usize,
    /// Threads of the preview.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Seed of the synthetic audience.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

const ZONES: [&str; 12] = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Africa/Lagos",
    "Pacific/Auckland",
];

struct User {
    id: String,
    zone: Zone,
    opted_in: bool,
    score: f64,
    country: &'static str,
}

/// Runs the benchmark.
pub fn run(a: CampaignsArgs) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    // a Wednesday, 17:00 UTC: evening in Europe, night in Asia, noon in
    // the Americas — every rule has work to do
    let now: DateTime<Utc> = "2026-06-10T17:00:00Z".parse()?;
    let countries = ["US", "BR", "FR", "DE", "GB", "ZZ"];
    let users: Vec<User> = (0..a.users)
        .map(|i| {
            let country = countries[rng.random_range(0..countries.len())];
            let zone = if rng.random_bool(0.9) {
                Zone::resolve(Some(ZONES[rng.random_range(0..ZONES.len())]), Some(country))
            } else {
                Zone::resolve(None, Some(country))
            };
            User {
                id: format!("u{i:08}"),
                zone,
                opted_in: rng.random_bool(0.9),
                score: rng.random::<f64>(),
                country,
            }
        })
        .collect();
    let history: Vec<(usize, &'static str, DateTime<Utc>)> = users
        .iter()
        .enumerate()
        .flat_map(|(i, _)| {
            let n = rng.random_range(0..5);
            (0..n)
                .map(|_| {
                    let back = Duration::minutes(rng.random_range(1..7 * 24 * 60));
                    let c = ["weekly-digest", "new-episode", "daily-pick"][rng.random_range(0..3)];
                    (i, c, now - back)
                })
                .collect::<Vec<_>>()
        })
        .collect();

    let t = Instant::now();
    let mut decider = Decider::new(Policy::default());
    for (i, c, at) in &history {
        decider.ledger.record_sent(c, &users[*i].id, *at);
    }
    let ledger_s = t.elapsed().as_secs_f64();

    let campaign = CampaignRules {
        id: "spring-return".into(),
        priority: 5,
        transactional: false,
        control_share: 0.1,
        caps: Caps {
            per_day: Some(1),
            per_week: None,
        },
    };
    let t = Instant::now();
    let segment: Vec<&User> = users
        .iter()
        .filter(|u| u.score > 0.2 && u.country != "ZZ")
        .collect();
    let audience_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let chunk = segment.len().div_ceil(a.threads.max(1)).max(1);
    let preview = std::thread::scope(|s| {
        let handles: Vec<_> = segment
            .chunks(chunk)
            .map(|part| {
                let (decider, campaign) = (&decider, &campaign);
                s.spawn(move || {
                    let mut counts: BTreeMap<Outcome, usize> = BTreeMap::new();
                    for u in part {
                        *counts
                            .entry(outcome(decider.preview(&due(campaign, u, now), now)))
                            .or_default() += 1;
                    }
                    counts
                })
            })
            .collect();
        let mut total: BTreeMap<Outcome, usize> = BTreeMap::new();
        for h in handles {
            for (k, v) in h.join().expect("preview thread") {
                *total.entry(k).or_default() += v;
            }
        }
        total
    });
    let preview_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut sent: BTreeMap<Outcome, usize> = BTreeMap::new();
    for u in &segment {
        *sent
            .entry(outcome(decider.decide(&due(&campaign, u, now), now)))
            .or_default() += 1;
    }
    let decide_s = t.elapsed().as_secs_f64();

    println!(
        "{}",
        serde_json::json!({
            "bench": "campaigns",
            "users": users.len(),
            "history_sends": history.len(),
            "segment": segment.len(),
            "threads": a.threads,
            "ledger_seconds": ledger_s,
            "audience_seconds": audience_s,
            "preview_seconds": preview_s,
            "preview_users_per_s": segment.len() as f64 / preview_s,
            "decide_seconds": decide_s,
            "decisions_per_s": segment.len() as f64 / decide_s,
            "preview": named(&preview),
            "decided": named(&sent),
            "preview_equals_decisions": preview == sent,
        })
    );
    Ok(())
}

/// `u`'s message of `campaign`, worth sending for 48 hours after `now`.
fn due<'a>(campaign: &'a CampaignRules, u: &'a User, now: DateTime<Utc>) -> Due<'a> {
    Due {
        campaign,
        user: &u.id,
        zone: u.zone,
        opted_in: u.opted_in,
        window: "once",
        deadline: Some(now + Duration::hours(48)),
    }
}

/// An outcome and its rule, as counted.
type Outcome = (&'static str, Option<Rule>);

fn outcome(d: Decision) -> Outcome {
    match d {
        Decision::Send => ("send", None),
        Decision::Duplicate => ("duplicate", None),
        Decision::Defer { rule, .. } => ("deferred", Some(rule)),
        Decision::Suppress { rule } => ("suppressed", Some(rule)),
    }
}

/// Counts as `{"send": n, "deferred:quiet_hours": n, …}`.
fn named(counts: &BTreeMap<Outcome, usize>) -> serde_json::Value {
    counts
        .iter()
        .map(|((what, rule), n)| {
            let name = match rule {
                Some(r) => format!("{what}:{}", r.as_str()),
                None => (*what).to_owned(),
            };
            (name, serde_json::json!(n))
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}
