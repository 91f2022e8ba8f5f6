//! Campaign controls: pause, resume, cancel, retry-failed, and PATCH (start time, rate cap, send window).

use super::campaigns::CampaignView;
use super::error::{ApiError, Json, Path, not_found};
use super::openapi::{self, SendWindowSchema};
use crate::auth::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{patch, post};
use axum::{Extension, Router};
use pregon_core::campaign::Campaign;
use pregon_core::window::SendWindow;
use pregon_core::{CampaignId, CampaignStatus};
use pregon_store::CampaignPlan;
use serde::Deserialize;
use serde_json::{Value, json};

/// The control routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{campaign}", patch(change))
        .route("/campaigns/{campaign}/pause", post(pause))
        .route("/campaigns/{campaign}/resume", post(resume))
        .route("/campaigns/{campaign}/cancel", post(cancel))
        .route("/campaigns/{campaign}/retry-failed", post(retry_failed))
}

async fn campaign(state: &AppState, app: pregon_core::AppId, id: CampaignId) -> Result<Campaign, ApiError> {
    state.store.get_campaign(app, id).await.map_err(not_found("campaign"))
}

async fn moved(state: &AppState, campaign: Campaign) -> Json<CampaignView> {
    // Senders and the scheduler look again at once rather than at their next tick.
    state.dispatch_wake.notify_waiters();
    Json(campaign.into())
}

/// `scheduled` or `running` → `paused`; no new request leaves after the answer.
#[utoipa::path(
    post, operation_id = "pauseCampaign", path = "/v1/campaigns/{campaign}/pause", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("campaign" = uuid::Uuid, Path, description = "The campaign's id.")),
    responses(
        (status = 200, description = "The campaign after it.", body = CampaignView),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
    ),
)]
async fn pause(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<CampaignId>,
) -> Result<Json<CampaignView>, ApiError> {
    campaign(&state, app.id, id).await?;
    let c = state
        .store
        .set_campaign_status(app.id, id, CampaignStatus::Paused, Some("paused by the user"))
        .await?;
    Ok(moved(&state, c).await)
}

/// `paused` → `running`, or `scheduled` if it had not started.
#[utoipa::path(
    post, operation_id = "resumeCampaign", path = "/v1/campaigns/{campaign}/resume", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("campaign" = uuid::Uuid, Path, description = "The campaign's id.")),
    responses(
        (status = 200, description = "The campaign after it.", body = CampaignView),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
    ),
)]
async fn resume(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<CampaignId>,
) -> Result<Json<CampaignView>, ApiError> {
    let current = campaign(&state, app.id, id).await?;
    // A campaign paused before it started waits for its time again.
    let to = if current.started_at.is_some() {
        CampaignStatus::Running
    } else {
        CampaignStatus::Scheduled
    };
    let c = state.store.set_campaign_status(app.id, id, to, None).await?;
    Ok(moved(&state, c).await)
}

/// Every message not yet handed to the provider becomes `cancelled`.
#[utoipa::path(
    post, operation_id = "cancelCampaign", path = "/v1/campaigns/{campaign}/cancel", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("campaign" = uuid::Uuid, Path, description = "The campaign's id.")),
    responses(
        (status = 200, description = "The campaign after it.", body = CampaignView),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
    ),
)]
async fn cancel(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<CampaignId>,
) -> Result<Json<CampaignView>, ApiError> {
    campaign(&state, app.id, id).await?;
    let c = state
        .store
        .set_campaign_status(app.id, id, CampaignStatus::Cancelled, None)
        .await?;
    Ok(moved(&state, c).await)
}

/// Re-queue the failed messages whose failure was transient or retry-worthy; a `completed` campaign runs again.
#[utoipa::path(
    post, operation_id = "retryFailedMessages", path = "/v1/campaigns/{campaign}/retry-failed", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("campaign" = uuid::Uuid, Path, description = "The campaign's id.")),
    responses(
        (status = 200, description = "How many were re-queued, and the campaign.", body = openapi::RetryFailedAnswer),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
    ),
)]
async fn retry_failed(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<CampaignId>,
) -> Result<Json<Value>, ApiError> {
    campaign(&state, app.id, id).await?;
    let requeued = state.store.retry_failed(app.id, id).await?;
    let c = campaign(&state, app.id, id).await?;
    state.dispatch_wake.notify_waiters();
    Ok(Json(json!({ "requeued": requeued, "campaign": CampaignView::from(c) })))
}

/// A PATCH body: each field present changes, `null` clears (`scheduled_at` cannot be cleared).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CampaignChange)]
struct Change {
    /// A new start time (ISO 8601 with an offset, in the future) for a campaign that has not started.
    #[serde(default)]
    scheduled_at: Option<String>,
    /// Its own messages per second, 1 … the account's rate; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    rate_cap: Option<Option<u32>>,
    /// When it may send; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<SendWindowSchema>)]
    send_window: Option<Option<Value>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Change a campaign's start time, rate cap or send window.
#[utoipa::path(
    patch, operation_id = "changeCampaign", path = "/v1/campaigns/{campaign}", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("campaign" = uuid::Uuid, Path, description = "The campaign's id.")),
    request_body = Change,
    responses(
        (status = 200, description = "The campaign after it.", body = CampaignView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
async fn change(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<CampaignId>,
    Json(body): Json<Change>,
) -> Result<Json<CampaignView>, ApiError> {
    let current = campaign(&state, app.id, id).await?;
    let account = state.store.get_account(app.id, current.account_id).await?;
    let scheduled_at = super::uploads::parse_schedule("scheduled_at", body.scheduled_at.as_deref())?;
    if let Some(Some(cap)) = body.rate_cap
        && (cap == 0 || cap > account.settings.rate_per_second)
    {
        return Err(ApiError::invalid_field(
            "rate_cap",
            format!(
                "must be between 1 and the account's rate ({} messages per second)",
                account.settings.rate_per_second
            ),
        ));
    }
    let send_window = match body.send_window {
        Some(Some(w)) => {
            let parsed = SendWindow::from_json(&w).map_err(|e| {
                let field = e
                    .field()
                    .map_or("send_window".to_owned(), |f| format!("send_window.{f}"));
                ApiError::invalid_field(&field, e.to_string())
            })?;
            Some(Some(serde_json::to_value(parsed).unwrap_or(w)))
        }
        other => other,
    };
    let plan = CampaignPlan {
        scheduled_at,
        rate_cap: body.rate_cap,
        send_window,
    };
    let c = state.store.update_campaign_plan(app.id, id, &plan).await?;
    Ok(moved(&state, c).await)
}
