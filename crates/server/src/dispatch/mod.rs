//! Sending: the scheduler starts campaigns at their time, one sender per provider account paces and sends the
//! messages of that account's running campaigns, a recorder writes the outcomes back in batches, and a recovery
//! loop hands the work of dead processes to live ones. Every process runs all of it; the database keeps them apart
//! (claims with `SKIP LOCKED`, rate reservations on the account row). See docs/architecture.md.

mod recorder;
mod sender;

use crate::state::AppState;
use chrono::{DateTime, Utc};
use pregon_core::message::StatusEvent;
use pregon_core::{AccountId, CampaignId};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

pub use recorder::Outcome;

/// Where "now" comes from. Production reads the system clock; tests shift it to put a campaign inside or outside its
/// send window without waiting for hours.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// The current time, shifted by the offset.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Move this clock so that it reads `at` now.
    pub fn set(&self, at: DateTime<Utc>) {
        self.offset_ms
            .store((at - Utc::now()).num_milliseconds(), Ordering::Relaxed);
    }

    /// How long until the clock reads `at` (zero if it has passed).
    pub fn until(&self, at: DateTime<Utc>) -> Duration {
        (at - self.now()).to_std().unwrap_or(Duration::ZERO)
    }
}

/// How sending behaves.
#[derive(Clone, Debug)]
pub struct SendingConfig {
    /// Attempts of a message before a transient failure becomes final.
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt, with jitter.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Share of failures among a campaign's recent outcomes that pauses it.
    pub pause_failure_ratio: f64,
    /// How many recent outcomes that share is taken over.
    pub pause_failure_window: usize,
    /// A sender whose heartbeat is older than this is dead.
    pub sender_dead_after: Duration,
    /// How much wider than the rate send slots are spaced (0.01: 1 %). A request starts at most half of it (in
    /// seconds: 5 ms for 1 %) after its slot, or gets another slot; the other half absorbs the network's jitter, so
    /// that the provider never sees more than the rate in a one-second window.
    pub rate_margin: f64,
    /// How long a dead sender's in-flight message waits for a provider status before it is `failed` as unknown.
    pub unknown_outcome_after: Duration,
    /// Adapter settings (Meta API version, time-out, sandbox behaviour).
    pub providers: pregon_providers::ProviderConfig,
}

impl Default for SendingConfig {
    fn default() -> Self {
        SendingConfig {
            max_attempts: 5,
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            pause_failure_ratio: 0.2,
            pause_failure_window: 200,
            sender_dead_after: Duration::from_secs(30),
            rate_margin: 0.01,
            unknown_outcome_after: Duration::from_secs(600),
            providers: pregon_providers::ProviderConfig::default(),
        }
    }
}

/// What one process's dispatcher shares between its tasks.
pub(crate) struct Dispatcher {
    pub state: AppState,
    /// This process's sender id (unique per process start): the `owner` of its claimed messages.
    pub owner: String,
    pub http: reqwest::Client,
    pub outcomes: mpsc::UnboundedSender<Outcome>,
    pub events: pregon_providers::EventSink,
    /// The running campaigns, by account, refreshed by the manager.
    pub campaigns: watch::Receiver<HashMap<AccountId, Vec<pregon_store::RunningCampaign>>>,
    pub wake: Arc<tokio::sync::Notify>,
}

/// Run the dispatcher until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let owner = format!("sender-{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
    let http = state.provider_http.clone();
    let (outcomes_tx, outcomes_rx) = mpsc::unbounded_channel();
    let (events_tx, events_rx) = mpsc::unbounded_channel::<(AccountId, StatusEvent)>();
    let (campaigns_tx, campaigns_rx) = watch::channel(HashMap::new());
    let dispatcher = Arc::new(Dispatcher {
        state: state.clone(),
        owner: owner.clone(),
        http,
        outcomes: outcomes_tx,
        events: events_tx,
        campaigns: campaigns_rx,
        wake: state.dispatch_wake.clone(),
    });
    let q = state.store.send_queue();
    if let Err(e) = q.heartbeat(&owner, state.clock.now()).await {
        tracing::warn!(error = %e, "cannot register the sender");
    }
    let recorder = tokio::spawn(recorder::run(
        recorder::Recorder {
            state: state.clone(),
            owner: owner.clone(),
            campaigns: dispatcher.campaigns.clone(),
        },
        outcomes_rx,
    ));
    let applier = tokio::spawn(apply_events(state.clone(), events_rx));
    let mut senders: HashMap<AccountId, tokio::task::JoinHandle<()>> = HashMap::new();
    let mut last_beat = std::time::Instant::now();
    // A third of the time after which other processes count this one as dead, so that a late beat or two never
    // makes a live sender look dead; at most every 5 s.
    let beat_every =
        (state.config.sending.sender_dead_after / 3).clamp(Duration::from_millis(100), Duration::from_secs(5));
    let (stop_senders, senders_stopped) = watch::channel(false);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = state.clock.now();
        match q.start_due_campaigns(now).await {
            Ok(started) => {
                for c in &started {
                    tracing::info!(campaign = %c.id, scheduled_at = ?c.scheduled_at, "campaign started");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot start due campaigns"),
        }
        let mut by_account: HashMap<AccountId, Vec<pregon_store::RunningCampaign>> = HashMap::new();
        match q.running_campaigns().await {
            Ok(running) => {
                for c in running {
                    by_account.entry(c.account_id).or_default().push(c);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list running campaigns"),
        }
        if let Ok(singles) = q.accounts_with_single_messages(now).await {
            for account in singles {
                by_account.entry(account).or_default();
            }
        }
        senders.retain(|_, handle| !handle.is_finished());
        for account in by_account.keys() {
            if !senders.contains_key(account) {
                let task = sender::run(dispatcher.clone(), *account, senders_stopped.clone());
                senders.insert(*account, tokio::spawn(task));
            }
        }
        campaigns_tx.send_replace(by_account);
        if last_beat.elapsed() >= beat_every {
            last_beat = std::time::Instant::now();
            recover(&state, &owner).await;
        }
        // Wake at the next start time, on a new or resumed campaign, or every half second.
        let next_start = q.next_start_at().await.ok().flatten();
        let nap = next_start
            .map(|t| state.clock.until(t))
            .unwrap_or(Duration::from_millis(500))
            .min(Duration::from_millis(500));
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            _ = state.dispatch_wake.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
    let _ = stop_senders.send(true);
    // Every sender was told at once; together they get 10 s, not 10 s each.
    let senders_deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    for (_, handle) in senders {
        let _ = tokio::time::timeout_at(senders_deadline, handle).await;
    }
    drop(dispatcher);
    let _ = tokio::time::timeout(Duration::from_secs(5), recorder).await;
    applier.abort();
    if let Err(e) = q.retire(&owner).await {
        tracing::warn!(error = %e, "cannot retire the sender");
    }
}

/// Beat this sender's heart and recover what dead senders left.
async fn recover(state: &AppState, owner: &str) {
    let q = state.store.send_queue();
    let now = state.clock.now();
    if let Err(e) = q.heartbeat(owner, now).await {
        tracing::warn!(error = %e, "heartbeat failed");
    }
    let cfg = &state.config.sending;
    match q.recover(cfg.sender_dead_after, cfg.unknown_outcome_after, now).await {
        Ok(r) if r.dead_senders > 0 || r.unknown > 0 => {
            tracing::warn!(
                dead_senders = r.dead_senders,
                requeued = r.requeued,
                unknown = r.unknown,
                "recovered the work of stopped senders"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "recovery failed"),
    }
    let keep = chrono::Duration::from_std(state.config.webhook_retention).unwrap_or(chrono::Duration::days(7));
    if let Err(e) = q.purge_webhooks(now - keep).await {
        tracing::warn!(error = %e, "cannot purge old webhook bodies");
    }
    // The measured rate of `GET /v1/campaigns/{id}` reads the last seconds, so even `0` days keeps a few minutes.
    let keep = chrono::Duration::from_std(state.config.send_timeline_retention)
        .unwrap_or(chrono::Duration::days(7))
        .max(chrono::Duration::minutes(5));
    if let Err(e) = q.purge_send_rates(now - keep).await {
        tracing::warn!(error = %e, "cannot purge old send rates");
    }
}

/// Apply the status events the sandbox reports, in batches per account.
async fn apply_events(state: AppState, mut events: mpsc::UnboundedReceiver<(AccountId, StatusEvent)>) {
    let mut batch: Vec<(AccountId, StatusEvent)> = Vec::new();
    while events.recv_many(&mut batch, 1000).await > 0 {
        let mut by_account: HashMap<AccountId, Vec<StatusEvent>> = HashMap::new();
        for (account, event) in batch.drain(..) {
            by_account.entry(account).or_default().push(event);
        }
        for (account, events) in by_account {
            for attempt in 0..5u32 {
                match state.store.send_queue().apply_events(account, &events).await {
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, attempt, "cannot apply status events; retrying");
                        tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                    }
                }
            }
        }
    }
}

/// Pause a campaign from the worker side and say why in the log.
pub(crate) async fn pause(state: &AppState, campaign: CampaignId, reason: &str) {
    match state
        .store
        .send_queue()
        .pause_running(campaign, reason, state.clock.now())
        .await
    {
        Ok(true) => tracing::warn!(campaign = %campaign, %reason, "campaign paused"),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "cannot pause a campaign"),
    }
}
