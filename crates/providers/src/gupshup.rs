//! Gupshup (placeholder: being written).

use crate::{Failure, Outbound, Provider, ProviderConfig, ProviderError, SendOutcome};
use pregon_core::ProviderKind;
use pregon_core::campaign::Account;

/// The Gupshup adapter.
pub struct Gupshup {
    _http: reqwest::Client,
}

impl Gupshup {
    /// The adapter for `account`.
    pub fn new(_account: &Account, http: reqwest::Client, _config: &ProviderConfig) -> Result<Self, ProviderError> {
        Ok(Gupshup { _http: http })
    }
}

#[async_trait::async_trait]
impl Provider for Gupshup {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Meta
    }

    async fn send(&self, _out: Outbound<'_>) -> SendOutcome {
        SendOutcome::Permanent(Failure::message("not_implemented", "not implemented yet"))
    }
}
