//! (being built)

use axum::Router;

use super::worker::{Event, Pass};
use crate::error::ApiResult;
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
}

/// Counts messages sent, delivered, read and received.
pub async fn on_event(_pass: &mut Pass<'_>, _ev: &Event<'_>) -> ApiResult<()> {
    Ok(())
}
