//! `pregon campaign …`: upload a file (streamed, with progress), follow the ingestion and the sending, and steer.

use super::client::{Client, read_json};
use super::{CliError, Remote, progress};
use bytes::Bytes;
use clap::{Args, Subcommand};
use pregon_core::CampaignStatus;
use pregon_core::campaign::Counts;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// How often a campaign is polled while a bar shows its progress. The server's own event stream polls its store
/// every half second, so polling the campaign here at the same pace costs the server the same and keeps the client
/// a plain request loop.
const POLL: Duration = Duration::from_millis(500);
/// After a campaign ends, delivery receipts still arrive: `--watch` follows them until none came for this long.
const RECEIPTS_SETTLE: Duration = Duration::from_secs(3);
/// Ingestion is polled faster: most files take a second or two, and the summary should not wait for a tick.
const INGEST_POLL: Duration = Duration::from_millis(200);
/// Bytes read from the file per chunk of the streamed upload.
const CHUNK: usize = 64 * 1024;

#[derive(Subcommand, Debug)]
pub enum CampaignCommand {
    /// Upload a campaign file, show the upload and the ingestion, and print the campaign id as the last line.
    Upload(Box<UploadArgs>),
    /// Print a campaign's status and its messages per status; --watch shows live bars until it ends.
    Status {
        /// The campaign id.
        id: String,
        /// Show a bar per message status until the campaign is completed, cancelled or failed.
        #[arg(long)]
        watch: bool,
    },
    /// Pause a scheduled or running campaign: no new message leaves.
    Pause {
        /// The campaign id.
        id: String,
    },
    /// Resume a paused campaign.
    Resume {
        /// The campaign id.
        id: String,
    },
    /// Cancel a campaign: every message not yet handed to the provider becomes `cancelled`.
    Cancel {
        /// The campaign id.
        id: String,
    },
    /// Send again the messages that failed for a reason worth retrying.
    RetryFailed {
        /// The campaign id.
        id: String,
    },
}

/// `campaign upload`.
#[derive(Args, Debug)]
pub struct UploadArgs {
    /// The campaign file: CSV, XLS, XLSX or JSON, possibly zipped, gzipped or tarred.
    pub file: PathBuf,
    /// The provider account that sends it: its id or its name.
    #[arg(long, value_name = "ID")]
    pub account: String,
    /// When it starts: ISO 8601 with an offset, in the future (2026-12-01T09:00:00-03:00). Default: as soon as it
    /// is stored.
    #[arg(long, value_name = "ISO-8601")]
    pub at: Option<String>,
    /// The campaign's name [default: the file's name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// A key that makes a repeated upload answer the first campaign instead of creating another.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Print the id as soon as the file is accepted, without waiting for its rows to be read.
    #[arg(long)]
    pub no_wait: bool,
    #[command(flatten)]
    pub mapping: MappingArgs,
}

/// How rows become messages: the Chat-Tonic columns (the default) or one template with a parameter mapping.
#[derive(Args, Debug, Clone, Default)]
pub struct MappingArgs {
    /// One template for every row — the mapping model (Jelou's): the first column is the phone and --param maps the
    /// template's parameters to columns. Without it the file uses the Chat-Tonic columns (a template per row).
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// The template's language [default: the account's default language, or the template's only one].
    #[arg(long, value_name = "CODE", requires = "template")]
    pub language: Option<String>,
    /// Template parameter N from a column, `--param 1=customer_name` (0 is a text header's placeholder). Repeat it
    /// for each parameter.
    #[arg(long = "param", value_name = "N=COLUMN", value_parser = parse_param, requires = "template")]
    pub params: Vec<(u32, String)>,
    /// Template parameter N as the same text in every message, `--param-value 2=Acme`.
    #[arg(long = "param-value", value_name = "N=TEXT", value_parser = parse_param, requires = "template")]
    pub param_values: Vec<(u32, String)>,
    /// Header media for every message: an http(s) URL.
    #[arg(long, value_name = "URL", requires = "template")]
    pub media_url: Option<String>,
    /// The media's kind.
    #[arg(long, value_name = "KIND", requires = "media_url", value_parser = ["image", "video", "document"])]
    pub media_type: Option<String>,
    /// The payload of each quick-reply button, in the buttons' order; repeat it for each button.
    #[arg(long = "button-payload", value_name = "TEXT")]
    pub button_payloads: Vec<String>,
}

/// `N=TEXT` of --param and --param-value.
fn parse_param(s: &str) -> Result<(u32, String), String> {
    let (n, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not N=COLUMN (like 1=customer_name)"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a parameter number (0, 1, 2, …)"))?;
    if value.is_empty() {
        return Err(format!("parameter {n} names no column"));
    }
    Ok((n, value.to_owned()))
}

impl MappingArgs {
    /// The upload form's text fields for this mapping, as `POST /v1/campaigns` reads them.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = Vec::new();
        if let Some(t) = &self.template {
            fields.push(("template", t.clone()));
        }
        if let Some(l) = &self.language {
            fields.push(("language", l.clone()));
        }
        let mut params: Vec<(u32, Value)> = self
            .params
            .iter()
            .map(|(n, column)| (*n, json!({"param": n, "column": column})))
            .chain(
                self.param_values
                    .iter()
                    .map(|(n, value)| (*n, json!({"param": n, "value": value}))),
            )
            .collect();
        params.sort_by_key(|(n, _)| *n);
        if self.template.is_some() {
            let params: Vec<Value> = params.into_iter().map(|(_, p)| p).collect();
            fields.push(("params", Value::Array(params).to_string()));
        }
        if let Some(u) = &self.media_url {
            fields.push(("media_url", u.clone()));
        }
        if let Some(k) = &self.media_type {
            fields.push(("media_type", k.clone()));
        }
        if !self.button_payloads.is_empty() {
            fields.push(("button_payloads", json!(self.button_payloads).to_string()));
        }
        fields
    }
}

/// A campaign as `GET /v1/campaigns/{id}` shows it: the fields the commands print.
#[derive(Debug, Clone, Deserialize)]
pub struct CampaignInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: CampaignStatus,
    /// Rows and messages per status.
    #[serde(default)]
    pub counts: Counts,
    /// Share of the messages with an outcome.
    #[serde(default)]
    pub percent: f64,
    /// Why it is paused.
    #[serde(default)]
    pub pause_reason: Option<String>,
    /// Why it failed.
    #[serde(default)]
    pub failure_reason: Option<String>,
    /// Its send rate.
    #[serde(default)]
    pub rate_per_second: Option<f64>,
    /// Seconds until the last message is sent.
    #[serde(default)]
    pub eta_seconds: Option<u64>,
    /// When it starts.
    #[serde(default)]
    pub scheduled_at: Option<String>,
}

impl CampaignInfo {
    /// Nothing more happens to it without a user: the server's event stream ends at the same statuses.
    fn is_final(&self) -> bool {
        matches!(
            self.status,
            CampaignStatus::Completed | CampaignStatus::Cancelled | CampaignStatus::Failed
        )
    }
}

/// Run one `campaign` subcommand.
pub async fn run(remote: &Remote, command: CampaignCommand) -> Result<u8, CliError> {
    let client = Client::new(remote)?;
    match command {
        CampaignCommand::Upload(args) => upload(&client, &args).await,
        CampaignCommand::Status { id, watch } => status(&client, &id, watch).await,
        CampaignCommand::Pause { id } => control(&client, &id, "pause").await,
        CampaignCommand::Resume { id } => control(&client, &id, "resume").await,
        CampaignCommand::Cancel { id } => control(&client, &id, "cancel").await,
        CampaignCommand::RetryFailed { id } => retry_failed(&client, &id).await,
    }
}

/// A campaign id is a UUID: checked here so that what the user typed never becomes another path of the API.
fn campaign_path(id: &str) -> Result<String, CliError> {
    let id = id.trim();
    uuid::Uuid::parse_str(id).map_err(|_| {
        CliError::Usage(format!(
            "`{id}` is not a campaign id (a UUID, as `campaign upload` prints)"
        ))
    })?;
    Ok(format!("/v1/campaigns/{id}"))
}

async fn fetch(client: &Client, path: &str) -> Result<CampaignInfo, CliError> {
    client.get(path).await
}

async fn upload(client: &Client, args: &UploadArgs) -> Result<u8, CliError> {
    // Everything that can be checked before sending a byte is: a 100 MB upload should not be what tells the user
    // that the time is malformed, the token wrong or the account unknown.
    if let Some(at) = &args.at {
        chrono::DateTime::parse_from_rfc3339(at.trim()).map_err(|_| {
            CliError::Usage(format!(
                "--at `{at}` is not an ISO 8601 time with an offset, like 2026-12-01T09:00:00-03:00"
            ))
        })?;
    }
    let file = tokio::fs::File::open(&args.file)
        .await
        .map_err(|e| CliError::Other(format!("cannot open {}: {e}", args.file.display())))?;
    let size = file
        .metadata()
        .await
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", args.file.display())))?
        .len();
    super::accounts::resolve_account(client, &args.account).await?;

    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "campaign".into());
    let bar = progress::upload_bar(size);
    let body = reqwest::Body::wrap_stream(chunks(file, bar.clone()));
    let mut form = Form::new().text("account", args.account.clone());
    if let Some(name) = &args.name {
        form = form.text("name", name.clone());
    }
    if let Some(at) = &args.at {
        form = form.text("scheduled_at", at.trim().to_owned());
    }
    for (key, value) in args.mapping.fields() {
        form = form.text(key, value);
    }
    form = form.part("file", Part::stream_with_length(body, size).file_name(file_name));
    let mut request = client.request(Method::POST, "/v1/campaigns").multipart(form);
    if let Some(key) = &args.idempotency_key {
        request = request.header("idempotency-key", key);
    }
    let sent = client.send(request).await;
    bar.finish_and_clear();
    let created: CampaignInfo = read_json(sent?).await?;

    let campaign = if args.no_wait {
        created
    } else {
        wait_for_ingestion(client, &created.id).await?
    };
    let k = &campaign.counts;
    println!("campaign  {} ({})", campaign.name, campaign.status);
    if campaign.status != CampaignStatus::Ingesting {
        println!("rows      {}", k.rows);
        println!("accepted  {}", k.accepted);
        println!("rejected  {}", k.rejected);
        if k.suppressed > 0 {
            println!("opted out {} (accepted, never sent)", k.suppressed);
        }
    }
    if let Some(at) = campaign
        .scheduled_at
        .as_deref()
        .filter(|_| campaign.status == CampaignStatus::Scheduled)
    {
        println!("starts    {at}");
    }
    if k.rejected > 0 {
        println!(
            "rejected rows: {}/v1/campaigns/{}/rejections",
            client.base(),
            campaign.id
        );
    }
    // The id is the last line, whatever happened, so that a script can take it with `tail -n1`.
    println!("{}", campaign.id);
    if campaign.status == CampaignStatus::Failed {
        let reason = campaign.failure_reason.unwrap_or_default();
        let (code, message) = reason.split_once(": ").unwrap_or(("failed", reason.as_str()));
        return Err(CliError::FileUnusable {
            reason: code.to_owned(),
            message: format!("{message} (the campaign failed while its rows were read; nothing of it was kept)"),
        });
    }
    Ok(0)
}

/// The file as a stream of chunks, counted on `bar` as reqwest takes them.
fn chunks(
    file: tokio::fs::File,
    bar: indicatif::ProgressBar,
) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures::stream::unfold(Some(file), move |state| {
        let bar = bar.clone();
        async move {
            let mut file = state?;
            let mut buf = vec![0u8; CHUNK];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    bar.inc(n as u64);
                    Some((Ok(Bytes::from(buf)), Some(file)))
                }
                // One error ends the stream: reqwest aborts the upload with it.
                Err(e) => Some((Err(e), None)),
            }
        }
    })
}

/// Poll the campaign until its rows are read, showing the counts as they grow.
async fn wait_for_ingestion(client: &Client, id: &str) -> Result<CampaignInfo, CliError> {
    let path = campaign_path(id)?;
    let bar = progress::ingest_spinner();
    let result = async {
        loop {
            let c = fetch(client, &path).await?;
            progress::show_ingest(&bar, &c);
            if c.status != CampaignStatus::Ingesting {
                return Ok(c);
            }
            tokio::time::sleep(INGEST_POLL).await;
        }
    }
    .await;
    bar.finish_and_clear();
    result
}

async fn status(client: &Client, id: &str, watch: bool) -> Result<u8, CliError> {
    let path = campaign_path(id)?;
    let mut c = fetch(client, &path).await?;
    // A campaign that has ended may still be waiting for receipts: watching it follows them too.
    let awaits_receipts = |c: &CampaignInfo| c.counts.sent + c.counts.delivered > 0;
    if watch && (!c.is_final() || awaits_receipts(&c)) {
        let bars = progress::StatusBars::new(&c);
        let result = async {
            while !c.is_final() {
                tokio::time::sleep(POLL).await;
                c = fetch(client, &path).await?;
                bars.update(&c);
            }
            let mut last_change = std::time::Instant::now();
            while awaits_receipts(&c) && last_change.elapsed() < RECEIPTS_SETTLE {
                tokio::time::sleep(POLL).await;
                let next = fetch(client, &path).await?;
                if next.counts != c.counts {
                    last_change = std::time::Instant::now();
                }
                c = next;
                bars.update(&c);
            }
            Ok::<_, CliError>(())
        }
        .await;
        bars.finish();
        result?;
    }
    print_status(&c);
    Ok(0)
}

/// The campaign as `key value` lines: easy to read, and to pick from with `awk '$1 == "read" {print $2}'`.
fn print_status(c: &CampaignInfo) {
    println!("{:<11}{}", "id", c.id);
    println!("{:<11}{}", "name", c.name);
    println!("{:<11}{}", "status", c.status);
    if let Some(r) = &c.pause_reason {
        println!("{:<11}{r}", "paused");
    }
    if let Some(r) = &c.failure_reason {
        println!("{:<11}{r}", "failure");
    }
    if let Some(at) = c
        .scheduled_at
        .as_deref()
        .filter(|_| c.status == CampaignStatus::Scheduled)
    {
        println!("{:<11}{at}", "starts");
    }
    let k = &c.counts;
    for (key, value) in [("rows", k.rows), ("accepted", k.accepted), ("rejected", k.rejected)] {
        println!("{key:<11}{value}");
    }
    for status in progress::WATCHED {
        println!("{:<11}{}", status.as_str(), k.of(*status));
    }
    println!("{:<11}{}%", "done", c.percent);
    if let Some(rate) = c.rate_per_second {
        println!("{:<11}{rate}/s", "rate");
    }
    if let Some(eta) = c.eta_seconds {
        println!("{:<11}{eta} s", "eta");
    }
}

async fn control(client: &Client, id: &str, action: &str) -> Result<u8, CliError> {
    let path = format!("{}/{action}", campaign_path(id)?);
    let c: CampaignInfo = client.json(Method::POST, &path, None).await?;
    println!("campaign {} is {}", c.id, c.status);
    Ok(0)
}

async fn retry_failed(client: &Client, id: &str) -> Result<u8, CliError> {
    #[derive(Deserialize)]
    struct Retried {
        requeued: u64,
        campaign: CampaignInfo,
    }
    let path = format!("{}/retry-failed", campaign_path(id)?);
    let r: Retried = client.json(Method::POST, &path, None).await?;
    println!(
        "campaign {} is {}: {} messages queued again",
        r.campaign.id, r.campaign.status, r.requeued
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_n_equals_column() {
        assert_eq!(parse_param("1=customer_name"), Ok((1, "customer_name".into())));
        assert_eq!(parse_param("0=a=b"), Ok((0, "a=b".into())));
        assert!(parse_param("customer_name").is_err());
        assert!(parse_param("x=customer_name").is_err());
        assert!(parse_param("-1=a").is_err());
        assert!(parse_param("2=").is_err());
    }

    #[test]
    fn the_mapping_becomes_the_fields_the_server_reads() {
        let m = MappingArgs {
            template: Some("order_confirmation".into()),
            params: vec![(2, "amount".into()), (1, "order_id".into())],
            param_values: vec![(3, "soon".into())],
            media_url: Some("https://example.com/o.jpg".into()),
            media_type: Some("image".into()),
            ..MappingArgs::default()
        };
        let fields = m.fields();
        let params: Option<Value> = fields
            .iter()
            .find(|(k, _)| *k == "params")
            .and_then(|(_, v)| serde_json::from_str(v).ok());
        assert_eq!(
            params,
            Some(
                json!([{"param": 1, "column": "order_id"}, {"param": 2, "column": "amount"}, {"param": 3, "value": "soon"}])
            )
        );
        assert!(fields.contains(&("media_type", "image".into())));
        assert!(
            MappingArgs::default().fields().is_empty(),
            "Chat-Tonic columns send no mapping"
        );
    }

    #[test]
    fn campaign_ids_are_uuids() {
        assert!(campaign_path("0196a3b2-7c3e-7b8a-9d41-2f6c8e1a5b30").is_ok());
        assert!(matches!(campaign_path("../accounts"), Err(CliError::Usage(_))));
    }
}
