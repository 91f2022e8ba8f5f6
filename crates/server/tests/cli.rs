//! The `pregon` binary as a new user runs it: `--help`, `apps create`, the first run on an empty embedded
//! database, and a graceful stop on SIGTERM.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pregon");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn clean_env(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("PREGON_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

#[test]
fn help_explains_every_setting() {
    let out = clean_env(&mut Command::new(BIN)).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for setting in [
        "PREGON_CONFIG",
        "PREGON_DATABASE_URL",
        "PREGON_LISTEN",
        "PREGON_LOG_FORMAT",
        "PREGON_LOG",
        "PREGON_MAX_BODY_BYTES",
        "PREGON_REQUEST_TIMEOUT_SECS",
        "PREGON_DEMO",
        "apps",
        "serve",
    ] {
        assert!(help.contains(setting), "--help does not mention {setting}:\n{help}");
    }
}

#[test]
fn a_bad_settings_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pregon.toml");
    std::fs::write(&file, "listen = \"nowhere\"\n").unwrap();
    let out = clean_env(&mut Command::new(BIN))
        .arg("--config")
        .arg(&file)
        .arg("apps")
        .arg("create")
        .arg("x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invalid settings file") && err.contains("listen"), "{err}");
}

#[test]
fn apps_create_prints_the_token_last_and_refuses_bad_or_taken_names() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let run = |name: &str| {
        clean_env(&mut Command::new(BIN))
            .args(["apps", "create", name])
            .env("PREGON_DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let out = run("acme");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.split_whitespace().last().unwrap();
    assert!(token.starts_with("pgn_") && token.len() == 47, "{stdout}");
    let out = run("acme");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = run("has space");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("app name"));
}

/// Clone, run, curl: the first run creates the demo app and prints its token; with it, `/v1/accounts` lists the
/// sandbox account and its templates. SIGTERM then stops the service cleanly.
#[test]
fn first_run_serves_the_sandbox_account_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = clean_env(&mut Command::new(BIN))
        .current_dir(dir.path())
        .env("PREGON_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut token = None;
    let started = Instant::now();
    let mut line = String::new();
    while token.is_none() && started.elapsed() < Duration::from_secs(30) {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        token = line
            .split_whitespace()
            .find(|w| w.starts_with("pgn_"))
            .map(str::to_owned);
    }
    let token = token.expect("the first run prints a token");
    assert!(
        dir.path().join("data/pregon.db").exists(),
        "the embedded database is created under ./data"
    );

    pregon::install_crypto_provider();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let accounts: Value = runtime.block_on(async {
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/v1/accounts");
        loop {
            match client.get(&url).bearer_auth(&token).send().await {
                Ok(r) => break r.json().await.unwrap(),
                Err(_) if started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("{e}"),
            }
        }
    });
    let data = accounts["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{accounts}");
    assert_eq!(
        (data[0]["name"].as_str(), data[0]["provider"].as_str()),
        (Some("sandbox"), Some("sandbox"))
    );
    let mut names: Vec<_> = data[0]["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "appointment_reminder",
            "hello_world",
            "order_confirmation",
            "payment_due"
        ]
    );

    let kill = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "pregon did not stop within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "a graceful stop exits 0: {status:?}");

    // A second start on the same database creates nothing and prints no token.
    let port = free_port();
    let again = clean_env(&mut Command::new(BIN))
        .current_dir(dir.path())
        .env("PREGON_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    runtime.block_on(async {
        let url = format!("http://127.0.0.1:{port}/healthz");
        while reqwest::get(&url).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "second start never answered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Command::new("kill")
        .arg("-TERM")
        .arg(again.id().to_string())
        .status()
        .unwrap();
    let out = again.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("pgn_"),
        "no new token on a second start"
    );
}
