//! [`MediaService`]: the one media service both APIs use. Uploads are streamed to a
//! staged file (hashing and sniffing as bytes arrive, so a file over its limit or of a
//! refused type is stopped early and never held in memory), then ingested: metadata
//! removed from photos, dimensions, duration and thumbnails computed off the async
//! threads, the blob installed and the record written. The garbage collector removes
//! uploads never sent in a chat after [`UNREFERENCED_TTL_MS`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use rand::RngExt;
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;
use tokio::sync::RwLock;

use crate::blob::{BlobStore, FsBlobStore};
use crate::index::{MediaIndex, MediaRecord, SqliteIndex};
use crate::sign::UrlSigner;
use crate::sniff::{self, Kind, MAX_UPLOAD, SNIFF_BYTES, Sniffed};
use crate::{MediaError, av, imaging};

/// Uploads never sent in a chat are removed after this long.
pub const UNREFERENCED_TTL_MS: i64 = 24 * 3600 * 1000;
/// Staged files older than this are leftovers of crashed or stuck uploads.
const STAGING_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// How an upload is to be treated.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestOptions {
    /// Sent as a document: the original bytes are kept (metadata included) and the
    /// document limit applies.
    pub as_document: bool,
}

/// What a garbage collection pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcReport {
    pub media_removed: u64,
    pub blobs_removed: u64,
    pub staged_removed: u64,
}

pub struct MediaService {
    pub blobs: Arc<dyn BlobStore>,
    pub index: Arc<dyn MediaIndex>,
    pub signer: UrlSigner,
    staging: PathBuf,
    /// Ingestion (blob install + record) holds it shared; collection exclusively, so a
    /// blob is never removed between an upload finding it present and recording it.
    gc_lock: RwLock<()>,
}

/// A media id: 32 lowercase hex characters.
pub fn valid_media_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn new_media_id() -> String {
    let mut buf = [0u8; 16];
    rand::rng().fill(&mut buf[..]);
    hex::encode(buf)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, MediaError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| MediaError::Backend(format!("media task failed: {e}")))
}

impl MediaService {
    /// The embedded setup under `data_dir`: blobs in `media/`, the index in `media.db`,
    /// the URL secret in `media.key`.
    pub fn open_local(data_dir: &Path) -> Result<Self, MediaError> {
        let fs = FsBlobStore::open(&data_dir.join("media"))?;
        let staging = fs.staging_dir();
        Self::open_with(data_dir, Arc::new(fs), staging)
    }

    /// Any blob store; the index, the secret and the staging directory stay local.
    pub fn open_with(
        data_dir: &Path,
        blobs: Arc<dyn BlobStore>,
        staging: PathBuf,
    ) -> Result<Self, MediaError> {
        let index = SqliteIndex::open(&data_dir.join("media.db"))?;
        let signer = UrlSigner::load_or_create(&data_dir.join("media.key"))?;
        Self::with_parts(blobs, Arc::new(index), signer, staging)
    }

    /// Every part chosen by the caller: a cluster passes a shared blob store, a shared
    /// index ([`crate::PgIndex`]) and a signer built from the shared secret. `staging`
    /// must be on the blob store's filesystem for a local one (installs rename).
    pub fn with_parts(
        blobs: Arc<dyn BlobStore>,
        index: Arc<dyn MediaIndex>,
        signer: UrlSigner,
        staging: PathBuf,
    ) -> Result<Self, MediaError> {
        std::fs::create_dir_all(&staging)?;
        Ok(MediaService {
            blobs,
            index,
            signer,
            staging,
            gc_lock: RwLock::new(()),
        })
    }

    /// Removes every staged file (at start, when no upload can be in progress).
    pub fn clear_staging(&self) -> Result<u64, MediaError> {
        sweep_staging(&self.staging, std::time::Duration::ZERO)
    }

    /// Starts an upload: a staged file that is removed unless ingested.
    pub fn upload(&self, opts: IngestOptions) -> Result<Upload, MediaError> {
        let (file, path) = tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(&self.staging)?
            .into_parts();
        Ok(Upload {
            file: tokio::fs::File::from_std(file),
            path,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::with_capacity(SNIFF_BYTES),
            sniffed: None,
            opts,
        })
    }

    pub async fn record(&self, media_id: &str) -> Result<Option<MediaRecord>, MediaError> {
        if !valid_media_id(media_id) {
            return Ok(None);
        }
        self.index.get(media_id).await
    }

    /// Finishes an upload and stores it; returns the new record.
    pub async fn ingest(
        &self,
        upload: Upload,
        uploader: &str,
        now: i64,
    ) -> Result<MediaRecord, MediaError> {
        let (mut path, sniffed, mut sha, mut size, opts) = upload.finish().await?;
        let mut rec = MediaRecord {
            media_id: new_media_id(),
            uploader: uploader.to_owned(),
            sha256: String::new(),
            mime: sniffed.mime.to_owned(),
            kind: if opts.as_document {
                Kind::Document
            } else {
                sniffed.kind
            },
            size,
            width: None,
            height: None,
            duration_ms: None,
            thumb_sha256: None,
            created_at: now,
        };
        let mut thumb = None;
        match sniffed.kind {
            Kind::Image => {
                let staging = self.staging.clone();
                let mime = sniffed.mime;
                let keep = opts.as_document;
                let src = path.to_path_buf();
                let (replaced, dims, t) = blocking(move || -> Result<_, MediaError> {
                    let bytes = std::fs::read(&src)?;
                    let cleaned = if keep {
                        None
                    } else {
                        imaging::strip_metadata(mime, &bytes)
                            .map_err(|why| MediaError::Unsupported(why.into()))?
                    };
                    let final_bytes = cleaned.as_deref().unwrap_or(&bytes);
                    let dims = imaging::dimensions(final_bytes);
                    let t = imaging::thumbnail(final_bytes);
                    let replaced = match cleaned {
                        Some(c) => {
                            let mut tmp = tempfile::Builder::new()
                                .prefix(".upload-")
                                .tempfile_in(&staging)?;
                            std::io::Write::write_all(&mut tmp, &c)?;
                            tmp.as_file().sync_all()?;
                            Some((
                                tmp.into_temp_path(),
                                hex::encode(Sha256::digest(&c)),
                                c.len() as u64,
                            ))
                        }
                        None => None,
                    };
                    Ok((replaced, dims, t))
                })
                .await??;
                if let Some((p, s, n)) = replaced {
                    path = p;
                    sha = s;
                    size = n;
                }
                if let Some((w, h)) = dims {
                    rec.width = Some(w);
                    rec.height = Some(h);
                }
                thumb = t;
                if thumb.is_none() && mime == "image/heic" {
                    // HEVC is not decoded in-process; ffmpeg may do it when present.
                    thumb = av::poster(&path).await;
                }
            }
            Kind::Video | Kind::Audio => {
                if let Some(info) = av::probe(&path).await {
                    rec.duration_ms = info.duration_ms;
                    rec.width = info.width;
                    rec.height = info.height;
                }
                if sniffed.kind == Kind::Video {
                    thumb = av::poster(&path).await;
                }
            }
            Kind::Document => {}
        }
        rec.sha256 = sha;
        rec.size = size;
        let _shared = self.gc_lock.read().await;
        if let Some(t) = thumb {
            let key = hex::encode(Sha256::digest(&t));
            self.blobs.put_bytes(&key, Bytes::from(t)).await?;
            rec.thumb_sha256 = Some(key);
        }
        self.blobs.put_file(&rec.sha256, path).await?;
        self.index.insert(&rec).await?;
        Ok(rec)
    }

    /// Removes uploads created before `now - 24 h` that were never sent in a chat,
    /// their blobs when no other record uses them, and stale staged files.
    /// With a shared index, only the node holding its GC lease collects records and
    /// blobs (the others skip that part of the pass); staged files are per node.
    pub async fn gc(&self, now: i64) -> Result<GcReport, MediaError> {
        let mut report = GcReport::default();
        if let Some(lease) = self.index.try_gc_lease().await? {
            let collected = self.collect(now, &mut report).await;
            lease.release().await;
            collected?;
        }
        let staging = self.staging.clone();
        report.staged_removed = blocking(move || sweep_staging(&staging, STAGING_TTL)).await??;
        Ok(report)
    }

    async fn collect(&self, now: i64, report: &mut GcReport) -> Result<(), MediaError> {
        let cutoff = now - UNREFERENCED_TTL_MS;
        loop {
            let batch = self.index.unreferenced_before(cutoff, 256).await?;
            if batch.is_empty() {
                break;
            }
            let _exclusive = self.gc_lock.write().await;
            for rec in &batch {
                self.index.delete(&rec.media_id).await?;
                report.media_removed += 1;
                for key in std::iter::once(&rec.sha256).chain(rec.thumb_sha256.as_ref()) {
                    if !self.index.blob_in_use(key).await? {
                        self.blobs.delete(key).await?;
                        report.blobs_removed += 1;
                    }
                }
            }
        }
        Ok(())
    }
}

fn sweep_staging(dir: &Path, older_than: std::time::Duration) -> Result<u64, MediaError> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= older_than);
        if old && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// An upload in progress. Dropping it (an aborted request) removes the staged file.
pub struct Upload {
    file: tokio::fs::File,
    path: TempPath,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    sniffed: Option<Sniffed>,
    opts: IngestOptions,
}

impl Upload {
    fn too_large(&self) -> MediaError {
        match self.sniffed {
            Some(s) => MediaError::TooLarge {
                kind: if self.opts.as_document {
                    "document"
                } else {
                    s.kind.as_str()
                },
                limit: sniff::limit_for(&s, self.opts.as_document),
            },
            None => MediaError::TooLarge {
                kind: "all",
                limit: MAX_UPLOAD,
            },
        }
    }

    fn limit(&self) -> u64 {
        self.sniffed
            .map(|s| sniff::limit_for(&s, self.opts.as_document))
            .unwrap_or(MAX_UPLOAD)
    }

    /// Appends a chunk; fails early on a refused type or once over the limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), MediaError> {
        self.size += chunk.len() as u64;
        if self.sniffed.is_none() && self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            if self.head.len() >= SNIFF_BYTES {
                self.sniffed = Some(sniff::sniff(&self.head, false)?);
            }
        }
        if self.size > self.limit() {
            return Err(self.too_large());
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    async fn finish(
        mut self,
    ) -> Result<(TempPath, Sniffed, String, u64, IngestOptions), MediaError> {
        let sniffed = match self.sniffed {
            Some(s) => s,
            None => sniff::sniff(&self.head, true)?,
        };
        self.sniffed = Some(sniffed);
        if self.size > self.limit() {
            return Err(self.too_large());
        }
        self.file.flush().await?;
        self.file.sync_all().await?;
        let sha = hex::encode(self.hasher.finalize());
        Ok((self.path, sniffed, sha, self.size, self.opts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn upload(svc: &MediaService, data: &[u8], doc: bool) -> Result<MediaRecord, MediaError> {
        let mut up = svc.upload(IngestOptions { as_document: doc })?;
        for chunk in data.chunks(1000) {
            up.write(chunk).await?;
        }
        svc.ingest(up, "u1", 1_000).await
    }

    fn staged_count(dir: &Path) -> usize {
        std::fs::read_dir(dir.join("media/tmp"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn ingest_dedup_and_gc() {
        let dir = tempfile::tempdir().expect("tempdir");
        let svc = MediaService::open_local(dir.path()).expect("open");
        let a = upload(&svc, b"%PDF-1.4\nhello", false).await.expect("pdf");
        let b = upload(&svc, b"%PDF-1.4\nhello", false)
            .await
            .expect("pdf again");
        assert_ne!(a.media_id, b.media_id);
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(a.mime, "application/pdf");
        assert_eq!(staged_count(dir.path()), 0);
        svc.index
            .add_ref(&b.media_id, "chat", 2_000)
            .await
            .expect("ref");
        // Not yet 24 h old: nothing goes.
        assert_eq!(
            svc.gc(1_000 + 3_600_000).await.expect("gc").media_removed,
            0
        );
        let r = svc.gc(1_000 + UNREFERENCED_TTL_MS + 1).await.expect("gc");
        assert_eq!(
            (r.media_removed, r.blobs_removed),
            (1, 0),
            "b still uses the blob"
        );
        assert!(svc.record(&a.media_id).await.expect("get").is_none());
        assert!(svc.blobs.size(&b.sha256).await.expect("size").is_some());
    }

    #[tokio::test]
    async fn refused_uploads_leave_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let svc = MediaService::open_local(dir.path()).expect("open");
        let err = upload(&svc, b"\x7fELF\x02\x01\x01\0\0\0", false)
            .await
            .err();
        assert_eq!(err.map(|e| e.status()), Some(415));
        let mut big = vec![0xffu8, 0xd8, 0xff, 0xe0];
        big.resize(17 * 1024 * 1024, 0);
        let err = upload(&svc, &big, false).await.err();
        assert_eq!(err.map(|e| e.code()), Some("media_too_large"));
        let err = upload(&svc, b"", false).await.err();
        assert_eq!(err.map(|e| e.code()), Some("empty_upload"));
        assert_eq!(staged_count(dir.path()), 0);
    }
}
