//! `/v1/callback`: the app's outbound callback URL. Setting it generates a new signing secret, shown only in that
//! answer; events are POSTed there signed with it (see crate::callbacks and docs/api.md).

use super::error::{ApiError, Json, not_found};
use super::openapi;
use crate::auth::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::{Value, json};

/// The callback settings routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/callback", get(show).put(set).delete(remove))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SetCallback {
    /// http(s), at most 2,048 characters; no private, loopback, link-local or metadata address.
    url: String,
}

/// Longest callback URL accepted.
const MAX_URL_LEN: usize = 2048;

/// Set the callback URL; a new signing secret each time, shown only in this answer.
#[utoipa::path(
    put, operation_id = "setCallback", path = "/v1/callback", tag = "native", security(("bearer" = []), ("basic" = [])),
    request_body = SetCallback,
    responses(
        (status = 200, description = "The URL and its signing secret.", body = openapi::CallbackSet),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
async fn set(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Json(input): Json<SetCallback>,
) -> Result<Json<Value>, ApiError> {
    if input.url.len() > MAX_URL_LEN {
        return Err(ApiError::invalid_field(
            "url",
            format!("at most {MAX_URL_LEN} characters"),
        ));
    }
    // The same rules as `file_url`: http(s), and no private or loopback address unless the server allows it.
    state
        .fetcher
        .check(&input.url)
        .map_err(|e| ApiError::invalid_field("url", e.to_string()))?;
    let secret = crate::callbacks::new_secret();
    state.store.set_callback(app.id, &input.url, &secret).await?;
    Ok(Json(json!({"url": input.url, "secret": secret})))
}

/// The callback URL.
#[utoipa::path(
    get, operation_id = "getCallback", path = "/v1/callback", tag = "native", security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The URL.", body = openapi::CallbackShown),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn show(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    match state.store.callback(app.id).await? {
        Some((url, _)) => Ok(Json(json!({"url": url}))),
        None => Err(ApiError::not_found("callback")),
    }
}

/// Remove the callback; events not yet delivered are given up.
#[utoipa::path(
    delete, operation_id = "deleteCallback", path = "/v1/callback", tag = "native", security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 204, description = "Removed."),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn remove(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .delete_callback(app.id)
        .await
        .map_err(not_found("callback"))?;
    Ok(StatusCode::NO_CONTENT)
}
