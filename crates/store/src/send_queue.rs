//! The send queue: what the dispatcher asks of the database. Messages are claimed straight from the messages table
//! (no separate job rows): `pending` or an unowned `queued` message becomes `queued` with an `owner` (the sender
//! process), then `sending` just before its request goes out, then `sent`, `failed`, or `queued` again for a retry.
//! Counters on the campaign row move in the same transaction as the statuses.
//!
//! The account's rate holds across processes because sends are *reserved* in time: a reservation takes the slots
//! after the account's `next_send_at` and moves it past them, inside a transaction that locks the account row, so two
//! processes never hold overlapping slots.

use chrono::{DateTime, Utc};
use pregon_core::campaign::{Account, Campaign};
use pregon_core::message::{Message, StatusEvent};
use pregon_core::{AccountId, AppId, CampaignId, MessageId, MessageStatus};
use std::time::Duration;

use crate::StoreError;

/// A running campaign as the dispatcher sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningCampaign {
    /// Its id.
    pub id: CampaignId,
    /// Its app.
    pub app_id: AppId,
    /// The account it sends through.
    pub account_id: AccountId,
    /// Its own rate cap.
    pub rate_cap: Option<u32>,
    /// Its send window, as stored.
    pub send_window: Option<serde_json::Value>,
}

/// Send slots taken for one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The first slot; the others follow at the requested spacing.
    pub start: DateTime<Utc>,
    /// How many slots were granted (fewer than asked when the daily cap is near).
    pub granted: u32,
}

/// Why a failed message failed, which decides whether `retry-failed` may send it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The provider refused it for good.
    Permanent,
    /// Every retry of a transient failure failed.
    Transient,
    /// Refused now, worth trying much later (Meta 131049).
    RetryWorthy,
    /// The process sending it stopped mid-request: the provider may have it. Never re-sent automatically.
    Unknown,
}

impl FailureKind {
    /// As stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            FailureKind::Permanent => "permanent",
            FailureKind::Transient => "transient",
            FailureKind::RetryWorthy => "retry_worthy",
            FailureKind::Unknown => "unknown",
        }
    }
}

/// The outcome of one send, to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendResult {
    /// The provider took it.
    Sent {
        /// The message.
        id: MessageId,
        /// The provider's id for it.
        provider_message_id: String,
    },
    /// A transient failure with attempts left: back to the queue until `not_before`.
    Retry {
        /// The message.
        id: MessageId,
        /// When it may be tried again.
        not_before: DateTime<Utc>,
        /// The last error's code.
        code: String,
        /// The last error's text.
        message: String,
    },
    /// Failed for good (for now).
    Failed {
        /// The message.
        id: MessageId,
        /// The error's code.
        code: String,
        /// The error's text.
        message: String,
        /// What kind of failure.
        kind: FailureKind,
    },
}

impl SendResult {
    /// The message it is about.
    pub fn id(&self) -> MessageId {
        match self {
            SendResult::Sent { id, .. } | SendResult::Retry { id, .. } | SendResult::Failed { id, .. } => *id,
        }
    }
}

/// What a recovery pass found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Sender processes found dead.
    pub dead_senders: u64,
    /// Their claimed, never-tried messages, back in the queue.
    pub requeued: u64,
    /// Messages whose request was in flight when their process died, now `failed` as outcome unknown.
    pub unknown: u64,
}

/// The owner recorded on messages whose sender died mid-request, until a webhook or the grace period settles them.
pub const ORPHAN: &str = "orphan";

/// A status change the store applied to a message: what a status callback reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusChange {
    /// The message.
    pub message_id: MessageId,
    /// Its campaign, if any.
    pub campaign_id: Option<CampaignId>,
    /// Its app.
    pub app_id: AppId,
    /// The recipient, E.164.
    pub phone: String,
    /// The new status.
    pub status: MessageStatus,
    /// The message's `flag` (Chat-Tonic), if any.
    pub flag: Option<String>,
    /// The provider's id of the message, if known.
    pub provider_message_id: Option<String>,
    /// For `failed`: the code and text.
    pub error: Option<(String, String)>,
    /// When it happened (the provider's time for webhook events).
    pub at: DateTime<Utc>,
}

impl StatusChange {
    /// The callback body for this change (`"type": "status"`).
    pub fn event(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "status",
            "message": self.message_id,
            "campaign": self.campaign_id,
            "phone": self.phone,
            "status": self.status.as_str(),
            "at": self.at,
            "provider_message_id": self.provider_message_id,
            "error": self.error.as_ref().map(|(code, message)| serde_json::json!({"code": code, "message": message})),
            "flag": self.flag,
        })
    }
}

/// An outbox event claimed for delivery, with where it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedCallback {
    /// The event's id (`X-Pregon-Event-Id`).
    pub id: uuid::Uuid,
    /// Its app.
    pub app_id: AppId,
    /// The JSON body, exactly as signed and sent.
    pub body: String,
    /// Attempts including this one.
    pub attempts: u32,
    /// The app's callback URL and secret now; `None` if the app removed its callback since.
    pub target: Option<(String, String)>,
}

/// What became of one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// It failed; try again at the given time.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// What went wrong.
        error: String,
    },
    /// It failed for the last time; the row is kept with the error.
    GaveUp {
        /// What went wrong.
        error: String,
    },
}

/// What the dispatcher needs from the database. Implemented by both backends.
#[async_trait::async_trait]
pub trait SendQueue: Send + Sync {
    /// Start every `scheduled` campaign whose time has come (or that has none): `running`, `started_at` = now.
    async fn start_due_campaigns(&self, now: DateTime<Utc>) -> Result<Vec<Campaign>, StoreError>;
    /// The earliest start time of a `scheduled` campaign, if any.
    async fn next_start_at(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Every running campaign, oldest first.
    async fn running_campaigns(&self) -> Result<Vec<RunningCampaign>, StoreError>;
    /// Accounts with single messages (no campaign) waiting.
    async fn accounts_with_single_messages(&self, now: DateTime<Utc>) -> Result<Vec<AccountId>, StoreError>;
    /// One account, whatever its app (the worker side).
    async fn account(&self, id: AccountId) -> Result<Account, StoreError>;
    /// Claim up to `limit` sendable messages of a running campaign (or, with `None`, single messages of
    /// `account`) for `owner`: retries that are due first, then pending ones, in id order. On PostgreSQL the rows
    /// are taken with `FOR UPDATE SKIP LOCKED`, so processes claiming at once get different messages.
    async fn claim(
        &self,
        account: AccountId,
        campaign: Option<CampaignId>,
        owner: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Message>, StoreError>;
    /// Give claimed, untried messages back, each with the time it may be claimed again (a closed send window).
    async fn release(&self, owner: &str, released: &[(MessageId, Option<DateTime<Utc>>)]) -> Result<(), StoreError>;
    /// Reserve `n` send slots `spacing` apart on the account (and on the campaign, which may cap its own rate),
    /// no earlier than `now`, within the account's daily cap.
    async fn reserve(
        &self,
        account: AccountId,
        campaign: Option<CampaignId>,
        n: u32,
        spacing: Duration,
        daily_cap: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError>;
    /// Mark claimed messages `sending` just before their requests go out (attempts + 1). Returns those that may go:
    /// still `queued` for `owner`, and their campaign still running (a pause or cancel stops the rest).
    async fn mark_sending(
        &self,
        owner: &str,
        ids: &[MessageId],
        now: DateTime<Utc>,
    ) -> Result<Vec<MessageId>, StoreError>;
    /// Record send outcomes (and enqueue the `sent`/`failed` callbacks of apps that have one, in the same
    /// transaction); returns the campaigns this completed.
    async fn record(
        &self,
        owner: &str,
        results: &[SendResult],
        now: DateTime<Utc>,
    ) -> Result<Vec<CampaignId>, StoreError>;
    /// Complete a running campaign that has nothing left to send; true if it did.
    async fn complete_if_done(&self, campaign: CampaignId, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Record that `owner` is alive.
    async fn heartbeat(&self, owner: &str, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Remove a sender that stops cleanly, returning its claimed messages to the queue.
    async fn retire(&self, owner: &str) -> Result<(), StoreError>;
    /// Recover the messages of senders silent for `dead_after`; fail as outcome-unknown the in-flight messages of
    /// dead senders that no webhook settled within `unknown_after` of their attempt.
    async fn recover(
        &self,
        dead_after: Duration,
        unknown_after: Duration,
        now: DateTime<Utc>,
    ) -> Result<Recovery, StoreError>;
    /// Apply provider status events of `account` (matched by Pregon's id, else the provider's), forward only,
    /// with counters, and enqueue their callbacks (if the app has one) in the same transaction; returns the
    /// changes applied.
    async fn apply_events(&self, account: AccountId, events: &[StatusEvent]) -> Result<Vec<StatusChange>, StoreError>;
    /// The last message `account` sent to `phone` (a reply without context is taken to answer it).
    async fn last_sent_to(&self, account: AccountId, phone: &str) -> Result<Option<Message>, StoreError>;
    /// Put events in the app's callback outbox, if it has a callback URL; returns how many were stored.
    async fn enqueue_callbacks(
        &self,
        app: AppId,
        events: &[serde_json::Value],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Claim up to `limit` due outbox events (attempts + 1), leasing them until `lease_until`: no other claim takes
    /// them before then. On PostgreSQL with `FOR UPDATE SKIP LOCKED`.
    async fn claim_callbacks(
        &self,
        limit: u32,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ClaimedCallback>, StoreError>;
    /// Record what became of a delivery attempt.
    async fn finish_callback(
        &self,
        id: uuid::Uuid,
        outcome: &CallbackOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Delete outbox events delivered or given up that were created before `before`; returns how many.
    async fn purge_callbacks(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Keep a webhook body as received, with what became of it (`applied 3, ignored 1`, `refused: bad signature`).
    async fn record_webhook(
        &self,
        account: AccountId,
        provider: &str,
        body: &str,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Delete kept webhook bodies received before `before`; returns how many.
    async fn purge_webhooks(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// The message a user replied to, by the provider's id of it (the context of a reply or button tap).
    async fn message_by_provider_id(
        &self,
        account: AccountId,
        provider_message_id: &str,
    ) -> Result<Option<Message>, StoreError>;
    /// Messages of `campaign` accepted by the provider per second over the `seconds` whole seconds before `now`.
    async fn send_rate(&self, campaign: CampaignId, seconds: u32, now: DateTime<Utc>) -> Result<f64, StoreError>;
    /// Forget per-second send counts older than `before`.
    async fn purge_send_rates(&self, before: DateTime<Utc>) -> Result<(), StoreError>;
    /// Messages of `campaign` accepted by the provider per bucket of `bucket_seconds` (0 counts as 1), oldest
    /// first, each bucket starting at a multiple of `bucket_seconds` since the Unix epoch; buckets without a send
    /// are left out. It reaches back as far as the per-second counts are kept (`purge_send_rates`).
    async fn send_timeline(
        &self,
        campaign: CampaignId,
        bucket_seconds: u32,
    ) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError>;
    /// Campaign messages by provider and status, summed from the campaign counters (for `/metrics`).
    async fn totals_by_provider(&self) -> Result<Vec<(String, String, u64)>, StoreError>;
    /// Pause a running campaign from the worker side, with the reason; false if it was not running.
    async fn pause_running(&self, campaign: CampaignId, reason: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Pause every running campaign of `account` whose messages use `template`; returns them.
    async fn pause_template_campaigns(
        &self,
        account: AccountId,
        template: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<CampaignId>, StoreError>;
}

/// Implements [`SendQueue`] for `$store` (inside `sql_store!`).
macro_rules! send_queue {
    ($store:ty, $db:ty, $backend:expr) => {
        impl $store {
            /// `FOR UPDATE SKIP LOCKED` where the backend has it.
            fn skip_locked() -> &'static str {
                if $backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" }
            }

            /// Add `deltas` (status column → change) to a campaign's counters on `conn`.
            async fn move_counters(
                conn: &mut <$db as sqlx::Database>::Connection,
                campaign: uuid::Uuid,
                deltas: &[(&str, i64)],
            ) -> Result<(), StoreError> {
                let sets: Vec<String> = deltas
                    .iter()
                    .filter(|(_, d)| *d != 0)
                    .map(|(column, d)| format!("{column} = {column} + ({d})"))
                    .collect();
                if sets.is_empty() {
                    return Ok(());
                }
                let sql = format!("UPDATE campaigns SET {} WHERE id = $1", sets.join(", "));
                sqlx::query(AssertSqlSafe(sql)).bind(campaign).execute(&mut *conn).await?;
                Ok(())
            }

            /// Store outbox rows `(id, app, body)` on `conn`, due at once.
            async fn insert_callbacks(
                conn: &mut <$db as sqlx::Database>::Connection,
                rows: &[(uuid::Uuid, uuid::Uuid, String)],
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), StoreError> {
                for chunk in rows.chunks(INSERT_CHUNK) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO callbacks (id, app_id, event, attempts, next_at, created_at) ",
                    );
                    q.push_values(chunk, |mut b, (id, app, body)| {
                        b.push_bind(*id).push_bind(*app).push_bind(body.as_str()).push_bind(0i64).push_bind(now).push_bind(now);
                    });
                    q.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// Enqueue the callbacks of `changes` whose app has a callback URL, on `conn` (inside the transaction
            /// that applied them).
            async fn enqueue_changes(
                conn: &mut <$db as sqlx::Database>::Connection,
                changes: &[$crate::send_queue::StatusChange],
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), StoreError> {
                if changes.is_empty() {
                    return Ok(());
                }
                // Apps are tenants: few rows, read once per batch.
                let apps: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM apps WHERE callback_url IS NOT NULL")
                    .fetch_all(&mut *conn)
                    .await?;
                if apps.is_empty() {
                    return Ok(());
                }
                let rows: Vec<(uuid::Uuid, uuid::Uuid, String)> = changes
                    .iter()
                    .filter(|c| apps.contains(&c.app_id.0))
                    .map(|c| (uuid::Uuid::now_v7(), c.app_id.0, c.event().to_string()))
                    .collect();
                Self::insert_callbacks(conn, &rows, now).await
            }

            /// Claim messages in `status` matching `scope` (`campaign_id = $1` or single messages of account `$1`).
            async fn claim_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                scope: &str,
                key: uuid::Uuid,
                status: MessageStatus,
                owner: &str,
                limit: u32,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<(Message, Option<uuid::Uuid>)>, StoreError> {
                // The ids are picked once, in a materialized CTE. As `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
                // LOCKED)`, PostgreSQL may rescan the subquery for each row it updates; every rescan skips the rows
                // this statement has just updated and locks the next n, so the claim took every pending message.
                let sql = format!(
                    "WITH picked AS MATERIALIZED (\
                       SELECT id FROM messages WHERE {scope} AND status = $5 AND owner IS NULL \
                       AND (not_before IS NULL OR not_before <= $4) ORDER BY id LIMIT $3{}) \
                     UPDATE messages SET status = 'queued', owner = $2, updated_at = $4 \
                     WHERE id IN (SELECT id FROM picked) AND status = $5 AND owner IS NULL RETURNING {MESSAGE_COLUMNS}",
                    Self::skip_locked()
                );
                let rows: Vec<MessageRow> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(key)
                    .bind(owner)
                    .bind(i64::from(limit))
                    .bind(now)
                    .bind(status.as_str())
                    .fetch_all(&mut *conn)
                    .await?;
                rows.into_iter()
                    .map(|r| {
                        let m: Message = r.try_into()?;
                        let c = m.campaign_id.map(|c| c.0);
                        Ok((m, c))
                    })
                    .collect()
            }
        }

        #[async_trait::async_trait]
        impl $crate::SendQueue for $store {
            async fn start_due_campaigns(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<Campaign>, StoreError> {
                let sql = format!(
                    "UPDATE campaigns SET status = 'running', started_at = $1, updated_at = $1 \
                     WHERE status = 'scheduled' AND (scheduled_at IS NULL OR scheduled_at <= $1) \
                     RETURNING {CAMPAIGN_COLUMNS}"
                );
                let rows: Vec<CampaignRow> = sqlx::query_as(AssertSqlSafe(sql)).bind(now).fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn next_start_at(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
                let next: Option<Option<chrono::DateTime<chrono::Utc>>> = sqlx::query_scalar(
                    "SELECT scheduled_at FROM campaigns WHERE status = 'scheduled' ORDER BY scheduled_at LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                Ok(next.flatten())
            }

            async fn running_campaigns(&self) -> Result<Vec<$crate::RunningCampaign>, StoreError> {
                let rows: Vec<(uuid::Uuid, uuid::Uuid, uuid::Uuid, Option<i64>, Option<Json<serde_json::Value>>)> =
                    sqlx::query_as(
                        "SELECT id, app_id, account_id, rate_cap, send_window FROM campaigns \
                         WHERE status = 'running' ORDER BY id",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, app, account, cap, window)| $crate::RunningCampaign {
                        id: id.into(),
                        app_id: app.into(),
                        account_id: account.into(),
                        rate_cap: cap.and_then(|c| u32::try_from(c).ok()),
                        send_window: window.map(|w| w.0),
                    })
                    .collect())
            }

            async fn accounts_with_single_messages(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<AccountId>, StoreError> {
                let rows: Vec<uuid::Uuid> = sqlx::query_scalar(
                    "SELECT DISTINCT account_id FROM messages WHERE campaign_id IS NULL \
                     AND status IN ('pending', 'queued') AND owner IS NULL AND (not_before IS NULL OR not_before <= $1)",
                )
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn account(&self, id: AccountId) -> Result<Account, StoreError> {
                let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
                sqlx::query_as::<_, AccountRow>(AssertSqlSafe(sql))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn claim(
                &self,
                account: AccountId,
                campaign: Option<CampaignId>,
                owner: &str,
                limit: u32,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<Message>, StoreError> {
                let (scope, key) = match campaign {
                    Some(c) => ("campaign_id = $1", c.0),
                    None => ("campaign_id IS NULL AND account_id = $1", account.0),
                };
                let mut tx = self.pool.begin().await?;
                let mut claimed = Self::claim_in(&mut *tx, scope, key, MessageStatus::Queued, owner, limit, now).await?;
                let room = limit.saturating_sub(u32::try_from(claimed.len()).unwrap_or(u32::MAX));
                if room > 0 {
                    let fresh = Self::claim_in(&mut *tx, scope, key, MessageStatus::Pending, owner, room, now).await?;
                    if let Some(c) = campaign.filter(|_| !fresh.is_empty()) {
                        let n = i64::try_from(fresh.len()).unwrap_or(i64::MAX);
                        Self::move_counters(&mut *tx, c.0, &[("n_pending", -n), ("n_queued", n)]).await?;
                    }
                    claimed.extend(fresh);
                }
                tx.commit().await?;
                Ok(claimed.into_iter().map(|(m, _)| m).collect())
            }

            async fn release(
                &self,
                owner: &str,
                released: &[(MessageId, Option<chrono::DateTime<chrono::Utc>>)],
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                for (id, not_before) in released {
                    sqlx::query(
                        "UPDATE messages SET owner = NULL, not_before = $3 WHERE id = $1 AND owner = $2 AND status = 'queued'",
                    )
                    .bind(id.0)
                    .bind(owner)
                    .bind(*not_before)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn reserve(
                &self,
                account: AccountId,
                campaign: Option<CampaignId>,
                n: u32,
                spacing: std::time::Duration,
                daily_cap: Option<u32>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::Reservation, StoreError> {
                let mut tx = self.pool.begin().await?;
                // A write first: it locks the row on PostgreSQL and takes the write lock at once on SQLite, so the
                // read below cannot go stale before the update.
                sqlx::query("UPDATE accounts SET day_sent = day_sent WHERE id = $1")
                    .bind(account.0)
                    .execute(&mut *tx)
                    .await?;
                let (next, day_start, day_sent): (
                    Option<chrono::DateTime<chrono::Utc>>,
                    Option<chrono::DateTime<chrono::Utc>>,
                    i64,
                ) = sqlx::query_as("SELECT next_send_at, day_start, day_sent FROM accounts WHERE id = $1")
                    .bind(account.0)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                // Rounded up to the stored precision: a slot is never before `now`.
                let now = match $crate::send_queue::now_precision(now) {
                    t if t < now => t + chrono::Duration::microseconds(1),
                    t => t,
                };
                let mut start = next.map_or(now, |n| n.max(now));
                if let Some(c) = campaign {
                    let own: Option<Option<chrono::DateTime<chrono::Utc>>> =
                        sqlx::query_scalar("SELECT next_send_at FROM campaigns WHERE id = $1")
                            .bind(c.0)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if let Some(own) = own.flatten() {
                        start = start.max(own);
                    }
                }
                let today = start.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
                let sent_today = if day_start == Some(today) { u32::try_from(day_sent).unwrap_or(u32::MAX) } else { 0 };
                let granted = match daily_cap {
                    Some(cap) => n.min(cap.saturating_sub(sent_today)),
                    None => n,
                };
                let span = chrono::Duration::from_std(spacing * granted).unwrap_or(chrono::Duration::zero());
                let end = $crate::send_queue::now_precision(start + span);
                sqlx::query("UPDATE accounts SET next_send_at = $2, day_start = $3, day_sent = $4 WHERE id = $1")
                    .bind(account.0)
                    .bind(end)
                    .bind(today)
                    .bind(i64::from(sent_today + granted))
                    .execute(&mut *tx)
                    .await?;
                if let Some(c) = campaign {
                    sqlx::query("UPDATE campaigns SET next_send_at = $2 WHERE id = $1")
                        .bind(c.0)
                        .bind(end)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok($crate::Reservation { start, granted })
            }

            async fn mark_sending(
                &self,
                owner: &str,
                ids: &[MessageId],
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<MessageId>, StoreError> {
                let mut going = Vec::with_capacity(ids.len());
                // Campaign rows last, in id order: see `apply_events`.
                let mut per_campaign: std::collections::BTreeMap<uuid::Uuid, i64> = Default::default();
                let mut tx = self.pool.begin().await?;
                for chunk in ids.chunks(500) {
                    let mut q = QueryBuilder::<$db>::new(
                        "UPDATE messages SET status = 'sending', attempts = attempts + 1, last_attempt_at = ",
                    );
                    q.push_bind(now).push(", updated_at = ").push_bind(now);
                    q.push(" WHERE owner = ").push_bind(owner.to_owned());
                    q.push(
                        " AND status = 'queued' AND (campaign_id IS NULL OR campaign_id IN \
                         (SELECT id FROM campaigns WHERE status = 'running')) AND id IN (",
                    );
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(id.0);
                    }
                    q.push(") RETURNING id, campaign_id");
                    let rows: Vec<(uuid::Uuid, Option<uuid::Uuid>)> = q.build_query_as().fetch_all(&mut *tx).await?;
                    for (id, campaign) in rows {
                        going.push(MessageId::from(id));
                        if let Some(c) = campaign {
                            *per_campaign.entry(c).or_default() += 1;
                        }
                    }
                }
                for (c, n) in per_campaign {
                    Self::move_counters(&mut *tx, c, &[("n_queued", -n), ("n_sending", n)]).await?;
                }
                tx.commit().await?;
                Ok(going)
            }

            async fn record(
                &self,
                owner: &str,
                results: &[$crate::SendResult],
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<CampaignId>, StoreError> {
                use $crate::SendResult;
                type Returned = Option<(Option<uuid::Uuid>, uuid::Uuid, String, Option<String>)>;
                // Message rows in id order, campaign rows last in id order: see `apply_events`.
                let mut deltas: std::collections::BTreeMap<uuid::Uuid, [i64; 3]> = Default::default();
                let mut ordered: Vec<&$crate::SendResult> = results.iter().collect();
                ordered.sort_by_key(|r| r.id());
                let mut changes = Vec::new();
                let mut tx = self.pool.begin().await?;
                for result in ordered {
                    let (column, row): (usize, Returned) = match result {
                        SendResult::Sent { id, provider_message_id } => {
                            let row: Returned = sqlx::query_as(
                                "UPDATE messages SET status = 'sent', provider_message_id = $3, sent_at = $4, \
                                 updated_at = $4, owner = NULL, error_code = NULL, error_message = NULL \
                                 WHERE id = $1 AND owner = $2 AND status = 'sending' \
                                 RETURNING campaign_id, app_id, phone, flag",
                            )
                            .bind(id.0)
                            .bind(owner)
                            .bind(provider_message_id)
                            .bind(now)
                            .fetch_optional(&mut *tx)
                            .await?;
                            if row.is_none() {
                                // A webhook got there first (it moved the message on): keep the provider's id.
                                sqlx::query(
                                    "UPDATE messages SET provider_message_id = COALESCE(provider_message_id, $2), \
                                     owner = NULL WHERE id = $1",
                                )
                                .bind(id.0)
                                .bind(provider_message_id)
                                .execute(&mut *tx)
                                .await?;
                            }
                            (0, row)
                        }
                        SendResult::Retry { id, not_before, code, message } => {
                            let row: Returned = sqlx::query_as(
                                "UPDATE messages SET status = 'queued', owner = NULL, not_before = $3, \
                                 error_code = $4, error_message = $5, updated_at = $6 \
                                 WHERE id = $1 AND owner = $2 AND status = 'sending' \
                                 RETURNING campaign_id, app_id, phone, flag",
                            )
                            .bind(id.0)
                            .bind(owner)
                            .bind(*not_before)
                            .bind(code)
                            .bind(message)
                            .bind(now)
                            .fetch_optional(&mut *tx)
                            .await?;
                            (1, row)
                        }
                        SendResult::Failed { id, code, message, kind } => {
                            let row: Returned = sqlx::query_as(
                                "UPDATE messages SET status = 'failed', owner = NULL, error_code = $3, \
                                 error_message = $4, failure_kind = $5, failed_at = $6, updated_at = $6 \
                                 WHERE id = $1 AND owner = $2 AND status = 'sending' \
                                 RETURNING campaign_id, app_id, phone, flag",
                            )
                            .bind(id.0)
                            .bind(owner)
                            .bind(code)
                            .bind(message)
                            .bind(kind.as_str())
                            .bind(now)
                            .fetch_optional(&mut *tx)
                            .await?;
                            (2, row)
                        }
                    };
                    let Some((campaign, app, phone, flag)) = row else { continue };
                    if let Some(campaign) = campaign {
                        deltas.entry(campaign).or_default()[column] += 1;
                    }
                    let (status, provider_message_id, error) = match result {
                        SendResult::Sent { provider_message_id, .. } => {
                            (MessageStatus::Sent, Some(provider_message_id.clone()), None)
                        }
                        SendResult::Failed { code, message, .. } => {
                            (MessageStatus::Failed, None, Some((code.clone(), message.clone())))
                        }
                        SendResult::Retry { .. } => continue,
                    };
                    changes.push($crate::send_queue::StatusChange {
                        message_id: result.id(),
                        campaign_id: campaign.map(Into::into),
                        app_id: app.into(),
                        phone,
                        status,
                        flag,
                        provider_message_id,
                        error,
                        at: now,
                    });
                }
                Self::enqueue_changes(&mut *tx, &changes, now).await?;
                for (campaign, [sent, retried, failed]) in &deltas {
                    Self::move_counters(
                        &mut *tx,
                        *campaign,
                        &[
                            ("n_sending", -(sent + retried + failed)),
                            ("n_sent", *sent),
                            ("n_queued", *retried),
                            ("n_failed", *failed),
                        ],
                    )
                    .await?;
                    if *sent > 0 {
                        sqlx::query(
                            "INSERT INTO campaign_sends (campaign_id, second, sent) VALUES ($1, $2, $3) \
                             ON CONFLICT (campaign_id, second) DO UPDATE SET sent = campaign_sends.sent + excluded.sent",
                        )
                        .bind(*campaign)
                        .bind(now.timestamp())
                        .bind(*sent)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                let mut completed = Vec::new();
                for campaign in deltas.keys() {
                    if self.complete_if_done((*campaign).into(), now).await? {
                        completed.push((*campaign).into());
                    }
                }
                Ok(completed)
            }

            async fn complete_if_done(
                &self,
                campaign: CampaignId,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<bool, StoreError> {
                let r = sqlx::query(
                    "UPDATE campaigns SET status = 'completed', finished_at = $2, updated_at = $2 \
                     WHERE id = $1 AND status = 'running' AND n_pending = 0 AND n_queued = 0 AND n_sending = 0",
                )
                .bind(campaign.0)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn heartbeat(&self, owner: &str, now: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO senders (id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
                     ON CONFLICT (id) DO UPDATE SET heartbeat_at = $2",
                )
                .bind(owner)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn retire(&self, owner: &str) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE messages SET owner = NULL WHERE owner = $1 AND status = 'queued'")
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE messages SET owner = $2 WHERE owner = $1 AND status = 'sending'")
                    .bind(owner)
                    .bind($crate::send_queue::ORPHAN)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM senders WHERE id = $1").bind(owner).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn recover(
                &self,
                dead_after: std::time::Duration,
                unknown_after: std::time::Duration,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::Recovery, StoreError> {
                let mut report = $crate::Recovery::default();
                let silent_since = now - chrono::Duration::from_std(dead_after).unwrap_or(chrono::Duration::seconds(30));
                let dead: Vec<String> = sqlx::query_scalar("DELETE FROM senders WHERE heartbeat_at < $1 RETURNING id")
                    .bind(silent_since)
                    .fetch_all(&self.pool)
                    .await?;
                report.dead_senders = dead.len() as u64;
                for owner in &dead {
                    let mut tx = self.pool.begin().await?;
                    let r = sqlx::query("UPDATE messages SET owner = NULL WHERE owner = $1 AND status = 'queued'")
                        .bind(owner)
                        .execute(&mut *tx)
                        .await?;
                    report.requeued += r.rows_affected();
                    sqlx::query("UPDATE messages SET owner = $2 WHERE owner = $1")
                        .bind(owner)
                        .bind($crate::send_queue::ORPHAN)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
                let attempted_before =
                    now - chrono::Duration::from_std(unknown_after).unwrap_or(chrono::Duration::minutes(10));
                let mut tx = self.pool.begin().await?;
                let failed: Vec<Option<uuid::Uuid>> = sqlx::query_scalar(
                    "UPDATE messages SET status = 'failed', owner = NULL, failure_kind = 'unknown', \
                     error_code = 'outcome_unknown', error_message = 'the process sending it stopped mid-request and \
                     no provider status arrived; not re-sent, to never send it twice', failed_at = $3, updated_at = $3 \
                     WHERE owner = $1 AND status = 'sending' AND last_attempt_at < $2 RETURNING campaign_id",
                )
                .bind($crate::send_queue::ORPHAN)
                .bind(attempted_before)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                report.unknown = failed.len() as u64;
                let mut per_campaign: std::collections::BTreeMap<uuid::Uuid, i64> = Default::default();
                for c in failed.into_iter().flatten() {
                    *per_campaign.entry(c).or_default() += 1;
                }
                for (c, n) in &per_campaign {
                    Self::move_counters(&mut *tx, *c, &[("n_sending", -n), ("n_failed", *n)]).await?;
                }
                // Orphans a webhook already moved on need no owner any more.
                sqlx::query("UPDATE messages SET owner = NULL WHERE owner = $1 AND status <> 'sending'")
                    .bind($crate::send_queue::ORPHAN)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                for c in per_campaign.keys() {
                    self.complete_if_done((*c).into(), now).await?;
                }
                Ok(report)
            }

            async fn apply_events(
                &self,
                account: AccountId,
                events: &[pregon_core::message::StatusEvent],
            ) -> Result<Vec<$crate::send_queue::StatusChange>, StoreError> {
                type Found = (uuid::Uuid, Option<uuid::Uuid>, String, uuid::Uuid, String, Option<String>, Option<String>);
                let mut changes = Vec::new();
                let mut tx = self.pool.begin().await?;
                // Write before reading: on SQLite a transaction that reads first cannot take the write lock later
                // while another writer holds it (it fails at once instead of waiting).
                sqlx::query("UPDATE senders SET heartbeat_at = heartbeat_at WHERE id = ''")
                    .execute(&mut *tx)
                    .await?;
                const FOUND: &str = "SELECT id, campaign_id, status, app_id, phone, flag, provider_message_id FROM messages";
                // Every transaction that writes messages and campaign counters (this one, the recorder's, marking
                // `sending`) takes the message rows in id order and the campaign rows last, in id order: interleaved,
                // concurrent processes deadlocked (PostgreSQL then stalls everyone waiting on the campaign row for
                // `deadlock_timeout` and aborts one). The sort is stable, so one message's events keep their order.
                let mut ordered: Vec<&pregon_core::message::StatusEvent> = events.iter().collect();
                ordered.sort_by_key(|e| e.message_id);
                let mut deltas: std::collections::BTreeMap<uuid::Uuid, std::collections::BTreeMap<String, i64>> =
                    Default::default();
                for event in ordered {
                    // Pregon's id first (it survives a lost send answer); else, or when it names no message of
                    // this account, the provider's.
                    let mut found: Option<Found> = None;
                    if let Some(id) = event.message_id {
                        found = sqlx::query_as(AssertSqlSafe(format!("{FOUND} WHERE id = $1 AND account_id = $2")))
                            .bind(id.0)
                            .bind(account.0)
                            .fetch_optional(&mut *tx)
                            .await?;
                    }
                    if let (None, Some(pid)) = (&found, &event.provider_message_id) {
                        found = sqlx::query_as(AssertSqlSafe(format!(
                            "{FOUND} WHERE account_id = $1 AND provider_message_id = $2"
                        )))
                        .bind(account.0)
                        .bind(pid)
                        .fetch_optional(&mut *tx)
                        .await?;
                    }
                    let Some((id, campaign, mut status, app, phone, flag, stored_pid)) = found else { continue };
                    let kind = match &event.error {
                        Some((code, _)) if pregon_core::message::is_retry_worthy(code) => $crate::send_queue::FailureKind::RetryWorthy,
                        _ => $crate::send_queue::FailureKind::Permanent,
                    };
                    // The recorder may move the message (`sending` → `sent`) between this read and the update, which
                    // then matches nothing: read its status again and advance from there, or the event is lost.
                    let mut applied = None;
                    for _ in 0..3 {
                        let Ok(current) = status.parse::<MessageStatus>() else { break };
                        let Some(next) = current.advance(event.status) else { break };
                        let stamp = match next {
                            MessageStatus::Sent => "sent_at = COALESCE(sent_at, $3)".to_owned(),
                            MessageStatus::Delivered => "sent_at = COALESCE(sent_at, $3), delivered_at = COALESCE(delivered_at, $3)".to_owned(),
                            MessageStatus::Read => "sent_at = COALESCE(sent_at, $3), delivered_at = COALESCE(delivered_at, $3), read_at = COALESCE(read_at, $3)".to_owned(),
                            _ => format!("failed_at = COALESCE(failed_at, $3), failure_kind = '{}'", kind.as_str()),
                        };
                        let sql = format!(
                            "UPDATE messages SET status = $2, {stamp}, updated_at = $3, owner = NULL, \
                             provider_message_id = COALESCE(provider_message_id, $5), \
                             error_code = COALESCE($6, error_code), error_message = COALESCE($7, error_message) \
                             WHERE id = $1 AND status = $4"
                        );
                        let r = sqlx::query(AssertSqlSafe(sql))
                            .bind(id)
                            .bind(next.as_str())
                            .bind(event.at)
                            .bind(current.as_str())
                            .bind(event.provider_message_id.as_deref())
                            .bind(event.error.as_ref().map(|e| e.0.as_str()))
                            .bind(event.error.as_ref().map(|e| e.1.as_str()))
                            .execute(&mut *tx)
                            .await?;
                        if r.rows_affected() > 0 {
                            applied = Some((current, next));
                            break;
                        }
                        let Some(now_status) = sqlx::query_scalar::<_, String>("SELECT status FROM messages WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?
                        else {
                            break;
                        };
                        status = now_status;
                    }
                    let Some((current, next)) = applied else { continue };
                    if let Some(c) = campaign {
                        let d = deltas.entry(c).or_default();
                        *d.entry(format!("n_{}", current.as_str())).or_default() -= 1;
                        *d.entry(format!("n_{}", next.as_str())).or_default() += 1;
                    }
                    changes.push($crate::send_queue::StatusChange {
                        message_id: id.into(),
                        campaign_id: campaign.map(Into::into),
                        app_id: app.into(),
                        phone,
                        status: next,
                        flag,
                        provider_message_id: stored_pid.or_else(|| event.provider_message_id.clone()),
                        error: if next == MessageStatus::Failed { event.error.clone() } else { None },
                        at: event.at,
                    });
                }
                let now = now();
                Self::enqueue_changes(&mut *tx, &changes, now).await?;
                for (c, d) in &deltas {
                    let d: Vec<(&str, i64)> = d.iter().map(|(column, n)| (column.as_str(), *n)).collect();
                    Self::move_counters(&mut *tx, *c, &d).await?;
                }
                tx.commit().await?;
                for c in deltas.keys() {
                    self.complete_if_done((*c).into(), now).await?;
                }
                Ok(changes)
            }

            async fn last_sent_to(&self, account: AccountId, phone: &str) -> Result<Option<Message>, StoreError> {
                let sql = format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE account_id = $1 AND phone = $2 \
                     AND sent_at IS NOT NULL ORDER BY sent_at DESC, id DESC LIMIT 1"
                );
                let row: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(account.0)
                    .bind(phone)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn enqueue_callbacks(
                &self,
                app: AppId,
                events: &[serde_json::Value],
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, StoreError> {
                let mut stored = 0;
                let mut tx = self.pool.begin().await?;
                for event in events {
                    let r = sqlx::query(
                        "INSERT INTO callbacks (id, app_id, event, attempts, next_at, created_at) \
                         SELECT $1, id, $3, 0, $4, $4 FROM apps WHERE id = $2 AND callback_url IS NOT NULL",
                    )
                    .bind(uuid::Uuid::now_v7())
                    .bind(app.0)
                    .bind(event.to_string())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    stored += r.rows_affected();
                }
                tx.commit().await?;
                Ok(stored)
            }

            async fn claim_callbacks(
                &self,
                limit: u32,
                lease_until: chrono::DateTime<chrono::Utc>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<$crate::send_queue::ClaimedCallback>, StoreError> {
                // Picked once in a materialized CTE, for the reason given in `claim_in`.
                let sql = format!(
                    "WITH picked AS MATERIALIZED (\
                       SELECT id FROM callbacks WHERE next_at <= $1 ORDER BY next_at LIMIT $3{}) \
                     UPDATE callbacks SET attempts = attempts + 1, next_at = $2 \
                     WHERE id IN (SELECT id FROM picked) AND next_at <= $1 RETURNING id, app_id, event, attempts",
                    Self::skip_locked()
                );
                let rows: Vec<(uuid::Uuid, uuid::Uuid, String, i64)> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(now)
                    .bind(lease_until)
                    .bind(i64::from(limit.max(1)))
                    .fetch_all(&self.pool)
                    .await?;
                let mut targets: std::collections::HashMap<uuid::Uuid, Option<(String, String)>> = Default::default();
                let mut claimed = Vec::with_capacity(rows.len());
                for (id, app, body, attempts) in rows {
                    if !targets.contains_key(&app) {
                        let t: Option<(Option<String>, Option<String>)> =
                            sqlx::query_as("SELECT callback_url, callback_secret FROM apps WHERE id = $1")
                                .bind(app)
                                .fetch_optional(&self.pool)
                                .await?;
                        let t = match t {
                            Some((Some(url), Some(secret))) => Some((url, secret)),
                            _ => None,
                        };
                        targets.insert(app, t);
                    }
                    claimed.push($crate::send_queue::ClaimedCallback {
                        id,
                        app_id: app.into(),
                        body,
                        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        target: targets.get(&app).cloned().flatten(),
                    });
                }
                claimed.sort_by_key(|c| c.id);
                Ok(claimed)
            }

            async fn finish_callback(
                &self,
                id: uuid::Uuid,
                outcome: &$crate::send_queue::CallbackOutcome,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), StoreError> {
                use $crate::send_queue::CallbackOutcome;
                let q = match outcome {
                    CallbackOutcome::Delivered => sqlx::query(
                        "UPDATE callbacks SET delivered_at = $2, next_at = NULL, last_error = NULL WHERE id = $1",
                    )
                    .bind(id)
                    .bind(now),
                    CallbackOutcome::Retry { at, error } => {
                        sqlx::query("UPDATE callbacks SET next_at = $2, last_error = $3 WHERE id = $1")
                            .bind(id)
                            .bind(*at)
                            .bind(error.as_str())
                    }
                    CallbackOutcome::GaveUp { error } => {
                        sqlx::query("UPDATE callbacks SET next_at = NULL, last_error = $2 WHERE id = $1")
                            .bind(id)
                            .bind(error.as_str())
                    }
                };
                q.execute(&self.pool).await?;
                Ok(())
            }

            async fn purge_callbacks(&self, before: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> {
                let r = sqlx::query("DELETE FROM callbacks WHERE next_at IS NULL AND created_at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }

            async fn record_webhook(
                &self,
                account: AccountId,
                provider: &str,
                body: &str,
                outcome: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO webhook_events (account_id, provider, received_at, outcome, body) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(account.0)
                .bind(provider)
                .bind(now)
                .bind(outcome)
                .bind(body)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn purge_webhooks(&self, before: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> {
                let r = sqlx::query("DELETE FROM webhook_events WHERE received_at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }

            async fn message_by_provider_id(
                &self,
                account: AccountId,
                provider_message_id: &str,
            ) -> Result<Option<Message>, StoreError> {
                let sql = format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE account_id = $1 AND provider_message_id = $2"
                );
                let row: Option<MessageRow> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(account.0)
                    .bind(provider_message_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn send_rate(
                &self,
                campaign: CampaignId,
                seconds: u32,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<f64, StoreError> {
                let end = now.timestamp();
                let sent: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(SUM(sent) AS BIGINT) FROM campaign_sends WHERE campaign_id = $1 AND second >= $2 AND second < $3",
                )
                .bind(campaign.0)
                .bind(end - i64::from(seconds.max(1)))
                .bind(end)
                .fetch_one(&self.pool)
                .await?;
                Ok(sent.unwrap_or(0) as f64 / f64::from(seconds.max(1)))
            }

            async fn purge_send_rates(&self, before: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM campaign_sends WHERE second < $1")
                    .bind(before.timestamp())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn send_timeline(
                &self,
                campaign: CampaignId,
                bucket_seconds: u32,
            ) -> Result<Vec<(chrono::DateTime<chrono::Utc>, u64)>, StoreError> {
                let bucket = i64::from(bucket_seconds.max(1));
                // Integer division on both backends: `second` is an integer column and the bucket an integer.
                let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
                    "SELECT (second / $2) * $2, CAST(SUM(sent) AS BIGINT) FROM campaign_sends \
                     WHERE campaign_id = $1 GROUP BY 1 ORDER BY 1",
                )
                .bind(campaign.0)
                .bind(bucket)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    // Seconds come from `DateTime::timestamp` on the way in, so every one converts back.
                    .filter_map(|(start, sent)| {
                        let at = chrono::DateTime::from_timestamp(start, 0)?;
                        Some((at, u64::try_from(sent.unwrap_or(0)).unwrap_or(0)))
                    })
                    .collect())
            }

            async fn totals_by_provider(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
                const STATUSES: [&str; 9] =
                    ["pending", "queued", "sending", "sent", "delivered", "read", "failed", "cancelled", "suppressed"];
                let sums: Vec<String> = STATUSES.iter().map(|s| format!("CAST(SUM(c.n_{s}) AS BIGINT)")).collect();
                let sql = format!(
                    "SELECT a.provider, {} FROM campaigns c JOIN accounts a ON a.id = c.account_id GROUP BY a.provider",
                    sums.join(", ")
                );
                let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
                let mut out = Vec::new();
                for row in rows {
                    use sqlx::Row;
                    let provider: String = row.try_get(0)?;
                    for (i, status) in STATUSES.iter().enumerate() {
                        let n: Option<i64> = row.try_get(i + 1)?;
                        out.push((provider.clone(), (*status).to_owned(), u64::try_from(n.unwrap_or(0)).unwrap_or(0)));
                    }
                }
                Ok(out)
            }

            async fn pause_running(
                &self,
                campaign: CampaignId,
                reason: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<bool, StoreError> {
                let r = sqlx::query(
                    "UPDATE campaigns SET status = 'paused', pause_reason = $2, updated_at = $3 \
                     WHERE id = $1 AND status = 'running'",
                )
                .bind(campaign.0)
                .bind(reason)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn pause_template_campaigns(
                &self,
                account: AccountId,
                template: &str,
                reason: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<CampaignId>, StoreError> {
                let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
                    "UPDATE campaigns SET status = 'paused', pause_reason = $3, updated_at = $4 \
                     WHERE account_id = $1 AND status = 'running' AND (template_name = $2 OR EXISTS (\
                       SELECT 1 FROM messages m WHERE m.campaign_id = campaigns.id AND m.template_name = $2 \
                       AND m.status IN ('pending', 'queued'))) RETURNING id",
                )
                .bind(account.0)
                .bind(template)
                .bind(reason)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(ids.into_iter().map(Into::into).collect())
            }
        }
    };
}

pub(crate) use send_queue;

/// `t` at the precision both backends keep.
pub(crate) fn now_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}
