//! Meta Cloud API wire shapes: the success answer, Graph API errors, request validation, wamids.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use serde_json::Value;

/// The success answer to a send, field for field as Meta writes it.
#[derive(Serialize)]
pub(crate) struct SendSuccess<'a> {
    messaging_product: &'static str,
    contacts: [Contact<'a>; 1],
    messages: [MessageRef<'a>; 1],
}

#[derive(Serialize)]
struct Contact<'a> {
    input: &'a str,
    wa_id: &'a str,
}

#[derive(Serialize)]
struct MessageRef<'a> {
    id: &'a str,
    message_status: &'static str,
}

impl<'a> SendSuccess<'a> {
    pub(crate) fn new(input: &'a str, wa_id: &'a str, wamid: &'a str) -> Self {
        Self {
            messaging_product: "whatsapp",
            contacts: [Contact { input, wa_id }],
            messages: [MessageRef {
                id: wamid,
                message_status: "accepted",
            }],
        }
    }
}

/// A Graph API error answer: `{"error": {"message", "type", "code", "error_data", "fbtrace_id"}}`.
#[derive(Clone, Debug)]
pub(crate) struct MetaError {
    pub(crate) http: StatusCode,
    pub(crate) code: u32,
    pub(crate) title: String,
    pub(crate) details: String,
    pub(crate) is_transient: Option<bool>,
    pub(crate) retry_after: Option<u32>,
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: String,
    #[serde(rename = "type")]
    kind: &'static str,
    code: u32,
    error_data: ErrorData<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_transient: Option<bool>,
    fbtrace_id: String,
}

#[derive(Serialize)]
struct ErrorData<'a> {
    messaging_product: &'static str,
    details: &'a str,
}

impl MetaError {
    fn new(http: StatusCode, code: u32, title: &str, details: impl Into<String>) -> Self {
        Self {
            http,
            code,
            title: title.to_owned(),
            details: details.into(),
            is_transient: None,
            retry_after: None,
        }
    }

    /// HTTP 401, code 190: missing or wrong access token.
    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            190,
            "Error validating access token",
            "The access token is missing, malformed or does not match.",
        )
    }

    /// HTTP 400, code 100: a parameter is invalid.
    pub(crate) fn invalid(details: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 100, "Invalid parameter", details)
    }

    /// HTTP 400, code 131008: a required parameter is missing.
    pub(crate) fn missing(details: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            131_008,
            "Required parameter is missing",
            details,
        )
    }

    /// HTTP 400, code 130429: throughput reached.
    pub(crate) fn rate_limited() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            130_429,
            "Rate limit hit",
            "Cloud API message throughput has been reached.",
        )
    }

    /// HTTP 429 with `Retry-After: 1`, code 4: the app's call rate limit.
    pub(crate) fn throttled() -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            4,
            "Application request limit reached",
            "Too many calls; retry after the time given in Retry-After.",
        );
        e.retry_after = Some(1);
        e
    }

    /// HTTP 500 code 131000 or HTTP 503 code 2, chosen at random.
    pub(crate) fn transient(rng: &mut impl Rng) -> Self {
        if rng.random::<bool>() {
            Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                131_000,
                "Something went wrong",
                "Message failed to send due to an unknown error.",
            )
        } else {
            let mut e = Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                2,
                "Service temporarily unavailable",
                "Service temporarily unavailable due to downtime or overload.",
            );
            e.is_transient = Some(true);
            e
        }
    }

    /// The permanent error `code` with Meta's HTTP status and title for it.
    pub(crate) fn permanent(code: u32) -> Self {
        let (http, title, details) = match code {
            131_021 => (
                400,
                "Recipient cannot be sender",
                "Sender and recipient phone number is the same.",
            ),
            131_026 => (
                400,
                "Message undeliverable",
                "Unable to deliver message: the recipient is not a WhatsApp user or has not accepted the terms.",
            ),
            131_047 => (
                400,
                "Re-engagement message",
                "More than 24 hours have passed since the user last replied.",
            ),
            131_049 => (
                400,
                "This message was not delivered to maintain healthy ecosystem engagement.",
                "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
            ),
            131_050 => (
                400,
                "User has stopped marketing messages",
                "The user has stopped marketing messages.",
            ),
            131_009 => (400, "Parameter value is not valid", "A parameter value is not valid."),
            131_056 => (
                400,
                "(Business Account, Consumer Account) pair rate limit hit",
                "Too many messages sent from this phone number to the same phone number in a short period of time.",
            ),
            132_000 => (
                400,
                "Number of parameters does not match the expected number of params",
                "The number of variable parameter values does not match the template.",
            ),
            132_001 => (
                404,
                "Template name does not exist in the translation",
                "The template does not exist in the given language or has not been approved.",
            ),
            132_015 => (
                400,
                "Template is paused",
                "The template is paused because of low quality.",
            ),
            132_016 => (
                400,
                "Template is disabled",
                "The template has been paused too many times and is disabled.",
            ),
            368 => (
                403,
                "Temporarily blocked for policies violations",
                "The account is restricted.",
            ),
            131_031 => (403, "Account has been locked", "The account is locked."),
            _ => (400, "Message failed", "The message could not be sent."),
        };
        Self::new(
            StatusCode::from_u16(http).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            title,
            details,
        )
    }

    /// The JSON body of this error.
    pub(crate) fn body(&self) -> Vec<u8> {
        let envelope = ErrorEnvelope {
            error: ErrorBody {
                message: format!("(#{}) {}", self.code, self.title),
                kind: "OAuthException",
                code: self.code,
                error_data: ErrorData {
                    messaging_product: "whatsapp",
                    details: &self.details,
                },
                is_transient: self.is_transient,
                fbtrace_id: fbtrace_id(),
            },
        };
        serde_json::to_vec(&envelope).unwrap_or_default()
    }
}

impl IntoResponse for MetaError {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.http == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("OAuth \"Facebook Platform\" \"invalid_token\""),
            );
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        (self.http, headers, self.body()).into_response()
    }
}

fn fbtrace_id() -> String {
    rand::rng().sample_iter(Alphanumeric).take(23).map(char::from).collect()
}

/// A fresh, unique message id in Meta's `wamid.` form.
pub(crate) fn new_wamid() -> String {
    format!(
        "wamid.HBgL{}",
        uuid::Uuid::now_v7().simple().to_string().to_ascii_uppercase()
    )
}

/// A fresh conversation id (32 hex digits, as in v23 `conversation.id`).
pub(crate) fn new_conversation_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// The digits of a phone number (`+1 650-555-1234` → `16505551234`): Meta's `wa_id` and `recipient_id`.
pub fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// What a valid template send carries.
pub(crate) struct ValidSend {
    pub(crate) json: Value,
    pub(crate) to: String,
    pub(crate) template: String,
    pub(crate) language: String,
    pub(crate) callback_data: Option<String>,
}

/// Checks a send body the way the Cloud API does for template messages.
pub(crate) fn validate(body: &[u8]) -> Result<ValidSend, MetaError> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|e| MetaError::invalid(format!("The request body is not valid JSON: {e}")))?;
    let Some(obj) = json.as_object() else {
        return Err(MetaError::invalid("The request body must be a JSON object."));
    };
    match obj.get("messaging_product") {
        None | Some(Value::Null) => return Err(MetaError::invalid("The parameter messaging_product is required.")),
        Some(Value::String(s)) if s == "whatsapp" => {}
        Some(_) => return Err(MetaError::invalid("Param messaging_product must be \"whatsapp\".")),
    }
    if let Some(rt) = obj.get("recipient_type")
        && !matches!(rt.as_str(), Some("individual" | "group"))
    {
        return Err(MetaError::invalid(
            "Param recipient_type must be one of {individual, group}.",
        ));
    }
    let to = match obj.get("to") {
        None | Some(Value::Null) => return Err(MetaError::invalid("The parameter to is required.")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(MetaError::invalid("Param to must be a string.")),
    };
    if digits(&to).is_empty() {
        return Err(MetaError::invalid("Param to is not a valid phone number."));
    }
    match obj.get("type").and_then(Value::as_str) {
        Some("template") => {}
        Some(other) => {
            return Err(MetaError::invalid(format!(
                "Param type {other:?} is not supported by this mock: use \"template\"."
            )));
        }
        None => {
            return Err(MetaError::missing(
                "Parameter type is required: this mock accepts only \"template\".",
            ));
        }
    }
    let Some(template) = obj.get("template").and_then(Value::as_object) else {
        return Err(MetaError::missing("Parameter template is required."));
    };
    let name = match template.get("name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => return Err(MetaError::missing("Parameter template.name is required.")),
    };
    let language = match template
        .get("language")
        .and_then(|l| l.get("code"))
        .and_then(Value::as_str)
    {
        Some(c) if !c.is_empty() => c.to_owned(),
        _ => return Err(MetaError::missing("Parameter template.language.code is required.")),
    };
    if let Some(components) = template.get("components")
        && !components.is_array()
    {
        return Err(MetaError::invalid("Param template.components must be an array."));
    }
    let callback_data = match obj.get("biz_opaque_callback_data") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(MetaError::invalid("Param biz_opaque_callback_data must be a string.")),
    };
    Ok(ValidSend {
        json,
        to,
        template: name,
        language,
        callback_data,
    })
}

/// Whether `headers` carry `Authorization: Bearer <token>`.
pub(crate) fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut parts = value.split_whitespace();
    matches!((parts.next(), parts.next(), parts.next()), (Some(scheme), Some(t), None)
        if scheme.eq_ignore_ascii_case("bearer") && t == token)
}
