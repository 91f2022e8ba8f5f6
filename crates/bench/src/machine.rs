//! The machine a benchmark ran on: cores, CPU, memory, kernel, PostgreSQL, rustc, commit, where temporary files go.

use serde_json::{Value, json};

/// The machine the bench ran on.
pub struct Machine {
    nproc: usize,
    cpu: String,
    ram_gb: f64,
    kernel: String,
    postgres: String,
    postgres_settings: String,
    rustc: String,
    commit: String,
    temp_fs: String,
}

fn command(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Machine {
    /// Read it from /proc and the tools at hand.
    pub fn read() -> Machine {
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
        let admin = std::env::var("PREGON_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| pregon_store::testing::DEFAULT_TEST_POSTGRES_URL.into());
        let postgres = command("psql", &[&admin, "-XAtc", "SELECT version()"]).unwrap_or_else(|| "unreachable".into());
        // The settings that decide bulk-load speed (docs/operations.md): a figure means little without them.
        let postgres_settings = command(
            "psql",
            &[
                &admin,
                "-XAtc",
                "SELECT string_agg(name || ' ' || current_setting(name), ', ' ORDER BY name) FROM pg_settings \
                 WHERE name IN ('shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'wal_compression', \
                 'synchronous_commit', 'full_page_writes')",
            ],
        )
        .unwrap_or_default();
        let dirty = command("git", &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        let commit = command("git", &["rev-parse", "--short", "HEAD"])
            .map(|c| if dirty { format!("{c} + uncommitted changes") } else { c })
            .unwrap_or_else(|| "?".into());
        let temp = std::env::temp_dir();
        let temp_fs = command("df", &["--output=fstype,source", &temp.to_string_lossy()])
            .and_then(|s| {
                s.lines()
                    .nth(1)
                    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" on "))
            })
            .map(|fs| format!("{} ({fs})", temp.display()))
            .unwrap_or_else(|| temp.display().to_string());
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, usize::from),
            cpu,
            ram_gb: ram_kib * 1024.0 / 1e9,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            postgres,
            postgres_settings,
            rustc: command("rustc", &["--version"]).unwrap_or_else(|| "?".into()),
            commit,
            temp_fs,
        }
    }

    /// A few lines for people.
    pub fn describe(&self) -> String {
        format!(
            "machine: {} cores (nproc), {}, {:.1} GB RAM, Linux {}\nPostgreSQL: {}\nPostgreSQL settings: {}\n{}; \
             commit {}\nSQLite files and spooled uploads under {}",
            self.nproc,
            self.cpu,
            self.ram_gb,
            self.kernel,
            self.postgres,
            self.postgres_settings,
            self.rustc,
            self.commit,
            self.temp_fs
        )
    }

    /// For the JSON report.
    pub fn json(&self) -> Value {
        json!({
            "nproc": self.nproc, "cpu": self.cpu, "ram_gb": self.ram_gb, "kernel": self.kernel,
            "postgres": self.postgres,
            "postgres_settings": self.postgres_settings, "rustc": self.rustc, "commit": self.commit, "temp_fs": self.temp_fs,
        })
    }
}
