//! 360dialog, Cloud API hosting (providers.md §4).
//!
//! `POST {base}/messages` with `D360-API-KEY: <key>`; the body is Meta's (§1.2) and so are the answers: Meta's
//! error codes are passed through and classified with Meta's table. 360dialog's own refusals are read by their
//! documented texts: "exceeded the endpoint rate limit" is a throttle, "lack of payment" and "… has been disabled"
//! stop the account, and 401 (invalid api_key) and 403 (endpoint blocked) are the account's.

use crate::classify::{self, Answer, Class};
use crate::{Failure, FailureScope, Outbound, Provider, ProviderConfig, ProviderError, SendOutcome, meta};
use pregon_core::ProviderKind;
use pregon_core::campaign::Account;
use std::time::Duration;

/// 360dialog's Cloud API host.
pub const DEFAULT_BASE_URL: &str = "https://waba-v2.360dialog.io";

/// The header carrying the API key.
pub const API_KEY_HEADER: &str = "D360-API-KEY";

/// The 360dialog adapter.
pub struct Dialog360 {
    http: reqwest::Client,
    url: String,
    api_key: String,
    timeout: Duration,
}

impl Dialog360 {
    /// The adapter for `account`: needs the `api_key` credential (the key names the number, so `sender` is not
    /// sent).
    pub fn new(account: &Account, http: reqwest::Client, config: &ProviderConfig) -> Result<Self, ProviderError> {
        let api_key = classify::credential(account, "api_key")?.to_owned();
        let base = classify::base_url(account, DEFAULT_BASE_URL);
        Ok(Dialog360 {
            http,
            url: format!("{base}/messages"),
            api_key,
            timeout: config.request_timeout,
        })
    }
}

#[async_trait::async_trait]
impl Provider for Dialog360 {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Dialog360
    }

    async fn send(&self, out: Outbound<'_>) -> SendOutcome {
        let body = match meta::cloud_api_body(out) {
            Ok(body) => body,
            Err(failure) => return SendOutcome::Permanent(failure),
        };
        let request = self
            .http
            .post(&self.url)
            .header(API_KEY_HEADER, &self.api_key)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body);
        match classify::execute(request, self.timeout).await {
            Ok(answer) => outcome(&answer),
            Err(outcome) => outcome,
        }
    }
}

/// The outcome of a 360dialog answer.
fn outcome(answer: &Answer) -> SendOutcome {
    if answer.status.is_success() {
        return meta::cloud_api_outcome(answer);
    }
    let json = answer.json();
    let graph = json.as_ref().and_then(meta::graph_error);
    if answer.status == reqwest::StatusCode::UNAUTHORIZED {
        let code = graph
            .as_ref()
            .and_then(|g| g.code)
            .map_or_else(|| "http_401".to_owned(), |c| c.to_string());
        let text = graph
            .map(|g| g.text)
            .or_else(|| json.as_ref().and_then(classify::error_text))
            .unwrap_or_else(|| "invalid api_key".to_owned());
        return SendOutcome::Permanent(Failure {
            scope: FailureScope::Account,
            ..answer.with_retry_after(Failure::message(code, text))
        });
    }
    if let Some(error) = graph.filter(|g| g.code.is_some()) {
        return meta::graph_outcome(answer, error);
    }
    let lower = answer.body.to_lowercase();
    let class = if lower.contains("exceeded the endpoint rate limit") {
        Class::Transient
    } else if lower.contains("lack of payment") || lower.contains("has been disabled") {
        Class::Permanent(FailureScope::Account)
    } else {
        let text = json
            .as_ref()
            .and_then(classify::error_text)
            .unwrap_or_else(|| answer.body.clone());
        return classify::by_status(answer.status, &text, answer.retry_after);
    };
    let text = json
        .as_ref()
        .and_then(classify::error_text)
        .unwrap_or_else(|| classify::cap(&answer.body));
    class.outcome(answer.with_retry_after(Failure::message(format!("http_{}", answer.status.as_u16()), text)))
}
