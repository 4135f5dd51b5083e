//! Operations endpoints: liveness, readiness (the store answers) and Prometheus
//! metrics; plus the small platform admin API that later features grow.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::auth::Admin;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::SharedState;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/v1/admin/users/{user_id}", get(admin_user))
}

/// The process-wide Prometheus recorder. The `metrics` facade is global by design, so
/// several servers in one (test) process share one recorder.
pub fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
                ])
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .clone()
}

async fn ready(State(state): State<SharedState>) -> impl IntoResponse {
    if *state.shutdown.borrow() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    match state.store.user("0").await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

async fn metrics_text(State(state): State<SharedState>) -> impl IntoResponse {
    match &state.metrics {
        Some(h) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        ),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain")],
            "metrics recorder unavailable".to_owned(),
        ),
    }
}

async fn admin_user(
    State(state): State<SharedState>,
    _admin: Admin,
    Path(user_id): Path<String>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    let user_id = switchboard_core::phone::user_id_from_phone_or_id(&user_id)?;
    let user = state
        .store
        .user(&user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user not found"))?;
    let devices = state.store.devices(&user_id).await?;
    Ok(ApiJson(serde_json::json!({
        "user_id": user.user_id,
        "display_name": user.display_name,
        "created_at": user.created_at,
        "devices": devices.iter().map(|d| serde_json::json!({
            "device_id": d.device_id, "name": d.name, "created_at": d.created_at,
        })).collect::<Vec<_>>(),
    })))
}
