//! Turns stored records into the JSON frames of protocol v1. Used by the fan-out
//! (live frames), by sync (catch-up frames) and by history, so a message looks the
//! same on every path.

use serde_json::value::RawValue;
use switchboard_proto::frames::{Message, Receipt, ServerFrame};
use switchboard_store::{InboxEntry, InboxItem, StoredMessage, StoredReceipt};

use crate::businesses::Directory;

fn raw_body(body: &str) -> Box<RawValue> {
    // Stored bodies were validated JSON when they were written; a corrupt one is shown
    // as an empty object rather than breaking the stream.
    RawValue::from_string(body.to_owned())
        .unwrap_or_else(|_| RawValue::from_string("{}".to_owned()).expect("static JSON"))
}

/// A stored message as the protocol shows it. `viewer` decides whether the sender's
/// `client_id` is included (only on the sender's own user's streams).
/// `dir` tells which senders are businesses (their messages carry `from_business`).
pub fn message(
    msg: &StoredMessage,
    viewer: &str,
    inbox_seq: Option<u64>,
    dir: &Directory,
) -> Message {
    Message {
        inbox_seq,
        id: msg.id.clone(),
        chat_id: msg.chat_id.clone(),
        seq: msg.seq,
        from: msg.sender.clone(),
        ts: msg.ts,
        body: raw_body(&msg.body),
        reply_to: msg.reply_to.clone(),
        client_id: (viewer == msg.sender).then(|| msg.client_id.clone()),
        from_business: dir.get(&msg.sender),
    }
}

pub fn receipt(r: &StoredReceipt, inbox_seq: u64) -> Receipt {
    Receipt {
        inbox_seq,
        chat_id: r.chat_id.clone(),
        user_id: r.user_id.clone(),
        up_to_seq: r.up_to_seq,
        status: r.status,
        ts: r.ts,
    }
}

/// The frame of one stream entry for `viewer`.
pub fn inbox_frame(item: &InboxItem, viewer: &str, dir: &Directory) -> ServerFrame {
    match &item.entry {
        InboxEntry::Message(m) => {
            ServerFrame::Message(message(m, viewer, Some(item.inbox_seq), dir))
        }
        InboxEntry::Receipt(r) => ServerFrame::Receipt(receipt(r, item.inbox_seq)),
    }
}

/// The ack a sending device gets for its own message.
pub fn ack(msg: &StoredMessage, inbox_seq: Option<u64>) -> ServerFrame {
    ServerFrame::Ack {
        client_id: msg.client_id.clone(),
        id: msg.id.clone(),
        chat_id: msg.chat_id.clone(),
        seq: msg.seq,
        ts: msg.ts,
        inbox_seq,
    }
}

/// Serialises a frame; frames are plain data and always serialise.
pub fn to_json(frame: &ServerFrame) -> String {
    serde_json::to_string(frame).expect("server frames always serialise")
}

pub fn error_frame(client_id: Option<String>, code: &str, message: impl Into<String>) -> String {
    to_json(&ServerFrame::Error {
        client_id,
        code: code.to_owned(),
        message: message.into(),
    })
}
