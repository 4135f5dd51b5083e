//! Test plumbing: where the test database is, whether it is reachable, and a fresh
//! schema per test that is dropped when its guard goes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The DSN of the test database.
pub fn dsn() -> String {
    std::env::var("SWITCHBOARD_TEST_PG")
        .unwrap_or_else(|_| "host=127.0.0.1 user=postgres dbname=test".to_string())
}

fn base_config() -> tokio_postgres::Config {
    let mut config: tokio_postgres::Config = dsn()
        .parse()
        .unwrap_or_else(|e| panic!("SWITCHBOARD_TEST_PG is not a valid dsn: {e}"));
    config.connect_timeout(Duration::from_secs(5));
    config
}

/// A client of the test database, or why there is none. Retries briefly: a busy
/// machine can refuse a loopback connection for a moment.
async fn admin() -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let mut last = None;
    for _ in 0..5 {
        match base_config().connect(tokio_postgres::NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        eprintln!("test admin connection: {e}");
                    }
                });
                return Ok(client);
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(last.expect("at least one attempt"))
}

/// Drops its schema (and everything in it) when dropped.
pub struct SchemaGuard {
    pub schema: String,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let schema = self.schema.clone();
        // Drop may run inside a runtime: do the work on a thread with its own.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the schema guard");
            rt.block_on(async move {
                match admin().await {
                    Ok(c) => {
                        // Connections of the test that were not shut down cleanly
                        // (their runtime is busy dropping this guard) may still hold
                        // locks: end them first. They carry the schema as their name.
                        let end = c
                            .execute(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
                                &[&schema],
                            )
                            .await;
                        if let Err(e) = end {
                            eprintln!("ending the connections of test schema {schema}: {e}");
                        }
                        if let Err(e) = c
                            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            .await
                        {
                            eprintln!("dropping test schema {schema}: {e}");
                        }
                    }
                    Err(e) => eprintln!("dropping test schema {schema}: {e}"),
                }
            });
        });
        let _ = done.join();
    }
}

/// A fresh, empty schema and a configuration whose connections use it; `None` when
/// there is no PostgreSQL and `CI` is unset (after printing `skipped: no PostgreSQL`).
/// Under `CI` an unreachable database fails the test.
pub async fn fresh_schema() -> Option<(tokio_postgres::Config, SchemaGuard)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let client = match admin().await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("PostgreSQL at {:?} is unreachable under CI: {e}", dsn());
            }
            eprintln!("skipped: no PostgreSQL ({e})");
            return None;
        }
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let schema = format!(
        "sbt_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap_or_else(|e| panic!("create schema {schema}: {e}"));
    let mut config = base_config();
    config.options(format!("-c search_path={schema}"));
    config.application_name(&schema);
    Some((config, SchemaGuard { schema }))
}
