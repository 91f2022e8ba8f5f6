//! Jelou's "Send Bulk HSM" (seed `001`): `POST /v1/hsm/file` with Basic `clientId:clientSecret` (the app's name and
//! token), a JSON body with `fileUrl` or a multipart form with `file`, and Jelou's own answers:
//! `{"message": ["Campaign has been created."], "status": "success"}`, `{"message": [...], "status": "failed"}`,
//! and `{"message": "Authentication failed"}`.

use super::error::ApiError;
use super::openapi;
use super::uploads::{self, UploadInput};
use crate::auth::Caller;
use crate::ingestion::{IngestSpec, JELOU};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use pregon_core::ErrorCode;
use serde_json::{Value, json};

/// The Jelou path.
pub const PATH: &str = "/v1/hsm/file";

/// The Jelou route (under `/v1`).
pub fn routes() -> Router<AppState> {
    Router::new().route("/hsm/file", post(send_bulk))
}

/// The failure Jelou's document shows for an unknown or unapproved template.
pub const TEMPLATE_NOT_FOUND: &str = "Template not found or not approved";
/// The failure Jelou's document shows for a bad CSV.
pub const INVALID_CSV: &str = "Invalid CSV format";

/// Jelou's "Send Bulk HSM": a campaign from a CSV and one template.
#[utoipa::path(
    post, operation_id = "jelouSendBulkHsm", path = "/v1/hsm/file", tag = "jelou", security(("basic" = []), ("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A second upload with the same key creates \
        nothing and answers success again.")),
    request_body(content(
        (openapi::JelouForm = "multipart/form-data"),
        (openapi::JelouForm = "application/json"),
    ), description = "A multipart form with `file`, or the same fields as JSON with `fileUrl` (`params` and \
        `buttonPayloads` then as JSON arrays)."),
    responses(
        (status = 200, description = "`{\"message\": [\"Campaign has been created.\"], \"status\": \"success\"}`.",
            body = openapi::JelouAnswer, headers(
                ("Location" = String, description = "`/v1/campaigns/{id}` (Jelou's body has no id)."),
                ("X-Campaign-Id" = String, description = "The new campaign's id."),
            )),
        (status = 401, description = "`{\"message\": \"Authentication failed\"}`.", body = openapi::JelouAuthFailed),
        (status = 400, description = "The body does not parse: `status: failed` with the reason.",
            body = openapi::JelouAnswer),
        (status = 404, description = "`botId` names no account of the app: `status: failed`.",
            body = openapi::JelouAnswer),
        (status = 413, description = "The file is over the limit: `status: failed`.", body = openapi::JelouAnswer),
        (status = 415, description = "Neither JSON nor multipart: `status: failed`.", body = openapi::JelouAnswer),
        (status = 422, description = "`Invalid CSV format`, `Template not found or not approved`, or another \
            reason: `status: failed`.", body = openapi::JelouAnswer,
            example = json!({"message": ["Template not found or not approved"], "status": "failed"})),
    ),
)]
async fn send_bulk(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    request: Request,
) -> Result<Response, ApiError> {
    let key = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut input = UploadInput::read(&state, request, &["file"]).await?;
    let required = |name: &str| {
        input
            .text(name)
            .ok_or_else(|| ApiError::invalid_field(name, format!("{name} is required")))
    };
    let campaign_name = required("campaignName")?;
    let element_name = required("elementName")?;
    let bot_id = required("botId")?;
    let params = input.json("params")?.ok_or_else(|| {
        ApiError::invalid_field(
            "params",
            "params is required (an empty array when the template has none)",
        )
    })?;
    let kind = input.text("type").unwrap_or_else(|| "text".into());
    if !["text", "image", "document", "video"].contains(&kind.as_str()) {
        return Err(ApiError::invalid_field(
            "type",
            "type must be text, image, document or video",
        ));
    }
    let button_payloads = match input.json("buttonPayloads")? {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(|v| v.to_string()).collect(),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "buttonPayloads",
                "buttonPayloads must be an array",
            ));
        }
    };
    let scheduled_at = uploads::parse_schedule("scheduledAt", input.text("scheduledAt").as_deref())?;
    let account = uploads::resolve_account(&state, app.id, "botId", Some(&bot_id)).await?;
    uploads::check_template(&state, app.id, &account, &element_name, None)
        .await
        .map_err(|e| ApiError {
            message: TEMPLATE_NOT_FOUND.into(),
            ..e
        })?;
    let spec = IngestSpec {
        model: JELOU.into(),
        params,
        sheet: None,
        template: Some(element_name),
        language: None,
        media_url: if kind == "text" { None } else { input.text("mediaUrl") },
        media_type: if kind == "text" { None } else { Some(kind) },
        button_payloads,
    };
    spec.row_model().map_err(|e| ApiError::invalid_field("params", e))?;
    let file = input.take_file(&state).await?;
    let upload = uploads::Upload {
        account,
        name: campaign_name,
        spec,
        scheduled_at,
        idempotency_key: key,
        file,
        file_name: input.file_name.clone(),
    };
    let accepted = uploads::accept(&state, app.id, upload).await.map_err(|e| {
        let reason = e.details.as_ref().and_then(|d| d["reason"].as_str()).unwrap_or("");
        if e.code == ErrorCode::InvalidFile && ["invalid_header", "missing_header"].contains(&reason) {
            ApiError {
                message: INVALID_CSV.into(),
                ..e
            }
        } else {
            e
        }
    })?;
    let mut response = Json(json!({"message": ["Campaign has been created."], "status": "success"})).into_response();
    // Jelou's answer carries no id; these headers do, for clients that want to follow the campaign.
    if let Ok(v) = format!("/v1/campaigns/{}", accepted.campaign.id).parse() {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if let Ok(v) = accepted.campaign.id.to_string().parse() {
        response.headers_mut().insert("x-campaign-id", v);
    }
    Ok(response)
}

/// Rewrites every error of the Jelou route into Jelou's shapes, whichever layer produced it (the auth layer, a body
/// limit, the handler). The status codes stay those of the catalogue.
pub async fn jelou_shapes(request: Request, next: Next) -> Response {
    if request.uri().path() != PATH {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let status = response.status();
    if status.is_success() {
        return response;
    }
    if status == StatusCode::UNAUTHORIZED {
        return (status, Json(json!({"message": "Authentication failed"}))).into_response();
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let message = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let mut out = (status, Json(json!({"message": [message], "status": "failed"}))).into_response();
    if let Some(id) = parts.headers.get("x-request-id") {
        out.headers_mut().insert("x-request-id", id.clone());
    }
    out
}
