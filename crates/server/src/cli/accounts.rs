//! `pregon accounts …` and `pregon templates …`: provider accounts and their WhatsApp templates on a running server.

use super::client::Client;
use super::{CliError, Remote};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum AccountsCommand {
    /// List the app's accounts: id, name, provider, sender, rate and templates.
    List,
    /// Create an account and print its id as the last line.
    Create(Box<CreateAccountArgs>),
}

/// `accounts create`: the fields of `POST /v1/accounts`.
#[derive(Args, Debug)]
pub struct CreateAccountArgs {
    /// A name to recognise it by, unique in the app (uploads may name the account by it).
    #[arg(long)]
    name: String,
    /// meta, gupshup, infobip, 360dialog, clickatell or sandbox (the Chat-Tonic platform names work too).
    #[arg(long)]
    provider: String,
    /// The sending number (Meta: the phone-number id); the sandbox needs none.
    #[arg(long)]
    sender: Option<String>,
    /// A credential, `--credential access_token=…`; repeat it for each. Values on a command line end up in shell
    /// history: prefer --credentials-file.
    #[arg(long = "credential", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    credentials: Vec<(String, String)>,
    /// A JSON object of credentials, `{"access_token": "…", "app_secret": "…"}`.
    #[arg(long, value_name = "FILE")]
    credentials_file: Option<PathBuf>,
    /// Messages per second [server default: 80].
    #[arg(long)]
    rate_per_second: Option<u32>,
    /// Requests in flight at once [server default: 16].
    #[arg(long)]
    concurrency: Option<u32>,
    /// Messages per day, if capped.
    #[arg(long)]
    daily_cap: Option<u32>,
    /// The provider's API root, when not its own (Infobip's per-account URL, a mock).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// The language of rows that name none (`es`, `en_US`).
    #[arg(long, value_name = "CODE")]
    default_language: Option<String>,
    /// The country (ISO 3166 alpha-2) of phone numbers written without a country code.
    #[arg(long, value_name = "CC")]
    default_region: Option<String>,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

#[derive(Subcommand, Debug)]
pub enum TemplatesCommand {
    /// List an account's templates: name, language, status, category.
    List {
        /// The account's id or name.
        account: String,
    },
    /// Make an account's templates match its provider's listing (Meta, with the account's `waba_id`; 360dialog), or
    /// a JSON file of Meta `message_templates` items (an array, one item, or a whole listing response): create the
    /// new ones, replace the changed ones, and with --prune delete the others.
    Sync {
        /// The account's id or name.
        account: String,
        /// The templates, as WhatsApp Manager or `GET /{WABA-ID}/message_templates` gives them [default: ask the
        /// provider].
        #[arg(long, short = 'f', value_name = "TEMPLATES.json")]
        file: Option<PathBuf>,
        /// Also delete the account's templates that the file does not have.
        #[arg(long)]
        prune: bool,
    },
}

/// An account as `GET /v1/accounts` lists it: the fields the commands print.
#[derive(Debug, Deserialize)]
pub struct AccountInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    provider: String,
    #[serde(default)]
    sender: String,
    #[serde(default)]
    rate_per_second: u32,
    #[serde(default)]
    templates: Vec<Value>,
    #[serde(default)]
    links: Value,
}

#[derive(Deserialize)]
struct Listing<T> {
    data: Vec<T>,
}

/// The account named by id or by name, as the upload endpoint resolves it; `not_found` in the server's words
/// otherwise. It is also a cheap authenticated request that tells a wrong token or a server that is down before an
/// upload starts.
pub async fn resolve_account(client: &Client, account: &str) -> Result<AccountInfo, CliError> {
    let wanted = account.trim();
    let accounts: Listing<AccountInfo> = client.get("/v1/accounts").await?;
    accounts
        .data
        .into_iter()
        .find(|a| a.id == wanted || a.name == wanted)
        .ok_or_else(|| CliError::Api {
            status: 404,
            code: "not_found".into(),
            message: format!("account `{wanted}` not found (`pregon accounts list` shows the app's accounts)"),
            details: None,
        })
}

/// Run one `accounts` subcommand.
pub async fn run_accounts(remote: &Remote, command: AccountsCommand) -> Result<u8, CliError> {
    let client = Client::new(remote)?;
    match command {
        AccountsCommand::List => {
            let accounts: Listing<AccountInfo> = client.get("/v1/accounts").await?;
            println!(
                "{:<38} {:<20} {:<11} {:<18} {:>7} {:>9}",
                "ID", "NAME", "PROVIDER", "SENDER", "RATE/S", "TEMPLATES"
            );
            for a in &accounts.data {
                println!(
                    "{:<38} {:<20} {:<11} {:<18} {:>7} {:>9}",
                    a.id,
                    a.name,
                    a.provider,
                    a.sender,
                    a.rate_per_second,
                    a.templates.len()
                );
            }
            Ok(0)
        }
        AccountsCommand::Create(args) => create_account(&client, *args).await,
    }
}

async fn create_account(client: &Client, args: CreateAccountArgs) -> Result<u8, CliError> {
    let mut credentials: BTreeMap<String, String> = match &args.credentials_file {
        None => BTreeMap::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::Other(format!("cannot read {}: {e}", path.display())))?;
            serde_json::from_str(&text).map_err(|e| {
                CliError::Usage(format!(
                    "{} is not a JSON object of text credentials: {e}",
                    path.display()
                ))
            })?
        }
    };
    credentials.extend(args.credentials);
    let mut body = json!({"name": args.name, "provider": args.provider, "credentials": credentials});
    if let Some(obj) = body.as_object_mut() {
        let optional = [
            ("sender", args.sender.map(Value::from)),
            ("rate_per_second", args.rate_per_second.map(Value::from)),
            ("concurrency", args.concurrency.map(Value::from)),
            ("daily_cap", args.daily_cap.map(Value::from)),
            ("base_url", args.base_url.map(Value::from)),
            ("default_language", args.default_language.map(Value::from)),
            ("default_region", args.default_region.map(Value::from)),
        ];
        for (key, value) in optional {
            if let Some(v) = value {
                obj.insert(key.into(), v);
            }
        }
    }
    let a: AccountInfo = client.json(Method::POST, "/v1/accounts", Some(&body)).await?;
    println!("created the {} account `{}`", a.provider, a.name);
    if let Some(webhook) = a.links.get("webhook").and_then(Value::as_str) {
        println!("webhook: {}{webhook}", client.base());
    }
    println!("{}", a.id);
    Ok(0)
}

/// Run one `templates` subcommand.
pub async fn run_templates(remote: &Remote, command: TemplatesCommand) -> Result<u8, CliError> {
    let client = Client::new(remote)?;
    match command {
        TemplatesCommand::List { account } => {
            let account = resolve_account(&client, &account).await?;
            let templates: Listing<Value> = client.get(&format!("/v1/accounts/{}/templates", account.id)).await?;
            println!("{:<40} {:<9} {:<10} {:<15}", "NAME", "LANGUAGE", "STATUS", "CATEGORY");
            for t in &templates.data {
                let field = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
                println!(
                    "{:<40} {:<9} {:<10} {:<15}",
                    field("name"),
                    field("language"),
                    field("status"),
                    field("category")
                );
            }
            Ok(0)
        }
        TemplatesCommand::Sync { account, file, prune } => sync(&client, &account, file.as_deref(), prune).await,
    }
}

/// Read a templates file the way `POST /v1/accounts/{id}/templates` reads its body: an array of items, a listing
/// response (`{"data": [...]}`), or one item.
pub fn read_templates_file(path: &std::path::Path) -> Result<Vec<Value>, CliError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| CliError::Other(format!("cannot read {}: {e}", path.display())))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| CliError::Other(format!("{} is not JSON: {e}", path.display())))?;
    Ok(match value {
        Value::Array(items) => items,
        Value::Object(ref obj) if obj.get("data").is_some_and(Value::is_array) => {
            obj.get("data").and_then(Value::as_array).cloned().unwrap_or_default()
        }
        Value::Object(_) => vec![value],
        _ => {
            return Err(CliError::Other(format!(
                "{} holds no template: give an array of Meta `message_templates` items",
                path.display()
            )));
        }
    })
}

async fn sync(client: &Client, account: &str, file: Option<&std::path::Path>, prune: bool) -> Result<u8, CliError> {
    let listing = file.map(read_templates_file).transpose()?;
    let account = resolve_account(client, account).await?;
    let mut path = format!("/v1/accounts/{}/templates/sync", account.id);
    if prune {
        path.push_str("?prune=true");
    }
    // One request: the server matches, creates, replaces and prunes (and reads the provider's listing without a file).
    let body = listing.map(Value::Array);
    let report: Value = client.json(Method::POST, &path, body.as_ref()).await?;
    let n = |k: &str| report[k].as_u64().unwrap_or(0);
    println!(
        "templates of `{}`: {} created, {} updated, {} unchanged, {} deleted",
        account.name,
        n("created"),
        n("updated"),
        n("unchanged"),
        n("deleted")
    );
    for skipped in report["skipped"].as_array().into_iter().flatten() {
        eprintln!(
            "skipped {} ({}): {}",
            skipped["name"].as_str().unwrap_or("?"),
            skipped["language"].as_str().unwrap_or("?"),
            skipped["reason"].as_str().unwrap_or("")
        );
    }
    Ok(0)
}
