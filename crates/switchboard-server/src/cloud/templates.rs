//! Message templates: `POST/GET/DELETE /{waba_id}/message_templates`,
//! `GET/POST /{template_id}`, and the status changes the platform's review makes
//! (each queued as a `message_template_status_update` webhook event).

use axum::response::Response;
use serde_json::{Value, json};
use switchboard_business::error::GraphError;
use switchboard_business::template::{self, TemplateView};
use switchboard_store::{Business, StoreError, Template};

use super::{GraphRequest, GraphResult, ok_json, success};
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;

/// Templates per business account while it is not verified (Meta: 250).
const MAX_TEMPLATES_UNVERIFIED: usize = 250;
const MAX_TEMPLATES_VERIFIED: usize = 6_000;

/// A stored template as the domain's Graph rendering takes it.
pub fn view(t: &Template) -> TemplateView<'_> {
    TemplateView {
        id: &t.template_id,
        name: &t.name,
        language: &t.language,
        category: &t.category,
        parameter_format: &t.parameter_format,
        components: &t.components,
        status: &t.status,
        reason: t.reason.as_deref(),
    }
}

pub async fn create(state: &SharedState, b: &Business, body: &Value) -> GraphResult<Response> {
    let spec = template::parse_create(body)?;
    let existing = state.business.templates(&b.waba_id).await?;
    let cap = if b.verification == "verified" {
        MAX_TEMPLATES_VERIFIED
    } else {
        MAX_TEMPLATES_UNVERIFIED
    };
    if existing.len() >= cap {
        return Err(GraphError::new(
            2388019,
            format!("this business account already has {cap} message templates"),
        )
        .into());
    }
    let now = state.now();
    let t = Template {
        template_id: switchboard_business::ids::numeric_id(rand::random()),
        waba_id: b.waba_id.clone(),
        name: spec.name,
        language: spec.language,
        category: spec.category,
        parameter_format: spec.parameter_format,
        components: spec.components.to_string(),
        status: "PENDING".into(),
        reason: None,
        created_at: now,
        updated_at: now,
    };
    match state.business.create_template(&t).await {
        Ok(()) => forget(state, &t),
        Err(StoreError::Conflict(_)) => {
            return Err(GraphError::new(
                2388024,
                format!(
                    "a template named {} already exists in language {}",
                    t.name, t.language
                ),
            )
            .into());
        }
        Err(e) => return Err(e.into()),
    }
    ok_json(json!({"id": t.template_id, "status": t.status, "category": t.category}))
}

pub async fn list(state: &SharedState, b: &Business, req: &GraphRequest) -> GraphResult<Response> {
    let q = &req.query;
    let eq = |key: &str, value: &str| {
        q.get(key)
            .is_none_or(|want| want.eq_ignore_ascii_case(value))
    };
    let limit = match q.get("limit") {
        None => 25,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| GraphError::invalid_value("limit", "expected 1 to 1000"))?,
    };
    let after = q.get("after").cloned();
    let all: Vec<Template> = state
        .business
        .templates(&b.waba_id)
        .await?
        .into_iter()
        .filter(|t| {
            eq("name", &t.name)
                && eq("status", &t.status)
                && eq("category", &t.category)
                && eq("language", &t.language)
        })
        .collect();
    let start = match &after {
        Some(cursor) => all
            .iter()
            .position(|t| &t.template_id == cursor)
            .map(|i| i + 1)
            .ok_or_else(|| GraphError::invalid_value("after", "unknown cursor"))?,
        None => 0,
    };
    let page: Vec<&Template> = all.iter().skip(start).take(limit).collect();
    let fields = req.fields();
    let data: Vec<Value> = page
        .iter()
        .map(|t| template::template_json(&view(t), fields.as_deref()))
        .collect();
    let mut paging = json!({});
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        paging = json!({"cursors": {"before": first.template_id, "after": last.template_id}});
        if start + page.len() < all.len() {
            paging["next"] = json!(format!(
                "{}/{}/message_templates?limit={limit}&after={}",
                req.version
                    .as_deref()
                    .map(|v| format!("/{v}"))
                    .unwrap_or_default(),
                b.waba_id,
                last.template_id
            ));
        }
    }
    let mut out = json!({"data": data, "paging": paging});
    if q.contains_key("summary") {
        let cap = if b.verification == "verified" {
            MAX_TEMPLATES_VERIFIED
        } else {
            MAX_TEMPLATES_UNVERIFIED
        };
        out["summary"] = json!({
            "total_count": all.len(),
            "message_template_count": state.business.templates(&b.waba_id).await?.len(),
            "message_template_limit": cap,
            "are_translations_complete": true,
        });
    }
    ok_json(out)
}

pub fn get(t: &Template, req: &GraphRequest) -> GraphResult<Response> {
    ok_json(template::template_json(&view(t), req.fields().as_deref()))
}

/// `POST /{template_id}`: new category, components or TTL. An edited template is
/// reviewed again.
pub async fn edit(
    state: &SharedState,
    _b: &Business,
    mut t: Template,
    body: &Value,
) -> GraphResult<Response> {
    if !template::editable(&t.status) {
        return Err(GraphError::invalid_parameter(format!(
            "a template in status {} cannot be edited",
            t.status
        ))
        .into());
    }
    let mut merged = json!({
        "name": t.name,
        "language": t.language,
        "category": t.category,
        "parameter_format": t.parameter_format,
        "components": serde_json::from_str::<Value>(&t.components).unwrap_or(json!([])),
    });
    let mut changed = false;
    for key in [
        "category",
        "components",
        "parameter_format",
        "message_send_ttl_seconds",
    ] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            merged[key] = v.clone();
            changed = true;
        }
    }
    if !changed {
        return Err(GraphError::missing("components").into());
    }
    let spec = template::parse_create(&merged)?;
    t.category = spec.category;
    t.parameter_format = spec.parameter_format;
    t.components = spec.components.to_string();
    let previous = t.status.clone();
    t.status = "PENDING".into();
    t.reason = None;
    t.updated_at = state.now();
    state.business.update_template(&t).await?;
    forget(state, &t);
    if previous != "PENDING" {
        queue_status_event(state, &t).await?;
    }
    success()
}

/// `DELETE /{waba_id}/message_templates?name=…[&hsm_id=…]`: every language of the
/// name, or the one template `hsm_id` names.
pub async fn delete(state: &SharedState, b: &Business, body: &Value) -> GraphResult<Response> {
    let text = |k: &str| {
        body.get(k).and_then(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let name = text("name");
    let hsm_id = text("hsm_id");
    if name.is_none() && hsm_id.is_none() {
        return Err(GraphError::missing("name").into());
    }
    let targets: Vec<Template> = state
        .business
        .templates(&b.waba_id)
        .await?
        .into_iter()
        .filter(|t| name.as_ref().is_none_or(|n| &t.name == n))
        .filter(|t| hsm_id.as_ref().is_none_or(|id| &t.template_id == id))
        .collect();
    if targets.is_empty() {
        return Err(GraphError::invalid_value("name", "no such message template").into());
    }
    if let Some(t) = targets.iter().find(|t| t.status == "DISABLED") {
        return Err(GraphError::invalid_parameter(format!(
            "template {} ({}) is disabled and cannot be deleted",
            t.name, t.language
        ))
        .into());
    }
    for t in targets {
        state.business.delete_template(&t.template_id).await?;
        forget(state, &t);
    }
    success()
}

/// The review's decision (admin API): checks the transition, stores it and queues
/// the status webhook.
pub async fn set_status(
    state: &SharedState,
    mut t: Template,
    status: &str,
    reason: Option<String>,
) -> ApiResult<Template> {
    let to = template::valid_status(status).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_status",
            "status must be APPROVED, REJECTED, PAUSED or DISABLED",
        )
    })?;
    let allowed = matches!(
        (t.status.as_str(), to),
        ("PENDING", "APPROVED" | "REJECTED")
            | ("REJECTED", "APPROVED")
            | ("APPROVED", "PAUSED" | "DISABLED" | "REJECTED")
            | ("PAUSED", "APPROVED" | "DISABLED")
    );
    if !allowed {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "invalid_transition",
            format!("a {} template cannot become {to}", t.status),
        ));
    }
    if let Some(r) = &reason
        && r.chars().count() > 500
    {
        return Err(ApiError::bad_request(
            "invalid_request",
            "reason is limited to 500 characters",
        ));
    }
    t.status = to.to_owned();
    t.reason = reason;
    t.updated_at = state.now();
    state.business.update_template(&t).await?;
    forget(state, &t);
    queue_status_event(state, &t).await?;
    Ok(t)
}

/// Drops this node's cached copy of a changed template.
fn forget(state: &SharedState, t: &Template) {
    state
        .caches
        .templates
        .remove(&(t.waba_id.clone(), t.name.clone(), t.language.clone()));
}

async fn queue_status_event(state: &SharedState, t: &Template) -> Result<(), StoreError> {
    let value = switchboard_business::webhook::template_status_value(
        &t.status,
        t.template_id.parse::<u64>().unwrap_or(0),
        &t.name,
        &t.language,
        &t.category,
        t.reason.as_deref(),
    );
    let payload = json!({"field": "message_template_status_update", "value": value});
    state
        .business
        .push_event(&t.waba_id, &payload.to_string(), state.now())
        .await?;
    crate::webhooks::wake(state, &t.waba_id);
    Ok(())
}
