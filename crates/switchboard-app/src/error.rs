//! The one error type of the business app's domain. Each variant maps to one HTTP
//! status in the server; `code` is the stable machine-readable code of the v1 error
//! body.

use thiserror::Error;

pub type AppResult<T> = Result<T, AppError>;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AppError {
    /// Bad input: 400.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// No such thing (or not visible to the caller): 404.
    #[error("{0}")]
    NotFound(String),
    /// The caller's role does not allow it: 403.
    #[error("{0}")]
    Forbidden(String),
    /// The state does not allow it (a taken name, an order already delivered): 409.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A count limit is reached (20 labels, 50 quick replies): 422.
    #[error("{message}")]
    Limit { code: &'static str, message: String },
}

impl AppError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn limit(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Limit {
            code,
            message: message.into(),
        }
    }

    /// The stable code of the error body.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Limit { code, .. } => code,
            AppError::NotFound(_) => "not_found",
            AppError::Forbidden(_) => "forbidden",
        }
    }
}
