//! The consumer chat: the chat list with unread counts and last messages, starting a
//! chat by phone number, and one conversation (history rendered here; live messages,
//! ticks, typing and sending by the page's script over the WebSocket).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Peer, Signed, body_text, clock, encode, html, phone, signed_in};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::session;

/// Messages a conversation page shows (the newest).
const PAGE: usize = 100;

pub struct ChatRow {
    pub chat_id: String,
    pub title: String,
    pub verified: bool,
    pub preview: String,
    pub unread: u64,
}

#[derive(Template)]
#[template(path = "chats.html")]
struct ChatsPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    error: Option<String>,
    chats: Vec<ChatRow>,
}

/// Who a chat is with.
pub struct Counterpart {
    /// A group's name, a business's name, or the other person's phone number.
    pub title: String,
    pub verified: bool,
    pub business: bool,
    /// The other member of a direct chat.
    pub user_id: String,
}

async fn title_of(web: &WebState, s: &Signed, chat: &Value) -> Result<Counterpart, WebError> {
    if chat["kind"] == "group" {
        return Ok(Counterpart {
            title: chat["name"].as_str().unwrap_or("Group").to_owned(),
            verified: false,
            business: false,
            user_id: String::new(),
        });
    }
    let chat_id = chat["chat_id"].as_str().unwrap_or_default();
    let other = chat_id
        .strip_prefix('d')
        .and_then(|r| r.split_once('-'))
        .map(|(a, b)| if a == s.user_id { b } else { a })
        .unwrap_or_default()
        .to_owned();
    let (status, b) = web
        .api
        .call(
            &s.caller,
            Method::GET,
            &format!("/v1/businesses/{}", encode(&other)),
            None,
        )
        .await?;
    if status.is_success() {
        return Ok(Counterpart {
            title: b["name"].as_str().unwrap_or(&other).to_owned(),
            verified: b["verified"].as_bool().unwrap_or(false),
            business: true,
            user_id: other,
        });
    }
    Ok(Counterpart {
        title: phone(&other),
        verified: false,
        business: false,
        user_id: other,
    })
}

pub async fn list(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
) -> Result<Response, Response> {
    let s = signed_in(&web, &headers, &peer, "/app").await?;
    let t = Tr {
        lang: Lang::of(&headers),
    };
    let page = async {
        let chats = web
            .api
            .ok(&s.caller, Method::GET, "/v1/chats", None)
            .await?;
        let mut rows = Vec::new();
        for c in chats["chats"].as_array().into_iter().flatten() {
            let who = title_of(&web, &s, c).await?;
            rows.push(ChatRow {
                chat_id: c["chat_id"].as_str().unwrap_or_default().to_owned(),
                title: who.title,
                verified: who.verified,
                preview: c["last_message"]
                    .get("body")
                    .map(|b| body_text(&t, b))
                    .unwrap_or_default(),
                unread: c["unread"].as_u64().unwrap_or(0),
            });
        }
        let (csrf, cookie) = session::csrf(&headers, web.config.secure_cookies);
        html(
            &ChatsPage {
                t,
                csrf,
                signed_in: true,
                error: None,
                chats: rows,
            },
            cookie,
        )
    };
    page.await.map_err(IntoResponse::into_response)
}

#[derive(Deserialize)]
pub struct GroupForm {
    csrf: String,
    name: String,
    #[serde(default)]
    members: String,
}

/// Creates a group with the people listed (phone numbers, one per line or
/// separated by commas) and opens it.
pub async fn create_group(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Form(f): Form<GroupForm>,
) -> Result<Response, Response> {
    session::check_csrf(&headers, &f.csrf).map_err(IntoResponse::into_response)?;
    let s = signed_in(&web, &headers, &peer, "/app").await?;
    let members: Vec<&str> = f
        .members
        .split([',', '\n', ';'])
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    let (status, body) = web
        .api
        .call(
            &s.caller,
            Method::POST,
            "/v1/chats",
            Some(&json!({"kind": "group", "name": f.name.trim(), "members": members})),
        )
        .await
        .map_err(IntoResponse::into_response)?;
    match body["chat_id"].as_str() {
        Some(id) if status.is_success() => {
            Ok(Redirect::to(&format!("/app/chats/{}", encode(id))).into_response())
        }
        _ => Err(crate::api::api_error(status, &body).into_response()),
    }
}

#[derive(Deserialize)]
pub struct StartForm {
    csrf: String,
    phone: String,
}

/// Starts (or finds) the direct chat with a phone number and opens it.
pub async fn start(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Form(f): Form<StartForm>,
) -> Result<Response, Response> {
    session::check_csrf(&headers, &f.csrf).map_err(IntoResponse::into_response)?;
    let s = signed_in(&web, &headers, &peer, "/app").await?;
    let (status, body) = web
        .api
        .call(
            &s.caller,
            Method::POST,
            "/v1/chats",
            Some(&json!({"kind": "direct", "with": f.phone.trim()})),
        )
        .await
        .map_err(IntoResponse::into_response)?;
    match body["chat_id"].as_str() {
        Some(id) if status.is_success() => {
            Ok(Redirect::to(&format!("/app/chats/{}", encode(id))).into_response())
        }
        _ => Err(crate::api::api_error(status, &body).into_response()),
    }
}

/// A photo, video, voice note or document of a message.
pub struct MediaView {
    pub id: String,
    /// `image`, `video`, `audio` or `file`.
    pub kind: &'static str,
    pub filename: String,
}

pub struct MessageRow {
    /// Who wrote it, shown above messages of others in groups.
    pub sender: String,
    /// The text of the message this one answers, shortened.
    pub quote: Option<String>,
    pub ts: i64,
    pub media: Option<MediaView>,
    pub id: String,
    pub seq: u64,
    pub mine: bool,
    pub text: String,
    pub time: String,
}

/// The messages of a history answer, oldest first (the order of the page's rows).
fn sorted(history: &Value) -> Vec<&Value> {
    let mut v: Vec<&Value> = history["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    v.sort_by_key(|m| m["seq"].as_u64().unwrap_or(0));
    v
}

/// How a page shows a file of this MIME type.
fn media_kind(mime: &str) -> &'static str {
    match mime.split('/').next().unwrap_or("") {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "file",
    }
}

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatPage {
    t: Tr,
    csrf_token: String,
    csrf: String,
    signed_in: bool,
    chat_id: String,
    me: String,
    who: Counterpart,
    group: bool,
    /// Text to start the composer with (a click-to-chat link's prefilled message).
    draft: String,
    messages: Vec<MessageRow>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    draft: Option<String>,
}

pub async fn show(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(chat_id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, Response> {
    let back = format!("/app/chats/{}", encode(&chat_id));
    let s = signed_in(&web, &headers, &peer, &back).await?;
    let t = Tr {
        lang: Lang::of(&headers),
    };
    let page = async {
        let chat = web
            .api
            .ok(
                &s.caller,
                Method::GET,
                &format!("/v1/chats/{}", encode(&chat_id)),
                None,
            )
            .await?;
        let who = title_of(&web, &s, &chat).await?;
        let history = web
            .api
            .ok(
                &s.caller,
                Method::GET,
                &format!("/v1/chats/{}/messages?limit={PAGE}", encode(&chat_id)),
                None,
            )
            .await?;
        // The API answers newest first; the page reads top to bottom.
        let mut messages: Vec<MessageRow> = history["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| MessageRow {
                sender: m["from_business"]["name"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| phone(m["from"].as_str().unwrap_or_default())),
                quote: None,
                ts: m["ts"].as_i64().unwrap_or(0),
                media: None,
                id: m["id"].as_str().unwrap_or_default().to_owned(),
                seq: m["seq"].as_u64().unwrap_or(0),
                mine: m["from"].as_str() == Some(s.user_id.as_str()),
                text: body_text(&t, &m["body"]),
                time: clock(m["ts"].as_i64().unwrap_or(0)),
            })
            .collect();
        messages.sort_by_key(|m| m.seq);
        // The quoted text of replies whose original is on the page.
        let texts: std::collections::HashMap<String, String> = messages
            .iter()
            .map(|m| (m.id.clone(), m.text.clone()))
            .collect();
        for (row, m) in messages.iter_mut().zip(sorted(&history)) {
            if let Some(orig) = m["reply_to"].as_str() {
                row.quote = Some(
                    texts
                        .get(orig)
                        .map(|t| t.chars().take(80).collect())
                        .unwrap_or_else(|| t.t("chat-reply-to")),
                );
            }
        }
        // What kind each attachment is (one look-up per attachment shown).
        for (row, m) in messages.iter_mut().zip(sorted(&history)) {
            let Some(id) = m["body"]["media_id"].as_str() else {
                continue;
            };
            let (status, info) = web
                .api
                .call(
                    &s.caller,
                    Method::GET,
                    &format!("/v1/media/{}/info", encode(id)),
                    None,
                )
                .await?;
            let mime = if status.is_success() {
                info["mime_type"].as_str().unwrap_or("")
            } else {
                ""
            };
            row.media = Some(MediaView {
                id: id.to_owned(),
                kind: media_kind(mime),
                filename: m["body"]["filename"]
                    .as_str()
                    .unwrap_or("attachment")
                    .to_owned(),
            });
            row.text = m["body"]["caption"].as_str().unwrap_or("").to_owned();
        }
        let (csrf, cookie) = session::csrf(&headers, web.config.secure_cookies);
        html(
            &ChatPage {
                t,
                csrf_token: csrf.clone(),
                csrf,
                signed_in: true,
                chat_id: chat_id.clone(),
                me: s.user_id.clone(),
                group: chat["kind"] == "group",
                who,
                draft: q.draft.unwrap_or_default().chars().take(1000).collect(),
                messages,
            },
            cookie,
        )
    };
    page.await.map_err(IntoResponse::into_response)
}
