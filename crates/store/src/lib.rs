//! Pregon's storage. One [`Store`] trait, two backends (SQLite for the embedded default, PostgreSQL for
//! production), and a conformance suite that both run. Every call that serves a client takes the caller's
//! [`AppId`] and never reaches another app's rows: a row of another app is simply "not found".

use async_trait::async_trait;
use pregon_core::account::{AccountSettings, Credentials};
use pregon_core::campaign::{Account, App, Campaign, NewCampaign, StoredTemplate};
use pregon_core::message::{Message, NewMessage, Rejection, StatusUpdate};
use pregon_core::template::Template;
use pregon_core::{
    AccountId, AppId, CampaignId, CampaignStatus, MessageId, MessageStatus, TemplateId, TransitionError,
};
use std::sync::Arc;

pub mod postgres;
pub mod send_queue;
mod sql;
pub mod sqlite;

#[cfg(feature = "testing")]
pub mod conformance;
#[cfg(feature = "testing")]
pub mod testing;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (or belongs to another app).
    #[error("not found")]
    NotFound,
    /// A unique name is taken, or the row is still referenced.
    #[error("{0}")]
    Conflict(String),
    /// The status change is not allowed by the lifecycle.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database URL is not one Pregon understands.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub use send_queue::{
    CallbackOutcome, ClaimedCallback, FailureKind, Recovery, Reservation, RunningCampaign, SendQueue, SendResult,
    StatusChange,
};

/// What a PATCH changes on a campaign: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CampaignPlan {
    /// A new start time.
    pub scheduled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Its own rate cap.
    pub rate_cap: Option<Option<u32>>,
    /// Its send window, as stored (already validated).
    pub send_window: Option<Option<serde_json::Value>>,
}

/// One batch of an ingestion's rows.
#[derive(Clone, Copy, Debug, Default)]
pub struct IngestBatch<'a> {
    /// New messages.
    pub messages: &'a [NewMessage],
    /// Refused rows.
    pub rejections: &'a [Rejection],
    /// Rows stored as messages by earlier batches that are duplicates after all: their messages are removed and these
    /// rejections stored instead. Rows already withdrawn (a resumed run repeats them) are skipped.
    pub withdrawn: &'a [Rejection],
    /// The last row this batch covers: the resume point.
    pub through_row: u64,
}

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: one process.
    Sqlite,
    /// PostgreSQL: many processes.
    Postgres,
}

/// Filters for listing campaigns.
#[derive(Clone, Debug, Default)]
pub struct CampaignFilter {
    /// Only this status.
    pub status: Option<CampaignStatus>,
    /// Only this account.
    pub account_id: Option<AccountId>,
    /// Only campaigns created before this one (keyset pagination, newest first).
    pub before: Option<CampaignId>,
    /// At most this many.
    pub limit: u32,
}

/// Filters for listing a campaign's messages.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    /// Only this status.
    pub status: Option<MessageStatus>,
    /// Only messages after this one (keyset pagination, oldest first).
    pub after: Option<MessageId>,
    /// At most this many.
    pub limit: u32,
}

/// An opted-out number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptOut {
    /// E.164.
    pub phone: String,
    /// Where it came from: `api`, `webhook`, …
    pub source: String,
    /// When it was added.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// An ingestion this process holds the lease of.
#[derive(Clone, Debug)]
pub struct IngestClaim {
    /// The campaign (status `ingesting`), with `ingested_rows` = the last row already stored.
    pub campaign: Campaign,
    /// How to read its file (as given at upload).
    pub options: serde_json::Value,
    /// Who holds the lease.
    pub owner: String,
}

/// The storage interface. Object-safe, so the server holds an `Arc<dyn Store>` whatever the backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;
    /// Check the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// The dispatcher's side of the store: claims, reservations, outcomes, recovery.
    fn send_queue(&self) -> &dyn SendQueue;

    /// Create an app with its first token (hashed). A taken name is a conflict.
    async fn create_app(&self, name: &str, token_hash: &str) -> Result<App, StoreError>;
    /// The app a token hash belongs to.
    async fn app_by_token_hash(&self, token_hash: &str) -> Result<Option<App>, StoreError>;
    /// How many apps exist.
    async fn count_apps(&self) -> Result<u64, StoreError>;

    /// Create an account. Settings and credentials must already be validated.
    async fn create_account(
        &self,
        app: AppId,
        settings: &AccountSettings,
        credentials: &Credentials,
    ) -> Result<Account, StoreError>;
    /// One account of the app.
    async fn get_account(&self, app: AppId, id: AccountId) -> Result<Account, StoreError>;
    /// The app's accounts, oldest first.
    async fn list_accounts(&self, app: AppId) -> Result<Vec<Account>, StoreError>;
    /// Replace an account's settings and credentials.
    async fn update_account(
        &self,
        app: AppId,
        id: AccountId,
        settings: &AccountSettings,
        credentials: &Credentials,
    ) -> Result<Account, StoreError>;
    /// Delete an account and its templates; refused while campaigns use it.
    async fn delete_account(&self, app: AppId, id: AccountId) -> Result<(), StoreError>;

    /// Store a template for an account. The same name and language twice is a conflict.
    async fn create_template(
        &self,
        app: AppId,
        account: AccountId,
        template: &Template,
        definition: &serde_json::Value,
    ) -> Result<StoredTemplate, StoreError>;
    /// Replace a template's definition.
    async fn update_template(
        &self,
        app: AppId,
        account: AccountId,
        id: TemplateId,
        template: &Template,
        definition: &serde_json::Value,
    ) -> Result<StoredTemplate, StoreError>;
    /// One template.
    async fn get_template(&self, app: AppId, account: AccountId, id: TemplateId) -> Result<StoredTemplate, StoreError>;
    /// A template by name and language.
    async fn find_template(
        &self,
        app: AppId,
        account: AccountId,
        name: &str,
        language: &str,
    ) -> Result<Option<StoredTemplate>, StoreError>;
    /// An account's templates, by name then language.
    async fn list_templates(&self, app: AppId, account: AccountId) -> Result<Vec<StoredTemplate>, StoreError>;
    /// Delete a template.
    async fn delete_template(&self, app: AppId, account: AccountId, id: TemplateId) -> Result<(), StoreError>;

    /// Create a campaign in `ingesting`. The account must belong to the app.
    async fn create_campaign(&self, app: AppId, new: &NewCampaign) -> Result<Campaign, StoreError>;
    /// One campaign with its counters.
    async fn get_campaign(&self, app: AppId, id: CampaignId) -> Result<Campaign, StoreError>;
    /// The app's campaigns, newest first.
    async fn list_campaigns(&self, app: AppId, filter: &CampaignFilter) -> Result<Vec<Campaign>, StoreError>;
    /// Move a campaign to `to` if the lifecycle allows it, setting the timestamps and reason that go with it.
    async fn set_campaign_status(
        &self,
        app: AppId,
        id: CampaignId,
        to: CampaignStatus,
        reason: Option<&str>,
    ) -> Result<Campaign, StoreError>;

    /// Store a batch of a campaign's messages and count them, in one transaction.
    async fn insert_messages(
        &self,
        app: AppId,
        campaign: CampaignId,
        messages: &[NewMessage],
    ) -> Result<(), StoreError>;
    /// Store a batch of rejected rows and count them, in one transaction.
    async fn insert_rejections(&self, app: AppId, campaign: CampaignId, rows: &[Rejection]) -> Result<(), StoreError>;
    /// One message.
    async fn get_message(&self, app: AppId, id: MessageId) -> Result<Message, StoreError>;
    /// A campaign's messages, oldest first.
    async fn list_messages(
        &self,
        app: AppId,
        campaign: CampaignId,
        filter: &MessageFilter,
    ) -> Result<Vec<Message>, StoreError>;
    /// A campaign's rejected rows, by row number.
    async fn list_rejections(
        &self,
        app: AppId,
        campaign: CampaignId,
        after_row: Option<u64>,
        limit: u32,
    ) -> Result<Vec<Rejection>, StoreError>;
    /// Add numbers to the app's opt-out list; returns how many were new.
    async fn add_optouts(&self, app: AppId, phones: &[String], source: &str) -> Result<u64, StoreError>;
    /// Remove a number from the opt-out list.
    async fn remove_optout(&self, app: AppId, phone: &str) -> Result<(), StoreError>;
    /// The opt-out list, by phone.
    async fn list_optouts(&self, app: AppId, after: Option<&str>, limit: u32) -> Result<Vec<OptOut>, StoreError>;
    /// Every opted-out number of the app (for validating a campaign).
    async fn opted_out(&self, app: AppId) -> Result<std::collections::HashSet<String>, StoreError>;

    /// The campaign created with this `Idempotency-Key`, if any.
    async fn campaign_by_idempotency_key(&self, app: AppId, key: &str) -> Result<Option<Campaign>, StoreError>;
    /// Create a campaign (in `ingesting`) and store its uploaded file with it, in one transaction: a campaign never
    /// exists with half its file, so an ingestion never reads a partial upload.
    async fn create_campaign_with_upload(
        &self,
        app: AppId,
        new: &NewCampaign,
        file: &std::path::Path,
    ) -> Result<Campaign, StoreError>;
    /// Store chunk `seq` of a campaign's uploaded file.
    async fn append_upload(&self, app: AppId, campaign: CampaignId, seq: u64, data: &[u8]) -> Result<(), StoreError>;
    /// Chunk `seq` of a campaign's uploaded file, `None` past the last.
    async fn read_upload(&self, campaign: CampaignId, seq: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// Take the lease of one `ingesting` campaign whose lease is free or expired (any app: this is the worker side).
    async fn claim_ingestion(&self, owner: &str, lease: std::time::Duration)
    -> Result<Option<IngestClaim>, StoreError>;
    /// Store a batch of an ingestion in one transaction that also renews the lease. `Conflict` when the lease was
    /// lost (or the campaign cancelled).
    async fn store_ingest_batch(
        &self,
        claim: &IngestClaim,
        batch: IngestBatch<'_>,
        lease: std::time::Duration,
    ) -> Result<(), StoreError>;
    /// End an ingestion: `scheduled` on success; on failure `failed` with the reason and nothing of the file kept
    /// (its messages, rejections and counters are removed). The uploaded file is deleted either way.
    async fn finish_ingestion(&self, claim: &IngestClaim, outcome: Result<(), String>) -> Result<Campaign, StoreError>;

    /// Change when and how a campaign sends (PATCH): only the fields given. A new start time needs a `scheduled`
    /// (or paused, not yet started) campaign; a new window lets held-back messages be looked at again.
    async fn update_campaign_plan(
        &self,
        app: AppId,
        id: CampaignId,
        plan: &CampaignPlan,
    ) -> Result<Campaign, StoreError>;
    /// Put a campaign's retry-worthy failed messages (transient, or like Meta 131049) back in the queue; a completed
    /// campaign runs again. Returns how many.
    async fn retry_failed(&self, app: AppId, id: CampaignId) -> Result<u64, StoreError>;
    /// Store one message outside any campaign (a single send), for `account`, which must be the app's.
    async fn create_single_message(
        &self,
        app: AppId,
        account: AccountId,
        message: &NewMessage,
    ) -> Result<Message, StoreError>;

    /// Set the app's callback URL and signing secret (replacing any).
    async fn set_callback(&self, app: AppId, url: &str, secret: &str) -> Result<(), StoreError>;
    /// The app's callback URL and secret, if it has one.
    async fn callback(&self, app: AppId) -> Result<Option<(String, String)>, StoreError>;
    /// Remove the app's callback; `NotFound` if it had none. Events not yet delivered are given up.
    async fn delete_callback(&self, app: AppId) -> Result<(), StoreError>;

    /// Move a message to `to` if the lifecycle allows it, with the campaign's counters in the same transaction.
    async fn set_message_status(
        &self,
        app: AppId,
        id: MessageId,
        to: MessageStatus,
        update: &StatusUpdate,
    ) -> Result<Message, StoreError>;
}

/// A shared store.
pub type DynStore = Arc<dyn Store>;

/// The embedded default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/pregon.db";

/// Open (creating if needed) the database at `url`, apply Pregon's and apalis's migrations, and return the store.
pub async fn connect(url: &str) -> Result<DynStore, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(redact_url(url)))
    }
}

/// `url` with any password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://./data/pregon.db"), "sqlite://./data/pregon.db");
    }
}
