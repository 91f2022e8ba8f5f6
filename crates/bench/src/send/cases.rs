//! The measured cases: Pregon sending a campaign (the server's ingestion and dispatcher, in this process), and the
//! bare-client reference.

use crate::Args;
use crate::inputs;
use crate::lag::Lag;
use anyhow::{Context, Result, anyhow, bail, ensure};
use chrono::{DateTime, Utc};
use pregon::config::Config;
use pregon::ingestion::{self, IngestSpec};
use pregon::state::AppState;
use pregon_core::account::{AccountSettings, Credentials};
use pregon_core::campaign::NewCampaign;
use pregon_core::template::Template;
use pregon_core::{CampaignStatus, ProviderKind};
use pregon_mock_provider::MockProvider;
use pregon_store::testing::TestDatabase;
use pregon_store::{Backend, DynStore};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The account's phone-number id and token (the mock takes any).
const SENDER: &str = "106540352242922";
const TOKEN: &str = "bench-token";
/// Larger than any benchmark file.
const MAX_UPLOAD_BYTES: u64 = 4_000_000_000;

/// What the senders said when they stopped (`requests`, `late`, `forced`), gathered from their log events.
static SENDERS: Mutex<Vec<(u64, u64, u64)>> = Mutex::new(Vec::new());

/// Pregon's warnings on stderr, and the senders' `sender stopped` events into [`SENDERS`].
pub fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer};

    struct Stopped;
    #[derive(Default)]
    struct Fields {
        stopped: bool,
        requests: u64,
        late: u64,
        forced: u64,
    }
    impl tracing::field::Visit for Fields {
        fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
            match field.name() {
                "requests" => self.requests = value,
                "late" => self.late = value,
                "forced" => self.forced = value,
                _ => {}
            }
        }
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" && format!("{value:?}") == "sender stopped" {
                self.stopped = true;
            }
        }
    }
    impl<S: tracing::Subscriber> Layer<S> for Stopped {
        fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            let mut fields = Fields::default();
            event.record(&mut fields);
            if fields.stopped {
                SENDERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((
                    fields.requests,
                    fields.late,
                    fields.forced,
                ));
            }
        }
    }
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(EnvFilter::try_from_env("BENCH_LOG").unwrap_or_else(|_| EnvFilter::new("warn")));
    let stopped = Stopped.with_filter(EnvFilter::new("pregon::dispatch::sender=info"));
    let _ = tracing_subscriber::registry().with(stderr).with(stopped).try_init();
}

fn template() -> Result<(Template, Value)> {
    let definition: Value = serde_json::from_str(inputs::TEMPLATE)?;
    let template = Template::from_meta(&definition).map_err(|e| anyhow!("the bench template: {e}"))?;
    Ok((template, definition))
}

/// The body Pregon's Meta adapter builds for row `i` of the benchmark file.
fn body(rows: &inputs::Rows, i: u64) -> Value {
    let row = rows.row(i);
    let params: Vec<Value> = row.params.iter().map(|p| json!({"type": "text", "text": p})).collect();
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": format!("+{}", row.digits),
        "type": "template",
        "biz_opaque_callback_data": uuid::Uuid::now_v7().to_string(),
        "template": {
            "name": "bench_update",
            "language": {"code": "en", "policy": "deterministic"},
            "components": [{"type": "body", "parameters": params}],
        },
    })
}

/// The slot spacing Pregon uses for `rate` (its default margin).
fn spacing(rate: u32) -> Duration {
    let margin = pregon::dispatch::SendingConfig::default().rate_margin;
    Duration::from_secs_f64((1.0 + margin) / f64::from(rate.max(1)))
}

/// The reference: a bare reqwest client (built like Pregon's) sends the same requests to the same mock, each at its
/// slot (the same spacing as Pregon's), at most `concurrency` in flight, and reads each answer.
pub async fn reference(mock: &MockProvider, args: &Args) -> Result<Value> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .pool_max_idle_per_host(1024)
        .build()?;
    let url = mock.messages_url("v23.0", SENDER);
    let rows = inputs::Rows::new();
    let spacing = spacing(args.rate);
    let permits = Arc::new(Semaphore::new(args.concurrency as usize));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    let scheduled_at = Utc::now() + chrono::Duration::milliseconds(200);
    let t0 = tokio::time::Instant::now() + Duration::from_millis(200);
    let mut late = 0u64;
    let lag = Lag::start();
    for i in 0..args.messages {
        let slot = t0 + spacing * u32::try_from(i)?;
        tokio::time::sleep_until(slot).await;
        let permit = permits.clone().acquire_owned().await?;
        if tokio::time::Instant::now() > slot + Duration::from_millis(5) {
            late += 1;
        }
        let request = client
            .post(&url)
            .bearer_auth(TOKEN)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body(&rows, i));
        let tx = tx.clone();
        tokio::spawn(async move {
            let ok = match request.send().await {
                Ok(r) if r.status().is_success() => r
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["messages"][0]["id"].is_string()),
                _ => false,
            };
            drop(permit);
            let _ = tx.send(ok);
        });
    }
    drop(tx);
    let (mut ok, mut failed) = (0u64, 0u64);
    while let Some(answer) = rx.recv().await {
        if answer {
            ok += 1;
        } else {
            failed += 1;
        }
    }
    let done = Utc::now();
    Ok(json!({
        "scheduled_at": scheduled_at,
        "finished_at": done,
        "statuses": {"sent": ok, "failed": failed},
        "late": late,
        "timer_lag": lag.finish().await,
    }))
}

/// A fresh database of `backend` and its pool, for the checks.
async fn open(backend: Backend, db: &TestDatabase) -> Result<(DynStore, Pool)> {
    Ok(match backend {
        Backend::Sqlite => {
            let s = Arc::new(pregon_store::sqlite::SqliteStore::connect(&db.url).await?);
            let pool = s.pool().clone();
            (s, Pool::Sqlite(pool))
        }
        Backend::Postgres => {
            let s = Arc::new(pregon_store::postgres::PostgresStore::connect(&db.url).await?);
            let pool = s.pool().clone();
            (s, Pool::Postgres(pool))
        }
    })
}

enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    async fn reschedule(&self, campaign: uuid::Uuid, at: DateTime<Utc>) -> Result<()> {
        const SQL: &str = "UPDATE campaigns SET scheduled_at = $1 WHERE id = $2 AND status = 'scheduled'";
        let n = match self {
            Pool::Sqlite(p) => sqlx::query(SQL)
                .bind(at)
                .bind(campaign)
                .execute(p)
                .await?
                .rows_affected(),
            Pool::Postgres(p) => sqlx::query(SQL)
                .bind(at)
                .bind(campaign)
                .execute(p)
                .await?
                .rows_affected(),
        };
        ensure!(n == 1, "the campaign is not scheduled");
        Ok(())
    }

    async fn statuses(&self, campaign: uuid::Uuid) -> Result<BTreeMap<String, i64>> {
        const SQL: &str = "SELECT status, count(*) FROM messages WHERE campaign_id = $1 GROUP BY status";
        let rows: Vec<(String, i64)> = match self {
            Pool::Sqlite(p) => sqlx::query_as(SQL).bind(campaign).fetch_all(p).await?,
            Pool::Postgres(p) => sqlx::query_as(SQL).bind(campaign).fetch_all(p).await?,
        };
        Ok(rows.into_iter().collect())
    }

    /// Write the ingestion's pages out before the timed part (PostgreSQL `CHECKPOINT`; SQLite a WAL checkpoint,
    /// which the first write of the sender would otherwise pay for, with a stall of tens of milliseconds).
    async fn checkpoint(&self) {
        let done = match self {
            Pool::Postgres(p) => sqlx::query("CHECKPOINT").execute(p).await.map(|_| ()),
            Pool::Sqlite(p) => sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(p)
                .await
                .map(|_| ()),
        };
        if let Err(e) = done {
            eprintln!("  (checkpoint refused: {e}; measuring without it)");
        }
    }
}

/// Pregon: the campaign file ingested by the server's ingestion, scheduled `lead` ahead, sent by the server's
/// dispatcher in this process until the campaign is `completed`.
pub async fn pregon(backend: Backend, mock: &MockProvider, args: &Args, csv: &Path) -> Result<Value> {
    let db = TestDatabase::new(backend).await;
    let (store, pool) = open(backend, &db).await?;
    let (app, _) = pregon::bootstrap::create_app(&store, "bench")
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let settings = AccountSettings {
        name: "bench".into(),
        provider: ProviderKind::Meta,
        sender: SENDER.into(),
        rate_per_second: args.rate,
        concurrency: args.concurrency,
        daily_cap: None,
        base_url: Some(mock.url()),
        default_language: Some("en".into()),
        default_region: None,
    };
    let credentials = Credentials::new(BTreeMap::from([("access_token".to_owned(), TOKEN.to_owned())]));
    let account = store.create_account(app.id, &settings, &credentials).await?;
    let (template, definition) = template()?;
    store
        .create_template(app.id, account.id, &template, &definition)
        .await?;
    let config = Config {
        database_url: db.url.clone(),
        max_upload_bytes: MAX_UPLOAD_BYTES,
        max_expanded_bytes: MAX_UPLOAD_BYTES,
        demo: false,
        send: true,
        // The mock provider listens on 127.0.0.1.
        fetch_allow_private: true,
        ..Config::default()
    };
    let state = AppState::new(store.clone(), config).map_err(|e| anyhow!("{e}"))?;

    // The campaign, ingested as the server would (not timed), and far in the future until it is ready.
    let new = NewCampaign {
        account_id: account.id,
        name: "bench-send".into(),
        options: serde_json::to_value(IngestSpec {
            model: ingestion::CHAT_TONIC.into(),
            sheet: Some("campaign".into()),
            ..Default::default()
        })?,
        scheduled_at: Some(Utc::now() + chrono::Duration::days(1)),
        ..Default::default()
    };
    let campaign = store.create_campaign_with_upload(app.id, &new, csv).await?;
    let claim = store
        .claim_ingestion("bench", Duration::from_secs(600))
        .await?
        .context("the campaign could not be claimed for ingestion")?;
    let t = Instant::now();
    ingestion::ingest(&state, claim).await?;
    let ingest_secs = t.elapsed().as_secs_f64();
    let ready = store.get_campaign(app.id, campaign.id).await?;
    ensure!(
        ready.status == CampaignStatus::Scheduled && ready.counts.accepted == args.messages,
        "after ingestion the campaign is {} with {} accepted rows",
        ready.status.as_str(),
        ready.counts.accepted
    );
    pool.checkpoint().await;

    // Timed: from `scheduled_at` until every message has its status.
    SENDERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clear();
    let lead = chrono::Duration::milliseconds((args.lead_secs * 1000.0) as i64);
    let scheduled_at = micros(Utc::now() + lead);
    pool.reschedule(campaign.id.0, scheduled_at).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = pregon::spawn_workers(state.clone(), stopped);
    let lag = Lag::start();
    let limit = Duration::from_secs_f64(args.lead_secs + 5.0 * args.messages as f64 / f64::from(args.rate) + 60.0);
    let started = Instant::now();
    let done = loop {
        let c = store.get_campaign(app.id, campaign.id).await?;
        match c.status {
            CampaignStatus::Completed => break c,
            CampaignStatus::Scheduled | CampaignStatus::Running => {}
            other => bail!("the campaign is {} ({:?})", other.as_str(), c.pause_reason),
        }
        if started.elapsed() > limit {
            bail!("the campaign is not completed after {limit:?}: {:?}", c.counts);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let timer_lag = lag.finish().await;
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), workers).await;
    let statuses = pool.statuses(campaign.id.0).await?;
    let (requests, late, forced) = SENDERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .fold((0, 0, 0), |(r, l, f), (r2, l2, f2)| (r + r2, l + l2, f + f2));
    Ok(json!({
        "scheduled_at": scheduled_at,
        "started_at": done.started_at,
        "finished_at": done.finished_at,
        "statuses": statuses,
        "counters": {"sent": done.counts.sent, "failed": done.counts.failed, "pending": done.counts.pending,
                     "queued": done.counts.queued, "sending": done.counts.sending},
        "ingest_secs": ingest_secs,
        "requests": requests,
        "late": late,
        "forced_late": forced,
        "timer_lag": timer_lag,
    }))
}

/// `t` at microseconds, as both backends store it.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}
