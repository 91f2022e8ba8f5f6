//! Apps, accounts, campaigns and their progress counters, as stored and as shown in the API.

use crate::account::{AccountSettings, Credentials};
use crate::ids::{AccountId, AppId, CampaignId, TemplateId};
use crate::status::{CampaignStatus, MessageStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An app (tenant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    /// Its id.
    pub id: AppId,
    /// Unique name; also the Chat-Tonic `{app}` path segment and the Jelou Basic user name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A provider account with its settings. Credentials are kept apart and never serialised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Its id.
    pub id: AccountId,
    /// The app that owns it.
    pub app_id: AppId,
    /// Everything but the credentials.
    pub settings: AccountSettings,
    /// Write-only credentials.
    pub credentials: Credentials,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A stored template: the definition exactly as given (Meta's shape) plus where it belongs.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTemplate {
    /// Its id.
    pub id: TemplateId,
    /// The app that owns it.
    pub app_id: AppId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Its name (from the definition).
    pub name: String,
    /// Its language (from the definition).
    pub language: String,
    /// Its status (from the definition).
    pub status: String,
    /// The definition as given.
    pub definition: serde_json::Value,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// Per-campaign counters, updated in the same transaction as the rows they count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Input rows read.
    pub rows: u64,
    /// Rows that became messages.
    pub accepted: u64,
    /// Rows refused, with a reason.
    pub rejected: u64,
    /// Messages per status.
    pub pending: u64,
    /// Handed to a sender.
    pub queued: u64,
    /// In flight.
    pub sending: u64,
    /// Accepted by the provider.
    pub sent: u64,
    /// Delivered to the phone.
    pub delivered: u64,
    /// Read.
    pub read: u64,
    /// Failed.
    pub failed: u64,
    /// Cancelled.
    pub cancelled: u64,
    /// Opted out.
    pub suppressed: u64,
}

impl Counts {
    /// The counter of one message status (`rejected` is the rejected-rows counter).
    pub fn of(&self, status: MessageStatus) -> u64 {
        match status {
            MessageStatus::Pending => self.pending,
            MessageStatus::Queued => self.queued,
            MessageStatus::Sending => self.sending,
            MessageStatus::Sent => self.sent,
            MessageStatus::Delivered => self.delivered,
            MessageStatus::Read => self.read,
            MessageStatus::Failed => self.failed,
            MessageStatus::Rejected => self.rejected,
            MessageStatus::Suppressed => self.suppressed,
            MessageStatus::Cancelled => self.cancelled,
        }
    }

    /// Share of accepted messages that are done with sending, 0–100.
    pub fn percent(&self) -> f64 {
        if self.accepted == 0 {
            return 0.0;
        }
        let open = self.pending + self.queued + self.sending;
        let done = self.accepted.saturating_sub(open);
        (done as f64 * 1000.0 / self.accepted as f64).round() / 10.0
    }
}

/// A campaign.
#[derive(Clone, Debug, PartialEq)]
pub struct Campaign {
    /// Its id.
    pub id: CampaignId,
    /// The app that owns it.
    pub app_id: AppId,
    /// The account it sends through.
    pub account_id: AccountId,
    /// A name for people.
    pub name: String,
    /// Where it is in its lifecycle.
    pub status: CampaignStatus,
    /// The template for the whole campaign (Jelou model); per-row templates leave it empty.
    pub template_name: Option<String>,
    /// The template language.
    pub language: Option<String>,
    /// When it starts; `None` means as soon as it is ready.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// When sending started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or was cancelled.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it is paused, if it is.
    pub pause_reason: Option<String>,
    /// Why it failed, if it did.
    pub failure_reason: Option<String>,
    /// Its own rate cap (messages per second), below the account's.
    pub rate_cap: Option<u32>,
    /// When it may send: hours and weekdays in a time zone or in each recipient's (`window::SendWindow`).
    pub send_window: Option<serde_json::Value>,
    /// The progress counters.
    pub counts: Counts,
    /// The uploaded file: name, size, SHA-256, format.
    pub source: Option<serde_json::Value>,
    /// Rows of the file stored so far (ingestion resumes after this row).
    pub ingested_rows: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// What is needed to create a campaign.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct NewCampaign {
    /// The account it sends through.
    pub account_id: AccountId,
    /// A name for people.
    pub name: String,
    /// The template for the whole campaign, if one.
    pub template_name: Option<String>,
    /// The template language.
    pub language: Option<String>,
    /// When it starts.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// How its file is read (row model, mapping, campaign defaults): kept so an interrupted ingestion resumes alike.
    pub options: serde_json::Value,
    /// The uploaded file: name, size, SHA-256, format.
    pub source: Option<serde_json::Value>,
    /// The client's `Idempotency-Key`: a second upload with the same key returns this campaign.
    pub idempotency_key: Option<String>,
}
