//! [`Query`]: query parameters into a typed struct, strictly. A parameter
//! the struct does not name is refused (400, code `unknown_parameter`,
//! `field` naming it, the accepted ones listed), and so is a value that
//! does not parse (code `bad_parameter`, `field` naming it) — axum's own
//! `Query` answers a plain-text 400, and a `HashMap` accepts anything.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::Refusal;

/// The parameters a query struct accepts (its field names, as sent).
pub trait QueryFields {
    /// Every accepted name.
    const FIELDS: &'static [&'static str];
}

/// Typed, strict query parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + QueryFields> Query<T> {
    /// Parses a query string (without the `?`).
    pub fn parse(query: &str) -> Result<T, Refusal> {
        for (k, _) in form_urlencoded::parse(query.as_bytes()) {
            if !T::FIELDS.contains(&k.as_ref()) {
                return Err(Refusal::bad_request(
                    "unknown_parameter",
                    Some(&k),
                    format!(
                        "unknown parameter `{k}` (accepted: {})",
                        T::FIELDS.join(", ")
                    ),
                ));
            }
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let field = (field != ".").then_some(field);
            let message = match &field {
                Some(f) => format!("parameter `{f}`: {}", e.inner()),
                None => e.inner().to_string(),
            };
            Refusal::bad_request("bad_parameter", field.as_deref(), message)
        })
    }
}

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + QueryFields,
    S: Send + Sync,
{
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Refusal> {
        Self::parse(parts.uri.query().unwrap_or("")).map(Query)
    }
}
