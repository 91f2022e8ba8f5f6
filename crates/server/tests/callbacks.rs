//! Outbound callbacks through the real server, on both backends: a local receiver gets every status change of a
//! sandbox campaign signed with the app's secret; a receiver that fails twice gets the event on the third attempt;
//! a quick-reply button tap posted as a signed Meta webhook reaches the app with the original message's `flag`.

#![allow(clippy::unwrap_used)]

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use pregon_mock_provider::{MockConfig, MockProvider};
use pregon_testkit::reqwest::Method;
use pregon_testkit::reqwest::multipart::{Form, Part};
use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_backends!(
    status_changes_reach_the_callback_signed,
    a_failing_receiver_gets_the_event_on_the_third_attempt,
    a_button_reply_carries_the_flag_of_the_message_replied_to,
);

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Hit {
    event_id: String,
    signature: String,
    timestamp: String,
    body: String,
    answered: u16,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

type Hits = Arc<Mutex<Vec<Hit>>>;

/// A receiver on 127.0.0.1 that answers 500 to the first `fail_first` attempts of each event, 200 after.
async fn receiver(fail_first: usize) -> (String, Hits) {
    let hits: Hits = Arc::default();
    let seen = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let mut hits = seen.lock().unwrap();
                let event_id = header("x-pregon-event-id");
                let earlier = hits.iter().filter(|h| h.event_id == event_id).count();
                let answered = if earlier < fail_first { 500 } else { 200 };
                hits.push(Hit {
                    event_id,
                    signature: header("x-pregon-signature"),
                    timestamp: header("x-pregon-timestamp"),
                    body,
                    answered,
                });
                StatusCode::from_u16(answered).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hits)
}

/// Poll the receiver until `done` holds for what it got (at most `within`).
async fn wait_hits(hits: &Hits, within: Duration, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
    let started = std::time::Instant::now();
    loop {
        let now = hits.lock().unwrap().clone();
        if done(&now) {
            return now;
        }
        assert!(started.elapsed() < within, "not there after {within:?}: {now:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_signed(hit: &Hit, secret: &str) {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(hit.body.as_bytes());
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(hit.signature, expected, "bad signature on {hit:?}");
    let ts: i64 = hit.timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60, "{hit:?}");
    assert!(hit.event_id.parse::<uuid::Uuid>().is_ok(), "{hit:?}");
}

/// A sending server with a quick sandbox and quick callback retries.
async fn sending_app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.send = true;
        c.sending.providers.sandbox.latency = Duration::from_millis(5);
        c.sending.providers.sandbox.status_interval = Some(Duration::from_millis(100));
        c.callbacks.poll = Duration::from_millis(50);
        c.callbacks.backoff_base = Duration::from_millis(100);
    })
    .await
}

/// Set the app's callback to `url`; returns the secret.
async fn set_callback(app: &TestApp, url: &str) -> String {
    let r = app
        .request(Method::PUT, "/v1/callback")
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["url"], url);
    let secret = v["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    secret
}

/// Upload a Chat-Tonic CSV of `hello_world` with a `flag` per row; returns the campaign id.
async fn upload(app: &TestApp, account: &str, rows: &[(&str, &str)]) -> String {
    let mut csv = String::from("phone,elementName,languageCode,flag\n");
    for (phone, flag) in rows {
        csv.push_str(&format!("{phone},hello_world,en_US,{flag}\n"));
    }
    let form = Form::new()
        .text("account", account.to_owned())
        .part("file", Part::bytes(csv.into_bytes()).file_name("hello.csv"));
    let r = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// Whether `hits` holds a delivered status event `status` for message `id`.
fn has_status(hits: &[Hit], id: &str, status: &str) -> bool {
    hits.iter().any(|h| {
        let v = h.json();
        h.answered == 200 && v["message"] == id && v["status"] == status
    })
}

async fn status_changes_reach_the_callback_signed(backend: Backend) {
    let (url, hits) = receiver(0).await;
    let app = sending_app(backend).await;
    // Settings: only http(s); nothing set yet.
    assert_eq!(app.get("/v1/callback").send().await.unwrap().status(), 404);
    let r = app
        .request(Method::PUT, "/v1/callback")
        .json(&json!({"url": "ftp://example.com/hook"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let secret = set_callback(&app, &url).await;
    let shown: Value = app.get("/v1/callback").send().await.unwrap().json().await.unwrap();
    assert_eq!(shown, json!({"url": url}), "the secret is shown only once");

    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let flags = ["lead-1", "lead-2", "lead-3"];
    let id = upload(
        &app,
        &account,
        &[
            ("+5491123456781", flags[0]),
            ("+5491123456782", flags[1]),
            ("+5491123456783", flags[2]),
        ],
    )
    .await;
    app.wait_for(&id, Duration::from_secs(30), |c| {
        c["status"] == "completed" && c["counts"]["read"] == 3
    })
    .await;
    let sent = app.messages(&id).await;
    assert_eq!(sent.len(), 3);
    let ids: Vec<String> = sent.iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
    let got = wait_hits(&hits, Duration::from_secs(15), |h| {
        ids.iter()
            .all(|id| ["sent", "delivered", "read"].iter().all(|s| has_status(h, id, s)))
    })
    .await;
    for hit in &got {
        assert_signed(hit, &secret);
    }
    for m in &sent {
        let of_message: Vec<Value> = got.iter().map(Hit::json).filter(|v| v["message"] == m["id"]).collect();
        for status in ["sent", "delivered", "read"] {
            assert_eq!(
                of_message.iter().filter(|v| v["status"] == status).count(),
                1,
                "one {status} for {m}: {of_message:#?}"
            );
        }
        for v in &of_message {
            assert_eq!(v["type"], "status");
            assert_eq!(v["campaign"], id.as_str());
            assert_eq!(v["phone"], m["phone"]);
            assert_eq!(v["flag"], m["flag"], "{v}");
            assert_eq!(v["provider_message_id"], m["provider_message_id"]);
            assert!(v["error"].is_null() && v["at"].is_string(), "{v}");
        }
    }
    let mut event_ids: Vec<&str> = got.iter().map(|h| h.event_id.as_str()).collect();
    event_ids.sort();
    event_ids.dedup();
    assert_eq!(event_ids.len(), got.len(), "each event delivered once");

    // Removing the callback.
    let r = app.request(Method::DELETE, "/v1/callback").send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.get("/v1/callback").send().await.unwrap().status(), 404);
    let r = app.request(Method::DELETE, "/v1/callback").send().await.unwrap();
    assert_eq!(r.status(), 404);
}

async fn a_failing_receiver_gets_the_event_on_the_third_attempt(backend: Backend) {
    let (url, hits) = receiver(2).await;
    let app = sending_app(backend).await;
    let secret = set_callback(&app, &url).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let id = upload(&app, &account, &[("+5491123456781", "lead-1")]).await;
    app.wait_for(&id, Duration::from_secs(30), |c| {
        c["status"] == "completed" && c["counts"]["read"] == 1
    })
    .await;
    let message = app.messages(&id).await[0]["id"].as_str().unwrap().to_owned();
    let got = wait_hits(&hits, Duration::from_secs(20), |h| {
        ["sent", "delivered", "read"].iter().all(|s| has_status(h, &message, s))
    })
    .await;
    // Nothing more arrives once delivered.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got_later = hits.lock().unwrap().clone();
    assert_eq!(got_later.len(), got.len(), "no attempt after a 200");
    let mut events: Vec<&str> = got.iter().map(|h| h.event_id.as_str()).collect();
    events.sort();
    events.dedup();
    assert_eq!(events.len(), 3, "{got:#?}");
    for event in events {
        let attempts: Vec<&Hit> = got.iter().filter(|h| h.event_id == event).collect();
        let answers: Vec<u16> = attempts.iter().map(|h| h.answered).collect();
        assert_eq!(answers, vec![500, 500, 200], "{attempts:#?}");
        assert!(
            attempts.iter().all(|h| h.body == attempts[0].body),
            "the same event each time"
        );
        for h in attempts {
            assert_signed(h, &secret);
        }
    }
}

const META_SECRET: &str = "meta-app-secret";

async fn a_button_reply_carries_the_flag_of_the_message_replied_to(backend: Backend) {
    let (url, hits) = receiver(0).await;
    let mock = MockProvider::start(MockConfig::default()).await;
    let app = sending_app(backend).await;
    let r = app
        .post_json(
            "/v1/accounts",
            &json!({"name": "meta", "provider": "meta", "sender": "106540352242922",
                    "credentials": {"access_token": "EAAG-token", "app_secret": META_SECRET, "verify_token": "v"},
                    "rate_per_second": 50, "concurrency": 20, "base_url": mock.url(),
                    "default_language": "en_US"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let account = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let templates: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("templates/sandbox.json")).unwrap()).unwrap();
    let r = app
        .post_json(&format!("/v1/accounts/{account}/templates"), &templates)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let secret = set_callback(&app, &url).await;
    let id = upload(&app, &account, &[("+5491123456789", "skill=ventas")]).await;
    app.wait_for(&id, Duration::from_secs(30), |c| {
        c["status"] == "completed" && c["counts"]["sent"] == 1
    })
    .await;
    let sent = app.messages(&id).await.remove(0);
    let wamid = sent["provider_message_id"].as_str().unwrap().to_owned();
    let message_id = sent["id"].as_str().unwrap().to_owned();

    let inbound = |messages: Value| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5491123456789"}],
                "messages": messages}}]}]})
        .to_string()
    };
    let post = |body: String| {
        let url = app.url(&format!("/webhooks/meta/{account}"));
        async move {
            let r = pregon_testkit::reqwest::Client::new()
                .post(url)
                .header(
                    "x-hub-signature-256",
                    format!("sha256={}", pregon_mock_provider::sign(META_SECRET, body.as_bytes())),
                )
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    };
    // A quick-reply button tap in answer to the template message.
    post(inbound(
        json!([{"from": "5491123456789", "id": "wamid.in1", "timestamp": "1750030073", "type": "button",
        "context": {"from": "15550783881", "id": wamid},
        "button": {"payload": "skillId:4711", "text": "Talk to sales"}}]),
    ))
    .await;
    let got = wait_hits(&hits, Duration::from_secs(10), |h| {
        h.iter().any(|h| h.json()["type"] == "reply")
    })
    .await;
    let reply = got.iter().find(|h| h.json()["type"] == "reply").unwrap();
    assert_signed(reply, &secret);
    let v = reply.json();
    assert_eq!(v["from"], "+5491123456789", "{v}");
    assert_eq!(v["flag"], "skill=ventas", "{v}");
    assert_eq!(v["button"], json!({"payload": "skillId:4711", "text": "Talk to sales"}));
    assert_eq!(v["message"], message_id.as_str());
    assert_eq!(v["campaign"], id.as_str());
    assert!(v["text"].is_null(), "{v}");
    // A text without context answers the last message sent to that number.
    post(inbound(
        json!([{"from": "5491123456789", "id": "wamid.in2", "timestamp": "1750030080", "type": "text",
        "text": {"body": "hola"}}]),
    ))
    .await;
    let got = wait_hits(&hits, Duration::from_secs(10), |h| {
        h.iter().any(|h| h.json()["text"] == "hola")
    })
    .await;
    let v = got.iter().map(Hit::json).find(|v| v["text"] == "hola").unwrap();
    assert_eq!(
        (v["flag"].as_str(), v["message"].as_str()),
        (Some("skill=ventas"), Some(message_id.as_str()))
    );
    assert!(v["button"].is_null(), "{v}");
}
