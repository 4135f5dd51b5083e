//! The one error type of every storage backend.

use thiserror::Error;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("user {0} is not registered")]
    UnknownUser(String),
    #[error("not a member of chat {0}")]
    NotMember(String),
    #[error("group {0} is full: at most {max} members", max = switchboard_limits::MAX_GROUP_MEMBERS)]
    GroupFull(String),
    #[error("up_to_seq {got} is beyond the last message {last} of the chat")]
    InvalidSeq { got: u64, last: u64 },
    #[error("reply_to {0:?} is not a message of this chat")]
    InvalidReply(String),
    #[error("{0}")]
    Conflict(String),
    /// The request itself is not storable (a key or value over its size limit).
    #[error("{0}")]
    InvalidInput(String),
    /// The data on disk is not what this version expects (format version, corruption).
    #[error("storage format: {0}")]
    Format(String),
    /// An I/O or engine failure; the operation did not take effect.
    #[error("storage failure: {0}")]
    Backend(String),
    /// The store is shutting down or its writer has stopped.
    #[error("storage is closed")]
    Closed,
}

/// The group size limit, repeated here so this crate does not depend on the domain crate.
mod switchboard_limits {
    pub const MAX_GROUP_MEMBERS: usize = 1024;
}

impl StoreError {
    /// The stable error code for clients (protocol v1 error bodies and frames).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound(_) => "not_found",
            StoreError::UnknownUser(_) => "unknown_user",
            StoreError::NotMember(_) => "not_a_member",
            StoreError::GroupFull(_) => "group_full",
            StoreError::InvalidSeq { .. } => "invalid_seq",
            StoreError::InvalidReply(_) => "invalid_reply",
            StoreError::Conflict(_) => "conflict",
            StoreError::InvalidInput(_) => "invalid_input",
            StoreError::Format(_) | StoreError::Backend(_) => "internal",
            StoreError::Closed => "unavailable",
        }
    }
}
