//! The business domain of Switchboard's Enterprise API, which speaks the WhatsApp
//! Cloud API wire format (`docs/cloud-api.md`).
//!
//! Everything here is a pure function of its inputs: request parsing and validation,
//! template checks and rendering, webhook payloads and their signatures, pricing,
//! policy (service window, tiers, quality) and business profiles. Time is passed in.
//! **Invariant:** this crate depends on no tokio, no storage and no network crate; the
//! server does the I/O and calls in here for every rule.

pub mod error;
pub mod ids;
mod json;
pub mod policy;
pub mod pricing;
pub mod profile;
pub mod send;
pub mod template;
pub mod webhook;

pub use error::GraphError;

#[cfg(test)]
mod tests {
    /// The invariant above, checked: no async runtime, storage or network crate.
    #[test]
    fn depends_on_no_io_crate() {
        let manifest = include_str!("../Cargo.toml");
        let deps = manifest
            .split("[dependencies]")
            .nth(1)
            .expect("the manifest has a [dependencies] table");
        let deps = deps.split("\n[").next().unwrap_or(deps);
        for banned in [
            "tokio",
            "axum",
            "hyper",
            "reqwest",
            "rusqlite",
            "fjall",
            "postgres",
            "nats",
            "object_store",
            "switchboard-store",
            "switchboard-media",
            "switchboard-server",
        ] {
            assert!(
                !deps.contains(banned),
                "switchboard-business must stay free of I/O but depends on {banned}"
            );
        }
    }
}
