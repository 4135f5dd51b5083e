//! Business accounts in the app: a user turns their own account into a business (for
//! free; the admin API can also create one), lists the businesses they work for, and
//! reads one with their role in it.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_app::Role;
use switchboard_app::kinds;
use switchboard_store::{Business, GLOBAL_TENANT};

use super::{Member, member};
use crate::admin::{JsonBody, UrlPath};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/biz", post(create))
        .route("/v1/me/businesses", get(mine))
        .route("/v1/biz/{waba_id}", get(show))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    #[serde(default)]
    vertical: Option<String>,
}

/// The business as its team sees it.
pub fn business_json(b: &Business, role: Role) -> Value {
    json!({
        "waba_id": b.waba_id,
        "phone_number_id": b.phone_number_id,
        "user_id": b.user_id,
        "phone": switchboard_core::phone::phone_of(&b.user_id),
        "name": b.name,
        "vertical": b.vertical,
        "verification": b.verification,
        "verification_reason": b.verification_reason,
        "role": role.as_str(),
    })
}

async fn create(
    State(state): State<SharedState>,
    auth: Authed,
    JsonBody(req): JsonBody<CreateBody>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    if state
        .business
        .business_by_user(&auth.user_id)
        .await?
        .is_some()
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_business",
            "this account already is a business; see GET /v1/me/businesses",
        ));
    }
    let b = crate::admin::new_business(&state, &auth.user_id, &req.name, req.vertical.as_deref())
        .await?;
    Ok((StatusCode::CREATED, ApiJson(business_json(&b, Role::Owner))))
}

async fn mine(State(state): State<SharedState>, auth: Authed) -> ApiResult<ApiJson<Value>> {
    let mut out = Vec::new();
    if let Some(b) = state.business.business_by_user(&auth.user_id).await? {
        out.push(business_json(&b, Role::Owner));
    }
    let prefix = format!("{}/", auth.user_id);
    let index = state
        .business
        .records(GLOBAL_TENANT, kinds::WORKS_FOR, &prefix, None, 1000)
        .await?;
    for r in index {
        let waba = &r.key[prefix.len()..];
        // The index may lag a removal: the membership itself decides.
        if let Ok(m) = member(&state, &auth, waba, Role::Agent).await
            && m.business.user_id != auth.user_id
        {
            out.push(business_json(&m.business, m.role()));
        }
    }
    Ok(ApiJson(json!({ "businesses": out })))
}

async fn show(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let Member { business, agent } = member(&state, &auth, &waba_id, Role::Agent).await?;
    Ok(ApiJson(business_json(&business, agent.role)))
}
