//! The one integration-test binary of the embedded store: the shared conformance
//! suite on a temporary directory, and what only an on-disk store can show (reopening).

mod conformance;
mod reopen;
mod throughput;
