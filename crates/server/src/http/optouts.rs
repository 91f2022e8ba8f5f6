//! `/v1/optouts`: the app's opt-out list. Numbers on it are never sent to: their rows become `suppressed`
//! messages. Provider webhooks add to it when a recipient answers an opt-out keyword.

use super::error::{ApiError, Json, Path, Query, not_found};
use super::page_limit;
use crate::auth::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::{Value, json};

/// The opt-out routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/optouts", get(list).post(add))
        .route("/optouts/{phone}", delete(remove))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListOptOuts {
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Query(q): Query<ListOptOuts>,
) -> Result<Json<Value>, ApiError> {
    let limit = page_limit(q.limit);
    let rows = state.store.list_optouts(app.id, q.cursor.as_deref(), limit).await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|o| o.phone.clone()))
        .flatten();
    let data: Vec<Value> = rows
        .into_iter()
        .map(|o| json!({"phone": o.phone, "source": o.source, "created_at": o.created_at}))
        .collect();
    Ok(Json(json!({"data": data, "next_cursor": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddOptOuts {
    phones: Vec<String>,
}

/// The most numbers one request may add.
const MAX_PER_REQUEST: usize = 100_000;

/// Adds numbers written as people write them; each is normalised to E.164 first. Invalid ones are listed back,
/// the valid ones are added.
async fn add(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Json(input): Json<AddOptOuts>,
) -> Result<Json<Value>, ApiError> {
    if input.phones.len() > MAX_PER_REQUEST {
        return Err(ApiError::invalid_field(
            "phones",
            format!("at most {MAX_PER_REQUEST} numbers per request"),
        ));
    }
    let mut valid = Vec::with_capacity(input.phones.len());
    let mut invalid = Vec::new();
    for raw in &input.phones {
        match pregon_ingest::phone::normalize(raw, None) {
            Ok(e164) => valid.push(e164),
            Err(e) => invalid.push(json!({"phone": raw, "message": e.to_string()})),
        }
    }
    valid.sort();
    valid.dedup();
    let added = state.store.add_optouts(app.id, &valid, "api").await?;
    Ok(Json(
        json!({"added": added, "already_listed": valid.len() as u64 - added, "invalid": invalid}),
    ))
}

async fn remove(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(phone): Path<String>,
) -> Result<StatusCode, ApiError> {
    let e164 = pregon_ingest::phone::normalize(&phone, None).map_err(|_| ApiError::not_found("opt-out"))?;
    state
        .store
        .remove_optout(app.id, &e164)
        .await
        .map_err(not_found("opt-out"))?;
    Ok(StatusCode::NO_CONTENT)
}
