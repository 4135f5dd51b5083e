//! The business profile as its team edits it (`/v1/biz/{waba_id}/profile`): about,
//! description, address, email, websites, category, photo and opening hours. The
//! profile is the same JSON document the Cloud API's `whatsapp_business_profile`
//! edits (`Business.profile`, with its field limits from
//! `switchboard_business::profile`), so customers see one profile
//! (`GET /v1/businesses/{user_id}`) whichever way it was written. The display name
//! is not edited here.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};
use switchboard_app::Role;
use switchboard_app::hours::{self, Hours};
use switchboard_app::text::text;
use switchboard_business::profile as cloud_profile;
use switchboard_store::Business;

use super::member;
use crate::admin::{JsonBody, UrlPath};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

/// Characters of the free-text category customers see ("Bakery").
const MAX_CATEGORY: usize = 64;

pub fn router() -> Router<SharedState> {
    Router::new().route("/v1/biz/{waba_id}/profile", get(show).patch(change))
}

/// The stored profile document of a business (an empty object if unset or broken).
pub fn profile_of(b: &Business) -> Map<String, Value> {
    serde_json::from_str::<Value>(&b.profile)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

/// The business's opening hours, if it set them.
pub fn hours_of(b: &Business) -> Option<Hours> {
    profile_of(b)
        .get("hours")
        .and_then(|h| serde_json::from_value(h.clone()).ok())
}

/// A field that may be sent as `null` to clear it: absent → `None`, `null` →
/// `Some(Value::Null)`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    #[serde(default)]
    about: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    websites: Option<Vec<String>>,
    #[serde(default)]
    vertical: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    photo_media_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    hours: Option<Value>,
}

fn profile_json(b: &Business) -> Value {
    let p = profile_of(b);
    let s = |k: &str| p.get(k).cloned().unwrap_or_else(|| json!(""));
    json!({
        "about": s("about"),
        "description": s("description"),
        "address": s("address"),
        "email": s("email"),
        "websites": p.get("websites").cloned().unwrap_or_else(|| json!([])),
        "vertical": p.get("vertical").and_then(Value::as_str).unwrap_or(&b.vertical),
        "category": p.get("category").cloned().unwrap_or(Value::Null),
        "photo_media_id": p.get("photo_media_id").cloned().unwrap_or(Value::Null),
        "hours": p.get("hours").cloned().unwrap_or(Value::Null),
    })
}

async fn show(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    Ok(ApiJson(profile_json(&m.business)))
}

async fn change(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<PatchBody>,
) -> ApiResult<ApiJson<Value>> {
    member(&state, &auth, &waba_id, Role::Admin).await?;
    let hours = match req.hours {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(parse_hours(v)?)),
    };
    let category = match req.category.as_deref() {
        None => None,
        Some(c) => Some(text("category", c, 0, MAX_CATEGORY, false)?),
    };
    let photo = match req.photo_media_id.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(String::new()),
        Some(id) => {
            super::replies::check_media(&state, Some(id)).await?;
            Some(id.to_owned())
        }
    };
    let mut cloud = Map::new();
    for (k, v) in [
        ("about", &req.about),
        ("description", &req.description),
        ("address", &req.address),
        ("email", &req.email),
        ("vertical", &req.vertical),
    ] {
        if let Some(v) = v {
            cloud.insert(k.to_owned(), json!(v.trim()));
        }
    }
    if let Some(w) = &req.websites {
        cloud.insert("websites".into(), json!(w));
    }
    // Read the business again right before writing, to keep the window for a
    // concurrent change of another field (a rename) small.
    let Some(mut b) = state.business.business(&waba_id).await? else {
        return Err(ApiError::not_found(format!("business {waba_id} not found")));
    };
    let updated =
        cloud_profile::apply_update(&Value::Object(profile_of(&b)), &Value::Object(cloud))
            .map_err(|e| ApiError::bad_request("invalid_profile", e.details))?;
    let mut p = updated.as_object().cloned().unwrap_or_default();
    set_or_clear(&mut p, "category", category.map(Value::String));
    set_or_clear(&mut p, "photo_media_id", photo.map(Value::String));
    if let Some(h) = hours {
        match h {
            Some(h) => p.insert(
                "hours".into(),
                serde_json::to_value(h).unwrap_or(Value::Null),
            ),
            None => p.remove("hours"),
        };
    }
    if let Some(v) = p.get("vertical").and_then(Value::as_str) {
        b.vertical = v.to_owned();
    }
    b.profile = Value::Object(p).to_string();
    state.business.update_business(&b).await?;
    state.directory.set(&b);
    Ok(ApiJson(profile_json(&b)))
}

/// Sets a text field, or removes it when the new value is empty.
fn set_or_clear(p: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        None => {}
        Some(Value::String(s)) if s.is_empty() => {
            p.remove(key);
        }
        Some(v) => {
            p.insert(key.to_owned(), v);
        }
    }
}

fn parse_hours(v: Value) -> ApiResult<Hours> {
    let h: Hours = serde_json::from_value(v)
        .map_err(|e| ApiError::bad_request("invalid_hours", format!("hours: {e}")))?;
    Ok(hours::check(h)?)
}
