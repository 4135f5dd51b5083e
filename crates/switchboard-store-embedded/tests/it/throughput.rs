//! Durable append throughput under many concurrent senders: a benchmark that is also a
//! test (the shared `conformance::concurrent_append_load`). By default it sends a few
//! thousand messages and checks them; with `SWITCHBOARD_STORE_BENCH=<messages>` it
//! sends that many and prints messages/s (build with `--release` for real figures).

use std::sync::Arc;
use switchboard_store::Store;
use switchboard_store::conformance::{RecordingSink, concurrent_append_load};
use switchboard_store_embedded::EmbeddedStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_group_commit() {
    let total: usize = std::env::var("SWITCHBOARD_STORE_BENCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = RecordingSink::new();
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(dir.path(), sink.clone()).expect("open"));
    let rate = concurrent_append_load(store.clone(), &sink, total).await;
    eprintln!(
        "embedded store: {total} durable appends from 200 concurrent senders: {rate:.0} msgs/s"
    );
    store.close().await.expect("close");
}
