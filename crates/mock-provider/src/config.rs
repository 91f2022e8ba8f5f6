//! The mock's knobs: [`MockConfig`] and [`WebhookConfig`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The permanent error code answered for the `error_ratio` share by default (message undeliverable).
pub const DEFAULT_ERROR_CODE: u32 = 131_026;

/// A message status the mock reports through the status webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusKind {
    /// The message left Meta for the user's device.
    Sent,
    /// The message reached the user's device.
    Delivered,
    /// The user opened the message.
    Read,
    /// Meta could not deliver the message (sent with `errors[]`, code 131049).
    Failed,
}

impl StatusKind {
    /// The wire name (`sent`, `delivered`, `read`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for StatusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StatusKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sent" => Ok(Self::Sent),
            "delivered" => Ok(Self::Delivered),
            "read" => Ok(Self::Read),
            "failed" => Ok(Self::Failed),
            other => Err(format!(
                "unknown status {other:?} (expected sent, delivered, read or failed)"
            )),
        }
    }
}

/// Where and how the mock POSTs Meta-format status webhooks after accepting a message.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookConfig {
    /// The receiver's URL (for Pregon: `…/webhooks/meta/{account}`).
    pub url: String,
    /// The app secret keying `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
    pub app_secret: String,
    /// Delay from the answer to the first status, and between consecutive statuses of one message.
    pub delay: Duration,
    /// Statuses sent for every accepted message, in this order (default: sent, delivered, read).
    pub statuses: Vec<StatusKind>,
    /// Share of accepted messages that get a single asynchronous `failed` status (error 131049) instead.
    pub fail_ratio: f64,
    /// Most statuses in one POST (Meta batches up to 1,000).
    pub max_batch: usize,
    /// How long to wait, once a status is due, for others to join its POST (not while draining a backlog).
    pub batch_window: Duration,
    /// Further attempts after a failed POST (non-2xx or transport error), with 100 ms, 200 ms, 400 ms… pauses.
    pub retries: u32,
    /// `entry[].id`: the WhatsApp Business Account id.
    pub waba_id: String,
    /// `metadata.display_phone_number` of the sending number.
    pub display_phone_number: String,
}

impl WebhookConfig {
    /// A webhook to `url` signed with `app_secret`, with the defaults for every other field.
    pub fn new(url: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            app_secret: app_secret.into(),
            delay: Duration::from_millis(100),
            statuses: vec![StatusKind::Sent, StatusKind::Delivered, StatusKind::Read],
            fail_ratio: 0.0,
            max_batch: 1000,
            batch_window: Duration::from_millis(10),
            retries: 3,
            waba_id: "102290129340398".to_owned(),
            display_phone_number: "15550783881".to_owned(),
        }
    }
}

/// Everything the mock can be told to do; every field can also be changed at runtime through [`crate::MockProvider`].
///
/// Checks run in this order: dropped connection, auth, body validation, 429 bursts, rate limit, transient error,
/// permanent error, acceptance.
#[derive(Clone, Debug, PartialEq)]
pub struct MockConfig {
    /// Delay before every answer (requests are served concurrently, so this does not limit throughput).
    pub latency: Duration,
    /// Share of requests answered with the permanent Meta error `error_code`.
    pub error_ratio: f64,
    /// The permanent Meta error code used for `error_ratio` (default 131026, message undeliverable).
    pub error_code: u32,
    /// Share of requests answered with a transient error: HTTP 500 code 131000, or HTTP 503 code 2.
    pub transient_ratio: f64,
    /// Messages per second over a sliding 1-second window; above it HTTP 400 with Meta error 130429.
    pub rate_limit: Option<u32>,
    /// Answer the next N requests with HTTP 429 and `Retry-After: 1`.
    pub throttle_bursts: u32,
    /// Share of requests whose connection is closed without an answer (the message is not accepted).
    pub drop_connection_ratio: f64,
    /// Share of accepted messages whose answer is lost: recorded and reported by webhook, but the connection closes.
    pub lost_answer_ratio: f64,
    /// When set, requests without `Authorization: Bearer <this>` get HTTP 401 with Meta error 190.
    pub access_token: Option<String>,
    /// Status webhooks to send after accepting a message.
    pub webhook: Option<WebhookConfig>,
    /// Keep each accepted request's body and headers in [`crate::Received`] (turn off for long benchmarks).
    pub record_bodies: bool,
    /// Accepted requests to make room for up front: growing the recording's table mid-run stalls the mock's one
    /// thread, and the requests queued behind the stall arrive bunched (benchmarks set their message count).
    pub expected_requests: usize,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            error_ratio: 0.0,
            error_code: DEFAULT_ERROR_CODE,
            transient_ratio: 0.0,
            rate_limit: None,
            throttle_bursts: 0,
            drop_connection_ratio: 0.0,
            lost_answer_ratio: 0.0,
            access_token: None,
            webhook: None,
            record_bodies: true,
            expected_requests: 0,
        }
    }
}
