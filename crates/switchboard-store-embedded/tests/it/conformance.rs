//! Runs the backend-independent conformance suite against a fresh embedded store in a
//! temporary directory per case.

use std::sync::Arc;
use switchboard_store::CommitSink;
use switchboard_store::conformance::TestStore;
use switchboard_store_embedded::EmbeddedStore;

async fn fresh(sink: Arc<dyn CommitSink>) -> TestStore {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = EmbeddedStore::open(dir.path(), sink).expect("the store opens");
    TestStore::new(Arc::new(store)).with_guard(dir)
}

switchboard_store::store_conformance_tests!(fresh);
