//! The Rust SDK of Switchboard's client protocol v1 (`docs/protocol.md`).
//!
//! Two halves, used by the CLI (`switchboard chat`), the load generator and tests:
//!
//! - [`Client`]: typed calls for every v1 HTTP route (accounts, profile, chats,
//!   history, members, media, and a business's profile with the viewer's choices
//!   about it: block, marketing opt-out, report). Plain HTTP only: no TLS is compiled in, to keep the build lean.
//! - [`Session`]: one live WebSocket (`GET /v1/ws`). It syncs from a cursor, hands out
//!   [`ServerFrame`]s without duplicates, tracks the highest contiguous `inbox_seq` it has
//!   handed out, and reconnects with capped exponential backoff, resyncing from that
//!   cursor and re-sending unacknowledged messages under their original `client_id`
//!   (the server deduplicates them).
//!
//! The pure parts ([`Cursor`], [`Backoff`]) have no I/O and are unit-tested on their own.
//! Wire types come from `switchboard-proto`; the only JSON shapes defined here are the
//! answers of the business routes (`http/business.rs`), until proto carries them.

mod backoff;
mod cursor;
mod error;
mod http;
mod session;

pub use backoff::Backoff;
pub use cursor::Cursor;
pub use error::{Error, Result};
pub use http::{BlockState, BusinessProfile, Client, MarketingState, MediaDownload, ReportOutcome};
pub use reqwest::Method;
pub use session::{Session, SessionConfig, Target, parse_server_frame};
pub use switchboard_proto as proto;
pub use switchboard_proto::{ClientFrame, ServerFrame};
