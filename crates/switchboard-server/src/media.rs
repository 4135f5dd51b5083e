//! Media over HTTP (protocol v1 section 4), on top of [`switchboard_media::MediaService`].
//!
//! - `POST /v1/media[?document=true]`: the raw bytes, streamed to a staged file (never
//!   held in memory), typed by content; answers the media record.
//! - `GET /v1/media/{id}` and `GET /v1/media/{id}/thumbnail`: the bytes with `ETag`
//!   (the SHA-256), `If-None-Match` (304), `Range` (206/416) and `Cache-Control`.
//!   Authorised by the bearer token (the uploader, or a member of a chat the media was
//!   sent in; anyone else gets 404) or by a signed URL (`?exp=&sig=`).
//! - `GET /v1/media/{id}/info`: the record without the bytes.
//! - `POST /v1/media/{id}/link`: short-lived signed URLs for `<img>`/`<video>` tags.
//!
//! Sending a media message ([`authorize_send`], called by the live connection) records
//! the chat reference before the message is appended; that reference is what grants
//! the chat's members access and keeps the upload from garbage collection.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde::Deserialize;
use switchboard_media::service::valid_media_id;
use switchboard_media::sign::UrlSigner;
use switchboard_media::sniff::MAX_UPLOAD;
use switchboard_media::{
    BlobStore, FsBlobStore, IngestOptions, Kind, MediaError, MediaRecord, MediaService, PgIndex,
};
use switchboard_proto::http::{MediaInfo, MediaLink};

use crate::auth::{self, Authed};
use crate::config::Config;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::{Clock, SharedState};

/// How long a signed URL stays valid.
pub const LINK_TTL_SECS: i64 = 600;
/// How often the server collects unreferenced uploads.
pub const GC_INTERVAL: Duration = Duration::from_secs(3600);

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/media", post(upload))
        .route("/v1/media/{media_id}", get(download))
        .route("/v1/media/{media_id}/thumbnail", get(thumbnail))
        .route("/v1/media/{media_id}/info", get(info))
        .route("/v1/media/{media_id}/link", post(link))
}

/// Opens the media service under `data_dir` without a config file (`admin gc`).
/// Blobs go to the local filesystem unless `SWITCHBOARD_MEDIA_S3_BUCKET` is set (with
/// the standard `AWS_*` variables, and `SWITCHBOARD_MEDIA_S3_PREFIX` optionally), which
/// needs a build with feature `s3`. A serving node uses [`open_node`] and its config.
pub fn open(data_dir: &Path) -> Result<MediaService, MediaError> {
    let bucket = std::env::var("SWITCHBOARD_MEDIA_S3_BUCKET").ok();
    let prefix = std::env::var("SWITCHBOARD_MEDIA_S3_PREFIX").unwrap_or_default();
    let (blobs, staging) = blob_store(
        data_dir,
        &data_dir.join("media"),
        bucket.as_deref(),
        &prefix,
    )?;
    MediaService::open_with(data_dir, blobs, staging)
}

/// The blob store and its staging directory: `media_dir` on the local filesystem, or
/// S3 when a bucket is given (staging then under `data_dir`).
#[cfg_attr(not(feature = "s3"), expect(unused_variables))]
fn blob_store(
    data_dir: &Path,
    media_dir: &Path,
    s3_bucket: Option<&str>,
    s3_prefix: &str,
) -> Result<(Arc<dyn BlobStore>, PathBuf), MediaError> {
    match s3_bucket.filter(|b| !b.is_empty()) {
        None => {
            let fs = FsBlobStore::open(media_dir)?;
            let staging = fs.staging_dir();
            Ok((Arc::new(fs), staging))
        }
        #[cfg(feature = "s3")]
        Some(bucket) => {
            let store = switchboard_media::blob::S3BlobStore::from_env(bucket, s3_prefix)?;
            Ok((Arc::new(store), data_dir.join("media/tmp")))
        }
        #[cfg(not(feature = "s3"))]
        Some(_) => Err(MediaError::Backend(
            "an S3 bucket is configured for media but this build has no S3 support; build with --features s3".into(),
        )),
    }
}

/// Opens media for a serving node: blobs in `config.media_dir`, or in S3 when
/// `config.media_s3_bucket` is set (`[media] s3_bucket`, or the environment).
/// With `shared` (a cluster on PostgreSQL) the index and the URL secret come from the
/// database, so every node sees every upload and verifies every signed link; the
/// blobs must then be shared too (S3, or one filesystem mounted at `media_dir` on
/// every node). Without it, both are kept under `data_dir` as before.
pub async fn open_node(
    config: &Config,
    shared: Option<PgIndex>,
) -> Result<MediaService, MediaError> {
    let (blobs, staging) = blob_store(
        &config.data_dir,
        &config.media_dir,
        config.media_s3_bucket.as_deref(),
        &config.media_s3_prefix,
    )?;
    match shared {
        None => MediaService::open_with(&config.data_dir, blobs, staging),
        Some(index) => {
            let signer = UrlSigner::new(index.shared_secret().await?);
            MediaService::with_parts(blobs, Arc::new(index), signer, staging)
        }
    }
}

/// The hourly garbage collection, owned (and aborted) by `run`.
pub fn spawn_gc(media: Arc<MediaService>, clock: Clock) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(GC_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match media.gc(clock()).await {
                Ok(r) if r.media_removed + r.staged_removed > 0 => tracing::info!(
                    media = r.media_removed,
                    blobs = r.blobs_removed,
                    staged = r.staged_removed,
                    "media garbage collected"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "media garbage collection failed"),
            }
        }
    })
}

/// A media error as an API error (internal ones are logged, not shown).
pub fn api_error(e: MediaError) -> ApiError {
    match StatusCode::from_u16(e.status()) {
        Ok(s) if !s.is_server_error() || s == StatusCode::INSUFFICIENT_STORAGE => {
            ApiError::new(s, e.code(), e.to_string())
        }
        _ => ApiError::internal(&e),
    }
}

fn media_not_found() -> ApiError {
    ApiError::not_found("media not found")
}

fn media_info(r: &MediaRecord) -> MediaInfo {
    MediaInfo {
        media_id: r.media_id.clone(),
        mime_type: r.mime.clone(),
        kind: r.kind.as_str().to_owned(),
        size: r.size,
        sha256: r.sha256.clone(),
        width: r.width,
        height: r.height,
        duration_ms: r.duration_ms,
        has_thumbnail: r.thumb_sha256.is_some(),
        created_at: r.created_at,
    }
}

#[derive(Deserialize)]
struct UploadQuery {
    /// Send as a document: the original bytes (metadata included) are kept.
    #[serde(default)]
    document: bool,
}

async fn upload(
    State(state): State<SharedState>,
    auth: Authed,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<ApiJson<MediaInfo>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_request", e.body_text()))?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD) {
        return Err(api_error(MediaError::TooLarge {
            kind: "all",
            limit: MAX_UPLOAD,
        }));
    }
    let mut up = state
        .media
        .upload(IngestOptions {
            as_document: q.document,
        })
        .map_err(api_error)?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        // An aborted or truncated request ends here; dropping `up` removes the file.
        let chunk = chunk.map_err(|e| api_error(MediaError::Aborted(e.to_string())))?;
        up.write(&chunk).await.map_err(api_error)?;
    }
    let rec = state
        .media
        .ingest(up, &auth.user_id, state.now())
        .await
        .map_err(api_error)?;
    metrics::counter!("switchboard_media_uploads_total").increment(1);
    metrics::counter!("switchboard_media_upload_bytes_total").increment(rec.size);
    Ok(ApiJson(media_info(&rec)))
}

/// Whether `user_id` may fetch `rec`: its uploader, or a member of a chat it was sent in.
pub async fn may_access(state: &SharedState, user_id: &str, rec: &MediaRecord) -> ApiResult<bool> {
    if rec.uploader == user_id {
        return Ok(true);
    }
    for chat_id in state
        .media
        .index
        .chats(&rec.media_id)
        .await
        .map_err(api_error)?
    {
        if let Some(chat) = state.store.chat(&chat_id).await?
            && chat.is_member(user_id)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The record if `user_id` may see it; `404` otherwise (existence is not revealed).
async fn accessible(state: &SharedState, user_id: &str, media_id: &str) -> ApiResult<MediaRecord> {
    match state.media.record(media_id).await.map_err(api_error)? {
        Some(rec) if may_access(state, user_id, &rec).await? => Ok(rec),
        _ => Err(media_not_found()),
    }
}

/// Checks a `send` of a media body and records the chat reference, before the append:
/// the media must exist and the sender must be allowed to use it (its uploader, or
/// someone who received it in a chat: forwarding needs no new upload).
pub async fn authorize_send(
    state: &SharedState,
    sender: &str,
    chat_id: &str,
    media_id: &str,
) -> ApiResult<()> {
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "media_not_found",
            "media not found; upload it with POST /v1/media first",
        )
    };
    let rec = state
        .media
        .record(media_id)
        .await
        .map_err(api_error)?
        .ok_or_else(unknown)?;
    if !may_access(state, sender, &rec).await? {
        return Err(unknown());
    }
    match state.store.chat(chat_id).await? {
        Some(chat) if chat.is_member(sender) => {}
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_a_member",
                "not a member of this chat",
            ));
        }
    }
    state
        .media
        .index
        .add_ref(media_id, chat_id, state.now())
        .await
        .map_err(api_error)
}

#[derive(Deserialize, Default)]
struct FetchQuery {
    exp: Option<i64>,
    sig: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    File,
    Thumbnail,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::File => "file",
            Variant::Thumbnail => "thumbnail",
        }
    }
}

async fn download(
    State(state): State<SharedState>,
    UrlPath(media_id): UrlPath<String>,
    query: Result<Query<FetchQuery>, QueryRejection>,
    parts: Parts,
) -> Response {
    serve(&state, &media_id, Variant::File, query, &parts)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn thumbnail(
    State(state): State<SharedState>,
    UrlPath(media_id): UrlPath<String>,
    query: Result<Query<FetchQuery>, QueryRejection>,
    parts: Parts,
) -> Response {
    serve(&state, &media_id, Variant::Thumbnail, query, &parts)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn info(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(media_id): UrlPath<String>,
) -> ApiResult<ApiJson<MediaInfo>> {
    let rec = accessible(&state, &auth.user_id, &media_id).await?;
    Ok(ApiJson(media_info(&rec)))
}

async fn link(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(media_id): UrlPath<String>,
) -> ApiResult<ApiJson<MediaLink>> {
    let rec = accessible(&state, &auth.user_id, &media_id).await?;
    let exp = state.now() / 1000 + LINK_TTL_SECS;
    let signed = |v: Variant, path: &str| {
        format!(
            "{path}?exp={exp}&sig={}",
            state.media.signer.sign(&rec.media_id, v.name(), exp)
        )
    };
    let base = format!("/v1/media/{}", rec.media_id);
    Ok(ApiJson(MediaLink {
        url: signed(Variant::File, &base),
        thumbnail_url: rec
            .thumb_sha256
            .is_some()
            .then(|| signed(Variant::Thumbnail, &format!("{base}/thumbnail"))),
        expires_at: exp * 1000,
    }))
}

/// A `Range` header that no byte of the file satisfies (answered with 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// Parses a single `bytes=` range against `size`: `Ok(None)` to serve it all (no header,
/// or a form this server does not serve partially), `Err(Unsatisfiable)` if unsatisfiable.
pub fn parse_range(value: &str, size: u64) -> Result<Option<std::ops::Range<u64>>, Unsatisfiable> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None); // multiple ranges: the whole body is a valid answer
    }
    let (a, b) = spec.split_once('-').ok_or(Unsatisfiable)?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| Unsatisfiable)?;
        if n == 0 {
            return Err(Unsatisfiable);
        }
        size.saturating_sub(n)..size
    } else {
        let start: u64 = a.parse().map_err(|_| Unsatisfiable)?;
        let end = if b.is_empty() {
            size
        } else {
            let last: u64 = b.parse().map_err(|_| Unsatisfiable)?;
            if last < start {
                return Err(Unsatisfiable);
            }
            last.saturating_add(1).min(size)
        };
        start..end
    };
    if range.start >= size || range.is_empty() {
        return Err(Unsatisfiable);
    }
    Ok(Some(range))
}

fn etag_matches(header_value: &str, etag: &str) -> bool {
    header_value
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

async fn serve(
    state: &SharedState,
    media_id: &str,
    variant: Variant,
    query: Result<Query<FetchQuery>, QueryRejection>,
    parts: &Parts,
) -> ApiResult<Response> {
    let Query(q) = query.unwrap_or_default();
    if !valid_media_id(media_id) {
        return Err(media_not_found());
    }
    let now_secs = state.now() / 1000;
    let (rec, signed_until) = match (q.exp, q.sig.as_deref()) {
        (Some(exp), Some(sig)) => {
            if !state
                .media
                .signer
                .verify(media_id, variant.name(), exp, sig, now_secs)
            {
                return Err(ApiError::forbidden(
                    "invalid_signature",
                    "this media link is invalid or has expired; ask for a new one",
                ));
            }
            let rec = state
                .media
                .record(media_id)
                .await
                .map_err(api_error)?
                .ok_or_else(media_not_found)?;
            (rec, Some(exp))
        }
        _ => {
            let authed = auth::authenticate(state, auth::bearer(parts)).await?;
            (accessible(state, &authed.user_id, media_id).await?, None)
        }
    };
    let (key, mime, size) = match variant {
        Variant::File => (rec.sha256.clone(), rec.mime.clone(), rec.size),
        Variant::Thumbnail => {
            let key = rec
                .thumb_sha256
                .clone()
                .ok_or_else(|| ApiError::not_found("this media has no thumbnail"))?;
            let size = state
                .media
                .blobs
                .size(&key)
                .await
                .map_err(api_error)?
                .ok_or_else(media_not_found)?;
            (key, "image/jpeg".to_owned(), size)
        }
    };
    let etag = format!("\"{key}\"");
    let cache = match signed_until {
        Some(exp) => format!("private, max-age={}", (exp - now_secs).max(0)),
        None => "private, max-age=31536000, immutable".to_owned(),
    };
    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, cache)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if let Some(inm) = parts
        .headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && etag_matches(inm, &etag)
    {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(|e| ApiError::internal(&e));
    }
    // A Range is honoured unless If-Range names another version.
    let if_range_ok = parts
        .headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let range = match parts
        .headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    {
        Some(r) if if_range_ok => match parse_range(r, size) {
            Ok(r) => r,
            Err(Unsatisfiable) => {
                return builder
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                    .body(Body::empty())
                    .map_err(|e| ApiError::internal(&e));
            }
        },
        _ => None,
    };
    let content_type = if mime == "text/plain" {
        "text/plain; charset=utf-8".to_owned()
    } else {
        mime
    };
    let disposition = if rec.kind == Kind::Document && variant == Variant::File {
        "attachment"
    } else {
        "inline"
    };
    builder = builder
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        );
    let stream = state
        .media
        .blobs
        .read(&key, range.clone())
        .await
        .map_err(api_error)?;
    let builder = match &range {
        Some(r) => builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            )
            .header(header::CONTENT_LENGTH, r.end - r.start),
        None => builder
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, size),
    };
    metrics::counter!("switchboard_media_downloads_total").increment(1);
    builder
        .body(Body::from_stream(stream))
        .map_err(|e| ApiError::internal(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some(0..10)));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some(90..100)));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some(90..100)));
        assert_eq!(parse_range("bytes=-1000", 100), Ok(Some(0..100)));
        assert_eq!(parse_range("bytes=50-1000", 100), Ok(Some(50..100)));
        assert_eq!(parse_range("bytes=100-", 100), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=9-3", 100), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(parse_range("items=0-1", 100), Ok(None));
        assert!(etag_matches("\"a\", W/\"b\"", "\"b\""));
        assert!(!etag_matches("\"a\"", "\"b\""));
    }
}
