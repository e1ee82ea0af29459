//! The campaigns API over a real NATS server and a directory lake of five
//! profiles: a campaign created, read, updated, previewed, dry-run,
//! launched, paused and archived through `oneshot`; the preview's counts
//! worked out by hand and equal to the dry run's; launch refused while a
//! variable is missing; the lifecycle refusing what it must; every write
//! on the bus as a `campaign` event with its actor; and the state rebuilt
//! from the stream alone equal to the live one.
//!
//! Profiles (all opted in but u3): u1 Europe/Paris, u2 America/New_York,
//! u3 America/New_York, u4 no zone and country ZZ (UTC), u5 Asia/Tokyo.
//! Decided at 2026-06-10T20:30Z: 22:30 in Paris and 05:30 in Tokyo (quiet
//! hours: deferred to 06:00Z and 23:00Z), 16:30 in New York, 20:30 in UTC.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
mod common;

use common::profiles;
use showrunner_campaigns::api::{CampaignView, DryRun, Preview};
use showrunner_campaigns::{CampaignsState, router};
use showrunner_marketing::Policy;
use showrunner_projections::live::Live;
use showrunner_projections::{Campaigns, Fold};

const AT: &str = "2026-06-10T20:30:00Z";

struct Call {
    router: Router,
}

impl Call {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        common::request(&self.router, method, path, body).await
    }

    async fn code(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, String) {
        let (s, v) = self.send(method, path, body).await;
        (s, v["error"]["code"].as_str().unwrap_or("").to_owned())
    }
}

fn definition(title: &str) -> Value {
    json!({
        "audience": {"segment": "SELECT user_id, country AS place FROM \"user\" WHERE event_type = 'signed_up' ORDER BY user_id"},
        "message": {"title": title, "body": "Hello {{place}}", "deep_link": "app://home/{{user_id}}"},
        "channel": "mobile",
        "priority": 2,
        "ttl_hours": 48,
    })
}

#[tokio::test]
async fn campaigns_are_events_previewed_dry_run_and_launched() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = dir.path().join("lake");
    showrunner_testkit::lake::write_lake(&lake, profiles());
    let (_server, js, streams) = common::bus(dir.path()).await;

    let store = showrunner_lake::Store::dir(&lake);
    let mut state = CampaignsState::new(store.clone(), js.clone());
    state.book = showrunner_campaigns::load(&store).await.expect("book");
    state.policy = Arc::new(Policy {
        holdout_share: 0.0,
        ..Policy::default()
    });
    let call = Call {
        router: router(state.clone()),
    };

    // created: a draft, with its actor
    let (s, v) = call
        .send(
            Method::POST,
            "/v1/campaigns",
            Some(json!({"id": "spring", "name": "Spring", "definition": definition("Hi {{user_id}}")})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let c: CampaignView = serde_json::from_value(v).expect("view");
    assert_eq!(
        (c.status.as_str(), c.revision, c.created_by.as_str()),
        ("draft", 1, "mk-ada")
    );
    assert_eq!(
        call.code(
            Method::POST,
            "/v1/campaigns",
            Some(json!({"id": "spring", "name": "again", "definition": definition("x")}))
        )
        .await,
        (StatusCode::CONFLICT, "campaign_exists".into())
    );
    let mut bad = definition("x");
    bad["control_share"] = json!(2);
    let (s, v) = call
        .send(
            Method::POST,
            "/v1/campaigns",
            Some(json!({"name": "bad", "definition": bad})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (v["error"]["code"].as_str(), v["error"]["field"].as_str()),
        (Some("bad_definition"), Some("control_share"))
    );
    assert_eq!(
        call.code(Method::POST, "/v1/campaigns/spring/pause", None)
            .await,
        (StatusCode::CONFLICT, "invalid_transition".into())
    );
    assert_eq!(
        call.code(Method::GET, "/v1/campaigns/autumn", None).await,
        (StatusCode::NOT_FOUND, "campaign_not_found".into())
    );

    // the preview, by hand: u3 opted out; u1, u5 in quiet hours; u2, u4 now
    let (s, v) = call
        .send(
            Method::POST,
            "/v1/campaigns/spring/preview",
            Some(json!({"at": AT, "limit": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let p: Preview = serde_json::from_value(v).expect("preview");
    assert_eq!(p.audience, 5);
    assert_eq!(
        p.outcomes,
        [
            ("deferred:quiet_hours".to_owned(), 2),
            ("send".to_owned(), 2),
            ("suppressed:opt_out".to_owned(), 1)
        ]
        .into()
    );
    assert_eq!(
        p.zones,
        [("default".to_owned(), 1), ("profile".to_owned(), 4)].into()
    );
    assert!(p.missing_variables.is_empty());
    assert_eq!(p.sample.len(), 4, "reached users only");
    let u2 = p
        .sample
        .iter()
        .find(|r| r.user_id == "u2")
        .expect("u2 sampled");
    assert_eq!(
        (
            u2.title.as_deref(),
            u2.body.as_deref(),
            u2.deep_link.as_deref()
        ),
        (Some("Hi u2"), Some("Hello US"), Some("app://home/u2"))
    );
    let u5 = p
        .sample
        .iter()
        .find(|r| r.user_id == "u5")
        .expect("u5 sampled");
    assert_eq!(u5.until.as_deref(), Some("2026-06-10T23:00:00.000Z"));

    // the dry run lists what the preview counted
    let (s, v) = call
        .send(
            Method::POST,
            "/v1/campaigns/spring/dry-run",
            Some(json!({"at": AT})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d: DryRun = serde_json::from_value(v).expect("dry run");
    assert_eq!(d.summary.outcomes, p.outcomes);
    assert_eq!(d.recipients.len(), 5);
    let mut listed = std::collections::BTreeMap::<String, usize>::new();
    for r in &d.recipients {
        *listed.entry(r.outcome.clone()).or_default() += 1;
    }
    assert_eq!(listed, p.outcomes);
    assert_eq!(d.recipients[0].key, "spring:u1:once");
    assert!(!d.truncated);

    // a variable no row has: launch refused, at preview already
    let (s, v) = call
        .send(
            Method::PUT,
            "/v1/campaigns/spring",
            Some(
                json!({"name": "Spring 2", "definition": definition("{{first_name}}, come back")}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["revision"], json!(2));
    let (_, v) = call
        .send(
            Method::POST,
            "/v1/campaigns/spring/preview",
            Some(json!({"at": AT})),
        )
        .await;
    assert_eq!(v["missing_variables"], json!({"first_name": 4}));
    assert_eq!(
        call.code(Method::POST, "/v1/campaigns/spring/launch", None)
            .await,
        (StatusCode::UNPROCESSABLE_ENTITY, "missing_variables".into())
    );

    // fixed, launched for later, paused, launched again, archived
    call.send(
        Method::PUT,
        "/v1/campaigns/spring",
        Some(json!({"definition": definition("Hi {{user_id}}")})),
    )
    .await;
    let (s, v) = call
        .send(
            Method::POST,
            "/v1/campaigns/spring/launch",
            Some(json!({"send_at": "2030-01-01T09:00:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["send_at"].as_str()),
        (Some("launched"), Some("2030-01-01T09:00:00.000Z"))
    );
    assert_eq!(
        call.code(Method::POST, "/v1/campaigns/spring/launch", None)
            .await,
        (StatusCode::CONFLICT, "invalid_transition".into())
    );
    assert_eq!(
        call.send(Method::POST, "/v1/campaigns/spring/pause", None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call.send(Method::POST, "/v1/campaigns/spring/launch", None)
            .await
            .0,
        StatusCode::OK
    );
    let (s, v) = call
        .send(Method::POST, "/v1/campaigns/spring/archive", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> = v["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .map(|a| a["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        [
            "campaign_created",
            "campaign_updated",
            "campaign_updated",
            "campaign_launched",
            "campaign_paused",
            "campaign_launched",
            "campaign_archived"
        ]
    );
    assert_eq!(
        call.code(
            Method::PUT,
            "/v1/campaigns/spring",
            Some(json!({"definition": definition("x")}))
        )
        .await,
        (StatusCode::CONFLICT, "invalid_transition".into())
    );
    let (_, list) = call.send(Method::GET, "/v1/campaigns", None).await;
    assert_eq!(list["campaigns"].as_array().map(Vec::len), Some(1));

    // the state rebuilt from the stream alone equals the live one
    let rebuilt = Arc::new(Live::new(Campaigns::default()));
    showrunner_projections::live::spawn_followers(
        js.clone(),
        &streams.events,
        time::OffsetDateTime::UNIX_EPOCH,
        rebuilt.clone(),
    );
    let live = state.book.read().campaigns.all();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while rebuilt.read().all() != live {
        assert!(
            std::time::Instant::now() < deadline,
            "the stream's campaign events do not rebuild the live state"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rebuilt.read().all()[0].audit.len(), 7);
    assert!(
        rebuilt
            .read()
            .families()
            .contains(&showrunner_events::Family::Campaign)
    );
}
