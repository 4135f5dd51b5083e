//! The business app's HTTP API (`/v1/biz/…`, for a business's team) and the
//! customer-facing parts it adds to `/v1/businesses/…`, plus the app worker that
//! reacts to the business's stream (greeting and away messages, conversation state,
//! statistics) and runs what is due (snoozes, scheduled sends).
//!
//! Team members authenticate as ordinary users (their device token) and act for the
//! business: [`member`] resolves the caller's role in the business or answers 404
//! (a non-member learns nothing, not even that the business exists). The domain
//! rules live in `switchboard-app`; this module stores its documents as records
//! (`RecordStore`, tenant = `waba_id`) through the helpers here.

pub mod account;
pub mod automation;
pub mod broadcasts;
pub mod catalog;
pub mod inbox;
pub mod labels;
pub mod links;
pub mod orders;
pub mod profile;
pub mod replies;
pub mod stats;
pub mod team;
pub mod templates;
pub mod verification;
pub mod worker;

use axum::Router;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_app::Role;
use switchboard_app::kinds;
use switchboard_app::team::Agent;
use switchboard_core::ids;
use switchboard_store::{Appended, Business, Expect, NewMessage, StoreError};

use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// The device id of messages the app's automation sends (greeting, away).
pub const AUTO_DEVICE: &str = "app:auto";
/// The device id of broadcast and scheduled sends.
pub const BROADCAST_DEVICE: &str = "app:broadcast";
/// The device id of order status messages and catalog/product messages.
pub const COMMERCE_DEVICE: &str = "app:commerce";
/// The prefix of the device id an agent's messages are appended under
/// (`agent:{user_id}`), so everyone can tell which team member wrote.
pub const AGENT_DEVICE_PREFIX: &str = "agent:";

pub fn agent_device(user_id: &str) -> String {
    format!("{AGENT_DEVICE_PREFIX}{user_id}")
}

pub fn router() -> Router<SharedState> {
    Router::new()
        .merge(account::router())
        .merge(automation::router())
        .merge(broadcasts::router())
        .merge(catalog::router())
        .merge(inbox::router())
        .merge(links::router())
        .merge(orders::router())
        .merge(profile::router())
        .merge(replies::router())
        .merge(stats::router())
        .merge(verification::router())
        .merge(team::router())
        .merge(labels::router())
        .merge(templates::router())
}

/// The caller as a member of a business.
#[derive(Debug, Clone)]
pub struct Member {
    pub business: Business,
    pub agent: Agent,
}

impl Member {
    pub fn waba_id(&self) -> &str {
        &self.business.waba_id
    }

    pub fn user_id(&self) -> &str {
        &self.agent.user_id
    }

    pub fn role(&self) -> Role {
        self.agent.role
    }
}

/// The caller's membership of business `waba_id`, if its role is at least `needed`.
/// 404 when the caller is not a member (or there is no such business), 403 when
/// the role is too low.
pub async fn member(
    state: &SharedState,
    auth: &Authed,
    waba_id: &str,
    needed: Role,
) -> ApiResult<Member> {
    let not_found = || ApiError::not_found(format!("business {waba_id} not found"));
    if waba_id.is_empty() || waba_id.len() > 40 || !waba_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_found());
    }
    let business = state
        .business
        .business(waba_id)
        .await?
        .ok_or_else(not_found)?;
    let agent = if business.user_id == auth.user_id {
        Agent::owner(&auth.user_id, business.created_at)
    } else {
        match load::<Agent>(state, waba_id, kinds::AGENT, &auth.user_id).await? {
            Some((a, _)) => a,
            None => return Err(not_found()),
        }
    };
    agent.role.require(needed)?;
    Ok(Member { business, agent })
}

/// A record of `tenant` read and parsed, with its version.
pub async fn load<T: DeserializeOwned>(
    state: &SharedState,
    tenant: &str,
    kind: &str,
    key: &str,
) -> ApiResult<Option<(T, u64)>> {
    match state.business.record(tenant, kind, key).await? {
        None => Ok(None),
        Some(r) => Ok(Some((parse(kind, &r.value)?, r.version))),
    }
}

/// Parses a stored record; a record that no longer parses is an internal error.
pub fn parse<T: DeserializeOwned>(kind: &str, value: &str) -> ApiResult<T> {
    serde_json::from_str(value)
        .map_err(|e| ApiError::internal(&StoreError::Format(format!("stored {kind} record: {e}"))))
}

/// Serialises a record value.
pub fn to_value<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value)
        .map_err(|e| ApiError::internal(&StoreError::Format(format!("record: {e}"))))
}

/// Writes a record; a failed expectation is a 409 `conflict` ("changed meanwhile").
pub async fn save<T: Serialize>(
    state: &SharedState,
    tenant: &str,
    kind: &str,
    key: &str,
    value: &T,
    expect: Expect,
) -> ApiResult<u64> {
    let v = to_value(value)?;
    Ok(state
        .business
        .put_record(tenant, kind, key, v, expect, state.now())
        .await?)
}

/// Every record of `(tenant, kind)` with `prefix`, parsed, in key order (read in
/// pages; a business's documents of one kind are few).
pub async fn list<T: DeserializeOwned>(
    state: &SharedState,
    tenant: &str,
    kind: &str,
    prefix: &str,
) -> ApiResult<Vec<(String, T, u64)>> {
    const PAGE: usize = 500;
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = state
            .business
            .records(tenant, kind, prefix, after.as_deref(), PAGE)
            .await?;
        let n = page.len();
        for r in page {
            let v = parse(kind, &r.value)?;
            after = Some(r.key.clone());
            out.push((r.key, v, r.version));
        }
        if n < PAGE {
            return Ok(out);
        }
    }
}

/// Read-modify-write of one record under optimistic concurrency: `f` gets the
/// current value (or `None`) and returns the new one (or `None` to leave it as it
/// is); a concurrent change makes it run again on the fresh value. Answers what was
/// written (or the unchanged value).
pub async fn update<T, F>(
    state: &SharedState,
    tenant: &str,
    kind: &str,
    key: &str,
    mut f: F,
) -> ApiResult<Option<T>>
where
    T: Serialize + DeserializeOwned + Clone,
    F: FnMut(Option<T>) -> ApiResult<Option<T>>,
{
    for _ in 0..16 {
        let current = load::<T>(state, tenant, kind, key).await?;
        let (old, expect) = match current {
            Some((v, version)) => (Some(v), Expect::Version(version)),
            None => (None, Expect::Absent),
        };
        let Some(new) = f(old.clone())? else {
            return Ok(old);
        };
        match save(state, tenant, kind, key, &new, expect).await {
            Ok(_) => return Ok(Some(new)),
            Err(e) if e.code == "conflict" => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "conflict",
        "the record kept changing; try again",
    ))
}

/// Appends `body` (canonical JSON of a checked body) to the direct chat of the
/// business and `customer`, as the business, from `device` (one of the app's
/// device ids or [`agent_device`]). `client_id` makes retries idempotent: the same
/// `(device, client_id)` is stored once.
pub async fn send_as_business(
    state: &SharedState,
    business: &Business,
    customer: &str,
    device: &str,
    client_id: &str,
    body: String,
    reply_to: Option<String>,
) -> ApiResult<Appended> {
    let now = state.now();
    let chat = state
        .store
        .direct_chat(&business.user_id, customer, now)
        .await?;
    let appended = state
        .store
        .append(NewMessage {
            chat_id: chat.chat_id,
            sender: business.user_id.clone(),
            sender_device: device.to_owned(),
            client_id: client_id.to_owned(),
            body,
            reply_to,
            ts: now,
        })
        .await?;
    Ok(appended)
}

/// The customer of a direct chat of the business (the other member).
pub fn customer_of(chat_id: &str, business_user: &str) -> Option<String> {
    let (a, b) = ids::direct_members(chat_id)?;
    if a == business_user {
        Some(b.to_owned())
    } else if b == business_user {
        Some(a.to_owned())
    } else {
        None
    }
}
