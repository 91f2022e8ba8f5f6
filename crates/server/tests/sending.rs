//! Sending through the real server on both backends: campaigns start at their time, messages go out through the
//! provider at the account's rate, outcomes and status events move them to their final state.

#![allow(clippy::unwrap_used)]

use pregon_testkit::reqwest::Method;
use pregon_testkit::reqwest::multipart::{Form, Part};
use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    a_sandbox_campaign_runs_until_every_message_is_read,
    a_scheduled_campaign_starts_on_time,
    single_sends_go_out_like_campaign_messages,
    controls_pause_resume_cancel_and_patch,
    retry_failed_requeues_only_retry_worthy_failures,
    each_recipient_gets_messages_only_inside_their_local_window,
    a_campaign_whose_messages_keep_failing_pauses_itself,
    a_start_time_survives_restarts_and_downtime,
);

/// A server that sends, with a quick sandbox.
async fn sending_app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.send = true;
        c.metrics_token = Some("metrics-token".into());
        c.sending.providers.sandbox.latency = Duration::from_millis(5);
        c.sending.providers.sandbox.status_interval = Some(Duration::from_millis(100));
    })
    .await
}

async fn upload(app: &TestApp, account: &str, file: &str, extra: &[(&str, String)]) -> Value {
    let bytes = std::fs::read(fixtures().join("files").join(file)).unwrap();
    upload_bytes(app, account, file, bytes, extra).await
}

/// A Chat-Tonic CSV sending the parameterless `hello_world` to each of `phones`.
fn hello_csv(phones: &[&str]) -> Vec<u8> {
    let mut csv = String::from("phone,elementName,languageCode\n");
    for p in phones {
        csv.push_str(&format!("{p},hello_world,en_US\n"));
    }
    csv.into_bytes()
}

async fn upload_bytes(app: &TestApp, account: &str, file: &str, bytes: Vec<u8>, extra: &[(&str, String)]) -> Value {
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

async fn a_sandbox_campaign_runs_until_every_message_is_read(backend: Backend) {
    let app = sending_app(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let created = upload(&app, &account, "chat-tonic.csv", &[]).await;
    let id = created["id"].as_str().unwrap();
    // Progress as server-sent events, read to the end of the stream.
    let stream = app.get(&format!("/v1/campaigns/{id}/events")).send();
    let events = tokio::spawn(async move { stream.await.unwrap().text().await.unwrap() });
    let done = app
        .wait_for(id, Duration::from_secs(30), |c| {
            c["status"] == "completed" && c["counts"]["read"] == 4
        })
        .await;
    let k = &done["counts"];
    assert_eq!((k["accepted"].as_u64(), k["rejected"].as_u64()), (Some(4), Some(7)));
    // The same figures in /metrics, behind its own token.
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "an app's token does not open /metrics");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "pregon_messages{provider=\"sandbox\",status=\"read\"} 4",
        "pregon_send_outcomes_total{provider=\"sandbox\",class=\"accepted\"} 4",
        "pregon_send_latency_seconds_count{provider=\"sandbox\"} 4",
        "pregon_ingest_rows_total 11",
        "pregon_queue_depth 0",
    ] {
        assert!(metrics.contains(line), "{line} not in\n{metrics}");
    }
    // Four messages paced at the account's rate: later ones waited for their slots.
    let waited: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("pregon_rate_limit_wait_seconds_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(waited > 0.0, "{metrics}");
    let events = tokio::time::timeout(Duration::from_secs(10), events)
        .await
        .unwrap()
        .unwrap();
    let progress: Vec<Value> = events
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| serde_json::from_str(d.trim()).unwrap())
        .collect();
    assert!(progress.len() >= 2, "{events}");
    assert_eq!(
        progress.last().unwrap()["status"],
        "completed",
        "the stream ends with the campaign: {events}"
    );
    assert!(events.contains("event: progress"));
    assert_eq!(
        (k["pending"].as_u64(), k["queued"].as_u64(), k["sending"].as_u64()),
        (Some(0), Some(0), Some(0))
    );
    assert!(done["started_at"].is_string() && done["finished_at"].is_string());
    // The report as CSV: a header and one line per message, with what the recipient saw.
    let csv = app
        .get(&format!("/v1/campaigns/{id}/messages"))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines = pregon_csv_lines(&csv);
    assert_eq!(
        lines.remove(0)[..6],
        ["id", "row_number", "phone", "template", "language", "status"]
    );
    assert_eq!(lines.len(), 4);
    assert!(
        lines
            .iter()
            .all(|l| l[5] == "read" && !l[6].is_empty() && !l[14].is_empty()),
        "{csv}"
    );
    for m in app.messages(id).await {
        assert_eq!(m["status"], "read", "{m}");
        assert_eq!(m["attempts"], 1);
        assert!(m["provider_message_id"].as_str().unwrap().starts_with("sandbox."));
        for at in ["sent_at", "delivered_at", "read_at"] {
            assert!(m[at].is_string(), "{at}: {m}");
        }
    }
}

fn at(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str().unwrap().parse().unwrap()
}

async fn a_scheduled_campaign_starts_on_time(backend: Backend) {
    let app = sending_app(backend).await;
    let account = app.sandbox_account(json!({})).await;
    let scheduled = chrono::Utc::now() + chrono::Duration::seconds(2);
    let created = upload_bytes(
        &app,
        &account,
        "two.csv",
        hello_csv(&["+5491123456789", "+34612345678"]),
        &[("scheduled_at", scheduled.to_rfc3339())],
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let c = app
        .wait_for(id, Duration::from_secs(20), |c| c["status"] != "ingesting")
        .await;
    assert_eq!(c["status"], "scheduled", "it waits for its time: {c}");
    let done = app
        .wait_for(id, Duration::from_secs(20), |c| {
            c["counts"]["sent"].as_u64().unwrap_or(0)
                + c["counts"]["read"].as_u64().unwrap_or(0)
                + c["counts"]["delivered"].as_u64().unwrap_or(0)
                == 2
        })
        .await;
    let started = at(&done["started_at"]);
    assert!(started >= scheduled, "started {started} before {scheduled}");
    assert!(
        started - scheduled < chrono::Duration::seconds(1),
        "started {started}, scheduled {scheduled}"
    );
    let first_sent = app.messages(id).await.iter().map(|m| at(&m["sent_at"])).min().unwrap();
    assert!(
        first_sent - scheduled < chrono::Duration::seconds(1),
        "first message at {first_sent}, scheduled {scheduled}"
    );
}

async fn single_sends_go_out_like_campaign_messages(backend: Backend) {
    let app = sending_app(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    // Native JSON: the header's value first, then the body's.
    let r = app
        .post_json(
            "/v1/messages",
            &json!({"account": account, "to": "+52 55 1234 5678", "template": "appointment_reminder", "language": "es",
                    "params": ["odontología", "Ana", "15/03", "10:30"], "flag": "lead=42"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let native: Value = r.json().await.unwrap();
    assert_eq!(native["phone"], "+525512345678");
    assert_eq!(native["campaign"], Value::Null);
    assert!(native["rendered_text"].as_str().unwrap().contains("Hola Ana"));
    // The shorthand.
    let r = app
        .post_json(
            "/v1/messages",
            &json!({"account": account, "to": "+34612345678",
                    "shorthand": "&(( template=[[hello_world]] language=[[en_US]] ))&"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let short: Value = r.json().await.unwrap();
    // Chat-Tonic's sendhsm.
    let r = app
        .post_json(
            &format!("/api/v1/{}/whatsapp-sandbox/{account}/sendhsm", app.app.name),
            &json!({"id": "+5491123456789", "hsm": {"namespace": "ns", "elementName": "hello_world", "parameters": []}, "flag": "x"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let hsm: Value = r.json().await.unwrap();
    // Bad input: a clear 422 naming the problem, nothing stored.
    let r = app
        .post_json(
            "/v1/messages",
            &json!({"account": account, "to": "+34612345678", "template": "appointment_reminder", "language": "es", "params": ["only one"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["details"]["code"], "parameter_count");
    let r = app
        .post_json(
            "/v1/messages",
            &json!({"account": account, "to": "+34612345678", "shorthand": "&(( template=[[x]] "}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    for id in [&native["id"], &short["id"], &hsm["id"]] {
        let path = format!("/v1/messages/{}", id.as_str().unwrap());
        let started = std::time::Instant::now();
        loop {
            let m: Value = app.get(&path).send().await.unwrap().json().await.unwrap();
            if m["status"] == "read" {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "{m}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn controls_pause_resume_cancel_and_patch(backend: Backend) {
    let app = sending_app(backend).await;
    let account = app.sandbox_account(json!({"rate_per_second": 20})).await;
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let created = upload_bytes(
        &app,
        &account,
        "c.csv",
        hello_csv(&["+5491123456789", "+34612345678"]),
        &[("scheduled_at", later.to_rfc3339())],
    )
    .await;
    let id = created["id"].as_str().unwrap();
    app.wait_for(id, Duration::from_secs(20), |c| c["status"] == "scheduled")
        .await;
    let patch = |body: Value| {
        app.request(pregon_testkit::reqwest::Method::PATCH, &format!("/v1/campaigns/{id}"))
            .json(&body)
            .send()
    };
    let even_later = chrono::Utc::now() + chrono::Duration::hours(2);
    let r = patch(json!({"scheduled_at": even_later.to_rfc3339(), "rate_cap": 5,
        "send_window": {"start": "09:00", "end": "18:00", "days": ["mon", "tue", "wed", "thu", "fri"], "zone": "America/Argentina/Buenos_Aires"}}))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(at(&c["scheduled_at"]).timestamp(), even_later.timestamp());
    assert_eq!(c["rate_cap"], 5);
    assert_eq!(c["send_window"]["zone"], "America/Argentina/Buenos_Aires");
    let r = patch(json!({"rate_cap": 21})).await.unwrap();
    assert_eq!(r.status(), 422, "above the account's rate");
    let r = patch(json!({"send_window": {"start": "09:00", "end": "09:00", "zone": "UTC"}}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = patch(json!({"scheduled_at": "2020-01-01T00:00:00Z"})).await.unwrap();
    assert_eq!(r.status(), 422);
    let r = patch(json!({"send_window": null, "rate_cap": null})).await.unwrap();
    let c: Value = r.json().await.unwrap();
    assert_eq!(
        (c["send_window"].clone(), c["rate_cap"].clone()),
        (Value::Null, Value::Null)
    );

    let post = |what: &str| app.request(Method::POST, &format!("/v1/campaigns/{id}/{what}")).send();
    let c: Value = post("pause").await.unwrap().json().await.unwrap();
    assert_eq!(
        (c["status"].as_str(), c["pause_reason"].as_str()),
        (Some("paused"), Some("paused by the user"))
    );
    let c: Value = post("resume").await.unwrap().json().await.unwrap();
    assert_eq!(
        c["status"], "scheduled",
        "not started yet: back to waiting for its time"
    );
    let c: Value = post("cancel").await.unwrap().json().await.unwrap();
    assert_eq!(c["status"], "cancelled");
    assert_eq!(c["counts"]["cancelled"], 2);
    let r = post("resume").await.unwrap();
    assert_eq!(r.status(), 409);
    let r = patch(json!({"rate_cap": 1})).await.unwrap();
    assert_eq!(r.status(), 409);

    // A running campaign pauses within a second and resumes where it stopped.
    let phones: Vec<String> = (0..40).map(|i| format!("+54911234{:05}", 10_000 + i)).collect();
    let refs: Vec<&str> = phones.iter().map(String::as_str).collect();
    let created = upload_bytes(&app, &account, "d.csv", hello_csv(&refs), &[]).await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.wait_for(&id, Duration::from_secs(20), |c| {
        c["counts"]["sent"].as_u64().unwrap_or(0)
            + c["counts"]["read"].as_u64().unwrap_or(0)
            + c["counts"]["delivered"].as_u64().unwrap_or(0)
            >= 5
    })
    .await;
    let paused: Value = app
        .request(Method::POST, &format!("/v1/campaigns/{id}/pause"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paused["status"], "paused");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let settled = app
        .wait_for(&id, Duration::from_secs(5), |c| c["counts"]["sending"] == 0)
        .await;
    let gone = |c: &Value| 40 - c["counts"]["pending"].as_u64().unwrap() - c["counts"]["queued"].as_u64().unwrap();
    let before = gone(&settled);
    assert!(before < 40, "the pause stopped it part-way: {settled}");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let still = app.wait_for(&id, Duration::from_secs(5), |_| true).await;
    assert_eq!(gone(&still), before, "nothing sent while paused: {still}");
    let resumed: Value = app
        .request(Method::POST, &format!("/v1/campaigns/{id}/resume"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resumed["status"], "running");
    let done = app
        .wait_for(&id, Duration::from_secs(30), |c| c["status"] == "completed")
        .await;
    assert_eq!(done["counts"]["failed"], 0);
    let sent: Vec<Value> = app.messages(&id).await;
    assert_eq!(sent.len(), 40);
    assert!(sent.iter().all(|m| m["attempts"] == 1), "each message sent once");
}

async fn retry_failed_requeues_only_retry_worthy_failures(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.send = true;
        c.sending.max_attempts = 2;
        c.sending.backoff_base = Duration::from_millis(50);
        c.sending.providers.sandbox.latency = Duration::from_millis(5);
        c.sending.providers.sandbox.status_interval = None;
    })
    .await;
    let account = app.sandbox_account(json!({})).await;
    // The sandbox refuses …9990 for good and throttles …9991 every time.
    let created = upload_bytes(
        &app,
        &account,
        "r.csv",
        hello_csv(&["+5491123459990", "+5491123459991", "+34612345678"]),
        &[],
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let done = app
        .wait_for(id, Duration::from_secs(30), |c| c["status"] == "completed")
        .await;
    assert_eq!(
        (done["counts"]["sent"].as_u64(), done["counts"]["failed"].as_u64()),
        (Some(1), Some(2))
    );
    let by_phone = |ms: &[Value], p: &str| ms.iter().find(|m| m["phone"] == p).unwrap().clone();
    let ms = app.messages(id).await;
    let throttled = by_phone(&ms, "+5491123459991");
    assert_eq!(
        (throttled["attempts"].as_u64(), throttled["error"]["code"].as_str()),
        (Some(2), Some("130429"))
    );
    let refused = by_phone(&ms, "+5491123459990");
    assert_eq!(
        (refused["attempts"].as_u64(), refused["error"]["code"].as_str()),
        (Some(1), Some("131026"))
    );

    let r: Value = app
        .request(Method::POST, &format!("/v1/campaigns/{id}/retry-failed"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["requeued"], 1, "only the transient failure: {r}");
    assert_eq!(r["campaign"]["status"], "running");
    let done = app
        .wait_for(id, Duration::from_secs(30), |c| c["status"] == "completed")
        .await;
    assert_eq!(done["counts"]["failed"], 2);
    let ms = app.messages(id).await;
    assert_eq!(by_phone(&ms, "+5491123459991")["attempts"], 4, "tried twice more");
    assert_eq!(
        by_phone(&ms, "+5491123459990")["attempts"],
        1,
        "a permanent failure is never retried"
    );
}

async fn each_recipient_gets_messages_only_inside_their_local_window(backend: Backend) {
    let app = sending_app(backend).await;
    let account = app.sandbox_account(json!({})).await;
    let created = upload_bytes(
        &app,
        &account,
        "w.csv",
        hello_csv(&["+5491123456789", "+5491123456780", "+34612345678", "+34612345679"]),
        &[(
            "scheduled_at",
            (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
        )],
    )
    .await;
    let id = created["id"].as_str().unwrap();
    app.wait_for(id, Duration::from_secs(20), |c| c["status"] == "scheduled")
        .await;
    let set_window = |window: Value| {
        app.request(pregon_testkit::reqwest::Method::PATCH, &format!("/v1/campaigns/{id}"))
            .json(&json!({ "send_window": window }))
            .send()
    };
    // First a window in one zone that is closed: 09:00–10:00 in Tokyo.
    let r = set_window(json!({"start": "09:00", "end": "10:00", "zone": "Asia/Tokyo"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // 11:00 UTC on 1 December of next year: 20:00 in Tokyo, 08:00 in Buenos Aires (UTC−3), 12:00 in Madrid (UTC+1).
    // On the shifted clock the campaign's time (an hour from the real now) is long past: it starts at once.
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let on_day = |day: u32, time: &str| format!("{year}-12-{day:02}T{time}:00Z");
    app.state.clock.set(on_day(1, "11:00").parse().unwrap());
    let waiting = app
        .wait_for(id, Duration::from_secs(20), |c| c["status"] == "running")
        .await;
    assert_eq!(waiting["window_opens_at"], on_day(2, "00:00"), "{waiting}");
    // 13 h to the opening, less the seconds the shifted clock has run since.
    assert!(waiting["eta_seconds"].as_u64().unwrap() >= 13 * 3600 - 60, "{waiting}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let k = app.wait_for(id, Duration::from_secs(5), |_| true).await;
    assert_eq!(
        k["counts"]["pending"], 4,
        "nothing goes out while the window is closed: {k}"
    );
    let r = set_window(json!({"start": "09:00", "end": "18:00", "zone": "recipient"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let madrid = app
        .wait_for(id, Duration::from_secs(20), |c| c["counts"]["read"] == 2)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ms = app.messages(id).await;
    for m in &ms {
        let spain = m["phone"].as_str().unwrap().starts_with("+34");
        assert_eq!(
            m["status"] == "read",
            spain,
            "only Madrid is inside 09:00–18:00 at 11:00 UTC: {m}"
        );
    }
    assert_eq!(madrid["status"], "running");
    // 12:30 UTC: 09:30 in Buenos Aires.
    app.state.clock.set(on_day(1, "12:30").parse().unwrap());
    app.wait_for(id, Duration::from_secs(20), |c| {
        c["status"] == "completed" && c["counts"]["read"] == 4
    })
    .await;
    for m in app.messages(id).await {
        let sent = at(&m["sent_at"]);
        let local_hour = if m["phone"].as_str().unwrap().starts_with("+34") {
            (sent + chrono::Duration::hours(1)).format("%H").to_string()
        } else {
            (sent - chrono::Duration::hours(3)).format("%H").to_string()
        };
        let h: u32 = local_hour.parse().unwrap();
        assert!((9..18).contains(&h), "{} sent at local hour {h}", m["phone"]);
    }
}

async fn a_campaign_whose_messages_keep_failing_pauses_itself(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.send = true;
        c.sending.providers.sandbox.latency = Duration::from_millis(1);
        c.sending.providers.sandbox.failure_ratio = 1.0;
        c.sending.providers.sandbox.status_interval = None;
    })
    .await;
    // 3 s of sending: the pause (judged from 50 outcomes on) lands long before the last message, even on a slow run.
    let account = app.sandbox_account(json!({"rate_per_second": 100})).await;
    let phones: Vec<String> = (0..300).map(|i| format!("+54911234{:05}", 20_000 + i)).collect();
    let refs: Vec<&str> = phones.iter().map(String::as_str).collect();
    let created = upload_bytes(&app, &account, "f.csv", hello_csv(&refs), &[]).await;
    let id = created["id"].as_str().unwrap();
    let paused = app
        .wait_for(id, Duration::from_secs(30), |c| c["status"] == "paused")
        .await;
    let reason = paused["pause_reason"].as_str().unwrap();
    assert!(reason.contains("of its last") && reason.contains("failed"), "{reason}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = app
        .wait_for(id, Duration::from_secs(5), |c| c["counts"]["sending"] == 0)
        .await;
    let failed = later["counts"]["failed"].as_u64().unwrap();
    assert!((50..300).contains(&failed), "it stopped well before the end: {later}");
}

/// The records of a CSV text.
fn pregon_csv_lines(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    for rec in r.records() {
        out.push(rec.unwrap().iter().map(str::to_owned).collect());
    }
    out
}

/// Run a dispatcher for `app` (whose own is off) until the returned sender is told to stop.
fn dispatcher(app: &TestApp) -> (tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(pregon::dispatch::run(app.state.clone(), stopped));
    (stop, task)
}

async fn a_start_time_survives_restarts_and_downtime(backend: Backend) {
    // The server's own dispatcher is off: the test starts and stops "processes" around the start times.
    let app = TestApp::spawn_with(backend, |c| {
        c.sending.providers.sandbox.latency = Duration::from_millis(1);
    })
    .await;
    let account = app.sandbox_account(json!({})).await;
    let soon = chrono::Utc::now() + chrono::Duration::seconds(3);
    let a = upload_bytes(
        &app,
        &account,
        "a.csv",
        hello_csv(&["+5491123456789"]),
        &[("scheduled_at", soon.to_rfc3339())],
    )
    .await;
    let b = upload_bytes(
        &app,
        &account,
        "b.csv",
        hello_csv(&["+34612345678"]),
        &[("scheduled_at", soon.to_rfc3339())],
    )
    .await;
    let (a, b) = (
        a["id"].as_str().unwrap().to_owned(),
        b["id"].as_str().unwrap().to_owned(),
    );
    app.wait_for(&a, Duration::from_secs(10), |c| c["status"] == "scheduled")
        .await;
    app.wait_for(&b, Duration::from_secs(10), |c| c["status"] == "scheduled")
        .await;
    // A process starts and stops before the time: nothing starts early.
    let (stop, task) = dispatcher(&app);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send(true).unwrap();
    task.await.unwrap();
    let c = app.wait_for(&a, Duration::from_secs(1), |_| true).await;
    assert_eq!(c["status"], "scheduled");
    // Two processes run at the time: the campaign starts once, on time, and its message goes out once.
    let (stop1, task1) = dispatcher(&app);
    let (stop2, task2) = dispatcher(&app);
    let done = app
        .wait_for(&a, Duration::from_secs(15), |c| c["status"] == "completed")
        .await;
    let started: chrono::DateTime<chrono::Utc> = done["started_at"].as_str().unwrap().parse().unwrap();
    assert!(
        started >= soon && started - soon < chrono::Duration::seconds(1),
        "started {started} for {soon}"
    );
    assert_eq!(app.messages(&a).await[0]["attempts"], 1);
    app.wait_for(&b, Duration::from_secs(15), |c| c["status"] == "completed")
        .await;
    for (stop, task) in [(stop1, task1), (stop2, task2)] {
        stop.send(true).unwrap();
        task.await.unwrap();
    }
    // A start time that passes while no process runs: it starts at once when one comes back.
    let past = chrono::Utc::now() + chrono::Duration::seconds(1);
    let c = upload_bytes(
        &app,
        &account,
        "c.csv",
        hello_csv(&["+525512345678"]),
        &[("scheduled_at", past.to_rfc3339())],
    )
    .await;
    let c = c["id"].as_str().unwrap().to_owned();
    app.wait_for(&c, Duration::from_secs(10), |c| c["status"] == "scheduled")
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.wait_for(&c, Duration::from_secs(1), |_| true).await["status"],
        "scheduled",
        "nobody to start it"
    );
    let back = chrono::Utc::now();
    let (stop, task) = dispatcher(&app);
    let done = app
        .wait_for(&c, Duration::from_secs(15), |c| c["status"] == "completed")
        .await;
    let started: chrono::DateTime<chrono::Utc> = done["started_at"].as_str().unwrap().parse().unwrap();
    assert!(
        started - back < chrono::Duration::seconds(1),
        "started {started}, back at {back}"
    );
    stop.send(true).unwrap();
    task.await.unwrap();
}
