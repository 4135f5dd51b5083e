//! [`BusinessStore`] on the embedded store: the business tables live in the same
//! SQLite database as accounts and chats (created by migration 2 of [`crate::sql`]).
//!
//! Writes go through the writer thread like every relational write (a savepoint
//! each inside the batch's transaction, answered after the `COMMIT`, which runs with
//! `synchronous = FULL`), so they are durable when the call returns and they run one
//! at a time: numbering events and claiming `Idempotency-Key`s need no further
//! locking. Reads use the read pool and see only committed data.

use crate::EmbeddedStore;
use crate::sql::{backend, conflict_or_backend};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use switchboard_store::{
    Business, BusinessStore, BusinessToken, CustomerFlags, DispatchCursor, FeedbackKind,
    IdempotencyRecord, MessageMeta, OutboxEvent, PendingExpiry, StatusProgress, StoreError,
    StoreResult, Template, UsageRecord, WebhookConfig,
};

/// Migration 2: the business tables. Appended to [`crate::sql`]'s list; never edit.
pub const MIGRATION: &str = "CREATE TABLE businesses (
        waba_id TEXT PRIMARY KEY,
        phone_number_id TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        vertical TEXT NOT NULL,
        verification TEXT NOT NULL,
        verification_reason TEXT,
        profile TEXT NOT NULL,
        throughput_mps INTEGER,
        messaging_tier TEXT,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX businesses_created ON businesses(created_at);
    CREATE TABLE business_tokens (
        token_hash TEXT PRIMARY KEY,
        waba_id TEXT NOT NULL,
        -- A JSON array of strings.
        scopes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER
    ) STRICT;
    CREATE TABLE templates (
        template_id TEXT PRIMARY KEY,
        waba_id TEXT NOT NULL,
        name TEXT NOT NULL,
        language TEXT NOT NULL,
        category TEXT NOT NULL,
        parameter_format TEXT NOT NULL,
        components TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX templates_name ON templates(waba_id, name, language);
    CREATE INDEX templates_waba ON templates(waba_id, created_at);
    CREATE TABLE webhooks (
        waba_id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        verify_token TEXT NOT NULL,
        app_secret TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE customer_flags (
        waba_id TEXT NOT NULL,
        customer TEXT NOT NULL,
        blocked INTEGER NOT NULL,
        marketing_opt_out INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (waba_id, customer)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE feedback (
        waba_id TEXT NOT NULL,
        customer TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('block', 'report')),
        ts INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX feedback_waba ON feedback(waba_id, ts);
    CREATE TABLE reached (
        waba_id TEXT NOT NULL,
        customer TEXT NOT NULL,
        reached_at INTEGER NOT NULL,
        PRIMARY KEY (waba_id, customer)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX reached_time ON reached(waba_id, reached_at);
    -- Message metas are in fjall (`api_meta`), beside the messages.
    CREATE TABLE business_usage (
        waba_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        category TEXT NOT NULL,
        country TEXT NOT NULL,
        price_micros INTEGER NOT NULL,
        currency TEXT NOT NULL,
        ts INTEGER NOT NULL,
        PRIMARY KEY (waba_id, message_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX business_usage_time ON business_usage(waba_id, ts);
    -- Messages with a time-to-live not yet delivered (`add_expiry`); gone once handled.
    CREATE TABLE business_expiries (
        waba_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        recipient TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (waba_id, message_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX business_expiries_due ON business_expiries(waba_id, expires_at);
    CREATE TABLE idempotency_keys (
        waba_id TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (waba_id, idem_key)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX idempotency_keys_created ON idempotency_keys(waba_id, created_at);
    CREATE TABLE dispatch_cursors (
        waba_id TEXT PRIMARY KEY,
        inbox_seq INTEGER NOT NULL,
        event_seq INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE status_progress (
        waba_id TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        delivered INTEGER NOT NULL,
        read INTEGER NOT NULL,
        PRIMARY KEY (waba_id, chat_id)
    ) STRICT, WITHOUT ROWID;
    -- The last event seq handed out per business (events may be pruned one day;
    -- their numbers must not come back).
    CREATE TABLE event_counters (
        waba_id TEXT PRIMARY KEY,
        last_seq INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE outbox_events (
        waba_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (waba_id, seq)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    ) STRICT;";

// --- conversions --------------------------------------------------------------------

/// A stored integer as the unsigned type the API has, or a format error naming it.
fn stored<T: TryFrom<i64>>(v: i64, what: &str) -> StoreResult<T> {
    T::try_from(v).map_err(|_| StoreError::Format(format!("{what} {v} is out of range")))
}

/// A position as SQLite's integer; positions never get near `i64::MAX`.
fn pos(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn encode_scopes(scopes: &[String]) -> StoreResult<String> {
    serde_json::to_string(scopes)
        .map_err(|e| StoreError::Backend(format!("encoding token scopes: {e}")))
}

fn decode_scopes(json: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Format(format!("token scopes {json:?} are not a json array: {e}")))
}

// --- businesses and tokens ----------------------------------------------------------

const BUSINESS_COLUMNS: &str = "waba_id, phone_number_id, user_id, name, vertical, verification, \
     verification_reason, profile, throughput_mps, created_at, messaging_tier";

/// The raw row of [`BUSINESS_COLUMNS`]; converted by [`business_from`].
type BusinessRow = (Business, Option<i64>);

fn business_row(r: &Row<'_>) -> rusqlite::Result<BusinessRow> {
    Ok((
        Business {
            waba_id: r.get(0)?,
            phone_number_id: r.get(1)?,
            user_id: r.get(2)?,
            name: r.get(3)?,
            vertical: r.get(4)?,
            verification: r.get(5)?,
            verification_reason: r.get(6)?,
            profile: r.get(7)?,
            throughput_mps: None,
            messaging_tier: r.get(10)?,
            created_at: r.get(9)?,
        },
        r.get(8)?,
    ))
}

fn business_from((mut b, mps): BusinessRow) -> StoreResult<Business> {
    b.throughput_mps = mps.map(|v| stored(v, "throughput_mps")).transpose()?;
    Ok(b)
}

fn business_where(conn: &Connection, column: &str, value: &str) -> StoreResult<Option<Business>> {
    conn.prepare_cached(&format!(
        "SELECT {BUSINESS_COLUMNS} FROM businesses WHERE {column} = ?1"
    ))
    .map_err(backend)?
    .query_row([value], business_row)
    .optional()
    .map_err(backend)?
    .map(business_from)
    .transpose()
}

fn businesses(conn: &Connection) -> StoreResult<Vec<Business>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {BUSINESS_COLUMNS} FROM businesses
             ORDER BY created_at, length(waba_id), waba_id"
        ))
        .map_err(backend)?;
    let rows = stmt.query_map([], business_row).map_err(backend)?;
    rows.map(|r| r.map_err(backend).and_then(business_from))
        .collect()
}

fn create_business(conn: &Connection, b: &Business) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO businesses (waba_id, phone_number_id, user_id, name, vertical, verification,
             verification_reason, profile, throughput_mps, created_at, messaging_tier)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .map_err(backend)?
    .execute(params![
        b.waba_id,
        b.phone_number_id,
        b.user_id,
        b.name,
        b.vertical,
        b.verification,
        b.verification_reason,
        b.profile,
        b.throughput_mps,
        b.created_at,
        b.messaging_tier
    ])
    .map_err(|e| {
        conflict_or_backend(e, || {
            format!(
                "business {} (phone number id {}, user {}) conflicts with an existing one",
                b.waba_id, b.phone_number_id, b.user_id
            )
        })
    })?;
    Ok(())
}

fn update_business(conn: &Connection, b: &Business) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE businesses SET name = ?2, vertical = ?3, verification = ?4,
                 verification_reason = ?5, profile = ?6, throughput_mps = ?7,
                 messaging_tier = ?8
             WHERE waba_id = ?1",
        )
        .map_err(backend)?
        .execute(params![
            b.waba_id,
            b.name,
            b.vertical,
            b.verification,
            b.verification_reason,
            b.profile,
            b.throughput_mps,
            b.messaging_tier
        ])
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("business {}", b.waba_id)));
    }
    Ok(())
}

fn add_token(conn: &Connection, t: &BusinessToken, scopes: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO business_tokens (token_hash, waba_id, scopes, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(backend)?
    .execute(params![
        t.token_hash,
        t.waba_id,
        scopes,
        t.created_at,
        t.expires_at
    ])
    .map_err(|e| conflict_or_backend(e, || "this business token already exists".to_string()))?;
    Ok(())
}

fn token(conn: &Connection, hash: &str) -> StoreResult<Option<BusinessToken>> {
    let row = conn
        .prepare_cached(
            "SELECT token_hash, waba_id, scopes, created_at, expires_at
             FROM business_tokens WHERE token_hash = ?1",
        )
        .map_err(backend)?
        .query_row([hash], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })
        .optional()
        .map_err(backend)?;
    row.map(|(token_hash, waba_id, scopes, created_at, expires_at)| {
        Ok(BusinessToken {
            token_hash,
            waba_id,
            scopes: decode_scopes(&scopes)?,
            created_at,
            expires_at,
        })
    })
    .transpose()
}

// --- templates ----------------------------------------------------------------------

const TEMPLATE_COLUMNS: &str = "template_id, waba_id, name, language, category, parameter_format, \
     components, status, reason, created_at, updated_at";

fn template_row(r: &Row<'_>) -> rusqlite::Result<Template> {
    Ok(Template {
        template_id: r.get(0)?,
        waba_id: r.get(1)?,
        name: r.get(2)?,
        language: r.get(3)?,
        category: r.get(4)?,
        parameter_format: r.get(5)?,
        components: r.get(6)?,
        status: r.get(7)?,
        reason: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

fn create_template(conn: &Connection, t: &Template) -> StoreResult<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO templates ({TEMPLATE_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))
    .map_err(backend)?
    .execute(params![
        t.template_id,
        t.waba_id,
        t.name,
        t.language,
        t.category,
        t.parameter_format,
        t.components,
        t.status,
        t.reason,
        t.created_at,
        t.updated_at
    ])
    .map_err(|e| {
        conflict_or_backend(e, || {
            format!(
                "template {:?} ({}) already exists, or id {} is taken",
                t.name, t.language, t.template_id
            )
        })
    })?;
    Ok(())
}

fn template(conn: &Connection, id: &str) -> StoreResult<Option<Template>> {
    conn.prepare_cached(&format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE template_id = ?1"
    ))
    .map_err(backend)?
    .query_row([id], template_row)
    .optional()
    .map_err(backend)
}

fn template_by_name(
    conn: &Connection,
    waba: &str,
    name: &str,
    language: &str,
) -> StoreResult<Option<Template>> {
    conn.prepare_cached(&format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates
         WHERE waba_id = ?1 AND name = ?2 AND language = ?3"
    ))
    .map_err(backend)?
    .query_row([waba, name, language], template_row)
    .optional()
    .map_err(backend)
}

fn templates(conn: &Connection, waba: &str) -> StoreResult<Vec<Template>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE waba_id = ?1
             ORDER BY created_at, length(template_id), template_id"
        ))
        .map_err(backend)?;
    let rows = stmt.query_map([waba], template_row).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

fn update_template(conn: &Connection, t: &Template) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE templates SET category = ?2, parameter_format = ?3, components = ?4,
                 status = ?5, reason = ?6, updated_at = ?7
             WHERE template_id = ?1",
        )
        .map_err(backend)?
        .execute(params![
            t.template_id,
            t.category,
            t.parameter_format,
            t.components,
            t.status,
            t.reason,
            t.updated_at
        ])
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("template {}", t.template_id)));
    }
    Ok(())
}

// --- webhooks -----------------------------------------------------------------------

fn webhook_row(r: &Row<'_>) -> rusqlite::Result<WebhookConfig> {
    Ok(WebhookConfig {
        waba_id: r.get(0)?,
        url: r.get(1)?,
        verify_token: r.get(2)?,
        app_secret: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

// --- usage, meta, idempotency, events -------------------------------------------------

fn usage_row(r: &Row<'_>) -> rusqlite::Result<UsageRecord> {
    Ok(UsageRecord {
        waba_id: r.get(0)?,
        message_id: r.get(1)?,
        category: r.get(2)?,
        country: r.get(3)?,
        price_micros: r.get(4)?,
        currency: r.get(5)?,
        ts: r.get(6)?,
    })
}

// --- time-to-live ------------------------------------------------------------------

/// The raw row of an expiry (`seq` as stored); converted by [`expiry_from`].
type ExpiryRow = (PendingExpiry, i64);

fn expiry_row(r: &Row<'_>) -> rusqlite::Result<ExpiryRow> {
    Ok((
        PendingExpiry {
            waba_id: r.get(0)?,
            message_id: r.get(1)?,
            client_id: r.get(2)?,
            chat_id: r.get(3)?,
            seq: 0,
            recipient: r.get(5)?,
            expires_at: r.get(6)?,
        },
        r.get(4)?,
    ))
}

fn expiry_from((mut e, seq): ExpiryRow) -> StoreResult<PendingExpiry> {
    e.seq = stored(seq, "expiry seq")?;
    Ok(e)
}

fn add_expiry(conn: &Connection, e: &PendingExpiry) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO business_expiries (waba_id, message_id, client_id, chat_id, seq,
             recipient, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
    )
    .map_err(backend)?
    .execute(params![
        e.waba_id,
        e.message_id,
        e.client_id,
        e.chat_id,
        pos(e.seq),
        e.recipient,
        e.expires_at
    ])
    .map_err(backend)?;
    Ok(())
}

fn due_expiries(
    conn: &Connection,
    waba: &str,
    now: i64,
    limit: usize,
) -> StoreResult<Vec<PendingExpiry>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT waba_id, message_id, client_id, chat_id, seq, recipient, expires_at
             FROM business_expiries WHERE waba_id = ?1 AND expires_at <= ?2
             ORDER BY expires_at, message_id LIMIT ?3",
        )
        .map_err(backend)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![waba, now, limit], expiry_row)
        .map_err(backend)?;
    rows.map(|r| r.map_err(backend).and_then(expiry_from))
        .collect()
}

fn idempotency_record(conn: &Connection, waba: &str, key: &str) -> StoreResult<IdempotencyRecord> {
    let (request_hash, status, body, created_at) = conn
        .prepare_cached(
            "SELECT request_hash, status, body, created_at FROM idempotency_keys
             WHERE waba_id = ?1 AND idem_key = ?2",
        )
        .map_err(backend)?
        .query_row([waba, key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(backend)?;
    Ok(IdempotencyRecord {
        request_hash,
        status: stored(status, "idempotency status")?,
        body,
        created_at,
    })
}

fn claim(
    conn: &Connection,
    waba: &str,
    key: &str,
    request_hash: &str,
    now: i64,
    expire_before: i64,
) -> StoreResult<Option<IdempotencyRecord>> {
    // Expired answers of this business go first, so the table stays bounded and an
    // expired record of this very key is replaced below.
    conn.prepare_cached("DELETE FROM idempotency_keys WHERE waba_id = ?1 AND created_at < ?2")
        .map_err(backend)?
        .execute(params![waba, expire_before])
        .map_err(backend)?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO idempotency_keys (waba_id, idem_key, request_hash, status, body, created_at)
             VALUES (?1, ?2, ?3, 0, '', ?4) ON CONFLICT DO NOTHING",
        )
        .map_err(backend)?
        .execute(params![waba, key, request_hash, now])
        .map_err(backend)?;
    if inserted == 1 {
        return Ok(None);
    }
    idempotency_record(conn, waba, key).map(Some)
}

fn push_event(conn: &Connection, waba: &str, payload: &str, now: i64) -> StoreResult<u64> {
    // One savepoint on the one writer: the counter and the event commit together.
    let seq: i64 = conn
        .prepare_cached(
            "INSERT INTO event_counters (waba_id, last_seq) VALUES (?1, 1)
             ON CONFLICT (waba_id) DO UPDATE SET last_seq = last_seq + 1
             RETURNING last_seq",
        )
        .map_err(backend)?
        .query_row([waba], |r| r.get(0))
        .map_err(backend)?;
    conn.prepare_cached(
        "INSERT INTO outbox_events (waba_id, seq, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(backend)?
    .execute(params![waba, seq, payload, now])
    .map_err(backend)?;
    stored(seq, "event seq")
}

fn events_after(
    conn: &Connection,
    waba: &str,
    after: u64,
    limit: usize,
) -> StoreResult<Vec<OutboxEvent>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, payload, created_at FROM outbox_events
             WHERE waba_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .map_err(backend)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![waba, pos(after), limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(backend)?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, payload, created_at) = row.map_err(backend)?;
        out.push(OutboxEvent {
            seq: stored(seq, "event seq")?,
            payload,
            created_at,
        });
    }
    Ok(out)
}

fn try_lease(
    conn: &Connection,
    name: &str,
    holder: &str,
    now: i64,
    ttl_ms: i64,
) -> StoreResult<bool> {
    let until = now.saturating_add(ttl_ms);
    let n = conn
        .prepare_cached(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE leases.holder = excluded.holder OR leases.expires_at < ?4",
        )
        .map_err(backend)?
        .execute(params![name, holder, until, now])
        .map_err(backend)?;
    Ok(n == 1)
}

/// The `api_meta` key: business, a 0 byte, the client id.
fn api_meta_key(waba_id: &str, client_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(waba_id.len() + 1 + client_id.len());
    k.extend_from_slice(waba_id.as_bytes());
    k.push(0);
    k.extend_from_slice(client_id.as_bytes());
    k
}

// --- the trait ----------------------------------------------------------------------

impl EmbeddedStore {
    /// A read of the business tables on the read pool.
    pub(crate) async fn sql_read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.read(move |s| s.with_sql(f)).await
    }

    /// A write of the business tables on the writer thread, answered once durable.
    pub(crate) async fn sql_write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.write(|reply| crate::writer::Command::sql(f, reply))
            .await
    }
}

#[async_trait]
impl BusinessStore for EmbeddedStore {
    async fn create_business(&self, business: &Business) -> StoreResult<()> {
        let b = business.clone();
        self.sql_write(move |c| create_business(c, &b)).await
    }

    async fn business(&self, waba_id: &str) -> StoreResult<Option<Business>> {
        let id = waba_id.to_string();
        self.sql_read(move |c| business_where(c, "waba_id", &id))
            .await
    }

    async fn business_by_phone_number_id(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<Business>> {
        let id = phone_number_id.to_string();
        self.sql_read(move |c| business_where(c, "phone_number_id", &id))
            .await
    }

    async fn business_by_user(&self, user_id: &str) -> StoreResult<Option<Business>> {
        let id = user_id.to_string();
        self.sql_read(move |c| business_where(c, "user_id", &id))
            .await
    }

    async fn businesses(&self) -> StoreResult<Vec<Business>> {
        self.sql_read(businesses).await
    }

    async fn update_business(&self, business: &Business) -> StoreResult<()> {
        let b = business.clone();
        self.sql_write(move |c| update_business(c, &b)).await
    }

    async fn add_business_token(&self, token: &BusinessToken) -> StoreResult<()> {
        let scopes = encode_scopes(&token.scopes)?;
        let t = token.clone();
        self.sql_write(move |c| add_token(c, &t, &scopes)).await
    }

    async fn business_token(&self, token_hash: &str) -> StoreResult<Option<BusinessToken>> {
        let hash = token_hash.to_string();
        self.sql_read(move |c| token(c, &hash)).await
    }

    async fn create_template(&self, template: &Template) -> StoreResult<()> {
        let t = template.clone();
        self.sql_write(move |c| create_template(c, &t)).await
    }

    async fn template(&self, template_id: &str) -> StoreResult<Option<Template>> {
        let id = template_id.to_string();
        self.sql_read(move |c| template(c, &id)).await
    }

    async fn template_by_name(
        &self,
        waba_id: &str,
        name: &str,
        language: &str,
    ) -> StoreResult<Option<Template>> {
        let (w, n, l) = (waba_id.to_string(), name.to_string(), language.to_string());
        self.sql_read(move |c| template_by_name(c, &w, &n, &l))
            .await
    }

    async fn templates(&self, waba_id: &str) -> StoreResult<Vec<Template>> {
        let w = waba_id.to_string();
        self.sql_read(move |c| templates(c, &w)).await
    }

    async fn update_template(&self, template: &Template) -> StoreResult<()> {
        let t = template.clone();
        self.sql_write(move |c| update_template(c, &t)).await
    }

    async fn delete_template(&self, template_id: &str) -> StoreResult<bool> {
        let id = template_id.to_string();
        self.sql_write(move |c| {
            let n = c
                .prepare_cached("DELETE FROM templates WHERE template_id = ?1")
                .map_err(backend)?
                .execute([&id])
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn set_webhook(&self, config: &WebhookConfig) -> StoreResult<()> {
        let w = config.clone();
        self.sql_write(move |c| {
            c.prepare_cached(
                "INSERT INTO webhooks (waba_id, url, verify_token, app_secret, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (waba_id) DO UPDATE SET url = excluded.url,
                     verify_token = excluded.verify_token, app_secret = excluded.app_secret,
                     updated_at = excluded.updated_at",
            )
            .map_err(backend)?
            .execute(params![
                w.waba_id,
                w.url,
                w.verify_token,
                w.app_secret,
                w.updated_at
            ])
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn webhook(&self, waba_id: &str) -> StoreResult<Option<WebhookConfig>> {
        let w = waba_id.to_string();
        self.sql_read(move |c| {
            c.prepare_cached(
                "SELECT waba_id, url, verify_token, app_secret, updated_at
                 FROM webhooks WHERE waba_id = ?1",
            )
            .map_err(backend)?
            .query_row([&w], webhook_row)
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn webhooks(&self) -> StoreResult<Vec<WebhookConfig>> {
        self.sql_read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT waba_id, url, verify_token, app_secret, updated_at
                     FROM webhooks ORDER BY waba_id",
                )
                .map_err(backend)?;
            let rows = stmt.query_map([], webhook_row).map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn customer_flags(&self, waba_id: &str, customer: &str) -> StoreResult<CustomerFlags> {
        let (w, cu) = (waba_id.to_string(), customer.to_string());
        self.sql_read(move |c| {
            let flags = c
                .prepare_cached(
                    "SELECT blocked, marketing_opt_out FROM customer_flags
                     WHERE waba_id = ?1 AND customer = ?2",
                )
                .map_err(backend)?
                .query_row([&w, &cu], |r| {
                    Ok(CustomerFlags {
                        blocked: r.get(0)?,
                        marketing_opt_out: r.get(1)?,
                    })
                })
                .optional()
                .map_err(backend)?;
            Ok(flags.unwrap_or_default())
        })
        .await
    }

    async fn set_customer_flags(
        &self,
        waba_id: &str,
        customer: &str,
        flags: &CustomerFlags,
        now: i64,
    ) -> StoreResult<()> {
        let (w, cu, f) = (waba_id.to_string(), customer.to_string(), flags.clone());
        self.sql_write(move |c| {
            c.prepare_cached(
                "INSERT INTO customer_flags (waba_id, customer, blocked, marketing_opt_out, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (waba_id, customer) DO UPDATE SET blocked = excluded.blocked,
                     marketing_opt_out = excluded.marketing_opt_out,
                     updated_at = excluded.updated_at",
            )
            .map_err(backend)?
            .execute(params![w, cu, f.blocked, f.marketing_opt_out, now])
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn add_feedback(
        &self,
        waba_id: &str,
        customer: &str,
        kind: FeedbackKind,
        now: i64,
    ) -> StoreResult<()> {
        let (w, cu) = (waba_id.to_string(), customer.to_string());
        self.sql_write(move |c| {
            c.prepare_cached(
                "INSERT INTO feedback (waba_id, customer, kind, ts) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(backend)?
            .execute(params![w, cu, kind.as_str(), now])
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn feedback_since(&self, waba_id: &str, since: i64) -> StoreResult<(u64, u64)> {
        let w = waba_id.to_string();
        self.sql_read(move |c| {
            let (blocks, reports): (i64, i64) = c
                .prepare_cached(
                    "SELECT count(*) FILTER (WHERE kind = 'block'),
                            count(*) FILTER (WHERE kind = 'report')
                     FROM feedback WHERE waba_id = ?1 AND ts >= ?2",
                )
                .map_err(backend)?
                .query_row(params![w, since], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(backend)?;
            Ok((stored(blocks, "count")?, stored(reports, "count")?))
        })
        .await
    }

    async fn note_reached(&self, waba_id: &str, customer: &str, now: i64) -> StoreResult<()> {
        let (w, cu) = (waba_id.to_string(), customer.to_string());
        self.sql_write(move |c| {
            c.prepare_cached(
                "INSERT INTO reached (waba_id, customer, reached_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (waba_id, customer)
                 DO UPDATE SET reached_at = max(reached_at, excluded.reached_at)",
            )
            .map_err(backend)?
            .execute(params![w, cu, now])
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn reached_since(&self, waba_id: &str, since: i64) -> StoreResult<u64> {
        let w = waba_id.to_string();
        self.sql_read(move |c| {
            let n: i64 = c
                .prepare_cached(
                    "SELECT count(*) FROM reached WHERE waba_id = ?1 AND reached_at >= ?2",
                )
                .map_err(backend)?
                .query_row(params![w, since], |r| r.get(0))
                .map_err(backend)?;
            stored(n, "count")
        })
        .await
    }

    async fn was_reached_since(
        &self,
        waba_id: &str,
        customer: &str,
        since: i64,
    ) -> StoreResult<bool> {
        let (w, cu) = (waba_id.to_string(), customer.to_string());
        self.sql_read(move |c| {
            c.prepare_cached(
                "SELECT 1 FROM reached WHERE waba_id = ?1 AND customer = ?2 AND reached_at >= ?3",
            )
            .map_err(backend)?
            .exists(params![w, cu, since])
            .map_err(backend)
        })
        .await
    }

    async fn put_message_meta(&self, meta: &MessageMeta) -> StoreResult<()> {
        let key = api_meta_key(&meta.waba_id, &meta.client_id);
        let value = serde_json::json!({
            "category": meta.category,
            "billable": meta.billable,
            "pricing_type": meta.pricing_type,
            "biz_opaque_callback_data": meta.biz_opaque_callback_data,
            "template_name": meta.template_name,
            "created_at": meta.created_at,
        })
        .to_string()
        .into_bytes();
        self.write(|reply| crate::writer::Command::PutApiMeta(key, value, reply))
            .await
    }

    async fn message_meta(
        &self,
        waba_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<MessageMeta>> {
        let key = api_meta_key(waba_id, client_id);
        let (w, id) = (waba_id.to_string(), client_id.to_string());
        let raw = self
            .read(move |s| s.data.api_meta.get(&key).map_err(crate::data::backend))
            .await?;
        let Some(raw) = raw else {
            return Ok(None);
        };
        let v: serde_json::Value = serde_json::from_slice(&raw)
            .map_err(|e| StoreError::Format(format!("message meta of {w}/{id}: {e}")))?;
        let text = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let bad = || StoreError::Format(format!("message meta of {w}/{id} is incomplete"));
        Ok(Some(MessageMeta {
            category: text("category").ok_or_else(bad)?,
            billable: v
                .get("billable")
                .and_then(serde_json::Value::as_bool)
                .ok_or_else(bad)?,
            pricing_type: text("pricing_type").ok_or_else(bad)?,
            biz_opaque_callback_data: text("biz_opaque_callback_data"),
            template_name: text("template_name"),
            created_at: v
                .get("created_at")
                .and_then(serde_json::Value::as_i64)
                .ok_or_else(bad)?,
            waba_id: w,
            client_id: id,
        }))
    }

    async fn add_expiry(&self, expiry: &PendingExpiry) -> StoreResult<()> {
        let e = expiry.clone();
        self.sql_write(move |c| add_expiry(c, &e)).await
    }

    async fn due_expiries(
        &self,
        waba_id: &str,
        now: i64,
        limit: usize,
    ) -> StoreResult<Vec<PendingExpiry>> {
        let w = waba_id.to_string();
        self.sql_read(move |c| due_expiries(c, &w, now, limit))
            .await
    }

    async fn remove_expiry(&self, waba_id: &str, message_id: &str) -> StoreResult<()> {
        let (w, id) = (waba_id.to_string(), message_id.to_string());
        self.sql_write(move |c| {
            c.prepare_cached(
                "DELETE FROM business_expiries WHERE waba_id = ?1 AND message_id = ?2",
            )
            .map_err(backend)?
            .execute([&w, &id])
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn record_usage(&self, usage: &UsageRecord) -> StoreResult<bool> {
        let u = usage.clone();
        self.sql_write(move |c| {
            let n = c
                .prepare_cached(
                    "INSERT INTO business_usage (waba_id, message_id, category, country,
                         price_micros, currency, ts)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                )
                .map_err(backend)?
                .execute(params![
                    u.waba_id,
                    u.message_id,
                    u.category,
                    u.country,
                    u.price_micros,
                    u.currency,
                    u.ts
                ])
                .map_err(backend)?;
            Ok(n == 1)
        })
        .await
    }

    async fn usage(&self, waba_id: &str, from: i64, to: i64) -> StoreResult<Vec<UsageRecord>> {
        let w = waba_id.to_string();
        self.sql_read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT waba_id, message_id, category, country, price_micros, currency, ts
                     FROM business_usage WHERE waba_id = ?1 AND ts >= ?2 AND ts < ?3
                     ORDER BY ts, message_id",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![w, from, to], usage_row)
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)
        })
        .await
    }

    async fn idempotency_claim(
        &self,
        waba_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        expire_before: i64,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let (w, k, h) = (
            waba_id.to_string(),
            key.to_string(),
            request_hash.to_string(),
        );
        self.sql_write(move |c| claim(c, &w, &k, &h, now, expire_before))
            .await
    }

    async fn idempotency_complete(
        &self,
        waba_id: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        let (w, k, b) = (waba_id.to_string(), key.to_string(), body.to_string());
        self.sql_write(move |c| {
            c.prepare_cached(
                "UPDATE idempotency_keys SET status = ?3, body = ?4
                 WHERE waba_id = ?1 AND idem_key = ?2 AND status = 0",
            )
            .map_err(backend)?
            .execute(params![w, k, status, b])
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn idempotency_release(&self, waba_id: &str, key: &str) -> StoreResult<()> {
        let (w, k) = (waba_id.to_string(), key.to_string());
        self.sql_write(move |c| {
            c.prepare_cached(
                "DELETE FROM idempotency_keys WHERE waba_id = ?1 AND idem_key = ?2 AND status = 0",
            )
            .map_err(backend)?
            .execute([&w, &k])
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn dispatch_cursor(&self, waba_id: &str) -> StoreResult<DispatchCursor> {
        let w = waba_id.to_string();
        self.sql_read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT inbox_seq, event_seq FROM dispatch_cursors WHERE waba_id = ?1",
                )
                .map_err(backend)?
                .query_row([&w], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                .optional()
                .map_err(backend)?;
            match row {
                None => Ok(DispatchCursor::default()),
                Some((inbox, event)) => Ok(DispatchCursor {
                    inbox_seq: stored(inbox, "dispatch inbox_seq")?,
                    event_seq: stored(event, "dispatch event_seq")?,
                }),
            }
        })
        .await
    }

    async fn set_dispatch_cursor(&self, waba_id: &str, cursor: DispatchCursor) -> StoreResult<()> {
        let w = waba_id.to_string();
        self.sql_write(move |c| {
            c.prepare_cached(
                "INSERT INTO dispatch_cursors (waba_id, inbox_seq, event_seq) VALUES (?1, ?2, ?3)
                 ON CONFLICT (waba_id) DO UPDATE SET inbox_seq = excluded.inbox_seq,
                     event_seq = excluded.event_seq",
            )
            .map_err(backend)?
            .execute(params![w, pos(cursor.inbox_seq), pos(cursor.event_seq)])
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn status_progress(&self, waba_id: &str, chat_id: &str) -> StoreResult<StatusProgress> {
        let (w, chat) = (waba_id.to_string(), chat_id.to_string());
        self.sql_read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT delivered, read FROM status_progress
                     WHERE waba_id = ?1 AND chat_id = ?2",
                )
                .map_err(backend)?
                .query_row([&w, &chat], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })
                .optional()
                .map_err(backend)?;
            match row {
                None => Ok(StatusProgress::default()),
                Some((delivered, read)) => Ok(StatusProgress {
                    delivered: stored(delivered, "delivered progress")?,
                    read: stored(read, "read progress")?,
                }),
            }
        })
        .await
    }

    async fn set_status_progress(
        &self,
        waba_id: &str,
        chat_id: &str,
        progress: StatusProgress,
    ) -> StoreResult<()> {
        let (w, chat) = (waba_id.to_string(), chat_id.to_string());
        self.sql_write(move |c| {
            c.prepare_cached(
                "INSERT INTO status_progress (waba_id, chat_id, delivered, read)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (waba_id, chat_id) DO UPDATE SET delivered = excluded.delivered,
                     read = excluded.read",
            )
            .map_err(backend)?
            .execute(params![
                w,
                chat,
                pos(progress.delivered),
                pos(progress.read)
            ])
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn push_event(&self, waba_id: &str, payload: &str, now: i64) -> StoreResult<u64> {
        let (w, p) = (waba_id.to_string(), payload.to_string());
        self.sql_write(move |c| push_event(c, &w, &p, now)).await
    }

    async fn events_after(
        &self,
        waba_id: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEvent>> {
        let w = waba_id.to_string();
        self.sql_read(move |c| events_after(c, &w, after, limit))
            .await
    }

    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        let (n, h) = (name.to_string(), holder.to_string());
        self.sql_write(move |c| try_lease(c, &n, &h, now, ttl_ms))
            .await
    }
}
