//! The one error type of the domain rules, each variant with a stable snake_case code.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    #[error("invalid phone number {0:?}: expected E.164, e.g. \"+4915112345678\"")]
    InvalidPhone(String),
    #[error("invalid message body: {0}")]
    InvalidBody(String),
    #[error("text is {0} bytes; the limit is {max} bytes", max = crate::limits::MAX_TEXT_BYTES)]
    TextTooLong(usize),
    #[error("{field} is {len} bytes; the limit is {max}")]
    FieldTooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A user-visible text over its limit, counted in characters (not bytes).
    #[error("{field} is {len} characters; the limit is {max}")]
    FieldTooManyChars {
        field: &'static str,
        len: usize,
        max: usize,
    },
}

impl CoreError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::InvalidPhone(_) => "invalid_phone",
            CoreError::InvalidBody(_) => "invalid_body",
            CoreError::TextTooLong(_) => "text_too_long",
            CoreError::FieldTooLong { .. } => "field_too_long",
            CoreError::Empty(_) => "invalid_request",
            CoreError::FieldTooManyChars { .. } => "field_too_long",
        }
    }
}
