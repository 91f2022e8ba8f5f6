//! The `pregon` command line.

use crate::bootstrap;
use crate::config::{Config, ConfigArgs, LogFormat};
use crate::http;
use crate::state::AppState;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit code when the settings cannot be used.
pub const EXIT_CONFIG: u8 = 3;
/// Exit code when the command failed.
pub const EXIT_FAILURE: u8 = 1;

/// Pregon sends WhatsApp template messages (HSMs) in bulk.
///
/// Run with no command to start the service on the embedded default (SQLite under ./data and the built-in sandbox
/// provider). Every setting below can also be given as an environment variable or in a TOML file (--config).
#[derive(Parser, Debug)]
#[command(name = "pregon", version, about, long_about)]
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

/// Parse the command line and run it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli.config) {
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
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Apps {
                command: AppsCommand::Create { name },
            } => create_app(&config, &name).await,
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
