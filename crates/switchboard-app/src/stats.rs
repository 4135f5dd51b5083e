//! Statistics: daily counters per business, in the business's local days.
//!
//! The app worker counts what passes through the business's stream and writes each
//! window's counts atomically with its cursor, so a count is never lost or doubled;
//! API actions (resolving a conversation) add theirs with a versioned update.

/// Counter names of a day's stats record.
pub mod metric {
    /// Messages the business sent (any device: app, agents, API, automation).
    pub const SENT: &str = "sent";
    /// Business messages that reached a customer device.
    pub const DELIVERED: &str = "delivered";
    /// Business messages a customer read.
    pub const READ: &str = "read";
    /// Messages customers sent to the business.
    pub const RECEIVED: &str = "received";
    /// Sum and count of first-response times (customer waiting → first human reply).
    pub const FIRST_RESPONSE_MS: &str = "first_response_ms";
    pub const FIRST_RESPONSES: &str = "first_responses";
    /// Sum and count of resolution times (conversation opened → resolved).
    pub const RESOLUTION_MS: &str = "resolution_ms";
    pub const RESOLUTIONS: &str = "resolutions";
}
