//! [`RecordStore`] on the embedded store: one SQLite table (migration 3 of
//! [`crate::sql`]), written through the writer thread like the business tables, so a
//! batch is one savepoint: all of it or none.

use crate::EmbeddedStore;
use crate::sql::backend;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use switchboard_store::{
    Expect, Record, RecordStore, RecordWrite, StoreError, StoreResult, check_writes,
};

/// Migration 3: the business app's records. Appended to [`crate::sql`]'s list; never edit.
pub const MIGRATION: &str = "CREATE TABLE app_records (
        tenant TEXT NOT NULL,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, kind, key)
    ) STRICT, WITHOUT ROWID;";

fn version_of(conn: &Connection, w: &RecordWrite) -> StoreResult<Option<u64>> {
    conn.prepare_cached(
        "SELECT version FROM app_records WHERE tenant = ?1 AND kind = ?2 AND key = ?3",
    )
    .map_err(backend)?
    .query_row(params![w.tenant, w.kind, w.key], |r| r.get::<_, i64>(0))
    .optional()
    .map_err(backend)
    .map(|v| v.map(|v| v as u64))
}

fn conflict(w: &RecordWrite, found: Option<u64>) -> StoreError {
    StoreError::Conflict(format!(
        "record {}/{}/{} changed (expected {:?}, found version {})",
        w.tenant,
        w.kind,
        w.key,
        w.expect,
        found.map_or_else(|| "none".to_owned(), |v| v.to_string())
    ))
}

fn apply(conn: &Connection, writes: &[RecordWrite], now: i64) -> StoreResult<Vec<u64>> {
    let mut out = Vec::with_capacity(writes.len());
    for w in writes {
        let found = version_of(conn, w)?;
        let ok = match (w.expect, found) {
            (Expect::Any, _) => true,
            (Expect::Absent, f) => f.is_none(),
            (Expect::Version(v), Some(f)) => v == f,
            (Expect::Version(_), None) => false,
        };
        if !ok {
            return Err(conflict(w, found));
        }
        match &w.value {
            Some(value) => {
                let next = found.unwrap_or(0) + 1;
                conn.prepare_cached(
                    "INSERT INTO app_records (tenant, kind, key, value, version, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (tenant, kind, key) DO UPDATE SET
                        value = excluded.value, version = excluded.version,
                        updated_at = excluded.updated_at",
                )
                .map_err(backend)?
                .execute(params![w.tenant, w.kind, w.key, value, next as i64, now])
                .map_err(backend)?;
                out.push(next);
            }
            None => {
                conn.prepare_cached(
                    "DELETE FROM app_records WHERE tenant = ?1 AND kind = ?2 AND key = ?3",
                )
                .map_err(backend)?
                .execute(params![w.tenant, w.kind, w.key])
                .map_err(backend)?;
                out.push(0);
            }
        }
    }
    Ok(out)
}

/// Where a prefix range ends: the smallest string above every key with `prefix`
/// (its last char raised by one code point; UTF-8 byte order is code point order),
/// or `None` when the range runs to the end.
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn list(
    conn: &Connection,
    tenant: &str,
    kind: &str,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<Record>> {
    // Keys compare bytewise (BINARY collation), which is code point order.
    let end = prefix_end(prefix);
    let lower = match after {
        Some(a) if a >= prefix => a.to_owned(),
        _ => String::new(),
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT key, value, version, updated_at FROM app_records
             WHERE tenant = ?1 AND kind = ?2 AND key >= ?3
               AND (?4 = '' OR key > ?4)
               AND (?5 IS NULL OR key < ?5)
             ORDER BY key LIMIT ?6",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(
            params![
                tenant,
                kind,
                prefix,
                lower,
                end,
                limit.min(i64::MAX as usize) as i64
            ],
            |r| {
                Ok(Record {
                    key: r.get(0)?,
                    value: r.get(1)?,
                    version: r.get::<_, i64>(2)? as u64,
                    updated_at: r.get(3)?,
                })
            },
        )
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

fn count(conn: &Connection, tenant: &str, kind: &str, prefix: &str) -> StoreResult<u64> {
    let end = prefix_end(prefix);
    conn.prepare_cached(
        "SELECT count(*) FROM app_records
         WHERE tenant = ?1 AND kind = ?2 AND key >= ?3
           AND (?4 IS NULL OR key < ?4)",
    )
    .map_err(backend)?
    .query_row(params![tenant, kind, prefix, end], |r| r.get::<_, i64>(0))
    .map_err(backend)
    .map(|n| n as u64)
}

#[async_trait]
impl RecordStore for EmbeddedStore {
    async fn record(&self, tenant: &str, kind: &str, key: &str) -> StoreResult<Option<Record>> {
        let (t, k, key) = (tenant.to_owned(), kind.to_owned(), key.to_owned());
        self.sql_read(move |c| {
            c.prepare_cached(
                "SELECT key, value, version, updated_at FROM app_records
                 WHERE tenant = ?1 AND kind = ?2 AND key = ?3",
            )
            .map_err(backend)?
            .query_row(params![t, k, key], |r| {
                Ok(Record {
                    key: r.get(0)?,
                    value: r.get(1)?,
                    version: r.get::<_, i64>(2)? as u64,
                    updated_at: r.get(3)?,
                })
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn apply_records(&self, writes: &[RecordWrite], now: i64) -> StoreResult<Vec<u64>> {
        check_writes(writes)?;
        let writes = writes.to_vec();
        self.sql_write(move |c| apply(c, &writes, now)).await
    }

    async fn records(
        &self,
        tenant: &str,
        kind: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        let (t, k, p) = (tenant.to_owned(), kind.to_owned(), prefix.to_owned());
        let after = after.map(str::to_owned);
        self.sql_read(move |c| list(c, &t, &k, &p, after.as_deref(), limit))
            .await
    }

    async fn count_records(&self, tenant: &str, kind: &str, prefix: &str) -> StoreResult<u64> {
        let (t, k, p) = (tenant.to_owned(), kind.to_owned(), prefix.to_owned());
        self.sql_read(move |c| count(c, &t, &k, &p)).await
    }
}
