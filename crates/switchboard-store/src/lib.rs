//! The storage contract of Switchboard.
//!
//! The server talks to storage only through [`Store`]; which backend is behind it
//! (embedded fjall + SQLite, or PostgreSQL) is decided once at start-up. Every backend
//! must pass the same [`conformance`] suite, so behaviour cannot differ between a
//! single-binary deployment and a cluster.
//!
//! **Invariants** every backend keeps:
//! - `append` answers only after the message is durable (it survives a power cut);
//!   backends reach throughput by group commit, never by acking early.
//! - Per chat, `seq` runs 1, 2, 3, … with no gap and no repeat; per user, `inbox_seq`
//!   does the same. A failed commit hands out no number anyone saw.
//! - `(sender_device, client_id)` identifies a send: a repeat returns the first
//!   result with `duplicate = true` and writes nothing.
//! - The [`CommitSink`] sees every committed inbox entry, per user in `inbox_seq`
//!   order, after it is durable.

mod business;
mod error;
mod records;
mod types;

#[cfg(feature = "conformance")]
pub mod business_conformance;
#[cfg(feature = "conformance")]
pub mod conformance;

pub use business::*;
pub use error::{StoreError, StoreResult};
pub use records::*;
pub use types::*;

use async_trait::async_trait;

/// Receives every inbox entry after its commit is durable, in commit order. Called on
/// the backend's commit path: implementations must return quickly and never block
/// (hand the batch to a channel).
pub trait CommitSink: Send + Sync + 'static {
    fn committed(&self, deliveries: Vec<Delivery>);
}

/// A sink that drops everything, for tools that only read or write.
pub struct NoSink;

impl CommitSink for NoSink {
    fn committed(&self, _deliveries: Vec<Delivery>) {}
}

/// Everything Switchboard stores. Ids of users are the digits of their phone number.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- accounts and devices -------------------------------------------------------

    /// Stores a pending registration (its code only as a digest).
    async fn create_registration(&self, reg: &Registration) -> StoreResult<()>;
    /// A pending registration by id, if it exists (expired ones may still be returned;
    /// the caller checks `expires_at`).
    async fn registration(&self, id: &str) -> StoreResult<Option<Registration>>;
    /// Counts one wrong code and returns the attempts so far.
    async fn add_registration_attempt(&self, id: &str) -> StoreResult<u32>;
    /// Removes a registration (used, burnt or expired).
    async fn delete_registration(&self, id: &str) -> StoreResult<()>;

    /// Creates the user if it does not exist yet; returns it either way.
    async fn ensure_user(&self, user_id: &str, now: i64) -> StoreResult<User>;
    async fn user(&self, user_id: &str) -> StoreResult<Option<User>>;
    async fn set_display_name(&self, user_id: &str, name: Option<&str>) -> StoreResult<User>;

    /// Adds a device with the digest of its bearer token.
    async fn create_device(&self, device: &Device, token_hash: &str) -> StoreResult<()>;
    /// The device whose token has this digest, unless revoked.
    async fn device_by_token(&self, token_hash: &str) -> StoreResult<Option<Device>>;
    async fn devices(&self, user_id: &str) -> StoreResult<Vec<Device>>;
    /// Revokes one of the user's devices: its token stops working at once, on every
    /// node, and it leaves `devices`. True if it was active (false for a device of
    /// another user, an unknown or an already revoked one).
    async fn revoke_device(&self, user_id: &str, device_id: &str, now: i64) -> StoreResult<bool>;

    // --- chats and members ----------------------------------------------------------

    /// The direct chat of two existing users, created on first use; the same chat for
    /// the same pair every time (its id is `switchboard_core::ids::direct_chat_id`).
    async fn direct_chat(&self, a: &str, b: &str, now: i64) -> StoreResult<Chat>;
    /// A new group. `members` excludes the creator, who becomes its admin.
    /// Fails with `GroupFull` beyond the member limit and `UnknownUser` for a member
    /// who is not registered.
    async fn create_group(&self, new: &NewGroup) -> StoreResult<Chat>;
    /// A chat with its members.
    async fn chat(&self, chat_id: &str) -> StoreResult<Option<Chat>>;
    /// Adds a member (idempotent); `GroupFull` beyond the limit.
    async fn add_member(&self, chat_id: &str, user_id: &str, role: Role) -> StoreResult<Chat>;
    /// Removes a member (idempotent). A group left without an admin gets its oldest
    /// member as admin.
    async fn remove_member(&self, chat_id: &str, user_id: &str) -> StoreResult<Chat>;
    /// Every chat the user is a member of, with its last message and unread count.
    async fn user_chats(&self, user_id: &str) -> StoreResult<Vec<ChatOverview>>;

    // --- the message data plane -----------------------------------------------------

    /// Stores a message durably and fans it out into every member's inbox (the
    /// sender's too, for its other devices). `NotMember` if the sender is not in the
    /// chat; `NotFound` if the chat does not exist; `InvalidReply` if `reply_to` is
    /// not a message of this chat.
    async fn append(&self, msg: NewMessage) -> StoreResult<Appended>;
    /// Applies a cumulative receipt; `InvalidSeq` if `up_to_seq` is beyond the chat's
    /// last message. Receipts that do not advance the watermark write nothing.
    async fn receipt(&self, receipt: NewReceipt) -> StoreResult<ReceiptOutcome>;
    /// Messages of a chat with `seq < before_seq` (all if `None`), newest first.
    async fn history(
        &self,
        chat_id: &str,
        before_seq: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<StoredMessage>>;
    /// The user's stream after `after`, oldest first, at most `limit` entries.
    async fn inbox(&self, user_id: &str, after: u64, limit: usize) -> StoreResult<Vec<InboxItem>>;

    // --- shared coordination -------------------------------------------------------

    /// Counts one event for `key` in a fixed window of `window_ms` that starts at the
    /// key's first event (or its first event after the previous window ended). `true`:
    /// allowed and counted; `false`: `max` events were already counted in this window,
    /// and this one is not. Shared by every node on the same backend (the embedded
    /// store keeps it in memory: one node, reset on restart).
    async fn rate_hit(&self, key: &str, max: u32, window_ms: i64, now: i64) -> StoreResult<bool>;

    /// Makes everything acknowledged so far durable and stops background work.
    /// Called once at graceful shutdown.
    async fn close(&self) -> StoreResult<()>;
}
