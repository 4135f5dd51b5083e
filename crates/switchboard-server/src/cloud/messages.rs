//! `POST /{phone_number_id}/messages`: a business sends a message (checked against
//! every policy: throughput, the pair limit, blocks and opt-outs, the 24-hour
//! service window, template state, the messaging limit tier), marks a customer's
//! message read, or shows a typing indicator.
//!
//! A send is an ordinary append to the direct chat of the business and the customer,
//! from the business's API device: the `200` means it is durable, the customer's
//! devices get it live or on their next sync, and the webhook dispatcher turns the
//! business's own stream into `sent`/`delivered`/`read` statuses.

use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use switchboard_business::error::GraphError;
use switchboard_business::ids;
use switchboard_business::policy;
use switchboard_business::send::{self, Content, MediaKind, MediaSource, Outbound, Request};
use switchboard_business::template;
use switchboard_proto::frames::{ReceiptStatus, ServerFrame};
use switchboard_store::{Business, MessageMeta, NewMessage, NewReceipt, PendingExpiry, StoreError};

use super::{GraphResult, ok_json, success};
use crate::render;
use crate::state::SharedState;

/// The device id the business API appends and reads as.
pub const API_DEVICE: &str = "cloud-api";

/// The pair limit: a business may send a customer this many messages per window
/// (on average one per 6 s, in bursts of up to 45).
const PAIR_BURST: u32 = 45;
const PAIR_WINDOW_MS: i64 = 45 * 6_000;

pub async fn post(
    state: &SharedState,
    b: &Business,
    body: &Value,
    idempotency_key: Option<&str>,
) -> GraphResult<Response> {
    match send::parse_request(body)? {
        Request::MarkRead { message_id, typing } => mark_read(state, b, &message_id, typing).await,
        Request::Send(out) => send_message(state, b, out, idempotency_key).await,
    }
}

/// When the customer last wrote, from the tracker when it knows, else from history.
async fn window_start(
    state: &SharedState,
    business_user: &str,
    chat_id: &str,
    customer: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    if let Some(known) = state.inbound.get(business_user, customer) {
        return Ok(known);
    }
    let read = last_inbound(state, chat_id, customer, now).await?;
    state.inbound.learned(business_user, customer, read);
    Ok(read)
}

/// When the customer last wrote in `chat_id`, if within the service window.
pub async fn last_inbound(
    state: &SharedState,
    chat_id: &str,
    customer: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    const PAGE: usize = 100;
    let horizon = now - policy::SERVICE_WINDOW_MS;
    let mut before = None;
    loop {
        let page = state.store.history(chat_id, before, PAGE).await?;
        for m in &page {
            if m.ts < horizon {
                return Ok(None);
            }
            if m.sender == customer {
                return Ok(Some(m.ts));
            }
        }
        if page.len() < PAGE {
            return Ok(None);
        }
        before = page.last().map(|m| m.seq);
    }
}

async fn send_message(
    state: &SharedState,
    b: &Business,
    out: Outbound,
    idempotency_key: Option<&str>,
) -> GraphResult<Response> {
    let now = state.now();
    if let Some(mps) = b.throughput_mps
        && !state
            .store
            .rate_hit(&format!("mps:{}", b.phone_number_id), mps, 1000, now)
            .await?
    {
        metrics::counter!("switchboard_cloud_throttled_total").increment(1);
        return Err(GraphError::new(
            130429,
            format!("Cloud API message throughput of {mps} messages per second has been reached"),
        )
        .into());
    }
    let customer = out.to.clone();
    if customer == b.user_id {
        return Err(GraphError::new(131021, "the recipient is the sender's own number").into());
    }
    if !user_exists(state, &customer, now).await? {
        return Err(GraphError::new(
            131026,
            "Message undeliverable: the recipient is not registered on Switchboard",
        )
        .into());
    }
    if !state
        .store
        .rate_hit(
            &format!("pair:{}:{customer}", b.phone_number_id),
            PAIR_BURST,
            PAIR_WINDOW_MS,
            now,
        )
        .await?
    {
        return Err(GraphError::new(
            131056,
            "too many messages to this recipient in a short time; wait and retry",
        )
        .into());
    }
    let flags = customer_flags(state, &b.waba_id, &customer, now).await?;
    if flags.blocked {
        return Err(GraphError::new(
            131026,
            "Message undeliverable: the recipient does not accept messages from this business",
        )
        .into());
    }
    let chat_id = switchboard_core::ids::direct_chat_id(&b.user_id, &customer);
    let chat_exists = chat_exists(state, &chat_id, now).await?;
    let mut in_window = if chat_exists {
        policy::in_service_window(
            window_start(state, &b.user_id, &chat_id, &customer, now).await?,
            now,
        )
    } else {
        false
    };

    // The body the customer will see, and what pricing applies.
    let media_id = match out.content.media_needed() {
        Some((kind, source)) => Some(resolve_media(state, b, kind, source).await?),
        None => None,
    };
    let (body, template_category, template_name) = match &out.content {
        Content::Template(t) => {
            let def = template(state, &b.waba_id, &t.name, &t.language, now)
                .await?
                .ok_or_else(|| {
                    GraphError::new(
                        132001,
                        format!(
                            "template name ({}) does not exist in the translation ({})",
                            t.name, t.language
                        ),
                    )
                })?;
            template::sendable(&def.status)?;
            let category = def.category.to_ascii_lowercase();
            if category == "marketing" && flags.marketing_opt_out {
                return Err(GraphError::new(
                    131050,
                    "the recipient stopped marketing messages from this business",
                )
                .into());
            }
            let rendered = template::render(
                &serde_json::from_str::<Value>(&def.components).unwrap_or(Value::Array(vec![])),
                &def.parameter_format,
                t,
                media_id.as_deref(),
            )?;
            (
                template::rendered_body_json(&def.name, &def.language, &category, &rendered),
                Some(category),
                Some(def.name.clone()),
            )
        }
        other => {
            if !in_window && chat_exists && state.inbound.enabled() {
                // Confirm a refusal from the store (the tracker may lag a commit).
                in_window = policy::in_service_window(
                    last_inbound(state, &chat_id, &customer, now).await?,
                    now,
                );
            }
            policy::check_content_allowed(false, in_window)?;
            (other.body_json(media_id.as_deref()), None, None)
        }
    };

    // Messaging limit: unique customers reached outside a window per rolling 24 h.
    let outside_window = template_category.is_some() && !in_window;
    let new_customer = outside_window && check_tier(state, b, &customer, now).await?;
    let reply_to = match &out.context_message_id {
        None => None,
        Some(wamid) => {
            let id = ids::parse_wamid(wamid)
                .filter(|id| {
                    switchboard_core::ids::parse_message_id(id).is_some_and(|(c, _)| c == chat_id)
                })
                .ok_or_else(|| {
                    GraphError::invalid_value(
                        "context.message_id",
                        "not a message of this conversation",
                    )
                })?;
            Some(id)
        }
    };

    let class = policy::classify(
        template_category.as_deref(),
        in_window,
        switchboard_business::pricing::calling_code(&b.user_id),
        switchboard_business::pricing::calling_code(&customer),
    );
    // A retried request with the same Idempotency-Key appends under the same client
    // id, so even a retry after a crash stores the message once.
    let client_id = match idempotency_key {
        Some(key) => {
            let mut h = Sha256::new();
            h.update(b.waba_id.as_bytes());
            h.update([0]);
            h.update(key.as_bytes());
            format!("idem-{}", &hex::encode(h.finalize())[..32])
        }
        None => uuid::Uuid::now_v7().simple().to_string(),
    };
    let meta = MessageMeta {
        waba_id: b.waba_id.clone(),
        client_id: client_id.clone(),
        category: class.pricing_category.clone(),
        billable: class.billable,
        pricing_type: class.pricing_type.to_owned(),
        biz_opaque_callback_data: out.biz_opaque_callback_data.clone(),
        template_name,
        created_at: now,
    };
    if !chat_exists {
        state.store.direct_chat(&b.user_id, &customer, now).await?;
        state.caches.chats.put(chat_id.clone(), (), now);
    }
    if let Some(m) = &media_id {
        state
            .media
            .index
            .add_ref(m, &chat_id, now)
            .await
            .map_err(super::GraphReply::from)?;
    }
    // The append and its bookkeeping (what it costs, the business's reach) go to the
    // store at once, so they share one group commit. The dispatcher knows API
    // messages by their device and waits for a message's meta before reporting it,
    // so the order among them does not matter; if the append fails, the orphan meta
    // is never read and the reach only errs on the safe side.
    // The reach's time only matters to the day: refresh it at most hourly per
    // customer (this node's cache remembers when it last wrote it).
    let reach_key = (b.waba_id.clone(), customer.clone());
    let note_reach = new_customer
        || (outside_window
            && state
                .caches
                .reached
                .get(&reach_key, now)
                .is_some_and(|at| now - at >= REACH_REFRESH_MS));
    let (appended, meta_written, reach_written) = tokio::join!(
        state.store.append(NewMessage {
            chat_id: chat_id.clone(),
            sender: b.user_id.clone(),
            sender_device: API_DEVICE.to_owned(),
            client_id: client_id.clone(),
            body: body.to_string(),
            reply_to,
            ts: now,
        }),
        state.business.put_message_meta(&meta),
        async {
            if note_reach {
                state
                    .business
                    .note_reached(&b.waba_id, &customer, now)
                    .await
            } else {
                Ok(())
            }
        },
    );
    let appended = appended.map_err(|e| match e {
        StoreError::InvalidReply(_) => {
            GraphError::invalid_value("context.message_id", "not a message of this conversation")
                .into()
        }
        other => super::GraphReply::from(other),
    })?;
    meta_written?;
    reach_written?;
    if let Some(ttl) = time_to_live(template_category.as_deref()) {
        state
            .business
            .add_expiry(&PendingExpiry {
                waba_id: b.waba_id.clone(),
                message_id: appended.id.clone(),
                client_id,
                chat_id: chat_id.clone(),
                seq: appended.seq,
                recipient: customer.clone(),
                expires_at: now + ttl,
            })
            .await?;
    }
    if new_customer {
        state.reach.counted(&b.waba_id, &customer);
    }
    if note_reach {
        state.caches.reached.put(reach_key, now, now);
    }
    metrics::counter!("switchboard_cloud_messages_total", "category" => class.pricing_category)
        .increment(1);
    let mut message = json!({"id": ids::wamid(&appended.id)});
    if template_category.is_some() {
        message["message_status"] = json!("accepted");
    }
    ok_json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": out.to_input, "wa_id": customer, "user_id": ids::bsuid(&customer)}],
        "messages": [message],
    }))
}

async fn user_exists(state: &SharedState, user_id: &str, now: i64) -> Result<bool, StoreError> {
    let key = user_id.to_owned();
    if state.caches.users.get(&key, now).is_some() {
        return Ok(true);
    }
    let exists = state.store.user(user_id).await?.is_some();
    if exists {
        state.caches.users.put(key, (), now);
    }
    Ok(exists)
}

async fn chat_exists(state: &SharedState, chat_id: &str, now: i64) -> Result<bool, StoreError> {
    let key = chat_id.to_owned();
    if state.caches.chats.get(&key, now).is_some() {
        return Ok(true);
    }
    let exists = state.store.chat(chat_id).await?.is_some();
    if exists {
        state.caches.chats.put(key, (), now);
    }
    Ok(exists)
}

/// A customer's block and opt-out (another node's change shows within 2 s).
pub async fn customer_flags(
    state: &SharedState,
    waba_id: &str,
    customer: &str,
    now: i64,
) -> Result<switchboard_store::CustomerFlags, StoreError> {
    let key = (waba_id.to_owned(), customer.to_owned());
    if let Some(f) = state.caches.flags.get(&key, now) {
        return Ok(f);
    }
    let flags = state.business.customer_flags(waba_id, customer).await?;
    state.caches.flags.put(key, flags.clone(), now);
    Ok(flags)
}

/// A template by name (a review on another node shows within 2 s).
async fn template(
    state: &SharedState,
    waba_id: &str,
    name: &str,
    language: &str,
    now: i64,
) -> Result<Option<switchboard_store::Template>, StoreError> {
    let key = (waba_id.to_owned(), name.to_owned(), language.to_owned());
    if let Some(t) = state.caches.templates.get(&key, now) {
        return Ok(t);
    }
    let t = state
        .business
        .template_by_name(waba_id, name, language)
        .await?;
    state.caches.templates.put(key, t.clone(), now);
    Ok(t)
}

/// How long a message may wait for the customer's devices: authentication codes are
/// useless after 10 minutes (Meta's default); other messages wait in the stream.
fn time_to_live(template_category: Option<&str>) -> Option<i64> {
    (template_category == Some("authentication")).then_some(AUTHENTICATION_TTL_MS)
}

const AUTHENTICATION_TTL_MS: i64 = 10 * 60 * 1000;
/// How often a customer's "reached at" time is rewritten while sends continue.
const REACH_REFRESH_MS: i64 = 3600 * 1000;

/// Refuses a template to a new customer outside a window once the business reached
/// its tier's number of unique customers in the last 24 h (131048). `Ok(true)` if
/// the customer is new in the last 24 h (the send will count against the tier).
async fn check_tier(
    state: &SharedState,
    b: &Business,
    customer: &str,
    now: i64,
) -> GraphResult<bool> {
    let key = (b.waba_id.clone(), customer.to_owned());
    if state.caches.reached.get(&key, now).is_some() {
        return Ok(false);
    }
    if state
        .business
        .was_reached_since(&b.waba_id, customer, now - policy::SERVICE_WINDOW_MS)
        .await?
    {
        // Known to the store (another node, or before a restart): its time is
        // fresh enough for the next hour of sends.
        state.caches.reached.put(key, now, now);
        return Ok(false);
    }
    let standing = state.reach.standing(state, b, now).await?;
    if let Some(limit) = standing.tier.limit()
        && standing.reached_24h >= limit
    {
        return Err(GraphError::new(
            131048,
            format!(
                "messaging limit reached: this business may start conversations with {limit} unique customers per 24 hours ({})",
                standing.tier.as_graph()
            ),
        )
        .into());
    }
    Ok(true)
}

/// An uploaded media id (the business's own upload, or media it received) or a link
/// the server fetches.
async fn resolve_media(
    state: &SharedState,
    b: &Business,
    kind: &MediaKind,
    source: &MediaSource,
) -> GraphResult<String> {
    match source {
        MediaSource::Id(graph_id) => {
            let not_found = || {
                GraphError::invalid_value(
                    &format!("{}.id", kind.as_str()),
                    "no such media; upload it with POST /{phone_number_id}/media",
                )
            };
            let media_id = ids::media_from_graph(graph_id).ok_or_else(not_found)?;
            let rec = state.media.record(&media_id).await?.ok_or_else(not_found)?;
            if !crate::media::may_access(state, &b.user_id, &rec)
                .await
                .unwrap_or(false)
            {
                return Err(not_found().into());
            }
            Ok(media_id)
        }
        MediaSource::Link(url) => super::media::fetch_link(state, b, kind, url).await,
    }
}

/// Marks a customer's message (and everything before it) read, and optionally shows
/// the customer that the business is typing.
async fn mark_read(
    state: &SharedState,
    b: &Business,
    wamid: &str,
    typing: bool,
) -> GraphResult<Response> {
    let bad = || GraphError::invalid_value("message_id", "not a message of this business");
    let id = ids::parse_wamid(wamid).ok_or_else(bad)?;
    let (chat_id, seq) = switchboard_core::ids::parse_message_id(&id).ok_or_else(bad)?;
    let chat = state.store.chat(chat_id).await?.ok_or_else(bad)?;
    if !chat.is_member(&b.user_id) {
        return Err(bad().into());
    }
    state
        .store
        .receipt(NewReceipt {
            chat_id: chat_id.to_owned(),
            user_id: b.user_id.clone(),
            device_id: API_DEVICE.to_owned(),
            up_to_seq: seq,
            status: ReceiptStatus::Read,
            ts: state.now(),
        })
        .await
        .map_err(|e| match e {
            StoreError::InvalidSeq { .. } => bad().into(),
            other => super::GraphReply::from(other),
        })?;
    if typing {
        let frame = bytes::Bytes::from(render::to_json(&ServerFrame::Typing {
            chat_id: chat.chat_id.clone(),
            user_id: b.user_id.clone(),
        }));
        for m in chat.members.iter().filter(|m| m.user_id != b.user_id) {
            state.bus.publish(
                &m.user_id,
                switchboard_bus::Envelope {
                    inbox_seq: None,
                    origin_device: None,
                    frame: frame.clone(),
                    ack: None,
                },
            );
        }
    }
    success()
}
