//! An account's templates as its provider lists them, for `POST /v1/accounts/{id}/templates/sync`: Meta's
//! `GET /{version}/{waba_id}/message_templates` with cursor paging (providers.md §1.8) and 360dialog's
//! `GET /v1/configs/templates` (`waba_templates`). Both give Meta-shaped items, which is what Pregon stores. The other
//! providers document no such listing: their templates are added through the API or from a file.

use crate::{ProviderConfig, ProviderError, classify, dialog360, meta};
use pregon_core::ProviderKind;
use pregon_core::campaign::Account;
use serde_json::Value;

/// The most templates one sync reads (Meta allows 250 per WABA, 6,000 with a verified business).
pub const MAX_TEMPLATES: usize = 10_000;
/// Meta's page size for the listing.
const PAGE: usize = 100;
/// What Meta is asked to return of each template.
const FIELDS: &str = "name,status,category,language,components,parameter_format";

/// Why the templates could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The provider has no template listing Pregon can read.
    #[error("{0} has no template listing Pregon can read: add its templates through the API or from a file")]
    Unsupported(ProviderKind),
    /// A credential or setting is missing (for Meta: `waba_id`).
    #[error(transparent)]
    Setup(#[from] ProviderError),
    /// The provider refused (its status and message).
    #[error("{provider} answered {status}: {message}")]
    Refused {
        /// The provider.
        provider: ProviderKind,
        /// The HTTP status.
        status: u16,
        /// The provider's error message, or the start of its body.
        message: String,
    },
    /// The request did not get an answer, or the answer was not the documented JSON.
    #[error("{0}")]
    Unreadable(String),
}

/// The account's templates, as the provider lists them (Meta's `message_templates` items).
pub async fn list(account: &Account, http: &reqwest::Client, config: &ProviderConfig) -> Result<Vec<Value>, ListError> {
    match account.settings.provider {
        ProviderKind::Meta => meta_listing(account, http, config).await,
        ProviderKind::Dialog360 => dialog360_listing(account, http, config).await,
        other => Err(ListError::Unsupported(other)),
    }
}

async fn meta_listing(
    account: &Account,
    http: &reqwest::Client,
    config: &ProviderConfig,
) -> Result<Vec<Value>, ListError> {
    let token = classify::credential(account, "access_token")?;
    let waba = classify::credential(account, "waba_id")?;
    let base = classify::base_url(account, meta::DEFAULT_BASE_URL);
    let version = config.meta_api_version.trim().trim_matches('/');
    let url = format!("{base}/{version}/{waba}/message_templates");
    let mut templates = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut page_url = reqwest::Url::parse(&url).map_err(|e| ListError::Unreadable(format!("`{url}`: {e}")))?;
        {
            let mut query = page_url.query_pairs_mut();
            query
                .append_pair("fields", FIELDS)
                .append_pair("limit", &PAGE.to_string());
            // Paging follows the `after` cursor on our own URL rather than `paging.next`: the next page is then
            // always asked of the account's host, wherever an answer says to go.
            if let Some(cursor) = &after {
                query.append_pair("after", cursor);
            }
        }
        let request = http.get(page_url).bearer_auth(token).timeout(config.request_timeout);
        let page = fetch(ProviderKind::Meta, request).await?;
        let items = page
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| ListError::Unreadable("Meta's answer has no `data` array".into()))?;
        templates.extend(items.iter().cloned());
        if templates.len() > MAX_TEMPLATES {
            return Err(ListError::Unreadable(format!("more than {MAX_TEMPLATES} templates")));
        }
        let next = page.pointer("/paging/next").is_some_and(|n| !n.is_null());
        match page.pointer("/paging/cursors/after").and_then(Value::as_str) {
            Some(cursor) if next && !items.is_empty() && after.as_deref() != Some(cursor) => {
                after = Some(cursor.to_owned());
            }
            _ => return Ok(templates),
        }
    }
}

async fn dialog360_listing(
    account: &Account,
    http: &reqwest::Client,
    config: &ProviderConfig,
) -> Result<Vec<Value>, ListError> {
    let key = classify::credential(account, "api_key")?;
    let base = classify::base_url(account, dialog360::DEFAULT_BASE_URL);
    let request = http
        .get(format!("{base}/v1/configs/templates"))
        .header(dialog360::API_KEY_HEADER, key)
        .timeout(config.request_timeout);
    let answer = fetch(ProviderKind::Dialog360, request).await?;
    let items = answer
        .get("waba_templates")
        .and_then(Value::as_array)
        .ok_or_else(|| ListError::Unreadable("360dialog's answer has no `waba_templates` array".into()))?;
    if items.len() > MAX_TEMPLATES {
        return Err(ListError::Unreadable(format!("more than {MAX_TEMPLATES} templates")));
    }
    Ok(items.clone())
}

/// Send `request` and read a JSON object from a 2xx answer.
async fn fetch(provider: ProviderKind, request: reqwest::RequestBuilder) -> Result<Value, ListError> {
    let response = request
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            let why = if e.is_timeout() {
                "it did not answer in time"
            } else if e.is_connect() {
                "could not connect"
            } else {
                "the connection failed"
            };
            ListError::Unreadable(format!("{provider}: {why}"))
        })?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| ListError::Unreadable(format!("{provider}'s answer broke off: {e}")))?;
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    if !status.is_success() {
        let message = json
            .as_ref()
            .and_then(|v| {
                v.pointer("/error/message")
                    .or_else(|| v.pointer("/meta/developer_message"))
                    .or_else(|| v.get("message"))
            })
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
        return Err(ListError::Refused {
            provider,
            status: status.as_u16(),
            message,
        });
    }
    json.filter(Value::is_object)
        .ok_or_else(|| ListError::Unreadable(format!("{provider}'s answer is not a JSON object")))
}
