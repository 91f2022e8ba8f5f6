//! The results: one table row per case, the references and ratios, DESIGN §8's targets, the machine.

use crate::machine::Machine;
use crate::noise::Noise;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// DESIGN §8: ingestion at most this many times its reference.
const MAX_RATIO: f64 = 1.5;
/// DESIGN §8: seconds for 1,000,000 rows, PostgreSQL and SQLite.
const POSTGRES_SECS_PER_MILLION: f64 = 10.0;
const SQLITE_SECS_PER_MILLION: f64 = 8.0;
/// DESIGN §8: peak RSS, MB (10^6 bytes).
const MAX_RSS_MB: f64 = 200.0;
/// Other processes above this share of one core make a case's figures suspect.
const NOISE_SHARE: f64 = 0.05;
/// Below this many CPU-seconds, other processes are ignored.
const NOISE_FLOOR_SECS: f64 = 0.5;
/// Other processes' disk traffic (read + written) above this during a case makes its figures suspect too.
const NOISE_IO_MB: f64 = 50.0;
/// "Flat in the row count": the big CSV's peak RSS at most this many times the small one's.
const FLAT_FACTOR: f64 = 1.25;

/// What a case measures.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The reader alone, no database.
    ReadOnly,
    /// Reader + row model + validation, batches dropped, no database.
    Pipeline,
    /// The real ingestion.
    Ingest,
    /// The backend's reference (`\copy` or bare INSERT) of the clean rows.
    Reference,
}

/// One measured case.
pub struct Case {
    /// What it measures.
    pub kind: Kind,
    /// `csv`, `json`, `xlsx`.
    pub format: String,
    /// `sqlite`, `postgres`, or `none`.
    pub backend: String,
    /// Data rows.
    pub rows: u64,
    /// The timed part, seconds.
    pub secs: f64,
    /// Storing the file into the database before the ingestion, seconds.
    pub upload_secs: Option<f64>,
    /// Preparing the clean rows of a reference (not timed in it), seconds.
    pub prepare_secs: Option<f64>,
    /// Peak RSS of the case's process, KiB.
    pub rss_kib: Option<u64>,
    /// Everything the case reported.
    pub raw: Value,
    /// CPU other processes took while the case's process ran.
    pub noise: Noise,
    /// Wall time of the case's whole process (setup and checks included), seconds.
    pub wall_secs: f64,
    /// The timed seconds of every run of the case (one unless `--repeat`), in run order.
    pub samples: Vec<f64>,
    /// How many runs of the case other processes disturbed (`noise` and `wall_secs` are then the worst one's).
    pub noisy_runs: usize,
}

/// The median run of a case (by its timed seconds), with the others' times kept as its samples; the peak RSS is
/// the highest of all runs.
pub fn median(mut runs: Vec<Case>) -> Option<Case> {
    let samples: Vec<f64> = runs.iter().map(|c| c.secs).collect();
    let rss = runs.iter().filter_map(|c| c.rss_kib).max();
    let noisy_runs = runs.iter().filter(|c| c.noisy()).count();
    let worst = runs
        .iter()
        .max_by(|a, b| {
            let badness = |c: &Case| {
                (c.noise.cpu_secs + c.noise.steal_secs) / c.wall_secs.max(1e-9) + c.noise.io_mb / NOISE_IO_MB
            };
            badness(a).total_cmp(&badness(b))
        })
        .map(|c| (c.noise.clone(), c.wall_secs))?;
    runs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
    let mid = runs.len().checked_sub(1)? / 2;
    let mut case = runs.swap_remove(mid);
    case.samples = samples;
    case.rss_kib = rss;
    case.noisy_runs = noisy_runs;
    (case.noise, case.wall_secs) = worst;
    Some(case)
}

impl Case {
    /// A case before it ran.
    pub fn new(kind: Kind, format: &str, backend: &str, rows: u64) -> Case {
        Case {
            kind,
            format: format.into(),
            backend: backend.into(),
            rows,
            secs: 0.0,
            upload_secs: None,
            prepare_secs: None,
            rss_kib: None,
            raw: Value::Null,
            noise: Noise::default(),
            wall_secs: 0.0,
            samples: Vec::new(),
            noisy_runs: 0,
        }
    }

    /// With the answer of its child process.
    pub fn with(mut self, result: &Value, noise: Noise, wall_secs: f64) -> Case {
        self.noise = noise;
        self.wall_secs = wall_secs;
        self.samples = vec![result.get("secs").and_then(Value::as_f64).unwrap_or(f64::NAN)];
        self.noisy_runs = usize::from(self.noisy());
        self.secs = result.get("secs").and_then(Value::as_f64).unwrap_or(f64::NAN);
        self.upload_secs = result.get("upload_secs").and_then(Value::as_f64);
        self.prepare_secs = result.get("prepare_secs").and_then(Value::as_f64);
        self.rss_kib = result.get("rss_kib").and_then(Value::as_u64);
        self.raw = result.clone();
        self
    }

    /// The first column of the table.
    pub fn label(&self) -> String {
        let format = self.format.to_uppercase();
        match (self.kind, self.backend.as_str()) {
            (Kind::ReadOnly, _) => format!("{format}: reader only (no DB)"),
            (Kind::Pipeline, _) => format!("{format}: pipeline only, parse+validate (no DB)"),
            (Kind::Ingest, _) => format!("{format} ingest"),
            (Kind::Reference, "postgres") => "reference: `psql \\copy` of the clean rows".into(),
            (Kind::Reference, _) => "reference: bare multi-row INSERT of the clean rows".into(),
        }
    }

    fn rows_per_sec(&self) -> f64 {
        self.rows as f64 / self.secs
    }

    fn rss_mb(&self) -> Option<f64> {
        self.rss_kib.map(|k| k as f64 * 1024.0 / 1e6)
    }

    /// One line for the progress output.
    pub fn summary(&self) -> String {
        let mut s = format!("{:.2} s, {:.0} rows/s", self.secs, self.rows_per_sec());
        if let Some(mb) = self.rss_mb() {
            let _ = write!(s, ", peak RSS {mb:.0} MB");
        }
        if let Some(u) = self.upload_secs {
            let _ = write!(s, ", upload {u:.2} s");
        }
        if let Some(p) = self.prepare_secs {
            let _ = write!(s, " (clean rows prepared in {p:.2} s, not timed)");
        }
        if self.noisy() {
            let _ = write!(
                s,
                "; NOISY: other processes took {:.1} CPU-s ({}) and moved {:.0} MB on disk ({}); steal {:.1} CPU-s",
                self.noise.cpu_secs,
                self.noise.top.as_deref().unwrap_or("—"),
                self.noise.io_mb,
                self.noise.top_io.as_deref().unwrap_or("—"),
                self.noise.steal_secs
            );
        }
        s
    }

    /// The timed seconds: the median, and the range when the case ran more than once.
    pub fn seconds(&self) -> String {
        if self.samples.len() < 2 {
            return format!("{:.2}", self.secs);
        }
        let min = self.samples.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{:.2} ({min:.2}–{max:.2})", self.secs)
    }

    /// Whether other processes took more than 5 % of a core (and over half a CPU-second: the machine's idle
    /// daemons take about 1.5 %) while the case ran.
    pub fn noisy(&self) -> bool {
        (self.noise.cpu_secs > NOISE_SHARE * self.wall_secs && self.noise.cpu_secs > NOISE_FLOOR_SECS)
            || self.noise.io_mb > NOISE_IO_MB
            || (self.noise.steal_secs > NOISE_SHARE * self.wall_secs && self.noise.steal_secs > NOISE_FLOOR_SECS)
    }
}

/// A generated input file.
pub struct Input {
    /// Its format.
    pub format: String,
    /// Its data rows.
    pub rows: u64,
    /// Its size.
    pub bytes: u64,
}

/// A case with its reference, target and verdict.
struct Row<'a> {
    case: &'a Case,
    reference: Option<f64>,
    target: String,
    verdict: String,
}

/// The whole run.
pub struct Report {
    machine: Machine,
    command: String,
    inputs: Vec<Input>,
    cases: Vec<Case>,
    big: u64,
    total_secs: f64,
}

fn fmt_opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or("—".into(), |v| format!("{v:.decimals$}"))
}

/// A time limit: whole seconds when it is one, else two decimals.
fn seconds(limit: f64) -> String {
    if limit >= 1.0 && limit.fract() == 0.0 {
        format!("{limit:.0}")
    } else {
        format!("{limit:.2}")
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report {
    /// Gather the results. `big` is the row count of the big CSV/JSON (the targets' 1,000,000).
    pub fn new(
        machine: Machine,
        command: String,
        inputs: Vec<Input>,
        cases: Vec<Case>,
        big: u64,
        total_secs: f64,
    ) -> Report {
        Report {
            machine,
            command,
            inputs,
            cases,
            big,
            total_secs,
        }
    }

    fn find(&self, kind: Kind, format: &str, backend: &str, rows: u64) -> Option<&Case> {
        self.cases
            .iter()
            .find(|c| c.kind == kind && c.format == format && c.backend == backend && c.rows == rows)
    }

    fn rows(&self) -> Vec<Row<'_>> {
        let scale = self.big as f64 / 1e6;
        self.cases
            .iter()
            .map(|case| {
                let mut row = Row {
                    case,
                    reference: None,
                    target: "—".into(),
                    verdict: "—".into(),
                };
                if case.kind != Kind::Ingest {
                    return row;
                }
                let big = case.rows == self.big && case.format != "xlsx";
                if big {
                    row.reference = self
                        .find(Kind::Reference, "csv", &case.backend, self.big)
                        .map(|r| r.secs);
                }
                let mut targets = Vec::new();
                let mut misses = Vec::new();
                let headline = big && case.format == "csv";
                if headline {
                    let (limit, reference) = match case.backend.as_str() {
                        "postgres" => (POSTGRES_SECS_PER_MILLION * scale, "`\\copy`"),
                        _ => (SQLITE_SECS_PER_MILLION * scale, "INSERT"),
                    };
                    targets.push(format!("≤ {MAX_RATIO} × {reference}, < {} s", seconds(limit)));
                    match row.reference {
                        Some(r) if case.secs / r > MAX_RATIO => {
                            misses.push(format!("{:.2} × {reference} (> {MAX_RATIO})", case.secs / r))
                        }
                        Some(_) => {}
                        None => misses.push("no reference".into()),
                    }
                    if case.secs >= limit {
                        misses.push(format!("{:.2} s (≥ {} s)", case.secs, seconds(limit)));
                    }
                }
                targets.push(format!("RSS < {MAX_RSS_MB:.0} MB"));
                match case.rss_mb() {
                    Some(mb) if mb >= MAX_RSS_MB => misses.push(format!("RSS {mb:.0} MB")),
                    Some(_) => {}
                    None => misses.push("RSS unknown".into()),
                }
                if headline
                    && let Some(small) = self.cases.iter().find(|c| {
                        c.kind == Kind::Ingest && c.format == "csv" && c.backend == case.backend && c.rows < case.rows
                    })
                {
                    targets.push(format!(
                        "flat (≤ {FLAT_FACTOR} × the {}-row run)",
                        thousands(small.rows)
                    ));
                    if let (Some(big_mb), Some(small_mb)) = (case.rss_mb(), small.rss_mb())
                        && big_mb > small_mb * FLAT_FACTOR
                    {
                        misses.push(format!(
                            "RSS {big_mb:.0} MB vs {small_mb:.0} MB at {} rows",
                            thousands(small.rows)
                        ));
                    }
                }
                row.target = targets.join("; ");
                row.verdict = if misses.is_empty() {
                    "yes".into()
                } else {
                    format!("**no**: {}", misses.join(", "))
                };
                row
            })
            .collect()
    }

    /// The Markdown report: machine, command, inputs, the table.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Ingest benchmark\n");
        let sqlite = self
            .cases
            .iter()
            .find_map(|c| c.raw.get("sqlite_version").and_then(Value::as_str));
        let sqlite = sqlite
            .map(|v| format!("\nSQLite {v} (bundled with sqlx)"))
            .unwrap_or_default();
        let _ = writeln!(md, "```text\n{}{sqlite}\n```\n", self.machine.describe());
        let _ = writeln!(md, "Command: `{}`\n", self.command);
        let _ = writeln!(md, "Inputs (generated, every row valid, 3 parameters):\n");
        for input in &self.inputs {
            let _ = writeln!(
                md,
                "- {} {} rows, {:.1} MB",
                input.format.to_uppercase(),
                thousands(input.rows),
                input.bytes as f64 / 1e6
            );
        }
        let _ = writeln!(
            md,
            "\n| case | backend | rows | seconds | rows/s | peak RSS MB | reference s | ratio | target | met? | upload s |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|---|---|--:|");
        for row in self.rows() {
            let c = row.case;
            let ratio = row.reference.map(|r| c.secs / r);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.label(),
                c.backend,
                thousands(c.rows),
                c.seconds(),
                thousands(c.rows_per_sec().round() as u64),
                fmt_opt(c.rss_mb(), 0),
                fmt_opt(row.reference, 2),
                fmt_opt(ratio, 2),
                row.target,
                row.verdict,
                fmt_opt(c.upload_secs, 2),
            );
        }
        let _ = writeln!(
            md,
            "\n{}\n\nMB = 10^6 bytes (`VmHWM` of the case's own process, which also holds the runtime and the connection \
             pool). Reference: PostgreSQL `psql \\copy … WITH (FORMAT csv)` of the clean rows, timed as the psql \
             process; SQLite a bare multi-row INSERT through sqlx, 1,000 rows per statement, one transaction per \
             5,000 rows, rows prepared in memory beforehand. Each of them and each ingestion runs on a fresh \
             database set up alike; PostgreSQL gets a `CHECKPOINT` before each timed part. {}Whole run: {:.0} s.",
            self.noise_note(),
            self.repeats_note(),
            self.total_secs
        );
        md
    }

    fn repeats_note(&self) -> String {
        match self.cases.iter().map(|c| c.samples.len()).max() {
            Some(n) if n > 1 => format!(
                "Seconds: the median of {n} runs of each case (each in a fresh process and database), with the \
                 range; ratios are of medians; peak RSS is the highest of the runs. "
            ),
            _ => String::new(),
        }
    }

    /// Whether other processes disturbed the run, case by case.
    fn noise_note(&self) -> String {
        let noisy: Vec<String> = self
            .cases
            .iter()
            .filter(|c| c.noisy_runs > 0)
            .map(|c| {
                format!(
                    "{} ({}, {} rows): {} of {} runs; the worst: {:.1} CPU-s and {:.0} MB of disk traffic by other \
                     processes, {:.1} CPU-s of steal, during its {:.1} s (busiest: {}; {})",
                    c.label(),
                    c.backend,
                    thousands(c.rows),
                    c.noisy_runs,
                    c.samples.len(),
                    c.noise.cpu_secs,
                    c.noise.io_mb,
                    c.noise.steal_secs,
                    c.wall_secs,
                    c.noise.top.as_deref().unwrap_or("—"),
                    c.noise.top_io.as_deref().unwrap_or("—")
                )
            })
            .collect();
        if !noisy.is_empty() {
            return format!(
                "**Warning: other processes took CPU or disk during these cases; their figures are suspect, re-run on \
                 a quiet machine:** {}.",
                noisy.join("; ")
            );
        }
        let cpu = self.cases.iter().map(|c| c.noise.cpu_secs).fold(0.0, f64::max);
        let io = self.cases.iter().map(|c| c.noise.io_mb).fold(0.0, f64::max);
        let steal = self.cases.iter().map(|c| c.noise.steal_secs).fold(0.0, f64::max);
        format!(
            "Other processes (sampled from /proc: other programs, and PostgreSQL backends of other processes' test \
             databases) took at most {cpu:.1} CPU-s and {io:.0} MB of disk traffic during the worst run of a case, and \
             the hypervisor's steal at most {steal:.1} CPU-s; no run was above {:.0} % of a core and {NOISE_FLOOR_SECS} \
             CPU-s of either, or {NOISE_IO_MB:.0} MB.",
            NOISE_SHARE * 100.0
        )
    }

    /// The same as JSON.
    pub fn json(&self) -> Value {
        let cases: Vec<Value> = self
            .rows()
            .iter()
            .map(|row| {
                let c = row.case;
                json!({
                    "case": c.label(), "format": c.format, "backend": c.backend, "rows": c.rows,
                    "secs": c.secs, "rows_per_sec": c.rows_per_sec(), "peak_rss_mb": c.rss_mb(),
                    "upload_secs": c.upload_secs, "prepare_secs": c.prepare_secs,
                    "reference_secs": row.reference, "ratio": row.reference.map(|r| c.secs / r),
                    "target": row.target, "met": row.verdict, "raw": c.raw,
                    "samples_secs": c.samples, "case_wall_secs": c.wall_secs, "other_cpu_secs": c.noise.cpu_secs, "other_io_mb": c.noise.io_mb, "steal_secs": c.noise.steal_secs, "other_top_io": c.noise.top_io, "other_top": c.noise.top,
                })
            })
            .collect();
        let inputs: Vec<Value> = self
            .inputs
            .iter()
            .map(|i| json!({"format": i.format, "rows": i.rows, "bytes": i.bytes}))
            .collect();
        json!({
            "machine": self.machine.json(), "command": self.command, "inputs": inputs, "cases": cases,
            "total_secs": self.total_secs,
        })
    }
}
