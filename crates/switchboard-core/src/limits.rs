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
/// A media id in a body.
pub const MAX_MEDIA_ID_BYTES: usize = 128;
/// The file name a media body may carry (characters; no `/`, no NUL).
pub const MAX_FILENAME_CHARS: usize = 240;
/// A location's `name` and `address` (characters).
pub const MAX_LOCATION_TEXT_CHARS: usize = 1000;
/// Contact cards in one `contacts` body.
pub const MAX_CONTACTS: usize = 10;
/// A whole `contacts` body, as stored (canonical JSON).
pub const MAX_CONTACTS_BODY_BYTES: usize = 16 * 1024;
/// The message id a reaction names.
pub const MAX_REACTION_MESSAGE_ID_BYTES: usize = 256;
/// A reaction's emoji (one emoji, possibly a long ZWJ sequence); `""` removes it.
pub const MAX_REACTION_EMOJI_BYTES: usize = 32;
/// The `id` of a tapped reply button (the business chose it).
pub const MAX_BUTTON_REPLY_ID_BYTES: usize = 256;
/// The `title` of a tapped reply button, as the customer saw it (characters).
pub const MAX_BUTTON_REPLY_TITLE_CHARS: usize = 20;
/// The `id` of a chosen list row.
pub const MAX_LIST_REPLY_ID_BYTES: usize = 200;
/// The `title` of a chosen list row (characters).
pub const MAX_LIST_REPLY_TITLE_CHARS: usize = 24;
/// The `description` of a chosen list row (characters).
pub const MAX_LIST_REPLY_DESCRIPTION_CHARS: usize = 72;
