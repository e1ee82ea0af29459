//! The analysts' pages in a real browser: Debian's chromium, driven by
//! playwright-core (`tests/browser/pages.mjs`), against `showrunner serve`
//! over a simulated lake (120 viewers over 45 days from 2026-03-01, so
//! the default month, April, has a previous one).
//!
//! The script checks: sign-in (a wrong key, a key without the analyst
//! role, then the analyst's; the cookie is HttpOnly and SameSite=Strict),
//! every page loads with data and no console error, each chart has its
//! series and one point per API row, the numbers shown equal the API's
//! answer for the same query, a changed period, breakdown, filter and
//! floor change them, drill-down reaches a view's timeline, the CSV
//! downloads parse, and sign-out ends the session. Screenshots of every
//! page go to `artefacts/browser/` (or `$SHOWRUNNER_ARTEFACTS/browser`).
//!
//! Needs `/usr/bin/chromium` and `tests/browser/node_modules` (the test
//! command installs both: `scripts/assets.sh tests/browser`).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_in_chromium() {
    let h = Harness::new();
    let (_client, js) = h.js().await;
    publish(&js, &sim_events(120, 45, 5)).await;
    ingest_drain(&h.url(), &h.lake(), &[]);
    let server = serve_process(&h.url(), &h.lake(), &[]).await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("node")
        .arg(root.join("tests/browser/pages.mjs"))
        .env("BASE", &server.base)
        .env("KEY", "dev-analyst-key")
        .env("APP_KEY", "dev-app-key")
        .env("INGEST_KEY", "dev-ingest-key")
        .env("OUT", artefacts("browser"))
        .output()
        .expect("run node (apt nodejs; scripts/assets.sh tests/browser)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last: serde_json::Value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .expect("a JSON summary");
    for (page, path) in last["screenshots"].as_object().expect("screenshots") {
        let path = path.as_str().expect("path");
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{page}: screenshot {path} ({len} bytes)");
    }
}
