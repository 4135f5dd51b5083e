//! The one writer thread: it owns every write of the embedded store and commits them
//! in groups.
//!
//! The loop blocks for one command, drains up to [`MAX_BATCH`] more without blocking,
//! and applies them in order: appends and receipts go into one fjall batch (numbered
//! from in-memory counters only this thread touches), relational commands run at once
//! inside one SQLite transaction (a savepoint each, so one failing command does not
//! undo the others) and update the caches so later commands of the batch see them.
//! Then SQLite commits, the fjall batch commits with one fsync, the sink gets every
//! delivery of the batch, and only then does anyone get an answer.
//!
//! **Invariant:** a number (seq, inbox_seq) is visible outside this thread only after
//! the batch that holds it is durable. A failed commit drops the counters, so they are
//! reloaded from disk and no number anyone saw is handed out again for something else.

use crate::codec;
use crate::data::{self, Data};
use crate::sql;
use fjall::{OwnedWriteBatch, PersistMode, Slice};
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use switchboard_core::ids;
use switchboard_core::limits::MAX_GROUP_MEMBERS;
use switchboard_store::{
    Appended, Chat, ChatKind, CommitSink, Delivery, Device, InboxEntry, InboxItem, NewGroup,
    NewMessage, NewReceipt, ReceiptOutcome, ReceiptStatus, Registration, Role, StoreError,
    StoreResult, StoredMessage, StoredReceipt, User,
};
use tokio::sync::{mpsc, oneshot};

/// A message with the parts of its records that do not depend on its seq already
/// encoded, by the caller's task: the writer thread is the bottleneck of the whole
/// store, so work that can run in parallel is done before it.
pub struct Prepared {
    msg: NewMessage,
    /// `codec::pair_key(sender_device, client_id)`.
    client_key: Vec<u8>,
    /// `codec::encode_message(…)`.
    value: Vec<u8>,
}

impl Prepared {
    pub fn new(msg: NewMessage) -> Self {
        Prepared {
            client_key: codec::pair_key(&msg.sender_device, &msg.client_id),
            value: codec::encode_message(
                &msg.sender,
                &msg.sender_device,
                &msg.client_id,
                msg.ts,
                msg.reply_to.as_deref(),
                &msg.body,
            ),
            msg,
        }
    }
}

/// Commands applied in one group commit, at most.
pub const MAX_BATCH: usize = 4096;

pub type Reply<T> = oneshot::Sender<StoreResult<T>>;

/// A mutation for the writer, with the channel its answer goes back on.
pub enum Command {
    CreateRegistration(Registration, Reply<()>),
    AddRegistrationAttempt(String, Reply<u32>),
    DeleteRegistration(String, Reply<()>),
    EnsureUser(String, i64, Reply<User>),
    SetDisplayName(String, Option<String>, Reply<User>),
    CreateDevice(Device, String, Reply<()>),
    DirectChat(String, String, i64, Reply<Chat>),
    CreateGroup(NewGroup, Reply<Chat>),
    AddMember(String, String, Role, Reply<Chat>),
    RemoveMember(String, String, Reply<Chat>),
    Append(Prepared, Reply<Appended>),
    Receipt(NewReceipt, Reply<ReceiptOutcome>),
    /// Any other relational write (the business tables, [`crate::business`]).
    Sql(Box<dyn SqlJob>),
    /// A business API message meta: key and JSON value for `api_meta`.
    PutApiMeta(Vec<u8>, Vec<u8>, Reply<()>),
    /// Finish what came before, persist, and stop.
    Close(Reply<()>),
}

impl Command {
    /// Answers with `err` without doing anything.
    fn refuse(self, err: StoreError) {
        match self {
            Command::CreateRegistration(_, r)
            | Command::DeleteRegistration(_, r)
            | Command::CreateDevice(_, _, r)
            | Command::Close(r) => drop(r.send(Err(err))),
            Command::AddRegistrationAttempt(_, r) => drop(r.send(Err(err))),
            Command::EnsureUser(_, _, r) | Command::SetDisplayName(_, _, r) => {
                drop(r.send(Err(err)))
            }
            Command::DirectChat(_, _, _, r)
            | Command::CreateGroup(_, r)
            | Command::AddMember(_, _, _, r)
            | Command::RemoveMember(_, _, r) => drop(r.send(Err(err))),
            Command::Append(_, r) => drop(r.send(Err(err))),
            Command::Receipt(_, r) => drop(r.send(Err(err))),
            Command::Sql(job) => job.refuse(err),
            Command::PutApiMeta(_, _, r) => drop(r.send(Err(err))),
        }
    }

    /// A relational write: `f` runs on the writer's connection in its own savepoint
    /// of the batch's transaction; its answer is sent after the commit.
    pub fn sql<T, F>(f: F, reply: Reply<T>) -> Command
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        Command::Sql(Box::new(Job { f, reply }))
    }
}

/// A relational write of any result type, boxed so that one [`Command`] variant
/// carries every query of the business tables.
pub trait SqlJob: Send {
    /// Runs the write inside the batch `b`.
    fn run(self: Box<Self>, w: &mut Writer, b: &mut Batch);
    /// Answers with `err` without doing anything.
    fn refuse(self: Box<Self>, err: StoreError);
}

/// The one [`SqlJob`]: a closure and where its answer goes.
struct Job<F, T> {
    f: F,
    reply: Reply<T>,
}

impl<F, T> SqlJob for Job<F, T>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    fn run(self: Box<Self>, w: &mut Writer, b: &mut Batch) {
        let Job { f, reply } = *self;
        let res = w.relational(b, f);
        b.pending.push(pending(false, reply, res));
    }

    fn refuse(self: Box<Self>, err: StoreError) {
        let _ = self.reply.send(Err(err));
    }
}

/// An answer held back until its batch is committed. `finish(None)` sends the result;
/// `finish(Some(e))` sends `e` instead (the commit failed).
struct Pending {
    /// Appends and receipts depend on the fjall commit; relational commands only on SQLite.
    data_plane: bool,
    finish: Box<dyn FnOnce(Option<StoreError>) + Send>,
}

fn pending<T: Send + 'static>(
    data_plane: bool,
    reply: Reply<T>,
    result: StoreResult<T>,
) -> Pending {
    Pending {
        data_plane,
        finish: Box::new(move |failed| {
            // The caller may have gone away (its future was dropped): nothing to do.
            let _ = reply.send(match failed {
                Some(e) => Err(e),
                None => result,
            });
        }),
    }
}

/// What one group commit accumulates.
pub struct Batch {
    fjall: OwnedWriteBatch,
    deliveries: Vec<Delivery>,
    pending: Vec<Pending>,
    /// Sends of this batch by idempotency key, so a repeat inside the batch is caught.
    sends: HashMap<Vec<u8>, Appended>,
    /// Messages of this batch per chat as (seq, sender), for receipts in the same batch.
    new_messages: HashMap<String, Vec<(u64, String)>>,
    /// Watermarks written in this batch, by `pair_key(chat, user)`.
    watermarks: HashMap<Vec<u8>, (u64, u64)>,
    /// Messages stored by this batch (the batch-size metric).
    messages: u64,
    /// Whether the SQLite transaction of this batch is open.
    sql_open: bool,
    /// A savepoint could not be released or rolled back: the transaction is suspect.
    sql_broken: Option<String>,
    /// The close request, answered after this batch is committed.
    close: Option<Reply<()>>,
}

/// The state of the writer thread.
pub struct Writer {
    data: Data,
    sql: Connection,
    sink: Arc<dyn CommitSink>,
    rx: mpsc::Receiver<Command>,
    /// chat -> kind and members (committed, plus this batch). Loaded on first use.
    chats: HashMap<String, Arc<Chat>>,
    /// chat -> last seq handed out. Loaded on first use.
    chat_seq: HashMap<String, u64>,
    /// user -> last inbox_seq handed out. Loaded on first use.
    inbox_seq: HashMap<String, u64>,
}

/// `map[id]`, loaded with `load` on first use.
fn counter<'a>(
    map: &'a mut HashMap<String, u64>,
    id: &str,
    load: impl FnOnce() -> StoreResult<u64>,
) -> StoreResult<&'a mut u64> {
    if !map.contains_key(id) {
        let v = load()?;
        map.insert(id.to_string(), v);
    }
    Ok(map.get_mut(id).expect("inserted just above"))
}

impl Writer {
    pub fn new(
        data: Data,
        sql: Connection,
        sink: Arc<dyn CommitSink>,
        rx: mpsc::Receiver<Command>,
    ) -> Self {
        Self {
            data,
            sql,
            sink,
            rx,
            chats: HashMap::new(),
            chat_seq: HashMap::new(),
            inbox_seq: HashMap::new(),
        }
    }

    /// Runs until the store is closed or every sender is gone.
    pub fn run(mut self) {
        let mut cmds = Vec::with_capacity(256);
        while let Some(first) = self.rx.blocking_recv() {
            cmds.push(first);
            while cmds.len() < MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(cmd) => cmds.push(cmd),
                    Err(_) => break,
                }
            }
            if self.process(cmds.drain(..)) {
                break;
            }
        }
        // Refuse whatever was queued behind the close.
        self.rx.close();
        while let Ok(cmd) = self.rx.try_recv() {
            cmd.refuse(StoreError::Closed);
        }
        if let Err(e) = self.data.db.persist(PersistMode::SyncAll) {
            tracing::error!(error = %e, "final fjall persist failed");
        }
    }

    /// Applies and commits one batch; true when the store is to stop.
    fn process(&mut self, cmds: impl Iterator<Item = Command>) -> bool {
        let mut b = Batch {
            fjall: self.data.db.batch().durability(Some(PersistMode::SyncAll)),
            deliveries: Vec::new(),
            pending: Vec::new(),
            sends: HashMap::new(),
            new_messages: HashMap::new(),
            watermarks: HashMap::new(),
            messages: 0,
            sql_open: false,
            sql_broken: None,
            close: None,
        };
        for cmd in cmds {
            if b.close.is_some() {
                cmd.refuse(StoreError::Closed);
                continue;
            }
            self.apply(&mut b, cmd);
        }
        self.commit(b)
    }

    fn apply(&mut self, b: &mut Batch, cmd: Command) {
        match cmd {
            Command::Append(m, r) => {
                let res = self.append(b, m);
                b.pending.push(pending(true, r, res));
            }
            Command::Receipt(rc, r) => {
                let res = self.receipt(b, rc);
                b.pending.push(pending(true, r, res));
            }
            Command::Close(r) => b.close = Some(r),
            Command::Sql(job) => job.run(self, b),
            Command::PutApiMeta(key, value, r) => {
                b.fjall.insert(&self.data.api_meta, key, value);
                b.pending.push(pending(true, r, Ok(())));
            }
            Command::CreateRegistration(reg, r) => {
                let res = self.relational(b, |c| sql::create_registration(c, &reg));
                b.pending.push(pending(false, r, res));
            }
            Command::AddRegistrationAttempt(id, r) => {
                let res = self.relational(b, |c| sql::add_registration_attempt(c, &id));
                b.pending.push(pending(false, r, res));
            }
            Command::DeleteRegistration(id, r) => {
                let res = self.relational(b, |c| sql::delete_registration(c, &id));
                b.pending.push(pending(false, r, res));
            }
            Command::EnsureUser(id, now, r) => {
                let res = self.relational(b, |c| sql::ensure_user(c, &id, now));
                b.pending.push(pending(false, r, res));
            }
            Command::SetDisplayName(id, name, r) => {
                let res = self.relational(b, |c| sql::set_display_name(c, &id, name.as_deref()));
                b.pending.push(pending(false, r, res));
            }
            Command::CreateDevice(d, hash, r) => {
                let res = self.relational(b, |c| sql::create_device(c, &d, &hash));
                b.pending.push(pending(false, r, res));
            }
            Command::DirectChat(a, bb, now, r) => {
                let id = ids::direct_chat_id(&a, &bb);
                let res = match self.chats.get(&id) {
                    Some(chat) => Ok(Chat::clone(chat)),
                    None => self.chat_change(b, |c| sql::direct_chat(c, &a, &bb, now)),
                };
                b.pending.push(pending(false, r, res));
            }
            Command::CreateGroup(g, r) => {
                let res = self.chat_change(b, |c| sql::create_group(c, &g, MAX_GROUP_MEMBERS));
                b.pending.push(pending(false, r, res));
            }
            Command::AddMember(chat, user, role, r) => {
                let res = self.chat_change(b, |c| {
                    sql::add_member(c, &chat, &user, role, MAX_GROUP_MEMBERS)
                });
                b.pending.push(pending(false, r, res));
            }
            Command::RemoveMember(chat, user, r) => {
                let res = self.chat_change(b, |c| sql::remove_member(c, &chat, &user));
                b.pending.push(pending(false, r, res));
            }
        }
    }

    /// Runs one relational command in its own savepoint of the batch's transaction.
    fn relational<T>(
        &mut self,
        b: &mut Batch,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        if let Some(why) = &b.sql_broken {
            return Err(StoreError::Backend(why.clone()));
        }
        if !b.sql_open {
            self.sql
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(sql::backend)?;
            b.sql_open = true;
        }
        self.sql
            .execute_batch("SAVEPOINT cmd")
            .map_err(sql::backend)?;
        let res = f(&self.sql);
        let end = if res.is_ok() {
            "RELEASE cmd"
        } else {
            "ROLLBACK TO cmd; RELEASE cmd"
        };
        if let Err(e) = self.sql.execute_batch(end) {
            let why = format!("sqlite savepoint: {e}");
            b.sql_broken = Some(why.clone());
            return Err(StoreError::Backend(why));
        }
        res
    }

    /// A relational command that returns a chat: its result refreshes the cache.
    fn chat_change(
        &mut self,
        b: &mut Batch,
        f: impl FnOnce(&Connection) -> StoreResult<Chat>,
    ) -> StoreResult<Chat> {
        let chat = self.relational(b, f)?;
        self.chats
            .insert(chat.chat_id.clone(), Arc::new(chat.clone()));
        Ok(chat)
    }

    /// The chat's kind and members: cached, else read on the write connection (which
    /// sees this batch's changes).
    fn chat_state(&mut self, chat_id: &str) -> StoreResult<Arc<Chat>> {
        if let Some(chat) = self.chats.get(chat_id) {
            return Ok(chat.clone());
        }
        let chat = sql::chat(&self.sql, chat_id)?
            .ok_or_else(|| StoreError::NotFound(format!("chat {chat_id}")))?;
        let chat = Arc::new(chat);
        self.chats.insert(chat_id.to_string(), chat.clone());
        Ok(chat)
    }

    /// Loads the inbox counters of `users` so the infallible part that follows can
    /// count on them (a command either writes all its records or none).
    fn load_inbox_counters<'a>(&mut self, users: impl Iterator<Item = &'a str>) -> StoreResult<()> {
        let data = &self.data;
        for user in users {
            counter(&mut self.inbox_seq, user, || data.last_inbox_seq(user))?;
        }
        Ok(())
    }

    fn next_inbox_seq(&mut self, user: &str) -> u64 {
        let n = self
            .inbox_seq
            .get_mut(user)
            .expect("inbox counters are loaded before records are written");
        *n += 1;
        *n
    }

    fn append(&mut self, b: &mut Batch, p: Prepared) -> StoreResult<Appended> {
        let Prepared {
            msg: m,
            client_key,
            value,
        } = p;
        if let Some(first) = b.sends.get(&client_key) {
            return Ok(Appended {
                duplicate: true,
                ..first.clone()
            });
        }
        if let Some(v) = self.data.clients.get(&client_key).map_err(data::backend)? {
            let (chat_id, seq, ts) = codec::decode_client(&v)?;
            return Ok(Appended {
                id: ids::message_id(&chat_id, seq),
                chat_id,
                seq,
                ts,
                duplicate: true,
            });
        }
        let chat = self.chat_state(&m.chat_id)?;
        if !chat.is_member(&m.sender) {
            return Err(StoreError::NotMember(m.chat_id));
        }
        let data = &self.data;
        let last = *counter(&mut self.chat_seq, &m.chat_id, || data.last_seq(&m.chat_id))?;
        if let Some(reply_to) = &m.reply_to {
            match ids::parse_message_id(reply_to) {
                Some((c, s)) if c == m.chat_id && s <= last => {}
                _ => return Err(StoreError::InvalidReply(reply_to.clone())),
            }
        }
        self.load_inbox_counters(chat.members.iter().map(|m| m.user_id.as_str()))?;

        // Nothing below fails: the message is written completely or not at all.
        let seq = last + 1;
        self.chat_seq.insert(m.chat_id.clone(), seq);
        let appended = Appended {
            id: ids::message_id(&m.chat_id, seq),
            chat_id: m.chat_id.clone(),
            seq,
            ts: m.ts,
            duplicate: false,
        };
        b.fjall
            .insert(&self.data.messages, codec::seq_key(&m.chat_id, seq), value);
        b.fjall.insert(
            &self.data.clients,
            client_key.clone(),
            codec::encode_client(&m.chat_id, seq, m.ts),
        );
        b.sends.insert(client_key, appended.clone());
        b.new_messages
            .entry(m.chat_id.clone())
            .or_default()
            .push((seq, m.sender.clone()));
        let pointer = Slice::from(codec::encode_inbox_message(&m.chat_id, seq));
        let origin = m.sender_device.clone();
        let stored = Arc::new(StoredMessage {
            id: appended.id.clone(),
            chat_id: m.chat_id,
            seq,
            sender: m.sender,
            sender_device: m.sender_device,
            client_id: m.client_id,
            ts: m.ts,
            body: m.body,
            reply_to: m.reply_to,
        });
        b.deliveries.reserve(chat.members.len());
        for member in &chat.members {
            let inbox_seq = self.next_inbox_seq(&member.user_id);
            b.fjall.insert(
                &self.data.inbox,
                codec::seq_key(&member.user_id, inbox_seq),
                pointer.clone(),
            );
            b.deliveries.push(Delivery {
                user_id: member.user_id.clone(),
                item: InboxItem {
                    inbox_seq,
                    entry: InboxEntry::Message(stored.clone()),
                },
                origin_device: Some(origin.clone()),
            });
        }
        b.messages += 1;
        Ok(appended)
    }

    fn receipt(&mut self, b: &mut Batch, r: NewReceipt) -> StoreResult<ReceiptOutcome> {
        let chat = self.chat_state(&r.chat_id)?;
        if !chat.is_member(&r.user_id) {
            return Err(StoreError::NotMember(r.chat_id));
        }
        let data = &self.data;
        let last = *counter(&mut self.chat_seq, &r.chat_id, || data.last_seq(&r.chat_id))?;
        let up_to = r.up_to_seq;
        if up_to > last {
            return Err(StoreError::InvalidSeq { got: up_to, last });
        }
        let mark_key = codec::pair_key(&r.chat_id, &r.user_id);
        let (delivered, read) = match b.watermarks.get(&mark_key) {
            Some(w) => *w,
            None => self.data.watermark(&r.chat_id, &r.user_id)?,
        };
        let (old, new_mark) = match r.status {
            ReceiptStatus::Delivered => (delivered, (delivered.max(up_to), read)),
            // `read` implies `delivered`.
            ReceiptStatus::Read => (read, (delivered.max(up_to), read.max(up_to))),
        };
        if up_to <= old {
            return Ok(ReceiptOutcome { advanced: false });
        }

        // Who hears of it: in a direct chat the other member; in a group the members
        // who sent something in the newly covered range. A `read` also goes to the
        // reader's own stream, so its other devices clear their unread counts.
        let mut to: Vec<&str> = match chat.kind {
            ChatKind::Direct => chat
                .members
                .iter()
                .map(|m| m.user_id.as_str())
                .filter(|u| *u != r.user_id)
                .collect(),
            ChatKind::Group => {
                let mut senders: HashSet<String> = HashSet::new();
                self.data.senders(&r.chat_id, old + 1, up_to, |_, s| {
                    if s != r.user_id && !senders.contains(s) {
                        senders.insert(s.to_string());
                    }
                })?;
                for (seq, s) in b.new_messages.get(&r.chat_id).into_iter().flatten() {
                    if *seq > old && *seq <= up_to && *s != r.user_id {
                        senders.insert(s.clone());
                    }
                }
                chat.members
                    .iter()
                    .map(|m| m.user_id.as_str())
                    .filter(|u| senders.contains(*u))
                    .collect()
            }
        };
        if r.status == ReceiptStatus::Read {
            to.push(&r.user_id);
        }
        self.load_inbox_counters(to.iter().copied())?;

        // Nothing below fails.
        b.fjall.insert(
            &self.data.receipts,
            mark_key.clone(),
            codec::encode_watermark(new_mark.0, new_mark.1),
        );
        b.watermarks.insert(mark_key, new_mark);
        let stored = StoredReceipt {
            chat_id: r.chat_id.clone(),
            user_id: r.user_id.clone(),
            up_to_seq: up_to,
            status: r.status,
            ts: r.ts,
        };
        let value = Slice::from(codec::encode_inbox_receipt(&stored));
        for user in to {
            let inbox_seq = self.next_inbox_seq(user);
            b.fjall.insert(
                &self.data.inbox,
                codec::seq_key(user, inbox_seq),
                value.clone(),
            );
            b.deliveries.push(Delivery {
                user_id: user.to_string(),
                item: InboxItem {
                    inbox_seq,
                    entry: InboxEntry::Receipt(stored.clone()),
                },
                origin_device: Some(r.device_id.clone()),
            });
        }
        Ok(ReceiptOutcome { advanced: true })
    }

    /// Commits SQLite, then fjall with one fsync, then hands the deliveries to the
    /// sink, then answers. True when the store is to stop.
    fn commit(&mut self, b: Batch) -> bool {
        let started = Instant::now();
        let Batch {
            fjall,
            deliveries,
            pending,
            messages,
            sql_open,
            sql_broken,
            close,
            ..
        } = b;

        let sql_result = match (sql_open, sql_broken) {
            (false, _) => Ok(()),
            (true, Some(why)) => Err(why),
            (true, None) => self
                .sql
                .execute_batch("COMMIT")
                .map_err(|e| format!("sqlite commit: {e}")),
        };
        let failure = match sql_result {
            Err(why) => {
                if let Err(e) = self.sql.execute_batch("ROLLBACK") {
                    tracing::error!(error = %e, "sqlite rollback after a failed batch failed");
                }
                Some((why, true))
            }
            // If fjall fails, the relational commands are committed already: they keep
            // their results and only the data plane fails.
            Ok(()) => fjall
                .commit()
                .err()
                .map(|e| (format!("fjall commit: {e}"), false)),
        };

        match failure {
            None => {
                metrics::histogram!("switchboard_commit_seconds")
                    .record(started.elapsed().as_secs_f64());
                if messages > 0 {
                    metrics::histogram!("switchboard_commit_batch_size").record(messages as f64);
                    metrics::counter!("switchboard_messages_stored_total").increment(messages);
                }
                if !deliveries.is_empty() {
                    self.sink.committed(deliveries);
                }
                for p in pending {
                    (p.finish)(None);
                }
            }
            Some((why, everything)) => {
                tracing::error!(error = %why, commands = pending.len(), "group commit failed");
                // Forget every number and membership handed out: reload from disk.
                self.chats.clear();
                self.chat_seq.clear();
                self.inbox_seq.clear();
                for p in pending {
                    let failed =
                        (everything || p.data_plane).then(|| StoreError::Backend(why.clone()));
                    (p.finish)(failed);
                }
            }
        }

        match close {
            Some(reply) => {
                let result = self
                    .data
                    .db
                    .persist(PersistMode::SyncAll)
                    .map_err(data::backend);
                let _ = reply.send(result);
                true
            }
            None => false,
        }
    }
}
