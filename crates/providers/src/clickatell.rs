//! Clickatell's One API (providers.md §5).
//!
//! `POST {base}/v1/message` with the raw API key as `Authorization`. The only template format with a source is the
//! 2019 `hsm` one: `{"messages":[{"to", "channel":"whatsapp", "hsm":{"template", "parameters":{"1":…}},
//! "clientMessageId"}]}`. It names the template only (no language) and numbers body values; it has no field for a
//! header value (text or media), for button values, or for named parameters. Rather than invent fields, a message
//! that needs any of those is refused with a permanent `unsupported_by_provider` failure before anything is sent.
//! The answer is 202 with `messages[0].apiMessageId` and `accepted`.

use crate::classify::{self, Answer, Class};
use crate::{Failure, FailureScope, Outbound, Provider, ProviderConfig, ProviderError, SendOutcome};
use pregon_core::ProviderKind;
use pregon_core::campaign::Account;
use pregon_core::template::{Header, ParameterFormat};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Clickatell's API root.
pub const DEFAULT_BASE_URL: &str = "https://platform.clickatell.com";

/// The code of a message this adapter refuses because the provider's format cannot carry it.
pub const UNSUPPORTED: &str = "unsupported_by_provider";

/// The Clickatell adapter.
pub struct Clickatell {
    http: reqwest::Client,
    url: String,
    api_key: String,
    timeout: Duration,
}

impl Clickatell {
    /// The adapter for `account`: needs the `api_key` credential (the key names the integration and its number).
    pub fn new(account: &Account, http: reqwest::Client, config: &ProviderConfig) -> Result<Self, ProviderError> {
        let api_key = classify::credential(account, "api_key")?.to_owned();
        let base = classify::base_url(account, DEFAULT_BASE_URL);
        Ok(Clickatell {
            http,
            url: format!("{base}/v1/message"),
            api_key,
            timeout: config.request_timeout,
        })
    }
}

/// The 2019 `hsm` request for `out`, or why it cannot be expressed.
fn body(out: Outbound<'_>) -> Result<Value, Failure> {
    let (message, template) = (out.message, out.template);
    let unsupported = |what: &str| {
        Failure::message(
            UNSUPPORTED,
            format!(
                "template `{}` {what}, which Clickatell's documented template format (hsm) cannot carry",
                template.name
            ),
        )
    };
    match &template.header {
        Some(h) if h.media_kind().is_some() => return Err(unsupported("has a media header")),
        Some(Header::Text(text)) if text.contains("{{") => {
            return Err(unsupported("has a header with a placeholder"));
        }
        _ => {}
    }
    if message.params.header.is_some() {
        return Err(unsupported("is sent with a header value"));
    }
    if !message.params.buttons.is_empty() {
        return Err(unsupported("is sent with button values"));
    }
    if template.parameter_format == ParameterFormat::Named && !message.params.body.is_empty() {
        return Err(unsupported("has named parameters"));
    }
    let parameters: Map<String, Value> = message
        .params
        .body
        .iter()
        .enumerate()
        .map(|(i, v)| ((i + 1).to_string(), json!(v)))
        .collect();
    Ok(json!({"messages": [{
        "to": classify::digits(&message.phone),
        "channel": "whatsapp",
        "hsm": {"template": template.name, "parameters": parameters},
        "clientMessageId": message.id.to_string(),
    }]}))
}

#[async_trait::async_trait]
impl Provider for Clickatell {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Clickatell
    }

    async fn send(&self, out: Outbound<'_>) -> SendOutcome {
        let body = match body(out) {
            Ok(body) => body,
            Err(failure) => return SendOutcome::Permanent(failure),
        };
        let request = self
            .http
            .post(&self.url)
            .header(reqwest::header::AUTHORIZATION, &self.api_key)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body);
        match classify::execute(request, self.timeout).await {
            Ok(answer) => outcome(&answer),
            Err(outcome) => outcome,
        }
    }
}

/// A Clickatell `error`: `{"code", "description"}` or a plain string.
fn error_of(error: Option<&Value>) -> Option<(Option<String>, String)> {
    match error? {
        Value::String(s) if !s.trim().is_empty() => Some((None, classify::cap(s))),
        Value::Object(e) => {
            let code = classify::code_string(e.get("code"));
            let text = classify::str_of(e.get("description"))
                .or_else(|| classify::str_of(e.get("message")))
                .map(classify::cap)
                .or_else(|| code.clone())?;
            Some((code, text))
        }
        _ => None,
    }
}

/// The outcome of a Clickatell answer.
fn outcome(answer: &Answer) -> SendOutcome {
    let json = answer.json();
    let first = json.as_ref().and_then(|v| v.get("messages")).and_then(|m| m.get(0));
    let error =
        error_of(first.and_then(|m| m.get("error"))).or_else(|| error_of(json.as_ref().and_then(|v| v.get("error"))));
    if answer.status.is_success() {
        let accepted = first.and_then(|m| m.get("accepted")).and_then(Value::as_bool);
        let id = first.and_then(|m| classify::str_of(m.get("apiMessageId")));
        return match (accepted, id, error) {
            (Some(true), Some(id), _) => SendOutcome::Accepted {
                provider_message_id: id.to_owned(),
            },
            (Some(false), _, error) | (_, _, error @ Some(_)) => {
                let (code, text) = error.unwrap_or((None, "the message was not accepted".to_owned()));
                let code = code.unwrap_or_else(|| "not_accepted".to_owned());
                SendOutcome::Permanent(answer.with_retry_after(Failure::message(code, text)))
            }
            _ => classify::unreadable_success(answer),
        };
    }
    let Some((code, text)) = error else {
        return answer.by_status();
    };
    let class = if classify::is_transient_status(answer.status) {
        Class::Transient
    } else if answer.status == reqwest::StatusCode::UNAUTHORIZED || answer.status == reqwest::StatusCode::FORBIDDEN {
        Class::Permanent(FailureScope::Account)
    } else {
        Class::Permanent(FailureScope::Message)
    };
    let code = code.unwrap_or_else(|| format!("http_{}", answer.status.as_u16()));
    class.outcome(answer.with_retry_after(Failure::message(code, text)))
}
