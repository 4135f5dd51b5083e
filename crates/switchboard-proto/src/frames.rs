//! WebSocket frames of `GET /v1/ws`: one JSON object per text frame, tagged by `type`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A frame a client sends to the server.
///
/// Deserialised by hand in one pass (see [`ClientFrame::deserialize`]): serde's
/// internally tagged enums buffer their content, which would both cost an allocation
/// per field on the server's hottest path and refuse the raw `body`.
#[derive(Debug, Clone, Serialize)]
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
    Synced {
        inbox_seq: u64,
    },
    Typing {
        chat_id: String,
        user_id: String,
    },
    Pong {
        nonce: serde_json::Value,
    },
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
    #[serde(deserialize_with = "raw_via_value")]
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

/// Every field any client frame may carry; one pass over the input, no buffering.
#[derive(Deserialize)]
struct AnyClientFrame {
    #[serde(rename = "type")]
    kind: String,
    client_id: Option<String>,
    chat_id: Option<String>,
    to: Option<String>,
    body: Option<Box<RawValue>>,
    reply_to: Option<String>,
    up_to_seq: Option<u64>,
    status: Option<ReceiptStatus>,
    after: Option<u64>,
    nonce: Option<serde_json::Value>,
}

const CLIENT_FRAME_TYPES: &[&str] = &["send", "receipt", "sync", "typing", "ping"];

impl<'de> Deserialize<'de> for ClientFrame {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let f = AnyClientFrame::deserialize(d)?;
        fn need<T, E: Error>(v: Option<T>, field: &'static str) -> Result<T, E> {
            v.ok_or_else(|| E::missing_field(field))
        }
        Ok(match f.kind.as_str() {
            "send" => ClientFrame::Send {
                client_id: need(f.client_id, "client_id")?,
                chat_id: f.chat_id,
                to: f.to,
                body: need(f.body, "body")?,
                reply_to: f.reply_to,
            },
            "receipt" => ClientFrame::Receipt {
                chat_id: need(f.chat_id, "chat_id")?,
                up_to_seq: need(f.up_to_seq, "up_to_seq")?,
                status: need(f.status, "status")?,
            },
            "sync" => ClientFrame::Sync {
                after: need(f.after, "after")?,
            },
            "typing" => ClientFrame::Typing {
                chat_id: need(f.chat_id, "chat_id")?,
            },
            "ping" => ClientFrame::Ping {
                nonce: f.nonce.unwrap_or(serde_json::Value::Null),
            },
            other => return Err(D::Error::unknown_variant(other, CLIENT_FRAME_TYPES)),
        })
    }
}

/// Reads a raw JSON value where the input was buffered by serde (inside an internally
/// tagged enum), which `RawValue` itself cannot be read from.
fn raw_via_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Box<RawValue>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    serde_json::value::to_raw_value(&v).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_round_trip() {
        let cases = [
            r#"{"type":"send","client_id":"c-1","chat_id":"d1-2","body":{"text":"hi"}}"#,
            r#"{"type":"send","client_id":"c-2","to":"+4915112345678","body":{"text":"hi"},"reply_to":"d1-2.4"}"#,
            r#"{"type":"receipt","chat_id":"d1-2","up_to_seq":42,"status":"read"}"#,
            r#"{"type":"sync","after":1234}"#,
            r#"{"type":"typing","chat_id":"d1-2"}"#,
            r#"{"type":"ping","nonce":7}"#,
        ];
        for json in cases {
            let frame: ClientFrame = serde_json::from_str(json).expect(json);
            assert_eq!(serde_json::to_string(&frame).unwrap(), json);
        }
    }

    #[test]
    fn client_frame_errors_name_the_problem() {
        for (json, expect) in [
            (r#"{"type":"fly"}"#, "unknown variant `fly`"),
            (r#"{"type":"send","client_id":"c"}"#, "missing field `body`"),
            (r#"{"type":"sync"}"#, "missing field `after`"),
            (
                r#"{"type":"receipt","chat_id":"x","up_to_seq":1,"status":"seen"}"#,
                "unknown variant `seen`",
            ),
        ] {
            let err = serde_json::from_str::<ClientFrame>(json)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expect), "{json}: {err}");
        }
    }

    #[test]
    fn server_message_frames_round_trip() {
        let json = r#"{"type":"message","inbox_seq":3,"id":"d1-2.1","chat_id":"d1-2","seq":1,"from":"1","ts":5,"body":{"text":"hi"}}"#;
        let frame: ServerFrame = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&frame).unwrap(), json);
        let list = r#"{"messages":[{"id":"d1-2.1","chat_id":"d1-2","seq":1,"from":"1","ts":5,"body":{"text":"hi"}}]}"#;
        let parsed: crate::http::MessageList = serde_json::from_str(list).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), list);
    }
}
