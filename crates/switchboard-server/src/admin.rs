//! The platform admin API under `/admin/v1` (the contract's "ours alone" part of the
//! business API): provisioning businesses and their tokens, verification, template
//! review, webhook endpoints, throughput, usage and invoices.
//!
//! Meta does this provisioning in its own consoles; we expose it as a small JSON API
//! for the platform operator, authorised by the admin token ([`Admin`]) and answered
//! in the protocol-v1 error shape (not the Graph one: no Cloud API client calls it).
//! The `switchboard admin business …` and `admin templates …` CLI commands mirror it.
//!
//! | call | answer |
//! |---|---|
//! | `POST /admin/v1/businesses` | `201 {"waba_id","phone_number_id","user_id"}` |
//! | `GET /admin/v1/businesses[/{waba_id}]` | the business(es), with tier and quality |
//! | `POST …/{waba_id}/tokens` | `201 {"token"}`, shown once |
//! | `POST …/{waba_id}/verification` | the business |
//! | `PUT …/{waba_id}/throughput` | the business |
//! | `PUT …/{waba_id}/webhook` | `{"url","verified":true}` after the handshake |
//! | `GET …/{waba_id}/usage?from=&to=` | billable usage by category and country |
//! | `GET …/{waba_id}/invoices/{YYYY-MM}?format=json\|csv` | a monthly invoice |
//! | `GET /admin/v1/templates?status=PENDING` | the review queue |
//! | `POST /admin/v1/templates/{id}/review` | the template after the transition |
//! | `GET /admin/v1/verifications?status=pending` | verification applications, oldest first |
//! | `GET /admin/v1/names?status=held` | business names held as look-alikes, oldest first |
//! | `POST …/{waba_id}/name-review` | the business after the decision |

#[path = "invoice.rs"]
pub mod invoice;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use rand::RngExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use switchboard_business::ids::{is_numeric_id, numeric_id};
use switchboard_business::policy;
use switchboard_business::template;
use switchboard_store::{Business, BusinessToken, StoreError, Template, WebhookConfig};

use self::invoice::{Invoice, Month, UsageLine};
use crate::auth::Admin;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;
use switchboard_app::verification as app_ver;

const DAY_MS: i64 = 86_400_000;

/// Prefix of business access tokens, so a leaked one is recognisable (secret scanners
/// can match it) and never mistaken for a device token.
pub const TOKEN_PREFIX: &str = "sbb_";

/// Scopes a business token may carry (the Cloud API's permission names).
pub const SCOPES: [&str; 2] = [
    "whatsapp_business_messaging",
    "whatsapp_business_management",
];

/// Cloud API business verticals (wire notes §6).
pub use switchboard_business::profile::VERTICALS;

/// Statuses a platform reviewer may set.
const REVIEW_STATUSES: [&str; 4] = ["APPROVED", "REJECTED", "PAUSED", "DISABLED"];

/// Longest reason a reviewer or verifier may give.
const MAX_REASON: usize = 500;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route(
            "/admin/v1/businesses",
            post(create_business).get(list_businesses),
        )
        .route("/admin/v1/businesses/{waba_id}", get(show_business))
        .route("/admin/v1/businesses/{waba_id}/tokens", post(issue_token))
        .route(
            "/admin/v1/businesses/{waba_id}/verification",
            post(set_verification),
        )
        .route(
            "/admin/v1/businesses/{waba_id}/throughput",
            put(set_throughput),
        )
        .route("/admin/v1/businesses/{waba_id}/tier", put(set_tier))
        .route("/admin/v1/businesses/{waba_id}/webhook", put(set_webhook))
        .route("/admin/v1/businesses/{waba_id}/usage", get(usage))
        .route(
            "/admin/v1/businesses/{waba_id}/invoices/{month}",
            get(invoice_of_month),
        )
        .route("/admin/v1/templates", get(template_queue))
        .route("/admin/v1/verifications", get(verification_queue))
        .route("/admin/v1/names", get(name_queue))
        .route(
            "/admin/v1/businesses/{waba_id}/name-review",
            post(review_name),
        )
        .route(
            "/admin/v1/templates/{template_id}/review",
            post(review_template),
        )
}

// --- extractors that answer in the v1 error shape ---

/// `Path` whose rejections are v1 errors.
pub struct UrlPath<T>(pub T);

impl<T, S> FromRequestParts<S> for UrlPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| UrlPath(t))
            .map_err(|r| ApiError::bad_request("invalid_request", r.body_text().to_lowercase()))
    }
}

/// `Query` whose rejections are v1 errors.
pub struct UrlQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for UrlQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(t)| UrlQuery(t))
            .map_err(|r| ApiError::bad_request("invalid_request", r.body_text().to_lowercase()))
    }
}

/// A JSON body as [`ApiJson`] reads it, but a body that does not fit the request
/// type (a missing field, a wrong type) is a `400 invalid_request` like every other
/// input error of this API, not axum's 422.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match ApiJson::<T>::from_request(req, state).await {
            Ok(ApiJson(t)) => Ok(JsonBody(t)),
            Err(mut e) => {
                if e.status == StatusCode::UNPROCESSABLE_ENTITY {
                    e.status = StatusCode::BAD_REQUEST;
                }
                Err(e)
            }
        }
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_request", message)
}

/// A value for an error message: at most 40 characters, debug-quoted.
fn shown(s: &str) -> String {
    format!("{:?}", s.chars().take(40).collect::<String>())
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "conflict", message)
}

/// A text field: trimmed, `min..=max` characters, no control characters.
fn text(field: &str, value: &str, min: usize, max: usize) -> ApiResult<String> {
    let v = value.trim();
    let n = v.chars().count();
    if n < min || n > max {
        return Err(invalid(format!(
            "{field} must be {min} to {max} characters (got {n})"
        )));
    }
    if v.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(v.to_owned())
}

/// An optional reason: `None` when absent or blank, at most [`MAX_REASON`] characters.
fn reason(value: Option<String>) -> ApiResult<Option<String>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => text("reason", r, 1, MAX_REASON).map(Some),
    }
}

/// The business `waba_id`, or 404. Non-numeric ids cannot exist and are not looked up.
async fn load_business(state: &SharedState, waba_id: &str) -> ApiResult<Business> {
    let found = if is_numeric_id(waba_id) {
        state.business.business(waba_id).await?
    } else {
        None
    };
    found.ok_or_else(|| {
        ApiError::not_found(format!(
            "no business with waba_id {}; list them with GET /admin/v1/businesses",
            shown(waba_id)
        ))
    })
}

// --- businesses ---

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBusiness {
    name: String,
    phone: String,
    #[serde(default)]
    vertical: Option<String>,
}

async fn create_business(
    _admin: Admin,
    State(state): State<SharedState>,
    JsonBody(req): JsonBody<CreateBusiness>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let user_id = switchboard_core::phone::user_id_from_phone(&req.phone)?;
    state.store.ensure_user(&user_id, state.now()).await?;
    let business = new_business(&state, &user_id, &req.name, req.vertical.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(json!({
            "waba_id": business.waba_id,
            "phone_number_id": business.phone_number_id,
            "user_id": business.user_id,
        })),
    ))
}

/// Makes the (registered) user `user_id` a business: fresh ids, unverified, the
/// default throughput, its display name set to the business name. Shared by the
/// admin API and the business app (a user turning their account into a business).
pub async fn new_business(
    state: &SharedState,
    user_id: &str,
    name: &str,
    vertical: Option<&str>,
) -> ApiResult<Business> {
    let name = text("name", name, 1, 100)?;
    let user_id = user_id.to_owned();
    let vertical = match vertical.map(str::trim) {
        None | Some("") => "OTHER".to_owned(),
        Some(v) => {
            let upper = v.to_ascii_uppercase();
            if !VERTICALS.contains(&upper.as_str()) {
                return Err(ApiError::bad_request(
                    "invalid_vertical",
                    format!(
                        "unknown vertical {}; use one of {}",
                        shown(v),
                        VERTICALS.join(", ")
                    ),
                ));
            }
            upper
        }
    };
    let already = || {
        conflict(format!(
            "+{user_id} already is a business; see GET /admin/v1/businesses"
        ))
    };
    if state.business.business_by_user(&user_id).await?.is_some() {
        return Err(already());
    }
    // A name imitating a verified business's is held for review; meanwhile the
    // business shows its phone number.
    let similar = crate::app::verification::imitated(state, &name, None).await?;
    let shown_name = if similar.is_some() {
        switchboard_core::phone::phone_of(&user_id)
    } else {
        name.clone()
    };
    let now = state.now();
    // Ids are random; a collision (or a concurrent create of the same phone) shows as
    // a conflict, told apart by looking the phone up again.
    let mut attempts = 0;
    let business = loop {
        attempts += 1;
        let business = Business {
            waba_id: numeric_id(rand::rng().random()),
            phone_number_id: numeric_id(rand::rng().random()),
            user_id: user_id.clone(),
            name: shown_name.clone(),
            vertical: vertical.clone(),
            verification: "unverified".to_owned(),
            verification_reason: None,
            profile: "{}".to_owned(),
            throughput_mps: Some(state.config.default_mps),
            messaging_tier: None,
            created_at: now,
        };
        match state.business.create_business(&business).await {
            Ok(()) => break business,
            Err(StoreError::Conflict(_)) => {
                if state.business.business_by_user(&user_id).await?.is_some() {
                    return Err(already());
                }
                if attempts >= 3 {
                    return Err(conflict("could not allocate unique ids; try again"));
                }
            }
            Err(e) => return Err(e.into()),
        }
    };
    if similar.is_some() {
        crate::app::verification::hold_name(state, &business.waba_id, &name, similar).await?;
    }
    state
        .store
        .set_display_name(&user_id, Some(&business.name))
        .await?;
    // Messages from this user carry the business's name from now on (other nodes
    // pick it up on their next directory refresh).
    state.directory.set(&business);
    tracing::info!(waba_id = %business.waba_id, user_id = %user_id, "business created");
    Ok(business)
}

/// The admin's view of a business: everything but its secrets (the webhook's verify
/// token and app secret are never shown), with tier and quality as policy computes
/// them now.
async fn business_json(state: &SharedState, b: &Business) -> ApiResult<Value> {
    state.reach.forget(&b.waba_id);
    let s = state.reach.standing(state, b, state.now()).await?;
    let (quality, tier) = (s.quality, s.tier);
    let (reached_24h, reached_7d, blocks, reports) =
        (s.reached_24h, s.reached_7d, s.blocks_7d, s.reports_7d);
    let webhook = state.business.webhook(&b.waba_id).await?;
    let profile: Value = serde_json::from_str(&b.profile).unwrap_or_else(|_| json!({}));
    Ok(json!({
        "waba_id": b.waba_id,
        "phone_number_id": b.phone_number_id,
        "user_id": b.user_id,
        "phone": switchboard_core::phone::phone_of(&b.user_id),
        "name": b.name,
        "vertical": b.vertical,
        "verification": b.verification,
        "verification_reason": b.verification_reason,
        "throughput_mps": b.throughput_mps,
        "messaging_tier_override": b.messaging_tier,
        "quality_rating": quality.as_str(),
        "messaging_limit_tier": tier.as_graph(),
        "messaging_limit": tier.limit(),
        "reached_24h": reached_24h,
        "reached_7d": reached_7d,
        "blocks_7d": blocks,
        "reports_7d": reports,
        "webhook": webhook.map(|w| json!({"url": w.url, "updated_at": w.updated_at})),
        "profile": profile,
        "created_at": b.created_at,
    }))
}

async fn list_businesses(
    _admin: Admin,
    State(state): State<SharedState>,
) -> ApiResult<ApiJson<Value>> {
    let all = state.business.businesses().await?;
    let mut data = Vec::with_capacity(all.len());
    for b in &all {
        data.push(business_json(&state, b).await?);
    }
    Ok(ApiJson(json!({ "data": data })))
}

async fn show_business(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let b = load_business(&state, &waba_id).await?;
    Ok(ApiJson(business_json(&state, &b).await?))
}

// --- tokens ---

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueToken {
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    expires_in_days: Option<u64>,
}

/// A new business access token: `sbb_` and 32 random bytes in base64url.
pub fn new_business_token() -> String {
    format!("{TOKEN_PREFIX}{}", crate::accounts::new_token())
}

async fn issue_token(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlPath(waba_id): UrlPath<String>,
    body: Bytes,
) -> ApiResult<Response> {
    // An empty body takes every default (`curl -X POST` is enough).
    let req: IssueToken = if body.iter().all(u8::is_ascii_whitespace) {
        IssueToken::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| invalid(format!("invalid JSON body: {e}").to_lowercase()))?
    };
    let business = load_business(&state, &waba_id).await?;
    let scopes = match req.scopes {
        None => SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        Some(given) => {
            let mut scopes: Vec<String> = Vec::new();
            for s in given {
                let s = s.trim().to_ascii_lowercase();
                if !SCOPES.contains(&s.as_str()) {
                    return Err(ApiError::bad_request(
                        "invalid_scope",
                        format!("unknown scope {}; use {}", shown(&s), SCOPES.join(" or ")),
                    ));
                }
                if !scopes.contains(&s) {
                    scopes.push(s);
                }
            }
            if scopes.is_empty() {
                return Err(ApiError::bad_request(
                    "invalid_scope",
                    "scopes must name at least one scope (or be left out for all)",
                ));
            }
            scopes
        }
    };
    let now = state.now();
    let expires_at = match req.expires_in_days {
        None => None,
        Some(d @ 1..=3650) => Some(now + i64::try_from(d).unwrap_or(3650) * DAY_MS),
        Some(d) => {
            return Err(invalid(format!(
                "expires_in_days must be 1 to 3650 (got {d}); leave it out for a token that does not expire"
            )));
        }
    };
    let token = new_business_token();
    state
        .business
        .add_business_token(&BusinessToken {
            token_hash: switchboard_core::secret::token_hash(&token),
            waba_id: business.waba_id.clone(),
            scopes: scopes.clone(),
            created_at: now,
            expires_at,
        })
        .await?;
    tracing::info!(waba_id = %business.waba_id, "business token issued");
    let mut resp = (
        StatusCode::CREATED,
        ApiJson(json!({
            "token": token,
            "waba_id": business.waba_id,
            "scopes": scopes,
            "expires_at": expires_at,
        })),
    )
        .into_response();
    // The token is shown once; nothing on the way should keep a copy.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

// --- verification and throughput ---

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetVerification {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn set_verification(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<SetVerification>,
) -> ApiResult<ApiJson<Value>> {
    let status = req.status.trim().to_ascii_lowercase();
    if status != "verified" && status != "rejected" {
        return Err(invalid(format!(
            "status must be \"verified\" or \"rejected\" (got {})",
            shown(&req.status)
        )));
    }
    let reason = reason(req.reason)?;
    if status == "rejected" && reason.is_none() {
        return Err(invalid(
            "a rejection needs a reason (at most 500 characters) to show the business",
        ));
    }
    let mut business = load_business(&state, &waba_id).await?;
    crate::app::verification::follow_decision(
        &state,
        &business.waba_id,
        status == "verified",
        reason.clone(),
    )
    .await?;
    business.verification = status;
    business.verification_reason = reason;
    state.business.update_business(&business).await?;
    // The badge and the messaging limit depend on verification: refresh both now.
    state.directory.set(&business);
    state.reach.forget(&business.waba_id);
    tracing::info!(waba_id = %business.waba_id, verification = %business.verification, "business verification set");
    Ok(ApiJson(business_json(&state, &business).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetThroughput {
    /// Absent: an error; `null`: unlimited; a number: messages per second.
    #[serde(default, deserialize_with = "present")]
    mps: Option<Option<u64>>,
}

/// Tells a field that is `null` (`Some(None)`) from one that is absent (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(d).map(Some)
}

async fn set_throughput(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<SetThroughput>,
) -> ApiResult<ApiJson<Value>> {
    let mps = match req.mps {
        None => {
            return Err(invalid(
                "mps is required: messages per second (1 to 1000000), or null for unlimited",
            ));
        }
        Some(None) => None,
        Some(Some(n @ 1..=1_000_000)) => Some(u32::try_from(n).unwrap_or(1_000_000)),
        Some(Some(n)) => {
            return Err(invalid(format!(
                "mps must be 1 to 1000000 (got {n}), or null for unlimited"
            )));
        }
    };
    let mut business = load_business(&state, &waba_id).await?;
    business.throughput_mps = mps;
    state.business.update_business(&business).await?;
    tracing::info!(waba_id = %business.waba_id, mps = ?mps, "business throughput set");
    Ok(ApiJson(business_json(&state, &business).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetTier {
    /// `null`: the tier follows from policy again.
    tier: Option<String>,
}

/// Sets (or clears) a messaging limit tier by hand, e.g. for an enterprise whose
/// volume is agreed by contract.
async fn set_tier(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<SetTier>,
) -> ApiResult<ApiJson<Value>> {
    let tier = match req.tier {
        None => None,
        Some(t) => Some(
            policy::Tier::from_graph(&t.to_ascii_uppercase())
                .ok_or_else(|| {
                    invalid("tier must be TIER_250, TIER_2K, TIER_10K, TIER_100K, TIER_UNLIMITED or null")
                })?
                .as_graph()
                .to_owned(),
        ),
    };
    let mut business = load_business(&state, &waba_id).await?;
    business.messaging_tier = tier;
    state.business.update_business(&business).await?;
    state.reach.forget(&business.waba_id);
    tracing::info!(waba_id = %business.waba_id, tier = ?business.messaging_tier, "business tier set");
    Ok(ApiJson(business_json(&state, &business).await?))
}

// --- webhooks ---

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetWebhook {
    url: String,
    verify_token: String,
    app_secret: String,
}

/// Checks the shape of a callback URL (the network policy and the handshake are
/// `webhooks::verify_endpoint`'s).
fn webhook_url(url: &str) -> ApiResult<String> {
    let url = url.trim();
    if url.is_empty() || url.len() > 2048 {
        return Err(invalid("url must be 1 to 2048 characters"));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| invalid(format!("url {} is not a valid URL: {e}", shown(url))))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid(format!(
            "url {} must be an http:// or https:// URL with a host",
            shown(url)
        )));
    }
    Ok(url.to_owned())
}

async fn set_webhook(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<SetWebhook>,
) -> ApiResult<ApiJson<Value>> {
    let url = webhook_url(&req.url)?;
    // Secrets are taken exactly as given (no trimming): they are compared and used
    // as an HMAC key byte for byte by the receiver.
    let len = req.verify_token.chars().count();
    if !(1..=256).contains(&len) {
        return Err(invalid(format!(
            "verify_token must be 1 to 256 characters (got {len})"
        )));
    }
    let len = req.app_secret.chars().count();
    if !(8..=256).contains(&len) {
        return Err(invalid(format!(
            "app_secret must be 8 to 256 characters (got {len})"
        )));
    }
    let business = load_business(&state, &waba_id).await?;
    if let Err(reason) = crate::webhooks::verify_endpoint(&state, &url, &req.verify_token).await {
        return Err(ApiError::bad_request("webhook_verification_failed", reason));
    }
    state
        .business
        .set_webhook(&WebhookConfig {
            waba_id: business.waba_id.clone(),
            url: url.clone(),
            verify_token: req.verify_token,
            app_secret: req.app_secret,
            updated_at: state.now(),
        })
        .await?;
    crate::webhooks::wake(&state, &business.waba_id);
    tracing::info!(waba_id = %business.waba_id, url = %url, "webhook verified and saved");
    Ok(ApiJson(json!({ "url": url, "verified": true })))
}

// --- templates ---

/// The admin's view of a template: the Graph shape plus its business and timestamps.
fn template_admin_json(t: &Template) -> Value {
    let view = crate::cloud::templates::view(t);
    let mut v = template::template_json(&view, None);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("waba_id".into(), json!(t.waba_id));
        obj.insert("reason".into(), json!(t.reason));
        obj.insert("created_at".into(), json!(t.created_at));
        obj.insert("updated_at".into(), json!(t.updated_at));
    }
    v
}

#[derive(Debug, Deserialize)]
struct QueueQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

const QUEUE_DEFAULT: usize = 100;
const QUEUE_MAX: usize = 1000;

async fn template_queue(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlQuery(q): UrlQuery<QueueQuery>,
) -> ApiResult<ApiJson<Value>> {
    let status = match q.status.as_deref() {
        None => "PENDING",
        Some(s) => template::valid_status(s).ok_or_else(|| {
            invalid(format!(
                "unknown template status {}; use one of {}",
                shown(s),
                template::STATUSES.join(", ")
            ))
        })?,
    };
    let limit = q.limit.unwrap_or(QUEUE_DEFAULT);
    if !(1..=QUEUE_MAX).contains(&limit) {
        return Err(invalid(format!(
            "limit must be 1 to {QUEUE_MAX} (got {limit})"
        )));
    }
    let mut found: Vec<Template> = Vec::new();
    for b in state.business.businesses().await? {
        found.extend(
            state
                .business
                .templates(&b.waba_id)
                .await?
                .into_iter()
                .filter(|t| t.status == status),
        );
    }
    // Oldest first: a review queue is worked in order of submission.
    found.sort_by(|a, b| (a.created_at, &a.template_id).cmp(&(b.created_at, &b.template_id)));
    let has_more = found.len() > limit;
    found.truncate(limit);
    Ok(ApiJson(json!({
        "data": found.iter().map(template_admin_json).collect::<Vec<_>>(),
        "has_more": has_more,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Review {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn review_template(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlPath(template_id): UrlPath<String>,
    JsonBody(req): JsonBody<Review>,
) -> ApiResult<ApiJson<Value>> {
    let status = req.status.trim().to_ascii_uppercase();
    if !REVIEW_STATUSES.contains(&status.as_str()) {
        return Err(invalid(format!(
            "status must be one of {} (got {})",
            REVIEW_STATUSES.join(", "),
            shown(&req.status)
        )));
    }
    let reason = reason(req.reason)?;
    let found = if is_numeric_id(&template_id) {
        state.business.template(&template_id).await?
    } else {
        None
    };
    let template = found.ok_or_else(|| {
        ApiError::not_found(format!(
            "no template with id {}; see GET /admin/v1/templates",
            shown(&template_id)
        ))
    })?;
    let updated = crate::cloud::templates::set_status(&state, template, &status, reason).await?;
    tracing::info!(template_id = %updated.template_id, status = %updated.status, "template reviewed");
    Ok(ApiJson(template_admin_json(&updated)))
}

// --- verification applications and held names ---

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppQueueQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

fn queue_limit(limit: Option<usize>) -> ApiResult<usize> {
    let limit = limit.unwrap_or(QUEUE_DEFAULT);
    if !(1..=QUEUE_MAX).contains(&limit) {
        return Err(invalid(format!(
            "limit must be 1 to {QUEUE_MAX} (got {limit})"
        )));
    }
    Ok(limit)
}

/// The current record of `kind` of every business, with the business.
async fn current_records<T: DeserializeOwned>(
    state: &SharedState,
    kind: &str,
) -> ApiResult<Vec<(Business, T)>> {
    let mut out = Vec::new();
    for b in state.business.businesses().await? {
        if let Some((r, _)) =
            crate::app::load::<T>(state, &b.waba_id, kind, app_ver::CURRENT).await?
        {
            out.push((b, r));
        }
    }
    Ok(out)
}

/// Verification applications with a status (default pending), oldest first.
async fn verification_queue(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlQuery(q): UrlQuery<AppQueueQuery>,
) -> ApiResult<ApiJson<Value>> {
    let status = app_ver::Status::parse(q.status.as_deref().unwrap_or("pending"))?;
    let limit = queue_limit(q.limit)?;
    let mut found: Vec<(Business, app_ver::Application)> =
        current_records::<app_ver::Application>(&state, app_ver::kind::APPLICATION)
            .await?
            .into_iter()
            .filter(|(_, a)| a.status == status)
            .collect();
    found.sort_by(|a, b| (a.1.submitted_at, &a.0.waba_id).cmp(&(b.1.submitted_at, &b.0.waba_id)));
    let has_more = found.len() > limit;
    found.truncate(limit);
    let data: Vec<Value> = found
        .iter()
        .map(|(b, a)| {
            json!({
                "waba_id": b.waba_id,
                "name": b.name,
                "phone": switchboard_core::phone::phone_of(&b.user_id),
                "verification": b.verification,
                "application": crate::app::verification::application_json(a),
            })
        })
        .collect();
    Ok(ApiJson(json!({"data": data, "has_more": has_more})))
}

/// Name reviews with a status (default held), oldest first.
async fn name_queue(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlQuery(q): UrlQuery<AppQueueQuery>,
) -> ApiResult<ApiJson<Value>> {
    let status = app_ver::NameStatus::parse(q.status.as_deref().unwrap_or("held"))?;
    let limit = queue_limit(q.limit)?;
    let mut found: Vec<(Business, app_ver::NameReview)> =
        current_records::<app_ver::NameReview>(&state, app_ver::kind::NAME_REVIEW)
            .await?
            .into_iter()
            .filter(|(_, r)| r.status == status)
            .collect();
    found.sort_by(|a, b| (a.1.requested_at, &a.0.waba_id).cmp(&(b.1.requested_at, &b.0.waba_id)));
    let has_more = found.len() > limit;
    found.truncate(limit);
    let data: Vec<Value> = found
        .iter()
        .map(|(b, r)| {
            json!({
                "waba_id": b.waba_id,
                "name": b.name,
                "phone": switchboard_core::phone::phone_of(&b.user_id),
                "verification": b.verification,
                "review": crate::app::verification::review_json(r),
            })
        })
        .collect();
    Ok(ApiJson(json!({"data": data, "has_more": has_more})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NameDecision {
    decision: String,
    #[serde(default)]
    reason: Option<String>,
}

/// Approves a held name (the business takes it at once) or rejects it (the
/// business keeps its current name and sees the reason).
async fn review_name(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<NameDecision>,
) -> ApiResult<ApiJson<Value>> {
    let decision = app_ver::Decision::parse(&req.decision)?;
    let reason = reason(req.reason)?;
    let mut business = load_business(&state, &waba_id).await?;
    let Some((review, version)) = crate::app::load::<app_ver::NameReview>(
        &state,
        &business.waba_id,
        app_ver::kind::NAME_REVIEW,
        app_ver::CURRENT,
    )
    .await?
    else {
        return Err(ApiError::not_found(format!(
            "business {} has no name review; see GET /admin/v1/names",
            shown(&waba_id)
        )));
    };
    let decided = review.decide(decision, reason, state.now())?;
    crate::app::save(
        &state,
        &business.waba_id,
        app_ver::kind::NAME_REVIEW,
        app_ver::CURRENT,
        &decided,
        switchboard_store::Expect::Version(version),
    )
    .await?;
    if decision == app_ver::Decision::Approve {
        crate::app::verification::apply_name(&state, &mut business, &decided.requested).await?;
    }
    tracing::info!(waba_id = %business.waba_id, status = ?decided.status, "business name reviewed");
    let mut v = business_json(&state, &business).await?;
    v["name_review"] = crate::app::verification::review_json(&decided);
    Ok(ApiJson(v))
}

// --- usage and invoices ---

/// Billable usage of one business over `[from, to)`, by category and country.
#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    pub waba_id: String,
    /// `YYYY-MM-DD` (or a full timestamp when the period does not start at midnight UTC).
    pub from: String,
    /// Exclusive; formatted as `from`.
    pub to: String,
    pub currency: String,
    pub total_micros: i64,
    /// `total_micros` as a decimal string with 4 places.
    pub total: String,
    /// Sorted by category, then country.
    pub lines: Vec<UsageLine>,
}

/// The usage report of `waba_id` for `from_ms <= ts < to_ms` (shared by the admin
/// API and the business-facing usage endpoint). 404 if there is no such business;
/// 409 `mixed_currencies` if the price table's currency changed within the period.
pub async fn usage_report(
    state: &SharedState,
    waba_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> ApiResult<UsageReport> {
    let business = load_business(state, waba_id).await?;
    let records = state
        .business
        .usage(&business.waba_id, from_ms, to_ms)
        .await?;
    let summary = invoice::summarize(&records, default_currency(state))
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, "mixed_currencies", e.to_string()))?;
    Ok(UsageReport {
        waba_id: business.waba_id,
        from: invoice::format_instant(from_ms),
        to: invoice::format_instant(to_ms),
        currency: summary.currency,
        total_micros: summary.total_micros,
        total: invoice::format_micros(summary.total_micros),
        lines: summary.lines,
    })
}

/// The currency of a period without usage: the price table's.
fn default_currency(state: &SharedState) -> &str {
    &state.config.prices.currency
}

#[derive(Debug, Deserialize)]
struct UsageQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

async fn usage(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlPath(waba_id): UrlPath<String>,
    UrlQuery(q): UrlQuery<UsageQuery>,
) -> ApiResult<ApiJson<UsageReport>> {
    let (from, to) = invoice::resolve_range(q.from.as_deref(), q.to.as_deref(), state.now())
        .map_err(|m| ApiError::bad_request("invalid_date", m))?;
    Ok(ApiJson(
        usage_report(&state, &waba_id, from.to_ms(), to.to_ms()).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct InvoiceQuery {
    #[serde(default)]
    format: Option<String>,
}

async fn invoice_of_month(
    _admin: Admin,
    State(state): State<SharedState>,
    UrlPath((waba_id, month)): UrlPath<(String, String)>,
    UrlQuery(q): UrlQuery<InvoiceQuery>,
) -> ApiResult<Response> {
    let csv = match q.format.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(invalid(format!(
                "format must be json or csv (got {})",
                shown(other)
            )));
        }
    };
    let period = Month::parse(&month).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_date",
            format!("invalid month {}: use YYYY-MM", shown(&month)),
        )
    })?;
    let business = load_business(&state, &waba_id).await?;
    let (from, to) = period.range_ms();
    let records = state.business.usage(&business.waba_id, from, to).await?;
    let invoice = Invoice::build(
        &business.name,
        &business.waba_id,
        period,
        &records,
        default_currency(&state),
    )
    .map_err(|e| ApiError::new(StatusCode::CONFLICT, "mixed_currencies", e.to_string()))?;
    if !csv {
        return Ok(ApiJson(invoice.to_json()).into_response());
    }
    // The waba_id is numeric and the month validated: the filename needs no quoting.
    let disposition = format!(
        "attachment; filename=invoice-{}-{period}.csv",
        business.waba_id
    );
    let disposition = HeaderValue::from_str(&disposition).map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        invoice.to_csv(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_tokens_are_prefixed_and_random() {
        let a = new_business_token();
        let b = new_business_token();
        assert!(a.starts_with(TOKEN_PREFIX), "{a}");
        assert_eq!(
            a.len(),
            TOKEN_PREFIX.len() + 43,
            "32 bytes in base64url: {a}"
        );
        assert!(
            a[TOKEN_PREFIX.len()..]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
    }

    #[test]
    fn webhook_urls() {
        let ok = ["https://hooks.example.com/wa", "http://127.0.0.1:9000/"];
        for u in ok {
            assert_eq!(webhook_url(u).ok().as_deref(), Some(u), "{u}");
        }
        let long = format!("https://x.example/{}", "a".repeat(2048));
        for u in [
            "",
            "ftp://x.example/",
            "not a url",
            "https://",
            "mailto:a@b.c",
            &long,
        ] {
            let e = webhook_url(u).expect_err(u);
            assert_eq!(e.code, "invalid_request", "{u}");
        }
    }

    #[test]
    fn text_fields() {
        assert_eq!(
            text("name", "  Acme  ", 1, 100).ok().as_deref(),
            Some("Acme")
        );
        assert!(text("name", "   ", 1, 100).is_err());
        assert!(text("name", &"é".repeat(100), 1, 100).is_ok());
        assert!(text("name", &"é".repeat(101), 1, 100).is_err());
        assert!(text("name", "a\u{0}b", 1, 100).is_err());
        assert_eq!(reason(Some("  ".into())).ok(), Some(None));
        assert!(reason(Some("x".repeat(501))).is_err());
    }
}
