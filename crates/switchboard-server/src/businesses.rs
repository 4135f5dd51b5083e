//! Businesses as consumers see them (protocol v1 section 5 and our extensions in
//! `docs/protocol.md`): a business's public profile, and a customer's own choices
//! about it — block, stop marketing, report — and its catalog and the customer's
//! orders (the logic is in `app::catalog` and `app::orders`). Also the [`Directory`] that marks
//! messages from businesses with `from_business` wherever messages are rendered.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_proto::frames::FromBusiness;
use switchboard_store::{Business, BusinessStore, CustomerFlags, FeedbackKind};

use crate::admin::JsonBody;
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

/// How often each node reloads the directory (changes made on this node apply at once).
const REFRESH: Duration = Duration::from_secs(5);

/// Which users are businesses, with the name and badge their messages carry. Kept in
/// memory because every rendered message asks; refreshed from the store.
#[derive(Default)]
pub struct Directory {
    by_user: RwLock<HashMap<String, FromBusiness>>,
}

impl Directory {
    pub fn get(&self, user_id: &str) -> Option<FromBusiness> {
        self.by_user
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(user_id)
            .cloned()
    }

    /// Whether `user_id` is a business (no copy of its name, for the fan-out).
    pub fn is_business(&self, user_id: &str) -> bool {
        self.by_user
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(user_id)
    }

    /// Records a business's current name and badge.
    pub fn set(&self, b: &Business) {
        self.by_user
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(b.user_id.clone(), from_business(b));
    }

    pub async fn load(
        &self,
        store: &dyn BusinessStore,
    ) -> Result<(), switchboard_store::StoreError> {
        let all: HashMap<String, FromBusiness> = store
            .businesses()
            .await?
            .iter()
            .map(|b| (b.user_id.clone(), from_business(b)))
            .collect();
        *self.by_user.write().unwrap_or_else(|e| e.into_inner()) = all;
        Ok(())
    }
}

fn from_business(b: &Business) -> FromBusiness {
    FromBusiness {
        name: b.name.clone(),
        verified: b.verification == "verified",
    }
}

/// Keeps the directory current with changes made on other nodes.
pub fn spawn_refresh(state: SharedState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.clone();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(REFRESH) => {}
                _ = shutdown.changed() => return,
            }
            if let Err(e) = state.directory.load(state.business.as_ref()).await {
                tracing::warn!(error = %e, "cannot refresh the business directory");
            }
        }
    })
}

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/businesses/{user_id}", get(show))
        .route(
            "/v1/businesses/{user_id}/block",
            post(block).delete(unblock),
        )
        .route("/v1/businesses/{user_id}/marketing", put(marketing))
        .route("/v1/businesses/{user_id}/report", post(report))
        .route("/v1/businesses/{user_id}/catalog", get(catalog))
        .route(
            "/v1/businesses/{user_id}/orders",
            get(my_orders).post(place_order),
        )
}

async fn business_of(state: &SharedState, user_id: &str) -> ApiResult<Business> {
    let not_found = || ApiError::not_found("no business with this user id");
    if user_id.len() > 32 {
        return Err(not_found());
    }
    state
        .business
        .business_by_user(user_id)
        .await?
        .ok_or_else(not_found)
}

async fn show(
    State(state): State<SharedState>,
    auth: Authed,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    let b = business_of(&state, &user_id).await?;
    let has_catalog = state
        .business
        .count_records(&b.waba_id, switchboard_app::catalog::KIND_PRODUCT, "")
        .await?
        > 0;
    let flags = state
        .business
        .customer_flags(&b.waba_id, &auth.user_id)
        .await?;
    let profile: Value = serde_json::from_str(&b.profile).unwrap_or_else(|_| json!({}));
    let text = |k: &str| {
        profile
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let websites = profile
        .get("websites")
        .cloned()
        .unwrap_or_else(|| json!([]));
    let mut answer = json!({
        "user_id": b.user_id,
        "name": b.name,
        "verified": b.verification == "verified",
        "category": profile.get("category").and_then(Value::as_str).unwrap_or(&b.vertical),
        "description": text("description"),
        "about": text("about"),
        "address": text("address"),
        "hours": profile.get("hours").cloned().unwrap_or(Value::Null),
        "email": text("email"),
        "websites": websites,
        "blocked": flags.blocked,
        "marketing_opt_out": flags.marketing_opt_out,
    });
    if has_catalog {
        answer["catalog_url"] = json!(format!(
            "{}/v1/businesses/{}/catalog",
            crate::cloud::public_base(&state, &headers),
            b.user_id
        ));
    }
    Ok(ApiJson(answer))
}

/// The business's catalog as customers see it (protocol v1 section 5), extended
/// with `collections` and each product's `sku`, `image_media_ids` and `image_url`.
async fn catalog(
    State(state): State<SharedState>,
    _auth: Authed,
    Path(user_id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    let b = business_of(&state, &user_id).await?;
    let mut products = crate::app::catalog::products(&state, &b.waba_id).await?;
    products.sort_by(|x, y| x.created_at.cmp(&y.created_at).then(x.id.cmp(&y.id)));
    let collections = crate::app::catalog::collections(&state, &b.waba_id).await?;
    // The images are the business's uploads, which a customer may not fetch by id:
    // each product carries a signed URL of its first image (as `GET /v1/media/{id}/link`).
    let exp = state.now() / 1000 + crate::media::LINK_TTL_SECS;
    let with_image_url = |p: &switchboard_app::catalog::Product| {
        let mut v = p.customer_json();
        if let Some(id) = p.image_media_ids.first() {
            let sig = state.media.signer.sign(id, "file", exp);
            v["image_url"] = json!(format!("/v1/media/{id}?exp={exp}&sig={sig}"));
        }
        v
    };
    Ok(ApiJson(json!({
        "products": products.iter().map(with_image_url).collect::<Vec<_>>(),
        "collections": collections
            .iter()
            .map(|c| json!({"id": c.id, "name": c.name, "product_ids": c.product_ids}))
            .collect::<Vec<_>>(),
    })))
}

/// A customer orders from the catalog: the server prices the order, stores it and
/// puts an `order` message from the customer into their chat with the business.
async fn place_order(
    State(state): State<SharedState>,
    auth: Authed,
    Path(user_id): Path<String>,
    JsonBody(req): JsonBody<switchboard_app::orders::OrderRequest>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let b = business_of(&state, &user_id).await?;
    if b.user_id == auth.user_id {
        return Err(ApiError::bad_request(
            "invalid_request",
            "a business cannot order from itself",
        ));
    }
    let order = crate::app::orders::place(&state, &b, &auth, req).await?;
    Ok((StatusCode::CREATED, ApiJson(order.json())))
}

/// The caller's own orders with the business, newest first.
async fn my_orders(
    State(state): State<SharedState>,
    auth: Authed,
    Path(user_id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    let b = business_of(&state, &user_id).await?;
    let orders = crate::app::orders::customer_orders(&state, &b.waba_id, &auth.user_id).await?;
    Ok(ApiJson(json!({
        "orders": orders.iter().map(|o| o.json()).collect::<Vec<_>>(),
    })))
}

async fn set_flags(
    state: &SharedState,
    b: &Business,
    customer: &str,
    change: impl FnOnce(&mut CustomerFlags),
) -> ApiResult<CustomerFlags> {
    let mut flags = state.business.customer_flags(&b.waba_id, customer).await?;
    change(&mut flags);
    state
        .business
        .set_customer_flags(&b.waba_id, customer, &flags, state.now())
        .await?;
    state
        .caches
        .flags
        .remove(&(b.waba_id.clone(), customer.to_owned()));
    Ok(flags)
}

async fn block(
    State(state): State<SharedState>,
    auth: Authed,
    Path(user_id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    let b = business_of(&state, &user_id).await?;
    let before = state
        .business
        .customer_flags(&b.waba_id, &auth.user_id)
        .await?;
    set_flags(&state, &b, &auth.user_id, |f| f.blocked = true).await?;
    if !before.blocked {
        state
            .business
            .add_feedback(&b.waba_id, &auth.user_id, FeedbackKind::Block, state.now())
            .await?;
        state.reach.forget(&b.waba_id);
    }
    Ok(ApiJson(json!({"blocked": true})))
}

async fn unblock(
    State(state): State<SharedState>,
    auth: Authed,
    Path(user_id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    let b = business_of(&state, &user_id).await?;
    set_flags(&state, &b, &auth.user_id, |f| f.blocked = false).await?;
    Ok(ApiJson(json!({"blocked": false})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarketingBody {
    opt_out: bool,
}

async fn marketing(
    State(state): State<SharedState>,
    auth: Authed,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<MarketingBody>,
) -> ApiResult<ApiJson<Value>> {
    let b = business_of(&state, &user_id).await?;
    let flags = set_flags(&state, &b, &auth.user_id, |f| {
        f.marketing_opt_out = body.opt_out
    })
    .await?;
    Ok(ApiJson(
        json!({"marketing_opt_out": flags.marketing_opt_out}),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    reason: Option<String>,
    #[serde(default)]
    block: bool,
}

async fn report(
    State(state): State<SharedState>,
    auth: Authed,
    Path(user_id): Path<String>,
    raw: axum::body::Bytes,
) -> ApiResult<ApiJson<Value>> {
    // The body is optional: an empty one reports without a reason.
    let body: ReportBody = if raw.iter().all(u8::is_ascii_whitespace) {
        ReportBody::default()
    } else {
        serde_json::from_slice(&raw).map_err(|e| {
            ApiError::bad_request("invalid_request", format!("invalid JSON body: {e}"))
        })?
    };
    if body
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500)
    {
        return Err(ApiError::bad_request(
            "field_too_long",
            "reason is limited to 500 characters",
        ));
    }
    let b = business_of(&state, &user_id).await?;
    let now = state.now();
    state
        .business
        .add_feedback(&b.waba_id, &auth.user_id, FeedbackKind::Report, now)
        .await?;
    let mut blocked = state
        .business
        .customer_flags(&b.waba_id, &auth.user_id)
        .await?
        .blocked;
    if body.block && !blocked {
        set_flags(&state, &b, &auth.user_id, |f| f.blocked = true).await?;
        state
            .business
            .add_feedback(&b.waba_id, &auth.user_id, FeedbackKind::Block, now)
            .await?;
        blocked = true;
    }
    state.reach.forget(&b.waba_id);
    tracing::info!(
        waba_id = b.waba_id,
        reason = body.reason.as_deref().unwrap_or(""),
        "business reported"
    );
    Ok(ApiJson(json!({"reported": true, "blocked": blocked})))
}
