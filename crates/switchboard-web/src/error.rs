//! The web app's one error type: what went wrong while rendering a page, shown to the
//! user as a plain page (never with internals).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The API answered with an error the page cannot handle.
    #[error("{status}: {message}")]
    Api {
        status: StatusCode,
        code: String,
        message: String,
    },
    /// The API's answer was not what this page expects.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// A template failed to render.
    #[error("render: {0}")]
    Render(#[from] askama::Error),
    /// A form without a valid CSRF token, or posted from another origin.
    #[error("the form expired; reload the page and try again")]
    Csrf,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, text) = match &self {
            WebError::Api {
                status, message, ..
            } if status.is_client_error() => (*status, message.clone()),
            WebError::Csrf => (StatusCode::FORBIDDEN, self.to_string()),
            other => {
                tracing::error!(error = %other, "web page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong.".to_owned(),
                )
            }
        };
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Switchboard</title>\
             <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"narrow\">\
             <h1>Switchboard</h1><p role=\"alert\">{}</p><p><a href=\"/app\">Back</a></p></main></body></html>",
            escape(&text)
        );
        (status, Html(body)).into_response()
    }
}

/// Minimal HTML escaping for the one page rendered without a template.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
