//! Broadcasts and scheduled sends: who may receive one (a recorded opt-in, not
//! blocked, not opted out of marketing), broadcast lists, and the life of a send
//! (`scheduled → sending → done`, or `cancelled` before it starts).
//!
//! A broadcast is marketing: it reaches only customers who said yes (themselves, or
//! to the business, which records the evidence). A scheduled message is one
//! conversational message to one customer sent later, so it needs no opt-in; a
//! customer who blocked the business gets neither.

use serde::{Deserialize, Serialize};
use switchboard_core::body::Body;

use crate::error::{AppError, AppResult};
use crate::text::text;

/// Record kinds of this feature (tenant: the business's `waba_id`).
pub mod kind {
    /// A customer's opt-in to broadcasts; key: customer user id.
    pub const OPTIN: &str = "optin";
    /// A broadcast list; key: list id.
    pub const LIST: &str = "broadcast_list";
    /// One member of a list; key: `{list_id}/{customer}` (one record per member, so
    /// a list of 100,000 stays far below a record's size limit).
    pub const LIST_MEMBER: &str = "list_member";
    /// A broadcast or a scheduled message; key: send id.
    pub const SEND: &str = "broadcast";
    /// Pending sends by due time; key: `{due_ms:013}/{send_id}` (so the worker
    /// reads only what is due).
    pub const DUE: &str = "due";
}

/// Most lists a business may have.
pub const MAX_LISTS: u64 = 100;
/// Most members of one list.
pub const MAX_MEMBERS: u64 = 100_000;
/// Most customers one membership call adds or removes.
pub const MAX_MEMBERS_PER_CALL: usize = 1000;
/// Longest list name, in characters.
pub const MAX_LIST_NAME: usize = 100;
/// Longest text of a broadcast or scheduled message, in characters.
pub const MAX_TEXT: usize = 4096;
/// Longest opt-in evidence the business records, in characters.
pub const MAX_EVIDENCE: usize = 500;
/// How far ahead a send may be scheduled.
pub const MAX_AHEAD_MS: i64 = 90 * 86_400_000;
/// How far in the past `send_at` may be (clock skew of the caller).
pub const MAX_PAST_MS: i64 = 60_000;
/// Members the worker sends to per send and tick.
pub const CHUNK: usize = 200;

/// Who recorded an opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The customer, in their app.
    Customer,
    /// The business, with evidence of consent collected elsewhere (a paper form).
    Business,
}

/// A customer's answer to broadcasts; stored under [`kind::OPTIN`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptIn {
    pub opted_in: bool,
    pub at: i64,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The team member who recorded it (source business).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// What the worker does with one member of a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Send,
    /// Skipped, and why (kept out of the message; counted in `skipped`).
    Skip(&'static str),
}

/// Whether a customer gets a broadcast (`needs_opt_in`) or a scheduled message.
/// A block beats everything; a customer's own "stop marketing" beats an opt-in the
/// business recorded.
pub fn delivery(
    needs_opt_in: bool,
    opt_in: Option<&OptIn>,
    blocked: bool,
    marketing_opt_out: bool,
) -> Delivery {
    if blocked {
        return Delivery::Skip("blocked");
    }
    if !needs_opt_in {
        return Delivery::Send;
    }
    if marketing_opt_out {
        return Delivery::Skip("marketing_opt_out");
    }
    match opt_in {
        Some(o) if o.opted_in => Delivery::Send,
        _ => Delivery::Skip("no_opt_in"),
    }
}

/// The evidence of an opt-in the business records: 1 to 500 characters.
pub fn evidence(value: &str) -> AppResult<String> {
    text("evidence", value, 1, MAX_EVIDENCE, true)
}

/// A broadcast list; stored under [`kind::LIST`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn list_name(value: &str) -> AppResult<String> {
    text("name", value, 1, MAX_LIST_NAME, false)
}

/// The state of a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Scheduled,
    Sending,
    Done,
    Cancelled,
}

impl Status {
    /// The status after a cancel: only a send that has not started can be cancelled.
    pub fn cancel(self) -> AppResult<Status> {
        match self {
            Status::Scheduled => Ok(Status::Cancelled),
            Status::Cancelled => Err(AppError::conflict(
                "already_cancelled",
                "this send is already cancelled",
            )),
            Status::Sending | Status::Done => Err(AppError::conflict(
                "already_started",
                "this send has started; it can no longer be cancelled",
            )),
        }
    }

    pub fn parse(s: &str) -> AppResult<Status> {
        match s {
            "scheduled" => Ok(Status::Scheduled),
            "sending" => Ok(Status::Sending),
            "done" => Ok(Status::Done),
            "cancelled" => Ok(Status::Cancelled),
            _ => Err(AppError::invalid(
                "invalid_status",
                format!("unknown status {s:?}; use scheduled, sending, done or cancelled"),
            )),
        }
    }
}

/// How far a send got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Members when sending started (at least `sent + skipped` at the end).
    pub total: u64,
    pub sent: u64,
    pub skipped: u64,
}

/// What is sent: to a list (a broadcast) or to one customer (a scheduled message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    List(String),
    Customer(String),
}

/// A broadcast or a scheduled message; stored under [`kind::SEND`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Send {
    pub id: String,
    pub target: Target,
    /// The message body, canonical JSON (a text or a media body).
    pub body: String,
    pub send_at: i64,
    pub status: Status,
    pub progress: Progress,
    /// The last member key handled (resume point of the next chunk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
}

impl Send {
    pub fn is_broadcast(&self) -> bool {
        matches!(self.target, Target::List(_))
    }

    /// The key of its entry in the due index.
    pub fn due_key(&self) -> String {
        due_key(self.send_at, &self.id)
    }

    /// The client id of its message to `customer`: the same on every retry, so a
    /// chunk replayed after a crash stores each message once.
    pub fn client_id(&self, customer: &str) -> String {
        format!("bc:{}:{customer}", self.id)
    }

    /// Records a chunk's outcome: progress, resume point, and `done` when the chunk
    /// was the last (shorter than [`CHUNK`]).
    pub fn advance(
        &mut self,
        sent: u64,
        skipped: u64,
        cursor: Option<String>,
        last: bool,
        now: i64,
    ) {
        self.progress.sent += sent;
        self.progress.skipped += skipped;
        if cursor.is_some() {
            self.cursor = cursor;
        }
        if last {
            self.status = Status::Done;
            self.finished_at = Some(now);
            let handled = self.progress.sent + self.progress.skipped;
            self.progress.total = self.progress.total.max(handled);
        }
    }
}

pub fn due_key(due_ms: i64, id: &str) -> String {
    format!("{:013}/{id}", due_ms.max(0))
}

/// The due time of a due-index key.
pub fn due_of(key: &str) -> Option<i64> {
    key.split_once('/')?.0.parse().ok()
}

/// When a send goes: now when absent; not more than a minute in the past, at most
/// 90 days ahead. Past times within the minute mean now.
pub fn send_time(send_at: Option<i64>, now: i64) -> AppResult<i64> {
    let Some(at) = send_at else {
        return Ok(now);
    };
    if at < now - MAX_PAST_MS {
        return Err(AppError::invalid(
            "invalid_send_at",
            format!("send_at {at} is in the past (now is {now}); leave it out to send now"),
        ));
    }
    if at > now + MAX_AHEAD_MS {
        return Err(AppError::invalid(
            "invalid_send_at",
            format!("send_at {at} is more than 90 days ahead"),
        ));
    }
    Ok(at.max(now))
}

/// The body of a send: a text (1 to 4096 characters), or a media id with an
/// optional caption; canonical JSON as stored in messages.
pub fn message_body(
    text_value: Option<&str>,
    media_id: Option<&str>,
    caption: Option<&str>,
) -> AppResult<String> {
    let body = match (text_value, media_id) {
        (Some(t), None) => {
            if caption.is_some() {
                return Err(AppError::invalid(
                    "invalid_body",
                    "caption goes with media_id, not with text",
                ));
            }
            Body::Text {
                text: text("text", t, 1, MAX_TEXT, true)?,
            }
        }
        (None, Some(m)) => Body::Media {
            media_id: m.trim().to_owned(),
            caption: caption
                .map(|c| text("caption", c, 1, MAX_TEXT, true))
                .transpose()?,
            filename: None,
            voice: false,
        },
        _ => {
            return Err(AppError::invalid(
                "invalid_body",
                "give exactly one of text or media_id (with an optional caption)",
            ));
        }
    };
    // The consumer gate checks every limit of the message itself.
    let checked = Body::parse(&body.to_json())
        .map_err(|e| AppError::invalid("invalid_body", e.to_string()))?;
    Ok(checked.to_json())
}

/// A list or send id in a path: 32 lowercase hex digits (a UUID without dashes).
pub fn valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(opted_in: bool) -> OptIn {
        OptIn {
            opted_in,
            at: 0,
            source: Source::Customer,
            evidence: None,
            by: None,
        }
    }

    #[test]
    fn who_gets_a_broadcast() {
        let yes = opt(true);
        let no = opt(false);
        for (needs, o, blocked, stop, want) in [
            (true, Some(&yes), false, false, Delivery::Send),
            (true, None, false, false, Delivery::Skip("no_opt_in")),
            (true, Some(&no), false, false, Delivery::Skip("no_opt_in")),
            (true, Some(&yes), true, false, Delivery::Skip("blocked")),
            (
                true,
                Some(&yes),
                false,
                true,
                Delivery::Skip("marketing_opt_out"),
            ),
            (false, None, false, true, Delivery::Send),
            (false, None, true, false, Delivery::Skip("blocked")),
        ] {
            assert_eq!(delivery(needs, o, blocked, stop), want);
        }
    }

    #[test]
    fn send_times() {
        let now = 1_000_000_000;
        assert_eq!(send_time(None, now), Ok(now));
        assert_eq!(send_time(Some(now - 30_000), now), Ok(now));
        assert_eq!(send_time(Some(now + 5), now), Ok(now + 5));
        assert!(send_time(Some(now - 61_000), now).is_err());
        assert!(send_time(Some(now + MAX_AHEAD_MS), now).is_ok());
        assert!(send_time(Some(now + MAX_AHEAD_MS + 1), now).is_err());
    }

    #[test]
    fn bodies() {
        assert_eq!(
            message_body(Some(" hi "), None, None).as_deref(),
            Ok(r#"{"text":"hi"}"#)
        );
        assert_eq!(
            message_body(None, Some("m1"), Some("cake")).as_deref(),
            Ok(r#"{"media_id":"m1","caption":"cake"}"#)
        );
        for (t, m, c) in [
            (None, None, None),
            (Some("a"), Some("m"), None),
            (Some("a"), None, Some("c")),
            (Some(""), None, None),
            (None, Some(""), None),
        ] {
            assert!(message_body(t, m, c).is_err(), "{t:?} {m:?} {c:?}");
        }
        assert!(message_body(Some(&"x".repeat(4096)), None, None).is_ok());
        assert!(message_body(Some(&"x".repeat(4097)), None, None).is_err());
    }

    #[test]
    fn cancel_only_before_start() {
        assert_eq!(Status::Scheduled.cancel(), Ok(Status::Cancelled));
        for s in [Status::Sending, Status::Done, Status::Cancelled] {
            assert!(s.cancel().is_err(), "{s:?}");
        }
        assert_eq!(
            Status::Sending.cancel().map_err(|e| e.code()),
            Err("already_started")
        );
    }

    #[test]
    fn due_keys_sort_by_time() {
        let a = due_key(999, "b");
        let b = due_key(1000, "a");
        assert!(a < b);
        assert_eq!(due_of(&b), Some(1000));
        assert_eq!(due_of("x"), None);
    }

    #[test]
    fn progress_ends_done() {
        let mut s = Send {
            id: "1".into(),
            target: Target::List("l".into()),
            body: "{}".into(),
            send_at: 0,
            status: Status::Sending,
            progress: Progress {
                total: 3,
                ..Progress::default()
            },
            cursor: None,
            created_by: "u".into(),
            created_at: 0,
            started_at: Some(0),
            finished_at: None,
        };
        s.advance(2, 1, Some("l/3".into()), false, 5);
        assert_eq!(s.status, Status::Sending);
        s.advance(1, 0, None, true, 6);
        assert_eq!(s.status, Status::Done);
        assert_eq!(s.cursor.as_deref(), Some("l/3"));
        assert_eq!(
            s.progress,
            Progress {
                total: 4,
                sent: 3,
                skipped: 1
            }
        );
        assert_eq!(s.client_id("c"), "bc:1:c");
    }
}
