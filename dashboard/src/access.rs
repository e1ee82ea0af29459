//! Who may call what: the one route → role table of the whole app. Every
//! route a router declares has a row here; the gate
//! (`showrunner_web::access`) refuses a route without one, and
//! `dashboard/tests/access.rs` calls every (role, route) pair.
//!
//! The routers of the next components (campaigns, catalog, playback) add
//! their rows here when they are composed.

use axum::http::Method;
use showrunner_web::Access::{Public, Role as Needs};
use showrunner_web::Role::{Admin, Analyst, App, Ingest, Marketing};
use showrunner_web::Route;

/// Every route of the app and who may call it.
pub static ROUTES: &[Route] = &[
    // the analysts' pages (HTML; not in the API's description): without a
    // key or session, a page sends the browser to sign in
    Route::page(Method::GET, "/", Public),
    Route::page(Method::GET, "/api", Public),
    Route::page(Method::GET, "/signin", Public),
    Route::page(Method::POST, "/signin", Public),
    Route::page(Method::POST, "/signout", Public),
    Route::page(Method::GET, "/assets/{file}", Public),
    Route::page(Method::GET, "/overview", Needs(Analyst)),
    Route::page(Method::GET, "/qoe", Needs(Analyst)),
    Route::page(Method::GET, "/engagement", Needs(Analyst)),
    Route::page(Method::GET, "/revenue", Needs(Analyst)),
    Route::page(Method::GET, "/cohorts", Needs(Analyst)),
    Route::page(Method::GET, "/titles/{title}", Needs(Analyst)),
    Route::page(Method::GET, "/sql", Needs(Analyst)),
    Route::page(Method::GET, "/live", Needs(Analyst)),
    Route::page(Method::GET, "/views", Needs(Analyst)),
    Route::page(Method::GET, "/views/{view}", Needs(Analyst)),
    // operators and probes
    Route::new(Method::GET, "/healthz", Public),
    Route::new(Method::GET, "/readyz", Public),
    Route::new(Method::GET, "/metrics", Public),
    Route::new(Method::GET, "/openapi.json", Public),
    // players and apps post events (the collector)
    Route::new(Method::POST, "/v1/events", Needs(Ingest)),
    // analysts (the warehouse)
    Route::new(Method::GET, "/v1/metrics", Needs(Analyst)),
    Route::new(Method::GET, "/v1/metrics/{name}", Needs(Analyst)),
    Route::new(Method::POST, "/v1/sql", Needs(Analyst)),
    Route::new(Method::GET, "/v1/views", Needs(Analyst)),
    Route::new(Method::GET, "/v1/views/{view}/timeline", Needs(Analyst)),
    Route::new(Method::GET, "/v1/live", Needs(Analyst)),
    // apps (the recommender's serving)
    Route::new(Method::GET, "/v1/users/{user}/recommendations", Needs(App)),
    Route::new(
        Method::GET,
        "/v1/users/{user}/continue-watching",
        Needs(App),
    ),
    Route::new(Method::GET, "/v1/titles/{title}/similar", Needs(App)),
    Route::new(Method::GET, "/v1/models/current", Needs(App)),
    // marketing
    Route::new(Method::GET, "/v1/users/{user}/churn-risk", Needs(Marketing)),
    Route::new(Method::POST, "/v1/campaigns", Needs(Marketing)),
    Route::new(Method::GET, "/v1/campaigns", Needs(Marketing)),
    Route::new(Method::GET, "/v1/campaigns/{id}", Needs(Marketing)),
    Route::new(Method::PUT, "/v1/campaigns/{id}", Needs(Marketing)),
    Route::new(Method::POST, "/v1/campaigns/{id}/preview", Needs(Marketing)),
    Route::new(Method::POST, "/v1/campaigns/{id}/dry-run", Needs(Marketing)),
    Route::new(Method::POST, "/v1/campaigns/{id}/launch", Needs(Marketing)),
    Route::new(Method::POST, "/v1/campaigns/{id}/pause", Needs(Marketing)),
    Route::new(Method::POST, "/v1/campaigns/{id}/archive", Needs(Marketing)),
    // administration
    Route::new(Method::POST, "/v1/admin/keys/reload", Needs(Admin)),
];
