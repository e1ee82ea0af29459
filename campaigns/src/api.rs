//! The campaigns API (marketing role): campaigns are written as events —
//! published to the bus, then applied to the service's own fold, so a
//! caller reads its write at once and the follower's copy of the same
//! event changes nothing — and read from the fold.
//!
//! - `POST /v1/campaigns`, `GET /v1/campaigns`, `GET /v1/campaigns/{id}`,
//!   `PUT /v1/campaigns/{id}` — create, list, read (with the audit trail),
//!   replace the definition;
//! - `POST /v1/campaigns/{id}/preview` — the audience after every rule,
//!   counted by outcome and rule, where zones came from, missing
//!   variables, and a sample of recipients with their messages;
//! - `POST /v1/campaigns/{id}/dry-run` — every decision and message,
//!   nothing sent or recorded;
//! - `POST /v1/campaigns/{id}/launch` (refused while a variable is
//!   missing), `/pause`, `/archive` — the lifecycle.
//!
//! Every write checks the lifecycle against the current state first (409
//! `invalid_transition`), and the definition before any event is written
//! (422 `bad_definition`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use showrunner_events::types::Payload;
use showrunner_events::types::campaign::*;
use showrunner_events::wire::JsonMap;
use showrunner_events::{Event, Timestamp};
use showrunner_lake::Store;
use showrunner_marketing::campaign::Checked;
use showrunner_marketing::plan::{self, Mode, Planned, Summary};
use showrunner_marketing::{Decider, Decision, Policy};
use showrunner_projections::campaigns::{Campaign, Status};
use showrunner_web::{ErrorBody, Path as UrlPath, Principal};
use utoipa::{OpenApi, ToSchema};

use crate::segment::{self, SegmentError, SegmentLimits};
use crate::state::SharedBook;

/// The send window of a one-off campaign: one push per user, ever.
pub const ONCE: &str = "once";

/// Shared state of the API.
#[derive(Clone)]
pub struct CampaignsState {
    /// Campaigns, profiles and pushes.
    pub book: SharedBook,
    /// The lake segments are evaluated over.
    pub store: Store,
    /// Where events are published.
    pub js: jetstream::Context,
    /// Rules every message obeys.
    pub policy: Arc<Policy>,
    /// Limits of segment queries.
    pub limits: SegmentLimits,
}

impl CampaignsState {
    /// A state with nothing loaded yet, the default policy and limits.
    pub fn new(store: Store, js: jetstream::Context) -> CampaignsState {
        CampaignsState {
            book: Arc::new(showrunner_projections::live::Live::new(
                crate::state::Book::default(),
            )),
            store,
            js,
            policy: Arc::default(),
            limits: SegmentLimits::default(),
        }
    }
}

/// An error of this API: code and status in `showrunner_web::ApiError`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such campaign.
    #[error("no campaign `{0}`")]
    NotFound(String),
    /// The id is taken.
    #[error("campaign `{0}` exists")]
    Exists(String),
    /// The lifecycle does not allow it.
    #[error("{0}")]
    Transition(String),
    /// A definition refused.
    #[error("{0}")]
    Definition(#[from] showrunner_marketing::campaign::DefinitionError),
    /// The segment cannot be run.
    #[error("{0}")]
    Segment(#[from] SegmentError),
    /// Launch refused: variables without values.
    #[error("variables without a value for some recipients: {0}")]
    MissingVariables(String),
    /// A request body or parameter refused.
    #[error("{message}")]
    BadRequest {
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The bus did not store the event.
    #[error("the event was not stored: {0}")]
    Unavailable(String),
}

impl showrunner_web::ApiError for ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "campaign_not_found",
            ApiError::Exists(_) => "campaign_exists",
            ApiError::Transition(_) => "invalid_transition",
            ApiError::Definition(_) => "bad_definition",
            ApiError::Segment(_) => "bad_segment",
            ApiError::MissingVariables(_) => "missing_variables",
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::Unavailable(_) => "bus_unavailable",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Exists(_) | ApiError::Transition(_) => StatusCode::CONFLICT,
            ApiError::Definition(_) | ApiError::Segment(_) | ApiError::MissingVariables(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::Definition(e) => Some(&e.field),
            ApiError::Segment(_) => Some("audience.segment"),
            ApiError::BadRequest { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        showrunner_web::error_response(&self)
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The routes (the caller puts them behind marketing keys).
pub fn router(state: CampaignsState) -> Router {
    Router::new()
        .route("/v1/campaigns", post(create).get(list))
        .route("/v1/campaigns/{id}", get(read).put(update))
        .route("/v1/campaigns/{id}/preview", post(preview))
        .route("/v1/campaigns/{id}/dry-run", post(dry_run))
        .route("/v1/campaigns/{id}/launch", post(launch))
        .route("/v1/campaigns/{id}/pause", post(pause))
        .route("/v1/campaigns/{id}/archive", post(archive))
        .with_state(state)
}

// ---- bodies and answers ----

/// `POST /v1/campaigns`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// Its id (default: `c-` and twelve hex digits); 1–64 of a-z, 0-9,
    /// `-` and `_`.
    #[serde(default)]
    pub id: Option<String>,
    /// Its name.
    pub name: String,
    /// Its definition (docs/marketing.md).
    #[schema(value_type = Object)]
    pub definition: JsonMap,
}

/// `PUT /v1/campaigns/{id}`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignChange {
    /// A new name (absent: unchanged).
    #[serde(default)]
    pub name: Option<String>,
    /// The new definition, whole.
    #[schema(value_type = Object)]
    pub definition: JsonMap,
}

/// `POST /v1/campaigns/{id}/launch`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LaunchRequest {
    /// When it sends (RFC 3339; absent: at once).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub send_at: Option<DateTime<Utc>>,
}

/// `POST /v1/campaigns/{id}/preview` and `/dry-run`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// The instant decided for (RFC 3339; absent: now) — quiet hours and
    /// caps as they will be then.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<DateTime<Utc>>,
    /// Preview: recipients in the sample (default 10, at most 100);
    /// dry run: decisions listed (default 10,000, at most 1,000,000).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct AuditEntry {
    /// When (RFC 3339).
    pub at: String,
    /// The key that did it.
    pub actor: String,
    /// The event type.
    pub action: String,
    /// Whether the lifecycle allowed it.
    pub applied: bool,
}

/// A campaign.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct CampaignView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `draft`, `launched`, `paused` or `archived`.
    pub status: String,
    /// When a launched campaign sends (RFC 3339).
    pub send_at: Option<String>,
    /// Its definition.
    #[schema(value_type = Object)]
    pub definition: JsonMap,
    /// Definitions written so far.
    pub revision: u32,
    /// Created when (RFC 3339).
    pub created_at: String,
    /// Created by.
    pub created_by: String,
    /// Its last change (RFC 3339).
    pub updated_at: String,
    /// Every fact about it, in order.
    pub audit: Vec<AuditEntry>,
}

/// `GET /v1/campaigns`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CampaignList {
    /// Every campaign, by id.
    pub campaigns: Vec<CampaignView>,
}

/// A recipient's decision and message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct Recipient {
    /// The user.
    pub user_id: String,
    /// `send`, `deferred:<rule>`, `suppressed:<rule>` or `duplicate`.
    pub outcome: String,
    /// When a deferred message is due again (RFC 3339).
    pub until: Option<String>,
    /// The idempotency key.
    pub key: String,
    /// Title, as the user would receive it.
    pub title: Option<String>,
    /// Body.
    pub body: Option<String>,
    /// Deep link.
    pub deep_link: Option<String>,
    /// A variable without a value for this user.
    pub missing_variable: Option<String>,
}

/// `POST /v1/campaigns/{id}/preview`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Preview {
    /// The campaign.
    pub campaign_id: String,
    /// The instant decided for.
    pub at: String,
    /// Distinct users in the segment.
    pub audience: usize,
    /// Segment rows naming a user already listed.
    pub repeated_rows: usize,
    /// Users per outcome (`send`, `deferred:quiet_hours`,
    /// `suppressed:holdout`, …): every suppression and deferral by rule.
    pub outcomes: BTreeMap<String, usize>,
    /// Where recipients' zones came from: `profile`, `country`, `default`.
    pub zones: BTreeMap<String, usize>,
    /// Variables without a value, and for how many reached users (launch
    /// is refused while any is).
    pub missing_variables: BTreeMap<String, usize>,
    /// A stable random sample of the users it reaches, with their messages.
    pub sample: Vec<Recipient>,
}

/// `POST /v1/campaigns/{id}/dry-run`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DryRun {
    /// The counts, as the preview gives them (its sample empty).
    pub summary: Preview,
    /// Every decision, by the segment's order, up to `limit`.
    pub recipients: Vec<Recipient>,
    /// More decisions than `limit`.
    pub truncated: bool,
}

fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn view(c: Campaign) -> CampaignView {
    let send_at = match c.status {
        Status::Launched { send_at } => Some(rfc3339(send_at)),
        _ => None,
    };
    CampaignView {
        status: c.status.as_str().into(),
        send_at,
        name: c.name,
        definition: c.definition,
        revision: c.revision,
        created_at: rfc3339(c.created_at),
        created_by: c.created_by,
        updated_at: rfc3339(c.updated_at),
        audit: c
            .audit
            .into_iter()
            .map(|a| AuditEntry {
                at: rfc3339(a.at),
                actor: a.actor,
                action: a.action.into(),
                applied: a.applied,
            })
            .collect(),
        id: c.id,
    }
}

fn recipient(p: &Planned) -> Recipient {
    let until = match p.decision {
        Decision::Defer { until, .. } => {
            Some(until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        }
        _ => None,
    };
    Recipient {
        user_id: p.user_id.clone(),
        outcome: plan::outcome_name(&p.decision),
        until,
        key: p.key.clone(),
        title: p.message.as_ref().map(|m| m.title.clone()),
        body: p.message.as_ref().map(|m| m.body.clone()),
        deep_link: p.message.as_ref().and_then(|m| m.deep_link.clone()),
        missing_variable: p.missing.clone(),
    }
}

// ---- the body of a request ----

/// A JSON body (whatever the content type says); an empty body is `T`'s
/// default when `T` has one.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8], empty: Option<T>) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace)
        && let Some(d) = empty
    {
        return Ok(d);
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest {
        field: "body",
        message: format!("the body is not what this route takes (see /openapi.json): {e}"),
    })
}

type RawBody = Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>;

fn raw(b: RawBody) -> ApiResult<axum::body::Bytes> {
    b.map_err(|r| ApiError::BadRequest {
        field: "body",
        message: r.body_text(),
    })
}

fn actor(p: Option<Extension<Principal>>) -> String {
    p.map_or_else(|| "anonymous".to_owned(), |Extension(p)| p.id.to_string())
}

// ---- writes ----

impl CampaignsState {
    fn campaign(&self, id: &str) -> ApiResult<Campaign> {
        self.book
            .read()
            .campaigns
            .get(id)
            .ok_or_else(|| ApiError::NotFound(id.to_owned()))
    }

    /// Publishes `payload` as an event (waiting for the stream's ack), then
    /// applies it to the fold.
    async fn write(&self, payload: CampaignEvent) -> ApiResult<()> {
        let now = Timestamp(Utc::now().timestamp_millis());
        let e = Event::new(now, Payload::Campaign(payload));
        let out = showrunner_ingest::publish::Outgoing::event(&e);
        let acked = tokio::time::timeout(Duration::from_secs(10), async {
            showrunner_ingest::publish::publish_each(&self.js, vec![out]).await
        })
        .await
        .map_err(|_| ApiError::Unavailable("no ack within 10 s".into()))?;
        for r in acked {
            r.map_err(|e| ApiError::Unavailable(e.to_string()))?;
        }
        self.book.apply(&e);
        Ok(())
    }

    /// Campaign `id`, if its status passes `allowed` (else 409
    /// `invalid_transition`, saying what `only` may).
    fn admit(&self, id: &str, allowed: fn(Status) -> bool, only: &str) -> ApiResult<Campaign> {
        let c = self.campaign(id)?;
        if !allowed(c.status) {
            return Err(ApiError::Transition(format!(
                "campaign `{id}` is {}: {only}",
                c.status.as_str()
            )));
        }
        Ok(c)
    }

    /// Writes `event` about campaign `id` and answers the campaign as it
    /// is then.
    async fn commit(&self, id: &str, event: CampaignEvent) -> ApiResult<Json<CampaignView>> {
        self.write(event).await?;
        Ok(Json(view(self.campaign(id)?)))
    }

    /// The plan of campaign `id` at `at` (no recording).
    async fn plan(&self, id: &str, at: DateTime<Utc>) -> ApiResult<(Summary, Vec<Planned>)> {
        let c = self.campaign(id)?;
        let checked = Checked::from_json(&c.definition)?;
        let showrunner_marketing::campaign::Audience::Segment(sql) = &checked.definition.audience;
        let recipients = segment::evaluate(&self.store, sql, self.limits).await?;
        let book = self.book.read();
        let mut decider = Decider {
            policy: (*self.policy).clone(),
            ledger: book.ledger(),
        };
        Ok(plan::plan(
            id,
            &checked,
            ONCE,
            &recipients,
            |u| book.reach(u),
            &mut decider,
            at,
            Mode::Preview,
        ))
    }
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Creates a campaign (a draft).
#[utoipa::path(post, path = "/v1/campaigns", tag = "marketing", operation_id = "create_campaign",
    request_body = NewCampaign,
    responses(
        (status = 201, description = "created", body = CampaignView, links(
            ("get_campaign" = (operation_id = "get_campaign", parameters(("id" = "$response.body#/id")))),
            ("update_campaign" = (operation_id = "update_campaign", parameters(("id" = "$response.body#/id")))),
            ("preview_campaign" = (operation_id = "preview_campaign", parameters(("id" = "$response.body#/id")))),
            ("dry_run_campaign" = (operation_id = "dry_run_campaign", parameters(("id" = "$response.body#/id")))),
            ("launch_campaign" = (operation_id = "launch_campaign", parameters(("id" = "$response.body#/id")))),
            ("pause_campaign" = (operation_id = "pause_campaign", parameters(("id" = "$response.body#/id")))),
            ("archive_campaign" = (operation_id = "archive_campaign", parameters(("id" = "$response.body#/id"))))
        )),
        (status = 400, description = "a body or id refused (code `bad_request`)", body = ErrorBody),
        (status = 409, description = "the id is taken (code `campaign_exists`)", body = ErrorBody),
        (status = 422, description = "the definition refused (code `bad_definition`, `field` names it)", body = ErrorBody),
        (status = 503, description = "the bus did not store the event (code `bus_unavailable`)", body = ErrorBody),
    ))]
async fn create(
    State(st): State<CampaignsState>,
    caller: Option<Extension<Principal>>,
    b: RawBody,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let req: NewCampaign = body(&raw(b)?, None)?;
    let id = req
        .id
        .unwrap_or_else(|| format!("c-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]));
    if !valid_id(&id) {
        return Err(ApiError::BadRequest {
            field: "id",
            message: "a campaign id is 1 to 64 of a-z, 0-9, - and _".into(),
        });
    }
    if req.name.trim().is_empty() {
        return Err(ApiError::BadRequest {
            field: "name",
            message: "a campaign needs a name".into(),
        });
    }
    Checked::from_json(&req.definition)?;
    if st.book.read().campaigns.get(&id).is_some() {
        return Err(ApiError::Exists(id));
    }
    let event = CampaignEvent::CampaignCreated(CampaignCreated {
        campaign_id: id.clone(),
        name: req.name,
        definition: req.definition,
        actor: actor(caller),
    });
    Ok((StatusCode::CREATED, st.commit(&id, event).await?))
}

/// Every campaign.
#[utoipa::path(get, path = "/v1/campaigns", tag = "marketing", operation_id = "list_campaigns",
    responses((status = 200, description = "every campaign", body = CampaignList)))]
async fn list(State(st): State<CampaignsState>) -> Json<CampaignList> {
    let all = st.book.read().campaigns.all();
    Json(CampaignList {
        campaigns: all.into_iter().map(view).collect(),
    })
}

/// A campaign, with its audit trail.
#[utoipa::path(get, path = "/v1/campaigns/{id}", tag = "marketing", operation_id = "get_campaign",
    params(("id" = String, Path, description = "the campaign's id")),
    responses(
        (status = 200, description = "the campaign", body = CampaignView),
        (status = 404, description = "no such campaign (code `campaign_not_found`)", body = ErrorBody),
    ))]
async fn read(
    State(st): State<CampaignsState>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Json<CampaignView>> {
    Ok(Json(view(st.campaign(&id)?)))
}

/// Replaces a campaign's definition (not once archived).
#[utoipa::path(put, path = "/v1/campaigns/{id}", tag = "marketing", operation_id = "update_campaign",
    params(("id" = String, Path, description = "the campaign's id")),
    request_body = CampaignChange,
    responses(
        (status = 200, description = "changed", body = CampaignView),
        (status = 400, description = "a body refused (code `bad_request`)", body = ErrorBody),
        (status = 404, description = "no such campaign (code `campaign_not_found`)", body = ErrorBody),
        (status = 409, description = "archived (code `invalid_transition`)", body = ErrorBody),
        (status = 422, description = "the definition refused (code `bad_definition`)", body = ErrorBody),
        (status = 503, description = "the bus did not store the event (code `bus_unavailable`)", body = ErrorBody),
    ))]
async fn update(
    State(st): State<CampaignsState>,
    caller: Option<Extension<Principal>>,
    UrlPath(id): UrlPath<String>,
    b: RawBody,
) -> ApiResult<Json<CampaignView>> {
    let req: CampaignChange = body(&raw(b)?, None)?;
    st.admit(
        &id,
        |s| s != Status::Archived,
        "an archived campaign is not changed",
    )?;
    Checked::from_json(&req.definition)?;
    let event = CampaignEvent::CampaignUpdated(CampaignUpdated {
        campaign_id: id.clone(),
        name: req.name.filter(|n| !n.trim().is_empty()),
        definition: req.definition,
        actor: actor(caller),
    });
    st.commit(&id, event).await
}

fn preview_of(id: &str, at: DateTime<Utc>, s: Summary, sample: Vec<Recipient>) -> Preview {
    Preview {
        campaign_id: id.to_owned(),
        at: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        audience: s.audience,
        repeated_rows: s.repeated_rows,
        outcomes: s.outcomes,
        zones: s
            .zones
            .into_iter()
            .map(|(k, v)| {
                let name = match k {
                    showrunner_marketing::ZoneSource::Profile => "profile",
                    showrunner_marketing::ZoneSource::Country => "country",
                    showrunner_marketing::ZoneSource::Default => "default",
                };
                (name.to_owned(), v)
            })
            .collect(),
        missing_variables: s.missing_variables,
        sample,
    }
}

fn limit(v: Option<usize>, default: usize, max: usize) -> ApiResult<usize> {
    match v {
        None => Ok(default),
        Some(n) if n <= max => Ok(n),
        Some(n) => Err(ApiError::BadRequest {
            field: "limit",
            message: format!("`limit` is at most {max}, not {n}"),
        }),
    }
}

/// Who the campaign would reach at an instant, after every rule.
#[utoipa::path(post, path = "/v1/campaigns/{id}/preview", tag = "marketing", operation_id = "preview_campaign",
    params(("id" = String, Path, description = "the campaign's id")),
    request_body = PlanRequest,
    responses(
        (status = 200, description = "counts by outcome and rule, and a sample", body = Preview),
        (status = 400, description = "a body refused (code `bad_request`)", body = ErrorBody),
        (status = 404, description = "no such campaign (code `campaign_not_found`)", body = ErrorBody),
        (status = 422, description = "the stored definition or its segment cannot be run (code `bad_definition` or `bad_segment`)", body = ErrorBody),
    ))]
async fn preview(
    State(st): State<CampaignsState>,
    UrlPath(id): UrlPath<String>,
    b: RawBody,
) -> ApiResult<Json<Preview>> {
    let req: PlanRequest = body(&raw(b)?, Some(PlanRequest::default()))?;
    let n = limit(req.limit, 10, 100)?;
    let at = req.at.unwrap_or_else(Utc::now);
    let (s, planned) = st.plan(&id, at).await?;
    let sample = plan::sample(&planned, n)
        .into_iter()
        .map(recipient)
        .collect();
    Ok(Json(preview_of(&id, at, s, sample)))
}

/// Every decision and message the campaign would make at an instant;
/// nothing is sent or recorded.
#[utoipa::path(post, path = "/v1/campaigns/{id}/dry-run", tag = "marketing", operation_id = "dry_run_campaign",
    params(("id" = String, Path, description = "the campaign's id")),
    request_body = PlanRequest,
    responses(
        (status = 200, description = "every decision", body = DryRun),
        (status = 400, description = "a body refused (code `bad_request`)", body = ErrorBody),
        (status = 404, description = "no such campaign (code `campaign_not_found`)", body = ErrorBody),
        (status = 422, description = "the stored definition or its segment cannot be run (code `bad_definition` or `bad_segment`)", body = ErrorBody),
    ))]
async fn dry_run(
    State(st): State<CampaignsState>,
    UrlPath(id): UrlPath<String>,
    b: RawBody,
) -> ApiResult<Json<DryRun>> {
    let req: PlanRequest = body(&raw(b)?, Some(PlanRequest::default()))?;
    let n = limit(req.limit, 10_000, 1_000_000)?;
    let at = req.at.unwrap_or_else(Utc::now);
    let (s, planned) = st.plan(&id, at).await?;
    Ok(Json(DryRun {
        truncated: planned.len() > n,
        recipients: planned.iter().take(n).map(recipient).collect(),
        summary: preview_of(&id, at, s, Vec::new()),
    }))
}

/// Launches (or resumes) a campaign; refused while a variable is missing
/// for a recipient it would reach.
#[utoipa::path(post, path = "/v1/campaigns/{id}/launch", tag = "marketing", operation_id = "launch_campaign",
    params(("id" = String, Path, description = "the campaign's id")),
    request_body = LaunchRequest,
    responses(
        (status = 200, description = "launched", body = CampaignView),
        (status = 400, description = "a body refused (code `bad_request`)", body = ErrorBody),
        (status = 404, description = "no such campaign (code `campaign_not_found`)", body = ErrorBody),
        (status = 409, description = "already launched, or archived (code `invalid_transition`)", body = ErrorBody),
        (status = 422, description = "the definition or segment cannot be run, or variables are missing (code `bad_definition`, `bad_segment` or `missing_variables`)", body = ErrorBody),
        (status = 503, description = "the bus did not store the event (code `bus_unavailable`)", body = ErrorBody),
    ))]
async fn launch(
    State(st): State<CampaignsState>,
    caller: Option<Extension<Principal>>,
    UrlPath(id): UrlPath<String>,
    b: RawBody,
) -> ApiResult<Json<CampaignView>> {
    let req: LaunchRequest = body(&raw(b)?, Some(LaunchRequest::default()))?;
    st.admit(
        &id,
        |s| matches!(s, Status::Draft | Status::Paused),
        "only a draft or a paused campaign is launched",
    )?;
    let at = req.send_at.unwrap_or_else(Utc::now);
    let (s, _) = st.plan(&id, at).await?;
    if !s.missing_variables.is_empty() {
        let list: Vec<String> = s
            .missing_variables
            .iter()
            .map(|(v, n)| format!("{{{{{v}}}}} for {n}"))
            .collect();
        return Err(ApiError::MissingVariables(list.join(", ")));
    }
    let event = CampaignEvent::CampaignLaunched(CampaignLaunched {
        campaign_id: id.clone(),
        send_at: req.send_at.map(|t| Timestamp(t.timestamp_millis())),
        actor: actor(caller),
    });
    st.commit(&id, event).await
}

/// Pauses a launched campaign.
#[utoipa::path(post, path = "/v1/campaigns/{id}/pause", tag = "marketing", operation_id = "pause_campaign",
    params(("id" = String, Path, description = "the campaign's id")),
    responses(
        (status = 200, description = "paused", body = CampaignView),
        (status = 404, description = "no such campaign (code `campaign_not_found`)", body = ErrorBody),
        (status = 409, description = "not launched (code `invalid_transition`)", body = ErrorBody),
        (status = 503, description = "the bus did not store the event (code `bus_unavailable`)", body = ErrorBody),
    ))]
async fn pause(
    State(st): State<CampaignsState>,
    caller: Option<Extension<Principal>>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Json<CampaignView>> {
    st.admit(
        &id,
        |s| matches!(s, Status::Launched { .. }),
        "only a launched campaign is paused",
    )?;
    let event = CampaignEvent::CampaignPaused(CampaignPaused {
        campaign_id: id.clone(),
        actor: actor(caller),
    });
    st.commit(&id, event).await
}

/// Archives a campaign: it never sends again.
#[utoipa::path(post, path = "/v1/campaigns/{id}/archive", tag = "marketing", operation_id = "archive_campaign",
    params(("id" = String, Path, description = "the campaign's id")),
    responses(
        (status = 200, description = "archived", body = CampaignView),
        (status = 404, description = "no such campaign (code `campaign_not_found`)", body = ErrorBody),
        (status = 409, description = "already archived (code `invalid_transition`)", body = ErrorBody),
        (status = 503, description = "the bus did not store the event (code `bus_unavailable`)", body = ErrorBody),
    ))]
async fn archive(
    State(st): State<CampaignsState>,
    caller: Option<Extension<Principal>>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Json<CampaignView>> {
    st.admit(&id, |s| s != Status::Archived, "it is archived already")?;
    let event = CampaignEvent::CampaignArchived(CampaignArchived {
        campaign_id: id.clone(),
        actor: actor(caller),
    });
    st.commit(&id, event).await
}

/// This API's description.
#[derive(OpenApi)]
#[openapi(
    paths(create, list, read, update, preview, dry_run, launch, pause, archive),
    components(schemas(
        NewCampaign,
        CampaignChange,
        LaunchRequest,
        PlanRequest,
        CampaignView,
        CampaignList,
        AuditEntry,
        Recipient,
        Preview,
        DryRun
    ))
)]
pub struct CampaignsApi;
