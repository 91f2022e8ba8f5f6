//! The HTTP side: a listener whose connections can be cut, the send endpoint and the admin endpoints.

use std::io;
use std::net::Shutdown;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::{IncomingStream, Listener};
use axum::{Json, Router};
use chrono::{TimeDelta, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::config::{MockConfig, StatusKind};
use crate::meta::{self, MetaError, SendSuccess};
use crate::state::{Outcome, Received, Shared};
use crate::webhook::StatusEvent;

/// A TCP listener whose accepted connections carry a handle that can shut the socket down mid-request.
pub(crate) struct MockListener(pub(crate) TcpListener);

/// A duplicate of the connection's socket, used to close it without an answer.
#[derive(Clone, Debug)]
pub(crate) struct ConnHandle(Option<Arc<std::net::TcpStream>>);

impl ConnHandle {
    /// Shuts the connection down in both directions: the client sees it closed with no answer.
    fn kill(&self) {
        if let Some(sock) = &self.0 {
            let _ = sock.shutdown(Shutdown::Both);
        }
    }
}

fn with_handle(stream: TcpStream) -> io::Result<(TcpStream, ConnHandle)> {
    let _ = stream.set_nodelay(true);
    let std_stream = stream.into_std()?;
    let duplicate = std_stream.try_clone()?;
    Ok((TcpStream::from_std(std_stream)?, ConnHandle(Some(Arc::new(duplicate)))))
}

impl Listener for MockListener {
    type Io = TcpStream;
    type Addr = ConnHandle;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, _)) => match with_handle(stream) {
                    Ok(pair) => {
                        tracing::trace!("mock provider: connection accepted");
                        return pair;
                    }
                    Err(e) => tracing::debug!(error = %e, "mock provider: cannot prepare a connection"),
                },
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "mock provider: accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnHandle(None))
    }
}

impl Connected<IncomingStream<'_, MockListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, MockListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// The mock's routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{version}/{phone_number_id}/messages", post(send_message))
        .route("/_mock/stats", get(stats))
        .route("/_mock/reset", post(reset))
        .route("/_mock/config", get(get_config).post(update_config))
        .fallback(not_found)
        .with_state(shared)
}

enum Action {
    Respond(Response),
    /// Close the connection without an answer.
    Drop,
}

async fn send_message(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    Path((version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    tracing::trace!("mock provider: request arrives");
    let (latency, action) = decide(&shared, version, phone_number_id, &headers, &body);
    tokio::time::sleep_until(started + latency).await;
    match action {
        Action::Respond(response) => response,
        Action::Drop => {
            conn.kill();
            let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

fn error(shared: &Shared, outcome: Outcome, e: MetaError) -> Action {
    shared.count(outcome, Some(e.http.as_u16()));
    Action::Respond(e.into_response())
}

/// Decides the answer to one send; all checks happen on arrival, only the answer waits for the latency.
fn decide(
    shared: &Shared,
    version: String,
    phone_number_id: String,
    headers: &HeaderMap,
    body: &Bytes,
) -> (Duration, Action) {
    let config = shared.config();
    let latency = config.latency;
    let mut rng = rand::rng();
    let mut roll = |p: f64| p > 0.0 && rng.random::<f64>() < p;

    if roll(config.drop_connection_ratio) {
        shared.count(Outcome::Dropped, None);
        return (latency, Action::Drop);
    }
    if let Some(token) = &config.access_token
        && !meta::bearer_matches(headers, token)
    {
        return (latency, error(shared, Outcome::Unauthorized, MetaError::unauthorized()));
    }
    let send = match meta::validate(body) {
        Ok(send) => send,
        Err(e) => return (latency, error(shared, Outcome::Invalid, e)),
    };
    if shared.take_throttle() {
        return (latency, error(shared, Outcome::Throttled, MetaError::throttled()));
    }
    let at = match config.rate_limit {
        Some(limit) => match shared.admit(limit) {
            Some(at) => at,
            None => return (latency, error(shared, Outcome::RateLimited, MetaError::rate_limited())),
        },
        None => std::time::Instant::now(),
    };
    let received_at = Utc::now();
    if roll(config.transient_ratio) {
        return (
            latency,
            error(shared, Outcome::Transient, MetaError::transient(&mut rand::rng())),
        );
    }
    if roll(config.error_ratio) {
        return (
            latency,
            error(shared, Outcome::Permanent, MetaError::permanent(config.error_code)),
        );
    }

    let wamid = meta::new_wamid();
    let wa_id = meta::digits(&send.to);
    let lost = roll(config.lost_answer_ratio);
    let success = serde_json::to_vec(&SendSuccess::new(&send.to, &wa_id, &wamid)).unwrap_or_default();

    if let Some(webhook) = &config.webhook {
        let kinds: Vec<StatusKind> = if roll(webhook.fail_ratio) {
            vec![StatusKind::Failed]
        } else {
            webhook.statuses.clone()
        };
        let conversation_id = meta::new_conversation_id();
        let base = Instant::now() + latency;
        let events = kinds.into_iter().enumerate().map(|(i, kind)| {
            let offset = latency + webhook.delay * (i as u32 + 1);
            let timestamp = (received_at + TimeDelta::from_std(offset).unwrap_or(TimeDelta::zero())).timestamp();
            let event = StatusEvent {
                kind,
                wamid: wamid.clone(),
                recipient_id: wa_id.clone(),
                phone_number_id: phone_number_id.clone(),
                timestamp,
                callback_data: send.callback_data.clone(),
                conversation_id: conversation_id.clone(),
            };
            (base + webhook.delay * (i as u32 + 1), event)
        });
        shared.schedule(events);
    }

    let (body_value, headers_kept) = if config.record_bodies {
        (send.json, headers.clone())
    } else {
        (serde_json::Value::Null, HeaderMap::new())
    };
    shared.record(Received {
        at,
        received_at,
        version,
        phone_number_id,
        to: send.to,
        wa_id,
        template: send.template,
        language: send.language,
        body: body_value,
        headers: headers_kept,
        wamid,
        callback_data: send.callback_data,
        answered: !lost,
    });
    if lost {
        shared.count(Outcome::LostAnswer, None);
        return (latency, Action::Drop);
    }
    shared.count(Outcome::Accepted, Some(200));
    let response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        success,
    )
        .into_response();
    (latency, Action::Respond(response))
}

async fn not_found(State(shared): State<Arc<Shared>>) -> Response {
    shared.count(Outcome::NotFound, Some(400));
    let mut e =
        MetaError::invalid("Unknown path components: this mock serves POST /{version}/{phone_number_id}/messages");
    e.code = 2500;
    e.title = "Unknown path components".to_owned();
    e.into_response()
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.stats()).into_response()
}

async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.reset();
    Json(serde_json::json!({ "reset": true })).into_response()
}

/// The runtime knobs as JSON, for `GET`/`POST /_mock/config` (0 or "" turns `rate_limit`/`access_token` off).
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigPatch {
    latency_ms: Option<u64>,
    error_ratio: Option<f64>,
    error_code: Option<u32>,
    transient_ratio: Option<f64>,
    rate_limit: Option<u32>,
    throttle_bursts: Option<u32>,
    drop_connection_ratio: Option<f64>,
    lost_answer_ratio: Option<f64>,
    access_token: Option<String>,
    webhook_url: Option<String>,
    app_secret: Option<String>,
    status_delay_ms: Option<u64>,
    webhook_fail_ratio: Option<f64>,
}

fn config_view(config: &MockConfig, throttle_left: u32) -> ConfigPatch {
    ConfigPatch {
        latency_ms: Some(config.latency.as_millis() as u64),
        error_ratio: Some(config.error_ratio),
        error_code: Some(config.error_code),
        transient_ratio: Some(config.transient_ratio),
        rate_limit: Some(config.rate_limit.unwrap_or(0)),
        throttle_bursts: Some(throttle_left),
        drop_connection_ratio: Some(config.drop_connection_ratio),
        lost_answer_ratio: Some(config.lost_answer_ratio),
        access_token: Some(config.access_token.clone().unwrap_or_default()),
        webhook_url: Some(config.webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default()),
        app_secret: None,
        status_delay_ms: config.webhook.as_ref().map(|w| w.delay.as_millis() as u64),
        webhook_fail_ratio: config.webhook.as_ref().map(|w| w.fail_ratio),
    }
}

async fn get_config(State(shared): State<Arc<Shared>>) -> Response {
    let throttle_left = shared.throttle_left.load(std::sync::atomic::Ordering::Acquire);
    Json(config_view(&shared.config(), throttle_left)).into_response()
}

async fn update_config(State(shared): State<Arc<Shared>>, Json(patch): Json<ConfigPatch>) -> Response {
    {
        let mut c = shared.config_mut();
        if let Some(v) = patch.latency_ms {
            c.latency = Duration::from_millis(v);
        }
        if let Some(v) = patch.error_ratio {
            c.error_ratio = v;
        }
        if let Some(v) = patch.error_code {
            c.error_code = v;
        }
        if let Some(v) = patch.transient_ratio {
            c.transient_ratio = v;
        }
        if let Some(v) = patch.rate_limit {
            c.rate_limit = (v > 0).then_some(v);
        }
        if let Some(v) = patch.drop_connection_ratio {
            c.drop_connection_ratio = v;
        }
        if let Some(v) = patch.lost_answer_ratio {
            c.lost_answer_ratio = v;
        }
        if let Some(v) = patch.access_token {
            c.access_token = (!v.is_empty()).then_some(v);
        }
        if let Some(url) = patch.webhook_url {
            if url.is_empty() {
                c.webhook = None;
            } else if let Some(w) = c.webhook.as_mut() {
                w.url = url;
            } else {
                c.webhook = Some(crate::config::WebhookConfig::new(url, String::new()));
            }
        }
        if let Some(w) = c.webhook.as_mut() {
            if let Some(secret) = patch.app_secret {
                w.app_secret = secret;
            }
            if let Some(ms) = patch.status_delay_ms {
                w.delay = Duration::from_millis(ms);
            }
            if let Some(r) = patch.webhook_fail_ratio {
                w.fail_ratio = r;
            }
        }
    }
    if let Some(n) = patch.throttle_bursts {
        shared.throttle_left.store(n, std::sync::atomic::Ordering::Release);
    }
    get_config(State(shared)).await
}
