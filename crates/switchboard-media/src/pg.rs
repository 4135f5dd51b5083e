//! [`PgIndex`]: the [`MediaIndex`] in PostgreSQL, for a cluster of nodes on one
//! database. Same tables as the SQLite index (`media`, `media_refs`), plus the
//! one-row `media_secret` that signs URLs on every node. The tables are created by the
//! PostgreSQL store's append-only migrations (`switchboard_store_postgres::MIGRATIONS`,
//! version 2, applied under its advisory lock at connect): open the store first, then
//! hand its pool to [`PgIndex::new`].
//!
//! Garbage collection is coordinated with a session advisory lock
//! (`pg_try_advisory_lock`): one node collects at a time, the others skip the pass.

use deadpool_postgres::{Object, Pool};
use rand::RngExt;
use tokio_postgres::Row;

use crate::index::{GcLease, LeaseRelease, MediaIndex, MediaRecord};
use crate::{Kind, MediaError};

/// First key of the GC advisory lock ("SWMG"); the second is the current schema's
/// hash, so isolated test schemas do not exclude each other.
const GC_LOCK_CLASS: i32 = 0x5357_4D47;

const COLUMNS: &str = "media_id, uploader, sha256, mime, kind, size, width, height, duration_ms, thumb_sha256, created_at";

fn pg_err(e: tokio_postgres::Error) -> MediaError {
    match e.as_db_error() {
        Some(db) => MediaError::Index(format!(
            "postgresql: {} ({})",
            db.message(),
            db.code().code()
        )),
        None => MediaError::Index(format!("postgresql: {e}")),
    }
}

fn row(r: &Row) -> MediaRecord {
    let kind: String = r.get(4);
    MediaRecord {
        media_id: r.get(0),
        uploader: r.get(1),
        sha256: r.get(2),
        mime: r.get(3),
        kind: Kind::parse(&kind).unwrap_or(Kind::Document),
        size: r.get::<_, i64>(5) as u64,
        width: r.get::<_, Option<i64>>(6).map(|v| v as u32),
        height: r.get::<_, Option<i64>>(7).map(|v| v as u32),
        duration_ms: r.get::<_, Option<i64>>(8).map(|v| v as u64),
        thumb_sha256: r.get(9),
        created_at: r.get(10),
    }
}

/// The shared media index on a PostgreSQL pool.
#[derive(Clone)]
pub struct PgIndex {
    pool: Pool,
}

impl PgIndex {
    /// An index on a pool whose database is already migrated (see the module docs).
    pub fn new(pool: Pool) -> Self {
        PgIndex { pool }
    }

    async fn client(&self) -> Result<Object, MediaError> {
        self.pool
            .get()
            .await
            .map_err(|e| MediaError::Index(format!("postgresql pool: {e}")))
    }

    /// The URL signing secret shared by every node: created once by whichever node
    /// comes first (`ON CONFLICT DO NOTHING`), then read by all.
    pub async fn shared_secret(&self) -> Result<[u8; 32], MediaError> {
        let mut fresh = [0u8; 32];
        rand::rng().fill(&mut fresh[..]);
        let c = self.client().await?;
        c.execute(
            "INSERT INTO media_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            &[&fresh.as_slice()],
        )
        .await
        .map_err(pg_err)?;
        let r = c
            .query_one("SELECT secret FROM media_secret WHERE id = 1", &[])
            .await
            .map_err(pg_err)?;
        let secret: Vec<u8> = r.get(0);
        <[u8; 32]>::try_from(secret.as_slice())
            .map_err(|_| MediaError::Index("media_secret is not 32 bytes".into()))
    }
}

/// The GC advisory lock held on one pooled connection.
struct PgLease {
    client: Option<Object>,
}

#[async_trait::async_trait]
impl LeaseRelease for PgLease {
    async fn release(mut self: Box<Self>) {
        let Some(client) = self.client.take() else {
            return;
        };
        let unlocked = client
            .query_one(
                "SELECT pg_advisory_unlock($1, hashtext(current_schema()))",
                &[&GC_LOCK_CLASS],
            )
            .await
            .map(|r| r.get::<_, bool>(0));
        if !matches!(unlocked, Ok(true)) {
            // Never hand a connection that may still hold the lock back to the pool:
            // closing it releases the lock.
            tracing::warn!(
                ?unlocked,
                "releasing the media GC lock; dropping its connection"
            );
            drop(Object::take(client));
        }
    }
}

impl Drop for PgLease {
    fn drop(&mut self) {
        // Not released (a cancelled or panicking pass): close the connection, which
        // releases the session lock, rather than pool it.
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

#[async_trait::async_trait]
impl MediaIndex for PgIndex {
    async fn insert(&self, r: &MediaRecord) -> Result<(), MediaError> {
        let c = self.client().await?;
        c.execute(
            &format!(
                "INSERT INTO media ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ),
            &[
                &r.media_id,
                &r.uploader,
                &r.sha256,
                &r.mime,
                &r.kind.as_str(),
                &(r.size as i64),
                &r.width.map(i64::from),
                &r.height.map(i64::from),
                &r.duration_ms.map(|d| d as i64),
                &r.thumb_sha256,
                &r.created_at,
            ],
        )
        .await
        .map_err(pg_err)?;
        Ok(())
    }

    async fn get(&self, media_id: &str) -> Result<Option<MediaRecord>, MediaError> {
        let c = self.client().await?;
        let r = c
            .query_opt(
                &format!("SELECT {COLUMNS} FROM media WHERE media_id = $1"),
                &[&media_id],
            )
            .await
            .map_err(pg_err)?;
        Ok(r.as_ref().map(row))
    }

    async fn add_ref(&self, media_id: &str, chat_id: &str, at: i64) -> Result<(), MediaError> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO media_refs (media_id, chat_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (media_id, chat_id) DO NOTHING",
            &[&media_id, &chat_id, &at],
        )
        .await
        .map_err(pg_err)?;
        Ok(())
    }

    async fn chats(&self, media_id: &str) -> Result<Vec<String>, MediaError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT chat_id FROM media_refs WHERE media_id = $1",
                &[&media_id],
            )
            .await
            .map_err(pg_err)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn unreferenced_before(
        &self,
        cutoff: i64,
        limit: usize,
    ) -> Result<Vec<MediaRecord>, MediaError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM media m WHERE created_at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM media_refs r WHERE r.media_id = m.media_id) \
                     ORDER BY created_at LIMIT $2"
                ),
                &[&cutoff, &(limit as i64)],
            )
            .await
            .map_err(pg_err)?;
        Ok(rows.iter().map(row).collect())
    }

    async fn delete(&self, media_id: &str) -> Result<(), MediaError> {
        let c = self.client().await?;
        // One statement, so one transaction: the references and the record go together.
        c.execute(
            "WITH refs AS (DELETE FROM media_refs WHERE media_id = $1)
             DELETE FROM media WHERE media_id = $1",
            &[&media_id],
        )
        .await
        .map_err(pg_err)?;
        Ok(())
    }

    async fn blob_in_use(&self, sha256: &str) -> Result<bool, MediaError> {
        let c = self.client().await?;
        let r = c
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM media WHERE sha256 = $1 OR thumb_sha256 = $1)",
                &[&sha256],
            )
            .await
            .map_err(pg_err)?;
        Ok(r.get(0))
    }

    async fn try_gc_lease(&self) -> Result<Option<GcLease>, MediaError> {
        let c = self.client().await?;
        let got: bool = c
            .query_one(
                "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))",
                &[&GC_LOCK_CLASS],
            )
            .await
            .map_err(pg_err)?
            .get(0);
        Ok(got.then(|| GcLease::new(Box::new(PgLease { client: Some(c) }))))
    }
}
