//! Runs the business conformance suite against a PostgreSQL store in a fresh schema
//! per case (without PostgreSQL, and without `CI`, each case is skipped the same way
//! as the store suite's: see `conformance.rs`), and what only a shared database can
//! show: an older schema upgraded in place, and two nodes numbering one business's
//! events and claiming one key.

use crate::support;
use std::sync::Arc;
use switchboard_store::business_conformance::BusinessTestStore;
use switchboard_store::{BusinessStore, NoSink, Store};
use switchboard_store_postgres::{MIGRATIONS, PgOptions, PgStore};

async fn fresh() -> BusinessTestStore {
    let Some((config, guard)) = support::fresh_schema().await else {
        std::process::exit(0);
    };
    let options = PgOptions {
        pool_size: 4,
        ..PgOptions::default()
    };
    let store = PgStore::connect_with(config, options, Arc::new(NoSink))
        .await
        .expect("the store connects");
    BusinessTestStore::new(Arc::new(store)).with_guard(guard)
}

switchboard_store::business_conformance_tests!(fresh);

/// A database at schema version 2 (before the business tables) is upgraded in place
/// at connect, keeping its data.
#[tokio::test]
async fn a_version_2_database_is_upgraded_in_place() {
    let Some((config, _guard)) = support::fresh_schema().await else {
        return;
    };
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    let conn = tokio::spawn(conn);
    // What a build that knew two migrations left behind.
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (
                 version integer PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await
        .expect("schema_migrations");
    for (i, sql) in MIGRATIONS.iter().take(2).enumerate() {
        client.batch_execute(sql).await.expect("an old migration");
        let v = i as i32 + 1;
        client
            .execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&v])
            .await
            .expect("record version");
    }
    client
        .execute(
            "INSERT INTO users (user_id, created_at) VALUES ('491', 1)",
            &[],
        )
        .await
        .expect("an old user");

    let store = PgStore::connect_with(config, PgOptions::default(), Arc::new(NoSink))
        .await
        .expect("connects and migrates");
    assert!(
        store.user("491").await.expect("user").is_some(),
        "old data kept"
    );
    assert_eq!(store.push_event("101", "{}", 1).await.expect("event"), 1);
    let version: i32 = client
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, MIGRATIONS.len() as i32);
    store.close().await.expect("close");
    drop(client);
    let _ = conn.await;
}

/// Two nodes on one database number one business's events and claim one key
/// without a gap, a repeat or a second winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_event_numbers_and_claims() {
    let Some((config, _guard)) = support::fresh_schema().await else {
        return;
    };
    let options = PgOptions {
        pool_size: 4,
        ..PgOptions::default()
    };
    let a = Arc::new(
        PgStore::connect_with(config.clone(), options.clone(), Arc::new(NoSink))
            .await
            .expect("node a"),
    );
    let b = Arc::new(
        PgStore::connect_with(config, options, Arc::new(NoSink))
            .await
            .expect("node b"),
    );
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40i64 {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.spawn(async move {
            let seq = node.push_event("101", "{}", i).await.expect("push");
            let claim = node
                .idempotency_claim("101", "k", &format!("r{i}"), i, 0)
                .await
                .expect("claim");
            (seq, claim.is_none())
        });
    }
    let mut seqs = Vec::new();
    let mut winners = 0;
    while let Some(done) = tasks.join_next().await {
        let (seq, won) = done.expect("task");
        seqs.push(seq);
        winners += usize::from(won);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<u64>>());
    assert_eq!(winners, 1);
    a.close().await.expect("close a");
    b.close().await.expect("close b");
}
