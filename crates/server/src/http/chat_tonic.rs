//! The Chat-Tonic compatible endpoints (seed `000`): `/api/v1/{app}/…`, where `{app}` is the caller's app name and
//! the token may come in the `Authorization` header or the query string.
//!
//! Here so far: the status query, `GET /api/v1/{app}/hsm?query={"campaignId":"…"}`. The document does not show its
//! answer; Pregon answers the campaign's status and counters and a page of its messages (`docs/api.md`).

use super::error::{ApiError, Json, Path, Query};
use super::openapi;
use super::page_limit;
use super::uploads;
use crate::auth::Caller;
use crate::ingestion::{CHAT_TONIC, IngestSpec};
use crate::state::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Router};
use pregon_core::{CampaignId, ErrorCode, MessageId};
use pregon_store::MessageFilter;
use serde::Deserialize;
use serde_json::{Value, json};

/// The Chat-Tonic routes (mounted under `/api/v1`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{app}/hsm", get(status_query))
        .route("/{app}/hsm/campaign/upload", axum::routing::post(upload))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct UploadParams {
    /// `whatsapp-gupshup`, `whatsapp-infobip`, `whatsapp-clickatell`, `whatsapp-360dialog`, `whatsapp-cloud` or
    /// `whatsapp-sandbox`: must match the account's provider.
    platform: Option<String>,
    /// The account's id or name.
    account_id: Option<String>,
    /// When to start: ISO 8601 with an offset, in the future; none = as soon as it is read.
    date: Option<String>,
}

/// `POST /api/v1/{app}/hsm/campaign/upload?platform=&accountId=&date=` with the file in the multipart field
/// `upload`: the Chat-Tonic column model, per-row templates, sheet `campaign` in XLS/XLSX.
#[utoipa::path(
    post, operation_id = "chatTonicUploadCampaign", summary = "Chat-Tonic campaign upload", path = "/api/v1/{app}/hsm/campaign/upload", tag = "chat-tonic", security(("bearer" = []), ("basic" = []), ("query_token" = [])),
    params(
        ("app" = String, Path, description = "The app's name (the caller's)."),
        UploadParams,
        ("Idempotency-Key" = Option<String>, Header, description = "A second upload with the same key answers \
            `200` with the first campaign."),
    ),
    request_body(content = openapi::ChatTonicUploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Created; its rows are being read.", body = openapi::ChatTonicUploaded),
        (status = 200, description = "An earlier upload with the same `Idempotency-Key`: its campaign.",
            body = openapi::ChatTonicUploaded),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
async fn upload(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(app_name): Path<String>,
    Query(params): Query<UploadParams>,
    request: axum::extract::Request,
) -> Result<axum::response::Response, ApiError> {
    if app_name != app.name {
        return Err(ApiError::not_found("app"));
    }
    let key = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let account = uploads::resolve_account(&state, app.id, "accountId", params.account_id.as_deref()).await?;
    if let Some(platform) = params.platform.as_deref() {
        let expected = account.settings.provider.chat_tonic_platform();
        if Some(platform) != expected && platform != account.settings.provider.as_str() {
            return Err(ApiError::invalid_field(
                "platform",
                format!(
                    "the account is a {} account (platform `{}`), not `{platform}`",
                    account.settings.provider,
                    expected.unwrap_or("")
                ),
            ));
        }
    }
    let scheduled_at = uploads::parse_schedule("date", params.date.as_deref())?;
    let mut input = uploads::UploadInput::read(&state, request, &["upload"]).await?;
    if input.file.is_none() {
        return Err(ApiError::invalid_field(
            "upload",
            "send the campaign file in the multipart field `upload`",
        ));
    }
    let file = input.take_file(&state).await?;
    let spec = IngestSpec {
        model: CHAT_TONIC.into(),
        sheet: Some("campaign".into()),
        ..IngestSpec::default()
    };
    let name = input.file_name.clone().unwrap_or_else(|| "chat-tonic upload".into());
    let upload = uploads::Upload {
        account,
        name,
        spec,
        scheduled_at,
        idempotency_key: key,
        file,
        file_name: input.file_name.clone(),
    };
    let accepted = uploads::accept(&state, app.id, upload).await?;
    let status = if accepted.replayed {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::ACCEPTED
    };
    let c = accepted.campaign;
    let body = json!({
        "campaignId": c.id,
        "status": c.status,
        "scheduledAt": c.scheduled_at,
        "links": {"status": format!("/api/v1/{}/hsm?query={{\"campaignId\":\"{}\"}}", app.name, c.id), "campaign": format!("/v1/campaigns/{}", c.id)},
    });
    Ok((status, Json(body)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct StatusParams {
    /// JSON: `{"campaignId": "…"}` (required).
    query: Option<String>,
    /// The `nextCursor` of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    cursor: Option<MessageId>,
    /// Page size, 1–1000 (default 100).
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusQuery {
    campaign_id: Option<String>,
}

/// Chat-Tonic's status query: the campaign's status, counters and a page of its messages.
#[utoipa::path(
    get, operation_id = "chatTonicCampaignStatus", path = "/api/v1/{app}/hsm", tag = "chat-tonic", security(("bearer" = []), ("basic" = []), ("query_token" = [])),
    params(("app" = String, Path, description = "The app's name (the caller's)."), StatusParams),
    responses(
        (status = 200, description = "The campaign and a page of its messages.", body = openapi::ChatTonicStatus),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
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
    let bad_query =
        |message: &str| ApiError::new(ErrorCode::InvalidQuery, message).with_details(json!({"field": "query"}));
    let raw = params
        .query
        .ok_or_else(|| bad_query("`query` is required, e.g. query={\"campaignId\":\"…\"}"))?;
    let query: StatusQuery =
        serde_json::from_str(&raw).map_err(|e| bad_query(&format!("`query` is not a JSON object: {e}")))?;
    let campaign_id = query
        .campaign_id
        .ok_or_else(|| bad_query("`query` needs a `campaignId`"))?;
    let campaign_id: CampaignId = campaign_id.parse().map_err(|_| ApiError::not_found("campaign"))?;
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
    let messages = state.store.list_messages(app.id, campaign_id, &filter).await?;
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
