//! Provider webhooks, the parsing half: pure functions from a callback's raw body to the status events and the
//! user messages it holds, plus Meta's signature check and subscription handshake. Nothing here touches the
//! database or the network; the server routes `POST /webhooks/{provider}/{account}` here and applies what comes back.
//!
//! One private module per body format: `meta` reads Meta's Cloud API envelope (also 360dialog's, which forwards it,
//! and Gupshup's v3, which copies it), then Gupshup v2, Infobip and Clickatell each have their own.
//!
//! How a body is read, for every provider:
//! - The envelope must be right (JSON, an object, the provider's top-level array or event), else
//!   [`WebhookError::Malformed`] — a body worth a 400.
//! - Inside it, an item that is not a status Pregon tracks (`enqueued`, `deleted`, `played`, billing and other
//!   events), or that cannot be read (no id, wrong types), is skipped and counted in [`Parsed::ignored`]: one odd item
//!   never loses the rest of a batch.
//! - Times may be unix seconds or milliseconds (as numbers or strings), RFC 3339, or Infobip's
//!   `2026-01-01T10:00:00.000+0000`; a time that is absent or unreadable becomes the time of parsing.
//! - Pregon's message id is taken from the provider's callback field when it holds a UUID (Meta
//!   `biz_opaque_callback_data`, Infobip `callbackData`/`messageId`, Clickatell `clientMessageId`); Gupshup has no
//!   such field, so its events carry only Gupshup's id (the `gsId` Pregon stored from the send answer).
//!
//! Status mappings (anything else is ignored):
//!
//! | provider | sent | delivered | read | failed |
//! | --- | --- | --- | --- | --- |
//! | Meta, 360dialog, Gupshup v3 | `sent` | `delivered` | `read` | `failed` (`errors[0]`) |
//! | Gupshup v2 | `sent` | `delivered` | `read` | `failed` (`payload.code`, `payload.reason`) |
//! | Infobip | groups `PENDING`, `ACCEPTED`, and `DELIVERED_TO_OPERATOR` | group `DELIVERED` | a seen report (`seenAt`) | groups `UNDELIVERABLE`, `EXPIRED`, `REJECTED` (`error.name`, `error.description`) |
//! | Clickatell | 4 `SENT_TO_SUPPLIER` | 5 `DEVICE_ACK` | 6 `READ` | 20 and up except 24 `EMULATED` (code, name) |
//!
//! Infobip's `PENDING` maps to `sent` rather than being ignored: the provider has the message, which is what `sent`
//! means, and it lets a message whose send answer was lost (left in `sending`) move on.

mod clickatell;
mod fields;
mod gupshup;
mod infobip;
mod meta;
mod signature;

pub use signature::{SIGNATURE_HEADER, meta_handshake, verify_meta_signature};

use chrono::{DateTime, Utc};
use pregon_core::ProviderKind;
use pregon_core::message::StatusEvent;
use pregon_core::{MessageId, MessageStatus};

/// What a webhook body holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Status changes of messages Pregon sent, in the body's order.
    pub statuses: Vec<StatusEvent>,
    /// Messages users sent (replies, button taps), in the body's order.
    pub inbound: Vec<Inbound>,
    /// Items skipped: statuses Pregon does not track, other event kinds, unreadable items.
    pub ignored: usize,
}

/// A message a user sent: a reply, a quick-reply button tap. Every user message becomes one, whatever its kind;
/// `text` is set for text messages, the button fields for taps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// The sender, E.164 with a `+`.
    pub from: String,
    /// The text, for a text message.
    pub text: Option<String>,
    /// The tapped button's payload (Meta `button.payload`, Gupshup `postbackText`, Infobip `payload`, an
    /// interactive reply's id), if the provider gave one.
    pub button_payload: Option<String>,
    /// The tapped button's label.
    pub button_text: Option<String>,
    /// The provider's id of the message replied to, if given (for Gupshup its `gsId`, the id Pregon stores).
    pub context_provider_message_id: Option<String>,
    /// Pregon's id of the message replied to, when the provider echoes it (Clickatell `relatedClientMessageId`,
    /// an Infobip context id that is Pregon's).
    pub context_message_id: Option<MessageId>,
    /// The provider's id of this message.
    pub provider_message_id: Option<String>,
    /// When the provider says it was sent or received.
    pub at: DateTime<Utc>,
}

/// Why a webhook was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The body is not one this provider sends (not JSON, or the envelope is wrong). The text says why, without
    /// echoing the body.
    #[error("the webhook body is not one this provider sends: {0}")]
    Malformed(String),
    /// A signature was required and the request has none.
    #[error("the webhook request carries no signature")]
    MissingSignature,
    /// The signature does not match the body, or cannot be read.
    #[error("the webhook signature does not match its body")]
    BadSignature,
    /// The provider sends no webhooks (the sandbox makes up its own events).
    #[error("the {0} provider sends no webhooks")]
    Unsupported(ProviderKind),
}

/// The status events and user messages in `body`, a webhook of `provider`. Never panics, whatever the body.
pub fn parse(provider: ProviderKind, body: &[u8]) -> Result<Parsed, WebhookError> {
    parse_at(provider, body, Utc::now())
}

/// [`parse`], with `now` standing for the time of items that carry none.
pub fn parse_at(provider: ProviderKind, body: &[u8], now: DateTime<Utc>) -> Result<Parsed, WebhookError> {
    if provider == ProviderKind::Sandbox {
        return Err(WebhookError::Unsupported(provider));
    }
    let root: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(format!("not JSON ({e})")))?;
    if !root.is_object() {
        return Err(malformed("the body is not a JSON object"));
    }
    match provider {
        ProviderKind::Meta => meta::parse(&root, now, meta::Flavour::Cloud),
        ProviderKind::Dialog360 => meta::parse(&root, now, meta::Flavour::Dialog360),
        ProviderKind::Gupshup => gupshup::parse(&root, now),
        ProviderKind::Infobip => infobip::parse(&root, now),
        ProviderKind::Clickatell => clickatell::parse(&root, now),
        ProviderKind::Sandbox => Err(WebhookError::Unsupported(provider)),
    }
}

/// A [`WebhookError::Malformed`] with `why`.
fn malformed(why: &str) -> WebhookError {
    WebhookError::Malformed(why.to_owned())
}

impl Parsed {
    /// Record `event`, or count an item that gave none.
    fn status(&mut self, event: Option<StatusEvent>) {
        match event {
            Some(event) => self.statuses.push(event),
            None => self.ignored += 1,
        }
    }

    /// Record `message`, or count an item that gave none.
    fn inbound(&mut self, message: Option<Inbound>) {
        match message {
            Some(message) => self.inbound.push(message),
            None => self.ignored += 1,
        }
    }
}

/// A status event; `None` when it names no message at all.
fn event(
    provider_message_id: Option<String>,
    message_id: Option<MessageId>,
    status: MessageStatus,
    at: DateTime<Utc>,
    error: Option<(String, String)>,
) -> Option<StatusEvent> {
    if provider_message_id.is_none() && message_id.is_none() {
        return None;
    }
    Some(StatusEvent {
        provider_message_id,
        message_id,
        status,
        at,
        error: if status == MessageStatus::Failed { error } else { None },
    })
}
