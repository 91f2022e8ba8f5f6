//! The `pregon` service: configuration, command line, HTTP API. The binary is a thin `main` over [`cli::run`];
//! tests start the same router in-process through the testkit.

pub mod auth;
pub mod bootstrap;
pub mod callbacks;
pub mod cli;
pub mod config;
pub mod dispatch;
pub mod fetch;
pub mod http;
pub mod ingestion;
pub mod metrics;
pub mod spool;
pub mod state;

/// Start this process's background work: ingestion and sending, until `shutdown` turns true.
pub fn spawn_workers(
    state: state::AppState,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let ingest = state
            .config
            .ingest
            .then(|| tokio::spawn(ingestion::run_worker(state.clone(), shutdown.clone())));
        if state.config.send {
            let callbacks = tokio::spawn(callbacks::run(state.clone(), shutdown.clone()));
            let _ = dispatch::run(state, shutdown).await;
            let _ = callbacks.await;
        }
        if let Some(ingest) = ingest {
            let _ = ingest.await;
        }
    })
}

/// Install rustls's `ring` provider once per process (reqwest is built without one, to keep aws-lc out of the
/// build). Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
