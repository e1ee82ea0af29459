//! The files the pages load, embedded in the binary: the page script and
//! style (this crate's `assets/`), uPlot 1.6.32 and its licence (from
//! npm, checked by `build.rs`). Each URL names its version (uPlot's, or a
//! hash of the file's bytes for ours), so the answers are cached for a
//! year as immutable; each is gzipped once, on first use, for browsers
//! that accept it.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use showrunner_web::{Path, Refusal};

/// One embedded file.
pub struct Asset {
    /// Its name under `/assets/`.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

/// Every file under `/assets/`.
pub static ASSETS: &[Asset] = &[
    Asset {
        name: "dashboard.js",
        bytes: include_bytes!("../../assets/dashboard.js"),
        content_type: "text/javascript; charset=utf-8",
    },
    Asset {
        name: "dashboard.css",
        bytes: include_bytes!("../../assets/dashboard.css"),
        content_type: "text/css; charset=utf-8",
    },
    Asset {
        name: "uPlot-1.6.32.min.js",
        bytes: include_bytes!(env!("UPLOT_JS")),
        content_type: "text/javascript; charset=utf-8",
    },
    Asset {
        name: "uPlot-1.6.32.min.css",
        bytes: include_bytes!(env!("UPLOT_CSS")),
        content_type: "text/css; charset=utf-8",
    },
    Asset {
        name: "uPlot-1.6.32.LICENSE.txt",
        bytes: include_bytes!(env!("UPLOT_LICENSE")),
        content_type: "text/plain; charset=utf-8",
    },
];

/// Each asset's URL, `/assets/<name>?v=<hash of its bytes>`, hashed once.
static URLS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            a.bytes.hash(&mut h);
            format!("/assets/{}?v={:016x}", a.name, h.finish())
        })
        .collect()
});

/// The URL a page links for asset `name`.
pub fn url(name: &str) -> String {
    ASSETS
        .iter()
        .position(|a| a.name == name)
        .map_or_else(|| format!("/assets/{name}"), |i| URLS[i].clone())
}

static GZIPPED: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            // writing to a Vec cannot fail
            let _ = z.write_all(a.bytes);
            z.finish().unwrap_or_default()
        })
        .collect()
});

/// Whether a request's `Accept-Encoding` takes gzip.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.trim().split(';').next() == Some("gzip"))
}

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == file) else {
        return Refusal::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no asset `{file}`"),
        )
        .into_response();
    };
    let a = &ASSETS[i];
    let gzip = accepts_gzip(&headers) && !GZIPPED[i].is_empty();
    let body: &'static [u8] = if gzip { &GZIPPED[i] } else { a.bytes };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}
