//! Wire types of Switchboard's client protocol v1 (`docs/protocol.md`).
//!
//! This crate is the only place where the JSON shapes that cross the network are
//! defined, so the server, the SDK, the CLI and the load generator cannot drift apart.
//! It holds plain data with serde derives and nothing else: no I/O, no validation
//! beyond what serde's shape checks give (domain rules live in `switchboard-core`).

pub mod frames;
pub mod http;

pub use frames::{ClientFrame, ServerFrame};
pub use http::ErrorBody;
