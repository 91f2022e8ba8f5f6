//! Outbound callbacks: each app may set a URL that Pregon POSTs its events to — every status change of its
//! messages, and every reply of a recipient with the `flag` of the message replied to. Events are written to an
//! outbox table (in the transaction that changed the status), so the webhook and send paths never wait for the
//! app; a delivery worker in every sending process claims due events (leased, `SKIP LOCKED` on PostgreSQL), POSTs
//! them signed with HMAC-SHA256, and retries failures with exponential backoff and jitter. See docs/api.md.

use crate::state::AppState;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use hmac::{Hmac, Mac};
use pregon_core::campaign::Account;
use pregon_core::message::Message;
use pregon_providers::webhooks::Inbound;
use pregon_store::{CallbackOutcome, ClaimedCallback, StoreError};
use rand::Rng;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::watch;

/// How callbacks are delivered.
#[derive(Clone, Debug)]
pub struct CallbackConfig {
    /// Attempts of an event before it is given up (kept with its last error).
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt, with jitter over the upper half.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Time limit of one POST.
    pub timeout: Duration,
    /// How often the outbox is looked at when it had nothing due.
    pub poll: Duration,
    /// Events claimed at a time.
    pub batch: u32,
    /// POSTs in flight per process.
    pub concurrency: usize,
    /// How long delivered and given-up events are kept.
    pub retention: Duration,
}

impl Default for CallbackConfig {
    fn default() -> Self {
        CallbackConfig {
            max_attempts: 12,
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            poll: Duration::from_millis(500),
            batch: 100,
            concurrency: 16,
            retention: Duration::from_secs(7 * 86_400),
        }
    }
}

/// `sha256=<hex HMAC-SHA256 of body with secret>`: the `X-Pregon-Signature` header.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this never fails.
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A new signing secret: 32 random bytes, hex.
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Exponential backoff before attempt `attempts + 1`, with jitter over the upper half.
fn backoff(cfg: &CallbackConfig, attempts: u32) -> Duration {
    let exp = cfg
        .backoff_base
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(20))
        .min(cfg.backoff_max);
    exp.mul_f64(rand::rng().random_range(0.5..=1.0))
}

/// The `reply` event of an inbound message, answering `original` (if found).
fn reply_event(inbound: &Inbound, original: Option<&Message>) -> Value {
    let button = (inbound.button_payload.is_some() || inbound.button_text.is_some())
        .then(|| json!({"payload": inbound.button_payload, "text": inbound.button_text}));
    json!({
        "type": "reply",
        "from": inbound.from,
        "text": inbound.text,
        "button": button,
        "at": inbound.at,
        "provider_message_id": inbound.provider_message_id,
        "flag": original.and_then(|m| m.flag.clone()),
        "message": original.map(|m| m.id),
        "campaign": original.and_then(|m| m.campaign_id),
    })
}

/// Enqueue a `reply` callback for each inbound message of `account`, if its app has a callback: the message
/// replied to is the one the context names (Pregon's id, else the provider's), else the last one the account sent
/// to that number. Returns how many were enqueued.
pub async fn enqueue_replies(
    state: &AppState,
    account: &Account,
    inbound: &[Inbound],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if inbound.is_empty() || state.store.callback(account.app_id).await?.is_none() {
        return Ok(0);
    }
    let q = state.store.send_queue();
    let mut events = Vec::with_capacity(inbound.len());
    for m in inbound {
        let mut original = None;
        if let Some(id) = m.context_message_id {
            original = state
                .store
                .get_message(account.app_id, id)
                .await
                .ok()
                .filter(|msg| msg.account_id == account.id);
        }
        if original.is_none()
            && let Some(pid) = &m.context_provider_message_id
        {
            original = q.message_by_provider_id(account.id, pid).await?;
        }
        if original.is_none() {
            original = q.last_sent_to(account.id, &m.from).await?;
        }
        events.push(reply_event(m, original.as_ref()));
    }
    q.enqueue_callbacks(account.app_id, &events, now).await
}

/// Deliver due callbacks until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let cfg = state.config.callbacks.clone();
    let q = state.store.send_queue();
    let mut last_purge: Option<std::time::Instant> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = state.clock.now().max(Utc::now());
        // Long enough for every POST of the batch to end (each has its time-out) before anyone else may take it.
        let lease = now + chrono::Duration::from_std(cfg.timeout * 3 + Duration::from_secs(30)).unwrap_or_default();
        let mut busy = false;
        match q.claim_callbacks(cfg.batch, lease, now).await {
            Ok(batch) => {
                busy = batch.len() == cfg.batch as usize;
                futures::stream::iter(batch)
                    .for_each_concurrent(cfg.concurrency.max(1), |cb| deliver(&state, &cfg, cb))
                    .await;
            }
            Err(e) => tracing::warn!(error = %e, "cannot claim callbacks"),
        }
        if last_purge.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
            last_purge = Some(std::time::Instant::now());
            let keep = chrono::Duration::from_std(cfg.retention).unwrap_or(chrono::Duration::days(7));
            if let Err(e) = q.purge_callbacks(now - keep).await {
                tracing::warn!(error = %e, "cannot purge old callbacks");
            }
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(cfg.poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// POST one event and record what became of it.
async fn deliver(state: &AppState, cfg: &CallbackConfig, cb: ClaimedCallback) {
    let failure = |error: String| {
        if cb.attempts >= cfg.max_attempts {
            CallbackOutcome::GaveUp { error }
        } else {
            let wait = chrono::Duration::from_std(backoff(cfg, cb.attempts)).unwrap_or_default();
            CallbackOutcome::Retry {
                at: Utc::now() + wait,
                error,
            }
        }
    };
    let outcome = match &cb.target {
        None => CallbackOutcome::GaveUp {
            error: "the app has no callback URL any more".into(),
        },
        Some((url, secret)) => {
            let headers = [
                ("x-pregon-signature", signature(secret, cb.body.as_bytes())),
                ("x-pregon-event-id", cb.id.to_string()),
                ("x-pregon-timestamp", Utc::now().timestamp().to_string()),
            ];
            match state
                .fetcher
                .post_json(url, &headers, cb.body.clone(), cfg.timeout)
                .await
            {
                Ok(status) if (200..300).contains(&status) => CallbackOutcome::Delivered,
                Ok(status) => failure(format!("the callback URL answered HTTP {status}")),
                Err(e) => failure(e.to_string()),
            }
        }
    };
    match &outcome {
        CallbackOutcome::Delivered => {}
        CallbackOutcome::Retry { error, .. } => {
            tracing::debug!(event = %cb.id, app = %cb.app_id, attempts = cb.attempts, %error, "callback failed; will retry");
        }
        CallbackOutcome::GaveUp { error } => {
            tracing::warn!(event = %cb.id, app = %cb.app_id, attempts = cb.attempts, %error, "callback given up");
        }
    }
    for attempt in 0..3u32 {
        match state
            .store
            .send_queue()
            .finish_callback(cb.id, &outcome, Utc::now())
            .await
        {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, attempt, "cannot record a callback's outcome; retrying");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hex_hmac_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let cfg = CallbackConfig::default();
        for attempts in 1..20u32 {
            let full = cfg
                .backoff_base
                .saturating_mul(1 << (attempts - 1).min(20))
                .min(cfg.backoff_max);
            let b = backoff(&cfg, attempts);
            assert!(b >= full / 2 && b <= full, "{attempts}: {b:?}");
        }
    }
}
