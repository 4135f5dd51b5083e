//! The media error type. Each variant maps to one HTTP status and a stable code, so
//! both APIs answer the same way; internal failures carry their cause for the log.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{kind} files are limited to {} MiB", limit / (1024 * 1024))]
    TooLarge { kind: &'static str, limit: u64 },
    #[error("unsupported file type: {0}")]
    Unsupported(String),
    #[error("executable files cannot be sent: {0}")]
    Dangerous(String),
    #[error("the upload is empty")]
    Empty,
    #[error("media not found")]
    NotFound,
    #[error("the upload was interrupted: {0}")]
    Aborted(String),
    #[error("storage is full; try again later")]
    StorageFull,
    #[error("storage i/o: {0}")]
    Io(#[source] io::Error),
    #[error("media index: {0}")]
    Index(String),
    #[error("blob store: {0}")]
    Backend(String),
}

impl MediaError {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::TooLarge { .. } => "media_too_large",
            MediaError::Unsupported(_) => "unsupported_media_type",
            MediaError::Dangerous(_) => "dangerous_media_type",
            MediaError::Empty => "empty_upload",
            MediaError::NotFound => "not_found",
            MediaError::Aborted(_) => "upload_aborted",
            MediaError::StorageFull => "storage_full",
            MediaError::Io(_) | MediaError::Index(_) | MediaError::Backend(_) => "internal",
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            MediaError::TooLarge { .. } => 413,
            MediaError::Unsupported(_) | MediaError::Dangerous(_) => 415,
            MediaError::Empty | MediaError::Aborted(_) => 400,
            MediaError::NotFound => 404,
            MediaError::StorageFull => 507,
            MediaError::Io(_) | MediaError::Index(_) | MediaError::Backend(_) => 500,
        }
    }
}

impl From<io::Error> for MediaError {
    fn from(e: io::Error) -> Self {
        // ENOSPC and EDQUOT: a clear answer instead of "internal error".
        if matches!(e.raw_os_error(), Some(28) | Some(122))
            || e.kind() == io::ErrorKind::StorageFull
            || e.kind() == io::ErrorKind::QuotaExceeded
        {
            return MediaError::StorageFull;
        }
        MediaError::Io(e)
    }
}

impl From<rusqlite::Error> for MediaError {
    fn from(e: rusqlite::Error) -> Self {
        MediaError::Index(e.to_string())
    }
}
