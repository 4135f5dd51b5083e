//! Orders: customers place them (through `businesses.rs`, which calls [`place`] and
//! [`customer_orders`]) and the team works them (`/v1/biz/{waba_id}/orders/…`).
//! An order is a record of kind `order` keyed by a time-ordered id, with a
//! `customer_order` index (`{customer}/{order_id}`) written in the same batch so a
//! customer's orders list without a scan. Placing an order appends an `order`
//! message from the customer to the direct chat; every status step appends an
//! `order_status` message from the business. The rules live in
//! `switchboard_app::orders`.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_app::Role;
use switchboard_app::catalog::valid_id;
use switchboard_app::orders::{self, KIND_CUSTOMER_ORDER, KIND_ORDER, Order, OrderRequest, Status};
use switchboard_store::{Business, Expect, NewMessage, RecordWrite};

use super::{COMMERCE_DEVICE, list, load, member, send_as_business, to_value, update};
use crate::admin::{JsonBody, UrlPath, UrlQuery};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/v1/biz/{waba_id}/orders", get(team_list))
        .route("/v1/biz/{waba_id}/orders/{order_id}", get(team_show))
        .route(
            "/v1/biz/{waba_id}/orders/{order_id}/status",
            post(set_status),
        )
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no order {:?}",
        id.chars().take(40).collect::<String>()
    ))
}

async fn load_order(state: &SharedState, waba_id: &str, id: &str) -> ApiResult<Order> {
    if !valid_id(id) {
        return Err(not_found(id));
    }
    Ok(load::<Order>(state, waba_id, KIND_ORDER, id)
        .await?
        .ok_or_else(|| not_found(id))?
        .0)
}

/// Prices `req` against the business's catalog, stores the order and appends the
/// customer's `order` message to their chat with the business.
pub async fn place(
    state: &SharedState,
    business: &Business,
    auth: &Authed,
    req: OrderRequest,
) -> ApiResult<Order> {
    let now = state.now();
    let waba_id = &business.waba_id;
    // A retry with the same client id answers the first order (and makes sure its
    // message is in the chat: the append is idempotent by the order's id).
    let key = match req.client_id.as_deref() {
        Some(cid) => Some(format!("{}/{}", auth.user_id, orders::client_id(cid)?)),
        None => None,
    };
    if let Some(k) = &key
        && let Some(order) = keyed_order(state, waba_id, k).await?
    {
        append_order_message(state, business, auth, &order, now).await?;
        return Ok(order);
    }
    let catalog = super::catalog::product_map(state, waba_id).await?;
    let id = orders::new_order_id(now, rand::random::<[u8; 4]>());
    let order = orders::place(id, &auth.user_id, req, &catalog, now)?;
    let mut writes = vec![
        RecordWrite::put(
            &business.waba_id,
            KIND_ORDER,
            &order.id,
            to_value(&order)?,
            Expect::Absent,
        ),
        RecordWrite::put(
            &business.waba_id,
            KIND_CUSTOMER_ORDER,
            &format!("{}/{}", order.customer, order.id),
            "{}".to_owned(),
            Expect::Absent,
        ),
    ];
    if let Some(k) = &key {
        writes.push(RecordWrite::put(
            waba_id,
            orders::KIND_ORDER_KEY,
            k,
            to_value(&serde_json::json!({ "order_id": order.id }))?,
            Expect::Absent,
        ));
    }
    match state.business.apply_records(&writes, now).await {
        Ok(_) => {}
        // A concurrent retry with the same client id placed it first.
        Err(switchboard_store::StoreError::Conflict(_)) if key.is_some() => {
            if let Some(k) = &key
                && let Some(first) = keyed_order(state, waba_id, k).await?
            {
                append_order_message(state, business, auth, &first, now).await?;
                return Ok(first);
            }
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "conflict",
                "the order changed meanwhile; try again",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    append_order_message(state, business, auth, &order, now).await?;
    Ok(order)
}

/// The order a customer's client id names, if any.
async fn keyed_order(state: &SharedState, waba_id: &str, key: &str) -> ApiResult<Option<Order>> {
    let Some((v, _)) = load::<Value>(state, waba_id, orders::KIND_ORDER_KEY, key).await? else {
        return Ok(None);
    };
    match v["order_id"].as_str() {
        Some(id) => Ok(load::<Order>(state, waba_id, KIND_ORDER, id)
            .await?
            .map(|(o, _)| o)),
        None => Ok(None),
    }
}

/// The customer's `order` message in their chat with the business (stored once per
/// order: its client id is the order's).
async fn append_order_message(
    state: &SharedState,
    business: &Business,
    auth: &Authed,
    order: &Order,
    now: i64,
) -> ApiResult<()> {
    let chat = state
        .store
        .direct_chat(&business.user_id, &auth.user_id, now)
        .await?;
    state
        .store
        .append(NewMessage {
            chat_id: chat.chat_id,
            sender: auth.user_id.clone(),
            // One device for every order message, so a retry from another of the
            // customer's devices still stores it once (and every device gets it).
            sender_device: super::COMMERCE_DEVICE.to_owned(),
            client_id: format!("order:{}", order.id),
            body: to_value(&order.message(&business.waba_id))?,
            reply_to: None,
            ts: now,
        })
        .await?;
    Ok(())
}

/// The orders `customer` placed with the business, newest first.
pub async fn customer_orders(
    state: &SharedState,
    waba_id: &str,
    customer: &str,
) -> ApiResult<Vec<Order>> {
    let prefix = format!("{customer}/");
    let index = list::<Value>(state, waba_id, KIND_CUSTOMER_ORDER, &prefix).await?;
    let mut out = Vec::with_capacity(index.len());
    for (key, _, _) in index.iter().rev() {
        let id = key.get(prefix.len()..).unwrap_or_default();
        // The index is written with the order: a miss is an order deleted since.
        if let Some((o, _)) = load::<Order>(state, waba_id, KIND_ORDER, id).await?
            && o.customer == customer
        {
            out.push(o);
        }
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    customer: Option<String>,
    /// Only orders older than this order id (the next page).
    before: Option<String>,
    limit: Option<usize>,
}

async fn team_list(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    UrlQuery(q): UrlQuery<ListQuery>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let status = q.status.as_deref().map(Status::parse).transpose()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let all = match &q.customer {
        Some(c) => customer_orders(&state, &waba_id, c).await?,
        None => {
            let mut v: Vec<Order> = list::<Order>(&state, &waba_id, KIND_ORDER, "")
                .await?
                .into_iter()
                .map(|(_, o, _)| o)
                .collect();
            v.reverse();
            v
        }
    };
    let page: Vec<Value> = all
        .iter()
        .filter(|o| status.is_none_or(|s| o.status == s))
        .filter(|o| q.before.as_deref().is_none_or(|b| o.id.as_str() < b))
        .take(limit)
        .map(Order::json)
        .collect();
    Ok(ApiJson(json!({ "orders": page })))
}

async fn team_show(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, order_id)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    Ok(ApiJson(
        load_order(&state, &waba_id, &order_id).await?.json(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
    #[serde(default)]
    note: Option<String>,
}

async fn set_status(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, order_id)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<StatusBody>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let to = Status::parse(&req.status)?;
    let note = orders::note(req.note.as_deref())?;
    load_order(&state, &waba_id, &order_id).await?;
    let now = state.now();
    let order = update::<Order, _>(&state, &waba_id, KIND_ORDER, &order_id, |current| {
        let Some(mut o) = current else {
            return Err(not_found(&order_id));
        };
        if o.status == to && to != Status::Received {
            // A retry of a step that was saved: send its message again (deduped).
            return Ok(None);
        }
        o.advance(to, m.user_id(), note.clone(), now)?;
        Ok(Some(o))
    })
    .await?
    .ok_or_else(|| not_found(&order_id))?;
    send_as_business(
        &state,
        &m.business,
        &order.customer,
        COMMERCE_DEVICE,
        &order.status_client_id(to),
        to_value(&order.status_message())?,
        None,
    )
    .await?;
    Ok(ApiJson(order.json()))
}
