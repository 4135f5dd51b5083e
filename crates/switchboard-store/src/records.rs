//! Versioned JSON records, grouped by tenant and kind: the storage of the business
//! app (catalog, orders, quick replies, labels, settings, the team inbox, statistics,
//! broadcasts, links).
//!
//! Why one generic table rather than a table per feature: the business app has a
//! dozen small document types whose shapes change often, each read and written a few
//! times per customer message, never on the consumer message hot path. Every
//! document is owned by one tenant (a business's `waba_id`), so a tenant's records
//! live on one shard (Citus distribution key `tenant`), and a business's working set
//! (hundreds of products, thousands of conversations) is small enough to list and
//! filter in the domain layer. The few lookups that cross tenants (a click-to-chat
//! code, the businesses a user works for) are records of the reserved tenant
//! [`GLOBAL_TENANT`].
//!
//! Every write states what it expects to find ([`Expect`]): optimistic concurrency
//! instead of locks, so two agents editing one conversation on two nodes cannot
//! overwrite each other unseen. [`RecordStore::apply_records`] writes several records
//! atomically (all expectations hold, or nothing is written).

use async_trait::async_trait;

use crate::StoreResult;

/// The tenant of records that index across businesses.
pub const GLOBAL_TENANT: &str = "_";

/// Longest tenant, kind or key, in bytes.
pub const MAX_RECORD_KEY: usize = 512;
/// Largest record value, in bytes.
pub const MAX_RECORD_VALUE: usize = 256 * 1024;

/// One stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub key: String,
    /// JSON text; the store does not look inside.
    pub value: String,
    /// 1 when created, +1 on every write.
    pub version: u64,
    /// Milliseconds since the epoch of the last write.
    pub updated_at: i64,
}

/// What a write expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Whatever is there (last writer wins).
    Any,
    /// Nothing: the write creates the record.
    Absent,
    /// The record at exactly this version.
    Version(u64),
}

/// One write of an atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordWrite {
    pub tenant: String,
    pub kind: String,
    pub key: String,
    /// The new value; `None` deletes the record.
    pub value: Option<String>,
    pub expect: Expect,
}

impl RecordWrite {
    pub fn put(tenant: &str, kind: &str, key: &str, value: String, expect: Expect) -> Self {
        RecordWrite {
            tenant: tenant.to_owned(),
            kind: kind.to_owned(),
            key: key.to_owned(),
            value: Some(value),
            expect,
        }
    }

    pub fn delete(tenant: &str, kind: &str, key: &str, expect: Expect) -> Self {
        RecordWrite {
            tenant: tenant.to_owned(),
            kind: kind.to_owned(),
            key: key.to_owned(),
            value: None,
            expect,
        }
    }
}

#[async_trait]
pub trait RecordStore: Send + Sync + 'static {
    async fn record(&self, tenant: &str, kind: &str, key: &str) -> StoreResult<Option<Record>>;

    /// Applies every write or none: `Conflict` if any expectation does not hold
    /// (an `Expect::Version` or `Expect::Absent` that does not match, or deleting a
    /// missing record with `Expect::Version`). Deleting a missing record with
    /// `Expect::Any` is no error. Answers the new version of each write (0 for a
    /// delete), in order. `InvalidInput` for an oversized key or value, or a batch
    /// that writes one record twice.
    async fn apply_records(&self, writes: &[RecordWrite], now: i64) -> StoreResult<Vec<u64>>;

    /// Records of `(tenant, kind)` whose key starts with `prefix` and sorts after
    /// `after` (byte order), in key order, at most `limit`.
    async fn records(
        &self,
        tenant: &str,
        kind: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Record>>;

    /// How many records of `(tenant, kind)` have a key starting with `prefix`.
    async fn count_records(&self, tenant: &str, kind: &str, prefix: &str) -> StoreResult<u64>;

    /// One write; the new version.
    async fn put_record(
        &self,
        tenant: &str,
        kind: &str,
        key: &str,
        value: String,
        expect: Expect,
        now: i64,
    ) -> StoreResult<u64> {
        let v = self
            .apply_records(&[RecordWrite::put(tenant, kind, key, value, expect)], now)
            .await?;
        Ok(v.first().copied().unwrap_or(0))
    }

    /// One delete; true if the record existed.
    async fn delete_record(
        &self,
        tenant: &str,
        kind: &str,
        key: &str,
        expect: Expect,
        now: i64,
    ) -> StoreResult<bool> {
        let existed = self.record(tenant, kind, key).await?.is_some();
        self.apply_records(&[RecordWrite::delete(tenant, kind, key, expect)], now)
            .await?;
        Ok(existed)
    }
}

/// Checks a batch before a backend applies it (sizes, no record written twice).
pub fn check_writes(writes: &[RecordWrite]) -> StoreResult<()> {
    use crate::StoreError;
    let mut seen = std::collections::HashSet::new();
    for w in writes {
        for part in [&w.tenant, &w.kind, &w.key] {
            if part.len() > MAX_RECORD_KEY {
                return Err(StoreError::InvalidInput(format!(
                    "a record tenant, kind or key is at most {MAX_RECORD_KEY} bytes"
                )));
            }
        }
        if w.tenant.is_empty() || w.kind.is_empty() {
            return Err(StoreError::InvalidInput(
                "a record needs a tenant and a kind".into(),
            ));
        }
        if w.value.as_ref().is_some_and(|v| v.len() > MAX_RECORD_VALUE) {
            return Err(StoreError::InvalidInput(format!(
                "a record value is at most {MAX_RECORD_VALUE} bytes"
            )));
        }
        if !seen.insert((&w.tenant, &w.kind, &w.key)) {
            return Err(StoreError::InvalidInput(
                "a batch writes each record once".into(),
            ));
        }
    }
    Ok(())
}
