//! Blob storage behind a trait, content-addressed by lowercase hex SHA-256: identical
//! uploads are stored once.
//!
//! [`FsBlobStore`] is the embedded default. Blobs live at `blobs/ab/abcd…` and are only
//! ever created by renaming a complete, fsynced file from `tmp/` (then fsyncing the
//! directory), so a crash never leaves a half-written file under a blob's name; files
//! left in `tmp/` are swept at start and by the garbage collector.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use futures_util::stream::BoxStream;
use tempfile::TempPath;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::MediaError;

/// A blob's bytes as a stream of chunks.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// Chunk size for reads.
const READ_CHUNK: usize = 64 * 1024;

/// Content-addressed storage. Keys are 64 lowercase hex characters (SHA-256).
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores a complete, already fsynced staged file under `sha256`, consuming it.
    /// Storing a key that exists keeps the existing blob (same content).
    async fn put_file(&self, sha256: &str, staged: TempPath) -> Result<(), MediaError>;
    /// Stores small bytes (thumbnails) under `sha256`.
    async fn put_bytes(&self, sha256: &str, data: Bytes) -> Result<(), MediaError>;
    /// The size of a blob, or `None` if absent.
    async fn size(&self, sha256: &str) -> Result<Option<u64>, MediaError>;
    /// The blob's bytes, or only `range` of them (which must lie within the blob).
    async fn read(&self, sha256: &str, range: Option<Range<u64>>)
    -> Result<ByteStream, MediaError>;
    /// Removes a blob; removing an absent one is not an error.
    async fn delete(&self, sha256: &str) -> Result<(), MediaError>;
    /// For logs: where blobs are kept.
    fn describe(&self) -> String;
}

/// Refuses anything but a SHA-256 hex digest as a key (no path tricks).
pub fn check_key(key: &str) -> Result<(), MediaError> {
    if key.len() == 64
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(MediaError::Backend(format!("invalid blob key {key:?}")))
    }
}

/// Blobs in a local directory.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// Opens (creating) a store under `root`: `root/blobs` and `root/tmp`.
    pub fn open(root: &Path) -> Result<Self, MediaError> {
        std::fs::create_dir_all(root.join("blobs"))?;
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(FsBlobStore {
            root: root.to_owned(),
        })
    }

    /// Where uploads are staged: on the same filesystem, so a blob is one rename away.
    pub fn staging_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The final path of a blob.
    pub fn path_of(&self, sha256: &str) -> Result<PathBuf, MediaError> {
        check_key(sha256)?;
        Ok(self.root.join("blobs").join(&sha256[..2]).join(sha256))
    }
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Moves a complete staged file to its final name: the rename is atomic, and the
/// directory is fsynced so the name survives a crash.
fn install(staged: TempPath, dest: &Path) -> Result<(), MediaError> {
    if dest.exists() {
        return Ok(()); // same content already stored; `staged` is removed on drop
    }
    let dir = dest
        .parent()
        .ok_or_else(|| MediaError::Backend("a blob path has a parent".into()))?;
    std::fs::create_dir_all(dir)?;
    staged
        .persist(dest)
        .map_err(|e| MediaError::from(e.error))?;
    fsync_dir(dir)?;
    Ok(())
}

#[async_trait::async_trait]
impl BlobStore for FsBlobStore {
    async fn put_file(&self, sha256: &str, staged: TempPath) -> Result<(), MediaError> {
        let dest = self.path_of(sha256)?;
        tokio::task::spawn_blocking(move || install(staged, &dest))
            .await
            .map_err(|e| MediaError::Backend(format!("blob task failed: {e}")))?
    }

    async fn put_bytes(&self, sha256: &str, data: Bytes) -> Result<(), MediaError> {
        let dest = self.path_of(sha256)?;
        let staging = self.staging_dir();
        tokio::task::spawn_blocking(move || {
            if dest.exists() {
                return Ok(());
            }
            let mut tmp = tempfile::Builder::new()
                .prefix(".blob-")
                .tempfile_in(&staging)?;
            io::Write::write_all(&mut tmp, &data)?;
            tmp.as_file().sync_all()?;
            install(tmp.into_temp_path(), &dest)
        })
        .await
        .map_err(|e| MediaError::Backend(format!("blob task failed: {e}")))?
    }

    async fn size(&self, sha256: &str) -> Result<Option<u64>, MediaError> {
        match tokio::fs::metadata(self.path_of(sha256)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn read(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, MediaError> {
        let mut file = match tokio::fs::File::open(self.path_of(sha256)?).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(MediaError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let remaining = match range {
            Some(r) => {
                file.seek(io::SeekFrom::Start(r.start)).await?;
                r.end.saturating_sub(r.start)
            }
            None => file.metadata().await?.len(),
        };
        Ok(file_stream(file, remaining))
    }

    async fn delete(&self, sha256: &str) -> Result<(), MediaError> {
        match tokio::fs::remove_file(self.path_of(sha256)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn describe(&self) -> String {
        format!("filesystem at {}", self.root.display())
    }
}

/// `remaining` bytes of `file` from its current position, in chunks.
pub fn file_stream(file: tokio::fs::File, remaining: u64) -> ByteStream {
    Box::pin(futures_util::stream::unfold(
        (file, remaining),
        |(mut file, remaining)| async move {
            if remaining == 0 {
                return None;
            }
            let want = remaining.min(READ_CHUNK as u64) as usize;
            let mut buf = BytesMut::with_capacity(want);
            match (&mut file).take(want as u64).read_buf(&mut buf).await {
                Ok(0) => Some((
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "blob shorter than expected",
                    )),
                    (file, 0),
                )),
                Ok(n) => Some((Ok(buf.freeze()), (file, remaining - n as u64))),
                Err(e) => Some((Err(e), (file, 0))),
            }
        },
    ))
}

/// Writes `data` to a new staged file (fsynced) in `dir`.
pub async fn stage_bytes(dir: &Path, data: &[u8]) -> Result<TempPath, MediaError> {
    let (file, path) = tempfile::Builder::new()
        .prefix(".upload-")
        .tempfile_in(dir)?
        .into_parts();
    let mut file = tokio::fs::File::from_std(file);
    file.write_all(data).await?;
    file.sync_all().await?;
    Ok(path)
}

#[cfg(feature = "s3")]
pub use s3::{S3BlobStore, S3Config};

#[cfg(feature = "s3")]
mod s3 {
    //! S3-compatible object storage through `object_store` (AWS S3, MinIO, R2, …).

    use super::*;
    use futures_util::{StreamExt, TryStreamExt};
    use object_store::aws::{AmazonS3, AmazonS3Builder};
    use object_store::path::Path as ObjectPath;
    use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};

    /// An explicit S3 configuration for [`S3BlobStore::new`] (e.g. MinIO or a test server).
    #[derive(Debug, Clone)]
    pub struct S3Config {
        /// `https://host:port` of an S3-compatible service; `None` for AWS itself.
        /// Requests use path-style addressing (`endpoint/bucket/key`).
        pub endpoint: Option<String>,
        pub region: String,
        pub bucket: String,
        /// Keys are `prefix/ab/abcd…` (or `ab/abcd…` when empty).
        pub prefix: String,
        pub access_key_id: String,
        pub secret_access_key: String,
        /// Permits a plain `http://` endpoint.
        pub allow_http: bool,
    }

    /// Blobs in an S3 bucket, under `prefix/ab/abcd…`.
    #[derive(Debug)]
    pub struct S3BlobStore {
        store: AmazonS3,
        prefix: String,
        bucket: String,
    }

    fn backend(e: object_store::Error) -> MediaError {
        match e {
            object_store::Error::NotFound { .. } => MediaError::NotFound,
            other => MediaError::Backend(other.to_string()),
        }
    }

    impl S3BlobStore {
        /// Credentials, region and endpoint come from the standard `AWS_*` variables.
        pub fn from_env(bucket: &str, prefix: &str) -> Result<Self, MediaError> {
            Self::build(AmazonS3Builder::from_env(), bucket, prefix)
        }

        /// Everything from `config`; the `AWS_*` variables are not read.
        pub fn new(config: &S3Config) -> Result<Self, MediaError> {
            let mut builder = AmazonS3Builder::new()
                .with_region(&config.region)
                .with_access_key_id(&config.access_key_id)
                .with_secret_access_key(&config.secret_access_key)
                .with_allow_http(config.allow_http);
            if let Some(endpoint) = &config.endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            Self::build(builder, &config.bucket, &config.prefix)
        }

        fn build(builder: AmazonS3Builder, bucket: &str, prefix: &str) -> Result<Self, MediaError> {
            let store = builder.with_bucket_name(bucket).build().map_err(backend)?;
            Ok(S3BlobStore {
                store,
                prefix: prefix.trim_matches('/').to_owned(),
                bucket: bucket.to_owned(),
            })
        }

        fn key(&self, sha256: &str) -> Result<ObjectPath, MediaError> {
            check_key(sha256)?;
            let key = if self.prefix.is_empty() {
                format!("{}/{sha256}", &sha256[..2])
            } else {
                format!("{}/{}/{sha256}", self.prefix, &sha256[..2])
            };
            Ok(ObjectPath::from(key))
        }
    }

    #[async_trait::async_trait]
    impl BlobStore for S3BlobStore {
        async fn put_file(&self, sha256: &str, staged: TempPath) -> Result<(), MediaError> {
            let key = self.key(sha256)?;
            if self.size(sha256).await?.is_some() {
                return Ok(());
            }
            let mut file = tokio::fs::File::open(&staged).await?;
            // A multipart upload only becomes visible when completed: no half objects.
            let upload = self.store.put_multipart(&key).await.map_err(backend)?;
            let mut writer = WriteMultipart::new(upload);
            let mut buf = vec![0u8; 1024 * 1024];
            let copied: Result<(), MediaError> = async {
                loop {
                    let n = file.read(&mut buf).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    writer.wait_for_capacity(8).await.map_err(backend)?;
                    writer.write(&buf[..n]);
                }
            }
            .await;
            if let Err(e) = copied {
                // Discard the parts already uploaded (they would be kept, and billed).
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(key = %key, error = %abort, "aborting an S3 upload failed");
                }
                return Err(e);
            }
            // `finish` aborts the upload itself when it fails.
            writer.finish().await.map_err(backend)?;
            drop(staged);
            Ok(())
        }

        async fn put_bytes(&self, sha256: &str, data: Bytes) -> Result<(), MediaError> {
            let key = self.key(sha256)?;
            self.store.put(&key, data.into()).await.map_err(backend)?;
            Ok(())
        }

        async fn size(&self, sha256: &str) -> Result<Option<u64>, MediaError> {
            match self.store.head(&self.key(sha256)?).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(backend(e)),
            }
        }

        async fn read(
            &self,
            sha256: &str,
            range: Option<Range<u64>>,
        ) -> Result<ByteStream, MediaError> {
            let opts = GetOptions {
                range: range.map(GetRange::Bounded),
                ..Default::default()
            };
            let got = self
                .store
                .get_opts(&self.key(sha256)?, opts)
                .await
                .map_err(backend)?;
            Ok(got
                .into_stream()
                .map_err(|e| io::Error::other(e.to_string()))
                .boxed())
        }

        async fn delete(&self, sha256: &str) -> Result<(), MediaError> {
            match self.store.delete(&self.key(sha256)?).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(backend(e)),
            }
        }

        fn describe(&self) -> String {
            format!("s3 bucket {} prefix {:?}", self.bucket, self.prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;
    use sha2::{Digest, Sha256};

    fn sha(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    fn all_files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(all_files(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[tokio::test]
    async fn put_read_range_delete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FsBlobStore::open(dir.path()).expect("open");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let key = sha(&data);
        let staged = stage_bytes(&store.staging_dir(), &data)
            .await
            .expect("stage");
        store.put_file(&key, staged).await.expect("put");
        assert_eq!(
            store.size(&key).await.expect("size"),
            Some(data.len() as u64)
        );
        let all: Vec<Bytes> = store
            .read(&key, None)
            .await
            .expect("read")
            .try_collect()
            .await
            .expect("stream");
        assert_eq!(all.concat(), data);
        let part: Vec<Bytes> = store
            .read(&key, Some(100..70_000))
            .await
            .expect("read")
            .try_collect()
            .await
            .expect("stream");
        assert_eq!(part.concat(), &data[100..70_000]);
        // Storing the same content again keeps one blob and leaves no staged file.
        let again = stage_bytes(&store.staging_dir(), &data)
            .await
            .expect("stage");
        store.put_file(&key, again).await.expect("put again");
        assert_eq!(all_files(dir.path()).len(), 1);
        store.delete(&key).await.expect("delete");
        store.delete(&key).await.expect("delete is idempotent");
        assert_eq!(store.size(&key).await.expect("size"), None);
        assert!(matches!(
            store.read(&key, None).await.err(),
            Some(MediaError::NotFound)
        ));
    }

    #[tokio::test]
    async fn staged_files_are_never_blobs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FsBlobStore::open(dir.path()).expect("open");
        let data = b"half of a file".to_vec();
        let key = sha(&data);
        // A staged file that was never installed (a crash or an aborted upload) is not
        // visible under any blob name, and is removed when dropped.
        let staged = stage_bytes(&store.staging_dir(), &data)
            .await
            .expect("stage");
        assert_eq!(store.size(&key).await.expect("size"), None);
        let staged_path = staged.to_path_buf();
        assert!(staged_path.starts_with(store.staging_dir()));
        drop(staged);
        assert!(!staged_path.exists());
        assert!(all_files(dir.path()).is_empty());
        // Keys are digests only.
        assert!(store.path_of("../../etc/passwd").is_err());
        assert!(store.size(&"A".repeat(64)).await.is_err());
    }
}
