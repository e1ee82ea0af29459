//! Webhook delivery against real HTTP servers in the test: a flaky
//! endpoint (500, 500, then 200s) sees the retries with the same
//! `webhook-id`; a dead one (always 500) is disabled after two failed
//! deliveries and then receives nothing; a refusing one (400) is not
//! retried; and every request the flaky endpoint received is verified by
//! an independent implementation — PyPI's `standardwebhooks`, in the
//! notebooks' environment the test command builds. Then the feed: pushes
//! on the gateway's stream (one published twice) reach a receiver once
//! each, across a restart of the feeding worker.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use showrunner_campaigns::sender::{ensure_push_stream, push_subject};
use showrunner_campaigns::webhook::{Endpoint, Retry, Webhooks, feed};
use showrunner_ingest::publish::{Outgoing, publish_each};
use showrunner_testkit::python::python;

/// A received request: (webhook-id, webhook-timestamp, webhook-signature, body).
type Seen = (String, String, String, String);

#[derive(Clone)]
struct Receiver {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// The statuses to answer, in order; then the last one forever.
    script: Arc<Vec<u16>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let mut seen = r.seen.lock().expect("lock");
    seen.push((
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
        String::from_utf8(body.to_vec()).expect("utf-8"),
    ));
    let n = seen.len() - 1;
    let code = r.script.get(n).or(r.script.last()).copied().unwrap_or(200);
    StatusCode::from_u16(code).expect("status")
}

/// A receiver on a loopback port: its URL and what it saw.
async fn receiver(script: &[u16]) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let r = Receiver {
        seen: Arc::default(),
        script: Arc::new(script.to_vec()),
    };
    let seen = r.seen.clone();
    let app = Router::new().route("/hook", post(receive)).with_state(r);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const VERIFY: &str = r#"
import json, sys
from standardwebhooks import Webhook
secret, requests = sys.argv[1], json.load(sys.stdin)
wh = Webhook(secret)
for r in requests:
    wh.verify(r["body"], {"webhook-id": r["id"], "webhook-timestamp": r["ts"], "webhook-signature": r["sig"]})
try:
    bad = requests[0]
    wh.verify(bad["body"] + " ", {"webhook-id": bad["id"], "webhook-timestamp": bad["ts"], "webhook-signature": bad["sig"]})
    print("tampered body accepted")
except Exception:
    print(f"verified {len(requests)}")
"#;

#[tokio::test]
async fn retries_sign_disable_and_verify_independently() {
    let (flaky_url, flaky) = receiver(&[500, 500, 200]).await;
    let (dead_url, dead) = receiver(&[500]).await;
    let (refusing_url, refusing) = receiver(&[400]).await;
    let endpoint = |id: &str, url: &str| Endpoint {
        id: id.into(),
        url: url.into(),
        secret: SECRET.into(),
    };
    let retry = Retry {
        attempts: 3,
        base: Duration::from_millis(20),
        max: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
    };
    assert_eq!(retry.ceiling(2), Duration::from_millis(20));
    assert_eq!(retry.ceiling(3), Duration::from_millis(40));
    assert_eq!(retry.ceiling(4), Duration::from_millis(50), "capped");
    let hooks = Webhooks::new(
        vec![
            endpoint("flaky", &flaky_url),
            endpoint("dead", &dead_url),
            endpoint("refusing", &refusing_url),
        ],
        retry,
        2,
    )
    .expect("endpoints");
    assert!(
        Webhooks::new(vec![endpoint("x", "https://example.org/hook")], retry, 2).is_err(),
        "no TLS in this build: refused at configuration"
    );

    let body = br#"{"key":"spring:u2:once","title":"Hi u2"}"#;
    let first = hooks.deliver("spring:u2:once", body).await;
    let statuses =
        |i: usize| -> Vec<Option<u16>> { first[i].attempts.iter().map(|a| a.status).collect() };
    assert_eq!(statuses(0), [Some(500), Some(500), Some(200)]);
    assert!(first[0].delivered);
    assert_eq!(statuses(1), [Some(500), Some(500), Some(500)]);
    assert!(!first[1].delivered);
    assert_eq!(
        statuses(2),
        [Some(400)],
        "a 4xx other than 429 is not retried"
    );
    assert!(first[0].attempts[1].waited_ms <= 20.0 + 1e-9);
    assert!(first[0].attempts[2].waited_ms <= 40.0 + 1e-9);
    // the retries kept the message's id
    let ids: Vec<String> = flaky
        .lock()
        .expect("lock")
        .iter()
        .map(|s| s.0.clone())
        .collect();
    assert_eq!(ids, ["spring:u2:once"; 3]);

    // a second failed delivery disables the dead endpoint (and the
    // refusing one); the flaky one recovered
    let second = hooks
        .deliver("spring:u4:once", br#"{"key":"spring:u4:once"}"#)
        .await;
    assert_eq!(second.len(), 3);
    assert!(second[0].delivered && second[0].attempts.len() == 1);
    assert!(hooks.is_disabled("dead") && hooks.is_disabled("refusing"));
    assert!(!hooks.is_disabled("flaky"));
    let third = hooks
        .deliver("spring:u5:once", br#"{"key":"spring:u5:once"}"#)
        .await;
    assert_eq!(third.len(), 1, "only the enabled endpoint is called");
    assert_eq!(dead.lock().expect("lock").len(), 6);
    assert_eq!(refusing.lock().expect("lock").len(), 2);
    assert_eq!(hooks.log().len(), 7);
    hooks.enable("dead");
    assert!(!hooks.is_disabled("dead"));

    // every request the flaky endpoint saw, verified by PyPI's standardwebhooks
    let seen = flaky.lock().expect("lock").clone();
    assert_eq!(seen.len(), 5);
    let requests: Vec<serde_json::Value> = seen
        .iter()
        .map(
            |(id, ts, sig, body)| serde_json::json!({"id": id, "ts": ts, "sig": sig, "body": body}),
        )
        .collect();
    assert!(seen.iter().all(|s| s.2.starts_with("v1,")));
    let mut child = Command::new(python())
        .args(["-c", VERIFY, SECRET])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the notebooks' python (the test command builds it)");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(serde_json::to_string(&requests).expect("json").as_bytes())
            .expect("write");
    }
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "verified 5");
}

#[tokio::test]
async fn the_gateway_stream_feeds_the_webhooks_once_across_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let (_server, js, _) = common::bus(dir.path()).await;
    ensure_push_stream(&js, Duration::from_secs(3600))
        .await
        .expect("push stream");
    let (url, seen) = receiver(&[200]).await;
    let hooks = Arc::new(
        Webhooks::new(
            vec![Endpoint {
                id: "app".into(),
                url,
                secret: SECRET.into(),
            }],
            Retry::default(),
            5,
        )
        .expect("endpoint"),
    );
    let push = |k: &str| Outgoing {
        subject: push_subject("mobile"),
        msg_id: k.into(),
        payload: format!(r#"{{"key":"{k}"}}"#).into_bytes().into(),
    };
    // k1 published twice (a sender restarted between delivery and log)
    for r in publish_each(&js, vec![push("k1"), push("k2"), push("k1"), push("k3")]).await {
        r.expect("stored");
    }
    let ids = || -> Vec<String> {
        seen.lock()
            .expect("lock")
            .iter()
            .map(|s| s.0.clone())
            .collect()
    };
    let wait_for = |n: usize| {
        let ids = &ids;
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while ids().len() < n {
                assert!(std::time::Instant::now() < deadline, "fed {:?}", ids());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let worker = {
        let (js, hooks) = (js.clone(), hooks.clone());
        tokio::spawn(async move { feed(&js, hooks, Duration::from_secs(30)).await })
    };
    wait_for(3).await;
    worker.abort();
    // a new worker resumes from the durable consumer: nothing again
    for r in publish_each(&js, vec![push("k4")]).await {
        r.expect("stored");
    }
    let worker = {
        let (js, hooks) = (js.clone(), hooks.clone());
        tokio::spawn(async move { feed(&js, hooks, Duration::from_secs(30)).await })
    };
    wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker.abort();
    assert_eq!(ids(), ["k1", "k2", "k3", "k4"]);
}
