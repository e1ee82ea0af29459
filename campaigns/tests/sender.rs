//! The sender over a real NATS server: a campaign launched through the API
//! is carried out pass by pass at chosen instants — sent now where it is
//! day, deferred to the end of quiet hours and delivered then, suppressed
//! for opt-outs and the control group — each push on
//! `notifications.push.mobile` once with its key as `Nats-Msg-Id`, each
//! decision logged. Replayed passes, a restarted sender (state from the
//! stream) and a sender that lost every push log (as if killed between
//! delivering and logging) deliver nothing twice and lose nothing.
//!
//! Profiles in `common`: u3 opted out; u4 in the control group; at 20:30Z
//! it is 22:30 in Paris (u1, quiet until 06:00Z) and 05:30 in Tokyo (u5,
//! quiet until 23:00Z).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use showrunner_campaigns::sender::{PUSH_STREAM, PassReport, Push, ensure_push_stream};
use showrunner_campaigns::{Book, CampaignsState, router};
use showrunner_events::Family;
use showrunner_marketing::Policy;
use showrunner_marketing::assign::in_control;
use showrunner_projections::Fold;
use showrunner_projections::live::Live;

/// With it, u4 (place 0.493 under the salt `launch-test`, computed by the
/// Python implementation in `marketing/tests/assign.rs`) is in the control
/// group; u3 (0.427) is too, but opted out, which is checked first.
const CONTROL: f64 = 0.5;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

async fn call(state: &CampaignsState, method: Method, path: &str, body: Value) -> StatusCode {
    common::request(&router(state.clone()), method, path, Some(body))
        .await
        .0
}

/// Every push the gateway's stream holds: key → how many times.
async fn delivered(js: &async_nats::jetstream::Context) -> BTreeMap<String, usize> {
    let stream = js.get_stream(PUSH_STREAM).await.expect("stream");
    let n = stream.get_info().await.expect("info").state.last_sequence;
    let mut out = BTreeMap::new();
    for seq in 1..=n {
        let m = stream.get_raw_message(seq).await.expect("message");
        let p: Push = serde_json::from_slice(&m.payload).expect("push");
        assert_eq!(m.subject.as_str(), "notifications.push.mobile");
        assert_eq!(p.channel, "mobile");
        *out.entry(p.key).or_default() += 1;
    }
    out
}

fn report(sent: usize, deferred: usize, suppressed: usize) -> PassReport {
    PassReport {
        campaigns: 1,
        sent,
        deferred,
        suppressed,
        unrenderable: 0,
    }
}

#[tokio::test]
async fn a_campaign_is_delivered_once_deferred_then_sent_and_survives_restarts() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = dir.path().join("lake");
    showrunner_testkit::lake::write_lake(&lake, common::profiles());
    let (_server, js, streams) = common::bus(dir.path()).await;
    ensure_push_stream(&js, Duration::from_secs(3600))
        .await
        .expect("push stream");
    let store = showrunner_lake::Store::dir(&lake);
    let policy = Arc::new(Policy {
        holdout_share: 0.0,
        ..Policy::default()
    });
    let fresh = |book| {
        let mut s = CampaignsState::new(store.clone(), js.clone());
        s.book = book;
        s.policy = policy.clone();
        s
    };
    let state = fresh(showrunner_campaigns::load(&store).await.expect("book"));

    let definition = json!({
        "audience": {"segment": "SELECT user_id FROM \"user\" WHERE event_type = 'signed_up'"},
        "message": {"title": "For {{user_id}}", "body": "New this week"},
        "channel": "mobile",
        "control_share": CONTROL,
    });
    assert_eq!(
        call(
            &state,
            Method::POST,
            "/v1/campaigns",
            json!({"id": "launch-test", "name": "t", "definition": definition})
        )
        .await,
        StatusCode::CREATED
    );
    assert_eq!(
        call(
            &state,
            Method::POST,
            "/v1/campaigns/launch-test/launch",
            json!({"send_at": "2026-06-10T20:00:00Z"})
        )
        .await,
        StatusCode::OK
    );
    let control: Vec<&str> = ["u1", "u2", "u3", "u4", "u5"]
        .into_iter()
        .filter(|u| *u != "u3" && in_control("launch-test", u, CONTROL))
        .collect();
    assert_eq!(control, ["u4"], "the control group is not empty");
    let reached =
        |users: &[&str]| -> usize { users.iter().filter(|u| !control.contains(u)).count() };
    let key = |u: &str| format!("launch-test:{u}:once");

    // before send_at: nothing
    assert_eq!(
        state
            .send_pass(at("2026-06-10T19:59:00Z"))
            .await
            .expect("pass"),
        PassReport::default()
    );
    // 20:30Z: u2 and u4 now, u1 and u5 deferred, u3 opted out, control users suppressed
    let first = state
        .send_pass(at("2026-06-10T20:30:00Z"))
        .await
        .expect("pass");
    assert_eq!(
        first,
        report(
            reached(&["u2", "u4"]),
            reached(&["u1", "u5"]),
            1 + control.len()
        )
    );
    // replayed: nothing
    assert_eq!(
        state
            .send_pass(at("2026-06-10T20:31:00Z"))
            .await
            .expect("pass"),
        report(0, 0, 0)
    );
    // Tokyo's quiet hours end at 23:00Z
    let tokyo = state
        .send_pass(at("2026-06-10T23:00:00Z"))
        .await
        .expect("pass");
    assert_eq!(tokyo, report(reached(&["u5"]), 0, 0));

    // a restarted sender: its state from the lake and the stream alone
    let restarted = fresh(showrunner_campaigns::load(&store).await.expect("book"));
    showrunner_projections::live::spawn_followers(
        js.clone(),
        &streams.events,
        time::OffsetDateTime::UNIX_EPOCH,
        restarted.book.clone(),
    );
    let logged = first.sent + first.deferred + first.suppressed + tokyo.sent;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let pushes: usize = {
            let b = restarted.book.read();
            b.notifications.users().map(|(_, h)| h.count()).sum()
        };
        if pushes == logged && restarted.book.read().campaigns.get("launch-test").is_some() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the restarted sender never caught up ({pushes} of {logged})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        restarted
            .send_pass(at("2026-06-10T23:01:00Z"))
            .await
            .expect("pass"),
        report(0, 0, 0)
    );

    // a sender that delivered but never logged (killed in between): it
    // knows the campaign, not one push; it delivers again, and the
    // gateway's stream drops every repeat
    let amnesiac = fresh(Arc::new(Live::new(Book::default())));
    showrunner_projections::load::from_store(&store, &mut Lost(&amnesiac))
        .await
        .expect("profiles");
    let campaign_only = amnesiac.book.clone();
    tokio::spawn(showrunner_bus::follow::follow(
        js.clone(),
        streams.events.clone(),
        Family::Campaign,
        time::OffsetDateTime::UNIX_EPOCH,
        Arc::default(),
        move |e| {
            campaign_only.apply(e);
        },
    ));
    let launched = |s: &CampaignsState| {
        s.book.read().campaigns.get("launch-test").is_some_and(|c| {
            matches!(
                c.status,
                showrunner_projections::campaigns::Status::Launched { .. }
            )
        })
    };
    while !launched(&amnesiac) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = amnesiac
        .send_pass(at("2026-06-10T23:02:00Z"))
        .await
        .expect("pass");
    // (23:02Z: u2's 19:02 and u5's 08:02 are day; u4's 23:02 UTC is quiet)
    assert_eq!(again.sent, reached(&["u2", "u5"]), "re-delivered");

    // Paris's quiet hours end at 06:00Z: u1's push goes, once
    let paris = state
        .send_pass(at("2026-06-11T06:00:00Z"))
        .await
        .expect("pass");
    assert_eq!(paris, report(reached(&["u1"]), 0, 0));

    let got = delivered(&js).await;
    let expected: BTreeMap<String, usize> = ["u1", "u2", "u4", "u5"]
        .into_iter()
        .filter(|u| !control.contains(u))
        .map(|u| (key(u), 1))
        .collect();
    assert_eq!(
        got, expected,
        "every reached user once; u3 and control users never"
    );
}

/// Loads only the profiles into a state's book (a [`Fold`] over users).
struct Lost<'a>(&'a CampaignsState);

impl Fold for Lost<'_> {
    fn families(&self) -> &'static [Family] {
        &[Family::User]
    }

    fn apply(&mut self, e: &showrunner_events::Event) -> bool {
        self.0.book.apply(e)
    }
}
