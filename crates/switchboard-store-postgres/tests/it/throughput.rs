//! Durable append throughput of one node under many concurrent senders: a benchmark
//! that is also a test (the shared `conformance::concurrent_append_load`). By default
//! it sends a few thousand messages and checks them; with `SWITCHBOARD_PG_BENCH=<messages>`
//! it sends that many and prints messages/s (build with `--release` for real figures).

use crate::support;
use std::sync::Arc;
use switchboard_store::Store;
use switchboard_store::conformance::{RecordingSink, concurrent_append_load};
use switchboard_store_postgres::{PgOptions, PgStore};

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
    let store: Arc<dyn Store> = Arc::new(
        PgStore::connect_with(config, options, sink.clone())
            .await
            .expect("connect"),
    );
    let rate = concurrent_append_load(store.clone(), &sink, total).await;
    eprintln!(
        "postgres store: {total} durable appends from 200 concurrent senders: {rate:.0} msgs/s"
    );
    store.close().await.expect("close");
}
