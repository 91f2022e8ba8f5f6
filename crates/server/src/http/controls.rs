//! Campaign controls: pause, resume, cancel, retry-failed, and PATCH (start time, rate cap, send window).

use super::campaigns::CampaignView;
use super::error::{ApiError, Json, Path, not_found};
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
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    #[serde(default)]
    scheduled_at: Option<String>,
    #[serde(default, deserialize_with = "present")]
    rate_cap: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    send_window: Option<Option<Value>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

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
