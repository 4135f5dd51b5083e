//! [`Client`]: typed calls for the v1 HTTP routes (protocol sections 1 and 2; media
//! and businesses in their own modules).

use std::net::IpAddr;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_proto::ErrorBody;
use switchboard_proto::http::{
    AddMemberRequest, ChatInfo, ChatList, CreateChatRequest, MessageList, Profile, RegisterRequest,
    RegisterResponse, UpdateProfileRequest, VerifyRequest, VerifyResponse,
};

use crate::error::{Error, Result};

mod business;
mod media;
use crate::session::{Session, SessionConfig};
pub use business::{BlockState, BusinessProfile, MarketingState, ReportOutcome};
pub use media::MediaDownload;

/// An HTTP client for one Switchboard server, optionally holding a device token.
///
/// Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `http://host:port` with any trailing `/` removed; routes are appended to it.
    base: String,
    /// The device token sent as `Authorization: Bearer`; `None` before verify.
    token: Option<String>,
    /// Source address for HTTP and WebSocket connections (loopback benchmarks spread
    /// their load over 127.x.y.z so per-address limits apply per simulated host).
    local_addr: Option<IpAddr>,
}

impl Client {
    /// A client for the server at `base_url` (`http://127.0.0.1:8080`).
    pub fn new(base_url: &str) -> Result<Self> {
        Self::builder(base_url, None)
    }

    /// Like [`Client::new`], with every connection made from `local_addr`.
    pub fn with_local_addr(base_url: &str, local_addr: IpAddr) -> Result<Self> {
        Self::builder(base_url, Some(local_addr))
    }

    fn builder(base_url: &str, local_addr: Option<IpAddr>) -> Result<Self> {
        let base = base_url.trim_end_matches('/').to_string();
        if !base.starts_with("http://") {
            return Err(Error::InvalidUrl {
                url: base_url.to_string(),
                reason: "expected http://host:port (this build has no TLS)",
            });
        }
        let http = reqwest::Client::builder()
            .local_address(local_addr)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Client {
            http,
            base,
            token: None,
            local_addr,
        })
    }

    /// The same client acting as the device holding `token`.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sets (or replaces) the device token.
    pub fn set_token(&mut self, token: impl Into<String>) {
        self.token = Some(token.into());
    }

    /// The device token, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The server URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The source address connections are made from, if pinned.
    pub fn local_addr(&self) -> Option<IpAddr> {
        self.local_addr
    }

    /// `GET /healthz`: `Ok` when the server answers 2xx.
    pub async fn healthz(&self) -> Result<()> {
        let resp = self
            .http
            .get(format!("{}/healthz", self.base))
            .send()
            .await?;
        check(resp).await.map(drop)
    }

    /// `POST /v1/accounts/register`: asks for a code for `phone` (E.164).
    pub async fn register(&self, phone: &str) -> Result<RegisterResponse> {
        let body = RegisterRequest {
            phone: phone.to_string(),
        };
        self.call(Method::POST, "/v1/accounts/register", Some(&body), false)
            .await
    }

    /// `POST /v1/accounts/verify`: trades the code for a device token. Does not store
    /// the token in this client; see [`Client::with_token`].
    pub async fn verify(
        &self,
        registration_id: &str,
        code: &str,
        device_name: Option<&str>,
    ) -> Result<VerifyResponse> {
        let body = VerifyRequest {
            registration_id: registration_id.to_string(),
            code: code.to_string(),
            device_name: device_name.map(str::to_string),
        };
        self.call(Method::POST, "/v1/accounts/verify", Some(&body), false)
            .await
    }

    /// `GET /v1/me`.
    pub async fn me(&self) -> Result<Profile> {
        self.call::<(), _>(Method::GET, "/v1/me", None, true).await
    }

    /// `PATCH /v1/me`.
    pub async fn update_profile(&self, display_name: Option<&str>) -> Result<Profile> {
        let body = UpdateProfileRequest {
            display_name: display_name.map(str::to_string),
        };
        self.call(Method::PATCH, "/v1/me", Some(&body), true).await
    }

    /// `POST /v1/chats` `{"kind":"direct"}`: the direct chat with `phone` (the same
    /// chat every time for the same pair).
    pub async fn create_direct_chat(&self, phone: &str) -> Result<ChatInfo> {
        let body = CreateChatRequest::Direct {
            with: phone.to_string(),
        };
        self.call(Method::POST, "/v1/chats", Some(&body), true)
            .await
    }

    /// `POST /v1/chats` `{"kind":"group"}`: a new group; the caller becomes its admin.
    pub async fn create_group(&self, name: &str, members: &[String]) -> Result<ChatInfo> {
        let body = CreateChatRequest::Group {
            name: name.to_string(),
            members: members.to_vec(),
        };
        self.call(Method::POST, "/v1/chats", Some(&body), true)
            .await
    }

    /// `GET /v1/chats`.
    pub async fn chats(&self) -> Result<ChatList> {
        self.call::<(), _>(Method::GET, "/v1/chats", None, true)
            .await
    }

    /// `GET /v1/chats/{chat_id}/messages`: newest first, `limit` at most 500.
    pub async fn messages(
        &self,
        chat_id: &str,
        before_seq: Option<u64>,
        limit: Option<u32>,
    ) -> Result<MessageList> {
        let mut path = format!("/v1/chats/{}/messages", encode(chat_id));
        let mut sep = '?';
        if let Some(b) = before_seq {
            path.push_str(&format!("{sep}before_seq={b}"));
            sep = '&';
        }
        if let Some(l) = limit {
            path.push_str(&format!("{sep}limit={l}"));
        }
        self.call::<(), _>(Method::GET, &path, None, true).await
    }

    /// `POST /v1/chats/{chat_id}/members` (group admins only).
    pub async fn add_member(&self, chat_id: &str, phone: &str) -> Result<()> {
        let body = AddMemberRequest {
            user: phone.to_string(),
        };
        let path = format!("/v1/chats/{}/members", encode(chat_id));
        let resp = self
            .request(Method::POST, &path, true)?
            .json(&body)
            .send()
            .await?;
        check(resp).await.map(drop)
    }

    /// `DELETE /v1/chats/{chat_id}/members/{user_id}` (group admins only, or oneself).
    pub async fn remove_member(&self, chat_id: &str, user_id: &str) -> Result<()> {
        let path = format!("/v1/chats/{}/members/{}", encode(chat_id), encode(user_id));
        let resp = self.request(Method::DELETE, &path, true)?.send().await?;
        check(resp).await.map(drop)
    }

    /// `ws://…/v1/ws` for this server.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/v1/ws", &self.base["http://".len()..])
    }

    /// Opens a live [`Session`] resuming after `cursor` (0 for a fresh device).
    pub async fn connect(&self, cursor: u64) -> Result<Session> {
        self.connect_with(cursor, SessionConfig::default()).await
    }

    /// Like [`Client::connect`], with explicit session settings.
    pub async fn connect_with(&self, cursor: u64, config: SessionConfig) -> Result<Session> {
        let token = self.token.clone().ok_or(Error::NoToken)?;
        let config = SessionConfig {
            local_addr: config.local_addr.or(self.local_addr),
            ..config
        };
        Session::connect(self.ws_url(), token, cursor, config).await
    }

    fn request(&self, method: Method, path: &str, auth: bool) -> Result<RequestBuilder> {
        let req = self.http.request(method, format!("{}{}", self.base, path));
        if !auth {
            return Ok(req);
        }
        let token = self.token.as_deref().ok_or(Error::NoToken)?;
        Ok(req.bearer_auth(token))
    }

    /// Any JSON call of the API, answered as JSON (`Null` for an empty body): for
    /// calls without a typed method yet (the business app's `/v1/biz/…`).
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value> {
        let mut req = self.request(method, path, true)?;
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = check(req.send().await?).await?;
        let bytes = resp.bytes().await?;
        if bytes.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// A `GET` answered with bytes (a QR code image, a CSV export) and its
    /// content type.
    pub async fn bytes(&self, path: &str) -> Result<(Vec<u8>, String)> {
        let resp = check(self.request(Method::GET, path, true)?.send().await?).await?;
        let ctype = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        Ok((resp.bytes().await?.to_vec(), ctype))
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        auth: bool,
    ) -> Result<T> {
        let mut req = self.request(method, path, auth)?;
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = check(req.send().await?).await?;
        let bytes = resp.bytes().await?;
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// Turns a non-2xx answer into [`Error::Api`], reading the v1 error body when present.
async fn check(resp: Response) -> Result<Response> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let bytes = resp.bytes().await.unwrap_or_default();
    Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Error::Api {
            status: status.as_u16(),
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => Error::Api {
            status: status.as_u16(),
            code: format!("http_{}", status.as_u16()),
            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
        },
    })
}

/// Percent-encodes a path segment (ids are opaque; keep `/`, `?`, `#` out of the path).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~+".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c = Client::new("http://127.0.0.1:8080/").expect("valid url");
        assert_eq!(c.base_url(), "http://127.0.0.1:8080");
        assert_eq!(c.ws_url(), "ws://127.0.0.1:8080/v1/ws");
        assert!(matches!(
            Client::new("https://example.org"),
            Err(Error::InvalidUrl { .. })
        ));
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
