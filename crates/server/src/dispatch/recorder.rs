//! Outcomes back to the database, in batches: a retry with backoff for a transient failure with attempts left, a
//! final status otherwise. It also watches each campaign's recent failures (pausing it past the threshold) and
//! pauses what a template- or account-wide refusal concerns.

use crate::state::AppState;
use pregon_core::{AccountId, CampaignId, MessageId, ProviderKind};
use pregon_providers::{Failure, FailureScope, SendOutcome};
use pregon_store::{FailureKind, SendResult};
use rand::Rng;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::sync::mpsc;

/// One send's outcome, from a sender to the recorder.
#[derive(Debug)]
pub struct Outcome {
    /// The account it went through.
    pub account: AccountId,
    /// Its campaign, if any.
    pub campaign: Option<CampaignId>,
    /// The message.
    pub message: MessageId,
    /// Its template's name.
    pub template: String,
    /// Attempts including this one.
    pub attempts: u32,
    /// What the provider said.
    pub outcome: SendOutcome,
    /// How long the request took.
    pub latency: Duration,
}

/// What the recorder needs of its dispatcher. Not the dispatcher itself: that holds the outcome channel's sending
/// end, which would keep the channel (and so the recorder) open forever.
pub(super) struct Recorder {
    pub state: AppState,
    pub owner: String,
    pub campaigns: tokio::sync::watch::Receiver<HashMap<AccountId, Vec<pregon_store::RunningCampaign>>>,
}

/// Write outcomes until every sender has dropped its channel end.
pub(super) async fn run(d: Recorder, mut outcomes: mpsc::UnboundedReceiver<Outcome>) {
    let mut recent: HashMap<CampaignId, VecDeque<bool>> = HashMap::new();
    let mut providers: HashMap<AccountId, ProviderKind> = HashMap::new();
    let mut batch = Vec::new();
    loop {
        // Gather what arrives within 50 ms of the first outcome, at most 500.
        if outcomes.recv_many(&mut batch, 500).await == 0 {
            return;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_millis(50);
        while batch.len() < 500 {
            match tokio::time::timeout_at(deadline, outcomes.recv()).await {
                Ok(Some(o)) => batch.push(o),
                Ok(None) | Err(_) => break,
            }
        }
        let results: Vec<SendResult> = batch.iter().map(|o| to_result(&d, o)).collect();
        let now = d.state.clock.now();
        let mut written = false;
        for attempt in 0..5 {
            match d.state.store.send_queue().record(&d.owner, &results, now).await {
                Ok(completed) => {
                    for c in completed {
                        tracing::info!(campaign = %c, "campaign completed");
                    }
                    written = true;
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "cannot record outcomes; retrying");
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
            }
        }
        if !written {
            // The messages stay `sending` under this owner: recovery settles them if the process dies, and the
            // provider's webhooks move them on.
            tracing::error!(n = results.len(), "outcomes could not be recorded");
        }
        for o in batch.drain(..) {
            count(&d, &mut providers, &o).await;
            watch_failures(&d, &mut recent, &o).await;
        }
    }
}

/// Add an outcome to `/metrics`: its class and latency, by provider.
async fn count(d: &Recorder, providers: &mut HashMap<AccountId, ProviderKind>, o: &Outcome) {
    let provider = match providers.get(&o.account) {
        Some(p) => *p,
        None => match d.state.store.send_queue().account(o.account).await {
            Ok(a) => *providers.entry(o.account).or_insert(a.settings.provider),
            Err(_) => return,
        },
    };
    let m = d.state.metrics.provider(provider);
    let class = match o.outcome {
        SendOutcome::Accepted { .. } => &m.accepted,
        SendOutcome::Transient(_) => &m.transient,
        SendOutcome::Permanent(_) => &m.permanent,
    };
    class.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    m.latency.observe(o.latency);
}

/// What the store records for one outcome.
fn to_result(d: &Recorder, o: &Outcome) -> SendResult {
    let cfg = &d.state.config.sending;
    match &o.outcome {
        SendOutcome::Accepted { provider_message_id } => SendResult::Sent {
            id: o.message,
            provider_message_id: provider_message_id.clone(),
        },
        // Attempts count across `retry-failed` rounds; each round gets `max_attempts` of its own, and a round that
        // ran out of transient retries always ends on a multiple of it.
        SendOutcome::Transient(f) if !o.attempts.is_multiple_of(cfg.max_attempts) => SendResult::Retry {
            id: o.message,
            not_before: d.state.clock.now()
                + chrono::Duration::from_std(backoff(cfg.backoff_base, cfg.backoff_max, o.attempts, f))
                    .unwrap_or_default(),
            code: f.code.clone(),
            message: f.message.clone(),
        },
        SendOutcome::Transient(f) => failed(o.message, f, FailureKind::Transient),
        SendOutcome::Permanent(f) if pregon_core::message::is_retry_worthy(&f.code) => {
            failed(o.message, f, FailureKind::RetryWorthy)
        }
        SendOutcome::Permanent(f) => failed(o.message, f, FailureKind::Permanent),
    }
}

fn failed(id: MessageId, f: &Failure, kind: FailureKind) -> SendResult {
    SendResult::Failed {
        id,
        code: f.code.clone(),
        message: f.message.clone(),
        kind,
    }
}

/// Exponential backoff with full jitter over the upper half, never shorter than the provider's `Retry-After`.
pub(crate) fn backoff(base: Duration, max: Duration, attempts: u32, failure: &Failure) -> Duration {
    let exp = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(16)).min(max);
    let jittered = exp.mul_f64(rand::rng().random_range(0.5..=1.0));
    jittered.max(failure.retry_after.unwrap_or(Duration::ZERO))
}

/// Pause what an outcome says must stop: the template or the account on their refusals, the campaign when too many
/// of its recent messages failed.
async fn watch_failures(d: &Recorder, recent: &mut HashMap<CampaignId, VecDeque<bool>>, o: &Outcome) {
    let cfg = &d.state.config.sending;
    let now = d.state.clock.now();
    let failure = match &o.outcome {
        SendOutcome::Permanent(f) => Some(f),
        SendOutcome::Transient(f) if o.attempts.is_multiple_of(cfg.max_attempts) => Some(f),
        _ => None,
    };
    if let Some(f) = failure {
        match f.scope {
            FailureScope::Template => {
                let reason = format!(
                    "the provider refuses the template `{}`: {} ({})",
                    o.template, f.message, f.code
                );
                match d
                    .state
                    .store
                    .send_queue()
                    .pause_template_campaigns(o.account, &o.template, &reason, now)
                    .await
                {
                    Ok(paused) if !paused.is_empty() => tracing::warn!(?paused, %reason, "campaigns paused"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot pause the template's campaigns"),
                }
            }
            FailureScope::Account => {
                let reason = format!("the provider refuses the account: {} ({})", f.message, f.code);
                let running = d.campaigns.borrow().get(&o.account).cloned().unwrap_or_default();
                for c in running {
                    super::pause(&d.state, c.id, &reason).await;
                }
            }
            FailureScope::Message => {}
        }
    }
    let Some(campaign) = o.campaign else { return };
    let window = recent.entry(campaign).or_default();
    window.push_back(failure.is_some());
    while window.len() > cfg.pause_failure_window {
        window.pop_front();
    }
    let failures = window.iter().filter(|f| **f).count();
    if window.len() >= cfg.pause_failure_window.min(50)
        && failures as f64 / window.len() as f64 > cfg.pause_failure_ratio
    {
        let reason = format!(
            "{failures} of its last {} messages failed (more than {:.0} %)",
            window.len(),
            cfg.pause_failure_ratio * 100.0
        );
        super::pause(&d.state, campaign, &reason).await;
        window.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_honours_retry_after() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(60);
        let f = Failure::message("http_503", "busy");
        for attempts in 1..8u32 {
            let full = base.saturating_mul(1 << (attempts - 1)).min(max);
            for _ in 0..50 {
                let b = backoff(base, max, attempts, &f);
                assert!(
                    b >= full / 2 && b <= full,
                    "attempt {attempts}: {b:?} outside {full:?}/2..{full:?}"
                );
            }
        }
        let slow = Failure {
            retry_after: Some(Duration::from_secs(90)),
            ..f
        };
        assert_eq!(backoff(base, max, 1, &slow), Duration::from_secs(90));
    }
}
