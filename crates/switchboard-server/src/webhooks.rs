//! Webhook delivery for businesses: the handshake that verifies an endpoint, and the
//! dispatcher that turns a business's stream into signed Cloud API webhook events.
//!
//! **The outbox is the business's own stream.** Everything a business must hear
//! about is already durable, in order, in its user's inbox: customers' messages, its
//! own messages (→ `sent`), and customers' receipts (→ `delivered`, `read`). Events
//! that come from nowhere else (template status changes) sit in a small per-business
//! event table. A dispatcher keeps one cursor per business in the store and moves it
//! only after every event up to it was accepted (2xx) by the endpoint, so a crash or
//! restart re-sends, never loses (at-least-once; every event carries a stable
//! `X-Switchboard-Event-Id`).
//!
//! Per business: one worker, holding a lease in the store so exactly one node sends
//! (and retries) its events. It reads a window of entries, groups the events by
//! conversation, sends the groups concurrently (bounded) and each group in order,
//! retrying a failed event with exponential backoff and full jitter for at least 7
//! days. A failing endpoint only stalls its own business.
//!
//! The same pass records billable deliveries (exactly once per message, by its id),
//! whether or not the business configured a webhook.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use switchboard_business::ids;
use switchboard_business::webhook::{self as wh, Metadata, Pricing, StatusEvent, StatusKind};
use switchboard_proto::frames::ReceiptStatus;
use switchboard_store::{
    Business, InboxEntry, StatusProgress, StoreError, StoredMessage, StoredReceipt, UsageRecord,
    WebhookConfig,
};

use crate::cloud::messages::API_DEVICE;
use crate::state::SharedState;

/// Inbox entries and queued events taken per pass.
const WINDOW: usize = 1024;
const EVENT_WINDOW: usize = 64;
/// Conversations sent to at once, per endpoint.
const CONCURRENCY: usize = 128;
const LEASE_MS: i64 = 30_000;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries continue at least this long before an event is given up.
const RETRY_HORIZON_MS: i64 = 7 * 24 * 3600 * 1000 + 3600 * 1000;
const MAX_BACKOFF_MS: u64 = 10 * 60 * 1000;
/// How long the dispatcher waits for an API message's meta before giving up on it.
const META_GRACE_MS: i64 = 60_000;
/// How often an idle worker looks at the store (other nodes' writes reach it by the
/// bus sooner).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// The dispatcher's shared state: one wake-up per running worker.
pub struct Webhooks {
    workers: crate::leased::Workers,
    client: reqwest::Client,
}

impl Webhooks {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(CONCURRENCY)
            .user_agent("Switchboard-Webhooks/1")
            .build()
            .unwrap_or_default();
        Webhooks {
            workers: crate::leased::Workers::new("webhook", LEASE_MS, IDLE_POLL, backoff),
            client,
        }
    }
}

impl Default for Webhooks {
    fn default() -> Self {
        Self::new()
    }
}

/// Tells the dispatcher that a business has something new (or a new endpoint).
pub fn wake(state: &SharedState, waba_id: &str) {
    state.webhooks.workers.wake(waba_id);
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Checks that `url` is http(s) and, outside dev mode or an explicit allowance,
/// resolves only to public addresses (no loopback, private or link-local networks).
pub async fn check_url(state: &SharedState, url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a valid URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("the URL must start with http:// or https://".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL must not carry credentials".into());
    }
    let host = parsed
        .host_str()
        .ok_or("the URL has no host")?
        .trim_matches(['[', ']'])
        .to_owned();
    if state.config.allow_private_webhooks {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("{host} does not resolve"));
    }
    if addrs.iter().any(|ip| is_private(*ip)) {
        return Err(format!(
            "{host} is on a loopback or private network; such endpoints are allowed only in dev mode or with business.allow_private_webhooks"
        ));
    }
    Ok(())
}

/// The subscription handshake: `GET url?hub.mode=subscribe&hub.challenge=N&hub.verify_token=T`
/// must answer 200 with exactly the challenge.
pub async fn verify_endpoint(
    state: &SharedState,
    url: &str,
    verify_token: &str,
) -> Result<(), String> {
    check_url(state, url).await?;
    let challenge = (rand::random::<u32>() % 900_000_000 + 100_000_000).to_string();
    let mut target = url::Url::parse(url).map_err(|e| e.to_string())?;
    target
        .query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.challenge", &challenge)
        .append_pair("hub.verify_token", verify_token);
    let response = state
        .webhooks
        .client
        .get(target)
        .send()
        .await
        .map_err(|e| format!("the endpoint did not answer: {}", e.without_url()))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| format!("reading the answer failed: {}", e.without_url()))?;
    if !status.is_success() {
        return Err(format!(
            "the endpoint answered {status} to the verification request"
        ));
    }
    if body.trim() != challenge {
        return Err("the endpoint did not echo hub.challenge".into());
    }
    Ok(())
}

/// Starts the dispatcher: one leased worker per business (`crate::leased`).
pub fn spawn(state: SharedState) -> tokio::task::JoinHandle<()> {
    crate::leased::spawn(
        state,
        |s| &s.webhooks.workers,
        |state, waba_id, lease| async move { pass(&state, &waba_id, &lease).await },
    )
}

/// Exponential backoff with full jitter: a random wait up to 2^n seconds, capped.
fn backoff(attempt: u32) -> Duration {
    let cap = 1000u64
        .saturating_mul(1u64 << attempt.min(20))
        .min(MAX_BACKOFF_MS);
    Duration::from_millis(rand::random::<u64>() % cap.max(1) + 250)
}

/// One event to send.
struct Outgoing {
    /// Events with the same key go out in order.
    key: String,
    id: String,
    body: Value,
    /// When the event happened (ms), for the retry horizon and latency.
    at: i64,
}

/// Reads one window, sends it, records its effects and moves the cursor. `Ok(true)`
/// if anything was consumed.
async fn pass(state: &SharedState, waba_id: &str, lease: &str) -> Result<bool, StoreError> {
    let Some(b) = state.business.business(waba_id).await? else {
        return Ok(false);
    };
    let cursor = state.business.dispatch_cursor(waba_id).await?;
    let items = state
        .store
        .inbox(&b.user_id, cursor.inbox_seq, WINDOW)
        .await?;
    let events = state
        .business
        .events_after(waba_id, cursor.event_seq, EVENT_WINDOW)
        .await?;
    let meta = Metadata {
        display_phone_number: b.user_id.clone(),
        phone_number_id: b.phone_number_id.clone(),
    };
    if items.is_empty() && events.is_empty() {
        // Caught up: every `sent` and receipt so far was seen, so an expiry that is
        // due now really was not delivered in time.
        return expire(state, &b, &meta, lease).await;
    }
    let mut out = Vec::new();
    let mut progress: HashMap<String, StatusProgress> = HashMap::new();
    let mut usage = Vec::new();
    let mut next = cursor;
    // The metas of the business's own API messages in this window, read at once.
    let own: Vec<String> = items
        .iter()
        .filter_map(|i| match &i.entry {
            InboxEntry::Message(m) if m.sender == b.user_id && m.sender_device == API_DEVICE => {
                Some(m.client_id.clone())
            }
            _ => None,
        })
        .collect();
    let metas = fetch_metas(state, waba_id, own).await?;
    for item in &items {
        let id_base = format!("{waba_id}.i{}", item.inbox_seq);
        match &item.entry {
            InboxEntry::Message(m) => {
                if m.sender == b.user_id
                    && m.sender_device == API_DEVICE
                    && metas.get(&m.client_id).is_none_or(Option::is_none)
                {
                    // The API writes a message's meta right after appending it: wait
                    // for it (it can only be missing for good after a crash between
                    // the two, and then the request was never answered).
                    if state.now() - m.ts < META_GRACE_MS {
                        break;
                    }
                    tracing::warn!(
                        waba_id,
                        message = m.id,
                        "webhooks: no meta for an API message; not reported"
                    );
                    next.inbox_seq = item.inbox_seq;
                    continue;
                }
                let mm = metas.get(&m.client_id).and_then(Option::as_ref);
                if let Some(ev) = message_event(state, &b, &meta, m, mm).await? {
                    out.push(Outgoing {
                        key: m.chat_id.clone(),
                        id: id_base,
                        body: ev,
                        at: m.ts,
                    });
                }
                next.inbox_seq = item.inbox_seq;
            }
            InboxEntry::Receipt(r) => {
                let evs = receipt_events(state, &b, &meta, r, &mut progress, &mut usage).await?;
                for (n, ev) in evs.into_iter().enumerate() {
                    out.push(Outgoing {
                        key: r.chat_id.clone(),
                        id: format!("{id_base}.{n}"),
                        body: ev,
                        at: r.ts,
                    });
                }
                next.inbox_seq = item.inbox_seq;
            }
        }
    }
    for e in &events {
        next.event_seq = e.seq;
        let Ok(change) = serde_json::from_str::<Value>(&e.payload) else {
            tracing::error!(
                waba_id,
                seq = e.seq,
                "webhooks: unreadable queued event dropped"
            );
            continue;
        };
        let field = change["field"].as_str().unwrap_or("messages").to_owned();
        out.push(Outgoing {
            key: format!("event:{field}"),
            id: format!("{waba_id}.e{}", e.seq),
            body: wh::envelope(
                waba_id,
                &field,
                change["value"].clone(),
                e.created_at / 1000,
            ),
            at: e.created_at,
        });
    }
    if let Some(cfg) = state.business.webhook(waba_id).await? {
        // Queue depth = queued − delivered − dropped (all counters, per node).
        metrics::counter!("switchboard_webhook_events_queued_total").increment(out.len() as u64);
        deliver(state, &cfg, lease, out).await?;
    }
    for u in &usage {
        if state.business.record_usage(u).await? {
            metrics::counter!("switchboard_billable_deliveries_total", "category" => u.category.clone())
                .increment(1);
        }
    }
    for (chat_id, p) in &progress {
        state
            .business
            .set_status_progress(waba_id, chat_id, *p)
            .await?;
    }
    state.business.set_dispatch_cursor(waba_id, next).await?;
    Ok(true)
}

/// Messages whose time-to-live passed before any device of the customer got them:
/// a `failed` status (131026), and they are not billed even if delivered later.
async fn expire(
    state: &SharedState,
    b: &Business,
    meta: &Metadata,
    lease: &str,
) -> Result<bool, StoreError> {
    let now = state.now();
    let due = state
        .business
        .due_expiries(&b.waba_id, now, EVENT_WINDOW)
        .await?;
    if due.is_empty() {
        return Ok(false);
    }
    let mut out = Vec::new();
    let mut expired = Vec::new();
    for e in &due {
        let progress = state
            .business
            .status_progress(&b.waba_id, &e.chat_id)
            .await?;
        if progress.delivered >= e.seq {
            continue; // delivered in time
        }
        let Some(mut mm) = state
            .business
            .message_meta(&b.waba_id, &e.client_id)
            .await?
        else {
            continue;
        };
        mm.billable = false;
        let ev = StatusEvent {
            wamid: ids::wamid(&e.message_id),
            status: StatusKind::Failed,
            ts_secs: now / 1000,
            recipient_id: e.recipient.clone(),
            biz_opaque_callback_data: mm.biz_opaque_callback_data.clone(),
            pricing: Some(pricing_of(&mm)),
            conversation: None,
            errors: vec![switchboard_business::error::GraphError::new(
                131026,
                "Message undeliverable: no device of the recipient received it within its time-to-live",
            )],
        };
        out.push(Outgoing {
            key: e.chat_id.clone(),
            id: format!("{}.x{}", b.waba_id, e.message_id),
            body: wh::envelope(
                &b.waba_id,
                "messages",
                wh::status_value(meta, &ev),
                now / 1000,
            ),
            at: e.expires_at,
        });
        expired.push(mm);
    }
    // Not billable from now on, before anyone is told it failed.
    for mm in &expired {
        state.business.put_message_meta(mm).await?;
    }
    if let Some(cfg) = state.business.webhook(&b.waba_id).await? {
        deliver(state, &cfg, lease, out).await?;
    }
    for e in &due {
        state
            .business
            .remove_expiry(&b.waba_id, &e.message_id)
            .await?;
    }
    metrics::counter!("switchboard_cloud_expired_total").increment(expired.len() as u64);
    Ok(true)
}

/// Reads the metas of several API messages concurrently.
async fn fetch_metas(
    state: &SharedState,
    waba_id: &str,
    client_ids: Vec<String>,
) -> Result<HashMap<String, Option<switchboard_store::MessageMeta>>, StoreError> {
    let mut out = HashMap::with_capacity(client_ids.len());
    let mut pending = futures_util::stream::FuturesOrdered::new();
    for chunk in client_ids.chunks(16) {
        for id in chunk {
            let id = id.clone();
            pending.push_back(async move {
                let mm = state.business.message_meta(waba_id, &id).await;
                (id, mm)
            });
        }
        while let Some((id, mm)) = pending.next().await {
            out.insert(id, mm?);
        }
    }
    Ok(out)
}

fn other_member<'a>(chat_id: &'a str, me: &str) -> Option<&'a str> {
    let (a, c) = switchboard_core::ids::direct_members(chat_id)?;
    Some(if a == me { c } else { a })
}

fn pricing_of(meta: &switchboard_store::MessageMeta) -> Pricing {
    Pricing {
        billable: meta.billable,
        category: meta.category.clone(),
        pricing_type: meta.pricing_type.clone(),
    }
}

/// The conversation a status belongs to: one per chat, category and 24-hour span.
fn conversation(
    chat_id: &str,
    category: &str,
    ts: i64,
    with_expiry: bool,
) -> (String, Option<i64>, String) {
    use sha2::{Digest, Sha256};
    let day = ts / switchboard_business::policy::SERVICE_WINDOW_MS;
    let mut h = Sha256::new();
    h.update(chat_id.as_bytes());
    h.update(category.as_bytes());
    h.update(day.to_be_bytes());
    let id = hex::encode(&h.finalize()[..16]);
    let expiry =
        with_expiry.then(|| (day + 1) * switchboard_business::policy::SERVICE_WINDOW_MS / 1000);
    (id, expiry, category.to_owned())
}

/// A message in the business's stream: its own API send (→ `sent`) or a customer's
/// message (→ an inbound message event).
async fn message_event(
    state: &SharedState,
    b: &Business,
    meta: &Metadata,
    m: &StoredMessage,
    api_meta: Option<&switchboard_store::MessageMeta>,
) -> Result<Option<Value>, StoreError> {
    let Some(customer) = other_member(&m.chat_id, &b.user_id) else {
        return Ok(None); // groups are not part of the business API
    };
    if m.sender == b.user_id {
        let Some(mm) = api_meta else {
            return Ok(None); // sent from a business app device, not through the API
        };
        let ev = StatusEvent {
            wamid: ids::wamid(&m.id),
            status: StatusKind::Sent,
            ts_secs: m.ts / 1000,
            recipient_id: customer.to_owned(),
            biz_opaque_callback_data: mm.biz_opaque_callback_data.clone(),
            pricing: Some(pricing_of(mm)),
            conversation: Some(conversation(&m.chat_id, &mm.category, m.ts, true)),
            errors: vec![],
        };
        return Ok(Some(wh::envelope(
            &b.waba_id,
            "messages",
            wh::status_value(meta, &ev),
            m.ts / 1000,
        )));
    }
    let body: Value = serde_json::from_str(&m.body).unwrap_or(Value::Null);
    let media = match body.get("media_id").and_then(Value::as_str) {
        Some(id) => match state.media.record(id).await {
            Ok(Some(rec)) => Some(wh::MediaFacts {
                kind: match rec.kind {
                    switchboard_media::Kind::Image => switchboard_business::send::MediaKind::Image,
                    switchboard_media::Kind::Video => switchboard_business::send::MediaKind::Video,
                    switchboard_media::Kind::Audio => switchboard_business::send::MediaKind::Audio,
                    switchboard_media::Kind::Document => {
                        switchboard_business::send::MediaKind::Document
                    }
                },
                mime_type: rec.mime,
                sha256: rec.sha256,
                filename: body
                    .get("filename")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                voice: body.get("voice").and_then(Value::as_bool).unwrap_or(false),
            }),
            _ => None,
        },
        None => None,
    };
    let mut context = None;
    let mut reply_to_template = false;
    if let Some(reply) = &m.reply_to
        && let Some((chat, seq)) = switchboard_core::ids::parse_message_id(reply)
        && let Some(orig) = state
            .store
            .history(chat, Some(seq + 1), 1)
            .await?
            .into_iter()
            .next()
        && orig.seq == seq
    {
        reply_to_template = orig.body.starts_with("{\"template\"");
        context = Some((orig.sender.clone(), ids::wamid(reply)));
    }
    let name = state
        .store
        .user(&m.sender)
        .await?
        .and_then(|u| u.display_name);
    let msg = wh::inbound_message(
        &ids::wamid(&m.id),
        &m.sender,
        m.ts / 1000,
        &body,
        media.as_ref(),
        context.as_ref().map(|(f, id)| (f.as_str(), id.as_str())),
        reply_to_template,
    );
    let value = wh::inbound_message_value(meta, &m.sender, name.as_deref(), msg);
    Ok(Some(wh::envelope(
        &b.waba_id,
        "messages",
        value,
        m.ts / 1000,
    )))
}

/// A customer's receipt: `delivered`/`read` statuses for every API message of the
/// business it newly covers, and the billable deliveries among them.
async fn receipt_events(
    state: &SharedState,
    b: &Business,
    meta: &Metadata,
    r: &StoredReceipt,
    progress: &mut HashMap<String, StatusProgress>,
    usage: &mut Vec<UsageRecord>,
) -> Result<Vec<Value>, StoreError> {
    if r.user_id == b.user_id || other_member(&r.chat_id, &b.user_id).is_none() {
        return Ok(vec![]);
    }
    let p = match progress.get(&r.chat_id) {
        Some(p) => *p,
        None => {
            state
                .business
                .status_progress(&b.waba_id, &r.chat_id)
                .await?
        }
    };
    let (from, kind) = match r.status {
        ReceiptStatus::Delivered => (p.delivered, StatusKind::Delivered),
        ReceiptStatus::Read => (p.read, StatusKind::Read),
    };
    let mut evs = Vec::new();
    if r.up_to_seq > from {
        // Newest first from the store, emitted oldest first.
        let mut msgs = Vec::new();
        let mut before = Some(r.up_to_seq + 1);
        while let Some(bs) = before {
            let page = state.store.history(&r.chat_id, Some(bs), 500).await?;
            let done = page.len() < 500;
            for m in page {
                if m.seq <= from {
                    before = None;
                    break;
                }
                before = Some(m.seq);
                msgs.push(m);
            }
            if done {
                before = None;
            }
        }
        msgs.reverse();
        for m in msgs.iter().filter(|m| m.sender == b.user_id) {
            let Some(mm) = state
                .business
                .message_meta(&b.waba_id, &m.client_id)
                .await?
            else {
                continue;
            };
            if mm.billable && m.seq > p.delivered {
                usage.push(UsageRecord {
                    waba_id: b.waba_id.clone(),
                    message_id: m.id.clone(),
                    category: mm.category.clone(),
                    country: switchboard_business::pricing::calling_code(&r.user_id).to_owned(),
                    price_micros: state.config.prices.price(
                        &mm.category,
                        switchboard_business::pricing::calling_code(&r.user_id),
                    ),
                    currency: state.config.prices.currency.clone(),
                    ts: r.ts,
                });
            }
            let ev = StatusEvent {
                wamid: ids::wamid(&m.id),
                status: kind,
                ts_secs: r.ts / 1000,
                recipient_id: r.user_id.clone(),
                biz_opaque_callback_data: mm.biz_opaque_callback_data.clone(),
                pricing: Some(pricing_of(&mm)),
                conversation: Some(conversation(&m.chat_id, &mm.category, m.ts, false)),
                errors: vec![],
            };
            evs.push(wh::envelope(
                &b.waba_id,
                "messages",
                wh::status_value(meta, &ev),
                r.ts / 1000,
            ));
        }
    }
    let mut p = p;
    match r.status {
        ReceiptStatus::Delivered => p.delivered = p.delivered.max(r.up_to_seq),
        ReceiptStatus::Read => {
            p.read = p.read.max(r.up_to_seq);
            p.delivered = p.delivered.max(r.up_to_seq);
        }
    }
    progress.insert(r.chat_id.clone(), p);
    Ok(evs)
}

/// Sends every event: conversations concurrently (bounded), each in order, each event
/// retried until the endpoint takes it or the retry horizon passes.
async fn deliver(
    state: &SharedState,
    cfg: &WebhookConfig,
    lease: &str,
    out: Vec<Outgoing>,
) -> Result<(), StoreError> {
    let mut groups: Vec<Vec<Outgoing>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for o in out {
        match index.get(&o.key) {
            Some(&i) => groups[i].push(o),
            None => {
                index.insert(o.key.clone(), groups.len());
                groups.push(vec![o]);
            }
        }
    }
    let results: Vec<Result<(), StoreError>> = futures_util::stream::iter(groups)
        .map(|group| async move {
            for ev in group {
                send_with_retry(state, cfg, lease, ev).await?;
            }
            Ok(())
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

async fn send_with_retry(
    state: &SharedState,
    cfg: &WebhookConfig,
    lease: &str,
    ev: Outgoing,
) -> Result<(), StoreError> {
    let body = wh::ascii_json(&ev.body);
    let signature = wh::sign(cfg.app_secret.as_bytes(), body.as_bytes());
    let mut attempt = 0u32;
    let first = state.now();
    loop {
        attempt += 1;
        let result = state
            .webhooks
            .client
            .post(&cfg.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Hub-Signature-256", &signature)
            .header("X-Switchboard-Event-Id", &ev.id)
            .body(body.clone())
            .send()
            .await;
        let failure = match result {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!("answered {}", r.status())),
            Err(e) => Some(e.without_url().to_string()),
        };
        let Some(why) = failure else {
            metrics::counter!("switchboard_webhook_deliveries_total").increment(1);
            metrics::histogram!("switchboard_webhook_delivery_seconds")
                .record((state.now() - ev.at).max(0) as f64 / 1000.0);
            return Ok(());
        };
        metrics::counter!("switchboard_webhook_failures_total").increment(1);
        let now = state.now();
        if now - first > RETRY_HORIZON_MS {
            metrics::counter!("switchboard_webhook_dropped_total").increment(1);
            tracing::error!(
                event = ev.id,
                url = cfg.url,
                why,
                "webhooks: event given up after 7 days of failures"
            );
            return Ok(());
        }
        tracing::debug!(
            event = ev.id,
            attempt,
            why,
            "webhooks: delivery failed, will retry"
        );
        let wait = backoff(attempt);
        let mut shutdown = state.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return Err(StoreError::Closed),
        }
        if !state
            .business
            .try_lease(
                lease,
                &state.webhooks.workers.node_id,
                state.now(),
                LEASE_MS,
            )
            .await?
        {
            // Another node took over this business; it re-sends from the cursor.
            return Err(StoreError::Conflict("webhook lease lost".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for n in 1..40 {
            let d = backoff(n);
            assert!(d.as_millis() as u64 <= MAX_BACKOFF_MS + 250);
        }
    }
}
