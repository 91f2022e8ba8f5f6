//! Secrets never reach the logs: provider credentials, tokens (in headers, Basic credentials or the query string),
//! webhook and callback secrets, with every target logging at TRACE — through the API and through a whole campaign
//! sent to the mock Meta Cloud API, followed by its signed status webhooks and delivered to an outbound callback.

#![allow(clippy::unwrap_used)]

use pregon_mock_provider::{MockConfig, MockProvider, WebhookConfig};
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

    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.send = true).await;
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

    // A whole campaign: sent with the access token, followed by signed webhooks, delivered to a signed callback.
    let mock = MockProvider::start(MockConfig {
        access_token: Some("EAAG-LOGSECRET-7".into()),
        ..MockConfig::default()
    })
    .await;
    let live: serde_json::Value = app
        .post_json(
            "/v1/accounts",
            &json!({"name": "live", "provider": "meta", "sender": "1066", "base_url": mock.url(),
                    "rate_per_second": 50,
                    "credentials": {"access_token": "EAAG-LOGSECRET-7", "app_secret": "LOGSECRET-8",
                                    "verify_token": "LOGSECRET-9"}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let live = live["id"].as_str().unwrap().to_owned();
    mock.set_webhook(Some(WebhookConfig::new(
        app.url(&format!("/webhooks/meta/{live}")),
        "LOGSECRET-8",
    )));
    let template = json!({"name": "ping", "language": "en", "status": "APPROVED", "category": "UTILITY",
                          "components": [{"type": "BODY", "text": "Hello {{1}}"}]});
    app.post_json(&format!("/v1/accounts/{live}/templates"), &template)
        .send()
        .await
        .unwrap();
    let receiver = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let callback: serde_json::Value = app
        .request(Method::PUT, "/v1/callback")
        .json(&json!({"url": receiver.uri()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let callback_secret = callback["secret"].as_str().unwrap().to_owned();
    let csv = "phone,name\n+5491123456789,Ana\n+5491123456790,Luis\n";
    let form = pregon_testkit::reqwest::multipart::Form::new()
        .text("account", live.clone())
        .text("template", "ping")
        .text("language", "en")
        .text("params", r#"[{"param": 1, "column": "name"}]"#)
        .part(
            "file",
            pregon_testkit::reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("c.csv"),
        );
    let created: serde_json::Value = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let campaign = created["id"].as_str().unwrap().to_owned();
    let done = app
        .wait_for(&campaign, std::time::Duration::from_secs(30), |c| {
            c["counts"]["read"] == 2
        })
        .await;
    assert_eq!(done["counts"]["read"], 2, "{done}");
    let delivered = std::time::Instant::now();
    while receiver.received_requests().await.unwrap_or_default().is_empty() {
        assert!(
            delivered.elapsed() < std::time::Duration::from_secs(20),
            "no callback delivered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

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
        "LOGSECRET-7",
        "LOGSECRET-8",
        "LOGSECRET-9",
        &callback_secret,
    ] {
        assert!(!text.contains(secret), "{secret} was logged");
    }
    assert!(text.contains(&campaign), "the campaign's work is in the capture");
    assert!(!text.contains(&token[4..]), "the token was logged");
}
