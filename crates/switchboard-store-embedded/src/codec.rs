//! The byte layout of the message data plane in fjall: keys that sort the way the
//! store scans them, and a compact hand-written value encoding (the hot path writes
//! several records per message, so no JSON and no general-purpose serialiser).
//!
//! Keys put a 0x00 after each variable-length id (ids never contain NUL), then
//! big-endian integers, so a prefix scan over `id 0x00` yields one chat's messages or
//! one user's stream in order. Values are sequences of fields: integers in
//! little-endian, strings as a u32 length and the bytes.

use switchboard_store::{
    InboxEntry, ReceiptStatus, StoreError, StoreResult, StoredMessage, StoredReceipt,
};

/// `id 0x00 n` (big-endian): a chat's message `n` or a user's inbox entry `n`.
pub fn seq_key(id: &str, n: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.len() + 9);
    k.extend_from_slice(id.as_bytes());
    k.push(0);
    k.extend_from_slice(&n.to_be_bytes());
    k
}

/// `id 0x00`: the prefix of every `seq_key(id, _)`.
pub fn id_prefix(id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.len() + 1);
    k.extend_from_slice(id.as_bytes());
    k.push(0);
    k
}

/// `a 0x00 b`: idempotency keys (device, client id) and watermarks (chat, user).
pub fn pair_key(a: &str, b: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(a.len() + b.len() + 1);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k.extend_from_slice(b.as_bytes());
    k
}

/// The number at the end of a `seq_key`.
pub fn seq_of_key(key: &[u8]) -> StoreResult<u64> {
    let tail = key
        .len()
        .checked_sub(8)
        .and_then(|start| key.get(start..))
        .ok_or_else(|| corrupt("key shorter than a sequence number"))?;
    let bytes: [u8; 8] = tail.try_into().expect("the slice is 8 bytes long");
    Ok(u64::from_be_bytes(bytes))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Format(format!("corrupt record: {what}"))
}

/// Appends fields to a value.
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn str(&mut self, s: &str) -> &mut Self {
        let len = u32::try_from(s.len()).expect("fields are far below 4 GiB (frames are 1 MiB)");
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    pub fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.u8(1).str(s),
            None => self.u8(0),
        }
    }
}

/// Reads fields of a value in the order they were written.
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }
    fn take(&mut self, n: usize) -> StoreResult<&'a [u8]> {
        if self.0.len() < n {
            return Err(corrupt("value ends early"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    pub fn u8(&mut self) -> StoreResult<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn u64(&mut self) -> StoreResult<u64> {
        let b: [u8; 8] = self.take(8)?.try_into().expect("take returned 8 bytes");
        Ok(u64::from_le_bytes(b))
    }
    pub fn i64(&mut self) -> StoreResult<i64> {
        let b: [u8; 8] = self.take(8)?.try_into().expect("take returned 8 bytes");
        Ok(i64::from_le_bytes(b))
    }
    pub fn str(&mut self) -> StoreResult<&'a str> {
        let b: [u8; 4] = self.take(4)?.try_into().expect("take returned 4 bytes");
        let len = u32::from_le_bytes(b) as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| corrupt("a string is not UTF-8"))
    }
    pub fn opt_str(&mut self) -> StoreResult<Option<&'a str>> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err(corrupt("bad option tag")),
        }
    }
}

// --- messages: (chat, seq) -> sender, device, client id, ts, reply_to, body ----------

pub fn encode_message(
    sender: &str,
    device: &str,
    client_id: &str,
    ts: i64,
    reply_to: Option<&str>,
    body: &str,
) -> Vec<u8> {
    let mut w = Writer::with_capacity(
        sender.len()
            + device.len()
            + client_id.len()
            + body.len()
            + 40
            + reply_to.map_or(0, str::len),
    );
    w.str(sender)
        .str(device)
        .str(client_id)
        .i64(ts)
        .opt_str(reply_to)
        .str(body);
    w.0
}

/// Only the sender of an encoded message (receipt fan-out and unread counts).
pub fn message_sender(value: &[u8]) -> StoreResult<&str> {
    Reader::new(value).str()
}

pub fn decode_message(chat_id: &str, seq: u64, value: &[u8]) -> StoreResult<StoredMessage> {
    let mut r = Reader::new(value);
    let sender = r.str()?.to_string();
    let sender_device = r.str()?.to_string();
    let client_id = r.str()?.to_string();
    let ts = r.i64()?;
    let reply_to = r.opt_str()?.map(str::to_string);
    let body = r.str()?.to_string();
    Ok(StoredMessage {
        id: switchboard_core::ids::message_id(chat_id, seq),
        chat_id: chat_id.to_string(),
        seq,
        sender,
        sender_device,
        client_id,
        ts,
        body,
        reply_to,
    })
}

// --- idempotency: (device, client id) -> seq, ts, chat ------------------------------

pub fn encode_client(chat_id: &str, seq: u64, ts: i64) -> Vec<u8> {
    let mut w = Writer::with_capacity(chat_id.len() + 20);
    w.u64(seq).i64(ts).str(chat_id);
    w.0
}

pub fn decode_client(value: &[u8]) -> StoreResult<(String, u64, i64)> {
    let mut r = Reader::new(value);
    let seq = r.u64()?;
    let ts = r.i64()?;
    Ok((r.str()?.to_string(), seq, ts))
}

// --- watermarks: (chat, user) -> delivered, read -------------------------------------

pub fn encode_watermark(delivered: u64, read: u64) -> Vec<u8> {
    let mut w = Writer::with_capacity(16);
    w.u64(delivered).u64(read);
    w.0
}

pub fn decode_watermark(value: &[u8]) -> StoreResult<(u64, u64)> {
    let mut r = Reader::new(value);
    Ok((r.u64()?, r.u64()?))
}

// --- inbox: (user, inbox_seq) -> a message pointer or a receipt ----------------------

const INBOX_MESSAGE: u8 = 0;
const INBOX_RECEIPT: u8 = 1;

pub fn encode_inbox_message(chat_id: &str, seq: u64) -> Vec<u8> {
    let mut w = Writer::with_capacity(chat_id.len() + 13);
    w.u8(INBOX_MESSAGE).u64(seq).str(chat_id);
    w.0
}

pub fn encode_inbox_receipt(r: &StoredReceipt) -> Vec<u8> {
    let mut w = Writer::with_capacity(r.chat_id.len() + r.user_id.len() + 32);
    w.u8(INBOX_RECEIPT)
        .u8(status_byte(r.status))
        .u64(r.up_to_seq)
        .i64(r.ts)
        .str(&r.chat_id)
        .str(&r.user_id);
    w.0
}

/// A stream entry as stored: a message is only a pointer to its record.
pub enum StoredEntry {
    Message { chat_id: String, seq: u64 },
    Receipt(StoredReceipt),
}

impl StoredEntry {
    /// Resolves a pointer with `load` (chat, seq) -> the message.
    pub fn resolve(
        self,
        load: impl FnOnce(&str, u64) -> StoreResult<StoredMessage>,
    ) -> StoreResult<InboxEntry> {
        match self {
            StoredEntry::Message { chat_id, seq } => {
                load(&chat_id, seq).map(|m| InboxEntry::Message(std::sync::Arc::new(m)))
            }
            StoredEntry::Receipt(r) => Ok(InboxEntry::Receipt(r)),
        }
    }
}

pub fn decode_inbox(value: &[u8]) -> StoreResult<StoredEntry> {
    let mut r = Reader::new(value);
    match r.u8()? {
        INBOX_MESSAGE => {
            let seq = r.u64()?;
            Ok(StoredEntry::Message {
                chat_id: r.str()?.to_string(),
                seq,
            })
        }
        INBOX_RECEIPT => {
            let status = match r.u8()? {
                0 => ReceiptStatus::Delivered,
                1 => ReceiptStatus::Read,
                _ => return Err(corrupt("bad receipt status")),
            };
            let up_to_seq = r.u64()?;
            let ts = r.i64()?;
            let chat_id = r.str()?.to_string();
            let user_id = r.str()?.to_string();
            Ok(StoredEntry::Receipt(StoredReceipt {
                chat_id,
                user_id,
                up_to_seq,
                status,
                ts,
            }))
        }
        _ => Err(corrupt("bad inbox entry tag")),
    }
}

fn status_byte(s: ReceiptStatus) -> u8 {
    match s {
        ReceiptStatus::Delivered => 0,
        ReceiptStatus::Read => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let v = encode_message("491", "d1", "c\u{0}1", -5, Some("g1.2"), "{\"t\":\"ü\"}");
        let m = decode_message("g1", 3, &v).expect("decodes");
        assert_eq!(
            (
                m.id.as_str(),
                m.sender.as_str(),
                m.client_id.as_str(),
                m.ts,
                m.reply_to.as_deref(),
                m.body.as_str()
            ),
            ("g1.3", "491", "c\u{0}1", -5, Some("g1.2"), "{\"t\":\"ü\"}")
        );
        assert_eq!(message_sender(&v).expect("sender"), "491");
        assert!(decode_message("g1", 3, &v[..v.len() - 1]).is_err());
        assert_eq!(
            decode_client(&encode_client("d1-2", 7, 9)).expect("client"),
            ("d1-2".into(), 7, 9)
        );
        assert_eq!(
            decode_watermark(&encode_watermark(4, 2)).expect("wm"),
            (4, 2)
        );
        let r = StoredReceipt {
            chat_id: "g1".into(),
            user_id: "491".into(),
            up_to_seq: 4,
            status: ReceiptStatus::Read,
            ts: 8,
        };
        assert!(
            matches!(decode_inbox(&encode_inbox_receipt(&r)), Ok(StoredEntry::Receipt(x)) if x == r)
        );
        assert!(matches!(
            decode_inbox(&encode_inbox_message("g1", 5)),
            Ok(StoredEntry::Message { chat_id, seq: 5 }) if chat_id == "g1"
        ));
    }

    #[test]
    fn keys_sort_by_id_then_number() {
        assert!(seq_key("g1", 2) < seq_key("g1", 10));
        assert!(seq_key("g1", u64::MAX) < seq_key("g10", 0));
        assert!(seq_key("g1", 5).starts_with(&id_prefix("g1")));
        assert!(!seq_key("g10", 5).starts_with(&id_prefix("g1")));
        assert_eq!(seq_of_key(&seq_key("g1", 77)).expect("seq"), 77);
    }
}
