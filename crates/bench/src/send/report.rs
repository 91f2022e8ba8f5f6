//! The results of `bench-send`: one row per case, the reference and the ratios, DESIGN §8's targets, the machine.

use crate::Args;
use crate::machine::Machine;
use crate::noise::Noise;
use chrono::{DateTime, Utc};
use pregon_mock_provider::Stats;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The mean rate at the mock must be within this share of the account's rate.
const MEAN_WITHIN: f64 = 0.02;
/// Other processes above this share of one core make a case's figures suspect.
const NOISE_SHARE: f64 = 0.05;
/// Below this many CPU-seconds, other processes are ignored.
const NOISE_FLOOR_SECS: f64 = 0.5;
/// Other processes' disk traffic above this makes a case's figures suspect too.
const NOISE_IO_MB: f64 = 50.0;

/// One measured case.
pub struct Case {
    /// What it is.
    pub label: String,
    /// `sqlite`, `postgres`, or `none` (the reference).
    pub backend: String,
    /// Messages asked.
    pub messages: u64,
    /// The account's rate.
    pub rate: u32,
    /// Accepted at the mock.
    pub accepted: u64,
    /// Recipients accepted more than once.
    pub duplicates: usize,
    /// Accepted per second between the first and the last accepted message.
    pub mean_per_second: f64,
    /// The most accepted within any one-second window.
    pub max_in_second: usize,
    /// First and last accepted, at the mock.
    pub first: Option<DateTime<Utc>>,
    /// See `first`.
    pub last: Option<DateTime<Utc>>,
    /// When the campaign was scheduled (the reference: its first slot).
    pub scheduled_at: Option<DateTime<Utc>>,
    /// When every status was written (the reference: the last answer read).
    pub finished_at: Option<DateTime<Utc>>,
    /// Everything the case reported.
    pub raw: Value,
    /// Other processes meanwhile.
    pub noise: Noise,
    /// Wall time of the whole case (setup, ingestion and checks included), seconds.
    pub wall_secs: f64,
}

fn time(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn secs_between(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<f64> {
    Some((b? - a?).num_microseconds()? as f64 / 1e6)
}

impl Case {
    /// A case from its result and the mock's stats.
    pub fn new(
        label: &str,
        backend: &str,
        args: &Args,
        raw: Value,
        stats: &Stats,
        noise: Noise,
        wall_secs: f64,
    ) -> Case {
        Case {
            label: label.into(),
            backend: backend.into(),
            messages: args.messages,
            rate: args.rate,
            accepted: stats.accepted,
            duplicates: stats.duplicates,
            mean_per_second: stats.mean_per_second,
            max_in_second: stats.max_per_second_window,
            first: stats.first_accepted_at,
            last: stats.last_accepted_at,
            scheduled_at: time(&raw, "scheduled_at"),
            finished_at: time(&raw, "finished_at"),
            raw,
            noise,
            wall_secs,
        }
    }

    fn is_reference(&self) -> bool {
        self.backend == "none"
    }

    /// Seconds from the first to the last message at the mock.
    fn sending_secs(&self) -> Option<f64> {
        secs_between(self.first, self.last)
    }

    /// From `scheduled_at` to the first message at the mock, milliseconds.
    fn start_delay_ms(&self) -> Option<f64> {
        secs_between(self.scheduled_at, self.first).map(|s| s * 1000.0)
    }

    /// From the last message at the mock to the campaign `completed` (every status written), milliseconds.
    fn written_after_ms(&self) -> Option<f64> {
        secs_between(self.last, self.finished_at).map(|s| s * 1000.0)
    }

    /// Messages per second from `scheduled_at` to the campaign `completed`.
    fn end_to_end_per_second(&self) -> Option<f64> {
        secs_between(self.scheduled_at, self.finished_at).map(|s| self.messages as f64 / s)
    }

    /// `sent 100,000` or `sent 99,990, failed 10`.
    fn statuses(&self) -> String {
        match self.raw.get("statuses").and_then(Value::as_object) {
            Some(map) => map
                .iter()
                .map(|(k, v)| format!("{k} {}", thousands(v.as_u64().unwrap_or(0))))
                .collect::<Vec<_>>()
                .join(", "),
            None => "—".into(),
        }
    }

    fn all_sent(&self) -> bool {
        let sent = self
            .raw
            .get("statuses")
            .and_then(|s| s.get("sent"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let others: u64 = self
            .raw
            .get("statuses")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| *k != "sent")
                    .filter_map(|(_, v)| v.as_u64())
                    .sum()
            })
            .unwrap_or(0);
        sent == self.messages && others == 0
    }

    fn mean_ok(&self) -> bool {
        let rate = f64::from(self.rate);
        (self.mean_per_second - rate).abs() <= MEAN_WITHIN * rate
    }

    fn max_ok(&self) -> bool {
        self.max_in_second <= self.rate as usize
    }

    /// Whether other processes took more than 5 % of a core while the case ran.
    pub fn noisy(&self) -> bool {
        (self.noise.cpu_secs > NOISE_SHARE * self.wall_secs && self.noise.cpu_secs > NOISE_FLOOR_SECS)
            || self.noise.io_mb > NOISE_IO_MB
            || (self.noise.steal_secs > NOISE_SHARE * self.wall_secs && self.noise.steal_secs > NOISE_FLOOR_SECS)
    }

    fn noise_text(&self) -> String {
        format!(
            "other processes took {:.1} CPU-s ({}) over {:.0} s and moved {:.0} MB on disk ({}); steal {:.1} CPU-s",
            self.noise.cpu_secs,
            self.noise.top.as_deref().unwrap_or("—"),
            self.wall_secs,
            self.noise.io_mb,
            self.noise.top_io.as_deref().unwrap_or("—"),
            self.noise.steal_secs
        )
    }

    /// One line for the progress output.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} accepted, {:.1} msg/s, max {} in 1 s, {} duplicates",
            self.accepted, self.mean_per_second, self.max_in_second, self.duplicates
        );
        if let Some(d) = self.start_delay_ms() {
            let _ = write!(s, ", start delay {d:.0} ms");
        }
        if let Some(w) = self.written_after_ms() {
            let _ = write!(s, ", all statuses written {w:.0} ms after the last message");
        }
        let _ = write!(s, "; {}", self.statuses());
        if let Some(late) = self.raw.get("late").and_then(Value::as_u64) {
            let _ = write!(s, "; {late} late");
        }
        if let Some(forced) = self.raw.get("forced_late").and_then(Value::as_u64) {
            let _ = write!(s, " ({forced} sent late after {} misses)", 3);
        }
        if let Some(lag) = self.raw.get("timer_lag") {
            let _ = write!(s, "; timer lag {lag}");
        }
        if self.noisy() {
            let _ = write!(s, "; NOISY: {}", self.noise_text());
        }
        s
    }

    fn json(&self, reference: Option<f64>) -> Value {
        json!({
            "case": self.label,
            "backend": self.backend,
            "messages": self.messages,
            "rate_per_second": self.rate,
            "accepted_at_mock": self.accepted,
            "duplicates": self.duplicates,
            "sending_secs": self.sending_secs(),
            "mean_per_second": self.mean_per_second,
            "max_in_any_second": self.max_in_second,
            "start_delay_ms": self.start_delay_ms(),
            "written_after_ms": self.written_after_ms(),
            "end_to_end_per_second": self.end_to_end_per_second(),
            "ratio_to_reference": reference.map(|r| self.mean_per_second / r),
            "targets": {
                "mean_within_2_percent": self.mean_ok(),
                "max_in_any_second_at_most_rate": self.max_ok(),
                "all_sent": self.all_sent(),
            },
            "noisy": self.noisy(),
            "noise": {
                "cpu_secs": self.noise.cpu_secs, "top": self.noise.top, "io_mb": self.noise.io_mb,
                "top_io": self.noise.top_io, "steal_secs": self.noise.steal_secs,
            },
            "wall_secs": self.wall_secs,
            "raw": self.raw,
        })
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

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or("—".into(), |v| format!("{v:.decimals$}"))
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

/// The whole run.
pub struct Report {
    machine: Machine,
    command: String,
    concurrency: u32,
    latency_ms: u64,
    lead_secs: f64,
    cases: Vec<Case>,
    total_secs: f64,
}

impl Report {
    /// Gather the results.
    pub fn new(machine: Machine, command: String, args: &Args, cases: Vec<Case>, total_secs: f64) -> Report {
        Report {
            machine,
            command,
            concurrency: args.concurrency,
            latency_ms: args.latency_ms,
            lead_secs: args.lead_secs,
            cases,
            total_secs,
        }
    }

    fn reference(&self) -> Option<f64> {
        self.cases.iter().find(|c| c.is_reference()).map(|c| c.mean_per_second)
    }

    /// The report for people.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Send benchmark\n");
        let _ = writeln!(md, "```text\n{}\n```\n", self.machine.describe());
        let _ = writeln!(md, "Command: `{}`\n", self.command);
        let (rate, messages) = self.cases.first().map_or((0, 0), |c| (c.rate, c.messages));
        let _ = writeln!(
            md,
            "One Meta account at `rate_per_second` {rate} and `concurrency` {}, the mock answering after {} ms; \
             {} messages (distinct recipients, 3 parameters), scheduled {:.1} s ahead.\n",
            self.concurrency,
            self.latency_ms,
            thousands(messages),
            self.lead_secs
        );
        let _ = writeln!(
            md,
            "| case | backend | messages | first→last s | msg/s at the mock | max in any 1 s | start delay ms | all \
             written after ms | end-to-end msg/s | statuses | late re-slots | timer lag p99 / max ms | mock thread lag p99 / max ms | ratio to reference | mean within 2 % of \
             the rate? | max ≤ rate? |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|---|---|");
        let reference = self.reference();
        for c in &self.cases {
            let ratio = if c.is_reference() {
                None
            } else {
                reference.map(|r| c.mean_per_second / r)
            };
            let _ = writeln!(
                md,
                "| {}{} | {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.label,
                if c.noisy() { " (noisy)" } else { "" },
                c.backend,
                thousands(c.accepted),
                opt(c.sending_secs(), 2),
                c.mean_per_second,
                thousands(c.max_in_second as u64),
                opt(c.start_delay_ms(), 0),
                if c.is_reference() {
                    "—".into()
                } else {
                    opt(c.written_after_ms(), 0)
                },
                if c.is_reference() {
                    "—".into()
                } else {
                    opt(c.end_to_end_per_second(), 1)
                },
                c.statuses(),
                match (
                    c.raw.get("late").and_then(Value::as_u64),
                    c.raw.get("forced_late").and_then(Value::as_u64)
                ) {
                    (Some(l), Some(f)) => format!("{} ({f} forced)", thousands(l)),
                    (Some(l), None) => thousands(l),
                    _ => "—".into(),
                },
                lag(c.raw.get("timer_lag")),
                lag(c.raw.get("mock_timer_lag")),
                opt(ratio, 3),
                yes(c.mean_ok()),
                yes(c.max_ok()),
            );
        }
        let _ = writeln!(
            md,
            "\nmsg/s at the mock: accepted messages per second between the first and the last. Start delay: the first \
             message at the mock minus the campaign's `scheduled_at` (the reference: its first slot). All written \
             after: the campaign `completed` (every message's status written) minus the last message at the mock. \
             Late re-slots: requests that could not start within 5 ms of their slot and got a new one; forced: sent \
             late all the same after missing 3 slots (the reference counts late requests but sends them anyway). \
             Timer lag: how late a 1 ms sleep woke on the same runtime during the case; mock thread lag: the same on \
             the mock's thread (a stall there stamps the requests that reached its socket meanwhile as one burst). Pregon and the reference pace with the same slots (1 % wider than \
             the rate); the mock runs on a thread of its own in the same process."
        );
        let noisy: Vec<String> = self
            .cases
            .iter()
            .filter(|c| c.noisy())
            .map(|c| format!("{} ({}): {}", c.label, c.backend, c.noise_text()))
            .collect();
        if noisy.is_empty() {
            let _ = writeln!(md, "\nNo other process took more than 5 % of a core during any case.");
        } else {
            let _ = writeln!(md, "\nNoisy cases (figures suspect):\n");
            for n in noisy {
                let _ = writeln!(md, "- {n}");
            }
        }
        let _ = writeln!(md, "\nWhole run: {:.0} s.", self.total_secs);
        md
    }

    /// The report for machines.
    pub fn json(&self) -> Value {
        let reference = self.reference();
        json!({
            "machine": self.machine.json(),
            "command": self.command,
            "concurrency": self.concurrency,
            "latency_ms": self.latency_ms,
            "lead_secs": self.lead_secs,
            "cases": self.cases.iter().map(|c| c.json(if c.is_reference() { None } else { reference })).collect::<Vec<_>>(),
            "total_secs": self.total_secs,
        })
    }
}

/// A `Lag` figure as "p99 / max" milliseconds.
fn lag(l: Option<&Value>) -> String {
    l.map_or("—".into(), |l| {
        format!(
            "{} / {}",
            opt(l.get("p99_ms").and_then(Value::as_f64), 1),
            opt(l.get("max_ms").and_then(Value::as_f64), 1)
        )
    })
}
