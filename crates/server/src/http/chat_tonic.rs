//! The Chat-Tonic compatible endpoints (seed `000`): `/api/v1/{app}/…`, where `{app}` is the caller's app name and
//! the token may come in the `Authorization` header or the query string.
//!
//! Here so far: the status query, `GET /api/v1/{app}/hsm?query={"campaignId":"…"}`. The document does not show its
//! answer; Pregon answers the campaign's status and counters and a page of its messages (`docs/api.md`).

use super::error::{ApiError, Json, Path, Query};
use super::page_limit;
use crate::auth::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Router};
use pregon_core::{CampaignId, ErrorCode, MessageId};
use pregon_store::MessageFilter;
use serde::Deserialize;
use serde_json::{Value, json};

/// The Chat-Tonic routes (mounted under `/api/v1`).
pub fn routes() -> Router<AppState> {
    Router::new().route("/{app}/hsm", get(status_query))
}

#[derive(Deserialize)]
struct StatusParams {
    query: Option<String>,
    cursor: Option<MessageId>,
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusQuery {
    campaign_id: Option<String>,
}

async fn status_query(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(app_name): Path<String>,
    Query(params): Query<StatusParams>,
) -> Result<Json<Value>, ApiError> {
    // Another app's name in the path is answered like an unknown path.
    if app_name != app.name {
        return Err(ApiError::not_found("app"));
    }
    let bad_query = |message: &str| {
        ApiError::new(ErrorCode::InvalidQuery, message).with_details(json!({"field": "query"}))
    };
    let raw = params
        .query
        .ok_or_else(|| bad_query("`query` is required, e.g. query={\"campaignId\":\"…\"}"))?;
    let query: StatusQuery = serde_json::from_str(&raw)
        .map_err(|e| bad_query(&format!("`query` is not a JSON object: {e}")))?;
    let campaign_id = query
        .campaign_id
        .ok_or_else(|| bad_query("`query` needs a `campaignId`"))?;
    let campaign_id: CampaignId = campaign_id
        .parse()
        .map_err(|_| ApiError::not_found("campaign"))?;
    let campaign = state
        .store
        .get_campaign(app.id, campaign_id)
        .await
        .map_err(super::error::not_found("campaign"))?;
    let limit = page_limit(params.limit);
    let filter = MessageFilter {
        status: None,
        after: params.cursor,
        limit,
    };
    let messages = state
        .store
        .list_messages(app.id, campaign_id, &filter)
        .await?;
    let next = (messages.len() == limit as usize)
        .then(|| messages.last().map(|m| m.id))
        .flatten();
    let hsms: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "phone": m.phone,
                "elementName": m.template_name,
                "languageCode": m.language,
                "flag": m.flag,
                "status": m.status,
                "providerMessageId": m.provider_message_id,
                "error": m.error_code.as_ref().map(|code| json!({"code": code, "message": m.error_message})),
                "sentAt": m.sent_at,
                "deliveredAt": m.delivered_at,
                "readAt": m.read_at,
                "failedAt": m.failed_at,
            })
        })
        .collect();
    Ok(Json(json!({
        "campaignId": campaign.id,
        "status": campaign.status,
        "counts": campaign.counts,
        "hsms": hsms,
        "nextCursor": next,
    })))
}
