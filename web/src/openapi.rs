//! The API's description. Each router's handlers carry their own
//! `#[utoipa::path]` (parameters, bodies, every status they answer
//! themselves); [`apply_access`] adds what the gate decides, from the one
//! route → role table: the bearer security and the role of each route, and
//! the gate's own answers (401, 403, 429 with `Retry-After`), all with the
//! one error body ([`ErrorBody`](crate::ErrorBody)).
//!
//! It also holds the table and the description to each other: a described
//! operation that has no row is an error, and [`undescribed`] lists the
//! rows no operation describes (the composed app's test wants none) — so
//! `/openapi.json` lists exactly what the app serves as an API (the
//! table's pages, HTML for browsers, are not in it).

use std::collections::BTreeSet;

use axum::http::Method;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Components, Content, Header, OpenApi, Ref, RefOr, Response, ResponseBuilder,
};

use crate::access::{Access, Route};

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearer";

/// The name of the error body's schema.
pub const ERROR_BODY: &str = "ErrorBody";

fn operation<'a>(doc: &'a mut OpenApi, method: &Method, path: &str) -> Option<&'a mut Operation> {
    let item = doc.paths.paths.get_mut(path)?;
    match *method {
        Method::GET => item.get.as_mut(),
        Method::POST => item.post.as_mut(),
        Method::PUT => item.put.as_mut(),
        Method::DELETE => item.delete.as_mut(),
        Method::PATCH => item.patch.as_mut(),
        _ => None,
    }
}

/// The (method, path) of every described operation.
pub fn operations(doc: &OpenApi) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        for (m, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
        ] {
            if op.is_some() {
                out.insert((m.to_owned(), path.clone()));
            }
        }
    }
    out
}

/// An error answer with the one body.
pub fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name(ERROR_BODY))),
        )
        .build()
}

fn rate_limited() -> Response {
    let mut r = error_response("the key's rate limit for this role is spent (code `rate_limited`)");
    r.headers.insert(
        "Retry-After".to_owned(),
        RefOr::T(Header::new(Object::with_type(Type::Integer))),
    );
    r
}

fn rows(table: &[Route]) -> BTreeSet<(String, String)> {
    table
        .iter()
        .filter(|r| !r.page)
        .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
        .collect()
}

/// The rows of `table` that no operation of `doc` describes.
pub fn undescribed(doc: &OpenApi, table: &[Route]) -> Vec<(String, String)> {
    rows(table).difference(&operations(doc)).cloned().collect()
}

/// Adds the gate's rules of `table` to `doc` (see the module); the error
/// names the described operations that have no row.
pub fn apply_access(doc: &mut OpenApi, table: &[Route]) -> Result<(), String> {
    let unlisted: Vec<_> = operations(doc).difference(&rows(table)).cloned().collect();
    if !unlisted.is_empty() {
        return Err(format!(
            "described operations without an access rule: {unlisted:?}"
        ));
    }
    let components = doc.components.get_or_insert_with(Components::new);
    components.security_schemes.insert(
        BEARER.to_owned(),
        RefOr::T(SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer))),
    );
    if !components.schemas.contains_key(ERROR_BODY) {
        return Err(format!(
            "the description holds no `{ERROR_BODY}` schema (add it to the components)"
        ));
    }
    for route in table.iter().filter(|r| !r.page) {
        let Some(op) = operation(doc, &route.method, route.path) else {
            continue;
        };
        let Access::Role(role) = route.access else {
            op.security = Some(vec![SecurityRequirement::default()]);
            continue;
        };
        op.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
        let note = format!("Needs a key holding the `{role}` role.");
        op.description = Some(match op.description.take() {
            Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
            _ => note,
        });
        for (status, response) in [
            (
                "401",
                error_response("no key, or an unknown one (code `unauthorized`)"),
            ),
            (
                "403",
                error_response(&format!(
                    "the key does not hold the `{role}` role (code `forbidden`)"
                )),
            ),
            ("429", rate_limited()),
        ] {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert(RefOr::T(response));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;
    use utoipa::openapi::path::{HttpMethod, Paths};
    use utoipa::openapi::{Info, OpenApiBuilder};

    fn doc(paths: &[(&str, HttpMethod)]) -> OpenApi {
        let mut p = Paths::new();
        for (path, m) in paths {
            p.add_path_operation(*path, vec![m.clone()], Operation::new());
        }
        let mut d = OpenApiBuilder::new()
            .info(Info::new("t", "1"))
            .paths(p)
            .build();
        d.components = Some(
            utoipa::openapi::ComponentsBuilder::new()
                .schema(ERROR_BODY, Object::new())
                .build(),
        );
        d
    }

    static TABLE: &[Route] = &[
        Route::new(Method::GET, "/healthz", Access::Public),
        Route::new(Method::POST, "/v1/sql", Access::Role(Role::Analyst)),
    ];

    #[test]
    fn role_routes_get_the_bearer_and_the_gate_answers() {
        let mut d = doc(&[("/healthz", HttpMethod::Get), ("/v1/sql", HttpMethod::Post)]);
        apply_access(&mut d, TABLE).expect("agree");
        let v = serde_json::to_value(&d).expect("json");
        let sql = &v["paths"]["/v1/sql"]["post"];
        assert_eq!(sql["security"], serde_json::json!([{ "bearer": [] }]));
        for s in ["401", "403", "429"] {
            assert_eq!(
                sql["responses"][s]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{s}"
            );
        }
        assert!(sql["responses"]["429"]["headers"]["Retry-After"].is_object());
        assert!(
            sql["description"]
                .as_str()
                .expect("d")
                .contains("`analyst`")
        );
        let health = &v["paths"]["/healthz"]["get"];
        assert_eq!(health["security"], serde_json::json!([{}]));
        assert!(health["responses"].get("401").is_none());
        assert_eq!(
            v["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }

    #[test]
    fn the_table_and_the_description_must_agree() {
        let mut d = doc(&[("/healthz", HttpMethod::Get)]);
        apply_access(&mut d, TABLE).expect("a part of the table");
        assert_eq!(
            undescribed(&d, TABLE),
            [("POST".to_owned(), "/v1/sql".to_owned())]
        );
        let mut d = doc(&[
            ("/healthz", HttpMethod::Get),
            ("/v1/sql", HttpMethod::Post),
            ("/v1/secret", HttpMethod::Get),
        ]);
        let e = apply_access(&mut d, TABLE).expect_err("secret unlisted");
        assert!(e.contains("/v1/secret"), "{e}");
    }
}
