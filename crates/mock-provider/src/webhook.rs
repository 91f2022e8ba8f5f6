//! Status webhooks: scheduling, batching, signing and delivery with retries.

use std::cmp::{Ordering, Reverse};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::time::Duration;

use axum::body::Bytes;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::time::Instant;

use crate::config::{StatusKind, WebhookConfig};
use crate::state::{Shared, lock};

/// One status update waiting to be posted.
#[derive(Clone, Debug)]
pub(crate) struct StatusEvent {
    pub(crate) kind: StatusKind,
    pub(crate) wamid: String,
    pub(crate) recipient_id: String,
    pub(crate) phone_number_id: String,
    pub(crate) timestamp: i64,
    pub(crate) callback_data: Option<String>,
    pub(crate) conversation_id: String,
}

/// A status event with its due time; ordered by (due, sequence) so one message's statuses keep their order.
#[derive(Debug)]
pub(crate) struct Scheduled {
    pub(crate) due: Instant,
    pub(crate) seq: u64,
    pub(crate) event: StatusEvent,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// The hex HMAC-SHA256 of `body` keyed with `app_secret`: the part after `sha256=` in `X-Hub-Signature-256`.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app_secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

impl Shared {
    /// Queues status events, each due at its instant.
    pub(crate) fn schedule(&self, events: impl IntoIterator<Item = (Instant, StatusEvent)>) {
        {
            let mut queue = lock(&self.queue);
            for (due, event) in events {
                let seq = SEQ.fetch_add(1, AtomicOrdering::Relaxed);
                queue.push(Reverse(Scheduled { due, seq, event }));
            }
        }
        self.queue_notify.notify_one();
    }

    /// Pops up to `max` due events, in order.
    fn take_due(&self, max: usize) -> Vec<StatusEvent> {
        let mut queue = lock(&self.queue);
        let now = Instant::now();
        let mut batch = Vec::new();
        while batch.len() < max.max(1) {
            match queue.peek() {
                Some(Reverse(s)) if s.due <= now => {
                    if let Some(Reverse(s)) = queue.pop() {
                        batch.push(s.event);
                    }
                }
                _ => break,
            }
        }
        batch
    }
}

/// Posts due statuses forever, one batch at a time so that their order holds.
pub(crate) async fn run_dispatcher(shared: Arc<Shared>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent("facebookexternalua")
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "mock provider: cannot build the webhook HTTP client");
            return;
        }
    };
    let mut backlog = false;
    loop {
        let (max_batch, window) = shared
            .config()
            .webhook
            .as_ref()
            .map_or((1000, Duration::ZERO), |w| (w.max_batch, w.batch_window));
        let next_due = lock(&shared.queue).peek().map(|Reverse(s)| s.due);
        match next_due {
            None => {
                backlog = false;
                shared.queue_notify.notified().await;
                continue;
            }
            Some(due) if due > Instant::now() => {
                backlog = false;
                tokio::select! {
                    () = tokio::time::sleep_until(due) => {}
                    () = shared.queue_notify.notified() => {}
                }
                continue;
            }
            Some(_) => {}
        }
        // Something is due: unless a backlog is being drained, wait a moment so that its neighbours join the batch.
        if !backlog && !window.is_zero() {
            tokio::time::sleep(window).await;
        }
        let batch = shared.take_due(max_batch);
        backlog = batch.len() >= max_batch;
        if batch.is_empty() {
            continue;
        }
        let Some(config) = shared.config().webhook.clone() else {
            lock(&shared.webhook_stats).given_up += batch.len() as u64;
            continue;
        };
        deliver(&client, &shared, &config, &batch).await;
    }
}

async fn deliver(client: &reqwest::Client, shared: &Shared, config: &WebhookConfig, batch: &[StatusEvent]) {
    let body = Bytes::from(serde_json::to_vec(&payload(config, batch)).unwrap_or_default());
    let signature = format!("sha256={}", sign(&config.app_secret, &body));
    for attempt in 0..=config.retries {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100) * 2u32.saturating_pow(attempt - 1).min(64)).await;
        }
        let result = client
            .post(&config.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Hub-Signature-256", &signature)
            .body(body.clone())
            .send()
            .await;
        match result {
            Ok(resp) if resp.status().is_success() => {
                let mut stats = lock(&shared.webhook_stats);
                stats.posts += 1;
                for event in batch {
                    *stats.by_status.entry(event.kind).or_default() += 1;
                }
                return;
            }
            Ok(resp) => {
                tracing::debug!(status = %resp.status(), attempt, "mock provider: webhook POST refused");
                lock(&shared.webhook_stats).failed_attempts += 1;
            }
            Err(e) => {
                tracing::debug!(error = %e, attempt, "mock provider: webhook POST failed");
                lock(&shared.webhook_stats).failed_attempts += 1;
            }
        }
    }
    tracing::warn!(statuses = batch.len(), url = %config.url, "mock provider: webhook given up after retries");
    lock(&shared.webhook_stats).given_up += batch.len() as u64;
}

/// The Meta webhook body for a batch: one entry (the WABA), one change per phone-number id.
pub(crate) fn payload(config: &WebhookConfig, batch: &[StatusEvent]) -> Value {
    let mut groups: Vec<(&str, Vec<Value>)> = Vec::new();
    for event in batch {
        let status = status_json(event);
        match groups.iter_mut().find(|(id, _)| *id == event.phone_number_id) {
            Some((_, statuses)) => statuses.push(status),
            None => groups.push((&event.phone_number_id, vec![status])),
        }
    }
    let changes: Vec<Value> = groups
        .into_iter()
        .map(|(phone_number_id, statuses)| {
            json!({
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": config.display_phone_number,
                        "phone_number_id": phone_number_id,
                    },
                    "statuses": statuses,
                },
            })
        })
        .collect();
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": config.waba_id, "changes": changes }],
    })
}

fn status_json(event: &StatusEvent) -> Value {
    let mut status = json!({
        "id": event.wamid,
        "status": event.kind.as_str(),
        "timestamp": event.timestamp.to_string(),
        "recipient_id": event.recipient_id,
    });
    let pricing = json!({ "billable": true, "pricing_model": "PMP", "type": "regular", "category": "marketing" });
    if let Some(obj) = status.as_object_mut() {
        if let Some(data) = &event.callback_data {
            obj.insert("biz_opaque_callback_data".into(), json!(data));
        }
        match event.kind {
            StatusKind::Sent => {
                obj.insert(
                    "conversation".into(),
                    json!({
                        "id": event.conversation_id,
                        "expiration_timestamp": (event.timestamp + 86_400).to_string(),
                        "origin": { "type": "marketing" },
                    }),
                );
                obj.insert("pricing".into(), pricing);
            }
            StatusKind::Delivered => {
                obj.insert(
                    "conversation".into(),
                    json!({ "id": event.conversation_id, "origin": { "type": "marketing" } }),
                );
                obj.insert("pricing".into(), pricing);
            }
            StatusKind::Read => {}
            StatusKind::Failed => {
                let title = "This message was not delivered to maintain healthy ecosystem engagement.";
                obj.insert(
                    "errors".into(),
                    json!([{
                        "code": 131_049,
                        "title": title,
                        "message": title,
                        "error_data": {
                            "details": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
                        },
                        "href": "/documentation/business-messaging/whatsapp/support/error-codes",
                    }]),
                );
            }
        }
    }
    status
}
