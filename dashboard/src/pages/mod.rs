//! The analysts' pages: server-rendered HTML (maud, checked at compile
//! time) whose tiles, charts and tables are filled by the page's script
//! from the same metrics API the CLI and notebooks call — one definition
//! of every number. A page's whole state is its URL ([`state`]).
//!
//! - [`router`] — the pages, sign-in and sign-out, and the embedded assets
//!   (`/assets/…`: the page script and style, uPlot from npm, checked by
//!   `build.rs`), with long-lived cache headers;
//! - every page answers with `Content-Security-Policy: script-src 'self'`
//!   (no inline script, no other origin) and `frame-ancestors 'none'`;
//! - sign-in takes a key once and gives the browser the gate's session
//!   cookie (`showrunner_web::session`); sign-out ends it.
//!
//! Pages: [`overview`] (KPI tiles), [`qoe`] (a QoE metric over time with a
//! comparison, its breakdown with negative impact, filters), [`engagement`]
//! (active users, watch hours, top titles), [`revenue`] (MRR, movements,
//! churn, ARPU, LTV, SVOD/TVOD/AVOD), [`cohorts`] (retention heat-map),
//! [`titles`] (one title's audience and QoE), [`sql`] (the console),
//! [`live`] (the last minutes, from the stream),
//! [`views`] (the views behind a cell, and one view's timeline).

mod assets;
mod cohorts;
mod engagement;
mod layout;
mod live;
mod overview;
mod qoe;
mod revenue;
mod sql;
pub mod state;
mod titles;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use showrunner_warehouse::api::ApiState;
use showrunner_web::session::{self, CSRF_FIELD};
use showrunner_web::{Gate, Query, Role};

use state::PageQuery;

/// What the pages read: the gate's sessions, the warehouse (for the
/// lake's latest day; the numbers themselves come from its API).
#[derive(Clone)]
pub struct Pages {
    /// The gate: keys and browser sessions.
    pub gate: Arc<Gate>,
    /// The warehouse's API state.
    pub warehouse: ApiState,
}

/// The pages' routes (their rows in [`crate::access::ROUTES`] are
/// `Route::page`).
pub fn router(pages: Pages) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/overview") }))
        .route("/signin", get(signin_form).post(signin))
        .route("/signout", post(signout))
        .route("/overview", get(overview::show))
        .route("/qoe", get(qoe::show))
        .route("/engagement", get(engagement::show))
        .route("/revenue", get(revenue::show))
        .route("/cohorts", get(cohorts::show))
        .route("/titles/{title}", get(titles::show))
        .route("/sql", get(sql::show))
        .route("/live", get(live::show))
        .route("/views", get(views::list))
        .route("/views/{view}", get(views::timeline))
        .route("/api", get(api_index))
        .with_state(pages)
        .layer(axum::middleware::from_fn(gzip_html))
        .route("/assets/{file}", get(assets::serve))
}

/// Pages at most this large are gzipped whole (all of them are).
const GZIP_MAX: usize = 1 << 20;

/// Gzips a page's HTML for a browser that accepts it (the assets are
/// gzipped once, in `assets`).
async fn gzip_html(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let accepts = assets::accepts_gzip(req.headers());
    let r = next.run(req).await;
    let html = r
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !accepts || !html {
        return r;
    }
    let (mut parts, body) = r.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, GZIP_MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "page too large").into_response();
    };
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    if std::io::Write::write_all(&mut z, &bytes).is_err() {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let Ok(gz) = z.finish() else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, axum::body::Body::from(gz))
}

/// The headers of every page.
fn secured(status: StatusCode, body: Markup) -> Response {
    let mut r = (status, axum::response::Html(body.into_string())).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A page's answer: 200 with its markup.
fn page(body: Markup) -> Response {
    secured(StatusCode::OK, body)
}

/// A page refusing its query (a bad period, an unknown metric): 400, the
/// reason shown.
fn bad_request(message: &str) -> Response {
    secured(
        StatusCode::BAD_REQUEST,
        layout::bare(
            "Bad request",
            html! { p role="alert" { (message) } p { a href="/overview" { "Back to the overview" } } },
        ),
    )
}

/// Whether the browser reached the server over TLS through a proxy
/// (`X-Forwarded-Proto: https`): its session cookie is then `Secure`.
fn behind_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// Where to go after signing in: a path of this site, else the overview.
fn safe_next(next: Option<&str>) -> &str {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/overview")
}

#[derive(Debug, Default, serde::Deserialize)]
struct SigninQuery {
    next: Option<String>,
}

impl showrunner_web::QueryFields for SigninQuery {
    const FIELDS: &'static [&'static str] = &["next"];
}

async fn signin_form(Query(q): Query<SigninQuery>) -> Response {
    page(layout::signin(safe_next(q.next.as_deref()), None))
}

/// `POST /signin` (form: `key`, `next`): a session for an analyst's key.
async fn signin(State(p): State<Pages>, headers: HeaderMap, body: Bytes) -> Response {
    let mut key = String::new();
    let mut next = String::new();
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "key" => key = v.trim().to_owned(),
            "next" => next = v.into_owned(),
            _ => {}
        }
    }
    let next = safe_next(Some(&next)).to_owned();
    if session::cross_site(&headers) {
        return secured(
            StatusCode::FORBIDDEN,
            layout::signin(&next, Some("Sign in from this site's own page.")),
        );
    }
    let ring = p.gate.keys().current();
    match ring.authenticate(&key) {
        None => {
            tracing::info!("sign-in refused: unknown key");
            secured(
                StatusCode::UNAUTHORIZED,
                layout::signin(&next, Some("That key is not known here.")),
            )
        }
        Some(who) if !who.roles.contains(Role::Analyst) => secured(
            StatusCode::FORBIDDEN,
            layout::signin(
                &next,
                Some("That key does not hold the analyst role the pages need."),
            ),
        ),
        Some(_) => match p.gate.sessions().open(&ring, &key) {
            Some(opened) => {
                tracing::info!(key = %opened.principal.id, "signed in");
                let mut r = Redirect::to(&next).into_response();
                r.headers_mut().insert(
                    header::SET_COOKIE,
                    p.gate
                        .sessions()
                        .set_cookie(&opened.token, behind_tls(&headers)),
                );
                r
            }
            None => secured(
                StatusCode::UNAUTHORIZED,
                layout::signin(&next, Some("That key is not known here.")),
            ),
        },
    }
}

/// `POST /signout` (form: `csrf`): ends the session and removes its cookie.
async fn signout(State(p): State<Pages>, headers: HeaderMap, body: Bytes) -> Response {
    let presented = form_urlencoded::parse(&body)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned());
    if let Some(token) = session::cookie(&headers) {
        let current = p.gate.sessions().find(&p.gate.keys().current(), token);
        if let Some(s) = current {
            if session::cross_site(&headers) || !session::csrf_matches(&s, presented.as_deref()) {
                return secured(
                    StatusCode::FORBIDDEN,
                    layout::bare(
                        "Sign-out refused",
                        html! { p role="alert" { "The sign-out form was not this session's." } },
                    ),
                );
            }
            p.gate.sessions().close(token);
            tracing::info!(key = %s.principal.id, "signed out");
        }
    }
    let mut r = Redirect::to("/signin").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie());
    r.headers_mut().insert(
        HeaderName::from_static("clear-site-data"),
        HeaderValue::from_static("\"cache\""),
    );
    r
}

/// What every page starts from: its URL state, the period it names (by
/// default the one holding the lake's latest day), and the session's CSRF
/// token. A bad query answers the page's 400.
pub struct Ctx {
    /// The URL state.
    pub q: PageQuery,
    /// The period shown.
    pub period: state::Period,
    /// The session's CSRF token (none for a bearer key).
    pub csrf: Option<String>,
}

impl axum::extract::FromRequestParts<Pages> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        p: &Pages,
    ) -> Result<Self, Response> {
        let q = Query::<PageQuery>::parse(parts.uri.query().unwrap_or(""))
            .map_err(|r| bad_request(&r.message))?;
        let latest = p
            .warehouse
            .latest_day()
            .await
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        let period = state::Period::of(&q, latest).map_err(|e| bad_request(&e))?;
        // the gate found the session (a bearer key has none)
        let csrf = parts
            .extensions
            .get::<showrunner_web::session::SessionCsrf>()
            .map(|c| c.0.clone());
        Ok(Ctx { q, period, csrf })
    }
}

impl Ctx {
    /// The frame of the page at `path` titled `title`, with its period bar.
    pub fn frame<'a>(&'a self, path: &'a str, title: &'a str) -> layout::Frame<'a> {
        layout::Frame {
            path,
            title,
            q: &self.q,
            period: self.period,
            csrf: self.csrf.clone(),
            periodic: true,
        }
    }
}

/// `GET /v1/metrics/{metric}` over `period` by `bucket`, with the page's
/// filters the metric takes (a bad filter value reaches the API, which
/// says why) and `extra` parameters. A running period asks for its data
/// so far (`Period::until`), except the monthly metrics — month-end
/// states (MRR at the month's end), compared month with month.
fn metric_src(
    metric: &str,
    period: state::Period,
    bucket: &str,
    q: &PageQuery,
    extra: &[(&str, &str)],
) -> String {
    use showrunner_warehouse::metrics::{Filter, Source, find};
    let found = find(metric).ok();
    let monthly = found.is_some_and(|m| m.source == Source::Monthly);
    let to = if monthly { period.to } else { period.until() };
    let (from, to) = (period.from.to_string(), to.to_string());
    let mut pairs = vec![
        ("from", from.as_str()),
        ("to", to.as_str()),
        ("bucket", bucket),
    ];
    pairs.extend_from_slice(extra);
    if let Some(m) = found {
        for (d, v) in q.filters() {
            let takes = Filter::parse(d, "x").is_ok_and(|f| m.accepts_filters(&[f]).is_ok());
            if takes {
                pairs.push((d, v));
            }
        }
    }
    format!("/v1/metrics/{metric}?{}", state::encode(pairs))
}

/// The old endpoint list.
async fn api_index() -> Response {
    page(layout::api_index())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_period_asks_for_its_days_so_far_but_month_ends_whole() {
        let q = PageQuery {
            period: Some("month".into()),
            start: Some("2026-04-03".into()),
            ..PageQuery::default()
        };
        let latest = chrono::NaiveDate::from_ymd_opt(2026, 4, 14).expect("date");
        let p = state::Period::of(&q, latest).expect("period");
        let views = metric_src("watch_hours", p, "day", &q, &[]);
        assert!(views.contains("from=2026-04-01&to=2026-04-15&"), "{views}");
        let mrr = metric_src("mrr", p, "month", &q, &[]);
        assert!(mrr.contains("from=2026-04-01&to=2026-05-01&"), "{mrr}");
        // a past month: all of it
        let march = metric_src("watch_hours", p.previous(), "day", &q, &[]);
        assert!(march.contains("from=2026-03-01&to=2026-04-01&"), "{march}");
    }
}
