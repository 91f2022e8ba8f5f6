//! The SQL both backends share. SQLite and PostgreSQL understand the same statements here (`$n` parameters,
//! `RETURNING`, no `FOR UPDATE`), so the [`Store`](crate::Store) implementation is written once, in the
//! `sql_store!` macro, and instantiated per backend; only connecting and migrating differ.
//!
//! Status changes use compare-and-set (`UPDATE … WHERE status = $old`) rather than `SELECT … FOR UPDATE`: it is
//! portable, and on SQLite a transaction that writes first never has to upgrade a read lock.

use crate::StoreError;
use chrono::{DateTime, Utc};
use pregon_core::account::{AccountSettings, Credentials};
use pregon_core::campaign::{Account, App, Campaign, Counts, StoredTemplate};
use pregon_core::message::{Message, Rejection};
use pregon_core::template::TemplateParams;
use pregon_core::{CampaignStatus, MessageStatus};
use sqlx::types::Json;
use uuid::Uuid;

/// Rows per multi-row INSERT: under both backends' bind-parameter limits with 12 columns.
pub(crate) const INSERT_CHUNK: usize = 1000;

/// Bytes per stored chunk of an uploaded file.
pub(crate) const UPLOAD_CHUNK: usize = 1024 * 1024;

pub(crate) const ACCOUNT_COLUMNS: &str = "id, app_id, name, provider, sender, credentials, rate_per_second, \
     concurrency, daily_cap, base_url, default_language, default_region, created_at, updated_at";
pub(crate) const TEMPLATE_COLUMNS: &str =
    "id, app_id, account_id, name, language, status, definition, created_at, updated_at";
pub(crate) const CAMPAIGN_COLUMNS: &str = "id, app_id, account_id, name, status, template_name, language, \
     scheduled_at, started_at, finished_at, pause_reason, failure_reason, rate_cap, send_window, created_at, source, \
     ingested_rows, n_rows, \
     n_accepted, n_rejected, \
     n_pending, n_queued, n_sending, n_sent, n_delivered, n_read, n_failed, n_cancelled, n_suppressed";
pub(crate) const MESSAGE_COLUMNS: &str = "id, app_id, campaign_id, account_id, row_number, phone, template_name, \
     language, params, rendered_text, flag, status, provider_message_id, error_code, error_message, attempts, \
     created_at, updated_at, sent_at, delivered_at, read_at, failed_at";

#[derive(sqlx::FromRow)]
pub(crate) struct AppRow {
    id: Uuid,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<AppRow> for App {
    fn from(r: AppRow) -> Self {
        App {
            id: r.id.into(),
            name: r.name,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: Uuid,
    app_id: Uuid,
    name: String,
    provider: String,
    sender: String,
    credentials: String,
    rate_per_second: i64,
    concurrency: i64,
    daily_cap: Option<i64>,
    base_url: Option<String>,
    default_language: Option<String>,
    default_region: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn to_u32(what: &str, v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|e| corrupt(what, e))
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self, StoreError> {
        Ok(Account {
            id: r.id.into(),
            app_id: r.app_id.into(),
            settings: AccountSettings {
                name: r.name,
                provider: r.provider.parse().map_err(|e| corrupt("accounts.provider", e))?,
                sender: r.sender,
                rate_per_second: to_u32("accounts.rate_per_second", r.rate_per_second)?,
                concurrency: to_u32("accounts.concurrency", r.concurrency)?,
                daily_cap: r.daily_cap.map(|c| to_u32("accounts.daily_cap", c)).transpose()?,
                base_url: r.base_url,
                default_language: r.default_language,
                default_region: r.default_region,
            },
            credentials: Credentials::from_json(&r.credentials).map_err(|e| corrupt("accounts.credentials", e))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TemplateRow {
    id: Uuid,
    app_id: Uuid,
    account_id: Uuid,
    name: String,
    language: String,
    status: String,
    definition: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TemplateRow> for StoredTemplate {
    fn from(r: TemplateRow) -> Self {
        StoredTemplate {
            id: r.id.into(),
            app_id: r.app_id.into(),
            account_id: r.account_id.into(),
            name: r.name,
            language: r.language,
            status: r.status,
            definition: r.definition.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CampaignRow {
    id: Uuid,
    app_id: Uuid,
    account_id: Uuid,
    name: String,
    status: String,
    template_name: Option<String>,
    language: Option<String>,
    scheduled_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    pause_reason: Option<String>,
    failure_reason: Option<String>,
    rate_cap: Option<i64>,
    send_window: Option<Json<serde_json::Value>>,
    created_at: DateTime<Utc>,
    source: Option<Json<serde_json::Value>>,
    ingested_rows: i64,
    n_rows: i64,
    n_accepted: i64,
    n_rejected: i64,
    n_pending: i64,
    n_queued: i64,
    n_sending: i64,
    n_sent: i64,
    n_delivered: i64,
    n_read: i64,
    n_failed: i64,
    n_cancelled: i64,
    n_suppressed: i64,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = StoreError;
    fn try_from(r: CampaignRow) -> Result<Self, StoreError> {
        Ok(Campaign {
            id: r.id.into(),
            app_id: r.app_id.into(),
            account_id: r.account_id.into(),
            name: r.name,
            status: r.status.parse().map_err(|e| corrupt("campaigns.status", e))?,
            template_name: r.template_name,
            language: r.language,
            scheduled_at: r.scheduled_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            pause_reason: r.pause_reason,
            failure_reason: r.failure_reason,
            rate_cap: r.rate_cap.map(|c| to_u32("campaigns.rate_cap", c)).transpose()?,
            send_window: r.send_window.map(|j| j.0),
            counts: Counts {
                rows: to_u64(r.n_rows),
                accepted: to_u64(r.n_accepted),
                rejected: to_u64(r.n_rejected),
                pending: to_u64(r.n_pending),
                queued: to_u64(r.n_queued),
                sending: to_u64(r.n_sending),
                sent: to_u64(r.n_sent),
                delivered: to_u64(r.n_delivered),
                read: to_u64(r.n_read),
                failed: to_u64(r.n_failed),
                cancelled: to_u64(r.n_cancelled),
                suppressed: to_u64(r.n_suppressed),
            },
            source: r.source.map(|j| j.0),
            ingested_rows: to_u64(r.ingested_rows),
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    id: Uuid,
    app_id: Uuid,
    campaign_id: Option<Uuid>,
    account_id: Uuid,
    row_number: Option<i64>,
    phone: String,
    template_name: String,
    language: String,
    params: Json<TemplateParams>,
    rendered_text: Option<String>,
    flag: Option<String>,
    status: String,
    provider_message_id: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    attempts: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    read_at: Option<DateTime<Utc>>,
    failed_at: Option<DateTime<Utc>>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(Message {
            id: r.id.into(),
            app_id: r.app_id.into(),
            campaign_id: r.campaign_id.map(Into::into),
            account_id: r.account_id.into(),
            row_number: r.row_number.map(to_u64),
            phone: r.phone,
            template_name: r.template_name,
            language: r.language,
            params: r.params.0,
            rendered_text: r.rendered_text,
            flag: r.flag,
            status: r.status.parse().map_err(|e| corrupt("messages.status", e))?,
            provider_message_id: r.provider_message_id,
            error_code: r.error_code,
            error_message: r.error_message,
            attempts: to_u32("messages.attempts", r.attempts)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            sent_at: r.sent_at,
            delivered_at: r.delivered_at,
            read_at: r.read_at,
            failed_at: r.failed_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RejectionRow {
    row_number: i64,
    column_name: Option<String>,
    code: String,
    message: String,
}

impl From<RejectionRow> for Rejection {
    fn from(r: RejectionRow) -> Self {
        Rejection {
            row_number: to_u64(r.row_number),
            column: r.column_name,
            code: r.code,
            message: r.message,
        }
    }
}

/// The counter column of a message status (`rejected` rows have their own counter).
pub(crate) fn counter_column(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Pending => "n_pending",
        MessageStatus::Queued => "n_queued",
        MessageStatus::Sending => "n_sending",
        MessageStatus::Sent => "n_sent",
        MessageStatus::Delivered => "n_delivered",
        MessageStatus::Read => "n_read",
        MessageStatus::Failed => "n_failed",
        MessageStatus::Rejected => "n_rejected",
        MessageStatus::Suppressed => "n_suppressed",
        MessageStatus::Cancelled => "n_cancelled",
    }
}

/// The `SET` clause a campaign status change adds besides the status itself. `$3` is now, `$5` the reason (bound only
/// when [`campaign_status_takes_reason`] says so: PostgreSQL refuses parameters a statement does not use).
pub(crate) fn campaign_status_effects(to: CampaignStatus) -> &'static str {
    match to {
        CampaignStatus::Running => "started_at = COALESCE(started_at, $3), pause_reason = NULL, finished_at = NULL",
        CampaignStatus::Paused => "pause_reason = $5",
        CampaignStatus::Scheduled | CampaignStatus::Ingesting => "pause_reason = NULL",
        CampaignStatus::Completed | CampaignStatus::Cancelled => "finished_at = $3, pause_reason = NULL",
        CampaignStatus::Failed => "finished_at = $3, failure_reason = $5",
    }
}

/// Whether [`campaign_status_effects`] of `to` stores a reason.
pub(crate) fn campaign_status_takes_reason(to: CampaignStatus) -> bool {
    matches!(to, CampaignStatus::Paused | CampaignStatus::Failed)
}

/// The `SET` clause a message status change adds: the timestamp of the new status, and the send attempt counter.
pub(crate) fn message_status_effects(to: MessageStatus) -> &'static str {
    match to {
        MessageStatus::Sending => ", attempts = attempts + 1",
        MessageStatus::Sent => ", sent_at = COALESCE(sent_at, $3)",
        MessageStatus::Delivered => ", sent_at = COALESCE(sent_at, $3), delivered_at = COALESCE(delivered_at, $3)",
        // A read message was delivered, even when the provider's `delivered` event comes late or never.
        MessageStatus::Read => {
            ", sent_at = COALESCE(sent_at, $3), delivered_at = COALESCE(delivered_at, $3), read_at = COALESCE(read_at, $3)"
        }
        MessageStatus::Failed => ", failed_at = $3",
        // A retry clears the previous failure.
        MessageStatus::Queued => ", failed_at = NULL",
        _ => "",
    }
}

pub(crate) fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

pub(crate) fn foreign_key_violation(e: &sqlx::Error) -> bool {
    // SQLite reports an `ON DELETE RESTRICT` as SQLITE_CONSTRAINT_TRIGGER (1811), which sqlx does not classify.
    matches!(e, sqlx::Error::Database(d)
        if d.is_foreign_key_violation() || d.message().contains("FOREIGN KEY constraint failed"))
}

/// The current time at the precision both backends keep (PostgreSQL stores microseconds), so a value written and
/// read back compares equal.
pub(crate) fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// How many times a compare-and-set status change is retried when another writer got there first.
pub(crate) const CAS_ATTEMPTS: usize = 8;

/// Implements [`Store`](crate::Store) for `$store`, a struct with a `pool: sqlx::Pool<$db>` field.
macro_rules! sql_store {
    ($store:ty, $db:ty, $backend:expr) => {
        use $crate::sql::*;
        use $crate::{Backend, CampaignFilter, CampaignPlan, IngestBatch, IngestClaim, MessageFilter, OptOut, StoreError};
        use pregon_core::account::{AccountSettings, Credentials};
        use pregon_core::campaign::{Account, App, Campaign, NewCampaign, StoredTemplate};
        use pregon_core::message::{Message, NewMessage, Rejection, StatusUpdate};
        use pregon_core::template::Template;
        use pregon_core::{AccountId, AppId, CampaignId, CampaignStatus, MessageId, MessageStatus, TemplateId};
        use sqlx::types::Json;
        use sqlx::{AssertSqlSafe, QueryBuilder};

        impl $store {
            /// Insert a campaign in `ingesting` on `conn`; the account must be the app's.
            async fn insert_campaign(
                conn: &mut <$db as sqlx::Database>::Connection,
                app: AppId,
                new: &NewCampaign,
            ) -> Result<CampaignId, StoreError> {
                let id = CampaignId::new();
                let now = now();
                let r = sqlx::query(
                    "INSERT INTO campaigns (id, app_id, account_id, name, status, template_name, language, \
                     scheduled_at, created_at, updated_at, options, source, idempotency_key) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12 FROM accounts WHERE id = $3 AND app_id = $2",
                )
                .bind(id.0)
                .bind(app.0)
                .bind(new.account_id.0)
                .bind(&new.name)
                .bind(CampaignStatus::Ingesting.as_str())
                .bind(new.template_name.as_deref())
                .bind(new.language.as_deref())
                .bind(new.scheduled_at)
                .bind(now)
                .bind(Json(&new.options))
                .bind(new.source.as_ref().map(Json))
                .bind(new.idempotency_key.as_deref())
                .execute(&mut *conn)
                .await;
                let r = match r {
                    Err(e) if unique_violation(&e) => {
                        return Err(StoreError::Conflict("a campaign with this Idempotency-Key exists".into()));
                    }
                    other => other?,
                };
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(id)
            }


            /// Count and insert a batch of messages on `conn` (inside the caller's transaction).
            async fn add_messages(
                conn: &mut <$db as sqlx::Database>::Connection,
                app: AppId,
                campaign: CampaignId,
                messages: &[NewMessage],
            ) -> Result<(), StoreError> {
                if messages.is_empty() {
                    return Ok(());
                }
                if let Some(bad) = messages.iter().find(|m| !m.status.is_initial() || m.status == MessageStatus::Rejected) {
                    return Err(StoreError::Transition(pregon_core::TransitionError {
                        kind: "message",
                        from: "new",
                        to: bad.status.as_str(),
                    }));
                }
                let now = now();
                let total = i64::try_from(messages.len()).unwrap_or(i64::MAX);
                let suppressed = i64::try_from(messages.iter().filter(|m| m.status == MessageStatus::Suppressed).count())
                    .unwrap_or(0);
                // Counting first also proves the campaign is the app's, and takes the write lock at once.
                let account: Option<uuid::Uuid> = sqlx::query_scalar(
                    "UPDATE campaigns SET n_rows = n_rows + $3, n_accepted = n_accepted + $3, \
                     n_pending = n_pending + $4, n_suppressed = n_suppressed + $5, updated_at = $6 \
                     WHERE app_id = $1 AND id = $2 RETURNING account_id",
                )
                .bind(app.0)
                .bind(campaign.0)
                .bind(total)
                .bind(total - suppressed)
                .bind(suppressed)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?;
                let account = account.ok_or(StoreError::NotFound)?;
                Self::insert_message_rows(conn, app.0, campaign.0, account, messages, now).await?;
                Ok(())
            }

            /// Replace the messages of `rows` by these rejections on `conn`, counters included; rows with no message
            /// (already withdrawn) are left alone.
            async fn withdraw_messages(
                conn: &mut <$db as sqlx::Database>::Connection,
                app: AppId,
                campaign: CampaignId,
                rows: &[Rejection],
            ) -> Result<(), StoreError> {
                if rows.is_empty() {
                    return Ok(());
                }
                let numbers: Vec<u64> = rows.iter().map(|r| r.row_number).collect();
                let listed = if $backend == Backend::Postgres {
                    "SELECT value::bigint FROM jsonb_array_elements_text($2::jsonb)"
                } else {
                    "SELECT value FROM json_each($2)"
                };
                let sql = format!(
                    "DELETE FROM messages WHERE campaign_id = $1 AND row_number IN ({listed}) RETURNING row_number, status"
                );
                let gone: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(sql))
                    .bind(campaign.0)
                    .bind(serde_json::to_string(&numbers).unwrap_or_default())
                    .fetch_all(&mut *conn)
                    .await?;
                if gone.is_empty() {
                    return Ok(());
                }
                let gone_rows: std::collections::HashSet<i64> = gone.iter().map(|(row, _)| *row).collect();
                let total = i64::try_from(gone.len()).unwrap_or(i64::MAX);
                let suppressed = i64::try_from(gone.iter().filter(|(_, s)| s == MessageStatus::Suppressed.as_str()).count())
                    .unwrap_or(0);
                // The rows stay counted once: as rejections now (add_rejections counts them again).
                sqlx::query(
                    "UPDATE campaigns SET n_rows = n_rows - $3, n_accepted = n_accepted - $3, \
                     n_pending = n_pending - $4, n_suppressed = n_suppressed - $5 WHERE app_id = $1 AND id = $2",
                )
                .bind(app.0)
                .bind(campaign.0)
                .bind(total)
                .bind(total - suppressed)
                .bind(suppressed)
                .execute(&mut *conn)
                .await?;
                let rejections: Vec<Rejection> = rows
                    .iter()
                    .filter(|r| i64::try_from(r.row_number).is_ok_and(|n| gone_rows.contains(&n)))
                    .cloned()
                    .collect();
                Self::add_rejections(conn, app, campaign, &rejections).await
            }

            /// Count and insert a batch of rejected rows on `conn`.
            async fn add_rejections(
                conn: &mut <$db as sqlx::Database>::Connection,
                app: AppId,
                campaign: CampaignId,
                rows: &[Rejection],
            ) -> Result<(), StoreError> {
                if rows.is_empty() {
                    return Ok(());
                }
                let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
                let r = sqlx::query(
                    "UPDATE campaigns SET n_rows = n_rows + $3, n_rejected = n_rejected + $3, updated_at = $4 \
                     WHERE app_id = $1 AND id = $2",
                )
                .bind(app.0)
                .bind(campaign.0)
                .bind(total)
                .bind(now())
                .execute(&mut *conn)
                .await?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                for chunk in rows.chunks(INSERT_CHUNK) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO rejections (campaign_id, row_number, column_name, code, message) ",
                    );
                    q.push_values(chunk, |mut b, row| {
                        b.push_bind(campaign.0)
                            .push_bind(i64::try_from(row.row_number).unwrap_or(i64::MAX))
                            .push_bind(row.column.as_deref())
                            .push_bind(row.code.as_str())
                            .push_bind(row.message.as_str());
                    });
                    match q.build().execute(&mut *conn).await {
                        Err(e) if unique_violation(&e) => {
                            return Err(StoreError::Conflict("a row of this campaign is already rejected".into()));
                        }
                        other => other?,
                    };
                }
                Ok(())
            }
            async fn fetch_campaign(&self, app: AppId, id: CampaignId) -> Result<Campaign, StoreError> {
                let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE app_id = $1 AND id = $2");
                sqlx::query_as::<_, CampaignRow>(AssertSqlSafe(sql))
                    .bind(app.0)
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn fetch_message(&self, app: AppId, id: MessageId) -> Result<Message, StoreError> {
                let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE app_id = $1 AND id = $2");
                sqlx::query_as::<_, MessageRow>(AssertSqlSafe(sql))
                    .bind(app.0)
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn write_account(
                &self,
                app: AppId,
                id: AccountId,
                settings: &AccountSettings,
                credentials: &Credentials,
                create: bool,
            ) -> Result<Account, StoreError> {
                let now = now();
                let sql = if create {
                    "INSERT INTO accounts (id, app_id, name, provider, sender, credentials, rate_per_second, \
                     concurrency, daily_cap, base_url, created_at, updated_at, default_language, default_region) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)"
                } else {
                    "UPDATE accounts SET name = $3, provider = $4, sender = $5, credentials = $6, \
                     rate_per_second = $7, concurrency = $8, daily_cap = $9, base_url = $10, updated_at = $11, \
                     default_language = $12, default_region = $13 WHERE id = $1 AND app_id = $2"
                };
                let result = sqlx::query(sql)
                    .bind(id.0)
                    .bind(app.0)
                    .bind(&settings.name)
                    .bind(settings.provider.as_str())
                    .bind(&settings.sender)
                    .bind(credentials.to_json())
                    .bind(i64::from(settings.rate_per_second))
                    .bind(i64::from(settings.concurrency))
                    .bind(settings.daily_cap.map(i64::from))
                    .bind(settings.base_url.as_deref())
                    .bind(now)
                    .bind(settings.default_language.as_deref())
                    .bind(settings.default_region.as_deref())
                    .execute(&self.pool)
                    .await;
                match result {
                    Err(e) if unique_violation(&e) => {
                        Err(StoreError::Conflict(format!("an account named `{}` already exists", settings.name)))
                    }
                    Err(e) => Err(e.into()),
                    Ok(r) if r.rows_affected() == 0 => Err(StoreError::NotFound),
                    Ok(_) => self.get_account_inner(app, id).await,
                }
            }

            async fn get_account_inner(&self, app: AppId, id: AccountId) -> Result<Account, StoreError> {
                let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE app_id = $1 AND id = $2");
                sqlx::query_as::<_, AccountRow>(AssertSqlSafe(sql))
                    .bind(app.0)
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn write_template(
                &self,
                app: AppId,
                account: AccountId,
                id: TemplateId,
                template: &Template,
                definition: &serde_json::Value,
                create: bool,
            ) -> Result<StoredTemplate, StoreError> {
                // Creating checks in the INSERT itself that the account is the app's.
                let sql = if create {
                    "INSERT INTO templates (id, app_id, account_id, name, language, status, definition, created_at, updated_at) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $8 FROM accounts WHERE id = $3 AND app_id = $2"
                } else {
                    "UPDATE templates SET name = $4, language = $5, status = $6, definition = $7, updated_at = $8 \
                     WHERE id = $1 AND app_id = $2 AND account_id = $3"
                };
                let result = sqlx::query(sql)
                    .bind(id.0)
                    .bind(app.0)
                    .bind(account.0)
                    .bind(&template.name)
                    .bind(&template.language)
                    .bind(&template.status)
                    .bind(Json(definition))
                    .bind(now())
                    .execute(&self.pool)
                    .await;
                match result {
                    Err(e) if unique_violation(&e) => Err(StoreError::Conflict(format!(
                        "the account already has a template `{}` in `{}`",
                        template.name, template.language
                    ))),
                    Err(e) => Err(e.into()),
                    Ok(r) if r.rows_affected() == 0 => Err(StoreError::NotFound),
                    Ok(_) => self.template_row(app, account, id).await,
                }
            }

            async fn template_row(
                &self,
                app: AppId,
                account: AccountId,
                id: TemplateId,
            ) -> Result<StoredTemplate, StoreError> {
                let sql = format!(
                    "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE app_id = $1 AND account_id = $2 AND id = $3"
                );
                sqlx::query_as::<_, TemplateRow>(AssertSqlSafe(sql))
                    .bind(app.0)
                    .bind(account.0)
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(Into::into)
                    .ok_or(StoreError::NotFound)
            }
        }

        $crate::send_queue::send_queue!($store, $db, $backend);

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            fn send_queue(&self) -> &dyn $crate::SendQueue {
                self
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_app(&self, name: &str, token_hash: &str) -> Result<App, StoreError> {
                let now = now();
                let id = AppId::new();
                let mut tx = self.pool.begin().await?;
                let inserted = sqlx::query("INSERT INTO apps (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(id.0)
                    .bind(name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await;
                match inserted {
                    Err(e) if unique_violation(&e) => {
                        return Err(StoreError::Conflict(format!("an app named `{name}` already exists")));
                    }
                    other => other?,
                };
                sqlx::query("INSERT INTO app_tokens (token_hash, app_id, created_at) VALUES ($1, $2, $3)")
                    .bind(token_hash)
                    .bind(id.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(App { id, name: name.to_owned(), created_at: now })
            }

            async fn app_by_token_hash(&self, token_hash: &str) -> Result<Option<App>, StoreError> {
                let row = sqlx::query_as::<_, AppRow>(
                    "SELECT apps.id, apps.name, apps.created_at FROM app_tokens \
                     JOIN apps ON apps.id = app_tokens.app_id WHERE app_tokens.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn count_apps(&self) -> Result<u64, StoreError> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM apps").fetch_one(&self.pool).await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn create_account(
                &self,
                app: AppId,
                settings: &AccountSettings,
                credentials: &Credentials,
            ) -> Result<Account, StoreError> {
                self.write_account(app, AccountId::new(), settings, credentials, true).await
            }

            async fn get_account(&self, app: AppId, id: AccountId) -> Result<Account, StoreError> {
                self.get_account_inner(app, id).await
            }

            async fn list_accounts(&self, app: AppId) -> Result<Vec<Account>, StoreError> {
                let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE app_id = $1 ORDER BY id");
                sqlx::query_as::<_, AccountRow>(AssertSqlSafe(sql))
                    .bind(app.0)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn update_account(
                &self,
                app: AppId,
                id: AccountId,
                settings: &AccountSettings,
                credentials: &Credentials,
            ) -> Result<Account, StoreError> {
                self.write_account(app, id, settings, credentials, false).await
            }

            async fn delete_account(&self, app: AppId, id: AccountId) -> Result<(), StoreError> {
                let result = sqlx::query("DELETE FROM accounts WHERE app_id = $1 AND id = $2")
                    .bind(app.0)
                    .bind(id.0)
                    .execute(&self.pool)
                    .await;
                match result {
                    Err(e) if foreign_key_violation(&e) => {
                        Err(StoreError::Conflict("the account has campaigns or messages; it cannot be deleted".into()))
                    }
                    Err(e) => Err(e.into()),
                    Ok(r) if r.rows_affected() == 0 => Err(StoreError::NotFound),
                    Ok(_) => Ok(()),
                }
            }

            async fn create_template(
                &self,
                app: AppId,
                account: AccountId,
                template: &Template,
                definition: &serde_json::Value,
            ) -> Result<StoredTemplate, StoreError> {
                self.write_template(app, account, TemplateId::new(), template, definition, true).await
            }

            async fn update_template(
                &self,
                app: AppId,
                account: AccountId,
                id: TemplateId,
                template: &Template,
                definition: &serde_json::Value,
            ) -> Result<StoredTemplate, StoreError> {
                self.write_template(app, account, id, template, definition, false).await
            }

            async fn get_template(
                &self,
                app: AppId,
                account: AccountId,
                id: TemplateId,
            ) -> Result<StoredTemplate, StoreError> {
                self.template_row(app, account, id).await
            }

            async fn find_template(
                &self,
                app: AppId,
                account: AccountId,
                name: &str,
                language: &str,
            ) -> Result<Option<StoredTemplate>, StoreError> {
                let sql = format!(
                    "SELECT {TEMPLATE_COLUMNS} FROM templates \
                     WHERE app_id = $1 AND account_id = $2 AND name = $3 AND language = $4"
                );
                let row = sqlx::query_as::<_, TemplateRow>(AssertSqlSafe(sql))
                    .bind(app.0)
                    .bind(account.0)
                    .bind(name)
                    .bind(language)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            async fn list_templates(&self, app: AppId, account: AccountId) -> Result<Vec<StoredTemplate>, StoreError> {
                let sql = format!(
                    "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE app_id = $1 AND account_id = $2 \
                     ORDER BY name, language"
                );
                let rows = sqlx::query_as::<_, TemplateRow>(AssertSqlSafe(sql))
                    .bind(app.0)
                    .bind(account.0)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn delete_template(&self, app: AppId, account: AccountId, id: TemplateId) -> Result<(), StoreError> {
                let r = sqlx::query("DELETE FROM templates WHERE app_id = $1 AND account_id = $2 AND id = $3")
                    .bind(app.0)
                    .bind(account.0)
                    .bind(id.0)
                    .execute(&self.pool)
                    .await?;
                if r.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn create_campaign(&self, app: AppId, new: &NewCampaign) -> Result<Campaign, StoreError> {
                let mut conn = self.pool.acquire().await?;
                let id = Self::insert_campaign(&mut *conn, app, new).await?;
                drop(conn);
                self.fetch_campaign(app, id).await
            }

            async fn create_campaign_with_upload(
                &self,
                app: AppId,
                new: &NewCampaign,
                file: &std::path::Path,
            ) -> Result<Campaign, StoreError> {
                use tokio::io::AsyncReadExt;
                let io = |e: std::io::Error| StoreError::Database(sqlx::Error::Io(e));
                let mut f = tokio::fs::File::open(file).await.map_err(io)?;
                let mut tx = self.pool.begin().await?;
                let id = Self::insert_campaign(&mut *tx, app, new).await?;
                let mut buf = vec![0u8; UPLOAD_CHUNK];
                let mut seq: i64 = 0;
                loop {
                    let mut filled = 0;
                    while filled < buf.len() {
                        let n = f.read(&mut buf[filled..]).await.map_err(io)?;
                        if n == 0 {
                            break;
                        }
                        filled += n;
                    }
                    if filled == 0 {
                        break;
                    }
                    sqlx::query("INSERT INTO uploads (campaign_id, seq, data) VALUES ($1, $2, $3)")
                        .bind(id.0)
                        .bind(seq)
                        .bind(&buf[..filled])
                        .execute(&mut *tx)
                        .await?;
                    seq += 1;
                    if filled < buf.len() {
                        break;
                    }
                }
                tx.commit().await?;
                self.fetch_campaign(app, id).await
            }

            async fn get_campaign(&self, app: AppId, id: CampaignId) -> Result<Campaign, StoreError> {
                self.fetch_campaign(app, id).await
            }

            async fn list_campaigns(&self, app: AppId, filter: &CampaignFilter) -> Result<Vec<Campaign>, StoreError> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE app_id = "));
                q.push_bind(app.0);
                if let Some(status) = filter.status {
                    q.push(" AND status = ").push_bind(status.as_str());
                }
                if let Some(account) = filter.account_id {
                    q.push(" AND account_id = ").push_bind(account.0);
                }
                if let Some(before) = filter.before {
                    q.push(" AND id < ").push_bind(before.0);
                }
                q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(filter.limit.max(1)));
                q.build_query_as::<CampaignRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn set_campaign_status(
                &self,
                app: AppId,
                id: CampaignId,
                to: CampaignStatus,
                reason: Option<&str>,
            ) -> Result<Campaign, StoreError> {
                for _ in 0..CAS_ATTEMPTS {
                    let current = self.fetch_campaign(app, id).await?;
                    current.status.transition(to)?;
                    let now = now();
                    let mut tx = self.pool.begin().await?;
                    if to == CampaignStatus::Cancelled && $backend == Backend::Postgres {
                        // Senders lock messages, then their campaign's row (docs/architecture.md, "Lock order"):
                        // the messages this cancels are taken first, in id order, the campaign's row after, or a
                        // cancel and a sender wait on each other until PostgreSQL aborts one.
                        sqlx::query(
                            "WITH locked AS (SELECT id FROM messages WHERE campaign_id = $1 \
                             AND status IN ('pending', 'queued') ORDER BY id FOR UPDATE) SELECT count(*) FROM locked",
                        )
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let sql = format!(
                        "UPDATE campaigns SET status = $1, updated_at = $3, {} WHERE id = $2 AND status = $4",
                        campaign_status_effects(to)
                    );
                    let mut query = sqlx::query(AssertSqlSafe(sql))
                        .bind(to.as_str())
                        .bind(id.0)
                        .bind(now)
                        .bind(current.status.as_str());
                    if campaign_status_takes_reason(to) {
                        query = query.bind(reason);
                    }
                    let r = query.execute(&mut *tx).await?;
                    if r.rows_affected() == 0 {
                        continue; // another writer changed it first: read again and re-check the move
                    }
                    if to == CampaignStatus::Cancelled {
                        // Every message not yet handed to the provider is cancelled with the campaign.
                        sqlx::query(
                            "UPDATE messages SET status = 'cancelled', updated_at = $2 \
                             WHERE campaign_id = $1 AND status IN ('pending', 'queued')",
                        )
                        .bind(id.0)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(
                            "UPDATE campaigns SET n_cancelled = n_cancelled + n_pending + n_queued, \
                             n_pending = 0, n_queued = 0 WHERE id = $1",
                        )
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    return self.fetch_campaign(app, id).await;
                }
                Err(StoreError::Conflict("the campaign is changing too fast; try again".into()))
            }

            async fn update_campaign_plan(
                &self,
                app: AppId,
                id: CampaignId,
                plan: &CampaignPlan,
            ) -> Result<Campaign, StoreError> {
                let current = self.fetch_campaign(app, id).await?;
                let not_started = current.status == CampaignStatus::Scheduled
                    || (current.status == CampaignStatus::Paused && current.started_at.is_none());
                if plan.scheduled_at.is_some() && !not_started {
                    return Err(StoreError::Transition(pregon_core::TransitionError {
                        kind: "campaign",
                        from: current.status.as_str(),
                        to: "rescheduled",
                    }));
                }
                if current.status.is_terminal() || current.status == CampaignStatus::Completed {
                    return Err(StoreError::Transition(pregon_core::TransitionError {
                        kind: "campaign",
                        from: current.status.as_str(),
                        to: "changed",
                    }));
                }
                let now = now();
                let mut tx = self.pool.begin().await?;
                if let Some(at) = plan.scheduled_at {
                    sqlx::query("UPDATE campaigns SET scheduled_at = $2, updated_at = $3 WHERE id = $1")
                        .bind(id.0)
                        .bind(at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(cap) = plan.rate_cap {
                    sqlx::query("UPDATE campaigns SET rate_cap = $2, updated_at = $3 WHERE id = $1")
                        .bind(id.0)
                        .bind(cap.map(i64::from))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(window) = &plan.send_window {
                    sqlx::query("UPDATE campaigns SET send_window = $2, updated_at = $3 WHERE id = $1")
                        .bind(id.0)
                        .bind(window.as_ref().map(Json))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    // Messages held back by the old window are looked at again under the new one.
                    sqlx::query(
                        "UPDATE messages SET not_before = NULL WHERE campaign_id = $1 AND status = 'queued' \
                         AND owner IS NULL AND error_code IS NULL",
                    )
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                self.fetch_campaign(app, id).await
            }

            async fn retry_failed(&self, app: AppId, id: CampaignId) -> Result<u64, StoreError> {
                let current = self.fetch_campaign(app, id).await?;
                if current.status.is_terminal() {
                    return Err(StoreError::Transition(pregon_core::TransitionError {
                        kind: "campaign",
                        from: current.status.as_str(),
                        to: "retried",
                    }));
                }
                let now = now();
                let mut tx = self.pool.begin().await?;
                let r = sqlx::query(
                    "UPDATE messages SET status = 'queued', owner = NULL, not_before = NULL, failure_kind = NULL, \
                     failed_at = NULL, updated_at = $2 \
                     WHERE campaign_id = $1 AND status = 'failed' AND failure_kind IN ('transient', 'retry_worthy')",
                )
                .bind(id.0)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let n = i64::try_from(r.rows_affected()).unwrap_or(i64::MAX);
                if n > 0 {
                    sqlx::query(
                        "UPDATE campaigns SET n_failed = n_failed - $2, n_queued = n_queued + $2, updated_at = $3, \
                         status = CASE WHEN status = 'completed' THEN 'running' ELSE status END, \
                         finished_at = CASE WHEN status = 'completed' THEN NULL ELSE finished_at END \
                         WHERE id = $1",
                    )
                    .bind(id.0)
                    .bind(n)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(r.rows_affected())
            }

            async fn create_single_message(
                &self,
                app: AppId,
                account: AccountId,
                message: &NewMessage,
            ) -> Result<Message, StoreError> {
                let now = now();
                let r = sqlx::query(
                    "INSERT INTO messages (id, app_id, campaign_id, account_id, row_number, phone, template_name, \
                     language, params, rendered_text, flag, status, created_at, updated_at) \
                     SELECT $1, $2, NULL, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $11 FROM accounts \
                     WHERE id = $3 AND app_id = $2",
                )
                .bind(message.id.0)
                .bind(app.0)
                .bind(account.0)
                .bind(&message.phone)
                .bind(&message.template_name)
                .bind(&message.language)
                .bind(Json(&message.params))
                .bind(message.rendered_text.as_deref())
                .bind(message.flag.as_deref())
                .bind(message.status.as_str())
                .bind(now)
                .execute(&self.pool)
                .await?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                self.fetch_message(app, message.id).await
            }

            async fn insert_messages(
                &self,
                app: AppId,
                campaign: CampaignId,
                messages: &[NewMessage],
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                Self::add_messages(&mut *tx, app, campaign, messages).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn insert_rejections(
                &self,
                app: AppId,
                campaign: CampaignId,
                rows: &[Rejection],
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                Self::add_rejections(&mut *tx, app, campaign, rows).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_optouts(&self, app: AppId, phones: &[String], source: &str) -> Result<u64, StoreError> {
                let now = now();
                let mut added = 0;
                let mut tx = self.pool.begin().await?;
                for chunk in phones.chunks(INSERT_CHUNK) {
                    let mut q = QueryBuilder::<$db>::new("INSERT INTO optouts (app_id, phone, source, created_at) ");
                    q.push_values(chunk, |mut b, phone| {
                        b.push_bind(app.0).push_bind(phone.as_str()).push_bind(source).push_bind(now);
                    });
                    q.push(" ON CONFLICT (app_id, phone) DO NOTHING");
                    added += q.build().execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(added)
            }

            async fn set_callback(&self, app: AppId, url: &str, secret: &str) -> Result<(), StoreError> {
                let r = sqlx::query("UPDATE apps SET callback_url = $2, callback_secret = $3 WHERE id = $1")
                    .bind(app.0)
                    .bind(url)
                    .bind(secret)
                    .execute(&self.pool)
                    .await?;
                if r.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn callback(&self, app: AppId) -> Result<Option<(String, String)>, StoreError> {
                let row: Option<(Option<String>, Option<String>)> =
                    sqlx::query_as("SELECT callback_url, callback_secret FROM apps WHERE id = $1")
                        .bind(app.0)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(match row {
                    Some((Some(url), Some(secret))) => Some((url, secret)),
                    _ => None,
                })
            }

            async fn delete_callback(&self, app: AppId) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                let r = sqlx::query(
                    "UPDATE apps SET callback_url = NULL, callback_secret = NULL WHERE id = $1 AND callback_url IS NOT NULL",
                )
                .bind(app.0)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                sqlx::query(
                    "UPDATE callbacks SET next_at = NULL, last_error = 'the callback was removed' \
                     WHERE app_id = $1 AND next_at IS NOT NULL",
                )
                .bind(app.0)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn remove_optout(&self, app: AppId, phone: &str) -> Result<(), StoreError> {
                let r = sqlx::query("DELETE FROM optouts WHERE app_id = $1 AND phone = $2")
                    .bind(app.0)
                    .bind(phone)
                    .execute(&self.pool)
                    .await?;
                if r.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn list_optouts(&self, app: AppId, after: Option<&str>, limit: u32) -> Result<Vec<OptOut>, StoreError> {
                let rows: Vec<(String, String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
                    "SELECT phone, source, created_at FROM optouts WHERE app_id = $1 AND phone > $2 ORDER BY phone LIMIT $3",
                )
                .bind(app.0)
                .bind(after.unwrap_or(""))
                .bind(i64::from(limit.max(1)))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(phone, source, created_at)| OptOut { phone, source, created_at }).collect())
            }

            async fn opted_out(&self, app: AppId) -> Result<std::collections::HashSet<String>, StoreError> {
                let rows: Vec<String> = sqlx::query_scalar("SELECT phone FROM optouts WHERE app_id = $1")
                    .bind(app.0)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().collect())
            }

            async fn campaign_by_idempotency_key(&self, app: AppId, key: &str) -> Result<Option<Campaign>, StoreError> {
                let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE app_id = $1 AND idempotency_key = $2");
                sqlx::query_as::<_, CampaignRow>(AssertSqlSafe(sql))
                    .bind(app.0)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn append_upload(&self, app: AppId, campaign: CampaignId, seq: u64, data: &[u8]) -> Result<(), StoreError> {
                let r = sqlx::query(
                    "INSERT INTO uploads (campaign_id, seq, data) SELECT $1, $2, $3 FROM campaigns WHERE id = $1 AND app_id = $4",
                )
                .bind(campaign.0)
                .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                .bind(data)
                .bind(app.0)
                .execute(&self.pool)
                .await?;
                if r.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            }

            async fn read_upload(&self, campaign: CampaignId, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
                Ok(sqlx::query_scalar("SELECT data FROM uploads WHERE campaign_id = $1 AND seq = $2")
                    .bind(campaign.0)
                    .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn claim_ingestion(&self, owner: &str, lease: std::time::Duration) -> Result<Option<IngestClaim>, StoreError> {
                let now = now();
                let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
                // The outer WHERE repeats the condition: of two processes racing for the same row, the second finds
                // the lease taken once the first commits, and claims nothing.
                let claimed: Option<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
                    "UPDATE campaigns SET ingest_owner = $1, ingest_lease_until = $2 \
                     WHERE id = (SELECT id FROM campaigns WHERE status = 'ingesting' \
                                 AND (ingest_lease_until IS NULL OR ingest_lease_until < $3) ORDER BY id LIMIT 1) \
                     AND status = 'ingesting' AND (ingest_lease_until IS NULL OR ingest_lease_until < $3) \
                     RETURNING id, app_id",
                )
                .bind(owner)
                .bind(until)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                let Some((id, app)) = claimed else { return Ok(None) };
                let campaign = self.fetch_campaign(app.into(), id.into()).await?;
                let options: Option<Json<serde_json::Value>> =
                    sqlx::query_scalar("SELECT options FROM campaigns WHERE id = $1").bind(id).fetch_one(&self.pool).await?;
                Ok(Some(IngestClaim {
                    campaign,
                    options: options.map(|j| j.0).unwrap_or(serde_json::Value::Null),
                    owner: owner.to_owned(),
                }))
            }

            async fn store_ingest_batch(
                &self,
                claim: &IngestClaim,
                batch: IngestBatch<'_>,
                lease: std::time::Duration,
            ) -> Result<(), StoreError> {
                let until = now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
                let mut tx = self.pool.begin().await?;
                if $backend == Backend::Postgres {
                    // A batch need not wait for its WAL flush: if the database loses the commit, it loses the resume
                    // point with it, and the ingestion stores the batch again. The final commit (`scheduled`) is
                    // synchronous and flushes every batch before it.
                    sqlx::query("SET LOCAL synchronous_commit TO OFF").execute(&mut *tx).await?;
                }
                let r = sqlx::query(
                    "UPDATE campaigns SET ingested_rows = $3, ingest_lease_until = $4 \
                     WHERE id = $1 AND ingest_owner = $2 AND status = 'ingesting'",
                )
                .bind(claim.campaign.id.0)
                .bind(&claim.owner)
                .bind(i64::try_from(batch.through_row).unwrap_or(i64::MAX))
                .bind(until)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() == 0 {
                    return Err(StoreError::Conflict("the ingestion lease was lost or the campaign left `ingesting`".into()));
                }
                let (app, campaign) = (claim.campaign.app_id, claim.campaign.id);
                Self::add_messages(&mut *tx, app, campaign, batch.messages).await?;
                Self::add_rejections(&mut *tx, app, campaign, batch.rejections).await?;
                Self::withdraw_messages(&mut *tx, app, campaign, batch.withdrawn).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn finish_ingestion(&self, claim: &IngestClaim, outcome: Result<(), String>) -> Result<Campaign, StoreError> {
                let id = claim.campaign.id;
                let now = now();
                let mut tx = self.pool.begin().await?;
                let to = if outcome.is_ok() { CampaignStatus::Scheduled } else { CampaignStatus::Failed };
                CampaignStatus::Ingesting.transition(to)?;
                let r = match &outcome {
                    Ok(()) => sqlx::query(
                        "UPDATE campaigns SET status = 'scheduled', ingest_owner = NULL, ingest_lease_until = NULL, \
                         updated_at = $3 WHERE id = $1 AND ingest_owner = $2 AND status = 'ingesting'",
                    )
                    .bind(id.0)
                    .bind(&claim.owner)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?,
                    Err(reason) => sqlx::query(
                        "UPDATE campaigns SET status = 'failed', failure_reason = $4, finished_at = $3, updated_at = $3, \
                         ingest_owner = NULL, ingest_lease_until = NULL, ingested_rows = 0, n_rows = 0, n_accepted = 0, \
                         n_rejected = 0, n_pending = 0, n_suppressed = 0 \
                         WHERE id = $1 AND ingest_owner = $2 AND status = 'ingesting'",
                    )
                    .bind(id.0)
                    .bind(&claim.owner)
                    .bind(now)
                    .bind(reason.as_str())
                    .execute(&mut *tx)
                    .await?,
                };
                if r.rows_affected() == 0 {
                    return Err(StoreError::Conflict("the ingestion lease was lost or the campaign left `ingesting`".into()));
                }
                if outcome.is_err() {
                    // Nothing half-made: a file that fails part-way leaves no messages behind.
                    sqlx::query("DELETE FROM messages WHERE campaign_id = $1").bind(id.0).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM rejections WHERE campaign_id = $1").bind(id.0).execute(&mut *tx).await?;
                }
                sqlx::query("DELETE FROM uploads WHERE campaign_id = $1").bind(id.0).execute(&mut *tx).await?;
                tx.commit().await?;
                self.fetch_campaign(claim.campaign.app_id, id).await
            }

            async fn get_message(&self, app: AppId, id: MessageId) -> Result<Message, StoreError> {
                self.fetch_message(app, id).await
            }

            async fn list_messages(
                &self,
                app: AppId,
                campaign: CampaignId,
                filter: &MessageFilter,
            ) -> Result<Vec<Message>, StoreError> {
                let mut q = QueryBuilder::<$db>::new(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE app_id = "));
                q.push_bind(app.0);
                // Past a cursor, the campaign (and status) and the cursor are one range of the index's own columns,
                // from `(campaign, [status,] cursor)` exclusive up to `(campaign[, status])` inclusive — exactly the
                // rows of that campaign (and status) after the cursor. Spelled with equalities and `id > cursor`,
                // PostgreSQL either walks the primary key and filters (every later row of the table read when none
                // has the status: 0.6 s for a page past the last `delivered` one at 10M messages), or starts the
                // index scan at the campaign's first row, ignoring the cursor.
                match (filter.after, filter.status) {
                    (None, status) => {
                        q.push(" AND campaign_id = ").push_bind(campaign.0);
                        if let Some(status) = status {
                            q.push(" AND status = ").push_bind(status.as_str());
                        }
                    }
                    (Some(after), None) => {
                        q.push(" AND (campaign_id, id) > (").push_bind(campaign.0).push(", ").push_bind(after.0);
                        q.push(") AND campaign_id <= ").push_bind(campaign.0);
                    }
                    (Some(after), Some(status)) => {
                        // PostgreSQL 15 ends a scan on a row comparison's first column only: the campaign is an
                        // equality (a key every later column can end on), the status an upper bound.
                        q.push(" AND campaign_id = ").push_bind(campaign.0);
                        q.push(" AND (status, id) > (").push_bind(status.as_str()).push(", ").push_bind(after.0);
                        q.push(") AND status <= ").push_bind(status.as_str());
                    }
                }
                let order = if filter.status.is_some() { "campaign_id, status, id" } else { "campaign_id, id" };
                q.push(format!(" ORDER BY {order} LIMIT ")).push_bind(i64::from(filter.limit.max(1)));
                q.build_query_as::<MessageRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn list_rejections(
                &self,
                app: AppId,
                campaign: CampaignId,
                after_row: Option<u64>,
                limit: u32,
            ) -> Result<Vec<Rejection>, StoreError> {
                let rows = sqlx::query_as::<_, RejectionRow>(
                    "SELECT r.row_number, r.column_name, r.code, r.message FROM rejections r \
                     JOIN campaigns c ON c.id = r.campaign_id \
                     WHERE c.app_id = $1 AND r.campaign_id = $2 AND r.row_number > $3 \
                     ORDER BY r.row_number LIMIT $4",
                )
                .bind(app.0)
                .bind(campaign.0)
                .bind(after_row.map(|n| i64::try_from(n).unwrap_or(i64::MAX)).unwrap_or(0))
                .bind(i64::from(limit.max(1)))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn set_message_status(
                &self,
                app: AppId,
                id: MessageId,
                to: MessageStatus,
                update: &StatusUpdate,
            ) -> Result<Message, StoreError> {
                for _ in 0..CAS_ATTEMPTS {
                    let current = self.fetch_message(app, id).await?;
                    current.status.transition(to)?;
                    let (error_code, error_message) = if to == MessageStatus::Failed {
                        (update.error_code.as_deref(), update.error_message.as_deref())
                    } else {
                        (None, None)
                    };
                    let mut tx = self.pool.begin().await?;
                    let sql = format!(
                        "UPDATE messages SET status = $1, updated_at = $3, \
                         provider_message_id = COALESCE($5, provider_message_id), \
                         error_code = $6, error_message = $7{} \
                         WHERE id = $2 AND status = $4",
                        message_status_effects(to)
                    );
                    let r = sqlx::query(AssertSqlSafe(sql))
                        .bind(to.as_str())
                        .bind(id.0)
                        .bind(now())
                        .bind(current.status.as_str())
                        .bind(update.provider_message_id.as_deref())
                        .bind(error_code)
                        .bind(error_message)
                        .execute(&mut *tx)
                        .await;
                    let r = match r {
                        Err(e) if unique_violation(&e) => {
                            return Err(StoreError::Conflict(
                                "another message of this account has the same provider message id".into(),
                            ));
                        }
                        other => other?,
                    };
                    if r.rows_affected() == 0 {
                        continue;
                    }
                    if let Some(campaign) = current.campaign_id {
                        let sql = format!(
                            "UPDATE campaigns SET {from} = {from} - 1, {to} = {to} + 1 WHERE id = $1",
                            from = counter_column(current.status),
                            to = counter_column(to)
                        );
                        sqlx::query(AssertSqlSafe(sql)).bind(campaign.0).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    return self.fetch_message(app, id).await;
                }
                Err(StoreError::Conflict("the message is changing too fast; try again".into()))
            }
        }
    };
}

pub(crate) use sql_store;
