//! Business calls of [`Client`] (protocol section 5.2): a business's profile, and the
//! viewer's own choices about it (block, marketing opt-out, report).
//!
//! The answer types live here, not in `switchboard-proto`, until the server's business
//! routes share them from there; their shapes are those of `docs/protocol.md` 5.2.

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};

use super::{Client, encode};
use crate::error::Result;

/// `GET /v1/businesses/{user_id}`: what a customer sees of a business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessProfile {
    /// The business's user id (its phone number's digits).
    pub user_id: String,
    pub name: String,
    /// Verified by the platform: clients show a badge.
    pub verified: bool,
    /// The text fields are `""` when the business has not set them (absent or
    /// `null` on the wire read as `""` too).
    #[serde(default, deserialize_with = "nullable")]
    pub category: String,
    #[serde(default, deserialize_with = "nullable")]
    pub description: String,
    #[serde(default, deserialize_with = "nullable")]
    pub address: String,
    /// Opening hours as the business wrote them (structured hours are shown as their
    /// JSON text).
    #[serde(default, deserialize_with = "text_or_json")]
    pub hours: String,
    #[serde(default, deserialize_with = "nullable")]
    pub email: String,
    #[serde(default, deserialize_with = "nullable")]
    pub websites: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_url: Option<String>,
    /// Extension: the viewer blocked this business.
    #[serde(default)]
    pub blocked: bool,
    /// Extension: the viewer stopped this business's marketing templates.
    #[serde(default)]
    pub marketing_opt_out: bool,
}

/// The answer to blocking or unblocking: the viewer's block state afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockState {
    pub blocked: bool,
}

/// The answer to `PUT …/marketing`: the viewer's opt-out state afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketingState {
    pub marketing_opt_out: bool,
}

/// The answer to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportOutcome {
    pub reported: bool,
    /// The viewer's block state after the report (`true` when it asked to block, or
    /// had blocked before).
    pub blocked: bool,
}

#[derive(Serialize)]
struct MarketingRequest {
    opt_out: bool,
}

#[derive(Serialize)]
struct ReportRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    block: bool,
}

/// `null` reads as the default, so a server that sends `null` for an unset field and
/// one that sends `""` look the same to callers.
fn nullable<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A string as it is, `null` as `""`, anything else as its JSON text: free-form
/// profile fields must never make the whole profile unreadable.
fn text_or_json<'de, D>(d: D) -> std::result::Result<String, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// `/v1/businesses/{user_id}{rest}`. A phone number (`+49…`) is accepted for
/// `user_id` and sent as its digits.
fn path(user_id: &str, rest: &str) -> String {
    format!(
        "/v1/businesses/{}{rest}",
        encode(user_id.strip_prefix('+').unwrap_or(user_id))
    )
}

impl Client {
    /// `GET /v1/businesses/{user_id}`: the business's profile and the viewer's choices
    /// about it. `404 not_found` when the user is not a business.
    pub async fn business(&self, user_id: &str) -> Result<BusinessProfile> {
        self.call::<(), _>(Method::GET, &path(user_id, ""), None, true)
            .await
    }

    /// `POST /v1/businesses/{user_id}/block`: the business can no longer message the
    /// viewer (its sends fail with Cloud API error 131026).
    pub async fn block_business(&self, user_id: &str) -> Result<BlockState> {
        self.call::<(), _>(Method::POST, &path(user_id, "/block"), None, true)
            .await
    }

    /// `DELETE /v1/businesses/{user_id}/block`.
    pub async fn unblock_business(&self, user_id: &str) -> Result<BlockState> {
        self.call::<(), _>(Method::DELETE, &path(user_id, "/block"), None, true)
            .await
    }

    /// `PUT /v1/businesses/{user_id}/marketing`: with `opt_out`, the business's
    /// marketing templates no longer reach the viewer (131050); utility and
    /// authentication templates still do.
    pub async fn set_marketing_opt_out(
        &self,
        user_id: &str,
        opt_out: bool,
    ) -> Result<MarketingState> {
        let body = MarketingRequest { opt_out };
        self.call(Method::PUT, &path(user_id, "/marketing"), Some(&body), true)
            .await
    }

    /// `POST /v1/businesses/{user_id}/report`: reports the business (`reason` at most
    /// 500 characters), and blocks it too when `block` is set.
    pub async fn report_business(
        &self,
        user_id: &str,
        reason: Option<&str>,
        block: bool,
    ) -> Result<ReportOutcome> {
        let body = ReportRequest { reason, block };
        self.call(Method::POST, &path(user_id, "/report"), Some(&body), true)
            .await
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Serves one request with `status` and `answer`, and hands back the request as
    /// received (request line, then the body).
    async fn serve_once(
        status: &'static str,
        answer: &'static str,
    ) -> (Client, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.expect("accept");
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            let (head_end, body_len) = loop {
                let n = sock.read(&mut chunk).await.expect("read");
                assert!(n > 0, "client closed before a full request");
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().expect("length"));
                    break (end + 4, len);
                }
            };
            while buf.len() < head_end + body_len {
                let n = sock.read(&mut chunk).await.expect("read");
                assert!(n > 0, "client closed before the body");
                buf.extend_from_slice(&chunk[..n]);
            }
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            sock.write_all(reply.as_bytes()).await.expect("write");
            let head = String::from_utf8_lossy(&buf[..head_end]);
            let first = head.lines().next().unwrap_or("").to_string();
            let has_auth = head.to_lowercase().contains("authorization: bearer tok");
            assert!(has_auth, "no bearer token in {head}");
            format!("{first}\n{}", String::from_utf8_lossy(&buf[head_end..]))
        });
        let client = Client::new(&format!("http://{addr}"))
            .expect("url")
            .with_token("tok");
        (client, task)
    }

    #[tokio::test]
    async fn profile() {
        let (c, req) = serve_once(
            "200 OK",
            r#"{"user_id":"4930901820","name":"Trattoria Roma","verified":true,"category":"RESTAURANT","description":"","address":"Oranienstraße 12","hours":null,"about":"extra fields are ignored","email":"ciao@trattoria.example","websites":["https://trattoria.example"],"blocked":false,"marketing_opt_out":true}"#,
        )
        .await;
        let p = c.business("+4930901820").await.expect("profile");
        assert_eq!(
            req.await.expect("served"),
            "GET /v1/businesses/4930901820 HTTP/1.1\n"
        );
        assert_eq!(
            p,
            BusinessProfile {
                user_id: "4930901820".into(),
                name: "Trattoria Roma".into(),
                verified: true,
                category: "RESTAURANT".into(),
                description: String::new(),
                address: "Oranienstraße 12".into(),
                hours: String::new(),
                email: "ciao@trattoria.example".into(),
                websites: vec!["https://trattoria.example".into()],
                catalog_url: None,
                blocked: false,
                marketing_opt_out: true,
            }
        );
    }

    #[test]
    fn free_form_fields_never_break_the_profile() {
        let p: BusinessProfile = serde_json::from_str(
            r#"{"user_id":"1","name":"N","verified":false,"hours":{"mon":"9-17"},"websites":null}"#,
        )
        .expect("profile");
        assert_eq!(p.hours, r#"{"mon":"9-17"}"#);
        assert!(p.websites.is_empty() && p.category.is_empty() && !p.blocked);
    }

    #[tokio::test]
    async fn not_a_business() {
        let (c, req) = serve_once(
            "404 Not Found",
            r#"{"error":{"code":"not_found","message":"4915112345678 is not a business"}}"#,
        )
        .await;
        let err = c.business("4915112345678").await.expect_err("404");
        req.await.expect("served");
        assert_eq!((err.status(), err.code()), (Some(404), Some("not_found")));
    }

    #[tokio::test]
    async fn choices() {
        let (c, req) = serve_once("200 OK", r#"{"blocked":true}"#).await;
        assert_eq!(
            c.block_business("4930901820").await.expect("block"),
            BlockState { blocked: true }
        );
        assert_eq!(
            req.await.expect("served"),
            "POST /v1/businesses/4930901820/block HTTP/1.1\n"
        );

        let (c, req) = serve_once("200 OK", r#"{"blocked":false}"#).await;
        assert_eq!(
            c.unblock_business("4930901820").await.expect("unblock"),
            BlockState { blocked: false }
        );
        assert_eq!(
            req.await.expect("served"),
            "DELETE /v1/businesses/4930901820/block HTTP/1.1\n"
        );

        let (c, req) = serve_once("200 OK", r#"{"marketing_opt_out":true}"#).await;
        assert_eq!(
            c.set_marketing_opt_out("4930901820", true)
                .await
                .expect("opt out"),
            MarketingState {
                marketing_opt_out: true
            }
        );
        assert_eq!(
            req.await.expect("served"),
            "PUT /v1/businesses/4930901820/marketing HTTP/1.1\n{\"opt_out\":true}"
        );

        let (c, req) = serve_once("200 OK", r#"{"reported":true,"blocked":true}"#).await;
        assert_eq!(
            c.report_business("4930901820", Some("spam"), true)
                .await
                .expect("report"),
            ReportOutcome {
                reported: true,
                blocked: true
            }
        );
        assert_eq!(
            req.await.expect("served"),
            "POST /v1/businesses/4930901820/report HTTP/1.1\n{\"reason\":\"spam\",\"block\":true}"
        );

        let (c, req) = serve_once("200 OK", r#"{"reported":true,"blocked":false}"#).await;
        c.report_business("4930901820", None, false)
            .await
            .expect("report");
        assert_eq!(
            req.await.expect("served"),
            "POST /v1/businesses/4930901820/report HTTP/1.1\n{\"block\":false}"
        );
    }
}
