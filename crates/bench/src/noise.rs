//! Other work on the machine while a case runs. On a shared 2-core machine a compiler, another engineer's test suite
//! or benchmark takes a core (or the disk) from the one being measured; the bench cannot stop them, but it can say so.
//!
//! A thread samples `/proc` every 200 ms and adds up the CPU time and the disk bytes (`/proc/<pid>/io`) of every
//! process that is not part of the measurement. Part of it: the bench and its case processes (`bench-ingest`),
//! `psql`, and PostgreSQL's processes — except backends serving another process's test database
//! (`pregon_test_<pid>_…`, as `TestDatabase` names them, where `<pid>` is not one of the bench's processes), which are
//! another engineer's tests. Kernel workers' CPU is left out (it is mostly the measured case's own writeback).
//! Processes that start and end between two samples are missed, so this is a lower bound.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// `sysconf(_SC_CLK_TCK)` on Linux.
const TICKS_PER_SEC: f64 = 100.0;
/// The bench's own process name.
const BENCH: &str = "bench-ingest";

/// What other processes took while a case ran.
#[derive(Clone, Debug, Default)]
pub struct Noise {
    /// CPU seconds.
    pub cpu_secs: f64,
    /// Disk bytes read and written, MB.
    pub io_mb: f64,
    /// The busiest of them by CPU, with its share (`rustc 3.2 s`), if any took time.
    pub top: Option<String>,
    /// The busiest of them by disk bytes (`cargo 310 MB`), if any did I/O.
    pub top_io: Option<String>,
}

/// Samples until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Noise>,
}

/// One process at one sample.
#[derive(Clone)]
struct Proc {
    /// Its name, kernel workers by pool (`kworker/1:1H`, not the work item they run now).
    name: String,
    ticks: u64,
    io_bytes: u64,
    foreign: bool,
}

fn read_ticks(stat: &str) -> Option<(String, u64)> {
    // `pid (comm) state ppid …`: comm may hold spaces and brackets, so split at the last `)`.
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let comm = &stat[open + 1..close];
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // After the comm: utime and stime are the 12th and 13th fields.
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let name = match comm.split_once('-') {
        Some((pool, _)) if comm.starts_with("kworker/") => pool.to_owned(),
        _ => comm.to_owned(),
    };
    Some((name, ticks(11) + ticks(12)))
}

fn read_io(pid: u32) -> u64 {
    let Ok(io) = std::fs::read_to_string(format!("/proc/{pid}/io")) else {
        return 0;
    };
    io.lines()
        .filter_map(|l| l.strip_prefix("read_bytes:").or_else(|| l.strip_prefix("write_bytes:")))
        .filter_map(|v| v.trim().parse::<u64>().ok())
        .sum()
}

/// A PostgreSQL backend serving a test database of a process that is not ours.
fn foreign_backend(pid: u32, ours: &HashSet<u32>) -> bool {
    let Ok(title) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let title = String::from_utf8_lossy(&title);
    let Some(at) = title.find("pregon_test_") else {
        return false;
    };
    let digits: String = title[at + "pregon_test_".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse::<u32>().is_ok_and(|owner| !ours.contains(&owner))
}

/// Every process, now.
fn snapshot() -> HashMap<u32, Proc> {
    let mut stats = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Some((name, ticks)) = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .as_deref()
                .and_then(read_ticks)
            {
                stats.push((pid, name, ticks));
            }
        }
    }
    let ours: HashSet<u32> = stats
        .iter()
        .filter(|(_, name, _)| name == BENCH)
        .map(|(pid, _, _)| *pid)
        .collect();
    stats
        .into_iter()
        .map(|(pid, name, ticks)| {
            let foreign = match name.as_str() {
                BENCH | "psql" => false,
                "postgres" => foreign_backend(pid, &ours),
                _ => true,
            };
            let io_bytes = if foreign { read_io(pid) } else { 0 };
            (
                pid,
                Proc {
                    name,
                    ticks,
                    io_bytes,
                    foreign,
                },
            )
        })
        .collect()
}

impl Sampler {
    /// Start sampling.
    pub fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let first = snapshot();
            let mut last = first.clone();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                for (pid, now) in snapshot() {
                    let foreign = now.foreign || last.get(&pid).is_some_and(|p| p.foreign);
                    last.insert(pid, Proc { foreign, ..now });
                }
            }
            let (mut cpu, mut io): (HashMap<String, u64>, HashMap<String, u64>) = Default::default();
            for (pid, end) in last {
                if !end.foreign {
                    continue;
                }
                // A process absent from the first sample started since: all it used is within the case.
                let (t0, b0) = first.get(&pid).map_or((0, 0), |p| (p.ticks, p.io_bytes));
                if !end.name.starts_with("kworker/") {
                    *cpu.entry(end.name.clone()).or_default() += end.ticks.saturating_sub(t0);
                }
                *io.entry(end.name).or_default() += end.io_bytes.saturating_sub(b0);
            }
            let top = |m: &HashMap<String, u64>| {
                m.iter()
                    .filter(|(_, v)| **v > 0)
                    .max_by_key(|(_, v)| **v)
                    .map(|(k, v)| (k.clone(), *v))
            };
            Noise {
                cpu_secs: cpu.values().sum::<u64>() as f64 / TICKS_PER_SEC,
                io_mb: io.values().sum::<u64>() as f64 / 1e6,
                top: top(&cpu).map(|(name, t)| format!("{name} {:.1} s", t as f64 / TICKS_PER_SEC)),
                top_io: top(&io).map(|(name, b)| format!("{name} {:.0} MB", b as f64 / 1e6)),
            }
        });
        Sampler { stop, handle }
    }

    /// Stop and report.
    pub fn finish(self) -> Noise {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}
