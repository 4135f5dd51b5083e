//! The records stored. Plain data; no behaviour beyond small conversions.

pub use switchboard_proto::frames::ReceiptStatus;
pub use switchboard_proto::http::{ChatKind, Role};

/// A pending phone verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: String,
    pub user_id: String,
    /// `switchboard_core::secret::code_hash(id, code)`.
    pub code_hash: String,
    pub expires_at: i64,
    pub attempts: u32,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: String,
    pub display_name: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: i64,
}

/// A stored chat kind; anything else means the data is not what this version wrote.
pub fn parse_chat_kind(s: &str) -> crate::StoreResult<ChatKind> {
    ChatKind::parse(s).ok_or_else(|| crate::StoreError::Format(format!("unknown chat kind {s:?}")))
}

/// A stored member role; anything else means the data is not what this version wrote.
pub fn parse_role(s: &str) -> crate::StoreResult<Role> {
    Role::parse(s).ok_or_else(|| crate::StoreError::Format(format!("unknown member role {s:?}")))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub user_id: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub chat_id: String,
    pub kind: ChatKind,
    pub name: Option<String>,
    pub created_at: i64,
    /// In the order they joined.
    pub members: Vec<MemberRecord>,
}

impl Chat {
    pub fn is_member(&self, user_id: &str) -> bool {
        self.members.iter().any(|m| m.user_id == user_id)
    }
    pub fn is_admin(&self, user_id: &str) -> bool {
        self.members
            .iter()
            .any(|m| m.user_id == user_id && m.role == Role::Admin)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    pub chat_id: String,
    pub name: String,
    pub creator: String,
    pub members: Vec<String>,
    pub created_at: i64,
}

/// A chat as listed for one user.
#[derive(Debug, Clone)]
pub struct ChatOverview {
    pub chat_id: String,
    pub kind: ChatKind,
    pub name: Option<String>,
    pub last_seq: u64,
    /// Messages from others after this user's read watermark.
    pub unread: u64,
    pub last_message: Option<StoredMessage>,
}

/// A message to store. The backend assigns `seq` (and so the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub chat_id: String,
    pub sender: String,
    pub sender_device: String,
    pub client_id: String,
    /// Canonical JSON of a validated body.
    pub body: String,
    pub reply_to: Option<String>,
    pub ts: i64,
}

/// The outcome of `append`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub id: String,
    pub chat_id: String,
    pub seq: u64,
    pub ts: i64,
    /// True when this `(sender_device, client_id)` was stored before: nothing was
    /// written and the fields are those of the first send.
    pub duplicate: bool,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: String,
    pub chat_id: String,
    pub seq: u64,
    pub sender: String,
    pub sender_device: String,
    pub client_id: String,
    pub ts: i64,
    pub body: String,
    pub reply_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReceipt {
    pub chat_id: String,
    pub user_id: String,
    pub device_id: String,
    pub up_to_seq: u64,
    pub status: ReceiptStatus,
    pub ts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptOutcome {
    /// False when the watermark was already at or past `up_to_seq`.
    pub advanced: bool,
}

/// A receipt as it sits in a user's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    pub chat_id: String,
    /// Whose receipt it is.
    pub user_id: String,
    pub up_to_seq: u64,
    pub status: ReceiptStatus,
    pub ts: i64,
}

/// One entry of a user's stream. A message is shared (`Arc`) by the entries of all
/// its recipients: a group message is stored once, not copied per member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxEntry {
    Message(std::sync::Arc<StoredMessage>),
    Receipt(StoredReceipt),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    pub inbox_seq: u64,
    pub entry: InboxEntry,
}

/// A committed inbox entry on its way to the user's online devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub user_id: String,
    pub item: InboxItem,
    /// The device whose action caused this entry (its own send or receipt), so that
    /// device can be answered with an ack instead of an echo.
    pub origin_device: Option<String>,
}
