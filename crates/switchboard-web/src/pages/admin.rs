//! The platform admin console (`/app/admin/…`): the work queues of the platform
//! operator (verification applications, look-alike business names held for review,
//! message templates waiting for review) and the businesses with their standing,
//! usage, invoices and limits.
//!
//! It exists so that an operator needs no `curl` or CLI for the daily review work,
//! and it is a client of the admin API (`/admin/v1/…`) like the CLI: every page and
//! every form calls it in process with the platform admin token as a bearer token,
//! so the admin API stays the one place that checks and validates.
//!
//! Security: the admin signs in with the admin token itself (checked by the admin
//! API); it is kept in its own cookie `sb_admin` (HttpOnly, SameSite=Strict, path
//! `/app/admin`, Secure when configured, hex-encoded so any token fits), apart from
//! user sessions. Every form carries the CSRF token; actions redirect back
//! (post/redirect/get) with a notice or the API's error message.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Peer, encode, html};
use crate::WebState;
use crate::api::{Caller, api_error};
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::session;

/// The admin token's cookie (hex of the token).
const ADMIN_COOKIE: &str = "sb_admin";
/// Where the admin cookie is sent: the console only.
const ADMIN_PATH: &str = "/app/admin";
const LOGIN: &str = "/app/admin/login";
/// How long an admin stays signed in: a working day.
const ADMIN_MAX_AGE: u64 = 60 * 60 * 12;
/// Messaging limit tiers an admin may set by hand.
const TIERS: [&str; 5] = [
    "TIER_250",
    "TIER_2K",
    "TIER_10K",
    "TIER_100K",
    "TIER_UNLIMITED",
];
/// Notices a page may show after an action (anything else is ignored).
const NOTICES: [&str; 8] = [
    "verified",
    "rejected",
    "name-approved",
    "name-rejected",
    "template-approved",
    "template-rejected",
    "throughput",
    "tier",
];

pub fn routes() -> Router<WebState> {
    Router::new()
        .route(LOGIN, get(login_form).post(login))
        .route("/app/admin/logout", post(logout))
        .route("/app/admin", get(verifications))
        .route(
            "/app/admin/verifications/{waba_id}",
            post(decide_verification),
        )
        .route("/app/admin/names", get(names))
        .route("/app/admin/names/{waba_id}", post(decide_name))
        .route("/app/admin/templates", get(templates))
        .route("/app/admin/templates/{template_id}", post(review_template))
        .route("/app/admin/businesses", get(businesses))
        .route("/app/admin/businesses/{waba_id}", get(business))
        .route(
            "/app/admin/businesses/{waba_id}/invoice.csv",
            get(invoice_csv),
        )
        .route(
            "/app/admin/businesses/{waba_id}/throughput",
            post(set_throughput),
        )
        .route("/app/admin/businesses/{waba_id}/tier", post(set_tier))
}

// --- the admin cookie ---

fn admin_cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let mut c = format!(
        "{ADMIN_COOKIE}={value}; Path={ADMIN_PATH}; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    );
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The admin token of the request's cookie, if any.
fn admin_token(headers: &HeaderMap) -> Option<String> {
    let hexed = session::cookie(headers, ADMIN_COOKIE)?;
    let bytes = hex::decode(hexed).ok()?;
    String::from_utf8(bytes).ok().filter(|t| !t.is_empty())
}

/// To the sign-in page, forgetting the cookie (it is missing or no longer right).
fn to_login(web: &WebState) -> Response {
    let mut resp = Redirect::to(LOGIN).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        admin_cookie("", 0, web.config.secure_cookies),
    );
    resp
}

/// A page of the console: never kept in a cache (it shows what only the admin
/// may see).
fn private_html(page: &impl Template, cookie: Option<HeaderValue>) -> Result<Response, WebError> {
    let mut resp = html(page, cookie)?;
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The admin caller of a request (none: to the sign-in page).
fn admin(headers: &HeaderMap, peer: &Peer) -> Option<Caller> {
    admin_token(headers).map(|token| Caller {
        token: Some(token),
        peer: peer.0,
    })
}

/// A GET of the admin API for a page: 401 signs the admin out, other errors become
/// the error page.
async fn read(web: &WebState, caller: &Caller, path: &str) -> Result<Value, Response> {
    match web.api.call(caller, Method::GET, path, None).await {
        Ok((s, v)) if s.is_success() => Ok(v),
        Ok((StatusCode::UNAUTHORIZED, _)) => Err(to_login(web)),
        Ok((s, v)) => Err(api_error(s, &v).into_response()),
        Err(e) => Err(e.into_response()),
    }
}

/// An action on the admin API, then back to `back` with `notice` (or the API's
/// refusal as the page's error).
async fn act(
    web: &WebState,
    caller: &Caller,
    (method, path, body): (Method, String, Value),
    back: &str,
    notice: &str,
) -> Response {
    match web.api.call(caller, method, &path, Some(&body)).await {
        Ok((s, _)) if s.is_success() => {
            Redirect::to(&format!("{back}?notice={notice}")).into_response()
        }
        Ok((StatusCode::UNAUTHORIZED, _)) => to_login(web),
        Ok((s, v)) if s.is_client_error() => {
            let msg: String = v["error"]["message"]
                .as_str()
                .unwrap_or("refused")
                .chars()
                .take(300)
                .collect();
            Redirect::to(&format!("{back}?error={}", encode(&msg))).into_response()
        }
        Ok((s, v)) => api_error(s, &v).into_response(),
        Err(e) => e.into_response(),
    }
}

// --- what every page has ---

/// The frame of every admin page: language, CSRF token, the notice or error of the
/// last action.
pub struct Frame {
    pub t: Tr,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// Which section the navigation marks as current.
    pub section: &'static str,
}

#[derive(Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    month: String,
}

fn frame(
    web: &WebState,
    headers: &HeaderMap,
    flash: &Flash,
    section: &'static str,
) -> (Frame, Option<HeaderValue>) {
    let t = Tr {
        lang: Lang::of(headers),
    };
    let (csrf, cookie) = session::csrf(headers, web.config.secure_cookies);
    let notice = NOTICES
        .contains(&flash.notice.as_str())
        .then(|| t.t(&format!("admin-notice-{}", flash.notice)));
    let error =
        (!flash.error.is_empty()).then(|| flash.error.chars().take(300).collect::<String>());
    (
        Frame {
            t,
            csrf,
            notice,
            error,
            section,
        },
        cookie,
    )
}

fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::String(x) => x.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// `YYYY-MM-DD HH:MM UTC` of a millisecond timestamp, or nothing.
fn when(ms: &Value) -> String {
    ms.as_i64().map(super::utc_time).unwrap_or_default()
}

/// A verification status in the reader's language.
fn verification_text(t: &Tr, status: &str) -> String {
    match status {
        "pending" | "verified" | "rejected" => t.t(&format!("admin-verification-{status}")),
        "" | "none" | "unverified" => t.t("admin-verification-none"),
        other => other.to_owned(),
    }
}

// --- sign-in ---

#[derive(Template)]
#[template(path = "admin_login.html")]
struct LoginPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    wrong: bool,
}

/// The sign-in form; `wrong` after a refused token (answered 200 like any form
/// page with an error, so the browser logs no failed load).
fn login_page(web: &WebState, headers: &HeaderMap, wrong: bool) -> Result<Response, WebError> {
    let (f, cookie) = frame(web, headers, &Flash::default(), "login");
    private_html(
        &LoginPage {
            t: f.t,
            csrf: f.csrf,
            signed_in: false,
            wrong,
        },
        cookie,
    )
}

/// `GET /app/admin/login`: the sign-in form (straight to the console when signed in).
async fn login_form(State(web): State<WebState>, headers: HeaderMap) -> Response {
    if admin_token(&headers).is_some() {
        return Redirect::to(ADMIN_PATH).into_response();
    }
    login_page(&web, &headers, false).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    token: String,
}

/// `POST /app/admin/login`: the token is right when the admin API accepts it.
async fn login(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    session::check_csrf(&headers, &form.csrf)?;
    let token = form.token.trim();
    if token.is_empty() {
        return login_page(&web, &headers, true);
    }
    let caller = Caller {
        token: Some(token.to_owned()),
        peer: peer.0,
    };
    let (status, body) = web
        .api
        .call(&caller, Method::GET, "/admin/v1/businesses", None)
        .await?;
    if status == StatusCode::UNAUTHORIZED {
        return login_page(&web, &headers, true);
    }
    if !status.is_success() {
        return Err(api_error(status, &body));
    }
    let mut resp = Redirect::to(ADMIN_PATH).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        admin_cookie(
            &hex::encode(token),
            ADMIN_MAX_AGE,
            web.config.secure_cookies,
        ),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

/// `POST /app/admin/logout`: forgets the admin cookie.
async fn logout(
    State(web): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    session::check_csrf(&headers, &form.csrf)?;
    Ok(to_login(&web))
}

// --- decisions (verification, names, templates) ---

#[derive(Deserialize)]
struct Decision {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

impl Decision {
    fn reason(&self) -> Value {
        let r = self.reason.trim();
        if r.is_empty() { Value::Null } else { json!(r) }
    }
}

// --- verification queue ---

pub struct Application {
    pub waba_id: String,
    pub name: String,
    pub phone: String,
    pub legal_name: String,
    pub registration_number: String,
    pub country: String,
    pub address: String,
    pub website: String,
    pub submitted_at: String,
}

#[derive(Template)]
#[template(path = "admin_verifications.html")]
struct VerificationsPage {
    f: Frame,
    t: Tr,
    csrf: String,
    signed_in: bool,
    applications: Vec<Application>,
    has_more: bool,
}

fn application(v: &Value) -> Application {
    let a = &v["application"];
    Application {
        waba_id: s(v, "waba_id"),
        name: s(v, "name"),
        phone: s(v, "phone"),
        legal_name: s(a, "legal_name"),
        registration_number: s(a, "registration_number"),
        country: s(a, "country"),
        address: s(a, "address"),
        website: s(a, "website"),
        submitted_at: when(&a["submitted_at"]),
    }
}

/// `GET /app/admin`: pending verification applications, oldest first.
async fn verifications(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let v = read(
        &web,
        &caller,
        "/admin/v1/verifications?status=pending&limit=200",
    )
    .await?;
    let applications = v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(application)
        .collect();
    let (f, cookie) = frame(&web, &headers, &flash, "verifications");
    private_html(
        &VerificationsPage {
            t: f.t,
            csrf: f.csrf.clone(),
            signed_in: false,
            f,
            applications,
            has_more: v["has_more"].as_bool().unwrap_or(false),
        },
        cookie,
    )
    .map_err(IntoResponse::into_response)
}

/// `POST /app/admin/verifications/{waba_id}`: verify or reject (with a reason).
async fn decide_verification(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(form): Form<Decision>,
) -> Result<Response, Response> {
    session::check_csrf(&headers, &form.csrf).map_err(IntoResponse::into_response)?;
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let status = if form.decision == "verified" {
        "verified"
    } else {
        "rejected"
    };
    let call = (
        Method::POST,
        format!("/admin/v1/businesses/{}/verification", encode(&waba)),
        json!({"status": status, "reason": form.reason()}),
    );
    Ok(act(&web, &caller, call, ADMIN_PATH, status).await)
}

// --- held names ---

pub struct HeldName {
    pub waba_id: String,
    pub name: String,
    pub phone: String,
    pub requested: String,
    pub similar_to: String,
    pub similar_waba: String,
    pub requested_at: String,
    /// The characters of the requested name outside the Latin script, with their
    /// code points: what makes a look-alike visible to the reviewer.
    pub other_scripts: String,
}

/// `о U+043E, …`: the letters and digits of `name` outside the Latin blocks
/// (Basic Latin to Latin Extended-B, Latin Extended Additional), each once.
fn other_scripts(name: &str) -> String {
    let mut seen: Vec<char> = Vec::new();
    for c in name.chars() {
        let latin = u32::from(c) <= 0x024F || (0x1E00..=0x1EFF).contains(&u32::from(c));
        if !latin && c.is_alphanumeric() && !seen.contains(&c) {
            seen.push(c);
        }
    }
    seen.iter()
        .map(|c| format!("{c} U+{:04X}", u32::from(*c)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Template)]
#[template(path = "admin_names.html")]
struct NamesPage {
    f: Frame,
    t: Tr,
    csrf: String,
    signed_in: bool,
    names: Vec<HeldName>,
}

fn held_name(v: &Value) -> HeldName {
    let r = &v["review"];
    HeldName {
        waba_id: s(v, "waba_id"),
        name: s(v, "name"),
        phone: s(v, "phone"),
        requested: s(r, "requested"),
        other_scripts: other_scripts(r["requested"].as_str().unwrap_or_default()),
        similar_to: s(&r["similar_to"], "name"),
        similar_waba: s(&r["similar_to"], "waba_id"),
        requested_at: when(&r["requested_at"]),
    }
}

/// `GET /app/admin/names`: business names held as look-alikes of verified ones.
async fn names(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let v = read(&web, &caller, "/admin/v1/names?status=held&limit=200").await?;
    let names = v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(held_name)
        .collect();
    let (f, cookie) = frame(&web, &headers, &flash, "names");
    private_html(
        &NamesPage {
            t: f.t,
            csrf: f.csrf.clone(),
            signed_in: false,
            f,
            names,
        },
        cookie,
    )
    .map_err(IntoResponse::into_response)
}

/// `POST /app/admin/names/{waba_id}`: approve or reject a held name.
async fn decide_name(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(form): Form<Decision>,
) -> Result<Response, Response> {
    session::check_csrf(&headers, &form.csrf).map_err(IntoResponse::into_response)?;
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let (decision, notice) = if form.decision == "approve" {
        ("approve", "name-approved")
    } else {
        ("reject", "name-rejected")
    };
    let call = (
        Method::POST,
        format!("/admin/v1/businesses/{}/name-review", encode(&waba)),
        json!({"decision": decision, "reason": form.reason()}),
    );
    Ok(act(&web, &caller, call, "/app/admin/names", notice).await)
}

// --- template review ---

/// One part of a template, as the reviewer reads it.
pub struct Part {
    pub kind: String,
    pub text: String,
}

pub struct TemplateView {
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub waba_id: String,
    pub parts: Vec<Part>,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "admin_templates.html")]
struct TemplatesPage {
    f: Frame,
    t: Tr,
    csrf: String,
    signed_in: bool,
    templates: Vec<TemplateView>,
}

/// A template button: `label (url or phone number)`.
fn button_text(b: &Value) -> String {
    let text = s(b, "text");
    let target = [s(b, "url"), s(b, "phone_number")]
        .into_iter()
        .find(|x| !x.is_empty());
    match target {
        Some(to) => format!("{text} ({to})"),
        None => text,
    }
}

/// The components of a template as labelled parts (header, body, footer, buttons).
fn parts(t: &Tr, components: &Value) -> Vec<Part> {
    let mut out = Vec::new();
    for c in components.as_array().into_iter().flatten() {
        let kind = s(c, "type").to_ascii_uppercase();
        let label = match kind.as_str() {
            "HEADER" | "BODY" | "FOOTER" | "BUTTONS" => {
                t.t(&format!("admin-part-{}", kind.to_ascii_lowercase()))
            }
            _ => kind.clone(),
        };
        if kind == "BUTTONS" {
            for b in c["buttons"].as_array().into_iter().flatten() {
                out.push(Part {
                    kind: label.clone(),
                    text: button_text(b),
                });
            }
            continue;
        }
        let text = match (s(c, "text"), s(c, "format")) {
            (text, _) if !text.is_empty() => text,
            (_, format) => format,
        };
        out.push(Part { kind: label, text });
    }
    out
}

/// `GET /app/admin/templates`: templates waiting for review, oldest first.
async fn templates(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let v = read(
        &web,
        &caller,
        "/admin/v1/templates?status=PENDING&limit=200",
    )
    .await?;
    let (f, cookie) = frame(&web, &headers, &flash, "templates");
    let templates = v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| TemplateView {
            id: s(x, "id"),
            name: s(x, "name"),
            language: s(x, "language"),
            category: s(x, "category"),
            waba_id: s(x, "waba_id"),
            parts: parts(&f.t, &x["components"]),
            created_at: when(&x["created_at"]),
        })
        .collect();
    private_html(
        &TemplatesPage {
            t: f.t,
            csrf: f.csrf.clone(),
            signed_in: false,
            f,
            templates,
        },
        cookie,
    )
    .map_err(IntoResponse::into_response)
}

/// `POST /app/admin/templates/{template_id}`: approve or reject (with a reason).
async fn review_template(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(id): Path<String>,
    Form(form): Form<Decision>,
) -> Result<Response, Response> {
    session::check_csrf(&headers, &form.csrf).map_err(IntoResponse::into_response)?;
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let (status, notice) = if form.decision == "APPROVED" {
        ("APPROVED", "template-approved")
    } else {
        ("REJECTED", "template-rejected")
    };
    let call = (
        Method::POST,
        format!("/admin/v1/templates/{}/review", encode(&id)),
        json!({"status": status, "reason": form.reason()}),
    );
    Ok(act(&web, &caller, call, "/app/admin/templates", notice).await)
}

// --- businesses ---

pub struct BusinessRow {
    pub waba_id: String,
    pub name: String,
    pub phone: String,
    pub verification: String,
    pub verification_text: String,
    pub quality: String,
    pub tier: String,
    pub tier_override: String,
    pub throughput: String,
    pub reached_24h: String,
    pub reports_7d: String,
    pub blocks_7d: String,
}

fn business_row(t: &Tr, v: &Value) -> BusinessRow {
    let verification = s(v, "verification");
    let throughput = match v["throughput_mps"].as_u64() {
        Some(n) => t.t1("admin-mps", "mps", n),
        None => t.t("admin-unlimited"),
    };
    BusinessRow {
        waba_id: s(v, "waba_id"),
        name: s(v, "name"),
        phone: s(v, "phone"),
        verification_text: verification_text(t, &verification),
        verification,
        quality: s(v, "quality_rating"),
        tier: s(v, "messaging_limit_tier"),
        tier_override: s(v, "messaging_tier_override"),
        throughput,
        reached_24h: s(v, "reached_24h"),
        reports_7d: s(v, "reports_7d"),
        blocks_7d: s(v, "blocks_7d"),
    }
}

#[derive(Template)]
#[template(path = "admin_businesses.html")]
struct BusinessesPage {
    f: Frame,
    t: Tr,
    csrf: String,
    signed_in: bool,
    businesses: Vec<BusinessRow>,
}

/// `GET /app/admin/businesses`: every business with its standing.
async fn businesses(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let v = read(&web, &caller, "/admin/v1/businesses").await?;
    let (f, cookie) = frame(&web, &headers, &flash, "businesses");
    let businesses = v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| business_row(&f.t, b))
        .collect();
    private_html(
        &BusinessesPage {
            t: f.t,
            csrf: f.csrf.clone(),
            signed_in: false,
            f,
            businesses,
        },
        cookie,
    )
    .map_err(IntoResponse::into_response)
}

pub struct Line {
    pub category: String,
    pub country: String,
    pub messages: String,
    pub unit_price: String,
    pub amount: String,
}

pub struct Usage {
    pub from: String,
    pub to: String,
    pub currency: String,
    pub total: String,
    pub lines: Vec<Line>,
}

pub struct Invoice {
    pub currency: String,
    pub messages: String,
    pub total: String,
    pub lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "admin_business.html")]
struct BusinessPage {
    f: Frame,
    t: Tr,
    csrf: String,
    signed_in: bool,
    b: BusinessRow,
    vertical: String,
    verification_reason: String,
    webhook: String,
    created_at: String,
    mps: String,
    tiers: [&'static str; 5],
    month: String,
    usage: Usage,
    invoice: Invoice,
}

/// A `YYYY-MM` month, if `m` is one.
fn valid_month(m: &str) -> Option<&str> {
    let b = m.as_bytes();
    let shape = b.len() == 7
        && b[4] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit());
    let month_ok = m.get(5..7).and_then(|x| x.parse::<u8>().ok());
    (shape && matches!(month_ok, Some(1..=12))).then_some(m)
}

fn lines(v: &Value) -> Vec<Line> {
    v["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| Line {
            category: s(l, "category"),
            country: s(l, "country"),
            messages: s(l, "messages"),
            unit_price: s(l, "unit_price"),
            amount: s(l, "amount"),
        })
        .collect()
}

/// The usage of a month (this month when `month` is none), and the month it was.
async fn usage(
    web: &WebState,
    caller: &Caller,
    waba: &str,
    month: Option<&str>,
) -> Result<(Usage, String), Response> {
    let mut path = format!("/admin/v1/businesses/{}/usage", encode(waba));
    if let Some(m) = month {
        path.push_str(&format!("?from={m}-01"));
    }
    let u = read(web, caller, &path).await?;
    let from = s(&u, "from");
    let month = from.get(..7).unwrap_or_default().to_owned();
    let usage = Usage {
        from,
        to: s(&u, "to"),
        currency: s(&u, "currency"),
        total: s(&u, "total"),
        lines: lines(&u),
    };
    Ok((usage, month))
}

/// `GET /app/admin/businesses/{waba_id}?month=YYYY-MM`: one business, its usage
/// and invoice of a month, and its limits.
async fn business(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let enc = encode(&waba);
    let b = read(&web, &caller, &format!("/admin/v1/businesses/{enc}")).await?;
    let (usage, month) = usage(&web, &caller, &waba, valid_month(&flash.month)).await?;
    let i = read(
        &web,
        &caller,
        &format!("/admin/v1/businesses/{enc}/invoices/{month}"),
    )
    .await?;
    let (f, cookie) = frame(&web, &headers, &flash, "businesses");
    let invoice = Invoice {
        currency: s(&i, "currency"),
        messages: s(&i, "messages"),
        total: s(&i, "total"),
        lines: lines(&i),
    };
    let page = BusinessPage {
        b: business_row(&f.t, &b),
        vertical: s(&b, "vertical"),
        verification_reason: s(&b, "verification_reason"),
        webhook: s(&b["webhook"], "url"),
        created_at: when(&b["created_at"]),
        mps: s(&b, "throughput_mps"),
        tiers: TIERS,
        month,
        usage,
        invoice,
        t: f.t,
        csrf: f.csrf.clone(),
        signed_in: false,
        f,
    };
    private_html(&page, cookie).map_err(IntoResponse::into_response)
}

#[derive(Deserialize)]
struct MonthQuery {
    #[serde(default)]
    month: String,
}

/// `GET /app/admin/businesses/{waba_id}/invoice.csv?month=YYYY-MM`: the invoice as
/// the admin API writes it (`text/csv`, as an attachment).
async fn invoice_csv(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(q): Query<MonthQuery>,
) -> Result<Response, Response> {
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let Some(month) = valid_month(&q.month) else {
        return Err(WebError::Api {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_date".into(),
            message: "month must be YYYY-MM".into(),
        }
        .into_response());
    };
    let path = format!(
        "/admin/v1/businesses/{}/invoices/{month}?format=csv",
        encode(&waba)
    );
    let resp = web
        .api
        .forward(&caller, Method::GET, &path, &[], Body::empty())
        .await
        .map_err(IntoResponse::into_response)?;
    match resp.status() {
        s if s.is_success() => Ok(resp),
        StatusCode::UNAUTHORIZED => Err(to_login(&web)),
        status => {
            // An error answer is a small JSON body: shown on the error page.
            let bytes = http_body_util::Limited::new(resp.into_body(), 64 * 1024)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            Err(api_error(status, &v).into_response())
        }
    }
}

#[derive(Deserialize)]
struct ThroughputForm {
    csrf: String,
    #[serde(default)]
    mps: String,
}

/// `POST …/throughput`: messages per second, empty for unlimited.
async fn set_throughput(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(form): Form<ThroughputForm>,
) -> Result<Response, Response> {
    session::check_csrf(&headers, &form.csrf).map_err(IntoResponse::into_response)?;
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let back = format!("/app/admin/businesses/{}", encode(&waba));
    let mps = form.mps.trim();
    let mps = if mps.is_empty() {
        Value::Null
    } else {
        match mps.parse::<u64>() {
            Ok(n) => json!(n),
            Err(_) => {
                let t = Tr {
                    lang: Lang::of(&headers),
                };
                let msg = t.t("admin-mps-invalid");
                return Ok(Redirect::to(&format!("{back}?error={}", encode(&msg))).into_response());
            }
        }
    };
    let call = (
        Method::PUT,
        format!("/admin/v1/businesses/{}/throughput", encode(&waba)),
        json!({ "mps": mps }),
    );
    Ok(act(&web, &caller, call, &back, "throughput").await)
}

#[derive(Deserialize)]
struct TierForm {
    csrf: String,
    #[serde(default)]
    tier: String,
}

/// `POST …/tier`: a messaging limit tier by hand, or automatic again.
async fn set_tier(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(form): Form<TierForm>,
) -> Result<Response, Response> {
    session::check_csrf(&headers, &form.csrf).map_err(IntoResponse::into_response)?;
    let caller = admin(&headers, &peer).ok_or_else(|| to_login(&web))?;
    let back = format!("/app/admin/businesses/{}", encode(&waba));
    let tier = match form.tier.trim() {
        "" => Value::Null,
        t => json!(t),
    };
    let call = (
        Method::PUT,
        format!("/admin/v1/businesses/{}/tier", encode(&waba)),
        json!({ "tier": tier }),
    );
    Ok(act(&web, &caller, call, &back, "tier").await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_dates() {
        assert_eq!(valid_month("2026-11"), Some("2026-11"));
        assert_eq!(valid_month("2026-13"), None);
        assert_eq!(valid_month("2026/11"), None);
        assert_eq!(valid_month("26-11"), None);
        assert_eq!(switchboard_core::civil::civil_from_days(0), (1970, 1, 1));
        assert_eq!(when(&json!(1_764_000_000_000_i64)), "2025-11-24 16:00 UTC");
        assert_eq!(other_scripts("Lindenh\u{43e}f Café"), "\u{43e} U+043E");
        assert_eq!(other_scripts("Bäckerei Müller"), "");
    }

    #[test]
    fn the_admin_cookie_is_strict_and_scoped() {
        let c = admin_cookie("abcd", 60, true);
        let c = c.to_str().unwrap_or_default();
        assert!(c.contains("Path=/app/admin") && c.contains("SameSite=Strict"));
        assert!(c.contains("HttpOnly") && c.contains("Secure"));
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("sb_admin=746f6b"));
        assert_eq!(admin_token(&h).as_deref(), Some("tok"));
    }

    #[test]
    fn template_parts_read_in_order() {
        let t = Tr { lang: Lang::En };
        let p = parts(
            &t,
            &json!([{"type": "BODY", "text": "Hi {{1}}"},
                    {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Shop", "url": "https://x.example"}]}]),
        );
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].text, "Hi {{1}}");
        assert_eq!(p[1].text, "Shop (https://x.example)");
    }
}
