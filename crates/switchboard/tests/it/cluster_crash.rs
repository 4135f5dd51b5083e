//! Scale-out under failure: two nodes (the real binary) on one PostgreSQL and one
//! NATS. Ben listens on node B while Ada streams messages through node A; node B is
//! SIGKILLed mid-stream; Ben resumes on node A from his cursor and ends up with every
//! message exactly once, in order.
//!
//! Needs PostgreSQL and NATS; without them it says "skipped" unless `CI` is set.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{ServerProcess, record_stream, resume};

async fn environment() -> Option<(String, String, tokio_postgres::Client, String)> {
    let pg = std::env::var("SWITCHBOARD_TEST_PG")
        .unwrap_or_else(|_| "host=127.0.0.1 user=postgres dbname=test".to_owned());
    let nats = std::env::var("SWITCHBOARD_TEST_NATS")
        .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let nats_ok = tokio::net::TcpStream::connect(nats.trim_start_matches("nats://"))
        .await
        .is_ok();
    let admin = match (
        tokio_postgres::connect(&pg, tokio_postgres::NoTls).await,
        nats_ok,
    ) {
        (Ok((client, conn)), true) => {
            tokio::spawn(async move {
                let _ = conn.await;
            });
            client
        }
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("the cluster crash test needs PostgreSQL and NATS in CI");
            }
            eprintln!("skipped: no PostgreSQL or NATS");
            return None;
        }
    };
    let tag = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let schema = format!("crash_{tag}");
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("schema");
    Some((
        format!("{pg} options=-csearch_path={schema}"),
        nats,
        admin,
        schema,
    ))
}

async fn login(node: &ServerProcess, phone: &str) -> String {
    let c = node.client();
    let reg = c.register(phone).await.expect("register");
    c.verify(
        &reg.registration_id,
        &reg.dev_code.expect("dev code"),
        Some("t"),
    )
    .await
    .expect("verify")
    .token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_nodes_clients_resume_on_another_node() {
    let Some((dsn, nats, admin, schema)) = environment().await else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let args = ["--database", dsn.as_str(), "--bus", nats.as_str()];
    let node_a = ServerProcess::start_with(&tmp.path().join("a"), &args).await;
    let mut node_b = ServerProcess::start_with(&tmp.path().join("b"), &args).await;
    let ada = login(&node_a, "+4915100000301").await;
    let ben = login(&node_b, "+4915100000302").await;
    let chat = node_a
        .client()
        .with_token(ada.clone())
        .create_direct_chat("+4915100000302")
        .await
        .expect("chat")
        .chat_id;

    // Ben listens on node B until it dies.
    let listener = record_stream(node_b.ws_url(&ben)).await;

    // Ada streams through node A; node B is killed part-way.
    let (ws, _) = tokio_tungstenite::connect_async(node_a.ws_url(&ada))
        .await
        .expect("ada ws");
    let (mut tx, mut rx) = ws.split();
    tx.send(Message::Text(
        json!({"type":"sync","after":0}).to_string().into(),
    ))
    .await
    .expect("sync");
    let total = 3_000;
    let mut acked = 0;
    let mut sent = 0;
    while acked < total {
        while sent < total && sent - acked < 64 {
            let frame = json!({"type":"send","client_id":format!("c{sent}"),"chat_id":chat,"body":{"text":format!("m{sent}")}});
            tx.send(Message::Text(frame.to_string().into()))
                .await
                .expect("send");
            sent += 1;
        }
        let t = match tokio::time::timeout(Duration::from_secs(20), rx.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => t,
            other => panic!("ada's stream ended: {other:?}"),
        };
        let f: Value = serde_json::from_str(&t).expect("json");
        assert_ne!(f["type"], "error", "{f}");
        if f["type"] == "ack" {
            acked += 1;
            if acked == total / 2 {
                node_b.sigkill();
            }
        }
    }
    let seen = listener.await.expect("listener");

    // Ben resumes on node A.
    let all = resume(node_a.ws_url(&ben), seen).await;
    assert_eq!(
        all.keys().copied().collect::<Vec<_>>(),
        (1..=total as u64).collect::<Vec<_>>()
    );
    drop(node_a);
    let _ = admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await;
}
