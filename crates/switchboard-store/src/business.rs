//! What the business features store: businesses and their access tokens, message
//! templates, webhook endpoints, per-customer policy state, the webhook dispatcher's
//! progress, billable usage and `Idempotency-Key` answers.
//!
//! A separate trait from [`crate::Store`] because it is a separate concern with its
//! own tables, but the same rule holds: every backend passes the same
//! conformance suite (`business_conformance_tests!`). The store is dumb on purpose:
//! JSON documents (profiles, template components, events) are opaque strings here;
//! `switchboard-business` owns their meaning.
//!
//! Distribution (Citus): every table is keyed by `waba_id` first, so one business's
//! rows live on one shard; the only lookups by another key (`phone_number_id`,
//! `user_id`, token digest) are on small reference-style tables.

use async_trait::async_trait;

use crate::StoreResult;

/// A business: a messaging user (its phone number) with a WhatsApp Business Account
/// id and a phone number id, both numeric strings as the Cloud API has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    pub waba_id: String,
    pub phone_number_id: String,
    /// The messaging user this business is (the digits of its phone number).
    pub user_id: String,
    pub name: String,
    /// Cloud API `vertical` (RETAIL, TRAVEL, …).
    pub vertical: String,
    /// `unverified`, `pending`, `verified` or `rejected`.
    pub verification: String,
    pub verification_reason: Option<String>,
    /// JSON object of the business profile fields (about, address, description, …).
    pub profile: String,
    /// Messages per second this number may send; `None` is unlimited.
    pub throughput_mps: Option<u32>,
    /// A messaging limit tier set by the platform admin (`TIER_10K`, …); `None`: the
    /// tier follows from verification, quality and use.
    pub messaging_tier: Option<String>,
    pub created_at: i64,
}

/// A hashed business access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessToken {
    /// `switchboard_core::secret::token_hash` of the token; the token itself is never stored.
    pub token_hash: String,
    pub waba_id: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    /// Milliseconds since the epoch; `None` never expires.
    pub expires_at: Option<i64>,
}

/// A message template as the business created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Numeric string.
    pub template_id: String,
    pub waba_id: String,
    pub name: String,
    pub language: String,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: String,
    /// POSITIONAL or NAMED.
    pub parameter_format: String,
    /// JSON array of components as the business sent them (normalised).
    pub components: String,
    /// PENDING, APPROVED, REJECTED, PAUSED, DISABLED, …
    pub status: String,
    pub reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where a business receives its webhook events. The app secret is kept as given:
/// it is the HMAC key the events are signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub waba_id: String,
    pub url: String,
    pub verify_token: String,
    pub app_secret: String,
    pub updated_at: i64,
}

/// What a customer decided about a business.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFlags {
    /// The customer blocked the business: nothing may be sent (131026).
    pub blocked: bool,
    /// The customer stopped marketing messages (131050).
    pub marketing_opt_out: bool,
}

/// A customer's feedback that counts against a business's quality rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackKind {
    Block,
    Report,
}

impl FeedbackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackKind::Block => "block",
            FeedbackKind::Report => "report",
        }
    }
}

/// What the API recorded about a message it sent, keyed by the `client_id` it
/// appended the message under, written before the append (so a status event can
/// always find it; an orphan from a crash in between is harmless).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub waba_id: String,
    pub client_id: String,
    /// Pricing category: marketing, utility, authentication,
    /// authentication-international or service.
    pub category: String,
    /// Whether a delivery is charged (a template outside free windows).
    pub billable: bool,
    /// `regular` or `free_customer_service`.
    pub pricing_type: String,
    pub biz_opaque_callback_data: Option<String>,
    /// The template's name, for templates.
    pub template_name: Option<String>,
    pub created_at: i64,
}

/// A message with a time-to-live (authentication templates, templates with
/// `message_send_ttl_seconds`): if the customer's devices have not received it by
/// `expires_at`, the business is told it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingExpiry {
    pub waba_id: String,
    pub message_id: String,
    /// The `client_id` the message was appended under (its `MessageMeta`).
    pub client_id: String,
    pub chat_id: String,
    pub seq: u64,
    pub recipient: String,
    pub expires_at: i64,
}

/// One billable delivery. `(waba_id, message_id)` is unique: a delivery is recorded
/// once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRecord {
    pub waba_id: String,
    pub message_id: String,
    pub category: String,
    /// The recipient's country calling code, e.g. "49".
    pub country: String,
    /// The price in millionths of the price table's currency (never floating point).
    pub price_micros: i64,
    pub currency: String,
    pub ts: i64,
}

/// A stored `Idempotency-Key` answer. `status == 0` means the first request with
/// this key is still in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
    pub created_at: i64,
}

/// Where a business's webhook dispatcher stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchCursor {
    /// The business user's `inbox_seq` up to which events were delivered.
    pub inbox_seq: u64,
    /// The event outbox sequence up to which events were delivered.
    pub event_seq: u64,
}

/// Per conversation: up to which seq `delivered` and `read` statuses were emitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusProgress {
    pub delivered: u64,
    pub read: u64,
}

/// An event that does not come from a chat (template status updates and the like),
/// queued for the business's webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub seq: u64,
    /// The webhook `value` / change as JSON; the dispatcher wraps and signs it.
    pub payload: String,
    pub created_at: i64,
}

#[async_trait]
pub trait BusinessStore: crate::RecordStore {
    // --- businesses and tokens ---
    /// Fails with `Conflict` if the phone number (user) already is a business or an
    /// id is taken.
    async fn create_business(&self, business: &Business) -> StoreResult<()>;
    async fn business(&self, waba_id: &str) -> StoreResult<Option<Business>>;
    async fn business_by_phone_number_id(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<Business>>;
    async fn business_by_user(&self, user_id: &str) -> StoreResult<Option<Business>>;
    /// All businesses, oldest first (ties by `waba_id`, numerically).
    async fn businesses(&self) -> StoreResult<Vec<Business>>;
    /// Replaces every mutable field (all but the ids, `user_id` and `created_at`).
    /// `NotFound` if there is no such business.
    async fn update_business(&self, business: &Business) -> StoreResult<()>;
    /// `Conflict` if a token with this digest exists.
    async fn add_business_token(&self, token: &BusinessToken) -> StoreResult<()>;
    async fn business_token(&self, token_hash: &str) -> StoreResult<Option<BusinessToken>>;

    // --- templates ---
    /// `Conflict` if `(waba_id, name, language)` exists. `template_id` is allocated
    /// by the caller and must be unique (the embedded store also refuses a taken id
    /// with `Conflict`; PostgreSQL checks it only within the business).
    async fn create_template(&self, template: &Template) -> StoreResult<()>;
    async fn template(&self, template_id: &str) -> StoreResult<Option<Template>>;
    async fn template_by_name(
        &self,
        waba_id: &str,
        name: &str,
        language: &str,
    ) -> StoreResult<Option<Template>>;
    /// A business's templates, oldest first (ties by `template_id`, numerically).
    async fn templates(&self, waba_id: &str) -> StoreResult<Vec<Template>>;
    /// Replaces category, parameter_format, components, status, reason, updated_at.
    /// `NotFound` if there is no such template.
    async fn update_template(&self, template: &Template) -> StoreResult<()>;
    /// True if it existed.
    async fn delete_template(&self, template_id: &str) -> StoreResult<bool>;

    // --- webhooks ---
    /// Sets or replaces the business's webhook.
    async fn set_webhook(&self, config: &WebhookConfig) -> StoreResult<()>;
    async fn webhook(&self, waba_id: &str) -> StoreResult<Option<WebhookConfig>>;
    /// Businesses with a webhook configured, by `waba_id`.
    async fn webhooks(&self) -> StoreResult<Vec<WebhookConfig>>;

    // --- customers: flags, feedback, reach ---
    /// Both flags false for a customer never set.
    async fn customer_flags(&self, waba_id: &str, customer: &str) -> StoreResult<CustomerFlags>;
    async fn set_customer_flags(
        &self,
        waba_id: &str,
        customer: &str,
        flags: &CustomerFlags,
        now: i64,
    ) -> StoreResult<()>;
    /// Records one feedback; every call counts (the same kind twice counts twice).
    async fn add_feedback(
        &self,
        waba_id: &str,
        customer: &str,
        kind: FeedbackKind,
        now: i64,
    ) -> StoreResult<()>;
    /// (blocks, reports) recorded at or after `since`.
    async fn feedback_since(&self, waba_id: &str, since: i64) -> StoreResult<(u64, u64)>;
    /// Records that the business reached `customer` outside a service window at `now`
    /// (for messaging limit tiers). A customer is kept once, at the latest time it
    /// was reached (an earlier `now` does not move it back).
    async fn note_reached(&self, waba_id: &str, customer: &str, now: i64) -> StoreResult<()>;
    /// Distinct customers reached at or after `since`.
    async fn reached_since(&self, waba_id: &str, since: i64) -> StoreResult<u64>;
    /// Whether `customer` was reached at or after `since`.
    async fn was_reached_since(
        &self,
        waba_id: &str,
        customer: &str,
        since: i64,
    ) -> StoreResult<bool>;

    // --- messages sent through the API ---
    /// Stores the record, replacing one of the same `(waba_id, client_id)` (a retried
    /// send).
    async fn put_message_meta(&self, meta: &MessageMeta) -> StoreResult<()>;
    async fn message_meta(
        &self,
        waba_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<MessageMeta>>;

    // --- time-to-live ---
    /// Remembers a message that must be delivered by its `expires_at` (idempotent by
    /// `(waba_id, message_id)`).
    async fn add_expiry(&self, expiry: &PendingExpiry) -> StoreResult<()>;
    /// Expiries with `expires_at <= now`, oldest first, at most `limit`.
    async fn due_expiries(
        &self,
        waba_id: &str,
        now: i64,
        limit: usize,
    ) -> StoreResult<Vec<PendingExpiry>>;
    /// Forgets an expiry (handled); no error if it is gone.
    async fn remove_expiry(&self, waba_id: &str, message_id: &str) -> StoreResult<()>;

    // --- usage ---
    /// Records a billable delivery; false (and nothing written) if this message
    /// was recorded before.
    async fn record_usage(&self, usage: &UsageRecord) -> StoreResult<bool>;
    /// Usage with `from <= ts < to`, oldest first (ties by `message_id`).
    async fn usage(&self, waba_id: &str, from: i64, to: i64) -> StoreResult<Vec<UsageRecord>>;

    // --- Idempotency-Key ---
    /// Claims `key` for a new request. `None`: claimed, go ahead. `Some(record)`: a
    /// request with this key was seen (maybe still in progress, `status == 0`).
    /// The business's records with `created_at < expire_before` (answered or still
    /// in progress) are dropped first, so an expired record of `key` is replaced by
    /// this claim. Atomic: of concurrent claims of one key, on any node, exactly one
    /// gets `None`.
    async fn idempotency_claim(
        &self,
        waba_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        expire_before: i64,
    ) -> StoreResult<Option<IdempotencyRecord>>;
    /// Stores the answer of a claimed key. Does nothing unless the key is claimed and
    /// still in progress (released, expired or already answered).
    async fn idempotency_complete(
        &self,
        waba_id: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()>;
    /// Drops a claim whose request failed without effect, so a retry may run. Only a
    /// claim still in progress is dropped; a stored answer stays.
    async fn idempotency_release(&self, waba_id: &str, key: &str) -> StoreResult<()>;

    // --- webhook dispatcher state ---
    /// Zero for a business that never set one.
    async fn dispatch_cursor(&self, waba_id: &str) -> StoreResult<DispatchCursor>;
    async fn set_dispatch_cursor(&self, waba_id: &str, cursor: DispatchCursor) -> StoreResult<()>;
    /// Zero for a conversation never set.
    async fn status_progress(&self, waba_id: &str, chat_id: &str) -> StoreResult<StatusProgress>;
    async fn set_status_progress(
        &self,
        waba_id: &str,
        chat_id: &str,
        progress: StatusProgress,
    ) -> StoreResult<()>;
    /// Appends an event; returns its sequence number (1, 2, … per business, without
    /// gap or repeat under concurrent calls from any node). Durable when it returns.
    async fn push_event(&self, waba_id: &str, payload: &str, now: i64) -> StoreResult<u64>;
    /// Events with `seq > after`, in order, at most `limit`.
    async fn events_after(
        &self,
        waba_id: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEvent>>;

    /// Takes or renews the lease `name` for `holder` until `now + ttl_ms`. True if
    /// `holder` holds it now (it was free, expired, or already `holder`'s). A lease
    /// taken until `t` is still held at `t`; another holder gets it from `t + 1` on.
    async fn try_lease(&self, name: &str, holder: &str, now: i64, ttl_ms: i64)
    -> StoreResult<bool>;
}
