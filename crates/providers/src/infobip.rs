//! Infobip's WhatsApp API (providers.md §3).
//!
//! `POST {base}/whatsapp/1/message/template` with `Authorization: App <key>` on the account's own `base_url`. One
//! message per request: `messages[0]` carries `from`/`to` as international digits, Pregon's message id as both
//! `messageId` (echoed in delivery reports) and `callbackData`, and `content.templateData` with the body
//! placeholders, the header and the dynamic button values in button order. The answer's `messages[0].status`
//! is an acceptance; a `REJECTED` (or `UNDELIVERABLE`/`EXPIRED`) group refuses the message there and then. Errors
//! come in the legacy `requestError.serviceException` shape or the new `errorCode`/`description` one (§3.3).

use crate::classify::{self, Answer, Class};
use crate::meta::{self, DynamicButton};
use crate::{Failure, FailureScope, Outbound, Provider, ProviderConfig, ProviderError, SendOutcome};
use pregon_core::ProviderKind;
use pregon_core::campaign::Account;
use pregon_core::template::{Header, HeaderParam, MediaKind};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// The Infobip adapter.
pub struct Infobip {
    http: reqwest::Client,
    url: String,
    authorization: String,
    from: String,
    timeout: Duration,
}

impl Infobip {
    /// The adapter for `account`: needs the `api_key` credential, the account's own `base_url` and the sender
    /// number.
    pub fn new(account: &Account, http: reqwest::Client, config: &ProviderConfig) -> Result<Self, ProviderError> {
        let api_key = classify::credential(account, "api_key")?;
        let missing = |what| ProviderError::Missing {
            provider: ProviderKind::Infobip,
            what,
        };
        let base = classify::base_url(account, "");
        if base.is_empty() {
            return Err(missing("base_url"));
        }
        let from = classify::digits(classify::sender(account)?);
        if from.is_empty() {
            return Err(missing("sender"));
        }
        Ok(Infobip {
            http,
            url: format!("{base}/whatsapp/1/message/template"),
            authorization: format!("App {api_key}"),
            from,
            timeout: config.request_timeout,
        })
    }

    /// The request body for `out`.
    fn body(&self, out: Outbound<'_>) -> Result<Value, Failure> {
        let (message, template) = (out.message, out.template);
        let mut data = Map::new();
        data.insert("body".into(), json!({"placeholders": message.params.body}));
        match (&template.header, &message.params.header) {
            (Some(Header::Text(text)), Some(HeaderParam::Text(value))) if text.contains("{{") => {
                data.insert("header".into(), json!({"type": "TEXT", "placeholder": value}));
            }
            (Some(header), Some(HeaderParam::Media { url, filename, .. })) => match header.media_kind() {
                Some(MediaKind::Image) => {
                    data.insert("header".into(), json!({"type": "IMAGE", "mediaUrl": url}));
                }
                Some(MediaKind::Video) => {
                    data.insert("header".into(), json!({"type": "VIDEO", "mediaUrl": url}));
                }
                Some(MediaKind::Document) => {
                    let filename = filename
                        .as_deref()
                        .map(str::trim)
                        .filter(|f| !f.is_empty())
                        .map_or_else(|| filename_of(url), str::to_owned);
                    data.insert(
                        "header".into(),
                        json!({"type": "DOCUMENT", "mediaUrl": url, "filename": filename}),
                    );
                }
                None => {}
            },
            _ => {}
        }
        let buttons: Vec<Value> = meta::dynamic_buttons(out)?
            .into_iter()
            .map(|(_, kind, value)| {
                let kind = match kind {
                    DynamicButton::QuickReply => "QUICK_REPLY",
                    DynamicButton::Url => "URL",
                };
                json!({"type": kind, "parameter": value})
            })
            .collect();
        if !buttons.is_empty() {
            data.insert("buttons".into(), Value::Array(buttons));
        }
        let id = message.id.to_string();
        Ok(json!({"messages": [{
            "from": self.from,
            "to": classify::digits(&message.phone),
            "messageId": id,
            "content": {
                "templateName": template.name,
                "templateData": Value::Object(data),
                "language": message.language,
            },
            "callbackData": id,
        }]}))
    }
}

/// The last segment of `url`'s path (Infobip requires a document's `filename`), or `document`.
fn filename_of(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    match path.split_once('/') {
        Some((_, p)) => p.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("document"),
        None => "document",
    }
    .to_owned()
}

#[async_trait::async_trait]
impl Provider for Infobip {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Infobip
    }

    async fn send(&self, out: Outbound<'_>) -> SendOutcome {
        let body = match self.body(out) {
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
            Ok(answer) => outcome(&answer),
            Err(outcome) => outcome,
        }
    }
}

/// Status groups that refuse a message in the send answer.
const FAILED_GROUPS: [&str; 3] = ["REJECTED", "UNDELIVERABLE", "EXPIRED"];

/// The outcome of an Infobip answer.
fn outcome(answer: &Answer) -> SendOutcome {
    let json = answer.json();
    if answer.status.is_success() {
        let first = json.as_ref().and_then(|v| v.get("messages")).and_then(|m| m.get(0));
        let id = first.and_then(|m| classify::str_of(m.get("messageId")));
        let status = first.and_then(|m| m.get("status"));
        let group = status.and_then(|s| classify::str_of(s.get("groupName")));
        if let Some(group) = group.filter(|g| FAILED_GROUPS.contains(g)) {
            let name = status.and_then(|s| classify::str_of(s.get("name"))).unwrap_or(group);
            let description = status
                .and_then(|s| classify::str_of(s.get("description")))
                .unwrap_or(name);
            // A rejection for want of credit, or of the sender, is the account's.
            let scope = if ["NOT_ENOUGH_CREDITS", "PREPAID_PACKAGE_EXPIRED", "REJECTED_SENDER"]
                .iter()
                .any(|n| name.contains(n))
            {
                FailureScope::Account
            } else {
                FailureScope::Message
            };
            return SendOutcome::Permanent(Failure {
                scope,
                ..answer.with_retry_after(Failure::message(name, classify::cap(description)))
            });
        }
        return match id {
            Some(id) => SendOutcome::Accepted {
                provider_message_id: id.to_owned(),
            },
            None => classify::unreadable_success(answer),
        };
    }
    let Some((code, text)) = json.as_ref().and_then(error_of) else {
        return answer.by_status();
    };
    let class = if classify::is_transient_status(answer.status)
        || matches!(code.as_str(), "TOO_MANY_REQUESTS" | "GENERAL_ERROR" | "E429")
        || (code.starts_with("E5") && code.len() == 4)
    {
        Class::Transient
    } else if answer.status == reqwest::StatusCode::UNAUTHORIZED
        || answer.status == reqwest::StatusCode::FORBIDDEN
        || matches!(code.as_str(), "UNAUTHORIZED" | "FORBIDDEN" | "E401" | "E403")
    {
        Class::Permanent(FailureScope::Account)
    } else {
        Class::Permanent(FailureScope::Message)
    };
    class.outcome(answer.with_retry_after(Failure::message(code, text)))
}

/// The code and text of an Infobip error in either shape: legacy `requestError.serviceException.{messageId,
/// text, validationErrors}` or new `{errorCode, description, violations}`.
fn error_of(body: &Value) -> Option<(String, String)> {
    if let Some(e) = body.get("requestError").and_then(|r| r.get("serviceException")) {
        let code = classify::str_of(e.get("messageId"))?.to_owned();
        let mut text = classify::str_of(e.get("text")).unwrap_or(&code).to_owned();
        if let Some(fields) = e.get("validationErrors").and_then(Value::as_object) {
            for (field, problems) in fields {
                let problems = match problems {
                    Value::Array(list) => list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                text.push_str(&format!("; {field}: {problems}"));
            }
        }
        return Some((code, classify::cap(&text)));
    }
    let code = classify::str_of(body.get("errorCode"))?.to_owned();
    let mut text = classify::str_of(body.get("description")).unwrap_or(&code).to_owned();
    for v in body.get("violations").and_then(Value::as_array).into_iter().flatten() {
        let property = classify::str_of(v.get("property")).unwrap_or("");
        let violation = classify::str_of(v.get("violation")).unwrap_or("");
        text.push_str(&format!("; {property}: {violation}"));
    }
    Some((code, classify::cap(&text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_names_come_from_the_url() {
        assert_eq!(filename_of("https://x.example/files/inv%201.pdf?sig=1"), "inv%201.pdf");
        assert_eq!(filename_of("https://x.example/"), "document");
        assert_eq!(filename_of("https://x.example"), "document");
    }

    #[test]
    fn both_error_shapes() {
        let legacy = json!({"requestError": {"serviceException": {"messageId": "BAD_REQUEST", "text": "Bad request",
            "validationErrors": {"messages[0].to": ["invalid number"]}}}});
        assert_eq!(
            error_of(&legacy),
            Some((
                "BAD_REQUEST".into(),
                "Bad request; messages[0].to: invalid number".into()
            ))
        );
        let new = json!({"errorCode": "E400", "description": "Request cannot be processed.",
            "violations": [{"property": "messages[0].to", "violation": "must not be empty"}]});
        assert_eq!(
            error_of(&new),
            Some((
                "E400".into(),
                "Request cannot be processed.; messages[0].to: must not be empty".into()
            ))
        );
        assert_eq!(error_of(&json!({"x": 1})), None);
    }
}
