//! `showrunner-bench dashboard`: the analysts' pages' data requests over a
//! lake, timed as a browser makes them, first on a quiet lake, then while
//! files arrive.
//!
//! The app is the real one (`dashboard::router`: the gate, the pages, the
//! warehouse's API) on a loopback port, over a copy of the lake (hard
//! links; the files written go to the copy only). For each page, its HTML
//! is fetched and every `data-src` / `data-start` it names is requested
//! — exactly the requests the page's script makes — two at a time per
//! page (the script's limit, the warehouse's `queries_per_key`). Pages
//! are loaded in turn for `--seconds`; per page: the requests' p50, p95
//! and max, and any non-200.
//!
//! The second phase does the same while a writer commits a Parquet file
//! of simulated player events every second (through ingest's Parquet sink,
//! as ingest commits them; the collector and NATS are not in this loop —
//! `tests/browser.rs` times an event from the collector to the Live page).
//! Every fifth file carries a marker view of its own title; the time from
//! its commit until `/v1/views` lists it is the lag of the other pages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use showrunner_events::Family;
use showrunner_events::arrow::BatchBuilder;
use showrunner_ingest::sinks::parquet::ParquetSink;
use showrunner_simulator::{SimConfig, Simulator};
use tokio::io::BufReader;

use crate::shared::{get, pct};

/// The analyst's development key (the app runs with the development
/// keyring, on loopback): the pages' requests.
const KEY: &str = "dev-analyst-key";

/// A second analyst key, the marker probe's, so that its requests do not
/// take the pages' places among the key's running queries.
const PROBE_KEY: &str = "sr_bench-dashboard-probe-key";

/// Arguments of `showrunner-bench dashboard`.
#[derive(clap::Args, Debug, Clone)]
pub struct DashboardArgs {
    /// Events to simulate when the lake is empty.
    #[arg(long, default_value_t = 10_000_000)]
    pub events: usize,
    /// The lake (simulated into it when it holds none); it is not
    /// changed: the bench works on a hard-linked copy.
    #[arg(long)]
    pub lake: Option<PathBuf>,
    /// Seconds of each phase.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Player events per file the writer commits each second.
    #[arg(long, default_value_t = 2_000)]
    pub file_events: usize,
}

/// How long a marker is waited for.
const GIVE_UP: Duration = Duration::from_secs(180);

/// The pages timed, with their query.
const PAGES: &[&str] = &[
    "/overview",
    "/qoe?by=cdn",
    "/engagement",
    "/revenue",
    "/cohorts",
    "/views",
];

/// Hard-links every file of `from` into `to` (same tree).
fn link_tree(from: &Path, to: &Path) -> Result<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir(from).with_context(|| from.display().to_string())? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            n += link_tree(&entry.path(), &target)?;
        } else {
            std::fs::hard_link(entry.path(), &target)?;
            n += 1;
        }
    }
    Ok(n)
}

/// `data-src="…"` and `data-start="…"` of a page, unescaped.
fn sources(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["data-src=\"", "data-start=\""] {
        for part in html.split(attr).skip(1) {
            if let Some(v) = part.split('"').next() {
                let v = v.replace("&amp;", "&");
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
    }
    out
}

/// Latencies (ms) and failures of one page's requests.
#[derive(Default)]
struct Timings {
    ms: Vec<f64>,
    failed: HashMap<u16, usize>,
}

/// The slowest requests by their p95: (p95 ms, src).
fn slowest(by_src: &mut HashMap<String, Vec<f64>>, n: usize) -> Vec<Value> {
    let mut all: Vec<(f64, f64, &String)> = by_src
        .iter_mut()
        .map(|(src, ms)| {
            ms.sort_by(f64::total_cmp);
            (pct(ms, 0.95), pct(ms, 0.5), src)
        })
        .collect();
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    all.into_iter()
        .take(n)
        .map(|(p95, p50, src)| json!({ "src": src, "p50_ms": p50, "p95_ms": p95 }))
        .collect()
}

impl Timings {
    fn summary(&mut self) -> Value {
        self.ms.sort_by(f64::total_cmp);
        json!({
            "requests": self.ms.len(),
            "p50_ms": pct(&self.ms, 0.50),
            "p95_ms": pct(&self.ms, 0.95),
            "max_ms": self.ms.last().copied().unwrap_or(0.0),
            "failed": self.failed.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        })
    }
}

async fn connect(addr: std::net::SocketAddr) -> Result<BufReader<tokio::net::TcpStream>> {
    let s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    Ok(BufReader::new(s))
}

/// Loads of each page's requests, two at a time: at least once, for
/// `seconds`.
async fn load_pages(
    addr: std::net::SocketAddr,
    pages: &[(String, Vec<String>)],
    seconds: u64,
) -> Result<Value> {
    let mut conns = [connect(addr).await?, connect(addr).await?];
    let mut timings: Vec<Timings> = pages.iter().map(|_| Timings::default()).collect();
    let mut by_src: HashMap<String, Vec<f64>> = HashMap::new();
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut loads = 0;
    while loads == 0 || Instant::now() < until {
        for (i, (_, srcs)) in pages.iter().enumerate() {
            let queue = std::sync::Mutex::new(srcs.iter());
            let [a, b] = &mut conns;
            let run =
                async |conn: &mut BufReader<tokio::net::TcpStream>| -> Result<Vec<(f64, u16, String)>> {
                    let mut out = Vec::new();
                    let mut body = Vec::new();
                    loop {
                        let next = queue.lock().map_err(|_| anyhow::anyhow!("lock"))?.next();
                        let Some(src) = next else { break };
                        let t = Instant::now();
                        let status = get(conn, src, KEY, &mut body).await?;
                        out.push((t.elapsed().as_secs_f64() * 1e3, status, src.clone()));
                    }
                    Ok(out)
                };
            let (ra, rb) = tokio::join!(run(a), run(b));
            for (ms, status, src) in ra?.into_iter().chain(rb?) {
                timings[i].ms.push(ms);
                by_src.entry(src).or_default().push(ms);
                if status != 200 {
                    *timings[i].failed.entry(status).or_default() += 1;
                }
            }
        }
        loads += 1;
    }
    let mut per_page = serde_json::Map::new();
    let mut all = Timings::default();
    for ((page, _), t) in pages.iter().zip(&mut timings) {
        all.ms.extend(&t.ms);
        for (s, n) in &t.failed {
            *all.failed.entry(*s).or_default() += n;
        }
        per_page.insert(page.clone(), t.summary());
    }
    Ok(json!({
        "page_loads_each": loads,
        "pages": per_page,
        "all": all.summary(),
        "slowest": slowest(&mut by_src, 8),
    }))
}

/// What the writer did.
#[derive(Default)]
struct Written {
    files: AtomicUsize,
    events: AtomicUsize,
}

/// Commits a file of `per_file` simulated player events dated `day` every
/// second until `stop`; every fifth file also holds a marker view (title
/// `bench-marker-<n>`), sent on `markers` with its commit instant.
fn writer(
    lake: PathBuf,
    day: chrono::NaiveDate,
    per_file: usize,
    stop: Arc<AtomicBool>,
    written: Arc<Written>,
    markers: tokio::sync::mpsc::UnboundedSender<(String, Instant)>,
) -> Result<()> {
    let mut sink = ParquetSink::open(
        lake.as_path(),
        showrunner_bus::subjects::EVENTS_STREAM,
        "bench-dashboard",
        Duration::from_secs(3600),
    )?;
    let date = day.format("%Y-%m-%d").to_string();
    let mut seq = 1_000_000_000u64;
    let mut seed = 1u64;
    let mut pending: Vec<showrunner_events::Event> = Vec::new();
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let tick = Instant::now();
        while pending.len() < per_file {
            let cfg = SimConfig::new(200, 1, seed, day);
            seed += 1;
            pending.extend(
                Simulator::new(cfg)
                    .flatten()
                    .filter(|e| e.family() == Family::Player),
            );
        }
        let mut events: Vec<_> = pending.drain(..per_file).collect();
        n += 1;
        let marker = n.is_multiple_of(5).then(|| format!("bench-marker-{n}"));
        if let Some(title) = &marker
            && let Some(play) = events.iter().find(|e| e.event_type() == "play_requested")
        {
            let mut m = play.clone();
            m.envelope.event_id = uuid::Uuid::now_v7();
            m.envelope.view_id = Some(format!("{title}-view"));
            m.envelope.title_id = Some(title.clone());
            events.push(m);
        }
        let mut b = BatchBuilder::new(Family::Player, events.len());
        let mut seqs = Vec::with_capacity(events.len());
        for e in &events {
            b.append(&e.to_wire());
            seq += 1;
            seqs.push(seq);
        }
        sink.write(Family::Player, &date, &b.finish()?, &seqs)?;
        written.files.fetch_add(1, Ordering::Relaxed);
        written.events.fetch_add(events.len(), Ordering::Relaxed);
        if let Some(title) = marker {
            let _ = markers.send((title, Instant::now()));
        }
        std::thread::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed()));
    }
    Ok(())
}

/// Seconds from each marker's commit until `/v1/views` lists it, and the
/// markers not listed within [`GIVE_UP`]; every marker waiting is asked
/// each round (a quarter second apart).
async fn visibility(
    addr: std::net::SocketAddr,
    day: chrono::NaiveDate,
    mut markers: tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>,
    stop: Arc<AtomicBool>,
) -> Result<(Vec<f64>, Vec<String>)> {
    let mut unseen = Vec::new();
    let mut conn = connect(addr).await?;
    let mut body = Vec::new();
    let mut lags = Vec::new();
    let mut waiting: Vec<(String, Instant)> = Vec::new();
    // the marker's view starts on `day` or just after (a simulated
    // session may cross midnight): the window is wide, the title unique
    let (from, to) = (
        day - chrono::Duration::days(1),
        day + chrono::Duration::days(2),
    );
    loop {
        while let Ok(m) = markers.try_recv() {
            waiting.push(m);
        }
        if waiting.is_empty() && stop.load(Ordering::Relaxed) {
            return Ok((lags, unseen));
        }
        let mut still = Vec::new();
        for (title, at) in waiting {
            let path = format!("/v1/views?from={from}&to={to}&title={title}&limit=1");
            let status = get(&mut conn, &path, PROBE_KEY, &mut body).await?;
            let listed = status == 200
                && serde_json::from_slice::<Value>(&body)?["rows"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty());
            if listed {
                lags.push(at.elapsed().as_secs_f64());
            } else if at.elapsed() > GIVE_UP {
                unseen.push(title);
            } else {
                still.push((title, at));
            }
        }
        waiting = still;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The whole app over the directory lake `lake`, with the development
/// keys and no NATS reachable (the collector answers 503; `/v1/live`
/// follows nothing): what this bench serves. Rate
/// limits are out of reach, so a bench times the queries, not the
/// buckets.
async fn local_state(lake: &Path) -> Result<showrunner_dashboard::AppState> {
    let client = showrunner_bus::connect_lazy("nats://127.0.0.1:1").await?;
    let js = showrunner_bus::context(client.clone(), std::time::Duration::from_secs(1), 16);
    let telemetry = showrunner_web::Telemetry::new();
    let warehouse = showrunner_warehouse::api::ApiState::new(
        lake.to_owned(),
        showrunner_warehouse::api::QueryLimits::default(),
    )
    .with_telemetry(&telemetry);
    let mut entries = showrunner_web::keys::dev_entries();
    entries.push(showrunner_web::KeyEntry {
        id: "bench-probe".into(),
        roles: vec![showrunner_web::Role::Analyst],
        hash: showrunner_web::keys::hash_key(PROBE_KEY),
    });
    let keys = showrunner_web::Keys::new(
        showrunner_web::Keyring::new(&entries).map_err(anyhow::Error::msg)?,
    );
    let limits = showrunner_web::RateLimits::all(showrunner_web::Rate::new(1e9, u32::MAX));
    Ok(showrunner_dashboard::AppState {
        collector: showrunner_ingest::collector::CollectorState {
            client,
            js: js.clone(),
            validator: Arc::new(showrunner_events::Validator::default()),
            metrics: Arc::default(),
            streams: showrunner_bus::StreamSettings::default(),
        },
        ops: showrunner_web::Ops::new(telemetry),
        warehouse,
        recommender: showrunner_recommender::serve::ServeState::new(
            lake.join("models"),
            Default::default(),
        ),
        churn: showrunner_churn::api::RiskState::new(lake.into()),
        campaigns: showrunner_campaigns::CampaignsState::new(lake.into(), js.clone()),
        gate: Arc::new(showrunner_web::Gate::new(
            showrunner_dashboard::access::ROUTES,
            keys,
            showrunner_web::limit::Limiter::new(limits),
        )),
        reload_keys: Arc::new(|| Err("no configuration to reload from".to_owned())),
        cors_origins: Arc::default(),
        pulse: Arc::default(),
    })
}

/// Runs the bench; prints one JSON object.
pub async fn run(a: DashboardArgs) -> Result<()> {
    let keep = a.lake.is_some();
    let tmp = tempfile::tempdir()?;
    let source = a.lake.clone().unwrap_or_else(|| tmp.path().join("lake"));
    if !source.join("events").exists() {
        let t = Instant::now();
        let n = crate::metrics::simulate_lake(&source, a.events)?;
        eprintln!("simulated {n} events in {:.1} s", t.elapsed().as_secs_f64());
    }
    let lake = tmp.path().join("copy");
    std::fs::create_dir_all(&lake)?;
    let linked = link_tree(&source, &lake)?;

    let state = local_state(&lake).await?;
    let app = showrunner_dashboard::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    // each page's requests, from its HTML; a title's page for the first
    // title of the views list
    let mut conn = connect(addr).await?;
    let mut body = Vec::new();
    let mut pages: Vec<(String, Vec<String>)> = Vec::new();
    let mut paths: Vec<String> = PAGES.iter().map(|p| (*p).to_owned()).collect();
    let status = get(&mut conn, "/v1/views?limit=1", KEY, &mut body).await?;
    if status == 200 {
        let v: Value = serde_json::from_slice(&body)?;
        let title = v["columns"]
            .as_array()
            .and_then(|c| c.iter().position(|x| x == "title_id"))
            .and_then(|i| v["rows"][0][i].as_str().map(str::to_owned));
        if let Some(t) = title {
            paths.push(format!("/titles/{t}"));
        }
    }
    let t = Instant::now();
    let mut html_bytes = serde_json::Map::new();
    for path in &paths {
        let status = get(&mut conn, path, KEY, &mut body).await?;
        if status != 200 {
            bail!("{path}: {status}");
        }
        html_bytes.insert(path.clone(), json!(body.len()));
        pages.push((path.clone(), sources(&String::from_utf8_lossy(&body))));
    }
    // first loads: the projections computed
    let first = load_pages(addr, &pages, 0).await?;
    let warmup_s = t.elapsed().as_secs_f64();
    let day = showrunner_warehouse::api::ApiState::new(lake.clone(), Default::default())
        .latest_day()
        .await
        .context("an empty lake")?;

    let quiet = load_pages(addr, &pages, a.seconds).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(Written::default());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let w = {
        let (lake, stop, written) = (lake.clone(), stop.clone(), written.clone());
        let per_file = a.file_events;
        std::thread::spawn(move || writer(lake, day, per_file, stop, written, tx))
    };
    let lags = tokio::spawn(visibility(addr, day, rx, stop.clone()));
    let during = load_pages(addr, &pages, a.seconds).await?;
    stop.store(true, Ordering::Relaxed);
    w.join()
        .map_err(|_| anyhow::anyhow!("the writer panicked"))??;
    let (mut lags, unseen) = lags.await??;
    lags.sort_by(f64::total_cmp);

    println!(
        "{}",
        json!({
            "bench": "dashboard",
            "lake": if keep { source.display().to_string() } else { "simulated".into() },
            "files_linked": linked,
            "latest_day": day.to_string(),
            "pages": pages.iter().map(|(p, s)| (p.clone(), json!(s.len()))).collect::<serde_json::Map<_, _>>(),
            "html_bytes": html_bytes,
            "first_load_s": warmup_s,
            "first_load": first,
            "quiet": quiet,
            "ingest": {
                "files": written.files.load(Ordering::Relaxed),
                "events": written.events.load(Ordering::Relaxed),
                "requests": during,
                "marker_visible_s": {
                    "markers": lags.len(),
                    "not_listed_within_180_s": unseen,
                    "p50": pct(&lags, 0.5),
                    "max": lags.last().copied().unwrap_or(0.0),
                    "all": lags,
                },
            },
        })
    );
    Ok(())
}
