//! Durable append throughput of one node under many concurrent senders: a benchmark
//! that is also a test. By default it sends a few thousand messages and checks them;
//! with `SWITCHBOARD_PG_BENCH=<messages>` it sends that many and prints messages/s
//! (build with `--release` for figures worth writing down).

use crate::support;
use std::sync::Arc;
use std::time::Instant;
use switchboard_store::conformance::RecordingSink;
use switchboard_store::{NewMessage, Store};
use switchboard_store_postgres::{PgOptions, PgStore};

const SENDERS: usize = 200;
const CHATS: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_group_commit() {
    let total: usize = std::env::var("SWITCHBOARD_PG_BENCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000);
    let Some((config, _guard)) = support::fresh_schema().await else {
        return;
    };
    let sink = RecordingSink::new();
    let options = PgOptions {
        pool_size: 8,
        ..PgOptions::default()
    };
    let store = Arc::new(
        PgStore::connect_with(config, options, sink.clone())
            .await
            .expect("connect"),
    );
    let mut setup = tokio::task::JoinSet::new();
    for part in 0..8 {
        let store = store.clone();
        setup.spawn(async move {
            let mut chats = Vec::new();
            for i in (part..CHATS).step_by(8) {
                let (a, b) = (format!("1{i:05}"), format!("2{i:05}"));
                store.ensure_user(&a, 1).await.expect("user");
                store.ensure_user(&b, 1).await.expect("user");
                chats.push((store.direct_chat(&a, &b, 1).await.expect("chat").chat_id, a));
            }
            chats
        });
    }
    let mut chats = Vec::with_capacity(CHATS);
    while let Some(part) = setup.join_next().await {
        chats.extend(part.expect("setup"));
    }
    chats.sort();
    let chats = Arc::new(chats);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for s in 0..SENDERS {
        let (store, chats) = (store.clone(), chats.clone());
        set.spawn(async move {
            for k in (s..total).step_by(SENDERS) {
                let (chat, sender) = &chats[k.wrapping_mul(2_654_435_761) % CHATS];
                store
                    .append(NewMessage {
                        chat_id: chat.clone(),
                        sender: sender.clone(),
                        sender_device: format!("dev-{s}"),
                        client_id: format!("{k}"),
                        body: r#"{"type":"text","text":"Guten Morgen, ist die Torte fertig?"}"#
                            .into(),
                        reply_to: None,
                        ts: k as i64,
                    })
                    .await
                    .expect("append");
            }
        });
    }
    while let Some(done) = set.join_next().await {
        done.expect("sender");
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(
        sink.len(),
        2 * total,
        "two inbox entries per direct message"
    );
    eprintln!(
        "postgres store: {total} durable appends from {SENDERS} concurrent senders in {secs:.2} s: {:.0} msgs/s",
        total as f64 / secs
    );
    store.close().await.expect("close");
}
