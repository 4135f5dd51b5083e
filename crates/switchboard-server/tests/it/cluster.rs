//! Three nodes on one PostgreSQL database and one NATS: users on different nodes chat
//! live, group fan-out crosses nodes, a token works on every node, and a client that
//! moves to another node resumes its stream without gaps or duplicates.
//!
//! Needs PostgreSQL (127.0.0.1:5432, or `SWITCHBOARD_TEST_PG`) and NATS
//! (127.0.0.1:4222, or `SWITCHBOARD_TEST_NATS`). Without them the tests say
//! "skipped" and pass, unless `CI` is set: then they fail.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::support::*;

fn pg_dsn() -> String {
    std::env::var("SWITCHBOARD_TEST_PG")
        .unwrap_or_else(|_| "host=127.0.0.1 user=postgres dbname=test".to_owned())
}

fn nats_url() -> String {
    std::env::var("SWITCHBOARD_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// A fresh schema on the test database and a subject prefix on NATS, so tests that
/// run at once do not see each other. The schema is dropped at the end.
pub struct ClusterEnv {
    pub dsn: String,
    pub prefix: String,
    schema: String,
    admin: tokio_postgres::Client,
}

impl ClusterEnv {
    pub async fn new() -> Option<ClusterEnv> {
        let nats_ok = tokio::net::TcpStream::connect(nats_url().trim_start_matches("nats://"))
            .await
            .is_ok();
        let pg = tokio_postgres::connect(&pg_dsn(), tokio_postgres::NoTls).await;
        let (admin, conn) = match (pg, nats_ok) {
            (Ok(pg), true) => pg,
            (pg, _) => {
                let why = match pg {
                    Err(e) => format!("no PostgreSQL ({e})"),
                    Ok(_) => "no NATS".to_owned(),
                };
                if std::env::var_os("CI").is_some() {
                    panic!("cluster tests need PostgreSQL and NATS in CI: {why}");
                }
                eprintln!("skipped: {why}");
                return None;
            }
        };
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let tag = format!(
            "{}{}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
            std::process::id()
        );
        let schema = format!("cluster_{tag}");
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create a test schema");
        Some(ClusterEnv {
            dsn: format!("{} options=-csearch_path={schema}", pg_dsn()),
            prefix: format!("t{tag}.u"),
            schema,
            admin,
        })
    }

    pub async fn node(&self) -> TestServer {
        let (dsn, prefix, nats) = (self.dsn.clone(), self.prefix.clone(), nats_url());
        TestServer::start_with(move |c| {
            c.database = Some(dsn);
            c.bus = Some(nats);
            c.bus_subject_prefix = prefix;
        })
        .await
    }

    pub async fn drop_schema(self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_one_database_one_bus() {
    let Some(env) = ClusterEnv::new().await else {
        return;
    };
    let a = env.node().await;
    let b = env.node().await;
    let c = env.node().await;

    // Registered on node A; the token works on every node.
    let (ada, ada_token) = a.user(ADA).await;
    let (_, ben_token) = b.user(BEN).await;
    let (_, cat_token) = c.user(CAT).await;
    for node in [&a, &b, &c] {
        let me = node
            .client()
            .with_token(ada_token.clone())
            .me()
            .await
            .unwrap();
        assert_eq!(me.user_id, uid(ADA));
    }

    // Ada on A, Ben on B, Cat on C, all live.
    let mut ada_ws = RawWs::connect(&a, &ada_token).await;
    let mut ben_ws = RawWs::connect(&b, &ben_token).await;
    let mut cat_ws = RawWs::connect(&c, &cat_token).await;
    ada_ws.sync(0).await;
    ben_ws.sync(0).await;
    cat_ws.sync(0).await;

    // Direct, across nodes.
    ada_ws
        .send(json!({"type":"send","client_id":"x1","to":BEN,"body":{"text":"across nodes"}}))
        .await;
    let (ack, _) = ada_ws.recv_until("ack").await;
    let (msg, _) = ben_ws.recv_until("message").await;
    assert_eq!(msg["id"], ack["id"]);
    assert_eq!(msg["body"]["text"], "across nodes");

    // Group fan-out crosses nodes, in order, once.
    let group = ada
        .create_group("Three nodes", &[BEN.to_string(), CAT.to_string()])
        .await
        .unwrap();
    for i in 0..20 {
        ada_ws
            .send_text_msg(&format!("g{i}"), &group.chat_id, &format!("n{i}"))
            .await;
    }
    for ws in [&mut ben_ws, &mut cat_ws] {
        let mut seqs = Vec::new();
        while seqs.len() < 21 {
            let f = ws.recv().await;
            if f["type"] == "message" && f["chat_id"] == group.chat_id.as_str() {
                seqs.push(f["seq"].as_u64().unwrap());
            }
        }
        assert_eq!(seqs, (1..=21).collect::<Vec<_>>());
    }

    // Ben moves from node B to node C mid-stream and resumes from his cursor.
    drop(ben_ws);
    let before = {
        let mut probe = RawWs::connect(&c, &ben_token).await;
        probe.sync(0).await.0
    };
    for i in 0..10 {
        ada_ws
            .send_text_msg(&format!("m{i}"), &group.chat_id, &format!("while away {i}"))
            .await;
    }
    let mut ben_ws = RawWs::connect(&c, &ben_token).await;
    let (now, frames) = ben_ws.sync(before).await;
    let seqs: Vec<u64> = frames
        .iter()
        .filter_map(|f| f["inbox_seq"].as_u64())
        .collect();
    assert_eq!(
        seqs,
        (before + 1..=now).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert_eq!(
        frames.iter().filter(|f| f["type"] == "message").count(),
        10,
        "exactly the ten messages sent while away"
    );
    // And live again, on the new node.
    ada_ws
        .send_text_msg("live", &group.chat_id, "welcome back")
        .await;
    let (msg, _) = tokio::time::timeout(Duration::from_secs(10), ben_ws.recv_until("message"))
        .await
        .expect("live on the new node");
    assert_eq!(msg["body"]["text"], "welcome back");

    a.stop().await;
    b.stop().await;
    c.stop().await;
    env.drop_schema().await;
}
