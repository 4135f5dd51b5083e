//! (being built)

use axum::Router;

use super::worker::{Event, Pass};
use crate::error::ApiResult;
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
}

/// Conversation state and assignment.
pub async fn on_event(_pass: &mut Pass<'_>, _ev: &Event<'_>) -> ApiResult<()> {
    Ok(())
}

/// Snoozes that ended.
pub async fn tick(_pass: &mut Pass<'_>) -> ApiResult<()> {
    Ok(())
}
