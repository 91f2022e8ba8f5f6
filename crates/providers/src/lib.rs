//! WhatsApp provider adapters. Each provider is one module behind [`Provider`]: it builds the provider's real
//! request from a stored message and its template, sends it, and classifies the answer as accepted, transient or
//! permanent. Nothing here touches the database; the dispatcher (server) decides what an outcome means for the
//! message, its campaign and its account.

pub mod classify;
pub mod clickatell;
pub mod dialog360;
pub mod gupshup;
pub mod infobip;
pub mod meta;
pub mod sandbox;
pub mod templates;
pub mod webhooks;

use pregon_core::ProviderKind;
use pregon_core::campaign::Account;
use pregon_core::message::Message;
use pregon_core::template::Template;
use std::sync::Arc;
use std::time::Duration;

/// One message ready to go: the stored message and the approved template it fills (the adapters need the
/// template's header format and button kinds to build the provider's request).
#[derive(Clone, Copy, Debug)]
pub struct Outbound<'a> {
    /// The message; its id travels in the provider's callback field where there is one.
    pub message: &'a Message,
    /// Its template.
    pub template: &'a Template,
}

/// What became of one send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// The provider took it; its id for the message (Meta's wamid, Gupshup's id, …).
    Accepted {
        /// The provider's message id, the key of its status callbacks.
        provider_message_id: String,
    },
    /// Worth another try later: 429, 5xx, a time-out, a throttling code.
    Transient(Failure),
    /// Will never succeed as it is: the provider's code and text.
    Permanent(Failure),
}

/// A provider's refusal, as kept on the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The provider's code (`131026`, `E400`, `1002`) or Pregon's (`http_503`, `timeout`, `connect`).
    pub code: String,
    /// The provider's text, for people.
    pub message: String,
    /// How long the provider asked to wait (`Retry-After`), if it did.
    pub retry_after: Option<Duration>,
    /// What the failure is about beyond this message.
    pub scope: FailureScope,
}

/// How far a failure reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureScope {
    /// This message (or its recipient) only.
    Message,
    /// The template is paused or disabled: every running campaign of the template should pause.
    Template,
    /// The account cannot send (bad token, blocked, no balance): its campaigns should pause.
    Account,
}

impl Failure {
    /// A failure about this message only.
    pub fn message(code: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            code: code.into(),
            message: message.into(),
            retry_after: None,
            scope: FailureScope::Message,
        }
    }
}

pub use pregon_core::message::StatusEvent;

/// Where the sandbox hands the status events it makes up, with the account they belong to.
pub type EventSink = tokio::sync::mpsc::UnboundedSender<(pregon_core::AccountId, StatusEvent)>;

/// Sends template messages through one provider account.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Which provider this is.
    fn kind(&self) -> ProviderKind;
    /// Send one message and classify the answer. Never panics; network errors are [`SendOutcome::Transient`].
    async fn send(&self, out: Outbound<'_>) -> SendOutcome;
}

/// Settings shared by every adapter.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// Graph API version for Meta (`v23.0`).
    pub meta_api_version: String,
    /// Time-out of one request.
    pub request_timeout: Duration,
    /// The sandbox's simulated latency and failure ratio (0.0–1.0), and whether it reports statuses.
    pub sandbox: sandbox::SandboxSettings,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            meta_api_version: "v23.0".into(),
            request_timeout: Duration::from_secs(15),
            sandbox: sandbox::SandboxSettings::default(),
        }
    }
}

/// Why an adapter could not be built for an account.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// A credential or setting the provider needs is missing.
    #[error("the {provider} account lacks `{what}`")]
    Missing {
        /// The provider.
        provider: ProviderKind,
        /// What is missing.
        what: &'static str,
    },
}

/// The adapter for `account`. `http` is shared by all adapters (one connection pool); `events` receives the
/// sandbox's simulated status events.
pub fn for_account(
    account: &Account,
    http: reqwest::Client,
    config: &ProviderConfig,
    events: EventSink,
) -> Result<Arc<dyn Provider>, ProviderError> {
    Ok(match account.settings.provider {
        ProviderKind::Meta => Arc::new(meta::Meta::new(account, http, config)?),
        ProviderKind::Dialog360 => Arc::new(dialog360::Dialog360::new(account, http, config)?),
        ProviderKind::Gupshup => Arc::new(gupshup::Gupshup::new(account, http, config)?),
        ProviderKind::Infobip => Arc::new(infobip::Infobip::new(account, http, config)?),
        ProviderKind::Clickatell => Arc::new(clickatell::Clickatell::new(account, http, config)?),
        ProviderKind::Sandbox => Arc::new(sandbox::Sandbox::new(config.sandbox.clone(), account.id, events)),
    })
}
