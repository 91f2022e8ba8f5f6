//! The built-in sandbox: no network. It accepts every message after a configurable latency, fails a configurable
//! share of them, and reports `sent`, `delivered` and `read` by itself, so the embedded default shows a whole
//! lifecycle. Two number endings give tests a fixed answer: `…9990` is refused for good (Meta's 131026,
//! undeliverable) and `…9991` is throttled every time (Meta's 130429).

use crate::{EventSink, Failure, Outbound, Provider, SendOutcome, StatusEvent};
use pregon_core::{AccountId, MessageStatus, ProviderKind};
use rand::Rng;
use std::time::Duration;

/// How the sandbox behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct SandboxSettings {
    /// Time each send takes.
    pub latency: Duration,
    /// Share of messages refused (0.0–1.0), at random.
    pub failure_ratio: f64,
    /// Time between one status event and the next (`sent` → `delivered` → `read`); `None` sends no events.
    pub status_interval: Option<Duration>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            latency: Duration::from_millis(20),
            failure_ratio: 0.0,
            status_interval: Some(Duration::from_millis(500)),
        }
    }
}

/// The sandbox provider.
pub struct Sandbox {
    settings: SandboxSettings,
    account: AccountId,
    events: EventSink,
}

impl Sandbox {
    /// A sandbox reporting its status events to `events`.
    pub fn new(settings: SandboxSettings, account: AccountId, events: EventSink) -> Self {
        Sandbox {
            settings,
            account,
            events,
        }
    }
}

#[async_trait::async_trait]
impl Provider for Sandbox {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Sandbox
    }

    async fn send(&self, out: Outbound<'_>) -> SendOutcome {
        if !self.settings.latency.is_zero() {
            tokio::time::sleep(self.settings.latency).await;
        }
        let phone = &out.message.phone;
        if phone.ends_with("9990") {
            return SendOutcome::Permanent(Failure::message(
                "131026",
                "Message undeliverable (sandbox: numbers ending in 9990 always fail)",
            ));
        }
        if phone.ends_with("9991") {
            return SendOutcome::Transient(Failure {
                retry_after: Some(Duration::from_secs(1)),
                ..Failure::message(
                    "130429",
                    "Rate limit hit (sandbox: numbers ending in 9991 are always throttled)",
                )
            });
        }
        if self.settings.failure_ratio > 0.0 && rand::rng().random_bool(self.settings.failure_ratio.clamp(0.0, 1.0)) {
            return SendOutcome::Permanent(Failure::message(
                "sandbox_failure",
                "the sandbox refused this message (its failure ratio)",
            ));
        }
        let id = format!("sandbox.{}", out.message.id);
        if let Some(interval) = self.settings.status_interval {
            let (events, account) = (self.events.clone(), self.account);
            let (provider_message_id, message_id) = (id.clone(), out.message.id);
            tokio::spawn(async move {
                for status in [MessageStatus::Sent, MessageStatus::Delivered, MessageStatus::Read] {
                    tokio::time::sleep(interval).await;
                    let event = StatusEvent {
                        provider_message_id: Some(provider_message_id.clone()),
                        message_id: Some(message_id),
                        status,
                        at: chrono::Utc::now(),
                        error: None,
                    };
                    if events.send((account, event)).is_err() {
                        return;
                    }
                }
            });
        }
        SendOutcome::Accepted {
            provider_message_id: id,
        }
    }
}
