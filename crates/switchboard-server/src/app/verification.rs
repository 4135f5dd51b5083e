//! Verification and the business's name, from the team's side: the owner applies
//! for verification (a platform admin decides, see `admin.rs`) and renames the
//! business. A name that imitates a verified business's (`switchboard_app::lookalike`)
//! is held for an admin's review, and so is every rename of a verified business:
//! customers trust its badge, so its name changes only after a person looked.
//!
//! The helpers here ([`imitated`], [`hold_name`], [`apply_name`]) are shared with
//! business creation and the admin's name queue in `admin.rs`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_app::Role;
use switchboard_app::lookalike;
use switchboard_app::verification::{
    self as ver, Application, ApplicationInput, CURRENT, NameReview, NameStatus, SimilarTo, kind,
};
use switchboard_store::{Business, Expect};

use super::{load, member, save};
use crate::admin::{JsonBody, UrlPath};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route(
            "/v1/biz/{waba_id}/verification",
            get(show_application).post(submit),
        )
        .route("/v1/biz/{waba_id}/name", get(show_name).put(rename))
}

/// The application as the business and the admin see it.
pub fn application_json(a: &Application) -> Value {
    json!({
        "legal_name": a.legal_name,
        "registration_number": a.registration_number,
        "country": a.country,
        "address": a.address,
        "website": a.website,
        "document_media_ids": a.document_media_ids,
        "status": a.status,
        "reason": a.reason,
        "submitted_by": a.submitted_by,
        "submitted_at": a.submitted_at,
        "decided_at": a.decided_at,
    })
}

async fn submit(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<ApplicationInput>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Owner).await?;
    let now = state.now();
    let app = ver::apply(req, &m.business.verification, m.user_id(), now)?;
    save(
        &state,
        m.waba_id(),
        kind::APPLICATION,
        CURRENT,
        &app,
        Expect::Any,
    )
    .await?;
    let mut business = m.business;
    business.verification = "pending".to_owned();
    business.verification_reason = None;
    state.business.update_business(&business).await?;
    state.directory.set(&business);
    tracing::info!(waba_id = %business.waba_id, "verification applied for");
    Ok((
        StatusCode::CREATED,
        ApiJson(
            json!({"verification": business.verification, "application": application_json(&app)}),
        ),
    ))
}

async fn show_application(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let app = load::<Application>(&state, m.waba_id(), kind::APPLICATION, CURRENT).await?;
    Ok(ApiJson(json!({
        "verification": m.business.verification,
        "reason": m.business.verification_reason,
        "application": app.map(|(a, _)| application_json(&a)),
    })))
}

// --- names ---

/// The verified business (other than `except`, a waba id) whose name `name`
/// imitates, if any.
pub async fn imitated(
    state: &SharedState,
    name: &str,
    except: Option<&str>,
) -> ApiResult<Option<SimilarTo>> {
    let all = state.business.businesses().await?;
    let verified = all
        .iter()
        .filter(|b| b.verification == "verified" && Some(b.waba_id.as_str()) != except)
        .map(|b| (b.waba_id.as_str(), b.name.as_str()));
    Ok(
        lookalike::imitated(name, verified).map(|(waba_id, name)| SimilarTo {
            waba_id: waba_id.to_owned(),
            name: name.to_owned(),
        }),
    )
}

/// Records that `requested` is held for review (replacing an earlier review).
pub async fn hold_name(
    state: &SharedState,
    waba_id: &str,
    requested: &str,
    similar_to: Option<SimilarTo>,
) -> ApiResult<NameReview> {
    let review = NameReview {
        status: NameStatus::Held,
        requested: requested.to_owned(),
        similar_to,
        requested_at: state.now(),
        reason: None,
        decided_at: None,
    };
    save(
        state,
        waba_id,
        kind::NAME_REVIEW,
        CURRENT,
        &review,
        Expect::Any,
    )
    .await?;
    tracing::info!(waba_id, requested, "business name held for review");
    Ok(review)
}

/// Gives the business `name`: its record, the display name of its user and the
/// directory that marks its messages.
pub async fn apply_name(state: &SharedState, business: &mut Business, name: &str) -> ApiResult<()> {
    business.name = name.to_owned();
    state.business.update_business(business).await?;
    state
        .store
        .set_display_name(&business.user_id, Some(name))
        .await?;
    state.directory.set(business);
    Ok(())
}

pub fn review_json(r: &NameReview) -> Value {
    json!({
        "status": r.status,
        "requested": r.requested,
        "similar_to": r.similar_to.as_ref().map(|s| json!({"waba_id": s.waba_id, "name": s.name})),
        "requested_at": r.requested_at,
        "reason": r.reason,
        "decided_at": r.decided_at,
    })
}

async fn show_name(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
) -> ApiResult<ApiJson<Value>> {
    let m = member(&state, &auth, &waba_id, Role::Agent).await?;
    let review = load::<NameReview>(&state, m.waba_id(), kind::NAME_REVIEW, CURRENT).await?;
    Ok(ApiJson(json!({
        "name": m.business.name,
        "review": review.map(|(r, _)| review_json(&r)),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameBody {
    name: String,
}

/// Renames the business: at once (200), or held for review (202) when the name
/// imitates a verified business or the business itself is verified; a held rename
/// keeps the current name meanwhile.
async fn rename(
    State(state): State<SharedState>,
    auth: Authed,
    UrlPath(waba_id): UrlPath<String>,
    JsonBody(req): JsonBody<RenameBody>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let m = member(&state, &auth, &waba_id, Role::Owner).await?;
    let name = switchboard_app::text::text("name", &req.name, 1, 100, false)?;
    let similar = imitated(&state, &name, Some(m.waba_id())).await?;
    let mut business = m.business;
    if similar.is_some() || business.verification == "verified" {
        let review = hold_name(&state, &business.waba_id, &name, similar).await?;
        return Ok((
            StatusCode::ACCEPTED,
            ApiJson(json!({"name": business.name, "review": review_json(&review)})),
        ));
    }
    apply_name(&state, &mut business, &name).await?;
    // A rename that needs no review supersedes a held one.
    if let Some((r, v)) =
        load::<NameReview>(&state, &business.waba_id, kind::NAME_REVIEW, CURRENT).await?
        && r.status == NameStatus::Held
    {
        state
            .business
            .delete_record(
                &business.waba_id,
                kind::NAME_REVIEW,
                CURRENT,
                Expect::Version(v),
                state.now(),
            )
            .await
            .map_err(ApiError::from)?;
    }
    Ok((
        StatusCode::OK,
        ApiJson(json!({"name": business.name, "review": null})),
    ))
}

/// Makes the business's pending application follow an admin's verification
/// decision (`approved`, or rejected with `reason`); without a pending application
/// (a decision made without one) nothing changes.
pub async fn follow_decision(
    state: &SharedState,
    waba_id: &str,
    approved: bool,
    reason: Option<String>,
) -> ApiResult<()> {
    let now = state.now();
    super::update::<Application, _>(state, waba_id, kind::APPLICATION, CURRENT, |cur| {
        Ok(cur
            .filter(|a| a.status == ver::Status::Pending)
            .map(|mut a| {
                a.status = if approved {
                    ver::Status::Approved
                } else {
                    ver::Status::Rejected
                };
                a.reason = reason.clone();
                a.decided_at = Some(now);
                a
            }))
    })
    .await?;
    Ok(())
}
