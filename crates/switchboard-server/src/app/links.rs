//! Click-to-chat links and their QR codes: the team creates a short code (with an
//! optional prefilled message), prints its QR code, and a customer who scans it
//! lands in a chat with the business. A link is a record of kind `link` in the
//! business (with its open count) and in `GLOBAL_TENANT` (so the code alone finds
//! the business); both are written and deleted in one atomic batch. The public side
//! (`/v1/links/…`) resolves codes and, for a signed-in customer, opens the chat.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_app::Role;
use switchboard_app::links::{self, KIND_LINK, Link, LinkIndex, MAX_LINKS, NewLink};
use switchboard_store::{Business, Expect, GLOBAL_TENANT, RecordWrite, StoreError};

use super::{list, load, member, to_value, update};
use crate::admin::{JsonBody, UrlPath, UrlQuery};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/biz/{waba_id}/links", get(team_list).post(create))
        .route(
            "/v1/biz/{waba_id}/links/{code}",
            axum::routing::delete(remove),
        )
        .route("/v1/biz/{waba_id}/links/{code}/qr.png", get(team_png))
        .route("/v1/biz/{waba_id}/links/{code}/qr.svg", get(team_svg))
        .route("/v1/links/{code}", get(resolve))
        .route("/v1/links/{code}/qr.png", get(public_png))
        .route("/v1/links/{code}/qr.svg", get(public_svg))
        .route("/v1/links/{code}/open", post(open))
        .route("/v1/links/phone/{digits}", get(by_phone))
}

fn unknown_link() -> ApiError {
    ApiError::not_found("no such link (it may have been deleted)")
}

fn base(state: &SharedState, headers: &HeaderMap) -> String {
    crate::cloud::public_base(state, headers)
}

/// The business a code belongs to, and the link; 404 for an unknown or deleted code.
async fn find(state: &SharedState, code: &str) -> ApiResult<(Business, Link)> {
    if !links::valid_code(code) {
        return Err(unknown_link());
    }
    let (index, _) = load::<LinkIndex>(state, GLOBAL_TENANT, KIND_LINK, code)
        .await?
        .ok_or_else(unknown_link)?;
    let (link, _) = load::<Link>(state, &index.waba_id, KIND_LINK, code)
        .await?
        .ok_or_else(unknown_link)?;
    let business = state
        .business
        .business(&index.waba_id)
        .await?
        .ok_or_else(unknown_link)?;
    Ok((business, link))
}

/// A link of the team's business; 404 when it is not theirs.
async fn team_link(state: &SharedState, waba_id: &str, code: &str) -> ApiResult<(Link, u64)> {
    if !links::valid_code(code) {
        return Err(unknown_link());
    }
    load::<Link>(state, waba_id, KIND_LINK, code)
        .await?
        .ok_or_else(unknown_link)
}

fn business_json(b: &Business) -> Value {
    json!({"user_id": b.user_id, "name": b.name, "verified": b.verification == "verified"})
}

async fn create(
    State(state): State<SharedState>,
    auth: Authed,
    headers: HeaderMap,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<NewLink>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Admin).await?;
    let text = links::prefill(req.text.as_deref())?;
    if state
        .business
        .count_records(&waba_id, KIND_LINK, "")
        .await?
        >= MAX_LINKS
    {
        return Err(switchboard_app::AppError::limit(
            "too_many_links",
            format!("a business has at most {MAX_LINKS} links; delete unused ones"),
        )
        .into());
    }
    let index = to_value(&LinkIndex {
        waba_id: waba_id.clone(),
    })?;
    // A fresh code collides with an existing one about never; try again if so.
    for _ in 0..4 {
        let link = Link {
            code: links::new_code(rand::random()),
            text: text.clone(),
            created_by: m.user_id().to_owned(),
            created_at: state.now(),
            opens: 0,
        };
        let writes = [
            RecordWrite::put(
                &waba_id,
                KIND_LINK,
                &link.code,
                to_value(&link)?,
                Expect::Absent,
            ),
            RecordWrite::put(
                GLOBAL_TENANT,
                KIND_LINK,
                &link.code,
                index.clone(),
                Expect::Absent,
            ),
        ];
        match state.business.apply_records(&writes, state.now()).await {
            Ok(_) => {
                return Ok((
                    StatusCode::CREATED,
                    ApiJson(link.json(&base(&state, &headers))),
                ));
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        "could not pick a free code; try again",
    ))
}

async fn team_list(
    State(state): State<SharedState>,
    auth: Authed,
    headers: HeaderMap,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let base = base(&state, &headers);
    let mut all: Vec<Link> = list::<Link>(&state, &waba_id, KIND_LINK, "")
        .await?
        .into_iter()
        .map(|(_, l, _)| l)
        .collect();
    all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.code.cmp(&b.code)));
    let out: Vec<Value> = all.iter().map(|l| l.json(&base)).collect();
    Ok(ApiJson(json!({ "links": out })))
}

async fn remove(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, code)): UrlPath<(String, String)>,
) -> ApiResult<StatusCode> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    team_link(&state, &waba_id, &code).await?;
    let writes = [
        RecordWrite::delete(&waba_id, KIND_LINK, &code, Expect::Any),
        RecordWrite::delete(GLOBAL_TENANT, KIND_LINK, &code, Expect::Any),
    ];
    state.business.apply_records(&writes, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Clone, Copy)]
enum Format {
    Png,
    Svg,
}

/// The QR code of `url` as an image response.
fn qr(url: &str, format: Format) -> ApiResult<Response> {
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| ApiError::internal(&StoreError::Format(format!("qr code of {url:?}: {e}"))))?;
    let cache = (header::CACHE_CONTROL, "private, max-age=300");
    Ok(match format {
        Format::Png => {
            let modules: Vec<bool> = code
                .to_colors()
                .iter()
                .map(|c| *c == qrcode::Color::Dark)
                .collect();
            let png = links::qr_png(&modules, code.width(), 8);
            ([(header::CONTENT_TYPE, "image/png"), cache], png).into_response()
        }
        Format::Svg => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(256, 256)
                .build();
            ([(header::CONTENT_TYPE, "image/svg+xml"), cache], svg).into_response()
        }
    })
}

async fn team_qr(
    state: SharedState,
    auth: Authed,
    headers: HeaderMap,
    waba_id: String,
    code: String,
    format: Format,
) -> ApiResult<Response> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let (link, _) = team_link(&state, &waba_id, &code).await?;
    qr(
        &links::link_url(&base(&state, &headers), &link.code),
        format,
    )
}

async fn team_png(
    State(state): State<SharedState>,
    auth: Authed,
    headers: HeaderMap,
    UrlPath((waba_id, code)): UrlPath<(String, String)>,
) -> ApiResult<Response> {
    team_qr(state, auth, headers, waba_id, code, Format::Png).await
}

async fn team_svg(
    State(state): State<SharedState>,
    auth: Authed,
    headers: HeaderMap,
    UrlPath((waba_id, code)): UrlPath<(String, String)>,
) -> ApiResult<Response> {
    team_qr(state, auth, headers, waba_id, code, Format::Svg).await
}

async fn public_qr(
    state: SharedState,
    headers: HeaderMap,
    code: String,
    format: Format,
) -> ApiResult<Response> {
    let (_, link) = find(&state, &code).await?;
    qr(
        &links::link_url(&base(&state, &headers), &link.code),
        format,
    )
}

async fn public_png(
    State(state): State<SharedState>,
    headers: HeaderMap,
    UrlPath(code): UrlPath<String>,
) -> ApiResult<Response> {
    public_qr(state, headers, code, Format::Png).await
}

async fn public_svg(
    State(state): State<SharedState>,
    headers: HeaderMap,
    UrlPath(code): UrlPath<String>,
) -> ApiResult<Response> {
    public_qr(state, headers, code, Format::Svg).await
}

async fn resolve(
    State(state): State<SharedState>,
    headers: HeaderMap,
    UrlPath(code): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let (business, link) = find(&state, &code).await?;
    Ok(ApiJson(json!({
        "code": link.code,
        "text": link.text,
        "url": links::link_url(&base(&state, &headers), &link.code),
        "business": business_json(&business),
    })))
}

async fn open(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(code): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let (business, link) = find(&state, &code).await?;
    if business.user_id == auth.user_id {
        return Err(ApiError::bad_request(
            "invalid_request",
            "this is your own business's link; customers open it",
        ));
    }
    let chat = state
        .store
        .direct_chat(&auth.user_id, &business.user_id, state.now())
        .await?;
    let counted = update::<Link, _>(&state, &business.waba_id, KIND_LINK, &code, |current| {
        Ok(current.map(|mut l| {
            l.opens = l.opens.saturating_add(1);
            l
        }))
    })
    .await?;
    if counted.is_none() {
        return Err(unknown_link());
    }
    Ok(ApiJson(json!({
        "chat_id": chat.chat_id,
        "text": link.text,
        "business": business_json(&business),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneQuery {
    text: Option<String>,
}

/// A number link (`/v1/links/phone/{digits}?text=`): the business behind a phone
/// number, with the prefilled text checked like a link's.
async fn by_phone(
    State(state): State<SharedState>,
    UrlPath(digits): UrlPath<String>,
    UrlQuery(q): UrlQuery<PhoneQuery>,
) -> ApiResult<ApiJson<Value>> {
    let user_id = links::phone_digits(&digits)?;
    let text = links::prefill(q.text.as_deref())?;
    let business = state
        .business
        .business_by_user(&user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no business with this number"))?;
    Ok(ApiJson(json!({
        "text": text,
        "business": business_json(&business),
    })))
}
