//! The writer task of one node: group commit of appends and receipts.
//!
//! It waits for one command, drains up to `max_batch` more, and writes them all in ONE
//! transaction with a fixed number of statements (multi-row `UNNEST`), so a batch of a
//! thousand messages costs about ten round trips and one WAL flush, not a thousand.
//!
//! **Numbering across nodes.** Every node has its own writer, so numbers cannot come
//! from memory as in the embedded store. A batch locks the `chat_counters` rows of its
//! chats (`SELECT … ORDER BY chat_id FOR UPDATE`), then the `inbox_counters` rows of
//! its recipients (ordered by user_id), numbers its records after the values it read,
//! and writes the new values back in the same transaction. Locks are always taken in
//! that global order (chats sorted, then users sorted), so two nodes cannot deadlock
//! on them; if PostgreSQL reports a deadlock (40P01) or serialization failure (40001)
//! anyway, the whole batch is computed again from scratch.
//!
//! **Idempotency across nodes.** Sends already stored are found before numbering. A
//! retry of the same send committed by another node between that look-up and our
//! insert makes the insert fail on the unique `(sender_device, client_id)` index; the
//! batch is then run again and finds it stored, so the caller gets the first result
//! with `duplicate = true`.
//!
//! **Order of effects.** After `COMMIT` returned the sink gets the batch's deliveries
//! (per user in inbox_seq order, batches in commit order), and only then does any
//! caller get an answer. A batch that fails for a reason other than contention is
//! split and its commands run one by one, so one bad command cannot fail its
//! neighbours.

use crate::{describe, receipt_kind, to_i64, to_u64};
use deadpool_postgres::Pool;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_core::ids;
use switchboard_store::parse_chat_kind;
use switchboard_store::{
    Appended, ChatKind, CommitSink, Delivery, InboxEntry, InboxItem, NewMessage, NewReceipt,
    ReceiptOutcome, ReceiptStatus, StoreError, StoreResult, StoredMessage, StoredReceipt,
};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::error::SqlState;

/// Attempts of one batch when it meets contention, at most.
const MAX_ATTEMPTS: u32 = 10;

pub type Reply<T> = oneshot::Sender<StoreResult<T>>;

/// A request for the writer.
pub enum Command {
    Append(NewMessage, Reply<Appended>),
    Receipt(NewReceipt, Reply<ReceiptOutcome>),
    /// Finish what came before and stop.
    Close(Reply<()>),
}

impl Command {
    fn refuse(self, err: StoreError) {
        match self {
            Command::Append(_, r) => drop(r.send(Err(err))),
            Command::Receipt(_, r) => drop(r.send(Err(err))),
            Command::Close(r) => drop(r.send(Err(err))),
        }
    }
}

/// The data of a command, kept apart from its reply so a batch can run again.
enum Op {
    Append(NewMessage),
    Receipt(NewReceipt),
}

enum Answer {
    Append(Reply<Appended>),
    Receipt(Reply<ReceiptOutcome>),
}

/// What one command came to, once its batch commits.
enum Outcome {
    Append(StoreResult<Appended>),
    Receipt(StoreResult<ReceiptOutcome>),
}

impl Answer {
    fn send(self, outcome: Outcome) {
        // A caller that went away (its future was dropped) needs no answer.
        match (self, outcome) {
            (Answer::Append(r), Outcome::Append(v)) => drop(r.send(v)),
            (Answer::Receipt(r), Outcome::Receipt(v)) => drop(r.send(v)),
            (Answer::Append(r), Outcome::Receipt(_)) => {
                drop(r.send(Err(StoreError::Backend("writer answer mismatch".into()))))
            }
            (Answer::Receipt(r), Outcome::Append(_)) => {
                drop(r.send(Err(StoreError::Backend("writer answer mismatch".into()))))
            }
        }
    }

    fn fail(self, err: StoreError) {
        match self {
            Answer::Append(r) => drop(r.send(Err(err))),
            Answer::Receipt(r) => drop(r.send(Err(err))),
        }
    }
}

/// Why a batch did not commit.
enum BatchError {
    /// Contention with another node (deadlock, serialization, a racing duplicate):
    /// run the batch again.
    Retry(String),
    /// The server refused a statement: one command may be at fault.
    Refused(String),
    /// The connection or pool failed: nothing to learn from running it again now.
    Broken(String),
}

impl From<tokio_postgres::Error> for BatchError {
    fn from(e: tokio_postgres::Error) -> Self {
        let why = describe(&e);
        let Some(db) = e.as_db_error() else {
            return BatchError::Broken(why);
        };
        let code = db.code();
        if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
        {
            return BatchError::Retry(why);
        }
        // Another node committed the same send after we looked, or created a missing
        // counter row: the next attempt sees it.
        if *code == SqlState::UNIQUE_VIOLATION
            && matches!(
                db.constraint(),
                Some("messages_client" | "inbox_counters_pkey")
            )
        {
            return BatchError::Retry(why);
        }
        BatchError::Refused(why)
    }
}

impl From<deadpool_postgres::PoolError> for BatchError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        BatchError::Broken(format!("postgresql pool: {e}"))
    }
}

impl BatchError {
    fn text(&self) -> &str {
        match self {
            BatchError::Retry(s) | BatchError::Refused(s) | BatchError::Broken(s) => s,
        }
    }
}

/// A chat as a batch sees it after locking its counter.
struct ChatState {
    kind: ChatKind,
    members: Arc<Vec<String>>,
    /// The last seq, counting this batch's messages numbered so far.
    last: u64,
}

/// Per command, what pass one decided; recipients are resolved in pass two.
enum Plan {
    /// Answered without writing (a duplicate, a refusal, a receipt that does not
    /// advance).
    Done(Outcome),
    /// A new message: index into `msgs`.
    Message(usize),
    /// A receipt that advances: index into `rcpts`.
    Receipt(usize),
}

struct PlannedReceipt {
    stored: StoredReceipt,
    device: String,
    kind: ChatKind,
    members: Arc<Vec<String>>,
    /// The newly covered range `(old, up_to]`, for groups: who sent in it.
    old: u64,
}

pub struct Writer {
    pool: Pool,
    sink: Arc<dyn CommitSink>,
    rx: mpsc::Receiver<Command>,
    max_batch: usize,
}

impl Writer {
    pub fn new(
        pool: Pool,
        sink: Arc<dyn CommitSink>,
        rx: mpsc::Receiver<Command>,
        max_batch: usize,
    ) -> Self {
        Writer {
            pool,
            sink,
            rx,
            max_batch,
        }
    }

    /// Runs until the store is closed or dropped.
    pub async fn run(mut self) {
        let mut buf = Vec::with_capacity(self.max_batch);
        loop {
            if self.rx.recv_many(&mut buf, self.max_batch).await == 0 {
                return;
            }
            let mut ops = Vec::with_capacity(buf.len());
            let mut answers = Vec::with_capacity(buf.len());
            let mut close = None;
            for cmd in buf.drain(..) {
                if close.is_some() {
                    cmd.refuse(StoreError::Closed);
                    continue;
                }
                match cmd {
                    Command::Append(m, r) => {
                        ops.push(Op::Append(m));
                        answers.push(Answer::Append(r));
                    }
                    Command::Receipt(rc, r) => {
                        ops.push(Op::Receipt(rc));
                        answers.push(Answer::Receipt(r));
                    }
                    Command::Close(r) => close = Some(r),
                }
            }
            if !ops.is_empty() {
                self.commit(ops, answers).await;
            }
            if let Some(reply) = close {
                self.rx.close();
                while let Ok(cmd) = self.rx.try_recv() {
                    cmd.refuse(StoreError::Closed);
                }
                let _ = reply.send(Ok(()));
                return;
            }
        }
    }

    /// Commits one batch (retrying on contention, splitting on refusal) and answers.
    async fn commit(&self, ops: Vec<Op>, answers: Vec<Answer>) {
        match self.attempt(&ops).await {
            Ok((outcomes, deliveries)) => self.finish(outcomes, deliveries, answers),
            Err(BatchError::Refused(why)) if ops.len() > 1 => {
                tracing::warn!(error = %why, commands = ops.len(), "batch refused; running its commands one by one");
                for (op, answer) in ops.into_iter().zip(answers) {
                    let ops = [op];
                    match self.attempt(&ops).await {
                        Ok((outcomes, deliveries)) => {
                            self.finish(outcomes, deliveries, vec![answer])
                        }
                        Err(e) => answer.fail(StoreError::Backend(e.text().to_string())),
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e.text(), commands = ops.len(), "group commit failed");
                for answer in answers {
                    answer.fail(StoreError::Backend(e.text().to_string()));
                }
            }
        }
    }

    fn finish(&self, outcomes: Vec<Outcome>, deliveries: Vec<Delivery>, answers: Vec<Answer>) {
        if !deliveries.is_empty() {
            self.sink.committed(deliveries);
        }
        for (answer, outcome) in answers.into_iter().zip(outcomes) {
            answer.send(outcome);
        }
    }

    /// Runs a batch, again and again while it meets contention.
    async fn attempt(&self, ops: &[Op]) -> Result<(Vec<Outcome>, Vec<Delivery>), BatchError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let started = Instant::now();
            match self.execute(ops).await {
                Ok((outcomes, deliveries, messages)) => {
                    metrics::histogram!("switchboard_commit_seconds")
                        .record(started.elapsed().as_secs_f64());
                    if messages > 0 {
                        metrics::histogram!("switchboard_commit_batch_size")
                            .record(messages as f64);
                        metrics::counter!("switchboard_messages_stored_total")
                            .increment(messages as u64);
                    }
                    return Ok((outcomes, deliveries));
                }
                Err(BatchError::Retry(why)) if tries < MAX_ATTEMPTS => {
                    metrics::counter!("switchboard_commit_retries_total").increment(1);
                    tracing::debug!(error = %why, tries, "batch met contention; running it again");
                    // A short, growing, jittered pause lets the other transaction finish.
                    let jitter = u64::from(started.elapsed().subsec_nanos() % 1000);
                    tokio::time::sleep(Duration::from_micros(500 * u64::from(tries) + jitter))
                        .await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One transaction for the whole batch. Returns each command's outcome, the
    /// deliveries, and how many messages were stored.
    async fn execute(
        &self,
        ops: &[Op],
    ) -> Result<(Vec<Outcome>, Vec<Delivery>, usize), BatchError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;

        // --- round 1: stored sends; lock the chats' counters; their members -------
        let mut keys_dev: Vec<&str> = Vec::new();
        let mut keys_cid: Vec<&str> = Vec::new();
        let mut chat_ids: BTreeSet<&str> = BTreeSet::new();
        for op in ops {
            match op {
                Op::Append(m) => {
                    keys_dev.push(&m.sender_device);
                    keys_cid.push(&m.client_id);
                    chat_ids.insert(&m.chat_id);
                }
                Op::Receipt(r) => {
                    chat_ids.insert(&r.chat_id);
                }
            }
        }
        let chat_ids: Vec<&str> = chat_ids.into_iter().collect();
        let s_sent = tx
            .prepare_cached(
                "SELECT m.sender_device, m.client_id, m.chat_id, m.seq, m.ts FROM messages m
                 JOIN unnest($1::text[], $2::text[]) AS k(d, c)
                   ON m.sender_device = k.d AND m.client_id = k.c",
            )
            .await?;
        let s_lock = tx
            .prepare_cached(
                "SELECT cc.chat_id, cc.last_seq FROM chat_counters cc
                 JOIN unnest($1::text[]) AS k(id) ON cc.chat_id = k.id
                 ORDER BY cc.chat_id FOR UPDATE OF cc",
            )
            .await?;
        let s_members = tx
            .prepare_cached(
                "SELECT c.chat_id, c.kind, m.user_id FROM unnest($1::text[]) AS k(id)
                 JOIN chats c ON c.chat_id = k.id
                 LEFT JOIN members m ON m.chat_id = c.chat_id
                 ORDER BY c.chat_id, m.pos",
            )
            .await?;
        let (sent_rows, lock_rows, member_rows) = tokio::try_join!(
            async {
                if keys_dev.is_empty() {
                    Ok(Vec::new())
                } else {
                    tx.query(&s_sent, &[&keys_dev, &keys_cid]).await
                }
            },
            async { tx.query(&s_lock, &[&chat_ids]).await },
            async { tx.query(&s_members, &[&chat_ids]).await },
        )?;
        let mut stored_sends: HashMap<(String, String), Appended> = HashMap::new();
        for r in &sent_rows {
            let chat_id: String = r.get(2);
            let seq = to_u64(r.get(3));
            stored_sends.insert(
                (r.get(0), r.get(1)),
                Appended {
                    id: ids::message_id(&chat_id, seq),
                    chat_id,
                    seq,
                    ts: r.get(4),
                    duplicate: true,
                },
            );
        }
        let mut members: HashMap<String, (ChatKind, Vec<String>)> = HashMap::new();
        for r in &member_rows {
            let chat_id: String = r.get(0);
            let entry = match members.get_mut(&chat_id) {
                Some(e) => e,
                None => {
                    let kind =
                        parse_chat_kind(r.get(1)).map_err(|e| BatchError::Broken(e.to_string()))?;
                    members.entry(chat_id).or_insert((kind, Vec::new()))
                }
            };
            if let Some(user) = r.get::<_, Option<String>>(2) {
                entry.1.push(user);
            }
        }
        // Only chats with a counter row exist for the data plane.
        let mut chats: HashMap<String, ChatState> = HashMap::new();
        for r in &lock_rows {
            let chat_id: String = r.get(0);
            if let Some((kind, list)) = members.remove(&chat_id) {
                chats.insert(
                    chat_id,
                    ChatState {
                        kind,
                        members: Arc::new(list),
                        last: to_u64(r.get(1)),
                    },
                );
            }
        }
        let first_last: HashMap<String, u64> =
            chats.iter().map(|(k, v)| (k.clone(), v.last)).collect();

        // --- round 2 (receipts only): watermarks, read under the chat locks --------
        let mut marks: HashMap<(String, String), (u64, u64)> = HashMap::new();
        let receipt_keys: Vec<(&str, &str)> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Receipt(r) => Some((r.chat_id.as_str(), r.user_id.as_str())),
                Op::Append(_) => None,
            })
            .collect();
        if !receipt_keys.is_empty() {
            let (kc, ku): (Vec<&str>, Vec<&str>) = receipt_keys.iter().copied().unzip();
            let s_marks = tx
                .prepare_cached(
                    "SELECT w.chat_id, w.user_id, w.delivered, w.read FROM read_marks w
                     JOIN unnest($1::text[], $2::text[]) AS k(c, u)
                       ON w.chat_id = k.c AND w.user_id = k.u",
                )
                .await?;
            for r in tx.query(&s_marks, &[&kc, &ku]).await? {
                marks.insert((r.get(0), r.get(1)), (to_u64(r.get(2)), to_u64(r.get(3))));
            }
        }

        // --- pass one, in command order: validate and number messages --------------
        let mut plans: Vec<Plan> = Vec::with_capacity(ops.len());
        let mut msgs: Vec<(&NewMessage, u64, Arc<Vec<String>>)> = Vec::new();
        let mut rcpts: Vec<PlannedReceipt> = Vec::new();
        let mut batch_sends: HashMap<(&str, &str), Appended> = HashMap::new();
        // Messages numbered in this batch, per chat: (seq, sender).
        let mut new_msgs: HashMap<&str, Vec<(u64, &str)>> = HashMap::new();
        let mut mark_writes: HashMap<(String, String), (u64, u64)> = HashMap::new();
        for op in ops {
            match op {
                Op::Append(m) => {
                    let key = (m.sender_device.as_str(), m.client_id.as_str());
                    if let Some(first) = batch_sends.get(&key) {
                        plans.push(Plan::Done(Outcome::Append(Ok(Appended {
                            duplicate: true,
                            ..first.clone()
                        }))));
                        continue;
                    }
                    if let Some(first) =
                        stored_sends.get(&(m.sender_device.clone(), m.client_id.clone()))
                    {
                        plans.push(Plan::Done(Outcome::Append(Ok(first.clone()))));
                        continue;
                    }
                    let Some(chat) = chats.get_mut(&m.chat_id) else {
                        plans.push(Plan::Done(Outcome::Append(Err(StoreError::NotFound(
                            format!("chat {}", m.chat_id),
                        )))));
                        continue;
                    };
                    if !chat.members.contains(&m.sender) {
                        plans.push(Plan::Done(Outcome::Append(Err(StoreError::NotMember(
                            m.chat_id.clone(),
                        )))));
                        continue;
                    }
                    if let Some(reply_to) = &m.reply_to {
                        match ids::parse_message_id(reply_to) {
                            Some((c, s)) if c == m.chat_id && s <= chat.last => {}
                            _ => {
                                plans.push(Plan::Done(Outcome::Append(Err(
                                    StoreError::InvalidReply(reply_to.clone()),
                                ))));
                                continue;
                            }
                        }
                    }
                    chat.last += 1;
                    let seq = chat.last;
                    batch_sends.insert(
                        key,
                        Appended {
                            id: ids::message_id(&m.chat_id, seq),
                            chat_id: m.chat_id.clone(),
                            seq,
                            ts: m.ts,
                            duplicate: false,
                        },
                    );
                    new_msgs
                        .entry(&m.chat_id)
                        .or_default()
                        .push((seq, &m.sender));
                    plans.push(Plan::Message(msgs.len()));
                    msgs.push((m, seq, chat.members.clone()));
                }
                Op::Receipt(r) => {
                    let Some(chat) = chats.get(&r.chat_id) else {
                        plans.push(Plan::Done(Outcome::Receipt(Err(StoreError::NotFound(
                            format!("chat {}", r.chat_id),
                        )))));
                        continue;
                    };
                    if !chat.members.contains(&r.user_id) {
                        plans.push(Plan::Done(Outcome::Receipt(Err(StoreError::NotMember(
                            r.chat_id.clone(),
                        )))));
                        continue;
                    }
                    let up_to = r.up_to_seq;
                    if up_to > chat.last {
                        plans.push(Plan::Done(Outcome::Receipt(Err(StoreError::InvalidSeq {
                            got: up_to,
                            last: chat.last,
                        }))));
                        continue;
                    }
                    let key = (r.chat_id.clone(), r.user_id.clone());
                    let (delivered, read) = marks.get(&key).copied().unwrap_or((0, 0));
                    let (old, new_mark) = match r.status {
                        ReceiptStatus::Delivered => (delivered, (delivered.max(up_to), read)),
                        // `read` implies `delivered`.
                        ReceiptStatus::Read => (read, (delivered.max(up_to), read.max(up_to))),
                    };
                    if up_to <= old {
                        plans.push(Plan::Done(Outcome::Receipt(Ok(ReceiptOutcome {
                            advanced: false,
                        }))));
                        continue;
                    }
                    marks.insert(key.clone(), new_mark);
                    mark_writes.insert(key, new_mark);
                    plans.push(Plan::Receipt(rcpts.len()));
                    rcpts.push(PlannedReceipt {
                        stored: StoredReceipt {
                            chat_id: r.chat_id.clone(),
                            user_id: r.user_id.clone(),
                            up_to_seq: up_to,
                            status: r.status,
                            ts: r.ts,
                        },
                        device: r.device_id.clone(),
                        kind: chat.kind,
                        members: chat.members.clone(),
                        old,
                    });
                }
            }
        }

        // --- round 3 (group receipts only): who sent in the newly covered ranges ----
        let mut senders: Vec<HashSet<String>> = vec![HashSet::new(); rcpts.len()];
        {
            let (mut qi, mut qc, mut qlo, mut qhi) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (i, p) in rcpts.iter().enumerate() {
                if p.kind != ChatKind::Group {
                    continue;
                }
                let chat = p.stored.chat_id.as_str();
                // Committed messages: below the first seq this batch handed out.
                let committed = first_last.get(chat).copied().unwrap_or(0);
                if p.old < committed {
                    qi.push(i as i32);
                    qc.push(chat);
                    qlo.push(to_i64(p.old));
                    qhi.push(to_i64(p.stored.up_to_seq.min(committed)));
                }
                for (seq, s) in new_msgs.get(chat).into_iter().flatten() {
                    if *seq > p.old && *seq <= p.stored.up_to_seq {
                        senders[i].insert(s.to_string());
                    }
                }
            }
            if !qi.is_empty() {
                let s_senders = tx
                    .prepare_cached(
                        "SELECT DISTINCT k.i, m.sender
                         FROM unnest($1::int[], $2::text[], $3::bigint[], $4::bigint[]) AS k(i, c, lo, hi)
                         JOIN messages m ON m.chat_id = k.c AND m.seq > k.lo AND m.seq <= k.hi",
                    )
                    .await?;
                for r in tx.query(&s_senders, &[&qi, &qc, &qlo, &qhi]).await? {
                    let i: i32 = r.get(0);
                    if let Some(set) = usize::try_from(i).ok().and_then(|i| senders.get_mut(i)) {
                        set.insert(r.get(1));
                    }
                }
            }
        }

        // --- pass two: recipients of every entry, then lock their counters ---------
        let mut recipients: Vec<Vec<String>> = Vec::with_capacity(rcpts.len());
        for (i, p) in rcpts.iter().enumerate() {
            let reader = p.stored.user_id.as_str();
            let mut to: Vec<String> = match p.kind {
                ChatKind::Direct => p
                    .members
                    .iter()
                    .filter(|u| u.as_str() != reader)
                    .cloned()
                    .collect(),
                // In a group: the members who sent something in the covered range.
                ChatKind::Group => p
                    .members
                    .iter()
                    .filter(|u| u.as_str() != reader && senders[i].contains(u.as_str()))
                    .cloned()
                    .collect(),
            };
            // A `read` also goes to the reader's own stream, for its other devices.
            if p.stored.status == ReceiptStatus::Read {
                to.push(reader.to_string());
            }
            recipients.push(to);
        }
        let mut users: BTreeSet<&str> = BTreeSet::new();
        for (_, _, members) in &msgs {
            users.extend(members.iter().map(String::as_str));
        }
        for to in &recipients {
            users.extend(to.iter().map(String::as_str));
        }
        let users: Vec<&str> = users.into_iter().collect();
        let mut inbox_last: HashMap<String, u64> = HashMap::new();
        let mut locked_users: HashSet<String> = HashSet::new();
        if !users.is_empty() {
            let s_users = tx
                .prepare_cached(
                    "SELECT ic.user_id, ic.last_inbox_seq FROM inbox_counters ic
                     JOIN unnest($1::text[]) AS k(id) ON ic.user_id = k.id
                     ORDER BY ic.user_id FOR UPDATE OF ic",
                )
                .await?;
            for r in tx.query(&s_users, &[&users]).await? {
                let user: String = r.get(0);
                locked_users.insert(user.clone());
                inbox_last.insert(user, to_u64(r.get(1)));
            }
        }

        // --- pass three, in command order: number inbox entries, build rows --------
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(ops.len());
        let mut deliveries: Vec<Delivery> = Vec::new();
        let mut inbox = InboxRows::default();
        let mut next_inbox = |user: &str| -> u64 {
            let n = inbox_last.entry(user.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        for plan in plans {
            match plan {
                Plan::Done(outcome) => outcomes.push(outcome),
                Plan::Message(i) => {
                    let (m, seq, members) = &msgs[i];
                    let stored = std::sync::Arc::new(StoredMessage {
                        id: ids::message_id(&m.chat_id, *seq),
                        chat_id: m.chat_id.clone(),
                        seq: *seq,
                        sender: m.sender.clone(),
                        sender_device: m.sender_device.clone(),
                        client_id: m.client_id.clone(),
                        ts: m.ts,
                        body: m.body.clone(),
                        reply_to: m.reply_to.clone(),
                    });
                    for user in members.iter() {
                        let inbox_seq = next_inbox(user);
                        inbox.push(user, inbox_seq, 0, &m.chat_id, *seq, None, None);
                        deliveries.push(Delivery {
                            user_id: user.clone(),
                            item: InboxItem {
                                inbox_seq,
                                entry: InboxEntry::Message(stored.clone()),
                            },
                            origin_device: Some(m.sender_device.clone()),
                        });
                    }
                    outcomes.push(Outcome::Append(Ok(Appended {
                        id: stored.id.clone(),
                        chat_id: stored.chat_id.clone(),
                        seq: *seq,
                        ts: m.ts,
                        duplicate: false,
                    })));
                }
                Plan::Receipt(i) => {
                    let p = &rcpts[i];
                    for user in &recipients[i] {
                        let inbox_seq = next_inbox(user);
                        inbox.push(
                            user,
                            inbox_seq,
                            receipt_kind(p.stored.status),
                            &p.stored.chat_id,
                            p.stored.up_to_seq,
                            Some(&p.stored.user_id),
                            Some(p.stored.ts),
                        );
                        deliveries.push(Delivery {
                            user_id: user.clone(),
                            item: InboxItem {
                                inbox_seq,
                                entry: InboxEntry::Receipt(p.stored.clone()),
                            },
                            origin_device: Some(p.device.clone()),
                        });
                    }
                    outcomes.push(Outcome::Receipt(Ok(ReceiptOutcome { advanced: true })));
                }
            }
        }

        // --- round 4: every write of the batch, pipelined, then COMMIT -------------
        let (cc_id, cc_last): (Vec<&str>, Vec<i64>) = chats
            .iter()
            .filter(|(id, c)| first_last.get(id.as_str()) != Some(&c.last))
            .map(|(id, c)| (id.as_str(), to_i64(c.last)))
            .unzip();
        // Counter rows that exist are updated (cheap); a missing one (a user created
        // without its counter) is inserted, racing nodes resolved by a retry.
        let (mut ic_id, mut ic_last, mut ic_new_id, mut ic_new_last) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for u in &users {
            if let Some(n) = inbox_last.get(*u) {
                if locked_users.contains(*u) {
                    ic_id.push(*u);
                    ic_last.push(to_i64(*n));
                } else {
                    ic_new_id.push(*u);
                    ic_new_last.push(to_i64(*n));
                }
            }
        }
        let mut m_cols = MessageRows::default();
        for (m, seq, _) in &msgs {
            m_cols.push(m, *seq);
        }
        let (mut w_chat, mut w_user, mut w_del, mut w_read) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((chat, user), (d, r)) in &mark_writes {
            w_chat.push(chat.as_str());
            w_user.push(user.as_str());
            w_del.push(to_i64(*d));
            w_read.push(to_i64(*r));
        }
        let s_cc = tx
            .prepare_cached(
                "UPDATE chat_counters c SET last_seq = v.last
                 FROM unnest($1::text[], $2::bigint[]) AS v(id, last) WHERE c.chat_id = v.id",
            )
            .await?;
        let s_ic = tx
            .prepare_cached(
                "UPDATE inbox_counters c SET last_inbox_seq = v.last
                 FROM unnest($1::text[], $2::bigint[]) AS v(id, last) WHERE c.user_id = v.id",
            )
            .await?;
        let s_ic_new = tx
            .prepare_cached(
                "INSERT INTO inbox_counters (user_id, last_inbox_seq)
                 SELECT * FROM unnest($1::text[], $2::bigint[])
                 ON CONFLICT (user_id) DO UPDATE SET last_inbox_seq = EXCLUDED.last_inbox_seq",
            )
            .await?;
        let s_msg = tx
            .prepare_cached(
                "INSERT INTO messages (chat_id, seq, sender, sender_device, client_id, ts, body, reply_to)
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                                      $6::bigint[], $7::text[], $8::text[])",
            )
            .await?;
        let s_inbox = tx
            .prepare_cached(
                "INSERT INTO inbox (user_id, inbox_seq, kind, chat_id, seq, r_user, r_ts)
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::int2[], $4::text[], $5::bigint[],
                                      $6::text[], $7::bigint[])",
            )
            .await?;
        let s_marks = tx
            .prepare_cached(
                "INSERT INTO read_marks (chat_id, user_id, delivered, read)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
                 ON CONFLICT (chat_id, user_id)
                 DO UPDATE SET delivered = EXCLUDED.delivered, read = EXCLUDED.read",
            )
            .await?;
        let skip = || async { Ok::<u64, tokio_postgres::Error>(0) };
        tokio::try_join!(
            async {
                if cc_id.is_empty() {
                    skip().await
                } else {
                    tx.execute(&s_cc, &[&cc_id, &cc_last]).await
                }
            },
            async {
                if ic_id.is_empty() {
                    skip().await
                } else {
                    tx.execute(&s_ic, &[&ic_id, &ic_last]).await
                }
            },
            async {
                if ic_new_id.is_empty() {
                    skip().await
                } else {
                    tx.execute(&s_ic_new, &[&ic_new_id, &ic_new_last]).await
                }
            },
            async {
                if m_cols.chat.is_empty() {
                    skip().await
                } else {
                    tx.execute(
                        &s_msg,
                        &[
                            &m_cols.chat,
                            &m_cols.seq,
                            &m_cols.sender,
                            &m_cols.device,
                            &m_cols.client,
                            &m_cols.ts,
                            &m_cols.body,
                            &m_cols.reply_to,
                        ],
                    )
                    .await
                }
            },
            async {
                if inbox.user.is_empty() {
                    skip().await
                } else {
                    tx.execute(
                        &s_inbox,
                        &[
                            &inbox.user,
                            &inbox.inbox_seq,
                            &inbox.kind,
                            &inbox.chat,
                            &inbox.seq,
                            &inbox.r_user,
                            &inbox.r_ts,
                        ],
                    )
                    .await
                }
            },
            async {
                if w_chat.is_empty() {
                    skip().await
                } else {
                    tx.execute(&s_marks, &[&w_chat, &w_user, &w_del, &w_read])
                        .await
                }
            },
        )?;
        tx.commit().await?;
        Ok((outcomes, deliveries, msgs.len()))
    }
}

/// The columns of the batch's `messages` insert.
#[derive(Default)]
struct MessageRows<'a> {
    chat: Vec<&'a str>,
    seq: Vec<i64>,
    sender: Vec<&'a str>,
    device: Vec<&'a str>,
    client: Vec<&'a str>,
    ts: Vec<i64>,
    body: Vec<&'a str>,
    reply_to: Vec<Option<&'a str>>,
}

impl<'a> MessageRows<'a> {
    fn push(&mut self, m: &'a NewMessage, seq: u64) {
        self.chat.push(&m.chat_id);
        self.seq.push(to_i64(seq));
        self.sender.push(&m.sender);
        self.device.push(&m.sender_device);
        self.client.push(&m.client_id);
        self.ts.push(m.ts);
        self.body.push(&m.body);
        self.reply_to.push(m.reply_to.as_deref());
    }
}

/// The columns of the batch's `inbox` insert.
#[derive(Default)]
struct InboxRows<'a> {
    user: Vec<&'a str>,
    inbox_seq: Vec<i64>,
    kind: Vec<i16>,
    chat: Vec<&'a str>,
    seq: Vec<i64>,
    r_user: Vec<Option<&'a str>>,
    r_ts: Vec<Option<i64>>,
}

impl<'a> InboxRows<'a> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        user: &'a str,
        inbox_seq: u64,
        kind: i16,
        chat: &'a str,
        seq: u64,
        r_user: Option<&'a str>,
        r_ts: Option<i64>,
    ) {
        self.user.push(user);
        self.inbox_seq.push(to_i64(inbox_seq));
        self.kind.push(kind);
        self.chat.push(chat);
        self.seq.push(to_i64(seq));
        self.r_user.push(r_user);
        self.r_ts.push(r_ts);
    }
}
