//! The message data plane in fjall: its keyspaces, the format-version check at open,
//! and the reads (history, inbox, watermarks, last seqs) that both the writer thread
//! and the read path use.

use crate::codec;
use fjall::{Database, Keyspace, KeyspaceCreateOptions};
use std::path::Path;
use switchboard_store::{InboxItem, StoreError, StoreResult, StoredMessage};

/// The layout version of the fjall data. Bump it (and write a migration) whenever a
/// key or value layout in `codec` changes.
pub const FORMAT_VERSION: u32 = 1;
/// The key of the format version in the `meta` keyspace.
pub const FORMAT_KEY: &str = "format_version";
/// The fjall folder inside the store's directory.
pub const FJALL_DIR: &str = "fjall";

pub fn backend(e: fjall::Error) -> StoreError {
    StoreError::Backend(format!("fjall: {e}"))
}

/// The fjall database and its keyspaces. Cheap to clone (handles).
#[derive(Clone)]
pub struct Data {
    pub db: Database,
    /// `(chat, seq)` -> the message.
    pub messages: Keyspace,
    /// `(device, client id)` -> (chat, seq, ts): idempotency of sends.
    pub clients: Keyspace,
    /// `(user, inbox_seq)` -> a message pointer or a receipt.
    pub inbox: Keyspace,
    /// `(chat, user)` -> (delivered, read) watermarks.
    pub receipts: Keyspace,
    /// `(waba_id, client id)` -> what the business API recorded about a message it
    /// sent (JSON). Here, not in SQLite, so it commits in the same fjall batch as the
    /// append it belongs to: one fsync per cycle, not two.
    pub api_meta: Keyspace,
}

impl Data {
    pub fn open(dir: &Path) -> StoreResult<Self> {
        let path = dir.join(FJALL_DIR);
        let db = Database::builder(&path)
            // Durability is ours: each batch is committed with an explicit SyncAll.
            .manual_journal_persist(true)
            .open()
            .map_err(|e| {
                StoreError::Backend(format!("cannot open fjall at {}: {e}", path.display()))
            })?;
        let ks = |name: &str| {
            db.keyspace(name, KeyspaceCreateOptions::default)
                .map_err(backend)
        };
        let meta = ks("meta")?;
        match meta.get(FORMAT_KEY).map_err(backend)? {
            Some(v) => {
                let found = <[u8; 4]>::try_from(&*v)
                    .map(u32::from_be_bytes)
                    .map_err(|_| {
                        StoreError::Format(format!(
                            "fjall data at {} has a malformed format version",
                            path.display()
                        ))
                    })?;
                if found != FORMAT_VERSION {
                    return Err(StoreError::Format(format!(
                        "fjall data at {} has format version {found}, this build reads version {FORMAT_VERSION}; \
                         hint: use the switchboard release that wrote it",
                        path.display()
                    )));
                }
            }
            None => {
                meta.insert(FORMAT_KEY, FORMAT_VERSION.to_be_bytes())
                    .map_err(backend)?;
                db.persist(fjall::PersistMode::SyncAll).map_err(backend)?;
            }
        }
        Ok(Self {
            messages: ks("messages")?,
            clients: ks("clients")?,
            inbox: ks("inbox")?,
            receipts: ks("receipts")?,
            api_meta: ks("api_meta")?,
            db,
        })
    }

    /// The seq of a chat's last committed message (0 if none).
    pub fn last_seq(&self, chat_id: &str) -> StoreResult<u64> {
        last_number(&self.messages, chat_id)
    }

    /// The last committed inbox_seq of a user (0 if none).
    pub fn last_inbox_seq(&self, user_id: &str) -> StoreResult<u64> {
        last_number(&self.inbox, user_id)
    }

    /// The committed (delivered, read) watermarks of a user in a chat.
    pub fn watermark(&self, chat_id: &str, user_id: &str) -> StoreResult<(u64, u64)> {
        match self
            .receipts
            .get(codec::pair_key(chat_id, user_id))
            .map_err(backend)?
        {
            Some(v) => codec::decode_watermark(&v),
            None => Ok((0, 0)),
        }
    }

    pub fn message(&self, chat_id: &str, seq: u64) -> StoreResult<StoredMessage> {
        match self
            .messages
            .get(codec::seq_key(chat_id, seq))
            .map_err(backend)?
        {
            Some(v) => codec::decode_message(chat_id, seq, &v),
            None => Err(StoreError::Format(format!(
                "an inbox entry points at message {chat_id}.{seq}, which does not exist"
            ))),
        }
    }

    /// Calls `f(seq, sender)` for each committed message of a chat with seq in `from..=to`.
    pub fn senders(
        &self,
        chat_id: &str,
        from: u64,
        to: u64,
        mut f: impl FnMut(u64, &str),
    ) -> StoreResult<()> {
        if from > to {
            return Ok(());
        }
        for guard in self
            .messages
            .range(codec::seq_key(chat_id, from)..=codec::seq_key(chat_id, to))
        {
            let (k, v) = guard.into_inner().map_err(backend)?;
            f(codec::seq_of_key(&k)?, codec::message_sender(&v)?);
        }
        Ok(())
    }

    pub fn history(
        &self,
        chat_id: &str,
        before_seq: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<StoredMessage>> {
        if limit == 0 || before_seq == Some(0) {
            return Ok(Vec::new());
        }
        let end = match before_seq {
            Some(b) => codec::seq_key(chat_id, b),
            // The prefix with 0x01 instead of the 0x00 separator bounds every key of the chat.
            None => {
                let mut k = codec::id_prefix(chat_id);
                *k.last_mut().expect("a prefix ends in the separator") = 1;
                k
            }
        };
        let mut out = Vec::with_capacity(limit.min(512));
        for guard in self
            .messages
            .range(codec::seq_key(chat_id, 0)..end)
            .rev()
            .take(limit)
        {
            let (k, v) = guard.into_inner().map_err(backend)?;
            out.push(codec::decode_message(chat_id, codec::seq_of_key(&k)?, &v)?);
        }
        Ok(out)
    }

    pub fn inbox(&self, user_id: &str, after: u64, limit: usize) -> StoreResult<Vec<InboxItem>> {
        if limit == 0 || after == u64::MAX {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(limit.min(512));
        let range = codec::seq_key(user_id, after + 1)..=codec::seq_key(user_id, u64::MAX);
        for guard in self.inbox.range(range).take(limit) {
            let (k, v) = guard.into_inner().map_err(backend)?;
            let entry = codec::decode_inbox(&v)?.resolve(|chat, seq| self.message(chat, seq))?;
            out.push(InboxItem {
                inbox_seq: codec::seq_of_key(&k)?,
                entry,
            });
        }
        Ok(out)
    }

    /// The last committed message of a chat, if any.
    pub fn last_message(&self, chat_id: &str) -> StoreResult<Option<StoredMessage>> {
        match self.messages.prefix(codec::id_prefix(chat_id)).next_back() {
            Some(guard) => {
                let (k, v) = guard.into_inner().map_err(backend)?;
                codec::decode_message(chat_id, codec::seq_of_key(&k)?, &v).map(Some)
            }
            None => Ok(None),
        }
    }
}

fn last_number(ks: &Keyspace, id: &str) -> StoreResult<u64> {
    match ks.prefix(codec::id_prefix(id)).next_back() {
        Some(guard) => codec::seq_of_key(&guard.key().map_err(backend)?),
        None => Ok(0),
    }
}
