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
}
