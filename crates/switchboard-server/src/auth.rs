//! Bearer-token authentication: the token's SHA-256 digest is looked up; tokens are
//! never stored in clear. Every route except registration and the health checks
//! requires it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use switchboard_core::secret;

use crate::error::ApiError;
use crate::state::SharedState;

/// The authenticated device of a request.
#[derive(Debug, Clone)]
pub struct Authed {
    pub user_id: String,
    pub device_id: String,
}

/// The token of an `Authorization` header whose scheme is one of `schemes`.
fn authorization<'a>(parts: &'a Parts, schemes: &[&str]) -> Option<&'a str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    schemes
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s))
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The token from `Authorization: Bearer …`.
pub fn bearer(parts: &Parts) -> Option<&str> {
    authorization(parts, &["bearer"])
}

/// The token from `Authorization: Bearer …` or `Authorization: OAuth …` (Graph
/// clients use both).
pub fn bearer_or_oauth(parts: &Parts) -> Option<&str> {
    authorization(parts, &["bearer", "oauth"])
}

/// Resolves a token to its device, or `401`.
pub async fn authenticate(state: &SharedState, token: Option<&str>) -> Result<Authed, ApiError> {
    let token = token.ok_or_else(ApiError::unauthorized)?;
    if token.len() > 256 {
        return Err(ApiError::unauthorized());
    }
    let device = state
        .store
        .device_by_token(&secret::token_hash(token))
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Authed {
        user_id: device.user_id,
        device_id: device.device_id,
    })
}

impl FromRequestParts<SharedState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, ApiError> {
        authenticate(state, bearer(parts)).await
    }
}

/// The platform admin, proven by the admin token (compared in constant time).
pub struct Admin;

impl FromRequestParts<SharedState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, ApiError> {
        let expected = state
            .config
            .admin_token
            .as_deref()
            .ok_or_else(ApiError::unauthorized)?;
        let given = bearer(parts).ok_or_else(ApiError::unauthorized)?;
        if secret::digests_equal(&secret::token_hash(given), &secret::token_hash(expected)) {
            Ok(Admin)
        } else {
            Err(ApiError::unauthorized())
        }
    }
}
