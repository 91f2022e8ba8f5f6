//! Shared state: the live config, the recording of accepted requests, counters and the rate-limit window.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;

use crate::config::{MockConfig, StatusKind};
use crate::webhook::Scheduled;

/// One accepted send request, as recorded for assertions.
#[derive(Clone, Debug)]
pub struct Received {
    /// When the request was admitted (monotonic clock; the instant the rate limiter counted).
    pub at: Instant,
    /// The same moment on the wall clock.
    pub received_at: DateTime<Utc>,
    /// The API version from the path (`v23.0`).
    pub version: String,
    /// The phone-number id from the path.
    pub phone_number_id: String,
    /// The `to` field exactly as sent.
    pub to: String,
    /// The digits of `to` (Meta's `wa_id` / `recipient_id`).
    pub wa_id: String,
    /// `template.name`.
    pub template: String,
    /// `template.language.code`.
    pub language: String,
    /// The whole request body (`Value::Null` when `record_bodies` is off).
    pub body: Value,
    /// The request headers (empty when `record_bodies` is off).
    pub headers: HeaderMap,
    /// The wamid answered for this message.
    pub wamid: String,
    /// `biz_opaque_callback_data` when the request carried it.
    pub callback_data: Option<String>,
    /// False when the answer was deliberately lost (`lost_answer_ratio`): accepted, but the client saw no answer.
    pub answered: bool,
}

/// What happened to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Outcome {
    Accepted,
    LostAnswer,
    Dropped,
    Unauthorized,
    Invalid,
    Throttled,
    RateLimited,
    Transient,
    Permanent,
    NotFound,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::LostAnswer => "lost_answer",
            Self::Dropped => "dropped",
            Self::Unauthorized => "unauthorized",
            Self::Invalid => "invalid",
            Self::Throttled => "throttled",
            Self::RateLimited => "rate_limited",
            Self::Transient => "transient_error",
            Self::Permanent => "permanent_error",
            Self::NotFound => "not_found",
        }
    }
}

/// Counters and results, as served by `GET /_mock/stats`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Stats {
    /// Every API request (admin endpoints excluded), whatever its outcome.
    pub requests: u64,
    /// Accepted messages (including those whose answer was deliberately lost).
    pub accepted: u64,
    /// Distinct recipients (by digits) among accepted messages.
    pub unique_recipients: usize,
    /// Recipients accepted more than once.
    pub duplicates: usize,
    /// Up to 100 of the recipients accepted more than once.
    pub duplicate_recipients: Vec<String>,
    /// The most accepted messages within any sliding 1-second window.
    pub max_per_second_window: usize,
    /// Accepted messages per second between the first and the last accepted one.
    pub mean_per_second: f64,
    /// When the first accepted message arrived.
    pub first_accepted_at: Option<DateTime<Utc>>,
    /// When the last accepted message arrived.
    pub last_accepted_at: Option<DateTime<Utc>>,
    /// Requests per HTTP status answered (dropped connections have none).
    pub by_status: BTreeMap<u16, u64>,
    /// Requests per outcome (`accepted`, `rate_limited`, `transient_error`, `dropped`…).
    pub by_outcome: BTreeMap<String, u64>,
    /// Status webhook delivery.
    pub webhooks: WebhookStats,
}

/// Status webhook delivery counters.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct WebhookStats {
    /// Statuses scheduled but not yet posted.
    pub pending: usize,
    /// POSTs answered 2xx.
    pub posts: u64,
    /// POST attempts that failed (non-2xx or transport error), retries included.
    pub failed_attempts: u64,
    /// Statuses dropped after the last retry failed.
    pub given_up: u64,
    /// Statuses delivered, per status.
    pub by_status: BTreeMap<StatusKind, u64>,
}

#[derive(Default)]
struct Counters {
    requests: u64,
    by_status: BTreeMap<u16, u64>,
    by_outcome: BTreeMap<Outcome, u64>,
}

pub(crate) struct Recording {
    pub(crate) received: Vec<Received>,
    pub(crate) per_recipient: HashMap<String, usize>,
    pub(crate) duplicates: usize,
}

impl Recording {
    fn with_capacity(n: usize) -> Self {
        Self {
            received: Vec::with_capacity(n),
            per_recipient: HashMap::with_capacity(n),
            duplicates: 0,
        }
    }
}

/// State shared by the server, the webhook dispatcher and the [`crate::MockProvider`] handle.
pub(crate) struct Shared {
    config: RwLock<MockConfig>,
    pub(crate) throttle_left: AtomicU32,
    window: Mutex<VecDeque<Instant>>,
    recording: Mutex<Recording>,
    counters: Mutex<Counters>,
    pub(crate) accepted_notify: Notify,
    pub(crate) queue: Mutex<BinaryHeap<Reverse<Scheduled>>>,
    pub(crate) queue_notify: Notify,
    pub(crate) webhook_stats: Mutex<WebhookStats>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(config: MockConfig) -> Self {
        let capacity = config.expected_requests;
        Self {
            throttle_left: AtomicU32::new(config.throttle_bursts),
            config: RwLock::new(config),
            window: Mutex::new(VecDeque::new()),
            recording: Mutex::new(Recording::with_capacity(capacity)),
            counters: Mutex::new(Counters::default()),
            accepted_notify: Notify::new(),
            queue: Mutex::new(BinaryHeap::new()),
            queue_notify: Notify::new(),
            webhook_stats: Mutex::new(WebhookStats::default()),
        }
    }

    pub(crate) fn config(&self) -> RwLockReadGuard<'_, MockConfig> {
        self.config.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn config_mut(&self) -> RwLockWriteGuard<'_, MockConfig> {
        self.config.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one 429 from the burst counter, if any is left.
    pub(crate) fn take_throttle(&self) -> bool {
        self.throttle_left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Admits a request under a sliding 1-second window of `limit`; returns the admission instant.
    pub(crate) fn admit(&self, limit: u32) -> Option<Instant> {
        let mut window = lock(&self.window);
        let now = Instant::now();
        while let Some(&front) = window.front() {
            if now.duration_since(front) >= Duration::from_secs(1) {
                window.pop_front();
            } else {
                break;
            }
        }
        if window.len() < limit as usize {
            window.push_back(now);
            Some(now)
        } else {
            None
        }
    }

    pub(crate) fn count(&self, outcome: Outcome, http: Option<u16>) {
        let mut c = lock(&self.counters);
        c.requests += 1;
        *c.by_outcome.entry(outcome).or_default() += 1;
        if let Some(code) = http {
            *c.by_status.entry(code).or_default() += 1;
        }
    }

    pub(crate) fn record(&self, received: Received) {
        {
            let mut rec = lock(&self.recording);
            let n = rec.per_recipient.entry(received.wa_id.clone()).or_default();
            *n += 1;
            if *n == 2 {
                rec.duplicates += 1;
            }
            rec.received.push(received);
        }
        self.accepted_notify.notify_waiters();
    }

    pub(crate) fn recording(&self) -> MutexGuard<'_, Recording> {
        lock(&self.recording)
    }

    pub(crate) fn accepted_count(&self) -> usize {
        lock(&self.recording).received.len()
    }

    pub(crate) fn reset(&self) {
        let capacity = self.config().expected_requests;
        *lock(&self.recording) = Recording::with_capacity(capacity);
        *lock(&self.counters) = Counters::default();
        lock(&self.window).clear();
        lock(&self.queue).clear();
        *lock(&self.webhook_stats) = WebhookStats::default();
    }

    pub(crate) fn stats(&self) -> Stats {
        let (times, first, last, unique, duplicates, dup_list) = {
            let rec = lock(&self.recording);
            let times: Vec<Instant> = rec.received.iter().map(|r| r.at).collect();
            let first = rec.received.iter().min_by_key(|r| r.at).map(|r| (r.at, r.received_at));
            let last = rec.received.iter().max_by_key(|r| r.at).map(|r| (r.at, r.received_at));
            let dup_list: Vec<String> = rec
                .per_recipient
                .iter()
                .filter(|(_, n)| **n > 1)
                .take(100)
                .map(|(k, _)| k.clone())
                .collect();
            (times, first, last, rec.per_recipient.len(), rec.duplicates, dup_list)
        };
        let mean_per_second = match (first, last) {
            (Some((a, _)), Some((b, _))) if b > a && times.len() > 1 => {
                (times.len() - 1) as f64 / b.duration_since(a).as_secs_f64()
            }
            _ => 0.0,
        };
        let counters = lock(&self.counters);
        let mut webhooks = lock(&self.webhook_stats).clone();
        webhooks.pending = lock(&self.queue).len();
        let accepted = counters.by_outcome.get(&Outcome::Accepted).copied().unwrap_or(0)
            + counters.by_outcome.get(&Outcome::LostAnswer).copied().unwrap_or(0);
        Stats {
            requests: counters.requests,
            accepted,
            unique_recipients: unique,
            duplicates,
            duplicate_recipients: dup_list,
            max_per_second_window: max_in_window(times, Duration::from_secs(1)),
            mean_per_second,
            first_accepted_at: first.map(|(_, t)| t),
            last_accepted_at: last.map(|(_, t)| t),
            by_status: counters.by_status.clone(),
            by_outcome: counters
                .by_outcome
                .iter()
                .map(|(k, v)| (k.name().to_owned(), *v))
                .collect(),
            webhooks,
        }
    }
}

/// The most timestamps within any window of length `window` (points less than `window` apart), computed exactly.
///
/// A window `[t, t + window)` holding the most points can always start at one of them, so two pointers over the
/// sorted times find it.
pub fn max_in_window(mut times: Vec<Instant>, window: Duration) -> usize {
    if window.is_zero() {
        return 0;
    }
    times.sort_unstable();
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= window {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}
