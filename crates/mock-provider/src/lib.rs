//! A mock Meta WhatsApp Cloud API for Pregon's integration tests and benchmarks.
//!
//! [`MockProvider::start`] serves `POST /{version}/{phone_number_id}/messages` on `127.0.0.1:<random port>`; point an
//! account's `base_url` at [`MockProvider::url`]. It answers with Meta's exact success and error bodies, can be told
//! to be slow, fail, rate-limit, throttle or drop connections, records every accepted request for assertions, and
//! posts signed status webhooks (`sent`, `delivered`, `read`, `failed`) for the messages it accepts.
//!
//! Admin endpoints for other processes: `GET /_mock/stats`, `POST /_mock/reset`, `GET`/`POST /_mock/config`.

mod config;
mod meta;
mod server;
mod state;
mod webhook;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::AbortHandle;

pub use axum::http::HeaderMap;
pub use config::{DEFAULT_ERROR_CODE, MockConfig, StatusKind, WebhookConfig};
pub use meta::digits;
pub use state::{Received, Stats, WebhookStats, max_in_window};
pub use webhook::sign;

use state::Shared;

/// A running mock provider; cheap to clone, and the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct MockProvider {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tasks: Vec<AbortHandle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::fmt::Debug for MockProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockProvider")
            .field("addr", &self.inner.addr)
            .finish_non_exhaustive()
    }
}

impl MockProvider {
    /// Starts a mock on `127.0.0.1:0` (a random port), served by tasks on the current tokio runtime.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start(config: MockConfig) -> Self {
        #[allow(clippy::expect_used)]
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), config)
            .await
            .expect("mock provider: cannot bind 127.0.0.1:0")
    }

    /// Starts a mock listening on `addr`.
    pub async fn bind(addr: SocketAddr, config: MockConfig) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let app = server::router(shared.clone()).into_make_service_with_connect_info::<server::ConnHandle>();
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(server::MockListener(listener), app).await {
                tracing::error!(error = %e, "mock provider: server stopped");
            }
        });
        let dispatcher = tokio::spawn(webhook::run_dispatcher(shared.clone()));
        Ok(Self {
            inner: Arc::new(Inner {
                shared,
                addr,
                tasks: vec![server.abort_handle(), dispatcher.abort_handle()],
            }),
        })
    }

    /// The base URL (`http://127.0.0.1:PORT`), to be used as the account's `base_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The full send URL for an API version and phone-number id (`{url}/{version}/{phone_number_id}/messages`).
    pub fn messages_url(&self, version: &str, phone_number_id: &str) -> String {
        format!("{}/{version}/{phone_number_id}/messages", self.url())
    }

    /// A copy of the current configuration.
    pub fn config(&self) -> MockConfig {
        let mut config = self.inner.shared.config().clone();
        config.throttle_bursts = self.inner.shared.throttle_left.load(Ordering::Acquire);
        config
    }

    /// Changes the configuration in place (`throttle_bursts` changes are applied too).
    pub fn update_config(&self, f: impl FnOnce(&mut MockConfig)) {
        let mut config = self.config();
        let before = config.throttle_bursts;
        f(&mut config);
        if config.throttle_bursts != before {
            self.inner
                .shared
                .throttle_left
                .store(config.throttle_bursts, Ordering::Release);
        }
        *self.inner.shared.config_mut() = config;
    }

    /// Sets the delay before every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.inner.shared.config_mut().latency = latency;
    }

    /// Sets the share of requests answered with the permanent error `error_code`.
    pub fn set_error_ratio(&self, ratio: f64) {
        self.inner.shared.config_mut().error_ratio = ratio;
    }

    /// Sets the permanent Meta error code answered for the `error_ratio` share.
    pub fn set_error_code(&self, code: u32) {
        self.inner.shared.config_mut().error_code = code;
    }

    /// Sets the share of requests answered with a transient error (500/131000 or 503/2).
    pub fn set_transient_ratio(&self, ratio: f64) {
        self.inner.shared.config_mut().transient_ratio = ratio;
    }

    /// Sets the messages-per-second limit (sliding 1-second window), or removes it.
    pub fn set_rate_limit(&self, limit: Option<u32>) {
        self.inner.shared.config_mut().rate_limit = limit;
    }

    /// Answers the next `n` requests with HTTP 429 and `Retry-After: 1`.
    pub fn set_throttle_bursts(&self, n: u32) {
        self.inner.shared.throttle_left.store(n, Ordering::Release);
    }

    /// Sets the share of requests whose connection is closed without an answer.
    pub fn set_drop_connection_ratio(&self, ratio: f64) {
        self.inner.shared.config_mut().drop_connection_ratio = ratio;
    }

    /// Sets the share of accepted messages whose answer is lost (connection closed after acceptance).
    pub fn set_lost_answer_ratio(&self, ratio: f64) {
        self.inner.shared.config_mut().lost_answer_ratio = ratio;
    }

    /// Requires `Authorization: Bearer <token>`, or accepts anything with `None`.
    pub fn set_access_token(&self, token: Option<String>) {
        self.inner.shared.config_mut().access_token = token;
    }

    /// Sets or removes the status webhook.
    pub fn set_webhook(&self, webhook: Option<WebhookConfig>) {
        self.inner.shared.config_mut().webhook = webhook;
    }

    /// Every accepted request so far, in the order they were accepted.
    pub fn received(&self) -> Vec<Received> {
        self.inner.shared.recording().received.clone()
    }

    /// How many requests were accepted.
    pub fn accepted_count(&self) -> usize {
        self.inner.shared.accepted_count()
    }

    /// Accepted messages per recipient (keyed by the digits of `to`).
    pub fn count_by_recipient(&self) -> HashMap<String, usize> {
        self.inner.shared.recording().per_recipient.clone()
    }

    /// Recipients accepted more than once, with their counts, sorted by recipient.
    pub fn duplicates(&self) -> Vec<(String, usize)> {
        let mut dups: Vec<(String, usize)> = self
            .inner
            .shared
            .recording()
            .per_recipient
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        dups.sort();
        dups
    }

    /// The most accepted requests within any sliding window of length `window`, by arrival time.
    pub fn max_in_any_window(&self, window: Duration) -> usize {
        let times = self.inner.shared.recording().received.iter().map(|r| r.at).collect();
        max_in_window(times, window)
    }

    /// Waits until at least `n` requests were accepted; false if `timeout` passed first.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.shared.accepted_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.accepted_count() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.accepted_count() >= n;
            }
        }
    }

    /// Counters and results, as `GET /_mock/stats` serves them.
    pub fn stats(&self) -> Stats {
        self.inner.shared.stats()
    }

    /// Forgets every recorded request, counter, the rate-limit window and pending webhooks; the config stays.
    pub fn reset(&self) {
        self.inner.shared.reset();
    }
}
