//! The recommender end to end over a real NATS and real processes: a
//! simulated audience ingested into the lake, `recommend train --lake`,
//! `serve` answering apps behind their key, a watch event posted to the
//! collector changing that user's rows and continue watching without
//! retraining, and a retrained model picked up under concurrent requests.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use showrunner_events::types::catalog::TitleKind;
use showrunner_events::types::watch::{Completed, Progress};
use showrunner_events::types::{CatalogEvent, Payload, WatchEvent};
use showrunner_events::{Event, Family, Timestamp};

const INGEST: &str = "test-ingest-key-1";
const APP: &str = "test-app-key-1";

/// What the simulated catalog and audience hold, from the events.
struct Truth {
    movies: HashSet<String>,
    /// Series id → its episodes in (season, episode) order.
    episodes: HashMap<String, Vec<String>>,
    /// Episode id → series id.
    series_of: HashMap<String, String>,
    /// User → titles (movie or series) with a completion.
    completed: HashMap<String, HashSet<String>>,
}

fn truth(events: &[Event]) -> Truth {
    let mut t = Truth {
        movies: HashSet::new(),
        episodes: HashMap::new(),
        series_of: HashMap::new(),
        completed: HashMap::new(),
    };
    let mut eps: HashMap<String, Vec<(i64, i64, String)>> = HashMap::new();
    for e in events {
        let id = e.envelope.title_id.clone().unwrap_or_default();
        match &e.payload {
            Payload::Catalog(CatalogEvent::TitlePublished(p)) if p.kind == TitleKind::Movie => {
                t.movies.insert(id);
            }
            Payload::Catalog(CatalogEvent::EpisodeAdded(a)) => {
                t.series_of.insert(id.clone(), a.series_id.clone());
                eps.entry(a.series_id.clone())
                    .or_default()
                    .push((a.season, a.episode, id));
            }
            _ => {}
        }
    }
    for (s, mut v) in eps {
        v.sort();
        t.episodes
            .insert(s, v.into_iter().map(|(_, _, id)| id).collect());
    }
    for e in events {
        if let Payload::Watch(WatchEvent::Completed(_)) = &e.payload {
            let (Some(u), Some(id)) = (&e.envelope.user_id, &e.envelope.title_id) else {
                continue;
            };
            let title = t.series_of.get(id).cloned().unwrap_or_else(|| id.clone());
            t.completed.entry(u.clone()).or_default().insert(title);
        }
    }
    t
}

async fn get(http: &reqwest::Client, url: &str, key: Option<&str>) -> (u16, Value) {
    let mut r = http.get(url);
    if let Some(k) = key {
        r = r.bearer_auth(k);
    }
    let resp = r.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The harness lake's model versions.
fn models(h: &Harness) -> std::path::PathBuf {
    showrunner_lake::Layout::new(h.lake()).models()
}

fn titles(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["title_id"].as_str().expect("title_id").to_owned())
        .collect()
}

/// Posts one watch event for `user` on `watched` through the collector.
async fn post_watch(http: &reqwest::Client, base: &str, user: &str, watched: &str, w: WatchEvent) {
    let mut e = Event::new(Timestamp::now(), Payload::Watch(w));
    e.envelope.user_id = Some(user.into());
    e.envelope.title_id = Some(watched.into());
    let r = http
        .post(format!("{base}/v1/events"))
        .bearer_auth(INGEST)
        .json(&vec![e])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["results"][0]["status"], "accepted", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn recommendations_from_the_lake_fresh_from_the_stream() {
    let h = Harness::new();
    let (_client, js) = h.js().await;
    // the recommender reads the watch, user and catalog families only
    let events: Vec<Event> = sim_events(300, 45, 11)
        .into_iter()
        .filter(|e| matches!(e.family(), Family::Watch | Family::User | Family::Catalog))
        .collect();
    let truth = truth(&events);
    publish(&js, &events).await;
    // batches small enough to commit well within half the harness's 3 s
    // ack wait in a debug build (20,000-event batches of this stream could
    // outlive it, expire and be redelivered over and over)
    ingest_drain(&h.url(), &h.lake(), &["--batch-max", "5000"]);

    // training on the lake: a versioned artifact with its holdout quality
    let m = train(&h.lake());
    let version = m["version"].as_str().expect("version").to_owned();
    for f in [
        "manifest.json",
        "catalog.json",
        "trending.json",
        "weights.f32",
    ] {
        assert!(models(&h).join(&version).join(f).is_file(), "{f}");
    }
    // the cold-start choice, made on validation folds: the first history
    // length at which EASE measured at least as well as the clusters
    let cold = &m["cold_start"];
    let curve = cold["validation"].as_array().expect("validation curve");
    assert_eq!(curve.len(), 8, "{cold}");
    let below = cold["below"].as_u64().expect("below") as usize;
    let first_ease = curve
        .iter()
        .position(|q| q["model"]["ndcg"].as_f64() >= q["clusters"]["ndcg"].as_f64())
        .map_or(curve.len() + 1, |i| i + 1);
    assert_eq!(below, first_ease, "{cold}");
    let whole = &cold["validation_whole"];
    let everyone =
        below > curve.len() && whole["clusters"]["ndcg"].as_f64() > whole["model"]["ndcg"].as_f64();
    assert_eq!(cold["everyone"], everyone, "{cold}");
    let k = cold["params"]["clusters"].as_u64().expect("k");
    let has_clusters = (below > 1 || everyone) && k > 1;
    assert_eq!(
        models(&h).join(&version).join("clusters.json").is_file(),
        has_clusters,
        "{cold}"
    );
    eprintln!(
        "cold start: below {below}, {k} cluster(s); tried {}",
        cold["tried"]
    );
    // `recommend eval --lake` measures on the same weighted feedback and
    // split as training: popularity's holdout figures agree exactly
    let out = bin()
        .args(["recommend", "eval", "--model", "popularity", "--lake"])
        .arg(h.lake())
        .output()
        .expect("run eval");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pop = json_lines(&out).pop().expect("eval line");
    assert_eq!(pop["ndcg@10"], m["holdout"]["popularity"]["ndcg"], "{pop}");
    assert_eq!(pop["users"], m["holdout"]["popularity"]["users"], "{pop}");
    assert!(m["data"]["users"].as_u64().expect("users") > 100, "{m}");
    assert!(m["data"]["titles"].as_u64().expect("titles") >= 100, "{m}");
    let (model, pop) = (
        m["holdout"]["model"]["ndcg"].as_f64().expect("ndcg"),
        m["holdout"]["popularity"]["ndcg"].as_f64().expect("ndcg"),
    );
    assert!(
        model > pop,
        "the model ({model}) must beat popularity ({pop}) on the holdout"
    );

    // the hot-reload check below loads the server far past the app role's
    // default rate limit
    let config = h.config_with_keys(
        &[("player", "ingest", INGEST), ("app", "app", APP)],
        "[http.rate_limits.app]\nper_second = 1000000.0\nburst = 1000000\n",
    );
    let s = serve_process(
        &h.url(),
        &h.lake(),
        &[
            ("SHOWRUNNER_CONFIG", &config),
            ("SHOWRUNNER_RECOMMENDER_RELOAD_MS", "100"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let base = s.base.clone();

    // the user with the most completions
    let (user, done) = truth
        .completed
        .iter()
        .max_by_key(|(u, c)| (c.len(), u.as_str()))
        .expect("someone completed something");
    let url = format!("{base}/v1/users/{user}/recommendations?k=20");
    assert_eq!(get(&http, &url, None).await.0, 401);
    // a known key without the app role
    assert_eq!(get(&http, &url, Some(INGEST)).await.0, 403);
    let (st, v) = get(&http, &url, Some(APP)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["model_version"], version.as_str());
    let recs = titles(&v);
    assert_eq!(recs.len(), 20, "{v}");
    for t in &recs {
        assert!(!done.contains(t), "{t} was completed by {user}");
    }
    for i in v["items"].as_array().expect("items") {
        let r = i["reason"].as_str().expect("reason");
        assert!(
            r.starts_with("because_you_watched: ") || r.starts_with("trending_in: "),
            "{r}"
        );
    }
    // unknown users: trending in the country asked for
    let (_, v) = get(
        &http,
        &format!("{base}/v1/users/nobody/recommendations?k=5&country=US"),
        Some(APP),
    )
    .await;
    assert_eq!(titles(&v).len(), 5, "{v}");
    assert!(v["items"][0]["reason"] == "trending_in: US", "{v}");
    assert_eq!(
        get(&http, &format!("{base}/v1/titles/nope/similar"), Some(APP))
            .await
            .0,
        404
    );
    assert_eq!(
        get(&http, &format!("{url}&row=best"), Some(APP)).await.0,
        400
    );
    let (st, v) = get(
        &http,
        &format!("{base}/v1/titles/{}/similar?k=5", recs[0]),
        Some(APP),
    )
    .await;
    assert_eq!((st, titles(&v).len()), (200, 5), "{v}");

    // freshness: the top title, started now through the collector, leaves
    // the row and enters continue watching, without retraining
    let target = recs[0].clone();
    let watched = match truth.episodes.get(&target) {
        Some(eps) => eps[0].clone(),
        None => target.clone(),
    };
    assert!(truth.movies.contains(&target) || truth.episodes.contains_key(&target));
    let progress = WatchEvent::Progress(Progress {
        position_ms: 900_000,
        duration_ms: 3_000_000,
    });
    post_watch(&http, &base, user, &watched, progress).await;
    let posted = Instant::now();
    let cw_url = format!("{base}/v1/users/{user}/continue-watching");
    let mut polls = 0;
    loop {
        polls += 1;
        let (_, rec) = get(&http, &url, Some(APP)).await;
        let (_, cw) = get(&http, &cw_url, Some(APP)).await;
        let first = cw["items"][0].clone();
        if !titles(&rec).contains(&target) && first["title_id"] == target.as_str() {
            assert_eq!(first["reason"], "resume");
            assert_eq!(first["position_ms"], 900_000);
            break;
        }
        assert!(
            posted.elapsed() < Duration::from_secs(10),
            "the watch event never showed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // (the server may still be replaying the stream's backlog here)
    eprintln!(
        "freshness: first watch event visible {} ms after the collector's ack ({polls} polls)",
        posted.elapsed().as_millis()
    );
    // a newcomer's first play: their row turns from trending to the
    // cold-start row the manifest chose (clusters, trending, or EASE)
    let first_play = truth.movies.iter().min().expect("a movie").clone();
    let new_url = format!("{base}/v1/users/newcomer/recommendations?k=10&country=US");
    let (_, v) = get(&http, &new_url, Some(APP)).await;
    assert_eq!(v["known_user"], false, "{v}");
    let progress = WatchEvent::Progress(Progress {
        position_ms: 900_000,
        duration_ms: 3_000_000,
    });
    post_watch(&http, &base, "newcomer", &first_play, progress).await;
    let row = loop {
        let (_, v) = get(&http, &new_url, Some(APP)).await;
        if v["known_user"] == true && !titles(&v).contains(&first_play) {
            break v;
        }
        assert!(
            posted.elapsed() < Duration::from_secs(20),
            "the newcomer's play never showed: {v}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let first_reason = row["items"][0]["reason"].as_str().expect("reason");
    if (below > 1 || everyone) && k == 1 {
        assert_eq!(first_reason, "trending_in: US", "{row}");
    } else {
        assert!(first_reason.starts_with("because_you_watched: "), "{row}");
    }
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let parsed = parse_metrics(&metrics);
    assert!(
        parsed["showrunner_recommender_live_events_total"] >= 1.0,
        "{metrics}"
    );
    assert!(
        parsed["showrunner_recommender_model_age_seconds"] >= 0.0,
        "{metrics}"
    );
    assert!(
        parsed.keys().any(|k| k.starts_with(
            r#"showrunner_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/v1/users/{user}/recommendations",status="200"}"#
        )),
        "latency by declared route and status: {metrics}"
    );
    // messages that are no events are skipped and counted, not fatal
    for bad in [&b"{not json"[..], b"[1, 2]"] {
        js.publish("events.watch.progress", bad.to_vec().into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    let undecodable = async || -> f64 {
        http.get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
            .lines()
            .find_map(|l| l.strip_prefix("showrunner_recommender_undecodable_total "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1.0)
    };
    eventually(10, "two undecodable messages counted", async || {
        undecodable().await == 2.0
    })
    .await;
    // finishing it: a movie leaves continue watching; a series offers its
    // next episode
    let completed = WatchEvent::Completed(Completed {
        duration_ms: Some(3_000_000),
    });
    post_watch(&http, &base, user, &watched, completed).await;
    let posted = Instant::now();
    let next = truth.episodes.get(&target).and_then(|e| e.get(1)).cloned();
    loop {
        let (_, cw) = get(&http, &cw_url, Some(APP)).await;
        let first = &cw["items"][0];
        let shown = match &next {
            Some(ep) => first["title_id"] == target.as_str() && first["episode_id"] == ep.as_str(),
            None => !titles(&cw).contains(&target),
        };
        if shown {
            break;
        }
        assert!(
            posted.elapsed() < Duration::from_secs(10),
            "the completion never showed"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "freshness: completion visible {} ms after the collector's ack",
        posted.elapsed().as_millis()
    );

    // a new version, picked up without restart while requests keep coming
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, bad) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (stop, ok, bad, url, http) = (
            stop.clone(),
            ok.clone(),
            bad.clone(),
            url.clone(),
            http.clone(),
        );
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (st, v) = get(&http, &url, Some(APP)).await;
                if st == 200 && titles(&v).len() == 20 {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    bad.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let m2 = tokio::task::spawn_blocking({
        let lake = h.lake();
        move || train(&lake)
    })
    .await
    .expect("train");
    let v2 = m2["version"].as_str().expect("version").to_owned();
    assert_ne!(v2, version);
    eventually(10, "the new model to be served", async || {
        let (_, v) = get(&http, &format!("{base}/v1/models/current"), Some(APP)).await;
        v["manifest"]["version"] == v2.as_str()
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    load.await.expect("load");
    assert_eq!(
        bad.load(Ordering::Relaxed),
        0,
        "requests failed during the reload"
    );
    assert!(ok.load(Ordering::Relaxed) > 0);
}
