//! The embedded storage backend: one directory, no server to run.
//!
//! fjall (an LSM tree) holds the message data plane (messages, idempotency keys, inbox
//! streams, receipt watermarks): random-chat appends there cost a journal append, not
//! a 4 KiB page per message as in SQLite. SQLite holds the relational rest (accounts,
//! registrations, devices, users, chats, members) and the business tables
//! (`BusinessStore`, in [`business`]).
//!
//! Every write goes through one writer thread ([`writer`]) that group-commits: one
//! fsync per batch of up to 4096 commands, never one per message. Reads never touch
//! the writer: they run on a small pool of SQLite read connections and fjall
//! snapshots inside `spawn_blocking`.
//!
//! Layout of `dir`: `switchboard.db` (SQLite, WAL) and `fjall/` (whose `meta`
//! keyspace holds the format version, checked at open).

mod business;
mod codec;
mod data;
mod records;
mod sql;
mod writer;

pub use data::{FJALL_DIR, FORMAT_KEY, FORMAT_VERSION};

use async_trait::async_trait;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use switchboard_core::ratelimit::WindowLimiter;
use switchboard_store::{
    Appended, Chat, ChatOverview, CommitSink, Device, InboxItem, NewGroup, NewMessage, NewReceipt,
    ReceiptOutcome, Registration, Role, Store, StoreError, StoreResult, StoredMessage, User,
};
use tokio::sync::{mpsc, oneshot};
use writer::{Command, Reply};

/// The SQLite file inside the store's directory.
pub const SQLITE_FILE: &str = "switchboard.db";
/// Commands waiting for the writer, at most; senders wait beyond that (backpressure).
const CHANNEL_CAPACITY: usize = 2 * writer::MAX_BATCH;
/// Reads running at once, and so SQLite read connections kept open. Without this
/// bound a burst of reads (thousands of devices reconnecting) fans out over the
/// blocking pool's hundreds of threads, each opening its own connection with its own
/// page cache: measured at ~40 KiB of memory per connection held and 285 logins/s.
const READ_POOL: usize = 8;

/// The embedded [`Store`]: fjall + SQLite in one directory.
pub struct EmbeddedStore {
    /// Commands for the writer thread.
    tx: mpsc::Sender<Command>,
    /// The writer thread, joined by `close` or on drop.
    writer: Mutex<Option<JoinHandle<()>>>,
    /// The read side, shared with `spawn_blocking` tasks.
    shared: Arc<Shared>,
    /// Set by `close`: later calls get `StoreError::Closed`.
    closed: AtomicBool,
    /// Bounds concurrent reads to the read pool's size.
    read_permits: tokio::sync::Semaphore,
    /// `rate_hit` windows, per (max, window): in memory, so for this one node only.
    limiters: Mutex<HashMap<(u32, i64), WindowLimiter>>,
}

/// What reads need: the fjall handles and the SQLite read pool.
struct Shared {
    data: data::Data,
    sqlite_path: PathBuf,
    /// Idle read connections; a read takes one or opens a new one.
    readers: Mutex<Vec<Connection>>,
}

impl Shared {
    fn with_sql<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => sql::open_reader(&self.sqlite_path)?,
        };
        let result = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READ_POOL {
            pool.push(conn);
        }
        result
    }

    fn user_chats(&self, user_id: &str) -> StoreResult<Vec<ChatOverview>> {
        let heads = self.with_sql(|c| sql::user_chat_heads(c, user_id))?;
        let mut out = Vec::with_capacity(heads.len());
        for (chat_id, kind, name) in heads {
            let last_message = self.data.last_message(&chat_id)?;
            let last_seq = last_message.as_ref().map_or(0, |m| m.seq);
            let (_, read) = self.data.watermark(&chat_id, user_id)?;
            let mut unread = 0;
            self.data
                .senders(&chat_id, read + 1, last_seq, |_, sender| {
                    if sender != user_id {
                        unread += 1;
                    }
                })?;
            out.push(ChatOverview {
                chat_id,
                kind,
                name,
                last_seq,
                unread,
                last_message,
            });
        }
        // Most recent activity first.
        out.sort_by(|a, b| {
            let ts = |o: &ChatOverview| o.last_message.as_ref().map(|m| m.ts);
            ts(b).cmp(&ts(a)).then_with(|| a.chat_id.cmp(&b.chat_id))
        });
        Ok(out)
    }
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store in `dir` and starts its writer thread.
    /// Fails with `StoreError::Format` if the data was written by an incompatible
    /// version.
    pub fn open(dir: &Path, sink: Arc<dyn CommitSink>) -> StoreResult<EmbeddedStore> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Backend(format!(
                "cannot create the store directory {}: {e}",
                dir.display()
            ))
        })?;
        let sqlite_path = dir.join(SQLITE_FILE);
        let write_conn = sql::open_writer(&sqlite_path)?;
        let data = data::Data::open(dir)?;
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let writer = writer::Writer::new(data.clone(), write_conn, sink, rx);
        let handle = std::thread::Builder::new()
            .name("switchboard-store-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        Ok(EmbeddedStore {
            tx,
            writer: Mutex::new(Some(handle)),
            shared: Arc::new(Shared {
                data,
                sqlite_path,
                readers: Mutex::new(Vec::new()),
            }),
            closed: AtomicBool::new(false),
            read_permits: tokio::sync::Semaphore::new(READ_POOL),
            limiters: Mutex::new(HashMap::new()),
        })
    }

    /// Sends a command to the writer and waits for its answer (after the commit).
    async fn write<T>(&self, cmd: impl FnOnce(Reply<T>) -> Command) -> StoreResult<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(cmd(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        // A dropped reply means the writer stopped without answering.
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs a read on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Shared) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let _permit = self
            .read_permits
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || f(&shared))
            .await
            .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
    }

    fn join_writer(&self) -> StoreResult<()> {
        let handle = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        match handle {
            Some(h) => h
                .join()
                .map_err(|_| StoreError::Backend("the writer thread panicked".into())),
            None => Ok(()),
        }
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        // Dropping the only sender ends the writer's loop once it has drained the
        // queue; then wait for it so the directory is free when this returns.
        let (dummy, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, dummy));
        if let Err(e) = self.join_writer() {
            tracing::error!(error = %e, "stopping the store writer");
        }
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn create_registration(&self, reg: &Registration) -> StoreResult<()> {
        let reg = reg.clone();
        self.write(|r| Command::CreateRegistration(reg, r)).await
    }

    async fn registration(&self, id: &str) -> StoreResult<Option<Registration>> {
        let id = id.to_string();
        self.read(move |s| s.with_sql(|c| sql::registration(c, &id)))
            .await
    }

    async fn add_registration_attempt(&self, id: &str) -> StoreResult<u32> {
        let id = id.to_string();
        self.write(|r| Command::AddRegistrationAttempt(id, r)).await
    }

    async fn delete_registration(&self, id: &str) -> StoreResult<()> {
        let id = id.to_string();
        self.write(|r| Command::DeleteRegistration(id, r)).await
    }

    async fn ensure_user(&self, user_id: &str, now: i64) -> StoreResult<User> {
        let id = user_id.to_string();
        self.write(|r| Command::EnsureUser(id, now, r)).await
    }

    async fn user(&self, user_id: &str) -> StoreResult<Option<User>> {
        let id = user_id.to_string();
        self.read(move |s| s.with_sql(|c| sql::user(c, &id))).await
    }

    async fn set_display_name(&self, user_id: &str, name: Option<&str>) -> StoreResult<User> {
        let (id, name) = (user_id.to_string(), name.map(str::to_string));
        self.write(|r| Command::SetDisplayName(id, name, r)).await
    }

    async fn create_device(&self, device: &Device, token_hash: &str) -> StoreResult<()> {
        let (device, hash) = (device.clone(), token_hash.to_string());
        self.write(|r| Command::CreateDevice(device, hash, r)).await
    }

    async fn device_by_token(&self, token_hash: &str) -> StoreResult<Option<Device>> {
        let hash = token_hash.to_string();
        self.read(move |s| s.with_sql(|c| sql::device_by_token(c, &hash)))
            .await
    }

    async fn revoke_device(&self, user_id: &str, device_id: &str, now: i64) -> StoreResult<bool> {
        let (user, device) = (user_id.to_owned(), device_id.to_owned());
        self.sql_write(move |c| {
            c.prepare_cached(
                "UPDATE devices SET revoked_at = ?3
                 WHERE user_id = ?1 AND device_id = ?2 AND revoked_at IS NULL",
            )
            .map_err(crate::sql::backend)?
            .execute(rusqlite::params![user, device, now])
            .map_err(crate::sql::backend)
            .map(|n| n == 1)
        })
        .await
    }

    async fn devices(&self, user_id: &str) -> StoreResult<Vec<Device>> {
        let id = user_id.to_string();
        self.read(move |s| s.with_sql(|c| sql::devices(c, &id)))
            .await
    }

    async fn direct_chat(&self, a: &str, b: &str, now: i64) -> StoreResult<Chat> {
        let (a, b) = (a.to_string(), b.to_string());
        self.write(|r| Command::DirectChat(a, b, now, r)).await
    }

    async fn create_group(&self, new: &NewGroup) -> StoreResult<Chat> {
        let new = new.clone();
        self.write(|r| Command::CreateGroup(new, r)).await
    }

    async fn chat(&self, chat_id: &str) -> StoreResult<Option<Chat>> {
        let id = chat_id.to_string();
        self.read(move |s| s.with_sql(|c| sql::chat(c, &id))).await
    }

    async fn add_member(&self, chat_id: &str, user_id: &str, role: Role) -> StoreResult<Chat> {
        let (chat, user) = (chat_id.to_string(), user_id.to_string());
        self.write(|r| Command::AddMember(chat, user, role, r))
            .await
    }

    async fn remove_member(&self, chat_id: &str, user_id: &str) -> StoreResult<Chat> {
        let (chat, user) = (chat_id.to_string(), user_id.to_string());
        self.write(|r| Command::RemoveMember(chat, user, r)).await
    }

    async fn user_chats(&self, user_id: &str) -> StoreResult<Vec<ChatOverview>> {
        let id = user_id.to_string();
        self.read(move |s| s.user_chats(&id)).await
    }

    async fn append(&self, msg: NewMessage) -> StoreResult<Appended> {
        let prepared = writer::Prepared::new(msg);
        self.write(|r| Command::Append(prepared, r)).await
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
        let id = chat_id.to_string();
        self.read(move |s| s.data.history(&id, before_seq, limit))
            .await
    }

    async fn inbox(&self, user_id: &str, after: u64, limit: usize) -> StoreResult<Vec<InboxItem>> {
        let id = user_id.to_string();
        self.read(move |s| s.data.inbox(&id, after, limit)).await
    }

    async fn rate_hit(&self, key: &str, max: u32, window_ms: i64, now: i64) -> StoreResult<bool> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let mut limiters = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        Ok(limiters
            .entry((max, window_ms))
            .or_insert_with(|| WindowLimiter::new(max, window_ms))
            .allow(key, now))
    }

    async fn close(&self) -> StoreResult<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        let persisted = match self.tx.send(Command::Close(reply)).await {
            Ok(()) => answer.await.unwrap_or(Err(StoreError::Closed)),
            // The writer is already gone (it stopped on its own): nothing to flush.
            Err(_) => Ok(()),
        };
        let handle = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        let joined = match handle {
            Some(h) => tokio::task::spawn_blocking(move || h.join())
                .await
                .map_err(|e| StoreError::Backend(format!("joining the writer thread: {e}")))?
                .map_err(|_| StoreError::Backend("the writer thread panicked".into())),
            None => Ok(()),
        };
        persisted.and(joined)
    }
}
