//! `/v1/accounts/{id}/templates`: templates in the shape of Meta's `message_templates` items, stored exactly as given.

use super::error::{ApiError, Json, Path, not_found};
use super::openapi;
use crate::auth::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
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
    let (items, single) = match body {
        Value::Array(items) => (items, false),
        Value::Object(ref obj) if obj.get("data").is_some_and(Value::is_array) => (
            obj.get("data").and_then(Value::as_array).cloned().unwrap_or_default(),
            false,
        ),
        other => (vec![other], true),
    };
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
