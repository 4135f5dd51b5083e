//! The PostgreSQL storage backend: the same [`Store`] as the embedded one, for a
//! deployment of many stateless nodes on one database (plain PostgreSQL, Citus-ready).
//!
//! - **Writes of the message data plane** (`append`, `receipt`) go through one writer
//!   task per node ([`writer`]) that group-commits: it drains up to
//!   [`PgOptions::max_batch`] queued calls and writes them in ONE transaction with a
//!   handful of multi-row (`UNNEST`) statements, whatever the batch size. Numbers are
//!   allocated from counter rows (`chat_counters`, `inbox_counters`) locked in sorted
//!   order, so several nodes writing the same chats never hand out a seq twice nor
//!   skip one; a deadlock or serialization failure retries the batch.
//! - **Relational writes** (accounts, devices, chats, members) are short transactions
//!   on the pool; membership changes lock their chat's row to stay within the limit.
//! - **Reads** go straight to the pool.
//! - **The business tables** ([`business`], `BusinessStore`) are single statements
//!   on the pool too; what must be atomic across nodes is one statement each.
//!
//! Durability is PostgreSQL's: the writer answers after `COMMIT` returned, which with
//! the default `synchronous_commit = on` means the WAL record is flushed. Migrations
//! ([`schema`]) run at connect under an advisory lock. Table distribution keys and
//! which statements would cross Citus shards are in `SCHEMA.md`.

mod business;
mod records;
mod schema;
mod writer;

pub use schema::MIGRATIONS;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchboard_core::ids;
use switchboard_core::limits::MAX_GROUP_MEMBERS;
use switchboard_store::{
    Appended, Chat, ChatKind, ChatOverview, CommitSink, Device, InboxEntry, InboxItem,
    MemberRecord, NewGroup, NewMessage, NewReceipt, ReceiptOutcome, ReceiptStatus, Registration,
    Role, Store, StoreError, StoreResult, StoredMessage, StoredReceipt, User,
};
use switchboard_store::{parse_chat_kind, parse_role};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::error::SqlState;
use tokio_postgres::{GenericClient, NoTls, Row};
use writer::Command;

/// Tunables of a [`PgStore`]; the defaults suit a node of a few cores.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections for reads and relational writes (opened lazily). The writer has
    /// its own connection on top.
    pub pool_size: usize,
    /// Appends and receipts committed in one transaction, at most.
    pub max_batch: usize,
    /// How long a call waits for a free pooled connection before it fails.
    pub wait_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool_size: 8,
            max_batch: 1000,
            wait_timeout: Duration::from_secs(10),
        }
    }
}

/// The PostgreSQL [`Store`]. One per node; any number of nodes may share a database.
pub struct PgStore {
    /// Reads and relational writes.
    pool: Pool,
    /// The writer's own connection, so reads can never starve the commit path.
    writer_pool: Pool,
    /// Appends and receipts for the writer task.
    tx: mpsc::Sender<Command>,
    /// Set by `close`: later calls get `StoreError::Closed`.
    closed: AtomicBool,
}

/// `StoreError::Backend` with this text.
pub(crate) fn backend(why: impl Into<String>) -> StoreError {
    StoreError::Backend(why.into())
}

/// A PostgreSQL error as a store error, with the server's code and message.
pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    backend(describe(&e))
}

/// The text of a PostgreSQL error: the server's code and message when it has them.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("postgresql: {} ({})", db.message(), db.code().code()),
        None => format!("postgresql: {e}"),
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Closed => StoreError::Closed,
        deadpool_postgres::PoolError::Backend(e) => pg_err(e),
        other => backend(format!("postgresql pool: {other}")),
    }
}

/// `Conflict(what)` for a unique violation, else a backend error.
fn conflict_or(e: tokio_postgres::Error, what: impl FnOnce() -> String) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict(what())
    } else {
        pg_err(e)
    }
}

/// A `u64` position as a `bigint`, saturating (positions never get near `i64::MAX`).
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A stored `bigint` position as a `u64` (stored positions are never negative).
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Inbox `kind` of a receipt status (0 is a message).
pub(crate) fn receipt_kind(s: ReceiptStatus) -> i16 {
    match s {
        ReceiptStatus::Delivered => 1,
        ReceiptStatus::Read => 2,
    }
}

/// The columns `messages` is read with everywhere, in this order.
const MESSAGE_COLUMNS: &str = "chat_id, seq, sender, sender_device, client_id, ts, body, reply_to";

/// A message from a row holding [`MESSAGE_COLUMNS`] from column `at` on.
fn message_at(row: &Row, at: usize) -> StoredMessage {
    let chat_id: String = row.get(at);
    let seq = to_u64(row.get(at + 1));
    StoredMessage {
        id: ids::message_id(&chat_id, seq),
        chat_id,
        seq,
        sender: row.get(at + 2),
        sender_device: row.get(at + 3),
        client_id: row.get(at + 4),
        ts: row.get(at + 5),
        body: row.get(at + 6),
        reply_to: row.get(at + 7),
    }
}

fn registration_row(r: &Row) -> Registration {
    Registration {
        id: r.get(0),
        user_id: r.get(1),
        code_hash: r.get(2),
        expires_at: r.get(3),
        attempts: u32::try_from(r.get::<_, i32>(4)).unwrap_or(0),
        created_at: r.get(5),
    }
}

fn user_row(r: &Row) -> User {
    User {
        user_id: r.get(0),
        display_name: r.get(1),
        created_at: r.get(2),
    }
}

fn device_row(r: &Row) -> Device {
    Device {
        device_id: r.get(0),
        user_id: r.get(1),
        name: r.get(2),
        created_at: r.get(3),
    }
}

/// A chat with its members in join order, if it exists.
async fn load_chat(c: &impl GenericClient, chat_id: &str) -> StoreResult<Option<Chat>> {
    let rows = c
        .query(
            "SELECT c.kind, c.name, c.created_at, m.user_id, m.role
             FROM chats c LEFT JOIN members m ON m.chat_id = c.chat_id
             WHERE c.chat_id = $1 ORDER BY m.pos",
            &[&chat_id],
        )
        .await
        .map_err(pg_err)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut members = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(user_id) = r.get::<_, Option<String>>(3) {
            let role: String = r.get(4);
            members.push(MemberRecord {
                user_id,
                role: parse_role(&role)?,
            });
        }
    }
    Ok(Some(Chat {
        chat_id: chat_id.to_string(),
        kind: parse_chat_kind(first.get(0))?,
        name: first.get(1),
        created_at: first.get(2),
        members,
    }))
}

/// The chat that a transaction just wrote, which must exist.
async fn loaded(c: &impl GenericClient, chat_id: &str) -> StoreResult<Chat> {
    load_chat(c, chat_id)
        .await?
        .ok_or_else(|| backend(format!("chat {chat_id} vanished inside its transaction")))
}

/// The first of `users` (in their order) that is not registered, if any.
async fn first_unknown<'a>(
    c: &impl GenericClient,
    users: &[&'a str],
) -> StoreResult<Option<&'a str>> {
    let rows = c
        .query(
            "SELECT user_id FROM users WHERE user_id = ANY($1::text[])",
            &[&users],
        )
        .await
        .map_err(pg_err)?;
    let known: HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok(users.iter().copied().find(|u| !known.contains(*u)))
}

async fn require_users(c: &impl GenericClient, users: &[&str]) -> StoreResult<()> {
    match first_unknown(c, users).await? {
        Some(u) => Err(StoreError::UnknownUser(u.to_string())),
        None => Ok(()),
    }
}

/// Locks a group's row (membership changes of one chat run one at a time, on any
/// node) and returns it with its members.
async fn lock_group(c: &impl GenericClient, chat_id: &str) -> StoreResult<Chat> {
    let row = c
        .query_opt(
            "SELECT kind FROM chats WHERE chat_id = $1 FOR UPDATE",
            &[&chat_id],
        )
        .await
        .map_err(pg_err)?;
    let Some(row) = row else {
        return Err(StoreError::NotFound(format!("chat {chat_id}")));
    };
    if parse_chat_kind(row.get(0))? != ChatKind::Group {
        return Err(StoreError::Conflict(format!(
            "chat {chat_id} is a direct chat; members can change only in groups"
        )));
    }
    loaded(c, chat_id).await
}

impl PgStore {
    /// Connects with a libpq-style DSN (`host=… user=… dbname=…` or
    /// `postgres://…`), applies missing migrations and starts the writer task.
    pub async fn connect(dsn: &str, sink: Arc<dyn CommitSink>) -> StoreResult<PgStore> {
        let config: tokio_postgres::Config = dsn
            .parse()
            .map_err(|e| backend(format!("invalid postgresql dsn: {e}")))?;
        Self::connect_with(config, PgOptions::default(), sink).await
    }

    /// Like [`PgStore::connect`], with a parsed configuration (tests set
    /// `options=-csearch_path=…` there) and explicit tunables.
    pub async fn connect_with(
        mut config: tokio_postgres::Config,
        options: PgOptions,
        sink: Arc<dyn CommitSink>,
    ) -> StoreResult<PgStore> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("switchboard");
        }
        let make_pool = |size: usize| {
            let manager = Manager::from_config(
                config.clone(),
                NoTls,
                ManagerConfig {
                    recycling_method: RecyclingMethod::Fast,
                },
            );
            Pool::builder(manager)
                .max_size(size.max(1))
                .runtime(Runtime::Tokio1)
                .wait_timeout(Some(options.wait_timeout))
                .create_timeout(Some(options.wait_timeout))
                .build()
                .map_err(|e| backend(format!("cannot build the postgresql pool: {e}")))
        };
        let pool = make_pool(options.pool_size)?;
        let writer_pool = make_pool(1)?;
        {
            let mut client = pool.get().await.map_err(pool_err)?;
            let client: &mut tokio_postgres::Client = &mut client;
            schema::migrate(client).await?;
        }
        let max_batch = options.max_batch.max(1);
        let (tx, rx) = mpsc::channel(2 * max_batch);
        let writer = writer::Writer::new(writer_pool.clone(), sink, rx, max_batch);
        tokio::spawn(writer.run());
        Ok(PgStore {
            pool,
            writer_pool,
            tx,
            closed: AtomicBool::new(false),
        })
    }

    /// The pool of this store's database, for components that keep their own tables
    /// in it (the media index, migrated by [`MIGRATIONS`]).
    pub fn pool(&self) -> Pool {
        self.pool.clone()
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        self.pool.get().await.map_err(pool_err)
    }

    /// Hands a data-plane command to the writer and waits for its answer (after the
    /// commit).
    async fn write<T>(
        &self,
        cmd: impl FnOnce(oneshot::Sender<StoreResult<T>>) -> Command,
    ) -> StoreResult<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(cmd(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

#[async_trait]
impl Store for PgStore {
    async fn create_registration(&self, reg: &Registration) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO registrations (id, user_id, code_hash, expires_at, attempts, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &reg.id,
                &reg.user_id,
                &reg.code_hash,
                &reg.expires_at,
                &i32::try_from(reg.attempts).unwrap_or(i32::MAX),
                &reg.created_at,
            ],
        )
        .await
        .map_err(|e| conflict_or(e, || format!("registration {} already exists", reg.id)))?;
        Ok(())
    }

    async fn registration(&self, id: &str) -> StoreResult<Option<Registration>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT id, user_id, code_hash, expires_at, attempts, created_at
                 FROM registrations WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(pg_err)?;
        Ok(row.as_ref().map(registration_row))
    }

    async fn add_registration_attempt(&self, id: &str) -> StoreResult<u32> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "UPDATE registrations SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
                &[&id],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| StoreError::NotFound(format!("registration {id}")))?;
        Ok(u32::try_from(row.get::<_, i32>(0)).unwrap_or(0))
    }

    async fn delete_registration(&self, id: &str) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute("DELETE FROM registrations WHERE id = $1", &[&id])
            .await
            .map_err(pg_err)?;
        Ok(())
    }

    async fn ensure_user(&self, user_id: &str, now: i64) -> StoreResult<User> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "WITH ins AS (
                    INSERT INTO users (user_id, created_at) VALUES ($1, $2)
                    ON CONFLICT DO NOTHING RETURNING user_id, display_name, created_at
                 ), ctr AS (
                    INSERT INTO inbox_counters (user_id) SELECT user_id FROM ins
                    ON CONFLICT DO NOTHING
                 )
                 SELECT user_id, display_name, created_at FROM ins
                 UNION ALL
                 SELECT user_id, display_name, created_at FROM users
                 WHERE user_id = $1 AND NOT EXISTS (SELECT 1 FROM ins)",
            )
            .await
            .map_err(pg_err)?;
        // A concurrent insert of the same user makes ours do nothing while the
        // statement's snapshot predates it: the next attempt sees it.
        for _ in 0..3 {
            if let Some(row) = c
                .query_opt(&stmt, &[&user_id, &now])
                .await
                .map_err(pg_err)?
            {
                return Ok(user_row(&row));
            }
        }
        Err(backend(format!(
            "user {user_id} neither inserted nor found"
        )))
    }

    async fn user(&self, user_id: &str) -> StoreResult<Option<User>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT user_id, display_name, created_at FROM users WHERE user_id = $1",
                &[&user_id],
            )
            .await
            .map_err(pg_err)?;
        Ok(row.as_ref().map(user_row))
    }

    async fn set_display_name(&self, user_id: &str, name: Option<&str>) -> StoreResult<User> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "UPDATE users SET display_name = $2 WHERE user_id = $1
                 RETURNING user_id, display_name, created_at",
                &[&user_id, &name],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| StoreError::UnknownUser(user_id.to_string()))?;
        Ok(user_row(&row))
    }

    async fn revoke_device(&self, user_id: &str, device_id: &str, now: i64) -> StoreResult<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE devices SET revoked_at = $3
                 WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL",
                &[&user_id, &device_id, &now],
            )
            .await
            .map_err(pg_err)?;
        Ok(n == 1)
    }

    async fn create_device(&self, device: &Device, token_hash: &str) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        require_users(&*tx, &[&device.user_id]).await?;
        let conflict = || format!("device {} or its token already exists", device.device_id);
        tx.execute(
            "INSERT INTO devices (user_id, device_id, name, created_at) VALUES ($1, $2, $3, $4)",
            &[
                &device.user_id,
                &device.device_id,
                &device.name,
                &device.created_at,
            ],
        )
        .await
        .map_err(|e| conflict_or(e, conflict))?;
        tx.execute(
            "INSERT INTO device_tokens (token_hash, user_id, device_id) VALUES ($1, $2, $3)",
            &[&token_hash, &device.user_id, &device.device_id],
        )
        .await
        .map_err(|e| conflict_or(e, conflict))?;
        tx.commit().await.map_err(pg_err)
    }

    async fn device_by_token(&self, token_hash: &str) -> StoreResult<Option<Device>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT d.device_id, d.user_id, d.name, d.created_at
                 FROM device_tokens t
                 JOIN devices d ON d.user_id = t.user_id AND d.device_id = t.device_id
                 WHERE t.token_hash = $1 AND d.revoked_at IS NULL",
                &[&token_hash],
            )
            .await
            .map_err(pg_err)?;
        Ok(row.as_ref().map(device_row))
    }

    async fn devices(&self, user_id: &str) -> StoreResult<Vec<Device>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT device_id, user_id, name, created_at FROM devices
                 WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, device_id",
                &[&user_id],
            )
            .await
            .map_err(pg_err)?;
        Ok(rows.iter().map(device_row).collect())
    }

    async fn direct_chat(&self, a: &str, b: &str, now: i64) -> StoreResult<Chat> {
        let mut c = self.client().await?;
        require_users(&**c, &[a, b]).await?;
        let chat_id = ids::direct_chat_id(a, b);
        if let Some(chat) = load_chat(&**c, &chat_id).await? {
            return Ok(chat);
        }
        let tx = c.transaction().await.map_err(pg_err)?;
        // A concurrent creation on another node makes this wait, then do nothing.
        let inserted = tx
            .execute(
                "INSERT INTO chats (chat_id, kind, name, created_at) VALUES ($1, 'direct', NULL, $2)
                 ON CONFLICT DO NOTHING",
                &[&chat_id, &now],
            )
            .await
            .map_err(pg_err)?;
        if inserted == 1 {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            tx.execute(
                "INSERT INTO members (chat_id, user_id, role, pos)
                 VALUES ($1, $2, 'member', 1), ($1, $3, 'member', 2)",
                &[&chat_id, &lo, &hi],
            )
            .await
            .map_err(pg_err)?;
            tx.execute(
                "INSERT INTO chat_counters (chat_id) VALUES ($1)",
                &[&chat_id],
            )
            .await
            .map_err(pg_err)?;
        }
        let chat = loaded(&*tx, &chat_id).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(chat)
    }

    async fn create_group(&self, new: &NewGroup) -> StoreResult<Chat> {
        let mut c = self.client().await?;
        require_users(&**c, &[&new.creator]).await?;
        let mut members: Vec<&str> = Vec::with_capacity(new.members.len());
        let mut seen = HashSet::new();
        for m in &new.members {
            if m != &new.creator && seen.insert(m.as_str()) {
                members.push(m);
            }
        }
        if members.len() + 1 > MAX_GROUP_MEMBERS {
            return Err(StoreError::GroupFull(new.chat_id.clone()));
        }
        require_users(&**c, &members).await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        let inserted = tx
            .execute(
                "INSERT INTO chats (chat_id, kind, name, created_at) VALUES ($1, 'group', $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&new.chat_id, &new.name, &new.created_at],
            )
            .await
            .map_err(pg_err)?;
        if inserted != 1 {
            return Err(StoreError::Conflict(format!(
                "chat {} already exists",
                new.chat_id
            )));
        }
        let mut users: Vec<&str> = Vec::with_capacity(members.len() + 1);
        users.push(&new.creator);
        users.extend(members);
        let roles: Vec<&str> = (0..users.len())
            .map(|i| if i == 0 { Role::Admin } else { Role::Member }.as_str())
            .collect();
        tx.execute(
            "INSERT INTO members (chat_id, user_id, role, pos)
             SELECT $1, u, r, p::int FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS x(u, r, p)",
            &[&new.chat_id, &users, &roles],
        )
        .await
        .map_err(pg_err)?;
        tx.execute(
            "INSERT INTO chat_counters (chat_id) VALUES ($1)",
            &[&new.chat_id],
        )
        .await
        .map_err(pg_err)?;
        let chat = loaded(&*tx, &new.chat_id).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(chat)
    }

    async fn chat(&self, chat_id: &str) -> StoreResult<Option<Chat>> {
        let c = self.client().await?;
        load_chat(&**c, chat_id).await
    }

    async fn add_member(&self, chat_id: &str, user_id: &str, role: Role) -> StoreResult<Chat> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        let chat = lock_group(&*tx, chat_id).await?;
        require_users(&*tx, &[user_id]).await?;
        if chat.is_member(user_id) {
            return Ok(chat);
        }
        if chat.members.len() >= MAX_GROUP_MEMBERS {
            return Err(StoreError::GroupFull(chat_id.to_string()));
        }
        tx.execute(
            "INSERT INTO members (chat_id, user_id, role, pos)
             VALUES ($1, $2, $3, (SELECT coalesce(max(pos), 0) + 1 FROM members WHERE chat_id = $1))",
            &[&chat_id, &user_id, &role.as_str()],
        )
        .await
        .map_err(pg_err)?;
        let chat = loaded(&*tx, chat_id).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(chat)
    }

    async fn remove_member(&self, chat_id: &str, user_id: &str) -> StoreResult<Chat> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        let chat = lock_group(&*tx, chat_id).await?;
        if !chat.is_member(user_id) {
            return Ok(chat);
        }
        tx.execute(
            "DELETE FROM members WHERE chat_id = $1 AND user_id = $2",
            &[&chat_id, &user_id],
        )
        .await
        .map_err(pg_err)?;
        tx.execute(
            "UPDATE members SET role = 'admin'
             WHERE chat_id = $1
               AND NOT EXISTS (SELECT 1 FROM members WHERE chat_id = $1 AND role = 'admin')
               AND pos = (SELECT min(pos) FROM members WHERE chat_id = $1)",
            &[&chat_id],
        )
        .await
        .map_err(pg_err)?;
        let chat = loaded(&*tx, chat_id).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(chat)
    }

    async fn user_chats(&self, user_id: &str) -> StoreResult<Vec<ChatOverview>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT c.chat_id, c.kind, c.name, cc.last_seq,
                    (SELECT count(*) FROM messages u
                     WHERE u.chat_id = c.chat_id AND u.seq > coalesce(rm.read, 0)
                       AND u.sender <> $1),
                    lm.chat_id IS NOT NULL, {cols}
             FROM members mb
             JOIN chats c ON c.chat_id = mb.chat_id
             JOIN chat_counters cc ON cc.chat_id = c.chat_id
             LEFT JOIN read_marks rm ON rm.chat_id = c.chat_id AND rm.user_id = $1
             LEFT JOIN messages lm ON lm.chat_id = c.chat_id AND lm.seq = cc.last_seq
             WHERE mb.user_id = $1",
            cols = MESSAGE_COLUMNS
                .split(", ")
                .map(|col| format!("lm.{col}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = c.query(&sql, &[&user_id]).await.map_err(pg_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let has_last: bool = r.get(5);
            out.push(ChatOverview {
                chat_id: r.get(0),
                kind: parse_chat_kind(r.get(1))?,
                name: r.get(2),
                last_seq: to_u64(r.get(3)),
                unread: to_u64(r.get(4)),
                last_message: has_last.then(|| message_at(r, 6)),
            });
        }
        // Most recent activity first, as the embedded store orders them.
        out.sort_by(|a, b| {
            let ts = |o: &ChatOverview| o.last_message.as_ref().map(|m| m.ts);
            ts(b).cmp(&ts(a)).then_with(|| a.chat_id.cmp(&b.chat_id))
        });
        Ok(out)
    }

    async fn append(&self, msg: NewMessage) -> StoreResult<Appended> {
        self.write(|r| Command::Append(msg, r)).await
    }

    async fn receipt(&self, receipt: NewReceipt) -> StoreResult<ReceiptOutcome> {
        self.write(|r| Command::Receipt(receipt, r)).await
    }

    async fn history(
        &self,
        chat_id: &str,
        before_seq: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<StoredMessage>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE chat_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
            ))
            .await
            .map_err(pg_err)?;
        let before = before_seq.map_or(i64::MAX, to_i64);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(&stmt, &[&chat_id, &before, &limit])
            .await
            .map_err(pg_err)?;
        Ok(rows.iter().map(|r| message_at(r, 0)).collect())
    }

    async fn inbox(&self, user_id: &str, after: u64, limit: usize) -> StoreResult<Vec<InboxItem>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT i.inbox_seq, i.kind, i.chat_id, i.seq, i.r_user, i.r_ts,
                        m.chat_id IS NOT NULL,
                        m.chat_id, m.seq, m.sender, m.sender_device, m.client_id, m.ts, m.body,
                        m.reply_to
                 FROM inbox i
                 LEFT JOIN messages m ON i.kind = 0 AND m.chat_id = i.chat_id AND m.seq = i.seq
                 WHERE i.user_id = $1 AND i.inbox_seq > $2
                 ORDER BY i.inbox_seq LIMIT $3",
            )
            .await
            .map_err(pg_err)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .query(&stmt, &[&user_id, &to_i64(after), &limit])
            .await
            .map_err(pg_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let inbox_seq = to_u64(r.get(0));
            let kind: i16 = r.get(1);
            let entry = match kind {
                0 => {
                    if !r.get::<_, bool>(6) {
                        return Err(StoreError::Format(format!(
                            "inbox entry {inbox_seq} of {user_id} points at a missing message"
                        )));
                    }
                    InboxEntry::Message(std::sync::Arc::new(message_at(r, 7)))
                }
                1 | 2 => InboxEntry::Receipt(StoredReceipt {
                    chat_id: r.get(2),
                    user_id: r.get::<_, Option<String>>(4).unwrap_or_default(),
                    up_to_seq: to_u64(r.get(3)),
                    status: if kind == 1 {
                        ReceiptStatus::Delivered
                    } else {
                        ReceiptStatus::Read
                    },
                    ts: r.get::<_, Option<i64>>(5).unwrap_or_default(),
                }),
                other => {
                    return Err(StoreError::Format(format!(
                        "unknown inbox entry kind {other}"
                    )));
                }
            };
            out.push(InboxItem { inbox_seq, entry });
        }
        Ok(out)
    }

    async fn rate_hit(&self, key: &str, max: u32, window_ms: i64, now: i64) -> StoreResult<bool> {
        let c = self.client().await?;
        if max == 0 {
            return Ok(false);
        }
        let max = i32::try_from(max).unwrap_or(i32::MAX);
        // One statement: a new key or an ended window starts at `now` with count 1;
        // otherwise the count grows while under `max`. The row lock of the upsert
        // serialises concurrent hits from every node; no row back = refused.
        let row = c
            .query_opt(
                "INSERT INTO rate_windows AS w (key, window_start, count) VALUES ($1, $2, 1)
                 ON CONFLICT (key) DO UPDATE SET
                     window_start = CASE WHEN $2 - w.window_start >= $3
                                         THEN $2 ELSE w.window_start END,
                     count = CASE WHEN $2 - w.window_start >= $3 THEN 1 ELSE w.count + 1 END
                 WHERE $2 - w.window_start >= $3 OR w.count < $4
                 RETURNING count",
                &[&key, &now, &window_ms, &max],
            )
            .await
            .map_err(pg_err)?;
        Ok(row.is_some())
    }

    async fn close(&self) -> StoreResult<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        let result = match self.tx.send(Command::Close(reply)).await {
            Ok(()) => answer.await.unwrap_or(Ok(())),
            // The writer is already gone: nothing is queued.
            Err(_) => Ok(()),
        };
        self.pool.close();
        self.writer_pool.close();
        result
    }
}
