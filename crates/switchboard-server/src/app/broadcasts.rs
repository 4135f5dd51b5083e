//! Broadcasts and scheduled sends: customers' opt-ins, broadcast lists, and sends
//! that the app worker carries out in chunks when they are due ([`tick`]).
//!
//! A send is one record (`broadcast`, with its status, progress and resume point)
//! plus an entry in the due index (`due`, keyed by due time) that the worker reads
//! from the front, so a tick reads only what is due. Each tick sends the next chunk
//! of each due send and saves its progress with a versioned write; messages carry
//! the client id `bc:{send_id}:{customer}`, so a chunk replayed after a crash (or a
//! lost lease) stores nothing twice. The rules (who receives, which times and
//! bodies are valid, when a send can be cancelled) are `switchboard_app::broadcast`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_app::broadcast::{
    self as bc, Delivery, List, OptIn, Progress, Send, Source, Status, Target, kind,
};
use switchboard_app::{AppError, Role};
use switchboard_store::{Business, Expect, RecordWrite, StoreError};

use super::worker::Pass;
use super::{BROADCAST_DEVICE, Member, load, member, save, send_as_business, to_value};
use crate::admin::{JsonBody, UrlPath, UrlQuery};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

/// Due sends a tick looks at (each gets one chunk).
const DUE_PER_TICK: usize = 20;
/// Most records a listing answers.
const PAGE_MAX: usize = 1000;

pub fn router() -> Router<SharedState> {
    let biz = "/v1/biz/{waba_id}";
    Router::new()
        .route(
            "/v1/businesses/{user_id}/broadcasts",
            put(set_own_opt_in).get(own_opt_in),
        )
        .route(&format!("{biz}/optins"), post(record_opt_in).get(opt_ins))
        .route(
            &format!("{biz}/broadcast-lists"),
            get(lists).post(create_list),
        )
        .route(
            &format!("{biz}/broadcast-lists/{{list_id}}"),
            get(show_list).patch(rename_list).delete(delete_list),
        )
        .route(
            &format!("{biz}/broadcast-lists/{{list_id}}/members"),
            get(members).post(change_members),
        )
        .route(
            &format!("{biz}/broadcasts"),
            get(list_broadcasts).post(create_broadcast),
        )
        .route(&format!("{biz}/broadcasts/{{id}}"), get(show_send))
        .route(
            &format!("{biz}/broadcasts/{{id}}/cancel"),
            post(cancel_send),
        )
        .route(
            &format!("{biz}/scheduled"),
            get(list_scheduled).post(create_scheduled),
        )
        .route(&format!("{biz}/scheduled/{{id}}"), get(show_send))
        .route(&format!("{biz}/scheduled/{{id}}/cancel"), post(cancel_send))
}

fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// A customer given as a user id or an E.164 phone, who must be a registered user
/// other than the business itself.
fn customer_id(business: &Business, given: &str) -> ApiResult<String> {
    let id = switchboard_core::phone::user_id_from_phone_or_id(given).map_err(|_| {
        ApiError::bad_request(
            "invalid_customer",
            format!(
                "customer {:?} is not a user id or an E.164 phone (+49…)",
                given.chars().take(40).collect::<String>()
            ),
        )
    })?;
    if id == business.user_id {
        return Err(ApiError::bad_request(
            "invalid_customer",
            "the business cannot be its own customer",
        ));
    }
    Ok(id)
}

async fn registered(state: &SharedState, user_id: &str) -> ApiResult<bool> {
    Ok(state.store.user(user_id).await?.is_some())
}

// --- opt-in ---

async fn business_of_user(state: &SharedState, user_id: &str) -> ApiResult<Business> {
    let not_found = || ApiError::not_found("no business with this user id");
    if user_id.is_empty() || user_id.len() > 32 {
        return Err(not_found());
    }
    state
        .business
        .business_by_user(user_id)
        .await?
        .ok_or_else(not_found)
}

fn opt_in_json(o: Option<&OptIn>) -> Value {
    match o {
        None => json!({"opted_in": false, "at": null, "source": null}),
        Some(o) => json!({"opted_in": o.opted_in, "at": o.at, "source": o.source}),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnOptIn {
    opt_in: bool,
}

async fn set_own_opt_in(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(user_id): UrlPath<String>,
    JsonBody(req): JsonBody<OwnOptIn>,
) -> ApiResult<ApiJson<Value>> {
    let b = business_of_user(&state, &user_id).await?;
    let o = OptIn {
        opted_in: req.opt_in,
        at: state.now(),
        source: Source::Customer,
        evidence: None,
        by: None,
    };
    save(
        &state,
        &b.waba_id,
        kind::OPTIN,
        &auth.user_id,
        &o,
        Expect::Any,
    )
    .await?;
    Ok(ApiJson(opt_in_json(Some(&o))))
}

async fn own_opt_in(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(user_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let b = business_of_user(&state, &user_id).await?;
    let o = load::<OptIn>(&state, &b.waba_id, kind::OPTIN, &auth.user_id).await?;
    Ok(ApiJson(opt_in_json(o.as_ref().map(|(o, _)| o))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordOptIn {
    customer: String,
    evidence: String,
}

async fn record_opt_in(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<RecordOptIn>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let customer = customer_id(&m.business, &req.customer)?;
    let evidence = bc::evidence(&req.evidence)?;
    if !registered(&state, &customer).await? {
        return Err(ApiError::not_found(format!(
            "+{customer} is not a registered user"
        )));
    }
    // A customer's own "no" stands: the business cannot overrule it.
    if let Some((o, _)) = load::<OptIn>(&state, m.waba_id(), kind::OPTIN, &customer).await?
        && !o.opted_in
        && o.source == Source::Customer
    {
        return Err(AppError::conflict(
            "customer_opted_out",
            "the customer opted out of broadcasts themselves; only they can opt in again",
        )
        .into());
    }
    let o = OptIn {
        opted_in: true,
        at: state.now(),
        source: Source::Business,
        evidence: Some(evidence),
        by: Some(m.user_id().to_owned()),
    };
    save(&state, m.waba_id(), kind::OPTIN, &customer, &o, Expect::Any).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(
            json!({"customer": customer, "opted_in": true, "at": o.at, "source": o.source, "evidence": o.evidence}),
        ),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

fn page_limit(limit: Option<usize>) -> ApiResult<usize> {
    let l = limit.unwrap_or(100);
    if !(1..=PAGE_MAX).contains(&l) {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("limit must be 1 to {PAGE_MAX} (got {l})"),
        ));
    }
    Ok(l)
}

async fn opt_ins(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    UrlQuery(q): UrlQuery<PageQuery>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let limit = page_limit(q.limit)?;
    let page = state
        .business
        .records(m.waba_id(), kind::OPTIN, "", q.after.as_deref(), limit)
        .await?;
    let mut data = Vec::with_capacity(page.len());
    for r in &page {
        let o: OptIn = super::parse(kind::OPTIN, &r.value)?;
        data.push(json!({"customer": r.key, "opted_in": o.opted_in, "at": o.at, "source": o.source, "evidence": o.evidence}));
    }
    let next = (page.len() == limit).then(|| page.last().map(|r| r.key.clone()));
    Ok(ApiJson(json!({"data": data, "next": next.flatten()})))
}

// --- lists ---

fn list_json(l: &List, members: u64) -> Value {
    json!({"id": l.id, "name": l.name, "members": members, "created_at": l.created_at, "updated_at": l.updated_at})
}

fn member_prefix(list_id: &str) -> String {
    format!("{list_id}/")
}

/// The customer of a member key (`{list_id}/{customer}`).
fn member_of<'a>(prefix: &str, key: &'a str) -> &'a str {
    key.strip_prefix(prefix).unwrap_or(key)
}

async fn member_count(state: &SharedState, waba_id: &str, list_id: &str) -> ApiResult<u64> {
    Ok(state
        .business
        .count_records(waba_id, kind::LIST_MEMBER, &member_prefix(list_id))
        .await?)
}

/// The record `id` of `record_kind` of the caller's business, with its version, or
/// 404 ("no {what} …").
async fn find<T: serde::de::DeserializeOwned>(
    state: &SharedState,
    m: &Member,
    record_kind: &str,
    what: &str,
    id: &str,
) -> ApiResult<(T, u64)> {
    let not_found = || ApiError::not_found(format!("no {what} {id:?}"));
    if !bc::valid_id(id) {
        return Err(not_found());
    }
    load::<T>(state, m.waba_id(), record_kind, id)
        .await?
        .ok_or_else(not_found)
}

/// The list `list_id` of the caller's business, with its version, or 404.
async fn find_list(state: &SharedState, m: &Member, list_id: &str) -> ApiResult<(List, u64)> {
    find(state, m, kind::LIST, "broadcast list", list_id).await
}

async fn lists(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let all = super::list::<List>(&state, m.waba_id(), kind::LIST, "").await?;
    let mut data = Vec::with_capacity(all.len());
    for (_, l, _) in &all {
        data.push(list_json(
            l,
            member_count(&state, m.waba_id(), &l.id).await?,
        ));
    }
    Ok(ApiJson(json!({ "lists": data })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListBody {
    name: String,
}

async fn create_list(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<ListBody>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let name = bc::list_name(&req.name)?;
    let n = state
        .business
        .count_records(m.waba_id(), kind::LIST, "")
        .await?;
    if n >= bc::MAX_LISTS {
        return Err(AppError::limit(
            "too_many_lists",
            format!("a business has at most {} broadcast lists", bc::MAX_LISTS),
        )
        .into());
    }
    let now = state.now();
    let l = List {
        id: new_id(),
        name,
        created_at: now,
        updated_at: now,
    };
    save(&state, m.waba_id(), kind::LIST, &l.id, &l, Expect::Absent).await?;
    Ok((StatusCode::CREATED, ApiJson(list_json(&l, 0))))
}

async fn show_list(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, list_id)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let (l, _) = find_list(&state, &m, &list_id).await?;
    let n = member_count(&state, m.waba_id(), &l.id).await?;
    Ok(ApiJson(list_json(&l, n)))
}

async fn rename_list(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, list_id)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<ListBody>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let name = bc::list_name(&req.name)?;
    let (mut l, version) = find_list(&state, &m, &list_id).await?;
    l.name = name;
    l.updated_at = state.now();
    save(
        &state,
        m.waba_id(),
        kind::LIST,
        &l.id,
        &l,
        Expect::Version(version),
    )
    .await?;
    let n = member_count(&state, m.waba_id(), &l.id).await?;
    Ok(ApiJson(list_json(&l, n)))
}

/// Deletes a list and its members (in batches). Sends to it that are still due
/// find no members and end with nothing sent.
async fn delete_list(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, list_id)): UrlPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let (l, version) = find_list(&state, &m, &list_id).await?;
    state
        .business
        .delete_record(
            m.waba_id(),
            kind::LIST,
            &l.id,
            Expect::Version(version),
            state.now(),
        )
        .await?;
    let prefix = member_prefix(&l.id);
    loop {
        let page = state
            .business
            .records(m.waba_id(), kind::LIST_MEMBER, &prefix, None, 500)
            .await?;
        if page.is_empty() {
            break;
        }
        let writes: Vec<RecordWrite> = page
            .iter()
            .map(|r| RecordWrite::delete(m.waba_id(), kind::LIST_MEMBER, &r.key, Expect::Any))
            .collect();
        state.business.apply_records(&writes, state.now()).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn members(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, list_id)): UrlPath<(String, String)>,
    UrlQuery(q): UrlQuery<PageQuery>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let (l, _) = find_list(&state, &m, &list_id).await?;
    let limit = page_limit(q.limit)?;
    let prefix = member_prefix(&l.id);
    let after = q.after.map(|a| format!("{prefix}{a}"));
    let page = state
        .business
        .records(
            m.waba_id(),
            kind::LIST_MEMBER,
            &prefix,
            after.as_deref(),
            limit,
        )
        .await?;
    let ids: Vec<&str> = page.iter().map(|r| member_of(&prefix, &r.key)).collect();
    let next = (page.len() == limit).then(|| ids.last().map(|s| (*s).to_owned()));
    Ok(ApiJson(
        json!({"members": ids, "next": next.flatten(), "total": member_count(&state, m.waba_id(), &l.id).await?}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersBody {
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

/// Adds and removes members: registered customers (user ids or phones). Unknown
/// numbers are not added and are answered in `not_registered`.
async fn change_members(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, list_id)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<MembersBody>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let (l, _) = find_list(&state, &m, &list_id).await?;
    if req.add.len() + req.remove.len() > bc::MAX_MEMBERS_PER_CALL {
        return Err(ApiError::bad_request(
            "too_many_members",
            format!(
                "add and remove at most {} customers per call",
                bc::MAX_MEMBERS_PER_CALL
            ),
        ));
    }
    if req.add.is_empty() && req.remove.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "give customers to add and/or remove",
        ));
    }
    let add: Vec<String> = req
        .add
        .iter()
        .map(|c| customer_id(&m.business, c))
        .collect::<ApiResult<_>>()?;
    let remove: Vec<String> = req
        .remove
        .iter()
        .map(|c| customer_id(&m.business, c))
        .collect::<ApiResult<_>>()?;
    let prefix = member_prefix(&l.id);
    let now = state.now();
    let mut writes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut not_registered = Vec::new();
    let (mut added, mut already, mut removed) = (0u64, 0u64, 0u64);
    for c in &remove {
        let key = format!("{prefix}{c}");
        if seen.insert(key.clone())
            && state
                .business
                .record(m.waba_id(), kind::LIST_MEMBER, &key)
                .await?
                .is_some()
        {
            removed += 1;
            writes.push(RecordWrite::delete(
                m.waba_id(),
                kind::LIST_MEMBER,
                &key,
                Expect::Any,
            ));
        }
    }
    for c in &add {
        let key = format!("{prefix}{c}");
        if !seen.insert(key.clone()) {
            continue;
        }
        if state
            .business
            .record(m.waba_id(), kind::LIST_MEMBER, &key)
            .await?
            .is_some()
        {
            already += 1;
        } else if registered(&state, c).await? {
            added += 1;
            writes.push(RecordWrite::put(
                m.waba_id(),
                kind::LIST_MEMBER,
                &key,
                json!({"added_at": now}).to_string(),
                Expect::Any,
            ));
        } else {
            not_registered.push(switchboard_core::phone::phone_of(c));
        }
    }
    let before = member_count(&state, m.waba_id(), &l.id).await?;
    if before + added - removed.min(before + added) > bc::MAX_MEMBERS {
        return Err(AppError::limit(
            "too_many_members",
            format!("a broadcast list has at most {} members", bc::MAX_MEMBERS),
        )
        .into());
    }
    for batch in writes.chunks(500) {
        state.business.apply_records(batch, now).await?;
    }
    Ok(ApiJson(json!({
        "added": added,
        "already": already,
        "removed": removed,
        "not_registered": not_registered,
        "members": member_count(&state, m.waba_id(), &l.id).await?,
    })))
}

// --- sends ---

fn send_json(s: &Send) -> Value {
    let body: Value = serde_json::from_str(&s.body).unwrap_or(Value::Null);
    let mut v = json!({
        "id": s.id,
        "type": if s.is_broadcast() { "broadcast" } else { "scheduled" },
        "body": body,
        "send_at": s.send_at,
        "status": s.status,
        "progress": s.progress,
        "created_by": s.created_by,
        "created_at": s.created_at,
        "started_at": s.started_at,
        "finished_at": s.finished_at,
    });
    match &s.target {
        Target::List(l) => v["list_id"] = json!(l),
        Target::Customer(c) => v["to"] = json!(c),
    }
    v
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BroadcastBody {
    list_id: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    media_id: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    send_at: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduledBody {
    to: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    media_id: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    send_at: i64,
}

/// The media id of a media body.
fn media_of(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    v.get("media_id")?.as_str().map(str::to_owned)
}

/// A media body's upload must exist and be usable by the team member who sends it
/// (their own upload, or media they received) or by the business's own user.
async fn check_media(state: &SharedState, m: &Member, body: &str) -> ApiResult<()> {
    let Some(media_id) = media_of(body) else {
        return Ok(());
    };
    let usable = match state
        .media
        .record(&media_id)
        .await
        .map_err(crate::media::api_error)?
    {
        Some(rec) => {
            crate::media::may_access(state, m.user_id(), &rec).await?
                || crate::media::may_access(state, &m.business.user_id, &rec).await?
        }
        None => false,
    };
    if usable {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "media_not_found",
            "media not found; upload it with POST /v1/media first",
        ))
    }
}

/// Stores a new send and its due entry together; wakes the worker if it is due.
async fn schedule(
    state: &SharedState,
    m: &Member,
    target: Target,
    body: String,
    send_at: i64,
) -> ApiResult<Send> {
    let now = state.now();
    let s = Send {
        id: new_id(),
        target,
        body,
        send_at,
        status: Status::Scheduled,
        progress: Progress::default(),
        cursor: None,
        created_by: m.user_id().to_owned(),
        created_at: now,
        started_at: None,
        finished_at: None,
    };
    let writes = [
        RecordWrite::put(
            m.waba_id(),
            kind::SEND,
            &s.id,
            to_value(&s)?,
            Expect::Absent,
        ),
        RecordWrite::put(
            m.waba_id(),
            kind::DUE,
            &s.due_key(),
            json!({"id": s.id}).to_string(),
            Expect::Absent,
        ),
    ];
    state.business.apply_records(&writes, now).await?;
    if send_at <= now {
        state.app_workers.wake(m.waba_id());
    }
    Ok(s)
}

async fn create_broadcast(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<BroadcastBody>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let body = bc::message_body(
        req.text.as_deref(),
        req.media_id.as_deref(),
        req.caption.as_deref(),
    )?;
    let send_at = bc::send_time(req.send_at, state.now())?;
    let (l, _) = find_list(&state, &m, req.list_id.trim()).await?;
    check_media(&state, &m, &body).await?;
    let s = schedule(&state, &m, Target::List(l.id), body, send_at).await?;
    Ok((StatusCode::CREATED, ApiJson(send_json(&s))))
}

async fn create_scheduled(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<ScheduledBody>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let body = bc::message_body(
        req.text.as_deref(),
        req.media_id.as_deref(),
        req.caption.as_deref(),
    )?;
    let send_at = bc::send_time(Some(req.send_at), state.now())?;
    let to = customer_id(&m.business, &req.to)?;
    check_media(&state, &m, &body).await?;
    if !registered(&state, &to).await? {
        return Err(ApiError::not_found(format!(
            "+{to} is not a registered user"
        )));
    }
    let s = schedule(&state, &m, Target::Customer(to), body, send_at).await?;
    Ok((StatusCode::CREATED, ApiJson(send_json(&s))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendsQuery {
    #[serde(default)]
    status: Option<String>,
}

/// Every send of one type (broadcasts or scheduled messages), newest first.
async fn list_sends(
    state: &SharedState,
    auth: &Authed,
    waba_id: &str,
    broadcasts: bool,
    status: Option<&str>,
) -> ApiResult<Value> {
    let m = member(state, auth, waba_id, Role::Agent).await?;
    let status = status.map(Status::parse).transpose()?;
    let all = super::list::<Send>(state, m.waba_id(), kind::SEND, "").await?;
    let data: Vec<Value> = all
        .iter()
        .rev()
        .filter(|(_, s, _)| {
            s.is_broadcast() == broadcasts && status.is_none_or(|st| s.status == st)
        })
        .map(|(_, s, _)| send_json(s))
        .collect();
    Ok(json!({ "data": data }))
}

async fn list_broadcasts(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    UrlQuery(q): UrlQuery<SendsQuery>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(
        list_sends(&state, &auth, &waba_id, true, q.status.as_deref()).await?,
    ))
}

async fn list_scheduled(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    UrlQuery(q): UrlQuery<SendsQuery>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(
        list_sends(&state, &auth, &waba_id, false, q.status.as_deref()).await?,
    ))
}

async fn find_send(state: &SharedState, m: &Member, id: &str) -> ApiResult<(Send, u64)> {
    find(state, m, kind::SEND, "send", id).await
}

async fn show_send(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, id)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let (s, _) = find_send(&state, &m, &id).await?;
    Ok(ApiJson(send_json(&s)))
}

/// Cancels a send that has not started (broadcasts: admin+; scheduled messages:
/// agent+). 409 `already_started` once the worker began sending.
async fn cancel_send(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, id)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    for _ in 0..16 {
        let (mut s, version) = find_send(&state, &m, &id).await?;
        if s.is_broadcast() {
            m.role().require(Role::Admin)?;
        }
        s.status = s.status.cancel()?;
        s.finished_at = Some(state.now());
        let writes = [
            RecordWrite::put(
                m.waba_id(),
                kind::SEND,
                &s.id,
                to_value(&s)?,
                Expect::Version(version),
            ),
            RecordWrite::delete(m.waba_id(), kind::DUE, &s.due_key(), Expect::Any),
        ];
        match state.business.apply_records(&writes, state.now()).await {
            Ok(_) => return Ok(ApiJson(send_json(&s))),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        "the send kept changing; try again",
    ))
}

// --- the worker's part ---

/// Sends that are due: each gets its next chunk.
pub async fn tick(pass: &mut Pass<'_>) -> ApiResult<()> {
    let state = pass.state;
    let waba_id = pass.business.waba_id.as_str();
    let due = state
        .business
        .records(waba_id, kind::DUE, "", None, DUE_PER_TICK)
        .await?;
    for r in due {
        match bc::due_of(&r.key) {
            Some(at) if at > pass.now => break,
            Some(_) => {}
            None => {
                drop_due(state, waba_id, &r.key).await?;
                continue;
            }
        }
        let id = r.key.split_once('/').map_or("", |(_, id)| id);
        run_chunk(pass, &r.key, id).await?;
    }
    Ok(())
}

async fn drop_due(state: &SharedState, waba_id: &str, key: &str) -> ApiResult<()> {
    state
        .business
        .apply_records(
            &[RecordWrite::delete(waba_id, kind::DUE, key, Expect::Any)],
            state.now(),
        )
        .await?;
    Ok(())
}

/// One chunk of one due send: starts it if needed, sends to the next members,
/// saves progress (and, after the last chunk, `done` and the due entry's removal)
/// in one versioned batch. A conflicting write (a cancel that won, another node)
/// leaves the send to the next tick.
async fn run_chunk(pass: &mut Pass<'_>, due_key: &str, id: &str) -> ApiResult<()> {
    let state = pass.state;
    let business = pass.business;
    let waba_id = business.waba_id.as_str();
    let Some((mut s, mut version)) = load::<Send>(state, waba_id, kind::SEND, id).await? else {
        return drop_due(state, waba_id, due_key).await;
    };
    match s.status {
        Status::Done | Status::Cancelled => return drop_due(state, waba_id, due_key).await,
        Status::Scheduled => {
            s.status = Status::Sending;
            s.started_at = Some(pass.now);
            s.progress.total = match &s.target {
                Target::List(l) => member_count(state, waba_id, l).await?,
                Target::Customer(_) => 1,
            };
            match save(state, waba_id, kind::SEND, id, &s, Expect::Version(version)).await {
                Ok(v) => version = v,
                Err(e) if e.code == "conflict" => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Status::Sending => {}
    }
    let (customers, cursor, last) = next_members(state, waba_id, &s).await?;
    let media = media_of(&s.body);
    let (mut sent, mut skipped) = (0u64, 0u64);
    for c in &customers {
        match delivery(state, business, &s, c).await? {
            Delivery::Send => {
                if let Some(media_id) = &media {
                    reference_media(state, business, c, media_id).await?;
                }
                send_as_business(
                    state,
                    business,
                    c,
                    BROADCAST_DEVICE,
                    &s.client_id(c),
                    s.body.clone(),
                    None,
                )
                .await?;
                sent += 1;
            }
            Delivery::Skip(_) => skipped += 1,
        }
    }
    s.advance(sent, skipped, cursor, last, pass.now);
    let mut writes = vec![RecordWrite::put(
        waba_id,
        kind::SEND,
        id,
        to_value(&s)?,
        Expect::Version(version),
    )];
    if last {
        writes.push(RecordWrite::delete(
            waba_id,
            kind::DUE,
            due_key,
            Expect::Any,
        ));
    }
    match state.business.apply_records(&writes, state.now()).await {
        Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Records that a chat holds the media (so garbage collection keeps it), before
/// the append, as a client's send does; access was checked when the send was made.
async fn reference_media(
    state: &SharedState,
    business: &Business,
    customer: &str,
    media_id: &str,
) -> ApiResult<()> {
    let chat = state
        .store
        .direct_chat(&business.user_id, customer, state.now())
        .await?;
    state
        .media
        .index
        .add_ref(media_id, &chat.chat_id, state.now())
        .await
        .map_err(crate::media::api_error)
}

/// The next chunk of a send's recipients, the resume point after it, and whether
/// it is the last chunk.
async fn next_members(
    state: &SharedState,
    waba_id: &str,
    s: &Send,
) -> ApiResult<(Vec<String>, Option<String>, bool)> {
    match &s.target {
        Target::Customer(c) => Ok((vec![c.clone()], None, true)),
        Target::List(l) => {
            let prefix = member_prefix(l);
            let page = state
                .business
                .records(
                    waba_id,
                    kind::LIST_MEMBER,
                    &prefix,
                    s.cursor.as_deref(),
                    bc::CHUNK,
                )
                .await?;
            let last = page.len() < bc::CHUNK;
            let cursor = page.last().map(|r| r.key.clone());
            let customers = page
                .iter()
                .map(|r| member_of(&prefix, &r.key).to_owned())
                .collect();
            Ok((customers, cursor, last))
        }
    }
}

async fn delivery(
    state: &SharedState,
    business: &Business,
    s: &Send,
    customer: &str,
) -> ApiResult<Delivery> {
    let flags = state
        .business
        .customer_flags(&business.waba_id, customer)
        .await?;
    let opt_in = if s.is_broadcast() {
        load::<OptIn>(state, &business.waba_id, kind::OPTIN, customer)
            .await?
            .map(|(o, _)| o)
    } else {
        None
    };
    Ok(bc::delivery(
        s.is_broadcast(),
        opt_in.as_ref(),
        flags.blocked,
        flags.marketing_opt_out,
    ))
}
