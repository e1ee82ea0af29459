//! Send decisions worked out by hand: zones and their fallbacks, quiet
//! hours across zones and DST changes, caps counted in the user's local
//! day and week, the campaign's caps, priority under a cap, deadlines,
//! transactional messages, opt-outs, holdout and control, and idempotency
//! keys under replay and deferral.
//!
//! 2026 DST changes used: New York springs forward on 8 March (02:00 EST →
//! 03:00 EDT) and falls back on 1 November (02:00 EDT → 01:00 EST); Paris is
//! UTC+2 in June; São Paulo has had no DST since 2019 (UTC−3); Tokyo UTC+9.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use showrunner_marketing::{
    CampaignRules, Caps, Decider, Decision, Due, Policy, QuietHours, Rule, Zone, ZoneSource,
};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

fn zone(tz: &str) -> Zone {
    let z = Zone::resolve(Some(tz), None);
    assert_eq!(z.source, ZoneSource::Profile, "{tz}");
    z
}

fn campaign(id: &str) -> CampaignRules {
    CampaignRules {
        id: id.into(),
        priority: 0,
        transactional: false,
        control_share: 0.0,
        caps: Caps::default(),
    }
}

/// No holdout, default quiet hours (21:00–08:00), caps as given.
fn policy(per_day: Option<u32>, per_week: Option<u32>) -> Policy {
    Policy {
        quiet_hours: Some(QuietHours::default()),
        caps: Caps { per_day, per_week },
        holdout_share: 0.0,
    }
}

fn due<'a>(c: &'a CampaignRules, user: &'a str, z: Zone, window: &'a str) -> Due<'a> {
    Due {
        campaign: c,
        user,
        zone: z,
        opted_in: true,
        window,
        deadline: None,
    }
}

fn defer(until: &str, rule: Rule) -> Decision {
    Decision::Defer {
        until: utc(until),
        rule,
    }
}

#[test]
fn zones_come_from_the_profile_else_the_country_else_utc() {
    let z = Zone::resolve(Some("Europe/Paris"), Some("US"));
    assert_eq!(
        (z.tz.name(), z.source),
        ("Europe/Paris", ZoneSource::Profile)
    );
    let z = Zone::resolve(Some("Mars/Olympus_Mons"), Some("fr"));
    assert_eq!(
        (z.tz.name(), z.source),
        ("Europe/Paris", ZoneSource::Country)
    );
    let z = Zone::resolve(None, Some("BR"));
    assert_eq!(
        (z.tz.name(), z.source),
        ("America/Sao_Paulo", ZoneSource::Country)
    );
    assert_eq!(Zone::resolve(None, Some("ZZ")), Zone::DEFAULT);
    assert_eq!(Zone::resolve(Some(""), None), Zone::DEFAULT);
    assert_eq!(Zone::DEFAULT.tz.name(), "UTC");
}

#[test]
fn local_times_resolve_across_dst_changes() {
    let ny = zone("America/New_York");
    let at = |d: &str, t: &str| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .expect("date")
            .and_time(NaiveTime::parse_from_str(t, "%H:%M").expect("time"))
    };
    // 02:30 does not exist on 8 March: moved on by the gap, 03:30 EDT
    assert_eq!(
        ny.instant(at("2026-03-08", "02:30")),
        utc("2026-03-08T07:30:00Z")
    );
    // 01:30 happens twice on 1 November: the earlier, 01:30 EDT
    assert_eq!(
        ny.instant(at("2026-11-01", "01:30")),
        utc("2026-11-01T05:30:00Z")
    );
    // midnight after 7 March (EST) and the Monday after Sunday 8 March (EDT)
    assert_eq!(
        ny.next_day(utc("2026-03-07T17:00:00Z")),
        utc("2026-03-08T05:00:00Z")
    );
    assert_eq!(
        ny.next_week(utc("2026-03-08T17:00:00Z")),
        utc("2026-03-09T04:00:00Z")
    );
    // Sunday 23:30 EST is still last week; 00:30 EST Monday is the new one
    assert_eq!(
        ny.week(utc("2026-11-09T04:30:00Z")),
        NaiveDate::from_ymd_opt(2026, 11, 2).expect("date")
    );
    assert_eq!(
        ny.week(utc("2026-11-09T05:30:00Z")),
        NaiveDate::from_ymd_opt(2026, 11, 9).expect("date")
    );
}

#[test]
fn quiet_hours_defer_to_their_end_in_each_users_zone() {
    let q = QuietHours::default();
    let paris = zone("Europe/Paris");
    // 22:30 CEST: to 08:00 CEST the next morning
    assert_eq!(
        q.release(utc("2026-06-10T20:30:00Z"), &paris),
        Some(utc("2026-06-11T06:00:00Z"))
    );
    // 06:00 CEST: to 08:00 the same morning
    assert_eq!(
        q.release(utc("2026-06-10T04:00:00Z"), &paris),
        Some(utc("2026-06-10T06:00:00Z"))
    );
    // 20:59 and 08:00 are not quiet
    assert_eq!(q.release(utc("2026-06-10T18:59:00Z"), &paris), None);
    assert_eq!(q.release(utc("2026-06-10T06:00:00Z"), &paris), None);

    // one instant, three zones: 22:30 in Paris, 16:30 in New York, 05:30
    // the next day in Tokyo
    let at = utc("2026-06-10T20:30:00Z");
    assert_eq!(q.release(at, &zone("America/New_York")), None);
    assert_eq!(
        q.release(at, &zone("Asia/Tokyo")),
        Some(utc("2026-06-10T23:00:00Z"))
    );

    // the spring-forward night: 23:00 EST → 08:00 EDT = 12:00Z (an hour
    // sooner than the evening's offset would say)
    let ny = zone("America/New_York");
    assert_eq!(
        q.release(utc("2026-03-08T04:00:00Z"), &ny),
        Some(utc("2026-03-08T12:00:00Z"))
    );
    // the fall-back night: 23:00 EDT → 08:00 EST = 13:00Z
    assert_eq!(
        q.release(utc("2026-11-01T03:00:00Z"), &ny),
        Some(utc("2026-11-01T13:00:00Z"))
    );
    // quiet hours ending at 02:30, a time that does not exist on 8 March:
    // released at 03:30 EDT
    let late = QuietHours {
        start: NaiveTime::from_hms_opt(22, 0, 0).expect("time"),
        end: NaiveTime::from_hms_opt(2, 30, 0).expect("time"),
    };
    assert_eq!(
        late.release(utc("2026-03-08T04:00:00Z"), &ny),
        Some(utc("2026-03-08T07:30:00Z"))
    );

    // zone unknown: a bad profile zone and a country in the table →
    // São Paulo: 22:00 local on 9 June → 08:00 local = 11:00Z
    let sp = Zone::resolve(Some("not/a_zone"), Some("BR"));
    assert_eq!(
        q.release(utc("2026-06-10T01:00:00Z"), &sp),
        Some(utc("2026-06-10T11:00:00Z"))
    );
    // neither known: UTC
    let nowhere = Zone::resolve(None, None);
    assert_eq!(
        q.release(utc("2026-06-10T22:00:00Z"), &nowhere),
        Some(utc("2026-06-11T08:00:00Z"))
    );
}

#[test]
fn a_message_due_in_quiet_hours_is_deferred_then_sent_at_their_end() {
    let c = campaign("reminder");
    let mut d = Decider::new(policy(None, None));
    let m = due(&c, "u1", zone("Europe/Paris"), "once");
    assert_eq!(
        d.decide(&m, utc("2026-06-10T20:30:00Z")),
        defer("2026-06-11T06:00:00Z", Rule::QuietHours)
    );
    // the same trigger fired again meanwhile: nothing new
    assert_eq!(
        d.decide(&m, utc("2026-06-11T02:00:00Z")),
        Decision::Duplicate
    );
    // at the window's end it goes, once
    assert_eq!(d.decide(&m, utc("2026-06-11T06:00:00Z")), Decision::Send);
    assert_eq!(
        d.decide(&m, utc("2026-06-11T06:00:01Z")),
        Decision::Duplicate
    );
    // a deadline before the end of quiet hours: suppressed for them
    let m2 = Due {
        deadline: Some(utc("2026-06-11T05:00:00Z")),
        ..due(&c, "u2", zone("Europe/Paris"), "once")
    };
    assert_eq!(
        d.decide(&m2, utc("2026-06-10T20:30:00Z")),
        Decision::Suppress {
            rule: Rule::QuietHours
        }
    );
}

#[test]
fn caps_count_the_users_local_day_not_the_utc_day() {
    let c = campaign("news");
    let ny = zone("America/New_York");
    let mut d = Decider::new(policy(Some(2), None));
    // 19:30 and 19:31 EDT on 10 June
    assert_eq!(
        d.decide(&due(&c, "u", ny, "w1"), utc("2026-06-10T23:30:00Z")),
        Decision::Send
    );
    assert_eq!(
        d.decide(&due(&c, "u", ny, "w2"), utc("2026-06-10T23:31:00Z")),
        Decision::Send
    );
    // 20:00 EDT, still 10 June locally (11 June in UTC): capped until the
    // local day ends, and midnight is quiet: 08:00 EDT on 11 June
    assert_eq!(
        d.decide(&due(&c, "u", ny, "w3"), utc("2026-06-11T00:00:00Z")),
        defer("2026-06-11T12:00:00Z", Rule::FrequencyCap)
    );
    // without quiet hours, the cap reopens at local midnight (04:00Z)
    let mut d2 = Decider::new(Policy {
        quiet_hours: None,
        ..policy(Some(2), None)
    });
    d2.decide(&due(&c, "u", ny, "w1"), utc("2026-06-10T23:30:00Z"));
    d2.decide(&due(&c, "u", ny, "w2"), utc("2026-06-10T23:31:00Z"));
    assert_eq!(
        d2.decide(&due(&c, "u", ny, "w3"), utc("2026-06-11T03:59:00Z")),
        defer("2026-06-11T04:00:00Z", Rule::FrequencyCap)
    );
    assert_eq!(
        d2.decide(&due(&c, "u", ny, "w3"), utc("2026-06-11T04:00:00Z")),
        Decision::Send
    );
    // a user in Tokyo for whom 23:30Z on 10 June is already 11 June
    // counts nothing from New York's sends
    let tokyo = zone("Asia/Tokyo");
    assert_eq!(
        d2.decide(&due(&c, "t", tokyo, "w1"), utc("2026-06-10T23:30:00Z")),
        Decision::Send
    );
}

#[test]
fn the_weekly_cap_reopens_on_the_users_monday() {
    let c = campaign("weekly");
    let paris = zone("Europe/Paris");
    let mut d = Decider::new(policy(None, Some(3)));
    // Monday 15, Tuesday 16, Wednesday 17 June 2026 at noon CEST
    for (i, day) in ["15", "16", "17"].iter().enumerate() {
        let w = format!("w{i}");
        assert_eq!(
            d.decide(
                &due(&c, "u", paris, &w),
                utc(&format!("2026-06-{day}T10:00:00Z"))
            ),
            Decision::Send
        );
    }
    // Sunday 21st: capped until Monday 22nd 00:00 CEST (quiet) → 08:00 CEST
    assert_eq!(
        d.decide(&due(&c, "u", paris, "w3"), utc("2026-06-21T10:00:00Z")),
        defer("2026-06-22T06:00:00Z", Rule::FrequencyCap)
    );
    assert_eq!(
        d.decide(&due(&c, "u", paris, "w3"), utc("2026-06-22T06:00:00Z")),
        Decision::Send
    );
}

#[test]
fn a_campaigns_own_cap_leaves_other_campaigns_alone() {
    let mut once_a_day = campaign("daily-pick");
    once_a_day.caps.per_day = Some(1);
    let other = campaign("new-episode");
    let ny = zone("America/New_York");
    let mut d = Decider::new(policy(Some(3), None));
    let at = utc("2026-06-10T15:00:00Z");
    assert_eq!(
        d.decide(&due(&once_a_day, "u", ny, "a"), at),
        Decision::Send
    );
    assert_eq!(
        d.decide(&due(&once_a_day, "u", ny, "b"), at),
        defer("2026-06-11T12:00:00Z", Rule::CampaignCap)
    );
    assert_eq!(d.decide(&due(&other, "u", ny, "a"), at), Decision::Send);
    assert_eq!(d.decide(&due(&other, "u", ny, "b"), at), Decision::Send);
    // the global cap (3) now holds for every campaign
    assert_eq!(
        d.decide(&due(&other, "u", ny, "c"), at),
        defer("2026-06-11T12:00:00Z", Rule::FrequencyCap)
    );
}

#[test]
fn under_a_cap_the_higher_priority_wins_whatever_the_order() {
    let mut low = campaign("low");
    low.priority = 1;
    let mut high = campaign("high");
    high.priority = 5;
    let ny = zone("America/New_York");
    let at = utc("2026-06-10T15:00:00Z");
    let capped = defer("2026-06-11T12:00:00Z", Rule::FrequencyCap);
    for batch in [
        vec![due(&low, "u", ny, "x"), due(&high, "u", ny, "x")],
        vec![due(&high, "u", ny, "x"), due(&low, "u", ny, "x")],
    ] {
        let mut d = Decider::new(policy(Some(1), None));
        let out = d.decide_batch(&batch, at);
        for (m, decision) in batch.iter().zip(out) {
            let expected = if m.campaign.id == "high" {
                Decision::Send
            } else {
                capped
            };
            assert_eq!(decision, expected, "{}", m.campaign.id);
        }
    }
    // with a deadline before the cap reopens, the loser is suppressed
    let mut d = Decider::new(policy(Some(1), None));
    let loser = Due {
        deadline: Some(utc("2026-06-10T23:00:00Z")),
        ..due(&low, "u", ny, "x")
    };
    let out = d.decide_batch(&[loser, due(&high, "u", ny, "x")], at);
    assert_eq!(
        out,
        [
            Decision::Suppress {
                rule: Rule::FrequencyCap
            },
            Decision::Send
        ]
    );
}

#[test]
fn transactional_messages_pass_caps_and_groups_but_not_opt_outs_or_quiet_hours() {
    let mut receipt = campaign("payment-failed");
    receipt.transactional = true;
    receipt.control_share = 1.0;
    let promo = campaign("promo");
    let ny = zone("America/New_York");
    let mut d = Decider::new(Policy {
        holdout_share: 1.0,
        ..policy(Some(1), None)
    });
    let at = utc("2026-06-10T15:00:00Z");
    assert_eq!(
        d.decide(&due(&promo, "u", ny, "x"), at),
        Decision::Suppress {
            rule: Rule::Holdout
        }
    );
    assert_eq!(d.decide(&due(&receipt, "u", ny, "1"), at), Decision::Send);
    // not counted: a second one goes too
    assert_eq!(d.decide(&due(&receipt, "u", ny, "2"), at), Decision::Send);
    assert_eq!(
        d.decide(&due(&receipt, "u", ny, "3"), utc("2026-06-11T02:00:00Z")),
        defer("2026-06-11T12:00:00Z", Rule::QuietHours)
    );
    let out = Due {
        opted_in: false,
        ..due(&receipt, "v", ny, "1")
    };
    assert_eq!(
        d.decide(&out, at),
        Decision::Suppress { rule: Rule::OptOut }
    );
}

#[test]
fn control_users_never_receive_and_every_key_is_decided_once() {
    let mut c = campaign("winback");
    c.control_share = 0.5;
    let ny = zone("America/New_York");
    let mut d = Decider::new(policy(None, None));
    let at = utc("2026-06-10T15:00:00Z");
    let users: Vec<String> = (0..2_000).map(|i| format!("user-{i}")).collect();
    let batch: Vec<Due> = users.iter().map(|u| due(&c, u, ny, "once")).collect();
    let first = d.decide_batch(&batch, at);
    let control = first
        .iter()
        .filter(|x| {
            **x == Decision::Suppress {
                rule: Rule::Control,
            }
        })
        .count();
    let sent = first.iter().filter(|x| **x == Decision::Send).count();
    assert_eq!(control + sent, users.len());
    assert!(
        (900..1_100).contains(&control),
        "control {control} of 2000 at 0.5"
    );
    for (u, x) in users.iter().zip(&first) {
        let in_control = showrunner_marketing::assign::in_control("winback", u, 0.5);
        assert_eq!(*x == Decision::Send, !in_control, "{u}");
    }
    // the whole batch replayed (a restart, a duplicate trigger): nothing
    let again = d.decide_batch(&batch, at + chrono::Duration::hours(1));
    assert!(again.iter().all(|x| *x == Decision::Duplicate));
    assert_eq!(d.ledger.keys(), users.len());
}
