//! Meta's WhatsApp Business Cloud API (providers.md §1).
//!
//! `POST {base}/{version}/{phone-number-id}/messages` with `Authorization: Bearer <token>` and a `type: template`
//! body (§1.2); the answer's `messages[0].id` (the wamid) keys the status webhooks. Graph errors are classified by
//! `error.code` with the table of §1.5. The body builder and the answer reader are shared with 360dialog, which
//! hosts the same API.

use crate::classify::{self, Answer, Class};
use crate::{Failure, FailureScope, Outbound, Provider, ProviderConfig, ProviderError, SendOutcome};
use pregon_core::ProviderKind;
use pregon_core::campaign::Account;
use pregon_core::template::{Button, Header, HeaderParam, MediaKind, ParameterFormat, Placeholder, Template};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Meta's Graph API root.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";

/// The Meta adapter.
pub struct Meta {
    http: reqwest::Client,
    url: String,
    authorization: String,
    timeout: Duration,
}

impl Meta {
    /// The adapter for `account`: needs the `access_token` credential and the phone-number id as `sender`.
    pub fn new(account: &Account, http: reqwest::Client, config: &ProviderConfig) -> Result<Self, ProviderError> {
        let token = classify::credential(account, "access_token")?;
        let sender = classify::sender(account)?;
        let base = classify::base_url(account, DEFAULT_BASE_URL);
        let version = config.meta_api_version.trim().trim_matches('/');
        Ok(Meta {
            http,
            url: format!("{base}/{version}/{sender}/messages"),
            authorization: format!("Bearer {token}"),
            timeout: config.request_timeout,
        })
    }
}

#[async_trait::async_trait]
impl Provider for Meta {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Meta
    }

    async fn send(&self, out: Outbound<'_>) -> SendOutcome {
        let body = match cloud_api_body(out) {
            Ok(body) => body,
            Err(failure) => return SendOutcome::Permanent(failure),
        };
        let request = self
            .http
            .post(&self.url)
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body);
        match classify::execute(request, self.timeout).await {
            Ok(answer) => cloud_api_outcome(&answer),
            Err(outcome) => outcome,
        }
    }
}

/// The Cloud API send body of §1.2 for `out` (Meta and 360dialog). Fails, permanently, when a button value names
/// a button the template does not have or one that takes no value.
pub(crate) fn cloud_api_body(out: Outbound<'_>) -> Result<Value, Failure> {
    let (message, template) = (out.message, out.template);
    let named = template.parameter_format == ParameterFormat::Named;
    let mut components = Vec::new();

    if let Some(parameter) = header_parameter(out) {
        components.push(json!({"type": "header", "parameters": [parameter]}));
    }

    if !message.params.body.is_empty() {
        let names = body_names(template);
        let parameters: Vec<Value> = message
            .params
            .body
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let mut p = Map::new();
                p.insert("type".into(), json!("text"));
                if named && let Some(name) = names.get(i) {
                    p.insert("parameter_name".into(), json!(name));
                }
                p.insert("text".into(), json!(value));
                Value::Object(p)
            })
            .collect();
        components.push(json!({"type": "body", "parameters": parameters}));
    }

    for (index, kind, value) in dynamic_buttons(out)? {
        let (sub_type, parameter) = match kind {
            DynamicButton::QuickReply => ("quick_reply", json!({"type": "payload", "payload": value})),
            DynamicButton::Url => ("url", json!({"type": "text", "text": value})),
        };
        components.push(json!({
            "type": "button",
            "sub_type": sub_type,
            "index": index.to_string(),
            "parameters": [parameter],
        }));
    }

    let mut tpl = Map::new();
    tpl.insert("name".into(), json!(template.name));
    tpl.insert(
        "language".into(),
        json!({"code": message.language, "policy": "deterministic"}),
    );
    if !components.is_empty() {
        tpl.insert("components".into(), Value::Array(components));
    }
    Ok(json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": format!("+{}", classify::digits(&message.phone)),
        "type": "template",
        "biz_opaque_callback_data": message.id.to_string(),
        "template": Value::Object(tpl),
    }))
}

/// The header parameter, if the template's header takes one and the message has it: text for a text header with a
/// placeholder (`parameter_name` for named templates), `{link}` media for a media header (the template decides
/// the media kind).
fn header_parameter(out: Outbound<'_>) -> Option<Value> {
    let template = out.template;
    match (template.header.as_ref()?, out.message.params.header.as_ref()?) {
        (Header::Text(text), HeaderParam::Text(value)) if text.contains("{{") => {
            let mut p = Map::new();
            p.insert("type".into(), json!("text"));
            if template.parameter_format == ParameterFormat::Named
                && let Some(name) = names_in(text).into_iter().next()
            {
                p.insert("parameter_name".into(), json!(name));
            }
            p.insert("text".into(), json!(value));
            Some(Value::Object(p))
        }
        (header, HeaderParam::Media { url, filename, .. }) => {
            let kind = header.media_kind()?;
            Some(media_object(kind, url, filename.as_deref()))
        }
        _ => None,
    }
}

/// `{"type": "image", "image": {"link": …}}`, with `filename` for a document: Meta's header media parameter, and
/// Gupshup's `message` field.
pub(crate) fn media_object(kind: MediaKind, url: &str, filename: Option<&str>) -> Value {
    let key = media_key(kind);
    let mut media = Map::new();
    media.insert("link".into(), json!(url));
    if kind == MediaKind::Document
        && let Some(name) = filename.map(str::trim).filter(|n| !n.is_empty())
    {
        media.insert("filename".into(), json!(name));
    }
    let mut object = Map::new();
    object.insert("type".into(), json!(key));
    object.insert(key.into(), Value::Object(media));
    Value::Object(object)
}

/// `image`, `video`, `document`.
pub(crate) fn media_key(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "image",
        MediaKind::Video => "video",
        MediaKind::Document => "document",
    }
}

/// The body's placeholder names in the order they are filled (first appearance), for named templates.
pub(crate) fn body_names(template: &Template) -> Vec<String> {
    names_in(&template.body)
}

fn names_in(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in pregon_core::template::placeholders(text).unwrap_or_default() {
        if let Placeholder::Name(name) = p
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    names
}

/// A button that takes a value at send time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DynamicButton {
    /// A quick reply: the value is its payload.
    QuickReply,
    /// A URL button: the value is the suffix of its URL.
    Url,
}

/// The message's button values by ascending index, each with the kind of the template's button at that index.
/// A value for a missing button or a button that takes none is a permanent `invalid_button` failure.
pub(crate) fn dynamic_buttons<'a>(out: Outbound<'a>) -> Result<Vec<(usize, DynamicButton, &'a str)>, Failure> {
    let mut params: Vec<_> = out.message.params.buttons.iter().collect();
    params.sort_by_key(|b| b.index);
    params
        .into_iter()
        .map(|b| {
            let kind = match out.template.buttons.get(b.index) {
                Some(Button::QuickReply { .. }) => DynamicButton::QuickReply,
                Some(Button::Url { .. }) => DynamicButton::Url,
                Some(other) => {
                    let name = match other {
                        Button::PhoneNumber { .. } => "PHONE_NUMBER".to_owned(),
                        Button::Other { kind, .. } => kind.clone(),
                        _ => "fixed".to_owned(),
                    };
                    return Err(Failure::message(
                        "invalid_button",
                        format!(
                            "button {} of template `{}` is a {name} button, which takes no value",
                            b.index, out.template.name
                        ),
                    ));
                }
                None => {
                    return Err(Failure::message(
                        "invalid_button",
                        format!("template `{}` has no button {}", out.template.name, b.index),
                    ));
                }
            };
            Ok((b.index, kind, b.value.as_str()))
        })
        .collect()
}

/// A Graph API error (§1.4), as read from an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GraphError {
    /// `error.code`.
    pub code: Option<i64>,
    /// `error.message`, then `error_data.details` when it adds something.
    pub text: String,
    /// `error.is_transient`, when present.
    pub is_transient: Option<bool>,
}

/// The Graph error in `body`, if it has the `{"error": {…}}` shape.
pub(crate) fn graph_error(body: &Value) -> Option<GraphError> {
    let error = body.get("error")?.as_object()?;
    let code = match error.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let message = classify::str_of(error.get("message"))
        .or_else(|| classify::str_of(error.get("error_user_msg")))
        .or_else(|| classify::str_of(error.get("title")));
    let details = classify::str_of(error.get("error_data").and_then(|d| d.get("details")));
    let text = match (message, details) {
        (Some(m), Some(d)) if m != d => format!("{m}: {d}"),
        (Some(m), _) => m.to_owned(),
        (None, Some(d)) => d.to_owned(),
        (None, None) => return None,
    };
    Some(GraphError {
        code,
        text: classify::cap(&text),
        is_transient: error.get("is_transient").and_then(Value::as_bool),
    })
}

/// How a Graph error code is classified (§1.5); `None` for codes the table leaves to the HTTP status.
pub(crate) fn code_class(code: i64) -> Option<Class> {
    match code {
        // Retry with backoff or pacing: unknown/server, service down, app/WABA rate limits, throughput,
        // internal errors, maintenance, server unavailable, pair rate.
        1 | 2 | 4 | 80007 | 130429 | 131000 | 131016 | 131057 | 133004 | 131056 => Some(Class::Transient),
        // The template is paused, disabled, missing or not approved: every campaign of it should pause.
        132001 | 132015 | 132016 => Some(Class::Permanent(FailureScope::Template)),
        // Token, permissions, policy blocks, locked account, spam restriction, display name, payment.
        0 | 3 | 10 | 33 | 190 | 200..=299 | 368 | 131005 | 131031 | 131037 | 131042 | 131048 => {
            Some(Class::Permanent(FailureScope::Account))
        }
        _ => None,
    }
}

/// A Graph error as an outcome: the §1.5 table first, then `is_transient`, then the HTTP status (429/5xx
/// transient, 401 the account's, anything else permanent for the message). 131049 stays a permanent
/// message-scope failure under its own code.
pub(crate) fn graph_outcome(answer: &Answer, error: GraphError) -> SendOutcome {
    let code = match error.code {
        Some(c) => c.to_string(),
        None => format!("http_{}", answer.status.as_u16()),
    };
    let failure = answer.with_retry_after(Failure::message(code, error.text));
    let class = match error.code.and_then(code_class) {
        Some(class) => class,
        None if error.is_transient == Some(true) || classify::is_transient_status(answer.status) => Class::Transient,
        None if answer.status == reqwest::StatusCode::UNAUTHORIZED => Class::Permanent(FailureScope::Account),
        None => Class::Permanent(FailureScope::Message),
    };
    class.outcome(failure)
}

/// The outcome of a Cloud API answer: `messages[0].id` on success, a Graph error otherwise, the HTTP status when
/// the body is neither.
pub(crate) fn cloud_api_outcome(answer: &Answer) -> SendOutcome {
    let json = answer.json();
    if answer.status.is_success() {
        let id = json
            .as_ref()
            .and_then(|v| v.get("messages"))
            .and_then(|m| m.get(0))
            .and_then(|m| classify::str_of(m.get("id")));
        return match id {
            Some(id) => SendOutcome::Accepted {
                provider_message_id: id.to_owned(),
            },
            None => classify::unreadable_success(answer),
        };
    }
    match json.as_ref().and_then(graph_error) {
        Some(error) => graph_outcome(answer, error),
        None => answer.by_status(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_table() {
        let template = Some(Class::Permanent(FailureScope::Template));
        let account = Some(Class::Permanent(FailureScope::Account));
        assert_eq!(code_class(130429), Some(Class::Transient));
        assert_eq!(code_class(131056), Some(Class::Transient));
        assert_eq!(code_class(132015), template);
        assert_eq!(code_class(132001), template);
        assert_eq!(code_class(190), account);
        assert_eq!(code_class(250), account);
        assert_eq!(code_class(131048), account);
        assert_eq!(code_class(131049), None);
        assert_eq!(code_class(131026), None);
    }

    #[test]
    fn graph_errors_are_read() {
        let e = graph_error(
            &json!({"error": {"message": "(#131026) Message undeliverable", "code": 131026,
            "error_data": {"details": "not a WhatsApp user"}}}),
        );
        assert_eq!(
            e,
            Some(GraphError {
                code: Some(131026),
                text: "(#131026) Message undeliverable: not a WhatsApp user".into(),
                is_transient: None
            })
        );
        assert_eq!(graph_error(&json!({"error": "nope"})), None);
        assert_eq!(graph_error(&json!([1, 2])), None);
    }
}
