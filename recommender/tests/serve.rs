//! The serving API through `oneshot`, over a hand-made catalog and model
//! whose answers are worked out in the comments: exclusions, availability,
//! maturity, cold start, reasons, continue watching, similar titles, the
//! 4xx/503 answers, and hot reload under concurrent requests.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ndarray::Array2;
use serde_json::Value;
use showrunner_events::types::catalog::Maturity;
use showrunner_events::types::{Payload, WatchEvent};
use showrunner_events::{Event, Timestamp};
use showrunner_recommender::artifact::{
    Artifact, BlendInfo, ColdStart, DataWindow, FORMAT, Holdout, Manifest,
};
use showrunner_recommender::catalog::{Catalog, Title};
use showrunner_recommender::feedback::FeedbackParams;
use showrunner_recommender::lake::{Profile, WatchAgg};
use showrunner_recommender::models::als::{Als, AlsParams};
use showrunner_recommender::models::clusters::{TasteClusters, TasteClustersParams};
use showrunner_recommender::models::ease::{Ease, EaseParams};
use showrunner_recommender::serve::users::Users;
use showrunner_recommender::serve::{ServeState, router};
use tower::ServiceExt;

const DAY: i64 = 86_400_000;

fn title(id: &str, countries: &[&str], rating: &str, episodes: &[&str]) -> Title {
    Title {
        name: format!("The {id}"),
        maturity: maturity(rating),
        available_from: Some(0),
        ..Title::new(id, countries, episodes)
    }
}

/// Titles (index order = id order):
/// 0 `a` movie US+FR all; 1 `b` movie US all; 2 `c` movie FR only;
/// 3 `d` movie US 18+; 4 `e` movie US all; 5 `s` series US all (s1, s2, s3).
/// Genres: a drama; b drama, comedy; c comedy; d drama; e kids, comedy;
/// s drama. Weights: a→b 0.9, a→c 0.8, a→d 0.7, a→e 0.1; b→e 0.5; s→a 0.3.
fn artifact(version: &str) -> Artifact {
    let mut titles = vec![
        title("a", &["US", "FR"], "all", &[]),
        title("b", &["US"], "all", &[]),
        title("c", &["FR"], "all", &[]),
        title("d", &["US"], "18+", &[]),
        title("e", &["US"], "all", &[]),
        title("s", &["US"], "all", &["s1", "s2", "s3"]),
    ];
    let genres: [&[&str]; 6] = [
        &["drama"],
        &["drama", "comedy"],
        &["comedy"],
        &["drama"],
        &["kids", "comedy"],
        &["drama"],
    ];
    for (t, g) in titles.iter_mut().zip(genres) {
        t.genres = g.iter().map(|g| g.to_string()).collect();
    }
    let catalog = Catalog::from_titles(titles);
    let mut w = Array2::<f32>::zeros((6, 6));
    w[[0, 1]] = 0.9;
    w[[0, 2]] = 0.8;
    w[[0, 3]] = 0.7;
    w[[0, 4]] = 0.1;
    w[[1, 4]] = 0.5;
    w[[5, 0]] = 0.3;
    let params = linfa::ParamGuard::check(EaseParams::new()).expect("params");
    Artifact {
        manifest: Manifest {
            format: FORMAT,
            version: version.into(),
            created_at_ms: 0,
            model: "ease".into(),
            params,
            feedback: FeedbackParams::default(),
            data: DataWindow::default(),
            holdout: Holdout::default(),
            train_seconds: 0.0,
            cold_start: None,
            blend: None,
        },
        catalog,
        // trending: US e > b > a > d; FR c > a; everyone a > e
        trending: [
            (
                "US".to_string(),
                vec![(4, 9.0), (1, 8.0), (0, 7.0), (3, 6.0)],
            ),
            ("FR".to_string(), vec![(2, 5.0), (0, 4.0)]),
            (String::new(), vec![(0, 20.0), (4, 9.0)]),
        ]
        .into(),
        model: Ease { weights: w, params },
        clusters: None,
        als: None,
    }
}

/// `artifact` whose `for_you` blends in a one-factor ALS, weight ½: item
/// factors a 1, e 1, s ½, the rest 0, so a history of a folds in to some
/// x > 0 and ALS scores (a zeroed) 0, 0, 0, 0, x, x/2. Standardized, with
/// EASE's row of a (0, .9, .8, .7, .1, 0), the mix is
/// a −.863, b .294, c .165, d .037, e .575, s −.208.
fn with_blend(version: &str) -> Artifact {
    let mut a = artifact(version);
    let items = ndarray::array![[1.0], [0.0], [0.0], [0.0], [1.0], [0.5]];
    let als = linfa::ParamGuard::check(AlsParams::new().factors(1)).expect("als");
    a.manifest.model = "blend".into();
    a.manifest.blend = Some(BlendInfo {
        weight: 0.5,
        als,
        tried: Vec::new(),
        ease_holdout: Default::default(),
        als_holdout: Default::default(),
    });
    a.als = Some(Als {
        users: Array2::zeros((0, 1)),
        gram: items.t().dot(&items),
        items,
        params: als,
    });
    a
}

/// `artifact` with taste clusters serving histories of one title. Item
/// factors: a, b, c along (1, 0), d, e, s along (0, 1), so a history of
/// a folds in along (1, 0), one of e along (0, 1); the centroids are
/// those two directions. Cluster 0's users have a .9, c .8, e .6, b .2;
/// cluster 1's s .9, d .5, e .3.
fn with_clusters(version: &str) -> Artifact {
    let mut a = artifact(version);
    let items = ndarray::array![
        [1.0, 0.0],
        [1.0, 0.0],
        [1.0, 0.0],
        [0.0, 1.0],
        [0.0, 1.0],
        [0.0, 1.0]
    ];
    let als_params = linfa::ParamGuard::check(AlsParams::new().factors(2)).expect("als");
    let clusters = TasteClusters {
        als: Als {
            users: Array2::zeros((0, 2)),
            gram: items.t().dot(&items),
            items,
            params: als_params,
        },
        centroids: ndarray::array![[1.0, 0.0], [0.0, 1.0]],
        shares: ndarray::array![
            [0.9, 0.2, 0.8, 0.0, 0.6, 0.0],
            [0.0, 0.0, 0.0, 0.5, 0.3, 0.9]
        ],
    };
    a.manifest.cold_start = Some(ColdStart {
        below: 2,
        params: linfa::ParamGuard::check(TasteClustersParams::new(als_params).clusters(2))
            .expect("clusters"),
        tried: Vec::new(),
        validation: Vec::new(),
        holdout: Vec::new(),
        everyone: false,
        validation_whole: Default::default(),
        holdout_whole: Default::default(),
    });
    a.clusters = Some(clusters);
    a
}

fn agg(user: &str, watched: &str, fraction: f64, completed: bool, at: i64) -> WatchAgg {
    WatchAgg {
        user: user.into(),
        watched: watched.into(),
        max_fraction: fraction,
        position_ms: (fraction * 1000.0) as i64,
        duration_ms: 1000,
        last_at: at,
        completions: u32::from(completed),
        completed_at: completed.then_some(at),
    }
}

/// `user` completed `watched` (1,000 ms long) at day 1,000.
fn completed(user: &str, watched: &str) -> Event {
    let mut e = Event::new(
        Timestamp(1_000 * DAY),
        Payload::Watch(WatchEvent::Completed(
            showrunner_events::types::watch::Completed {
                duration_ms: Some(1000),
            },
        )),
    );
    e.envelope.user_id = Some(user.into());
    e.envelope.title_id = Some(watched.into());
    e
}

fn maturity(rating: &str) -> Maturity {
    *Maturity::ALL
        .iter()
        .find(|m| m.as_str() == rating)
        .expect("a rating")
}

fn profile(country: &str, limit: Option<&str>) -> Profile {
    Profile {
        country: Some(country.into()),
        maturity_limit: limit.map(maturity),
        ..Profile::default()
    }
}

/// Users: `one` completed movie `a` (US); `kid` completed `a` with a 7+
/// limit (US); `fr` completed `a` in FR; `binge` finished s1, is halfway
/// through s2 and 40 % into movie `b`; `glitch` only has a failed start of
/// `a` (1 %).
fn state() -> ServeState {
    let now = 1_000 * DAY;
    let watch = vec![
        agg("one", "a", 1.0, true, now - DAY),
        agg("kid", "a", 1.0, true, now - DAY),
        agg("fr", "a", 1.0, true, now - DAY),
        agg("binge", "s1", 1.0, true, now - 3 * DAY),
        agg("binge", "s2", 0.5, false, now - 2 * DAY),
        agg("binge", "b", 0.4, false, now - DAY),
        agg("glitch", "a", 0.01, false, now - DAY),
    ];
    let profiles: HashMap<String, Profile> = [
        ("one", profile("US", None)),
        ("kid", profile("US", Some("7+"))),
        ("fr", profile("FR", None)),
        ("binge", profile("US", None)),
        ("glitch", profile("US", None)),
    ]
    .into_iter()
    .map(|(u, p)| (u.to_string(), p))
    .collect();
    let dir = tempfile::tempdir().expect("tmp").keep();
    let s = ServeState::new(
        showrunner_lake::Layout::new(&dir).models(),
        Users::seeded(&watch, &profiles),
    );
    s.install(artifact("v1"));
    s
}

async fn get(s: &ServeState, uri: &str) -> (StatusCode, Value) {
    let r = router(s.clone())
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = r.status();
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, serde_json::from_slice(&bytes).expect("json"))
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["title_id"].as_str().expect("id").to_string())
        .collect()
}

fn reasons(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["reason"].as_str().expect("reason").to_string())
        .collect()
}

#[tokio::test]
async fn one_view_user_gets_model_rows_with_reasons_and_no_completed_title() {
    let s = state();
    // `one` watched a: scores b .9, c .8 (not in US), d .7, e .1; then
    // trending fills with s... and a is excluded everywhere
    let (st, v) = get(&s, "/v1/users/one/recommendations?k=3").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), ["b", "d", "e"]);
    assert_eq!(reasons(&v), vec!["because_you_watched: The a"; 3]);
    assert_eq!(v["model_version"], "v1");
    assert_eq!(v["country"], "US");
    // in FR only a and c are listed; a is completed → c
    let (_, v) = get(&s, "/v1/users/one/recommendations?k=3&country=FR").await;
    assert_eq!(ids(&v), ["c"]);
}

#[tokio::test]
async fn maturity_limit_and_country_are_respected() {
    let s = state();
    // `kid`: d is 18+, c is FR-only → b, e; the rest from US trending
    // (e, b taken; a completed; d 18+) → nothing more; s has no trending
    let (_, v) = get(&s, "/v1/users/kid/recommendations?k=5").await;
    assert_eq!(ids(&v), ["b", "e"]);
    let (_, v) = get(&s, "/v1/users/fr/recommendations?k=5").await;
    assert_eq!(ids(&v), ["c"], "{v}");
}

#[tokio::test]
async fn unknown_users_get_trending_in_their_country() {
    let s = state();
    let (st, v) = get(&s, "/v1/users/nobody/recommendations?k=3&country=US").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ids(&v), ["e", "b", "a"]);
    assert_eq!(reasons(&v), vec!["trending_in: US"; 3]);
    assert_eq!(v["known_user"], false);
    // no country known: the global list, available somewhere
    let (_, v) = get(&s, "/v1/users/nobody/recommendations?k=3").await;
    assert_eq!(ids(&v), ["a", "e"]);
    assert_eq!(reasons(&v), vec!["popular"; 2]);
    // the trending row of a known user skips what they completed
    let (_, v) = get(&s, "/v1/users/one/recommendations?row=trending&k=2").await;
    assert_eq!(ids(&v), ["e", "b"]);
}

#[tokio::test]
async fn a_failed_start_is_not_feedback() {
    let s = state();
    // `glitch` reached 1 % of a: not engaged, so a is still recommended and
    // the user is served as cold (trending in US)
    let (_, v) = get(&s, "/v1/users/glitch/recommendations?k=3").await;
    assert_eq!(ids(&v), ["e", "b", "a"]);
    let (_, v) = get(&s, "/v1/users/glitch/continue-watching").await;
    assert_eq!(ids(&v), Vec::<String>::new());
}

#[tokio::test]
async fn because_you_watched_uses_the_latest_title() {
    let s = state();
    // binge's latest engaged title is b (a day ago): b → e .5
    let (_, v) = get(
        &s,
        "/v1/users/binge/recommendations?row=because_you_watched&k=1",
    )
    .await;
    assert_eq!(ids(&v), ["e"]);
    assert_eq!(reasons(&v), ["because_you_watched: The b"]);
    // for_you sums b and s: a .3 (from s), e .5 (from b)
    let (_, v) = get(&s, "/v1/users/binge/recommendations?k=2").await;
    assert_eq!(ids(&v), ["e", "a"]);
    assert_eq!(
        reasons(&v),
        ["because_you_watched: The b", "because_you_watched: The s"]
    );
}

#[tokio::test]
async fn for_you_blends_in_the_factor_model() {
    let s = state();
    s.install(with_blend("v2"));
    // US: c is FR only and a completed; e .575, b .294, d .037 (s below 0)
    let (_, v) = get(&s, "/v1/users/one/recommendations?k=3").await;
    assert_eq!(ids(&v), ["e", "b", "d"], "{v}");
    let score = v["items"][0]["score"].as_f64().expect("score");
    assert!((score - 0.575).abs() < 1e-3, "{score}");
    assert_eq!(reasons(&v), vec!["because_you_watched: The a"; 3]);
    // the blend ranks every allowed title, s (−.208) too, where EASE alone
    // would leave the row to trending
    let (_, v) = get(&s, "/v1/users/one/recommendations?k=5").await;
    assert_eq!(ids(&v), ["e", "b", "d", "s"], "{v}");
    // only for_you blends: because_you_watched and similar stay EASE's
    let (_, v) = get(
        &s,
        "/v1/users/one/recommendations?row=because_you_watched&k=3",
    )
    .await;
    assert_eq!(ids(&v), ["b", "d", "e"]);
    let (_, v) = get(&s, "/v1/titles/a/similar?k=2").await;
    assert_eq!(ids(&v), ["b", "c"]);
    // and it survives publish and load
    let dir = tempfile::tempdir().expect("tmp");
    let d = with_blend("v3").publish(dir.path(), 1).expect("publish");
    assert!(d.join("als.json").is_file());
    s.install(Artifact::load(&d).expect("load"));
    let (_, v) = get(&s, "/v1/users/one/recommendations?k=3").await;
    assert_eq!(
        (ids(&v), v["model_version"].as_str()),
        (vec!["e".to_string(), "b".into(), "d".into()], Some("v3"))
    );
}

#[tokio::test]
async fn short_histories_get_their_taste_clusters_row() {
    let s = state();
    s.install(with_clusters("v2"));
    // `one` watched only a: cluster 0 → e .6, b .2 (a completed, c not in
    // US), then US trending (d); EASE alone would give b, d, e
    let (_, v) = get(&s, "/v1/users/one/recommendations?k=3").await;
    assert_eq!(ids(&v), ["e", "b", "d"], "{v}");
    assert_eq!(
        reasons(&v),
        [
            "because_you_watched: The a",
            "because_you_watched: The a",
            "trending_in: US"
        ]
    );
    let score = v["items"][0]["score"].as_f64().expect("score");
    assert!((score - 0.6).abs() < 1e-6, "{score}");
    // the maturity limit and the country still apply: `kid` loses d
    let (_, v) = get(&s, "/v1/users/kid/recommendations?k=3").await;
    assert_eq!(ids(&v), ["e", "b"], "{v}");
    // because_you_watched stays the latest title's EASE row
    let (_, v) = get(
        &s,
        "/v1/users/one/recommendations?row=because_you_watched&k=3",
    )
    .await;
    assert_eq!(ids(&v), ["b", "d", "e"]);
    // two titles are not short here (below = 2): binge keeps EASE's row
    let (_, v) = get(&s, "/v1/users/binge/recommendations?k=2").await;
    assert_eq!(ids(&v), ["e", "a"]);
    // no engaged title (a failed start): trending, as without clusters
    let (_, v) = get(&s, "/v1/users/glitch/recommendations?k=3").await;
    assert_eq!(ids(&v), ["e", "b", "a"]);
    // a new user's first completion (e) puts them in cluster 1 at once:
    // s .9, d .5, then trending (e watched → b)
    let uri = "/v1/users/newbie/recommendations?k=3&country=US";
    let (_, v) = get(&s, uri).await;
    assert_eq!(reasons(&v), vec!["trending_in: US"; 3]);
    assert!(s.users.apply(&completed("newbie", "e")));
    let (_, v) = get(&s, uri).await;
    assert_eq!(ids(&v), ["s", "d", "b"], "{v}");
    assert_eq!(reasons(&v)[0], "because_you_watched: The e");
    // the manifest says when the clusters serve
    let (_, v) = get(&s, "/v1/models/current").await;
    assert_eq!(v["manifest"]["cold_start"]["below"], 2, "{v}");
    // one cluster is popularity: the short history gets trending instead
    let mut one_cluster = with_clusters("v3");
    let c = one_cluster
        .manifest
        .cold_start
        .as_mut()
        .expect("cold start");
    c.params = linfa::ParamGuard::check(TasteClustersParams::new(c.params.als()).clusters(1))
        .expect("one cluster");
    one_cluster.clusters = None;
    s.install(one_cluster);
    let (_, v) = get(&s, "/v1/users/one/recommendations?k=3").await;
    assert_eq!(ids(&v), ["e", "b", "d"], "{v}");
    assert_eq!(reasons(&v), vec!["trending_in: US"; 3]);
    // and binge (two titles) still gets EASE's row
    let (_, v) = get(&s, "/v1/users/binge/recommendations?k=2").await;
    assert_eq!(ids(&v), ["e", "a"]);
    assert_eq!(reasons(&v)[1], "because_you_watched: The s");
    // an audience too small for a personal model: trending for everyone
    let mut small = with_clusters("v4");
    let c = small.manifest.cold_start.as_mut().expect("cold start");
    c.params = linfa::ParamGuard::check(TasteClustersParams::new(c.params.als()).clusters(1))
        .expect("one cluster");
    c.everyone = true;
    small.clusters = None;
    s.install(small);
    let (_, v) = get(&s, "/v1/users/binge/recommendations?k=2").await;
    assert_eq!(ids(&v), ["e", "a"]);
    assert_eq!(reasons(&v), vec!["trending_in: US"; 2]);
}

#[tokio::test]
async fn continue_watching_resumes_and_offers_next_episodes() {
    let s = state();
    // b at 40 % (a day ago) before s2 at 50 % (two days ago)
    let (st, v) = get(&s, "/v1/users/binge/continue-watching").await;
    assert_eq!(st, StatusCode::OK);
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{v}");
    assert_eq!(items[0]["title_id"], "b");
    assert_eq!(items[0]["position_ms"], 400);
    assert_eq!(items[1]["title_id"], "s");
    assert_eq!(items[1]["episode_id"], "s2");
    assert_eq!(items[1]["reason"], "resume");
    // s2 completed now: the next episode, first in the row
    assert!(s.users.apply(&completed("binge", "s2")));
    let (_, v) = get(&s, "/v1/users/binge/continue-watching").await;
    let items = v["items"].as_array().expect("items");
    assert_eq!(items[0]["title_id"], "s");
    assert_eq!(items[0]["episode_id"], "s3");
    assert_eq!(items[0]["reason"], "next_episode");
    assert_eq!(items[1]["title_id"], "b");
}

#[tokio::test]
async fn similar_titles_and_their_errors() {
    let s = state();
    let (st, v) = get(&s, "/v1/titles/a/similar?k=2").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ids(&v), ["b", "c"]);
    assert_eq!(reasons(&v), vec!["similar_to: The a"; 2]);
    // an episode resolves to its series: a from the model, then titles
    // sharing its genre (drama): d (all of its genres), b (half)
    let (_, v) = get(&s, "/v1/titles/s2/similar").await;
    assert_eq!(v["title_id"], "s");
    assert_eq!(ids(&v), ["a", "d", "b"]);
    assert_eq!(
        reasons(&v),
        [
            "similar_to: The s",
            "same_genre: drama",
            "same_genre: drama"
        ]
    );
    // nobody's weights lead from e (as for a new release): its genres
    // only — c shares one of two, b one of three; US only: c is FR's
    let (_, v) = get(&s, "/v1/titles/e/similar").await;
    assert_eq!(ids(&v), ["c", "b"]);
    assert_eq!(reasons(&v), vec!["same_genre: comedy"; 2]);
    let (_, v) = get(&s, "/v1/titles/e/similar?country=US").await;
    assert_eq!(ids(&v), ["b"]);
    let (st, v) = get(&s, "/v1/titles/nope/similar").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "unknown_title", "{v}");
    assert_eq!(v["error"]["field"], "title", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("nope")
    );
}

#[tokio::test]
async fn bad_parameters_are_400_and_no_model_is_503() {
    let s = state();
    for (uri, code, field) in [
        ("/v1/users/one/recommendations?k=0", "bad_parameter", "k"),
        ("/v1/users/one/recommendations?k=abc", "bad_parameter", "k"),
        (
            "/v1/users/one/recommendations?k=100000",
            "bad_parameter",
            "k",
        ),
        (
            "/v1/users/one/recommendations?row=nope",
            "bad_parameter",
            "row",
        ),
        (
            "/v1/users/one/recommendations?country=usa",
            "bad_parameter",
            "country",
        ),
        (
            "/v1/users/one/recommendations?device=fridge",
            "bad_parameter",
            "device",
        ),
        (
            "/v1/users/one/recommendations?color=red",
            "unknown_parameter",
            "color",
        ),
        (
            "/v1/titles/a/similar?row=for_you",
            "unknown_parameter",
            "row",
        ),
        ("/v1/users/one/continue-watching?k=-1", "bad_parameter", "k"),
    ] {
        let (st, v) = get(&s, uri).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}: {v}");
        let e: showrunner_web::ErrorBody =
            serde_json::from_value(v.clone()).unwrap_or_else(|_| panic!("{uri}: {v}"));
        assert_eq!(
            (e.error.code.as_str(), e.error.field.as_deref()),
            (code, Some(field)),
            "{uri}"
        );
    }
    for device in ["tv", "mobile", "tablet", "web", "console"] {
        let (st, _) = get(
            &s,
            &format!("/v1/users/one/recommendations?device={device}&country=US"),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{device}");
    }
    let empty = ServeState::new("/nonexistent".into(), Users::default());
    let (st, v) = get(&empty, "/v1/users/one/recommendations").await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["error"]["code"], "no_model", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_under_concurrent_requests() {
    let s = state();
    let models = s.models_dir.clone();
    artifact("v1").publish(&models, 2).expect("publish v1");
    let reloader = tokio::spawn(showrunner_recommender::serve::live::reload_loop(
        s.clone(),
        std::time::Duration::from_millis(5),
    ));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let seen = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (s, stop, ok, failed, seen) = (
            s.clone(),
            stop.clone(),
            ok.clone(),
            failed.clone(),
            seen.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (st, v) = get(&s, "/v1/users/one/recommendations?k=3").await;
                if st == StatusCode::OK && ids(&v) == ["b", "d", "e"] {
                    ok.fetch_add(1, Ordering::Relaxed);
                    seen.lock()
                        .expect("lock")
                        .insert(v["model_version"].as_str().unwrap_or("").to_string());
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                // a oneshot never waits on I/O: let the other tasks run
                tokio::task::yield_now().await;
            }
        }));
    }
    for v in ["v2", "v3", "v4"] {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        artifact(v).publish(&models, 2).expect("publish");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.model().is_none_or(|m| m.version() != "v4") {
        assert!(std::time::Instant::now() < deadline, "v4 never served");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("task");
    }
    reloader.abort();
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "requests failed during reloads"
    );
    assert!(ok.load(Ordering::Relaxed) > 0);
    let seen = seen.lock().expect("lock").clone();
    assert!(seen.contains("v4"), "{seen:?}");
    assert!(
        seen.len() >= 2,
        "answers came from one version only: {seen:?}"
    );
}

#[tokio::test]
async fn a_broken_current_model_does_not_stop_the_server() {
    let lake = tempfile::tempdir().expect("tmp");
    let models = showrunner_lake::Layout::new(lake.path()).models();
    std::fs::create_dir_all(&models).expect("mkdir");
    std::fs::write(models.join("CURRENT"), "gone").expect("write");
    let s = ServeState::open(lake.path()).expect("opens without a model");
    let (st, _) = get(&s, "/v1/users/one/recommendations").await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    // a good version published later is picked up
    artifact("v9").publish(&models, 2).expect("publish");
    assert!(s.reload().expect("reload"));
    let (st, v) = get(&s, "/v1/users/nobody/recommendations?country=US").await;
    assert_eq!(
        (st, v["model_version"].as_str()),
        (StatusCode::OK, Some("v9"))
    );
}
