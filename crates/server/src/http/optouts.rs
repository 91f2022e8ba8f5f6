//! `/v1/optouts`: the app's opt-out list. Numbers on it are never sent to: their rows become `suppressed`
//! messages. Provider webhooks add to it when a recipient answers an opt-out keyword.

use super::error::{ApiError, Json, Path, Query, not_found};
use super::openapi;
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListOptOuts {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    limit: Option<u32>,
}

/// The app's opt-out list, by number.
#[utoipa::path(
    get, operation_id = "listOptOuts", path = "/v1/optouts", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(ListOptOuts),
    responses(
        (status = 200, description = "A page of numbers.", body = openapi::OptOutPage),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
    ),
)]
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AddOptOuts {
    /// Numbers as people write them (`+54 9 11 2345-6789`); at most 100,000.
    phones: Vec<String>,
}

/// The most numbers one request may add.
const MAX_PER_REQUEST: usize = 100_000;

/// Adds numbers written as people write them; each is normalised to E.164 first. Invalid ones are listed back,
/// the valid ones are added.
#[utoipa::path(
    post, operation_id = "addOptOuts", summary = "Add numbers to the opt-out list", path = "/v1/optouts", tag = "native", security(("bearer" = []), ("basic" = [])),
    request_body = AddOptOuts,
    responses(
        (status = 200, description = "What was added, and the numbers that are not valid.",
            body = openapi::OptOutsAdded),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
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

/// Take a number off the list.
#[utoipa::path(
    delete, operation_id = "removeOptOut", path = "/v1/optouts/{phone}", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("phone" = String, Path, description = "The number, E.164 (URL-encode the `+`) or as written.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
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
