//! The free business app's domain: what a small shop does with Switchboard, as plain
//! data and decisions, with no I/O. The server (`switchboard-server`'s `app`
//! module) stores these types as JSON records (`switchboard_store::RecordStore`,
//! tenant = the business's `waba_id`) and calls these functions to validate input
//! and decide what happens; the clock is always a parameter, so every time-dependent
//! rule (greeting, away, snooze, schedules) is tested with any time.
//!
//! One module per feature; [`kinds`] lists every record kind and its key, so the
//! storage layout of the whole app is in one place.

pub mod error;
pub mod role;
pub mod text;

pub mod automation;
pub mod broadcast;
pub mod catalog;
pub mod hours;
pub mod inbox;
pub mod labels;
pub mod links;
pub mod lookalike;
pub mod orders;
pub mod replies;
pub mod stats;
pub mod team;
pub mod verification;

pub use error::{AppError, AppResult};
pub use role::Role;

/// Every record kind of the business app, with its key. Tenant is the business's
/// `waba_id` unless marked global (`switchboard_store::GLOBAL_TENANT`).
pub mod kinds {
    /// A member of the business's team; key: user id.
    pub const AGENT: &str = "agent";
    /// Global: the businesses a user works for; key: `{user_id}/{waba_id}`.
    pub const WORKS_FOR: &str = "works_for";
    /// The app worker's position in the business's stream; key: [`WORKER_CURSOR`].
    pub const CURSOR: &str = "cursor";
    pub const WORKER_CURSOR: &str = "app_worker";
    /// Daily counters; key: local date `YYYY-MM-DD` in the business's time zone.
    pub const STATS: &str = "stats";
    /// Business settings documents; key: what they configure (`hours`, `greeting`,
    /// `away`, `inbox`, …).
    pub const SETTINGS: &str = "settings";
}
