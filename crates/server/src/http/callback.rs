//! `/v1/callback`: the app's outbound callback URL. Setting it generates a new signing secret, shown only in that
//! answer; events are POSTed there signed with it (see crate::callbacks and docs/api.md).

use super::error::{ApiError, Json, not_found};
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetCallback {
    url: String,
}

/// Longest callback URL accepted.
const MAX_URL_LEN: usize = 2048;

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

async fn show(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    match state.store.callback(app.id).await? {
        Some((url, _)) => Ok(Json(json!({"url": url}))),
        None => Err(ApiError::not_found("callback")),
    }
}

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
