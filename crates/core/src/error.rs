//! The error catalogue: every error a client can get has one stable code, one HTTP status and a description.
//! `docs/errors.md` lists the same table; a test keeps the two equal.

use serde::{Serialize, Serializer};

macro_rules! catalogue {
    ($($variant:ident => ($code:literal, $status:literal, $doc:literal)),+ $(,)?) => {
        /// A stable error code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $doc] $variant),+
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as it appears in responses.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),+ }
            }

            /// The HTTP status it is answered with.
            pub const fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),+ }
            }

            /// What it means, for the docs.
            pub const fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc),+ }
            }
        }
    };
}

catalogue! {
    Unauthorized => ("unauthorized", 401, "No credentials, or credentials that match no app. Send `Authorization: Bearer <token>` (or Basic `app:token`)."),
    NotFound => ("not_found", 404, "The resource does not exist, or belongs to another app."),
    MethodNotAllowed => ("method_not_allowed", 405, "The path exists but not with this HTTP method."),
    RequestTimeout => ("request_timeout", 408, "The request took longer than the server allows."),
    Conflict => ("conflict", 409, "The resource already exists (for example an account or template with the same name)."),
    InvalidTransition => ("invalid_transition", 409, "The campaign or message is not in a state that allows this action."),
    PayloadTooLarge => ("payload_too_large", 413, "The request body is larger than the configured limit."),
    UnsupportedMediaType => ("unsupported_media_type", 415, "The request body has a content type this endpoint does not take."),
    InvalidJson => ("invalid_json", 400, "The request body is not valid JSON, or not of the expected shape."),
    InvalidQuery => ("invalid_query", 400, "A query-string parameter is malformed."),
    InvalidRequest => ("invalid_request", 422, "A field is missing or has a value that is not allowed; `details.field` names it."),
    InvalidAccount => ("invalid_account", 422, "The account settings or credentials are not valid for its provider."),
    InvalidTemplate => ("invalid_template", 422, "The template definition breaks WhatsApp's rules; `details.path` names the field."),
    InvalidFile => ("invalid_file", 422, "The campaign file cannot be used as a whole; `details.reason` says why (see the file error reasons)."),
    InvalidSchedule => ("invalid_schedule", 422, "`scheduled_at` / `date` / `scheduledAt` is not an ISO-8601 time with an offset, or is in the past."),
    FetchFailed => ("fetch_failed", 422, "`file_url` could not be fetched: unreachable, refused (private address), too large, too slow, or not 2xx."),
    ProviderError => ("provider_error", 502, "The provider refused a request Pregon made for you, or did not answer (template sync); the message says which and why."),
    Internal => ("internal", 500, "Something failed on the server; the request id in the response headers finds it in the logs."),
    Unavailable => ("unavailable", 503, "A dependency (the database) is not reachable."),
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_with_error_statuses() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!((400..600).contains(&code.http_status()));
            assert!(!code.description().is_empty());
        }
    }
}
