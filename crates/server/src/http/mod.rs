//! The HTTP API: routes, the layers around them, and serving with graceful shutdown.

pub mod accounts;
pub mod callback;
pub mod campaigns;
pub mod chat_tonic;
pub mod controls;
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
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use error::{ApiError, ensure_error_body};
use std::future::Future;
use std::iter::once;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
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
        .merge(openapi::routes())
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async { ApiError::from_status(StatusCode::METHOD_NOT_ALLOWED) })
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::map_response(ensure_error_body))
        .layer(middleware::from_fn(jelou::jelou_shapes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ))
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

/// Page sizes for list endpoints.
pub(crate) fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(100).clamp(1, 1000)
}
