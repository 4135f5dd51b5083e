//! What survives a close and reopen of the same directory: numbering continues where
//! it stopped, idempotency keys are still known, and data of another format version
//! or a newer schema is refused.

use std::path::Path;
use std::sync::Arc;
use switchboard_store::conformance::RecordingSink;
use switchboard_store::{InboxEntry, NewGroup, NewMessage, NoSink, Store, StoreError};
use switchboard_store_embedded::{
    EmbeddedStore, FJALL_DIR, FORMAT_KEY, FORMAT_VERSION, SQLITE_FILE,
};

fn msg(chat: &str, sender: &str, client_id: &str) -> NewMessage {
    NewMessage {
        chat_id: chat.into(),
        sender: sender.into(),
        sender_device: format!("dev-{sender}"),
        client_id: client_id.into(),
        body: format!("body of {client_id}"),
        reply_to: None,
        ts: 7,
    }
}

fn open(dir: &Path) -> EmbeddedStore {
    EmbeddedStore::open(dir, Arc::new(NoSink)).expect("the store opens")
}

async fn setup(store: &EmbeddedStore) -> String {
    for u in ["1", "2", "3"] {
        store.ensure_user(u, 1).await.expect("user");
    }
    store
        .create_group(&NewGroup {
            chat_id: "g1".into(),
            name: "g".into(),
            creator: "1".into(),
            members: vec!["2".into()],
            created_at: 1,
        })
        .await
        .expect("group");
    store
        .direct_chat("1", "3", 1)
        .await
        .expect("direct")
        .chat_id
}

#[tokio::test]
async fn numbering_and_idempotency_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let direct = {
        let store = open(dir.path());
        let direct = setup(&store).await;
        for i in 0..3 {
            store
                .append(msg("g1", "1", &format!("g{i}")))
                .await
                .expect("append");
        }
        store.append(msg(&direct, "3", "d0")).await.expect("append");
        store.close().await.expect("close");
        direct
    };
    // Dropped without close: the writer still stops and frees the directory.
    {
        let store = open(dir.path());
        store.append(msg("g1", "2", "g3")).await.expect("append");
    }

    let sink = RecordingSink::new();
    let store = EmbeddedStore::open(dir.path(), sink.clone()).expect("reopens");
    let again = store.append(msg("g1", "1", "g1")).await.expect("retry");
    assert!(
        again.duplicate,
        "a send from before the reopen is still known"
    );
    assert_eq!(again.seq, 2);
    let next = store.append(msg("g1", "2", "g4")).await.expect("append");
    assert_eq!((next.seq, next.duplicate), (5, false));
    let next = store.append(msg(&direct, "1", "d1")).await.expect("append");
    assert_eq!(next.seq, 2);

    // User 1 had 5 entries (4 in g1, 1 in the direct chat): the stream continues at 6, 7.
    let seen: Vec<(String, u64)> = sink
        .wait_for(4)
        .await
        .into_iter()
        .map(|d| (d.user_id, d.item.inbox_seq))
        .collect();
    assert!(
        seen.contains(&("1".to_string(), 6)) && seen.contains(&("1".to_string(), 7)),
        "{seen:?}"
    );
    assert!(seen.contains(&("3".to_string(), 2)), "{seen:?}");
    let inbox = store.inbox("1", 0, 100).await.expect("inbox");
    assert_eq!(
        inbox.iter().map(|i| i.inbox_seq).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
    assert!(
        inbox
            .iter()
            .all(|i| matches!(i.entry, InboxEntry::Message(_)))
    );
    let history = store.history("g1", None, 10).await.expect("history");
    assert_eq!(
        history.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![5, 4, 3, 2, 1]
    );
    assert_eq!(
        store
            .chat("g1")
            .await
            .expect("chat")
            .expect("g1")
            .members
            .len(),
        2
    );
    store.close().await.expect("close");
}

#[test]
fn another_format_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open(dir.path()));
    {
        let db = fjall::Database::builder(dir.path().join(FJALL_DIR))
            .open()
            .expect("fjall");
        let meta = db
            .keyspace("meta", fjall::KeyspaceCreateOptions::default)
            .expect("meta");
        meta.insert(FORMAT_KEY, (FORMAT_VERSION + 1).to_be_bytes())
            .expect("insert");
        db.persist(fjall::PersistMode::SyncAll).expect("persist");
    }
    match EmbeddedStore::open(dir.path(), Arc::new(NoSink)) {
        Err(StoreError::Format(why)) => assert!(why.contains("format version 2"), "{why}"),
        Err(e) => panic!("expected a format error, got {e}"),
        Ok(_) => panic!("a store of another format version opened"),
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open(dir.path()));
    {
        let conn = rusqlite::Connection::open(dir.path().join(SQLITE_FILE)).expect("sqlite");
        conn.pragma_update(None, "user_version", 999)
            .expect("user_version");
    }
    match EmbeddedStore::open(dir.path(), Arc::new(NoSink)) {
        Err(StoreError::Format(why)) => assert!(why.contains("schema version 999"), "{why}"),
        Err(e) => panic!("expected a format error, got {e}"),
        Ok(_) => panic!("a database of a newer schema opened"),
    }
}
