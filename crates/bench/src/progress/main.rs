//! `bench-progress`: how fast Pregon reports a huge campaign's progress, and how fast it applies provider status
//! webhooks, on PostgreSQL.
//!
//! A fresh PostgreSQL database (`PREGON_TEST_POSTGRES_URL`) gets an app, a Meta account (with `app_secret`) and a
//! campaign through the store API, then `--messages` (10,000,000) messages loaded by `COPY messages … FROM STDIN`
//! (rows generated here: UUIDv7 ids, distinct phones, statuses spread like a running campaign: the last 10 % still
//! `pending`, the rest `sent`/`delivered`/`read` and 2 % `failed`; `provider_message_id` `wamid.<n>` for the sent
//! ones) and the campaign's counters set to match. The secondary indexes of `messages` are dropped before the COPY
//! and rebuilt from their own definitions after it (the bulk-load practice; the schema ends up identical), then
//! `VACUUM (ANALYZE) messages` does what autovacuum would after such an insert.
//!
//! Pregon then runs in this process (its own runtime, `config.send = false`) on a random port, and this measures:
//! `GET /v1/campaigns/{id}` (the progress endpoint) at concurrency 8 and sequentially; `GET
//! /v1/campaigns/{id}/messages?limit=100&cursor=…` with cursors deep in the campaign (keyset pagination); and the
//! ingestion of signed Meta status webhooks (`sent` → `delivered`, 100 statuses per body, several posters),
//! checked against the answers' `applied`, the campaign's counters and the rows.
//!
//! It prints a Markdown table and writes it to `target/bench/progress.md`, with `target/bench/progress.json`.
//!
//! ```sh
//! just bench-progress                       # = env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-progress
//! just bench-progress --messages 200000     # a quick run
//! ```
//!
//! A measurement to read, never a timed test.

use anyhow::{Context, Result, anyhow, bail, ensure};
use chrono::{DateTime, Utc};
use clap::Parser;
use futures::StreamExt;
use pregon::config::Config;
use pregon::state::AppState;
use pregon_core::ProviderKind;
use pregon_core::account::{AccountSettings, Credentials};
use pregon_core::campaign::NewCampaign;
use pregon_store::testing::TestDatabase;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The progress endpoint's p99 target, milliseconds.
const TARGET_P99_MS: f64 = 50.0;
/// The Meta account's phone-number id.
const SENDER: &str = "106540352242922";
/// The Meta account's app secret: webhooks are signed with it.
const APP_SECRET: &str = "bench-app-secret";
/// Bytes of COPY data per chunk.
const CHUNK: usize = 1 << 20;

#[derive(Parser)]
#[command(about = "Measure the progress endpoint's latency on a huge PostgreSQL campaign, and webhook ingestion")]
/// The command line.
pub struct Args {
    /// Messages in the campaign.
    #[arg(long, default_value_t = 10_000_000)]
    pub messages: u64,
    /// Timed requests per latency case (after `--warmup`).
    #[arg(long, default_value_t = 2_000)]
    pub requests: usize,
    /// Untimed requests before each latency case.
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
    /// Requests in flight in the concurrent cases.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Timed requests per message-page case.
    #[arg(long, default_value_t = 500)]
    pub page_requests: usize,
    /// Status events posted (each moves one `sent` message to `delivered`).
    #[arg(long, default_value_t = 20_000)]
    pub webhook_events: usize,
    /// Statuses per webhook body.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Webhook bodies in flight.
    #[arg(long, default_value_t = 4)]
    pub posters: usize,
    /// Where the Markdown and JSON reports go [default: <target dir>/bench].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.messages >= 1_000, "--messages must be at least 1,000");
    ensure!(
        args.batch > 0 && args.posters > 0 && args.concurrency > 0,
        "batch, posters and concurrency must be > 0"
    );
    pregon::install_crypto_provider();
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BENCH_LOG").unwrap_or_else(|_| "warn".into()))
        .try_init();
    let out_dir = match &args.out {
        Some(dir) => dir.clone(),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
            .join("bench"),
    };
    std::fs::create_dir_all(&out_dir)?;
    let started = Instant::now();

    // The client side (loading, requests) on this thread; Pregon on a runtime of its own, like `pregon serve`.
    let client_rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("pregon")
        .enable_all()
        .build()?;
    let db = client_rt.block_on(TestDatabase::new(pregon_store::Backend::Postgres));
    let result = run(&args, &db, &client_rt, &server_rt);
    drop(server_rt);
    drop(db);
    let mut report = result?;
    report["total_secs"] = json!(started.elapsed().as_secs_f64());
    let markdown = markdown(&report);
    println!("{markdown}");
    std::fs::write(out_dir.join("progress.md"), &markdown)?;
    std::fs::write(out_dir.join("progress.json"), serde_json::to_string_pretty(&report)?)?;
    eprintln!(
        "written: {}/progress.md and progress.json (database dropped)",
        out_dir.display()
    );
    Ok(())
}

/// Everything but the report files; the database is dropped by the caller.
fn run(
    args: &Args,
    db: &TestDatabase,
    client_rt: &tokio::runtime::Runtime,
    server_rt: &tokio::runtime::Runtime,
) -> Result<Value> {
    let machine = client_rt.block_on(machine(&db.url))?;
    eprintln!("machine: {}", machine_line(&machine));

    // The app, the account and the campaign through the store API (its migrations run here).
    let store = server_rt.block_on(pregon_store::connect(&db.url))?;
    let (app, token) = server_rt
        .block_on(pregon::bootstrap::create_app(&store, "bench"))
        .map_err(|e| anyhow!("{e}"))?;
    let settings = AccountSettings {
        name: "bench-meta".into(),
        provider: ProviderKind::Meta,
        sender: SENDER.into(),
        rate_per_second: 1_000,
        concurrency: 400,
        daily_cap: None,
        base_url: None,
        default_language: Some("en".into()),
        default_region: None,
    };
    let credentials = Credentials::new(BTreeMap::from([
        ("access_token".to_owned(), "bench-token".to_owned()),
        ("app_secret".to_owned(), APP_SECRET.to_owned()),
    ]));
    let account = server_rt.block_on(store.create_account(app.id, &settings, &credentials))?;
    let started_at = Utc::now() - chrono::Duration::hours(3);
    let new = NewCampaign {
        account_id: account.id,
        name: "bench-progress".into(),
        template_name: Some("bench_update".into()),
        language: Some("en".into()),
        scheduled_at: Some(started_at),
        options: json!({}),
        ..Default::default()
    };
    let campaign = server_rt.block_on(store.create_campaign(app.id, &new))?;
    let ids = Ids {
        app: app.id.0,
        account: account.id.0,
        campaign: campaign.id.0,
    };

    // The load.
    let plan = Plan::new(args.messages, started_at);
    let load = client_rt.block_on(load(&db.url, &plan, &ids))?;
    let counts = plan.counts();

    // Pregon, on a random port, sending off.
    let config = Config {
        database_url: db.url.clone(),
        demo: false,
        send: false,
        ..Config::default()
    };
    let state = AppState::new(store.clone(), config).map_err(|e| anyhow!("{e}"))?;
    let listener = server_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = {
        let _guard = server_rt.enter();
        pregon::spawn_workers(state.clone(), stopped)
    };
    let serving = state.clone();
    let server = server_rt.spawn(async move {
        let _ = pregon::http::serve(listener, serving, async {
            let _ = rx.await;
        })
        .await;
        let _ = stop.send(true);
    });
    eprintln!("Pregon at {base} (send off)");

    let measured = client_rt.block_on(measure(args, &base, &token, &ids, &plan, &counts, &db.url));
    let _ = tx.send(());
    let _ = server_rt.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        tokio::time::timeout(Duration::from_secs(10), workers).await
    });
    let measured = measured?;
    Ok(json!({
        "command": command(),
        "machine": machine,
        "messages": args.messages,
        "counts": counts,
        "load": load,
        "target_p99_ms": TARGET_P99_MS,
        "latency": measured["latency"],
        "webhooks": measured["webhooks"],
        "plans": measured["plans"],
    }))
}

fn command() -> String {
    format!(
        "just bench-progress  # = env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-progress{}",
        std::env::args().skip(1).map(|a| format!(" {a}")).collect::<String>()
    )
}

/// The rows' owners.
#[derive(Clone, Copy)]
struct Ids {
    app: uuid::Uuid,
    account: uuid::Uuid,
    campaign: uuid::Uuid,
}

/// What row `i` is: a pure function of `i`, so the benchmark finds any row's id, phone and status again.
#[derive(Clone, Copy)]
struct Plan {
    n: u64,
    /// Rows from here on are still `pending`.
    pending_from: u64,
    /// Milliseconds since the epoch of the first id.
    base_ms: u64,
    started_at: DateTime<Utc>,
}

/// A message's status in the loaded campaign.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::Read => "read",
            Status::Failed => "failed",
        }
    }
}

/// SplitMix64: a fast, well-mixed hash of `i`.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Plan {
    fn new(n: u64, started_at: DateTime<Utc>) -> Plan {
        Plan {
            n,
            pending_from: n - n / 10,
            base_ms: u64::try_from(started_at.timestamp_millis()).unwrap_or(0) - 3_600_000,
            started_at,
        }
    }

    /// UUIDv7 of row `i`: one millisecond per row, so ids sort as rows do.
    fn id(&self, i: u64) -> uuid::Uuid {
        let r = mix(i).to_be_bytes();
        let s = mix(i ^ 0x5555).to_be_bytes();
        let bytes = [r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], s[0], s[1]];
        uuid::Builder::from_unix_timestamp_millis(self.base_ms + i, &bytes).into_uuid()
    }

    /// Distinct Brazilian mobile numbers.
    fn phone_digits(i: u64) -> String {
        format!("55119{:08}", i)
    }

    fn status(&self, i: u64) -> Status {
        if i >= self.pending_from {
            return Status::Pending;
        }
        match mix(i ^ 0xA5A5_A5A5) % 1000 {
            0..20 => Status::Failed,
            20..250 => Status::Sent,
            250..650 => Status::Delivered,
            _ => Status::Read,
        }
    }

    fn counts(&self) -> Value {
        let mut c = BTreeMap::<&str, u64>::new();
        for i in 0..self.n {
            *c.entry(self.status(i).as_str()).or_default() += 1;
        }
        json!(c)
    }

    /// When row `i` was sent: the campaign sends 1,000 a second from `started_at`.
    fn sent_second(&self, i: u64) -> i64 {
        self.started_at.timestamp() + i64::try_from(i / 1000).unwrap_or(0)
    }
}

/// A COPY text timestamp at whole second `s`.
fn stamp(s: i64) -> String {
    DateTime::from_timestamp(s, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S+00")
        .to_string()
}

/// The COPY text of rows `from..to`, in chunks of about [`CHUNK`] bytes, sent to `out`.
fn generate(plan: &Plan, ids: &Ids, out: &tokio::sync::mpsc::Sender<Vec<u8>>) -> Result<()> {
    let created = stamp(plan.started_at.timestamp() - 3_600);
    let fixed = format!("\t{}\t{}\t{}\t", ids.app, ids.campaign, ids.account);
    let mut buf = String::with_capacity(CHUNK + 4096);
    let (mut second, mut sent_at) = (i64::MIN, String::new());
    for i in 0..plan.n {
        let status = plan.status(i);
        let s = plan.sent_second(i);
        if s != second {
            second = s;
            sent_at = stamp(s);
        }
        let digits = Plan::phone_digits(i);
        let _ = write!(buf, "{}{fixed}{}\t+{digits}\tbench_update\ten\t", plan.id(i), i + 1);
        let _ = write!(
            buf,
            "{{\"body\": [\"Cliente {i}\", \"{}\"]}}\t{}\t",
            i % 997,
            status.as_str()
        );
        let sent = matches!(status, Status::Sent | Status::Delivered | Status::Read);
        if sent {
            let _ = write!(buf, "wamid.{i}\t1\t");
        } else if status == Status::Failed {
            buf.push_str("\\N\t1\t");
        } else {
            buf.push_str("\\N\t0\t");
        }
        // created_at, updated_at
        buf.push_str(&created);
        buf.push('\t');
        buf.push_str(if status == Status::Pending { &created } else { &sent_at });
        // sent_at, delivered_at, read_at, failed_at
        for on in [
            sent,
            matches!(status, Status::Delivered | Status::Read),
            status == Status::Read,
            status == Status::Failed,
        ] {
            buf.push('\t');
            buf.push_str(if on { &sent_at } else { "\\N" });
        }
        // error_code, error_message, failure_kind
        if status == Status::Failed {
            buf.push_str("\t131026\tMessage undeliverable\tpermanent\n");
        } else {
            buf.push_str("\t\\N\t\\N\t\\N\n");
        }
        if buf.len() >= CHUNK {
            out.blocking_send(std::mem::take(&mut buf).into_bytes())
                .map_err(|_| anyhow!("the COPY stopped"))?;
            buf.reserve(CHUNK + 4096);
        }
    }
    if !buf.is_empty() {
        out.blocking_send(buf.into_bytes())
            .map_err(|_| anyhow!("the COPY stopped"))?;
    }
    Ok(())
}

/// Drop the secondary indexes of `messages`, COPY the rows, rebuild the indexes from their own definitions, VACUUM
/// (ANALYZE), set the campaign's counters and status, CHECKPOINT; returns the timings.
async fn load(url: &str, plan: &Plan, ids: &Ids) -> Result<Value> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query("SET maintenance_work_mem = '1GB'")
        .execute(&mut conn)
        .await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
         AND tablename = 'messages' AND indexname <> 'messages_pkey' ORDER BY indexname",
    )
    .fetch_all(&mut conn)
    .await?;
    for (name, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
            .execute(&mut conn)
            .await?;
    }
    eprintln!(
        "loading {} messages by COPY (secondary indexes dropped: {})",
        plan.n,
        indexes.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
    );

    let t = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let generator = {
        let (plan, ids) = (*plan, *ids);
        std::thread::spawn(move || generate(&plan, &ids, &tx))
    };
    let mut copy = conn
        .copy_in_raw(
            "COPY messages (id, app_id, campaign_id, account_id, row_number, phone, template_name, language, params, \
             status, provider_message_id, attempts, created_at, updated_at, sent_at, delivered_at, read_at, \
             failed_at, error_code, error_message, failure_kind) FROM STDIN",
        )
        .await?;
    let mut bytes = 0u64;
    while let Some(chunk) = rx.recv().await {
        bytes += chunk.len() as u64;
        copy.send(chunk.as_slice()).await?;
    }
    generator.join().map_err(|_| anyhow!("the row generator panicked"))??;
    let copied = copy.finish().await?;
    ensure!(copied == plan.n, "COPY stored {copied} rows, not {}", plan.n);
    let copy_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "  COPY: {copied} rows ({:.0} MB) in {copy_secs:.1} s ({:.0} rows/s)",
        bytes as f64 / 1e6,
        copied as f64 / copy_secs
    );

    let t = Instant::now();
    let mut index_secs = BTreeMap::new();
    for (name, def) in &indexes {
        let ti = Instant::now();
        sqlx::query(sqlx::AssertSqlSafe(def.clone())).execute(&mut conn).await?;
        index_secs.insert(name.clone(), ti.elapsed().as_secs_f64());
    }
    let indexes_secs = t.elapsed().as_secs_f64();
    eprintln!("  indexes rebuilt in {indexes_secs:.1} s");
    let t = Instant::now();
    sqlx::query("VACUUM (ANALYZE) messages").execute(&mut conn).await?;
    let vacuum_secs = t.elapsed().as_secs_f64();
    eprintln!("  VACUUM (ANALYZE) in {vacuum_secs:.1} s");

    let counts = plan.counts();
    let n = |s: &str| i64::try_from(counts[s].as_u64().unwrap_or(0)).unwrap_or(i64::MAX);
    let total = i64::try_from(plan.n)?;
    let updated = sqlx::query(
        "UPDATE campaigns SET status = 'running', started_at = $2, updated_at = now(), n_rows = $3, n_accepted = $3, \
         ingested_rows = $3, n_pending = $4, n_sent = $5, n_delivered = $6, n_read = $7, n_failed = $8 WHERE id = $1",
    )
    .bind(ids.campaign)
    .bind(plan.started_at)
    .bind(total)
    .bind(n("pending"))
    .bind(n("sent"))
    .bind(n("delivered"))
    .bind(n("read"))
    .bind(n("failed"))
    .execute(&mut conn)
    .await?
    .rows_affected();
    ensure!(updated == 1, "the campaign's counters were not set");
    let t = Instant::now();
    if let Err(e) = sqlx::query("CHECKPOINT").execute(&mut conn).await {
        eprintln!("  (CHECKPOINT refused: {e})");
    }
    let checkpoint_secs = t.elapsed().as_secs_f64();
    let size: (i64, i64) = sqlx::query_as("SELECT pg_table_size('messages'), pg_indexes_size('messages')")
        .fetch_one(&mut conn)
        .await?;
    Ok(json!({
        "rows": plan.n,
        "copy_bytes": bytes,
        "copy_secs": copy_secs,
        "copy_rows_per_sec": plan.n as f64 / copy_secs,
        "indexes_secs": indexes_secs,
        "index_secs": index_secs,
        "vacuum_analyze_secs": vacuum_secs,
        "checkpoint_secs": checkpoint_secs,
        "total_secs": copy_secs + indexes_secs + vacuum_secs + checkpoint_secs,
        "table_mb": size.0 as f64 / 1e6,
        "indexes_mb": size.1 as f64 / 1e6,
    }))
}

/// The machine: CPU, cores, RAM, kernel; PostgreSQL's version and `shared_buffers`.
async fn machine(url: &str) -> Result<Value> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("?".into(), |(_, v)| v.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let mut conn = PgConnection::connect(url).await?;
    let version: String = sqlx::query_scalar("SELECT version()").fetch_one(&mut conn).await?;
    let mut settings = BTreeMap::new();
    for name in [
        "shared_buffers",
        "work_mem",
        "effective_cache_size",
        "max_wal_size",
        "random_page_cost",
    ] {
        let v: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SHOW {name}")))
            .fetch_one(&mut conn)
            .await?;
        settings.insert(name, v);
    }
    Ok(json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
        "ram_gb": ram_kib * 1024.0 / 1e9,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "postgres": version,
        "postgres_settings": settings,
    }))
}

fn machine_line(m: &Value) -> String {
    format!(
        "{} cores ({}), {:.1} GB RAM, Linux {}; {}; shared_buffers {}",
        m["cores"],
        m["cpu"].as_str().unwrap_or("?"),
        m["ram_gb"].as_f64().unwrap_or(0.0),
        m["kernel"].as_str().unwrap_or("?"),
        m["postgres"]
            .as_str()
            .unwrap_or("?")
            .split(" on ")
            .next()
            .unwrap_or("?"),
        m["postgres_settings"]["shared_buffers"].as_str().unwrap_or("?"),
    )
}

/// Busy and steal CPU seconds of the whole machine since boot (`/proc/stat`), and the 1-minute load.
fn cpu_now() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let get = |i: usize| fields.get(i).copied().unwrap_or(0.0) / 100.0;
    // user nice system idle iowait irq softirq steal
    (get(0) + get(1) + get(2) + get(5) + get(6), get(7))
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// The machine's CPU use during a case: busy cores (of all), steal, and the 1-minute load before it.
struct Noise {
    busy: f64,
    steal: f64,
    load: f64,
    t: Instant,
}

impl Noise {
    fn start() -> Noise {
        let (busy, steal) = cpu_now();
        Noise {
            busy,
            steal,
            load: load_average(),
            t: Instant::now(),
        }
    }

    fn finish(self) -> Value {
        let (busy, steal) = cpu_now();
        let secs = self.t.elapsed().as_secs_f64().max(1e-3);
        json!({
            "busy_cores": (busy - self.busy) / secs,
            "steal_cores": (steal - self.steal) / secs,
            "load1_before": self.load,
        })
    }
}

/// Latencies in milliseconds, sorted: exact percentiles (nearest rank).
fn summary(mut ms: Vec<f64>, wall: f64) -> Value {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let rank = ((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len().max(1));
        ms.get(rank - 1).copied().unwrap_or(0.0)
    };
    json!({
        "requests": ms.len(),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": ms.last().copied().unwrap_or(0.0),
        "mean_ms": ms.iter().sum::<f64>() / ms.len().max(1) as f64,
        "requests_per_sec": ms.len() as f64 / wall,
        "wall_secs": wall,
    })
}

/// GET every URL (at most `concurrency` in flight), checking each answers 200 and reading its body; the latencies.
async fn timed_gets(client: &reqwest::Client, token: &str, urls: &[String], concurrency: usize) -> Result<Vec<f64>> {
    let answers: Vec<Result<f64>> = futures::stream::iter(urls.iter().cloned())
        .map(|url| async move {
            let t = Instant::now();
            let r = client.get(&url).bearer_auth(token).send().await?;
            let status = r.status();
            let body = r.bytes().await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            ensure!(status == 200, "{url}: {status}: {}", String::from_utf8_lossy(&body));
            Ok(ms)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    answers.into_iter().collect()
}

/// One latency case: warm-up, then the timed requests; its summary with the machine's noise.
async fn case(
    client: &reqwest::Client,
    token: &str,
    label: &str,
    url: &dyn Fn(usize) -> String,
    warmup: usize,
    requests: usize,
    concurrency: usize,
) -> Result<Value> {
    let warm: Vec<String> = (0..warmup).map(|k| url(requests + k)).collect();
    timed_gets(client, token, &warm, concurrency).await?;
    let urls: Vec<String> = (0..requests).map(url).collect();
    let noise = Noise::start();
    let t = Instant::now();
    let ms = timed_gets(client, token, &urls, concurrency).await?;
    let wall = t.elapsed().as_secs_f64();
    let mut s = summary(ms, wall);
    s["case"] = json!(label);
    s["concurrency"] = json!(concurrency);
    s["noise"] = noise.finish();
    eprintln!(
        "  {label}, concurrency {concurrency}: p50 {:.2} ms, p95 {:.2}, p99 {:.2}, max {:.2}; {:.0} req/s",
        s["p50_ms"].as_f64().unwrap_or(0.0),
        s["p95_ms"].as_f64().unwrap_or(0.0),
        s["p99_ms"].as_f64().unwrap_or(0.0),
        s["max_ms"].as_f64().unwrap_or(0.0),
        s["requests_per_sec"].as_f64().unwrap_or(0.0),
    );
    Ok(s)
}

/// The latency cases, the webhook case and the query plans.
async fn measure(
    args: &Args,
    base: &str,
    token: &str,
    ids: &Ids,
    plan: &Plan,
    counts: &Value,
    url: &str,
) -> Result<Value> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()?;
    let campaign = ids.campaign;

    // The progress endpoint shows the loaded counters.
    let shown: Value = client
        .get(format!("{base}/v1/campaigns/{campaign}"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    for s in ["pending", "sent", "delivered", "read", "failed"] {
        ensure!(
            shown["counts"][s] == counts[s],
            "the campaign shows {s} = {}, the load made {}",
            shown["counts"][s],
            counts[s]
        );
    }
    ensure!(shown["status"] == "running", "the campaign is {}", shown["status"]);

    let mut latency = Vec::new();
    let progress = |_: usize| format!("{base}/v1/campaigns/{campaign}");
    eprintln!("GET /v1/campaigns/{{id}} (progress)");
    for c in [args.concurrency, 1] {
        latency.push(
            case(
                &client,
                token,
                "progress: GET /v1/campaigns/{id}",
                &progress,
                args.warmup,
                args.requests,
                c,
            )
            .await?,
        );
    }
    // Cursors spread over the second half of the campaign (the sent part and the pending tail).
    let n = plan.n;
    let deep = |k: usize| {
        let i = n / 2 + mix(k as u64 ^ 0xC0FFEE) % (n / 2 - 200);
        format!(
            "{base}/v1/campaigns/{campaign}/messages?limit=100&cursor={}",
            plan.id(i)
        )
    };
    let deep_status = |k: usize| {
        let i = n / 2 + mix(k as u64 ^ 0xBEEF) % (n / 2 - 200);
        format!(
            "{base}/v1/campaigns/{campaign}/messages?limit=100&status=delivered&cursor={}",
            plan.id(i)
        )
    };
    eprintln!("GET /v1/campaigns/{{id}}/messages?limit=100&cursor=… (keyset pages deep in the campaign)");
    for c in [args.concurrency, 1] {
        latency.push(
            case(
                &client,
                token,
                "report page: GET …/messages?limit=100&cursor=<deep>",
                &deep,
                args.warmup.min(100),
                args.page_requests,
                c,
            )
            .await?,
        );
    }
    latency.push(
        case(
            &client,
            token,
            "report page: GET …/messages?limit=100&status=delivered&cursor=<deep>",
            &deep_status,
            args.warmup.min(100),
            args.page_requests,
            args.concurrency,
        )
        .await?,
    );
    // A page really is the next 100 rows.
    let page: Value = client
        .get(deep(0))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let first = n / 2 + mix(0xC0FFEE) % (n / 2 - 200) + 1;
    ensure!(
        page["data"].as_array().map(Vec::len) == Some(100) && page["data"][0]["id"] == json!(plan.id(first)),
        "a deep page does not start at row {first}"
    );

    let webhooks = webhooks(args, base, ids, plan, &client, token, url).await?;
    let plans = explain(url, ids, plan).await?;
    Ok(json!({ "latency": latency, "webhooks": webhooks, "plans": plans }))
}

/// The Meta status webhook body moving rows `rows` to `delivered`.
fn webhook_body(rows: &[u64], at: i64) -> Vec<u8> {
    let statuses: Vec<Value> = rows
        .iter()
        .map(|&i| {
            json!({
                "id": format!("wamid.{i}"),
                "status": "delivered",
                "timestamp": at.to_string(),
                "recipient_id": Plan::phone_digits(i),
                "conversation": {"id": format!("conv-{i}"), "origin": {"type": "marketing"}},
                "pricing": {"billable": true, "pricing_model": "PMP", "type": "regular", "category": "marketing"},
            })
        })
        .collect();
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": SENDER},
            "statuses": statuses,
        }}]}],
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Signed Meta status webhooks moving `sent` messages to `delivered`, `posters` bodies in flight; events/s applied,
/// checked against the answers, the campaign's counters and the rows.
async fn webhooks(
    args: &Args,
    base: &str,
    ids: &Ids,
    plan: &Plan,
    client: &reqwest::Client,
    token: &str,
    url: &str,
) -> Result<Value> {
    let rows: Vec<u64> = (0..plan.n)
        .filter(|&i| plan.status(i) == Status::Sent)
        .take(args.webhook_events)
        .collect();
    ensure!(rows.len() == args.webhook_events, "only {} sent messages", rows.len());
    let at = Utc::now().timestamp();
    let bodies: Vec<(Vec<u8>, String, usize)> = rows
        .chunks(args.batch)
        .map(|chunk| {
            let body = webhook_body(chunk, at);
            let signature = format!("sha256={}", pregon_mock_provider::sign(APP_SECRET, &body));
            (body, signature, chunk.len())
        })
        .collect();
    let hook = format!("{base}/webhooks/meta/{}", ids.account);
    let get_counts = || async {
        let c: Value = client
            .get(format!("{base}/v1/campaigns/{}", ids.campaign))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        anyhow::Ok(c["counts"].clone())
    };
    let before = get_counts().await?;
    eprintln!(
        "webhooks: {} status events in {} signed bodies of {}, {} in flight",
        rows.len(),
        bodies.len(),
        args.batch,
        args.posters
    );
    let noise = Noise::start();
    let t = Instant::now();
    let answers: Vec<Result<(f64, u64, usize)>> = futures::stream::iter(bodies)
        .map(|(body, signature, len)| {
            let url = hook.clone();
            async move {
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", signature)
                    .body(body)
                    .send()
                    .await?;
                let status = r.status();
                let text = r.text().await?;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                ensure!(status == 200, "webhook answered {status}: {text}");
                let v: Value = serde_json::from_str(&text)?;
                Ok((ms, v["applied"].as_u64().unwrap_or(0), len))
            }
        })
        .buffer_unordered(args.posters)
        .collect()
        .await;
    let wall = t.elapsed().as_secs_f64();
    let noise = noise.finish();
    let mut ms = Vec::new();
    let (mut applied, mut posted) = (0u64, 0usize);
    for a in answers {
        let (m, ap, len) = a?;
        ms.push(m);
        applied += ap;
        posted += len;
    }
    let after = get_counts().await?;
    let delta = |s: &str| after[s].as_i64().unwrap_or(0) - before[s].as_i64().unwrap_or(0);
    // The rows themselves.
    let mut conn = PgConnection::connect(url).await?;
    let wamids: Vec<String> = rows.iter().map(|i| format!("wamid.{i}")).collect();
    let delivered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE account_id = $1 AND provider_message_id = ANY($2) \
         AND status = 'delivered' AND delivered_at IS NOT NULL",
    )
    .bind(ids.account)
    .bind(&wamids)
    .fetch_one(&mut conn)
    .await?;
    let events = rows.len() as u64;
    let counters_ok = delta("sent") == -(events as i64) && delta("delivered") == events as i64;
    let rows_ok = u64::try_from(delivered).unwrap_or(0) == events;
    let mut requests = summary(ms, wall);
    requests["noise"] = noise;
    let result = json!({
        "events": posted,
        "bodies": requests["requests"],
        "batch": args.batch,
        "posters": args.posters,
        "applied": applied,
        "wall_secs": wall,
        "events_per_sec": applied as f64 / wall,
        "request_latency": requests,
        "counter_delta": {"sent": delta("sent"), "delivered": delta("delivered")},
        "counters_match": counters_ok,
        "rows_delivered": delivered,
    });
    eprintln!(
        "  {applied} of {posted} applied in {wall:.2} s: {:.0} events/s; counters sent {:+}, delivered {:+}",
        applied as f64 / wall,
        delta("sent"),
        delta("delivered")
    );
    if applied != events || !counters_ok || !rows_ok {
        bail!(
            "webhooks: {applied} applied of {events}; counters moved sent {:+}, delivered {:+}; {delivered} rows delivered",
            delta("sent"),
            delta("delivered")
        );
    }
    Ok(result)
}

/// EXPLAIN (ANALYZE, BUFFERS) of the queries behind the two endpoints, as the store runs them.
async fn explain(url: &str, ids: &Ids, plan: &Plan) -> Result<Value> {
    let mut conn = PgConnection::connect(url).await.context("connecting for EXPLAIN")?;
    let cursor = plan.id(plan.n * 9 / 10);
    let mut out = BTreeMap::new();
    let queries: [(&str, &str, bool); 4] = [
        (
            "campaign",
            "SELECT * FROM campaigns WHERE app_id = $1 AND id = $2",
            false,
        ),
        (
            "send_rate",
            "SELECT CAST(SUM(sent) AS BIGINT) FROM campaign_sends WHERE campaign_id = $2 AND second >= 0 AND second < 1 AND $1::uuid IS NOT NULL",
            false,
        ),
        (
            "messages_page",
            "SELECT * FROM messages WHERE app_id = $1 AND (campaign_id, id) > ($2, $3) AND campaign_id <= $2 \
             ORDER BY campaign_id, id LIMIT 100",
            true,
        ),
        (
            "messages_page_by_status",
            "SELECT * FROM messages WHERE app_id = $1 AND campaign_id = $2 AND (status, id) > ('delivered', $3) \
             AND status <= 'delivered' ORDER BY campaign_id, status, id LIMIT 100",
            true,
        ),
    ];
    // A cursor in the pending tail and one in the sent part, where a status's rows are spread out.
    let in_sent_part = plan.id(plan.n * 6 / 10);
    for (name, sql, with_cursor) in queries {
        for (suffix, at) in [("", cursor), ("_in_sent_part", in_sent_part)] {
            if !with_cursor && !suffix.is_empty() {
                continue;
            }
            let explain = format!("EXPLAIN (ANALYZE, BUFFERS) {sql}");
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(explain))
                .bind(ids.app)
                .bind(ids.campaign);
            if with_cursor {
                q = q.bind(at);
            }
            let lines: Vec<String> = q.fetch_all(&mut conn).await?;
            out.insert(format!("{name}{suffix}"), lines.join("\n"));
        }
    }
    Ok(json!(out))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (k, c) in s.chars().enumerate() {
        if k > 0 && (s.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The Markdown report.
fn markdown(r: &Value) -> String {
    let mut md = String::new();
    let m = &r["machine"];
    let _ = writeln!(md, "# bench-progress\n");
    let _ = writeln!(md, "`{}`\n", r["command"].as_str().unwrap_or(""));
    let _ = writeln!(md, "Machine: {}.\n", machine_line(m));
    let load = &r["load"];
    let _ = writeln!(
        md,
        "Load: {} messages ({}) by `COPY … FROM STDIN` in {:.1} s ({:.0} rows/s, {:.0} MB of COPY text), secondary \
         indexes rebuilt in {:.1} s, `VACUUM (ANALYZE)` {:.1} s, `CHECKPOINT` {:.1} s: {:.1} s in all. Table {:.0} MB, \
         indexes {:.0} MB.\n",
        thousands(r["messages"].as_u64().unwrap_or(0)),
        r["counts"],
        f(&load["copy_secs"]),
        f(&load["copy_rows_per_sec"]),
        f(&load["copy_bytes"]) / 1e6,
        f(&load["indexes_secs"]),
        f(&load["vacuum_analyze_secs"]),
        f(&load["checkpoint_secs"]),
        f(&load["total_secs"]),
        f(&load["table_mb"]),
        f(&load["indexes_mb"]),
    );
    let _ = writeln!(
        md,
        "| case | concurrency | requests | p50 ms | p95 ms | p99 ms | max ms | req/s | machine busy (cores) | p99 < {} ms? |",
        TARGET_P99_MS
    );
    let _ = writeln!(md, "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    for c in r["latency"].as_array().into_iter().flatten() {
        let p99 = f(&c["p99_ms"]);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.2} | {} |",
            c["case"].as_str().unwrap_or(""),
            c["concurrency"],
            thousands(c["requests"].as_u64().unwrap_or(0)),
            f(&c["p50_ms"]),
            f(&c["p95_ms"]),
            p99,
            f(&c["max_ms"]),
            f(&c["requests_per_sec"]),
            f(&c["noise"]["busy_cores"]),
            if p99 < TARGET_P99_MS { "yes" } else { "**no**" },
        );
    }
    let w = &r["webhooks"];
    let l = &w["request_latency"];
    let _ = writeln!(
        md,
        "\nWebhooks: {} `sent` → `delivered` status events in {} signed Meta bodies of {} ({} in flight): {} applied in \
         {:.2} s = **{:.0} events/s**; per body p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; campaign counters moved \
         sent {}, delivered {} (match: {}); machine busy {:.2} cores.",
        thousands(w["events"].as_u64().unwrap_or(0)),
        w["bodies"],
        w["batch"],
        w["posters"],
        thousands(w["applied"].as_u64().unwrap_or(0)),
        f(&w["wall_secs"]),
        f(&w["events_per_sec"]),
        f(&l["p50_ms"]),
        f(&l["p99_ms"]),
        f(&l["max_ms"]),
        w["counter_delta"]["sent"],
        w["counter_delta"]["delivered"],
        w["counters_match"],
        f(&l["noise"]["busy_cores"]),
    );
    let _ = writeln!(md, "\nTotal {:.0} s.", f(&r["total_secs"]));
    md
}
