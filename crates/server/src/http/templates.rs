//! `/v1/accounts/{id}/templates`: templates in the shape of Meta's `message_templates` items, stored exactly as given.

use super::error::{ApiError, Json, Path, not_found};
use super::openapi;
use crate::auth::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Router};
use pregon_core::campaign::StoredTemplate;
use pregon_core::template::{Template, TemplateError};
use pregon_core::{AccountId, ErrorCode, TemplateId};
use serde::Serialize;
use serde_json::{Value, json};

/// The template routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{account}/templates", get(list).post(create))
        .route(
            "/accounts/{account}/templates/{template}",
            get(show).put(replace).delete(remove),
        )
        .route("/accounts/{account}/templates/sync", post(sync))
}

/// A template in account listings.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateSummary {
    /// Pregon's id.
    #[schema(value_type = uuid::Uuid)]
    id: TemplateId,
    /// Its name.
    name: String,
    /// Its language.
    language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, …
    status: String,
}

impl From<&StoredTemplate> for TemplateSummary {
    fn from(t: &StoredTemplate) -> Self {
        TemplateSummary {
            id: t.id,
            name: t.name.clone(),
            language: t.language.clone(),
            status: t.status.clone(),
        }
    }
}

/// The stored definition with Pregon's `id` (routes use it). A provider's own template id, if the definition had one,
/// is shown as `provider_id`.
fn view(t: &StoredTemplate) -> Value {
    let mut v = t.definition.clone();
    if let Some(obj) = v.as_object_mut() {
        if let Some(provider_id) = obj.remove("id") {
            obj.insert("provider_id".into(), provider_id);
        }
        obj.insert("id".into(), json!(t.id));
        obj.insert("account".into(), json!(t.account_id));
        obj.insert("created_at".into(), json!(t.created_at));
        obj.insert("updated_at".into(), json!(t.updated_at));
    }
    v
}

fn template_error(index: Option<usize>, e: TemplateError) -> ApiError {
    let path = match index {
        Some(i) => format!("[{i}].{}", e.path),
        None => e.path.clone(),
    };
    ApiError::new(ErrorCode::InvalidTemplate, format!("{path}: {}", e.reason)).with_details(json!({ "path": path }))
}

/// The templates of a body: one Meta item (`single`), an array of them, or a whole listing response.
fn items_of(body: Value) -> (Vec<Value>, bool) {
    match body {
        Value::Array(items) => (items, false),
        Value::Object(ref obj) if obj.get("data").is_some_and(Value::is_array) => (
            obj.get("data").and_then(Value::as_array).cloned().unwrap_or_default(),
            false,
        ),
        other => (vec![other], true),
    }
}

/// A definition as written to the store: Pregon's own fields removed so a template read back can be written again.
fn definition(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        // A body read from this API carries Pregon's id; the provider's own id, if any, is in `provider_id`.
        if obj.contains_key("account") || obj.contains_key("provider_id") {
            obj.remove("id");
        }
        for key in ["account", "created_at", "updated_at"] {
            obj.remove(key);
        }
        if let Some(provider_id) = obj.remove("provider_id") {
            obj.insert("id".into(), provider_id);
        }
    }
    v
}

/// The account's templates, as stored.
#[utoipa::path(
    get, operation_id = "listTemplates", path = "/v1/accounts/{account}/templates", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("account" = uuid::Uuid, Path, description = "The account's id.")),
    responses(
        (status = 200, description = "The templates.", body = openapi::TemplateList),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn list(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(account): Path<AccountId>,
) -> Result<Json<Value>, ApiError> {
    state
        .store
        .get_account(app.id, account)
        .await
        .map_err(not_found("account"))?;
    let templates = state.store.list_templates(app.id, account).await?;
    Ok(Json(json!({ "data": templates.iter().map(view).collect::<Vec<_>>() })))
}

/// Takes one Meta item, an array of them, or a whole listing response (`{"data": [...]}`), so an export can be
/// pasted as it is. Every definition is checked before any is stored.
#[utoipa::path(
    post, operation_id = "createTemplates", summary = "Add templates (one, several, or a pasted listing)", path = "/v1/accounts/{account}/templates", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("account" = uuid::Uuid, Path, description = "The account's id.")),
    request_body = openapi::TemplateInput,
    responses(
        (status = 201, description = "The template (for one definition) or `{\"data\": [...]}` (for several).",
            body = openapi::TemplateCreated),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
async fn create(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(account): Path<AccountId>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state
        .store
        .get_account(app.id, account)
        .await
        .map_err(not_found("account"))?;
    let (items, single) = items_of(body);
    if items.is_empty() {
        return Err(ApiError::invalid_field("data", "no template given"));
    }
    let mut parsed = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let item = definition(item);
        let template = Template::from_meta(&item).map_err(|e| template_error((!single).then_some(i), e))?;
        parsed.push((template, item));
    }
    let mut created = Vec::with_capacity(parsed.len());
    for (template, item) in &parsed {
        created.push(view(
            &state.store.create_template(app.id, account, template, item).await?,
        ));
    }
    let body = if single {
        created.pop().unwrap_or(Value::Null)
    } else {
        json!({ "data": created })
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// One template.
#[utoipa::path(
    get, operation_id = "getTemplate", path = "/v1/accounts/{account}/templates/{template}", tag = "native",
    security(("bearer" = []), ("basic" = [])),
    params(
        ("account" = uuid::Uuid, Path, description = "The account's id."),
        ("template" = uuid::Uuid, Path, description = "The template's id (Pregon's)."),
    ),
    responses(
        (status = 200, description = "The template.", body = openapi::Template),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn show(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path((account, id)): Path<(AccountId, TemplateId)>,
) -> Result<Json<Value>, ApiError> {
    let t = state
        .store
        .get_template(app.id, account, id)
        .await
        .map_err(not_found("template"))?;
    Ok(Json(view(&t)))
}

/// Replace a template's definition; what `GET` answers can be written back unchanged.
#[utoipa::path(
    put, operation_id = "replaceTemplate", path = "/v1/accounts/{account}/templates/{template}", tag = "native",
    security(("bearer" = []), ("basic" = [])),
    params(
        ("account" = uuid::Uuid, Path, description = "The account's id."),
        ("template" = uuid::Uuid, Path, description = "The template's id (Pregon's)."),
    ),
    request_body = openapi::TemplateDefinition,
    responses(
        (status = 200, description = "The template.", body = openapi::Template),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
async fn replace(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path((account, id)): Path<(AccountId, TemplateId)>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let item = definition(body);
    let template = Template::from_meta(&item).map_err(|e| template_error(None, e))?;
    let t = state
        .store
        .update_template(app.id, account, id, &template, &item)
        .await
        .map_err(not_found("template"))?;
    Ok(Json(view(&t)))
}

/// What a sync did.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SyncReport {
    /// Templates listed by the provider.
    listed: usize,
    /// New here.
    created: usize,
    /// Changed at the provider (status, components…), replaced here.
    updated: usize,
    /// The same as here.
    unchanged: usize,
    /// Here but no longer at the provider, deleted (only with `prune=true`).
    deleted: usize,
    /// Listed but not kept: each with its name, language and why (a definition that breaks WhatsApp's rules).
    skipped: Vec<Value>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncQuery {
    /// Delete the templates the provider no longer lists.
    prune: Option<bool>,
}

/// Bring the account's templates up to date with a listing: the one in the body (Meta `message_templates` items: an
/// array, one item, or a whole listing response), or, with no body, the provider's own (Meta:
/// `GET /{waba_id}/message_templates`, needs the `waba_id` credential; 360dialog: `GET /v1/configs/templates`; the
/// other providers have none). Templates are matched by name and language.
#[utoipa::path(
    post, operation_id = "syncTemplates", summary = "Read the account's templates from its provider",
    path = "/v1/accounts/{account}/templates/sync", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(
        ("account" = uuid::Uuid, Path, description = "The account's id."),
        ("prune" = Option<bool>, Query, description = "Also delete the templates the listing does not have."),
    ),
    request_body(content = Option<openapi::TemplateInput>, description = "A listing to sync from; none: the \
        provider's."),
    responses(
        (status = 200, description = "What changed.", body = SyncReport),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 422, response = openapi::Unprocessable),
        (status = 502, description = "`provider_error`: the provider refused the listing or did not answer.",
            body = openapi::ErrorBody),
    ),
)]
async fn sync(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(account): Path<AccountId>,
    super::error::Query(q): super::error::Query<SyncQuery>,
    body: axum::body::Bytes,
) -> Result<Json<SyncReport>, ApiError> {
    use pregon_providers::templates::ListError;
    let acc = state
        .store
        .get_account(app.id, account)
        .await
        .map_err(not_found("account"))?;
    let listed = if body.iter().all(u8::is_ascii_whitespace) {
        pregon_providers::templates::list(&acc, &state.provider_http, &state.config.sending.providers)
            .await
            .map_err(|e| match e {
                ListError::Unsupported(_) => ApiError::invalid_field("provider", e.to_string()),
                ListError::Setup(_) => ApiError::new(ErrorCode::InvalidAccount, e.to_string()),
                ListError::Refused { .. } | ListError::Unreadable(_) => {
                    ApiError::new(ErrorCode::ProviderError, e.to_string())
                }
            })?
    } else {
        let given: Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("the body is not JSON: {e}")))?;
        items_of(given).0
    };
    let mut report = SyncReport {
        listed: listed.len(),
        created: 0,
        updated: 0,
        unchanged: 0,
        deleted: 0,
        skipped: Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    for item in listed {
        let item = definition(item);
        let template = match Template::from_meta(&item) {
            Ok(t) => t,
            Err(e) => {
                report.skipped.push(json!({
                    "name": item.get("name"), "language": item.get("language"),
                    "reason": format!("{}: {}", e.path, e.reason),
                }));
                continue;
            }
        };
        seen.insert((template.name.clone(), template.language.clone()));
        match state
            .store
            .find_template(app.id, account, &template.name, &template.language)
            .await?
        {
            Some(stored) if stored.definition == item => report.unchanged += 1,
            Some(stored) => {
                state
                    .store
                    .update_template(app.id, account, stored.id, &template, &item)
                    .await?;
                report.updated += 1;
            }
            None => {
                state.store.create_template(app.id, account, &template, &item).await?;
                report.created += 1;
            }
        }
    }
    if q.prune == Some(true) {
        for stored in state.store.list_templates(app.id, account).await? {
            if !seen.contains(&(stored.name.clone(), stored.language.clone())) {
                state.store.delete_template(app.id, account, stored.id).await?;
                report.deleted += 1;
            }
        }
    }
    tracing::info!(account = %account, created = report.created, updated = report.updated, deleted = report.deleted, "templates synced");
    Ok(Json(report))
}

/// Delete a template.
#[utoipa::path(
    delete, operation_id = "deleteTemplate", path = "/v1/accounts/{account}/templates/{template}", tag = "native",
    security(("bearer" = []), ("basic" = [])),
    params(
        ("account" = uuid::Uuid, Path, description = "The account's id."),
        ("template" = uuid::Uuid, Path, description = "The template's id (Pregon's)."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn remove(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path((account, id)): Path<(AccountId, TemplateId)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .delete_template(app.id, account, id)
        .await
        .map_err(not_found("template"))?;
    Ok(StatusCode::NO_CONTENT)
}
