//! The platform admin API under `/admin/v1` (the contract's "ours alone" part of the
//! business API): provisioning businesses and their tokens, verification, template
//! review, webhook endpoints, throughput, usage and invoices.

use axum::Router;

use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
}
