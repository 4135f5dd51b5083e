//! Signing in with a phone number and the code sent to it (the API's register and
//! verify calls; the browser becomes a device named "Web"), signing out, and the
//! language switch.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Peer, html, safe_next};
use crate::WebState;
use crate::api::Caller;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::session::{self, LANG_COOKIE, SESSION_COOKIE};

/// How long the session cookie lives (the device token does not expire).
const SESSION_SECS: u64 = 60 * 60 * 24 * 90;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    error: Option<String>,
    phone: String,
    next: String,
    registration: Option<String>,
    dev_code: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn form(
    State(web): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let (csrf, cookie) = session::csrf(&headers, web.config.secure_cookies);
    let page = LoginPage {
        t: Tr {
            lang: Lang::of(&headers),
        },
        csrf,
        signed_in: false,
        error: None,
        phone: String::new(),
        next: safe_next(q.next.as_deref().unwrap_or("/app")),
        registration: None,
        dev_code: None,
    };
    html(&page, cookie)
}

#[derive(Deserialize)]
pub struct PhoneForm {
    csrf: String,
    phone: String,
    #[serde(default)]
    next: String,
}

pub async fn phone(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Form(f): Form<PhoneForm>,
) -> Result<Response, WebError> {
    session::check_csrf(&headers, &f.csrf)?;
    let caller = Caller {
        token: None,
        peer: peer.0,
    };
    let phone = f.phone.trim().to_owned();
    let (status, body) = web
        .api
        .call(
            &caller,
            Method::POST,
            "/v1/accounts/register",
            Some(&json!({ "phone": phone })),
        )
        .await?;
    let mut page = LoginPage {
        t: Tr {
            lang: Lang::of(&headers),
        },
        csrf: f.csrf,
        signed_in: false,
        error: None,
        phone,
        next: safe_next(&f.next),
        registration: None,
        dev_code: None,
    };
    if status.is_success() {
        page.registration = body["registration_id"].as_str().map(str::to_owned);
        page.dev_code = body["dev_code"].as_str().map(str::to_owned);
    } else if status.is_client_error() {
        page.error = Some(
            body["error"]["message"]
                .as_str()
                .unwrap_or("invalid phone number")
                .to_owned(),
        );
    } else {
        return Err(crate::api::api_error(status, &body));
    }
    html(&page, None)
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    registration_id: String,
    code: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    next: String,
}

pub async fn code(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Form(f): Form<CodeForm>,
) -> Result<Response, WebError> {
    session::check_csrf(&headers, &f.csrf)?;
    let caller = Caller {
        token: None,
        peer: peer.0,
    };
    let (status, body) = web
        .api
        .call(
            &caller,
            Method::POST,
            "/v1/accounts/verify",
            Some(&json!({
                "registration_id": f.registration_id,
                "code": f.code.trim(),
                "device_name": "Web",
            })),
        )
        .await?;
    if let (true, Some(token)) = (status.is_success(), body["token"].as_str()) {
        let mut resp = Redirect::to(&safe_next(&f.next)).into_response();
        resp.headers_mut().append(
            header::SET_COOKIE,
            session::set_cookie(
                SESSION_COOKIE,
                token,
                SESSION_SECS,
                web.config.secure_cookies,
            ),
        );
        return Ok(resp);
    }
    if !status.is_client_error() {
        return Err(crate::api::api_error(status, &body));
    }
    let page = LoginPage {
        t: Tr {
            lang: Lang::of(&headers),
        },
        csrf: f.csrf,
        signed_in: false,
        error: Some(
            body["error"]["message"]
                .as_str()
                .unwrap_or("wrong code")
                .to_owned(),
        ),
        phone: f.phone,
        next: safe_next(&f.next),
        registration: Some(f.registration_id),
        dev_code: None,
    };
    html(&page, None)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(web): State<WebState>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, WebError> {
    session::check_csrf(&headers, &f.csrf)?;
    // The browser's device is revoked, not just forgotten: a copied cookie is dead too.
    if let Some(token) = session::cookie(&headers, SESSION_COOKIE) {
        let caller = Caller {
            token: Some(token),
            peer: None,
        };
        web.api
            .call(&caller, Method::DELETE, "/v1/me/devices/current", None)
            .await?;
    }
    let mut resp = Redirect::to("/app/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(SESSION_COOKIE, "", 0, web.config.secure_cookies),
    );
    Ok(resp)
}

#[derive(Deserialize)]
pub struct LangForm {
    csrf: String,
    lang: String,
}

pub async fn language(
    State(web): State<WebState>,
    headers: HeaderMap,
    Form(f): Form<LangForm>,
) -> Result<Response, WebError> {
    session::check_csrf(&headers, &f.csrf)?;
    let lang = Lang::parse(&f.lang).unwrap_or(Lang::En);
    // Back to where the switch was pressed, if that was a page of the app.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned()))
        .map_or_else(|| "/app".to_owned(), |p| safe_next(&p));
    let mut resp = Redirect::to(&back).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(
            LANG_COOKIE,
            lang.code(),
            60 * 60 * 24 * 365,
            web.config.secure_cookies,
        ),
    );
    Ok(resp)
}
