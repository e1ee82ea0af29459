//! `GET /v1/users/{user}/churn-risk` through `oneshot`, over a directory
//! lake whose scores table the test writes (as `churn score` does): 503
//! before any scores, a subscriber's row with its rank worked out by hand,
//! 404 for one not scored, a replaced table served after a reload, and an
//! unreadable file keeping the table served.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use showrunner_churn::api::{ChurnRisk, RiskState, router};
use showrunner_churn::served::{self, Reason, Score};
use showrunner_lake::Store;
use showrunner_lake::layout::keys;
use showrunner_web::ErrorBody;
use tower::ServiceExt;

/// 2026-03-01T00:00:00Z.
const SNAPSHOT: i64 = 1_772_323_200_000;

fn score(user: &str, p: f64, reasons: &[(&str, f64, f64)]) -> Score {
    Score {
        user_id: user.into(),
        snapshot: SNAPSHOT,
        score: p,
        model: "gbdt".into(),
        reasons: reasons
            .iter()
            .map(|&(f, v, l)| Reason {
                feature: f.into(),
                value: v,
                log_odds: l,
            })
            .collect(),
    }
}

async fn get(app: &Router, user: &str) -> (StatusCode, bytes::Bytes) {
    let res = app
        .clone()
        .oneshot(
            Request::get(format!("/v1/users/{user}/churn-risk"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, body)
}

fn error_code(body: &[u8]) -> String {
    serde_json::from_slice::<ErrorBody>(body)
        .expect("error body")
        .error
        .code
}

#[tokio::test]
async fn serves_a_subscribers_score_rank_and_reasons_and_follows_a_new_table() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::dir(dir.path());
    let state = RiskState::open(store.clone()).await;
    let app = router(state.clone());

    // before `churn score`: 503, and a reload finds nothing
    let (status, body) = get(&app, "u1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(&body), "no_scores");
    assert!(!state.reload().await.expect("reload"));

    let table = vec![
        score("u1", 0.10, &[]),
        score(
            "u2",
            0.50,
            &[("days_since_play", 12.0, 0.8), ("watch_trend", 0.2, 0.3)],
        ),
        score("u3", 0.50, &[("failures_28", 3.0, 0.4)]),
        score(
            "u4",
            0.90,
            &[
                ("days_since_play", 30.0, 1.5),
                ("active_days_7", 0.0, 0.7),
                ("trial", 1.0, 0.1),
            ],
        ),
    ];
    served::write_scores(&store, &table).await.expect("write");
    // what was written reads back the same
    let back =
        served::read_scores(store.get(&keys::churn_scores()).await.expect("get")).expect("read");
    assert_eq!(back, table);

    assert!(state.reload().await.expect("reload"));
    assert!(
        !state.reload().await.expect("reload"),
        "unchanged file read again"
    );
    let (status, body) = get(&app, "u4").await;
    assert_eq!(status, StatusCode::OK);
    let r: ChurnRisk = serde_json::from_slice(&body).expect("json");
    assert_eq!(r.user_id, "u4");
    assert_eq!(r.score, 0.90);
    // three of four scored below 0.9
    assert_eq!(r.percentile, 0.75);
    assert_eq!(r.subscribers, 4);
    assert_eq!(r.snapshot, "2026-03-01T00:00:00Z");
    assert_eq!(r.model, "gbdt");
    let reasons: Vec<(&str, f64, f64)> = r
        .reasons
        .iter()
        .map(|x| (x.feature.as_str(), x.value, x.log_odds))
        .collect();
    assert_eq!(
        reasons,
        [
            ("days_since_play", 30.0, 1.5),
            ("active_days_7", 0.0, 0.7),
            ("trial", 1.0, 0.1)
        ]
    );
    // ties: one of four strictly below 0.5
    let (_, body) = get(&app, "u3").await;
    let r: ChurnRisk = serde_json::from_slice(&body).expect("json");
    assert_eq!((r.percentile, r.reasons.len()), (0.25, 1));
    let (_, body) = get(&app, "u1").await;
    let r: ChurnRisk = serde_json::from_slice(&body).expect("json");
    assert_eq!((r.percentile, r.reasons.len()), (0.0, 0));

    // not a subscriber at the snapshot
    let (status, body) = get(&app, "nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "not_scored");

    // the next `churn score` replaces the table: served after a reload
    served::write_scores(&store, &[score("u9", 0.3, &[]), score("u4", 0.2, &[])])
        .await
        .expect("write");
    assert!(state.reload().await.expect("reload"));
    let (status, _) = get(&app, "u1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = get(&app, "u4").await;
    let r: ChurnRisk = serde_json::from_slice(&body).expect("json");
    assert_eq!((r.score, r.percentile, r.subscribers), (0.2, 0.0, 2));

    // a file that cannot be read: an error, and the table stays served
    store
        .replace(
            &keys::churn_scores(),
            bytes::Bytes::from_static(b"not parquet"),
        )
        .await
        .expect("write");
    assert!(state.reload().await.is_err());
    let (status, body) = get(&app, "u9").await;
    assert_eq!(status, StatusCode::OK);
    let r: ChurnRisk = serde_json::from_slice(&body).expect("json");
    assert_eq!(r.score, 0.3);
}
