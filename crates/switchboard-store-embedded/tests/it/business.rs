//! The business conformance suite against a fresh embedded store per case, and what
//! only an on-disk store can show: business data and the event numbering survive a
//! reopen, and a database from before the business tables is upgraded in place.

use std::path::Path;
use std::sync::Arc;
use switchboard_store::business_conformance::BusinessTestStore;
use switchboard_store::{
    Business, BusinessStore, NoSink, PendingExpiry, Store, Template, UsageRecord,
};
use switchboard_store_embedded::{EmbeddedStore, SQLITE_FILE};

async fn fresh() -> BusinessTestStore {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = EmbeddedStore::open(dir.path(), Arc::new(NoSink)).expect("the store opens");
    BusinessTestStore::new(Arc::new(store)).with_guard(dir)
}

switchboard_store::business_conformance_tests!(fresh);

fn open(dir: &Path) -> EmbeddedStore {
    EmbeddedStore::open(dir, Arc::new(NoSink)).expect("the store opens")
}

fn business() -> Business {
    Business {
        waba_id: "101".into(),
        phone_number_id: "201".into(),
        user_id: "491".into(),
        name: "Shop".into(),
        vertical: "RETAIL".into(),
        verification: "verified".into(),
        verification_reason: None,
        profile: "{}".into(),
        throughput_mps: Some(80),
        messaging_tier: None,
        created_at: 1,
    }
}

fn template() -> Template {
    Template {
        template_id: "1001".into(),
        waba_id: "101".into(),
        name: "welcome".into(),
        language: "en_US".into(),
        category: "UTILITY".into(),
        parameter_format: "POSITIONAL".into(),
        components: "[]".into(),
        status: "APPROVED".into(),
        reason: None,
        created_at: 2,
        updated_at: 2,
    }
}

fn usage() -> UsageRecord {
    UsageRecord {
        waba_id: "101".into(),
        message_id: "d1-2.1".into(),
        category: "utility".into(),
        country: "49".into(),
        price_micros: 8_000,
        currency: "EUR".into(),
        ts: 3,
    }
}

fn expiry(message_id: &str, expires_at: i64) -> PendingExpiry {
    PendingExpiry {
        waba_id: "101".into(),
        message_id: message_id.into(),
        client_id: format!("c-{message_id}"),
        chat_id: "d491-492".into(),
        seq: 7,
        recipient: "492".into(),
        expires_at,
    }
}

#[tokio::test]
async fn business_data_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = open(dir.path());
        store.create_business(&business()).await.expect("business");
        store.create_template(&template()).await.expect("template");
        assert!(store.record_usage(&usage()).await.expect("usage"));
        assert_eq!(store.push_event("101", "a", 4).await.expect("event"), 1);
        assert_eq!(store.push_event("101", "b", 5).await.expect("event"), 2);
        store.add_expiry(&expiry("m.1", 10)).await.expect("expiry");
        store.add_expiry(&expiry("m.2", 20)).await.expect("expiry");
        store.add_expiry(&expiry("m.3", 30)).await.expect("expiry");
        store.remove_expiry("101", "m.2").await.expect("handled");
        store.close().await.expect("close");
    }
    let store = open(dir.path());
    assert_eq!(store.business("101").await.expect("get"), Some(business()));
    assert_eq!(store.template("1001").await.expect("get"), Some(template()));
    assert_eq!(
        store.usage("101", 0, 10).await.expect("usage"),
        vec![usage()]
    );
    assert!(
        !store
            .record_usage(&usage())
            .await
            .expect("still recorded once")
    );
    assert_eq!(store.push_event("101", "c", 6).await.expect("event"), 3);
    let seqs: Vec<u64> = store
        .events_after("101", 0, 10)
        .await
        .expect("events")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    // Pending expiries are kept, a handled one stays gone, and adding one again
    // after the reopen still finds it there.
    assert_eq!(
        store.due_expiries("101", 100, 10).await.expect("expiries"),
        vec![expiry("m.1", 10), expiry("m.3", 30)]
    );
    store
        .add_expiry(&expiry("m.1", 10))
        .await
        .expect("idempotent add");
    assert_eq!(
        store.due_expiries("101", 100, 10).await.expect("expiries"),
        vec![expiry("m.1", 10), expiry("m.3", 30)]
    );
    store.close().await.expect("close");
}

#[tokio::test]
async fn a_database_without_business_tables_is_upgraded_in_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = open(dir.path());
        store.ensure_user("491", 1).await.expect("user");
        store.close().await.expect("close");
    }
    // Make it what a build before the business tables left behind: schema version 1.
    {
        let conn = rusqlite::Connection::open(dir.path().join(SQLITE_FILE)).expect("sqlite");
        let tables: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                 AND name NOT IN ('registrations', 'users', 'devices', 'chats', 'members')",
            )
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("names");
        assert!(tables.contains(&"businesses".to_string()), "{tables:?}");
        for t in tables {
            conn.execute_batch(&format!("DROP TABLE {t}"))
                .expect("drop table");
        }
        conn.pragma_update(None, "user_version", 1)
            .expect("user_version");
    }
    let store = open(dir.path());
    assert!(
        store.user("491").await.expect("user").is_some(),
        "old data kept"
    );
    store.create_business(&business()).await.expect("business");
    assert_eq!(
        store.business_by_user("491").await.expect("get"),
        Some(business())
    );
    store.close().await.expect("close");
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(SQLITE_FILE)).expect("sqlite");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version");
    assert!(version >= 2, "schema version {version} after the upgrade");
}
