//! `/v1/accounts`: provider accounts. Credentials are write-only: responses say which keys are set, never a value.

use super::error::{ApiError, Json, Path, not_found};
use super::openapi::{self, AccountLinksSchema, ProviderSchema};
use super::templates::TemplateSummary;
use crate::auth::Caller;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Router};
use pregon_core::account::{AccountError, AccountSettings, Credentials};
use pregon_core::campaign::Account;
use pregon_core::{AccountId, AppId, ErrorCode, ProviderKind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The account routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts/{account}", get(show).patch(update).delete(remove))
}

/// `POST /v1/accounts`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "main", "provider": "meta", "sender": "106540352242922",
    "credentials": {"access_token": "…", "app_secret": "…", "verify_token": "…", "waba_id": "…"},
    "rate_per_second": 80}))]
pub struct CreateAccount {
    /// Unique within the app.
    name: String,
    /// `meta`, `gupshup`, `infobip`, `360dialog`, `clickatell`, `sandbox` (or a Chat-Tonic platform name).
    provider: String,
    /// The sending number: Meta's phone-number id, the others' number; optional for the sandbox.
    #[serde(default)]
    sender: Option<String>,
    /// Write-only. Meta: `access_token` (+ `app_secret`, `verify_token`, `waba_id`); Gupshup: `api_key`,
    /// `app_name`; Infobip, 360dialog, Clickatell: `api_key`; each but Meta: optional `webhook_secret`. Unknown keys
    /// are refused.
    #[serde(default)]
    credentials: BTreeMap<String, String>,
    /// Messages per second (default 80, at most 10,000).
    #[serde(default)]
    rate_per_second: Option<u32>,
    /// Requests in flight (default 16, at most 1,000).
    #[serde(default)]
    concurrency: Option<u32>,
    /// Messages per day; none = no cap.
    #[serde(default)]
    daily_cap: Option<u32>,
    /// The provider's API address (default: the provider's own; required for Infobip).
    #[serde(default)]
    base_url: Option<String>,
    /// The language of rows that name none, and of Jelou uploads.
    #[serde(default)]
    default_language: Option<String>,
    /// ISO country of numbers written without a country code.
    #[serde(default)]
    default_region: Option<String>,
}

/// `PATCH /v1/accounts/{id}`: only the fields given change. `credentials` merges: a key set to `null` is removed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// A new name.
    #[serde(default)]
    name: Option<String>,
    /// Accepted only when it is the account's provider: a provider cannot change.
    #[serde(default)]
    provider: Option<String>,
    /// A new sender.
    #[serde(default)]
    sender: Option<String>,
    /// Merged key by key; a key set to `null` is removed.
    #[serde(default)]
    credentials: Option<BTreeMap<String, Option<String>>>,
    /// Messages per second.
    #[serde(default)]
    rate_per_second: Option<u32>,
    /// Requests in flight.
    #[serde(default)]
    concurrency: Option<u32>,
    /// `null` removes the cap.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<u32>)]
    daily_cap: Option<Option<u32>>,
    /// `null` goes back to the provider's own.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    base_url: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    default_language: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    default_region: Option<Option<String>>,
}

/// Distinguishes a field set to `null` (clear it) from a missing one (leave it).
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// An account as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = Account)]
pub struct AccountView {
    /// Its id.
    #[schema(value_type = uuid::Uuid)]
    id: AccountId,
    /// Its name.
    name: String,
    /// Its provider.
    #[schema(value_type = ProviderSchema)]
    provider: ProviderKind,
    /// The sending number.
    sender: String,
    /// Messages per second.
    rate_per_second: u32,
    /// Requests in flight.
    concurrency: u32,
    /// Messages per day, if capped.
    daily_cap: Option<u32>,
    /// The provider's API address, if not the default.
    base_url: Option<String>,
    /// The language of rows that name none.
    default_language: Option<String>,
    /// ISO country of numbers without a country code.
    default_region: Option<String>,
    /// The names of the credentials set; never their values.
    credentials_set: Vec<String>,
    /// Its templates.
    templates: Vec<TemplateSummary>,
    /// When it was created.
    created_at: chrono::DateTime<chrono::Utc>,
    /// When it last changed.
    updated_at: chrono::DateTime<chrono::Utc>,
    /// Where to read more, and the webhook URL to register with the provider.
    #[schema(value_type = AccountLinksSchema)]
    links: serde_json::Value,
}

fn account_error(e: AccountError) -> ApiError {
    let field = match &e {
        AccountError::MissingCredential { key, .. } => format!("credentials.{key}"),
        AccountError::UnknownCredential { key, .. } => format!("credentials.{key}"),
        AccountError::Invalid { field, .. } => (*field).to_owned(),
    };
    ApiError::new(ErrorCode::InvalidAccount, e.to_string()).with_details(json!({ "field": field }))
}

fn parse_provider(s: &str) -> Result<ProviderKind, ApiError> {
    s.parse().map_err(|e: pregon_core::account::UnknownProvider| {
        ApiError::new(ErrorCode::InvalidAccount, e.to_string()).with_details(json!({"field": "provider"}))
    })
}

fn check(state: &AppState, settings: &AccountSettings, credentials: &Credentials) -> Result<(), ApiError> {
    settings.validate().map_err(account_error)?;
    credentials.check(settings.provider).map_err(account_error)?;
    // The senders dial `base_url`: like `file_url`, it may not name an internal address unless the server allows it
    // (names that resolve to one are refused by the senders' resolver).
    if !state.config.fetch_allow_private
        && let Some(base) = &settings.base_url
        && let Some(reason) = url::Url::parse(base)
            .ok()
            .and_then(|u| u.host().map(|h| h.to_string()))
            .and_then(|host| pregon_core::address::host_reason(&host))
    {
        return Err(ApiError::invalid_field(
            "base_url",
            format!("`{base}` points at {reason}: allowed only when the server runs with fetch_allow_private"),
        ));
    }
    Ok(())
}

async fn view(state: &AppState, app: AppId, account: Account) -> Result<AccountView, ApiError> {
    let templates = state.store.list_templates(app, account.id).await?;
    let id = account.id;
    let provider = account.settings.provider;
    Ok(AccountView {
        id,
        credentials_set: account.credentials.keys().map(str::to_owned).collect(),
        templates: templates.iter().map(TemplateSummary::from).collect(),
        links: json!({
            "self": format!("/v1/accounts/{id}"),
            "templates": format!("/v1/accounts/{id}/templates"),
            "webhook": format!("/webhooks/{provider}/{id}"),
        }),
        name: account.settings.name,
        provider,
        sender: account.settings.sender,
        rate_per_second: account.settings.rate_per_second,
        concurrency: account.settings.concurrency,
        daily_cap: account.settings.daily_cap,
        base_url: account.settings.base_url,
        default_language: account.settings.default_language,
        default_region: account.settings.default_region,
        created_at: account.created_at,
        updated_at: account.updated_at,
    })
}

/// The app's accounts.
#[utoipa::path(
    get, operation_id = "listAccounts", path = "/v1/accounts", tag = "native", security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "Every account of the app.", body = openapi::AccountList),
        (status = 401, response = openapi::Unauthorized),
    ),
)]
async fn list(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut data = Vec::new();
    for account in state.store.list_accounts(app.id).await? {
        data.push(view(&state, app.id, account).await?);
    }
    Ok(Json(json!({ "data": data })))
}

/// Add a provider account.
#[utoipa::path(
    post, operation_id = "createAccount", path = "/v1/accounts", tag = "native", security(("bearer" = []), ("basic" = [])),
    request_body = CreateAccount,
    responses(
        (status = 201, description = "The account.", body = AccountView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 409, response = openapi::Conflict),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
async fn create(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Json(input): Json<CreateAccount>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let provider = parse_provider(&input.provider)?;
    let settings = AccountSettings {
        name: input.name.trim().to_owned(),
        provider,
        // The sandbox has no real sender; everything else must say which number sends.
        sender: input.sender.unwrap_or_else(|| {
            if provider == ProviderKind::Sandbox {
                "sandbox".into()
            } else {
                String::new()
            }
        }),
        rate_per_second: input
            .rate_per_second
            .unwrap_or(AccountSettings::DEFAULT_RATE_PER_SECOND),
        concurrency: input.concurrency.unwrap_or(AccountSettings::DEFAULT_CONCURRENCY),
        daily_cap: input.daily_cap,
        base_url: input.base_url,
        default_language: input.default_language,
        default_region: input.default_region,
    };
    let credentials = Credentials::new(input.credentials);
    check(&state, &settings, &credentials)?;
    let account = state.store.create_account(app.id, &settings, &credentials).await?;
    tracing::info!(account = %account.id, provider = %provider, "account created");
    Ok((StatusCode::CREATED, Json(view(&state, app.id, account).await?)))
}

/// One account: settings, which credentials are set, templates, links.
#[utoipa::path(
    get, operation_id = "getAccount", path = "/v1/accounts/{account}", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("account" = uuid::Uuid, Path, description = "The account's id.")),
    responses(
        (status = 200, description = "The account.", body = AccountView),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
    ),
)]
async fn show(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<AccountId>,
) -> Result<Json<AccountView>, ApiError> {
    let account = state
        .store
        .get_account(app.id, id)
        .await
        .map_err(not_found("account"))?;
    Ok(Json(view(&state, app.id, account).await?))
}

/// Change the fields given; the provider cannot change.
#[utoipa::path(
    patch, operation_id = "updateAccount", path = "/v1/accounts/{account}", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("account" = uuid::Uuid, Path, description = "The account's id.")),
    request_body = UpdateAccount,
    responses(
        (status = 200, description = "The account.", body = AccountView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
async fn update(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<AccountId>,
    Json(input): Json<UpdateAccount>,
) -> Result<Json<AccountView>, ApiError> {
    let current = state
        .store
        .get_account(app.id, id)
        .await
        .map_err(not_found("account"))?;
    if let Some(p) = input.provider.as_deref()
        && parse_provider(p)? != current.settings.provider
    {
        return Err(ApiError::new(
            ErrorCode::InvalidAccount,
            "an account's provider cannot change; create a new account",
        )
        .with_details(json!({"field": "provider"})));
    }
    let mut settings = current.settings.clone();
    if let Some(v) = input.name {
        settings.name = v.trim().to_owned();
    }
    if let Some(v) = input.sender {
        settings.sender = v;
    }
    if let Some(v) = input.rate_per_second {
        settings.rate_per_second = v;
    }
    if let Some(v) = input.concurrency {
        settings.concurrency = v;
    }
    if let Some(v) = input.daily_cap {
        settings.daily_cap = v;
    }
    if let Some(v) = input.base_url {
        settings.base_url = v;
    }
    if let Some(v) = input.default_language {
        settings.default_language = v;
    }
    if let Some(v) = input.default_region {
        settings.default_region = v;
    }
    let mut credentials = current.credentials.into_map();
    for (key, value) in input.credentials.unwrap_or_default() {
        match value {
            Some(v) => credentials.insert(key, v),
            None => credentials.remove(&key),
        };
    }
    let credentials = Credentials::new(credentials);
    check(&state, &settings, &credentials)?;
    let account = state.store.update_account(app.id, id, &settings, &credentials).await?;
    Ok(Json(view(&state, app.id, account).await?))
}

/// Delete an account that no campaign uses.
#[utoipa::path(
    delete, operation_id = "deleteAccount", path = "/v1/accounts/{account}", tag = "native", security(("bearer" = []), ("basic" = [])),
    params(("account" = uuid::Uuid, Path, description = "The account's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 409, response = openapi::Conflict),
    ),
)]
async fn remove(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path(id): Path<AccountId>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .delete_account(app.id, id)
        .await
        .map_err(not_found("account"))?;
    Ok(StatusCode::NO_CONTENT)
}
