//! The team of a business (`/v1/biz/{waba_id}/team`): who answers from its number,
//! with which role, capacity, signature and availability. Membership is one agent
//! record plus a global `works_for` index record, always written together, so
//! `GET /v1/me/businesses` finds every business a user works for.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_app::team::{self, Agent, AgentChange};
use switchboard_app::{Role, kinds};
use switchboard_store::{Business, Expect, GLOBAL_TENANT, RecordWrite, StoreError};

use super::{inbox, list, load, member, to_value};
use crate::admin::{JsonBody, UrlPath};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/biz/{waba_id}/team", get(index).post(add))
        .route(
            "/v1/biz/{waba_id}/team/{user_id}",
            patch(change).delete(remove),
        )
}

/// The team: the owner first, then the members in the order they were added (the
/// rotation order of auto-assignment).
pub async fn members(state: &SharedState, business: &Business) -> ApiResult<Vec<Agent>> {
    let mut stored = stored_members(state, &business.waba_id).await?;
    let mut out = Vec::with_capacity(stored.len() + 1);
    match stored.iter().position(|a| a.user_id == business.user_id) {
        Some(i) => {
            let mut o = stored.remove(i);
            o.role = Role::Owner;
            out.push(o);
        }
        None => out.push(Agent::owner(&business.user_id, business.created_at)),
    }
    out.extend(stored);
    Ok(out)
}

/// The members with a team entry, in the order they were added: the rotation of
/// auto-assignment (the owner takes part once they have an entry of their own).
pub async fn stored_members(state: &SharedState, waba_id: &str) -> ApiResult<Vec<Agent>> {
    let mut stored: Vec<Agent> = list::<Agent>(state, waba_id, kinds::AGENT, "")
        .await?
        .into_iter()
        .map(|(_, a, _)| a)
        .collect();
    stored.sort_by(|a, b| (a.added_at, &a.user_id).cmp(&(b.added_at, &b.user_id)));
    Ok(stored)
}

/// The stored settings of one member (the owner's are implicit until changed).
pub async fn agent_of(
    state: &SharedState,
    business: &Business,
    user_id: &str,
) -> ApiResult<Option<(Agent, Option<u64>)>> {
    let stored = load::<Agent>(state, &business.waba_id, kinds::AGENT, user_id).await?;
    if user_id == business.user_id {
        let (mut a, v) = match stored {
            Some((a, v)) => (a, Some(v)),
            None => (Agent::owner(user_id, business.created_at), None),
        };
        a.role = Role::Owner;
        return Ok(Some((a, v)));
    }
    Ok(stored.map(|(a, v)| (a, Some(v))))
}

fn agent_json(a: &Agent) -> Value {
    json!({
        "user_id": a.user_id,
        "phone": switchboard_core::phone::phone_of(&a.user_id),
        "role": a.role.as_str(),
        "capacity": a.capacity,
        "signature": a.signature,
        "available": a.available,
        "added_at": a.added_at,
    })
}

async fn index(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let all = members(&state, &m.business).await?;
    Ok(ApiJson(
        json!({ "team": all.iter().map(agent_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    phone: String,
    role: String,
    #[serde(default)]
    capacity: Option<u32>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    available: Option<bool>,
}

async fn add(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<AddBody>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let role = Role::parse(&req.role)?;
    team::check_add(m.role(), role)?;
    let user_id = switchboard_core::phone::user_id_from_phone(&req.phone)?;
    let agent = Agent {
        user_id: user_id.clone(),
        role,
        capacity: team::capacity(req.capacity.unwrap_or(team::DEFAULT_CAPACITY))?,
        signature: team::signature(req.signature.as_deref())?,
        available: req.available.unwrap_or(true),
        added_at: state.now(),
    };
    if state.store.user(&user_id).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_user",
            format!(
                "no user with phone {}; they need to register first",
                req.phone
            ),
        ));
    }
    let already = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "already_member",
            format!("{} is in the team already", req.phone),
        )
    };
    if user_id == m.business.user_id {
        return Err(already());
    }
    let count = state
        .business
        .count_records(&waba_id, kinds::AGENT, "")
        .await?;
    if count as usize >= team::MAX_AGENTS {
        return Err(switchboard_app::AppError::limit(
            "too_many_agents",
            format!("a team has at most {} members", team::MAX_AGENTS),
        )
        .into());
    }
    let writes = [
        RecordWrite::put(
            &waba_id,
            kinds::AGENT,
            &user_id,
            to_value(&agent)?,
            Expect::Absent,
        ),
        RecordWrite::put(
            GLOBAL_TENANT,
            kinds::WORKS_FOR,
            &format!("{user_id}/{waba_id}"),
            to_value(&json!({ "role": role.as_str() }))?,
            Expect::Any,
        ),
    ];
    match state.business.apply_records(&writes, state.now()).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return Err(already()),
        Err(e) => return Err(e.into()),
    }
    inbox::rebalance(&state, &m.business).await?;
    Ok((StatusCode::CREATED, ApiJson(agent_json(&agent))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    capacity: Option<u32>,
    #[serde(default, deserialize_with = "inbox::present")]
    signature: Option<Option<String>>,
    #[serde(default)]
    available: Option<bool>,
}

/// A user id from a path: digits of a phone number, else 404.
fn user_param(user_id: &str) -> ApiResult<&str> {
    if (8..=15).contains(&user_id.len()) && user_id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(user_id)
    } else {
        Err(ApiError::not_found(format!("no team member {user_id:?}")))
    }
}

async fn change(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, user_id)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<ChangeBody>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let user_id = user_param(&user_id)?;
    let ch = AgentChange {
        role: req.role.as_deref().map(Role::parse).transpose()?,
        capacity: req.capacity,
        signature: req.signature,
        available: req.available,
    };
    for _ in 0..16 {
        let Some((target, version)) = agent_of(&state, &m.business, user_id).await? else {
            return Err(ApiError::not_found(format!("no team member {user_id}")));
        };
        let next = team::apply_change(m.role(), user_id == m.user_id(), &target, &ch)?;
        let expect = version.map_or(Expect::Absent, Expect::Version);
        let mut writes = vec![RecordWrite::put(
            &waba_id,
            kinds::AGENT,
            user_id,
            to_value(&next)?,
            expect,
        )];
        if next.role != target.role {
            writes.push(RecordWrite::put(
                GLOBAL_TENANT,
                kinds::WORKS_FOR,
                &format!("{user_id}/{waba_id}"),
                to_value(&json!({ "role": next.role.as_str() }))?,
                Expect::Any,
            ));
        }
        match state.business.apply_records(&writes, state.now()).await {
            Ok(_) => {
                inbox::rebalance(&state, &m.business).await?;
                return Ok(ApiJson(agent_json(&next)));
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        "the member kept changing; try again",
    ))
}

async fn remove(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, user_id)): UrlPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let user_id = user_param(&user_id)?;
    let Some((target, version)) = agent_of(&state, &m.business, user_id).await? else {
        return Err(ApiError::not_found(format!("no team member {user_id}")));
    };
    team::check_manage(m.role(), target.role)?;
    let writes = [
        RecordWrite::delete(
            &waba_id,
            kinds::AGENT,
            user_id,
            version.map_or(Expect::Any, Expect::Version),
        ),
        RecordWrite::delete(
            GLOBAL_TENANT,
            kinds::WORKS_FOR,
            &format!("{user_id}/{waba_id}"),
            Expect::Any,
        ),
    ];
    state.business.apply_records(&writes, state.now()).await?;
    inbox::unassign_all(&state, &m.business, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
