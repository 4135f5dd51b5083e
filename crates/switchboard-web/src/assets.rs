//! The web app's static files, compiled into the binary (no build step, no files
//! to deploy), served with a content type and a cache header.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../static/app.css"),
    ),
    (
        "settings.css",
        "text/css; charset=utf-8",
        include_str!("../static/settings.css"),
    ),
    (
        "shop.css",
        "text/css; charset=utf-8",
        include_str!("../static/shop.css"),
    ),
    (
        "admin.css",
        "text/css; charset=utf-8",
        include_str!("../static/admin.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../static/favicon.svg"),
    ),
    (
        "inbox.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/inbox.js"),
    ),
    (
        "chat.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/chat.js"),
    ),
];

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, ctype, body)) => (
            [
                (header::CONTENT_TYPE, *ctype),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
