//! Photos, videos and documents for the web app, through the API as the signed-in
//! device: the browser fetches `/app/media/…` with its session cookie (same origin,
//! no tokens or signed links in URLs), and uploads go to `/app/upload` with the
//! CSRF token in a header.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Peer, encode, signed_in};
use crate::WebState;
use crate::session;

/// Request headers passed on to a media download.
const PASS: [header::HeaderName; 3] = [header::RANGE, header::IF_NONE_MATCH, header::IF_RANGE];

async fn fetch(web: &WebState, headers: &HeaderMap, peer: &Peer, path: String) -> Response {
    let s = match signed_in(web, headers, peer, "/app").await {
        Ok(s) => s,
        Err(_) => return StatusCode::UNAUTHORIZED.into_response(),
    };
    let pass: Vec<_> = PASS
        .iter()
        .filter_map(|h| headers.get(h).map(|v| (h.clone(), v.clone())))
        .collect();
    match web
        .api
        .forward(&s.caller, Method::GET, &path, &pass, Body::empty())
        .await
    {
        Ok(mut resp) => {
            // Media of a private chat: the browser may keep it, proxies may not.
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("private, max-age=3600"),
            );
            resp
        }
        Err(e) => e.into_response(),
    }
}

pub async fn file(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(media_id): Path<String>,
) -> Response {
    fetch(
        &web,
        &headers,
        &peer,
        format!("/v1/media/{}", encode(&media_id)),
    )
    .await
}

pub async fn thumbnail(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(media_id): Path<String>,
) -> Response {
    let path = format!("/v1/media/{}/thumbnail", encode(&media_id));
    fetch(&web, &headers, &peer, path).await
}

/// `POST /app/upload`: the raw bytes with their `Content-Type` and the CSRF token in
/// `X-CSRF-Token`; answers the API's JSON (`media_id`, …).
pub async fn upload(State(web): State<WebState>, peer: Peer, req: Request) -> Response {
    let headers = req.headers().clone();
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Err(e) = session::check_csrf(&headers, token) {
        return e.into_response();
    }
    let s = match signed_in(&web, &headers, &peer, "/app").await {
        Ok(s) => s,
        Err(_) => return StatusCode::UNAUTHORIZED.into_response(),
    };
    let pass: Vec<_> = [header::CONTENT_TYPE, header::CONTENT_LENGTH]
        .iter()
        .filter_map(|h| headers.get(h).map(|v| (h.clone(), v.clone())))
        .collect();
    web.api
        .forward(&s.caller, Method::POST, "/v1/media", &pass, req.into_body())
        .await
        .unwrap_or_else(IntoResponse::into_response)
}
