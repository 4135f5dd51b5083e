//! Message templates for a business's team (`/v1/biz/{waba_id}/templates`), so the
//! business app (and its web pages) can list them and submit new ones for review
//! without a Cloud API system-user token.
//!
//! The work is the Graph API's own ([`crate::cloud::templates`]): the same body
//! (`name`, `language`, `category`, `components`, …), the same checks and limits, a
//! new template is `PENDING` in the platform's review queue. Only the door and the
//! answer's shape differ: a team member's token, v1 errors, the template as the
//! Graph API renders it.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};
use switchboard_app::Role;
use switchboard_business::error::GraphError;
use switchboard_business::template::template_json;

use super::member;
use crate::admin::{JsonBody, UrlPath};
use crate::auth::Authed;
use crate::cloud::GraphReply;
use crate::cloud::templates::{create as graph_create, view};
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

/// The Graph code of "a template with this name and language exists".
const GRAPH_TEMPLATE_EXISTS: u32 = 2_388_024;
/// The Graph code of "too many templates".
const GRAPH_TEMPLATE_LIMIT: u32 = 2_388_019;
/// The Graph answer of a created template is small; more is not expected.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

pub fn router() -> Router<SharedState> {
    Router::new().route("/v1/biz/{waba_id}/templates", get(index).post(create))
}

/// `GET …/templates` (agent+): every template of the business, as the Graph API
/// renders it (`id`, `name`, `language`, `status`, `category`, `components`, …).
async fn index(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let all = state.business.templates(&waba_id).await?;
    let templates: Vec<Value> = all.iter().map(|t| template_json(&view(t), None)).collect();
    Ok(ApiJson(json!({ "templates": templates })))
}

/// `POST …/templates` (admin+): the Graph API's create; `201` the new template.
async fn create(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let answer = graph_create(&state, &m.business, &body)
        .await
        .map_err(|GraphReply(e)| from_graph(&e))?;
    let bytes = axum::body::to_bytes(answer.into_body(), MAX_ANSWER_BYTES)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let created: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let id = created["id"].as_str().unwrap_or_default();
    let all = state.business.templates(&waba_id).await?;
    let t = all.iter().find(|t| t.template_id == id).ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the created template was not found",
        )
    })?;
    Ok((StatusCode::CREATED, ApiJson(template_json(&view(t), None))))
}

/// A Graph refusal as a v1 error: the Graph API's message, a v1 code.
fn from_graph(e: &GraphError) -> ApiError {
    let message = e.details.clone();
    match e.code {
        GRAPH_TEMPLATE_EXISTS => ApiError::new(StatusCode::CONFLICT, "template_exists", message),
        GRAPH_TEMPLATE_LIMIT => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "limit_reached", message)
        }
        _ if e.http_status >= 500 => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "templates are unavailable right now; try again",
        ),
        _ => ApiError::bad_request("invalid_template", message),
    }
}
