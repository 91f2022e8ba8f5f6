//! The `pregon` binary as a new user runs it: `--help`, `apps create`, the first run on an empty embedded
//! database, and a graceful stop on SIGTERM; the client commands against a real server (uploads, status, controls,
//! accounts, templates, errors), and `validate` offline on the fixtures.

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

// ---------------------------------------------------------------------------------------------------------------
// Client commands: the real binary against a real server (the testkit's, on port 0), over real HTTP.

use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::json;

on_both_backends!(
    upload_shows_the_campaign_id_last_and_its_counts,
    upload_with_a_template_maps_parameters_to_columns,
    status_prints_counts_and_watch_follows_the_campaign_to_its_end,
    pause_resume_and_cancel_move_the_campaign,
    server_errors_are_printed_in_words_with_their_exit_code,
    accounts_and_templates_from_the_command_line,
);

/// What one run of the binary gave.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The last line of stdout: where commands that create something put its id.
    fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }

    /// The value of a `key value` line of stdout.
    fn value(&self, key: &str) -> Option<&str> {
        self.stdout.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(key)).then(|| words.next()).flatten()
        })
    }
}

/// Run `pregon ARGS` with only `env` among the `PREGON_*` variables; stdin, stdout and stderr are not terminals,
/// as in a script or CI.
async fn pregon(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("PREGON_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// `pregon ARGS` pointed at `app` with its token, through the environment as a user would set it.
async fn client(app: &TestApp, args: &[&str]) -> Run {
    pregon(args, &[("PREGON_SERVER", &app.base), ("PREGON_TOKEN", &app.token)]).await
}

fn fixture(path: &str) -> String {
    fixtures().join(path).display().to_string()
}

async fn campaign(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/v1/campaigns/{id}")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{id} is not a campaign of the app");
    r.json().await.unwrap()
}

async fn upload_shows_the_campaign_id_last_and_its_counts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({})).await;
    let file = fixture("files/chat-tonic.csv");
    let run = client(
        &app,
        &["campaign", "upload", &file, "--account", &account, "--name", "promo"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    // Progress bars hide themselves when stderr is not a terminal: nothing but errors would be there.
    assert_eq!(run.stderr, "", "stderr is not a terminal");
    let c = campaign(&app, run.last_line()).await;
    assert_eq!(c["name"], "promo");
    assert_eq!(c["status"], "scheduled", "the CLI waited for the rows to be read: {c}");
    assert_eq!(
        (c["counts"]["accepted"].as_u64(), c["counts"]["rejected"].as_u64()),
        (Some(4), Some(7))
    );
    assert_eq!(
        (run.value("accepted"), run.value("rejected")),
        (Some("4"), Some("7")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("/v1/campaigns/{}/rejections", run.last_line()))
    );

    // A start time goes with it.
    let at = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let run = client(&app, &["campaign", "upload", &file, "--account", &account, "--at", &at]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let c = campaign(&app, run.last_line()).await;
    let scheduled: chrono::DateTime<chrono::Utc> = c["scheduled_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        scheduled.timestamp(),
        at.parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp()
    );

    // A malformed time is refused before a byte is sent.
    let run = client(
        &app,
        &["campaign", "upload", &file, "--account", &account, "--at", "tomorrow"],
    )
    .await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--at `tomorrow`"), "{}", run.stderr);

    // A file the server refuses as a whole: its reason, and the file exit code.
    let run = client(
        &app,
        &["campaign", "upload", &fixture("files/empty.csv"), "--account", &account],
    )
    .await;
    assert_eq!(run.code, Some(11), "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid_file") && run.stderr.contains("empty_file"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    let list: Value = app.get("/v1/campaigns").send().await.unwrap().json().await.unwrap();
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        2,
        "nothing created for the refused file"
    );
}

async fn upload_with_a_template_maps_parameters_to_columns(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sandbox_account(json!({})).await;
    // The account by its name, the mapping model with header media.
    let run = client(
        &app,
        &[
            "campaign",
            "upload",
            &fixture("files/jelou.csv"),
            "--account",
            "sandbox",
            "--template",
            "order_confirmation",
            "--param",
            "1=order_id",
            "--param",
            "2=amount",
            "--param",
            "3=customer_name",
            "--media-url",
            "https://example.com/o.jpg",
            "--media-type",
            "image",
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let id = run.last_line();
    let c = campaign(&app, id).await;
    assert_eq!(c["template"], "order_confirmation");
    assert_eq!(
        (c["counts"]["accepted"].as_u64(), c["counts"]["rejected"].as_u64()),
        (Some(4), Some(0))
    );
    let messages = app.messages(id).await;
    let first = messages.iter().find(|m| m["phone"] == "+593991234567").unwrap();
    let text = first["rendered_text"].as_str().unwrap();
    assert!(
        text.contains("A12345") && text.contains("$250.00") && text.contains("María José"),
        "{text}"
    );

    // A parameter mapped to a column the file does not have: the server's reason, the file exit code.
    let run = client(
        &app,
        &[
            "campaign",
            "upload",
            &fixture("files/jelou.csv"),
            "--account",
            "sandbox",
            "--template",
            "order_confirmation",
            "--param",
            "1=no_such_column",
        ],
    )
    .await;
    assert_eq!(run.code, Some(11), "{}", run.stderr);
    assert!(run.stderr.contains("no_such_column"), "{}", run.stderr);
}

/// A server that sends, with a quick sandbox whose receipts come a second apart: `delivered` and `read` arrive well
/// after the campaign has completed, as they do from a real provider.
async fn sending_app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.send = true;
        c.sending.providers.sandbox.latency = Duration::from_millis(5);
        c.sending.providers.sandbox.status_interval = Some(Duration::from_secs(1));
    })
    .await
}

/// `pregon campaign upload fixtures/files/chat-tonic.csv --account ACCOUNT`; the campaign id it prints last.
async fn upload_chat_tonic_csv(app: &TestApp, account: &str) -> String {
    let run = client(
        app,
        &[
            "campaign",
            "upload",
            &fixture("files/chat-tonic.csv"),
            "--account",
            account,
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.last_line().to_owned()
}

async fn status_prints_counts_and_watch_follows_the_campaign_to_its_end(backend: Backend) {
    let app = sending_app(backend).await;
    let account = app.sandbox_account(json!({})).await;
    let id = upload_chat_tonic_csv(&app, &account).await;

    let status = client(&app, &["campaign", "status", &id]).await;
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    assert_eq!(status.value("id"), Some(id.as_str()));
    assert_eq!(
        (status.value("accepted"), status.value("rejected")),
        (Some("4"), Some("7"))
    );
    let per_status: u64 = [
        "pending",
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
        "failed",
        "cancelled",
        "suppressed",
    ]
    .iter()
    .map(|s| {
        status
            .value(s)
            .unwrap_or_else(|| panic!("no {s} line:\n{}", status.stdout))
            .parse::<u64>()
            .unwrap()
    })
    .sum();
    assert_eq!(
        per_status, 4,
        "every message is counted under one status:\n{}",
        status.stdout
    );

    let watched = tokio::time::timeout(
        Duration::from_secs(60),
        client(&app, &["campaign", "status", &id, "--watch"]),
    )
    .await
    .expect("--watch ends once the campaign and its receipts have");
    assert_eq!(watched.code, Some(0), "{}", watched.stderr);
    assert_eq!(watched.value("status"), Some("completed"), "{}", watched.stdout);
    assert_eq!(watched.stderr, "", "no bars drawn into a pipe");
    // It follows the sandbox's receipts past the campaign's end, to every message read.
    assert_eq!(
        (watched.value("sent"), watched.value("delivered"), watched.value("read")),
        (Some("0"), Some("0"), Some("4")),
        "{}",
        watched.stdout
    );
    let c = campaign(&app, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["counts"]["read"], 4, "{c}");

    // Watching a campaign that has already completed still follows the receipts it waits for.
    let id = upload_chat_tonic_csv(&app, &account).await;
    let ended = app
        .wait_for(&id, Duration::from_secs(30), |c| c["status"] == "completed")
        .await;
    // Receipts come a second apart, so the last message sent is still `sent` here.
    assert!(ended["counts"]["sent"].as_u64() > Some(0), "{ended}");
    let watched = client(&app, &["campaign", "status", &id, "--watch"]).await;
    assert_eq!(watched.code, Some(0), "{}", watched.stderr);
    assert_eq!(
        (watched.value("sent"), watched.value("delivered"), watched.value("read")),
        (Some("0"), Some("0"), Some("4")),
        "{}",
        watched.stdout
    );
}

async fn pause_resume_and_cancel_move_the_campaign(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({})).await;
    let at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let run = client(
        &app,
        &[
            "campaign",
            "upload",
            &fixture("files/chat-tonic.csv"),
            "--account",
            &account,
            "--at",
            &at,
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let id = run.last_line().to_owned();
    assert_eq!(campaign(&app, &id).await["status"], "scheduled");

    for (action, expected) in [("pause", "paused"), ("resume", "scheduled"), ("cancel", "cancelled")] {
        let run = client(&app, &["campaign", action, &id]).await;
        assert_eq!(run.code, Some(0), "{action}: {}", run.stderr);
        assert_eq!(run.stdout.trim(), format!("campaign {id} is {expected}"));
        assert_eq!(campaign(&app, &id).await["status"], expected, "after {action}");
    }
    assert_eq!(campaign(&app, &id).await["counts"]["cancelled"], 4);

    // A cancelled campaign cannot resume: the server's words, the server-error exit code.
    let run = client(&app, &["campaign", "resume", &id]).await;
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(
        run.stderr.starts_with("pregon: ") && run.stderr.contains("[invalid_transition, HTTP 409]"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("cancelled"), "{}", run.stderr);
}

async fn server_errors_are_printed_in_words_with_their_exit_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let unknown = "0196a3b2-7c3e-7b8a-9d41-2f6c8e1a5b30";
    let run = client(&app, &["campaign", "status", unknown]).await;
    assert_eq!(run.code, Some(4));
    assert_eq!(run.stderr, "pregon: campaign not found [not_found, HTTP 404]\n");
    assert_eq!(run.stdout, "");

    // Not an id at all: refused before asking the server, so it never becomes another path of the API.
    let run = client(&app, &["campaign", "pause", "../accounts"]).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("is not a campaign id"), "{}", run.stderr);

    // An unknown account: the upload does not start.
    let run = client(
        &app,
        &[
            "campaign",
            "upload",
            &fixture("files/chat-tonic.csv"),
            "--account",
            "nope",
        ],
    )
    .await;
    assert_eq!(run.code, Some(4));
    assert!(run.stderr.contains("account `nope` not found"), "{}", run.stderr);

    // A wrong token, given as a flag (the flag wins over the environment).
    let run = pregon(
        &[
            "campaign",
            "status",
            unknown,
            "--server",
            &app.base,
            "--token",
            "pgn_wrong",
        ],
        &[("PREGON_TOKEN", &app.token)],
    )
    .await;
    assert_eq!(run.code, Some(5), "{}", run.stderr);
    assert!(
        run.stderr.contains("refused the token") && run.stderr.contains("unauthorized"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("pgn_wrong"), "the token is not echoed");

    // No token at all.
    let run = pregon(&["accounts", "list", "--server", &app.base], &[]).await;
    assert_eq!(run.code, Some(5));
    assert!(run.stderr.contains("PREGON_TOKEN"), "{}", run.stderr);

    // Nobody listening: a clear message naming the URL.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let run = pregon(
        &["campaign", "status", unknown, "--server", &closed, "--token", "x"],
        &[],
    )
    .await;
    assert_eq!(run.code, Some(6), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("cannot reach the Pregon server at {closed}"))
            && run.stderr.contains("connection refused"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("reqwest") && !run.stderr.contains("Error {"),
        "no debug dump: {}",
        run.stderr
    );
}

async fn accounts_and_templates_from_the_command_line(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let run = client(
        &app,
        &[
            "accounts",
            "create",
            "--name",
            "main",
            "--provider",
            "sandbox",
            "--default-language",
            "en_US",
        ],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let id = run.last_line().to_owned();
    let a: Value = app
        .get(&format!("/v1/accounts/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (a["name"].as_str(), a["default_language"].as_str()),
        (Some("main"), Some("en_US"))
    );

    // The server's validation, in its words.
    let run = client(
        &app,
        &[
            "accounts",
            "create",
            "--name",
            "g",
            "--provider",
            "gupshup",
            "--sender",
            "1",
        ],
    )
    .await;
    assert_eq!(run.code, Some(4));
    assert!(
        run.stderr.contains("invalid_account") && run.stderr.contains("credentials."),
        "{}",
        run.stderr
    );

    let templates = fixture("templates/sandbox.json");
    let run = client(&app, &["templates", "sync", "main", "--file", &templates]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("4 created, 0 updated, 0 unchanged, 0 deleted"),
        "{}",
        run.stdout
    );
    let run = client(&app, &["templates", "sync", &id, "--file", &templates]).await;
    assert!(
        run.stdout.contains("0 created, 0 updated, 4 unchanged, 0 deleted"),
        "{}",
        run.stdout
    );

    // One template changed and the others gone from the file: replaced, and pruned.
    let mut items: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&templates).unwrap()).unwrap();
    items.retain(|t| t["name"] == "hello_world");
    items[0]["status"] = json!("PAUSED");
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.json");
    std::fs::write(&one, serde_json::to_string(&items).unwrap()).unwrap();
    let run = client(
        &app,
        &["templates", "sync", &id, "--file", one.to_str().unwrap(), "--prune"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("0 created, 1 updated, 0 unchanged, 3 deleted"),
        "{}",
        run.stdout
    );
    let stored: Value = app
        .get(&format!("/v1/accounts/{id}/templates"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored = stored["data"].as_array().unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0]["name"].as_str(), stored[0]["status"].as_str()),
        (Some("hello_world"), Some("PAUSED"))
    );

    let run = client(&app, &["accounts", "list"]).await;
    assert_eq!(run.code, Some(0));
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        [id.as_str(), "main", "sandbox", "sandbox", "80", "1"]
    );
    let run = client(&app, &["templates", "list", "main"]).await;
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("hello_world") && l.contains("PAUSED")),
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------------------------------------------------------
// `validate`: offline, no server and no database.

fn validate(args: &[&str]) -> Run {
    let out = clean_env(&mut Command::new(BIN))
        .arg("validate")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn validate_accepts_a_good_file_with_exit_0() {
    let run = validate(&[
        &fixture("files/jelou.csv"),
        "--templates",
        &fixture("templates/sandbox.json"),
        "--template",
        "order_confirmation",
        "--param",
        "1=order_id",
        "--param",
        "2=amount",
        "--param",
        "3=customer_name",
        "--media-url",
        "https://example.com/o.jpg",
        "--media-type",
        "image",
    ]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        (run.value("rows"), run.value("accepted"), run.value("rejected")),
        (Some("4"), Some("4"), Some("0"))
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn validate_lists_every_rejected_row_with_its_code() {
    // The XLSX in a ZIP: unwrapped and read as the server would.
    let run = validate(&[
        &fixture("files/chat-tonic.xlsx.zip"),
        "--templates",
        &fixture("templates/sandbox.json"),
    ]);
    assert_eq!(run.code, Some(10), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("(xlsx in zip)"), "{}", run.stdout);
    assert_eq!(
        (run.value("rows"), run.value("accepted"), run.value("rejected")),
        (Some("11"), Some("4"), Some("7"))
    );
    let rows: Vec<(String, String, String)> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w[0].to_owned(), w[1].to_owned(), w[2].to_owned())
        })
        .collect();
    let expected = [
        ("6", "phone", "invalid_phone"),
        ("7", "phone", "duplicate_recipient"),
        ("8", "elementName", "unknown_template"),
        ("9", "parameter", "parameter_count"),
        ("10", "media.url", "missing_media"),
        ("11", "parameter", "invalid_parameter"),
        ("12", "buttonParameter", "missing_button_parameter"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(rows, expected, "{}", run.stdout);

    // A template that is not approved, and one the server would refuse to store (left out, with a warning).
    let run = validate(&[
        &fixture("files/chat-tonic.json"),
        "--templates",
        &fixture("templates/validate-pending-and-broken.json"),
    ]);
    assert_eq!(run.code, Some(10));
    assert!(
        run.stderr.contains("`payment_due`) is left out") && run.stderr.contains("{{2}} is missing"),
        "{}",
        run.stderr
    );
    // JSON rows are numbered from 1: hello_world is element 4.
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("4 "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        line.contains("template_not_approved") && line.contains("PENDING"),
        "{line}"
    );
    let line = run.stdout.lines().find(|l| l.starts_with("3 ")).unwrap();
    assert!(
        line.contains("unknown_template") && line.contains("payment_due"),
        "{line}"
    );
}

#[test]
fn validate_refuses_an_unusable_file_as_a_whole() {
    let templates = fixture("templates/sandbox.json");
    for (file, reason) in [
        ("files/truncated.csv.gz", "archive_corrupt"),
        ("files/empty.csv", "empty_file"),
        ("files/wrong-sheet.xlsx", "wrong_sheet"),
        ("files/nested.zip", "archive_nested"),
    ] {
        let run = validate(&[&fixture(file), "--templates", &templates]);
        assert_eq!(run.code, Some(11), "{file}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .starts_with(&format!("pregon: the file cannot be used ({reason}): ")),
            "{file}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{file}");
    }
    // The Jelou header rule holds only for the mapping model.
    let run = validate(&[
        &fixture("files/jelou-bad-header.csv"),
        "--templates",
        &templates,
        "--template",
        "hello_world",
    ]);
    assert_eq!(run.code, Some(11));
    assert!(
        run.stderr.contains("(invalid_header)") && run.stderr.contains("Invalid CSV format"),
        "{}",
        run.stderr
    );
    // A template the file of templates does not have.
    let run = validate(&[
        &fixture("files/jelou.csv"),
        "--templates",
        &templates,
        "--template",
        "nope",
    ]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("no template named `nope`"), "{}", run.stderr);
    // A campaign file that is not there at all is not "unusable": it is a typo.
    let run = validate(&["/nonexistent/c.csv", "--templates", &templates]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("cannot open /nonexistent/c.csv"), "{}", run.stderr);
}

#[test]
fn help_documents_the_exit_codes_and_the_client_commands() {
    let out = clean_env(&mut Command::new(BIN)).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Exit codes:",
        "PREGON_SERVER",
        "PREGON_TOKEN",
        "campaign",
        "validate",
        "accounts",
        "templates",
    ] {
        assert!(help.contains(needle), "--help does not mention {needle}:\n{help}");
    }
    for code in ["  4 ", "  5 ", "  6 ", "  10 ", "  11 "] {
        assert!(help.contains(code), "exit code {code} undocumented:\n{help}");
    }
    let out = clean_env(&mut Command::new(BIN))
        .args(["campaign", "upload", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in ["--account", "--at", "--template", "--param", "PREGON_SERVER"] {
        assert!(
            help.contains(needle),
            "upload --help does not mention {needle}:\n{help}"
        );
    }
}
