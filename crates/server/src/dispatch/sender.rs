//! One account's sender in this process: claim a batch, drop what its send window holds back, reserve send slots
//! on the account (shared with every other process), then send each message at its slot, at most `concurrency` in
//! flight, and hand the outcomes to the recorder.

use super::{Dispatcher, Outcome};
use chrono::{DateTime, Utc};
use pregon_core::campaign::Account;
use pregon_core::message::Message;
use pregon_core::template::Template;
use pregon_core::window::SendWindow;
use pregon_core::{AccountId, MessageId};
use pregon_providers::{Outbound, Provider, SendOutcome};
use pregon_store::RunningCampaign;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};

/// Slots are reserved 1 % apart wider than the rate asks, so timer jitter never puts one more send than the rate
/// in a one-second window.
const SPACING_MARGIN: f64 = 1.01;
/// A claim covers about this much sending time.
const CLAIM_SPAN: Duration = Duration::from_millis(250);
/// Messages are marked `sending` this far ahead of their slots, in one statement.
const MARK_AHEAD: Duration = Duration::from_millis(50);
/// How often the account's settings and templates are read again.
const REFRESH: Duration = Duration::from_secs(5);

/// What the sender knows about its account, refreshed now and then.
struct AccountView {
    account: Account,
    provider: Arc<dyn Provider>,
    templates: HashMap<(String, String), Arc<Template>>,
    read_at: Instant,
}

/// Send for `account` until it has no running campaign and no single message left, or `stop` turns true.
pub(super) async fn run(d: Arc<Dispatcher>, account: AccountId, stop: watch::Receiver<bool>) {
    let mut view: Option<AccountView> = None;
    let mut idle_rounds = 0u32;
    let mut turn = 0usize;
    let semaphore = Arc::new(Semaphore::new(0));
    let mut permits = 0usize;
    loop {
        if *stop.borrow() {
            return;
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
                    view = Some(v);
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
        let mut sent_any = false;
        for i in 0..campaigns.len() {
            let campaign = &campaigns[(turn + i) % campaigns.len()];
            match send_batch(&d, v, campaign.as_ref(), &semaphore).await {
                Ok(n) if n > 0 => {
                    sent_any = true;
                    turn = (turn + i + 1) % campaigns.len();
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(account = %account, error = %e, "send batch failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        if sent_any {
            idle_rounds = 0;
            continue;
        }
        idle_rounds += 1;
        let still_listed = d.campaigns.borrow().contains_key(&account);
        if !still_listed && idle_rounds > 20 {
            return;
        }
        let mut stop = stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = d.wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
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

/// Claim, filter, reserve and send one batch; returns how many messages went out.
async fn send_batch(
    d: &Arc<Dispatcher>,
    v: &AccountView,
    campaign: Option<&RunningCampaign>,
    semaphore: &Arc<Semaphore>,
) -> Result<usize, pregon_store::StoreError> {
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
        return Ok(0);
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
        return Ok(0);
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
        return Ok(0);
    }
    let spacing = Duration::from_secs_f64(SPACING_MARGIN / rate);
    let n = u32::try_from(ready.len()).unwrap_or(u32::MAX);
    let reservation = q
        .reserve(
            v.account.id,
            campaign.filter(|c| c.rate_cap.is_some()).map(|c| c.id),
            n,
            spacing,
            v.account.settings.daily_cap,
            now,
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
    let slot = |i: usize| reservation.start + chrono::Duration::from_std(spacing * i as u32).unwrap_or_default();
    let mut sent = 0;
    let mut next = 0;
    while next < ready.len() {
        // Mark the messages whose slots fall within the next few milliseconds, then send each at its slot.
        let group_start = slot(next);
        tokio::time::sleep(clock.until(group_start).saturating_sub(Duration::from_millis(5))).await;
        let horizon = clock.now().max(group_start) + chrono::Duration::from_std(MARK_AHEAD).unwrap_or_default();
        let mut end = next + 1;
        while end < ready.len() && slot(end) <= horizon {
            end += 1;
        }
        let ids: Vec<MessageId> = ready[next..end].iter().map(|m| m.id).collect();
        let going = q.mark_sending(&d.owner, &ids, clock.now()).await?;
        let stopped: Vec<(MessageId, Option<DateTime<Utc>>)> = ids
            .iter()
            .filter(|id| !going.contains(id))
            .map(|id| (*id, None))
            .collect();
        if !stopped.is_empty() {
            // Paused or cancelled meanwhile: give back what was not sent.
            q.release(&d.owner, &stopped).await?;
        }
        for (i, message) in ready[next..end].iter().enumerate() {
            if !going.contains(&message.id) {
                continue;
            }
            tokio::time::sleep(clock.until(slot(next + i))).await;
            let Ok(permit) = semaphore.clone().acquire_owned().await else {
                return Ok(sent);
            };
            let template = v
                .templates
                .get(&(message.template_name.clone(), message.language.clone()))
                .cloned();
            let provider = v.provider.clone();
            let outcomes = d.outcomes.clone();
            let message = message.clone();
            let account = v.account.id;
            tokio::spawn(async move {
                let started = Instant::now();
                let outcome = match &template {
                    Some(t) => {
                        provider
                            .send(Outbound {
                                message: &message,
                                template: t,
                            })
                            .await
                    }
                    None => SendOutcome::Permanent(pregon_providers::Failure::message(
                        "template_missing",
                        format!(
                            "the template `{}` ({}) is no longer among the account's templates",
                            message.template_name, message.language
                        ),
                    )),
                };
                drop(permit);
                let _ = outcomes.send(Outcome {
                    account,
                    campaign: message.campaign_id,
                    message: message.id,
                    template: message.template_name.clone(),
                    attempts: message.attempts + 1,
                    outcome,
                    latency: started.elapsed(),
                });
            });
            sent += 1;
        }
        next = end;
    }
    Ok(sent)
}
