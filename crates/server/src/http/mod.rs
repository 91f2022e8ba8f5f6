//! The HTTP API: routes, the layers around them, and serving with graceful shutdown.

pub mod accounts;
pub mod callback;
pub mod campaigns;
pub mod chat_tonic;
pub mod controls;
pub mod dashboard;
pub mod error;
pub mod health;
pub mod jelou;
pub mod messages;
pub mod openapi;
pub mod optouts;
pub mod samples;
pub mod templates;
pub mod uploads;
pub mod webhooks;

use crate::auth;
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderName, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use error::{ApiError, ensure_error_body};
use std::future::Future;
use std::iter::once;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

/// The request-id header: taken from the client if sent, else generated; echoed in every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every route of the service.
pub fn router(state: AppState) -> Router {
    let native = Router::new()
        .merge(accounts::routes())
        .merge(templates::routes())
        .merge(campaigns::routes())
        .merge(controls::routes())
        .merge(messages::routes())
        .merge(uploads::routes())
        .merge(jelou::routes())
        .merge(optouts::routes())
        .merge(samples::routes())
        .merge(callback::routes())
        .merge(dashboard::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_app));

    let chat_tonic =
        chat_tonic::routes()
            .merge(messages::chat_tonic_routes())
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                auth::require_app_or_query_token,
            ));

    let request_id_span = |request: &Request| {
        let id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        // The path only: query strings may carry a Chat-Tonic token.
        tracing::info_span!("request", id, method = %request.method(), path = request.uri().path(), app = tracing::field::Empty)
    };

    Router::new()
        .nest("/v1", native)
        .nest("/api/v1", chat_tonic)
        .merge(health::routes())
        .merge(webhooks::routes())
        .merge(dashboard::public_routes())
        .merge(openapi::routes())
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async { ApiError::from_status(StatusCode::METHOD_NOT_ALLOWED) })
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::map_response(ensure_error_body))
        .layer(middleware::from_fn(jelou::jelou_shapes))
        .layer(middleware::from_fn_with_state(state.clone(), deadline))
        .layer(TraceLayer::new_for_http().make_span_with(request_id_span))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new(once(AUTHORIZATION)))
        .with_state(state)
}

/// Serve on `listener` until `shutdown` resolves, then finish the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = state.stopping.clone();
    let shutdown = async move {
        shutdown.await;
        stopping.send_replace(true);
    };
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Answers `408 request_timeout` when a request runs past its time limit: the upload limit for campaign uploads
/// (100 MB on a slow link, or a `file_url` download, takes minutes), the request limit for everything else.
async fn deadline(State(state): State<AppState>, request: Request, next: middleware::Next) -> Response {
    let limit = if is_upload(request.method(), request.uri().path()) {
        state.config.upload_timeout
    } else {
        state.config.request_timeout
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::from_status(StatusCode::REQUEST_TIMEOUT).into_response(),
    }
}

/// The routes that take a campaign file: native, Jelou and Chat-Tonic.
fn is_upload(method: &Method, path: &str) -> bool {
    if method != Method::POST {
        return false;
    }
    matches!(path, "/v1/campaigns" | "/v1/campaigns/validate" | "/v1/hsm/file")
        || path.strip_prefix("/api/v1/").is_some_and(|rest| {
            rest.split_once('/')
                .is_some_and(|(_, tail)| tail == "hsm/campaign/upload")
        })
}

/// Page sizes for list endpoints.
pub(crate) fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(100).clamp(1, 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_the_four_file_routes() {
        assert!(is_upload(&Method::POST, "/v1/campaigns"));
        assert!(is_upload(&Method::POST, "/v1/campaigns/validate"));
        assert!(is_upload(&Method::POST, "/v1/hsm/file"));
        assert!(is_upload(&Method::POST, "/api/v1/acme/hsm/campaign/upload"));
        assert!(!is_upload(&Method::GET, "/v1/campaigns"));
        assert!(!is_upload(&Method::POST, "/v1/messages"));
        assert!(!is_upload(&Method::POST, "/api/v1/acme/x/hsm/campaign/upload"));
        assert!(!is_upload(&Method::POST, "/v1/campaigns/01/pause"));
    }
}
