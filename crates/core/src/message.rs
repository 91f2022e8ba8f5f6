//! Messages (one recipient each) and rejected rows.

use crate::ids::{AccountId, AppId, CampaignId, MessageId};
use crate::status::MessageStatus;
use crate::template::TemplateParams;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A message as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Its id; travels in the provider's callback field where there is one.
    pub id: MessageId,
    /// The app that owns it.
    pub app_id: AppId,
    /// Its campaign; `None` for a single send.
    pub campaign_id: Option<CampaignId>,
    /// The account it is sent through.
    pub account_id: AccountId,
    /// The row of the input file it came from (header = row 1).
    pub row_number: Option<u64>,
    /// The recipient in E.164.
    pub phone: String,
    /// The template's name.
    pub template_name: String,
    /// The template's language.
    pub language: String,
    /// The values it is sent with.
    pub params: TemplateParams,
    /// The text the recipient sees (reconstruction).
    pub rendered_text: Option<String>,
    /// The Chat-Tonic `flag`: context handed back when the recipient answers.
    pub flag: Option<String>,
    /// Where it is.
    pub status: MessageStatus,
    /// The provider's id for it, once accepted.
    pub provider_message_id: Option<String>,
    /// The provider's or Pregon's error code, if it failed.
    pub error_code: Option<String>,
    /// The error text, if it failed.
    pub error_message: Option<String>,
    /// Send attempts so far.
    pub attempts: u32,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
    /// When the provider accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was read.
    pub read_at: Option<DateTime<Utc>>,
    /// When it failed.
    pub failed_at: Option<DateTime<Utc>>,
}

/// What is needed to store a message.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMessage {
    /// Its id (chosen by the caller so it can be logged before the insert).
    pub id: MessageId,
    /// The row of the input file.
    pub row_number: Option<u64>,
    /// E.164 recipient.
    pub phone: String,
    /// Template name.
    pub template_name: String,
    /// Template language.
    pub language: String,
    /// Values.
    pub params: TemplateParams,
    /// Reconstructed text.
    pub rendered_text: Option<String>,
    /// Chat-Tonic flag.
    pub flag: Option<String>,
    /// `pending`, or `suppressed` for an opted-out recipient.
    pub status: MessageStatus,
}

/// An input row that did not become a message, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The row of the input file (header = row 1).
    pub row_number: u64,
    /// The column at fault, if one.
    pub column: Option<String>,
    /// A stable code (see the error catalogue).
    pub code: String,
    /// A human explanation.
    pub message: String,
}

/// A status change to record on a message.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StatusUpdate {
    /// The provider's id, when it becomes known.
    pub provider_message_id: Option<String>,
    /// The error code, for `failed`.
    pub error_code: Option<String>,
    /// The error text, for `failed`.
    pub error_message: Option<String>,
}

/// A status change a provider reported (by webhook, or the sandbox by itself), before it is matched to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusEvent {
    /// The provider's message id.
    pub provider_message_id: Option<String>,
    /// Pregon's message id, when the provider echoes its callback field.
    pub message_id: Option<crate::MessageId>,
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: crate::MessageStatus,
    /// When the provider says it happened.
    pub at: chrono::DateTime<chrono::Utc>,
    /// For `failed`: the provider's code and text.
    pub error: Option<(String, String)>,
}

/// Provider error codes that refuse a message now but are worth a retry much later (`retry-failed`): Meta's 131049,
/// "not delivered to keep the ecosystem healthy" (also 360dialog's, which passes Meta's codes through). Whether it
/// arrives in the send answer or in a status webhook.
pub const RETRY_WORTHY_CODES: &[&str] = &["131049"];

/// Whether a failure with this provider code is worth a later retry (see [`RETRY_WORTHY_CODES`]).
pub fn is_retry_worthy(code: &str) -> bool {
    RETRY_WORTHY_CODES.contains(&code)
}
