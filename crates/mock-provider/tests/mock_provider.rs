#![allow(clippy::unwrap_used)]
//! The mock provider seen from a client: Meta's wire format, faults, recording and status webhooks.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use pregon_mock_provider::{MockConfig, MockProvider, StatusKind, WebhookConfig, max_in_window};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::task::JoinSet;

const PHONE_ID: &str = "106540352242922";

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn template_body(to: &str, callback: Option<&str>) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": { "code": "en_US", "policy": "deterministic" },
            "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "Asha" }] }]
        }
    });
    if let Some(data) = callback {
        body["biz_opaque_callback_data"] = json!(data);
    }
    body
}

async fn send(client: &reqwest::Client, mock: &MockProvider, body: &Value) -> (StatusCode, HeaderMap, Value) {
    let resp = client
        .post(mock.messages_url("v23.0", PHONE_ID))
        .bearer_auth("token")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let json = resp.json::<Value>().await.unwrap();
    (status, headers, json)
}

fn error_code(body: &Value) -> u64 {
    body["error"]["code"].as_u64().unwrap()
}

#[tokio::test]
async fn accepted_send_returns_metas_exact_success_shape_and_is_recorded() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let client = client();
    let (status, headers, body) = send(&client, &mock, &template_body("+16505551234", Some("cmp42:rcp9"))).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let wamid = body["messages"][0]["id"].as_str().unwrap().to_owned();
    assert!(wamid.starts_with("wamid."), "{wamid}");
    assert_eq!(
        body,
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": "+16505551234", "wa_id": "16505551234" }],
            "messages": [{ "id": wamid, "message_status": "accepted" }]
        })
    );

    let received = mock.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!((r.to.as_str(), r.wa_id.as_str()), ("+16505551234", "16505551234"));
    assert_eq!((r.version.as_str(), r.phone_number_id.as_str()), ("v23.0", PHONE_ID));
    assert_eq!((r.template.as_str(), r.language.as_str()), ("order_update", "en_US"));
    assert_eq!(r.wamid, wamid);
    assert_eq!(r.callback_data.as_deref(), Some("cmp42:rcp9"));
    assert_eq!(r.body["template"]["components"][0]["parameters"][0]["text"], "Asha");
    assert_eq!(r.headers["authorization"], "Bearer token");
    assert!(r.answered);
    assert_eq!(mock.accepted_count(), 1);

    // Every version and phone-number id is served; wamids are unique.
    let (status, _, second) = send(&client, &mock, &template_body("16505550000", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(second["messages"][0]["id"], body["messages"][0]["id"]);
    let resp = client
        .post(format!("{}/v25.0/999/messages", mock.url()))
        .json(&template_body("1555", None))
        .send()
        .await;
    assert_eq!(resp.unwrap().status(), StatusCode::OK);
    assert_eq!(mock.accepted_count(), 3);
}

#[tokio::test]
async fn a_wrong_or_missing_token_gets_401_with_code_190() {
    let mock = MockProvider::start(MockConfig {
        access_token: Some("right".into()),
        ..MockConfig::default()
    })
    .await;
    let client = client();
    let url = mock.messages_url("v23.0", PHONE_ID);
    let body = template_body("+16505551234", None);

    for auth in [None, Some("Bearer wrong"), Some("Basic right"), Some("right")] {
        let mut req = client.post(&url).json(&body);
        if let Some(auth) = auth {
            req = req.header("Authorization", auth);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(error_code(&err), 190);
        assert_eq!(err["error"]["type"], "OAuthException");
        assert!(err["error"]["message"].as_str().unwrap().starts_with("(#190) "));
        assert!(err["error"]["fbtrace_id"].is_string());
    }
    let resp = client.post(&url).bearer_auth("right").json(&body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(mock.accepted_count(), 1);

    mock.set_access_token(None);
    let resp = client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_bodies_get_400_with_code_100_or_131008() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let client = client();
    let url = mock.messages_url("v23.0", PHONE_ID);

    let resp = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&resp.json().await.unwrap()), 100);

    let good = template_body("+16505551234", None);
    let mut cases: Vec<(Value, u64)> = Vec::new();
    let mut b = good.clone();
    b.as_object_mut().unwrap().remove("messaging_product");
    cases.push((b, 100));
    let mut b = good.clone();
    b["messaging_product"] = json!("sms");
    cases.push((b, 100));
    let mut b = good.clone();
    b.as_object_mut().unwrap().remove("to");
    cases.push((b, 100));
    let mut b = good.clone();
    b["type"] = json!("text");
    cases.push((b, 100));
    let mut b = good.clone();
    b.as_object_mut().unwrap().remove("template");
    cases.push((b, 131_008));
    let mut b = good.clone();
    b["template"].as_object_mut().unwrap().remove("name");
    cases.push((b, 131_008));
    let mut b = good.clone();
    b["template"]["language"].as_object_mut().unwrap().remove("code");
    cases.push((b, 131_008));
    let mut b = good.clone();
    b["template"]["components"] = json!({ "type": "body" });
    cases.push((b, 100));

    for (body, code) in cases {
        let (status, _, err) = send(&client, &mock, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&err), code, "{body}");
        assert_eq!(err["error"]["error_data"]["messaging_product"], "whatsapp");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("(#{code}) "))
        );
    }
    assert_eq!(mock.accepted_count(), 0);
    assert_eq!(mock.stats().by_outcome["invalid"], 9);
}

#[tokio::test]
async fn above_the_rate_limit_sends_get_130429_and_no_window_holds_more_than_the_limit() {
    let mock = MockProvider::start(MockConfig {
        rate_limit: Some(10),
        ..MockConfig::default()
    })
    .await;
    let client = client();

    let burst = |n: usize, offset: usize| {
        let mut set = JoinSet::new();
        for i in 0..n {
            let (client, mock) = (client.clone(), mock.clone());
            set.spawn(async move {
                send(
                    &client,
                    &mock,
                    &template_body(&format!("+1555000{:04}", offset + i), None),
                )
                .await
            });
        }
        set
    };
    let results = burst(15, 0).join_all().await;
    let ok = results.iter().filter(|(s, _, _)| *s == StatusCode::OK).count();
    let limited: Vec<_> = results
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::BAD_REQUEST)
        .collect();
    assert_eq!(ok, 10);
    assert_eq!(limited.len(), 5);
    for (_, _, err) in limited {
        assert_eq!(error_code(err), 130_429);
        assert_eq!(err["error"]["message"], "(#130429) Rate limit hit");
    }
    assert_eq!(mock.max_in_any_window(Duration::from_secs(1)), 10);

    // Once the window has slid past the burst, a new one is accepted in full.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let results = burst(10, 100).join_all().await;
    assert!(results.iter().all(|(s, _, _)| *s == StatusCode::OK));
    assert_eq!(mock.accepted_count(), 20);
    assert_eq!(mock.max_in_any_window(Duration::from_secs(1)), 10);
    assert_eq!(mock.max_in_any_window(Duration::from_secs(5)), 20);
    let stats = mock.stats();
    assert_eq!(stats.max_per_second_window, 10);
    assert_eq!(stats.by_outcome["rate_limited"], 5);
    assert_eq!(stats.by_status[&400], 5);
}

#[tokio::test]
async fn max_in_any_window_is_exact_on_a_known_schedule() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let client = client();
    let start = tokio::time::Instant::now();
    let mut n = 0;
    // 3 at 0 ms, 4 at 500 ms, 5 at 1,800 ms.
    for (at_ms, count) in [(0u64, 3usize), (500, 4), (1800, 5)] {
        tokio::time::sleep_until(start + Duration::from_millis(at_ms)).await;
        let mut set = JoinSet::new();
        for _ in 0..count {
            n += 1;
            let (client, mock, to) = (client.clone(), mock.clone(), format!("+4470000{n:05}"));
            set.spawn(async move { send(&client, &mock, &template_body(&to, None)).await.0 });
        }
        assert!(set.join_all().await.iter().all(|s| *s == StatusCode::OK));
    }
    assert_eq!(mock.max_in_any_window(Duration::from_secs(1)), 7);
    assert_eq!(mock.max_in_any_window(Duration::from_millis(300)), 5);
    assert_eq!(mock.max_in_any_window(Duration::from_secs(10)), 12);
    assert_eq!(mock.stats().max_per_second_window, 7);
}

#[test]
fn max_in_window_counts_points_less_than_a_window_apart() {
    let base = Instant::now();
    let at = |ms: &[u64]| ms.iter().map(|m| base + Duration::from_millis(*m)).collect::<Vec<_>>();
    let second = Duration::from_secs(1);
    assert_eq!(max_in_window(vec![], second), 0);
    assert_eq!(max_in_window(at(&[5]), second), 1);
    assert_eq!(max_in_window(at(&[5, 5, 5]), Duration::ZERO), 0);
    // Unsorted input; the best window starts at 10 ms: 10, 20, 990, 1000, 1005.
    assert_eq!(max_in_window(at(&[1500, 0, 1005, 10, 990, 20, 1000]), second), 5);
    // Points exactly one window apart are not in the same window.
    assert_eq!(max_in_window(at(&[0, 1000, 2000, 3000]), second), 1);
    assert_eq!(max_in_window(at(&[0, 999, 1998]), second), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_200ms_latency_500_concurrent_requests_finish_well_under_2s() {
    let mock = MockProvider::start(MockConfig {
        latency: Duration::from_millis(200),
        ..MockConfig::default()
    })
    .await;
    let client = client();
    let started = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..500 {
        let (client, mock) = (client.clone(), mock.clone());
        set.spawn(async move {
            send(&client, &mock, &template_body(&format!("+9190000{i:05}"), None))
                .await
                .0
        });
    }
    let statuses = set.join_all().await;
    let elapsed = started.elapsed();
    eprintln!("500 concurrent requests with 200 ms latency: {elapsed:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK));
    assert_eq!(mock.accepted_count(), 500);
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    // One at a time this would take 100 s; served concurrently it takes the latency plus connection set-up (debug
    // build, on a shared 2-core machine: 0.6-1.1 s).
    assert!(
        elapsed < Duration::from_secs(2),
        "500 requests with 200 ms latency took {elapsed:?}"
    );
}

/// One webhook POST: its `X-Hub-Signature-256` header and raw body.
type Post = (Option<String>, Bytes);

/// A local webhook receiver: every POST's signature header and raw body, in arrival order.
#[derive(Clone, Default)]
struct Receiver {
    posts: Arc<Mutex<Vec<Post>>>,
    fail_first: Arc<Mutex<u32>>,
}

impl Receiver {
    async fn start(fail_first: u32) -> (Self, String) {
        let receiver = Receiver {
            fail_first: Arc::new(Mutex::new(fail_first)),
            ..Receiver::default()
        };
        async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
            {
                let mut fail = r.fail_first.lock().unwrap();
                if *fail > 0 {
                    *fail -= 1;
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
            }
            let signature = headers
                .get("x-hub-signature-256")
                .map(|v| v.to_str().unwrap().to_owned());
            r.posts.lock().unwrap().push((signature, body));
            StatusCode::OK
        }
        let app = axum::Router::new()
            .route("/webhooks/meta/acc1", post(hook))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/meta/acc1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }

    /// Every status in arrival order, after checking each POST's envelope and signature.
    fn statuses(&self, secret: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for (signature, body) in self.posts() {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(&body);
            let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            assert_eq!(signature.as_deref(), Some(expected.as_str()), "signature must verify");
            let json: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["object"], "whatsapp_business_account");
            for entry in json["entry"].as_array().unwrap() {
                assert!(entry["id"].is_string());
                for change in entry["changes"].as_array().unwrap() {
                    assert_eq!(change["field"], "messages");
                    let value = &change["value"];
                    assert_eq!(value["messaging_product"], "whatsapp");
                    assert_eq!(value["metadata"]["phone_number_id"], PHONE_ID);
                    out.extend(value["statuses"].as_array().unwrap().iter().cloned());
                }
            }
        }
        out
    }

    async fn wait_statuses(&self, secret: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let statuses = self.statuses(secret);
            if statuses.len() >= n || Instant::now() > deadline {
                return statuses;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn status_webhooks_arrive_signed_in_order_and_echo_the_callback_data() {
    let (receiver, url) = Receiver::start(0).await;
    let webhook = WebhookConfig {
        delay: Duration::from_millis(30),
        ..WebhookConfig::new(url, "s3cret")
    };
    let mock = MockProvider::start(MockConfig {
        webhook: Some(webhook),
        ..MockConfig::default()
    })
    .await;
    let client = client();

    let mut sent = Vec::new();
    for (to, callback) in [
        ("+16505551234", Some("cmp42:rcp1")),
        ("+16505550002", None),
        ("16505550003", Some("x")),
    ] {
        let (status, _, body) = send(&client, &mock, &template_body(to, callback)).await;
        assert_eq!(status, StatusCode::OK);
        sent.push((body["messages"][0]["id"].as_str().unwrap().to_owned(), to, callback));
    }

    let statuses = receiver.wait_statuses("s3cret", 9).await;
    assert_eq!(statuses.len(), 9, "{statuses:#?}");
    for (wamid, to, callback) in &sent {
        let mine: Vec<&Value> = statuses.iter().filter(|s| s["id"] == wamid.as_str()).collect();
        let order: Vec<&str> = mine.iter().map(|s| s["status"].as_str().unwrap()).collect();
        assert_eq!(order, ["sent", "delivered", "read"], "{wamid}");
        let mut last_ts = 0;
        for s in &mine {
            assert_eq!(s["recipient_id"], to.trim_start_matches('+'));
            let ts: i64 = s["timestamp"].as_str().unwrap().parse().unwrap();
            assert!(ts >= last_ts && ts > 1_700_000_000);
            last_ts = ts;
            match callback {
                Some(data) => assert_eq!(s["biz_opaque_callback_data"], *data),
                None => assert!(s.get("biz_opaque_callback_data").is_none()),
            }
        }
        let sent_status = mine[0];
        assert!(sent_status["conversation"]["id"].is_string());
        assert!(sent_status["conversation"]["expiration_timestamp"].is_string());
        assert_eq!(sent_status["conversation"]["origin"]["type"], "marketing");
        assert_eq!(sent_status["pricing"]["pricing_model"], "PMP");
        assert_eq!(sent_status["pricing"]["category"], "marketing");
        assert!(mine[2].get("pricing").is_none());
    }
    let stats = mock.stats();
    assert_eq!(stats.webhooks.by_status[&StatusKind::Read], 3);
    assert_eq!(stats.webhooks.pending, 0);
}

#[tokio::test]
async fn many_due_statuses_are_batched_and_failed_posts_are_retried() {
    // The receiver refuses the first two POSTs: the mock retries the same batch.
    let (receiver, url) = Receiver::start(2).await;
    let webhook = WebhookConfig {
        delay: Duration::from_millis(300),
        statuses: vec![StatusKind::Sent],
        ..WebhookConfig::new(url, "k")
    };
    let mock = MockProvider::start(MockConfig {
        webhook: Some(webhook),
        ..MockConfig::default()
    })
    .await;
    let client = client();
    let mut set = JoinSet::new();
    for i in 0..50 {
        let (client, mock) = (client.clone(), mock.clone());
        set.spawn(async move {
            send(&client, &mock, &template_body(&format!("+3360000{i:04}"), None))
                .await
                .0
        });
    }
    assert!(set.join_all().await.iter().all(|s| *s == StatusCode::OK));

    let statuses = receiver.wait_statuses("k", 50).await;
    assert_eq!(statuses.len(), 50);
    let posts = receiver.posts().len();
    assert!(posts < 25, "50 statuses due together came in {posts} POSTs");
    let stats = mock.stats();
    assert_eq!(stats.webhooks.failed_attempts, 2);
    assert_eq!(stats.webhooks.given_up, 0);
    assert_eq!(stats.webhooks.by_status[&StatusKind::Sent], 50);
}

#[tokio::test]
async fn fail_ratio_sends_an_async_failed_status_with_131049() {
    let (receiver, url) = Receiver::start(0).await;
    let webhook = WebhookConfig {
        delay: Duration::from_millis(10),
        fail_ratio: 1.0,
        ..WebhookConfig::new(url, "k")
    };
    let mock = MockProvider::start(MockConfig {
        webhook: Some(webhook),
        ..MockConfig::default()
    })
    .await;
    let (status, _, body) = send(&client(), &mock, &template_body("+16505551234", Some("cb"))).await;
    assert_eq!(status, StatusCode::OK);
    let statuses = receiver.wait_statuses("k", 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.statuses("k").len(), 1);
    let s = &statuses[0];
    assert_eq!(s["id"], body["messages"][0]["id"]);
    assert_eq!(s["status"], "failed");
    assert_eq!(s["biz_opaque_callback_data"], "cb");
    assert_eq!(s["errors"][0]["code"], 131_049);
    assert!(s["errors"][0]["error_data"]["details"].is_string());
}

#[tokio::test]
async fn count_by_recipient_detects_a_duplicate() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let client = client();
    for to in ["+15550001", "15550002", "+1 555 0001", "+15550003"] {
        assert_eq!(send(&client, &mock, &template_body(to, None)).await.0, StatusCode::OK);
    }
    let counts = mock.count_by_recipient();
    assert_eq!(counts.len(), 3);
    assert_eq!(counts["15550001"], 2);
    assert_eq!(counts["15550002"], 1);
    assert_eq!(mock.duplicates(), vec![("15550001".to_owned(), 2)]);
    let stats = mock.stats();
    assert_eq!((stats.accepted, stats.unique_recipients, stats.duplicates), (4, 3, 1));
    assert_eq!(stats.duplicate_recipients, vec!["15550001".to_owned()]);
}

#[tokio::test]
async fn a_dropped_connection_is_a_client_error_and_a_lost_answer_is_still_accepted() {
    let mock = MockProvider::start(MockConfig {
        drop_connection_ratio: 1.0,
        ..MockConfig::default()
    })
    .await;
    let client = client();
    let url = mock.messages_url("v23.0", PHONE_ID);
    let result = client
        .post(&url)
        .json(&template_body("+16505551234", None))
        .send()
        .await;
    let err = result.expect_err("the connection must close without an answer");
    assert!(err.is_request() || err.is_connect() || err.is_body(), "{err:?}");
    assert_eq!(mock.accepted_count(), 0);
    assert_eq!(mock.stats().by_outcome["dropped"], 1);

    mock.set_drop_connection_ratio(0.0);
    mock.set_lost_answer_ratio(1.0);
    let result = client
        .post(&url)
        .json(&template_body("+16505551234", None))
        .send()
        .await;
    assert!(result.is_err());
    let received = mock.received();
    assert_eq!(received.len(), 1);
    assert!(!received[0].answered);

    mock.set_lost_answer_ratio(0.0);
    let resp = client
        .post(&url)
        .json(&template_body("+16505551234", None))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn error_knobs_answer_metas_permanent_transient_and_throttling_errors() {
    let mock = MockProvider::start(MockConfig {
        throttle_bursts: 2,
        ..MockConfig::default()
    })
    .await;
    let client = client();
    let body = template_body("+16505551234", None);

    for _ in 0..2 {
        let (status, headers, err) = send(&client, &mock, &body).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers["retry-after"], "1");
        assert!(err["error"]["code"].is_u64());
    }
    assert_eq!(send(&client, &mock, &body).await.0, StatusCode::OK);

    mock.set_error_ratio(1.0);
    let (status, _, err) = send(&client, &mock, &body).await;
    assert_eq!((status, error_code(&err)), (StatusCode::BAD_REQUEST, 131_026));
    mock.set_error_code(132_001);
    let (status, _, err) = send(&client, &mock, &body).await;
    assert_eq!((status, error_code(&err)), (StatusCode::NOT_FOUND, 132_001));

    mock.set_error_ratio(0.0);
    mock.set_transient_ratio(1.0);
    for _ in 0..6 {
        let (status, _, err) = send(&client, &mock, &body).await;
        match status {
            StatusCode::INTERNAL_SERVER_ERROR => assert_eq!(error_code(&err), 131_000),
            StatusCode::SERVICE_UNAVAILABLE => assert_eq!(error_code(&err), 2),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(mock.accepted_count(), 1);
}

#[tokio::test]
async fn wait_for_reset_and_the_admin_endpoints() {
    let mock = MockProvider::start(MockConfig::default()).await;
    let client = client();
    assert!(!mock.wait_for(1, Duration::from_millis(50)).await);
    let waiter = {
        let mock = mock.clone();
        tokio::spawn(async move { mock.wait_for(2, Duration::from_secs(5)).await })
    };
    for to in ["+15550001", "+15550001"] {
        assert_eq!(send(&client, &mock, &template_body(to, None)).await.0, StatusCode::OK);
    }
    assert!(waiter.await.unwrap());

    let stats: Value = client
        .get(format!("{}/_mock/stats", mock.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["accepted"], 2);
    assert_eq!(stats["max_per_second_window"], 2);
    assert_eq!(stats["duplicates"], 1);
    assert_eq!(stats["by_status"]["200"], 2);
    assert_eq!(stats["by_outcome"]["accepted"], 2);

    let patch = json!({ "error_ratio": 1.0, "latency_ms": 5 });
    let config: Value = client
        .post(format!("{}/_mock/config", mock.url()))
        .json(&patch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["error_ratio"], 1.0);
    assert_eq!(mock.config().latency, Duration::from_millis(5));
    assert_eq!(
        send(&client, &mock, &template_body("+15550009", None)).await.0,
        StatusCode::BAD_REQUEST
    );

    let resp = client.post(format!("{}/_mock/reset", mock.url())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(mock.accepted_count(), 0);
    let stats = mock.stats();
    assert_eq!((stats.requests, stats.duplicates), (0, 0));

    mock.set_error_ratio(0.0);
    assert_eq!(
        send(&client, &mock, &template_body("+15550001", None)).await.0,
        StatusCode::OK
    );
    mock.reset();
    assert!(mock.received().is_empty() && mock.count_by_recipient().is_empty());
}

#[tokio::test]
async fn the_binary_serves_the_api_and_its_stats() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pregon-mock-provider"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--latency-ms",
            "1",
            "--rate-limit",
            "100",
        ])
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = client();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let url = format!("{base}/v23.0/{PHONE_ID}/messages");
    let resp = loop {
        match client
            .post(&url)
            .json(&template_body("+16505551234", None))
            .send()
            .await
        {
            Ok(resp) => break resp,
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("the binary did not start: {e}"),
        }
    };
    assert_eq!(resp.status(), StatusCode::OK);
    let stats: Value = client
        .get(format!("{base}/_mock/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["accepted"], 1);
    child.kill().await.unwrap();
}
