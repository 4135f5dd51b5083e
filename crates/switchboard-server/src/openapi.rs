//! The OpenAPI 3.1 description of the business API, served at `GET /openapi.json`
//! and checked in as `docs/openapi.json`.
//!
//! Written by hand (no derive macros over handler code) because the wire format is
//! Meta's, not ours: it has to say what Cloud API clients send and expect, including
//! the tolerances (explicit `null`s, numbers as strings, any-case enums) that typed
//! schemas of our handlers would not show. It covers the Graph endpoints of the
//! contract (`docs/cloud-api.md`), the Graph error, the webhook payloads (OpenAPI
//! 3.1 `webhooks`) and the platform admin API. A test keeps `docs/openapi.json`
//! equal to [`document`] (regenerate with `UPDATE_EXAMPLES=1`) and checks that every
//! path is well formed and every `$ref` resolves.

use std::sync::OnceLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new().route("/openapi.json", get(serve))
}

async fn serve() -> impl IntoResponse {
    // The document is a constant: rendered once per process.
    static RENDERED: OnceLock<String> = OnceLock::new();
    let body = RENDERED.get_or_init(|| rendered(&document()));
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}

/// The document as stored in `docs/openapi.json`: pretty-printed, one trailing newline.
pub fn rendered(doc: &Value) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|_| "{}".to_owned());
    s.push('\n');
    s
}

// --- small builders, so the document reads as a table of endpoints ---

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn param(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

fn response(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn string(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn string_max(description: &str, max: u32) -> Value {
    json!({"type": "string", "maxLength": max, "description": description})
}

fn enum_of(description: &str, values: &[&str]) -> Value {
    json!({"type": "string", "enum": values, "description": description})
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

/// An object schema from `(property, schema)` pairs.
fn object(required: &[&str], props: Vec<(&str, Value)>) -> Value {
    let props: Map<String, Value> = props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    json!({"type": "object", "required": required, "properties": props})
}

fn described(mut v: Value, description: &str) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("description".into(), json!(description));
    }
    v
}

fn json_body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn json_ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

struct Op<'a> {
    id: &'a str,
    tag: &'a str,
    summary: &'a str,
    params: Vec<Value>,
    body: Option<Value>,
    ok_status: &'a str,
    ok: Value,
}

/// A Graph operation: errors are Graph errors.
fn graph(op: Op<'_>) -> Value {
    let mut v = json!({
        "operationId": op.id,
        "tags": [op.tag],
        "summary": op.summary,
        "parameters": op.params,
        "responses": {
            op.ok_status: op.ok,
            "400": response("GraphBadRequest"),
            "401": response("GraphUnauthorized"),
            "404": response("GraphNotFound"),
            "default": response("GraphError"),
        },
    });
    if let Some(body) = op.body {
        v["requestBody"] = body;
    }
    v
}

/// An admin operation: the admin token, protocol-v1 errors.
fn admin(op: Op<'_>) -> Value {
    let mut v = json!({
        "operationId": op.id,
        "tags": [op.tag],
        "summary": op.summary,
        "security": [{"adminToken": []}],
        "parameters": op.params,
        "responses": {
            op.ok_status: op.ok,
            "400": response("AdminBadRequest"),
            "401": response("AdminUnauthorized"),
            "404": response("AdminNotFound"),
            "409": response("AdminConflict"),
        },
    });
    if let Some(body) = op.body {
        v["requestBody"] = body;
    }
    v
}

fn success() -> Value {
    json_ok("Done.", schema("Success"))
}

// --- the document ---

/// The whole OpenAPI document.
pub fn document() -> Value {
    let mut paths = Map::new();
    paths.extend(graph_paths());
    paths.extend(admin_paths());
    paths.insert(
        "/openapi.json".into(),
        json!({"get": {
            "operationId": "openapi",
            "tags": ["meta"],
            "summary": "This document.",
            "security": [],
            "responses": {"200": json_ok("The OpenAPI document.", json!({"type": "object"}))},
        }}),
    );
    let mut schemas = Map::new();
    schemas.extend(graph_schemas());
    schemas.extend(message_schemas());
    schemas.extend(webhook_schemas());
    schemas.extend(admin_schemas());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard Enterprise API",
            "version": "1.0.0",
            "summary": "The business API of Switchboard, wire-compatible with the WhatsApp Cloud API, and its platform admin API.",
            "description": "Graph-style endpoints: every path takes an optional version prefix `/v{major}.{minor}` (e.g. `/v21.0`, `/v23.0`) and also works without one; ids are numeric strings; authorise with `Authorization: Bearer <token>` (or the `access_token` query parameter) using a business token from the admin API. Requests tolerate what Cloud API clients send: unknown fields are ignored, enum values are accepted in any case, explicit `null`s and numbers sent as strings are accepted. Every error is a Graph error. Our extensions: `Idempotency-Key` on any POST (a retry within 24 h answers the first result and sends nothing twice) and `GET /{waba_id}/usage`. The admin API under `/admin/v1` provisions businesses; it uses the platform admin token and protocol-v1 errors `{\"error\": {\"code\", \"message\"}}`.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/", "description": "This server."}],
        "security": [{"bearerToken": []}, {"accessTokenQuery": []}],
        "tags": [
            {"name": "messages", "description": "Sending messages, read receipts and typing indicators."},
            {"name": "media", "description": "Uploading, describing and deleting media."},
            {"name": "templates", "description": "Message templates and their review status."},
            {"name": "phone numbers", "description": "The business phone number, its profile and registration."},
            {"name": "webhooks", "description": "Registering the callback URL (the events are under `webhooks`)."},
            {"name": "usage", "description": "Billable usage (our extension)."},
            {"name": "admin", "description": "The platform admin API (ours alone)."},
            {"name": "meta", "description": "About this API."},
        ],
        "paths": paths,
        "webhooks": webhooks(),
        "components": {
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "A business access token (`sbb_…`) issued by `POST /admin/v1/businesses/{waba_id}/tokens`."},
                "accessTokenQuery": {"type": "apiKey", "in": "query", "name": "access_token", "description": "The same business token as a query parameter, as Graph allows."},
                "adminToken": {"type": "http", "scheme": "bearer", "description": "The platform admin token (config `admin_token` or `SWITCHBOARD_ADMIN_TOKEN`)."},
            },
            "parameters": parameters(),
            "responses": responses(),
            "schemas": schemas,
        },
    })
}

fn parameters() -> Value {
    let id = |name: &str, what: &str| {
        json!({"name": name, "in": "path", "required": true, "description": what,
               "schema": {"type": "string", "pattern": "^[0-9]{1,39}$"}})
    };
    json!({
        "version": {"name": "version", "in": "path", "required": true,
            "description": "Graph API version, e.g. `v23.0`. Any `v{major}.{minor}` is accepted and the path also works without this segment.",
            "schema": {"type": "string", "pattern": "^v[0-9]+\\.[0-9]+$"}},
        "phone_number_id": id("phone_number_id", "The business phone number's id."),
        "waba_id": id("waba_id", "The WhatsApp Business Account id."),
        "app_id": id("app_id", "The app id (any numeric id; one app per business here)."),
        "node_id": id("node_id", "A media id, a template id or a phone number id: Graph ids are global, so one path serves all three."),
        "template_id": id("template_id", "A template id."),
        "fields": query("fields", "Comma-separated fields to return (Graph `fields=` semantics: the requested fields plus `id`).", json!({"type": "string"})),
        "idempotency_key": {"name": "Idempotency-Key", "in": "header", "required": false,
            "description": "Our extension: a retry with the same key within 24 h answers the first result and has no further effect.",
            "schema": {"type": "string", "maxLength": 255}},
        "admin_waba_id": id("waba_id", "The business's WhatsApp Business Account id."),
    })
}

fn responses() -> Value {
    let graph = |d: &str| json_ok(d, schema("GraphError"));
    let v1 = |d: &str| json_ok(d, schema("V1Error"));
    json!({
        "GraphError": graph("A Graph error; `error.code` says which (see the wire notes' table)."),
        "GraphBadRequest": graph("Invalid parameters or a policy refusal (e.g. 100, 131008, 131009, 131047, 132000, 130429)."),
        "GraphUnauthorized": graph("Missing, unknown or expired token (0, 190)."),
        "GraphNotFound": graph("No such object for this token (e.g. 132001 for a template)."),
        "AdminBadRequest": v1("Invalid input: `invalid_request`, `invalid_phone`, `invalid_vertical`, `invalid_scope`, `invalid_date` or `webhook_verification_failed`."),
        "AdminUnauthorized": v1("Missing or wrong admin token (`unauthorized`)."),
        "AdminNotFound": v1("No such business or template (`not_found`)."),
        "AdminConflict": v1("`conflict` (e.g. the phone already is a business) or `mixed_currencies`."),
    })
}

fn graph_paths() -> Map<String, Value> {
    let v = || param("version");
    let mut p = Map::new();
    p.insert(
        "/{version}/{phone_number_id}/messages".into(),
        json!({"post": graph(Op {
            id: "sendMessage",
            tag: "messages",
            summary: "Send a message, mark a message as read, or show a typing indicator.",
            params: vec![v(), param("phone_number_id"), param("idempotency_key")],
            body: Some(json_body(schema("MessagesRequest"))),
            ok_status: "200",
            ok: json_ok("Sent (durably stored; statuses follow as webhooks), or `{\"success\": true}` for read receipts and typing indicators.",
                json!({"oneOf": [schema("SendMessageResponse"), schema("Success")]})),
        })}),
    );
    p.insert(
        "/{version}/{phone_number_id}/media".into(),
        json!({"post": graph(Op {
            id: "uploadMedia",
            tag: "media",
            summary: "Upload media (multipart).",
            params: vec![v(), param("phone_number_id"), param("idempotency_key")],
            body: Some(json!({"required": true, "content": {"multipart/form-data": {"schema": schema("MediaUpload")}}})),
            ok_status: "200",
            ok: json_ok("The new media id.", schema("MediaId")),
        })}),
    );
    let phone_query = query(
        "phone_number_id",
        "If given, the media must belong to this phone number.",
        json!({"type": "string"}),
    );
    p.insert(
        "/{version}/{node_id}".into(),
        json!({
            "get": graph(Op {
                id: "getNode",
                tag: "media",
                summary: "A media object (with a short-lived signed download URL), a template, a phone number or the business account.",
                params: vec![v(), param("node_id"), param("fields"), phone_query.clone()],
                body: None,
                ok_status: "200",
                ok: json_ok("The object, as its kind has it.", json!({"oneOf": [schema("MediaInfo"), schema("Template"), schema("PhoneNumber"), schema("BusinessAccount")]})),
            }),
            "post": graph(Op {
                id: "updateNode",
                tag: "templates",
                summary: "Edit a template (APPROVED, REJECTED or PAUSED ones), or change a phone number's settings.",
                params: vec![v(), param("node_id"), param("idempotency_key")],
                body: Some(json_body(json!({"oneOf": [schema("TemplateEdit"), schema("PhoneNumberSettings")]}))),
                ok_status: "200",
                ok: success(),
            }),
            "delete": graph(Op {
                id: "deleteMedia",
                tag: "media",
                summary: "Delete uploaded media.",
                params: vec![v(), param("node_id"), phone_query],
                body: None,
                ok_status: "200",
                ok: success(),
            }),
        }),
    );
    let str_q = |name: &str, d: &str| query(name, d, json!({"type": "string"}));
    p.insert(
        "/{version}/{waba_id}/message_templates".into(),
        json!({
            "get": graph(Op {
                id: "listTemplates",
                tag: "templates",
                summary: "List the business's templates.",
                params: vec![v(), param("waba_id"), param("fields"),
                    query("limit", "Page size.", json!({"type": ["integer", "string"], "minimum": 1})),
                    str_q("after", "Cursor: the page after this one."),
                    str_q("before", "Cursor: the page before this one."),
                    str_q("status", "Filter by status (any case)."),
                    str_q("name", "Filter by name."),
                    str_q("category", "Filter by category (any case)."),
                    str_q("language", "Filter by language code.")],
                body: None,
                ok_status: "200",
                ok: json_ok("A page of templates.", schema("TemplateList")),
            }),
            "post": graph(Op {
                id: "createTemplate",
                tag: "templates",
                summary: "Create a template; it is PENDING until the platform reviews it.",
                params: vec![v(), param("waba_id"), param("idempotency_key")],
                body: Some(json_body(schema("TemplateCreate"))),
                ok_status: "200",
                ok: json_ok("The new template.", schema("TemplateCreated")),
            }),
            "delete": graph(Op {
                id: "deleteTemplate",
                tag: "templates",
                summary: "Delete a template by name (all languages) or one by `hsm_id`.",
                params: vec![v(), param("waba_id"), str_q("name", "The template name."), str_q("hsm_id", "One template's id.")],
                body: None,
                ok_status: "200",
                ok: success(),
            }),
        }),
    );
    p.insert(
        "/{version}/{phone_number_id}/whatsapp_business_profile".into(),
        json!({
            "get": graph(Op {
                id: "getBusinessProfile",
                tag: "phone numbers",
                summary: "The business profile.",
                params: vec![v(), param("phone_number_id"), param("fields")],
                body: None,
                ok_status: "200",
                ok: json_ok("`data` holds one profile.", schema("BusinessProfileList")),
            }),
            "post": graph(Op {
                id: "updateBusinessProfile",
                tag: "phone numbers",
                summary: "Update profile fields; an empty string clears one.",
                params: vec![v(), param("phone_number_id"), param("idempotency_key")],
                body: Some(json_body(schema("BusinessProfileUpdate"))),
                ok_status: "200",
                ok: success(),
            }),
        }),
    );
    p.insert(
        "/{version}/{waba_id}/phone_numbers".into(),
        json!({"get": graph(Op {
            id: "listPhoneNumbers",
            tag: "phone numbers",
            summary: "The business's phone numbers.",
            params: vec![v(), param("waba_id"), param("fields")],
            body: None,
            ok_status: "200",
            ok: json_ok("A page of phone numbers.", schema("PhoneNumberList")),
        })}),
    );
    p.insert(
        "/{version}/{phone_number_id}/register".into(),
        json!({"post": graph(Op {
            id: "registerPhoneNumber",
            tag: "phone numbers",
            summary: "Register the phone number for the Cloud API (sets the two-step PIN).",
            params: vec![v(), param("phone_number_id"), param("idempotency_key")],
            body: Some(json_body(schema("RegisterRequest"))),
            ok_status: "200",
            ok: success(),
        })}),
    );
    for (edge, id, summary) in [
        (
            "deregister",
            "deregisterPhoneNumber",
            "Deregister the phone number (accepted for compatibility).",
        ),
        (
            "request_code",
            "requestCode",
            "Request a verification code (`code_method`, `language` in the query; accepted for compatibility).",
        ),
        (
            "verify_code",
            "verifyCode",
            "Verify the code (`code` in the query; accepted for compatibility).",
        ),
    ] {
        p.insert(
            format!("/{{version}}/{{phone_number_id}}/{edge}"),
            json!({"post": graph(Op {
                id,
                tag: "phone numbers",
                summary,
                params: vec![v(), param("phone_number_id"), param("idempotency_key")],
                body: None,
                ok_status: "200",
                ok: success(),
            })}),
        );
    }
    p.insert(
        "/{version}/{app_id}/subscriptions".into(),
        json!({"post": graph(Op {
            id: "subscribeApp",
            tag: "webhooks",
            summary: "Set the webhook callback URL (as pywa does); the server runs the `hub.challenge` handshake before saving it.",
            params: vec![v(), param("app_id"),
                str_q("object", "`whatsapp_business_account`."),
                str_q("callback_url", "The callback URL."),
                str_q("verify_token", "Echoed as `hub.verify_token` in the handshake."),
                str_q("fields", "Comma-separated webhook fields, e.g. `messages`.")],
            body: Some(json!({"required": false, "content": {
                "application/json": {"schema": schema("AppSubscription")},
                "application/x-www-form-urlencoded": {"schema": schema("AppSubscription")},
            }})),
            ok_status: "200",
            ok: success(),
        })}),
    );
    p.insert(
        "/{version}/{waba_id}/subscribed_apps".into(),
        json!({"get": graph(Op {
            id: "listSubscribedApps",
            tag: "webhooks",
            summary: "The app subscribed to the business's events and its callback URL.",
            params: vec![v(), param("waba_id")],
            body: None,
            ok_status: "200",
            ok: json_ok("`data` holds the subscription, if any.", object(&["data"], vec![("data", array(object(&[], vec![
                ("whatsapp_business_api_data", object(&[], vec![("id", string("")), ("name", string(""))])),
                ("override_callback_uri", string("")),
            ])))])),
        }),
        "post": graph(Op {
            id: "subscribeWaba",
            tag: "webhooks",
            summary: "Subscribe the app to the business's events, optionally overriding the callback URL (handshake first).",
            params: vec![v(), param("waba_id")],
            body: Some(json!({"required": false, "content": {"application/json": {"schema": schema("SubscribedAppsRequest")}}})),
            ok_status: "200",
            ok: success(),
        })}),
    );
    p.insert(
        "/{version}/{waba_id}/usage".into(),
        json!({"get": graph(Op {
            id: "getUsage",
            tag: "usage",
            summary: "Billable usage by category and country (our extension).",
            params: vec![v(), param("waba_id"),
                query("start", "Start, unix seconds (inclusive); default 30 days before `end`.", json!({"type": ["integer", "string"]})),
                query("end", "End, unix seconds (exclusive); default now; at most 366 days after `start`.", json!({"type": ["integer", "string"]}))],
            body: None,
            ok_status: "200",
            ok: json_ok("The usage report.", schema("UsageReport")),
        })}),
    );
    p
}

fn admin_paths() -> Map<String, Value> {
    let w = || param("admin_waba_id");
    let mut p = Map::new();
    p.insert(
        "/admin/v1/businesses".into(),
        json!({
            "post": admin(Op {
                id: "adminCreateBusiness",
                tag: "admin",
                summary: "Create a business: a messaging user with this phone number, a WABA id and a phone number id.",
                params: vec![],
                body: Some(json_body(schema("AdminCreateBusiness"))),
                ok_status: "201",
                ok: json_ok("Created.", schema("AdminBusinessCreated")),
            }),
            "get": admin(Op {
                id: "adminListBusinesses",
                tag: "admin",
                summary: "Every business, oldest first.",
                params: vec![],
                body: None,
                ok_status: "200",
                ok: json_ok("The businesses.", object(&["data"], vec![("data", array(schema("AdminBusiness")))])),
            }),
        }),
    );
    p.insert(
        "/admin/v1/businesses/{waba_id}".into(),
        json!({"get": admin(Op {
            id: "adminShowBusiness",
            tag: "admin",
            summary: "One business with its verification, throughput, tier, quality and webhook URL.",
            params: vec![w()],
            body: None,
            ok_status: "200",
            ok: json_ok("The business.", schema("AdminBusiness")),
        })}),
    );
    p.insert(
        "/admin/v1/businesses/{waba_id}/tokens".into(),
        json!({"post": admin(Op {
            id: "adminIssueToken",
            tag: "admin",
            summary: "Issue a business access token. It is shown once and stored only as a digest. The body may be empty.",
            params: vec![w()],
            body: Some(json!({"required": false, "content": {"application/json": {"schema": schema("AdminIssueToken")}}})),
            ok_status: "201",
            ok: json_ok("The token (`Cache-Control: no-store`).", schema("AdminIssuedToken")),
        })}),
    );
    p.insert(
        "/admin/v1/businesses/{waba_id}/verification".into(),
        json!({"post": admin(Op {
            id: "adminSetVerification",
            tag: "admin",
            summary: "Set business verification; `verified` shows the badge and raises the messaging limit per policy.",
            params: vec![w()],
            body: Some(json_body(schema("AdminVerification"))),
            ok_status: "200",
            ok: json_ok("The business.", schema("AdminBusiness")),
        })}),
    );
    p.insert(
        "/admin/v1/businesses/{waba_id}/throughput".into(),
        json!({"put": admin(Op {
            id: "adminSetThroughput",
            tag: "admin",
            summary: "Set the messages per second the business may send (`null`: unlimited).",
            params: vec![w()],
            body: Some(json_body(schema("AdminThroughput"))),
            ok_status: "200",
            ok: json_ok("The business.", schema("AdminBusiness")),
        })}),
    );
    p.insert(
        "/admin/v1/businesses/{waba_id}/tier".into(),
        json!({"put": admin(Op {
            id: "adminSetTier",
            tag: "admin",
            summary: "Set the messaging limit tier by hand (an enterprise's agreed volume); `null`: policy decides again.",
            params: vec![w()],
            body: Some(json_body(schema("AdminTier"))),
            ok_status: "200",
            ok: json_ok("The business.", schema("AdminBusiness")),
        })}),
    );
    p.insert(
        "/admin/v1/businesses/{waba_id}/webhook".into(),
        json!({"put": admin(Op {
            id: "adminSetWebhook",
            tag: "admin",
            summary: "Set the webhook endpoint. The server runs the `hub.challenge` handshake first and saves the endpoint only if it answers; URLs on loopback or private networks are refused outside dev mode.",
            params: vec![w()],
            body: Some(json_body(schema("AdminWebhook"))),
            ok_status: "200",
            ok: json_ok("Verified and saved.", schema("AdminWebhookSaved")),
        })}),
    );
    p.insert(
        "/admin/v1/businesses/{waba_id}/usage".into(),
        json!({"get": admin(Op {
            id: "adminUsage",
            tag: "admin",
            summary: "Billable usage by category and country.",
            params: vec![w(),
                query("from", "First day, `YYYY-MM-DD` (UTC); default the first of the current month.", json!({"type": "string", "format": "date"})),
                query("to", "Day after the last (exclusive); default a month after `from`; at most 366 days after it.", json!({"type": "string", "format": "date"}))],
            body: None,
            ok_status: "200",
            ok: json_ok("The usage report.", schema("UsageReport")),
        })}),
    );
    p.insert(
        "/admin/v1/businesses/{waba_id}/invoices/{month}".into(),
        json!({"get": admin(Op {
            id: "adminInvoice",
            tag: "admin",
            summary: "The monthly invoice, as JSON or CSV (RFC 4180, a header row, `Content-Disposition: attachment`).",
            params: vec![w(),
                {json!({"name": "month", "in": "path", "required": true, "description": "The month, `YYYY-MM` (UTC).", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}})},
                query("format", "`json` (default) or `csv`.", json!({"type": "string", "enum": ["json", "csv"]}))],
            body: None,
            ok_status: "200",
            ok: json!({"description": "The invoice.", "content": {
                "application/json": {"schema": schema("Invoice")},
                "text/csv": {"schema": {"type": "string"}, "example": "business_name,waba_id,period,category,country,messages,unit_price,amount,currency\r\nAcme,100000000000001,2026-11,marketing,49,2,0.1300,0.2600,EUR\r\nAcme,100000000000001,2026-11,total,,2,,0.2600,EUR\r\n"},
            }}),
        })}),
    );
    p.insert(
        "/admin/v1/templates".into(),
        json!({"get": admin(Op {
            id: "adminTemplateQueue",
            tag: "admin",
            summary: "Templates of every business with one status (default PENDING: the review queue), oldest first.",
            params: vec![
                query("status", "Template status (any case); default `PENDING`.", json!({"type": "string"})),
                query("limit", "At most this many (1 to 1000, default 100).", json!({"type": "integer", "minimum": 1, "maximum": 1000}))],
            body: None,
            ok_status: "200",
            ok: json_ok("The queue.", object(&["data", "has_more"], vec![("data", array(schema("AdminTemplate"))), ("has_more", json!({"type": "boolean"}))])),
        })}),
    );
    let queue_item = |detail: &str, what: &str| {
        object(
            &["waba_id", "name", "phone", "verification", detail],
            vec![
                ("waba_id", json!({"type": "string"})),
                ("name", json!({"type": "string"})),
                ("phone", json!({"type": "string"})),
                ("verification", json!({"type": "string"})),
                (detail, json!({"type": "object", "description": what})),
            ],
        )
    };
    let queue = |item: Value| {
        object(
            &["data", "has_more"],
            vec![
                ("data", array(item)),
                ("has_more", json!({"type": "boolean"})),
            ],
        )
    };
    p.insert(
        "/admin/v1/verifications".into(),
        json!({"get": admin(Op {
            id: "adminVerificationQueue",
            tag: "admin",
            summary: "Verification applications of businesses with one status (default `pending`: the review queue), oldest first; decide with `POST /admin/v1/businesses/{waba_id}/verification`.",
            params: vec![
                query("status", "`pending`, `approved` or `rejected`; default `pending`.", json!({"type": "string"})),
                query("limit", "At most this many (1 to 1000, default 100).", json!({"type": "integer", "minimum": 1, "maximum": 1000}))],
            body: None,
            ok_status: "200",
            ok: json_ok("The queue.", queue(queue_item("application", "The application: legal name, registration number, country, address, website, documents, status, reason, submitted_at."))),
        })}),
    );
    p.insert(
        "/admin/v1/names".into(),
        json!({"get": admin(Op {
            id: "adminNameQueue",
            tag: "admin",
            summary: "Business display names held because they imitate a verified business's name (default `held`), oldest first.",
            params: vec![
                query("status", "`held`, `approved` or `rejected`; default `held`.", json!({"type": "string"})),
                query("limit", "At most this many (1 to 1000, default 100).", json!({"type": "integer", "minimum": 1, "maximum": 1000}))],
            body: None,
            ok_status: "200",
            ok: json_ok("The queue.", queue(queue_item("review", "The review: requested name, the verified business it resembles, status, reason, requested_at."))),
        })}),
    );
    p.insert(
        "/admin/v1/businesses/{waba_id}/name-review".into(),
        json!({"post": admin(Op {
            id: "adminReviewName",
            tag: "admin",
            summary: "Approve a held name (the business takes it at once) or reject it with a reason (it keeps its current name and sees the reason).",
            params: vec![w()],
            body: Some(json_body(object(
                &["decision"],
                vec![
                    ("decision", json!({"type": "string", "enum": ["approve", "reject"]})),
                    ("reason", json!({"type": "string", "maxLength": 500})),
                ],
            ))),
            ok_status: "200",
            ok: json_ok("The business, with its `name_review`.", schema("AdminBusiness")),
        })}),
    );
    p.insert(
        "/admin/v1/templates/{template_id}/review".into(),
        json!({"post": admin(Op {
            id: "adminReviewTemplate",
            tag: "admin",
            summary: "Approve, reject, pause or disable a template; the business gets a `message_template_status_update` webhook.",
            params: vec![param("template_id")],
            body: Some(json_body(schema("AdminReview"))),
            ok_status: "200",
            ok: json_ok("The template after the change.", schema("AdminTemplate")),
        })}),
    );
    p
}

fn graph_schemas() -> Map<String, Value> {
    let mut s = Map::new();
    let wa = || json!({"type": "string", "const": "whatsapp"});
    s.insert(
        "GraphError".into(),
        object(
            &["error"],
            vec![(
                "error",
                object(
                    &["message", "type", "code", "error_data", "fbtrace_id"],
                    vec![
                        ("message", string("`(#<code>) <title>`, e.g. `(#131047) Re-engagement message`.")),
                        ("type", json!({"type": "string", "const": "OAuthException"})),
                        ("code", json!({"type": "integer", "description": "The Cloud API error code clients map to exceptions (e.g. 131047, 132001, 130429)."})),
                        ("error_subcode", json!({"type": "integer"})),
                        ("error_data", object(&["messaging_product", "details"], vec![
                            ("messaging_product", wa()),
                            ("details", string("What exactly was wrong, naming the field or value.")),
                        ])),
                        ("fbtrace_id", string("An id of this request for support.")),
                    ],
                ),
            )],
        ),
    );
    s.insert(
        "Success".into(),
        object(
            &["success"],
            vec![("success", json!({"type": "boolean", "const": true}))],
        ),
    );
    s.insert(
        "Paging".into(),
        object(
            &[],
            vec![
                (
                    "cursors",
                    object(&[], vec![("before", string("")), ("after", string(""))]),
                ),
                ("next", string("URL of the next page, if any.")),
                ("previous", string("URL of the previous page, if any.")),
            ],
        ),
    );
    s.insert(
        "MediaId".into(),
        object(&["id"], vec![("id", string("Numeric media id."))]),
    );
    s.insert(
        "MediaUpload".into(),
        object(
            &["file", "messaging_product"],
            vec![
                ("file", json!({"type": "string", "contentMediaType": "application/octet-stream", "description": "The bytes, with a filename and the part's Content-Type."})),
                ("messaging_product", wa()),
                ("type", string("The MIME type.")),
            ],
        ),
    );
    s.insert(
        "MediaInfo".into(),
        object(
            &["messaging_product", "url", "mime_type", "sha256", "file_size", "id"],
            vec![
                ("messaging_product", wa()),
                ("url", string("Absolute, short-lived signed download URL on this server; works with or without the bearer token.")),
                ("mime_type", string("")),
                ("sha256", string("")),
                ("file_size", json!({"type": ["string", "integer"]})),
                ("id", string("")),
            ],
        ),
    );
    let component = object(
        &["type"],
        vec![
            (
                "type",
                enum_of("Any case.", &["HEADER", "BODY", "FOOTER", "BUTTONS"]),
            ),
            (
                "format",
                enum_of(
                    "Header format.",
                    &["TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"],
                ),
            ),
            ("text", string("Text with `{{1}}` or `{{name}}` variables.")),
            ("buttons", array(json!({"type": "object"}))),
            ("example", json!({"type": "object"})),
        ],
    );
    s.insert("TemplateComponent".into(), component);
    let category = || enum_of("Any case.", &["MARKETING", "UTILITY", "AUTHENTICATION"]);
    s.insert(
        "TemplateCreate".into(),
        object(
            &["name", "language", "category", "components"],
            vec![
                (
                    "name",
                    json!({"type": "string", "pattern": "^[a-z0-9_]{1,512}$"}),
                ),
                ("language", string("e.g. `en_US`.")),
                ("category", category()),
                (
                    "parameter_format",
                    enum_of("Default POSITIONAL.", &["POSITIONAL", "NAMED"]),
                ),
                ("components", array(schema("TemplateComponent"))),
                (
                    "message_send_ttl_seconds",
                    json!({"type": ["integer", "string"]}),
                ),
            ],
        ),
    );
    s.insert(
        "TemplateCreated".into(),
        object(
            &["id", "status", "category"],
            vec![
                ("id", string("")),
                ("status", string("`PENDING`.")),
                ("category", string("")),
            ],
        ),
    );
    s.insert(
        "TemplateEdit".into(),
        object(
            &[],
            vec![
                ("category", category()),
                ("components", array(schema("TemplateComponent"))),
                (
                    "message_send_ttl_seconds",
                    json!({"type": ["integer", "string"]}),
                ),
            ],
        ),
    );
    s.insert(
        "Template".into(),
        object(
            &["id"],
            vec![
                ("id", string("")),
                ("name", string("")),
                ("language", string("")),
                (
                    "status",
                    enum_of(
                        "",
                        &["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"],
                    ),
                ),
                ("category", string("")),
                ("parameter_format", string("")),
                ("components", array(schema("TemplateComponent"))),
                ("rejected_reason", string("")),
            ],
        ),
    );
    s.insert(
        "TemplateList".into(),
        object(
            &["data"],
            vec![
                ("data", array(schema("Template"))),
                ("paging", schema("Paging")),
            ],
        ),
    );
    let verticals: Vec<&str> = crate::admin::VERTICALS.to_vec();
    let profile_fields = || {
        vec![
            ("about", string_max("1 to 139 characters.", 139)),
            ("address", string_max("", 256)),
            ("description", string_max("", 512)),
            ("email", string_max("", 128)),
            (
                "websites",
                json!({"oneOf": [{"type": "array", "maxItems": 2, "items": {"type": "string", "maxLength": 256}}, {"type": "string", "description": "A JSON-encoded array, as Meta's curl example sends."}]}),
            ),
            ("vertical", enum_of("Any case.", &verticals)),
        ]
    };
    let mut get_fields = profile_fields();
    get_fields.push(("profile_picture_url", string("")));
    get_fields.push(("messaging_product", wa()));
    s.insert("BusinessProfile".into(), object(&["vertical"], get_fields));
    s.insert(
        "BusinessProfileList".into(),
        object(&["data"], vec![("data", array(schema("BusinessProfile")))]),
    );
    let mut set_fields = profile_fields();
    set_fields.push(("messaging_product", wa()));
    set_fields.push((
        "profile_picture_handle",
        string("A handle from a resumable upload."),
    ));
    s.insert("BusinessProfileUpdate".into(), object(&[], set_fields));
    s.insert(
        "PhoneNumber".into(),
        object(
            &["id"],
            vec![
                ("id", string("")),
                ("verified_name", string("")),
                ("display_phone_number", string("")),
                (
                    "quality_rating",
                    enum_of("", &["GREEN", "YELLOW", "RED", "NA"]),
                ),
                ("code_verification_status", string("")),
                ("platform_type", string("`CLOUD_API`.")),
                (
                    "throughput",
                    object(&["level"], vec![("level", string("`STANDARD` or higher."))]),
                ),
                (
                    "whatsapp_business_manager_messaging_limit",
                    string("`TIER_250`, `TIER_2K`, `TIER_10K`, `TIER_100K` or `TIER_UNLIMITED`."),
                ),
                ("name_status", string("")),
                ("status", string("e.g. `CONNECTED`.")),
                ("is_official_business_account", json!({"type": "boolean"})),
                (
                    "official_business_account",
                    object(&[], vec![("oba_status", string(""))]),
                ),
            ],
        ),
    );
    s.insert(
        "PhoneNumberList".into(),
        object(
            &["data"],
            vec![
                ("data", array(schema("PhoneNumber"))),
                ("paging", schema("Paging")),
            ],
        ),
    );
    s.insert(
        "PhoneNumberSettings".into(),
        object(
            &[],
            vec![
                ("pin", json!({"type": "string", "pattern": "^[0-9]{6}$", "description": "A new two-step verification PIN."})),
                ("webhook_configuration", object(&[], vec![("override_callback_uri", string("")), ("verify_token", string(""))])),
            ],
        ),
    );
    s.insert(
        "RegisterRequest".into(),
        object(
            &["messaging_product", "pin"],
            vec![
                ("messaging_product", wa()),
                ("pin", json!({"type": "string", "pattern": "^[0-9]{6}$"})),
                ("data_localization_region", string("")),
            ],
        ),
    );
    s.insert(
        "AppSubscription".into(),
        object(
            &[],
            vec![
                ("object", string("`whatsapp_business_account`.")),
                ("callback_url", string("")),
                ("verify_token", string("")),
                ("fields", string("")),
                ("app_secret", string("Our extension: the HMAC key for `X-Hub-Signature-256` (8 to 256 characters); default the one the platform admin set.")),
            ],
        ),
    );
    s.insert(
        "SubscribedAppsRequest".into(),
        object(
            &[],
            vec![
                ("override_callback_uri", string("")),
                ("verify_token", string("")),
                (
                    "app_secret",
                    string("Our extension, as in `AppSubscription`."),
                ),
            ],
        ),
    );
    s.insert(
        "BusinessAccount".into(),
        object(
            &["id"],
            vec![
                ("id", string("The WABA id.")),
                ("name", string("")),
                ("currency", string("")),
                ("timezone_id", string("")),
                ("message_template_namespace", string("")),
                ("business_verification_status", string("")),
                ("account_review_status", string("")),
            ],
        ),
    );
    s.insert(
        "UsageReport".into(),
        object(
            &["waba_id", "from", "to", "currency", "total_micros", "total", "lines"],
            vec![
                ("waba_id", string("")),
                ("from", string("`YYYY-MM-DD` at midnight UTC, otherwise `YYYY-MM-DDTHH:MM:SS.mmmZ`.")),
                ("to", string("Exclusive; formatted as `from`.")),
                ("currency", string("ISO 4217.")),
                ("total_micros", json!({"type": "integer", "description": "Millionths of the currency."})),
                ("total", json!({"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{4}$", "description": "The total as a decimal string, 4 places."})),
                ("lines", array(schema("UsageLine"))),
            ],
        ),
    );
    s.insert(
        "UsageLine".into(),
        object(
            &["category", "country", "messages", "amount_micros"],
            vec![
                (
                    "category",
                    string("marketing, utility, authentication or authentication-international."),
                ),
                (
                    "country",
                    string("The recipients' country calling code, e.g. `49`."),
                ),
                ("messages", json!({"type": "integer"})),
                ("amount_micros", json!({"type": "integer"})),
            ],
        ),
    );
    s
}

fn message_schemas() -> Map<String, Value> {
    let mut s = Map::new();
    let kinds = [
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "reaction",
        "interactive",
        "template",
    ];
    let mut one_of: Vec<Value> = Vec::new();
    for kind in kinds {
        let title = format!("{}{}Message", kind[..1].to_uppercase(), &kind[1..]);
        let body_schema = match kind {
            "text" => schema("Text"),
            "image" | "video" | "sticker" => schema("Media"),
            "audio" => schema("Audio"),
            "document" => schema("Document"),
            "location" => schema("Location"),
            "contacts" => array(schema("Contact")),
            "reaction" => schema("Reaction"),
            "interactive" => schema("Interactive"),
            _ => schema("TemplateSend"),
        };
        s.insert(
            title.clone(),
            json!({"allOf": [
                schema("MessageEnvelope"),
                object(&["type", kind], vec![
                    ("type", json!({"type": "string", "const": kind})),
                    (kind, body_schema),
                ]),
            ]}),
        );
        one_of.push(schema(&title));
    }
    one_of.push(schema("MarkRead"));
    s.insert(
        "MessagesRequest".into(),
        json!({"oneOf": one_of, "description": "A message (by `type`), or a read receipt (`status: read`, optionally with `typing_indicator`)."}),
    );
    s.insert(
        "MessageEnvelope".into(),
        object(
            &["messaging_product"],
            vec![
                ("messaging_product", json!({"type": "string", "const": "whatsapp"})),
                ("recipient_type", enum_of("Default `individual`.", &["individual", "group"])),
                ("to", string("The customer's phone number; `+`, spaces, dashes and parentheses are allowed. Required unless `recipient` is given.")),
                ("recipient", string("A business-scoped user id instead of `to`.")),
                ("context", object(&["message_id"], vec![("message_id", string("The wamid replied to."))])),
                ("biz_opaque_callback_data", string_max("Echoed in status webhooks.", 512)),
            ],
        ),
    );
    s.insert(
        "MarkRead".into(),
        object(
            &["messaging_product", "status", "message_id"],
            vec![
                (
                    "messaging_product",
                    json!({"type": "string", "const": "whatsapp"}),
                ),
                ("status", json!({"type": "string", "const": "read"})),
                (
                    "message_id",
                    string("The wamid of the customer's message; earlier ones are read too."),
                ),
                (
                    "typing_indicator",
                    object(
                        &["type"],
                        vec![("type", json!({"type": "string", "const": "text"}))],
                    ),
                ),
            ],
        ),
    );
    s.insert(
        "Text".into(),
        object(
            &["body"],
            vec![
                ("body", string_max("", 4096)),
                ("preview_url", json!({"type": ["boolean", "null"]})),
            ],
        ),
    );
    let media_fields = || {
        vec![
            ("id", string("An uploaded media id.")),
            (
                "link",
                string_max("An http(s) URL to fetch the media from.", 2048),
            ),
            (
                "caption",
                json!({"type": ["string", "null"], "maxLength": 1024}),
            ),
        ]
    };
    s.insert(
        "Media".into(),
        described(
            object(&[], media_fields()),
            "Exactly one of `id` and `link`.",
        ),
    );
    let mut doc = media_fields();
    doc.push(("filename", json!({"type": ["string", "null"]})));
    s.insert(
        "Document".into(),
        described(object(&[], doc), "Exactly one of `id` and `link`."),
    );
    s.insert(
        "Audio".into(),
        described(
            object(
                &[],
                vec![
                    ("id", string("")),
                    ("link", string("")),
                    (
                        "voice",
                        json!({"type": ["boolean", "null"], "description": "A voice note."}),
                    ),
                ],
            ),
            "Exactly one of `id` and `link`.",
        ),
    );
    let number = || json!({"type": ["number", "string"], "description": "A number, or a number as a string."});
    s.insert(
        "Location".into(),
        object(
            &["latitude", "longitude"],
            vec![
                ("latitude", number()),
                ("longitude", number()),
                ("name", json!({"type": ["string", "null"]})),
                ("address", json!({"type": ["string", "null"]})),
            ],
        ),
    );
    s.insert(
        "Contact".into(),
        object(
            &["name"],
            vec![
                (
                    "name",
                    object(
                        &["formatted_name"],
                        vec![
                            ("formatted_name", string("")),
                            ("first_name", string("")),
                            ("last_name", string("")),
                        ],
                    ),
                ),
                (
                    "phones",
                    array(object(
                        &[],
                        vec![
                            ("phone", string("")),
                            ("type", string("")),
                            ("wa_id", string("")),
                        ],
                    )),
                ),
                (
                    "emails",
                    array(object(
                        &[],
                        vec![("email", string("")), ("type", string(""))],
                    )),
                ),
                (
                    "urls",
                    array(object(&[], vec![("url", string("")), ("type", string(""))])),
                ),
                ("addresses", array(json!({"type": "object"}))),
                ("org", json!({"type": ["object", "null"]})),
                (
                    "birthday",
                    json!({"type": ["string", "null"], "description": "`YYYY-MM-DD`."}),
                ),
            ],
        ),
    );
    s.insert(
        "Reaction".into(),
        object(
            &["message_id", "emoji"],
            vec![
                ("message_id", string("The wamid reacted to.")),
                ("emoji", string("An empty string removes the reaction.")),
            ],
        ),
    );
    s.insert(
        "Interactive".into(),
        object(
            &["type", "action"],
            vec![
                ("type", enum_of("", &["button", "list", "cta_url"])),
                ("header", json!({"type": "object", "description": "`{type: text, text}`, or an image, video or document header (buttons only)."})),
                ("body", object(&["text"], vec![("text", string_max("1024 for buttons, 4096 for lists.", 4096))])),
                ("footer", object(&["text"], vec![("text", string_max("", 60))])),
                ("action", object(&[], vec![
                    ("buttons", json!({"type": "array", "maxItems": 3, "items": object(&["type", "reply"], vec![
                        ("type", json!({"type": "string", "const": "reply"})),
                        ("reply", object(&["id", "title"], vec![("id", string_max("", 256)), ("title", string_max("", 20))])),
                    ])})),
                    ("button", string_max("The list's button label.", 20)),
                    ("sections", json!({"type": "array", "maxItems": 10, "items": object(&["rows"], vec![
                        ("title", string_max("", 24)),
                        ("rows", array(object(&["id", "title"], vec![
                            ("id", string_max("", 200)),
                            ("title", string_max("", 24)),
                            ("description", string_max("", 72)),
                        ]))),
                    ])})),
                    ("name", json!({"type": "string", "const": "cta_url"})),
                    ("parameters", object(&["display_text", "url"], vec![("display_text", string("")), ("url", string(""))])),
                ])),
            ],
        ),
    );
    s.insert(
        "TemplateSend".into(),
        object(
            &["name", "language"],
            vec![
                ("name", string("")),
                (
                    "language",
                    object(&["code"], vec![("code", string("e.g. `en_US`."))]),
                ),
                (
                    "components",
                    array(object(
                        &["type"],
                        vec![
                            ("type", enum_of("Any case.", &["header", "body", "button"])),
                            (
                                "sub_type",
                                enum_of(
                                    "Any case (buttons).",
                                    &["quick_reply", "url", "copy_code"],
                                ),
                            ),
                            ("index", json!({"type": ["integer", "string"]})),
                            ("parameters", array(schema("TemplateParameter"))),
                        ],
                    )),
                ),
            ],
        ),
    );
    s.insert(
        "TemplateParameter".into(),
        object(
            &["type"],
            vec![
                (
                    "type",
                    enum_of(
                        "",
                        &[
                            "text",
                            "currency",
                            "date_time",
                            "image",
                            "video",
                            "document",
                            "payload",
                            "coupon_code",
                        ],
                    ),
                ),
                ("parameter_name", string("For NAMED templates.")),
                ("text", string("")),
                ("payload", string("")),
                ("coupon_code", string("")),
                (
                    "currency",
                    object(
                        &["fallback_value", "code", "amount_1000"],
                        vec![
                            ("fallback_value", string("")),
                            ("code", string("")),
                            ("amount_1000", json!({"type": ["integer", "string"]})),
                        ],
                    ),
                ),
                (
                    "date_time",
                    object(&["fallback_value"], vec![("fallback_value", string(""))]),
                ),
                ("image", schema("Media")),
                ("video", schema("Media")),
                ("document", schema("Document")),
            ],
        ),
    );
    s.insert(
        "SendMessageResponse".into(),
        object(
            &["messaging_product", "contacts", "messages"],
            vec![
                (
                    "messaging_product",
                    json!({"type": "string", "const": "whatsapp"}),
                ),
                (
                    "contacts",
                    array(object(
                        &["input", "wa_id"],
                        vec![
                            ("input", string("`to` as sent.")),
                            ("wa_id", string("The customer's WhatsApp id (digits).")),
                        ],
                    )),
                ),
                (
                    "messages",
                    array(object(
                        &["id"],
                        vec![
                            ("id", string("`wamid.…`.")),
                            (
                                "message_status",
                                enum_of(
                                    "Templates under pacing only.",
                                    &["accepted", "held_for_quality_assessment"],
                                ),
                            ),
                        ],
                    )),
                ),
            ],
        ),
    );
    s
}

fn webhook_schemas() -> Map<String, Value> {
    let mut s = Map::new();
    let ts = || string("Unix seconds, as a string.");
    s.insert(
        "WebhookEnvelope".into(),
        object(
            &["object", "entry"],
            vec![
                ("object", json!({"type": "string", "const": "whatsapp_business_account"})),
                ("entry", array(object(&["id", "changes"], vec![
                    ("id", string("The WABA id.")),
                    ("time", json!({"type": "integer"})),
                    ("changes", array(object(&["field", "value"], vec![
                        ("field", enum_of("", &["messages", "message_template_status_update"])),
                        ("value", json!({"oneOf": [schema("MessagesValue"), schema("TemplateStatusUpdate")]})),
                    ]))),
                ]))),
            ],
        ),
    );
    s.insert(
        "MessagesValue".into(),
        object(
            &["messaging_product", "metadata"],
            vec![
                (
                    "messaging_product",
                    json!({"type": "string", "const": "whatsapp"}),
                ),
                (
                    "metadata",
                    object(
                        &["display_phone_number", "phone_number_id"],
                        vec![
                            ("display_phone_number", string("Digits, no `+`.")),
                            ("phone_number_id", string("")),
                        ],
                    ),
                ),
                (
                    "contacts",
                    array(object(
                        &["wa_id"],
                        vec![
                            ("profile", object(&["name"], vec![("name", string(""))])),
                            ("wa_id", string("")),
                        ],
                    )),
                ),
                ("messages", array(schema("InboundMessage"))),
                ("statuses", array(schema("MessageStatus"))),
                ("errors", array(schema("WebhookError"))),
            ],
        ),
    );
    s.insert(
        "InboundMessage".into(),
        object(
            &["from", "id", "timestamp", "type"],
            vec![
                ("from", string("The customer's WhatsApp id.")),
                ("id", string("`wamid.…`.")),
                ("timestamp", ts()),
                (
                    "type",
                    enum_of(
                        "",
                        &[
                            "text",
                            "image",
                            "video",
                            "audio",
                            "document",
                            "sticker",
                            "location",
                            "contacts",
                            "reaction",
                            "interactive",
                            "button",
                            "unsupported",
                        ],
                    ),
                ),
                (
                    "context",
                    object(
                        &[],
                        vec![
                            ("from", string("")),
                            ("id", string("")),
                            ("forwarded", json!({"type": "boolean"})),
                        ],
                    ),
                ),
                ("text", object(&["body"], vec![("body", string(""))])),
                ("image", schema("InboundMedia")),
                ("video", schema("InboundMedia")),
                ("audio", schema("InboundMedia")),
                ("document", schema("InboundMedia")),
                ("sticker", schema("InboundMedia")),
                ("location", schema("Location")),
                ("contacts", array(schema("Contact"))),
                ("reaction", schema("Reaction")),
                (
                    "interactive",
                    object(
                        &["type"],
                        vec![
                            ("type", enum_of("", &["button_reply", "list_reply"])),
                            (
                                "button_reply",
                                object(
                                    &["id", "title"],
                                    vec![("id", string("")), ("title", string(""))],
                                ),
                            ),
                            (
                                "list_reply",
                                object(
                                    &["id", "title"],
                                    vec![
                                        ("id", string("")),
                                        ("title", string("")),
                                        ("description", string("")),
                                    ],
                                ),
                            ),
                        ],
                    ),
                ),
                (
                    "button",
                    object(
                        &["payload", "text"],
                        vec![("payload", string("")), ("text", string(""))],
                    ),
                ),
                ("errors", array(schema("WebhookError"))),
            ],
        ),
    );
    s.insert(
        "InboundMedia".into(),
        object(
            &["id", "mime_type", "sha256"],
            vec![
                ("id", string("A media id for `GET /{media_id}`.")),
                ("mime_type", string("")),
                ("sha256", string("")),
                ("caption", string("")),
                ("filename", string("Documents.")),
                ("voice", json!({"type": "boolean", "description": "Audio."})),
                ("url", string("")),
            ],
        ),
    );
    s.insert(
        "MessageStatus".into(),
        object(
            &["id", "status", "timestamp", "recipient_id"],
            vec![
                ("id", string("The wamid the status is about.")),
                (
                    "status",
                    enum_of("", &["sent", "delivered", "read", "failed"]),
                ),
                ("timestamp", ts()),
                ("recipient_id", string("")),
                ("biz_opaque_callback_data", string("As sent.")),
                (
                    "conversation",
                    object(
                        &["id", "origin"],
                        vec![
                            ("id", string("")),
                            ("expiration_timestamp", ts()),
                            ("origin", object(&["type"], vec![("type", string(""))])),
                        ],
                    ),
                ),
                ("pricing", schema("Pricing")),
                ("errors", array(schema("WebhookError"))),
            ],
        ),
    );
    s.insert(
        "Pricing".into(),
        object(
            &["billable", "pricing_model", "category"],
            vec![
                ("billable", json!({"type": "boolean"})),
                ("pricing_model", enum_of("", &["PMP", "CBP"])),
                (
                    "type",
                    enum_of(
                        "",
                        &["regular", "free_customer_service", "free_entry_point"],
                    ),
                ),
                (
                    "category",
                    enum_of(
                        "",
                        &[
                            "marketing",
                            "utility",
                            "authentication",
                            "authentication-international",
                            "service",
                        ],
                    ),
                ),
            ],
        ),
    );
    s.insert(
        "WebhookError".into(),
        object(
            &["code", "title"],
            vec![
                ("code", json!({"type": "integer"})),
                ("title", string("")),
                ("message", string("")),
                ("error_data", object(&[], vec![("details", string(""))])),
                ("href", string("")),
            ],
        ),
    );
    s.insert(
        "TemplateStatusUpdate".into(),
        object(
            &["event", "message_template_id", "message_template_name", "message_template_language", "reason"],
            vec![
                ("event", enum_of("The new status.", &["APPROVED", "REJECTED", "PAUSED", "DISABLED", "PENDING_DELETION"])),
                ("message_template_id", json!({"type": "integer", "description": "A JSON number (not a string), as Meta sends it."})),
                ("message_template_name", string("")),
                ("message_template_language", string("")),
                ("message_template_category", string("")),
                ("reason", string("`NONE` or why.")),
            ],
        ),
    );
    s
}

fn admin_schemas() -> Map<String, Value> {
    let mut s = Map::new();
    s.insert(
        "V1Error".into(),
        object(
            &["error"],
            vec![(
                "error",
                object(
                    &["code", "message"],
                    vec![
                        ("code", string("A stable snake_case code, e.g. `invalid_phone`, `not_found`, `conflict`.")),
                        ("message", string("What was wrong, naming the value, with a hint.")),
                    ],
                ),
            )],
        ),
    );
    s.insert(
        "AdminCreateBusiness".into(),
        object(
            &["name", "phone"],
            vec![
                ("name", json!({"type": "string", "minLength": 1, "maxLength": 100, "description": "The name customers see."})),
                ("phone", string("E.164, e.g. `+4915112345678`; must not already be a business.")),
                ("vertical", enum_of("Default OTHER; any case.", crate::admin::VERTICALS)),
            ],
        ),
    );
    s.insert(
        "AdminBusinessCreated".into(),
        object(
            &["waba_id", "phone_number_id", "user_id"],
            vec![
                ("waba_id", string("")),
                ("phone_number_id", string("")),
                (
                    "user_id",
                    string("The messaging user (the phone's digits)."),
                ),
            ],
        ),
    );
    s.insert(
        "AdminBusiness".into(),
        object(
            &["waba_id", "phone_number_id", "user_id", "name", "verification", "throughput_mps", "quality_rating", "messaging_limit_tier"],
            vec![
                ("waba_id", string("")),
                ("phone_number_id", string("")),
                ("user_id", string("")),
                ("phone", string("E.164.")),
                ("name", string("")),
                ("vertical", string("")),
                ("verification", enum_of("", &["unverified", "pending", "verified", "rejected"])),
                ("verification_reason", json!({"type": ["string", "null"]})),
                ("throughput_mps", json!({"type": ["integer", "null"], "description": "`null`: unlimited."})),
                ("quality_rating", enum_of("", &["GREEN", "YELLOW", "RED"])),
                ("messaging_limit_tier", string("e.g. `TIER_250`.")),
                ("messaging_limit", json!({"type": ["integer", "null"], "description": "Unique customers per rolling 24 h outside a service window; `null`: unlimited."})),
                ("reached_24h", json!({"type": "integer"})),
                ("reached_7d", json!({"type": "integer"})),
                ("blocks_7d", json!({"type": "integer"})),
                ("reports_7d", json!({"type": "integer"})),
                ("webhook", json!({"oneOf": [{"type": "null"}, object(&["url"], vec![("url", string("")), ("updated_at", json!({"type": "integer"}))])], "description": "Never the verify token or app secret."})),
                ("profile", json!({"type": "object"})),
                ("created_at", json!({"type": "integer", "description": "Milliseconds since the epoch."})),
            ],
        ),
    );
    s.insert(
        "AdminIssueToken".into(),
        object(
            &[],
            vec![
                ("scopes", json!({"type": "array", "minItems": 1, "items": {"type": "string", "enum": crate::admin::SCOPES}, "description": "Default both."})),
                ("expires_in_days", json!({"type": "integer", "minimum": 1, "maximum": 3650, "description": "Default: never expires."})),
            ],
        ),
    );
    s.insert(
        "AdminIssuedToken".into(),
        object(
            &["token", "waba_id", "scopes"],
            vec![
                ("token", json!({"type": "string", "pattern": "^sbb_[A-Za-z0-9_-]{43}$", "description": "Shown once; stored only as a digest."})),
                ("waba_id", string("")),
                ("scopes", array(json!({"type": "string"}))),
                ("expires_at", json!({"type": ["integer", "null"]})),
            ],
        ),
    );
    s.insert(
        "AdminVerification".into(),
        object(
            &["status"],
            vec![
                ("status", enum_of("", &["verified", "rejected"])),
                ("reason", json!({"type": "string", "maxLength": 500, "description": "Required for `rejected`."})),
            ],
        ),
    );
    s.insert(
        "AdminThroughput".into(),
        object(
            &["mps"],
            vec![(
                "mps",
                json!({"type": ["integer", "null"], "minimum": 1, "maximum": 1_000_000, "description": "Messages per second; `null`: unlimited."}),
            )],
        ),
    );
    s.insert(
        "AdminTier".into(),
        object(
            &["tier"],
            vec![(
                "tier",
                json!({"type": ["string", "null"], "enum": ["TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED", null], "description": "`null`: the tier follows from verification, quality and use."}),
            )],
        ),
    );
    s.insert(
        "AdminWebhook".into(),
        object(
            &["url", "verify_token", "app_secret"],
            vec![
                ("url", json!({"type": "string", "maxLength": 2048, "description": "http(s)."})),
                ("verify_token", json!({"type": "string", "minLength": 1, "maxLength": 256})),
                ("app_secret", json!({"type": "string", "minLength": 8, "maxLength": 256, "description": "The HMAC-SHA256 key of `X-Hub-Signature-256`."})),
            ],
        ),
    );
    s.insert(
        "AdminWebhookSaved".into(),
        object(
            &["url", "verified"],
            vec![
                ("url", string("")),
                ("verified", json!({"type": "boolean", "const": true})),
            ],
        ),
    );
    s.insert(
        "AdminReview".into(),
        object(
            &["status"],
            vec![
                (
                    "status",
                    enum_of("Any case.", &["APPROVED", "REJECTED", "PAUSED", "DISABLED"]),
                ),
                ("reason", json!({"type": "string", "maxLength": 500})),
            ],
        ),
    );
    s.insert(
        "AdminTemplate".into(),
        json!({"allOf": [schema("Template"), object(&["waba_id"], vec![
            ("waba_id", string("")),
            ("reason", json!({"type": ["string", "null"]})),
            ("created_at", json!({"type": "integer"})),
            ("updated_at", json!({"type": "integer"})),
        ])]}),
    );
    let money = || json!({"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{4}$"});
    s.insert(
        "Invoice".into(),
        object(
            &[
                "business_name",
                "waba_id",
                "period",
                "from",
                "to",
                "currency",
                "lines",
                "messages",
                "total",
                "total_micros",
            ],
            vec![
                ("business_name", string("")),
                ("waba_id", string("")),
                ("period", string("`YYYY-MM`.")),
                ("from", json!({"type": "string", "format": "date"})),
                (
                    "to",
                    json!({"type": "string", "format": "date", "description": "Exclusive."}),
                ),
                ("currency", string("")),
                (
                    "lines",
                    array(object(
                        &[
                            "category",
                            "country",
                            "messages",
                            "unit_price",
                            "unit_price_micros",
                            "amount",
                            "amount_micros",
                        ],
                        vec![
                            ("category", string("")),
                            ("country", string("")),
                            ("messages", json!({"type": "integer"})),
                            ("unit_price", money()),
                            ("unit_price_micros", json!({"type": "integer"})),
                            ("amount", money()),
                            ("amount_micros", json!({"type": "integer"})),
                        ],
                    )),
                ),
                ("messages", json!({"type": "integer"})),
                ("total", money()),
                ("total_micros", json!({"type": "integer"})),
            ],
        ),
    );
    s
}

fn webhooks() -> Value {
    let signature = json!({"name": "X-Hub-Signature-256", "in": "header", "required": true,
        "description": "`sha256=<lowercase hex HMAC-SHA256(app_secret, exact body bytes)>`. The body is ASCII-only JSON (non-ASCII escaped as `\\uXXXX`).",
        "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"}});
    let delivery = |id: &str, summary: &str| {
        json!({"post": {
            "operationId": id,
            "summary": summary,
            "parameters": [signature.clone()],
            "requestBody": json_body(schema("WebhookEnvelope")),
            "responses": {"200": {"description": "Received. Anything else (or no answer) is retried with exponential backoff for at least 7 days; receivers de-duplicate by message or status id."}},
        }})
    };
    let hub = |name: &str, d: &str| json!({"name": name, "in": "query", "required": true, "description": d, "schema": {"type": "string"}});
    json!({
        "messages": delivery("webhookMessages", "Inbound customer messages (`value.messages`) and statuses of sent messages (`value.statuses`: sent, delivered, read, failed, with `pricing`)."),
        "message_template_status_update": delivery("webhookTemplateStatus", "A template's status changed (every review decision)."),
        "verification": {"get": {
            "operationId": "webhookVerification",
            "summary": "The handshake run before a callback URL is saved.",
            "parameters": [
                hub("hub.mode", "`subscribe`."),
                hub("hub.challenge", "A number to echo."),
                hub("hub.verify_token", "The verify token the business set."),
            ],
            "responses": {"200": {"description": "The bare challenge; anything else fails the verification.", "content": {"text/plain": {"schema": {"type": "string"}}}}},
        }},
    })
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};
    use std::path::Path;

    use super::*;

    #[test]
    fn checked_in_document_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
        let want = rendered(&document());
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != want {
            if std::env::var_os("UPDATE_EXAMPLES").is_some() {
                std::fs::write(&path, &want).expect("write docs/openapi.json");
            } else {
                panic!(
                    "{} is stale; run the tests with UPDATE_EXAMPLES=1 to regenerate it",
                    path.display()
                );
            }
        }
    }

    /// Follows a local `$ref` (`#/a/b`) to its target.
    fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
        doc.pointer(reference.strip_prefix('#')?)
    }

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_ref_resolves() {
        let doc = document();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 50, "the document uses references");
        for r in all {
            assert!(
                r.starts_with("#/components/"),
                "only local component refs: {r}"
            );
            assert!(resolve(&doc, r).is_some(), "dangling $ref {r}");
        }
    }

    #[test]
    fn every_path_is_well_formed() {
        let doc = document();
        let paths = doc["paths"].as_object().expect("paths");
        let mut shapes = HashSet::new();
        let mut operation_ids = HashSet::new();
        for (path, item) in paths {
            assert!(path.starts_with('/'), "{path}");
            let segments: Vec<&str> = path[1..].split('/').collect();
            let mut templated = BTreeSet::new();
            for seg in &segments {
                assert!(!seg.is_empty(), "empty segment in {path}");
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    assert!(
                        !name.is_empty()
                            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                        "bad template {seg} in {path}"
                    );
                    assert!(templated.insert(name), "{name} twice in {path}");
                } else {
                    assert!(
                        seg.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)),
                        "bad segment {seg} in {path}"
                    );
                }
            }
            // Templated paths that differ only in parameter names are the same path.
            let shape: Vec<&str> = segments
                .iter()
                .map(|s| if s.starts_with('{') { "{}" } else { s })
                .collect();
            assert!(
                shapes.insert(shape.join("/")),
                "{path} duplicates another path"
            );
            let ops = item.as_object().expect("a path item");
            assert!(!ops.is_empty(), "{path} has no operations");
            for (method, op) in ops {
                assert!(
                    ["get", "post", "put", "delete", "patch"].contains(&method.as_str()),
                    "{method} {path}"
                );
                let id = op["operationId"].as_str().expect("an operationId");
                assert!(
                    operation_ids.insert(id.to_owned()),
                    "operationId {id} twice"
                );
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path} has responses"
                );
                let mut declared = BTreeSet::new();
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let p = match p["$ref"].as_str() {
                        Some(r) => resolve(&doc, r).expect("a parameter ref resolves"),
                        None => p,
                    };
                    if p["in"] == "path" {
                        assert_eq!(
                            p["required"], true,
                            "{method} {path}: path params are required"
                        );
                        declared.insert(p["name"].as_str().expect("a name"));
                    }
                }
                assert_eq!(declared, templated, "{method} {path}: path parameters");
            }
        }
        for needed in [
            "/{version}/{phone_number_id}/messages",
            "/{version}/{phone_number_id}/media",
            "/{version}/{node_id}",
            "/{version}/{waba_id}/message_templates",
            "/{version}/{phone_number_id}/whatsapp_business_profile",
            "/{version}/{waba_id}/phone_numbers",
            "/{version}/{phone_number_id}/register",
            "/{version}/{app_id}/subscriptions",
            "/{version}/{waba_id}/subscribed_apps",
            "/{version}/{waba_id}/usage",
            "/admin/v1/businesses",
            "/admin/v1/templates/{template_id}/review",
            "/admin/v1/verifications",
            "/admin/v1/names",
            "/admin/v1/businesses/{waba_id}/name-review",
        ] {
            assert!(paths.contains_key(needed), "{needed} is documented");
        }
        for hook in ["messages", "message_template_status_update", "verification"] {
            assert!(doc["webhooks"][hook].is_object(), "webhook {hook}");
        }
    }
}
