//! Several nodes on one database: two `PgStore`s on the same schema (each with its
//! own writer, as two server processes would have) connect at once, then append
//! concurrently to the same chats and race retries of the same sends. Numbering must
//! stay gapless and unique per chat and per user, and each send stored once.

use crate::support;
use std::collections::BTreeMap;
use std::sync::Arc;
use switchboard_store::conformance::RecordingSink;
use switchboard_store::{
    InboxEntry, NewGroup, NewMessage, NewReceipt, NoSink, ReceiptStatus, Store, StoreError,
};
use switchboard_store_postgres::{MIGRATIONS, PgOptions, PgStore};

fn msg(chat: &str, sender: &str, device: &str, client_id: &str) -> NewMessage {
    NewMessage {
        chat_id: chat.into(),
        sender: sender.into(),
        sender_device: device.into(),
        client_id: client_id.into(),
        body: format!(r#"{{"type":"text","text":"{client_id}"}}"#),
        reply_to: None,
        ts: 1,
    }
}

async fn node(config: &tokio_postgres::Config, sink: Arc<RecordingSink>) -> PgStore {
    let options = PgOptions {
        pool_size: 4,
        // Small batches: more transactions, so more interleaving between the nodes.
        max_batch: 16,
        ..PgOptions::default()
    };
    PgStore::connect_with(config.clone(), options, sink)
        .await
        .expect("a node connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_append_to_the_same_chats() {
    const TASKS_PER_NODE: usize = 12;
    const SENDS: usize = 40;
    let Some((config, _guard)) = support::fresh_schema().await else {
        return;
    };
    let (sink_a, sink_b) = (RecordingSink::new(), RecordingSink::new());
    // Both migrate at once: the advisory lock lets one do it.
    let (a, b) = tokio::join!(node(&config, sink_a.clone()), node(&config, sink_b.clone()));
    let nodes: [Arc<dyn Store>; 2] = [Arc::new(a), Arc::new(b)];

    let users: Vec<String> = (0..6).map(|i| format!("8{i}")).collect();
    for u in &users {
        nodes[0].ensure_user(u, 1).await.expect("user");
    }
    let mut chats: Vec<(String, Vec<String>)> = Vec::new();
    for (id, members) in [("g0", &users[0..4]), ("g1", &users[2..6])] {
        nodes[1]
            .create_group(&NewGroup {
                chat_id: id.into(),
                name: id.into(),
                creator: members[0].clone(),
                members: members[1..].to_vec(),
                created_at: 1,
            })
            .await
            .expect("group");
        chats.push((id.to_string(), members.to_vec()));
    }
    let direct = nodes[0]
        .direct_chat(&users[0], &users[5], 1)
        .await
        .expect("direct");
    chats.push((direct.chat_id, vec![users[0].clone(), users[5].clone()]));
    let chats = Arc::new(chats);

    let mut set = tokio::task::JoinSet::new();
    for (n, store) in nodes.iter().enumerate() {
        for t in 0..TASKS_PER_NODE {
            let (store, chats) = (store.clone(), chats.clone());
            set.spawn(async move {
                let mut got = Vec::new();
                for k in 0..SENDS {
                    let (chat, members) = &chats[(t + k) % chats.len()];
                    // Every third send is also sent at once by the same task number
                    // on the other node: one device retrying through both nodes.
                    let shared = k.is_multiple_of(3);
                    let sender = &members[(if shared { t + k } else { n + t + k }) % members.len()];
                    let (device, client_id) = if shared {
                        (format!("shared-{t}"), format!("race-{k}"))
                    } else {
                        (format!("dev-{n}-{t}"), format!("{k}"))
                    };
                    let a = store.append(msg(chat, sender, &device, &client_id)).await;
                    match a {
                        Ok(a) => got.push((a, device, client_id)),
                        Err(e) => panic!("append on node {n}: {e}"),
                    }
                }
                got
            });
        }
    }
    let mut per_chat: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    // (device, client id) -> every answer as (chat, seq, duplicate).
    type Answers = Vec<(String, u64, bool)>;
    let mut by_key: BTreeMap<(String, String), Answers> = BTreeMap::new();
    while let Some(done) = set.join_next().await {
        for (a, device, client_id) in done.expect("task") {
            if !a.duplicate {
                per_chat.entry(a.chat_id.clone()).or_default().push(a.seq);
            }
            by_key
                .entry((device, client_id))
                .or_default()
                .push((a.chat_id, a.seq, a.duplicate));
        }
    }
    // Each send key: exactly one original, every retry names the same message.
    for (key, results) in &by_key {
        assert_eq!(
            results.iter().filter(|r| !r.2).count(),
            1,
            "one original for {key:?}: {results:?}"
        );
        assert!(
            results
                .iter()
                .all(|r| (&r.0, r.1) == (&results[0].0, results[0].1)),
            "{key:?}: {results:?}"
        );
    }
    let mut expected_inbox: BTreeMap<&str, u64> = BTreeMap::new();
    let mut total = 0;
    for (chat, members) in chats.iter() {
        let mut seqs = per_chat.remove(chat).unwrap_or_default();
        seqs.sort_unstable();
        let n = seqs.len() as u64;
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "gapless seqs of {chat}");
        let history = nodes[1].history(chat, None, 10_000).await.expect("history");
        assert_eq!(history.len() as u64, n, "history of {chat}");
        for m in members {
            *expected_inbox.entry(m).or_default() += n;
            total += n as usize;
        }
    }
    // Between them, the two nodes' sinks saw every entry once.
    let seen_a = sink_a.len();
    sink_b.wait_for(total - seen_a.min(total)).await;
    assert_eq!(sink_a.len() + sink_b.len(), total);
    for (user, m) in expected_inbox {
        let inbox = nodes[0].inbox(user, 0, 100_000).await.expect("inbox");
        assert_eq!(
            inbox.iter().map(|i| i.inbox_seq).collect::<Vec<_>>(),
            (1..=m).collect::<Vec<_>>(),
            "gapless inbox of {user}"
        );
        let mut ids: Vec<String> = inbox
            .iter()
            .filter_map(|i| match &i.entry {
                InboxEntry::Message(m) => Some(m.id.clone()),
                InboxEntry::Receipt(_) => None,
            })
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len() as u64, m, "no message twice in {user}'s inbox");
        let mut delivered: Vec<_> = sink_a
            .for_user(user)
            .into_iter()
            .chain(sink_b.for_user(user))
            .map(|d| d.item)
            .collect();
        delivered.sort_by_key(|i| i.inbox_seq);
        assert_eq!(delivered, inbox, "the sinks saw what {user}'s inbox holds");
    }

    // Receipts from both nodes on the same watermark: it only moves forward.
    let g0 = "g0";
    let last = nodes[0].history(g0, None, 1).await.expect("history")[0].seq;
    let reader = users[1].clone();
    let mut set = tokio::task::JoinSet::new();
    for (n, store) in nodes.iter().enumerate() {
        for up_to in 1..=last.min(20) {
            let (store, reader) = (store.clone(), reader.clone());
            set.spawn(async move {
                store
                    .receipt(NewReceipt {
                        chat_id: g0.into(),
                        user_id: reader,
                        device_id: format!("dev-{n}"),
                        up_to_seq: up_to,
                        status: ReceiptStatus::Read,
                        ts: 5,
                    })
                    .await
                    .expect("receipt")
            });
        }
    }
    while let Some(done) = set.join_next().await {
        done.expect("task");
    }
    let marks: Vec<u64> = nodes[0]
        .inbox(&reader, 0, 100_000)
        .await
        .expect("inbox")
        .into_iter()
        .filter_map(|i| match i.entry {
            InboxEntry::Receipt(r) if r.user_id == reader => Some(r.up_to_seq),
            _ => None,
        })
        .collect();
    assert!(
        marks.windows(2).all(|w| w[0] < w[1]),
        "read receipts only advance: {marks:?}"
    );
    assert_eq!(marks.last().copied(), Some(last.min(20)));

    for store in &nodes {
        store.close().await.expect("close");
    }
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let Some((config, _guard)) = support::fresh_schema().await else {
        return;
    };
    let store = PgStore::connect_with(config.clone(), PgOptions::default(), Arc::new(NoSink))
        .await
        .expect("connects");
    store.close().await.expect("close");
    // Connecting again is a no-op migration.
    let store = PgStore::connect_with(config.clone(), PgOptions::default(), Arc::new(NoSink))
        .await
        .expect("connects again");
    store.close().await.expect("close");
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(conn);
    let next = MIGRATIONS.len() as i32 + 1;
    client
        .execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&next],
        )
        .await
        .expect("a future migration");
    match PgStore::connect_with(config, PgOptions::default(), Arc::new(NoSink)).await {
        Err(StoreError::Format(why)) => assert!(why.contains(&format!("version {next}")), "{why}"),
        Err(e) => panic!("expected a format error, got {e}"),
        Ok(_) => panic!("a database of a newer schema was accepted"),
    }
}
