//! [`RecordStore`] on PostgreSQL: the `app_records` table of migration 4
//! ([`crate::schema`]). A batch is one transaction; each expectation is checked by
//! the statement that writes (an `INSERT … ON CONFLICT DO NOTHING`, an `UPDATE …
//! WHERE version = $n`), so concurrent writers on any node serialise on the row lock
//! and exactly one of two racing writes with the same expectation wins.
//! Distribution key: `tenant` (`SCHEMA.md`).

use crate::{PgStore, pg_err, to_i64, to_u64};
use async_trait::async_trait;
use switchboard_store::{
    Expect, Record, RecordStore, RecordWrite, StoreError, StoreResult, check_writes,
};
use tokio_postgres::Row;

fn conflict(w: &RecordWrite) -> StoreError {
    StoreError::Conflict(format!(
        "record {}/{}/{} changed (expected {:?})",
        w.tenant, w.kind, w.key, w.expect
    ))
}

fn record_row(r: &Row) -> StoreResult<Record> {
    let get = |e: tokio_postgres::Error| StoreError::Format(format!("app_records: {e}"));
    Ok(Record {
        key: r.try_get(0).map_err(get)?,
        value: r.try_get(1).map_err(get)?,
        version: to_u64(r.try_get(2).map_err(get)?),
        updated_at: r.try_get(3).map_err(get)?,
    })
}

/// The smallest string above every key starting with `prefix` (see the embedded
/// store's twin), or `None`.
fn prefix_end(prefix: &str) -> Option<String> {
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

#[async_trait]
impl RecordStore for PgStore {
    async fn record(&self, tenant: &str, kind: &str, key: &str) -> StoreResult<Option<Record>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT key, value, version, updated_at FROM app_records
                 WHERE tenant = $1 AND kind = $2 AND key = $3",
                &[&tenant, &kind, &key],
            )
            .await
            .map_err(pg_err)?;
        row.as_ref().map(record_row).transpose()
    }

    async fn apply_records(&self, writes: &[RecordWrite], now: i64) -> StoreResult<Vec<u64>> {
        check_writes(writes)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        let mut out = Vec::with_capacity(writes.len());
        for w in writes {
            let (t, k, key) = (&w.tenant, &w.kind, &w.key);
            let version: Option<i64> = match (&w.value, w.expect) {
                (Some(v), Expect::Any) => tx
                    .query_opt(
                        "INSERT INTO app_records (tenant, kind, key, value, version, updated_at)
                         VALUES ($1, $2, $3, $4, 1, $5)
                         ON CONFLICT (tenant, kind, key) DO UPDATE SET value = EXCLUDED.value,
                             version = app_records.version + 1, updated_at = EXCLUDED.updated_at
                         RETURNING version",
                        &[t, k, key, v, &now],
                    )
                    .await
                    .map_err(pg_err)?
                    .map(|r| r.get(0)),
                (Some(v), Expect::Absent) => tx
                    .query_opt(
                        "INSERT INTO app_records (tenant, kind, key, value, version, updated_at)
                         VALUES ($1, $2, $3, $4, 1, $5)
                         ON CONFLICT (tenant, kind, key) DO NOTHING RETURNING version",
                        &[t, k, key, v, &now],
                    )
                    .await
                    .map_err(pg_err)?
                    .map(|r| r.get(0)),
                (Some(v), Expect::Version(n)) => tx
                    .query_opt(
                        "UPDATE app_records SET value = $4, version = version + 1, updated_at = $5
                         WHERE tenant = $1 AND kind = $2 AND key = $3 AND version = $6
                         RETURNING version",
                        &[t, k, key, v, &now, &to_i64(n)],
                    )
                    .await
                    .map_err(pg_err)?
                    .map(|r| r.get(0)),
                (None, Expect::Any) => {
                    tx.execute(
                        "DELETE FROM app_records WHERE tenant = $1 AND kind = $2 AND key = $3",
                        &[t, k, key],
                    )
                    .await
                    .map_err(pg_err)?;
                    Some(0)
                }
                (None, Expect::Absent) => {
                    let exists = tx
                        .query_opt(
                            "SELECT 1 FROM app_records WHERE tenant = $1 AND kind = $2 AND key = $3",
                            &[t, k, key],
                        )
                        .await
                        .map_err(pg_err)?
                        .is_some();
                    (!exists).then_some(0)
                }
                (None, Expect::Version(n)) => {
                    let gone = tx
                        .execute(
                            "DELETE FROM app_records
                             WHERE tenant = $1 AND kind = $2 AND key = $3 AND version = $4",
                            &[t, k, key, &to_i64(n)],
                        )
                        .await
                        .map_err(pg_err)?;
                    (gone == 1).then_some(0)
                }
            };
            match version {
                Some(v) => out.push(to_u64(v)),
                None => {
                    // Dropping the transaction rolls it back.
                    return Err(conflict(w));
                }
            }
        }
        tx.commit().await.map_err(pg_err)?;
        Ok(out)
    }

    async fn records(
        &self,
        tenant: &str,
        kind: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        let end = prefix_end(prefix);
        let lower = match after {
            Some(a) if a >= prefix => a.to_owned(),
            _ => String::new(),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT key, value, version, updated_at FROM app_records
                 WHERE tenant = $1 AND kind = $2 AND key >= $3
                   AND ($4 = '' OR key > $4)
                   AND ($5::text IS NULL OR key < $5)
                 ORDER BY key LIMIT $6",
                &[&tenant, &kind, &prefix, &lower, &end, &limit],
            )
            .await
            .map_err(pg_err)?;
        rows.iter().map(record_row).collect()
    }

    async fn count_records(&self, tenant: &str, kind: &str, prefix: &str) -> StoreResult<u64> {
        let end = prefix_end(prefix);
        let c = self.client().await?;
        let row = c
            .query_one(
                "SELECT count(*) FROM app_records
                 WHERE tenant = $1 AND kind = $2 AND key >= $3
                   AND ($4::text IS NULL OR key < $4)",
                &[&tenant, &kind, &prefix, &end],
            )
            .await
            .map_err(pg_err)?;
        Ok(to_u64(row.get(0)))
    }
}
