//! `/healthz` (the process answers) and `/readyz` (and its database does). No token needed.

use super::error::ApiError;
use super::openapi;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use pregon_core::ErrorCode;
use serde_json::{Value, json};

/// The health routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Prometheus text. Off unless `metrics_token` is set; the scraper sends it as a Bearer token (the figures span
/// every app, so an app's token does not open them).
#[utoipa::path(
    get, operation_id = "metrics", summary = "Prometheus metrics", path = "/metrics", tag = "operations", security(("metrics_token" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition.", content_type = "text/plain", body = String),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, description = "`not_found`: metrics are off (no `metrics_token` is set).", body = openapi::ErrorBody),
    ),
)]
async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return Err(ApiError::not_found("route"));
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let matches = given.is_some_and(|g| crate::auth::same_secret(g, expected));
    if !matches {
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "send the metrics token as `Authorization: Bearer …`",
        ));
    }
    let totals = state.store.send_queue().totals_by_provider().await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&totals),
    )
        .into_response())
}

/// The process answers.
#[utoipa::path(
    get, operation_id = "healthz", path = "/healthz", tag = "operations",
    responses((status = 200, description = "`{\"status\": \"ok\"}`.", body = openapi::Health)),
)]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The process answers and its database does.
#[utoipa::path(
    get, operation_id = "readyz", path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready.", body = openapi::Ready),
        (status = 503, description = "`unavailable`: the database is not reachable.", body = openapi::ErrorBody),
    ),
)]
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(json!({"status": "ready", "database": "ok"}))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(ErrorCode::Unavailable, "the database is not reachable"))
        }
    }
}
