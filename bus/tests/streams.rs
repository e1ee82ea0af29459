//! Roles and processes that start together all create the streams: every
//! one of many concurrent `ensure_streams` calls on a fresh server gets the
//! stream (a real nats-server per test).

use std::time::Duration;

use showrunner_bus::server::LocalNatsServer;
use showrunner_bus::{StreamSettings, connect, context, ensure_streams};

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_creators_all_get_the_streams() {
    for round in 0..5 {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = LocalNatsServer::start(dir.path(), 0)
            .unwrap_or_else(|e| panic!("the tests need a real nats-server: {e}"));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let url = server.url();
            tasks.push(tokio::spawn(async move {
                let client = connect(&url, Duration::from_secs(10)).await?;
                let js = context(client, Duration::from_secs(10), 64);
                ensure_streams(&js, &StreamSettings::default()).await
            }));
        }
        for t in tasks {
            let stream = t
                .await
                .expect("task")
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(stream.cached_info().config.name, "EVENTS");
        }
    }
}
