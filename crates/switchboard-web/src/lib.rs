//! The web app, rendered on the server and served by `switchboard serve` itself: no
//! front-end build step, a little JavaScript for live updates over the WebSocket.
//!
//! **A client of the public API, in process.** Every page gets its data, and every
//! form does its work, by calling the JSON API (`/v1/…`) through the API's own
//! router ([`api::Api`], a `tower` call, no network), with the signed-in device's
//! token. So the web app can do nothing the API does not allow: authorization,
//! validation and limits live in one place, and the browser is just another device.
//!
//! Security: the session cookie holds the device token (HttpOnly, SameSite=Lax,
//! Secure when configured; the server stores only its hash, as for every device);
//! forms carry a double-submit CSRF token and POSTs must come from this origin;
//! every answer has a strict Content-Security-Policy (no inline script or style).

pub mod api;
mod assets;
mod error;
mod i18n;
mod pages;
mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};

pub use error::WebError;
pub use session::websocket_token;

/// How the web app is served.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (the server is reached over HTTPS, directly or through
    /// a proxy).
    pub secure_cookies: bool,
}

/// What every page handler shares.
pub(crate) struct Web {
    pub api: api::Api,
    pub config: WebConfig,
}

pub(crate) type WebState = Arc<Web>;

/// The web app's routes (`/`, `/app/…`, `/static/…`), calling `api` in process.
pub fn router(api: Router, config: WebConfig) -> Router {
    let web = Arc::new(Web {
        api: api::Api::new(api),
        config,
    });
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route(
            "/app/login",
            get(pages::login::form).post(pages::login::phone),
        )
        .route("/app/verify", post(pages::login::code))
        .route("/app/logout", post(pages::login::logout))
        .route("/app/lang", post(pages::login::language))
        .route("/app", get(pages::chats::list))
        .route("/app/new", post(pages::chats::start))
        .route("/app/groups", post(pages::chats::create_group))
        .route("/app/chats/{chat_id}", get(pages::chats::show))
        .route("/app/businesses/{user_id}", get(pages::business::profile))
        .route(
            "/app/businesses/{user_id}/products/{product_id}/image",
            get(pages::business::product_image),
        )
        .route(
            "/app/businesses/{user_id}/order",
            post(pages::business::order),
        )
        .route(
            "/c/{code}",
            get(pages::business::link).post(pages::business::open_link),
        )
        .route("/app/biz", get(pages::inbox::businesses))
        .route("/app/biz/{waba_id}", get(pages::inbox::index))
        .route(
            "/app/biz/{waba_id}/c/{customer}",
            get(pages::inbox::conversation),
        )
        .route(
            "/app/biz/{waba_id}/c/{customer}/send",
            post(pages::inbox::send),
        )
        .route(
            "/app/biz/{waba_id}/c/{customer}/assign",
            post(pages::inbox::assign),
        )
        .route(
            "/app/biz/{waba_id}/c/{customer}/status",
            post(pages::inbox::status),
        )
        .route(
            "/app/biz/{waba_id}/c/{customer}/labels",
            post(pages::inbox::label),
        )
        .route(
            "/app/biz/{waba_id}/c/{customer}/notes",
            post(pages::inbox::note),
        )
        .route(
            "/app/biz/{waba_id}/orders/{order_id}/status",
            post(pages::inbox::order_status),
        )
        .route("/app/media/{media_id}", get(pages::media::file))
        .route(
            "/app/media/{media_id}/thumbnail",
            get(pages::media::thumbnail),
        )
        .route("/app/upload", post(pages::media::upload))
        .route("/static/{file}", get(assets::serve))
        .merge(pages::settings::routes())
        .merge(pages::shop::routes())
        .merge(pages::admin::routes())
        .layer(middleware::from_fn(security_headers))
        .with_state(web)
}

/// The Content-Security-Policy and friends, on every answer of the web app.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
             media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}
