//! One measured case, run in a child process of its own so that its peak RSS (`VmHWM`) is its own.
//!
//! Each case prints one JSON object on stdout (its last line); progress goes to stderr.

use crate::inputs;
use anyhow::{Context, Result, anyhow, ensure};
use chrono::{DateTime, Utc};
use pregon::config::Config;
use pregon::ingestion::{self, IngestSpec};
use pregon::state::AppState;
use pregon_core::account::{AccountSettings, Credentials};
use pregon_core::campaign::{Account, NewCampaign};
use pregon_core::message::NewMessage;
use pregon_core::template::Template;
use pregon_core::{AccountId, AppId, CampaignId, CampaignStatus, ProviderKind};
use pregon_ingest::pipeline::{self, PipelineOptions};
use pregon_ingest::record::ReadItem;
use pregon_ingest::source;
use pregon_ingest::validate::TemplateBook;
use pregon_store::testing::TestDatabase;
use pregon_store::{Backend, DynStore};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Rows per transaction of the ingestion, and so of the SQLite reference.
pub const TX_ROWS: usize = ingestion::BATCH_ROWS;
/// Rows per multi-row `INSERT` statement of the SQLite reference (the store's chunk).
pub const STATEMENT_ROWS: usize = 1_000;

/// The columns `\copy` and the references fill: what the ingestion writes.
const COLUMNS: &str = "id, app_id, campaign_id, account_id, row_number, phone, template_name, language, params, \
                       rendered_text, flag, status, created_at, updated_at";

/// Larger than any benchmark file: the server's default upload limit (100 MB) is below a 1,000,000-row JSON file.
const MAX_UPLOAD_BYTES: u64 = 4_000_000_000;

/// Peak resident set size of this process so far, in KiB (`VmHWM` of `/proc/self/status`).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The ingestion options the server would store for a Chat-Tonic upload.
fn spec() -> IngestSpec {
    IngestSpec {
        model: ingestion::CHAT_TONIC.into(),
        sheet: Some("campaign".into()),
        ..Default::default()
    }
}

fn settings() -> AccountSettings {
    AccountSettings {
        name: "bench".into(),
        provider: ProviderKind::Sandbox,
        sender: "bench".into(),
        rate_per_second: AccountSettings::DEFAULT_RATE_PER_SECOND,
        concurrency: AccountSettings::DEFAULT_CONCURRENCY,
        daily_cap: None,
        base_url: None,
        default_language: Some("en".into()),
        default_region: None,
    }
}

fn template() -> Result<(Template, Value)> {
    let definition: Value = serde_json::from_str(inputs::TEMPLATE)?;
    let template = Template::from_meta(&definition).map_err(|e| anyhow!("the bench template: {e}"))?;
    Ok((template, definition))
}

fn config(url: &str) -> Config {
    Config {
        database_url: url.to_owned(),
        max_upload_bytes: MAX_UPLOAD_BYTES,
        max_expanded_bytes: MAX_UPLOAD_BYTES,
        demo: false,
        ..Default::default()
    }
}

fn new_campaign(account: AccountId, name: &str) -> Result<NewCampaign> {
    Ok(NewCampaign {
        account_id: account,
        name: name.into(),
        options: serde_json::to_value(spec())?,
        ..Default::default()
    })
}

/// A fresh database with an app, a sandbox account and the bench template, as a user of Pregon would set up.
struct Fixture {
    store: DynStore,
    sqlite: Option<sqlx::SqlitePool>,
    postgres: Option<sqlx::PgPool>,
    state: AppState,
    app: AppId,
    account: Account,
    /// Dropped last: on PostgreSQL its drop removes the database.
    db: TestDatabase,
}

impl Fixture {
    async fn new(backend: Backend) -> Result<Fixture> {
        let db = TestDatabase::new(backend).await;
        let (store, sqlite, postgres): (DynStore, _, _) = match backend {
            Backend::Sqlite => {
                let s = Arc::new(pregon_store::sqlite::SqliteStore::connect(&db.url).await?);
                let pool = s.pool().clone();
                (s, Some(pool), None)
            }
            Backend::Postgres => {
                let s = Arc::new(pregon_store::postgres::PostgresStore::connect(&db.url).await?);
                let pool = s.pool().clone();
                (s, None, Some(pool))
            }
        };
        let (app, _token) = pregon::bootstrap::create_app(&store, "bench")
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let account = store
            .create_account(app.id, &settings(), &Credentials::default())
            .await?;
        let (template, definition) = template()?;
        store
            .create_template(app.id, account.id, &template, &definition)
            .await?;
        let state = AppState::new(store.clone(), config(&db.url)).map_err(|e| anyhow!("{e}"))?;
        Ok(Fixture {
            store,
            sqlite,
            postgres,
            state,
            app: app.id,
            account,
            db,
        })
    }

    /// PostgreSQL: write dirty pages and recycle WAL before a timed section, so each measurement starts from the
    /// same state rather than paying for the previous one's checkpoint.
    async fn checkpoint(&self) {
        if let Some(pool) = &self.postgres
            && let Err(e) = sqlx::query("CHECKPOINT").execute(pool).await
        {
            eprintln!("  (CHECKPOINT refused: {e}; measuring without it)");
        }
    }

    async fn count_messages(&self, campaign: CampaignId) -> Result<u64> {
        let n: i64 = match (&self.sqlite, &self.postgres) {
            (Some(pool), _) => {
                sqlx::query_scalar("SELECT count(*) FROM messages WHERE campaign_id = $1")
                    .bind(campaign.0)
                    .fetch_one(pool)
                    .await?
            }
            (_, Some(pool)) => {
                sqlx::query_scalar("SELECT count(*) FROM messages WHERE campaign_id = $1")
                    .bind(campaign.0)
                    .fetch_one(pool)
                    .await?
            }
            _ => return Err(anyhow!("no pool")),
        };
        Ok(u64::try_from(n)?)
    }

    /// The pipeline options and template book the ingestion itself would use.
    async fn pipeline_inputs(&self) -> Result<(PipelineOptions, TemplateBook)> {
        let options = spec()
            .pipeline_options(&self.account, ingestion::limits(&self.state), 0)
            .map_err(|e| anyhow!("{e}"))?;
        let book = ingestion::template_book(&self.store, self.app, &self.account).await?;
        Ok((options, book))
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// A real ingestion, as the server runs it: upload stored with the campaign, claimed, ingested.
pub async fn ingest(backend: Backend, file: &Path, rows: u64) -> Result<Value> {
    let fx = Fixture::new(backend).await?;
    let new = new_campaign(fx.account.id, "bench")?;

    let started = Instant::now();
    let campaign = fx.store.create_campaign_with_upload(fx.app, &new, file).await?;
    let upload = started.elapsed();

    fx.checkpoint().await;
    let claim = fx
        .store
        .claim_ingestion("bench", Duration::from_secs(600))
        .await?
        .context("the campaign could not be claimed")?;
    let started = Instant::now();
    ingestion::ingest(&fx.state, claim).await?;
    let elapsed = started.elapsed();
    let rss = peak_rss_kib();

    let done = fx.store.get_campaign(fx.app, campaign.id).await?;
    if done.counts.rejected > 0 {
        let first = fx.store.list_rejections(fx.app, campaign.id, None, 3).await?;
        eprintln!("  first rejections: {first:?}");
    }
    ensure!(
        done.status == CampaignStatus::Scheduled,
        "the campaign is {} ({:?}), not scheduled",
        done.status.as_str(),
        done.failure_reason
    );
    ensure!(
        done.counts.accepted == rows && done.counts.rejected == 0,
        "{} rows accepted and {} rejected, expected {rows} accepted",
        done.counts.accepted,
        done.counts.rejected
    );
    let stored = fx.count_messages(campaign.id).await?;
    ensure!(stored == rows, "{stored} messages stored, expected {rows}");
    Ok(json!({
        "secs": secs(elapsed),
        "upload_secs": secs(upload),
        "rss_kib": rss,
        "accepted": done.counts.accepted,
    }))
}

/// The pipeline alone (read → row model → validation), batches dropped; or, with `read_only`, the reader alone.
pub async fn pipeline_only(file: &Path, rows: u64, read_only: bool) -> Result<Value> {
    let (template, _) = template()?;
    let account = Account {
        id: AccountId::new(),
        app_id: AppId::new(),
        settings: settings(),
        credentials: Credentials::default(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    };
    let limits = pregon_ingest::Limits {
        max_upload_bytes: MAX_UPLOAD_BYTES,
        max_expanded_bytes: MAX_UPLOAD_BYTES,
        ..Default::default()
    };
    let options = spec()
        .pipeline_options(&account, limits, 0)
        .map_err(|e| anyhow!("{e}"))?;
    let book = TemplateBook::new([template]);
    let file = file.to_owned();
    // On a blocking thread, as the ingestion runs it.
    let (elapsed, accepted) = tokio::task::spawn_blocking(move || -> Result<(Duration, u64)> {
        let started = Instant::now();
        if read_only {
            let table = source::open(&file, &options.open)?;
            let mut n = 0u64;
            for item in table.rows {
                if let ReadItem::Record(record) = item? {
                    std::hint::black_box(&record);
                    n += 1;
                }
            }
            return Ok((started.elapsed(), n));
        }
        let summary = pipeline::run(&file, book, HashSet::new(), &options, |batch| {
            std::hint::black_box(&batch);
            Ok::<(), std::convert::Infallible>(())
        })
        .map_err(|e| anyhow!("{e}"))?;
        Ok((started.elapsed(), summary.accepted))
    })
    .await??;
    ensure!(accepted == rows, "{accepted} rows accepted, expected {rows}");
    Ok(json!({ "secs": secs(elapsed), "rss_kib": peak_rss_kib(), "accepted": accepted }))
}

/// The clean rows of `file`: exactly the messages the ingestion would store, from the same pipeline.
async fn clean_rows(fx: &Fixture, file: &Path, mut each: impl FnMut(NewMessage) -> std::io::Result<()>) -> Result<u64> {
    let (options, book) = fx.pipeline_inputs().await?;
    let summary = pipeline::run(file, book, HashSet::new(), &options, |batch| {
        batch.messages.into_iter().try_for_each(&mut each)
    })
    .map_err(|e| anyhow!("{e}"))?;
    Ok(summary.accepted)
}

/// Microseconds, as the store writes timestamps.
fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

fn csv_text(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// PostgreSQL reference: `psql \copy` of the already-clean rows into `messages`, for a campaign of the same account
/// in a fresh database set up like the ingestion's (same schema, indexes and foreign keys, empty table).
pub async fn reference_postgres(file: &Path, rows: u64, work: &Path) -> Result<Value> {
    let fx = Fixture::new(Backend::Postgres).await?;
    let campaign = fx
        .store
        .create_campaign(fx.app, &new_campaign(fx.account.id, "bench-copy")?)
        .await?;

    let started = Instant::now();
    let clean: PathBuf = work.join(format!("clean-{}.csv", std::process::id()));
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&clean)?);
    let now = now_micros().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let fixed = format!("{},{},{}", fx.app, campaign.id, fx.account.id);
    let mut line = String::with_capacity(512);
    let n = clean_rows(&fx, file, |m| {
        line.clear();
        line.push_str(&m.id.to_string());
        line.push(',');
        line.push_str(&fixed);
        line.push(',');
        if let Some(row) = m.row_number {
            line.push_str(&row.to_string());
        }
        line.push(',');
        csv_text(&mut line, &m.phone);
        line.push(',');
        csv_text(&mut line, &m.template_name);
        line.push(',');
        csv_text(&mut line, &m.language);
        line.push(',');
        let params = serde_json::to_string(&m.params).map_err(std::io::Error::other)?;
        csv_text(&mut line, &params);
        line.push(',');
        if let Some(text) = &m.rendered_text {
            csv_text(&mut line, text);
        }
        line.push(',');
        if let Some(flag) = &m.flag {
            csv_text(&mut line, flag);
        }
        line.push(',');
        csv_text(&mut line, m.status.as_str());
        line.push(',');
        line.push_str(&now);
        line.push(',');
        line.push_str(&now);
        line.push('\n');
        out.write_all(line.as_bytes())
    })
    .await?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    let prepare = started.elapsed();
    ensure!(n == rows, "{n} clean rows, expected {rows}");
    let clean_bytes = std::fs::metadata(&clean)?.len();

    fx.checkpoint().await;
    let copy = format!(
        "\\copy messages({COLUMNS}) FROM '{}' WITH (FORMAT csv)",
        clean.display()
    );
    let started = Instant::now();
    let status = std::process::Command::new("psql")
        .arg(&fx.db.url)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", &copy])
        .status()
        .context("cannot run psql")?;
    let elapsed = started.elapsed();
    std::fs::remove_file(&clean)?;
    ensure!(status.success(), "psql \\copy failed: {status}");
    let stored = fx.count_messages(campaign.id).await?;
    ensure!(stored == rows, "{stored} rows copied, expected {rows}");
    Ok(json!({
        "secs": secs(elapsed),
        "prepare_secs": secs(prepare),
        "clean_bytes": clean_bytes,
        "rss_kib": peak_rss_kib(),
        "accepted": stored,
    }))
}

/// SQLite reference: a bare multi-row `INSERT` of the already-clean rows (held in memory beforehand) through sqlx,
/// 1,000 rows per statement and one transaction per 5,000 rows like the ingestion, into `messages` of a fresh
/// database set up like the ingestion's.
pub async fn reference_sqlite(file: &Path, rows: u64) -> Result<Value> {
    let fx = Fixture::new(Backend::Sqlite).await?;
    let pool = fx.sqlite.clone().context("no SQLite pool")?;
    let campaign = fx
        .store
        .create_campaign(fx.app, &new_campaign(fx.account.id, "bench-insert")?)
        .await?;

    let started = Instant::now();
    let mut messages = Vec::with_capacity(usize::try_from(rows)?);
    clean_rows(&fx, file, |m| {
        messages.push(m);
        Ok(())
    })
    .await?;
    let prepare = started.elapsed();
    ensure!(
        messages.len() as u64 == rows,
        "{} clean rows, expected {rows}",
        messages.len()
    );

    let (app, campaign_id, account) = (fx.app.0, campaign.id.0, fx.account.id.0);
    let now = now_micros();
    let started = Instant::now();
    for batch in messages.chunks(TX_ROWS) {
        let mut tx = pool.begin().await?;
        for chunk in batch.chunks(STATEMENT_ROWS) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!("INSERT INTO messages ({COLUMNS}) "));
            q.push_values(chunk, |mut b, m| {
                b.push_bind(m.id.0)
                    .push_bind(app)
                    .push_bind(campaign_id)
                    .push_bind(account)
                    .push_bind(m.row_number.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
                    .push_bind(m.phone.as_str())
                    .push_bind(m.template_name.as_str())
                    .push_bind(m.language.as_str())
                    .push_bind(sqlx::types::Json(&m.params))
                    .push_bind(m.rendered_text.as_deref())
                    .push_bind(m.flag.as_deref())
                    .push_bind(m.status.as_str())
                    .push_bind(now)
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    let elapsed = started.elapsed();
    let stored = fx.count_messages(campaign.id).await?;
    ensure!(stored == rows, "{stored} rows inserted, expected {rows}");
    let version: String = sqlx::query_scalar("SELECT sqlite_version()").fetch_one(&pool).await?;
    Ok(json!({
        "secs": secs(elapsed),
        "prepare_secs": secs(prepare),
        "rss_kib": peak_rss_kib(),
        "accepted": stored,
        "sqlite_version": version,
    }))
}
