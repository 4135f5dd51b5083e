//! Media (protocol v1 section 4): every allowed type from real files the tests make,
//! range and ETag behaviour, authorization, limits, aborted uploads, EXIF GPS removal,
//! forwarding without a new upload, media messages in history and sync, signed URLs
//! and the garbage collector.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, RgbImage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::support::*;

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn upload_to(server: &TestServer, token: &str, bytes: Vec<u8>, query: &str) -> (u16, Value) {
    let resp = http()
        .post(format!("{}/v1/media{query}", server.base))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .expect("upload request");
    let status = resp.status().as_u16();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

async fn upload(server: &TestServer, token: &str, bytes: Vec<u8>) -> Value {
    let (status, body) = upload_to(server, token, bytes, "").await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn fetch(
    server: &TestServer,
    token: Option<&str>,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = http().get(format!("{}{path}", server.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("fetch request")
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn image_bytes(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7 % 256) as u8, (y * 5 % 256) as u8, 90])
    }));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format)
        .expect("encode image");
    out
}

/// A JPEG with an APP1 Exif segment holding a GPS IFD, built by hand.
fn jpeg_with_gps(jpeg: &[u8]) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x8825u16.to_be_bytes()); // GPSInfo IFD pointer
    tiff.extend_from_slice(&4u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&26u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes()); // GPSLatitudeRef
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&2u32.to_be_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    tiff.extend_from_slice(&0u32.to_be_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    app1.extend_from_slice(b"GPS-SECRET-52.5200N-13.4050E");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).expect("small").to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn padded(head: &[u8], len: usize) -> Vec<u8> {
    let mut v = head.to_vec();
    v.resize(len, 0);
    v
}

fn ffmpeg_available() -> bool {
    switchboard_media::av::available()
}

fn ffmpeg_make(dir: &Path, name: &str, args: &[&str]) -> Option<Vec<u8>> {
    let out = dir.join(name);
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .ok()?;
    status.success().then(|| std::fs::read(&out).ok()).flatten()
}

/// Sends a media message and returns its ack or error frame.
async fn send_media(ws: &mut RawWs, client_id: &str, chat_id: &str, media_id: &str) -> Value {
    ws.send(
        json!({"type": "send", "client_id": client_id, "chat_id": chat_id,
        "body": {"media_id": media_id, "caption": "look"}}),
    )
    .await;
    loop {
        let f = ws.recv().await;
        if (f["type"] == "ack" || f["type"] == "error") && f["client_id"] == client_id {
            return f;
        }
    }
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn every_allowed_type_is_typed_by_content() {
    let server = TestServer::start().await;
    let (_, token) = server.user(ADA).await;
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "jpeg",
            image_bytes(ImageFormat::Jpeg, 64, 48),
            "image/jpeg",
            "image",
        ),
        (
            "png",
            image_bytes(ImageFormat::Png, 64, 48),
            "image/png",
            "image",
        ),
        (
            "webp",
            image_bytes(ImageFormat::WebP, 64, 48),
            "image/webp",
            "image",
        ),
        (
            "gif",
            image_bytes(ImageFormat::Gif, 64, 48),
            "image/gif",
            "image",
        ),
        (
            "heic",
            padded(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", 512),
            "image/heic",
            "image",
        ),
        (
            "3gp",
            padded(b"\0\0\0\x14ftyp3gp4\0\0\0\0", 512),
            "video/3gpp",
            "video",
        ),
        (
            "mov",
            padded(b"\0\0\0\x14ftypqt  \0\0\0\0", 512),
            "video/quicktime",
            "video",
        ),
        (
            "m4a",
            padded(b"\0\0\0\x18ftypM4A \0\0\0\0", 512),
            "audio/mp4",
            "audio",
        ),
        (
            "mp3",
            padded(b"ID3\x03\0\0\0\0\0\0\xff\xfb\x90\x00", 2048),
            "audio/mpeg",
            "audio",
        ),
        (
            "ogg",
            padded(b"OggS\0\x02\0\0\0\0", 1024),
            "audio/ogg",
            "audio",
        ),
        ("amr", padded(b"#!AMR\n\x3c", 256), "audio/amr", "audio"),
        (
            "aac",
            padded(b"\xff\xf1\x50\x80\x02\x1f\xfc", 512),
            "audio/aac",
            "audio",
        ),
        (
            "pdf",
            b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec(),
            "application/pdf",
            "document",
        ),
        (
            "zip",
            padded(b"PK\x05\x06", 22),
            "application/zip",
            "document",
        ),
        (
            "text",
            "shopping list:\n- flour\n- äpfel\n".as_bytes().to_vec(),
            "text/plain",
            "document",
        ),
    ];
    for (name, bytes, mime, kind) in cases {
        // The declared Content-Type (octet-stream) is ignored: the bytes decide.
        let info = upload(&server, &token, bytes.clone()).await;
        assert_eq!(info["mime_type"], mime, "{name}: {info}");
        assert_eq!(info["kind"], kind, "{name}");
        assert_eq!(info["size"], bytes.len() as u64, "{name}");
        assert_eq!(info["sha256"], sha_hex(&bytes), "{name}");
        if kind == "image" && name != "heic" {
            assert_eq!(
                (info["width"].as_u64(), info["height"].as_u64()),
                (Some(64), Some(48)),
                "{name}"
            );
            assert_eq!(info["has_thumbnail"], true, "{name}");
            let id = info["media_id"].as_str().expect("id");
            let t = fetch(
                &server,
                Some(&token),
                &format!("/v1/media/{id}/thumbnail"),
                &[],
            )
            .await;
            assert_eq!(t.status(), 200);
            assert_eq!(t.headers()["content-type"], "image/jpeg");
        }
        let id = info["media_id"].as_str().expect("id");
        let got = fetch(&server, Some(&token), &format!("/v1/media/{id}"), &[]).await;
        assert_eq!(got.status(), 200, "{name}");
        assert!(
            got.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with(mime)
        );
        assert_eq!(
            got.bytes().await.expect("body").as_ref(),
            &bytes[..],
            "{name}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn video_and_audio_are_probed_with_ffmpeg_when_present() {
    if !ffmpeg_available() {
        eprintln!("skipped: ffmpeg/ffprobe are not installed (scripts/setup installs them)");
        return;
    }
    let server = TestServer::start().await;
    let (_, token) = server.user(ADA).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let mp4 = ffmpeg_make(
        tmp.path(),
        "v.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=320x240:rate=10",
            "-pix_fmt",
            "yuv420p",
        ],
    )
    .expect("ffmpeg makes an mp4");
    let info = upload(&server, &token, mp4).await;
    assert_eq!(info["mime_type"], "video/mp4");
    assert_eq!(
        (info["width"].as_u64(), info["height"].as_u64()),
        (Some(320), Some(240))
    );
    let ms = info["duration_ms"].as_u64().expect("duration");
    assert!((900..=1100).contains(&ms), "{ms}");
    assert_eq!(info["has_thumbnail"], true);
    let id = info["media_id"].as_str().expect("id");
    let poster = fetch(
        &server,
        Some(&token),
        &format!("/v1/media/{id}/thumbnail"),
        &[],
    )
    .await;
    assert_eq!(poster.status(), 200);
    assert!(
        poster
            .bytes()
            .await
            .expect("body")
            .starts_with(&[0xff, 0xd8])
    );
    if let Some(webm) = ffmpeg_make(
        tmp.path(),
        "v.webm",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=160x120:rate=10",
            "-c:v",
            "libvpx",
        ],
    ) {
        let info = upload(&server, &token, webm).await;
        assert_eq!(info["mime_type"], "video/webm");
        assert_eq!(info["width"], 160);
    }
    if let Some(opus) = ffmpeg_make(
        tmp.path(),
        "a.ogg",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            "-c:a",
            "libopus",
        ],
    ) {
        let info = upload(&server, &token, opus).await;
        assert_eq!(info["mime_type"], "audio/ogg");
        assert_eq!(info["kind"], "audio");
        let ms = info["duration_ms"].as_u64().expect("duration");
        assert!((1900..=2100).contains(&ms), "{ms}");
    }
    server.stop().await;
}

#[tokio::test]
async fn range_etag_and_cache_headers() {
    let server = TestServer::start().await;
    let (_, token) = server.user(ADA).await;
    let mut body = b"%PDF-1.4\n".to_vec();
    body.extend((0..200_000u32).map(|i| b'a' + (i % 26) as u8));
    let info = upload(&server, &token, body.clone()).await;
    let path = format!("/v1/media/{}", info["media_id"].as_str().expect("id"));
    let full = fetch(&server, Some(&token), &path, &[]).await;
    assert_eq!(full.status(), 200);
    let etag = full.headers()["etag"].to_str().expect("ascii").to_owned();
    assert_eq!(etag, format!("\"{}\"", sha_hex(&body)));
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    assert!(
        full.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("private")
    );
    assert_eq!(full.headers()["content-disposition"], "attachment");
    assert_eq!(full.bytes().await.expect("body").len(), body.len());

    let part = fetch(&server, Some(&token), &path, &[("range", "bytes=10-19")]).await;
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 10-19/{}", body.len()).as_str()
    );
    assert_eq!(part.bytes().await.expect("body").as_ref(), &body[10..20]);
    let tail = fetch(&server, Some(&token), &path, &[("range", "bytes=-5")]).await;
    assert_eq!(tail.status(), 206);
    assert_eq!(
        tail.bytes().await.expect("body").as_ref(),
        &body[body.len() - 5..]
    );
    let open = fetch(&server, Some(&token), &path, &[("range", "bytes=199000-")]).await;
    assert_eq!(open.bytes().await.expect("body").as_ref(), &body[199_000..]);
    let bad = fetch(&server, Some(&token), &path, &[("range", "bytes=999999-")]).await;
    assert_eq!(bad.status(), 416);
    assert_eq!(
        bad.headers()["content-range"],
        format!("bytes */{}", body.len()).as_str()
    );
    let cached = fetch(&server, Some(&token), &path, &[("if-none-match", &etag)]).await;
    assert_eq!(cached.status(), 304);
    assert!(cached.bytes().await.expect("body").is_empty());
    let stale = fetch(
        &server,
        Some(&token),
        &path,
        &[("if-none-match", "\"other\"")],
    )
    .await;
    assert_eq!(stale.status(), 200);
    // If-Range naming another version: the whole file.
    let whole = fetch(
        &server,
        Some(&token),
        &path,
        &[("range", "bytes=0-1"), ("if-range", "\"old\"")],
    )
    .await;
    assert_eq!(whole.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn access_history_sync_and_forwarding() {
    let server = TestServer::start().await;
    let (ada, ada_t) = server.user(ADA).await;
    let (_, ben_t) = server.user(BEN).await;
    let (_, cat_t) = server.user(CAT).await;
    let (_, dan_t) = server.user(DAN).await;
    let photo = image_bytes(ImageFormat::Png, 32, 32);
    let info = upload(&server, &ada_t, photo.clone()).await;
    let id = info["media_id"].as_str().expect("id").to_owned();
    let path = format!("/v1/media/{id}");

    // Before it is sent, only the uploader sees it; strangers get 404, not 403.
    assert_eq!(fetch(&server, Some(&ada_t), &path, &[]).await.status(), 200);
    assert_eq!(fetch(&server, Some(&ben_t), &path, &[]).await.status(), 404);
    assert_eq!(fetch(&server, None, &path, &[]).await.status(), 401);
    let missing = fetch(
        &server,
        Some(&ada_t),
        "/v1/media/0123456789abcdef0123456789abcdef",
        &[],
    )
    .await;
    assert_eq!(missing.status(), 404);
    let missing: Value = missing.json().await.expect("json");
    assert_eq!(missing["error"]["code"], "not_found");

    // Ada sends it to Ben.
    let chat = ada.create_direct_chat(BEN).await.expect("chat");
    let mut ws = RawWs::connect(&server, &ada_t).await;
    let ack = send_media(&mut ws, "m-1", &chat.chat_id, &id).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(fetch(&server, Some(&ben_t), &path, &[]).await.status(), 200);
    assert_eq!(
        fetch(&server, Some(&ben_t), &format!("{path}/info"), &[])
            .await
            .status(),
        200
    );
    assert_eq!(fetch(&server, Some(&cat_t), &path, &[]).await.status(), 404);

    // A media id one may not use is refused, and nothing is appended.
    let mut dan_ws = RawWs::connect(&server, &dan_t).await;
    let dan_chat = server
        .user(DAN)
        .await
        .0
        .create_direct_chat(CAT)
        .await
        .expect("chat");
    let err = send_media(&mut dan_ws, "m-x", &dan_chat.chat_id, &id).await;
    assert_eq!(
        (err["type"].as_str(), err["code"].as_str()),
        (Some("error"), Some("media_not_found"))
    );
    let err = send_media(&mut dan_ws, "m-y", &dan_chat.chat_id, "nope").await;
    assert_eq!(err["code"], "media_not_found");

    // The message is in history and in Ben's sync, with its media id.
    let ben_client = server.client().with_token(ben_t.clone());
    let history = ben_client
        .messages(&chat.chat_id, None, None)
        .await
        .expect("history");
    let body: Value = serde_json::from_str(history.messages[0].body.get()).expect("json");
    assert_eq!(body, json!({"media_id": id, "caption": "look"}));
    let mut ben_ws = RawWs::connect(&server, &ben_t).await;
    let (_, frames) = ben_ws.sync(0).await;
    assert!(
        frames
            .iter()
            .any(|f| f["type"] == "message" && f["body"]["media_id"] == id.as_str()),
        "{frames:?}"
    );

    // Ben forwards it to Cat without uploading it again.
    let ben_cat = ben_client.create_direct_chat(CAT).await.expect("chat");
    let ack = send_media(&mut ben_ws, "fwd-1", &ben_cat.chat_id, &id).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let got = fetch(&server, Some(&cat_t), &path, &[]).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.expect("body").as_ref(), &photo[..]);

    // Signed URLs work without headers, for a while, and only as signed.
    let link: Value = http()
        .post(format!("{}{path}/link", server.base))
        .bearer_auth(&cat_t)
        .send()
        .await
        .expect("link")
        .json()
        .await
        .expect("json");
    let url = link["url"].as_str().expect("url");
    let got = fetch(&server, None, url, &[]).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.expect("body").as_ref(), &photo[..]);
    let thumb = link["thumbnail_url"].as_str().expect("thumbnail url");
    assert_eq!(fetch(&server, None, thumb, &[]).await.status(), 200);
    let tampered = url.replace("sig=", "sig=00");
    assert_eq!(fetch(&server, None, &tampered, &[]).await.status(), 403);
    let wrong_variant = thumb.replace("/thumbnail?", "?");
    assert_eq!(
        fetch(&server, None, &wrong_variant, &[]).await.status(),
        403
    );
    let other: Value = http()
        .post(format!("{}{path}/link", server.base))
        .bearer_auth(&dan_t)
        .send()
        .await
        .expect("link")
        .json()
        .await
        .expect("json");
    assert_eq!(other["error"]["code"], "not_found");
    server.stop().await;
}

#[tokio::test]
async fn limits_and_refused_types() {
    let server = TestServer::start().await;
    let (_, token) = server.user(ADA).await;
    let big_image = padded(b"\xff\xd8\xff\xe0\0\x10JFIF\0", 16 * 1024 * 1024 + 1);
    let (status, body) = upload_to(&server, &token, big_image, "").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("media_too_large"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("16 MiB")
    );
    let (status, body) = upload_to(&server, &token, padded(b"\x7fELF\x02\x01\x01", 4096), "").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("dangerous_media_type"))
    );
    let (status, body) = upload_to(&server, &token, padded(b"MZ\x90\0", 4096), "").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("dangerous_media_type"))
    );
    let (status, body) = upload_to(&server, &token, padded(b"\0\x01\x02\x03", 4096), "").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (status, body) = upload_to(&server, &token, Vec::new(), "").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("empty_upload"))
    );
    let (status, _) = upload_to(&server, "not-a-token", b"hello".to_vec(), "").await;
    assert_eq!(status, 401);
    // Nothing refused was kept.
    assert!(files_under(&server.dir.path().join("media")).is_empty());
    server.stop().await;
}

#[tokio::test]
async fn an_aborted_upload_leaves_nothing_behind() {
    let server = TestServer::start().await;
    let (_, token) = server.user(ADA).await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /v1/media HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\ncontent-length: 1000000\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.expect("write");
    tcp.write_all(&padded(b"%PDF-1.4\n", 300_000))
        .await
        .expect("write");
    tcp.flush().await.expect("flush");
    // Wait until the server has staged part of it, then drop the connection.
    let tmp = server.dir.path().join("media/tmp");
    for _ in 0..200 {
        if !files_under(&tmp).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(!files_under(&tmp).is_empty(), "the upload was being staged");
    drop(tcp);
    let mut left = Vec::new();
    for _ in 0..300 {
        left = files_under(&server.dir.path().join("media"));
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(left.is_empty(), "left behind: {left:?}");
    server.stop().await;
}

#[tokio::test]
async fn gps_is_removed_from_photos_but_not_from_documents() {
    let server = TestServer::start().await;
    let (_, token) = server.user(ADA).await;
    let plain = image_bytes(ImageFormat::Jpeg, 40, 30);
    let tagged = jpeg_with_gps(&plain);
    let info = upload(&server, &token, tagged.clone()).await;
    assert_eq!(info["width"], 40);
    assert_ne!(info["sha256"], sha_hex(&tagged));
    let id = info["media_id"].as_str().expect("id");
    let got = fetch(&server, Some(&token), &format!("/v1/media/{id}"), &[]).await;
    let bytes = got.bytes().await.expect("body");
    assert!(!bytes.windows(10).any(|w| w == b"GPS-SECRET"));
    assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"));
    assert_eq!(info["sha256"], sha_hex(&bytes));
    assert_eq!(info["size"], bytes.len() as u64);

    let (status, doc) = upload_to(&server, &token, tagged.clone(), "?document=true").await;
    assert_eq!(status, 200);
    assert_eq!(doc["kind"], "document");
    assert_eq!(doc["sha256"], sha_hex(&tagged));
    let id = doc["media_id"].as_str().expect("id");
    let got = fetch(&server, Some(&token), &format!("/v1/media/{id}"), &[]).await;
    assert_eq!(got.bytes().await.expect("body").as_ref(), &tagged[..]);
    server.stop().await;
}

#[tokio::test]
async fn unreferenced_uploads_are_collected_after_a_day() {
    let server = TestServer::start().await;
    let (ada, token) = server.user(ADA).await;
    server.user(BEN).await;
    let kept = upload(&server, &token, b"%PDF-1.4\nkept".to_vec()).await;
    let dropped = upload(&server, &token, b"%PDF-1.4\ndropped".to_vec()).await;
    let kept_id = kept["media_id"].as_str().expect("id");
    let dropped_id = dropped["media_id"].as_str().expect("id");
    let chat = ada.create_direct_chat(BEN).await.expect("chat");
    let mut ws = RawWs::connect(&server, &token).await;
    assert_eq!(
        send_media(&mut ws, "k", &chat.chat_id, kept_id).await["type"],
        "ack"
    );

    // The collector, as `switchboard admin gc` runs it, with the clock moved on.
    let media = switchboard_server::media::open(server.dir.path()).expect("open media");
    let now = switchboard_media::now_ms();
    let early = media.gc(now).await.expect("gc");
    assert_eq!(early.media_removed, 0);
    let report = media.gc(now + 25 * 3600 * 1000).await.expect("gc");
    assert_eq!((report.media_removed, report.blobs_removed), (1, 1));
    let gone = fetch(
        &server,
        Some(&token),
        &format!("/v1/media/{dropped_id}"),
        &[],
    )
    .await;
    assert_eq!(gone.status(), 404);
    let still = fetch(&server, Some(&token), &format!("/v1/media/{kept_id}"), &[]).await;
    assert_eq!(still.status(), 200);
    let blobs = files_under(&server.dir.path().join("media/blobs"));
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    server.stop().await;
}

#[tokio::test]
async fn the_sdk_uploads_and_downloads() {
    let server = TestServer::start().await;
    let (ada, _) = server.user(ADA).await;
    let (ben, _) = server.user(BEN).await;
    let png = image_bytes(ImageFormat::Png, 20, 10);
    let info = ada.upload_media(png.clone(), false).await.expect("upload");
    assert_eq!(
        (info.mime_type.as_str(), info.width, info.height),
        ("image/png", Some(20), Some(10))
    );
    assert_eq!(ada.media_info(&info.media_id).await.expect("info"), info);
    let err = ben.media_info(&info.media_id).await.expect_err("stranger");
    assert_eq!(err.status(), Some(404));
    let mut dl = ada
        .download_media(&info.media_id, false, Some("bytes=0-7"))
        .await
        .expect("range");
    assert_eq!(dl.status(), 206);
    assert_eq!(dl.etag(), Some(format!("\"{}\"", info.sha256).as_str()));
    let mut got = Vec::new();
    while let Some(c) = dl.chunk().await.expect("chunk") {
        got.extend(c);
    }
    assert_eq!(got, &png[..8]);
    let thumb = ada
        .download_media(&info.media_id, true, None)
        .await
        .expect("thumbnail");
    assert!(
        thumb
            .bytes()
            .await
            .expect("bytes")
            .starts_with(&[0xff, 0xd8])
    );
    let link = ada.media_link(&info.media_id).await.expect("link");
    assert!(
        link.url
            .starts_with(&format!("/v1/media/{}?exp=", info.media_id))
    );
    server.stop().await;
}

/// An ISO BMFF box.
fn bmff_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = u32::try_from(body.len() + 8)
        .expect("small")
        .to_be_bytes()
        .to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

/// An ISO BMFF full box (version 0, no flags).
fn bmff_full(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    bmff_box(kind, &[&[0u8, 0, 0, 0][..], body].concat())
}

/// A HEIC-like file built by hand: ftyp `heic`, meta (hdlr `pict`, pitm 1, iinf with
/// an `hvc1` item 1 and an `Exif` item 2, iloc into the mdat, iprp/ipco with `ispe`
/// 640x480 and ipma), mdat. The Exif item holds a GPS IFD with `GPS-SECRET` in it.
fn heic_with_gps() -> Vec<u8> {
    let jpeg = jpeg_with_gps(&[0xff, 0xd8]);
    // The APP1 payload after the marker and length: `Exif\0\0`, TIFF, secret.
    let mut exif = 6u32.to_be_bytes().to_vec();
    exif.extend_from_slice(&jpeg[6..]);
    let hevc = [0x5au8; 64];
    let infe = |id: u16, kind: &[u8; 4]| {
        let mut b = vec![2, 0, 0, 0];
        b.extend_from_slice(&id.to_be_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(kind);
        b.push(0);
        bmff_box(b"infe", &b)
    };
    let ftyp = bmff_box(b"ftyp", b"heic\0\0\0\0mif1heic");
    let hdlr = bmff_full(b"hdlr", b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let pitm = bmff_full(b"pitm", &1u16.to_be_bytes());
    let iinf = bmff_full(
        b"iinf",
        &[
            &2u16.to_be_bytes()[..],
            &infe(1, b"hvc1"),
            &infe(2, b"Exif"),
        ]
        .concat(),
    );
    let ispe = bmff_full(
        b"ispe",
        &[&640u32.to_be_bytes()[..], &480u32.to_be_bytes()].concat(),
    );
    let ipco = bmff_box(b"ipco", &[bmff_box(b"hvcC", &[1, 0, 0]), ispe].concat());
    // Item 1: property 1 (essential) and property 2.
    let ipma = bmff_full(b"ipma", &[0, 0, 0, 1, 0, 1, 2, 0x81, 2]);
    let iprp = bmff_box(b"iprp", &[ipco, ipma].concat());
    let meta = |mdat_data: u32| {
        // Version 0, 4-byte offsets and lengths, no base offset.
        let mut b = vec![0x44, 0x00];
        b.extend_from_slice(&2u16.to_be_bytes());
        let exif_at = mdat_data + u32::try_from(hevc.len()).expect("small");
        for (id, at, len) in [(1u16, mdat_data, hevc.len()), (2, exif_at, exif.len())] {
            b.extend_from_slice(&id.to_be_bytes());
            b.extend_from_slice(&0u16.to_be_bytes());
            b.extend_from_slice(&1u16.to_be_bytes());
            b.extend_from_slice(&at.to_be_bytes());
            b.extend_from_slice(&u32::try_from(len).expect("small").to_be_bytes());
        }
        let iloc = bmff_full(b"iloc", &b);
        bmff_full(b"meta", &[&hdlr[..], &pitm, &iinf, &iloc, &iprp].concat())
    };
    let mdat_data = u32::try_from(ftyp.len() + meta(0).len() + 8).expect("small");
    let mdat = bmff_box(b"mdat", &[&hevc[..], &exif].concat());
    [ftyp, meta(mdat_data), mdat].concat()
}

#[tokio::test]
async fn heic_exif_is_blanked_in_place_but_kept_in_documents() {
    let server = TestServer::start().await;
    let (_, token) = server.user(ADA).await;
    let tagged = heic_with_gps();
    assert!(tagged.windows(10).any(|w| w == b"GPS-SECRET"));
    let info = upload(&server, &token, tagged.clone()).await;
    assert_eq!(info["mime_type"], "image/heic");
    assert_eq!(info["kind"], "image");
    assert_eq!(
        (info["width"].as_u64(), info["height"].as_u64()),
        (Some(640), Some(480))
    );
    assert_ne!(info["sha256"], sha_hex(&tagged));
    let id = info["media_id"].as_str().expect("id");
    let got = fetch(&server, Some(&token), &format!("/v1/media/{id}"), &[]).await;
    let bytes = got.bytes().await.expect("body");
    assert!(!bytes.windows(10).any(|w| w == b"GPS-SECRET"));
    assert_eq!(bytes.len(), tagged.len(), "no byte moved");
    assert!(
        bytes.windows(64).any(|w| w == [0x5a; 64]),
        "image data kept"
    );
    assert_eq!(info["sha256"], sha_hex(&bytes));

    let (status, doc) = upload_to(&server, &token, tagged.clone(), "?document=true").await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["kind"], "document");
    let id = doc["media_id"].as_str().expect("id");
    let got = fetch(&server, Some(&token), &format!("/v1/media/{id}"), &[]).await;
    assert_eq!(got.bytes().await.expect("body").as_ref(), &tagged[..]);

    // A photo whose structure cannot be understood is refused, not shared as is.
    let mut broken = tagged.clone();
    let at = broken.windows(4).position(|w| w == b"iloc").expect("iloc");
    broken[at - 1] = 0xff; // box size past the end of meta
    let (status, body) = upload_to(&server, &token, broken.clone(), "").await;
    assert_eq!(status, 415, "{body}");
    let (status, _) = upload_to(&server, &token, broken, "?document=true").await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test]
async fn gif_comments_are_removed_from_photos() {
    let server = TestServer::start().await;
    let (_, token) = server.user(ADA).await;
    let plain = image_bytes(ImageFormat::Gif, 16, 12);
    let head = 13
        + if plain[10] & 0x80 != 0 {
            3usize << ((plain[10] & 7) + 1)
        } else {
            0
        };
    let mut tagged = plain[..head].to_vec();
    tagged.extend_from_slice(&[0x21, 0xfe, 28]);
    tagged.extend_from_slice(b"GPS-SECRET-52.5200N-13.4050E");
    tagged.push(0);
    tagged.extend_from_slice(&plain[head..]);
    let info = upload(&server, &token, tagged.clone()).await;
    assert_eq!(
        (info["width"].as_u64(), info["height"].as_u64()),
        (Some(16), Some(12))
    );
    let id = info["media_id"].as_str().expect("id");
    let got = fetch(&server, Some(&token), &format!("/v1/media/{id}"), &[]).await;
    assert_eq!(got.bytes().await.expect("body").as_ref(), &plain[..]);

    let (status, doc) = upload_to(&server, &token, tagged.clone(), "?document=true").await;
    assert_eq!(status, 200);
    let id = doc["media_id"].as_str().expect("id");
    let got = fetch(&server, Some(&token), &format!("/v1/media/{id}"), &[]).await;
    assert_eq!(got.bytes().await.expect("body").as_ref(), &tagged[..]);
    server.stop().await;
}
