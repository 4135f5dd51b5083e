//! Media metadata behind the [`MediaIndex`] trait: one record per upload and the chats
//! each was sent in. [`SqliteIndex`] keeps it in its own SQLite file,
//! `<data_dir>/media.db` (WAL, `synchronous=FULL`: a recorded reference survives a crash
//! as surely as the message it precedes).

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

use crate::{Kind, MediaError};

/// One upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRecord {
    pub media_id: String,
    pub uploader: String,
    /// Lowercase hex SHA-256 of the stored bytes (the blob key).
    pub sha256: String,
    pub mime: String,
    pub kind: Kind,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    /// The blob key of the JPEG thumbnail, if one was made.
    pub thumb_sha256: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

#[async_trait::async_trait]
pub trait MediaIndex: Send + Sync {
    async fn insert(&self, rec: &MediaRecord) -> Result<(), MediaError>;
    async fn get(&self, media_id: &str) -> Result<Option<MediaRecord>, MediaError>;
    /// Records that `media_id` was sent in `chat_id` (idempotent).
    async fn add_ref(&self, media_id: &str, chat_id: &str, at: i64) -> Result<(), MediaError>;
    /// The chats `media_id` was sent in.
    async fn chats(&self, media_id: &str) -> Result<Vec<String>, MediaError>;
    /// Up to `limit` records created before `cutoff` and never sent in any chat.
    async fn unreferenced_before(
        &self,
        cutoff: i64,
        limit: usize,
    ) -> Result<Vec<MediaRecord>, MediaError>;
    async fn delete(&self, media_id: &str) -> Result<(), MediaError>;
    /// Whether any record still uses `sha256` as its content or its thumbnail.
    async fn blob_in_use(&self, sha256: &str) -> Result<bool, MediaError>;
    /// The right to run one garbage collection pass; `None` while another holder
    /// (another node sharing this index) runs one. An index used by one process only
    /// always grants it; a shared one takes a lock that the lease releases.
    async fn try_gc_lease(&self) -> Result<Option<GcLease>, MediaError> {
        Ok(Some(GcLease::local()))
    }
}

/// What a shared index does to give a [`GcLease`] back.
#[async_trait::async_trait]
pub trait LeaseRelease: Send {
    async fn release(self: Box<Self>);
}

/// Held while a garbage collection pass runs; give it back with [`GcLease::release`]
/// (a dropped lease is released by its implementation as best it can).
pub struct GcLease {
    inner: Option<Box<dyn LeaseRelease>>,
}

impl GcLease {
    /// A lease with nothing to release (one process, one index).
    pub fn local() -> Self {
        GcLease { inner: None }
    }

    pub fn new(inner: Box<dyn LeaseRelease>) -> Self {
        GcLease { inner: Some(inner) }
    }

    pub async fn release(mut self) {
        if let Some(inner) = self.inner.take() {
            inner.release().await;
        }
    }
}

/// The embedded index: one SQLite connection used from blocking threads.
#[derive(Clone)]
pub struct SqliteIndex {
    conn: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS media (
    media_id     TEXT PRIMARY KEY,
    uploader     TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    mime         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    width        INTEGER,
    height       INTEGER,
    duration_ms  INTEGER,
    thumb_sha256 TEXT,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS media_sha ON media(sha256);
CREATE INDEX IF NOT EXISTS media_thumb ON media(thumb_sha256);
CREATE INDEX IF NOT EXISTS media_created ON media(created_at);
CREATE TABLE IF NOT EXISTS media_refs (
    media_id   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (media_id, chat_id)
) STRICT, WITHOUT ROWID;
";

const COLUMNS: &str = "media_id, uploader, sha256, mime, kind, size, width, height, duration_ms, thumb_sha256, created_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MediaRecord> {
    let kind: String = r.get(4)?;
    Ok(MediaRecord {
        media_id: r.get(0)?,
        uploader: r.get(1)?,
        sha256: r.get(2)?,
        mime: r.get(3)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Document),
        size: r.get::<_, i64>(5)? as u64,
        width: r.get::<_, Option<i64>>(6)?.map(|v| v as u32),
        height: r.get::<_, Option<i64>>(7)?.map(|v| v as u32),
        duration_ms: r.get::<_, Option<i64>>(8)?.map(|v| v as u64),
        thumb_sha256: r.get(9)?,
        created_at: r.get(10)?,
    })
}

impl SqliteIndex {
    /// Opens (creating) the index at `path`.
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteIndex {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, MediaError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&guard).map_err(MediaError::from)
        })
        .await
        .map_err(|e| MediaError::Index(format!("index task failed: {e}")))?
    }
}

#[async_trait::async_trait]
impl MediaIndex for SqliteIndex {
    async fn insert(&self, rec: &MediaRecord) -> Result<(), MediaError> {
        let r = rec.clone();
        self.with(move |c| {
            c.execute(
                &format!("INSERT INTO media ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                params![
                    r.media_id,
                    r.uploader,
                    r.sha256,
                    r.mime,
                    r.kind.as_str(),
                    r.size as i64,
                    r.width.map(i64::from),
                    r.height.map(i64::from),
                    r.duration_ms.map(|d| d as i64),
                    r.thumb_sha256,
                    r.created_at
                ],
            )
            .map(|_| ())
        })
        .await
    }

    async fn get(&self, media_id: &str) -> Result<Option<MediaRecord>, MediaError> {
        let id = media_id.to_owned();
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM media WHERE media_id = ?1"),
                [id],
                row,
            )
            .optional()
        })
        .await
    }

    async fn add_ref(&self, media_id: &str, chat_id: &str, at: i64) -> Result<(), MediaError> {
        let (m, ch) = (media_id.to_owned(), chat_id.to_owned());
        self.with(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO media_refs (media_id, chat_id, created_at) VALUES (?1, ?2, ?3)",
                params![m, ch, at],
            )
            .map(|_| ())
        })
        .await
    }

    async fn chats(&self, media_id: &str) -> Result<Vec<String>, MediaError> {
        let id = media_id.to_owned();
        self.with(move |c| {
            let mut st = c.prepare_cached("SELECT chat_id FROM media_refs WHERE media_id = ?1")?;
            let rows = st.query_map([id], |r| r.get(0))?;
            rows.collect()
        })
        .await
    }

    async fn unreferenced_before(
        &self,
        cutoff: i64,
        limit: usize,
    ) -> Result<Vec<MediaRecord>, MediaError> {
        self.with(move |c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM media m WHERE created_at < ?1 \
                 AND NOT EXISTS (SELECT 1 FROM media_refs r WHERE r.media_id = m.media_id) \
                 ORDER BY created_at LIMIT ?2"
            ))?;
            let rows = st.query_map(params![cutoff, limit as i64], row)?;
            rows.collect()
        })
        .await
    }

    async fn delete(&self, media_id: &str) -> Result<(), MediaError> {
        let id = media_id.to_owned();
        self.with(move |c| {
            c.execute("DELETE FROM media_refs WHERE media_id = ?1", [&id])?;
            c.execute("DELETE FROM media WHERE media_id = ?1", [&id])
                .map(|_| ())
        })
        .await
    }

    async fn blob_in_use(&self, sha256: &str) -> Result<bool, MediaError> {
        let sha = sha256.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT EXISTS(SELECT 1 FROM media WHERE sha256 = ?1 OR thumb_sha256 = ?1)",
                [sha],
                |r| r.get(0),
            )
        })
        .await
    }
}
