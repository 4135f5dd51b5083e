//! Switchboard's domain rules, with no I/O and no async runtime.
//!
//! Everything here is a pure function of its inputs (time is passed in, never read),
//! so the rules can be tested exhaustively and reused by every backend and surface.
//! **Invariant:** this crate depends on no tokio, no storage and no network crate
//! (checked by `tests/tidy.rs` in the server crate).

pub mod body;
pub mod civil;
pub mod error;
pub mod ids;
pub mod limits;
pub mod phone;
pub mod ratelimit;
pub mod secret;

pub use error::CoreError;
