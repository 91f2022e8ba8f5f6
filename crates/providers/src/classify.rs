//! What every adapter shares when reading an answer: transport errors, HTTP status classes, `Retry-After`.
//!
//! An adapter sends through [`execute`], which applies the request time-out, reads at most [`BODY_READ_MAX`]
//! bytes of the answer and turns transport errors into [`SendOutcome::Transient`]; it then reads the provider's
//! own error shape and falls back to [`by_status`] when the body says nothing it understands.

use crate::{Failure, FailureScope, SendOutcome};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;
use std::time::Duration;

/// The most of an answer's body that is read; the rest is dropped (a provider answer is a few hundred bytes).
pub const BODY_READ_MAX: usize = 64 * 1024;

/// The most of a provider's text kept on a message, in characters.
pub const TEXT_MAX: usize = 500;

/// The longest `Retry-After` honoured; a longer one is cut to this.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(24 * 60 * 60);

/// Where a failure goes: another try later, or a permanent refusal of the given reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Worth another try.
    Transient,
    /// Will not succeed as it is.
    Permanent(FailureScope),
}

impl Class {
    /// `failure` as an outcome of this class (the scope of a permanent class replaces the failure's).
    pub fn outcome(self, failure: Failure) -> SendOutcome {
        match self {
            Class::Transient => SendOutcome::Transient(failure),
            Class::Permanent(scope) => SendOutcome::Permanent(Failure { scope, ..failure }),
        }
    }
}

/// A provider's answer, read.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// What `Retry-After` asked for, if it was there and readable.
    pub retry_after: Option<Duration>,
    /// The body as text (lossy UTF-8), at most [`BODY_READ_MAX`] bytes of it.
    pub body: String,
}

impl Answer {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// `failure` carrying this answer's `Retry-After`, if it had one.
    pub fn with_retry_after(&self, mut failure: Failure) -> Failure {
        if failure.retry_after.is_none() {
            failure.retry_after = self.retry_after;
        }
        failure
    }

    /// Classified from the HTTP status alone: see [`by_status`].
    pub fn by_status(&self) -> SendOutcome {
        by_status(self.status, &self.body, self.retry_after)
    }
}

/// Send `request` with `timeout` and read the answer; a transport error (time-out, refused connection, broken
/// body) comes back as the outcome to report.
pub async fn execute(request: reqwest::RequestBuilder, timeout: Duration) -> Result<Answer, SendOutcome> {
    let mut response = request.timeout(timeout).send().await.map_err(|e| transport(&e))?;
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = BODY_READ_MAX.saturating_sub(bytes.len());
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if bytes.len() >= BODY_READ_MAX {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let mut outcome = transport(&e);
                if let SendOutcome::Transient(f) = &mut outcome {
                    f.retry_after = retry_after;
                }
                return Err(outcome);
            }
        }
    }
    Ok(Answer {
        status,
        retry_after,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// A transport error as a transient failure: `timeout`, `connect`, or `transport` for anything else (a reset
/// connection, a broken body). The request may or may not have reached the provider.
pub fn transport(err: &reqwest::Error) -> SendOutcome {
    let (code, what) = if err.is_timeout() {
        ("timeout", "the provider did not answer in time")
    } else if err.is_connect() {
        ("connect", "could not connect to the provider")
    } else {
        ("transport", "the connection to the provider failed")
    };
    SendOutcome::Transient(Failure::message(code, cap(&format!("{what}: {err}"))))
}

/// `Retry-After` as a wait: delta-seconds (`7`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, a date in the
/// past being no wait). Unreadable values are ignored; waits are capped at [`RETRY_AFTER_MAX`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    parse_retry_after(value, chrono::Utc::now())
}

/// [`retry_after`] on a header value, `now` being the time to count an HTTP date from.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(RETRY_AFTER_MAX));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO).min(RETRY_AFTER_MAX))
}

/// Whether an HTTP status is worth another try: 408, 429 and every 5xx.
pub fn is_transient_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT || status.is_server_error()
}

/// The fallback when the body says nothing usable: code `http_<status>`, the body (capped) as the text. 408, 429
/// and 5xx are transient; 401 and 403 stop the account; any other status is permanent for the message.
pub fn by_status(status: StatusCode, body: &str, retry_after: Option<Duration>) -> SendOutcome {
    let text = match body.trim() {
        "" => status.canonical_reason().unwrap_or("no body").to_owned(),
        b => cap(b),
    };
    let failure = Failure {
        retry_after,
        ..Failure::message(format!("http_{}", status.as_u16()), text)
    };
    if is_transient_status(status) {
        SendOutcome::Transient(failure)
    } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        SendOutcome::Permanent(Failure {
            scope: FailureScope::Account,
            ..failure
        })
    } else {
        SendOutcome::Permanent(failure)
    }
}

/// A 2xx answer whose body is not what the provider documents: permanent, because the provider may well have
/// taken the message and another try could send it twice.
pub fn unreadable_success(answer: &Answer) -> SendOutcome {
    let shown = match answer.body.trim() {
        "" => "an empty body".to_owned(),
        b => format!("`{}`", cap(b)),
    };
    SendOutcome::Permanent(answer.with_retry_after(Failure::message(
        "invalid_response",
        format!(
            "the provider answered {} with {shown}, not the documented success",
            answer.status.as_u16()
        ),
    )))
}

/// `text` cut to [`TEXT_MAX`] characters (with `…` when cut), for storage on the message.
pub fn cap(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(TEXT_MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// A JSON code (`131026` or `"E400"`) as a string; `None` for anything else or an empty string.
pub fn code_string(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// The human text of an error body in one of the common shapes: `error.message`, `error` as a string,
/// `meta.developer_message`, `message`, `description`, `detail`, `errors[0].{message,title,detail}`.
pub fn error_text(body: &Value) -> Option<String> {
    let error = body.get("error");
    let first = body.get("errors").and_then(|e| e.get(0));
    [
        error.and_then(|e| e.get("message")),
        error.and_then(|e| e.get("description")),
        error,
        body.get("meta").and_then(|m| m.get("developer_message")),
        body.get("message"),
        body.get("description"),
        body.get("detail"),
        first.and_then(|e| e.get("message")),
        first.and_then(|e| e.get("title")),
        first.and_then(|e| e.get("detail")),
        first,
    ]
    .into_iter()
    .find_map(str_of)
    .map(cap)
}

/// A JSON string, if it is a non-empty one.
pub fn str_of(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// `phone` without its `+` and any formatting: the digits BSPs take (`+54 9 11…` → `54911…`).
pub fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// A credential that is present and not blank.
pub fn credential<'a>(
    account: &'a pregon_core::campaign::Account,
    key: &'static str,
) -> Result<&'a str, crate::ProviderError> {
    account
        .credentials
        .get(key)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(crate::ProviderError::Missing {
            provider: account.settings.provider,
            what: key,
        })
}

/// The account's sender, if not blank.
pub fn sender(account: &pregon_core::campaign::Account) -> Result<&str, crate::ProviderError> {
    Some(account.settings.sender.trim())
        .filter(|s| !s.is_empty())
        .ok_or(crate::ProviderError::Missing {
            provider: account.settings.provider,
            what: "sender",
        })
}

/// The account's `base_url` without a trailing `/`, or `default`.
pub fn base_url(account: &pregon_core::campaign::Account, default: &str) -> String {
    account
        .settings
        .base_url
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:27:50Z")
            .map(|d| d.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("99999999999999999999999", now), Some(RETRY_AFTER_MAX));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn statuses_fall_back_by_class() {
        let t = |s: u16| by_status(StatusCode::from_u16(s).unwrap_or_default(), "", None);
        assert!(matches!(t(503), SendOutcome::Transient(f) if f.code == "http_503"));
        assert!(matches!(t(429), SendOutcome::Transient(_)));
        assert!(matches!(t(401), SendOutcome::Permanent(f) if f.scope == FailureScope::Account));
        assert!(
            matches!(t(400), SendOutcome::Permanent(f) if f.scope == FailureScope::Message && f.message == "Bad Request")
        );
    }

    #[test]
    fn texts_are_capped_on_char_boundaries() {
        let long = "é".repeat(TEXT_MAX + 10);
        let capped = cap(&long);
        assert_eq!(capped.chars().count(), TEXT_MAX + 1);
        assert!(capped.ends_with('…'));
        assert_eq!(cap(" short "), "short");
    }

    #[test]
    fn digits_strip_formatting() {
        assert_eq!(digits("+54 9 11 2345-6789"), "5491123456789");
    }
}
