//! What a customer sees of a business: its profile with the verified badge, opening
//! hours, its catalog with a cart that sends an order into the chat, and the page a
//! click-to-chat link or QR code opens.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Peer, Signed, encode, html, money, signed_in};
use crate::WebState;
use crate::api::Caller;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::session;

pub struct ProductRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub price: String,
    pub available: bool,
    pub image: Option<String>,
}

#[derive(Template)]
#[template(path = "business.html")]
struct BusinessPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    error: Option<String>,
    user_id: String,
    name: String,
    verified: bool,
    category: String,
    description: String,
    address: String,
    hours: Vec<String>,
    email: String,
    websites: Vec<String>,
    products: Vec<ProductRow>,
}

const DAYS: [(&str, &str); 7] = [
    ("mon", "day-mon"),
    ("tue", "day-tue"),
    ("wed", "day-wed"),
    ("thu", "day-thu"),
    ("fri", "day-fri"),
    ("sat", "day-sat"),
    ("sun", "day-sun"),
];

/// Opening hours as lines ("Monday: 07:00–18:00"): structured hours by weekday, or
/// the business's own text.
fn hours_lines(t: &Tr, hours: &Value) -> Vec<String> {
    if let Some(s) = hours.as_str() {
        return s.lines().map(str::to_owned).collect();
    }
    let Some(weekly) = hours.get("weekly") else {
        return Vec::new();
    };
    let mut lines: Vec<String> = DAYS
        .iter()
        .map(|(day, key)| {
            let spans: Vec<String> = weekly[*day]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| Some(format!("{}–{}", i["open"].as_str()?, i["close"].as_str()?)))
                .collect();
            let when = if spans.is_empty() {
                t.t("closed")
            } else {
                spans.join(", ")
            };
            format!("{}: {when}", t.t(key))
        })
        .collect();
    if let Some(tz) = hours["timezone"].as_str() {
        lines.push(format!("({tz})"));
    }
    lines
}

/// The business profile and catalog page, with an error (a refused order) shown.
async fn render(
    web: &WebState,
    headers: &HeaderMap,
    s: &Signed,
    user_id: &str,
    error: Option<String>,
) -> Result<Response, WebError> {
    let t = Tr {
        lang: Lang::of(headers),
    };
    let path = format!("/v1/businesses/{}", encode(user_id));
    let b = web.api.ok(&s.caller, Method::GET, &path, None).await?;
    let (status, catalog) = web
        .api
        .call(&s.caller, Method::GET, &format!("{path}/catalog"), None)
        .await?;
    let products = if status.is_success() {
        catalog["products"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| ProductRow {
                id: p["id"].as_str().unwrap_or_default().to_owned(),
                name: p["name"].as_str().unwrap_or_default().to_owned(),
                description: p["description"].as_str().unwrap_or_default().to_owned(),
                price: money(&p["price"]),
                available: p["available"].as_bool().unwrap_or(false),
                // Through this server (same origin): the signed link stays here.
                image: p["image_url"].as_str().map(|_| {
                    format!(
                        "/app/businesses/{}/products/{}/image",
                        encode(user_id),
                        encode(p["id"].as_str().unwrap_or_default())
                    )
                }),
            })
            .collect()
    } else {
        Vec::new()
    };
    let text = |k: &str| b[k].as_str().unwrap_or_default().to_owned();
    let (csrf, cookie) = session::csrf(headers, web.config.secure_cookies);
    html(
        &BusinessPage {
            hours: hours_lines(&t, &b["hours"]),
            t,
            csrf,
            signed_in: true,
            error,
            user_id: text("user_id"),
            name: text("name"),
            verified: b["verified"].as_bool().unwrap_or(false),
            category: text("category"),
            description: text("description"),
            address: text("address"),
            email: text("email"),
            websites: b["websites"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|w| w.starts_with("https://") || w.starts_with("http://"))
                .map(str::to_owned)
                .collect(),
            products,
        },
        cookie,
    )
}

pub async fn profile(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(user_id): Path<String>,
) -> Result<Response, Response> {
    let back = format!("/app/businesses/{}", encode(&user_id));
    let s = signed_in(&web, &headers, &peer, &back).await?;
    render(&web, &headers, &s, &user_id, None)
        .await
        .map_err(IntoResponse::into_response)
}

/// The direct chat with a user (made on first use).
async fn chat_with(web: &WebState, caller: &Caller, user_id: &str) -> Result<String, WebError> {
    let chat = web
        .api
        .ok(
            caller,
            Method::POST,
            "/v1/chats",
            Some(&json!({"kind": "direct", "with": format!("+{user_id}")})),
        )
        .await?;
    chat["chat_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| WebError::Unexpected("chat without chat_id".into()))
}

/// The cart: `qty_{product_id}` fields (0 = not ordered) and a note.
pub async fn order(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(user_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    session::check_csrf(&headers, field("csrf").unwrap_or(""))
        .map_err(IntoResponse::into_response)?;
    let back = format!("/app/businesses/{}", encode(&user_id));
    let s = signed_in(&web, &headers, &peer, &back).await?;
    let t = Tr {
        lang: Lang::of(&headers),
    };
    let mut items = Vec::new();
    for (name, value) in &fields {
        let Some(id) = name.strip_prefix("qty_") else {
            continue;
        };
        match value.trim().parse::<u32>() {
            Ok(0) => {}
            Ok(q) => items.push(json!({"product_id": id, "quantity": q})),
            // The API explains what is wrong with a quantity.
            Err(_) => items.push(json!({"product_id": id, "quantity": value})),
        }
    }
    let again = |error: String| async {
        render(&web, &headers, &s, &user_id, Some(error))
            .await
            .map_err(IntoResponse::into_response)
    };
    if items.is_empty() {
        return again(t.t("biz-empty-order")).await;
    }
    let mut body = json!({ "items": items });
    if let Some(note) = field("note").map(str::trim).filter(|n| !n.is_empty()) {
        body["note"] = json!(note);
    }
    let path = format!("/v1/businesses/{}/orders", encode(&user_id));
    let (status, answer) = web
        .api
        .call(&s.caller, Method::POST, &path, Some(&body))
        .await
        .map_err(IntoResponse::into_response)?;
    if status.is_client_error() {
        let msg = answer["error"]["message"]
            .as_str()
            .unwrap_or("the order was refused")
            .to_owned();
        return again(msg).await;
    }
    if !status.is_success() {
        return Err(crate::api::api_error(status, &answer).into_response());
    }
    let chat = chat_with(&web, &s.caller, &user_id)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(Redirect::to(&format!("/app/chats/{}", encode(&chat))).into_response())
}

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    code: String,
    user_id: String,
    name: String,
    verified: bool,
    text: String,
}

/// `GET /c/{code}`: what a scanned QR code or a click-to-chat link opens (no sign-in
/// needed to see whose it is).
pub async fn link(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let caller = Caller {
        token: None,
        peer: peer.0,
    };
    let l = web
        .api
        .ok(
            &caller,
            Method::GET,
            &format!("/v1/links/{}", encode(&code)),
            None,
        )
        .await?;
    let (csrf, cookie) = session::csrf(&headers, web.config.secure_cookies);
    let b = &l["business"];
    html(
        &LinkPage {
            t: Tr {
                lang: Lang::of(&headers),
            },
            csrf,
            signed_in: session::cookie(&headers, session::SESSION_COOKIE).is_some(),
            code: l["code"].as_str().unwrap_or_default().to_owned(),
            user_id: b["user_id"].as_str().unwrap_or_default().to_owned(),
            name: b["name"].as_str().unwrap_or_default().to_owned(),
            verified: b["verified"].as_bool().unwrap_or(false),
            text: l["text"].as_str().unwrap_or_default().to_owned(),
        },
        cookie,
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /c/{code}`: opens the chat (signing in first if needed) with the link's
/// prefilled text in the composer.
pub async fn open_link(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(code): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Response> {
    session::check_csrf(&headers, &f.csrf).map_err(IntoResponse::into_response)?;
    let back = format!("/c/{}", encode(&code));
    let s = signed_in(&web, &headers, &peer, &back).await?;
    let opened = web
        .api
        .ok(
            &s.caller,
            Method::POST,
            &format!("/v1/links/{}/open", encode(&code)),
            None,
        )
        .await
        .map_err(IntoResponse::into_response)?;
    let chat = opened["chat_id"].as_str().unwrap_or_default();
    let mut to = format!("/app/chats/{}", encode(chat));
    if let Some(text) = opened["text"].as_str().filter(|t| !t.is_empty()) {
        to.push_str(&format!("?draft={}", encode(text)));
    }
    Ok(Redirect::to(&to).into_response())
}

/// `GET /app/businesses/{user_id}/products/{product_id}/image`: a catalog
/// product's first image. Customers may not fetch a business's uploads by id; the
/// catalog gives them a short-lived signed link, which this route follows in
/// process so the browser never sees it.
pub async fn product_image(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((user_id, product_id)): Path<(String, String)>,
) -> Response {
    let Ok(s) = signed_in(&web, &headers, &peer, "/app").await else {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    };
    let path = format!("/v1/businesses/{}/catalog", encode(&user_id));
    let catalog = match web.api.ok(&s.caller, Method::GET, &path, None).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let link = catalog["products"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["id"].as_str() == Some(product_id.as_str()))
        .and_then(|p| p["image_url"].as_str())
        .and_then(|u| u.find("/v1/media/").map(|i| u[i..].to_owned()));
    let Some(link) = link else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    match web
        .api
        .forward(
            &s.caller,
            Method::GET,
            &link,
            &[],
            axum::body::Body::empty(),
        )
        .await
    {
        Ok(mut resp) => {
            resp.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("private, max-age=600"),
            );
            resp
        }
        Err(e) => e.into_response(),
    }
}
