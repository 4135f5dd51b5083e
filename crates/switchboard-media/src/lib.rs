//! Media for Switchboard (protocol v1 section 4): one service that both the consumer
//! API and the business API use.
//!
//! - [`blob`]: the [`BlobStore`] trait, content-addressed by SHA-256, with a local
//!   filesystem store (temp file, fsync, rename) and an S3-compatible one (feature `s3`).
//! - [`sniff`]: the type of an upload from its magic bytes, the allowed and denied lists
//!   and the per-kind size limits.
//! - [`imaging`] and [`av`]: image dimensions, thumbnails and metadata removal; video and
//!   audio probing through `ffprobe`/`ffmpeg` when present; [`heif`]: HEIC/HEIF
//!   structure, size and in-place removal of EXIF and XMP items.
//! - [`index`]: the [`MediaIndex`] trait (media records and the chats they were sent in)
//!   with an SQLite implementation in `<data_dir>/media.db`, and (feature `postgres`)
//!   [`pg::PgIndex`], shared by every node of a cluster.
//! - [`service`]: [`MediaService`], which streams uploads to staging, ingests them,
//!   checks access and collects garbage; [`sign`]: short-lived signed URLs.

pub mod av;
pub mod blob;
pub mod error;
pub mod heif;
pub mod imaging;
pub mod index;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod service;
pub mod sign;
pub mod sniff;

pub use blob::{BlobStore, ByteStream, FsBlobStore};
pub use error::MediaError;
pub use index::{GcLease, MediaIndex, MediaRecord, SqliteIndex};
#[cfg(feature = "postgres")]
pub use pg::PgIndex;
pub use service::{GcReport, IngestOptions, MediaService, Upload};
pub use sniff::{Kind, Sniffed};

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
