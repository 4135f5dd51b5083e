//! Quick replies (`/v1/biz/{waba_id}/replies`): a team's canned answers, typed as
//! `/shortcut` in the composer. Admins manage them, agents read and complete them
//! ("/" prefix search); the inbox resolves a shortcut with [`resolve`].

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_app::Role;
use switchboard_app::replies::{self, KIND, QuickReply};
use switchboard_store::Expect;

use super::{load, member, save};
use crate::admin::{JsonBody, UrlPath, UrlQuery};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/biz/{waba_id}/replies", get(index).post(create))
        .route(
            "/v1/biz/{waba_id}/replies/{shortcut}",
            get(show).put(replace).delete(remove),
        )
}

/// The quick reply of `shortcut` (with or without its `/`, any case), if the
/// business has one. For the inbox: expanding `/shortcut` in an agent's message.
pub async fn resolve(
    state: &SharedState,
    waba_id: &str,
    shortcut: &str,
) -> ApiResult<Option<QuickReply>> {
    let Ok(key) = replies::shortcut(shortcut) else {
        return Ok(None);
    };
    Ok(load::<QuickReply>(state, waba_id, KIND, &key)
        .await?
        .map(|(r, _)| r))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    shortcut: String,
    text: String,
    #[serde(default)]
    media_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplaceBody {
    text: String,
    #[serde(default)]
    media_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    prefix: Option<String>,
}

async fn index(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    UrlQuery(q): UrlQuery<ListQuery>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let prefix = replies::prefix(q.prefix.as_deref().unwrap_or("/"))?;
    let all = super::list::<QuickReply>(&state, &waba_id, KIND, &prefix).await?;
    let out: Vec<QuickReply> = all.into_iter().map(|(_, r, _)| r).collect();
    Ok(ApiJson(json!({ "replies": out })))
}

async fn show(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, shortcut)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<QuickReply>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    resolve(&state, &waba_id, &shortcut)
        .await?
        .map(ApiJson)
        .ok_or_else(|| not_found(&shortcut))
}

async fn create(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<CreateBody>,
) -> ApiResult<(StatusCode, ApiJson<QuickReply>)> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let reply = replies::new_reply(&req.shortcut, &req.text, req.media_id)?;
    check_media(&state, reply.media_id.as_deref()).await?;
    let count = state.business.count_records(&waba_id, KIND, "").await?;
    replies::check_count(usize::try_from(count).unwrap_or(usize::MAX))?;
    match save(
        &state,
        &waba_id,
        KIND,
        &reply.shortcut,
        &reply,
        Expect::Absent,
    )
    .await
    {
        Ok(_) => Ok((StatusCode::CREATED, ApiJson(reply))),
        Err(e) if e.code == "conflict" => Err(ApiError::new(
            StatusCode::CONFLICT,
            "shortcut_taken",
            format!(
                "the shortcut {} already exists; edit it with PUT",
                reply.shortcut
            ),
        )),
        Err(e) => Err(e),
    }
}

async fn replace(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, shortcut)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<ReplaceBody>,
) -> ApiResult<ApiJson<QuickReply>> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let reply = replies::new_reply(&shortcut, &req.text, req.media_id)?;
    check_media(&state, reply.media_id.as_deref()).await?;
    let Some((_, version)) = load::<QuickReply>(&state, &waba_id, KIND, &reply.shortcut).await?
    else {
        return Err(not_found(&shortcut));
    };
    save(
        &state,
        &waba_id,
        KIND,
        &reply.shortcut,
        &reply,
        Expect::Version(version),
    )
    .await?;
    Ok(ApiJson(reply))
}

async fn remove(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, shortcut)): UrlPath<(String, String)>,
) -> ApiResult<StatusCode> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let key = replies::shortcut(&shortcut).map_err(|_| not_found(&shortcut))?;
    let existed = state
        .business
        .delete_record(&waba_id, KIND, &key, Expect::Any, state.now())
        .await?;
    if existed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&shortcut))
    }
}

fn not_found(shortcut: &str) -> ApiError {
    ApiError::not_found(format!("no quick reply {shortcut:?}"))
}

/// A 400 `invalid_media` unless `media_id` names stored media.
pub async fn check_media(state: &SharedState, media_id: Option<&str>) -> ApiResult<()> {
    let Some(id) = media_id else {
        return Ok(());
    };
    let exists = state
        .media
        .record(id)
        .await
        .map_err(crate::media::api_error)?
        .is_some();
    if exists {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_media",
            format!("media {id:?} not found; upload it first"),
        ))
    }
}
