//! Secrets never reach the logs: provider credentials, tokens (in headers, Basic credentials or the query string)
//! and database passwords, with every target logging at TRACE.

#![allow(clippy::unwrap_used)]

use pregon_testkit::reqwest::Method;
use pregon_testkit::{Backend, TestApp};
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_ever_logged() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let app = TestApp::spawn(Backend::Sqlite).await;
    let account = json!({
        "name": "main", "provider": "meta", "sender": "1065",
        "credentials": {"access_token": "EAAG-LOGSECRET-1", "app_secret": "LOGSECRET-2", "verify_token": "LOGSECRET-3"}
    });
    let created: serde_json::Value = app
        .post_json("/v1/accounts", &account)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    app.get(&format!("/v1/accounts/{id}")).send().await.unwrap();
    let patch = json!({"credentials": {"access_token": "EAAG-LOGSECRET-4"}});
    app.request(Method::PATCH, &format!("/v1/accounts/{id}"))
        .json(&patch)
        .send()
        .await
        .unwrap();
    // A refused change: the error names the key, not the value.
    let bad = json!({"credentials": {"access_token": "EAAG-LOGSECRET-5", "nope": "LOGSECRET-6"}});
    app.request(Method::PATCH, &format!("/v1/accounts/{id}"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    // The token, every way it can be presented.
    app.client
        .get(app.url("/v1/accounts"))
        .basic_auth("acme", Some(&app.token))
        .send()
        .await
        .unwrap();
    app.client
        .get(app.url(&format!("/api/v1/acme/hsm?query=%7B%7D&token={}", app.token)))
        .send()
        .await
        .unwrap();
    app.client
        .get(app.url(&format!("/v1/accounts?token={}", app.token)))
        .send()
        .await
        .unwrap();
    // The store reads the credentials back (as a sender will).
    let stored = app.store.get_account(app.app.id, id.parse().unwrap()).await.unwrap();
    tracing::debug!(?stored, "account as the sender sees it");
    let token = app.token.clone();
    drop(app);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("account created"), "the capture works: {text}");
    assert!(text.contains("/api/v1/acme/hsm"), "requests are logged (path only)");
    for secret in [
        "LOGSECRET-1",
        "LOGSECRET-2",
        "LOGSECRET-3",
        "LOGSECRET-4",
        "LOGSECRET-5",
        "LOGSECRET-6",
    ] {
        assert!(!text.contains(secret), "{secret} was logged");
    }
    assert!(!text.contains(&token[4..]), "the token was logged");
}
