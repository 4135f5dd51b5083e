//! A business's settings, for its owner and admins, in the browser: profile and
//! opening hours, greeting and away messages, quick replies, labels, the team (with
//! auto-assignment) and message templates. It exists so a business can be run from
//! the web app alone, without the CLI or raw API calls.
//!
//! Every page reads through the team API (`/v1/biz/{waba_id}/…`) as the signed-in
//! member, and every form is one API call followed by a redirect back to its page
//! (post/redirect/get). The API decides who may change what: agents see the same
//! forms, and the API's `403` message is shown next to the form they sent, as is
//! every other refusal (`?form=…&error=…`). Times of the away window are UTC.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Peer, Signed, encode, html, phone, signed_in};
use crate::WebState;
use crate::i18n::{Lang, Tr};
use crate::session;

pub fn routes() -> Router<WebState> {
    let base = "/app/biz/{waba_id}/settings";
    Router::new()
        .route(base, get(profile_page))
        .route(&format!("{base}/profile"), post(save_profile))
        .route(&format!("{base}/messages"), get(messages_page))
        .route(&format!("{base}/greeting"), post(save_greeting))
        .route(&format!("{base}/away"), post(save_away))
        .route(
            &format!("{base}/replies"),
            get(replies_page).post(add_reply),
        )
        .route(&format!("{base}/replies/{{key}}"), post(edit_reply))
        .route(
            &format!("{base}/replies/{{key}}/delete"),
            post(delete_reply),
        )
        .route(&format!("{base}/labels"), get(labels_page).post(add_label))
        .route(&format!("{base}/labels/{{key}}"), post(edit_label))
        .route(&format!("{base}/labels/{{key}}/delete"), post(delete_label))
        .route(&format!("{base}/team"), get(team_page).post(add_member))
        .route(&format!("{base}/team/{{key}}"), post(edit_member))
        .route(&format!("{base}/team/{{key}}/delete"), post(remove_member))
        .route(&format!("{base}/auto-assign"), post(save_auto_assign))
        .route(
            &format!("{base}/templates"),
            get(templates_page).post(add_template),
        )
}

// --- shared ---

/// The submitted fields of a form, in order.
type Fields = Vec<(String, String)>;

/// A field's value (`""` when absent).
fn field<'a>(f: &'a Fields, key: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// A checkbox: present means on.
fn checked(f: &Fields, key: &str) -> bool {
    f.iter().any(|(k, _)| k == key)
}

/// What the last action left for the page: which form, and its error or success.
#[derive(Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    form: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    saved: String,
}

impl Flash {
    /// The error to show next to form `id`.
    pub fn error_for(&self, id: &str) -> Option<String> {
        (self.form == id && !self.error.is_empty()).then(|| self.error.chars().take(300).collect())
    }

    /// Whether form `id` was just saved.
    pub fn saved_for(&self, id: &str) -> bool {
        self.form == id && self.error.is_empty() && !self.saved.is_empty()
    }
}

/// One row of a list with its own forms (a reply, a label): its form id and what
/// its last action left.
pub struct Row {
    pub form: String,
    pub key: String,
    pub name: String,
    pub extra: String,
    pub error: Option<String>,
    pub saved: bool,
}

impl Row {
    fn new(flash: &Flash, kind: &str, key: String, name: String, extra: String) -> Row {
        let form = format!("{kind}-{key}");
        Row {
            error: flash.error_for(&form),
            saved: flash.saved_for(&form),
            form,
            key,
            name,
            extra,
        }
    }
}

/// What every settings page shows around its content.
struct Frame {
    t: Tr,
    csrf: String,
    cookie: Option<HeaderValue>,
    business: String,
    signed: Signed,
}

/// `/app/biz/{waba}/settings{tail}`.
fn page_url(waba: &str, tail: &str) -> String {
    format!("/app/biz/{}/settings{tail}", encode(waba))
}

/// `/v1/biz/{waba}{tail}`.
fn api_path(waba: &str, tail: &str) -> String {
    format!("/v1/biz/{}{tail}", encode(waba))
}

async fn frame(
    web: &WebState,
    headers: &HeaderMap,
    peer: &Peer,
    waba: &str,
    tail: &str,
) -> Result<Frame, Response> {
    let signed = signed_in(web, headers, peer, &page_url(waba, tail)).await?;
    let b = web
        .api
        .ok(&signed.caller, Method::GET, &api_path(waba, ""), None)
        .await
        .map_err(IntoResponse::into_response)?;
    let (csrf, cookie) = session::csrf(headers, web.config.secure_cookies);
    Ok(Frame {
        t: Tr {
            lang: Lang::of(headers),
        },
        csrf,
        cookie,
        business: b["name"].as_str().unwrap_or_default().to_owned(),
        signed,
    })
}

/// A GET of the team API for a page; a refusal is the page's error.
async fn read(web: &WebState, f: &Frame, path: &str) -> Result<Value, Response> {
    web.api
        .ok(&f.signed.caller, Method::GET, path, None)
        .await
        .map_err(IntoResponse::into_response)
}

/// Back to `page` after form `form`: its error (a 4xx message) or "saved".
fn back(page: &str, form: &str, error: Option<&str>) -> Response {
    let to = match error {
        Some(e) => format!("{page}?form={}&error={}#{form}", encode(form), encode(e)),
        None => format!("{page}?form={}&saved=1#{form}", encode(form)),
    };
    Redirect::to(&to).into_response()
}

/// Where a form came from and goes back to.
struct Origin<'a> {
    waba: &'a str,
    tail: &'a str,
    form: &'a str,
}

/// One team-API call for a form, then back to its page (post/redirect/get).
async fn act(
    web: &WebState,
    headers: &HeaderMap,
    peer: &Peer,
    fields: &Fields,
    o: Origin<'_>,
    (method, path, body): (Method, String, Option<Value>),
) -> Result<Response, Response> {
    session::check_csrf(headers, field(fields, "csrf")).map_err(IntoResponse::into_response)?;
    let page = page_url(o.waba, o.tail);
    let s = signed_in(web, headers, peer, &page).await?;
    let (status, answer) = web
        .api
        .call(&s.caller, method, &path, body.as_ref())
        .await
        .map_err(IntoResponse::into_response)?;
    if status.is_client_error() {
        let msg = answer["error"]["message"].as_str().unwrap_or("refused");
        return Ok(back(&page, o.form, Some(msg)));
    }
    if !status.is_success() {
        return Err(crate::api::api_error(status, &answer).into_response());
    }
    Ok(back(&page, o.form, None))
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

/// A page, or the error page when it does not render.
fn rendered(page: &impl Template, cookie: Option<HeaderValue>) -> Response {
    html(page, cookie).unwrap_or_else(IntoResponse::into_response)
}

// --- profile and opening hours ---

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const ZONES: [&str; 16] = [
    "UTC",
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/London",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Warsaw",
    "Europe/Istanbul",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Dubai",
    "Asia/Tokyo",
];
const VERTICALS: [&str; 19] = [
    "UNDEFINED",
    "OTHER",
    "AUTO",
    "BEAUTY",
    "APPAREL",
    "EDU",
    "ENTERTAIN",
    "EVENT_PLAN",
    "FINANCE",
    "GROCERY",
    "GOVT",
    "HOTEL",
    "HEALTH",
    "NONPROFIT",
    "PROF_SERVICES",
    "RETAIL",
    "TRAVEL",
    "RESTAURANT",
    "NOT_A_BIZ",
];
/// Intervals per day in the form.
const SLOTS: usize = 2;

pub struct SlotView {
    pub name: String,
    pub value: String,
    pub label: String,
}

pub struct DayView {
    pub name: String,
    pub slots: Vec<SlotView>,
}

#[derive(Template)]
#[template(path = "settings_profile.html")]
struct ProfilePage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    section: &'static str,
    flash: Flash,
    about: String,
    description: String,
    address: String,
    email: String,
    category: String,
    website1: String,
    website2: String,
    vertical: String,
    verticals: Vec<&'static str>,
    timezone: String,
    zones: Vec<String>,
    closed: String,
    days: Vec<DayView>,
}

fn day_views(t: &Tr, weekly: &Value) -> Vec<DayView> {
    DAYS.iter()
        .map(|d| {
            let day = t.t(&format!("settings-day-{d}"));
            let slots = (0..SLOTS)
                .flat_map(|i| {
                    let iv = &weekly[d][i];
                    [("open", "settings-opens"), ("close", "settings-closes")].map(|(k, key)| {
                        SlotView {
                            name: format!("{d}_{k}{i}"),
                            value: text(iv, k),
                            label: format!("{day} {} ({})", t.t(key), i + 1),
                        }
                    })
                })
                .collect();
            DayView { name: day, slots }
        })
        .collect()
}

async fn profile_page(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let f = frame(&web, &headers, &peer, &waba, "").await?;
    let p = read(&web, &f, &api_path(&waba, "/profile")).await?;
    Ok(profile_view(f, waba, flash, &p, None))
}

/// The profile page showing profile `p` (stored, or as just submitted when the API
/// refused it, so nothing typed is lost), in zone `zone` if given.
fn profile_view(f: Frame, waba: String, flash: Flash, p: &Value, zone: Option<&str>) -> Response {
    let hours = &p["hours"];
    let timezone = zone
        .or(hours["timezone"].as_str())
        .unwrap_or("Europe/Berlin")
        .to_owned();
    let mut zones: Vec<String> = ZONES.iter().map(|z| (*z).to_owned()).collect();
    if !zones.contains(&timezone) {
        zones.insert(0, timezone.clone());
    }
    let closed = hours["closed_dates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let site = |i: usize| p["websites"][i].as_str().unwrap_or_default().to_owned();
    let page = ProfilePage {
        days: day_views(&f.t, &hours["weekly"]),
        website1: site(0),
        website2: site(1),
        vertical: text(p, "vertical").to_ascii_uppercase(),
        verticals: VERTICALS.to_vec(),
        timezone,
        zones,
        closed,
        about: text(p, "about"),
        description: text(p, "description"),
        address: text(p, "address"),
        email: text(p, "email"),
        category: text(p, "category"),
        t: f.t,
        csrf: f.csrf,
        signed_in: true,
        waba_id: waba,
        business: f.business,
        section: "profile",
        flash,
    };
    rendered(&page, f.cookie)
}

/// The opening hours of the form, or `null` when none are given.
fn hours_body(f: &Fields) -> Value {
    let mut weekly = serde_json::Map::new();
    for d in DAYS {
        let intervals: Vec<Value> = (0..SLOTS)
            .filter_map(|i| {
                let open = field(f, &format!("{d}_open{i}")).trim();
                let close = field(f, &format!("{d}_close{i}")).trim();
                (!open.is_empty() || !close.is_empty())
                    .then(|| json!({"open": open, "close": close}))
            })
            .collect();
        if !intervals.is_empty() {
            weekly.insert(d.to_owned(), Value::Array(intervals));
        }
    }
    let closed: Vec<&str> = field(f, "closed_dates")
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if weekly.is_empty() && closed.is_empty() {
        return Value::Null;
    }
    json!({"timezone": field(f, "timezone").trim(), "weekly": weekly, "closed_dates": closed})
}

fn profile_body(f: &Fields) -> Value {
    let websites: Vec<&str> = ["website1", "website2"]
        .iter()
        .map(|k| field(f, k).trim())
        .filter(|s| !s.is_empty())
        .collect();
    let mut body = json!({
        "about": field(f, "about").trim(),
        "description": field(f, "description").trim(),
        "address": field(f, "address").trim(),
        "email": field(f, "email").trim(),
        "category": field(f, "category").trim(),
        "websites": websites,
        "hours": hours_body(f),
    });
    let vertical = field(f, "vertical").trim();
    if !vertical.is_empty() {
        body["vertical"] = json!(vertical);
    }
    body
}

/// `POST …/settings/profile`: saved, back to the page; refused, the page again
/// with what was typed and the API's message (`422`).
async fn save_profile(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, Response> {
    session::check_csrf(&headers, field(&form, "csrf")).map_err(IntoResponse::into_response)?;
    let f = frame(&web, &headers, &peer, &waba, "").await?;
    let body = profile_body(&form);
    let (status, answer) = web
        .api
        .call(
            &f.signed.caller,
            Method::PATCH,
            &api_path(&waba, "/profile"),
            Some(&body),
        )
        .await
        .map_err(IntoResponse::into_response)?;
    if status.is_client_error() {
        let flash = Flash {
            form: "profile".into(),
            error: answer["error"]["message"]
                .as_str()
                .unwrap_or("refused")
                .to_owned(),
            saved: String::new(),
        };
        let zone = field(&form, "timezone").to_owned();
        let mut resp = profile_view(f, waba, flash, &body, Some(&zone));
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(resp);
    }
    if !status.is_success() {
        return Err(crate::api::api_error(status, &answer).into_response());
    }
    Ok(back(&page_url(&waba, ""), "profile", None))
}

// --- greeting and away ---

#[derive(Template)]
#[template(path = "settings_messages.html")]
struct MessagesPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    section: &'static str,
    flash: Flash,
    greeting_on: bool,
    greeting: String,
    away_on: bool,
    away: String,
    schedule: String,
    from: String,
    until: String,
}

async fn messages_page(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let f = frame(&web, &headers, &peer, &waba, "/messages").await?;
    let g = read(&web, &f, &api_path(&waba, "/automation/greeting")).await?;
    let a = read(&web, &f, &api_path(&waba, "/automation/away")).await?;
    let sched = &a["schedule"];
    let custom = &sched["custom"];
    let page = MessagesPage {
        greeting_on: g["enabled"].as_bool().unwrap_or(false),
        greeting: text(&g, "text"),
        away_on: a["enabled"].as_bool().unwrap_or(false),
        away: text(&a, "text"),
        schedule: match sched.as_str() {
            Some(s) => s.to_owned(),
            None if custom.is_object() => "custom".to_owned(),
            None => "always".to_owned(),
        },
        from: custom["from"]
            .as_i64()
            .map(super::datetime_local)
            .unwrap_or_default(),
        until: custom["until"]
            .as_i64()
            .map(super::datetime_local)
            .unwrap_or_default(),
        t: f.t,
        csrf: f.csrf,
        signed_in: true,
        waba_id: waba,
        business: f.business,
        section: "messages",
        flash,
    };
    Ok(rendered(&page, f.cookie))
}

async fn save_greeting(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let body = json!({"enabled": checked(&f, "enabled"), "text": field(&f, "text")});
    let call = (
        Method::PUT,
        api_path(&waba, "/automation/greeting"),
        Some(body),
    );
    let o = Origin {
        waba: &waba,
        tail: "/messages",
        form: "greeting",
    };
    act(&web, &headers, &peer, &f, o, call).await
}

async fn save_away(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let schedule = match field(&f, "schedule") {
        "custom" => {
            let window = (
                super::parse_datetime_local(field(&f, "from")),
                super::parse_datetime_local(field(&f, "until")),
            );
            let (Some(from), Some(until)) = window else {
                let t = Tr {
                    lang: Lang::of(&headers),
                };
                let page = page_url(&waba, "/messages");
                return Ok(back(&page, "away", Some(&t.t("settings-away-bad-window"))));
            };
            json!({"custom": {"from": from, "until": until}})
        }
        "outside_hours" => json!("outside_hours"),
        _ => json!("always"),
    };
    let body = json!({
        "enabled": checked(&f, "enabled"),
        "text": field(&f, "text"),
        "schedule": schedule,
    });
    let call = (Method::PUT, api_path(&waba, "/automation/away"), Some(body));
    let o = Origin {
        waba: &waba,
        tail: "/messages",
        form: "away",
    };
    act(&web, &headers, &peer, &f, o, call).await
}

// --- quick replies ---

#[derive(Template)]
#[template(path = "settings_replies.html")]
struct RepliesPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    section: &'static str,
    flash: Flash,
    replies: Vec<Row>,
}

async fn replies_page(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let f = frame(&web, &headers, &peer, &waba, "/replies").await?;
    let r = read(&web, &f, &api_path(&waba, "/replies")).await?;
    let replies = r["replies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let key = text(r, "shortcut").trim_start_matches('/').to_owned();
            Row::new(&flash, "reply", key, text(r, "text"), String::new())
        })
        .collect();
    let page = RepliesPage {
        t: f.t,
        csrf: f.csrf,
        signed_in: true,
        waba_id: waba,
        business: f.business,
        section: "replies",
        flash,
        replies,
    };
    Ok(rendered(&page, f.cookie))
}

async fn add_reply(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let body = json!({"shortcut": field(&f, "shortcut").trim(), "text": field(&f, "text")});
    let call = (Method::POST, api_path(&waba, "/replies"), Some(body));
    let o = Origin {
        waba: &waba,
        tail: "/replies",
        form: "new-reply",
    };
    act(&web, &headers, &peer, &f, o, call).await
}

async fn edit_reply(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, key)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let body = json!({"text": field(&f, "text")});
    let path = api_path(&waba, &format!("/replies/{}", encode(&key)));
    let form = format!("reply-{key}");
    let o = Origin {
        waba: &waba,
        tail: "/replies",
        form: &form,
    };
    act(
        &web,
        &headers,
        &peer,
        &f,
        o,
        (Method::PUT, path, Some(body)),
    )
    .await
}

async fn delete_reply(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, key)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let path = api_path(&waba, &format!("/replies/{}", encode(&key)));
    let form = format!("reply-{key}");
    let o = Origin {
        waba: &waba,
        tail: "/replies",
        form: &form,
    };
    act(&web, &headers, &peer, &f, o, (Method::DELETE, path, None)).await
}

// --- labels ---

#[derive(Template)]
#[template(path = "settings_labels.html")]
struct LabelsPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    section: &'static str,
    flash: Flash,
    labels: Vec<Row>,
    /// (colour, its name in the reader's language)
    palette: Vec<(String, String)>,
}

fn colour_name(t: &Tr, c: &str) -> String {
    let key = format!("settings-colour-{c}");
    let name = t.t(&key);
    if name == key { c.to_owned() } else { name }
}

async fn labels_page(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let f = frame(&web, &headers, &peer, &waba, "/labels").await?;
    let l = read(&web, &f, &api_path(&waba, "/labels")).await?;
    let labels = l["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            Row::new(
                &flash,
                "label",
                text(l, "id"),
                text(l, "name"),
                text(l, "colour"),
            )
        })
        .collect();
    let palette = l["palette"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|c| (c.to_owned(), colour_name(&f.t, c)))
        .collect();
    let page = LabelsPage {
        t: f.t,
        csrf: f.csrf,
        signed_in: true,
        waba_id: waba,
        business: f.business,
        section: "labels",
        flash,
        labels,
        palette,
    };
    Ok(rendered(&page, f.cookie))
}

async fn add_label(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let body = json!({"name": field(&f, "name"), "colour": field(&f, "colour")});
    let call = (Method::POST, api_path(&waba, "/labels"), Some(body));
    let o = Origin {
        waba: &waba,
        tail: "/labels",
        form: "new-label",
    };
    act(&web, &headers, &peer, &f, o, call).await
}

async fn edit_label(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, key)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let body = json!({"name": field(&f, "name"), "colour": field(&f, "colour")});
    let path = api_path(&waba, &format!("/labels/{}", encode(&key)));
    let form = format!("label-{key}");
    let o = Origin {
        waba: &waba,
        tail: "/labels",
        form: &form,
    };
    act(
        &web,
        &headers,
        &peer,
        &f,
        o,
        (Method::PATCH, path, Some(body)),
    )
    .await
}

async fn delete_label(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, key)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let path = api_path(&waba, &format!("/labels/{}", encode(&key)));
    let form = format!("label-{key}");
    let o = Origin {
        waba: &waba,
        tail: "/labels",
        form: &form,
    };
    act(&web, &headers, &peer, &f, o, (Method::DELETE, path, None)).await
}

// --- team ---

pub struct MemberRow {
    pub form: String,
    pub error: Option<String>,
    pub saved: bool,
    pub user_id: String,
    pub phone: String,
    pub role: String,
    pub role_text: String,
    pub capacity: u64,
    pub signature: String,
    pub available: bool,
}

#[derive(Template)]
#[template(path = "settings_team.html")]
struct TeamPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    section: &'static str,
    flash: Flash,
    members: Vec<MemberRow>,
    /// `None` when the caller may not see it (agents).
    auto_assign: Option<bool>,
}

fn role_text(t: &Tr, role: &str) -> String {
    match role {
        "owner" | "admin" | "agent" => t.t(&format!("settings-role-{role}")),
        other => other.to_owned(),
    }
}

async fn team_page(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let f = frame(&web, &headers, &peer, &waba, "/team").await?;
    let team = read(&web, &f, &api_path(&waba, "/team")).await?;
    let members = team["team"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let role = text(m, "role");
            let form = format!("member-{}", text(m, "user_id"));
            MemberRow {
                error: flash.error_for(&form),
                saved: flash.saved_for(&form),
                form,
                user_id: text(m, "user_id"),
                phone: m["phone"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| phone(m["user_id"].as_str().unwrap_or_default())),
                role_text: role_text(&f.t, &role),
                role,
                capacity: m["capacity"].as_u64().unwrap_or(0),
                signature: text(m, "signature"),
                available: m["available"].as_bool().unwrap_or(true),
            }
        })
        .collect();
    // Admin+ only: an agent's page simply leaves it out.
    let settings = web
        .api
        .call(
            &f.signed.caller,
            Method::GET,
            &api_path(&waba, "/inbox/settings"),
            None,
        )
        .await
        .map_err(IntoResponse::into_response)?;
    let auto_assign = (settings.0 == StatusCode::OK)
        .then(|| settings.1["auto_assign"].as_bool())
        .flatten();
    let page = TeamPage {
        t: f.t,
        csrf: f.csrf,
        signed_in: true,
        waba_id: waba,
        business: f.business,
        section: "team",
        flash,
        members,
        auto_assign,
    };
    Ok(rendered(&page, f.cookie))
}

async fn add_member(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let body = json!({"phone": field(&f, "phone").trim(), "role": field(&f, "role")});
    let call = (Method::POST, api_path(&waba, "/team"), Some(body));
    let o = Origin {
        waba: &waba,
        tail: "/team",
        form: "new-member",
    };
    act(&web, &headers, &peer, &f, o, call).await
}

/// The change a member's form asks for; the owner's role is not sent.
fn member_body(f: &Fields) -> Result<Value, String> {
    let capacity = field(f, "capacity").trim();
    let capacity: u64 = capacity.parse().map_err(|_| capacity.to_owned())?;
    let signature = field(f, "signature").trim();
    let mut body = json!({
        "capacity": capacity,
        "signature": if signature.is_empty() { Value::Null } else { json!(signature) },
        "available": checked(f, "available"),
    });
    let role = field(f, "role");
    if !role.is_empty() {
        body["role"] = json!(role);
    }
    Ok(body)
}

async fn edit_member(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, key)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let form = format!("member-{key}");
    let body = match member_body(&f) {
        Ok(b) => b,
        Err(bad) => {
            let t = Tr {
                lang: Lang::of(&headers),
            };
            let msg = t.t1("settings-bad-capacity", "value", bad);
            return Ok(back(&page_url(&waba, "/team"), &form, Some(&msg)));
        }
    };
    let path = api_path(&waba, &format!("/team/{}", encode(&key)));
    let o = Origin {
        waba: &waba,
        tail: "/team",
        form: &form,
    };
    act(
        &web,
        &headers,
        &peer,
        &f,
        o,
        (Method::PATCH, path, Some(body)),
    )
    .await
}

async fn remove_member(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, key)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let path = api_path(&waba, &format!("/team/{}", encode(&key)));
    let form = format!("member-{key}");
    let o = Origin {
        waba: &waba,
        tail: "/team",
        form: &form,
    };
    act(&web, &headers, &peer, &f, o, (Method::DELETE, path, None)).await
}

async fn save_auto_assign(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let body = json!({"auto_assign": checked(&f, "auto_assign")});
    let call = (Method::PUT, api_path(&waba, "/inbox/settings"), Some(body));
    let o = Origin {
        waba: &waba,
        tail: "/team",
        form: "auto-assign",
    };
    act(&web, &headers, &peer, &f, o, call).await
}

// --- message templates ---

pub struct TemplateRow {
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub status_text: String,
    pub reason: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "settings_templates.html")]
struct TemplatesPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    section: &'static str,
    flash: Flash,
    templates: Vec<TemplateRow>,
    categories: Vec<(&'static str, String)>,
}

const CATEGORIES: [&str; 3] = ["UTILITY", "MARKETING", "AUTHENTICATION"];
const TEMPLATE_STATUSES: [&str; 5] = ["PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED"];

fn category_text(t: &Tr, c: &str) -> String {
    if CATEGORIES.contains(&c) {
        t.t(&format!("settings-category-{}", c.to_ascii_lowercase()))
    } else {
        c.to_owned()
    }
}

fn template_row(t: &Tr, v: &Value) -> TemplateRow {
    let status = text(v, "status");
    let body = v["components"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"].as_str() == Some("BODY"))
        .map(|c| text(c, "text"))
        .unwrap_or_default();
    TemplateRow {
        name: text(v, "name"),
        language: text(v, "language"),
        category: category_text(t, v["category"].as_str().unwrap_or_default()),
        status_text: if TEMPLATE_STATUSES.contains(&status.as_str()) {
            t.t(&format!("settings-tstatus-{}", status.to_ascii_lowercase()))
        } else {
            status.clone()
        },
        status,
        reason: text(v, "rejected_reason"),
        body,
    }
}

async fn templates_page(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let f = frame(&web, &headers, &peer, &waba, "/templates").await?;
    let list = read(&web, &f, &api_path(&waba, "/templates")).await?;
    let templates = list["templates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| template_row(&f.t, v))
        .collect();
    let page = TemplatesPage {
        categories: CATEGORIES
            .iter()
            .map(|c| (*c, category_text(&f.t, c)))
            .collect(),
        t: f.t,
        csrf: f.csrf,
        signed_in: true,
        waba_id: waba,
        business: f.business,
        section: "templates",
        flash,
        templates,
    };
    Ok(rendered(&page, f.cookie))
}

/// The Cloud API's create body of the form: a body text with `{{1}}` parameters
/// and, when given, one example value per parameter.
fn template_body(f: &Fields) -> Value {
    let mut component = json!({"type": "BODY", "text": field(f, "body")});
    let examples: Vec<&str> = field(f, "examples")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if !examples.is_empty() {
        component["example"] = json!({"body_text": [examples]});
    }
    json!({
        "name": field(f, "name").trim(),
        "language": field(f, "language").trim(),
        "category": field(f, "category"),
        "components": [component],
    })
}

async fn add_template(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, Response> {
    let call = (
        Method::POST,
        api_path(&waba, "/templates"),
        Some(template_body(&f)),
    );
    let o = Origin {
        waba: &waba,
        tail: "/templates",
        form: "new-template",
    };
    act(&web, &headers, &peer, &f, o, call).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_of_the_form() {
        let f: Fields = vec![
            ("timezone".into(), "Europe/Berlin".into()),
            ("mon_open0".into(), "08:00".into()),
            ("mon_close0".into(), "12:00".into()),
            ("mon_open1".into(), "".into()),
            ("mon_close1".into(), "".into()),
            ("closed_dates".into(), "2026-12-25, 2026-12-26".into()),
        ];
        assert_eq!(
            hours_body(&f),
            json!({"timezone": "Europe/Berlin",
                   "weekly": {"mon": [{"open": "08:00", "close": "12:00"}]},
                   "closed_dates": ["2026-12-25", "2026-12-26"]})
        );
        assert_eq!(
            hours_body(&vec![("timezone".into(), "UTC".into())]),
            Value::Null
        );
    }
}
