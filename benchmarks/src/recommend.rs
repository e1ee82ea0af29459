//! `showrunner-bench recommend`: a model over a synthetic audience (users
//! with genre tastes over a catalog with popularity skew), served by the
//! real HTTP stack (axum, app-key middleware, JSON) on 127.0.0.1, loaded by
//! keep-alive connections at fixed concurrency; prints one JSON line.
//! Client and server share this machine's cores.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use linfa::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use showrunner_events::types::catalog::Maturity;
use showrunner_recommender::artifact::{
    Artifact, BlendInfo, DataWindow, FORMAT, Holdout, Manifest,
};
use showrunner_recommender::catalog::{Catalog, Title};
use showrunner_recommender::feedback::{self, FeedbackParams};
use showrunner_recommender::lake::{Profile, WatchAgg};
use showrunner_recommender::models::als::AlsParams;
use showrunner_recommender::models::ease::EaseParams;
use showrunner_recommender::serve::ServeState;
use showrunner_recommender::serve::users::Users;
use tokio::io::BufReader;

use crate::shared::{get, pct};

const COUNTRIES: [&str; 6] = ["US", "GB", "DE", "FR", "BR", "IN"];
const GENRES: usize = 24;
const DAY: i64 = 86_400_000;
const KEY: &str = "bench-app-key";

/// The audience: catalog, watch aggregates, profiles.
fn synth(
    users: usize,
    titles: usize,
    per_user: usize,
    seed: u64,
    now: i64,
) -> (Catalog, Vec<WatchAgg>, HashMap<String, Profile>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ts = Vec::with_capacity(titles);
    let mut by_genre: Vec<Vec<(usize, f64)>> = vec![Vec::new(); GENRES];
    let mut all = Vec::with_capacity(titles);
    for t in 0..titles {
        let genre = rng.random_range(0..GENRES);
        let pop = 1.0 / (rng.random_range(0..titles) as f64 + 10.0).powf(0.8);
        let mut countries: std::collections::BTreeSet<String> = COUNTRIES
            .iter()
            .filter(|_| rng.random_bool(0.7))
            .map(|c| c.to_string())
            .collect();
        if countries.is_empty() {
            countries.insert("US".into());
        }
        ts.push(Title {
            name: format!("Title {t}"),
            genres: vec![format!("genre-{genre}")],
            language: "en".into(),
            maturity: Maturity::ALL[[0, 0, 1, 2, 3, 4][rng.random_range(0..6)]],
            countries,
            available_from: Some(0),
            ..Title::new(&format!("t{t:05}"), &[], &[])
        });
        by_genre[genre].push((t, pop));
        all.push((t, pop));
    }
    let cumulate = |v: &[(usize, f64)]| -> Vec<(usize, f64)> {
        let mut acc = 0.0;
        v.iter()
            .map(|&(t, p)| {
                acc += p;
                (t, acc)
            })
            .collect()
    };
    let by_genre: Vec<Vec<(usize, f64)>> = by_genre.iter().map(|g| cumulate(g)).collect();
    let all = cumulate(&all);
    let pick = |cum: &[(usize, f64)], rng: &mut ChaCha8Rng| -> Option<usize> {
        let total = cum.last()?.1;
        let x = rng.random_range(0.0..total);
        let i = cum.partition_point(|&(_, c)| c < x).min(cum.len() - 1);
        Some(cum[i].0)
    };
    let mut watch = Vec::new();
    let mut profiles = HashMap::new();
    for u in 0..users {
        let user = format!("u{u}");
        let tastes = [rng.random_range(0..GENRES), rng.random_range(0..GENRES)];
        let n = rng.random_range(per_user / 2..=per_user * 3 / 2).max(1);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..n {
            let t = if rng.random_bool(0.8) {
                pick(&by_genre[tastes[rng.random_range(0..2)]], &mut rng)
            } else {
                pick(&all, &mut rng)
            };
            let Some(t) = t else { continue };
            if !seen.insert(t) {
                continue;
            }
            let fraction: f64 = rng.random_range(0.1..1.0);
            let at = now - rng.random_range(0..120) * DAY;
            watch.push(WatchAgg {
                user: user.clone(),
                watched: ts[t].id.clone(),
                max_fraction: fraction,
                position_ms: (fraction * 5_400_000.0) as i64,
                duration_ms: 5_400_000,
                last_at: at,
                completions: u32::from(fraction > 0.9),
                completed_at: (fraction > 0.9).then_some(at),
            });
        }
        profiles.insert(
            user,
            Profile {
                country: Some(COUNTRIES[rng.random_range(0..COUNTRIES.len())].to_string()),
                ..Profile::default()
            },
        );
    }
    (Catalog::from_titles(ts), watch, profiles)
}

/// Arguments of `showrunner-bench recommend`.
#[derive(clap::Args, Debug, Clone)]
pub struct RecommendArgs {
    /// Users.
    #[arg(long, default_value_t = 50_000)]
    users: usize,
    /// Titles.
    #[arg(long, default_value_t = 5_000)]
    titles: usize,
    /// Mean titles watched per user.
    #[arg(long, default_value_t = 30)]
    per_user: usize,
    /// Timed requests.
    #[arg(long, default_value_t = 100_000)]
    requests: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Items per request.
    #[arg(long, default_value_t = 20)]
    k: usize,
    /// Row requested.
    #[arg(long, default_value = "for_you")]
    row: String,
    /// Seed of the audience and the request mix.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// EASE's weight in the served blend with implicit ALS (64 factors,
    /// α 3, λ 30); 1: EASE alone, as before the blend.
    #[arg(long, default_value_t = 0.3)]
    blend: f64,
    /// Serve the recommender's router alone, without the app's gate, rate
    /// limiter, telemetry and CORS: the difference with a default run is
    /// what the HTTP contract costs a request.
    #[arg(long)]
    bare: bool,
}

/// Runs the benchmark.
pub async fn run(a: RecommendArgs) -> Result<()> {
    let RecommendArgs {
        users,
        titles,
        per_user,
        requests,
        concurrency,
        k,
        row,
        seed,
        blend,
        bare,
    } = a;
    if users == 0 || titles == 0 || concurrency == 0 {
        bail!("--users, --titles and --concurrency must be ≥ 1");
    }
    if !(0.0..=1.0).contains(&blend) {
        bail!("--blend must be in [0, 1]");
    }
    let now = 1_790_000_000_000;
    let t = Instant::now();
    let (catalog, watch, profiles) = synth(users, titles, per_user, seed, now);
    let fb = FeedbackParams::default();
    let inter = feedback::interactions(&watch, &catalog, now, &fb);
    let synth_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let model = {
        let m = inter.matrix.clone();
        tokio::task::spawn_blocking(move || {
            EaseParams::new()
                .lambda(400.0)
                .fit(&DatasetBase::new(m, ()))
        })
        .await??
    };
    let train_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let als_params = AlsParams::new()
        .factors(64)
        .alpha(3.0)
        .lambda(30.0)
        .seed(seed)
        .check()?;
    let als = if blend < 1.0 {
        let m = inter.matrix.clone();
        Some(
            tokio::task::spawn_blocking(move || als_params.fit(&DatasetBase::new(m, ())))
                .await??
                .without_user_factors(),
        )
    } else {
        None
    };
    let als_s = t.elapsed().as_secs_f64();
    let trending = feedback::trending(&watch, &catalog, &profiles, now, &fb, 500);
    let interactions = inter.matrix.nnz();
    let artifact = Artifact {
        manifest: Manifest {
            format: FORMAT,
            version: "bench".into(),
            created_at_ms: now,
            model: if als.is_some() { "blend" } else { "ease" }.into(),
            params: model.params,
            feedback: fb,
            data: DataWindow {
                from_ms: now - 120 * DAY,
                to_ms: now,
                users: inter.users.len(),
                titles,
                interactions,
            },
            holdout: Holdout::default(),
            train_seconds: train_s,
            cold_start: None,
            blend: als.as_ref().map(|_| BlendInfo {
                weight: blend,
                als: als_params,
                tried: Vec::new(),
                ease_holdout: Default::default(),
                als_holdout: Default::default(),
            }),
        },
        catalog,
        trending,
        model,
        clusters: None,
        als,
    };
    let state = ServeState::new(
        std::env::temp_dir().join("showrunner-bench-models"),
        Users::seeded(&watch, &profiles),
    );
    state.install(artifact);
    // the app's own gate (hashed key, constant-time check, a token bucket)
    // with a limit no run reaches: what is timed is the real path
    let entry = showrunner_web::KeyEntry {
        id: "bench".into(),
        roles: vec![showrunner_web::Role::App],
        hash: showrunner_web::keys::hash_key(KEY),
    };
    let keys = showrunner_web::Keys::new(
        showrunner_web::Keyring::new(&[entry]).map_err(anyhow::Error::msg)?,
    );
    let limits = showrunner_web::RateLimits::all(showrunner_web::Rate::new(1e9, u32::MAX));
    let gate = showrunner_web::Gate::new(
        showrunner_dashboard::access::ROUTES,
        keys,
        showrunner_web::limit::Limiter::new(limits),
    );
    let app = match bare {
        true => showrunner_recommender::serve::router(state),
        false => showrunner_dashboard::app_router(state, Arc::new(gate)),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let per_conn = requests.div_ceil(concurrency);
    let load = |n: usize, salt: u64| {
        let row = row.clone();
        async move {
            let mut tasks = Vec::new();
            for c in 0..concurrency {
                let row = row.clone();
                tasks.push(tokio::spawn(async move {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ salt ^ c as u64);
                    let mut conn = BufReader::new(tokio::net::TcpStream::connect(addr).await?);
                    conn.get_mut().set_nodelay(true)?;
                    let (mut lat, mut errors, mut bytes) = (Vec::with_capacity(n), 0usize, 0usize);
                    let mut body = Vec::new();
                    for _ in 0..n {
                        let path = format!(
                            "/v1/users/u{}/recommendations?k={k}&row={row}",
                            rng.random_range(0..users)
                        );
                        let t = Instant::now();
                        let status = get(&mut conn, &path, KEY, &mut body).await?;
                        lat.push(t.elapsed().as_secs_f64() * 1e3);
                        bytes += body.len();
                        if status != 200 {
                            errors += 1;
                        }
                    }
                    anyhow::Ok((lat, errors, bytes))
                }));
            }
            let mut lat = Vec::new();
            let (mut errors, mut bytes) = (0, 0);
            for t in tasks {
                let (l, e, b) = t.await??;
                lat.extend(l);
                errors += e;
                bytes += b;
            }
            anyhow::Ok((lat, errors, bytes))
        }
    };
    // warm-up, untimed
    load((per_conn / 10).max(10), 1).await?;
    let t = Instant::now();
    let (mut lat, errors, bytes) = load(per_conn, 2).await?;
    let wall = t.elapsed().as_secs_f64();
    server.abort();
    lat.sort_by(f64::total_cmp);
    let n = lat.len();
    let out = serde_json::json!({
        "bench": "recommend",
        "served": if bare { "recommender router alone" } else { "the app (gate, limiter, telemetry, CORS)" },
        "users": users,
        "titles": titles,
        "interactions": interactions,
        "synthesize_seconds": synth_s,
        "train_seconds": train_s,
        "als_train_seconds": als_s,
        "blend_weight": blend,
        "row": row,
        "k": k,
        "concurrency": concurrency,
        "requests": n,
        "errors": errors,
        "seconds": wall,
        "requests_per_second": n as f64 / wall,
        "mean_response_bytes": bytes as f64 / n.max(1) as f64,
        "latency_ms": {
            "p50": pct(&lat, 0.50),
            "p90": pct(&lat, 0.90),
            "p99": pct(&lat, 0.99),
            "p999": pct(&lat, 0.999),
            "max": lat.last().copied().unwrap_or(0.0),
        },
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
    });
    println!("{out}");
    Ok(())
}
