//! The error body and the strict query extractor through a real router
//! (`oneshot`): an unknown parameter and a bad value are 400s naming the
//! parameter, in the one body; a handler's error answers its code and
//! status; a 401 carries `WWW-Authenticate`.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use showrunner_web::{ApiError, ErrorBody, Query, QueryFields, error_response};
use tower::ServiceExt;

#[derive(Debug, Deserialize)]
struct Page {
    k: Option<u32>,
    row: Option<String>,
}

impl QueryFields for Page {
    const FIELDS: &'static [&'static str] = &["k", "row"];
}

#[derive(Debug)]
enum Nope {
    Missing(String),
    Locked,
}

impl std::fmt::Display for Nope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Nope::Missing(x) => write!(f, "no `{x}` here"),
            Nope::Locked => f.write_str("a key is needed"),
        }
    }
}

impl ApiError for Nope {
    fn code(&self) -> &'static str {
        match self {
            Nope::Missing(_) => "not_found",
            Nope::Locked => "unauthorized",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Nope::Missing(_) => StatusCode::NOT_FOUND,
            Nope::Locked => StatusCode::UNAUTHORIZED,
        }
    }
}

async fn page(Query(p): Query<Page>) -> Response {
    match p.row.as_deref() {
        Some("missing") => error_response(&Nope::Missing("missing".into())),
        Some("locked") => error_response(&Nope::Locked),
        _ => format!("k={:?}", p.k).into_response(),
    }
}

async fn call(uri: &str) -> (StatusCode, Option<ErrorBody>, Response) {
    let app = Router::new().route("/page", get(page));
    let r = app
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("answer");
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 20)
        .await
        .expect("body");
    let mut back = Response::new(Body::from(bytes.clone()));
    *back.headers_mut() = headers;
    (status, serde_json::from_slice(&bytes).ok(), back)
}

#[tokio::test]
async fn a_known_query_passes() {
    let (s, body, r) = call("/page?k=3").await;
    assert_eq!((s, body), (StatusCode::OK, None));
    let text = axum::body::to_bytes(r.into_body(), 1024).await.expect("b");
    assert_eq!(&text[..], b"k=Some(3)");
}

#[tokio::test]
async fn an_unknown_parameter_is_refused_by_name() {
    let (s, body, _) = call("/page?k=3&device=tv").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let e = body.expect("the one body").error;
    assert_eq!(e.code, "unknown_parameter");
    assert_eq!(e.field.as_deref(), Some("device"));
    assert!(e.message.contains("accepted: k, row"), "{}", e.message);
}

#[tokio::test]
async fn a_bad_value_is_refused_by_name() {
    let (s, body, _) = call("/page?k=many").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let e = body.expect("the one body").error;
    assert_eq!(
        (e.code.as_str(), e.field.as_deref()),
        ("bad_parameter", Some("k"))
    );
}

#[tokio::test]
async fn handler_errors_answer_their_code_and_status() {
    let (s, body, _) = call("/page?row=missing").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let e = body.expect("the one body").error;
    assert_eq!((e.code.as_str(), e.field), ("not_found", None));
    assert_eq!(e.message, "no `missing` here");
    let (s, body, r) = call("/page?row=locked").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body.expect("body").error.code, "unauthorized");
    assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
}
