//! Runs the backend-independent conformance suite against a PostgreSQL store in a
//! fresh schema per case.
//!
//! The suite's factory must return a store, so it cannot skip a case by returning.
//! Without PostgreSQL (and without `CI`) it prints `skipped: no PostgreSQL` and ends
//! the test process with success: nextest runs every test in its own process, so
//! this skips exactly one case. (Under plain `cargo test` it ends the whole binary,
//! every test of which needs PostgreSQL anyway.)

use crate::support;
use std::sync::Arc;
use switchboard_store::CommitSink;
use switchboard_store::conformance::TestStore;
use switchboard_store_postgres::{PgOptions, PgStore};

async fn fresh(sink: Arc<dyn CommitSink>) -> TestStore {
    let Some((config, guard)) = support::fresh_schema().await else {
        std::process::exit(0);
    };
    let options = PgOptions {
        pool_size: 4,
        ..PgOptions::default()
    };
    let store = PgStore::connect_with(config, options, sink)
        .await
        .expect("the store connects");
    TestStore::new(Arc::new(store)).with_guard(guard)
}

switchboard_store::store_conformance_tests!(fresh);
