//! The `pregon` command line: the service itself (`serve`, `apps`), client commands that talk to a running server
//! over its HTTP API (`campaign`, `accounts`, `templates`), and `validate`, which checks a campaign file offline
//! with the same pipeline the server runs.

mod accounts;
mod campaigns;
mod client;
mod progress;
mod validate;

use crate::bootstrap;
use crate::config::{Config, ConfigArgs, LogFormat};
use crate::http;
use crate::state::AppState;
use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

/// Exit code when the command failed in a way no other code below names (a local file that cannot be read, an
/// answer of an unexpected shape).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a command line that cannot be used (an unknown flag, a missing argument, a malformed value). Clap
/// uses it for its own errors too.
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the settings cannot be used.
pub const EXIT_CONFIG: u8 = 3;
/// Exit code when the server answered with an error (`not_found`, `invalid_transition`, `invalid_request`, …).
pub const EXIT_SERVER_ERROR: u8 = 4;
/// Exit code when there is no token, or the server does not accept it.
pub const EXIT_UNAUTHORIZED: u8 = 5;
/// Exit code when the server cannot be reached (connection refused, unknown host, time-out).
pub const EXIT_UNREACHABLE: u8 = 6;
/// Exit code of `validate` when the file can be read but some rows are rejected.
pub const EXIT_ROWS_REJECTED: u8 = 10;
/// Exit code when the campaign file cannot be used as a whole (`validate`; `campaign upload` refused with
/// `invalid_file`, or whose ingestion failed part-way).
pub const EXIT_FILE_UNUSABLE: u8 = 11;

/// Where `--server` points by default: the address `serve` listens on by default.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

const EXIT_CODES: &str = "\
Exit codes:
  0   success (validate: every row is accepted)
  1   any other failure (a local file that cannot be read, an unexpected answer)
  2   the command line cannot be used (unknown flag, missing argument, malformed value)
  3   the settings cannot be used (serve, apps)
  4   the server answered with an error; its code and message are printed
  5   no token, or the server refused it
  6   the server cannot be reached (connection refused, unknown host, time-out)
  10  validate: the file is readable but some rows are rejected
  11  the campaign file cannot be used as a whole (validate; upload refused with invalid_file or whose ingestion failed)

Client commands (campaign, accounts, templates) talk to a running server: --server or PREGON_SERVER
(default http://127.0.0.1:8080) and --token or PREGON_TOKEN. Progress bars go to stderr and are hidden when stderr
is not a terminal; results go to stdout. See docs/cli.md.";

/// Pregon sends WhatsApp template messages (HSMs) in bulk.
///
/// Run with no command to start the service on the embedded default (SQLite under ./data and the built-in sandbox
/// provider). Every setting below can also be given as an environment variable or in a TOML file (--config).
#[derive(Parser, Debug)]
#[command(name = "pregon", version, about, long_about, after_long_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the HTTP service (the default).
    Serve,
    /// Apps (tenants): each has its own tokens, accounts, templates and campaigns.
    Apps {
        #[command(subcommand)]
        command: AppsCommand,
    },
    /// Campaigns on a running server: upload a file, follow its progress, pause, resume, cancel.
    Campaign {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: campaigns::CampaignCommand,
    },
    /// Provider accounts on a running server.
    Accounts {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: accounts::AccountsCommand,
    },
    /// WhatsApp templates of an account on a running server.
    Templates {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        command: accounts::TemplatesCommand,
    },
    /// Check a campaign file offline against a JSON file of templates, with the server's own pipeline.
    ///
    /// No server and no database: the file is sniffed, unwrapped, read and validated as an upload would be, and
    /// every rejected row is listed. Exit 0: every row accepted; 10: some rejected; 11: the file cannot be used.
    Validate(validate::ValidateArgs),
}

#[derive(Subcommand, Debug)]
enum AppsCommand {
    /// Create an app and print its token, once: only a hash is kept. The token is the last word of the output.
    Create {
        /// The app's name: letters, digits, `-`, `_`. It is the Chat-Tonic `{app}` path segment and the Jelou Basic
        /// user name.
        name: String,
    },
}

/// Which server a client command talks to, and as which app.
#[derive(Args, Debug, Clone)]
pub struct Remote {
    /// The Pregon server's URL.
    #[arg(
        long,
        env = "PREGON_SERVER",
        global = true,
        value_name = "URL",
        default_value = DEFAULT_SERVER
    )]
    pub server: String,
    /// The app's token, as `pregon apps create` (or the first run) printed it.
    #[arg(
        long,
        env = "PREGON_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

/// Why a client command failed; each kind has its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line cannot be used as given.
    #[error("{0}")]
    Usage(String),
    /// The server answered with an error of its catalogue.
    #[error("{message} [{code}, HTTP {status}]{}", detail_suffix(.details))]
    Api {
        /// The HTTP status.
        status: u16,
        /// The catalogue code (`not_found`, …).
        code: String,
        /// The server's message.
        message: String,
        /// `details` (the field at fault, a file reason), if any.
        details: Option<serde_json::Value>,
    },
    /// No token, or the server refused it.
    #[error("{0}")]
    Unauthorized(String),
    /// No answer from the server.
    #[error(
        "cannot reach the Pregon server at {url}: {reason}. Is it running there? Point --server (or PREGON_SERVER) at it."
    )]
    Unreachable {
        /// The server's URL.
        url: String,
        /// What went wrong, in words.
        reason: String,
    },
    /// The campaign file cannot be used as a whole.
    #[error("the file cannot be used ({reason}): {message}")]
    FileUnusable {
        /// The stable file reason (`docs/errors.md`).
        reason: String,
        /// What is wrong.
        message: String,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Api { code, .. } if code == "invalid_file" => EXIT_FILE_UNUSABLE,
            CliError::Api { .. } => EXIT_SERVER_ERROR,
            CliError::Unauthorized(_) => EXIT_UNAUTHORIZED,
            CliError::Unreachable { .. } => EXIT_UNREACHABLE,
            CliError::FileUnusable { .. } => EXIT_FILE_UNUSABLE,
            CliError::Other(_) => EXIT_FAILURE,
        }
    }
}

/// `details` of an API error in words: the field, template path or file reason it names.
fn detail_suffix(details: &Option<serde_json::Value>) -> String {
    let Some(d) = details else {
        return String::new();
    };
    ["field", "path", "reason"]
        .iter()
        .filter_map(|k| d.get(*k).and_then(|v| v.as_str()).map(|v| format!("{k} `{v}`")))
        .map(|s| format!(" ({s})"))
        .collect()
}

/// Parse the command line and run it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Validate(args)) => finish(validate::run(&args)),
        Some(Command::Campaign { remote, command }) => {
            finish(client_runtime(|| async move { campaigns::run(&remote, command).await }))
        }
        Some(Command::Accounts { remote, command }) => finish(client_runtime(|| async move {
            accounts::run_accounts(&remote, command).await
        })),
        Some(Command::Templates { remote, command }) => finish(client_runtime(|| async move {
            accounts::run_templates(&remote, command).await
        })),
        service => run_service(&cli.config, service),
    }
}

/// The exit code of a client command's outcome; an error is printed on stderr, in words.
fn finish(outcome: Result<u8, CliError>) -> ExitCode {
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("pregon: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Run a client command on a small runtime. Client commands read no settings and start no logging: their stderr is
/// for progress bars and errors.
fn client_runtime<F, Fut>(command: F) -> Result<u8, CliError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<u8, CliError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(command())
}

/// `serve` and `apps`: the commands that read the settings and open the database.
fn run_service(args: &ConfigArgs, command: Option<Command>) -> ExitCode {
    let config = match Config::load(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pregon: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pregon: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let result = runtime.block_on(async {
        match command {
            Some(Command::Apps {
                command: AppsCommand::Create { name },
            }) => create_app(&config, &name).await,
            // The client commands were dispatched in `run`.
            _ => serve(config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pregon: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Install the log subscriber `config` asks for (once per process; later calls do nothing).
pub fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}

async fn create_app(config: &Config, name: &str) -> anyhow::Result<()> {
    let store = pregon_store::connect(&config.database_url).await?;
    let (app, token) = bootstrap::create_app(&store, name).await?;
    println!(
        "Created app `{}` ({}). Its token is shown only this once:",
        app.name, app.id
    );
    println!("{token}");
    Ok(())
}

/// Start the service with `config` and run until ctrl-c or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    crate::install_crypto_provider();
    let store = pregon_store::connect(&config.database_url).await?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    if let Some(demo) = bootstrap::first_run(&store, &config).await? {
        println!(
            "\nFirst run: created the app `{app}` with a sandbox account ({account}) and {n} example templates.\n\
             Its token is shown only this once:\n\n    {token}\n\n\
             Try:  curl -H \"Authorization: Bearer {token}\" http://{address}/v1/accounts\n",
            app = demo.app.name,
            account = demo.account.id,
            n = demo.templates,
            token = demo.token,
        );
    }
    tracing::info!(%address, database = %pregon_store::redact_url(&config.database_url), "pregon is listening");
    let state = AppState::new(store, config)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = crate::spawn_workers(state.clone(), stopped);
    http::serve(listener, state, http::shutdown_signal()).await?;
    let _ = stop.send(true);
    // An ingestion in progress stops at its next batch boundary (its lease lets the next start resume it); senders
    // finish the requests in flight and give their claimed messages back.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(15), worker).await;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_server_is_where_serve_listens_by_default() {
        assert_eq!(DEFAULT_SERVER, format!("http://{}", Config::default().listen));
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn api_errors_say_what_the_details_name() {
        let e = CliError::Api {
            status: 422,
            code: "invalid_file".into(),
            message: "the file is empty".into(),
            details: Some(serde_json::json!({"reason": "empty_file"})),
        };
        assert_eq!(
            e.to_string(),
            "the file is empty [invalid_file, HTTP 422] (reason `empty_file`)"
        );
        assert_eq!(e.exit_code(), EXIT_FILE_UNUSABLE);
    }
}
