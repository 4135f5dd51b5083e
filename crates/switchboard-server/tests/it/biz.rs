//! Harness for business API tests: a real webhook receiver on port 0 that answers
//! the handshake and checks every event's signature, and helpers that provision a
//! business through the admin API exactly as an operator would.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::support::TestServer;

pub const ADMIN: &str = "test-admin-token-0123456789";
pub const APP_SECRET: &str = "app-secret-for-tests";
pub const VERIFY_TOKEN: &str = "verify-me";

/// One event the receiver accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub event_id: String,
    pub body: Value,
    pub raw: Vec<u8>,
}

#[derive(Default)]
pub struct ReceiverState {
    pub events: Mutex<Vec<Received>>,
    /// Answer this many of the next POSTs with 500.
    pub fail_next: AtomicU32,
    /// POSTs seen, including refused ones.
    pub attempts: AtomicU32,
    pub bad_signatures: AtomicU32,
    notify: tokio::sync::Notify,
}

pub struct Receiver {
    pub url: String,
    pub state: Arc<ReceiverState>,
    _task: tokio::task::JoinHandle<()>,
}

fn signature_ok(body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).expect("any key");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

async fn handshake(
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> (StatusCode, String) {
    if q.get("hub.mode").map(String::as_str) == Some("subscribe")
        && q.get("hub.verify_token").map(String::as_str) == Some(VERIFY_TOKEN)
    {
        (
            StatusCode::OK,
            q.get("hub.challenge").cloned().unwrap_or_default(),
        )
    } else {
        (StatusCode::FORBIDDEN, "Forbidden".into())
    }
}

async fn event(State(s): State<Arc<ReceiverState>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    s.attempts.fetch_add(1, Ordering::SeqCst);
    let sig = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !signature_ok(&body, sig) {
        s.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::FORBIDDEN;
    }
    assert!(body.is_ascii(), "webhook bodies are ASCII-only JSON");
    if s.fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let event_id = headers
        .get("x-switchboard-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let parsed: Value = serde_json::from_slice(&body).expect("webhook body is JSON");
    s.events.lock().await.push(Received {
        event_id,
        body: parsed,
        raw: body.to_vec(),
    });
    s.notify.notify_waiters();
    StatusCode::OK
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(ReceiverState::default());
        let app = Router::new()
            .route("/hook", get(handshake).post(event))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            state,
            _task: task,
        }
    }

    /// Waits until `pred` holds for the events received so far (fails after 20 s).
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.state.notify.notified();
            {
                let events = self.state.events.lock().await;
                if pred(&events) {
                    return events.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let events = self.state.events.lock().await;
                panic!(
                    "timed out waiting for {what}; received: {:#?}",
                    events.iter().map(|e| &e.body).collect::<Vec<_>>()
                );
            }
        }
    }
}

/// The `value` of an event's first change.
pub fn value(e: &Received) -> &Value {
    &e.body["entry"][0]["changes"][0]["value"]
}

pub fn statuses<'a>(events: &'a [Received], status: &str) -> Vec<&'a Value> {
    events
        .iter()
        .flat_map(|e| value(e)["statuses"].as_array().into_iter().flatten())
        .filter(|s| s["status"] == status)
        .collect()
}

pub fn inbound(events: &[Received]) -> Vec<&Value> {
    events
        .iter()
        .flat_map(|e| value(e)["messages"].as_array().into_iter().flatten())
        .collect()
}

/// A provisioned business: ids and an access token.
pub struct Biz {
    pub waba_id: String,
    pub phone_number_id: String,
    pub user_id: String,
    pub token: String,
}

pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(server: &TestServer) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: server.base.clone(),
        }
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("admin request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A Graph call with the business token; `(status, body)`.
    pub async fn graph(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/v21.0{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("graph request");
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(
            ctype.starts_with("application/json"),
            "Graph answers JSON, got {ctype:?}"
        );
        (status, r.json().await.expect("a JSON body"))
    }

    pub async fn send(&self, biz: &Biz, body: Value) -> (u16, Value) {
        self.graph(
            &biz.token,
            reqwest::Method::POST,
            &format!("/{}/messages", biz.phone_number_id),
            Some(body),
        )
        .await
    }

    /// Creates a business (verified if asked), a token and, if given, its webhook.
    pub async fn business(
        &self,
        name: &str,
        phone: &str,
        verified: bool,
        hook: Option<&Receiver>,
    ) -> Biz {
        let (s, created) = self
            .admin(
                reqwest::Method::POST,
                "/admin/v1/businesses",
                Some(json!({"name": name, "phone": phone})),
            )
            .await;
        assert!(s == 200 || s == 201, "create business: {s} {created}");
        let waba_id = created["waba_id"].as_str().expect("waba_id").to_owned();
        let (s, tok) = self
            .admin(
                reqwest::Method::POST,
                &format!("/admin/v1/businesses/{waba_id}/tokens"),
                Some(json!({})),
            )
            .await;
        assert!(s == 200 || s == 201, "token: {s} {tok}");
        if verified {
            let (s, v) = self
                .admin(
                    reqwest::Method::POST,
                    &format!("/admin/v1/businesses/{waba_id}/verification"),
                    Some(json!({"status": "verified"})),
                )
                .await;
            assert_eq!(s, 200, "verify: {v}");
        }
        if let Some(r) = hook {
            let (s, v) = self
                .admin(
                    reqwest::Method::PUT,
                    &format!("/admin/v1/businesses/{waba_id}/webhook"),
                    Some(json!({"url": r.url, "verify_token": VERIFY_TOKEN, "app_secret": APP_SECRET})),
                )
                .await;
            assert_eq!(s, 200, "webhook: {v}");
        }
        Biz {
            waba_id,
            phone_number_id: created["phone_number_id"]
                .as_str()
                .expect("pnid")
                .to_owned(),
            user_id: created["user_id"].as_str().expect("user_id").to_owned(),
            token: tok["token"].as_str().expect("token").to_owned(),
        }
    }

    /// Creates a template and has the platform approve it; returns its id.
    pub async fn approved_template(&self, biz: &Biz, spec: Value) -> String {
        let (s, t) = self
            .graph(
                &biz.token,
                reqwest::Method::POST,
                &format!("/{}/message_templates", biz.waba_id),
                Some(spec),
            )
            .await;
        assert_eq!(s, 200, "create template: {t}");
        assert_eq!(t["status"], "PENDING");
        let id = t["id"].as_str().expect("template id").to_owned();
        let (s, r) = self
            .admin(
                reqwest::Method::POST,
                &format!("/admin/v1/templates/{id}/review"),
                Some(json!({"status": "APPROVED"})),
            )
            .await;
        assert_eq!(s, 200, "review: {r}");
        id
    }
}
