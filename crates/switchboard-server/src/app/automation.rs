//! (being built)

use axum::Router;
use switchboard_store::Business;

use super::worker::{Event, Pass};
use crate::error::ApiResult;
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
}

/// The business's time zone (IANA name), if its opening hours name one.
pub async fn time_zone(_state: &SharedState, _business: &Business) -> ApiResult<Option<String>> {
    Ok(None)
}

/// Greeting and away messages.
pub async fn on_event(_pass: &mut Pass<'_>, _ev: &Event<'_>) -> ApiResult<()> {
    Ok(())
}
