//! The business's shop-front pages for its team: the catalog editor (products with
//! exact prices and images, collections), click-to-chat links with their QR codes,
//! statistics drawn as server-rendered SVG charts (with a CSV download), and
//! broadcasts to opted-in customers. They exist so a small business can run all of
//! this from a browser without the API: every page reads, and every form writes,
//! through the team API (`/v1/biz/{waba_id}/…`) as the signed-in member, so roles
//! and validation stay the API's. Forms post and redirect back (post/redirect/get);
//! a refusal of the API is shown on the page.

mod broadcasts;
mod catalog;
mod links;
mod stats;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::Value;

use super::{Peer, Signed, encode, signed_in};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::session;

/// Largest product form (its photo included); photos are held in memory while the
/// form is read, so this stays far below the API's upload limit.
const MAX_PRODUCT_FORM: usize = 16 * 1024 * 1024;

pub fn routes() -> Router<WebState> {
    let biz = "/app/biz/{waba_id}";
    Router::new()
        .route(&format!("{biz}/catalog"), get(catalog::page))
        .route(
            &format!("{biz}/catalog/products"),
            post(catalog::create_product).layer(DefaultBodyLimit::max(MAX_PRODUCT_FORM)),
        )
        .route(
            &format!("{biz}/catalog/products/{{id}}"),
            post(catalog::update_product).layer(DefaultBodyLimit::max(MAX_PRODUCT_FORM)),
        )
        .route(
            &format!("{biz}/catalog/products/{{id}}/delete"),
            post(catalog::delete_product),
        )
        .route(
            &format!("{biz}/catalog/collections"),
            post(catalog::create_collection),
        )
        .route(
            &format!("{biz}/catalog/collections/{{id}}"),
            post(catalog::update_collection),
        )
        .route(
            &format!("{biz}/catalog/collections/{{id}}/delete"),
            post(catalog::delete_collection),
        )
        .route(
            &format!("{biz}/links"),
            get(links::page).post(links::create),
        )
        .route(&format!("{biz}/links/{{code}}/delete"), post(links::delete))
        .route(&format!("{biz}/links/{{code}}/qr.svg"), get(links::qr_svg))
        .route(&format!("{biz}/links/{{code}}/qr.png"), get(links::qr_png))
        .route(&format!("{biz}/stats"), get(stats::page))
        .route(&format!("{biz}/stats.csv"), get(stats::csv))
        .route(&format!("{biz}/broadcasts"), get(broadcasts::page))
        .route(
            &format!("{biz}/broadcasts/lists"),
            post(broadcasts::create_list),
        )
        .route(
            &format!("{biz}/broadcasts/lists/{{id}}/members"),
            post(broadcasts::add_members),
        )
        .route(
            &format!("{biz}/broadcasts/lists/{{id}}/delete"),
            post(broadcasts::delete_list),
        )
        .route(&format!("{biz}/broadcasts/send"), post(broadcasts::send))
        .route(
            &format!("{biz}/broadcasts/{{id}}/cancel"),
            post(broadcasts::cancel),
        )
}

/// The team API's path of a business.
fn api_base(waba: &str) -> String {
    format!("/v1/biz/{}", encode(waba))
}

/// The web page `sub` (`catalog`, `links`, …) of a business.
fn page_url(waba: &str, sub: &str) -> String {
    format!("/app/biz/{}/{sub}", encode(waba))
}

/// The reader's language.
fn tr(headers: &HeaderMap) -> Tr {
    Tr {
        lang: Lang::of(headers),
    }
}

/// What a page shows after a form came back: a success (one of a few known
/// messages) or an error (the API's refusal, at most 300 characters).
#[derive(Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// The success messages a redirect may name.
const OK_KEYS: [&str; 6] = ["saved", "created", "deleted", "sent", "cancelled", "added"];

impl Flash {
    /// (notice, error) in the reader's language.
    fn texts(&self, t: &Tr) -> (Option<String>, Option<String>) {
        let ok = self
            .ok
            .as_deref()
            .filter(|k| OK_KEYS.contains(k))
            .map(|k| t.t(&format!("shop-ok-{k}")));
        let error = self
            .error
            .as_deref()
            .map(|e| e.chars().take(300).collect::<String>());
        (ok, error)
    }
}

/// Back to `page` with a success key.
fn back_ok(page: &str, key: &str) -> Response {
    Redirect::to(&format!("{page}?ok={key}")).into_response()
}

/// Back to `page` with an error text.
fn back_error(page: &str, message: &str) -> Response {
    let short: String = message.chars().take(300).collect();
    Redirect::to(&format!("{page}?error={}", encode(&short))).into_response()
}

/// The signed-in member for a form post: CSRF checked first.
async fn poster(
    web: &WebState,
    headers: &HeaderMap,
    peer: &Peer,
    csrf: &str,
    back: &str,
) -> Result<Signed, Response> {
    session::check_csrf(headers, csrf).map_err(IntoResponse::into_response)?;
    signed_in(web, headers, peer, back).await
}

/// One API call made by a form, then back to `page`: with `ok` on success, with the
/// API's message when it refused (4xx); a server error is an error page.
async fn act(
    web: &WebState,
    s: &Signed,
    page: &str,
    ok: &str,
    (method, path, body): (Method, String, Option<Value>),
) -> Response {
    match web.api.call(&s.caller, method, &path, body.as_ref()).await {
        Ok((status, _)) if status.is_success() => back_ok(page, ok),
        Ok((status, answer)) if status.is_client_error() => back_error(page, &refusal(&answer)),
        Ok((status, answer)) => crate::api::api_error(status, &answer).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The message of an API refusal.
fn refusal(answer: &Value) -> String {
    answer["error"]["message"]
        .as_str()
        .unwrap_or("the request was refused")
        .to_owned()
}

/// The business's name for a page's heading (also checks membership: a non-member
/// gets the API's 404).
async fn business_name(web: &WebState, s: &Signed, waba: &str) -> Result<String, WebError> {
    let b = web
        .api
        .ok(&s.caller, Method::GET, &api_base(waba), None)
        .await?;
    Ok(b["name"].as_str().unwrap_or_default().to_owned())
}

/// A file of the team API passed through to the browser of a signed-in member
/// (QR codes, CSV): same origin, no token in any URL. `download` names the file
/// when it should be saved rather than shown.
async fn pass_file(
    web: &WebState,
    headers: &HeaderMap,
    peer: &Peer,
    path: &str,
    download: Option<&str>,
) -> Response {
    let s = match signed_in(web, headers, peer, "/app/biz").await {
        Ok(s) => s,
        Err(_) => return StatusCode::UNAUTHORIZED.into_response(),
    };
    match web
        .api
        .forward(&s.caller, Method::GET, path, &host(headers), Body::empty())
        .await
    {
        Ok(mut resp) => {
            let h = resp.headers_mut();
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
            if let Some(name) = download
                && resp.status().is_success()
                && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
            {
                resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}

/// The browser's `Host`, passed on to calls whose answer holds absolute links (a
/// link's `url` and QR code are built from it when no public URL is configured).
fn host(headers: &HeaderMap) -> Vec<(header::HeaderName, HeaderValue)> {
    headers
        .get(header::HOST)
        .map(|h| (header::HOST, h.clone()))
        .into_iter()
        .collect()
}

/// A GET of the API as JSON, with the browser's `Host` passed on.
async fn get_with_host(
    web: &WebState,
    s: &Signed,
    headers: &HeaderMap,
    path: &str,
) -> Result<Value, WebError> {
    let resp = web
        .api
        .forward(&s.caller, Method::GET, path, &host(headers), Body::empty())
        .await?;
    let status = resp.status();
    let bytes = http_body_util::Limited::new(resp.into_body(), 8 * 1024 * 1024)
        .collect()
        .await
        .map_err(|e| WebError::Unexpected(format!("api body: {e}")))?
        .to_bytes();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() {
        Ok(value)
    } else {
        Err(crate::api::api_error(status, &value))
    }
}
