//! Gupshup's self-serve WhatsApp API (providers.md §2).
//!
//! `POST {base}/wa/api/v1/template/msg`, form-encoded, with `apikey: <key>`. Templates are addressed by Gupshup's
//! template id (`template.provider_id`; the name when there is none) and take one positional `params` list: the
//! header text first, then the body values, then the suffixes of dynamic URL buttons in button order. A media
//! header goes in `message` (`{"type":"image","image":{"link":…}}`), quick-reply payloads in `postbackTexts`
//! (`[{"index":0,"text":…}]`, docs.gupshup.io "Postback Text Support"). The answer is
//! `{"status":"submitted","messageId":…}`; refusals are `{"status":"error","message":…}`, with Gupshup's codes
//! (4001 rate limited, 4005 template paused, 1003 wallet balance low) or Meta's passed through.

use crate::classify::{self, Answer, Class};
use crate::meta::{self, DynamicButton};
use crate::{Failure, FailureScope, Outbound, Provider, ProviderConfig, ProviderError, SendOutcome};
use pregon_core::ProviderKind;
use pregon_core::campaign::Account;
use pregon_core::template::{Header, HeaderParam};
use serde_json::{Value, json};
use std::time::Duration;

/// Gupshup's API root.
pub const DEFAULT_BASE_URL: &str = "https://api.gupshup.io";

/// The Gupshup adapter.
pub struct Gupshup {
    http: reqwest::Client,
    url: String,
    api_key: String,
    app_name: String,
    source: String,
    timeout: Duration,
}

impl Gupshup {
    /// The adapter for `account`: needs the `api_key` and `app_name` credentials and the source number as
    /// `sender`.
    pub fn new(account: &Account, http: reqwest::Client, config: &ProviderConfig) -> Result<Self, ProviderError> {
        let api_key = classify::credential(account, "api_key")?.to_owned();
        let app_name = classify::credential(account, "app_name")?.to_owned();
        let source = classify::digits(classify::sender(account)?);
        if source.is_empty() {
            return Err(ProviderError::Missing {
                provider: ProviderKind::Gupshup,
                what: "sender",
            });
        }
        let base = classify::base_url(account, DEFAULT_BASE_URL);
        Ok(Gupshup {
            http,
            url: format!("{base}/wa/api/v1/template/msg"),
            api_key,
            app_name,
            source,
            timeout: config.request_timeout,
        })
    }

    /// The form body for `out`.
    fn form(&self, out: Outbound<'_>) -> Result<String, Failure> {
        let (message, template) = (out.message, out.template);
        let buttons = meta::dynamic_buttons(out)?;
        let mut params: Vec<&str> = Vec::new();
        let mut media = None;
        match (&template.header, &message.params.header) {
            (Some(Header::Text(text)), Some(HeaderParam::Text(value))) if text.contains("{{") => params.push(value),
            (Some(header), Some(HeaderParam::Media { url, filename, .. })) => {
                if let Some(kind) = header.media_kind() {
                    media = Some(meta::media_object(kind, url, filename.as_deref()));
                }
            }
            _ => {}
        }
        params.extend(message.params.body.iter().map(String::as_str));
        let mut postbacks = Vec::new();
        for (index, kind, value) in buttons {
            match kind {
                DynamicButton::Url => params.push(value),
                DynamicButton::QuickReply => postbacks.push(json!({"index": index, "text": value})),
            }
        }
        let id = template.provider_id.as_deref().unwrap_or(&template.name);
        let template_field = json!({"id": id, "params": params}).to_string();

        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("channel", "whatsapp")
            .append_pair("source", &self.source)
            .append_pair("destination", &classify::digits(&message.phone))
            .append_pair("src.name", &self.app_name)
            .append_pair("template", &template_field);
        if let Some(media) = media {
            form.append_pair("message", &media.to_string());
        }
        if !postbacks.is_empty() {
            form.append_pair("postbackTexts", &Value::Array(postbacks).to_string());
        }
        Ok(form.finish())
    }
}

#[async_trait::async_trait]
impl Provider for Gupshup {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Gupshup
    }

    async fn send(&self, out: Outbound<'_>) -> SendOutcome {
        let body = match self.form(out) {
            Ok(body) => body,
            Err(failure) => return SendOutcome::Permanent(failure),
        };
        let request = self
            .http
            .post(&self.url)
            .header("apikey", &self.api_key)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        match classify::execute(request, self.timeout).await {
            Ok(answer) => outcome(&answer),
            Err(outcome) => outcome,
        }
    }
}

/// How a Gupshup code is classified; Meta's codes (passed through) by Meta's table.
fn code_class(code: &str) -> Option<Class> {
    match code {
        "4001" => Some(Class::Transient),
        "4005" => Some(Class::Permanent(FailureScope::Template)),
        "1003" => Some(Class::Permanent(FailureScope::Account)),
        _ => code.parse::<i64>().ok().and_then(meta::code_class),
    }
}

/// The outcome of a Gupshup answer.
fn outcome(answer: &Answer) -> SendOutcome {
    let json = answer.json();
    let status_field = json.as_ref().and_then(|v| classify::str_of(v.get("status")));
    if answer.status.is_success() && status_field != Some("error") {
        let id = json.as_ref().and_then(|v| classify::str_of(v.get("messageId")));
        return match (status_field, id) {
            (Some("submitted"), Some(id)) => SendOutcome::Accepted {
                provider_message_id: id.to_owned(),
            },
            _ => classify::unreadable_success(answer),
        };
    }
    let Some(json) = json else {
        return answer.by_status();
    };
    let code = classify::code_string(json.get("code"))
        .or_else(|| classify::code_string(json.get("errorCode")))
        .or_else(|| classify::code_string(json.get("error").and_then(|e| e.get("code"))));
    let text = classify::error_text(&json).unwrap_or_else(|| classify::cap(&answer.body));
    let authentication = text.to_ascii_lowercase().contains("authentication failed");
    let class = match code.as_deref().and_then(code_class) {
        Some(class) => class,
        None if classify::is_transient_status(answer.status) => Class::Transient,
        None if authentication
            || answer.status == reqwest::StatusCode::UNAUTHORIZED
            || answer.status == reqwest::StatusCode::FORBIDDEN =>
        {
            Class::Permanent(FailureScope::Account)
        }
        None => Class::Permanent(FailureScope::Message),
    };
    let code = code.unwrap_or_else(|| format!("http_{}", answer.status.as_u16()));
    class.outcome(answer.with_retry_after(Failure::message(code, text)))
}
