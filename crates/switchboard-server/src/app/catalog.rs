//! The catalog for the team (`/v1/biz/{waba_id}/catalog/…`): products and
//! collections (admins edit, agents read), and product or catalog messages sent
//! into a customer's chat. Products are records of kind `product` with a
//! `product_sku` index written in the same atomic batch, so a SKU is unique per
//! business even when two admins save at once. The rules live in
//! `switchboard_app::catalog`.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_app::Role;
use switchboard_app::catalog::{
    self, Collection, CollectionChange, KIND_COLLECTION, KIND_PRODUCT, KIND_SKU, MAX_COLLECTIONS,
    MAX_PRODUCTS, Product, ProductChange,
};
use switchboard_core::ids;
use switchboard_store::{Expect, RecordWrite};

use super::{COMMERCE_DEVICE, list, load, member, send_as_business, to_value};
use crate::admin::{JsonBody, UrlPath};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route(
            "/v1/biz/{waba_id}/catalog/products",
            get(list_products).post(create_product),
        )
        .route(
            "/v1/biz/{waba_id}/catalog/products/{id}",
            get(show_product).patch(edit_product).delete(delete_product),
        )
        .route(
            "/v1/biz/{waba_id}/catalog/collections",
            get(list_collections).post(create_collection),
        )
        .route(
            "/v1/biz/{waba_id}/catalog/collections/{id}",
            get(show_collection)
                .patch(edit_collection)
                .delete(delete_collection),
        )
        .route("/v1/biz/{waba_id}/catalog/send", post(send))
}

/// Every product of the business, in id order.
pub async fn products(state: &SharedState, waba_id: &str) -> ApiResult<Vec<Product>> {
    Ok(list::<Product>(state, waba_id, KIND_PRODUCT, "")
        .await?
        .into_iter()
        .map(|(_, p, _)| p)
        .collect())
}

/// Every collection of the business, in id order.
pub async fn collections(state: &SharedState, waba_id: &str) -> ApiResult<Vec<Collection>> {
    Ok(list::<Collection>(state, waba_id, KIND_COLLECTION, "")
        .await?
        .into_iter()
        .map(|(_, c, _)| c)
        .collect())
}

/// The catalog keyed by product id (to price orders).
pub async fn product_map(
    state: &SharedState,
    waba_id: &str,
) -> ApiResult<HashMap<String, Product>> {
    Ok(products(state, waba_id)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect())
}

fn random_id(prefix: &str) -> String {
    catalog::new_id(prefix, rand::random::<[u8; 8]>())
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no {what} {:?} in this catalog",
        id.chars().take(40).collect::<String>()
    ))
}

async fn load_product(state: &SharedState, waba_id: &str, id: &str) -> ApiResult<(Product, u64)> {
    if !catalog::valid_id(id) {
        return Err(not_found("product", id));
    }
    load::<Product>(state, waba_id, KIND_PRODUCT, id)
        .await?
        .ok_or_else(|| not_found("product", id))
}

async fn load_collection(
    state: &SharedState,
    waba_id: &str,
    id: &str,
) -> ApiResult<(Collection, u64)> {
    if !catalog::valid_id(id) {
        return Err(not_found("collection", id));
    }
    load::<Collection>(state, waba_id, KIND_COLLECTION, id)
        .await?
        .ok_or_else(|| not_found("collection", id))
}

/// 400 `unknown_media` unless every image is in the media index.
async fn check_media(state: &SharedState, ids: Option<&Vec<String>>) -> ApiResult<()> {
    for id in ids.into_iter().flatten() {
        let known = state
            .media
            .record(id)
            .await
            .map_err(crate::media::api_error)?
            .is_some();
        if !known {
            return Err(ApiError::bad_request(
                "unknown_media",
                format!(
                    "no media {:?}; upload the image with POST /v1/media first",
                    id.chars().take(40).collect::<String>()
                ),
            ));
        }
    }
    Ok(())
}

/// 409 `duplicate_sku` when another product of the business has `sku`.
async fn check_sku(
    state: &SharedState,
    waba_id: &str,
    sku: Option<&str>,
    product_id: &str,
) -> ApiResult<()> {
    let Some(sku) = sku else { return Ok(()) };
    match load::<Value>(state, waba_id, KIND_SKU, sku).await? {
        Some((v, _)) if v.get("product_id").and_then(Value::as_str) != Some(product_id) => {
            Err(duplicate_sku(sku))
        }
        _ => Ok(()),
    }
}

fn duplicate_sku(sku: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "duplicate_sku",
        format!("another product already has the SKU {sku:?}"),
    )
}

/// Writes a product and its SKU index in one batch (`old` is the stored product and
/// its version, or none for a new one).
async fn write_product(
    state: &SharedState,
    waba_id: &str,
    product: &Product,
    old: Option<(&Product, u64)>,
) -> ApiResult<()> {
    let expect = old.map_or(Expect::Absent, |(_, v)| Expect::Version(v));
    let mut writes = vec![RecordWrite::put(
        waba_id,
        KIND_PRODUCT,
        &product.id,
        to_value(product)?,
        expect,
    )];
    let old_sku = old.and_then(|(p, _)| p.sku.clone());
    if old_sku != product.sku {
        if let Some(s) = &old_sku {
            writes.push(RecordWrite::delete(waba_id, KIND_SKU, s, Expect::Any));
        }
        if let Some(s) = &product.sku {
            let v = to_value(&json!({"product_id": product.id}))?;
            writes.push(RecordWrite::put(waba_id, KIND_SKU, s, v, Expect::Absent));
        }
    }
    match state.business.apply_records(&writes, state.now()).await {
        Ok(_) => Ok(()),
        Err(switchboard_store::StoreError::Conflict(_)) => {
            // Either the product changed meanwhile or the SKU was just taken.
            check_sku(state, waba_id, product.sku.as_deref(), &product.id).await?;
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "the product changed meanwhile; read it again",
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn list_products(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let all: Vec<Value> = products(&state, &waba_id)
        .await?
        .iter()
        .map(Product::team_json)
        .collect();
    Ok(ApiJson(json!({ "products": all })))
}

async fn create_product(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<ProductChange>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let change = req.check()?;
    let product = change.create(random_id("p"), state.now())?;
    let count = state
        .business
        .count_records(&waba_id, KIND_PRODUCT, "")
        .await?;
    if count >= MAX_PRODUCTS {
        return Err(switchboard_app::AppError::limit(
            "too_many_products",
            format!("a catalog holds at most {MAX_PRODUCTS} products"),
        )
        .into());
    }
    check_media(&state, Some(&product.image_media_ids)).await?;
    check_sku(&state, &waba_id, product.sku.as_deref(), &product.id).await?;
    write_product(&state, &waba_id, &product, None).await?;
    Ok((StatusCode::CREATED, ApiJson(product.team_json())))
}

async fn show_product(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, id)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let (p, _) = load_product(&state, &waba_id, &id).await?;
    Ok(ApiJson(p.team_json()))
}

async fn edit_product(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, id)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<ProductChange>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let change = req.check()?;
    let (old, version) = load_product(&state, &waba_id, &id).await?;
    check_media(&state, change.image_media_ids.as_ref()).await?;
    let product = change.apply(old.clone(), state.now());
    check_sku(&state, &waba_id, product.sku.as_deref(), &product.id).await?;
    write_product(&state, &waba_id, &product, Some((&old, version))).await?;
    Ok(ApiJson(product.team_json()))
}

async fn delete_product(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, id)): UrlPath<(String, String)>,
) -> ApiResult<StatusCode> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let (old, version) = load_product(&state, &waba_id, &id).await?;
    let mut writes = vec![RecordWrite::delete(
        &waba_id,
        KIND_PRODUCT,
        &id,
        Expect::Version(version),
    )];
    if let Some(s) = &old.sku {
        writes.push(RecordWrite::delete(&waba_id, KIND_SKU, s, Expect::Any));
    }
    state.business.apply_records(&writes, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 400 `unknown_product` unless every id is a product of the business.
async fn check_products(
    state: &SharedState,
    waba_id: &str,
    ids: Option<&Vec<String>>,
) -> ApiResult<()> {
    let Some(ids) = ids else { return Ok(()) };
    let known: HashSet<String> = products(state, waba_id)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    if let Some(bad) = ids.iter().find(|i| !known.contains(*i)) {
        return Err(ApiError::bad_request(
            "unknown_product",
            format!("no product {bad:?} in this catalog"),
        ));
    }
    Ok(())
}

async fn list_collections(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let all: Vec<Value> = collections(&state, &waba_id)
        .await?
        .iter()
        .map(Collection::json)
        .collect();
    Ok(ApiJson(json!({ "collections": all })))
}

async fn create_collection(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<CollectionChange>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let change = req.check()?;
    check_products(&state, &waba_id, change.product_ids.as_ref()).await?;
    let count = state
        .business
        .count_records(&waba_id, KIND_COLLECTION, "")
        .await?;
    if count >= MAX_COLLECTIONS {
        return Err(switchboard_app::AppError::limit(
            "too_many_collections",
            format!("a catalog holds at most {MAX_COLLECTIONS} collections"),
        )
        .into());
    }
    let c = change.create(random_id("c"), state.now())?;
    super::save(&state, &waba_id, KIND_COLLECTION, &c.id, &c, Expect::Absent).await?;
    Ok((StatusCode::CREATED, ApiJson(c.json())))
}

async fn show_collection(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, id)): UrlPath<(String, String)>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Agent).await?;
    let (c, _) = load_collection(&state, &waba_id, &id).await?;
    Ok(ApiJson(c.json()))
}

async fn edit_collection(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, id)): UrlPath<(String, String)>,
    JsonBody(req): JsonBody<CollectionChange>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let change = req.check()?;
    check_products(&state, &waba_id, change.product_ids.as_ref()).await?;
    let (old, version) = load_collection(&state, &waba_id, &id).await?;
    let c = change.apply(old, state.now());
    super::save(
        &state,
        &waba_id,
        KIND_COLLECTION,
        &id,
        &c,
        Expect::Version(version),
    )
    .await?;
    Ok(ApiJson(c.json()))
}

async fn delete_collection(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath((waba_id, id)): UrlPath<(String, String)>,
) -> ApiResult<StatusCode> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let (_, version) = load_collection(&state, &waba_id, &id).await?;
    state
        .business
        .delete_record(
            &waba_id,
            KIND_COLLECTION,
            &id,
            Expect::Version(version),
            state.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    to: String,
    #[serde(default)]
    product_id: Option<String>,
    #[serde(default)]
    collection_id: Option<String>,
    #[serde(default)]
    text: Option<String>,
    /// Makes a retried send store one message.
    #[serde(default)]
    client_id: Option<String>,
}

/// The products of a collection, in its order (ids of deleted products skipped).
fn in_order<'a>(c: &Collection, all: &'a HashMap<String, Product>) -> Vec<&'a Product> {
    c.product_ids.iter().filter_map(|id| all.get(id)).collect()
}

async fn send(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<SendBody>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let text = catalog::message_text(req.text.as_deref())?;
    let client_id = match req.client_id {
        Some(c) if !c.is_empty() && c.len() <= 64 => c,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "client_id must be 1 to 64 bytes",
            ));
        }
        None => format!("catalog:{}", uuid::Uuid::now_v7().simple()),
    };
    if req.to == m.business.user_id
        || req.to.len() > 32
        || state.store.user(&req.to).await?.is_none()
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_user",
            "to must be the user id of a customer on Switchboard",
        ));
    }
    let all = product_map(&state, &waba_id).await?;
    let body = match (&req.product_id, &req.collection_id) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "send a product_id, a collection_id or neither (the whole catalog), not both",
            ));
        }
        (Some(pid), None) => {
            let (p, _) = load_product(&state, &waba_id, pid).await?;
            catalog::product_message(&p, text.as_deref())
        }
        (None, Some(cid)) => {
            let (c, _) = load_collection(&state, &waba_id, cid).await?;
            catalog::catalog_message(
                &m.business.name,
                Some(&c),
                &in_order(&c, &all),
                text.as_deref(),
            )
        }
        (None, None) => {
            let mut every: Vec<&Product> = all.values().collect();
            every.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
            catalog::catalog_message(&m.business.name, None, &every, text.as_deref())
        }
    };
    share_images(&state, &m.business.user_id, &req.to, &body).await?;
    let a = send_as_business(
        &state,
        &m.business,
        &req.to,
        COMMERCE_DEVICE,
        &client_id,
        to_value(&body)?,
        None,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(json!({"id": a.id, "chat_id": a.chat_id, "seq": a.seq, "ts": a.ts, "body": body})),
    ))
}

/// Lets the customer fetch the images a product or catalog message shows: a media
/// id may be fetched by the members of a chat it is referenced in.
async fn share_images(
    state: &SharedState,
    business_user: &str,
    customer: &str,
    body: &Value,
) -> ApiResult<()> {
    let chat_id = ids::direct_chat_id(business_user, customer);
    state
        .store
        .direct_chat(business_user, customer, state.now())
        .await?;
    let snapshots: Vec<&Value> = match (body.get("product"), body.pointer("/catalog/products")) {
        (Some(p), _) => vec![p],
        (None, Some(Value::Array(ps))) => ps.iter().collect(),
        _ => vec![],
    };
    for media_id in snapshots
        .iter()
        .filter_map(|s| s.get("image_media_id").and_then(Value::as_str))
    {
        state
            .media
            .index
            .add_ref(media_id, &chat_id, state.now())
            .await
            .map_err(crate::media::api_error)?;
    }
    Ok(())
}
