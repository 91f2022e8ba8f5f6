//! Apps from the command line, and the demo app an empty embedded database starts with.

use crate::auth::{generate_token, hash_token};
use crate::config::Config;
use pregon_core::ProviderKind;
use pregon_core::account::{AccountSettings, Credentials};
use pregon_core::campaign::{Account, App};
use pregon_core::template::Template;
use pregon_store::{Backend, DynStore, StoreError};

/// The example templates of the demo `sandbox` account (also the templates the `fixtures/` files use).
pub const SANDBOX_TEMPLATES: &str = include_str!("../../../fixtures/templates/sandbox.json");

/// Why an app could not be created.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The name is not allowed.
    #[error("an app name is 1 to 64 letters, digits, `-` or `_` (it appears in URLs and Basic credentials)")]
    InvalidName,
    /// The store failed (or the name is taken).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The built-in example templates are broken (a bug).
    #[error("built-in example template is invalid: {0}")]
    Example(String),
}

/// Create an app and its first token. The token is returned once and never stored.
pub async fn create_app(store: &DynStore, name: &str) -> Result<(App, String), BootstrapError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(BootstrapError::InvalidName);
    }
    let token = generate_token();
    let app = store.create_app(name, &hash_token(&token)).await?;
    Ok((app, token))
}

/// What the first run created.
pub struct Demo {
    /// The demo app.
    pub app: App,
    /// Its token (shown once).
    pub token: String,
    /// The sandbox account.
    pub account: Account,
    /// How many example templates it holds.
    pub templates: usize,
}

/// On an empty SQLite database (and with `demo` on), create the `demo` app, a `sandbox` account and the example
/// templates. PostgreSQL is production: it starts empty.
pub async fn first_run(store: &DynStore, config: &Config) -> Result<Option<Demo>, BootstrapError> {
    if !config.demo || store.backend() != Backend::Sqlite || store.count_apps().await? > 0 {
        return Ok(None);
    }
    let (app, token) = create_app(store, "demo").await?;
    let settings = AccountSettings {
        name: "sandbox".into(),
        provider: ProviderKind::Sandbox,
        sender: "sandbox".into(),
        rate_per_second: 20,
        concurrency: 8,
        daily_cap: None,
        base_url: None,
        default_language: None,
        default_region: None,
    };
    let account = store.create_account(app.id, &settings, &Credentials::default()).await?;
    let items: Vec<serde_json::Value> =
        serde_json::from_str(SANDBOX_TEMPLATES).map_err(|e| BootstrapError::Example(e.to_string()))?;
    for item in &items {
        let template = Template::from_meta(item).map_err(|e| BootstrapError::Example(e.to_string()))?;
        store.create_template(app.id, account.id, &template, item).await?;
    }
    Ok(Some(Demo {
        app,
        token,
        account,
        templates: items.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_templates_are_valid() {
        let items: Vec<serde_json::Value> = serde_json::from_str(SANDBOX_TEMPLATES).unwrap_or_default();
        assert_eq!(items.len(), 4);
        for item in &items {
            assert!(Template::from_meta(item).is_ok(), "{item}");
        }
    }
}
