//! Every size and count limit of protocol v1 in one place, so the server, the SDK and
//! the docs agree.

/// Text bodies: at most 64 KiB of UTF-8.
pub const MAX_TEXT_BYTES: usize = 65_536;
/// One WebSocket frame.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;
/// Members of one group, the creator included.
pub const MAX_GROUP_MEMBERS: usize = 1024;
/// A `client_id` chosen by a device.
pub const MAX_CLIENT_ID_BYTES: usize = 128;
/// Group names and display names.
pub const MAX_NAME_BYTES: usize = 256;
/// A device name given at verification.
pub const MAX_DEVICE_NAME_BYTES: usize = 128;
/// A caption on a media message.
pub const MAX_CAPTION_BYTES: usize = 4096;
/// An end-to-end encrypted body (base64 text), bounded by the frame size.
pub const MAX_CIPHERTEXT_BYTES: usize = 900 * 1024;
/// The `algorithm` label of a ciphertext body.
pub const MAX_ALGORITHM_BYTES: usize = 64;
/// History page size.
pub const MAX_HISTORY_LIMIT: usize = 500;
/// Default history page size.
pub const DEFAULT_HISTORY_LIMIT: usize = 50;
/// Wrong verification codes before a registration is burnt.
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// How long a verification code lives, in seconds.
pub const REGISTRATION_TTL_SECS: u64 = 300;
/// Sends a single connection may have waiting for their commit at once.
pub const MAX_IN_FLIGHT_PER_CONNECTION: usize = 256;
