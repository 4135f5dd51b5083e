//! Chats (protocol v1 section 2): direct chats and groups, the chat list, history and
//! group membership. Membership changes are also recorded in the chat as `system`
//! messages, so every member's devices learn about them through their stream.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use switchboard_core::limits::{
    DEFAULT_HISTORY_LIMIT, MAX_GROUP_MEMBERS, MAX_HISTORY_LIMIT, MAX_NAME_BYTES,
};
use switchboard_core::{ids, phone};
use switchboard_proto::http::{
    AddMemberRequest, ChatInfo, ChatList, ChatSummary, CreateChatRequest, Member, MessageList, Role,
};
use switchboard_store::{Chat, NewGroup, NewMessage};

use crate::accounts::random_hex;
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::render;
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/chats", post(create_chat).get(list_chats))
        .route("/v1/chats/{chat_id}", get(get_chat))
        .route("/v1/chats/{chat_id}/messages", get(history))
        .route("/v1/chats/{chat_id}/members", post(add_member))
        .route(
            "/v1/chats/{chat_id}/members/{user_id}",
            delete(remove_member),
        )
}

pub fn chat_info(chat: Chat) -> ChatInfo {
    ChatInfo {
        chat_id: chat.chat_id,
        kind: chat.kind,
        name: chat.name,
        created_at: chat.created_at,
        members: chat
            .members
            .into_iter()
            .map(|m| Member {
                user_id: m.user_id,
                role: m.role,
            })
            .collect(),
    }
}

/// A registered user by phone (or id), or `404 unknown_user`.
pub async fn existing_user(state: &SharedState, who: &str) -> ApiResult<String> {
    let user_id = phone::user_id_from_phone_or_id(who)?;
    match state.store.user(&user_id).await? {
        Some(_) => Ok(user_id),
        None => Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "unknown_user",
            format!("{} is not on Switchboard", phone::phone_of(&user_id)),
        )),
    }
}

/// The chat if `user_id` is a member; `404` otherwise (existence is not revealed).
pub async fn member_chat(state: &SharedState, chat_id: &str, user_id: &str) -> ApiResult<Chat> {
    if !ids::valid_chat_id(chat_id) {
        return Err(ApiError::not_found("chat not found"));
    }
    match state.store.chat(chat_id).await? {
        Some(chat) if chat.is_member(user_id) => Ok(chat),
        _ => Err(ApiError::not_found("chat not found")),
    }
}

/// Records a membership event in the chat as a `system` message from `actor`.
async fn system_message(
    state: &SharedState,
    auth: &Authed,
    chat_id: &str,
    event: serde_json::Value,
) -> ApiResult<()> {
    state
        .store
        .append(NewMessage {
            chat_id: chat_id.to_owned(),
            sender: auth.user_id.clone(),
            sender_device: auth.device_id.clone(),
            client_id: format!("system-{}", random_hex(8)),
            body: serde_json::json!({ "system": event }).to_string(),
            reply_to: None,
            ts: state.now(),
        })
        .await?;
    Ok(())
}

async fn create_chat(
    State(state): State<SharedState>,
    auth: Authed,
    ApiJson(req): ApiJson<CreateChatRequest>,
) -> ApiResult<ApiJson<ChatInfo>> {
    match req {
        CreateChatRequest::Direct { with } => {
            let other = existing_user(&state, &with).await?;
            if other == auth.user_id {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    "a direct chat needs another person; use a group to take notes",
                ));
            }
            let chat = state
                .store
                .direct_chat(&auth.user_id, &other, state.now())
                .await?;
            Ok(ApiJson(chat_info(chat)))
        }
        CreateChatRequest::Group { name, members } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control)
            {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    format!(
                        "a group name is 1 to {MAX_NAME_BYTES} bytes without control characters"
                    ),
                ));
            }
            if members.len() >= MAX_GROUP_MEMBERS {
                return Err(ApiError::new(
                    axum::http::StatusCode::CONFLICT,
                    "group_full",
                    format!(
                        "a group holds at most {MAX_GROUP_MEMBERS} members, its creator included"
                    ),
                ));
            }
            let mut ids_ = Vec::with_capacity(members.len());
            for m in &members {
                let id = phone::user_id_from_phone_or_id(m)?;
                if id != auth.user_id && !ids_.contains(&id) {
                    ids_.push(id);
                }
            }
            let mut random = [0u8; 16];
            random.copy_from_slice(&hex::decode(random_hex(16)).expect("random_hex is hex"));
            let chat = state
                .store
                .create_group(&NewGroup {
                    chat_id: ids::group_chat_id(random),
                    name: name.clone(),
                    creator: auth.user_id.clone(),
                    members: ids_,
                    created_at: state.now(),
                })
                .await?;
            system_message(
                &state,
                &auth,
                &chat.chat_id,
                serde_json::json!({"event": "group_created", "name": name}),
            )
            .await?;
            Ok(ApiJson(chat_info(chat)))
        }
    }
}

async fn list_chats(
    State(state): State<SharedState>,
    auth: Authed,
) -> ApiResult<ApiJson<ChatList>> {
    let chats = state.store.user_chats(&auth.user_id).await?;
    Ok(ApiJson(ChatList {
        chats: chats
            .into_iter()
            .map(|c| ChatSummary {
                chat_id: c.chat_id,
                kind: c.kind,
                name: c.name,
                last_seq: c.last_seq,
                unread: c.unread,
                last_message: c
                    .last_message
                    .as_ref()
                    .map(|m| render::message(m, &auth.user_id, None, &state.directory)),
            })
            .collect(),
    }))
}

async fn get_chat(
    State(state): State<SharedState>,
    auth: Authed,
    Path(chat_id): Path<String>,
) -> ApiResult<ApiJson<ChatInfo>> {
    Ok(ApiJson(chat_info(
        member_chat(&state, &chat_id, &auth.user_id).await?,
    )))
}

#[derive(Deserialize)]
struct HistoryQuery {
    before_seq: Option<u64>,
    limit: Option<usize>,
}

async fn history(
    State(state): State<SharedState>,
    auth: Authed,
    Path(chat_id): Path<String>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<ApiJson<MessageList>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_request", e.body_text()))?;
    let limit = q.limit.unwrap_or(DEFAULT_HISTORY_LIMIT);
    if !(1..=MAX_HISTORY_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("limit must be between 1 and {MAX_HISTORY_LIMIT}, got {limit}"),
        ));
    }
    member_chat(&state, &chat_id, &auth.user_id).await?;
    let messages = state.store.history(&chat_id, q.before_seq, limit).await?;
    Ok(ApiJson(MessageList {
        messages: messages
            .iter()
            .map(|m| render::message(m, &auth.user_id, None, &state.directory))
            .collect(),
    }))
}

fn require_group_admin(chat: &Chat, user_id: &str) -> ApiResult<()> {
    if ids::is_direct(&chat.chat_id) {
        return Err(ApiError::bad_request(
            "not_a_group",
            "members can only be changed in groups",
        ));
    }
    if !chat.is_admin(user_id) {
        return Err(ApiError::forbidden(
            "not_admin",
            "only group admins can change members",
        ));
    }
    Ok(())
}

async fn add_member(
    State(state): State<SharedState>,
    auth: Authed,
    Path(chat_id): Path<String>,
    ApiJson(req): ApiJson<AddMemberRequest>,
) -> ApiResult<ApiJson<ChatInfo>> {
    let chat = member_chat(&state, &chat_id, &auth.user_id).await?;
    require_group_admin(&chat, &auth.user_id)?;
    let user = existing_user(&state, &req.user).await?;
    if chat.is_member(&user) {
        return Ok(ApiJson(chat_info(chat)));
    }
    let chat = state
        .store
        .add_member(&chat_id, &user, Role::Member)
        .await?;
    system_message(
        &state,
        &auth,
        &chat_id,
        serde_json::json!({"event": "member_added", "user_id": user}),
    )
    .await?;
    Ok(ApiJson(chat_info(chat)))
}

async fn remove_member(
    State(state): State<SharedState>,
    auth: Authed,
    Path((chat_id, user_id)): Path<(String, String)>,
) -> ApiResult<ApiJson<ChatInfo>> {
    let chat = member_chat(&state, &chat_id, &auth.user_id).await?;
    let user = phone::user_id_from_phone_or_id(&user_id)?;
    if user != auth.user_id {
        require_group_admin(&chat, &auth.user_id)?;
    } else if ids::is_direct(&chat.chat_id) {
        return Err(ApiError::bad_request(
            "not_a_group",
            "a direct chat cannot be left",
        ));
    }
    if !chat.is_member(&user) {
        return Err(ApiError::not_found("no such member in this chat"));
    }
    let event = if user == auth.user_id {
        "member_left"
    } else {
        "member_removed"
    };
    // Recorded before the removal, so the removed member's devices see it too.
    system_message(
        &state,
        &auth,
        &chat_id,
        serde_json::json!({"event": event, "user_id": user}),
    )
    .await?;
    let chat = state.store.remove_member(&chat_id, &user).await?;
    Ok(ApiJson(chat_info(chat)))
}
