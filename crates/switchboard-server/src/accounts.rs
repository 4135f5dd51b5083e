//! Accounts and devices (protocol v1 section 1): register a phone number, verify it
//! with a code, get a device token; read and edit the profile.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use base64::Engine;
use rand::RngExt;
use switchboard_core::limits::{
    MAX_CODE_ATTEMPTS, MAX_DEVICE_NAME_BYTES, MAX_NAME_BYTES, REGISTRATION_TTL_SECS,
};
use switchboard_core::{phone, secret};
use switchboard_proto::http::{
    DeviceInfo, Profile, RegisterRequest, RegisterResponse, UpdateProfileRequest, VerifyRequest,
    VerifyResponse,
};
use switchboard_store::{Device, Registration};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

/// The window of the registration and verification limits, which the store keeps
/// (shared by every node of a cluster).
const HOUR_MS: i64 = 3_600_000;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/accounts/register", post(register))
        .route("/v1/accounts/verify", post(verify))
        .route("/v1/me", get(me).patch(update_me))
        .route(
            "/v1/me/devices/{device_id}",
            axum::routing::delete(revoke_device),
        )
}

/// `DELETE /v1/me/devices/{device_id}` (extension): signs a device out for good; its
/// token stops working at once. `current` names the calling device (signing out).
async fn revoke_device(
    State(state): State<SharedState>,
    auth: Authed,
    crate::admin::UrlPath(device_id): crate::admin::UrlPath<String>,
) -> ApiResult<StatusCode> {
    let device_id = if device_id == "current" {
        auth.device_id.clone()
    } else {
        device_id
    };
    if state
        .store
        .revoke_device(&auth.user_id, &device_id, state.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("device {device_id} not found")))
    }
}

/// Random bytes as lowercase hex: registration and device ids.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    hex::encode(buf)
}

/// A new bearer token: 32 random bytes, URL-safe base64.
pub fn new_token() -> String {
    let mut buf = [0u8; 32];
    rand::rng().fill(&mut buf[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

async fn register(
    State(state): State<SharedState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<ApiJson<RegisterResponse>> {
    let user_id = phone::user_id_from_phone(&req.phone)?;
    let now = state.now();
    let per_address = state.config.registrations_per_address_per_hour;
    if !state
        .store
        .rate_hit(
            &format!("reg-addr:{}", addr.ip()),
            per_address,
            HOUR_MS,
            now,
        )
        .await?
    {
        return Err(ApiError::too_many(
            "too many registrations from this address; try again later",
        ));
    }
    let per_phone = state.config.registrations_per_phone_per_hour;
    if !state
        .store
        .rate_hit(&format!("reg-phone:{user_id}"), per_phone, HOUR_MS, now)
        .await?
    {
        return Err(ApiError::too_many(
            "too many registrations for this phone number; try again later",
        ));
    }
    let id = random_hex(16);
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let reg = Registration {
        id: id.clone(),
        user_id: user_id.clone(),
        code_hash: secret::code_hash(&id, &code),
        expires_at: now + (REGISTRATION_TTL_SECS as i64) * 1000,
        attempts: 0,
        created_at: now,
    };
    if !state.config.dev {
        let Some(url) = state.config.sms_hook_url.clone() else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "code_delivery_unavailable",
                "this server has no SMS hook configured (sms.hook_url); codes cannot be sent",
            ));
        };
        state.store.create_registration(&reg).await?;
        let sent = state
            .http
            .post(&url)
            .timeout(std::time::Duration::from_secs(10))
            .json(&serde_json::json!({"phone": phone::phone_of(&user_id), "code": code}))
            .send()
            .await
            .and_then(|r| r.error_for_status());
        if let Err(e) = sent {
            // The code itself is never logged.
            tracing::warn!(error = %e, "the SMS hook failed");
            state.store.delete_registration(&id).await?;
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "code_delivery_failed",
                "the verification code could not be sent; try again later",
            ));
        }
        return Ok(ApiJson(RegisterResponse {
            registration_id: id,
            expires_in: REGISTRATION_TTL_SECS,
            dev_code: None,
        }));
    }
    state.store.create_registration(&reg).await?;
    Ok(ApiJson(RegisterResponse {
        registration_id: id,
        expires_in: REGISTRATION_TTL_SECS,
        dev_code: Some(code),
    }))
}

async fn verify(
    State(state): State<SharedState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> ApiResult<ApiJson<VerifyResponse>> {
    let now = state.now();
    let per_address = state
        .config
        .registrations_per_address_per_hour
        .saturating_mul(5);
    if !state
        .store
        .rate_hit(
            &format!("verify-addr:{}", addr.ip()),
            per_address,
            HOUR_MS,
            now,
        )
        .await?
    {
        return Err(ApiError::too_many(
            "too many verification attempts from this address; try again later",
        ));
    }
    let device_name = req.device_name.unwrap_or_else(|| "device".to_owned());
    if device_name.len() > MAX_DEVICE_NAME_BYTES {
        return Err(ApiError::bad_request(
            "field_too_long",
            format!("device_name is longer than {MAX_DEVICE_NAME_BYTES} bytes"),
        ));
    }
    let invalid = || {
        ApiError::bad_request(
            "invalid_registration",
            "unknown or expired registration_id; register again",
        )
    };
    if req.registration_id.len() > 64 {
        return Err(invalid());
    }
    let reg = state
        .store
        .registration(&req.registration_id)
        .await?
        .ok_or_else(invalid)?;
    if reg.expires_at <= now {
        state.store.delete_registration(&reg.id).await?;
        return Err(invalid());
    }
    let given = secret::code_hash(&reg.id, req.code.trim());
    if !secret::digests_equal(&given, &reg.code_hash) {
        let attempts = state.store.add_registration_attempt(&reg.id).await?;
        if attempts >= MAX_CODE_ATTEMPTS {
            state.store.delete_registration(&reg.id).await?;
            return Err(ApiError::bad_request(
                "invalid_code",
                "wrong code; that was the last try, register again",
            ));
        }
        return Err(ApiError::bad_request(
            "invalid_code",
            format!(
                "wrong code; {} tries left",
                MAX_CODE_ATTEMPTS.saturating_sub(attempts)
            ),
        ));
    }
    state.store.delete_registration(&reg.id).await?;
    state.store.ensure_user(&reg.user_id, now).await?;
    let token = new_token();
    let device = Device {
        device_id: random_hex(12),
        user_id: reg.user_id.clone(),
        name: device_name,
        created_at: now,
    };
    state
        .store
        .create_device(&device, &secret::token_hash(&token))
        .await?;
    Ok(ApiJson(VerifyResponse {
        user_id: reg.user_id,
        device_id: device.device_id,
        token,
    }))
}

async fn profile(state: &SharedState, user_id: &str) -> ApiResult<Profile> {
    let user = state
        .store
        .user(user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user not found"))?;
    let devices = state.store.devices(user_id).await?;
    Ok(Profile {
        user_id: user.user_id.clone(),
        phone: phone::phone_of(&user.user_id),
        display_name: user.display_name,
        devices: devices
            .into_iter()
            .map(|d| DeviceInfo {
                device_id: d.device_id,
                name: d.name,
                created_at: d.created_at,
            })
            .collect(),
    })
}

async fn me(State(state): State<SharedState>, auth: Authed) -> ApiResult<ApiJson<Profile>> {
    Ok(ApiJson(profile(&state, &auth.user_id).await?))
}

async fn update_me(
    State(state): State<SharedState>,
    auth: Authed,
    ApiJson(req): ApiJson<UpdateProfileRequest>,
) -> ApiResult<ApiJson<Profile>> {
    let name = req
        .display_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if let Some(n) = &name
        && (n.len() > MAX_NAME_BYTES || n.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!(
                "display_name must be at most {MAX_NAME_BYTES} bytes without control characters"
            ),
        ));
    }
    state
        .store
        .set_display_name(&auth.user_id, name.as_deref())
        .await?;
    Ok(ApiJson(profile(&state, &auth.user_id).await?))
}
