//! [`Path`]: path parameters whose refusal is the one error body (axum's
//! own `Path` answers a plain-text 400, e.g. for `%FF`, which is not
//! UTF-8).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::Refusal;

/// Typed path parameters; a value that does not decode is a 400
/// `bad_parameter`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|r| {
                Refusal::bad_request(
                    "bad_parameter",
                    None,
                    format!("a path parameter: {}", r.body_text()),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn an_undecodable_segment_is_the_one_error_body() {
        let app: Router = Router::new().route(
            "/v1/titles/{title}",
            get(|Path(t): Path<String>| async move { t }),
        );
        let call = |uri: &'static str| {
            let app = app.clone();
            async move {
                let r = app
                    .oneshot(Request::get(uri).body(Body::empty()).expect("req"))
                    .await
                    .expect("answer");
                let status = r.status();
                let body = axum::body::to_bytes(r.into_body(), 1 << 16)
                    .await
                    .expect("body");
                (status, String::from_utf8_lossy(&body).into_owned())
            }
        };
        assert_eq!(
            call("/v1/titles/t%20one").await,
            (StatusCode::OK, "t one".into())
        );
        let (status, body) = call("/v1/titles/%FF").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let e: crate::ErrorBody = serde_json::from_str(&body).expect("the error body");
        assert_eq!(e.error.code, "bad_parameter");
    }
}
