//! Click-to-chat links: create one with a prefilled text, see how often each was
//! opened, show its QR code (served through this origin) and download it as PNG.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Flash, act, api_base, business_name, get_with_host, page_url, pass_file, poster, tr};
use crate::WebState;
use crate::i18n::Tr;
use crate::pages::{Peer, encode, html, signed_in};
use crate::session;

pub struct LinkView {
    pub code: String,
    pub text: String,
    pub url: String,
    pub opens: u64,
}

#[derive(Template)]
#[template(path = "shop_links.html")]
struct LinksPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    notice: Option<String>,
    error: Option<String>,
    links: Vec<LinkView>,
}

/// `GET /app/biz/{waba_id}/links`
pub async fn page(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let s = signed_in(&web, &headers, &peer, &page_url(&waba, "links")).await?;
    let t = tr(&headers);
    let page = async {
        let business = business_name(&web, &s, &waba).await?;
        let path = format!("{}/links", api_base(&waba));
        let list = get_with_host(&web, &s, &headers, &path).await?;
        let links = list["links"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| LinkView {
                code: l["code"].as_str().unwrap_or_default().to_owned(),
                text: l["text"].as_str().unwrap_or_default().to_owned(),
                url: l["url"].as_str().unwrap_or_default().to_owned(),
                opens: l["opens"].as_u64().unwrap_or(0),
            })
            .collect();
        let (notice, error) = flash.texts(&t);
        let (csrf, cookie) = session::csrf(&headers, web.config.secure_cookies);
        html(
            &LinksPage {
                t,
                csrf,
                signed_in: true,
                waba_id: waba.clone(),
                business,
                notice,
                error,
                links,
            },
            cookie,
        )
    };
    page.await.map_err(IntoResponse::into_response)
}

#[derive(Deserialize)]
pub struct LinkForm {
    csrf: String,
    #[serde(default)]
    text: String,
}

/// `POST /app/biz/{waba_id}/links`
pub async fn create(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(f): Form<LinkForm>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "links");
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let text = f.text.trim();
    let body = if text.is_empty() {
        json!({})
    } else {
        json!({ "text": text })
    };
    let path = format!("{}/links", api_base(&waba));
    Ok(act(&web, &s, &back, "created", (Method::POST, path, Some(body))).await)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /app/biz/{waba_id}/links/{code}/delete`
pub async fn delete(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, code)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "links");
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let path = format!("{}/links/{}", api_base(&waba), encode(&code));
    Ok(act(&web, &s, &back, "deleted", (Method::DELETE, path, None)).await)
}

/// `GET /app/biz/{waba_id}/links/{code}/qr.svg`: the QR code, shown inline.
pub async fn qr_svg(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, code)): Path<(String, String)>,
) -> Response {
    let path = format!("{}/links/{}/qr.svg", api_base(&waba), encode(&code));
    pass_file(&web, &headers, &peer, &path, None).await
}

/// `GET /app/biz/{waba_id}/links/{code}/qr.png`: the QR code as a download.
pub async fn qr_png(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, code)): Path<(String, String)>,
) -> Response {
    let path = format!("{}/links/{}/qr.png", api_base(&waba), encode(&code));
    let name: String = code.chars().filter(char::is_ascii_alphanumeric).collect();
    pass_file(
        &web,
        &headers,
        &peer,
        &path,
        Some(&format!("qr-{name}.png")),
    )
    .await
}
