//! `bench-send`: how fast and how exactly Pregon sends one account's campaign through the mock Meta Cloud API.
//!
//! One Meta account at `--rate` (1,000 msg/s) with `--concurrency` (400) requests in flight, against
//! `pregon-mock-provider` answering after `--latency-ms` (200 ms); a campaign of `--messages` (100,000) rows ingested
//! by the server's own ingestion, then scheduled `--lead-secs` (2 s) ahead and sent by the server's dispatcher
//! (`pregon::spawn_workers`, exactly as `pregon serve` runs it), in this process, on the embedded default (SQLite) and
//! on PostgreSQL. It reports the sustained rate at the mock, the most messages in any one-second window, the delay
//! from `scheduled_at` to the first message, when every status was written, and the statuses in the database.
//!
//! The reference, same run, same mock: a bare `reqwest` client sending the same 100,000 requests (the same body
//! Pregon builds) with the same concurrency and the same slot pacing — what the machine allows without Pregon.
//!
//! It prints a Markdown table and writes it to `target/bench/send.md`, with `target/bench/send.json`.
//!
//! ```sh
//! just bench-send      # = env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-send
//! ```
//!
//! A measurement to read, never a timed test.

#[allow(dead_code)]
#[path = "../inputs.rs"]
mod inputs;
#[path = "../lag.rs"]
mod lag;
#[path = "../machine.rs"]
mod machine;
#[path = "../noise.rs"]
mod noise;

mod cases;
mod report;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use pregon_mock_provider::{MockConfig, MockProvider};
use pregon_store::Backend;
use report::{Case, Report};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    about = "Measure sending (msg/s, rate accuracy, start delay) through the mock Meta API on SQLite and PostgreSQL"
)]
/// The command line.
pub struct Args {
    /// Messages in the campaign.
    #[arg(long, default_value_t = 100_000)]
    pub messages: u64,
    /// The account's `rate_per_second`.
    #[arg(long, default_value_t = 1_000)]
    pub rate: u32,
    /// The account's `concurrency` (requests in flight).
    #[arg(long, default_value_t = 400)]
    pub concurrency: u32,
    /// The mock's answer delay, in milliseconds.
    #[arg(long, default_value_t = 200)]
    pub latency_ms: u64,
    /// The campaign is scheduled this many seconds after it is ready.
    #[arg(long, default_value_t = 2.0)]
    pub lead_secs: f64,
    /// Backends to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Db::Sqlite, Db::Postgres])]
    pub backends: Vec<Db>,
    /// Skip the bare-reqwest reference.
    #[arg(long)]
    pub no_reference: bool,
    /// Where the Markdown and JSON reports go [default: <workspace>/target/bench].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Before each case, wait up to this many seconds for other processes to leave the CPU (0: do not wait).
    #[arg(long, default_value_t = 300)]
    pub max_wait_quiet: u64,
}

/// A backend.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Db {
    /// The embedded default.
    Sqlite,
    /// PostgreSQL at `PREGON_TEST_POSTGRES_URL`.
    Postgres,
}

impl Db {
    fn backend(self) -> Backend {
        match self {
            Db::Sqlite => Backend::Sqlite,
            Db::Postgres => Backend::Postgres,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        }
    }
}

/// Wait (at most `max_secs`) until, for 2 s in a row, other processes (and the hypervisor's steal) use under 5 % of a
/// core and move under 10 MB on disk.
fn wait_quiet(max_secs: u64) {
    let started = Instant::now();
    let mut said = false;
    while started.elapsed().as_secs() < max_secs {
        let sampler = noise::Sampler::start();
        std::thread::sleep(Duration::from_secs(2));
        let noise = sampler.finish();
        if noise.cpu_secs < 0.1 && noise.io_mb < 10.0 && noise.steal_secs < 0.1 {
            return;
        }
        if !said {
            eprintln!(
                "   waiting for a quiet machine: other processes use {:.0} % of a core ({}) and move {:.0} MB/s ({}); \
                 steal {:.0} % of a core",
                noise.cpu_secs * 50.0,
                noise.top.as_deref().unwrap_or("—"),
                noise.io_mb / 2.0,
                noise.top_io.as_deref().unwrap_or("—"),
                noise.steal_secs * 50.0
            );
            said = true;
        }
    }
    if max_secs > 0 {
        eprintln!("   still busy after {max_secs} s: measuring anyway (the report flags it)");
    }
}

/// Have the mock's thread sort what was freed into its `malloc` arena before the case starts, not at its first
/// connection. The previous case's recording, dropped by `reset` on this thread, goes back to glibc's arena of the
/// mock's thread as tens of thousands of small free chunks, which glibc consolidates and sorts lazily, on that
/// thread's next large allocations: hyper's first read buffer of the case. That stalled the mock's thread 30–40 ms
/// at the first connection of every case after the first (its own timer lag showed it), and the requests that
/// reached its socket meanwhile were stamped as one burst at the end of the stall — a burst Pregon never sent. Each
/// large request here makes glibc consolidate the fast chunks and sort up to 10,000 unsorted ones.
fn settle_heap(mock_runtime: &tokio::runtime::Runtime) {
    let _ = mock_runtime.block_on(mock_runtime.spawn(async {
        for _ in 0..200 {
            std::hint::black_box(Vec::<u8>::with_capacity(16 << 10));
        }
    }));
}

/// Renice the calling thread to -10 with `renice` (Linux schedules threads by their id); whether it worked.
fn raise_priority() -> bool {
    let Some(tid) = std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    else {
        return false;
    };
    std::process::Command::new("renice")
        .args(["-n", "-10", "-p", &tid])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Where the busiest one-second window at the mock starts (seconds after the first message), and the messages per
/// 100 ms from one second before it to one second after: to tell a burst from a steady excess.
fn peak_second(mock: &MockProvider) -> serde_json::Value {
    let mut times: Vec<std::time::Instant> = mock.received().iter().map(|r| r.at).collect();
    times.sort_unstable();
    let Some(&first) = times.first() else {
        return serde_json::Value::Null;
    };
    let (mut best, mut best_start, mut start) = (0, 0, 0);
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        if end - start + 1 > best {
            (best, best_start) = (end - start + 1, start);
        }
    }
    let at = times[best_start];
    let from = at.checked_sub(Duration::from_secs(1)).unwrap_or(first).max(first);
    let mut buckets = vec![0u32; 30];
    for t in &times {
        if *t >= from {
            let i = (t.duration_since(from).as_millis() / 100) as usize;
            if let Some(b) = buckets.get_mut(i) {
                *b += 1;
            }
        }
    }
    let mut start_buckets = vec![0u32; 30];
    for t in &times {
        let i = (t.duration_since(first).as_millis() / 10) as usize;
        if let Some(b) = start_buckets.get_mut(i) {
            *b += 1;
        }
    }
    serde_json::json!({
        "first_300ms_per_10ms": start_buckets,
        "count": best,
        "starts_after_first_secs": at.duration_since(first).as_secs_f64(),
        "per_100ms_from_1s_before": buckets,
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    pregon::install_crypto_provider();
    cases::init_tracing();
    let started = Instant::now();
    let out_dir = match &args.out {
        Some(dir) => dir.clone(),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
            .join("bench"),
    };
    std::fs::create_dir_all(&out_dir)?;
    let machine = machine::Machine::read();
    eprintln!("{}", machine.describe());

    let work = tempfile::Builder::new().prefix("pregon-bench-send-").tempdir()?;
    let csv = work.path().join("campaign.csv");
    inputs::check(args.messages)?;
    let t = Instant::now();
    inputs::write_csv(&csv, args.messages)?;
    eprintln!(
        "generated {} ({} rows) in {:.1} s",
        csv.display(),
        args.messages,
        t.elapsed().as_secs_f64()
    );

    // The mock on a runtime (and thread) of its own, as a provider would be elsewhere; Pregon and the reference on
    // a runtime like `pregon serve`'s (one worker per core).
    // It is the measuring instrument: on a 2-core machine shared with Pregon's threads and PostgreSQL, its one thread
    // can be left off the CPU for tens of milliseconds, and requests that reached its socket meanwhile would be
    // stamped together, as a burst Pregon never sent. Its thread asks for a higher priority (nice -10; needs root);
    // the report says whether it got it.
    let reniced = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = reniced.clone();
    let mock_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("mock-provider")
        .on_thread_start(move || {
            if raise_priority() {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        })
        .enable_all()
        .build()?;
    let mock = mock_runtime.block_on(MockProvider::start(MockConfig {
        latency: Duration::from_millis(args.latency_ms),
        record_bodies: false,
        expected_requests: args.messages as usize * 2,
        ..MockConfig::default()
    }));
    // The worker thread renices itself as it starts, which may still be under way.
    let asked = Instant::now();
    while !reniced.load(std::sync::atomic::Ordering::Relaxed) && asked.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let reniced = reniced.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "mock provider at {} ({} ms latency, {})",
        mock.url(),
        args.latency_ms,
        if reniced {
            "its thread at nice -10"
        } else {
            "its thread at normal priority: not root?"
        }
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;

    let mut results: Vec<Case> = Vec::new();
    let mut run = |label: &str, backend: &str, case: &dyn Fn() -> Result<serde_json::Value>| -> Result<()> {
        eprintln!("── {label} ({} messages at {}/s, {backend})", args.messages, args.rate);
        wait_quiet(args.max_wait_quiet);
        mock.reset();
        settle_heap(&mock_runtime);
        // The instrument's own health: a stalled mock thread stamps whatever reached its socket meanwhile at once.
        let mock_lag = {
            let _on_mock = mock_runtime.enter();
            lag::Lag::start()
        };
        let sampler = noise::Sampler::start();
        let t = Instant::now();
        let result = case().with_context(|| format!("{label} on {backend}"))?;
        let wall = t.elapsed().as_secs_f64();
        let noise = sampler.finish();
        let mut result = result;
        result["mock_timer_lag"] = mock_runtime.block_on(mock_lag.finish());
        result["peak_second"] = peak_second(&mock);
        let case = Case::new(label, backend, &args, result, &mock.stats(), noise, wall);
        eprintln!("   {}", case.summary());
        results.push(case);
        Ok(())
    };
    if !args.no_reference {
        run("reference: bare reqwest client, same pacing", "none", &|| {
            runtime.block_on(cases::reference(&mock, &args))
        })?;
    }
    for db in &args.backends {
        run("Pregon: campaign through the dispatcher", db.name(), &|| {
            runtime.block_on(cases::pregon(db.backend(), &mock, &args, &csv))
        })?;
    }
    drop(runtime);
    drop(mock);
    drop(mock_runtime);

    let command = format!(
        "just bench-send  # = env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-send{}; the mock's \
         thread at {}",
        std::env::args().skip(1).map(|a| format!(" {a}")).collect::<String>(),
        if reniced { "nice -10" } else { "normal priority" }
    );
    let report = Report::new(machine, command, &args, results, started.elapsed().as_secs_f64());
    let markdown = report.markdown();
    println!("{markdown}");
    std::fs::write(out_dir.join("send.md"), &markdown)?;
    std::fs::write(out_dir.join("send.json"), serde_json::to_string_pretty(&report.json())?)?;
    eprintln!("written: {}/send.md and send.json", out_dir.display());
    Ok(())
}
