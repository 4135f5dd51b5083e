//! Media calls of [`Client`] (protocol v1 section 4): upload, metadata, download (whole,
//! ranged or the thumbnail, read chunk by chunk) and signed links.

use std::time::Duration;

use reqwest::{Method, Response};
use switchboard_proto::http::{MediaInfo, MediaLink};

use super::{Client, check, encode};
use crate::error::Result;

/// Uploads and downloads may take longer than the client's default timeout.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(600);

/// A download in progress: headers first, then the body chunk by chunk, so a large
/// file never has to be held in memory.
#[derive(Debug)]
pub struct MediaDownload {
    resp: Response,
}

impl MediaDownload {
    /// The HTTP status: 200, or 206 for a range.
    pub fn status(&self) -> u16 {
        self.resp.status().as_u16()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.resp.headers().get(name)?.to_str().ok()
    }

    /// The sniffed type the server stored.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// The `ETag` (the quoted SHA-256 of the bytes).
    pub fn etag(&self) -> Option<&str> {
        self.header("etag")
    }

    /// The length of this answer's body.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")?.parse().ok()
    }

    /// The next chunk of the body, `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>> {
        Ok(self.resp.chunk().await?.map(|b| b.to_vec()))
    }

    /// The whole body (for small files and thumbnails).
    pub async fn bytes(self) -> Result<Vec<u8>> {
        Ok(self.resp.bytes().await?.to_vec())
    }
}

impl Client {
    /// `POST /v1/media`: uploads `data`; the server types it by content.
    /// `as_document` keeps a photo's original bytes (and metadata) and sends it as a file.
    pub async fn upload_media(
        &self,
        data: impl Into<reqwest::Body>,
        as_document: bool,
    ) -> Result<MediaInfo> {
        let path = if as_document {
            "/v1/media?document=true"
        } else {
            "/v1/media"
        };
        let resp = self
            .request(Method::POST, path, true)?
            .header("content-type", "application/octet-stream")
            .timeout(TRANSFER_TIMEOUT)
            .body(data)
            .send()
            .await?;
        let bytes = check(resp).await?.bytes().await?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// `GET /v1/media/{id}/info`.
    pub async fn media_info(&self, media_id: &str) -> Result<MediaInfo> {
        self.call::<(), _>(
            Method::GET,
            &format!("/v1/media/{}/info", encode(media_id)),
            None,
            true,
        )
        .await
    }

    /// `GET /v1/media/{id}` (or its thumbnail), optionally one byte range
    /// (`"bytes=0-1023"`).
    pub async fn download_media(
        &self,
        media_id: &str,
        thumbnail: bool,
        range: Option<&str>,
    ) -> Result<MediaDownload> {
        let mut path = format!("/v1/media/{}", encode(media_id));
        if thumbnail {
            path.push_str("/thumbnail");
        }
        let mut req = self
            .request(Method::GET, &path, true)?
            .timeout(TRANSFER_TIMEOUT);
        if let Some(r) = range {
            req = req.header("range", r);
        }
        let resp = check(req.send().await?).await?;
        Ok(MediaDownload { resp })
    }

    /// `POST /v1/media/{id}/link`: short-lived signed URLs, relative to the server.
    pub async fn media_link(&self, media_id: &str) -> Result<MediaLink> {
        self.call::<(), _>(
            Method::POST,
            &format!("/v1/media/{}/link", encode(media_id)),
            None,
            true,
        )
        .await
    }
}
