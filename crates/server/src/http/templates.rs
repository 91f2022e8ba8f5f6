//! `/v1/accounts/{id}/templates`: templates in the shape of Meta's `message_templates` items, stored exactly as given.

use super::error::{ApiError, Json, Path, not_found};
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
#[derive(Serialize)]
pub struct TemplateSummary {
    id: TemplateId,
    name: String,
    language: String,
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
