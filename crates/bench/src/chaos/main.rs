//! `just chaos`: faults during a running campaign on PostgreSQL, then a verdict on "nothing lost, nothing sent twice".
//!
//! Real `pregon serve` processes (the release binary) share one fresh PostgreSQL database: `--workers` senders and one
//! API process that never sends (it takes the upload and the mock's status webhooks, and is never killed). A campaign
//! of `--messages` recipients goes to the mock Meta Cloud API (`pregon-mock-provider`, in this process, signing its
//! status webhooks) while this tool:
//!
//! - SIGKILLs a random sender `--kills` times at random moments, starting it again a moment later;
//! - restarts PostgreSQL once, half-way (`pg_ctlcluster … restart`; skipped, and said so, where that is not possible);
//! - makes the mock answer 429 (`Retry-After: 1`) and 5xx in bursts, and drop connections throughout.
//!
//! At the end it checks, from the database and the mock: every message in exactly one terminal state (none pending,
//! queued or sending), the mock saw no recipient twice, every message marked sent was seen by the mock, and the
//! campaign's counters equal a recount of its rows. With `--calm` it injects nothing and reports throughput instead
//! (the "3 workers sharing one campaign" scale run of `just bench`). Writes `target/bench/{chaos,workers}.{md,json}`.

#[path = "../lag.rs"]
mod lag;
#[path = "../machine.rs"]
mod machine;

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use pregon_mock_provider::{MockConfig, MockProvider, StatusKind, WebhookConfig};
use pregon_store::Backend;
use pregon_store::testing::TestDatabase;
use rand::Rng;
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A template without parameters: the file only needs phones.
const TEMPLATE: &str = r#"{"name":"pregon_ping","language":"en","status":"APPROVED","category":"UTILITY",
    "components":[{"type":"BODY","text":"Your order is on its way."}]}"#;
const APP_SECRET: &str = "chaos-app-secret";

/// The command line.
#[derive(Parser, Debug)]
#[command(about = "Fault injection during a running campaign on PostgreSQL, with a verdict (docs/reliability.md)")]
struct Args {
    /// Recipients in the campaign.
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
    /// Sending processes.
    #[arg(long, default_value_t = 3)]
    workers: usize,
    /// SIGKILLs of a random sender during the campaign.
    #[arg(long, default_value_t = 10)]
    kills: usize,
    /// The account's rate, messages per second.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// The account's concurrency cap (per process).
    #[arg(long, default_value_t = 200)]
    concurrency: u32,
    /// The mock's answer latency, milliseconds.
    #[arg(long, default_value_t = 100)]
    latency_ms: u64,
    /// Do not restart PostgreSQL.
    #[arg(long)]
    no_postgres_restart: bool,
    /// Inject nothing: measure the workers sharing the campaign instead.
    #[arg(long)]
    calm: bool,
    /// The `pregon` binary [default: next to this one].
    #[arg(long)]
    pregon: Option<PathBuf>,
    /// Keep the processes' logs (JSON lines) after a passing run too, and say where.
    #[arg(long)]
    keep_logs: bool,
    /// Where the reports go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
}

/// A `pregon serve` child process, killed and reaped when dropped.
struct Process {
    name: String,
    child: Child,
    base: String,
    log: PathBuf,
}

struct Launcher {
    binary: PathBuf,
    database_url: String,
    dir: PathBuf,
}

impl Launcher {
    fn spawn(&self, name: &str, send: bool) -> Result<Process> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = self.dir.join(format!("{name}.log"));
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log)?;
        let mut command = Command::new(&self.binary);
        command.arg("serve");
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PREGON_") || key == "DATABASE_URL" {
                command.env_remove(key);
            }
        }
        command
            .env("PREGON_DATABASE_URL", &self.database_url)
            .env("PREGON_LISTEN", format!("127.0.0.1:{port}"))
            .env("PREGON_DEMO", "false")
            .env("PREGON_SEND", if send { "true" } else { "false" })
            // The mock provider listens on 127.0.0.1.
            .env("PREGON_FETCH_ALLOW_PRIVATE", "true")
            .env("PREGON_LOG", "info")
            .env("PREGON_LOG_FORMAT", "json")
            // A killed sender's claimed messages come back after 5 s; its in-flight ones settle by webhook or end
            // `outcome_unknown` 10 s later, so a run ends in minutes, not the production defaults' half hour.
            .env("PREGON_SENDER_DEAD_SECS", "5")
            .env("PREGON_UNKNOWN_OUTCOME_SECS", "10")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        Ok(Process {
            name: name.to_owned(),
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        })
    }
}

impl Process {
    async fn wait_ready(&mut self, client: &reqwest::Client) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited ({status}) before it was ready; log: {}",
                    self.name,
                    self.log.display()
                );
            }
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            ensure!(
                started.elapsed() < Duration::from_secs(60),
                "{} not ready after 60 s",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then up to 15 s for a graceful stop (its senders log what they sent late), then SIGKILL.
    async fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..150 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One line of the verdict.
struct Check {
    what: &'static str,
    ok: bool,
    detail: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    pregon::install_crypto_provider();
    let binary = match &args.pregon {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("pregon"),
    };
    ensure!(
        binary.exists(),
        "{} is missing: build it first (`cargo build --release -p pregon`)",
        binary.display()
    );
    let machine = machine::Machine::read();
    eprintln!("{}", machine.describe());
    let db = TestDatabase::new(Backend::Postgres).await;
    let store = db.store().await?;
    let (_, token) = pregon::bootstrap::create_app(&store, "chaos").await?;
    drop(store);
    let dir = tempfile::tempdir()?;
    let launcher = Launcher {
        binary,
        database_url: db.url.clone(),
        dir: dir.path().to_owned(),
    };
    let client = reqwest::Client::new();

    let mut api = launcher.spawn("api", false)?;
    api.wait_ready(&client).await?;
    let mut workers = Vec::new();
    for i in 0..args.workers {
        let mut w = launcher.spawn(&format!("worker-{i}"), true)?;
        w.wait_ready(&client).await?;
        workers.push(w);
    }

    let mock = MockProvider::start(MockConfig {
        latency: Duration::from_millis(args.latency_ms),
        record_bodies: false,
        expected_requests: args.messages * 2,
        drop_connection_ratio: if args.calm { 0.0 } else { 0.002 },
        transient_ratio: if args.calm { 0.0 } else { 0.005 },
        ..MockConfig::default()
    })
    .await;
    // The instrument's own health: a stalled runtime here stamps whatever reached the mock's socket meanwhile at once.
    let mock_lag = lag::Lag::start();
    let call = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{}{path}", api.base))
            .bearer_auth(&token)
    };
    let account: Value = call(reqwest::Method::POST, "/v1/accounts")
        .json(&json!({
            "name": "meta", "provider": "meta", "sender": "106540352242922",
            "credentials": {"access_token": "chaos-token", "app_secret": APP_SECRET},
            "rate_per_second": args.rate, "concurrency": args.concurrency, "base_url": mock.url(),
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let account = account["id"].as_str().context("account id")?.to_owned();
    call(reqwest::Method::POST, &format!("/v1/accounts/{account}/templates"))
        .json(&serde_json::from_str::<Value>(TEMPLATE)?)
        .send()
        .await?
        .error_for_status()?;
    // The calm run measures the senders: one status per message is enough to end each one, where the chaos run
    // needs every status (and their reconciling of messages in flight at a kill).
    let mut webhook = WebhookConfig::new(format!("{}/webhooks/meta/{account}", api.base), APP_SECRET);
    if args.calm {
        webhook.statuses = vec![StatusKind::Delivered];
    }
    mock.set_webhook(Some(webhook));

    let mut csv = String::from("phone\n");
    for i in 0..args.messages {
        let _ = writeln!(csv, "+34600{i:06}");
    }
    let form = reqwest::multipart::Form::new()
        .text("account", account.clone())
        .text("template", "pregon_ping")
        .text("language", "en")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("recipients.csv"),
        );
    let created: Value = call(reqwest::Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let campaign = created["id"].as_str().context("campaign id")?.to_owned();
    eprintln!(
        "campaign {campaign}: {} messages at {}/s, {} workers{}",
        args.messages,
        args.rate,
        args.workers,
        if args.calm { " (calm)" } else { "" }
    );

    // The faults, at random moments of the expected sending time.
    let expected = Duration::from_secs_f64(args.messages as f64 / f64::from(args.rate));
    let mut rng = rand::rng();
    let mut kills: Vec<Duration> = if args.calm {
        Vec::new()
    } else {
        (0..args.kills)
            .map(|_| expected.mul_f64(rng.random_range(0.05..0.9)))
            .collect()
    };
    kills.sort();
    let restart_at = (!args.calm && !args.no_postgres_restart).then(|| expected.mul_f64(0.5));
    let burst_every = expected / 6;

    let started = loop {
        if mock.accepted_count() > 0 {
            break Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut log: Vec<String> = Vec::new();
    let mut next_kill = 0;
    let mut restarted: Option<String> = None;
    let mut next_burst = burst_every;
    let mut burst_end: Option<Duration> = None;
    let mut crashed = 0;
    let deadline = expected * 3 + Duration::from_secs(180);
    let counts = loop {
        let t = started.elapsed();
        if next_kill < kills.len() && t >= kills[next_kill] {
            let i = rng.random_range(0..workers.len());
            workers[i].kill();
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..2000))).await;
            let mut w = launcher.spawn(&format!("worker-{i}"), true)?;
            w.wait_ready(&client).await?;
            workers[i] = w;
            log.push(format!(
                "{:.1} s: SIGKILL worker-{i} ({} accepted at the mock), restarted",
                t.as_secs_f64(),
                mock.accepted_count()
            ));
            next_kill += 1;
        }
        if let Some(at) = restart_at
            && restarted.is_none()
            && t >= at
        {
            let outcome = restart_postgres();
            log.push(format!("{:.1} s: PostgreSQL restart: {outcome}", t.as_secs_f64()));
            restarted = Some(outcome);
        }
        if !args.calm && t >= next_burst {
            mock.set_throttle_bursts(200);
            mock.set_transient_ratio(0.3);
            burst_end = Some(t + Duration::from_secs(2));
            log.push(format!("{:.1} s: 200 × 429, then 2 s of 30 % 5xx", t.as_secs_f64()));
            next_burst += burst_every;
        }
        if burst_end.is_some_and(|end| t >= end) {
            mock.set_transient_ratio(0.005);
            burst_end = None;
        }
        for (i, w) in workers.iter_mut().enumerate() {
            if let Ok(Some(status)) = w.child.try_wait() {
                crashed += 1;
                log.push(format!(
                    "{:.1} s: worker-{i} exited by itself ({status}), restarted",
                    t.as_secs_f64()
                ));
                *w = launcher.spawn(&format!("worker-{i}"), true)?;
                w.wait_ready(&client).await?;
            }
        }
        if let Ok(Some(status)) = api.child.try_wait() {
            crashed += 1;
            log.push(format!(
                "{:.1} s: api exited by itself ({status}), restarted",
                t.as_secs_f64()
            ));
            api = launcher.spawn("api", false)?;
            api.wait_ready(&client).await?;
        }
        if let Ok(counts) = status_counts(&db.url, &campaign).await
            && counts
                .keys()
                .all(|s| !["pending", "queued", "sending"].contains(&s.as_str()))
            && next_kill >= kills.len()
        {
            break counts;
        }
        if t > deadline {
            break status_counts(&db.url, &campaign).await.unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let elapsed = started.elapsed();
    // Status webhooks still on their way settle `sent` messages further; give them a moment.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for w in &mut workers {
        w.stop().await;
    }
    let senders = sender_reports(workers.iter().map(|w| w.log.as_path()));

    let verdict = verdict(&db.url, &campaign, &mock, args.messages).await?;
    let stats = mock.stats();
    let per_second = per_second(&mock);
    let counts = status_counts(&db.url, &campaign).await.unwrap_or(counts);
    let report = json!({
        "mode": if args.calm { "calm" } else { "chaos" },
        "machine": machine.json(),
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "messages": args.messages, "workers": args.workers, "rate": args.rate, "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "seconds_to_settle": elapsed.as_secs_f64(),
        "mock": {"requests": stats.requests, "accepted": stats.accepted, "unique_recipients": stats.unique_recipients,
                 "duplicates": stats.duplicates, "max_per_second_window": stats.max_per_second_window,
                 "mean_per_second": stats.mean_per_second, "by_outcome": stats.by_outcome,
                 "per_second": per_second, "runtime_lag": mock_lag.finish().await},
        "senders": senders,
        "statuses": counts,
        "faults": log,
        "workers_crashed_by_themselves": crashed,
        "verdict": verdict.iter().map(|c| json!({"check": c.what, "ok": c.ok, "detail": c.detail})).collect::<Vec<_>>(),
        "passed": verdict.iter().all(|c| c.ok),
    });
    let name = if args.calm { "workers" } else { "chaos" };
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(
        args.out.join(format!("{name}.json")),
        serde_json::to_string_pretty(&report)?,
    )?;
    let md = markdown(&report, &machine.describe());
    std::fs::write(args.out.join(format!("{name}.md")), &md)?;
    println!("{md}");
    let passed = report["passed"] == true;
    if !passed || args.keep_logs {
        for p in [&api].into_iter().chain(workers.iter()) {
            eprintln!("log of {}: {}", p.name, p.log.display());
        }
        let kept = dir.keep();
        eprintln!("logs kept in {}", kept.display());
    }
    ensure!(passed, "the verdict failed");
    Ok(())
}

/// Arrivals at the mock in each whole second from the first one.
fn per_second(mock: &MockProvider) -> Vec<usize> {
    let received = mock.received();
    let Some(first) = received.iter().map(|r| r.at).min() else {
        return Vec::new();
    };
    let mut counts = Vec::new();
    for r in &received {
        let second = r.at.duration_since(first).as_secs() as usize;
        if counts.len() <= second {
            counts.resize(second + 1, 0);
        }
        counts[second] += 1;
    }
    counts
}

/// What each sender said as it stopped (`sender stopped`: requests, late re-slots, forced late sends), summed per
/// process from its JSON log; a process killed before it could say so reports nothing.
fn sender_reports<'a>(logs: impl Iterator<Item = &'a std::path::Path>) -> Vec<Value> {
    logs.map(|path| {
        let (mut requests, mut late, mut forced, mut stopped) = (0, 0, 0, 0);
        for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
            let Ok(event) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            // `PREGON_LOG_FORMAT=json` flattens an event's fields into the line.
            let fields = if event["fields"].is_object() {
                &event["fields"]
            } else {
                &event
            };
            if fields["message"] == "sender stopped" {
                stopped += 1;
                requests += fields["requests"].as_u64().unwrap_or(0);
                late += fields["late"].as_u64().unwrap_or(0);
                forced += fields["forced"].as_u64().unwrap_or(0);
            }
        }
        json!({"log": path.file_name().map(|n| n.to_string_lossy().into_owned()), "senders_stopped": stopped,
               "requests": requests, "late_reslots": late, "forced_late": forced})
    })
    .collect()
}

/// Restart the local PostgreSQL cluster with Debian's `pg_ctlcluster` (as root, or through sudo).
fn restart_postgres() -> String {
    let Some(version) = std::fs::read_dir("/etc/postgresql").ok().and_then(|d| {
        d.filter_map(|e| e.ok()?.file_name().into_string().ok())
            .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
    }) else {
        return "skipped (no /etc/postgresql: not a Debian cluster this tool can restart)".into();
    };
    let started = Instant::now();
    let as_root = std::env::var("USER").is_ok_and(|u| u == "root")
        || Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let mut command = if as_root {
        Command::new("pg_ctlcluster")
    } else {
        Command::new("sudo")
    };
    if !as_root {
        command.arg("pg_ctlcluster");
    }
    let out = command
        .args(["--skip-systemctl-redirect", &version, "main", "restart", "-m", "fast"])
        .output();
    match out {
        Ok(o) if o.status.success() => format!(
            "done in {:.1} s (cluster {version}/main)",
            started.elapsed().as_secs_f64()
        ),
        Ok(o) => format!("failed: {}", String::from_utf8_lossy(&o.stderr).trim()),
        Err(e) => format!("failed: {e}"),
    }
}

async fn connect(url: &str) -> Result<sqlx::PgPool> {
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?)
}

/// Messages of the campaign per status, recounted from the rows.
async fn status_counts(url: &str, campaign: &str) -> Result<BTreeMap<String, i64>> {
    let pool = connect(url).await?;
    let rows = sqlx::query("SELECT status, COUNT(*) FROM messages WHERE campaign_id = $1::uuid GROUP BY status")
        .bind(campaign)
        .fetch_all(&pool)
        .await?;
    pool.close().await;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect())
}

async fn verdict(url: &str, campaign: &str, mock: &MockProvider, n: usize) -> Result<Vec<Check>> {
    let recount = status_counts(url, campaign).await?;
    let pool = connect(url).await?;
    let total: i64 = recount.values().sum();
    let unsettled: i64 = ["pending", "queued", "sending"]
        .iter()
        .filter_map(|s| recount.get(*s))
        .sum();
    let mut checks = vec![
        Check {
            what: "every row is a message",
            ok: total == n as i64,
            detail: format!("{total} messages for {n} rows"),
        },
        Check {
            what: "every message in exactly one terminal state",
            ok: unsettled == 0,
            detail: format!("{unsettled} pending, queued or sending; {recount:?}"),
        },
    ];
    let duplicates = mock.duplicates();
    checks.push(Check {
        what: "the mock saw no recipient twice",
        ok: duplicates.is_empty(),
        detail: format!(
            "{} recipients more than once{}",
            duplicates.len(),
            duplicates
                .first()
                .map(|(r, k)| format!(", e.g. {r} × {k}"))
                .unwrap_or_default()
        ),
    });
    let seen: HashSet<String> = mock.count_by_recipient().into_keys().collect();
    let sent: Vec<String> = sqlx::query_scalar(
        "SELECT phone FROM messages WHERE campaign_id = $1::uuid AND status IN ('sent', 'delivered', 'read')",
    )
    .bind(campaign)
    .fetch_all(&pool)
    .await?;
    let phantom = sent
        .iter()
        .filter(|p| !seen.contains(p.trim_start_matches('+')))
        .count();
    checks.push(Check {
        what: "every message marked sent reached the mock",
        ok: phantom == 0,
        detail: format!("{} sent, {phantom} of them never seen by the mock", sent.len()),
    });
    let row = sqlx::query(
        "SELECT n_pending, n_queued, n_sending, n_sent, n_delivered, n_read, n_failed, n_cancelled, n_suppressed \
         FROM campaigns WHERE id = $1::uuid",
    )
    .bind(campaign)
    .fetch_one(&pool)
    .await?;
    let names = [
        "pending",
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
        "failed",
        "cancelled",
        "suppressed",
    ];
    let mut mismatched = Vec::new();
    for (i, status) in names.iter().enumerate() {
        let counter: i64 = row.try_get(i).unwrap_or(-1);
        let rows = recount.get(*status).copied().unwrap_or(0);
        if counter != rows {
            mismatched.push(format!("{status}: counter {counter}, rows {rows}"));
        }
    }
    checks.push(Check {
        what: "the campaign's counters equal a recount of its rows",
        ok: mismatched.is_empty(),
        detail: if mismatched.is_empty() {
            "all nine agree".into()
        } else {
            mismatched.join("; ")
        },
    });
    let unknown: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE campaign_id = $1::uuid AND error_code = 'outcome_unknown'",
    )
    .bind(campaign)
    .fetch_one(&pool)
    .await?;
    checks.push(Check {
        what: "(information) in flight at a kill, never settled: failed as outcome_unknown",
        ok: true,
        detail: format!("{unknown}"),
    });
    pool.close().await;
    Ok(checks)
}

fn markdown(report: &Value, machine: &str) -> String {
    let mut md = String::new();
    let chaos = report["mode"] == "chaos";
    let _ = writeln!(
        md,
        "## {}\n",
        if chaos {
            "Chaos run"
        } else {
            "Workers sharing one campaign (calm)"
        }
    );
    let _ = writeln!(md, "Command: `{}`\n", report["command"].as_str().unwrap_or(""));
    let _ = writeln!(md, "```text\n{machine}\n```\n");
    let _ = writeln!(
        md,
        "{} messages, {} workers, account rate {}/s (concurrency {} per process), mock latency {} ms; settled in \
         {:.1} s. Mock: {} requests, {} accepted, {:.1} msg/s mean, at most {} in any 1-s window.\n",
        report["messages"],
        report["workers"],
        report["rate"],
        report["concurrency"],
        report["latency_ms"],
        report["seconds_to_settle"].as_f64().unwrap_or(0.0),
        report["mock"]["requests"],
        report["mock"]["accepted"],
        report["mock"]["mean_per_second"].as_f64().unwrap_or(0.0),
        report["mock"]["max_per_second_window"],
    );
    let mut seconds: Vec<u64> = report["mock"]["per_second"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    if !seconds.is_empty() {
        let near_rate = seconds
            .iter()
            .filter(|n| **n as f64 >= 0.95 * report["rate"].as_f64().unwrap_or(f64::MAX))
            .count();
        let total = seconds.len();
        seconds.sort_unstable();
        let at = |q: f64| seconds[((total as f64 * q) as usize).min(total - 1)];
        let lag = &report["mock"]["runtime_lag"];
        let _ = writeln!(
            md,
            "Arrivals per whole second at the mock: p10 {}, median {}, p90 {}; {near_rate} of {total} seconds at 95 % \
             of the rate or more. The mock's runtime woke late by {} ms at p99, {} ms at most.\n",
            at(0.1),
            at(0.5),
            at(0.9),
            lag["p99_ms"],
            lag["max_ms"],
        );
    }
    let senders = report["senders"].as_array().map(Vec::as_slice).unwrap_or_default();
    if !senders.is_empty() {
        let sum = |k: &str| senders.iter().filter_map(|s| s[k].as_u64()).sum::<u64>();
        let _ = writeln!(
            md,
            "Senders at their graceful stop: {} requests, {} re-slotted for missing their slot, {} sent late anyway.\n",
            sum("requests"),
            sum("late_reslots"),
            sum("forced_late"),
        );
    }
    if chaos {
        let _ = writeln!(md, "Faults:\n");
        for f in report["faults"].as_array().into_iter().flatten() {
            let _ = writeln!(md, "- {}", f.as_str().unwrap_or(""));
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "| check | verdict | detail |\n| --- | --- | --- |");
    for c in report["verdict"].as_array().into_iter().flatten() {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            c["check"].as_str().unwrap_or(""),
            if c["ok"] == true { "pass" } else { "**FAIL**" },
            c["detail"].as_str().unwrap_or("").replace('|', "\\|"),
        );
    }
    let _ = writeln!(md, "\nStatuses: `{}`", report["statuses"]);
    md
}
