//! `GET /v1/accounts/{id}/templates/{name}/sample?format=csv|xlsx&model=chat_tonic|jelou&language=`: a ready-to-fill
//! campaign file for one template — the right columns and one example row — for the people who fill the files.

use super::error::{ApiError, Path, Query, not_found};
use super::openapi;
use crate::auth::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use pregon_core::template::{Button, Header, Template};
use pregon_core::{AccountId, ErrorCode};
use serde::Deserialize;

/// The sample route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/accounts/{account}/templates/{template}/sample", get(sample))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SampleQuery {
    /// `csv` (default) or `xlsx`.
    format: Option<String>,
    /// `chat_tonic` (default) or `jelou`.
    model: Option<String>,
    /// The template's language, when it has several (default: the account's).
    language: Option<String>,
}

/// The columns and the example row of a Chat-Tonic file for `t`.
pub fn chat_tonic_sample(t: &Template) -> (Vec<String>, Vec<String>) {
    let mut header: Vec<String> = [
        "phone",
        "namespace",
        "elementName",
        "languageCode",
        "languagePolicy",
        "flag",
        "buttonParameter",
        "media.from",
        "media.type",
        "media.url",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (media_type, media_url) = match &t.header {
        Some(Header::Image) => ("image", "https://example.com/image.jpg"),
        Some(Header::Video) => ("video", "https://example.com/video.mp4"),
        Some(Header::Document) => ("document", "https://example.com/file.pdf"),
        _ => ("", ""),
    };
    let button = if t.buttons.iter().any(Button::is_dynamic) {
        "order-1234"
    } else {
        ""
    };
    let mut row: Vec<String> = vec![
        "+5491123456789".into(),
        t.namespace.clone().unwrap_or_default(),
        t.name.clone(),
        t.language.clone(),
        "deterministic".into(),
        "customer-42".into(),
        button.into(),
        if media_url.is_empty() {
            String::new()
        } else {
            "URL".into()
        },
        media_type.into(),
        media_url.into(),
    ];
    for value in example_parameters(t) {
        header.push("parameter".into());
        row.push(value);
    }
    (header, row)
}

/// The columns and the example row of a Jelou file for `t`, with the `params` mapping that reads it.
pub fn jelou_sample(t: &Template) -> (Vec<String>, Vec<String>, serde_json::Value) {
    let mut header = vec!["phone_number".to_string()];
    let mut row = vec!["5491123456789".to_string()];
    let mut mapping = Vec::new();
    let values = example_parameters(t);
    let header_offset = usize::from(t.header_takes_text());
    for (i, value) in values.into_iter().enumerate() {
        let (param, column) = if i < header_offset {
            (0, "header_param".to_string())
        } else {
            (i + 1 - header_offset, format!("param_{}", i + 1 - header_offset))
        };
        mapping.push(serde_json::json!({"param": param, "column": column}));
        header.push(column);
        row.push(value);
    }
    (header, row, serde_json::Value::Array(mapping))
}

/// Example values, one per parameter slot (header text first): `value 1`, `value 2`, …
fn example_parameters(t: &Template) -> Vec<String> {
    let count = usize::from(t.header_takes_text()) + t.body_parameter_count();
    (1..=count).map(|i| format!("value {i}")).collect()
}

/// A ready-to-fill campaign file for one template: the right columns and one example row.
#[utoipa::path(
    get, operation_id = "getSampleFile", path = "/v1/accounts/{account}/templates/{template}/sample", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(
        ("account" = uuid::Uuid, Path, description = "The account's id."),
        ("template" = String, Path, description = "The template's name."),
        SampleQuery,
    ),
    responses(
        (status = 200, description = "The file, as an attachment. For the Jelou model, the `params` mapping that reads \
            it is in `X-Pregon-Params`.",
            headers(("X-Pregon-Params" = String, description = "Jelou model: the `params` JSON for an upload of this file.")),
            content(
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn sample(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path((account, name)): Path<(AccountId, String)>,
    Query(q): Query<SampleQuery>,
) -> Result<Response, ApiError> {
    let account = state
        .store
        .get_account(app.id, account)
        .await
        .map_err(not_found("account"))?;
    let book = crate::ingestion::template_book(&state.store, app.id, &account).await?;
    let template = book
        .find(
            &name,
            q.language.as_deref(),
            account.settings.default_language.as_deref(),
        )
        .map_err(|e| ApiError::new(ErrorCode::NotFound, e.to_string()))?
        .clone();
    let (header, row, mapping) = match q.model.as_deref().unwrap_or("chat_tonic") {
        "chat_tonic" => {
            let (h, r) = chat_tonic_sample(&template);
            (h, r, None)
        }
        "jelou" => {
            let (h, r, m) = jelou_sample(&template);
            (h, r, Some(m))
        }
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!("model `{other}` is not chat_tonic or jelou"),
            ));
        }
    };
    let file_stem = format!("{}-{}", template.name, template.language);
    let mut response = match q.format.as_deref().unwrap_or("csv") {
        "csv" => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&header)
                .and_then(|_| w.write_record(&row))
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
            let bytes = w
                .into_inner()
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{file_stem}.csv\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        "xlsx" => {
            let out = pregon_ingest::xlsx_writer::write_xlsx(
                std::io::Cursor::new(Vec::new()),
                "campaign",
                [header, row],
                false,
            )
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{file_stem}.xlsx\""),
                    ),
                ],
                out.into_inner(),
            )
                .into_response()
        }
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!("format `{other}` is not csv or xlsx"),
            ));
        }
    };
    if let Some(mapping) = mapping
        && let Ok(v) = mapping.to_string().parse()
    {
        // The `params` a Jelou upload of this file takes.
        response.headers_mut().insert("x-pregon-params", v);
    }
    Ok(response)
}
