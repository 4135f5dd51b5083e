//! The one error type of the SDK: server answers keep their stable code, transport
//! failures keep their source.

/// Everything a [`crate::Client`] call or a [`crate::Session`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status and (usually) a v1 error body.
    #[error("server answered {status}: {message} ({code})")]
    Api {
        /// The HTTP status, e.g. 400, 401, 404, 429.
        status: u16,
        /// The stable snake_case code from `{"error": {"code"}}`, or `http_<status>` when
        /// the body was not a v1 error body.
        code: String,
        /// The human text from the body.
        message: String,
    },
    /// The HTTP request could not be made or its answer not read.
    #[error("http request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The WebSocket could not be opened, or it failed while in use.
    #[error("websocket failed: {0}")]
    WebSocket(#[from] Box<tokio_tungstenite::tungstenite::Error>),
    /// Plain TCP failure while opening the WebSocket.
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// A body or frame did not have the shape protocol v1 promises.
    #[error("unexpected json from the server: {0}")]
    Json(#[from] serde_json::Error),
    /// The server URL cannot be used (only `http://` is supported).
    #[error("invalid server url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A call that needs a token was made on a client without one.
    #[error("no access token: register and verify first")]
    NoToken,
    /// The session is closed (closed by the caller, or the server went away and
    /// reconnecting is disabled or gave up).
    #[error("session closed{}", .reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed {
        /// Why, when known (the last connection error, or a close frame's reason).
        reason: Option<String>,
    },
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Error::WebSocket(Box::new(e))
    }
}

impl Error {
    /// The stable error code when the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status when the server answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Shorthand used throughout the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;
