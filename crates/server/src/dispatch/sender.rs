//! One account's sender in this process: claim a batch, drop what its send window holds back, reserve send slots
//! on the account (shared with every other process), then send each message at its slot, at most `concurrency` in
//! flight, and hand the outcomes to the recorder.
//!
//! Slots are spaced wider than the rate by the configured margin `m` (1 %). A one-second window then holds more
//! requests than the rate only if one of them is delayed by `m` seconds (10 ms) more than the others; so a request
//! starts within `m / 2` of a slot reserved for it in the database, leaving the other half for the network. A
//! request that cannot start in time (a slow statement, a busy machine, every permit taken) is not sent late,
//! bunched with the ones after it: it goes to the sender's late lane, which reserves new slots for it.
//!
//! Claiming and reserving the next batch overlaps the sending of the current one, and marking a group of messages
//! `sending` overlaps the sending of the group before it, so neither leaves gaps in the account's slots.

use super::{Clock, Dispatcher, Outcome};
use chrono::{DateTime, Utc};
use pregon_core::campaign::Account;
use pregon_core::message::Message;
use pregon_core::template::Template;
use pregon_core::window::SendWindow;
use pregon_core::{AccountId, CampaignId, MessageId};
use pregon_providers::{Outbound, Provider, SendOutcome};
use pregon_store::RunningCampaign;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, watch};

/// A claim covers about this much sending time.
const CLAIM_SPAN: Duration = Duration::from_millis(250);
/// Messages are marked `sending` in groups whose slots span this long, one statement per group.
const MARK_AHEAD: Duration = Duration::from_millis(50);
/// A group is marked up to this long before its first slot (while the groups before it go out), so that a slow
/// statement does not make its requests late.
const MARK_LEAD: Duration = Duration::from_millis(150);
/// A reservation starts no earlier than this after it is taken: time to mark the first group.
const FIRST_SLOT_AFTER: Duration = Duration::from_millis(50);
/// A request that missed this many slots goes out at its next one however late (see `resend_late`).
const MAX_MISSES: u32 = 3;
/// The next batch is claimed and reserved this long before the current batch's last slot: about when the current
/// one starts, so that the next one's first group can be marked MARK_LEAD ahead of its slot.
const PREPARE_AHEAD: Duration = Duration::from_millis(250);
/// How often the account's settings and templates are read again.
const REFRESH: Duration = Duration::from_secs(5);

/// [`MARK_LEAD`] as a time delta.
fn lead() -> chrono::Duration {
    chrono::Duration::from_std(MARK_LEAD).unwrap_or_default()
}

/// What the sender knows about its account, refreshed now and then.
struct AccountView {
    account: Account,
    provider: Arc<dyn Provider>,
    templates: HashMap<(String, String), Arc<Template>>,
    read_at: Instant,
}

/// Send for `account` until it has no running campaign and no single message left, or `stop` turns true.
pub(super) async fn run(d: Arc<Dispatcher>, account: AccountId, stop: watch::Receiver<bool>) {
    let mut view: Option<Arc<AccountView>> = None;
    let mut idle_rounds = 0u32;
    let mut turn = 0usize;
    let semaphore = Arc::new(Semaphore::new(0));
    let mut permits = 0usize;
    // The next batch, claimed and reserved while the current one is still going out.
    let mut ahead: Option<Prepared> = None;
    // Batches going out: the current one and the next, whose first groups are marked before the current one ends.
    let mut going: std::collections::VecDeque<tokio::task::JoinHandle<Result<(), pregon_store::StoreError>>> =
        Default::default();
    let (late_tx, late_rx) = mpsc::unbounded_channel();
    let lane = Lane {
        account,
        semaphore: semaphore.clone(),
        outcomes: d.outcomes.clone(),
        clock: d.state.clock.clone(),
        requests: Arc::new(AtomicU64::new(0)),
        late_count: Arc::new(AtomicU64::new(0)),
        tolerance: Duration::from_secs_f64(d.state.config.sending.rate_margin / 2.0),
        forced: Arc::new(AtomicU64::new(0)),
        metrics: d.state.metrics.clone(),
    };
    let late_worker = tokio::spawn(resend_late(d.clone(), lane.clone(), late_rx, late_tx.downgrade()));
    loop {
        if *stop.borrow() {
            break;
        }
        if view.as_ref().is_none_or(|v| v.read_at.elapsed() >= REFRESH) {
            match load(&d, account).await {
                Ok(v) => {
                    let wanted = v.account.settings.concurrency.max(1) as usize;
                    if wanted > permits {
                        semaphore.add_permits(wanted - permits);
                    } else if wanted < permits {
                        semaphore.forget_permits(permits - wanted);
                    }
                    permits = wanted;
                    view = Some(Arc::new(v));
                }
                Err(e) => {
                    tracing::warn!(account = %account, error = %e, "cannot load the account; retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
            }
        }
        let Some(v) = view.as_ref() else { continue };
        let campaigns: Vec<Option<RunningCampaign>> = {
            let all = d.campaigns.borrow();
            let mut list: Vec<Option<RunningCampaign>> =
                all.get(&account).into_iter().flatten().cloned().map(Some).collect();
            list.push(None); // single messages
            list
        };
        // Round-robin over the account's campaigns: each turn takes one batch of one campaign.
        let batch = match ahead.take() {
            Some(p) => Some(p),
            None => match next_batch(&d, v, &campaigns, turn).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(account = %account, error = %e, "cannot claim a batch");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            },
        };
        if let Some(p) = batch {
            idle_rounds = 0;
            let at = campaigns
                .iter()
                .position(|c| c.as_ref().map(|c| c.id) == p.campaign)
                .unwrap_or(turn);
            turn = (at + 1) % campaigns.len();
            // Send this batch in a task of its own; meanwhile, well before its last slot, claim and reserve the next
            // one, so that its slots follow this batch's without a gap and its first groups are marked in time.
            let prepare_at = p.last_slot() - chrono::Duration::from_std(PREPARE_AHEAD).unwrap_or_default();
            while going.len() >= 2 {
                if let Some(batch) = going.pop_front() {
                    finished(account, batch).await;
                }
            }
            going.push_back(tokio::spawn(dispatch(
                d.clone(),
                v.clone(),
                p,
                lane.clone(),
                late_tx.clone(),
            )));
            let mut stopped = stop.clone();
            tokio::select! {
                _ = pause_until(&d.state.clock, prepare_at) => {}
                _ = stopped.changed() => {}
            }
            if *stopped.borrow() {
                continue;
            }
            ahead = match next_batch(&d, v, &campaigns, turn).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(account = %account, error = %e, "cannot claim the next batch");
                    None
                }
            };
            continue;
        }
        idle_rounds += 1;
        let still_listed = d.campaigns.borrow().contains_key(&account);
        if !still_listed && idle_rounds > 20 {
            break;
        }
        let mut stop = stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = d.wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
    for batch in going {
        finished(account, batch).await;
    }
    // Requests still in flight may come back late: the late lane sends them before it ends.
    drop(late_tx);
    drop(ahead);
    let _ = tokio::time::timeout(Duration::from_secs(10), late_worker).await;
    tracing::info!(
        account = %account,
        requests = lane.requests.load(Ordering::Relaxed),
        late = lane.late_count.load(Ordering::Relaxed),
        forced = lane.forced.load(Ordering::Relaxed),
        "sender stopped"
    );
}

/// Wait for a batch's task to end, and say why it failed if it did.
async fn finished(account: AccountId, batch: tokio::task::JoinHandle<Result<(), pregon_store::StoreError>>) {
    match batch.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(account = %account, error = %e, "send batch failed");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(e) => tracing::error!(account = %account, error = %e, "send batch task failed"),
    }
}

/// The first batch of the account's campaigns (or single messages), trying each in turn from `turn`.
async fn next_batch(
    d: &Arc<Dispatcher>,
    v: &AccountView,
    campaigns: &[Option<RunningCampaign>],
    turn: usize,
) -> Result<Option<Prepared>, pregon_store::StoreError> {
    for i in 0..campaigns.len() {
        let campaign = &campaigns[(turn + i) % campaigns.len()];
        if let Some(p) = prepare(d, v, campaign.as_ref()).await? {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

async fn load(d: &Dispatcher, id: AccountId) -> Result<AccountView, String> {
    let account = d
        .state
        .store
        .send_queue()
        .account(id)
        .await
        .map_err(|e| e.to_string())?;
    let provider = pregon_providers::for_account(
        &account,
        d.http.clone(),
        &d.state.config.sending.providers,
        d.events.clone(),
    )
    .map_err(|e| e.to_string())?;
    let stored = d
        .state
        .store
        .list_templates(account.app_id, account.id)
        .await
        .map_err(|e| e.to_string())?;
    let templates = stored
        .iter()
        .filter_map(|t| Template::from_meta(&t.definition).ok())
        .map(|t| ((t.name.clone(), t.language.clone()), Arc::new(t)))
        .collect();
    Ok(AccountView {
        account,
        provider,
        templates,
        read_at: Instant::now(),
    })
}

/// The campaign's rate: the account's, or the campaign's cap if lower.
fn rate_of(account: &Account, campaign: Option<&RunningCampaign>) -> f64 {
    let account_rate = f64::from(account.settings.rate_per_second.max(1));
    match campaign.and_then(|c| c.rate_cap) {
        Some(cap) if cap > 0 => account_rate.min(f64::from(cap)),
        _ => account_rate,
    }
}

/// A batch ready to go out: claimed, what its send window holds back or the daily cap refuses given back, and its
/// send slots reserved on the account.
struct Prepared {
    campaign: Option<CampaignId>,
    /// The campaign, when its own rate cap applies to the slots.
    capped: Option<CampaignId>,
    ready: Vec<Message>,
    reservation: pregon_store::Reservation,
    spacing: Duration,
}

impl Prepared {
    /// The send slot of the `i`-th message.
    fn slot(&self, i: usize) -> DateTime<Utc> {
        self.reservation.start + chrono::Duration::from_std(self.spacing * i as u32).unwrap_or_default()
    }

    fn last_slot(&self) -> DateTime<Utc> {
        self.slot(self.ready.len().saturating_sub(1))
    }
}

/// Claim, filter and reserve one batch of `campaign` (or of single messages); `None` when there is nothing to send
/// now (a campaign with nothing left is completed).
async fn prepare(
    d: &Arc<Dispatcher>,
    v: &AccountView,
    campaign: Option<&RunningCampaign>,
) -> Result<Option<Prepared>, pregon_store::StoreError> {
    let q = d.state.store.send_queue();
    let clock = &d.state.clock;
    let now = clock.now();
    let window = campaign
        .and_then(|c| c.send_window.as_ref())
        .and_then(|w| SendWindow::from_json(w).ok());
    // A window in one zone that is closed now: nothing to claim until it opens.
    if let Some(w) = &window
        && let pregon_core::window::WindowZone::Fixed(tz) = w.zone
        && !w.is_open(now, tz)
    {
        return Ok(None);
    }
    let rate = rate_of(&v.account, campaign);
    let limit = ((rate * CLAIM_SPAN.as_secs_f64()).ceil() as u32).clamp(1, 500);
    let claimed = q
        .claim(v.account.id, campaign.map(|c| c.id), &d.owner, limit, now)
        .await?;
    if claimed.is_empty() {
        if let Some(c) = campaign
            && q.complete_if_done(c.id, now).await?
        {
            tracing::info!(campaign = %c.id, "campaign completed");
        }
        return Ok(None);
    }
    // Recipients whose local window is closed wait for it to open.
    let (ready, held): (Vec<Message>, Vec<Message>) = match &window {
        Some(w) => claimed.into_iter().partition(|m| {
            let region = pregon_ingest::phone::region_of(&m.phone);
            w.is_open(now, w.zone_for(region.as_deref()))
        }),
        None => (claimed, Vec::new()),
    };
    if let Some(w) = &window
        && !held.is_empty()
    {
        let back: Vec<(MessageId, Option<DateTime<Utc>>)> = held
            .iter()
            .map(|m| {
                let region = pregon_ingest::phone::region_of(&m.phone);
                (m.id, Some(w.next_open(now, w.zone_for(region.as_deref()))))
            })
            .collect();
        q.release(&d.owner, &back).await?;
    }
    if ready.is_empty() {
        return Ok(None);
    }
    let spacing = Duration::from_secs_f64((1.0 + d.state.config.sending.rate_margin) / rate);
    let n = u32::try_from(ready.len()).unwrap_or(u32::MAX);
    let capped = campaign.filter(|c| c.rate_cap.is_some()).map(|c| c.id);
    // The first slot leaves time to mark the first group `sending`.
    let not_before = clock.now() + chrono::Duration::from_std(FIRST_SLOT_AFTER).unwrap_or_default();
    let reservation = q
        .reserve(
            v.account.id,
            capped,
            n,
            spacing,
            v.account.settings.daily_cap,
            not_before,
        )
        .await?;
    let granted = reservation.granted as usize;
    let (ready, over_cap) = {
        let mut ready = ready;
        let rest = ready.split_off(granted.min(ready.len()));
        (ready, rest)
    };
    if !over_cap.is_empty() {
        // The daily cap is reached: the rest waits for the next UTC day.
        let tomorrow = (now.date_naive() + chrono::Days::new(1))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc());
        let back: Vec<(MessageId, Option<DateTime<Utc>>)> = over_cap.iter().map(|m| (m.id, tomorrow)).collect();
        q.release(&d.owner, &back).await?;
    }
    if ready.is_empty() {
        return Ok(None);
    }
    Ok(Some(Prepared {
        campaign: campaign.map(|c| c.id),
        capped,
        ready,
        reservation,
        spacing,
    }))
}

/// One message to send, with what sending it needs (so that it can be sent again at another slot).
struct Job {
    message: Message,
    provider: Arc<dyn Provider>,
    template: Option<Arc<Template>>,
    /// The spacing its slots are reserved at, and the campaign whose own rate cap they count against.
    spacing: Duration,
    capped: Option<CampaignId>,
    /// Slots it missed so far.
    misses: u32,
}

/// What every request of one account's sender shares.
#[derive(Clone)]
struct Lane {
    account: AccountId,
    semaphore: Arc<Semaphore>,
    outcomes: mpsc::UnboundedSender<Outcome>,
    clock: Arc<Clock>,
    /// Requests started.
    requests: Arc<AtomicU64>,
    /// Requests that missed their slot and were given another.
    late_count: Arc<AtomicU64>,
    /// Requests sent late all the same, after missing [`MAX_MISSES`] slots.
    forced: Arc<AtomicU64>,
    /// How long after its slot a request may still start.
    tolerance: Duration,
    /// Where the time spent waiting for slots is counted.
    metrics: Arc<crate::metrics::Metrics>,
}

impl Lane {
    /// At `slot`, with a permit, start sending `job` in a task of its own. A request that cannot start within
    /// `tolerance` of its slot is handed to `late` instead (sent anyway without a late lane: as the process stops, or
    /// after [`MAX_MISSES`]). False if the sender is closing.
    async fn fire(&self, job: Job, slot: DateTime<Utc>, late: Option<mpsc::UnboundedSender<Job>>) -> bool {
        let wait = self.clock.until(slot);
        self.metrics
            .rate_limit_wait_micros
            .fetch_add(u64::try_from(wait.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
        pause_until(&self.clock, slot).await;
        let Ok(permit) = self.semaphore.clone().acquire_owned().await else {
            return false;
        };
        let lane = self.clone();
        let deadline = slot + chrono::Duration::from_std(self.tolerance).unwrap_or_default();
        tokio::spawn(async move {
            let job = match late {
                Some(late) if lane.clock.now() > deadline => match late.send(job) {
                    Ok(()) => {
                        lane.late_count.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Err(back) => back.0,
                },
                _ => job,
            };
            lane.requests.fetch_add(1, Ordering::Relaxed);
            tracing::trace!(message = %job.message.id, %slot, "request starts");
            let started = Instant::now();
            let message = &job.message;
            let outcome = match &job.template {
                Some(t) => job.provider.send(Outbound { message, template: t }).await,
                None => SendOutcome::Permanent(pregon_providers::Failure::message(
                    "template_missing",
                    format!(
                        "the template `{}` ({}) is no longer among the account's templates",
                        message.template_name, message.language
                    ),
                )),
            };
            drop(permit);
            let _ = lane.outcomes.send(Outcome {
                account: lane.account,
                campaign: message.campaign_id,
                message: message.id,
                template: message.template_name.clone(),
                attempts: message.attempts + 1,
                outcome,
                latency: started.elapsed(),
            });
        });
        true
    }
}

/// Sleep until `at`, and not at all when it has passed: even a zero-length tokio sleep waits for the timer's next
/// millisecond tick, which, slot after slot 1 ms apart, would leave the sender ever further behind.
async fn pause_until(clock: &Clock, at: DateTime<Utc>) {
    let wait = clock.until(at);
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

/// The late lane: messages (already `sending`) whose request missed its slot get new slots on the account and go
/// out at them, until every request of the sender has ended.
async fn resend_late(
    d: Arc<Dispatcher>,
    lane: Lane,
    mut late: mpsc::UnboundedReceiver<Job>,
    again: mpsc::WeakUnboundedSender<Job>,
) {
    let q = d.state.store.send_queue();
    let mut jobs = Vec::new();
    let mut warned = false;
    while late.recv_many(&mut jobs, 500).await > 0 {
        let mut groups: HashMap<(Duration, Option<CampaignId>), Vec<Job>> = HashMap::new();
        for mut job in jobs.drain(..) {
            job.misses += 1;
            groups.entry((job.spacing, job.capped)).or_default().push(job);
        }
        for ((spacing, capped), group) in groups {
            let n = u32::try_from(group.len()).unwrap_or(u32::MAX);
            // No daily cap: these messages were counted against it when their first slots were reserved.
            let reservation = loop {
                let not_before = lane.clock.now() + chrono::Duration::from_std(FIRST_SLOT_AFTER).unwrap_or_default();
                match q.reserve(lane.account, capped, n, spacing, None, not_before).await {
                    Ok(r) => break r,
                    Err(e) => {
                        tracing::warn!(account = %lane.account, error = %e, "cannot reserve slots for late sends");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            };
            tracing::debug!(account = %lane.account, n, "late sends moved to new slots");
            for (i, job) in group.into_iter().enumerate() {
                let slot = reservation.start + chrono::Duration::from_std(spacing * i as u32).unwrap_or_default();
                // A machine that cannot keep the pace at all would move the same messages forever: past
                // MAX_MISSES they go out late rather than never.
                let late = if job.misses >= MAX_MISSES {
                    lane.forced.fetch_add(1, Ordering::Relaxed);
                    if !warned {
                        tracing::warn!(
                            account = %lane.account,
                            "requests keep missing their slots (an overloaded machine?): some are sent late, and the \
                             provider may see more than the rate in a second"
                        );
                        warned = true;
                    }
                    None
                } else {
                    again.upgrade()
                };
                lane.fire(job, slot, late).await;
            }
        }
    }
}

/// Send a prepared batch: mark the messages `sending` a group at a time (the next group while the current one goes
/// out), and start each request at its slot.
async fn dispatch(
    d: Arc<Dispatcher>,
    v: Arc<AccountView>,
    p: Prepared,
    lane: Lane,
    late: mpsc::UnboundedSender<Job>,
) -> Result<(), pregon_store::StoreError> {
    let (d, p) = (&d, &p);
    let ready = &p.ready;
    // Groups of messages whose slots fall within MARK_AHEAD of the group's first.
    let mut groups = Vec::new();
    let mut first = 0;
    while first < ready.len() {
        let horizon = p.slot(first) + chrono::Duration::from_std(MARK_AHEAD).unwrap_or_default();
        let mut end = first + 1;
        while end < ready.len() && p.slot(end) < horizon {
            end += 1;
        }
        groups.push(first..end);
        first = end;
    }
    let spacing = p.spacing;
    let capped = p.capped;
    // Marking runs ahead of sending, up to MARK_LEAD, so that a slow statement delays no request.
    let (marked_tx, mut marked_rx) = mpsc::channel::<(std::ops::Range<usize>, Vec<MessageId>)>(groups.len().max(1));
    let marking = async move {
        for group in groups {
            match mark(d, p, group.clone()).await {
                Ok(going) => {
                    if marked_tx.send((group, going)).await.is_err() {
                        return Ok(());
                    }
                }
                Err(e) => {
                    // Nothing of this group was marked: give the rest of the batch back, or it would stay claimed
                    // by this live process, which no other process may take over.
                    let rest: Vec<(MessageId, Option<DateTime<Utc>>)> =
                        ready[group.start..].iter().map(|m| (m.id, None)).collect();
                    if let Err(e) = d.state.store.send_queue().release(&d.owner, &rest).await {
                        tracing::warn!(error = %e, n = rest.len(), "cannot give claimed messages back");
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    };
    let sending = async {
        while let Some((group, going)) = marked_rx.recv().await {
            for i in group {
                let message = &ready[i];
                if !going.contains(&message.id) {
                    continue;
                }
                let job = Job {
                    message: message.clone(),
                    provider: v.provider.clone(),
                    template: v
                        .templates
                        .get(&(message.template_name.clone(), message.language.clone()))
                        .cloned(),
                    spacing,
                    capped,
                    misses: 0,
                };
                if !lane.fire(job, p.slot(i), Some(late.clone())).await {
                    return;
                }
            }
        }
    };
    let (marked, ()) = tokio::join!(marking, sending);
    marked
}

/// Mark `group` of the batch `sending` (at most MARK_LEAD before its first slot); returns the messages that may go.
/// Those that may not (their campaign was paused or cancelled meanwhile) are given back.
async fn mark(
    d: &Arc<Dispatcher>,
    p: &Prepared,
    group: std::ops::Range<usize>,
) -> Result<Vec<MessageId>, pregon_store::StoreError> {
    if group.is_empty() {
        return Ok(Vec::new());
    }
    let clock = &d.state.clock;
    let q = d.state.store.send_queue();
    pause_until(clock, p.slot(group.start) - lead()).await;
    let ids: Vec<MessageId> = p.ready[group].iter().map(|m| m.id).collect();
    let going = q.mark_sending(&d.owner, &ids, clock.now()).await?;
    let stopped: Vec<(MessageId, Option<DateTime<Utc>>)> = ids
        .iter()
        .filter(|id| !going.contains(id))
        .map(|id| (*id, None))
        .collect();
    if !stopped.is_empty() {
        q.release(&d.owner, &stopped).await?;
    }
    Ok(going)
}
