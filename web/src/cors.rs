//! CORS for routes that browsers call from other origins (players post
//! their events to the collector from the service's own web app): the
//! allowed origins come from configuration, nothing else is allowed; the
//! preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered
//! by the layer, and every answer to an allowed origin — errors included —
//! carries `Access-Control-Allow-Origin`, so the page can read why.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Whether `origin` is an origin: `http(s)://host[:port]`, no path.
pub fn is_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && !rest.contains(['/', '?', '#', ' '])
        && HeaderValue::from_str(origin).is_ok()
}

/// The layer letting `origins` call with `methods`, sending the bearer key
/// and a JSON body, and reading `Retry-After`; `None` when no origin is
/// allowed (no CORS header at all). An entry that is not an origin is an
/// error naming it.
pub fn layer(origins: &[String], methods: &[Method]) -> Result<Option<CorsLayer>, String> {
    if origins.is_empty() {
        return Ok(None);
    }
    let mut values = Vec::with_capacity(origins.len());
    for o in origins {
        if !is_origin(o) {
            return Err(format!(
                "`{o}` is not an origin (scheme://host[:port], no path)"
            ));
        }
        values.push(HeaderValue::from_str(o).map_err(|e| format!("`{o}`: {e}"))?);
    }
    let headers: [HeaderName; 2] = [header::AUTHORIZATION, header::CONTENT_TYPE];
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(values))
            .allow_methods(methods.to_vec())
            .allow_headers(headers)
            .expose_headers([header::RETRY_AFTER])
            .max_age(Duration::from_secs(600)),
    ))
}
