//! Other work on the machine while a case runs. On a shared 2-core machine a compiler, another engineer's test suite
//! or benchmark takes a core (or the disk) from the one being measured; the bench cannot stop them, but it can say so.
//!
//! A thread samples `/proc` every second and adds up the CPU time and the disk bytes (`/proc/<pid>/io`) of every
//! process that is not part of the measurement. Part of it: the bench and its descendants (the case process, psql),
//! and PostgreSQL's processes — except backends serving another process's test database (`pregon_test_<pid>_…`, as
//! `TestDatabase` names them, where `<pid>` is not one of the bench's processes), which are another engineer's tests.
//! Kernel workers' CPU is left out (it is mostly the measured case's own writeback). It also reads the hypervisor's
//! steal time from `/proc/stat`: CPU time this virtual machine wanted and did not get.
//!
//! CPU of processes that start and end between two samples is missed; disk bytes are counted for the processes alive
//! at the end (Linux adds a reaped child's to its parent's), so a writer whose parent is not sampled is missed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// `sysconf(_SC_CLK_TCK)` on Linux.
const TICKS_PER_SEC: f64 = 100.0;
/// Time between samples: reading `/proc` costs about 10 ms of CPU, which the measured case shares a core with.
const INTERVAL: Duration = Duration::from_secs(1);
const STEP: Duration = Duration::from_millis(50);

/// What other processes (and other virtual machines) took while a case ran.
#[derive(Clone, Debug, Default)]
pub struct Noise {
    /// CPU seconds of other processes.
    pub cpu_secs: f64,
    /// Disk bytes they read and wrote, MB.
    pub io_mb: f64,
    /// The busiest of them by CPU (`rustc 3.2 s`), if any took time.
    pub top: Option<String>,
    /// The busiest of them by disk bytes (`cargo 310 MB`), if any did I/O.
    pub top_io: Option<String>,
    /// CPU seconds (all CPUs) the hypervisor gave to other machines while this one wanted to run.
    pub steal_secs: f64,
}

/// Samples until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Noise>,
}

/// One process at one sample.
#[derive(Clone)]
struct Proc {
    /// Its name; kernel workers by pool (`kworker/1:1H`), not by the work item they run now.
    name: String,
    ticks: u64,
    io_bytes: u64,
    foreign: bool,
}

/// Name, parent pid and CPU ticks (user + system) from a `/proc/<pid>/stat` line.
fn read_stat(stat: &str) -> Option<(String, u32, u64)> {
    // `pid (comm) state ppid …`: comm may hold spaces and brackets, so split at the last `)`.
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let comm = &stat[open + 1..close];
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let name = match comm.split_once('-') {
        Some((pool, _)) if comm.starts_with("kworker/") => pool.to_owned(),
        _ => comm.to_owned(),
    };
    // After the comm: state, ppid, …, utime (12th), stime (13th).
    let ppid = u32::try_from(field(1)).unwrap_or(0);
    Some((name, ppid, field(11) + field(12)))
}

/// Bytes a process (and its reaped children) read from and wrote to storage.
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

/// Steal ticks of all CPUs (`/proc/stat`, first line, eighth value).
fn steal_ticks() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(8))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Every process, now.
fn snapshot() -> HashMap<u32, Proc> {
    let mut stats = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok();
            if let Some((name, ppid, ticks)) = stat.as_deref().and_then(read_stat) {
                stats.push((pid, name, ppid, ticks));
            }
        }
    }
    // The bench and its descendants, whatever the binary is called.
    let mut ours = HashSet::from([std::process::id()]);
    loop {
        let before = ours.len();
        for (pid, _, ppid, _) in &stats {
            if ours.contains(ppid) {
                ours.insert(*pid);
            }
        }
        if ours.len() == before {
            break;
        }
    }
    let mut out = HashMap::with_capacity(stats.len());
    for (pid, name, _, ticks) in stats {
        let foreign = if ours.contains(&pid) {
            false
        } else if name == "postgres" {
            foreign_backend(pid, &ours)
        } else {
            true
        };
        let io_bytes = if foreign { read_io(pid) } else { 0 };
        out.insert(
            pid,
            Proc {
                name,
                ticks,
                io_bytes,
                foreign,
            },
        );
    }
    out
}

/// The busiest entry of a tally.
fn busiest(tally: &HashMap<String, u64>) -> Option<(&str, u64)> {
    tally
        .iter()
        .filter(|(_, v)| **v > 0)
        .max_by_key(|(_, v)| **v)
        .map(|(k, v)| (k.as_str(), *v))
}

impl Sampler {
    /// Start sampling.
    pub fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let steal_start = steal_ticks();
            let first = snapshot();
            let mut last = first.clone();
            let alive: HashSet<u32> = loop {
                // Short steps, so that `finish` never waits a whole interval; one last sample after the stop.
                let mut slept = Duration::ZERO;
                while slept < INTERVAL && !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(STEP);
                    slept += STEP;
                }
                let now = snapshot();
                let alive = now.keys().copied().collect();
                for (pid, proc) in now {
                    let foreign = proc.foreign || last.get(&pid).is_some_and(|p| p.foreign);
                    last.insert(pid, Proc { foreign, ..proc });
                }
                if flag.load(Ordering::Relaxed) {
                    break alive;
                }
            };
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
                // A reaped process's disk bytes are added to its parent's: count only those still alive.
                if alive.contains(&pid) {
                    *io.entry(end.name).or_default() += end.io_bytes.saturating_sub(b0);
                }
            }
            Noise {
                cpu_secs: cpu.values().sum::<u64>() as f64 / TICKS_PER_SEC,
                io_mb: io.values().sum::<u64>() as f64 / 1e6,
                top: busiest(&cpu).map(|(name, t)| format!("{name} {:.1} s", t as f64 / TICKS_PER_SEC)),
                top_io: busiest(&io).map(|(name, b)| format!("{name} {:.0} MB", b as f64 / 1e6)),
                steal_secs: steal_ticks().saturating_sub(steal_start) as f64 / TICKS_PER_SEC,
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
