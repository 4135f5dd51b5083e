//! The one error type of the HTTP API. Client errors keep a stable code and a
//! message; internal errors answer "internal error" and are logged once with their
//! chain, so nothing internal leaks to callers.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use switchboard_core::CoreError;
use switchboard_proto::http::{ErrorBody, ErrorDetail};
use switchboard_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing, unknown or revoked token; send Authorization: Bearer <token>",
        )
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }
    pub fn too_many(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
    }
    /// An internal failure: logged here, once, and answered without details.
    pub fn internal(err: &dyn std::error::Error) -> Self {
        tracing::error!(error = %err, source = ?err.source(), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError::bad_request(e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let status = match &e {
            StoreError::NotFound(_) | StoreError::NotMember(_) => StatusCode::NOT_FOUND,
            StoreError::UnknownUser(_) => StatusCode::NOT_FOUND,
            StoreError::GroupFull(_) | StoreError::Conflict(_) => StatusCode::CONFLICT,
            StoreError::InvalidSeq { .. }
            | StoreError::InvalidReply(_)
            | StoreError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            StoreError::Closed => StatusCode::SERVICE_UNAVAILABLE,
            StoreError::Format(_) | StoreError::Backend(_) => return ApiError::internal(&e),
        };
        // A non-member learns nothing about the chat's existence.
        if let StoreError::NotMember(_) = e {
            return ApiError::not_found("chat not found");
        }
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<switchboard_app::AppError> for ApiError {
    fn from(e: switchboard_app::AppError) -> Self {
        use switchboard_app::AppError as E;
        let status = match &e {
            E::Invalid { .. } => StatusCode::BAD_REQUEST,
            E::NotFound(_) => StatusCode::NOT_FOUND,
            E::Forbidden(_) => StatusCode::FORBIDDEN,
            E::Conflict { .. } => StatusCode::CONFLICT,
            E::Limit { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            "unsupported_media_type"
        } else {
            "invalid_request"
        };
        ApiError::new(status, code, r.body_text().to_lowercase())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// `Json` whose rejections answer in the v1 error shape.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}
