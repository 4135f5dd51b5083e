//! Labels of a business (`/v1/biz/{waba_id}/labels`) and their use on conversations
//! and single messages. A label is a record plus a name reservation written in the
//! same batch (names are unique regardless of case, even under concurrent
//! creation). Conversations keep label ids; a deleted label is filtered out on every
//! read, so it disappears everywhere at once.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_app::Role;
use switchboard_app::labels::{self, KIND, Label, MESSAGE_KIND, NAME_KIND};
use switchboard_store::{Expect, RecordWrite, StoreError};

use super::inbox::{change_conversation, conversation, customer_param, message_json};
use super::{Member, list, load, member, to_value};
use crate::admin::{JsonBody, UrlPath};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    let base = "/v1/biz/{waba_id}";
    Router::new()
        .route(&format!("{base}/labels"), get(index).post(create))
        .route(
            &format!("{base}/labels/{{label_id}}"),
            patch(change).delete(remove),
        )
        .route(
            &format!("{base}/labels/{{label_id}}/messages"),
            get(labelled_messages),
        )
        .route(
            &format!("{base}/conversations/{{customer}}/labels/{{label_id}}"),
            put(label_conversation).delete(unlabel_conversation),
        )
        .route(
            &format!(
                "{base}/conversations/{{customer}}/messages/{{message_id}}/labels/{{label_id}}"
            ),
            put(label_message).delete(unlabel_message),
        )
}

/// Every label of the business, by name.
pub async fn all(state: &SharedState, waba_id: &str) -> ApiResult<Vec<Label>> {
    let mut out: Vec<Label> = list::<Label>(state, waba_id, KIND, "")
        .await?
        .into_iter()
        .map(|(_, l, _)| l)
        .collect();
    out.sort_by_key(|l| labels::name_key(&l.name));
    Ok(out)
}

/// The label `label_id` with its version, or 404.
async fn label(state: &SharedState, waba_id: &str, label_id: &str) -> ApiResult<(Label, u64)> {
    let missing = || ApiError::not_found(format!("no label {label_id:?}"));
    if !labels::valid_id(label_id) {
        return Err(missing());
    }
    load::<Label>(state, waba_id, KIND, label_id)
        .await?
        .ok_or_else(missing)
}

async fn index(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    Ok(ApiJson(json!({
        "labels": all(&state, &waba_id).await?,
        "palette": labels::PALETTE,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    colour: String,
}

/// Writes a batch in which a name reservation expects to be free: a conflict means
/// the name is taken.
async fn apply_named(state: &SharedState, writes: &[RecordWrite], name: &str) -> ApiResult<()> {
    match state.business.apply_records(writes, state.now()).await {
        Ok(_) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(labels::name_taken(name).into()),
        Err(e) => Err(e.into()),
    }
}

async fn create(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<CreateBody>,
) -> ApiResult<(StatusCode, ApiJson<Label>)> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let name = labels::name(&req.name)?;
    let colour = labels::colour(&req.colour)?;
    let count = state.business.count_records(&waba_id, KIND, "").await?;
    labels::check_count(count as usize)?;
    let l = Label {
        id: labels::new_id(rand::random()),
        name,
        colour,
        created_at: state.now(),
    };
    let writes = [
        RecordWrite::put(&waba_id, KIND, &l.id, to_value(&l)?, Expect::Absent),
        RecordWrite::put(
            &waba_id,
            NAME_KIND,
            &labels::name_key(&l.name),
            to_value(&l.id)?,
            Expect::Absent,
        ),
    ];
    apply_named(&state, &writes, &l.name).await?;
    Ok((StatusCode::CREATED, ApiJson(l)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    colour: Option<String>,
}

async fn change(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, label_id)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<ChangeBody>,
) -> ApiResult<ApiJson<Label>> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let (old, version) = label(&state, &waba_id, &label_id).await?;
    let mut next = old.clone();
    if let Some(n) = &req.name {
        next.name = labels::name(n)?;
    }
    if let Some(c) = &req.colour {
        next.colour = labels::colour(c)?;
    }
    let mut writes = vec![RecordWrite::put(
        &waba_id,
        KIND,
        &label_id,
        to_value(&next)?,
        Expect::Version(version),
    )];
    let (old_key, new_key) = (labels::name_key(&old.name), labels::name_key(&next.name));
    if old_key != new_key {
        writes.push(RecordWrite::delete(
            &waba_id,
            NAME_KIND,
            &old_key,
            Expect::Any,
        ));
        writes.push(RecordWrite::put(
            &waba_id,
            NAME_KIND,
            &new_key,
            to_value(&label_id)?,
            Expect::Absent,
        ));
    }
    apply_named(&state, &writes, &next.name).await?;
    Ok(ApiJson(next))
}

async fn remove(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, label_id)): UrlPath<(String, String)>,
) -> ApiResult<StatusCode> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let (l, _) = label(&state, &waba_id, &label_id).await?;
    let writes = [
        RecordWrite::delete(&waba_id, KIND, &label_id, Expect::Any),
        RecordWrite::delete(&waba_id, NAME_KIND, &labels::name_key(&l.name), Expect::Any),
    ];
    state.business.apply_records(&writes, state.now()).await?;
    // Conversations keep the id and filter it on read; message labels go now.
    let uses =
        list::<MessageLabel>(&state, &waba_id, MESSAGE_KIND, &format!("{label_id}/")).await?;
    for (key, _, _) in uses {
        state
            .business
            .delete_record(&waba_id, MESSAGE_KIND, &key, Expect::Any, state.now())
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The labels on the messages of the conversation with `customer`: message id →
/// ids of labels that still exist.
pub async fn on_messages(
    state: &SharedState,
    waba_id: &str,
    customer: &str,
    existing: &[String],
) -> ApiResult<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (key, use_, _) in list::<MessageLabel>(state, waba_id, MESSAGE_KIND, "").await? {
        let Some((label_id, _)) = key.split_once('/') else {
            continue;
        };
        if use_.customer == customer && existing.iter().any(|l| l == label_id) {
            out.entry(use_.message_id)
                .or_default()
                .push(label_id.to_owned());
        }
    }
    Ok(out)
}

/// A label on one message; key `{label_id}/{message_id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MessageLabel {
    message_id: String,
    customer: String,
    by: String,
    ts: i64,
}

async fn labelled_messages(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, label_id)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    label(&state, &waba_id, &label_id).await?;
    let uses =
        list::<MessageLabel>(&state, &waba_id, MESSAGE_KIND, &format!("{label_id}/")).await?;
    let mut out = Vec::with_capacity(uses.len());
    for (_, use_, _) in uses {
        if let Some((chat_id, seq)) = switchboard_core::ids::parse_message_id(&use_.message_id)
            && let Some(msg) = state
                .store
                .history(chat_id, Some(seq + 1), 1)
                .await?
                .into_iter()
                .find(|msg| msg.seq == seq)
        {
            let mut v = message_json(&state, &m.business, &msg);
            if let Some(o) = v.as_object_mut() {
                o.insert("customer".into(), json!(use_.customer));
            }
            out.push(v);
        }
    }
    Ok(ApiJson(json!({ "messages": out })))
}

/// The caller, the conversation's customer and the label, all checked.
async fn target(
    state: &SharedState,
    auth: &Authed,
    waba_id: &str,
    customer: &str,
    label_id: &str,
) -> ApiResult<(Member, String)> {
    let m = member(state, auth, waba_id, Role::Agent).await?;
    let customer = customer_param(customer)?.to_owned();
    conversation(state, waba_id, &customer).await?;
    label(state, waba_id, label_id).await?;
    Ok((m, customer))
}

async fn label_conversation(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer, label_id)): UrlPath<(String, String, String)>,
) -> ApiResult<ApiJson<Value>> {
    let (_, customer) = target(&state, &auth, &waba_id, &customer, &label_id).await?;
    let c = change_conversation(&state, &waba_id, &customer, |c| {
        if !c.labels.contains(&label_id) {
            c.labels.push(label_id.clone());
        }
        Ok(())
    })
    .await?;
    conversation_labels(&state, &waba_id, &c.labels).await
}

async fn unlabel_conversation(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer, label_id)): UrlPath<(String, String, String)>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let customer = customer_param(&customer)?;
    let c = change_conversation(&state, &waba_id, customer, |c| {
        c.labels.retain(|l| *l != label_id);
        Ok(())
    })
    .await?;
    conversation_labels(&state, &waba_id, &c.labels).await
}

async fn conversation_labels(
    state: &SharedState,
    waba_id: &str,
    ids: &[String],
) -> ApiResult<ApiJson<Value>> {
    let known = all(state, waba_id).await?;
    let labels: Vec<&Label> = known.iter().filter(|l| ids.contains(&l.id)).collect();
    Ok(ApiJson(json!({ "labels": labels })))
}

/// Checks that `message_id` is a message of the business's chat with `customer`.
async fn message_of(
    state: &SharedState,
    m: &Member,
    customer: &str,
    message_id: &str,
) -> ApiResult<()> {
    let missing = || ApiError::not_found(format!("no message {message_id:?} in this conversation"));
    let (chat_id, seq) = switchboard_core::ids::parse_message_id(message_id).ok_or_else(missing)?;
    if chat_id != switchboard_core::ids::direct_chat_id(&m.business.user_id, customer) {
        return Err(missing());
    }
    let found = state.store.history(chat_id, Some(seq + 1), 1).await?;
    if found.first().is_some_and(|msg| msg.seq == seq) {
        Ok(())
    } else {
        Err(missing())
    }
}

async fn label_message(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer, message_id, label_id)): UrlPath<(String, String, String, String)>,
) -> ApiResult<ApiJson<Value>> {
    let (m, customer) = target(&state, &auth, &waba_id, &customer, &label_id).await?;
    message_of(&state, &m, &customer, &message_id).await?;
    let use_ = MessageLabel {
        message_id: message_id.clone(),
        customer,
        by: m.user_id().to_owned(),
        ts: state.now(),
    };
    super::save(
        &state,
        &waba_id,
        MESSAGE_KIND,
        &format!("{label_id}/{message_id}"),
        &use_,
        Expect::Any,
    )
    .await?;
    Ok(ApiJson(
        json!({ "message_id": message_id, "label_id": label_id }),
    ))
}

async fn unlabel_message(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, customer, message_id, label_id)): UrlPath<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let customer = customer_param(&customer)?;
    message_of(&state, &m, customer, &message_id).await?;
    if labels::valid_id(&label_id) {
        state
            .business
            .delete_record(
                &waba_id,
                MESSAGE_KIND,
                &format!("{label_id}/{message_id}"),
                Expect::Any,
                state.now(),
            )
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
