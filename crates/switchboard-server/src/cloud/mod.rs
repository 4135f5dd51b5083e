//! The business API, wire-compatible with the WhatsApp Cloud API (`docs/cloud-api.md`
//! is the contract): Graph-style paths `/{version}/{node}/{edge}` where the node is a
//! numeric id (a phone number, a business account, a template or a media object).
//!
//! Graph paths do not fit a static route table (any `/vNN.N` prefix, or none; the
//! node's kind is known only after looking the id up), so this module is the app's
//! fallback: it parses the path, authenticates the business token, resolves the
//! node, applies `Idempotency-Key`, and dispatches to the handler of `(node kind,
//! edge, method)`. Everything it answers is JSON; every error is the Graph error body.

pub mod account;
pub mod cache;
pub mod inbound;
pub mod media;
pub mod messages;
pub mod reach;
pub mod templates;

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};
use switchboard_business::error::GraphError;
use switchboard_store::{Business, StoreError, Template};

use crate::state::SharedState;

/// The largest JSON body the Graph API reads (a template with its components, a
/// message with ten contacts); media uploads stream and have their own limits.
const MAX_JSON_BODY: usize = 256 * 1024;
/// How long an `Idempotency-Key` answer is kept.
const IDEMPOTENCY_TTL_MS: i64 = 24 * 3600 * 1000;
/// A claim this old with no answer belongs to a request that died (crash, timeout);
/// a retry may run it again (the send itself is idempotent by its derived client id).
const IDEMPOTENCY_STALE_MS: i64 = 30_000;

/// A Graph error as an HTTP response.
pub struct GraphReply(pub GraphError);

pub type GraphResult<T> = Result<T, GraphReply>;

impl From<GraphError> for GraphReply {
    fn from(e: GraphError) -> Self {
        GraphReply(e)
    }
}

impl From<StoreError> for GraphReply {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Closed => GraphReply(GraphError::new(
                131016,
                "the service is shutting down; retry",
            )),
            StoreError::Conflict(m) => GraphReply(GraphError::invalid_parameter(m)),
            StoreError::NotFound(m) => {
                GraphReply(GraphError::invalid_parameter(format!("{m} does not exist")))
            }
            other => {
                tracing::error!(error = %other, "business API: storage failure");
                GraphReply(GraphError::new(131000, "internal error"))
            }
        }
    }
}

impl From<switchboard_media::MediaError> for GraphReply {
    fn from(e: switchboard_media::MediaError) -> Self {
        if e.status() < 500 {
            GraphReply(GraphError::new(131053, e.to_string()))
        } else {
            tracing::error!(error = %e, "business API: media failure");
            GraphReply(GraphError::new(131000, "internal error"))
        }
    }
}

impl IntoResponse for GraphReply {
    fn into_response(self) -> Response {
        let trace = fbtrace_id();
        let status = StatusCode::from_u16(self.0.http_status).unwrap_or(StatusCode::BAD_REQUEST);
        json_response(status, &self.0.to_json(&trace))
    }
}

pub fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub fn ok_json(v: Value) -> GraphResult<Response> {
    Ok(json_response(StatusCode::OK, &v))
}

pub fn success() -> GraphResult<Response> {
    ok_json(serde_json::json!({"success": true}))
}

fn fbtrace_id() -> String {
    use base64::Engine as _;
    let bytes: [u8; 12] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The object a Graph path names, after the token's business was checked to own it.
pub enum Node {
    PhoneNumber(Business),
    Account(Business),
    Template(Business, Box<Template>),
    /// Our media id (32 hex) and its owner.
    Media(Business, String),
    /// An app id (`/{app_id}/subscriptions`): not an object we keep; the token's business.
    App(Business),
}

/// One Graph request, parsed.
pub struct GraphRequest {
    pub method: Method,
    pub node: String,
    pub edge: Option<String>,
    /// The `vNN.N` prefix, if any.
    pub version: Option<String>,
    pub query: HashMap<String, String>,
    pub headers: axum::http::HeaderMap,
}

impl GraphRequest {
    /// Graph `fields=a,b,c`.
    pub fn fields(&self) -> Option<Vec<String>> {
        self.query.get("fields").map(|f| {
            f.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
    }
}

fn is_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let Some((major, minor)) = rest.split_once('.') else {
        return false;
    };
    !major.is_empty()
        && major.len() <= 3
        && !minor.is_empty()
        && minor.len() <= 3
        && major.bytes().all(|b| b.is_ascii_digit())
        && minor.bytes().all(|b| b.is_ascii_digit())
}

/// Splits a Graph path into (version, node, edge); `None` if it is not one.
pub fn parse_path(path: &str) -> Option<(Option<String>, String, Option<String>)> {
    let mut segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut version = None;
    if segs.first().is_some_and(|s| is_version(s)) {
        version = Some(segs.remove(0).to_owned());
    }
    let node = *segs.first()?;
    if node.is_empty() || node.len() > 64 || !node.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match segs.len() {
        1 => Some((version, node.to_owned(), None)),
        2 if !segs[1].is_empty() && segs[1].len() <= 64 => {
            Some((version, node.to_owned(), Some(segs[1].to_owned())))
        }
        _ => None,
    }
}

/// The app's fallback: Graph requests go to the business API; anything else is the
/// protocol's 404.
pub async fn fallback(State(state): State<SharedState>, req: Request) -> Response {
    let Some((version, node, edge)) = parse_path(req.uri().path()) else {
        return crate::error::ApiError::not_found("no such endpoint; see docs/protocol.md")
            .into_response();
    };
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let response = match handle(&state, req, version, node, edge).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    metrics::histogram!("switchboard_cloud_request_seconds", "method" => method.to_string())
        .record(started.elapsed().as_secs_f64());
    response
}

async fn handle(
    state: &SharedState,
    req: Request,
    version: Option<String>,
    node: String,
    edge: Option<String>,
) -> GraphResult<Response> {
    let (parts, body) = req.into_parts();
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let token =
        crate::auth::bearer_or_oauth(&parts).or(query.get("access_token").map(String::as_str));
    let business = authenticate(state, token).await?;
    let node_kind = resolve(state, &business, &node, edge.as_deref()).await?;
    let greq = GraphRequest {
        method: parts.method.clone(),
        node,
        edge,
        version,
        query,
        headers: parts.headers.clone(),
    };
    // Multipart uploads stream; everything else is a bounded JSON (or empty) body.
    let is_upload = matches!(node_kind, Node::PhoneNumber(_))
        && greq.edge.as_deref() == Some("media")
        && greq.method == Method::POST;
    if is_upload {
        let key = idempotency_key(&greq)?;
        let hash = format!(
            "upload:{}:{}",
            parts.uri.path(),
            parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        );
        let Node::PhoneNumber(b) = node_kind else {
            unreachable!("checked above")
        };
        let req = Request::from_parts(parts, body);
        return with_idempotency(state, &b.waba_id, key, &hash, async {
            media::upload(state, &b, req).await
        })
        .await;
    }
    let bytes = axum::body::to_bytes(body, MAX_JSON_BODY)
        .await
        .map_err(|_| {
            GraphError::invalid_parameter(format!(
                "the request body is larger than {MAX_JSON_BODY} bytes or was cut off"
            ))
        })?;
    let json = parse_json_body(&parts, &bytes, &greq)?;
    if greq.method == Method::POST {
        let key = idempotency_key(&greq)?;
        let mut h = Sha256::new();
        h.update(parts.uri.path().as_bytes());
        h.update([0]);
        h.update(&bytes);
        let hash = hex::encode(h.finalize());
        let waba = business.waba_id.clone();
        return with_idempotency(state, &waba, key.clone(), &hash, async {
            route(state, node_kind, &greq, json, key.as_deref()).await
        })
        .await;
    }
    route(state, node_kind, &greq, json, None).await
}

/// The JSON body: `application/json`, form fields, or (for GET/DELETE) the query.
fn parse_json_body(
    parts: &axum::http::request::Parts,
    bytes: &[u8],
    greq: &GraphRequest,
) -> GraphResult<Value> {
    let ctype = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if bytes.iter().all(u8::is_ascii_whitespace) {
        // Graph clients put POST parameters in the query string too.
        return Ok(Value::Object(
            greq.query
                .iter()
                .filter(|(k, _)| k.as_str() != "access_token")
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ));
    }
    if ctype.starts_with("application/x-www-form-urlencoded") {
        return Ok(Value::Object(
            url::form_urlencoded::parse(bytes)
                .into_owned()
                .map(|(k, v)| {
                    // Graph form fields may hold JSON (e.g. `components=[...]`).
                    let parsed = serde_json::from_str::<Value>(&v)
                        .ok()
                        .filter(|j| j.is_object() || j.is_array())
                        .unwrap_or(Value::String(v));
                    (k, parsed)
                })
                .collect(),
        ));
    }
    serde_json::from_slice::<Value>(bytes).map_err(|e| {
        GraphReply(GraphError::invalid_parameter(format!(
            "the request body is not valid JSON: {e}"
        )))
    })
}

fn idempotency_key(greq: &GraphRequest) -> GraphResult<Option<String>> {
    let Some(v) = greq.headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (0x21..0x7f).contains(&b)))
        .ok_or_else(|| {
            GraphError::invalid_parameter(
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// Runs `work` at most once per `(business, key)` within 24 h; repeats get the first
/// answer. Answers of 5xx are not kept (nothing took effect; a retry may run).
async fn with_idempotency(
    state: &SharedState,
    waba_id: &str,
    key: Option<String>,
    request_hash: &str,
    work: impl Future<Output = GraphResult<Response>>,
) -> GraphResult<Response> {
    let Some(key) = key else {
        return work.await;
    };
    let now = state.now();
    let expire = now - IDEMPOTENCY_TTL_MS;
    let mut seen = state
        .business
        .idempotency_claim(waba_id, &key, request_hash, now, expire)
        .await?;
    if let Some(rec) = &seen
        && rec.status == 0
        && rec.created_at < now - IDEMPOTENCY_STALE_MS
    {
        state.business.idempotency_release(waba_id, &key).await?;
        seen = state
            .business
            .idempotency_claim(waba_id, &key, request_hash, now, expire)
            .await?;
    }
    if let Some(rec) = seen {
        if rec.request_hash != request_hash {
            return Err(GraphError::invalid_parameter(
                "this Idempotency-Key was used for a different request",
            )
            .into());
        }
        if rec.status == 0 {
            let mut e = GraphError::new(
                2,
                "a request with this Idempotency-Key is still in progress; retry later",
            );
            e.http_status = 409;
            return Err(e.into());
        }
        let status = StatusCode::from_u16(rec.status).unwrap_or(StatusCode::OK);
        let mut r = (status, rec.body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(r);
    }
    let response = match work.await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    let status = response.status();
    if status.is_server_error() {
        state.business.idempotency_release(waba_id, &key).await?;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 4 * 1024 * 1024)
        .await
        .map_err(|_| GraphError::new(131000, "internal error"))?;
    state
        .business
        .idempotency_complete(
            waba_id,
            &key,
            status.as_u16(),
            &String::from_utf8_lossy(&bytes),
        )
        .await?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// The business of a token, or 190.
async fn authenticate(state: &SharedState, token: Option<&str>) -> GraphResult<Business> {
    let invalid = || {
        GraphError::new(
            190,
            "Invalid OAuth access token - cannot parse access token",
        )
    };
    let token = token
        .filter(|t| !t.is_empty() && t.len() <= 512)
        .ok_or_else(invalid)?;
    let rec = state
        .business
        .business_token(&switchboard_core::secret::token_hash(token))
        .await?
        .ok_or_else(invalid)?;
    if rec.expires_at.is_some_and(|t| t <= state.now()) {
        return Err(
            GraphError::new(190, "Error validating access token: Session has expired").into(),
        );
    }
    let b = state
        .business
        .business(&rec.waba_id)
        .await?
        .ok_or_else(invalid)?;
    Ok(b)
}

fn no_such_object(node: &str) -> GraphReply {
    GraphReply(GraphError::invalid_parameter(format!(
        "Unsupported request - method type: object with ID '{node}' does not exist, cannot be loaded due to missing permissions, or does not support this operation"
    )))
}

/// Finds what `node` is; only objects of the token's business are visible.
async fn resolve(
    state: &SharedState,
    business: &Business,
    node: &str,
    edge: Option<&str>,
) -> GraphResult<Node> {
    if node == business.phone_number_id {
        return Ok(Node::PhoneNumber(business.clone()));
    }
    if node == business.waba_id {
        return Ok(Node::Account(business.clone()));
    }
    if edge == Some("subscriptions") || edge == Some("uploads") {
        return Ok(Node::App(business.clone()));
    }
    if node.len() <= 20
        && let Some(t) = state.business.template(node).await?
    {
        if t.waba_id == business.waba_id {
            return Ok(Node::Template(business.clone(), Box::new(t)));
        }
        return Err(no_such_object(node));
    }
    if let Some(media_id) = switchboard_business::ids::media_from_graph(node)
        && let Some(rec) = state.media.record(&media_id).await?
        && crate::media::may_access(state, &business.user_id, &rec)
            .await
            .unwrap_or(false)
    {
        return Ok(Node::Media(business.clone(), media_id));
    }
    Err(no_such_object(node))
}

async fn route(
    state: &SharedState,
    node: Node,
    req: &GraphRequest,
    body: Value,
    idempotency_key: Option<&str>,
) -> GraphResult<Response> {
    let unsupported = || no_such_object(&req.node);
    match (node, req.edge.as_deref(), &req.method) {
        (Node::PhoneNumber(b), Some("messages"), &Method::POST) => {
            messages::post(state, &b, &body, idempotency_key).await
        }
        (Node::PhoneNumber(b), Some("whatsapp_business_profile"), &Method::GET) => {
            account::get_profile(state, &b, req).await
        }
        (Node::PhoneNumber(b), Some("whatsapp_business_profile"), &Method::POST) => {
            account::post_profile(state, &b, &body).await
        }
        (Node::PhoneNumber(b), None, &Method::GET) => account::get_number(state, &b, req).await,
        (Node::PhoneNumber(b), None, &Method::POST) => account::post_number(state, &b, &body).await,
        (
            Node::PhoneNumber(_),
            Some("register" | "deregister" | "request_code" | "verify_code"),
            &Method::POST,
        ) => account::registration(req, &body),
        (Node::Account(b), Some("message_templates"), &Method::GET) => {
            templates::list(state, &b, req).await
        }
        (Node::Account(b), Some("message_templates"), &Method::POST) => {
            templates::create(state, &b, &body).await
        }
        (Node::Account(b), Some("message_templates"), &Method::DELETE) => {
            templates::delete(state, &b, &body).await
        }
        (Node::Account(b), Some("phone_numbers"), &Method::GET) => {
            account::phone_numbers(state, &b, req).await
        }
        (Node::Account(b), Some("subscribed_apps"), &Method::POST) => {
            account::subscribe(state, &b, &body).await
        }
        (Node::Account(b), Some("subscribed_apps"), &Method::GET) => {
            account::subscribed_apps(state, &b).await
        }
        (Node::Account(b), Some("usage"), &Method::GET) => account::usage(state, &b, req).await,
        (Node::Account(b), None, &Method::GET) => account::get_account(state, &b, req).await,
        (Node::App(b), Some("subscriptions"), &Method::POST) => {
            account::subscribe(state, &b, &body).await
        }
        (Node::Template(_, t), None, &Method::GET) => templates::get(&t, req),
        (Node::Template(b, t), None, &Method::POST) => templates::edit(state, &b, *t, &body).await,
        (Node::Media(b, id), None, &Method::GET) => media::get(state, &b, &id, req).await,
        (Node::Media(b, id), None, &Method::DELETE) => media::delete(state, &b, &id).await,
        _ => Err(unsupported()),
    }
}

/// The absolute base URL clients reach this server at.
pub fn public_base(state: &SharedState, headers: &axum::http::HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| state.config.listen.to_string());
    format!("http://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_paths() {
        let p = |s: &str| parse_path(s);
        assert_eq!(
            p("/v21.0/123/messages"),
            Some((Some("v21.0".into()), "123".into(), Some("messages".into())))
        );
        assert_eq!(
            p("/123/messages"),
            Some((None, "123".into(), Some("messages".into())))
        );
        assert_eq!(
            p("/v21.0/123"),
            Some((Some("v21.0".into()), "123".into(), None))
        );
        assert_eq!(p("/v1/chats"), None);
        assert_eq!(p("/admin/v1/x"), None);
        assert_eq!(p("/v21.0/123/a/b"), None);
        assert_eq!(p("/"), None);
        assert_eq!(p("/v21.0"), None);
        assert_eq!(p("/v21/123"), None);
    }
}
