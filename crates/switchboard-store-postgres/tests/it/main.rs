//! The one integration-test binary of the PostgreSQL store: the shared conformance
//! suites (store and business, each case in its own fresh schema), several nodes on one database, schema
//! versioning, and a throughput probe. Needs a PostgreSQL (`SWITCHBOARD_TEST_PG`,
//! default `host=127.0.0.1 user=postgres dbname=test`); without one each test says
//! `skipped: no PostgreSQL`, unless `CI` is set, where they fail.

mod business;
mod conformance;
mod nodes;
mod support;
mod throughput;
