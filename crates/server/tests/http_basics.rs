//! What every route shares: the auth layer's accepted forms, the error shape, request ids, health checks.

#![allow(clippy::unwrap_used)]

use base64::Engine;
use pregon_testkit::reqwest::{Method, StatusCode};
use pregon_testkit::{Backend, TestApp};
use serde_json::{Value, json};

async fn error_of(r: pregon_testkit::reqwest::Response) -> (StatusCode, String, String) {
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    let code = v["error"]["code"].as_str().unwrap_or("<no code>").to_owned();
    let message = v["error"]["message"].as_str().unwrap_or("").to_owned();
    (status, code, message)
}

/// Every native route, with a method it answers.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/accounts"),
    ("POST", "/v1/accounts"),
    ("GET", "/v1/accounts/01a20627-0000-7000-8000-000000000000"),
    ("PATCH", "/v1/accounts/01a20627-0000-7000-8000-000000000000"),
    ("DELETE", "/v1/accounts/01a20627-0000-7000-8000-000000000000"),
    ("GET", "/v1/accounts/01a20627-0000-7000-8000-000000000000/templates"),
    ("POST", "/v1/accounts/01a20627-0000-7000-8000-000000000000/templates"),
    (
        "GET",
        "/v1/accounts/01a20627-0000-7000-8000-000000000000/templates/01a20627-0000-7000-8000-000000000001",
    ),
    (
        "PUT",
        "/v1/accounts/01a20627-0000-7000-8000-000000000000/templates/01a20627-0000-7000-8000-000000000001",
    ),
    (
        "DELETE",
        "/v1/accounts/01a20627-0000-7000-8000-000000000000/templates/01a20627-0000-7000-8000-000000000001",
    ),
    ("GET", "/v1/campaigns"),
    ("GET", "/v1/campaigns/01a20627-0000-7000-8000-000000000000"),
    ("GET", "/v1/campaigns/01a20627-0000-7000-8000-000000000000/messages"),
    ("GET", "/v1/campaigns/01a20627-0000-7000-8000-000000000000/rejections"),
    ("GET", "/v1/messages/01a20627-0000-7000-8000-000000000000"),
];

#[tokio::test]
async fn every_route_refuses_requests_without_valid_credentials() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for (method, path) in ROUTES {
        let method: Method = method.parse().unwrap();
        let variants = [
            ("no credentials", app.client.request(method.clone(), app.url(path))),
            (
                "unknown token",
                app.client
                    .request(method.clone(), app.url(path))
                    .bearer_auth("pgn_nope"),
            ),
            (
                "token in the query",
                app.client
                    .request(method.clone(), app.url(&format!("{path}?token={}", app.token))),
            ),
            (
                "wrong scheme",
                app.client
                    .request(method.clone(), app.url(path))
                    .header("authorization", format!("Token {}", app.token)),
            ),
        ];
        for (what, req) in variants {
            let r = req.json(&json!({})).send().await.unwrap();
            assert_eq!(
                r.headers().get("www-authenticate").map(|v| v.to_str().unwrap_or("")),
                Some("Bearer realm=\"pregon\"")
            );
            let (status, code, message) = error_of(r).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::UNAUTHORIZED, "unauthorized"),
                "{what}: {method} {path}"
            );
            assert!(!message.is_empty());
        }
    }
}

#[tokio::test]
async fn bearer_and_basic_credentials_are_accepted() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app
        .client
        .get(app.url("/v1/accounts"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Jelou's Basic clientId:clientSecret is the app's name and its token.
    let r = app
        .client
        .get(app.url("/v1/accounts"))
        .basic_auth("acme", Some(&app.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .get(app.url("/v1/accounts"))
        .basic_auth("someone-else", Some(&app.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let garbage = base64::engine::general_purpose::STANDARD.encode("no-colon-here");
    let r = app
        .client
        .get(app.url("/v1/accounts"))
        .header("authorization", format!("Basic {garbage}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_needs_no_token_and_readiness_checks_the_database() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = TestApp::spawn(backend).await;
        let r = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v, json!({"status": "ready", "database": "ok"}));
    }
}

#[tokio::test]
async fn request_ids_are_generated_or_echoed() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = r.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("x-request-id").unwrap(), "trace-me-42");
    // Errors carry it too.
    let r = app
        .client
        .get(app.url("/v1/accounts"))
        .header("x-request-id", "err-7")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("x-request-id").unwrap(), "err-7");
}

#[tokio::test]
async fn every_error_has_the_catalogue_shape() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.max_body_bytes = 2048).await;
    let cases: Vec<(&str, pregon_testkit::reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            "unknown route",
            app.get("/v1/nothing-here"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "unknown top-level route",
            app.get("/nope"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "wrong method",
            app.request(Method::DELETE, "/v1/accounts"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "wrong method on health",
            app.request(Method::POST, "/healthz"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "not JSON",
            app.request(Method::POST, "/v1/accounts")
                .header("content-type", "application/json")
                .body("{nope"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "no content type",
            app.request(Method::POST, "/v1/accounts").body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "too large",
            app.post_json(
                "/v1/accounts",
                &json!({"name": "x".repeat(4096), "provider": "sandbox"}),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "bad query",
            app.get("/v1/campaigns?status=sideways"),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "bad id",
            app.get("/v1/campaigns/12"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (what, req, status, code) in cases {
        let r = req.send().await.unwrap();
        assert!(r.headers().get("x-request-id").is_some(), "{what}");
        let (got_status, got_code, message) = error_of(r).await;
        assert_eq!((got_status, got_code.as_str()), (status, code), "{what}");
        assert!(!message.is_empty(), "{what}");
    }
}

#[test]
fn docs_list_every_error_code_with_its_status() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md")).unwrap();
    for code in pregon_core::ErrorCode::ALL {
        let row = format!("| `{}` | {} |", code.as_str(), code.http_status());
        assert!(docs.contains(&row), "docs/errors.md lacks the row starting `{row}`");
    }
}

#[test]
fn docs_list_every_rejection_code() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md")).unwrap();
    for code in pregon_core::RejectionCode::ALL {
        assert!(
            docs.contains(&format!("| `{}` |", code.as_str())),
            "docs/errors.md lacks rejection code {}",
            code.as_str()
        );
    }
}

/// A live-progress stream of a campaign that is far from done ends when the server shuts down: the graceful shutdown
/// does not wait for a client that never hangs up.
#[tokio::test]
async fn shutdown_ends_live_progress_streams() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let at = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let csv = std::fs::read(pregon_testkit::fixtures().join("files/chat-tonic.csv")).unwrap();
    let form = pregon_testkit::reqwest::multipart::Form::new()
        .text("account", account)
        .text("scheduled_at", at)
        .part(
            "file",
            pregon_testkit::reqwest::multipart::Part::bytes(csv).file_name("c.csv"),
        );
    let created: Value = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    app.settled(&id).await;

    // A second server on the same state, which this test shuts down.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(pregon::http::serve(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));
    let mut stream = app
        .client
        .get(format!("{base}/v1/campaigns/{id}/events"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("progress"));

    stop.send(()).unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived the shutdown");
    let served = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
    assert!(served.is_ok(), "the server waited on the stream");
}
