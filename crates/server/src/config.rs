//! Settings: command-line flags, then `PREGON_*` environment variables, then an optional TOML file, then defaults.

use clap::{Args, ValueEnum};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// Settings as given on the command line or in the environment. Every one also has a key of the same name (without
/// the `PREGON_` prefix, lower case) in the TOML file.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// A TOML file with any of the settings below, e.g. `listen = "0.0.0.0:8080"`. Flags and environment win.
    #[arg(long, env = "PREGON_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where data lives: `sqlite://PATH` (the embedded default, `sqlite://./data/pregon.db`, created on first run) or
    /// `postgres://USER:PASSWORD@HOST/DB` for several processes sharing one database.
    #[arg(
        long,
        env = "PREGON_DATABASE_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// The address the HTTP server listens on [default: 127.0.0.1:8080].
    #[arg(long, env = "PREGON_LISTEN", global = true, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Log format [default: human].
    #[arg(long, env = "PREGON_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,

    /// What to log, as a tracing filter: `info`, `debug`, `info,pregon=debug` [default: info].
    #[arg(long, env = "PREGON_LOG", global = true, value_name = "FILTER")]
    pub log: Option<String>,

    /// Largest JSON request body, in bytes [default: 10485760 (10 MiB)].
    #[arg(long, env = "PREGON_MAX_BODY_BYTES", global = true, value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,

    /// Longest a request may take, in seconds, before it is answered `408 request_timeout` [default: 30].
    #[arg(long, env = "PREGON_REQUEST_TIMEOUT_SECS", global = true, value_name = "SECS")]
    pub request_timeout_secs: Option<u64>,

    /// Longest a campaign upload may take (the file sent, or fetched from `file_url`), in seconds [default: 600].
    #[arg(long, env = "PREGON_UPLOAD_TIMEOUT_SECS", global = true, value_name = "SECS")]
    pub upload_timeout_secs: Option<u64>,

    /// Largest campaign file upload (or `file_url` download), in bytes [default: 100000000 (100 MB)].
    #[arg(long, env = "PREGON_MAX_UPLOAD_BYTES", global = true, value_name = "BYTES")]
    pub max_upload_bytes: Option<u64>,

    /// Largest size a campaign file may expand to out of ZIP/GZ/TAR, in bytes [default: 1073741824 (1 GiB)].
    #[arg(long, env = "PREGON_MAX_EXPANDED_BYTES", global = true, value_name = "BYTES")]
    pub max_expanded_bytes: Option<u64>,

    /// Let `file_url`, callback URLs and provider accounts' `base_url` reach loopback, private, link-local and
    /// metadata addresses [default: false]. Only for tests and trusted networks: it opens the server to SSRF.
    #[arg(long, env = "PREGON_FETCH_ALLOW_PRIVATE", global = true, value_name = "BOOL")]
    pub fetch_allow_private: Option<bool>,

    /// Longest a `file_url` download may take, in seconds [default: 60].
    #[arg(long, env = "PREGON_FETCH_TIMEOUT_SECS", global = true, value_name = "SECS")]
    pub fetch_timeout_secs: Option<u64>,

    /// Where uploads are spooled while they are checked [default: the system temp folder].
    #[arg(long, env = "PREGON_SPOOL_DIR", global = true, value_name = "DIR")]
    pub spool_dir: Option<PathBuf>,

    /// On an empty embedded (SQLite) database, create a `demo` app with a `sandbox` account and example templates,
    /// and print its token [default: true].
    #[arg(long, env = "PREGON_DEMO", global = true, value_name = "BOOL")]
    pub demo: Option<bool>,

    /// Inbound replies that opt the sender out, compared without case [default: STOP, BAJA, UNSUBSCRIBE, CANCELAR,
    /// PARAR, SAIR]; comma-separated.
    #[arg(
        long,
        env = "PREGON_OPTOUT_KEYWORDS",
        global = true,
        value_name = "WORDS",
        value_delimiter = ','
    )]
    pub optout_keywords: Option<Vec<String>>,

    /// Days provider webhook bodies are kept for audit [default: 7].
    #[arg(long, env = "PREGON_WEBHOOK_RETENTION_DAYS", global = true, value_name = "DAYS")]
    pub webhook_retention_days: Option<u64>,

    /// Days the per-second send counts of campaigns are kept: the dashboard's sends-over-time chart reaches back
    /// this far [default: 7].
    #[arg(
        long,
        env = "PREGON_SEND_TIMELINE_RETENTION_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub send_timeline_retention_days: Option<u64>,

    /// The token a Prometheus scraper sends to read `/metrics` (as `Authorization: Bearer …`); unset, `/metrics` is off.
    #[arg(
        long,
        env = "PREGON_METRICS_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,

    /// Run the dispatcher (scheduler and senders) in this process [default: true]. API-only processes turn it off.
    #[arg(long, env = "PREGON_SEND", global = true, value_name = "BOOL")]
    pub send: Option<bool>,

    /// Read uploaded files into campaigns in this process [default: true]. Send-only processes turn it off, so that
    /// parsing never competes with their senders; some process must keep it on.
    #[arg(long, env = "PREGON_INGEST", global = true, value_name = "BOOL")]
    pub ingest: Option<bool>,

    /// Attempts of a message before a transient failure is final [default: 5].
    #[arg(long, env = "PREGON_SEND_MAX_ATTEMPTS", global = true, value_name = "N")]
    pub send_max_attempts: Option<u32>,

    /// Share of a campaign's recent messages that may fail before it pauses itself [default: 0.2].
    #[arg(long, env = "PREGON_PAUSE_FAILURE_RATIO", global = true, value_name = "RATIO")]
    pub pause_failure_ratio: Option<f64>,

    /// Seconds a message whose sender died mid-request waits for a provider status before it is `failed` as
    /// `outcome_unknown` (never re-sent) [default: 600].
    #[arg(long, env = "PREGON_UNKNOWN_OUTCOME_SECS", global = true, value_name = "SECS")]
    pub unknown_outcome_secs: Option<u64>,

    /// Seconds without a heartbeat after which a sender process counts as dead and its claimed messages go to the
    /// live ones; live senders beat at a third of it, at most every 5 s [default: 30].
    #[arg(long, env = "PREGON_SENDER_DEAD_SECS", global = true, value_name = "SECS")]
    pub sender_dead_secs: Option<u64>,

    /// How much wider than the account's rate send slots are spaced, as a ratio: 0.01 sends at most 99 % of the rate,
    /// and keeps the rate at the provider in every one-second window as long as requests are not delayed on their way
    /// by more than half of that (5 ms) more than the others [default: 0.01].
    #[arg(long, env = "PREGON_SEND_RATE_MARGIN", global = true, value_name = "RATIO")]
    pub send_rate_margin: Option<f64>,

    /// Attempts of an outbound callback before it is given up (retried with backoff from 10 s, doubling, up to 1 h)
    /// [default: 12].
    #[arg(long, env = "PREGON_CALLBACK_MAX_ATTEMPTS", global = true, value_name = "N")]
    pub callback_max_attempts: Option<u32>,

    /// Meta Graph API version [default: v23.0].
    #[arg(long, env = "PREGON_META_API_VERSION", global = true, value_name = "VERSION")]
    pub meta_api_version: Option<String>,

    /// The sandbox provider's latency per message, in milliseconds [default: 20].
    #[arg(long, env = "PREGON_SANDBOX_LATENCY_MS", global = true, value_name = "MS")]
    pub sandbox_latency_ms: Option<u64>,

    /// Share of messages the sandbox refuses, 0.0–1.0 [default: 0].
    #[arg(long, env = "PREGON_SANDBOX_FAILURE_RATIO", global = true, value_name = "RATIO")]
    pub sandbox_failure_ratio: Option<f64>,
}

/// The same settings, from the TOML file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    listen: Option<SocketAddr>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    max_body_bytes: Option<usize>,
    request_timeout_secs: Option<u64>,
    upload_timeout_secs: Option<u64>,
    max_upload_bytes: Option<u64>,
    max_expanded_bytes: Option<u64>,
    fetch_allow_private: Option<bool>,
    fetch_timeout_secs: Option<u64>,
    spool_dir: Option<PathBuf>,
    demo: Option<bool>,
    optout_keywords: Option<Vec<String>>,
    webhook_retention_days: Option<u64>,
    send_timeline_retention_days: Option<u64>,
    metrics_token: Option<String>,
    send: Option<bool>,
    ingest: Option<bool>,
    send_max_attempts: Option<u32>,
    pause_failure_ratio: Option<f64>,
    unknown_outcome_secs: Option<u64>,
    sender_dead_secs: Option<u64>,
    send_rate_margin: Option<f64>,
    callback_max_attempts: Option<u32>,
    meta_api_version: Option<String>,
    sandbox_latency_ms: Option<u64>,
    sandbox_failure_ratio: Option<f64>,
}

/// The sending settings: flags over the file over the defaults.
fn sending(args: &ConfigArgs, file: &FileConfig, d: crate::dispatch::SendingConfig) -> crate::dispatch::SendingConfig {
    let mut providers = d.providers;
    if let Some(v) = args.meta_api_version.clone().or(file.meta_api_version.clone()) {
        providers.meta_api_version = v;
    }
    if let Some(ms) = args.sandbox_latency_ms.or(file.sandbox_latency_ms) {
        providers.sandbox.latency = Duration::from_millis(ms);
    }
    if let Some(r) = args.sandbox_failure_ratio.or(file.sandbox_failure_ratio) {
        providers.sandbox.failure_ratio = r.clamp(0.0, 1.0);
    }
    crate::dispatch::SendingConfig {
        max_attempts: args
            .send_max_attempts
            .or(file.send_max_attempts)
            .unwrap_or(d.max_attempts)
            .max(1),
        pause_failure_ratio: args
            .pause_failure_ratio
            .or(file.pause_failure_ratio)
            .unwrap_or(d.pause_failure_ratio),
        unknown_outcome_after: args
            .unknown_outcome_secs
            .or(file.unknown_outcome_secs)
            .map(Duration::from_secs)
            .unwrap_or(d.unknown_outcome_after),
        sender_dead_after: args
            .sender_dead_secs
            .or(file.sender_dead_secs)
            .map(|s| Duration::from_secs(s.max(1)))
            .unwrap_or(d.sender_dead_after),
        rate_margin: args
            .send_rate_margin
            .or(file.send_rate_margin)
            .map(|m| m.clamp(0.001, 0.5))
            .unwrap_or(d.rate_margin),
        providers,
        ..d
    }
}

/// The settings in effect.
#[derive(Clone, Debug)]
pub struct Config {
    /// Database URL.
    pub database_url: String,
    /// Listen address.
    pub listen: SocketAddr,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log: String,
    /// Largest JSON body.
    pub max_body_bytes: usize,
    /// Request time limit.
    pub request_timeout: Duration,
    /// Upload request time limit.
    pub upload_timeout: Duration,
    /// Largest upload.
    pub max_upload_bytes: u64,
    /// Largest expanded archive content.
    pub max_expanded_bytes: u64,
    /// `file_url` may reach private addresses.
    pub fetch_allow_private: bool,
    /// `file_url` time-out.
    pub fetch_timeout: Duration,
    /// Spool folder.
    pub spool_dir: PathBuf,
    /// Create the demo app on an empty embedded database.
    pub demo: bool,
    /// Inbound replies that opt the sender out.
    pub optout_keywords: Vec<String>,
    /// How long webhook bodies are kept.
    pub webhook_retention: Duration,
    /// How long per-second send counts (the campaign timeline) are kept.
    pub send_timeline_retention: Duration,
    /// The token that opens `/metrics`, if any.
    pub metrics_token: Option<String>,
    /// Run the dispatcher in this process.
    pub send: bool,
    /// Run the ingestion worker in this process.
    pub ingest: bool,
    /// How messages are sent.
    pub sending: crate::dispatch::SendingConfig,
    /// How outbound callbacks are delivered.
    pub callbacks: crate::callbacks::CallbackConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: pregon_store::DEFAULT_DATABASE_URL.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Human,
            log: "info".into(),
            max_body_bytes: 10 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(600),
            max_upload_bytes: 100 * 1000 * 1000,
            max_expanded_bytes: 1024 * 1024 * 1024,
            fetch_allow_private: false,
            fetch_timeout: Duration::from_secs(60),
            spool_dir: std::env::temp_dir(),
            demo: true,
            optout_keywords: ["STOP", "BAJA", "UNSUBSCRIBE", "CANCELAR", "PARAR", "SAIR"]
                .map(String::from)
                .to_vec(),
            webhook_retention: Duration::from_secs(7 * 86_400),
            send_timeline_retention: Duration::from_secs(7 * 86_400),
            metrics_token: None,
            send: true,
            ingest: true,
            sending: crate::dispatch::SendingConfig::default(),
            callbacks: crate::callbacks::CallbackConfig::default(),
        }
    }
}

/// A settings file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown key.
    #[error("invalid settings file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<toml::de::Error>,
    },
}

impl Config {
    /// Merge flags/environment over the file over the defaults.
    pub fn load(args: &ConfigArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|source| ConfigError::Parse {
                    path: path.clone(),
                    source: Box::new(source),
                })?
            }
            None => FileConfig::default(),
        };
        let d = Config::default();
        let sending = sending(args, &file, d.sending);
        Ok(Config {
            database_url: args
                .database_url
                .clone()
                .or(file.database_url)
                .unwrap_or(d.database_url),
            listen: args.listen.or(file.listen).unwrap_or(d.listen),
            log_format: args.log_format.or(file.log_format).unwrap_or(d.log_format),
            log: args.log.clone().or(file.log).unwrap_or(d.log),
            max_body_bytes: args.max_body_bytes.or(file.max_body_bytes).unwrap_or(d.max_body_bytes),
            request_timeout: args
                .request_timeout_secs
                .or(file.request_timeout_secs)
                .map(Duration::from_secs)
                .unwrap_or(d.request_timeout),
            upload_timeout: args
                .upload_timeout_secs
                .or(file.upload_timeout_secs)
                .map(Duration::from_secs)
                .unwrap_or(d.upload_timeout),
            max_upload_bytes: args
                .max_upload_bytes
                .or(file.max_upload_bytes)
                .unwrap_or(d.max_upload_bytes),
            max_expanded_bytes: args
                .max_expanded_bytes
                .or(file.max_expanded_bytes)
                .unwrap_or(d.max_expanded_bytes),
            fetch_allow_private: args
                .fetch_allow_private
                .or(file.fetch_allow_private)
                .unwrap_or(d.fetch_allow_private),
            fetch_timeout: args
                .fetch_timeout_secs
                .or(file.fetch_timeout_secs)
                .map(Duration::from_secs)
                .unwrap_or(d.fetch_timeout),
            spool_dir: args.spool_dir.clone().or(file.spool_dir).unwrap_or(d.spool_dir),
            demo: args.demo.or(file.demo).unwrap_or(d.demo),
            optout_keywords: args
                .optout_keywords
                .clone()
                .or(file.optout_keywords)
                .unwrap_or(d.optout_keywords),
            webhook_retention: args
                .webhook_retention_days
                .or(file.webhook_retention_days)
                .map(|days| Duration::from_secs(days * 86_400))
                .unwrap_or(d.webhook_retention),
            send_timeline_retention: args
                .send_timeline_retention_days
                .or(file.send_timeline_retention_days)
                .map(|days| Duration::from_secs(days * 86_400))
                .unwrap_or(d.send_timeline_retention),
            metrics_token: args
                .metrics_token
                .clone()
                .or(file.metrics_token)
                .filter(|t| !t.is_empty()),
            send: args.send.or(file.send).unwrap_or(d.send),
            ingest: args.ingest.or(file.ingest).unwrap_or(d.ingest),
            sending,
            callbacks: crate::callbacks::CallbackConfig {
                max_attempts: args
                    .callback_max_attempts
                    .or(file.callback_max_attempts)
                    .unwrap_or(d.callbacks.max_attempts)
                    .max(1),
                ..d.callbacks
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn flags_win_over_the_file_which_wins_over_defaults() {
        let mut file = tempfile_path();
        writeln!(
            file.1,
            "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\ndatabase_url = \"sqlite://x.db\"\ningest = false"
        )
        .ok();
        let args = ConfigArgs {
            config: Some(file.0.clone()),
            database_url: Some("postgres://p@h/db".into()),
            ..Default::default()
        };
        let c = Config::load(&args).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.database_url, "postgres://p@h/db");
        assert_eq!(c.listen, "0.0.0.0:9000".parse().unwrap_or(c.listen));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.max_body_bytes, Config::default().max_body_bytes);
        assert!(!c.ingest && c.send, "ingest from the file, send by default");
        std::fs::remove_file(&file.0).ok();
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let mut file = tempfile_path();
        writeln!(file.1, "lisen = \"0.0.0.0:9000\"").ok();
        let args = ConfigArgs {
            config: Some(file.0.clone()),
            ..Default::default()
        };
        let e = Config::load(&args).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("lisen"), "{e}");
        std::fs::remove_file(&file.0).ok();
    }

    fn tempfile_path() -> (PathBuf, std::fs::File) {
        let path = std::env::temp_dir().join(format!("pregon-config-{}.toml", uuid::Uuid::now_v7()));
        let f = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{e}"));
        (path, f)
    }
}
