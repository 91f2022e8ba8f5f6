//! Sending through the real server on both backends: campaigns start at their time, messages go out through the
//! provider at the account's rate, outcomes and status events move them to their final state.

#![allow(clippy::unwrap_used)]

use pregon_testkit::reqwest::Method;
use pregon_testkit::reqwest::multipart::{Form, Part};
use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(a_sandbox_campaign_runs_until_every_message_is_read,);

/// A server that sends, with a quick sandbox.
async fn sending_app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.send = true;
        c.sending.providers.sandbox.latency = Duration::from_millis(5);
        c.sending.providers.sandbox.status_interval = Some(Duration::from_millis(100));
    })
    .await
}

async fn upload(app: &TestApp, account: &str, file: &str, extra: &[(&str, String)]) -> Value {
    let bytes = std::fs::read(fixtures().join("files").join(file)).unwrap();
    let mut form = Form::new()
        .text("account", account.to_owned())
        .part("file", Part::bytes(bytes).file_name(file.to_owned()));
    for (k, v) in extra {
        form = form.text(k.to_string(), v.clone());
    }
    let r = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    r.json().await.unwrap()
}

async fn messages(app: &TestApp, id: &str) -> Vec<Value> {
    let v: Value = app
        .get(&format!("/v1/campaigns/{id}/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["data"].as_array().unwrap().clone()
}

async fn a_sandbox_campaign_runs_until_every_message_is_read(backend: Backend) {
    let app = sending_app(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let created = upload(&app, &account, "chat-tonic.csv", &[]).await;
    let id = created["id"].as_str().unwrap();
    let done = app
        .wait_for(id, Duration::from_secs(30), |c| {
            c["status"] == "completed" && c["counts"]["read"] == 4
        })
        .await;
    let k = &done["counts"];
    assert_eq!((k["accepted"].as_u64(), k["rejected"].as_u64()), (Some(4), Some(7)));
    assert_eq!(
        (k["pending"].as_u64(), k["queued"].as_u64(), k["sending"].as_u64()),
        (Some(0), Some(0), Some(0))
    );
    assert!(done["started_at"].is_string() && done["finished_at"].is_string());
    for m in messages(&app, id).await {
        assert_eq!(m["status"], "read", "{m}");
        assert_eq!(m["attempts"], 1);
        assert!(m["provider_message_id"].as_str().unwrap().starts_with("sandbox."));
        for at in ["sent_at", "delivered_at", "read_at"] {
            assert!(m[at].is_string(), "{at}: {m}");
        }
    }
}
