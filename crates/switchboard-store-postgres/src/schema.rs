//! The PostgreSQL schema as an append-only list of migrations, and the code that
//! applies them at connect.
//!
//! Several nodes may start at once against one database: the migrations run in one
//! transaction that first takes a transaction-scoped advisory lock (keyed by the
//! current schema, so isolated test schemas do not wait on each other). Whoever comes
//! second finds the work done. A database migrated by a newer build (more versions
//! than this build knows) is refused with `StoreError::Format`.
//!
//! The distribution key of every table (for Citus) is written down in `SCHEMA.md`
//! beside this crate's manifest; keep the two in step.

use crate::{backend, pg_err};
use switchboard_store::{StoreError, StoreResult};
use tokio_postgres::{Client, Transaction};

/// The first key of the advisory lock taken while migrating ("SWBT").
const LOCK_CLASS: i32 = 0x5357_4254;

/// Every schema change ever made, in order. Only ever append.
pub const MIGRATIONS: &[&str] = &[
    // 1: the initial schema. No foreign keys: under Citus they only work between
    // colocated tables, and every check they would make is made by the code.
    "CREATE TABLE registrations (
        id text PRIMARY KEY,
        user_id text NOT NULL,
        code_hash text NOT NULL,
        expires_at bigint NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        created_at bigint NOT NULL
    );
    CREATE TABLE users (
        user_id text PRIMARY KEY,
        display_name text,
        created_at bigint NOT NULL
    );
    -- The last inbox_seq handed out per user; locked by the writer of any node.
    CREATE TABLE inbox_counters (
        user_id text PRIMARY KEY,
        last_inbox_seq bigint NOT NULL DEFAULT 0
    );
    CREATE TABLE devices (
        user_id text NOT NULL,
        device_id text NOT NULL,
        name text NOT NULL,
        created_at bigint NOT NULL,
        revoked_at bigint,
        PRIMARY KEY (user_id, device_id)
    );
    CREATE TABLE device_tokens (
        token_hash text PRIMARY KEY,
        user_id text NOT NULL,
        device_id text NOT NULL
    );
    CREATE TABLE chats (
        chat_id text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('direct', 'group')),
        name text,
        created_at bigint NOT NULL
    );
    -- The last seq handed out per chat; locked by the writer of any node.
    CREATE TABLE chat_counters (
        chat_id text PRIMARY KEY,
        last_seq bigint NOT NULL DEFAULT 0
    );
    CREATE TABLE members (
        chat_id text NOT NULL,
        user_id text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'member')),
        -- Join order within the chat: the oldest member has the smallest.
        pos integer NOT NULL,
        PRIMARY KEY (chat_id, user_id)
    );
    CREATE INDEX members_user ON members (user_id);
    CREATE TABLE messages (
        chat_id text NOT NULL,
        seq bigint NOT NULL,
        sender text NOT NULL,
        sender_device text NOT NULL,
        client_id text NOT NULL,
        ts bigint NOT NULL,
        body text NOT NULL,
        reply_to text,
        PRIMARY KEY (chat_id, seq)
    );
    -- Idempotency: one stored message per (sender_device, client_id).
    CREATE UNIQUE INDEX messages_client ON messages (sender_device, client_id);
    -- One row per recipient per stream entry. kind 0: the message (chat_id, seq);
    -- kind 1 / 2: a delivered / read receipt of r_user up to seq, at r_ts.
    CREATE TABLE inbox (
        user_id text NOT NULL,
        inbox_seq bigint NOT NULL,
        kind smallint NOT NULL,
        chat_id text NOT NULL,
        seq bigint NOT NULL,
        r_user text,
        r_ts bigint,
        PRIMARY KEY (user_id, inbox_seq)
    );
    -- Receipt watermarks per member.
    CREATE TABLE read_marks (
        chat_id text NOT NULL,
        user_id text NOT NULL,
        delivered bigint NOT NULL DEFAULT 0,
        read bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (chat_id, user_id)
    );",
    // 2: state shared by every node: fixed-window rate limits (`Store::rate_hit`),
    // the media index (`switchboard_media::PgIndex`, same design as its SQLite
    // tables) and the secret that signs media URLs (one row, created once).
    "CREATE TABLE rate_windows (
        key text PRIMARY KEY,
        window_start bigint NOT NULL,
        count integer NOT NULL
    );
    CREATE TABLE media (
        media_id text PRIMARY KEY,
        uploader text NOT NULL,
        sha256 text NOT NULL,
        mime text NOT NULL,
        kind text NOT NULL,
        size bigint NOT NULL,
        width bigint,
        height bigint,
        duration_ms bigint,
        thumb_sha256 text,
        created_at bigint NOT NULL
    );
    CREATE INDEX media_sha ON media (sha256);
    CREATE INDEX media_thumb ON media (thumb_sha256);
    CREATE INDEX media_created ON media (created_at);
    CREATE TABLE media_refs (
        media_id text NOT NULL,
        chat_id text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (media_id, chat_id)
    );
    CREATE TABLE media_secret (
        id smallint PRIMARY KEY CHECK (id = 1),
        secret bytea NOT NULL CHECK (length(secret) = 32)
    );",
    // 3: the business tables (`BusinessStore`, `src/business.rs`). Every primary key
    // starts with `waba_id` where the table has one (the Citus distribution key);
    // `businesses`, `business_tokens` and `leases` are small lookup tables.
    "CREATE TABLE businesses (
        waba_id text PRIMARY KEY,
        phone_number_id text NOT NULL UNIQUE,
        user_id text NOT NULL UNIQUE,
        name text NOT NULL,
        vertical text NOT NULL,
        verification text NOT NULL,
        verification_reason text,
        profile text NOT NULL,
        throughput_mps bigint,
        messaging_tier text,
        created_at bigint NOT NULL
    );
    CREATE TABLE business_tokens (
        token_hash text PRIMARY KEY,
        waba_id text NOT NULL,
        scopes text[] NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint
    );
    CREATE TABLE templates (
        waba_id text NOT NULL,
        template_id text NOT NULL,
        name text NOT NULL,
        language text NOT NULL,
        category text NOT NULL,
        parameter_format text NOT NULL,
        components text NOT NULL,
        status text NOT NULL,
        reason text,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (waba_id, template_id),
        UNIQUE (waba_id, name, language)
    );
    -- `BusinessStore::template` looks a template up by its id alone.
    CREATE INDEX templates_id ON templates (template_id);
    CREATE TABLE webhooks (
        waba_id text PRIMARY KEY,
        url text NOT NULL,
        verify_token text NOT NULL,
        app_secret text NOT NULL,
        updated_at bigint NOT NULL
    );
    CREATE TABLE customer_flags (
        waba_id text NOT NULL,
        customer text NOT NULL,
        blocked boolean NOT NULL,
        marketing_opt_out boolean NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (waba_id, customer)
    );
    CREATE TABLE feedback (
        waba_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        customer text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('block', 'report')),
        ts bigint NOT NULL,
        PRIMARY KEY (waba_id, id)
    );
    CREATE INDEX feedback_time ON feedback (waba_id, ts);
    CREATE TABLE reached (
        waba_id text NOT NULL,
        customer text NOT NULL,
        reached_at bigint NOT NULL,
        PRIMARY KEY (waba_id, customer)
    );
    CREATE INDEX reached_time ON reached (waba_id, reached_at);
    CREATE TABLE message_meta (
        waba_id text NOT NULL,
        client_id text NOT NULL,
        category text NOT NULL,
        billable boolean NOT NULL,
        pricing_type text NOT NULL,
        biz_opaque_callback_data text,
        template_name text,
        created_at bigint NOT NULL,
        PRIMARY KEY (waba_id, client_id)
    );
    CREATE TABLE business_usage (
        waba_id text NOT NULL,
        message_id text NOT NULL,
        category text NOT NULL,
        country text NOT NULL,
        price_micros bigint NOT NULL,
        currency text NOT NULL,
        ts bigint NOT NULL,
        PRIMARY KEY (waba_id, message_id)
    );
    CREATE INDEX business_usage_time ON business_usage (waba_id, ts);
    -- Messages with a time-to-live not yet delivered (`add_expiry`); gone once handled.
    CREATE TABLE business_expiries (
        waba_id text NOT NULL,
        message_id text NOT NULL,
        client_id text NOT NULL,
        chat_id text NOT NULL,
        seq bigint NOT NULL,
        recipient text NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (waba_id, message_id)
    );
    CREATE INDEX business_expiries_due ON business_expiries (waba_id, expires_at);
    CREATE TABLE idempotency_keys (
        waba_id text NOT NULL,
        idem_key text NOT NULL,
        request_hash text NOT NULL,
        -- 0 while the first request is in progress, then its HTTP status.
        status integer NOT NULL,
        body text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (waba_id, idem_key)
    );
    CREATE INDEX idempotency_keys_created ON idempotency_keys (waba_id, created_at);
    CREATE TABLE dispatch_cursors (
        waba_id text PRIMARY KEY,
        inbox_seq bigint NOT NULL,
        event_seq bigint NOT NULL
    );
    CREATE TABLE status_progress (
        waba_id text NOT NULL,
        chat_id text NOT NULL,
        delivered bigint NOT NULL,
        read bigint NOT NULL,
        PRIMARY KEY (waba_id, chat_id)
    );
    -- The last event seq handed out per business; its row lock orders every node.
    CREATE TABLE event_counters (
        waba_id text PRIMARY KEY,
        last_seq bigint NOT NULL
    );
    CREATE TABLE outbox_events (
        waba_id text NOT NULL,
        seq bigint NOT NULL,
        payload text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (waba_id, seq)
    );
    CREATE TABLE leases (
        name text PRIMARY KEY,
        holder text NOT NULL,
        expires_at bigint NOT NULL
    );",
    // 4: the business app's records (`RecordStore`). Byte-order keys (`COLLATE "C"`)
    // so that prefix ranges and ordering match the embedded store.
    "CREATE TABLE app_records (
        tenant text NOT NULL,
        kind text NOT NULL,
        key text COLLATE \"C\" NOT NULL,
        value text NOT NULL,
        version bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (tenant, kind, key)
    );",
];

/// Applies every migration this database lacks, under the advisory lock.
pub async fn migrate(client: &mut Client) -> StoreResult<()> {
    let tx = client.transaction().await.map_err(pg_err)?;
    match apply(&tx).await {
        Ok(()) => tx.commit().await.map_err(pg_err),
        Err(e) => {
            // Roll back now rather than when the connection is next used: the lock
            // and the half-done work must not outlive this call.
            if let Err(rb) = tx.rollback().await {
                tracing::warn!(error = %rb, "rolling back a failed migration");
            }
            Err(e)
        }
    }
}

async fn apply(tx: &Transaction<'_>) -> StoreResult<()> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))",
        &[&LOCK_CLASS],
    )
    .await
    .map_err(pg_err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(pg_err)?;
    let row = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(pg_err)?;
    let version: i32 = row.get(0);
    let known = MIGRATIONS.len() as i32;
    if version > known {
        return Err(StoreError::Format(format!(
            "postgresql schema has version {version}, this build knows up to {known}; \
             hint: run a newer switchboard"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let v = i as i32 + 1;
        tx.batch_execute(sql)
            .await
            .map_err(|e| backend(format!("postgresql migration {v} failed: {e}")))?;
        tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&v])
            .await
            .map_err(pg_err)?;
    }
    Ok(())
}
