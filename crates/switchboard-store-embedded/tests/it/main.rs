//! The one integration-test binary of the embedded store: the shared conformance
//! suites (store and business) on a temporary directory, and what only an on-disk
//! store can show (reopening).

mod business;
mod conformance;
mod reopen;
mod throughput;
