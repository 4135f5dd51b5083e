//! (being built)

use axum::Router;

use super::worker::Pass;
use crate::error::ApiResult;
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
}

/// Scheduled sends that are due.
pub async fn tick(_pass: &mut Pass<'_>) -> ApiResult<()> {
    Ok(())
}
