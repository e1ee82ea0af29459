//! The composed app's gate through `oneshot`: every (role, route) cell of
//! `access::ROUTES` — the key of the route's role reaches the handler, every
//! other role's key is a 403, no key a 401, public routes open to all —;
//! a key of several roles; a rate limit reached (429 with `Retry-After`)
//! and recovered; keys rotated by the admin endpoint without a restart (a
//! refused reload keeps the old keys); CORS on the gate's refusals.
//!
//! The app runs on an empty lake with NATS unreachable, so handlers
//! answer their own errors (400, 404 with a code, 503): what is checked is
//! who gets past the gate, and that every row of the table is a route the
//! app serves.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use showrunner_dashboard::access::ROUTES;
use showrunner_dashboard::{AppState, KeysReloaded, ReloadKeys, router};
use showrunner_ingest::collector::CollectorState;
use showrunner_ingest::metrics::Metrics;
use showrunner_web::keys::{NewKey, generate};
use showrunner_web::limit::Limiter;
use showrunner_web::{Access, ErrorBody, Gate, Keyring, Keys, Rate, RateLimits, Role};
use tower::ServiceExt;

/// The gate's own refusals; anything else came from a handler.
const GATE_CODES: [&str; 4] = [
    "unauthorized",
    "forbidden",
    "rate_limited",
    "no_access_rule",
];

struct App {
    router: Router,
    /// One key per role, in `Role::ALL` order.
    keys: Vec<NewKey>,
    /// What the next reload returns.
    next: Arc<Mutex<Result<Vec<showrunner_web::KeyEntry>, String>>>,
    _lake: tempfile::TempDir,
}

async fn app(limits: RateLimits, cors: &[&str]) -> App {
    let keys: Vec<NewKey> = Role::ALL
        .iter()
        .map(|r| generate(&format!("{r}-key"), &[*r]).expect("key"))
        .collect();
    let entries: Vec<_> = keys.iter().map(|k| k.entry.clone()).collect();
    let next = Arc::new(Mutex::new(Ok(entries.clone())));
    let reload: ReloadKeys = {
        let next = next.clone();
        Arc::new(move || {
            let entries = next.lock().expect("lock").clone()?;
            Keyring::new(&entries)
        })
    };
    let lake = tempfile::tempdir().expect("tempdir");
    let client = showrunner_bus::connect_lazy("nats://127.0.0.1:1")
        .await
        .expect("lazy client");
    let js = showrunner_bus::context(client.clone(), Duration::from_secs(1), 16);
    let metrics = Arc::new(Metrics::default());
    let state = AppState {
        collector: CollectorState {
            client,
            js: js.clone(),
            validator: Arc::new(showrunner_events::Validator::default()),
            metrics,
            streams: showrunner_bus::StreamSettings::default(),
        },
        ops: showrunner_web::Ops::new(showrunner_web::Telemetry::new()),
        warehouse: showrunner_warehouse::api::ApiState::new(
            lake.path().to_owned(),
            showrunner_warehouse::api::QueryLimits {
                memory_bytes: 256 << 20,
                timeout: Duration::from_secs(10),
                ..showrunner_warehouse::api::QueryLimits::default()
            },
        ),
        recommender: showrunner_recommender::serve::ServeState::new(
            lake.path().join("models"),
            Default::default(),
        ),
        churn: showrunner_churn::api::RiskState::new(lake.path().into()),
        campaigns: showrunner_campaigns::CampaignsState::new(lake.path().into(), js.clone()),
        gate: Arc::new(Gate::new(
            ROUTES,
            Keys::new(Keyring::new(&entries).expect("ring")),
            Limiter::new(limits),
        )),
        reload_keys: reload,
        cors_origins: Arc::new(cors.iter().map(|s| (*s).to_owned()).collect()),
        pulse: Arc::default(),
    };
    App {
        router: router(state),
        keys,
        next,
        _lake: lake,
    }
}

fn generous() -> RateLimits {
    RateLimits::all(Rate::new(1e6, 1_000_000))
}

/// A request to `method path` (path parameters filled in) with `key`.
fn request(method: &Method, path: &str, key: Option<&str>) -> Request<Body> {
    // (the live stream never ends: a refused window answers at once)
    let uri = path
        .replace("/v1/live", "/v1/live?minutes=0")
        .replace("{file}", "dashboard.js")
        .replace("{view}", "v1")
        .replace("{name}", "mrr")
        .replace("{user}", "u1")
        .replace("{title}", "t1");
    let body = match path {
        "/v1/events" => "[]",
        "/v1/sql" => r#"{"sql": "SELECT 1"}"#,
        _ => "",
    };
    let mut req = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(k) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    req.body(Body::from(body)).expect("request")
}

/// Status and error code (if the answer is an error body).
async fn call(app: &Router, req: Request<Body>) -> (StatusCode, Option<String>) {
    let r = app.clone().oneshot(req).await.expect("answer");
    let status = r.status();
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 20)
        .await
        .expect("body");
    let code = serde_json::from_slice::<ErrorBody>(&bytes)
        .ok()
        .map(|b| b.error.code);
    (status, code)
}

/// Whether the request reached a route's handler: not refused by the gate,
/// and not axum's own 404/405 of a route the app does not have (a
/// handler's 404 carries an error code).
fn reached(status: StatusCode, code: &Option<String>) -> bool {
    let gate = code.as_deref().is_some_and(|c| GATE_CODES.contains(&c));
    let unrouted = (status == StatusCode::NOT_FOUND && code.as_deref() == Some("not_found"))
        || (status == StatusCode::METHOD_NOT_ALLOWED && code.is_none());
    !gate && !unrouted
}

#[tokio::test]
async fn every_role_on_every_route() {
    let app = app(generous(), &[]).await;
    let mut cells = 0;
    for route in ROUTES {
        let (status, code) = call(&app.router, request(&route.method, route.path, None)).await;
        match route.access {
            Access::Public => assert!(
                reached(status, &code),
                "{} {} is public: {status} {code:?}",
                route.method,
                route.path
            ),
            // a page sends a browser without a key to sign in
            Access::Role(_) if route.page => {
                assert_eq!(
                    status,
                    StatusCode::SEE_OTHER,
                    "{} without a key",
                    route.path
                );
            }
            Access::Role(_) => {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{} without a key",
                    route.path
                );
                assert_eq!(code.as_deref(), Some("unauthorized"));
            }
        }
        for (role, key) in Role::ALL.iter().zip(&app.keys) {
            let (status, code) = call(
                &app.router,
                request(&route.method, route.path, Some(&key.key)),
            )
            .await;
            cells += 1;
            let allowed = match route.access {
                Access::Public => true,
                Access::Role(needed) => needed == *role,
            };
            if allowed {
                assert!(
                    reached(status, &code),
                    "{role} on {} {}: {status} {code:?}",
                    route.method,
                    route.path
                );
            } else {
                assert_eq!(
                    (status, code.as_deref()),
                    (StatusCode::FORBIDDEN, Some("forbidden")),
                    "{role} on {} {}",
                    route.method,
                    route.path
                );
            }
        }
        // an unknown key is no key
        let (status, _) = call(
            &app.router,
            request(&route.method, route.path, Some("sr_not-a-key")),
        )
        .await;
        if route.access != Access::Public {
            let expected = if route.page {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(status, expected, "{}", route.path);
        }
    }
    assert_eq!(cells, ROUTES.len() * Role::ALL.len());
    // every role has routes (the table is not empty for anyone)
    for role in Role::ALL {
        assert!(
            ROUTES.iter().any(|r| r.access == Access::Role(role)) || role == Role::Marketing,
            "{role} has no route"
        );
    }
}

#[tokio::test]
async fn the_description_lists_every_route_with_its_role() {
    let doc = showrunner_dashboard::openapi_doc(showrunner_dashboard::Surface::ALL)
        .expect("every described operation has an access rule");
    assert_eq!(
        showrunner_web::openapi::undescribed(&doc, ROUTES),
        Vec::<(String, String)>::new(),
        "every route of the table is described"
    );
    assert_eq!(
        showrunner_web::openapi::operations(&doc).len(),
        ROUTES.iter().filter(|r| !r.page).count(),
        "and nothing else (the pages are HTML, not API operations)"
    );
    let app = app(generous(), &[]).await;
    let r = app
        .router
        .clone()
        .oneshot(request(&Method::GET, "/openapi.json", None))
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 22)
        .await
        .expect("body");
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert!(v["openapi"].as_str().expect("version").starts_with("3."));
    for route in ROUTES.iter().filter(|r| !r.page) {
        let op = &v["paths"][route.path][route.method.as_str().to_lowercase()];
        assert!(op.is_object(), "{} {} described", route.method, route.path);
        match route.access {
            Access::Public => assert_eq!(op["security"], serde_json::json!([{}])),
            Access::Role(role) => {
                assert_eq!(op["security"], serde_json::json!([{ "bearer": [] }]));
                assert!(
                    op["description"]
                        .as_str()
                        .expect("d")
                        .contains(&format!("`{role}`")),
                    "{}",
                    route.path
                );
                for s in ["401", "403", "429"] {
                    assert!(op["responses"][s].is_object(), "{} {s}", route.path);
                }
            }
        }
    }
    // an unknown path answers the one error body
    let (s, code) = call(&app.router, request(&Method::GET, "/v1/nowhere", None)).await;
    assert_eq!(
        (s, code.as_deref()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    // a method the table does not give a path: 405 with the table's methods
    let r = app
        .router
        .clone()
        .oneshot(request(&Method::TRACE, "/healthz", None))
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
}

#[tokio::test]
async fn a_key_of_two_roles_passes_both() {
    let app = app(generous(), &[]).await;
    let both = generate("ops", &[Role::Analyst, Role::Admin]).expect("key");
    let mut entries: Vec<_> = app.keys.iter().map(|k| k.entry.clone()).collect();
    entries.push(both.entry.clone());
    *app.next.lock().expect("lock") = Ok(entries);
    let admin = &app.keys[4].key;
    let (s, _) = call(
        &app.router,
        request(&Method::POST, "/v1/admin/keys/reload", Some(admin)),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    for path in ["/v1/metrics", "/v1/admin/keys/reload"] {
        let method = if path == "/v1/metrics" {
            Method::GET
        } else {
            Method::POST
        };
        let (s, code) = call(&app.router, request(&method, path, Some(&both.key))).await;
        assert!(reached(s, &code), "{path}: {s} {code:?}");
    }
    let (s, _) = call(
        &app.router,
        request(&Method::POST, "/v1/events", Some(&both.key)),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_is_reached_then_recovers() {
    let mut limits = generous();
    limits.analyst = Rate::new(0.5, 2);
    let app = app(limits, &[]).await;
    let analyst = &app.keys[2].key;
    let list = || request(&Method::GET, "/v1/metrics", Some(analyst));
    for _ in 0..2 {
        assert_eq!(call(&app.router, list()).await.0, StatusCode::OK);
    }
    let r = app.router.clone().oneshot(list()).await.expect("answer");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()[header::RETRY_AFTER], "2", "one token in 2 s");
    // other keys and other roles are not held back
    let app_key = &app.keys[1].key;
    let (s, code) = call(
        &app.router,
        request(&Method::GET, "/v1/models/current", Some(app_key)),
    )
    .await;
    assert!(reached(s, &code), "{s} {code:?}");
    tokio::time::advance(Duration::from_millis(1_900)).await;
    assert_eq!(
        call(&app.router, list()).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::advance(Duration::from_millis(200)).await;
    assert_eq!(call(&app.router, list()).await.0, StatusCode::OK);
}

#[tokio::test]
async fn keys_rotate_without_a_restart() {
    let app = app(generous(), &[]).await;
    let admin = app.keys[4].key.clone();
    let old_app_key = app.keys[1].key.clone();
    let fresh = generate("app-2", &[Role::App]).expect("key");
    let reload = |key: &str| request(&Method::POST, "/v1/admin/keys/reload", Some(key));
    let current = |key: &str| request(&Method::GET, "/v1/models/current", Some(key));

    // a refused reload keeps the keys in place
    *app.next.lock().expect("lock") = Err("config field `http.keys`: bad".into());
    let (s, code) = call(&app.router, reload(&admin)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code.as_deref(), Some("keys_refused"));
    let (s, code) = call(&app.router, current(&old_app_key)).await;
    assert!(reached(s, &code), "old key still works: {s}");

    // the new set: the old app key gone, a new one in
    let mut entries: Vec<_> = app
        .keys
        .iter()
        .filter(|k| k.entry.id != "app-key")
        .map(|k| k.entry.clone())
        .collect();
    entries.push(fresh.entry.clone());
    *app.next.lock().expect("lock") = Ok(entries);
    let r = app
        .router
        .clone()
        .oneshot(reload(&admin))
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 16)
        .await
        .expect("body");
    let answer: KeysReloaded = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(answer, KeysReloaded { keys: 5 });
    assert_eq!(
        call(&app.router, current(&old_app_key)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, code) = call(&app.router, current(&fresh.key)).await;
    assert!(reached(s, &code), "new key works: {s} {code:?}");
    // only an admin key may reload
    assert_eq!(
        call(&app.router, reload(&fresh.key)).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_route_missing_from_the_table_serves_nobody() {
    let keys = Keys::new(Keyring::new(&showrunner_web::keys::dev_entries()).expect("ring"));
    let gate = Arc::new(Gate::new(ROUTES, keys, Limiter::new(generous())));
    let r = showrunner_web::access::guard(
        Router::new().route("/v1/unlisted", axum::routing::get(|| async { "secret" })),
        gate,
    );
    let (s, code) = call(
        &r,
        request(&Method::GET, "/v1/unlisted", Some("dev-admin-key")),
    )
    .await;
    assert_eq!(
        (s, code.as_deref()),
        (StatusCode::FORBIDDEN, Some("no_access_rule"))
    );
}

#[tokio::test]
async fn browsers_of_allowed_origins_pass_the_preflight_and_read_refusals() {
    let app = app(generous(), &["https://watch.example.com"]).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/v1/events")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            )
            .body(Body::empty())
            .expect("request")
    };
    let r = app
        .router
        .clone()
        .oneshot(preflight("https://watch.example.com"))
        .await
        .expect("answer");
    assert!(r.status().is_success(), "{}", r.status());
    let h = r.headers();
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://watch.example.com"
    );
    let methods = h[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .expect("ascii");
    assert!(methods.contains("POST"), "{methods}");
    let allowed = h[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    // another origin gets no CORS header: the browser refuses it
    let r = app
        .router
        .clone()
        .oneshot(preflight("https://evil.example.net"))
        .await
        .expect("answer");
    assert!(
        r.headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    // the page can read the gate's refusal of a post without a key
    let req = Request::post("/v1/events")
        .header(header::ORIGIN, "https://watch.example.com")
        .body(Body::from("[]"))
        .expect("request");
    let r = app.router.clone().oneshot(req).await.expect("answer");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://watch.example.com"
    );
    assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
}

/// A form post of `body` to `path`, with `cookie` and extra headers.
fn form(path: &str, body: &str, cookie: Option<&str>, extra: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "127.0.0.1:8080");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(Body::from(body.to_owned())).expect("request")
}

fn with_cookie(method: Method, path: &str, cookie: &str, extra: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::COOKIE, cookie);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(Body::from(r#"{"sql": "SELECT 1 AS one"}"#))
        .expect("request")
}

fn header_of(r: &axum::response::Response, name: header::HeaderName) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_browser_signs_in_holds_a_session_and_signs_out() {
    let app = app(generous(), &[]).await;
    let send = |req: Request<Body>| app.router.clone().oneshot(req);
    let analyst = &app.keys[2].key;
    let other = &app.keys[1].key; // app role
    let form_key = |k: &str| format!("key={}&next=%2Fqoe%3Fby%3Dcdn", k);

    // a page without a session: to the sign-in page, coming back after
    let r = send(request(&Method::GET, "/overview?period=week", None))
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        header_of(&r, header::LOCATION),
        "/signin?next=%2Foverview%3Fperiod%3Dweek"
    );

    // a wrong key, a key without the analyst role: refused, no cookie
    for (key, status) in [
        ("sr_wrong", StatusCode::UNAUTHORIZED),
        (other.as_str(), StatusCode::FORBIDDEN),
    ] {
        let r = send(form("/signin", &form_key(key), None, &[]))
            .await
            .expect("answer");
        assert_eq!(r.status(), status, "{key}");
        assert!(r.headers().get(header::SET_COOKIE).is_none());
    }
    // signing in from another site's form is refused
    let r = send(form(
        "/signin",
        &form_key(analyst),
        None,
        &[("origin", "https://evil.example")],
    ))
    .await
    .expect("answer");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // the analyst's key: a session cookie, and back where it was going
    let r = send(form("/signin", &form_key(analyst), None, &[]))
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(header_of(&r, header::LOCATION), "/qoe?by=cdn");
    let set = header_of(&r, header::SET_COOKIE);
    assert!(
        set.contains("; HttpOnly; SameSite=Strict; Max-Age=28800"),
        "{set}"
    );
    assert!(!set.contains(analyst.as_str()), "the cookie is not the key");
    assert!(!set.contains("Secure"), "plain HTTP: not Secure: {set}");
    let cookie = set.split(';').next().expect("pair").to_owned();
    // behind a TLS proxy the cookie is `Secure`
    let r = send(form(
        "/signin",
        &form_key(analyst),
        None,
        &[("x-forwarded-proto", "https")],
    ))
    .await
    .expect("answer");
    assert!(header_of(&r, header::SET_COOKIE).ends_with("; Secure"));
    // `next` never leads off the site
    let r = send(form(
        "/signin",
        &format!("key={analyst}&next=%2F%2Fevil.example"),
        None,
        &[],
    ))
    .await
    .expect("answer");
    assert_eq!(header_of(&r, header::LOCATION), "/overview");

    // a page with the cookie: its CSP, and the session's CSRF token
    let r = send(with_cookie(Method::GET, "/overview", &cookie, &[]))
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::OK);
    let csp = header_of(&r, header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = axum::body::to_bytes(r.into_body(), 1 << 20)
        .await
        .expect("body");
    let html = String::from_utf8_lossy(&html);
    let csrf = html
        .split(r#"name="csrf-token" content=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a CSRF token in the page")
        .to_owned();
    assert!(csrf.len() >= 40, "{csrf}");
    // gzipped for a browser that takes it, the same page
    let r = send(with_cookie(
        Method::GET,
        "/overview",
        &cookie,
        &[("accept-encoding", "gzip, deflate, br")],
    ))
    .await
    .expect("answer");
    assert_eq!(header_of(&r, header::CONTENT_ENCODING), "gzip");
    assert!(header_of(&r, header::CONTENT_SECURITY_POLICY).contains("script-src 'self'"));
    let gz = axum::body::to_bytes(r.into_body(), 1 << 20)
        .await
        .expect("body");
    let mut unzipped = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped)
        .expect("gzip");
    assert!(
        unzipped.len() > 3 * gz.len(),
        "{} → {}",
        unzipped.len(),
        gz.len()
    );
    assert!(unzipped.contains(r#"name="csrf-token""#));

    // the API with the cookie: reads pass; a write needs the token
    let (s, _) = call(
        &app.router,
        with_cookie(Method::GET, "/v1/metrics", &cookie, &[]),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let here = "http://127.0.0.1:8080";
    // (extra headers, status, error code, what is tried)
    type Case<'a> = (
        &'a [(&'a str, &'a str)],
        StatusCode,
        Option<&'a str>,
        &'a str,
    );
    let cases: [Case; 4] = [
        (&[], StatusCode::FORBIDDEN, Some("csrf_failed"), "no token"),
        (
            &[("x-csrf-token", "nope")],
            StatusCode::FORBIDDEN,
            Some("csrf_failed"),
            "another token",
        ),
        (
            &[("x-csrf-token", &csrf), ("origin", "https://evil.example")],
            StatusCode::FORBIDDEN,
            Some("csrf_failed"),
            "the right token from another site",
        ),
        (
            &[("x-csrf-token", &csrf), ("origin", here)],
            StatusCode::OK,
            None,
            "the right token from this site",
        ),
    ];
    for (headers, status, code, what) in cases {
        let (s, got) = call(
            &app.router,
            with_cookie(Method::POST, "/v1/sql", &cookie, headers),
        )
        .await;
        assert_eq!((s, got.as_deref()), (status, code), "{what}");
    }

    // sign-out: another token is refused; the session's own ends it
    let r = send(form("/signout", "csrf=nope", Some(&cookie), &[]))
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = send(form(
        "/signout",
        &format!("csrf={csrf}"),
        Some(&cookie),
        &[],
    ))
    .await
    .expect("answer");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(header_of(&r, header::LOCATION), "/signin");
    assert!(header_of(&r, header::SET_COOKIE).contains("Max-Age=0"));
    let (s, code) = call(
        &app.router,
        with_cookie(Method::GET, "/v1/metrics", &cookie, &[]),
    )
    .await;
    assert_eq!(
        (s, code.as_deref()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized")),
        "the old cookie opens nothing"
    );
}

#[tokio::test]
async fn assets_are_embedded_versioned_and_cached() {
    let app = app(generous(), &[]).await;
    let r = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri("/assets/uPlot-1.6.32.min.js")
                .header(header::ACCEPT_ENCODING, "br, gzip;q=0.8")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header_of(&r, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header_of(&r, header::CONTENT_ENCODING), "gzip");
    assert!(header_of(&r, header::CONTENT_TYPE).starts_with("text/javascript"));
    let body = axum::body::to_bytes(r.into_body(), 1 << 20)
        .await
        .expect("body");
    assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip");
    assert!(body.len() < 30_000, "uPlot gzipped: {} bytes", body.len());
    // without gzip: the file as npm has it
    let (s, _) = call(
        &app.router,
        request(&Method::GET, "/assets/uPlot-1.6.32.LICENSE.txt", None),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, code) = call(
        &app.router,
        request(&Method::GET, "/assets/nothing.js", None),
    )
    .await;
    assert_eq!(
        (s, code.as_deref()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn the_live_stream_sends_a_snapshot_at_once() {
    use futures::StreamExt;
    let app = app(generous(), &[]).await;
    let analyst = &app.keys[2].key;
    let req = Request::builder()
        .uri("/v1/live?minutes=5")
        .header(header::AUTHORIZATION, format!("Bearer {analyst}"))
        .body(Body::empty())
        .expect("request");
    let r = app.router.clone().oneshot(req).await.expect("answer");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header_of(&r, header::CONTENT_TYPE), "text/event-stream");
    let mut body = r.into_body().into_data_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .expect("a first event at once")
        .expect("a chunk")
        .expect("bytes");
    let text = String::from_utf8_lossy(&first);
    let data = text
        .strip_prefix("event: pulse\ndata: ")
        .and_then(|d| d.split('\n').next())
        .unwrap_or_else(|| panic!("an SSE pulse event: {text}"));
    let snap: serde_json::Value = serde_json::from_str(data).expect("JSON");
    assert_eq!(snap["minutes"].as_array().map(Vec::len), Some(5));
    assert_eq!(snap["concurrent"], 0, "nothing followed in this app");
    // a window over the hour the fold keeps is refused
    let req = Request::builder()
        .uri("/v1/live?minutes=61")
        .header(header::AUTHORIZATION, format!("Bearer {analyst}"))
        .body(Body::empty())
        .expect("request");
    let (s, code) = call(&app.router, req).await;
    assert_eq!(
        (s, code.as_deref()),
        (StatusCode::BAD_REQUEST, Some("bad_parameter"))
    );
}
