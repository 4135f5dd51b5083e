//! The business inbox for a business's team: conversations filtered by status, label
//! and assignee; one conversation with its messages, the customer's orders beside
//! it, labels, private notes, assignment and status; replies with quick replies
//! (`/shortcut`, offered as the composer's suggestions). Every action is a form
//! post that calls the team API (`/v1/biz/…`) as the signed-in member and comes
//! back to the page (post/redirect/get).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Peer, Signed, body_text, clock, encode, html, money, phone, signed_in};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::session;

#[derive(Template)]
#[template(path = "biz_list.html")]
struct BusinessesPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    /// (waba id, name, role)
    businesses: Vec<(String, String, String)>,
}

/// `GET /app/biz`: the businesses the user works for (straight to the inbox when
/// there is one).
pub async fn businesses(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
) -> Result<Response, Response> {
    let s = signed_in(&web, &headers, &peer, "/app/biz").await?;
    let all = web
        .api
        .ok(&s.caller, Method::GET, "/v1/me/businesses", None)
        .await
        .map_err(IntoResponse::into_response)?;
    let list: Vec<(String, String, String)> = all["businesses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            let f = |k: &str| b[k].as_str().unwrap_or_default().to_owned();
            (f("waba_id"), f("name"), f("role"))
        })
        .collect();
    if let [(waba, _, _)] = list.as_slice() {
        return Ok(Redirect::to(&format!("/app/biz/{}", encode(waba))).into_response());
    }
    let (csrf, cookie) = session::csrf(&headers, web.config.secure_cookies);
    html(
        &BusinessesPage {
            t: Tr {
                lang: Lang::of(&headers),
            },
            csrf,
            signed_in: true,
            businesses: list,
        },
        cookie,
    )
    .map_err(IntoResponse::into_response)
}

pub struct LabelView {
    pub id: String,
    pub name: String,
    pub colour: String,
}

pub struct ConversationRow {
    pub customer: String,
    pub phone: String,
    pub status: String,
    pub status_text: String,
    pub labels: Vec<LabelView>,
    pub preview: String,
    pub assignee: String,
    pub unread: u64,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    statuses: Vec<(&'static str, String)>,
    labels: Vec<LabelView>,
    status: String,
    label: String,
    assignee: String,
    conversations: Vec<ConversationRow>,
}

const STATUSES: [&str; 4] = ["open", "pending", "snoozed", "resolved"];

fn status_text(t: &Tr, s: &str) -> String {
    match s {
        "open" | "pending" | "snoozed" | "resolved" => t.t(&format!("status-{s}")),
        other => other.to_owned(),
    }
}

async fn labels_of(web: &WebState, s: &Signed, waba: &str) -> Result<Vec<LabelView>, WebError> {
    let v = web
        .api
        .ok(
            &s.caller,
            Method::GET,
            &format!("/v1/biz/{}/labels", encode(waba)),
            None,
        )
        .await?;
    Ok(v["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| LabelView {
            id: l["id"].as_str().unwrap_or_default().to_owned(),
            name: l["name"].as_str().unwrap_or_default().to_owned(),
            colour: l["colour"].as_str().unwrap_or("grey").to_owned(),
        })
        .collect())
}

fn labels_named(ids: &Value, all: &[LabelView]) -> Vec<LabelView> {
    ids.as_array()
        .into_iter()
        .flatten()
        .filter_map(|id| all.iter().find(|l| Some(l.id.as_str()) == id.as_str()))
        .map(|l| LabelView {
            id: l.id.clone(),
            name: l.name.clone(),
            colour: l.colour.clone(),
        })
        .collect()
}

async fn business_name(web: &WebState, s: &Signed, waba: &str) -> Result<String, WebError> {
    let b = web
        .api
        .ok(
            &s.caller,
            Method::GET,
            &format!("/v1/biz/{}", encode(waba)),
            None,
        )
        .await?;
    Ok(b["name"].as_str().unwrap_or_default().to_owned())
}

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    status: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    assignee: String,
}

pub async fn index(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(f): Query<Filters>,
) -> Result<Response, Response> {
    let back = format!("/app/biz/{}", encode(&waba));
    let s = signed_in(&web, &headers, &peer, &back).await?;
    let t = Tr {
        lang: Lang::of(&headers),
    };
    let page = async {
        let business = business_name(&web, &s, &waba).await?;
        let labels = labels_of(&web, &s, &waba).await?;
        let mut q = vec!["limit=200".to_owned()];
        for (k, v) in [
            ("status", &f.status),
            ("label", &f.label),
            ("assignee", &f.assignee),
        ] {
            if !v.is_empty() {
                q.push(format!("{k}={}", encode(v)));
            }
        }
        let list = web
            .api
            .ok(
                &s.caller,
                Method::GET,
                &format!("/v1/biz/{}/conversations?{}", encode(&waba), q.join("&")),
                None,
            )
            .await?;
        let conversations = list["conversations"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let st = c["status"].as_str().unwrap_or_default();
                ConversationRow {
                    customer: c["customer"].as_str().unwrap_or_default().to_owned(),
                    phone: c["phone"]
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| phone(c["customer"].as_str().unwrap_or_default())),
                    status: st.to_owned(),
                    status_text: status_text(&t, st),
                    labels: labels_named(&c["labels"], &labels),
                    preview: c["preview"].as_str().unwrap_or_default().to_owned(),
                    assignee: c["assignee"].as_str().map(phone).unwrap_or_default(),
                    unread: c["unread"].as_u64().unwrap_or(0),
                }
            })
            .collect();
        let (csrf, cookie) = session::csrf(&headers, web.config.secure_cookies);
        html(
            &InboxPage {
                statuses: STATUSES.iter().map(|s| (*s, status_text(&t, s))).collect(),
                t,
                csrf,
                signed_in: true,
                waba_id: waba.clone(),
                business,
                labels,
                status: f.status.clone(),
                label: f.label.clone(),
                assignee: f.assignee.clone(),
                conversations,
            },
            cookie,
        )
    };
    page.await.map_err(IntoResponse::into_response)
}

pub struct LineView {
    pub ts: i64,
    pub text: String,
    pub time: String,
    pub seq: u64,
    pub mine: bool,
    /// Which team member wrote it (their phone), if one did.
    pub by: String,
}

pub struct OrderView {
    pub id: String,
    pub title: String,
    pub status: String,
    pub status_text: String,
    pub items: Vec<String>,
    pub total: String,
    pub note: String,
    /// (status, button text) of the steps allowed next.
    pub next: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    customer: String,
    phone: String,
    status_text: String,
    assignee: String,
    mine: bool,
    labels: Vec<LabelView>,
    all_labels: Vec<LabelView>,
    replying: Vec<String>,
    notice: Option<String>,
    error: Option<String>,
    next_statuses: Vec<(&'static str, String)>,
    messages: Vec<LineView>,
    client_id: String,
    quick_replies: Vec<(String, String)>,
    orders: Vec<OrderView>,
    notes: Vec<(String, String, String)>,
}

fn order_view(t: &Tr, o: &Value) -> OrderView {
    let status = o["status"].as_str().unwrap_or_default().to_owned();
    let next: &[(&'static str, &str)] = match status.as_str() {
        "received" => &[
            ("confirmed", "order-confirm"),
            ("cancelled", "order-cancel"),
        ],
        "confirmed" => &[("ready", "order-mark-ready"), ("cancelled", "order-cancel")],
        "ready" => &[
            ("delivered", "order-mark-delivered"),
            ("cancelled", "order-cancel"),
        ],
        _ => &[],
    };
    let id = o["id"].as_str().unwrap_or_default().to_owned();
    OrderView {
        title: format!(
            "{} {}",
            t.t("order-title"),
            id.chars()
                .rev()
                .take(6)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        ),
        status_text: t.t(&format!("order-{status}")),
        status,
        items: o["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                format!(
                    "{} × {} ({})",
                    i["quantity"].as_u64().unwrap_or(0),
                    i["name"].as_str().unwrap_or_default(),
                    money(&i["line_total"])
                )
            })
            .collect(),
        total: money(&o["total"]),
        note: o["note"].as_str().unwrap_or_default().to_owned(),
        next: next.iter().map(|(s, k)| (*s, t.t(k))).collect(),
        id,
    }
}

#[derive(Deserialize, Default)]
pub struct ConversationQuery {
    notice: Option<String>,
    error: Option<String>,
}

pub async fn conversation(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, customer)): Path<(String, String)>,
    Query(q): Query<ConversationQuery>,
) -> Result<Response, Response> {
    let base = format!("/v1/biz/{}", encode(&waba));
    let back = format!("/app/biz/{}/c/{}", encode(&waba), encode(&customer));
    let s = signed_in(&web, &headers, &peer, &back).await?;
    let t = Tr {
        lang: Lang::of(&headers),
    };
    let page = async {
        let business = business_name(&web, &s, &waba).await?;
        let conv_path = format!("{base}/conversations/{}", encode(&customer));
        let c = web.api.ok(&s.caller, Method::GET, &conv_path, None).await?;
        // Looking at the conversation is reading it: the customer sees read ticks.
        web.api
            .call(&s.caller, Method::POST, &format!("{conv_path}/read"), None)
            .await?;
        let all_labels = labels_of(&web, &s, &waba).await?;
        let business_user = c["chat_id"]
            .as_str()
            .and_then(|id| id.strip_prefix('d'))
            .and_then(|r| r.split_once('-'))
            .map(|(a, b)| if a == customer { b } else { a })
            .unwrap_or_default()
            .to_owned();
        let mut messages: Vec<LineView> = c["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| LineView {
                ts: m["ts"].as_i64().unwrap_or(0),
                text: body_text(&t, &m["body"]),
                time: clock(m["ts"].as_i64().unwrap_or(0)),
                seq: m["seq"].as_u64().unwrap_or(0),
                mine: m["from"].as_str() == Some(business_user.as_str()),
                by: m["agent"].as_str().map(phone).unwrap_or_default(),
            })
            .collect();
        messages.sort_by_key(|m| m.seq);
        let orders = web
            .api
            .call(
                &s.caller,
                Method::GET,
                &format!("{base}/orders?customer={}&limit=20", encode(&customer)),
                None,
            )
            .await?;
        let notes = web
            .api
            .ok(&s.caller, Method::GET, &format!("{conv_path}/notes"), None)
            .await?;
        let replies = web
            .api
            .call(&s.caller, Method::GET, &format!("{base}/replies"), None)
            .await?;
        let status = c["status"].as_str().unwrap_or_default();
        let next_statuses: Vec<(&'static str, String)> = match status {
            "resolved" | "snoozed" => vec![("open", t.t("action-reopen"))],
            "pending" => vec![
                ("resolved", t.t("action-resolve")),
                ("open", t.t("action-reopen")),
            ],
            _ => vec![
                ("resolved", t.t("action-resolve")),
                ("pending", t.t("action-pending")),
            ],
        };
        let (csrf, cookie) = session::csrf(&headers, web.config.secure_cookies);
        html(
            &ConversationPage {
                csrf,
                signed_in: true,
                waba_id: waba.clone(),
                business,
                customer: customer.clone(),
                phone: phone(&customer),
                status_text: status_text(&t, status),
                assignee: c["assignee"].as_str().map(phone).unwrap_or_default(),
                mine: c["assignee"].as_str() == Some(s.user_id.as_str()),
                labels: labels_named(&c["labels"], &all_labels),
                all_labels,
                replying: c["replying"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|u| *u != s.user_id)
                    .map(str::to_owned)
                    .collect(),
                notice: q
                    .notice
                    .filter(|n| n == "someone_else_replying")
                    .map(|_| t.t("inbox-someone-replying")),
                error: q.error.map(|e| e.chars().take(300).collect()),
                next_statuses,
                messages,
                client_id: format!("web-{}", hex::encode(rand::random::<[u8; 12]>())),
                quick_replies: replies.1["replies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        (
                            r["shortcut"].as_str().unwrap_or_default().to_owned(),
                            r["text"]
                                .as_str()
                                .unwrap_or_default()
                                .chars()
                                .take(60)
                                .collect(),
                        )
                    })
                    .collect(),
                orders: if orders.0.is_success() {
                    orders.1["orders"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|o| order_view(&t, o))
                        .collect()
                } else {
                    Vec::new()
                },
                notes: notes["notes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|n| {
                        (
                            n["text"].as_str().unwrap_or_default().to_owned(),
                            n["author"].as_str().map(phone).unwrap_or_default(),
                            clock(n["ts"].as_i64().unwrap_or(0)),
                        )
                    })
                    .collect(),
                t,
            },
            cookie,
        )
    };
    page.await.map_err(IntoResponse::into_response)
}

/// Back to the conversation, with an API refusal shown on the page.
fn back_to(waba: &str, customer: &str, status: axum::http::StatusCode, answer: &Value) -> Response {
    let mut to = format!("/app/biz/{}/c/{}", encode(waba), encode(customer));
    if status.is_client_error() {
        let msg = answer["error"]["message"].as_str().unwrap_or("refused");
        to.push_str(&format!("?error={}", encode(msg)));
    } else if answer["notice"].as_str() == Some("someone_else_replying") {
        to.push_str("?notice=someone_else_replying");
    }
    Redirect::to(&to).into_response()
}

/// One team-API call made by a form of the conversation page, then back to it.
async fn act(
    web: &WebState,
    headers: &HeaderMap,
    peer: &Peer,
    csrf: &str,
    (waba, customer): (&str, &str),
    (method, path, body): (Method, String, Option<Value>),
) -> Result<Response, Response> {
    session::check_csrf(headers, csrf).map_err(IntoResponse::into_response)?;
    let back = format!("/app/biz/{}/c/{}", encode(waba), encode(customer));
    let s = signed_in(web, headers, peer, &back).await?;
    let (status, answer) = web
        .api
        .call(&s.caller, method, &path, body.as_ref())
        .await
        .map_err(IntoResponse::into_response)?;
    if status.is_server_error() {
        return Err(crate::api::api_error(status, &answer).into_response());
    }
    Ok(back_to(waba, customer, status, &answer))
}

#[derive(Deserialize)]
pub struct SendForm {
    csrf: String,
    client_id: String,
    text: String,
}

pub async fn send(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, customer)): Path<(String, String)>,
    Form(f): Form<SendForm>,
) -> Result<Response, Response> {
    let text = f.text.trim();
    // A lone `/word` is a quick reply.
    let body = if text.starts_with('/') && !text.contains(char::is_whitespace) {
        json!({"client_id": f.client_id, "quick_reply": text, "signature": true})
    } else {
        json!({"client_id": f.client_id, "text": text, "signature": true})
    };
    let path = format!(
        "/v1/biz/{}/conversations/{}/messages",
        encode(&waba),
        encode(&customer)
    );
    act(
        &web,
        &headers,
        &peer,
        &f.csrf,
        (&waba, &customer),
        (Method::POST, path, Some(body)),
    )
    .await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn assign(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, customer)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Response> {
    let s = signed_in(&web, &headers, &peer, "/app/biz").await?;
    let path = format!(
        "/v1/biz/{}/conversations/{}",
        encode(&waba),
        encode(&customer)
    );
    let body = json!({"assignee": s.user_id});
    act(
        &web,
        &headers,
        &peer,
        &f.csrf,
        (&waba, &customer),
        (Method::PATCH, path, Some(body)),
    )
    .await
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
}

pub async fn status(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, customer)): Path<(String, String)>,
    Form(f): Form<StatusForm>,
) -> Result<Response, Response> {
    let path = format!(
        "/v1/biz/{}/conversations/{}",
        encode(&waba),
        encode(&customer)
    );
    let body = json!({"status": f.status});
    act(
        &web,
        &headers,
        &peer,
        &f.csrf,
        (&waba, &customer),
        (Method::PATCH, path, Some(body)),
    )
    .await
}

#[derive(Deserialize)]
pub struct LabelForm {
    csrf: String,
    label: String,
}

pub async fn label(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, customer)): Path<(String, String)>,
    Form(f): Form<LabelForm>,
) -> Result<Response, Response> {
    let path = format!(
        "/v1/biz/{}/conversations/{}/labels/{}",
        encode(&waba),
        encode(&customer),
        encode(&f.label)
    );
    act(
        &web,
        &headers,
        &peer,
        &f.csrf,
        (&waba, &customer),
        (Method::PUT, path, None),
    )
    .await
}

#[derive(Deserialize)]
pub struct NoteForm {
    csrf: String,
    text: String,
}

pub async fn note(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, customer)): Path<(String, String)>,
    Form(f): Form<NoteForm>,
) -> Result<Response, Response> {
    let path = format!(
        "/v1/biz/{}/conversations/{}/notes",
        encode(&waba),
        encode(&customer)
    );
    let body = json!({"text": f.text});
    act(
        &web,
        &headers,
        &peer,
        &f.csrf,
        (&waba, &customer),
        (Method::POST, path, Some(body)),
    )
    .await
}

#[derive(Deserialize)]
pub struct OrderForm {
    csrf: String,
    customer: String,
    status: String,
}

pub async fn order_status(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, order)): Path<(String, String)>,
    Form(f): Form<OrderForm>,
) -> Result<Response, Response> {
    let path = format!("/v1/biz/{}/orders/{}/status", encode(&waba), encode(&order));
    let body = json!({"status": f.status});
    act(
        &web,
        &headers,
        &peer,
        &f.csrf,
        (&waba, &f.customer),
        (Method::POST, path, Some(body)),
    )
    .await
}
