//! Other work on the machine while a case runs. On a shared 2-core machine a compiler or another engineer's
//! benchmark takes a core from the one being measured; the bench cannot stop them, but it can say so.
//!
//! A thread samples `/proc/*/stat` every 200 ms and adds up the CPU time of every process that is not the bench, its
//! case process, PostgreSQL or psql (whose work is the measurement). Processes that start and end between two
//! samples are missed, so this is a lower bound.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Process names whose CPU time is part of the measurement.
const OURS: [&str; 3] = ["bench-ingest", "postgres", "psql"];
/// `sysconf(_SC_CLK_TCK)` on Linux.
const TICKS_PER_SEC: f64 = 100.0;

/// CPU seconds taken by other processes, and the busiest of them.
#[derive(Clone, Debug, Default)]
pub struct Noise {
    /// CPU seconds of other processes while the case ran.
    pub cpu_secs: f64,
    /// The busiest other process (`comm`), if any took time.
    pub top: Option<String>,
}

/// Samples until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Noise>,
}

/// pid → (comm, CPU ticks: user + system) of every process, now. Keyed by pid alone: kernel workers change their
/// comm with the work item they run.
fn snapshot() -> HashMap<u32, (String, u64)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: comm may hold spaces and brackets, so split at the last `)`.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // After the comm: state is field 3, utime 14, stime 15 (1-based over the whole line).
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        out.insert(pid, (comm, ticks(11) + ticks(12)));
    }
    out
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
                for (key, ticks) in snapshot() {
                    last.insert(key, ticks);
                }
            }
            let mut by_comm: HashMap<String, u64> = HashMap::new();
            for (pid, (comm, end)) in last {
                if OURS.contains(&comm.as_str()) {
                    continue;
                }
                // A process absent from the first sample started since: all its time is within the case.
                let start = first.get(&pid).map_or(0, |(_, t)| *t);
                let used = end.saturating_sub(start);
                if used > 0 {
                    // Kernel workers by pool, not by work item.
                    let name = match comm.split_once('-') {
                        Some((worker, _)) if comm.starts_with("kworker/") => worker.to_owned(),
                        _ => comm,
                    };
                    *by_comm.entry(name).or_default() += used;
                }
            }
            let total: u64 = by_comm.values().sum();
            let top = by_comm
                .into_iter()
                .max_by_key(|(_, t)| *t)
                .map(|(comm, t)| format!("{comm} {:.1} s", t as f64 / TICKS_PER_SEC));
            Noise {
                cpu_secs: total as f64 / TICKS_PER_SEC,
                top,
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
