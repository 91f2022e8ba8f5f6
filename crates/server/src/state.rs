//! What every request handler shares.

use crate::config::Config;
use pregon_store::DynStore;
use std::sync::Arc;

/// Shared state of the HTTP server.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: DynStore,
    /// The settings in effect.
    pub config: Arc<Config>,
    /// Fetches `file_url`s without reaching private addresses (unless configured to).
    pub fetcher: Arc<crate::fetch::Fetcher>,
    /// Wakes this process's ingestion worker when an upload arrives.
    pub ingest_wake: Arc<tokio::sync::Notify>,
    /// Wakes this process's dispatcher when a campaign is scheduled, resumed or changed.
    pub dispatch_wake: Arc<tokio::sync::Notify>,
    /// "Now" for scheduling and send windows (shifted in tests).
    pub clock: Arc<crate::dispatch::Clock>,
    /// This process's counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The client for provider APIs (sends, template listings): one connection pool; names resolving to internal
    /// addresses refused unless `fetch_allow_private`; no redirects followed.
    pub provider_http: reqwest::Client,
    /// Turns true when the server begins to shut down: long-lived responses (live progress) end then, so the graceful
    /// shutdown does not wait on clients that never hang up.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    /// The state for `store` and `config`.
    pub fn new(store: DynStore, config: Config) -> Result<AppState, crate::fetch::FetchError> {
        let fetcher = crate::fetch::Fetcher::new(crate::fetch::FetchPolicy {
            allow_private: config.fetch_allow_private,
            max_bytes: config.max_upload_bytes,
            timeout: config.fetch_timeout,
            ..crate::fetch::FetchPolicy::default()
        })?;
        let provider_http = provider_client(&config)?;
        Ok(AppState {
            store,
            config: Arc::new(config),
            fetcher: Arc::new(fetcher),
            ingest_wake: Arc::new(tokio::sync::Notify::new()),
            dispatch_wake: Arc::new(tokio::sync::Notify::new()),
            clock: Arc::new(crate::dispatch::Clock::default()),
            metrics: Arc::new(crate::metrics::Metrics::default()),
            provider_http,
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
        })
    }
}

/// See [`AppState::provider_http`].
fn provider_client(config: &Config) -> Result<reqwest::Client, crate::fetch::FetchError> {
    crate::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .timeout(config.sending.providers.request_timeout)
        .pool_max_idle_per_host(1024)
        // Provider APIs answer where they are asked; a redirect could only lead where an account should not.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(resolver) = crate::fetch::guarded_resolver(config.fetch_allow_private) {
        builder = builder.dns_resolver(resolver);
    }
    builder
        .build()
        .map_err(|e| crate::fetch::FetchError::Network(format!("cannot build the provider HTTP client: {e}")))
}
