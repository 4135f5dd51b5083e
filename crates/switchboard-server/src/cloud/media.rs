//! Business media: `POST /{phone_number_id}/media` (multipart upload into the same
//! media service consumers use), `GET /{media_id}` (a short-lived signed absolute
//! URL that works with or without the bearer token), `DELETE /{media_id}`, and
//! fetching the `link` of a message's media.

use axum::extract::{FromRequest, Multipart, Request};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::json;
use switchboard_business::error::GraphError;
use switchboard_business::ids;
use switchboard_business::send::MediaKind;
use switchboard_media::{IngestOptions, Kind};
use switchboard_store::Business;

use super::{GraphReply, GraphRequest, GraphResult, ok_json, success};
use crate::state::SharedState;

/// How long a media URL from `GET /{media_id}` works (Meta: 5 minutes).
const URL_TTL_SECS: i64 = 300;
/// The most a `link` download may take.
const LINK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

fn declared_as_document(mime: &str) -> bool {
    !(mime.starts_with("image/") || mime.starts_with("video/") || mime.starts_with("audio/"))
}

fn kind_matches(declared: &str, kind: Kind) -> bool {
    let top = declared.split('/').next().unwrap_or("");
    match kind {
        Kind::Image => top == "image" || declared_as_document(declared),
        Kind::Video => top == "video" || declared_as_document(declared),
        Kind::Audio => top == "audio" || declared_as_document(declared),
        Kind::Document => declared_as_document(declared),
    }
}

pub async fn upload(state: &SharedState, b: &Business, req: Request) -> GraphResult<Response> {
    let mut form = Multipart::from_request(req, state).await.map_err(|e| {
        GraphError::invalid_parameter(format!("expected multipart/form-data: {}", e.body_text()))
    })?;
    let mut declared: Option<String> = None;
    let mut rec = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(GraphError::invalid_parameter(format!(
                    "malformed multipart body: {}",
                    e.body_text()
                ))
                .into());
            }
        };
        match field.name().unwrap_or("") {
            "messaging_product" => {
                let v = field.text().await.unwrap_or_default();
                if !v.eq_ignore_ascii_case("whatsapp") {
                    return Err(
                        GraphError::invalid_value("messaging_product", "must be whatsapp").into(),
                    );
                }
            }
            "type" => declared = Some(field.text().await.unwrap_or_default().to_ascii_lowercase()),
            "file" => {
                if rec.is_some() {
                    return Err(GraphError::invalid_parameter("only one file per upload").into());
                }
                let part_type = field.content_type().map(str::to_ascii_lowercase);
                let mime = declared.clone().or(part_type).unwrap_or_default();
                let mut up = state.media.upload(IngestOptions {
                    as_document: !mime.is_empty() && declared_as_document(&mime),
                })?;
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => up.write(&chunk).await?,
                        Ok(None) => break,
                        Err(e) => {
                            return Err(GraphError::new(
                                131053,
                                format!("upload cut off: {}", e.body_text()),
                            )
                            .into());
                        }
                    }
                }
                let r = state.media.ingest(up, &b.user_id, state.now()).await?;
                rec = Some((r, mime));
            }
            _ => {}
        }
    }
    let (rec, mime) = rec.ok_or_else(|| GraphError::missing("file"))?;
    let declared = declared.unwrap_or(mime);
    if !declared.is_empty() && !kind_matches(&declared, rec.kind) {
        return Err(GraphError::new(
            131053,
            format!("the file is {} but was declared as {declared}", rec.mime),
        )
        .into());
    }
    let id = ids::media_to_graph(&rec.media_id).unwrap_or_default();
    ok_json(json!({"id": id}))
}

fn check_number(b: &Business, req: &GraphRequest) -> GraphResult<()> {
    match req.query.get("phone_number_id") {
        Some(p) if p != &b.phone_number_id => Err(GraphError::invalid_value(
            "phone_number_id",
            "this media does not belong to that phone number",
        )
        .into()),
        _ => Ok(()),
    }
}

pub async fn get(
    state: &SharedState,
    b: &Business,
    media_id: &str,
    req: &GraphRequest,
) -> GraphResult<Response> {
    check_number(b, req)?;
    let rec = state
        .media
        .record(media_id)
        .await?
        .ok_or_else(|| GraphError::invalid_parameter("no such media"))?;
    let exp = state.now() / 1000 + URL_TTL_SECS;
    let sig = state.media.signer.sign(&rec.media_id, "file", exp);
    let url = format!(
        "{}/v1/media/{}?exp={exp}&sig={sig}",
        super::public_base(state, &req.headers),
        rec.media_id
    );
    ok_json(json!({
        "messaging_product": "whatsapp",
        "url": url,
        "mime_type": rec.mime,
        "sha256": rec.sha256,
        "file_size": rec.size,
        "id": ids::media_to_graph(&rec.media_id),
    }))
}

/// Deletes an upload that was never sent; media already sent stays in the customers'
/// chats (their history must not break) and only this business's handle goes.
pub async fn delete(state: &SharedState, b: &Business, media_id: &str) -> GraphResult<Response> {
    let rec = state
        .media
        .record(media_id)
        .await?
        .ok_or_else(|| GraphError::invalid_parameter("no such media"))?;
    if rec.uploader == b.user_id && state.media.index.chats(media_id).await?.is_empty() {
        state.media.index.delete(media_id).await?;
    }
    success()
}

/// Downloads a message's `link` into the media service, as the business's upload.
pub async fn fetch_link(
    state: &SharedState,
    b: &Business,
    kind: &MediaKind,
    url: &str,
) -> GraphResult<String> {
    let fail = |why: String| {
        GraphReply(GraphError::new(
            131053,
            format!("Media download error: {why}"),
        ))
    };
    crate::webhooks::check_url(state, url)
        .await
        .map_err(&fail)?;
    let response = state
        .http
        .get(url)
        .timeout(LINK_TIMEOUT)
        .send()
        .await
        .map_err(|e| fail(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("{url} answered {}", response.status())));
    }
    let mut up = state.media.upload(IngestOptions {
        as_document: matches!(kind, MediaKind::Document),
    })?;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| fail(e.without_url().to_string()))?;
        up.write(&chunk).await?;
    }
    let rec = state.media.ingest(up, &b.user_id, state.now()).await?;
    Ok(rec.media_id)
}
