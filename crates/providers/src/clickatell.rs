//! Clickatell (placeholder: being written).

use crate::{Failure, Outbound, Provider, ProviderConfig, ProviderError, SendOutcome};
use pregon_core::ProviderKind;
use pregon_core::campaign::Account;

/// The Clickatell adapter.
pub struct Clickatell {
    _http: reqwest::Client,
}

impl Clickatell {
    /// The adapter for `account`.
    pub fn new(_account: &Account, http: reqwest::Client, _config: &ProviderConfig) -> Result<Self, ProviderError> {
        Ok(Clickatell { _http: http })
    }
}

#[async_trait::async_trait]
impl Provider for Clickatell {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Meta
    }

    async fn send(&self, _out: Outbound<'_>) -> SendOutcome {
        SendOutcome::Permanent(Failure::message("not_implemented", "not implemented yet"))
    }
}
