//! Calls of the JSON API through its own router, in process: the web app is a client
//! of the API like any other (same authorization, validation and limits), without a
//! network hop.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::error::WebError;

/// Largest API answer a page reads.
const MAX_ANSWER: usize = 8 * 1024 * 1024;

#[derive(Clone)]
pub struct Api {
    router: Router,
}

/// Who is calling: the device token (if signed in) and the browser's address (the
/// API rate-limits by it).
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub token: Option<String>,
    pub peer: Option<SocketAddr>,
}

impl Api {
    pub fn new(router: Router) -> Self {
        Api { router }
    }

    /// One call; any answer (error statuses included) as `(status, JSON)`.
    pub async fn call(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), WebError> {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = &caller.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let mut req = req
            .body(body)
            .map_err(|e| WebError::Unexpected(format!("request: {e}")))?;
        if let Some(peer) = caller.peer {
            req.extensions_mut().insert(ConnectInfo(peer));
        }
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| WebError::Unexpected(format!("api: {e}")))?;
        let status = resp.status();
        let bytes = http_body_util::Limited::new(resp.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| WebError::Unexpected(format!("api body: {e}")))?
            .to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok((status, value))
    }

    /// A call whose answer is passed on as it is (status, headers, streamed body):
    /// media downloads and uploads. `headers` are copied onto the request (e.g.
    /// `Range`, `Content-Type`).
    pub async fn forward(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        headers: &[(header::HeaderName, header::HeaderValue)],
        body: Body,
    ) -> Result<axum::response::Response, WebError> {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = &caller.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let mut req = req
            .body(body)
            .map_err(|e| WebError::Unexpected(format!("request: {e}")))?;
        if let Some(peer) = caller.peer {
            req.extensions_mut().insert(ConnectInfo(peer));
        }
        self.router
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| WebError::Unexpected(format!("api: {e}")))
    }

    /// A call that must succeed: an error status becomes [`WebError::Api`].
    pub async fn ok(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, WebError> {
        let (status, value) = self.call(caller, method, path, body).await?;
        if status.is_success() {
            Ok(value)
        } else {
            Err(api_error(status, &value))
        }
    }
}

/// The API's v1 error body as a [`WebError`].
pub fn api_error(status: StatusCode, body: &Value) -> WebError {
    WebError::Api {
        status,
        code: body["error"]["code"].as_str().unwrap_or("error").to_owned(),
        message: body["error"]["message"]
            .as_str()
            .unwrap_or("the request failed")
            .to_owned(),
    }
}
