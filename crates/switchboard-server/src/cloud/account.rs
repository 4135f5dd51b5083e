//! The business's own objects: its profile (`/whatsapp_business_profile`), its phone
//! number with Graph `fields=` semantics, registration calls, webhook subscription
//! as clients register it, and the usage it is billed for.

use axum::response::Response;
use serde_json::{Value, json};
use switchboard_business::error::GraphError;
use switchboard_business::profile;
use switchboard_store::{Business, WebhookConfig};

use super::{GraphRequest, GraphResult, ok_json, success};
use crate::state::SharedState;

fn profile_of(b: &Business) -> Value {
    serde_json::from_str::<Value>(&b.profile)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}))
}

pub async fn get_profile(
    _state: &SharedState,
    b: &Business,
    req: &GraphRequest,
) -> GraphResult<Response> {
    let mut current = profile_of(b);
    if current.get("vertical").is_none() {
        current["vertical"] = json!(b.vertical);
    }
    ok_json(profile::profile_json(&current, req.fields().as_deref()))
}

pub async fn post_profile(
    state: &SharedState,
    b: &Business,
    body: &Value,
) -> GraphResult<Response> {
    let updated = profile::apply_update(&profile_of(b), body)?;
    let mut b = b.clone();
    if let Some(v) = updated.get("vertical").and_then(Value::as_str) {
        b.vertical = v.to_owned();
    }
    b.profile = updated.to_string();
    state.business.update_business(&b).await?;
    success()
}

/// The phone number object; `fields` picks what is returned (plus `id`).
async fn number_json(
    state: &SharedState,
    b: &Business,
    fields: Option<&[String]>,
) -> GraphResult<Value> {
    let standing = state.reach.standing(state, b, state.now()).await?;
    let verified = b.verification == "verified";
    let full = json!({
        "id": b.phone_number_id,
        "verified_name": b.name,
        "display_phone_number": switchboard_core::phone::phone_of(&b.user_id),
        "code_verification_status": "VERIFIED",
        "quality_rating": standing.quality.as_str(),
        "quality_score": {"score": standing.quality.as_str()},
        "platform_type": "CLOUD_API",
        "throughput": {"level": match b.throughput_mps {
            Some(m) if m <= switchboard_business::policy::DEFAULT_MPS => "STANDARD",
            _ => "HIGH",
        }},
        "messages_per_second": b.throughput_mps,
        "whatsapp_business_manager_messaging_limit": standing.tier.as_graph(),
        "messaging_limit_tier": standing.tier.as_graph(),
        "name_status": "APPROVED",
        "status": "CONNECTED",
        "is_official_business_account": verified,
        "official_business_account": {"oba_status": if verified { "APPROVED" } else { "NOT_STARTED" }},
    });
    const DEFAULT: [&str; 7] = [
        "verified_name",
        "code_verification_status",
        "display_phone_number",
        "quality_rating",
        "platform_type",
        "throughput",
        "id",
    ];
    let wanted: Vec<&str> = match fields {
        Some(f) => f.iter().map(String::as_str).collect(),
        None => DEFAULT.to_vec(),
    };
    Ok(pick_fields(&full, &wanted))
}

/// Graph `fields=` semantics: the requested fields of `full` that exist, plus `id`.
fn pick_fields(full: &Value, wanted: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("id".into(), full["id"].clone());
    for f in wanted {
        if let Some(v) = full.get(*f) {
            out.insert((*f).to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

pub async fn get_number(
    state: &SharedState,
    b: &Business,
    req: &GraphRequest,
) -> GraphResult<Response> {
    ok_json(number_json(state, b, req.fields().as_deref()).await?)
}

/// `POST /{phone_number_id}`: a two-step PIN change, or a webhook override.
pub async fn post_number(state: &SharedState, b: &Business, body: &Value) -> GraphResult<Response> {
    if let Some(cfg) = body.get("webhook_configuration").filter(|v| v.is_object()) {
        return subscribe(state, b, cfg).await;
    }
    if let Some(pin) = body.get("pin") {
        check_pin(pin)?;
        return success();
    }
    Err(GraphError::missing("pin").into())
}

fn check_pin(pin: &Value) -> GraphResult<()> {
    let text = match pin {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    if text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(GraphError::invalid_value("pin", "a two-step verification PIN is 6 digits").into())
    }
}

/// Registration calls: the number is registered when the business is created, so
/// these check their input and succeed.
pub fn registration(req: &GraphRequest, body: &Value) -> GraphResult<Response> {
    match req.edge.as_deref() {
        Some("register") => {
            check_pin(body.get("pin").ok_or_else(|| GraphError::missing("pin"))?)?;
        }
        Some("verify_code") => {
            let code = body
                .get("code")
                .ok_or_else(|| GraphError::missing("code"))?;
            let ok = match code {
                Value::String(s) => !s.is_empty() && s.len() <= 10,
                Value::Number(_) => true,
                _ => false,
            };
            if !ok {
                return Err(
                    GraphError::invalid_value("code", "expected the code from the SMS").into(),
                );
            }
        }
        _ => {}
    }
    success()
}

pub async fn phone_numbers(
    state: &SharedState,
    b: &Business,
    req: &GraphRequest,
) -> GraphResult<Response> {
    let n = number_json(state, b, req.fields().as_deref()).await?;
    ok_json(json!({
        "data": [n],
        "paging": {"cursors": {"before": b.phone_number_id, "after": b.phone_number_id}},
    }))
}

pub async fn get_account(
    state: &SharedState,
    b: &Business,
    req: &GraphRequest,
) -> GraphResult<Response> {
    let full = json!({
        "id": b.waba_id,
        "name": b.name,
        "currency": state.config.prices.currency,
        "timezone_id": "0",
        "message_template_namespace": format!("sb_{}", b.waba_id),
        "business_verification_status": match b.verification.as_str() {
            "unverified" => "not_verified",
            other => other,
        },
        "account_review_status": "APPROVED",
    });
    let out = match req.fields() {
        None => full,
        Some(fields) => pick_fields(
            &full,
            &fields.iter().map(String::as_str).collect::<Vec<_>>(),
        ),
    };
    ok_json(out)
}

fn text_param<'a>(body: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// `POST /{app_id}/subscriptions`, `POST /{waba_id}/subscribed_apps` and the
/// `webhook_configuration` override: verify the callback with the handshake, then
/// keep it. The signing secret is the one the platform admin configured (or
/// `app_secret` in the request, our extension).
pub async fn subscribe(state: &SharedState, b: &Business, body: &Value) -> GraphResult<Response> {
    let existing = state.business.webhook(&b.waba_id).await?;
    let url = text_param(body, &["callback_url", "override_callback_uri"]);
    let Some(url) = url else {
        // Subscribing the app without a new URL keeps the configured one.
        return if existing.is_some() {
            success()
        } else {
            Err(GraphError::missing("callback_url").into())
        };
    };
    let verify_token =
        text_param(body, &["verify_token"]).ok_or_else(|| GraphError::missing("verify_token"))?;
    let app_secret = text_param(body, &["app_secret"])
        .map(str::to_owned)
        .or_else(|| existing.as_ref().map(|w| w.app_secret.clone()))
        .ok_or_else(|| {
            GraphError::invalid_parameter(
                "no app secret is configured for this business; the platform admin sets it with PUT /admin/v1/businesses/{waba_id}/webhook",
            )
        })?;
    if url.len() > 2048 || verify_token.len() > 256 || !(8..=256).contains(&app_secret.len()) {
        return Err(GraphError::invalid_parameter(
            "callback_url ≤ 2048, verify_token ≤ 256 and app_secret 8 to 256 characters",
        )
        .into());
    }
    crate::webhooks::verify_endpoint(state, url, verify_token)
        .await
        .map_err(|why| GraphError::new(2200, format!("Callback verification failed: {why}")))?;
    state
        .business
        .set_webhook(&WebhookConfig {
            waba_id: b.waba_id.clone(),
            url: url.to_owned(),
            verify_token: verify_token.to_owned(),
            app_secret,
            updated_at: state.now(),
        })
        .await?;
    crate::webhooks::wake(state, &b.waba_id);
    success()
}

pub async fn subscribed_apps(state: &SharedState, b: &Business) -> GraphResult<Response> {
    let data = match state.business.webhook(&b.waba_id).await? {
        Some(w) => vec![json!({
            "whatsapp_business_api_data": {"id": b.waba_id, "name": "Switchboard"},
            "override_callback_uri": w.url,
        })],
        None => vec![],
    };
    ok_json(json!({"data": data}))
}

/// `GET /{waba_id}/usage?start=&end=` (unix seconds; our extension): billable usage by
/// category and country, as the admin API reports it.
pub async fn usage(state: &SharedState, b: &Business, req: &GraphRequest) -> GraphResult<Response> {
    let now = state.now();
    let secs = |key: &str| -> GraphResult<Option<i64>> {
        match req.query.get(key) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|s| (0..=253_402_300_799).contains(s))
                .map(|s| Some(s * 1000))
                .ok_or_else(|| GraphError::invalid_value(key, "expected unix seconds").into()),
        }
    };
    let end = secs("end")?.unwrap_or(now);
    let start = secs("start")?.unwrap_or(end - 30 * 24 * 3600 * 1000);
    if start > end || end - start > 366 * 24 * 3600 * 1000 {
        return Err(GraphError::invalid_value(
            "start",
            "the range is empty or longer than 366 days",
        )
        .into());
    }
    let report = crate::admin::usage_report(state, &b.waba_id, start, end)
        .await
        .map_err(|e| GraphError::new(131000, e.message))?;
    ok_json(serde_json::to_value(&report).unwrap_or(Value::Null))
}
