//! Three nodes on one PostgreSQL database and one NATS: users on different nodes chat
//! live, group fan-out crosses nodes, a token works on every node, and a client that
//! moves to another node resumes its stream without gaps or duplicates.
//!
//! Needs PostgreSQL (127.0.0.1:5432, or `SWITCHBOARD_TEST_PG`) and NATS
//! (127.0.0.1:4222, or `SWITCHBOARD_TEST_NATS`). Without them the tests say
//! "skipped" and pass, unless `CI` is set: then they fail.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use sha2::{Digest, Sha256};
use switchboard_server::Config;

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
        self.node_with(|_| {}).await
    }

    /// A node of this cluster, with more settings changed by `edit`.
    pub async fn node_with(&self, edit: impl FnOnce(&mut Config)) -> TestServer {
        let (dsn, prefix, nats) = (self.dsn.clone(), self.prefix.clone(), nats_url());
        TestServer::start_with(move |c| {
            c.database = Some(dsn);
            c.bus = Some(nats);
            c.bus_subject_prefix = prefix;
            edit(c);
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

/// A small PNG made in memory.
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 9 % 256) as u8, (y * 3 % 256) as u8, 40])
    }));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode a png");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_signed_links_and_rate_limits_are_shared_across_nodes() {
    let Some(env) = ClusterEnv::new().await else {
        return;
    };
    // Two nodes with their own data directories but one blob directory (what a shared
    // filesystem mounted at every node's media_dir gives a real cluster).
    let blobs = tempfile::tempdir().expect("a shared media directory");
    let shared = |c: &mut Config| {
        c.media_dir = blobs.path().to_owned();
        c.registrations_per_phone_per_hour = 2;
    };
    let a = env.node_with(shared).await;
    let b = env.node_with(shared).await;

    // Uploaded on A; Ben (on B) sees nothing until it is sent to him.
    let (ada, ada_token) = a.user(ADA).await;
    let (ben, _) = b.user(BEN).await;
    let bytes = png(24, 12);
    let info = ada.upload_media(bytes, false).await.expect("upload on A");
    let err = ben
        .media_info(&info.media_id)
        .await
        .expect_err("not sent yet");
    assert_eq!(err.status(), Some(404));

    // Sent in their direct chat from A; downloadable by Ben on B.
    let chat = ada.create_direct_chat(BEN).await.expect("direct chat");
    let mut ws = RawWs::connect(&a, &ada_token).await;
    ws.sync(0).await;
    ws.send(
        json!({"type": "send", "client_id": "pic", "chat_id": chat.chat_id,
        "body": {"media_id": info.media_id, "caption": "from node A"}}),
    )
    .await;
    let (ack, _) = ws.recv_until("ack").await;
    assert_eq!(ack["client_id"], "pic");
    assert_eq!(
        ben.media_info(&info.media_id).await.expect("info on B"),
        info
    );
    let dl = ben
        .download_media(&info.media_id, false, None)
        .await
        .expect("download on B");
    assert_eq!(dl.status(), 200);
    let got = dl.bytes().await.expect("the bytes");
    assert_eq!(hex::encode(Sha256::digest(&got)), info.sha256);

    // A signed link minted on A works on B, without a token; a forged one does not.
    let link = ada.media_link(&info.media_id).await.expect("link on A");
    let on_b = reqwest::get(format!("{}{}", b.base, link.url))
        .await
        .expect("signed fetch on B");
    assert_eq!(on_b.status().as_u16(), 200);
    let got = on_b.bytes().await.expect("the bytes");
    assert_eq!(hex::encode(Sha256::digest(&got)), info.sha256);
    let (url, sig) = link.url.split_once("sig=").expect("a signature");
    let forged = format!("{url}sig={}", "0".repeat(sig.len()));
    let bad = reqwest::get(format!("{}{forged}", b.base))
        .await
        .expect("forged fetch on B");
    assert!(!bad.status().is_success(), "{}", bad.status());

    // The registration limit counts across nodes: two on A, the third on B is refused.
    a.client().register(CAT).await.expect("first on A");
    a.client().register(CAT).await.expect("second on A");
    let err = b.client().register(CAT).await.expect_err("third on B");
    assert_eq!(
        (err.status(), err.code()),
        (Some(429), Some("rate_limited"))
    );
    b.client().register(DAN).await.expect("another number on B");

    a.stop().await;
    b.stop().await;
    env.drop_schema().await;
}

/// Every node runs a webhook dispatcher; the lease in PostgreSQL makes exactly one
/// of them send each business's events, so a healthy receiver gets each event once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_events_are_sent_once_across_nodes() {
    use crate::biz::{Api, Receiver, inbound, statuses};
    let Some(env) = ClusterEnv::new().await else {
        return;
    };
    let a = env.node().await;
    let b = env.node().await;
    let c = env.node().await;
    let hook = Receiver::start().await;
    let api_a = Api::new(&a);
    let biz = api_a
        .business("Cluster Air", "+4930123456709", true, Some(&hook))
        .await;

    // The customer writes on node B; the business answers through node C.
    let (client, token) = b.user(ADA).await;
    let chat = client
        .create_direct_chat(&format!("+{}", biz.user_id))
        .await
        .expect("chat with the business");
    let mut ws = RawWs::connect(&b, &token).await;
    ws.sync(0).await;
    const N: usize = 10;
    for i in 0..N {
        ws.send_text_msg(&format!("c{i}"), &chat.chat_id, &format!("question {i}"))
            .await;
    }
    let api_c = Api::new(&c);
    let (s, sent) = api_c
        .send(
            &biz,
            json!({"messaging_product": "whatsapp", "to": ADA, "type": "text", "text": {"body": "answer"}}),
        )
        .await;
    assert_eq!(s, 200, "{sent}");
    hook.wait_for("all questions and the sent status", |e| {
        inbound(e).len() >= N && !statuses(e, "sent").is_empty()
    })
    .await;
    // Let any duplicate that a second node might send arrive before counting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let events = hook.state.events.lock().await.clone();
    let texts: Vec<&str> = inbound(&events)
        .iter()
        .map(|m| m["text"]["body"].as_str().unwrap_or(""))
        .collect();
    let expected: Vec<String> = (0..N).map(|i| format!("question {i}")).collect();
    assert_eq!(texts, expected, "each event once, in order");
    assert_eq!(statuses(&events, "sent").len(), 1);
    let mut ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "no event id was sent twice");
    for n in [a, b, c] {
        n.stop().await;
    }
    env.drop_schema().await;
}
