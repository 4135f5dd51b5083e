//! The webhook promise, tested the hard way: events pile up while the business's
//! endpoint is down, the real binary is SIGKILLed, restarted on the same data
//! directory, and once the endpoint recovers every event arrives, signed, in order
//! per conversation.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::support::ServerProcess;

const ADMIN: &str = "crash-test-admin-token-0123";
const SECRET: &str = "crash-test-app-secret";

#[derive(Default)]
struct Hook {
    up: AtomicBool,
    bodies: Mutex<Vec<Value>>,
}

async fn handshake(Query(q): Query<std::collections::HashMap<String, String>>) -> String {
    q.get("hub.challenge").cloned().unwrap_or_default()
}

async fn event(State(h): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if !h.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let sig = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("sha256="))
        .and_then(|s| hex::decode(s).ok())
        .unwrap_or_default();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(&body);
    if mac.verify_slice(&sig).is_err() {
        return StatusCode::FORBIDDEN;
    }
    h.bodies
        .lock()
        .await
        .push(serde_json::from_slice(&body).expect("json"));
    StatusCode::OK
}

async fn admin(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Value {
    let r = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .expect("admin call");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.expect("json")
}

#[tokio::test]
async fn pending_webhook_events_survive_sigkill() {
    let hook = Arc::new(Hook::default());
    let app = Router::new()
        .route("/hook", get(handshake).post(event))
        .with_state(hook.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, format!("admin_token = \"{ADMIN}\"\n")).expect("config");
    let flags = ["--config", config.to_str().expect("utf-8 path")];
    let mut server = ServerProcess::start_with(&data, &flags).await;
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let biz = admin(
        &http,
        &base,
        reqwest::Method::POST,
        "/admin/v1/businesses",
        json!({"name": "Crash Air", "phone": "+4930555000001"}),
    )
    .await;
    let waba = biz["waba_id"].as_str().expect("waba").to_owned();
    admin(
        &http,
        &base,
        reqwest::Method::PUT,
        &format!("/admin/v1/businesses/{waba}/webhook"),
        json!({"url": hook_url, "verify_token": "t", "app_secret": SECRET}),
    )
    .await;

    // A customer writes 30 messages while the endpoint is down.
    let c = server.client();
    let reg = c.register("+4915100000901").await.expect("register");
    let v = c
        .verify(
            &reg.registration_id,
            &reg.dev_code.expect("code"),
            Some("phone"),
        )
        .await
        .expect("verify");
    let c = c.with_token(v.token.clone());
    let chat = c.create_direct_chat("+4930555000001").await.expect("chat");
    let (ws, _) = tokio_tungstenite::connect_async(server.ws_url(&v.token))
        .await
        .expect("ws");
    let (mut tx, mut rx) = ws.split();
    tx.send(Message::Text(
        json!({"type": "sync", "after": 0}).to_string().into(),
    ))
    .await
    .expect("sync");
    const N: usize = 30;
    for i in 0..N {
        tx.send(Message::Text(
            json!({"type": "send", "client_id": format!("m{i}"), "chat_id": chat.chat_id, "body": {"text": format!("message {i}")}})
                .to_string()
                .into(),
        ))
        .await
        .expect("send");
    }
    let mut acked = 0;
    while acked < N {
        let msg = tokio::time::timeout(Duration::from_secs(20), rx.next())
            .await
            .expect("acks in time")
            .expect("open")
            .expect("frame");
        if let Message::Text(t) = msg {
            let f: Value = serde_json::from_str(&t).expect("json");
            if f["type"] == "ack" {
                acked += 1;
            }
        }
    }
    // Give the dispatcher a moment to try (and fail) before the kill.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.sigkill();

    let server = ServerProcess::start_with(&data, &flags).await;
    hook.up.store(true, Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let texts = loop {
        let texts: Vec<String> = hook
            .bodies
            .lock()
            .await
            .iter()
            .flat_map(|b| {
                b["entry"][0]["changes"][0]["value"]["messages"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|m| m["text"]["body"].as_str().map(str::to_owned))
            .collect();
        let distinct: BTreeSet<&String> = texts.iter().collect();
        if distinct.len() == N {
            break texts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {N} events arrived",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // At least once, in order: after removing repeats, the order is the send order.
    let mut firsts = Vec::new();
    for t in &texts {
        if !firsts.contains(t) {
            firsts.push(t.clone());
        }
    }
    let expected: Vec<String> = (0..N).map(|i| format!("message {i}")).collect();
    assert_eq!(firsts, expected);
    drop(server);
}
