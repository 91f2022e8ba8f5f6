//! Provider webhooks through the real server, on both backends: a whole campaign against the Meta mock whose signed
//! status webhooks carry every message to `read` or `failed`; the handshake; forged signatures and tokens refused;
//! opt-out keywords.

#![allow(clippy::unwrap_used)]

use pregon_mock_provider::{MockConfig, MockProvider, StatusKind, WebhookConfig};
use pregon_testkit::reqwest::Method;
use pregon_testkit::reqwest::multipart::{Form, Part};
use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    a_scheduled_campaign_is_followed_to_read_or_failed_by_signed_webhooks,
    forged_or_unsigned_webhooks_are_refused_and_change_nothing,
    the_meta_handshake_answers_only_the_right_token,
    an_opt_out_reply_adds_the_number_to_the_list,
);

const SECRET: &str = "meta-app-secret";

async fn app_with_meta(backend: Backend, mock: &MockProvider) -> (TestApp, String) {
    let app = TestApp::spawn_with(backend, |c| c.send = true).await;
    let r = app
        .post_json(
            "/v1/accounts",
            &json!({"name": "meta", "provider": "meta", "sender": "106540352242922",
                    "credentials": {"access_token": "EAAG-token", "app_secret": SECRET, "verify_token": "verify-me"},
                    "rate_per_second": 50, "concurrency": 20, "base_url": mock.url(),
                    "default_language": "en_US"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let account = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let templates: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("templates/sandbox.json")).unwrap()).unwrap();
    let r = app
        .post_json(&format!("/v1/accounts/{account}/templates"), &templates)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    (app, account)
}

async fn a_scheduled_campaign_is_followed_to_read_or_failed_by_signed_webhooks(backend: Backend) {
    let mock = MockProvider::start(MockConfig {
        latency: Duration::from_millis(30),
        ..MockConfig::default()
    })
    .await;
    let (app, account) = app_with_meta(backend, &mock).await;
    let mut hook = WebhookConfig::new(app.url(&format!("/webhooks/meta/{account}")), SECRET);
    hook.delay = Duration::from_millis(100);
    hook.fail_ratio = 0.25;
    mock.set_webhook(Some(hook));
    // The fixture, two seconds ahead.
    let scheduled = chrono::Utc::now() + chrono::Duration::seconds(2);
    let bytes = std::fs::read(fixtures().join("files/chat-tonic.csv")).unwrap();
    let form = Form::new()
        .text("account", account.clone())
        .text("scheduled_at", scheduled.to_rfc3339())
        .part("file", Part::bytes(bytes).file_name("chat-tonic.csv"));
    let r = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let done = app
        .wait_for(&id, Duration::from_secs(30), |c| {
            let k = &c["counts"];
            c["status"] == "completed" && k["read"].as_u64().unwrap() + k["failed"].as_u64().unwrap() == 4
        })
        .await;
    let started: chrono::DateTime<chrono::Utc> = done["started_at"].as_str().unwrap().parse().unwrap();
    assert!(started >= scheduled && started - scheduled < chrono::Duration::seconds(1));
    // What the mock decided is what Pregon shows.
    let stats = mock.stats();
    let failed_by_mock = stats.webhooks.by_status.get(&StatusKind::Failed).copied().unwrap_or(0);
    assert_eq!(done["counts"]["failed"].as_u64().unwrap(), failed_by_mock, "{done}");
    assert_eq!(done["counts"]["read"].as_u64().unwrap(), 4 - failed_by_mock);
    let received = mock.received();
    assert_eq!(received.len(), 4);
    for m in app.messages(&id).await {
        let sent = received
            .iter()
            .find(|r| r.callback_data.as_deref() == m["id"].as_str())
            .unwrap_or_else(|| panic!("the mock never saw {m}"));
        assert_eq!(m["provider_message_id"].as_str(), Some(sent.wamid.as_str()));
        match m["status"].as_str().unwrap() {
            "read" => assert!(m["delivered_at"].is_string() && m["read_at"].is_string()),
            "failed" => assert_eq!(m["error"]["code"], "131049", "{m}"),
            other => panic!("{other}: {m}"),
        }
    }
}

async fn forged_or_unsigned_webhooks_are_refused_and_change_nothing(backend: Backend) {
    let mock = MockProvider::start(MockConfig::default()).await;
    let (app, account) = app_with_meta(backend, &mock).await;
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "statuses": [{"id": "wamid.x", "status": "read",
        "timestamp": "1750030073", "recipient_id": "5491123456789"}]}}]}]})
    .to_string();
    let url = app.url(&format!("/webhooks/meta/{account}"));
    let client = pregon_testkit::reqwest::Client::new();
    let forged = format!(
        "sha256={}",
        pregon_mock_provider::sign("not-the-secret", body.as_bytes())
    );
    for signature in [Some(forged.as_str()), None, Some("sha256=zz"), Some("md5=abc")] {
        let mut r = client
            .post(&url)
            .body(body.clone())
            .header("content-type", "application/json");
        if let Some(s) = signature {
            r = r.header("x-hub-signature-256", s);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401, "{signature:?}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], "unauthorized");
    }
    let good = format!("sha256={}", pregon_mock_provider::sign(SECRET, body.as_bytes()));
    let r = client
        .post(&url)
        .body(body.clone())
        .header("x-hub-signature-256", good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["applied"].as_u64(), v["ignored"].as_u64()),
        (Some(0), Some(1)),
        "no such message: {v}"
    );
    // Unknown accounts and the wrong provider look like any unknown path.
    let r = client
        .post(app.url(&format!("/webhooks/gupshup/{account}")))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client
        .post(app.url("/webhooks/meta/01a20000-0000-7000-8000-000000000000"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        app.state
            .metrics
            .webhook_requests_refused
            .load(std::sync::atomic::Ordering::Relaxed),
        4
    );
}

async fn the_meta_handshake_answers_only_the_right_token(backend: Backend) {
    let mock = MockProvider::start(MockConfig::default()).await;
    let (app, account) = app_with_meta(backend, &mock).await;
    let client = pregon_testkit::reqwest::Client::new();
    let url = |token: &str| {
        app.url(&format!(
            "/webhooks/meta/{account}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        ))
    };
    let r = client.get(url("verify-me")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let r = client.get(url("guess")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

async fn an_opt_out_reply_adds_the_number_to_the_list(backend: Backend) {
    let mock = MockProvider::start(MockConfig::default()).await;
    let (app, account) = app_with_meta(backend, &mock).await;
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5491123456789"}],
        "messages": [{"from": "5491123456789", "id": "wamid.in1", "timestamp": "1750030073", "type": "text",
                      "text": {"body": " baja "}}]}}]}]})
    .to_string();
    let r = pregon_testkit::reqwest::Client::new()
        .post(app.url(&format!("/webhooks/meta/{account}")))
        .header(
            "x-hub-signature-256",
            format!("sha256={}", pregon_mock_provider::sign(SECRET, body.as_bytes())),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["opted_out"], 1);
    let list: Value = app.get("/v1/optouts").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"][0]["phone"], "+5491123456789", "{list}");
}
