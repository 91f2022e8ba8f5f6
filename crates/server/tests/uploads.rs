//! Campaign uploads through the real server, on both backends: every fixture format, both row models, the
//! compatible endpoints, bad files, idempotency, `file_url`, validation, scheduling.

#![allow(clippy::unwrap_used)]

use pregon_testkit::reqwest::multipart::{Form, Part};
use pregon_testkit::reqwest::{Method, StatusCode};
use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    every_chat_tonic_format_gives_the_same_messages_and_rejections,
    chat_tonic_upload_endpoint_takes_the_upload_field_and_a_date,
    jelou_endpoint_answers_as_its_document_shows,
    bad_files_are_refused_before_anything_is_created,
    a_file_that_breaks_part_way_fails_the_campaign_and_keeps_nothing,
    idempotency_key_returns_the_first_campaign,
    file_url_is_fetched,
    validate_reports_without_storing,
    opted_out_numbers_become_suppressed_messages,
);

fn file_part(name: &str) -> Part {
    let bytes = std::fs::read(fixtures().join("files").join(name)).unwrap();
    Part::bytes(bytes).file_name(name.to_owned())
}

async fn upload(app: &TestApp, account: &str, file: &str) -> (StatusCode, Value) {
    let form = Form::new()
        .text("account", account.to_owned())
        .part("file", file_part(file));
    let r = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn rejections(app: &TestApp, id: &str) -> Vec<(u64, String)> {
    let v: Value = app
        .get(&format!("/v1/campaigns/{id}/rejections"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row_number"].as_u64().unwrap(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The outcome fixtures/README.md promises for every Chat-Tonic file (tabular row numbers).
const EXPECTED_REJECTIONS: &[(u64, &str)] = &[
    (6, "invalid_phone"),
    (7, "duplicate_recipient"),
    (8, "unknown_template"),
    (9, "parameter_count"),
    (10, "missing_media"),
    (11, "invalid_parameter"),
    (12, "missing_button_parameter"),
];

async fn every_chat_tonic_format_gives_the_same_messages_and_rejections(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    for (file, format, wrapped_in, json_rows) in [
        ("chat-tonic.csv", "csv", json!([]), false),
        ("chat-tonic.json", "json", json!([]), true),
        ("chat-tonic.xlsx", "xlsx", json!([]), false),
        ("chat-tonic.xls", "xls", json!([]), false),
        ("chat-tonic.xlsx.zip", "xlsx", json!(["zip"]), false),
        ("chat-tonic.csv.zip", "csv", json!(["zip"]), false),
        ("chat-tonic.csv.tar.gz", "csv", json!(["gzip", "tar"]), false),
        ("chat-tonic.json.gz", "json", json!(["gzip"]), true),
        ("lies-about-format.csv", "xlsx", json!([]), false),
    ] {
        let (status, created) = upload(&app, &account, file).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{file}: {created}");
        assert_eq!(created["status"], "ingesting");
        let id = created["id"].as_str().unwrap().to_owned();
        let c = app.settled(&id).await;
        assert_eq!(c["status"], "scheduled", "{file}: {c}");
        let k = &c["counts"];
        assert_eq!(
            (k["rows"].as_u64(), k["accepted"].as_u64(), k["rejected"].as_u64()),
            (Some(11), Some(4), Some(7)),
            "{file}"
        );
        assert_eq!(k["pending"], 4, "{file}");
        let shift = u64::from(json_rows);
        let expected: Vec<(u64, String)> = EXPECTED_REJECTIONS
            .iter()
            .map(|(r, c)| (r - shift, c.to_string()))
            .collect();
        assert_eq!(rejections(&app, &id).await, expected, "{file}");
        let msgs = app.messages(&id).await;
        let phones: Vec<&str> = msgs.iter().map(|m| m["phone"].as_str().unwrap()).collect();
        assert_eq!(
            phones,
            vec!["+5491123456789", "+525512345678", "+14155552671", "+34612345678"],
            "{file}"
        );
        // What the recipient sees: image header → media type, body and footer.
        assert_eq!(
            msgs[0]["rendered_text"],
            "Your order #1234 for a total of $1,250.00 is confirmed. The expected delivery is March 15th.\n\nThank you for shopping with us!",
            "{file}"
        );
        assert_eq!(msgs[0]["flag"], "email=ana@example.com");
        // The header's parameter comes first in the Chat-Tonic columns.
        assert!(
            msgs[1]["rendered_text"]
                .as_str()
                .unwrap()
                .starts_with("Recordatorio de odontología\n\nHola Ana,"),
            "{file}: {}",
            msgs[1]
        );
        assert_eq!(c["source"]["format"], format, "{file}");
        assert_eq!(c["source"]["wrapped_in"], wrapped_in, "{file}");
        assert_eq!(c["source"]["name"], file);
        assert_eq!(c["source"]["sha256"].as_str().map(str::len), Some(64));
    }
}

async fn chat_tonic_upload_endpoint_takes_the_upload_field_and_a_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let at = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let encoded: String = form_urlencoded::byte_serialize(at.as_bytes()).collect();
    let url = format!(
        "/api/v1/acme/hsm/campaign/upload?platform=whatsapp-sandbox&accountId={account}&date={encoded}&token={}",
        app.token
    );
    let form = Form::new().part("upload", file_part("chat-tonic.xlsx"));
    let r = app.client.post(app.url(&url)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: Value = r.json().await.unwrap();
    let id = v["campaignId"].as_str().unwrap().to_owned();
    let c = app.settled(&id).await;
    assert_eq!(c["status"], "scheduled");
    let scheduled = chrono::DateTime::parse_from_rfc3339(c["scheduled_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        scheduled.timestamp(),
        chrono::DateTime::parse_from_rfc3339(&at).unwrap().timestamp()
    );
    assert_eq!(c["counts"]["accepted"], 4);

    // The wrong platform, a date in the past, a wrong sheet.
    let form = Form::new().part("upload", file_part("chat-tonic.csv"));
    let url = format!("/api/v1/acme/hsm/campaign/upload?platform=whatsapp-gupshup&accountId={account}");
    let r = app.request(Method::POST, &url).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let form = Form::new().part("upload", file_part("chat-tonic.csv"));
    let url = format!("/api/v1/acme/hsm/campaign/upload?accountId={account}&date=2020-01-01T00:00:00Z");
    let r = app.request(Method::POST, &url).multipart(form).send().await.unwrap();
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "invalid_schedule");
    let form = Form::new().part("upload", file_part("wrong-sheet.xlsx"));
    let url = format!("/api/v1/acme/hsm/campaign/upload?accountId={account}");
    let e: Value = app
        .request(Method::POST, &url)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["details"]["reason"], "wrong_sheet");
    assert!(e["error"]["message"].as_str().unwrap().contains("Sheet1, Data"), "{e}");
}

async fn jelou_endpoint_answers_as_its_document_shows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let jelou_form = |file: &str, element: &str| {
        Form::new()
            .text("campaignName", "black friday")
            .text("elementName", element.to_owned())
            .text("botId", account.clone())
            .text("type", "image")
            .text("mediaUrl", "https://cdn.example.com/promo.png")
            .text("params", r#"[{"param": 1, "column": "order_id"}, {"param": 2, "column": "amount"}, {"param": 3, "column": "customer_name"}]"#)
            .text("buttonPayloads", r#"[{"type":"edge","action":"Yes","skillId":"1"},{"type":"edge","action":"More","skillId":"2"}]"#)
            .part("file", file_part(file))
    };
    let r = app
        .client
        .post(app.url("/v1/hsm/file"))
        .basic_auth("acme", Some(&app.token))
        .multipart(jelou_form("jelou.csv", "order_confirmation"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.headers().get("x-campaign-id").unwrap().to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": ["Campaign has been created."], "status": "success"})
    );
    let c = app.settled(&id).await;
    assert_eq!(c["status"], "scheduled", "{c}");
    assert_eq!(
        (c["counts"]["accepted"].as_u64(), c["counts"]["rejected"].as_u64()),
        (Some(4), Some(0))
    );
    let msgs = app.messages(&id).await;
    assert_eq!(msgs[0]["phone"], "+593991234567");
    assert_eq!(
        msgs[0]["rendered_text"],
        "Your order A12345 for a total of $250.00 is confirmed. The expected delivery is María José.\n\nThank you for shopping with us!"
    );
    assert_eq!(
        msgs[0]["params"]["header"]["media"]["url"],
        "https://cdn.example.com/promo.png"
    );
    let payload = msgs[0]["params"]["buttons"][0]["value"]
        .as_str()
        .map(|s| serde_json::from_str::<Value>(s).unwrap());
    assert_eq!(
        payload,
        Some(json!({"type": "edge", "action": "Yes", "skillId": "1"})),
        "Jelou's buttonPayloads ride on the quick replies"
    );

    let failed = |msg: &str| json!({"message": [msg], "status": "failed"});
    let r = app
        .client
        .post(app.url("/v1/hsm/file"))
        .basic_auth("acme", Some(&app.token))
        .multipart(jelou_form("jelou-bad-header.csv", "order_confirmation"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    assert_eq!(r.json::<Value>().await.unwrap(), failed("Invalid CSV format"));
    let r = app
        .client
        .post(app.url("/v1/hsm/file"))
        .basic_auth("acme", Some(&app.token))
        .multipart(jelou_form("jelou.csv", "no_such_template"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        failed("Template not found or not approved")
    );
    // Small bodies: the auth layer answers before reading the body.
    let small = json!({"campaignName": "x", "elementName": "hello_world", "botId": account, "params": []});
    let r = app
        .client
        .post(app.url("/v1/hsm/file"))
        .basic_auth("acme", Some("pgn_wrong"))
        .json(&small)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "Authentication failed"})
    );
    let r = app
        .client
        .post(app.url("/v1/hsm/file"))
        .json(&small)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "Authentication failed"})
    );
    // JSON body with fileUrl missing: a failure in Jelou's shape.
    let r = app
        .client
        .post(app.url("/v1/hsm/file"))
        .basic_auth("acme", Some(&app.token))
        .json(&json!({"campaignName": "x", "elementName": "hello_world", "botId": account, "params": []}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "failed");
    assert!(v["message"][0].as_str().unwrap().contains("file"), "{v}");
}

async fn bad_files_are_refused_before_anything_is_created(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    for (file, reason) in [
        ("empty.csv", "empty_file"),
        ("header-only.csv", "empty_file"),
        ("wrong-sheet.xlsx", "wrong_sheet"),
        ("invalid-utf8-header.csv", "invalid_utf8"),
        ("truncated.csv.gz", "archive_corrupt"),
        ("nested.zip", "archive_nested"),
        ("two-files.zip", "archive_multiple_files"),
        ("empty.zip", "archive_empty"),
        ("encrypted.zip", "archive_encrypted"),
    ] {
        let (status, e) = upload(&app, &account, file).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{file}: {e}");
        assert_eq!(e["error"]["code"], "invalid_file", "{file}");
        assert_eq!(e["error"]["details"]["reason"], reason, "{file}: {e}");
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
    }
    let list: Value = app.get("/v1/campaigns").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"], json!([]), "no campaign was created");

    // A row-level problem is not a file problem: invalid UTF-8 in one row rejects that row only.
    let (status, created) = upload(&app, &account, "invalid-utf8.csv").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = created["id"].as_str().unwrap().to_owned();
    let c = app.settled(&id).await;
    assert_eq!(
        (c["counts"]["accepted"].as_u64(), c["counts"]["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(rejections(&app, &id).await, vec![(3, "invalid_row".to_string())]);
}

async fn a_file_that_breaks_part_way_fails_the_campaign_and_keeps_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let (status, created) = upload(&app, &account, "malformed.json").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let c = app.settled(&id).await;
    assert_eq!(c["status"], "failed");
    assert!(
        c["failure_reason"].as_str().unwrap().starts_with("malformed_json"),
        "{c}"
    );
    assert_eq!(c["counts"]["rows"], 0);
    assert!(app.messages(&id).await.is_empty());
    assert!(rejections(&app, &id).await.is_empty());
}

async fn idempotency_key_returns_the_first_campaign(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let send = || {
        let form = Form::new()
            .text("account", account.clone())
            .part("file", file_part("chat-tonic.csv"));
        app.request(Method::POST, "/v1/campaigns")
            .header("Idempotency-Key", "upload-42")
            .multipart(form)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    let second = send().await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(second.headers().get("idempotent-replayed").unwrap(), "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first["id"], second["id"]);
    let list: Value = app.get("/v1/campaigns").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

async fn file_url_is_fetched(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    // A local file server (the testkit allows private addresses; production refuses them).
    let bytes = std::fs::read(fixtures().join("files/chat-tonic.csv.zip")).unwrap();
    let router = axum::Router::new().route(
        "/files/hsm.csv.zip",
        axum::routing::get(move || async move { bytes.clone() }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let body =
        json!({"account": account, "file_url": format!("http://{addr}/files/hsm.csv.zip"), "name": "from a url"});
    let r = app.post_json("/v1/campaigns", &body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let created: Value = r.json().await.unwrap();
    let c = app.settled(created["id"].as_str().unwrap()).await;
    assert_eq!(
        (c["name"].as_str(), c["counts"]["accepted"].as_u64()),
        (Some("from a url"), Some(4))
    );
    let missing = json!({"account": account, "file_url": format!("http://{addr}/nothing")});
    let e: Value = app
        .post_json("/v1/campaigns", &missing)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["code"], "fetch_failed");
}

async fn validate_reports_without_storing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let form = Form::new()
        .text("account", account.clone())
        .part("file", file_part("chat-tonic.xlsx.zip"));
    let r = app
        .request(Method::POST, "/v1/campaigns/validate")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["summary"],
        json!({"format": "xlsx", "wrapped_in": ["zip"], "rows": 11, "accepted": 4, "rejected": 7, "suppressed": 0})
    );
    let codes: Vec<(u64, String)> = v["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row_number"].as_u64().unwrap(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = EXPECTED_REJECTIONS.iter().map(|(r, c)| (*r, c.to_string())).collect();
    assert_eq!(codes, expected);
    assert!(v["rejections"][0]["message"].as_str().unwrap().len() > 3);
    let list: Value = app.get("/v1/campaigns").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"], json!([]), "validation stores nothing");
    // A bad file is the same 422 as on upload.
    let form = Form::new()
        .text("account", account)
        .part("file", file_part("nested.zip"));
    let e: Value = app
        .request(Method::POST, "/v1/campaigns/validate")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["details"]["reason"], "archive_nested");
}

async fn opted_out_numbers_become_suppressed_messages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let r: Value = app
        .post_json("/v1/optouts", &json!({"phones": ["+1 (415) 555-2671", "not a phone"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["added"], 1);
    assert_eq!(r["invalid"][0]["phone"], "not a phone");
    let (_, created) = upload(&app, &account, "chat-tonic.csv").await;
    let id = created["id"].as_str().unwrap().to_owned();
    let c = app.settled(&id).await;
    assert_eq!(
        (
            c["counts"]["accepted"].as_u64(),
            c["counts"]["pending"].as_u64(),
            c["counts"]["suppressed"].as_u64()
        ),
        (Some(4), Some(3), Some(1))
    );
    let suppressed: Value = app
        .get(&format!("/v1/campaigns/{id}/messages?status=suppressed"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(suppressed["data"][0]["phone"], "+14155552671");
    let list: Value = app.get("/v1/optouts").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"][0]["phone"], "+14155552671");
    let r = app
        .request(Method::DELETE, "/v1/optouts/%2B14155552671")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

/// A Chat-Tonic CSV of about `bytes` bytes: the fixture's header and one row repeated.
fn big_csv(bytes: usize) -> Vec<u8> {
    let fixture = std::fs::read_to_string(fixtures().join("files").join("chat-tonic.csv")).unwrap();
    let mut lines = fixture.lines();
    let (header, row) = (lines.next().unwrap(), lines.next().unwrap());
    let mut csv = format!("{header}\n");
    while csv.len() < bytes {
        csv.push_str(row);
        csv.push('\n');
    }
    csv.into_bytes()
}

#[tokio::test]
async fn an_upload_may_exceed_the_json_limit_up_to_the_upload_limit() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.max_body_bytes = 64 * 1024;
        c.max_upload_bytes = 2_000_000;
    })
    .await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let post = |bytes: Vec<u8>| {
        let form = Form::new()
            .text("account", account.clone())
            .part("file", Part::bytes(bytes).file_name("big.csv"));
        app.request(Method::POST, "/v1/campaigns").multipart(form).send()
    };
    // Sixteen times the JSON limit: the file is taken whole.
    let r = post(big_csv(1_000_000)).await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: Value = r.json().await.unwrap();
    assert!(v["source"]["size"].as_u64().unwrap() >= 1_000_000, "{v}");

    // Past the upload limit: refused as too large, not as a broken upload.
    let r = post(big_csv(2_100_000)).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "payload_too_large");

    // JSON bodies keep their own limit.
    let shorthand = "x".repeat(100 * 1024);
    let r = app
        .post_json(
            "/v1/messages",
            &json!({"account": account, "to": "+34612345678", "shorthand": shorthand}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// Chat-Tonic's document shows `curl -H 'Content-Type: application/json' --form upload=@file`: curl then sends
/// `application/json; boundary=…` with a multipart body, and the upload must work as it does there.
#[tokio::test]
async fn chat_tonic_form_sent_with_a_json_content_type_is_read_as_a_form() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let form = Form::new().part("upload", file_part("chat-tonic.csv"));
    let mut headers = pregon_testkit::reqwest::header::HeaderMap::new();
    headers.insert(
        "content-type",
        format!("application/json; boundary={}", form.boundary())
            .parse()
            .unwrap(),
    );
    let url = format!("/api/v1/acme/hsm/campaign/upload?platform=whatsapp-sandbox&accountId={account}");
    let r = app
        .request(Method::POST, &url)
        .multipart(form)
        .headers(headers)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    let c = app.settled(v["campaignId"].as_str().unwrap()).await;
    assert_eq!(c["counts"]["accepted"], 4);
}

/// Refused early: an upload whose declared length is over the limit gets its `413` before any of the body is sent,
/// and a request whose headers are absurdly large is refused by the HTTP layer.
#[tokio::test]
async fn oversized_uploads_and_headers_are_refused_before_the_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.max_upload_bytes = 1_000_000).await;
    let address = app.url("").trim_start_matches("http://").to_owned();
    let exchange = |head: String| {
        let address = address.clone();
        async move {
            let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
            // The server may hang up before it has read everything sent: that is a refusal too.
            let _ = socket.write_all(head.as_bytes()).await;
            // No body follows: an answer can only come from the headers.
            let mut answer = vec![0; 4096];
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut answer))
                .await
                .expect("no answer within 5 s: the server waited for the body")
                .unwrap_or(0);
            String::from_utf8_lossy(&answer[..n]).into_owned()
        }
    };
    let answer = exchange(format!(
        "POST /v1/campaigns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 50000000000\r\n\r\n",
        app.token
    ))
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");

    let answer = exchange(format!(
        "GET /v1/accounts HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    ))
    .await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431") || answer.starts_with("HTTP/1.1 400"),
        "{answer}"
    );
}
