//! Dialog360 (placeholder: being written).

use crate::{Failure, Outbound, Provider, ProviderConfig, ProviderError, SendOutcome};
use pregon_core::ProviderKind;
use pregon_core::campaign::Account;

/// The Dialog360 adapter.
pub struct Dialog360 {
    _http: reqwest::Client,
}

impl Dialog360 {
    /// The adapter for `account`.
    pub fn new(_account: &Account, http: reqwest::Client, _config: &ProviderConfig) -> Result<Self, ProviderError> {
        Ok(Dialog360 { _http: http })
    }
}

#[async_trait::async_trait]
impl Provider for Dialog360 {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Meta
    }

    async fn send(&self, _out: Outbound<'_>) -> SendOutcome {
        SendOutcome::Permanent(Failure::message("not_implemented", "not implemented yet"))
    }
}
