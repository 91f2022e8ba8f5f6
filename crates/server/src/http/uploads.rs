//! Campaign uploads, shared by the native endpoint (`POST /v1/campaigns`, `/v1/campaigns/validate`) and the
//! Chat-Tonic and Jelou ones: read the request (multipart file or `file_url`), spool the file to disk, check that it
//! opens and that its header fits the row model, create the campaign with its file in one transaction, and wake the
//! ingestion worker. The rows are read after the `202`.

use super::campaigns::CampaignView;
use super::error::{ApiError, Json, not_found};
use super::openapi;
use crate::auth::Caller;
use crate::ingestion::{self, CHAT_TONIC, IngestSpec, JELOU};
use crate::spool::{SpoolError, SpooledFile};
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router, routing::post};
use chrono::{DateTime, Utc};
use pregon_core::campaign::{Account, Campaign, NewCampaign};
use pregon_core::{AccountId, AppId, ErrorCode};
use pregon_ingest::FileError;
use pregon_ingest::pipeline;
use pregon_store::StoreError;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use tower::{Layer, ServiceExt};

/// Room for the text fields beside the file in a multipart upload.
const FIELDS_ROOM: usize = 1024 * 1024;

/// `request` made ready for the multipart reader when it is a form, or given back as it came (`Err`) when it is not.
///
/// A body with a `boundary` is a form whatever its type says: Chat-Tonic's own example sends `curl --form` with
/// `-H 'Content-Type: application/json'`, which curl sends as `application/json; boundary=…`. The request's body limit
/// is raised from the JSON limit to the upload limit (plus room for the fields): the spool enforces the exact limit
/// on the file part, on the bytes as they arrive.
async fn as_multipart(mut request: Request, max_upload_bytes: u64) -> Result<Request, Request> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let is_form = content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data");
    let boundary = content_type
        .split(';')
        .skip(1)
        .filter_map(|param| param.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned());
    match (is_form, boundary) {
        (true, _) => {}
        (false, Some(boundary)) => {
            let form = format!("multipart/form-data; boundary=\"{boundary}\"");
            let Ok(value) = header::HeaderValue::from_str(&form) else {
                return Err(request);
            };
            request.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        (false, None) => return Err(request),
    }
    let limit = usize::try_from(max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(FIELDS_ROOM);
    let raise =
        DefaultBodyLimit::max(limit).layer(tower::service_fn(|r: Request| async move { Ok::<_, Infallible>(r) }));
    match raise.oneshot(request).await {
        Ok(request) => Ok(request),
        Err(never) => match never {},
    }
}

/// The native validation route (under `/v1`; `POST /v1/campaigns` is routed with the campaign list).
pub fn routes() -> Router<AppState> {
    Router::new().route("/campaigns/validate", post(validate))
}

/// An upload request, whatever its shape: the file (or its URL) and the text fields beside it.
#[derive(Default)]
pub struct UploadInput {
    /// The spooled file, if one was sent.
    pub file: Option<SpooledFile>,
    /// The file's name as sent, if any.
    pub file_name: Option<String>,
    /// A URL to fetch the file from instead.
    pub file_url: Option<String>,
    /// Every other field, as text (JSON values of a JSON body are kept as JSON text).
    pub fields: HashMap<String, String>,
}

impl UploadInput {
    /// A text field, trimmed, `None` when absent or empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.fields
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A JSON field (sent as JSON in a JSON body, or as JSON text in a multipart form).
    pub fn json(&self, name: &str) -> Result<Option<Value>, ApiError> {
        match self.text(name) {
            None => Ok(None),
            Some(t) => serde_json::from_str(&t)
                .map(Some)
                .map_err(|e| ApiError::invalid_field(name, format!("`{name}` is not valid JSON: {e}"))),
        }
    }

    /// Read a multipart form (`file_fields` name the file part: `file`, `upload`) or a JSON object.
    pub async fn read(state: &AppState, request: Request, file_fields: &[&str]) -> Result<UploadInput, ApiError> {
        // Refused before a byte of the body is read when the client says up front that it is too large.
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let most = state.config.max_upload_bytes.saturating_add(FIELDS_ROOM as u64);
        if let Some(length) = declared.filter(|length| *length > most) {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the upload is {length} bytes: the most this server takes is {most}"),
            ));
        }
        let mut input = UploadInput::default();
        match as_multipart(request, state.config.max_upload_bytes).await {
            Ok(request) => input.read_multipart(state, request, file_fields).await?,
            Err(request) => input.read_json(state, request).await?,
        }
        input.file_url = input.text("file_url").or_else(|| input.text("fileUrl"));
        Ok(input)
    }

    async fn read_multipart(
        &mut self,
        state: &AppState,
        request: Request,
        file_fields: &[&str],
    ) -> Result<(), ApiError> {
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.body_text()))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("malformed multipart body: {e}")))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            if file_fields.contains(&name.as_str()) {
                self.file_name = field.file_name().map(str::to_owned);
                let spooled = crate::spool::spool_field(field, &state.config.spool_dir, state.config.max_upload_bytes)
                    .await
                    .map_err(spool_error)?;
                self.file = Some(spooled);
            } else {
                let text = field
                    .text()
                    .await
                    .map_err(|e| ApiError::invalid_field(&name, format!("cannot read `{name}`: {e}")))?;
                self.fields.insert(name, text);
            }
        }
        Ok(())
    }

    async fn read_json(&mut self, state: &AppState, request: Request) -> Result<(), ApiError> {
        let Json(body): Json<Value> = Json::from_request(request, state).await?;
        let Value::Object(map) = body else {
            return Err(ApiError::new(ErrorCode::InvalidJson, "the body must be a JSON object"));
        };
        for (k, v) in map {
            let text = match v {
                Value::String(s) => s,
                Value::Null => continue,
                other => other.to_string(),
            };
            self.fields.insert(k, text);
        }
        Ok(())
    }

    /// The file: the uploaded one, or the one fetched from `file_url`.
    pub async fn take_file(&mut self, state: &AppState) -> Result<SpooledFile, ApiError> {
        if let Some(file) = self.file.take() {
            return Ok(file);
        }
        let Some(url) = self.file_url.clone() else {
            return Err(ApiError::invalid_field(
                "file",
                "send the campaign file as a multipart `file` part, or its `file_url`",
            ));
        };
        let file = state.fetcher.fetch(&url, &state.config.spool_dir).await.map_err(|e| {
            let code = match e {
                crate::fetch::FetchError::TooLarge { .. } => ErrorCode::PayloadTooLarge,
                _ => ErrorCode::FetchFailed,
            };
            ApiError::new(code, e.to_string()).with_details(json!({"field": "file_url"}))
        })?;
        if self.file_name.is_none() {
            self.file_name = url::Url::parse(&url)
                .ok()
                .and_then(|u| u.path_segments().and_then(|mut s| s.next_back().map(str::to_owned)))
                .filter(|s| !s.is_empty());
        }
        Ok(file)
    }
}

fn spool_error(e: SpoolError) -> ApiError {
    match e {
        SpoolError::TooLarge { limit } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the file is larger than the limit of {limit} bytes"),
        ),
        SpoolError::Source(m) => ApiError::new(ErrorCode::InvalidRequest, format!("the upload broke off: {m}")),
        SpoolError::Io(e) => {
            tracing::error!(error = %e, "cannot spool an upload");
            ApiError::new(ErrorCode::Internal, "cannot store the upload")
        }
    }
}

/// A file error as an API error, with its stable reason.
pub fn file_error(e: &FileError) -> ApiError {
    ApiError::new(ErrorCode::InvalidFile, e.to_string()).with_details(json!({"reason": e.reason()}))
}

/// `scheduled_at` / `date` / `scheduledAt`: ISO 8601 with an offset, in the future; none means now.
pub fn parse_schedule(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let invalid =
        |message: String| ApiError::new(ErrorCode::InvalidSchedule, message).with_details(json!({"field": field}));
    let at = DateTime::parse_from_rfc3339(value)
        .map_err(|_| {
            invalid(format!(
                "`{field}` must be an ISO 8601 time with an offset, like 2026-12-01T09:00:00-03:00"
            ))
        })?
        .with_timezone(&Utc);
    if at <= Utc::now() {
        return Err(invalid(format!(
            "`{field}` ({value}) is in the past; give a future time, or none to start now"
        )));
    }
    Ok(Some(at))
}

/// The account named by id or by name.
pub async fn resolve_account(
    state: &AppState,
    app: AppId,
    field: &str,
    value: Option<&str>,
) -> Result<Account, ApiError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Err(ApiError::invalid_field(
            field,
            format!("`{field}` is required: the id or name of a provider account"),
        ));
    };
    if let Ok(id) = value.parse::<AccountId>() {
        return state.store.get_account(app, id).await.map_err(not_found("account"));
    }
    state
        .store
        .list_accounts(app)
        .await?
        .into_iter()
        .find(|a| a.settings.name == value)
        .ok_or_else(|| ApiError::not_found("account"))
}

/// What to create.
pub struct Upload {
    /// The account it sends through.
    pub account: Account,
    /// Its name.
    pub name: String,
    /// How to read the file.
    pub spec: IngestSpec,
    /// When it starts.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The client's `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// The file.
    pub file: SpooledFile,
    /// The file's name.
    pub file_name: Option<String>,
}

/// The outcome of an accepted upload.
pub struct Accepted {
    /// The campaign.
    pub campaign: Campaign,
    /// True when an earlier upload with the same `Idempotency-Key` created it.
    pub replayed: bool,
}

/// Check the file (it opens, its header fits), then create the campaign with its file and wake the worker.
pub async fn accept(state: &AppState, app: AppId, upload: Upload) -> Result<Accepted, ApiError> {
    if let Some(key) = &upload.idempotency_key
        && let Some(existing) = state.store.campaign_by_idempotency_key(app, key).await?
    {
        return Ok(Accepted {
            campaign: existing,
            replayed: true,
        });
    }
    let model = upload
        .spec
        .row_model()
        .map_err(|e| ApiError::invalid_field("params", e))?;
    if let Some(template) = &upload.spec.template {
        check_template(state, app, &upload.account, template, upload.spec.language.as_deref()).await?;
    }
    let open = pregon_ingest::source::OpenOptions {
        sheet: upload.spec.sheet.clone(),
        limits: ingestion::limits(state),
    };
    let path = upload.file.path().to_owned();
    let (format, wrapped_in) = tokio::task::spawn_blocking(move || pipeline::precheck(&path, &model, &open))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("the file check crashed: {e}")))?
        .map_err(|e| file_error(&e))?;
    let source = json!({
        "name": upload.file_name,
        "size": upload.file.size(),
        "sha256": upload.file.sha256(),
        "format": format.as_str(),
        "wrapped_in": wrapped_in.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
    });
    let new = NewCampaign {
        account_id: upload.account.id,
        name: upload.name,
        template_name: upload.spec.template.clone(),
        language: upload.spec.language.clone(),
        scheduled_at: upload.scheduled_at,
        options: serde_json::to_value(&upload.spec).unwrap_or(Value::Null),
        source: Some(source),
        idempotency_key: upload.idempotency_key.clone(),
    };
    let campaign = match state
        .store
        .create_campaign_with_upload(app, &new, upload.file.path())
        .await
    {
        Ok(c) => c,
        // Two uploads with the same key at once: the other one won.
        Err(StoreError::Conflict(_)) if upload.idempotency_key.is_some() => {
            let key = upload.idempotency_key.as_deref().unwrap_or_default();
            let existing = state
                .store
                .campaign_by_idempotency_key(app, key)
                .await?
                .ok_or_else(|| ApiError::not_found("campaign"))?;
            return Ok(Accepted {
                campaign: existing,
                replayed: true,
            });
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(campaign = %campaign.id, size = upload.file.size(), format = format.as_str(), "upload accepted");
    state.ingest_wake.notify_one();
    Ok(Accepted {
        campaign,
        replayed: false,
    })
}

/// The campaign template must exist (in the language asked, or the account's default, or its only one) and be
/// approved.
pub async fn check_template(
    state: &AppState,
    app: AppId,
    account: &Account,
    name: &str,
    language: Option<&str>,
) -> Result<(), ApiError> {
    let book = ingestion::template_book(&state.store, app, account).await?;
    let template = book
        .find(name, language, account.settings.default_language.as_deref())
        .map_err(|e| ApiError::invalid_field("template", e.to_string()))?;
    if !template.is_sendable() {
        return Err(ApiError::invalid_field(
            "template",
            format!("the template `{name}` is {}, not APPROVED", template.status),
        ));
    }
    Ok(())
}

/// The native spec from the form: a `template` makes it the Jelou-style mapping model, else Chat-Tonic columns.
/// Public so that `pregon validate` reads the fields the CLI would upload exactly as this endpoint does.
pub fn native_spec(input: &UploadInput) -> Result<IngestSpec, ApiError> {
    let template = input.text("template");
    let button_payloads = match input.json("button_payloads")? {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
            .collect(),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "button_payloads",
                "`button_payloads` must be an array",
            ));
        }
    };
    Ok(IngestSpec {
        model: if template.is_some() {
            JELOU.into()
        } else {
            CHAT_TONIC.into()
        },
        params: input.json("params")?.unwrap_or(Value::Null),
        sheet: if template.is_some() {
            input.text("sheet")
        } else {
            Some("campaign".into())
        },
        template,
        language: input.text("language"),
        media_url: input.text("media_url"),
        media_type: input.text("media_type"),
        button_payloads,
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let key = v.to_str().map(str::trim).unwrap_or("");
            if key.is_empty() || key.len() > 255 {
                return Err(ApiError::invalid_field(
                    "Idempotency-Key",
                    "the Idempotency-Key header must be 1 to 255 characters",
                ));
            }
            Ok(Some(key.to_owned()))
        }
    }
}

/// The response to an accepted upload: `202` (or `200` when replayed) with the campaign.
pub fn accepted_response(accepted: Accepted) -> Response {
    let status = if accepted.replayed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let location = format!("/v1/campaigns/{}", accepted.campaign.id);
    let mut response = (status, Json(CampaignView::from(accepted.campaign))).into_response();
    if let Ok(v) = location.parse() {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if accepted.replayed
        && let Ok(v) = "true".parse()
    {
        response.headers_mut().insert("idempotent-replayed", v);
    }
    response
}

/// `POST /v1/campaigns`.
#[utoipa::path(
    post, operation_id = "uploadCampaign", summary = "Upload a campaign file", path = "/v1/campaigns", tag = "native", security(("bearer" = []), ("basic" = [])),
    description = "Upload a campaign file (or its `file_url`). The file is checked before the answer (it opens, its \
        header fits the row model): a broken file is `422 invalid_file` and nothing is created. Rows are read after \
        the answer; follow the campaign from `ingesting` to `scheduled`.",
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 characters: a second upload with the \
        same key answers `200` with the first campaign instead of creating another.")),
    request_body(content(
        (openapi::UploadForm = "multipart/form-data"),
        (openapi::UploadJson = "application/json"),
    )),
    responses(
        (status = 202, description = "Created; its rows are being read.", body = CampaignView,
            headers(("Location" = String, description = "`/v1/campaigns/{id}`"))),
        (status = 200, description = "An earlier upload with the same `Idempotency-Key`: its campaign.",
            body = CampaignView, headers(
                ("Location" = String, description = "`/v1/campaigns/{id}`"),
                ("Idempotent-Replayed" = String, description = "`true`"),
            )),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    request: Request,
) -> Result<Response, ApiError> {
    let key = idempotency_key(request.headers())?;
    let mut input = UploadInput::read(&state, request, &["file"]).await?;
    let account = resolve_account(&state, app.id, "account", input.text("account").as_deref()).await?;
    let scheduled_at = parse_schedule("scheduled_at", input.text("scheduled_at").as_deref())?;
    let spec = native_spec(&input)?;
    let file = input.take_file(&state).await?;
    let name = input
        .text("name")
        .or(input.file_name.clone())
        .unwrap_or_else(|| format!("campaign {}", Utc::now().format("%Y-%m-%d %H:%M")));
    let upload = Upload {
        account,
        name,
        spec,
        scheduled_at,
        idempotency_key: key,
        file,
        file_name: input.file_name.clone(),
    };
    Ok(accepted_response(accept(&state, app.id, upload).await?))
}

/// How many rejections a validation report lists (the counts cover them all).
pub const REPORT_REJECTIONS: usize = 1000;

/// Check a file as an upload would, store nothing, and report every row's fate.
#[utoipa::path(
    post, operation_id = "validateCampaignFile", path = "/v1/campaigns/validate", tag = "native", security(("bearer" = []), ("basic" = [])),
    request_body(content(
        (openapi::UploadForm = "multipart/form-data"),
        (openapi::UploadJson = "application/json"),
    )),
    responses(
        (status = 200, description = "The report: counts over every row, the first 1,000 rejections.",
            body = openapi::ValidationReport),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 413, response = openapi::PayloadTooLarge),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
async fn validate(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let mut input = UploadInput::read(&state, request, &["file"]).await?;
    let account = resolve_account(&state, app.id, "account", input.text("account").as_deref()).await?;
    parse_schedule("scheduled_at", input.text("scheduled_at").as_deref())?;
    let spec = native_spec(&input)?;
    if let Some(template) = &spec.template {
        check_template(&state, app.id, &account, template, spec.language.as_deref()).await?;
    }
    let file = input.take_file(&state).await?;
    let options = spec
        .pipeline_options(&account, ingestion::limits(&state), 0)
        .map_err(|e| ApiError::invalid_field("params", e))?;
    let book = ingestion::template_book(&state.store, app.id, &account).await?;
    let opted_out = state.store.opted_out(app.id).await?;
    let report = tokio::task::spawn_blocking(move || {
        let mut rejections = Vec::new();
        let summary = pipeline::run(file.path(), book, opted_out, &options, |batch| {
            let room = REPORT_REJECTIONS.saturating_sub(rejections.len());
            rejections.extend(batch.rejections.into_iter().take(room));
            // Late duplicates may belong among the first rows listed.
            rejections.extend(batch.withdrawn);
            Ok::<_, std::convert::Infallible>(())
        });
        drop(file);
        rejections.sort_by_key(|r| r.row_number);
        rejections.truncate(REPORT_REJECTIONS);
        summary.map(|s| (s, rejections))
    })
    .await
    .map_err(|e| ApiError::new(ErrorCode::Internal, format!("validation crashed: {e}")))?;
    let (summary, rejections) = report.map_err(|e| match e {
        pipeline::PipelineError::File(f) => file_error(&f),
        pipeline::PipelineError::Sink(never) => match never {},
    })?;
    Ok(Json(json!({
        "summary": summary,
        "rejections": rejections,
        "rejections_listed": rejections.len(),
    })))
}
