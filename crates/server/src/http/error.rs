//! The one place errors become HTTP responses: `{"error": {"code", "message", "details"}}` with the status of the
//! code in the catalogue (`pregon_core::ErrorCode`).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pregon_core::ErrorCode;
use pregon_store::StoreError;
use serde_json::{Value, json};

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    /// The catalogue code.
    pub code: ErrorCode,
    /// A message for people.
    pub message: String,
    /// Structured details (the field at fault, …).
    pub details: Option<Value>,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// Add details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// `not_found` naming what was not found.
    pub fn not_found(what: &str) -> Self {
        ApiError::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// `invalid_request` for one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidRequest, message).with_details(json!({ "field": field }))
    }

    /// The error a bare status (from a layer, not a handler) stands for.
    pub fn from_status(status: StatusCode) -> Self {
        let code = match status {
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
            s if s.is_client_error() => ErrorCode::InvalidRequest,
            _ => ErrorCode::Internal,
        };
        ApiError::new(code, code.description())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({"error": {"code": self.code, "message": self.message, "details": self.details}});
        let mut response = (status, axum::Json(body)).into_response();
        if self.code == ErrorCode::Unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"pregon\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::new(ErrorCode::NotFound, "not found"),
            StoreError::Conflict(message) => ApiError::new(ErrorCode::Conflict, message),
            StoreError::Transition(t) => ApiError::new(ErrorCode::InvalidTransition, t.to_string()),
            StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed) => {
                tracing::error!(error = %e, "database unavailable");
                ApiError::new(
                    ErrorCode::Unavailable,
                    "the database is not reachable; try again shortly",
                )
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::new(
                    ErrorCode::Internal,
                    "an internal error occurred; the request id finds it in the logs",
                )
            }
        }
    }
}

/// Maps a store error, naming `what` when it is "not found" (`account not found`, …).
pub fn not_found(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::not_found(what),
        other => other.into(),
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with `Content-Type: application/json`",
            ),
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                ErrorCode::PayloadTooLarge,
                "the request body is larger than the configured limit",
            ),
            other => ApiError::new(ErrorCode::InvalidJson, other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        // An id that does not parse names nothing that exists.
        ApiError::new(ErrorCode::NotFound, "not found")
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(ErrorCode::InvalidQuery, r.body_text())
    }
}

/// `axum::Json` whose rejections are catalogue errors.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path` whose rejections are `not_found`.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` whose rejections are `invalid_query`.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Turns any error response that is not already in the catalogue shape (a layer's bare 408 or 413, axum's 405)
/// into one, so every error a client sees has a code and a message.
pub async fn ensure_error_body(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let (parts, _) = response.into_parts();
        let mut fixed = ApiError::from_status(status).into_response();
        *fixed.status_mut() = status;
        for name in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(v) = parts.headers.get(&name) {
                fixed.headers_mut().insert(name, v.clone());
            }
        }
        if let Some(id) = parts.headers.get("x-request-id") {
            fixed.headers_mut().insert("x-request-id", id.clone());
        }
        return fixed;
    }
    response
}
