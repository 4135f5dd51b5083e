//! WebSocket frames of `GET /v1/ws`: one JSON object per text frame, tagged by `type`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A frame a client sends to the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Send a message to a chat (`chat_id`) or to a person (`to`, E.164).
    Send {
        client_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chat_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        /// Kept raw: the server validates it (`switchboard-core::body`) and stores it verbatim.
        body: Box<RawValue>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    /// Cumulative delivered/read receipt for a chat.
    Receipt {
        chat_id: String,
        up_to_seq: u64,
        status: ReceiptStatus,
    },
    /// Start (or resume) the stream of everything addressed to this user after `after`.
    Sync { after: u64 },
    /// Ephemeral "is typing" signal, never stored.
    Typing { chat_id: String },
    /// Liveness check; answered with `pong` carrying the same nonce.
    Ping {
        #[serde(default)]
        nonce: serde_json::Value,
    },
}

/// `delivered` or `read`; `read` implies `delivered`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    Delivered,
    Read,
}

impl ReceiptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::Delivered => "delivered",
            ReceiptStatus::Read => "read",
        }
    }
}

/// A frame the server sends to a client.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The message with this `client_id` is durably stored.
    Ack {
        client_id: String,
        id: String,
        chat_id: String,
        seq: u64,
        ts: i64,
        /// Extension: the position of this message in the sending user's stream, present
        /// when the ack is delivered in stream order (the connection had synced).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inbox_seq: Option<u64>,
    },
    Message(Message),
    Receipt(Receipt),
    /// Everything up to `inbox_seq` has been sent; live frames follow.
    Synced { inbox_seq: u64 },
    Typing { chat_id: String, user_id: String },
    Pong { nonce: serde_json::Value },
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        code: String,
        message: String,
    },
}

/// A stored message as a client sees it, in `message` frames and in history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    /// Absent in history answers; present in stream frames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox_seq: Option<u64>,
    pub id: String,
    pub chat_id: String,
    pub seq: u64,
    pub from: String,
    pub ts: i64,
    pub body: Box<RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Extension: the sender's `client_id`, present on the sender's own user's streams so
    /// its other devices (and itself after a lost ack) can match the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_business: Option<FromBusiness>,
}

/// Who a business sender is, so clients can show the verified badge.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FromBusiness {
    pub name: String,
    pub verified: bool,
}

/// A cumulative receipt as delivered to a user's stream.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Receipt {
    pub inbox_seq: u64,
    pub chat_id: String,
    pub user_id: String,
    pub up_to_seq: u64,
    pub status: ReceiptStatus,
    pub ts: i64,
}
