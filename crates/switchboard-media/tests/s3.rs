//! `S3BlobStore` against a real S3-compatible endpoint: `moto_server`, installed into
//! `.venv-test` by `scripts/setup`. Without it the test is skipped, unless `CI` is set.
#![cfg(feature = "s3")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use switchboard_media::MediaError;
use switchboard_media::blob::{BlobStore, S3BlobStore, S3Config, stage_bytes};

const BUCKET: &str = "switchboard-test";

fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A running `moto_server`, killed on drop.
struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts `moto_server` on a free loopback port; `None` if it is not installed
    /// (and `CI` is unset: there it must be).
    fn start() -> Option<Moto> {
        let bin =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv-test/bin/moto_server");
        if !bin.exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is missing: run scripts/setup",
                bin.display()
            );
            eprintln!("skipped: no moto_server");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let mut moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((status, _)) = moto.request("GET", "/") {
                assert_eq!(status, 200, "moto_server answers GET /");
                return Some(moto);
            }
            if let Some(exit) = moto.child.try_wait().expect("moto_server status") {
                panic!("moto_server exited: {exit}");
            }
            assert!(Instant::now() < deadline, "moto_server did not answer");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A bare HTTP/1.1 request (moto does not check signatures): status and body.
    fn request(&self, method: &str, path: &str) -> std::io::Result<(u16, String)> {
        let mut conn = TcpStream::connect(("127.0.0.1", self.port))?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            conn,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )?;
        let mut response = String::new();
        conn.read_to_string(&mut response)?;
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad response {response:?}")))?;
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// Multipart uploads started and neither completed nor aborted.
    fn pending_uploads(&self) -> usize {
        let (status, body) = self
            .request("GET", &format!("/{BUCKET}?uploads"))
            .expect("list multipart uploads");
        assert_eq!(status, 200, "{body}");
        body.matches("<Upload>").count()
    }

    fn store(&self, prefix: &str) -> S3BlobStore {
        S3BlobStore::new(&S3Config {
            endpoint: Some(self.endpoint()),
            region: "us-east-1".into(),
            bucket: BUCKET.into(),
            prefix: prefix.into(),
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            allow_http: true,
        })
        .expect("S3 store")
    }
}

async fn read_all(store: &S3BlobStore, key: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let chunks: Vec<Bytes> = store
        .read(key, range)
        .await
        .expect("read")
        .try_collect()
        .await
        .expect("stream");
    chunks.concat()
}

#[tokio::test]
async fn s3_blob_store_contract() {
    let Some(moto) = Moto::start() else { return };
    let (status, body) = moto
        .request("PUT", &format!("/{BUCKET}"))
        .expect("create bucket");
    assert_eq!(status, 200, "create bucket: {body}");
    let store = moto.store("/media/");
    assert!(store.describe().contains(BUCKET));
    let staging = tempfile::tempdir().expect("tempdir");

    // Large enough for a real multipart upload (parts of 5 MiB).
    let data: Vec<u8> = (0..11 * 1024 * 1024 + 123u32)
        .map(|i| (i % 251) as u8)
        .collect();
    let key = sha(&data);
    assert_eq!(store.size(&key).await.expect("size"), None);
    assert!(matches!(
        store.read(&key, None).await.err(),
        Some(MediaError::NotFound)
    ));

    let staged = stage_bytes(staging.path(), &data).await.expect("stage");
    let staged_path = staged.to_path_buf();
    store.put_file(&key, staged).await.expect("put");
    assert!(!staged_path.exists(), "the staged file is consumed");
    assert_eq!(
        store.size(&key).await.expect("size"),
        Some(data.len() as u64)
    );
    // Stored content-addressed, under the prefix.
    let (status, _) = moto
        .request("HEAD", &format!("/{BUCKET}/media/{}/{key}", &key[..2]))
        .expect("head");
    assert_eq!(status, 200);

    assert!(read_all(&store, &key, None).await == data, "full read");
    // A range spanning the boundary between the first two parts.
    let boundary = 5 * 1024 * 1024;
    let range = boundary - 1000..boundary + 70_000;
    assert!(
        read_all(&store, &key, Some(range.clone())).await
            == data[range.start as usize..range.end as usize],
        "range read"
    );
    assert_eq!(read_all(&store, &key, Some(0..1)).await, &data[..1]);

    // The same content again: one object, the staged file still consumed.
    let again = stage_bytes(staging.path(), &data).await.expect("stage");
    let again_path = again.to_path_buf();
    store.put_file(&key, again).await.expect("put again");
    assert!(!again_path.exists());
    assert_eq!(
        store.size(&key).await.expect("size"),
        Some(data.len() as u64)
    );
    assert_eq!(moto.pending_uploads(), 0);

    // Small bytes (thumbnails), twice.
    let thumb = Bytes::from_static(b"a small thumbnail");
    let thumb_key = sha(&thumb);
    store
        .put_bytes(&thumb_key, thumb.clone())
        .await
        .expect("put bytes");
    store
        .put_bytes(&thumb_key, thumb.clone())
        .await
        .expect("put bytes again");
    assert_eq!(read_all(&store, &thumb_key, None).await, thumb);
    assert_eq!(read_all(&store, &thumb_key, Some(2..7)).await, &thumb[2..7]);

    // Another prefix is another namespace.
    let other = moto.store("");
    assert_eq!(other.size(&thumb_key).await.expect("size"), None);

    // Delete, idempotently.
    store.delete(&key).await.expect("delete");
    store.delete(&key).await.expect("delete is idempotent");
    assert_eq!(store.size(&key).await.expect("size"), None);
    assert!(matches!(
        store.read(&key, None).await.err(),
        Some(MediaError::NotFound)
    ));
    assert!(store.size(&thumb_key).await.expect("size").is_some());

    // Keys are digests only.
    assert!(store.size("../../etc/passwd").await.is_err());
    assert!(store.size(&"A".repeat(64)).await.is_err());
}

#[tokio::test]
async fn s3_failed_write_leaves_no_object() {
    let Some(moto) = Moto::start() else { return };
    let (status, body) = moto
        .request("PUT", &format!("/{BUCKET}"))
        .expect("create bucket");
    assert_eq!(status, 200, "create bucket: {body}");
    let store = moto.store("media");
    let staging = tempfile::tempdir().expect("tempdir");

    // A "staged file" that opens but cannot be read (a directory): the upload has
    // started when reading fails, and must be aborted.
    let dir = staging.path().join("not-a-file");
    std::fs::create_dir(&dir).expect("mkdir");
    let key = sha(b"never stored");
    let err = store
        .put_file(&key, tempfile::TempPath::try_from_path(&dir).expect("path"))
        .await
        .expect_err("reading the staged file fails");
    assert!(matches!(err, MediaError::Io(_)), "{err:?}");
    assert_eq!(store.size(&key).await.expect("size"), None);
    assert_eq!(moto.pending_uploads(), 0, "the multipart upload is aborted");

    // A staged file that vanished: nothing is started.
    let gone = staging.path().join("gone");
    let err = store
        .put_file(
            &key,
            tempfile::TempPath::try_from_path(&gone).expect("path"),
        )
        .await
        .expect_err("no staged file");
    assert!(matches!(err, MediaError::Io(_)), "{err:?}");
    assert_eq!(store.size(&key).await.expect("size"), None);
    assert_eq!(moto.pending_uploads(), 0);
}
