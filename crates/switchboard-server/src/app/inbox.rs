//! The shared team inbox (`/v1/biz/{waba_id}/conversations`, notes, mentions,
//! settings) and its worker hooks: every customer message opens or reopens the
//! customer's conversation and hands it to an agent (round-robin within capacity,
//! oldest waiting first); human replies end the customer's wait and count the first
//! response; snoozes end on the worker's tick. Team-only data (status, assignee,
//! labels, notes) lives in records and never in the chat, so customers never see it.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use switchboard_app::inbox::{
    self, AssigneeFilter, Candidate, Conversation, KIND, Settings, Status, StatusChange, Waiting,
};
use switchboard_app::stats::metric;
use switchboard_app::{Role, kinds, team::Agent};
use switchboard_core::body::Body;
use switchboard_store::{Business, Expect, RecordWrite, StoredMessage};

use super::worker::{Event, Pass, count_now};
use super::{Member, agent_device, list, load, member, save, send_as_business, to_value, update};
use crate::admin::{JsonBody, UrlPath, UrlQuery};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    let base = "/v1/biz/{waba_id}";
    Router::new()
        .route(
            &format!("{base}/inbox/settings"),
            get(settings).put(put_settings),
        )
        .route(&format!("{base}/conversations"), get(index))
        .route(
            &format!("{base}/conversations/{{customer}}"),
            get(show).patch(change),
        )
        .route(
            &format!("{base}/conversations/{{customer}}/messages"),
            post(send),
        )
        .route(
            &format!("{base}/conversations/{{customer}}/typing"),
            post(typing),
        )
        .route(
            &format!("{base}/conversations/{{customer}}/read"),
            post(read),
        )
        .route(
            &format!("{base}/conversations/{{customer}}/notes"),
            get(notes).post(add_note),
        )
        .route(&format!("{base}/mentions"), get(mentions))
}

/// For `Option<Option<T>>` fields: absent → `None`, `null` → `Some(None)`.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A customer id from a path: the digits of a phone number, else 404.
pub fn customer_param(customer: &str) -> ApiResult<&str> {
    if (8..=15).contains(&customer.len()) && customer.bytes().all(|b| b.is_ascii_digit()) {
        Ok(customer)
    } else {
        Err(ApiError::not_found(format!(
            "no conversation with {customer:?}"
        )))
    }
}

/// The conversation with `customer`, or 404.
pub async fn conversation(
    state: &SharedState,
    waba_id: &str,
    customer: &str,
) -> ApiResult<Conversation> {
    load::<Conversation>(state, waba_id, KIND, customer)
        .await?
        .map(|(c, _)| c)
        .ok_or_else(|| ApiError::not_found(format!("no conversation with {customer}")))
}

/// Changes an existing conversation under optimistic concurrency (404 if none).
pub async fn change_conversation<F>(
    state: &SharedState,
    waba_id: &str,
    customer: &str,
    mut f: F,
) -> ApiResult<Conversation>
where
    F: FnMut(&mut Conversation) -> ApiResult<()>,
{
    let out = update::<Conversation, _>(state, waba_id, KIND, customer, |cur| match cur {
        None => Err(ApiError::not_found(format!(
            "no conversation with {customer}"
        ))),
        Some(mut c) => {
            f(&mut c)?;
            Ok(Some(c))
        }
    })
    .await?;
    out.ok_or_else(|| ApiError::not_found(format!("no conversation with {customer}")))
}

/// A conversation as the team sees it: labels that still exist, who else is replying.
pub fn conversation_json(c: &Conversation, labels: &[String], me: &str, now: i64) -> Value {
    json!({
        "customer": c.customer,
        "phone": switchboard_core::phone::phone_of(&c.customer),
        "status": c.status,
        "snoozed_until": c.snoozed_until,
        "assignee": c.assignee,
        "labels": c.labels.iter().filter(|l| labels.contains(l)).collect::<Vec<_>>(),
        "opened_at": c.opened_at,
        "waiting_since": c.waiting_since,
        "last_inbound_at": c.last_inbound_at,
        "last_outbound_at": c.last_outbound_at,
        "last_activity": c.last_activity,
        "preview": c.preview,
        "unread": c.unread,
        "replying": c.others_replying(me, now),
    })
}

async fn label_ids(state: &SharedState, waba_id: &str) -> ApiResult<Vec<String>> {
    Ok(super::labels::all(state, waba_id)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect())
}

// --- settings -----------------------------------------------------------------------

pub async fn settings_of(state: &SharedState, waba_id: &str) -> ApiResult<Settings> {
    Ok(
        load::<Settings>(state, waba_id, kinds::SETTINGS, inbox::SETTINGS_KEY)
            .await?
            .map(|(s, _)| s)
            .unwrap_or_default(),
    )
}

async fn settings(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Settings>> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    Ok(ApiJson(settings_of(&state, &waba_id).await?))
}

async fn put_settings(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<Settings>,
) -> ApiResult<ApiJson<Settings>> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    save(
        &state,
        &waba_id,
        kinds::SETTINGS,
        inbox::SETTINGS_KEY,
        &req,
        Expect::Any,
    )
    .await?;
    rebalance(&state, &m.business).await?;
    Ok(ApiJson(req))
}

// --- assignment ---------------------------------------------------------------------

/// Hands waiting conversations (open, unassigned) to available agents with room,
/// oldest first, round-robin. Called whenever capacity may have freed or a
/// conversation started waiting; each assignment is a versioned write that only
/// succeeds on a conversation still open and unassigned.
pub async fn rebalance(state: &SharedState, business: &Business) -> ApiResult<()> {
    let waba_id = &business.waba_id;
    if !settings_of(state, waba_id).await?.auto_assign {
        return Ok(());
    }
    let team: Vec<Agent> = super::team::stored_members(state, waba_id).await?;
    // Nobody to assign to (a business on the Cloud API alone has no team): no scan.
    if !team.iter().any(|a| a.available && a.capacity > 0) {
        return Ok(());
    }
    let convs = list::<Conversation>(state, waba_id, KIND, "").await?;
    let mut load: HashMap<&str, u32> = HashMap::new();
    let mut waiting = Vec::new();
    for (_, c, _) in &convs {
        match (&c.assignee, c.status) {
            (Some(a), s) if s.is_active() => *load.entry(a.as_str()).or_insert(0) += 1,
            (None, Status::Open) => waiting.push(Waiting {
                customer: c.customer.clone(),
                since: c.waiting_since.unwrap_or(c.opened_at),
            }),
            _ => {}
        }
    }
    if waiting.is_empty() {
        return Ok(());
    }
    let candidates = team
        .iter()
        .map(|a| Candidate {
            user_id: a.user_id.clone(),
            available: a.available,
            capacity: a.capacity,
            load: load.get(a.user_id.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let pointer = load_pointer(state, waba_id).await?;
    let (assignments, next) = inbox::assign(candidates, waiting, pointer.clone());
    for (customer, agent) in assignments {
        update::<Conversation, _>(state, waba_id, KIND, &customer, |cur| {
            Ok(cur.and_then(|mut c| {
                (c.assignee.is_none() && c.status == Status::Open).then(|| {
                    c.assignee = Some(agent.clone());
                    c
                })
            }))
        })
        .await?;
    }
    if next != pointer
        && let Some(p) = next
    {
        save(
            state,
            waba_id,
            inbox::STATE_KIND,
            inbox::POINTER_KEY,
            &p,
            Expect::Any,
        )
        .await?;
    }
    Ok(())
}

async fn load_pointer(state: &SharedState, waba_id: &str) -> ApiResult<Option<String>> {
    Ok(
        load::<String>(state, waba_id, inbox::STATE_KIND, inbox::POINTER_KEY)
            .await?
            .map(|(p, _)| p),
    )
}

/// A member left the team: their active conversations go back to the queue.
pub async fn unassign_all(
    state: &SharedState,
    business: &Business,
    user_id: &str,
) -> ApiResult<()> {
    let convs = list::<Conversation>(state, &business.waba_id, KIND, "").await?;
    for (customer, c, _) in convs {
        if c.assignee.as_deref() == Some(user_id) {
            update::<Conversation, _>(state, &business.waba_id, KIND, &customer, |cur| {
                Ok(cur.and_then(|mut c| {
                    (c.assignee.as_deref() == Some(user_id)).then(|| {
                        c.assignee = None;
                        c
                    })
                }))
            })
            .await?;
        }
    }
    rebalance(state, business).await
}

// --- worker hooks -------------------------------------------------------------------

fn preview_of(msg: &StoredMessage) -> String {
    Body::from_stored(&msg.body)
        .map(|b| b.preview())
        .unwrap_or_default()
}

/// Conversation state and assignment.
pub async fn on_event(pass: &mut Pass<'_>, ev: &Event<'_>) -> ApiResult<()> {
    let state = pass.state;
    let waba_id = &pass.business.waba_id;
    match *ev {
        Event::Inbound { msg, customer } => {
            let text = preview_of(msg);
            let mut waits = false;
            update::<Conversation, _>(state, waba_id, KIND, customer, |cur| {
                let next = Conversation::inbound(cur, customer, msg.seq, msg.ts, &text);
                waits = next.as_ref().is_some_and(|c| c.assignee.is_none());
                Ok(next)
            })
            .await?;
            if waits {
                rebalance(state, pass.business).await?;
            }
        }
        Event::Outbound { msg, customer, by } => {
            let text = preview_of(msg);
            let mut first = None;
            update::<Conversation, _>(state, waba_id, KIND, customer, |cur| {
                first = None;
                let Some(mut c) = cur else { return Ok(None) };
                match c.outbound(msg.seq, msg.ts, &text, by.is_human()) {
                    None => Ok(None),
                    Some(f) => {
                        first = f;
                        Ok(Some(c))
                    }
                }
            })
            .await?;
            if let Some(ms) = first {
                pass.count(msg.ts, metric::FIRST_RESPONSE_MS, ms);
                pass.count(msg.ts, metric::FIRST_RESPONSES, 1);
            }
        }
        Event::Receipt { .. } => {}
    }
    Ok(())
}

/// Snoozes that ended: the conversation opens again and goes back to assignment.
pub async fn tick(pass: &mut Pass<'_>) -> ApiResult<()> {
    let state = pass.state;
    let waba_id = &pass.business.waba_id;
    let due = state
        .business
        .records(waba_id, inbox::SNOOZE_KIND, "", None, 100)
        .await?;
    let mut woke = false;
    for r in due {
        let Some((until, customer)) = r.key.split_once('/') else {
            continue;
        };
        if until.parse::<i64>().is_ok_and(|u| u > pass.now) {
            break;
        }
        update::<Conversation, _>(state, waba_id, KIND, customer, |cur| {
            Ok(cur.and_then(|mut c| inbox::wake(&mut c, pass.now).then_some(c)))
        })
        .await?;
        state
            .business
            .delete_record(waba_id, inbox::SNOOZE_KIND, &r.key, Expect::Any, pass.now)
            .await?;
        woke = true;
    }
    if woke || sweep_due(state, waba_id, pass.now).await? {
        rebalance(state, pass.business).await?;
    }
    Ok(())
}

/// Whether the periodic sweep of the queue is due (once a minute): a safety net
/// for capacity freed while an assignment failed (every usual case assigns at once).
async fn sweep_due(state: &SharedState, waba_id: &str, now: i64) -> ApiResult<bool> {
    let next = load::<i64>(state, waba_id, inbox::STATE_KIND, inbox::SWEEP_KEY).await?;
    if next.is_some_and(|(at, _)| at > now) {
        return Ok(false);
    }
    save(
        state,
        waba_id,
        inbox::STATE_KIND,
        inbox::SWEEP_KEY,
        &(now + inbox::SWEEP_MS),
        Expect::Any,
    )
    .await?;
    Ok(true)
}

fn snooze_key(until: i64, customer: &str) -> String {
    format!("{until:013}/{customer}")
}

// --- conversations ------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    after: Option<String>,
}

async fn index(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    UrlQuery(q): UrlQuery<ListQuery>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be 1 to 200 (got {limit})"),
        ));
    }
    let status = q.status.as_deref().map(Status::parse).transpose()?;
    let who = AssigneeFilter::parse(q.assignee.as_deref(), m.user_id())?;
    let labels = label_ids(&state, &waba_id).await?;
    let mut all: Vec<Conversation> = list::<Conversation>(&state, &waba_id, KIND, "")
        .await?
        .into_iter()
        .map(|(_, c, _)| c)
        .filter(|c| status.is_none_or(|s| c.status == s))
        .filter(|c| who.matches(c.assignee.as_deref()))
        .filter(|c| {
            q.label
                .as_ref()
                .is_none_or(|l| labels.contains(l) && c.labels.contains(l))
        })
        .collect();
    all.sort_by(|a, b| {
        (std::cmp::Reverse(a.last_activity), &a.customer)
            .cmp(&(std::cmp::Reverse(b.last_activity), &b.customer))
    });
    let mut page = Vec::new();
    for c in all {
        if let Some(after) = &q.after
            && !inbox::after_cursor(&c, after)?
        {
            continue;
        }
        page.push(c);
        if page.len() > limit {
            break;
        }
    }
    let next = (page.len() > limit).then(|| {
        page.truncate(limit);
        page.last().map(inbox::cursor)
    });
    let now = state.now();
    Ok(ApiJson(json!({
        "conversations": page
            .iter()
            .map(|c| conversation_json(c, &labels, m.user_id(), now))
            .collect::<Vec<_>>(),
        "next": next.flatten(),
    })))
}

/// A chat message as the team sees it, with the member who wrote it.
pub fn message_json(state: &SharedState, business: &Business, msg: &StoredMessage) -> Value {
    let rendered = crate::render::message(msg, &business.user_id, None, &state.directory);
    let mut v = serde_json::to_value(&rendered).unwrap_or(Value::Null);
    if let (Some(o), Some(agent)) = (
        v.as_object_mut(),
        msg.sender_device.strip_prefix(super::AGENT_DEVICE_PREFIX),
    ) {
        o.insert("agent".into(), json!(agent));
    }
    v
}

async fn show(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let customer = customer_param(&customer)?;
    let c = conversation(&state, &waba_id, customer).await?;
    let labels = label_ids(&state, &waba_id).await?;
    let chat_id = switchboard_core::ids::direct_chat_id(&m.business.user_id, customer);
    let messages = state.store.history(&chat_id, None, 50).await?;
    let mut tagged = super::labels::on_messages(&state, &waba_id, customer, &labels).await?;
    let mut out = conversation_json(&c, &labels, m.user_id(), state.now());
    if let Some(o) = out.as_object_mut() {
        o.insert("chat_id".into(), json!(chat_id));
        o.insert(
            "messages".into(),
            messages
                .iter()
                .map(|msg| {
                    let mut v = message_json(&state, &m.business, msg);
                    if let (Some(o), Some(l)) = (v.as_object_mut(), tagged.remove(&msg.id)) {
                        o.insert("labels".into(), json!(l));
                    }
                    v
                })
                .collect(),
        );
    }
    Ok(ApiJson(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    snoozed_until: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
}

async fn change(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<ChangeBody>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let customer = customer_param(&customer)?;
    let ch = StatusChange {
        status: req.status.as_deref().map(Status::parse).transpose()?,
        snoozed_until: req.snoozed_until,
    };
    if let Some(Some(a)) = &req.assignee
        && super::team::agent_of(&state, &m.business, a)
            .await?
            .is_none()
    {
        return Err(ApiError::bad_request(
            "not_a_member",
            format!("{a:?} is not in the team; see GET /v1/biz/{waba_id}/team"),
        ));
    }
    let now = state.now();
    let admin = m.role() >= Role::Admin;
    let mut changed = Default::default();
    let c = change_conversation(&state, &waba_id, customer, |c| {
        if let Some(next) = &req.assignee {
            inbox::check_assign(m.user_id(), admin, c.assignee.as_deref(), next.as_deref())?;
            c.assignee = next.clone();
        }
        changed = inbox::change_status(c, ch, now)?;
        Ok(())
    })
    .await?;
    if let (Status::Snoozed, Some(until)) = (c.status, c.snoozed_until) {
        save(
            &state,
            &waba_id,
            inbox::SNOOZE_KIND,
            &snooze_key(until, customer),
            &json!({}),
            Expect::Any,
        )
        .await?;
    }
    if let Some(ms) = changed.resolved_after {
        let tz = super::automation::time_zone(&state, &m.business).await?;
        count_now(
            &state,
            &waba_id,
            tz.as_deref(),
            now,
            metric::RESOLUTION_MS,
            ms,
        )
        .await?;
        count_now(&state, &waba_id, tz.as_deref(), now, metric::RESOLUTIONS, 1).await?;
    }
    rebalance(&state, &m.business).await?;
    let c = conversation(&state, &waba_id, customer).await?;
    let labels = label_ids(&state, &waba_id).await?;
    Ok(ApiJson(conversation_json(&c, &labels, m.user_id(), now)))
}

// --- sending ------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    client_id: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    quick_reply: Option<String>,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default)]
    signature: bool,
}

/// Longest client id, in characters.
const MAX_CLIENT_ID: usize = 64;

/// The body of an agent's message: their text or a quick reply, signed on request.
async fn compose(state: &SharedState, m: &Member, req: &SendBody) -> ApiResult<String> {
    let (text, media_id) = match (&req.text, &req.quick_reply) {
        (Some(t), None) => (switchboard_app::text::text("text", t, 1, 4096, true)?, None),
        (None, Some(shortcut)) => {
            let r = super::replies::resolve(state, m.waba_id(), shortcut)
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        "unknown_quick_reply",
                        format!(
                            "no quick reply {shortcut:?}; see GET /v1/biz/{}/replies",
                            m.waba_id()
                        ),
                    )
                })?;
            (r.text, r.media_id)
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "send exactly one of text and quick_reply",
            ));
        }
    };
    let signature = if req.signature {
        super::team::agent_of(state, &m.business, m.user_id())
            .await?
            .and_then(|(a, _)| a.signature)
    } else {
        None
    };
    let text = switchboard_app::team::signed(&text, signature.as_deref());
    let body = match media_id {
        Some(media_id) => json!({"media_id": media_id, "caption": text}),
        None => json!({ "text": text }),
    };
    Ok(Body::parse(&body.to_string())?.to_json())
}

async fn send(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<SendBody>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let customer = customer_param(&customer)?;
    let client_id =
        switchboard_app::text::text("client_id", &req.client_id, 1, MAX_CLIENT_ID, false)?;
    let c = conversation(&state, &waba_id, customer).await?;
    let body = compose(&state, &m, &req).await?;
    let now = state.now();
    let others = c.others_replying(m.user_id(), now);
    let sent = send_as_business(
        &state,
        &m.business,
        customer,
        &agent_device(m.user_id()),
        &client_id,
        body,
        req.reply_to.clone(),
    )
    .await?;
    change_conversation(&state, &waba_id, customer, |c| {
        c.sent_by(m.user_id(), now);
        Ok(())
    })
    .await?;
    let mut out = json!({
        "message": {"id": sent.id, "chat_id": sent.chat_id, "seq": sent.seq, "ts": sent.ts},
    });
    if !others.is_empty()
        && let Some(o) = out.as_object_mut()
    {
        o.insert("notice".into(), json!("someone_else_replying"));
        o.insert("replying".into(), json!(others));
    }
    let status = if sent.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, ApiJson(out)))
}

async fn typing(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let customer = customer_param(&customer)?;
    let now = state.now();
    let c = change_conversation(&state, &waba_id, customer, |c| {
        c.mark_replying(m.user_id(), now);
        Ok(())
    })
    .await?;
    Ok(ApiJson(json!({
        "replying_until": now + inbox::REPLYING_MS,
        "others_replying": c.others_replying(m.user_id(), now),
    })))
}

/// `POST …/conversations/{customer}/read`: a team member read the conversation; the
/// business's read receipt up to the customer's last message goes to the customer
/// (read ticks), from the member's agent device.
async fn read(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let customer = customer_param(&customer)?;
    let chat_id = switchboard_core::ids::direct_chat_id(&m.business.user_id, customer);
    let last = state.store.history(&chat_id, None, 20).await?;
    let Some(up_to) = last
        .iter()
        .filter(|msg| msg.sender == customer)
        .map(|msg| msg.seq)
        .max()
    else {
        return Ok(ApiJson(json!({"read_up_to": null})));
    };
    state
        .store
        .receipt(switchboard_store::NewReceipt {
            chat_id,
            user_id: m.business.user_id.clone(),
            device_id: agent_device(m.user_id()),
            up_to_seq: up_to,
            status: switchboard_store::ReceiptStatus::Read,
            ts: state.now(),
        })
        .await?;
    Ok(ApiJson(json!({"read_up_to": up_to})))
}

// --- notes and mentions ---------------------------------------------------------------

/// A note of the team on a conversation; customers never see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub customer: String,
    pub author: String,
    pub text: String,
    pub mentions: Vec<String>,
    pub ts: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
}

async fn add_note(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<NoteBody>,
) -> ApiResult<(StatusCode, ApiJson<Note>)> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let customer = customer_param(&customer)?;
    conversation(&state, &waba_id, customer).await?;
    let text = switchboard_app::text::text("text", &req.text, 1, inbox::MAX_NOTE, true)?;
    let team: Vec<String> = super::team::members(&state, &m.business)
        .await?
        .into_iter()
        .map(|a| a.user_id)
        .collect();
    let now = state.now();
    let id = format!("{now:013}-{}", hex::encode(rand::random::<[u8; 6]>()));
    let note = Note {
        id: id.clone(),
        customer: customer.to_owned(),
        author: m.user_id().to_owned(),
        mentions: inbox::mentions(&text, &team),
        text,
        ts: now,
    };
    let value = to_value(&note)?;
    let mut writes = vec![RecordWrite::put(
        &waba_id,
        inbox::NOTE_KIND,
        &format!("{customer}/{id}"),
        value.clone(),
        Expect::Absent,
    )];
    for who in &note.mentions {
        writes.push(RecordWrite::put(
            &waba_id,
            inbox::MENTION_KIND,
            &format!("{who}/{id}"),
            value.clone(),
            Expect::Absent,
        ));
    }
    state.business.apply_records(&writes, now).await?;
    Ok((StatusCode::CREATED, ApiJson(note)))
}

async fn notes(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let customer = customer_param(&customer)?;
    let all = list::<Note>(&state, &waba_id, inbox::NOTE_KIND, &format!("{customer}/")).await?;
    let notes: Vec<Note> = all.into_iter().map(|(_, n, _)| n).collect();
    Ok(ApiJson(json!({ "notes": notes })))
}

async fn mentions(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let all = list::<Note>(
        &state,
        &waba_id,
        inbox::MENTION_KIND,
        &format!("{}/", m.user_id()),
    )
    .await?;
    let mut notes: Vec<Note> = all.into_iter().map(|(_, n, _)| n).collect();
    notes.reverse();
    notes.truncate(200);
    Ok(ApiJson(json!({ "mentions": notes })))
}
