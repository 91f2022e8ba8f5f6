//! `bench-ingest`: how fast Pregon ingests campaign files, and with how much memory, against DESIGN §8's targets.
//!
//! It generates its own inputs (a 1,000,000-row Chat-Tonic CSV with 3 parameters, the same rows as JSON, 200,000 of
//! them as XLSX, and a 100,000-row CSV), then runs, each in a fresh child process so that its peak RSS is its own:
//!
//! - the pipeline alone (no database): the reader only, and reader + row model + validation;
//! - the real ingestion (`pregon::ingestion::ingest`, exactly as the server runs it) on SQLite and PostgreSQL;
//! - the references: `psql \copy` of the already-clean rows into the same `messages` table (PostgreSQL), and a bare
//!   multi-row `INSERT` of them through sqlx (SQLite).
//!
//! It prints a Markdown table and writes it to `target/bench/ingest.md`, with `target/bench/ingest.json`.
//!
//! ```sh
//! just bench-ingest      # = env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-ingest
//! ```
//!
//! A measurement to read, never a timed test.

mod cases;
mod inputs;
mod machine;
mod noise;
mod report;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use pregon_store::Backend;
use report::{Case, Kind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Measure campaign-file ingestion (rows/s, peak RSS) on SQLite and PostgreSQL against DESIGN §8")]
struct Cli {
    #[command(subcommand)]
    case: Option<Child>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Rows of the big CSV and JSON files.
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Rows of the small CSV (to show memory is flat in the row count).
    #[arg(long, default_value_t = 100_000)]
    small_rows: u64,
    /// Rows of the XLSX file.
    #[arg(long, default_value_t = 200_000)]
    xlsx_rows: u64,
    /// Backends to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Db::Sqlite, Db::Postgres])]
    backends: Vec<Db>,
    /// Where the Markdown and JSON reports go [default: <workspace>/target/bench].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where the generated inputs go (kept); by default a temporary folder, removed at the end.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Run each case this many times; the report gives the median and the range.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Only the big CSV file (no small CSV, JSON or XLSX): the scale run, `--rows 10000000 --csv-only`.
    #[arg(long)]
    csv_only: bool,
    /// The reports' file name, without extension.
    #[arg(long, default_value = "ingest")]
    name: String,
    /// Before each case, wait up to this many seconds for other processes to leave the CPU (0: do not wait).
    #[arg(long, default_value_t = 600)]
    max_wait_quiet: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Db {
    Sqlite,
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

/// One case, run by the bench in a child process of its own.
#[derive(Subcommand)]
enum Child {
    /// A real ingestion of FILE.
    #[command(hide = true)]
    Ingest {
        #[arg(long, value_enum)]
        db: Db,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        rows: u64,
    },
    /// The pipeline alone (or, with --read-only, the reader alone) over FILE.
    #[command(hide = true)]
    Pipeline {
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        rows: u64,
        #[arg(long)]
        read_only: bool,
    },
    /// The reference of a backend: `psql \copy` (PostgreSQL) or a bare multi-row INSERT (SQLite) of FILE's clean rows.
    #[command(hide = true)]
    Reference {
        #[arg(long, value_enum)]
        db: Db,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        rows: u64,
        #[arg(long)]
        work_dir: PathBuf,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.case {
        Some(child) => run_child(child),
        None => run_all(&cli.run),
    }
}

fn run_child(child: Child) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = rt.block_on(async {
        match child {
            Child::Ingest { db, file, rows } => cases::ingest(db.backend(), &file, rows).await,
            Child::Pipeline { file, rows, read_only } => cases::pipeline_only(&file, rows, read_only).await,
            Child::Reference {
                db: Db::Postgres,
                file,
                rows,
                work_dir,
            } => cases::reference_postgres(&file, rows, &work_dir).await,
            Child::Reference {
                db: Db::Sqlite,
                file,
                rows,
                ..
            } => cases::reference_sqlite(&file, rows).await,
        }
    })?;
    println!("{result}");
    Ok(())
}

/// Wait (at most `max_secs`) until, for 2 s in a row, other processes (and the hypervisor's steal) use under 5 % of a
/// core and move under 10 MB on disk.
fn wait_quiet(max_secs: u64) {
    let started = Instant::now();
    let mut said = false;
    while started.elapsed().as_secs() < max_secs {
        let sampler = noise::Sampler::start();
        std::thread::sleep(std::time::Duration::from_secs(2));
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

/// Run one case in a fresh process and read its JSON answer, with the CPU other processes took meanwhile.
fn child(exe: &Path, args: &[&str]) -> Result<(serde_json::Value, noise::Noise, f64)> {
    let sampler = noise::Sampler::start();
    let started = Instant::now();
    let output = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start the case")?;
    let wall = started.elapsed().as_secs_f64();
    let noise = sampler.finish();
    if !output.status.success() {
        bail!("the case {args:?} failed ({})", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().context("the case printed nothing")?;
    let value = serde_json::from_str(last).with_context(|| format!("the case printed {last:?}"))?;
    Ok((value, noise, wall))
}

fn path_arg(p: &Path) -> Result<&str> {
    p.to_str().context("a path that is not UTF-8")
}

fn run_all(args: &RunArgs) -> Result<()> {
    let started = Instant::now();
    let out_dir = match &args.out {
        Some(dir) => dir.clone(),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
            .join("bench"),
    };
    std::fs::create_dir_all(&out_dir)?;
    let (_temp, work) = match &args.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            (None, dir.clone())
        }
        None => {
            let temp = tempfile::Builder::new().prefix("pregon-bench-").tempdir()?;
            let path = temp.path().to_owned();
            (Some(temp), path)
        }
    };
    // Every case runs from a private copy of this binary: a build in the shared target folder (another engineer's
    // `cargo build`) may replace the original while the bench runs, and all cases must run the same code.
    let exe = work.join("bench-ingest");
    std::fs::copy(std::env::current_exe()?, &exe).context("cannot copy the bench binary")?;
    let machine = machine::Machine::read();
    eprintln!("{}", machine.describe());

    // Inputs.
    inputs::check(args.rows.max(args.small_rows).max(args.xlsx_rows))?;
    let mut files = Vec::new();
    let csv = work.join("chat-tonic-big.csv");
    let small = work.join("chat-tonic-small.csv");
    let json = work.join("chat-tonic-big.json");
    let xlsx = work.join("chat-tonic.xlsx");
    type Writer = fn(&Path, u64) -> Result<inputs::Written>;
    let plan: [(&Path, &str, u64, Writer); 4] = [
        (&csv, "csv", args.rows, inputs::write_csv),
        (&small, "csv", args.small_rows, inputs::write_csv),
        (&json, "json", args.rows, inputs::write_json),
        (&xlsx, "xlsx", args.xlsx_rows, inputs::write_xlsx),
    ];
    for (path, format, rows, write) in plan {
        if args.csv_only && *path != *csv {
            continue;
        }
        let t = Instant::now();
        let written = write(path, rows)?;
        eprintln!(
            "generated {} ({rows} rows, {:.1} MB) in {:.1} s",
            path.display(),
            written.bytes as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
        files.push(report::Input {
            format: format.into(),
            rows,
            bytes: written.bytes,
        });
    }

    let mut cases: Vec<Case> = Vec::new();
    let mut run = |case: Case, argv: Vec<String>| -> Result<()> {
        eprintln!("── {} ({} rows, {})", case.label(), case.rows, case.backend);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let mut samples = Vec::new();
        for _ in 0..args.repeat.max(1) {
            wait_quiet(args.max_wait_quiet);
            let (result, noise, wall) = child(&exe, &argv)?;
            let sample = Case::new(case.kind, &case.format, &case.backend, case.rows).with(&result, noise, wall);
            eprintln!("   {}", sample.summary());
            samples.push(sample);
        }
        let case = report::median(samples).context("no sample")?;
        cases.push(case);
        Ok(())
    };

    // The pipeline alone, no database: is parsing/validation or storage the bottleneck?
    for (file, format, rows, read_only) in [
        (&csv, "csv", args.rows, true),
        (&csv, "csv", args.rows, false),
        (&json, "json", args.rows, true),
        (&json, "json", args.rows, false),
        (&xlsx, "xlsx", args.xlsx_rows, true),
        (&xlsx, "xlsx", args.xlsx_rows, false),
    ] {
        if args.csv_only && format != "csv" {
            continue;
        }
        let kind = if read_only { Kind::ReadOnly } else { Kind::Pipeline };
        let mut argv = vec![
            "pipeline".into(),
            "--file".into(),
            path_arg(file)?.into(),
            "--rows".into(),
            rows.to_string(),
        ];
        if read_only {
            argv.push("--read-only".into());
        }
        run(Case::new(kind, format, "none", rows), argv)?;
    }

    for db in &args.backends {
        let name = db.name();
        run(
            Case::new(Kind::Reference, "csv", name, args.rows),
            vec![
                "reference".into(),
                "--db".into(),
                name.into(),
                "--file".into(),
                path_arg(&csv)?.into(),
                "--rows".into(),
                args.rows.to_string(),
                "--work-dir".into(),
                path_arg(&work)?.into(),
            ],
        )?;
        for (file, format, rows) in [
            (&csv, "csv", args.rows),
            (&small, "csv", args.small_rows),
            (&json, "json", args.rows),
            (&xlsx, "xlsx", args.xlsx_rows),
        ] {
            if args.csv_only && *file != csv {
                continue;
            }
            run(
                Case::new(Kind::Ingest, format, name, rows),
                vec![
                    "ingest".into(),
                    "--db".into(),
                    name.into(),
                    "--file".into(),
                    path_arg(file)?.into(),
                    "--rows".into(),
                    rows.to_string(),
                ],
            )?;
        }
    }

    let command = format!(
        "just bench-ingest  # = env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-ingest{}",
        std::env::args().skip(1).map(|a| format!(" {a}")).collect::<String>()
    );
    let report = report::Report::new(
        machine,
        command,
        files,
        cases,
        args.rows,
        started.elapsed().as_secs_f64(),
    );
    let markdown = report.markdown();
    println!("{markdown}");
    std::fs::write(out_dir.join(format!("{}.md", args.name)), &markdown)?;
    std::fs::write(
        out_dir.join(format!("{}.json", args.name)),
        serde_json::to_string_pretty(&report.json())?,
    )?;
    eprintln!(
        "written: {}/{name}.md and {name}.json",
        out_dir.display(),
        name = args.name
    );
    Ok(())
}
