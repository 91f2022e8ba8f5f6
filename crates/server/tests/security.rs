//! Every route, walked from the OpenAPI document (which `tests/openapi.rs` proves lists every route of the router):
//! without credentials each one that needs them answers 401, and an app that holds the token of another tenant gets
//! nothing of the owner's resources — every route taking an id answers 404 for the owner's ids and changes nothing.

#![allow(clippy::unwrap_used)]

use pregon_testkit::reqwest::multipart::{Form, Part};
use pregon_testkit::reqwest::{Method, StatusCode};
use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    every_route_that_needs_credentials_refuses_a_request_without_them,
    no_route_gives_one_app_another_apps_resources,
);

/// Every operation of the document: method, path template, and whether it declares no credentials.
async fn operations(app: &TestApp) -> Vec<(Method, String, bool, Value)> {
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(m) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
                continue;
            }
            let public = match op.get("security").or(doc.get("security")) {
                None => true,
                Some(Value::Array(reqs)) => {
                    reqs.is_empty() || reqs.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty()))
                }
                Some(_) => false,
            };
            ops.push((m, path.clone(), public, op.clone()));
        }
    }
    assert!(ops.len() >= 40, "only {} operations documented", ops.len());
    ops
}

/// `template` with each `{param}` replaced from `values`; a parameter with no value fails the test, so a new kind of
/// id must be added here (and so gets walked).
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut path = template.to_owned();
    while let Some(start) = path.find('{') {
        let end = path[start..].find('}').unwrap() + start;
        let name = &path[start + 1..end];
        let value = values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no value for `{{{name}}}` in {template}: add one to this test"));
        path.replace_range(start..=end, &value);
    }
    path
}

async fn every_route_that_needs_credentials_refuses_a_request_without_them(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.metrics_token = Some("metrics-secret".into())).await;
    let meta: Value = app
        .post_json(
            "/v1/accounts",
            &json!({"name": "meta", "provider": "meta", "sender": "1065",
                    "credentials": {"access_token": "t", "app_secret": "s", "verify_token": "v"}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let meta = meta["id"].as_str().unwrap().to_owned();
    let unknown = "01a20627-0000-7000-8000-000000000000".to_owned();
    let values = [
        ("account", unknown.clone()),
        ("campaign", unknown.clone()),
        ("message", unknown.clone()),
        ("template", unknown.clone()),
        ("name", "hello_world".to_owned()),
        ("phone", "+5491123456789".to_owned()),
        ("app", "acme".to_owned()),
        ("platform", "whatsapp-cloud".to_owned()),
        ("file", "app.js".to_owned()),
    ];
    let mut checked = 0;
    for (method, template, public, _) in operations(&app).await {
        if public || template.starts_with("/docs") {
            continue;
        }
        // Webhooks need a real account of their provider to get past "no such account".
        let path = if template.starts_with("/webhooks/") {
            template.replace("{provider}", "meta").replace("{account}", &meta)
        } else {
            fill(&template, &values)
        };
        let r = app
            .client
            .request(method.clone(), app.url(&path))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without credentials: {body}"
        );
        if template == "/v1/hsm/file" {
            // Jelou's own answer, as its document shows.
            assert_eq!(body["message"], "Authentication failed", "{body}");
        } else {
            assert_eq!(body["error"]["code"], "unauthorized", "{method} {path}: {body}");
        }
        // A wrong token is no better than none.
        let r = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth("pgn_not-a-real-token")
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        if !template.starts_with("/webhooks/") {
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} with a wrong token"
            );
        }
        checked += 1;
    }
    assert!(checked >= 35, "only {checked} routes checked");
}

async fn no_route_gives_one_app_another_apps_resources(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({"default_language": "en_US"})).await;
    let at = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let csv = std::fs::read(fixtures().join("files/chat-tonic.csv")).unwrap();
    let form = Form::new()
        .text("account", account.clone())
        .text("scheduled_at", at)
        .part("file", Part::bytes(csv).file_name("c.csv"));
    let created: Value = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let campaign = created["id"].as_str().unwrap().to_owned();
    let settled = app.settled(&campaign).await;
    assert_eq!(settled["status"], "scheduled", "{settled}");
    let messages: Value = app
        .get(&format!("/v1/campaigns/{campaign}/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = messages["data"][0]["id"].as_str().unwrap().to_owned();
    let phone = messages["data"][0]["phone"].as_str().unwrap().to_owned();
    let campaign_name = settled["name"].as_str().unwrap().to_owned();
    let templates: Value = app
        .get(&format!("/v1/accounts/{account}/templates"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let template = &templates["data"][0];
    let (template_id, template_name) = (
        template["id"].as_str().unwrap().to_owned(),
        template["name"].as_str().unwrap().to_owned(),
    );
    // An opt-out of the owner's, which the intruder must not be able to lift.
    let opted_out = "+5491199998888";
    let r = app
        .post_json("/v1/optouts", &json!({"phones": [opted_out]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let owner_views = [
        "/v1/optouts".to_owned(),
        format!("/v1/accounts/{account}"),
        format!("/v1/accounts/{account}/templates/{template_id}"),
        format!("/v1/campaigns/{campaign}"),
        format!("/v1/campaigns/{campaign}/messages"),
        format!("/v1/campaigns/{campaign}/rejections"),
        format!("/v1/messages/{message}"),
    ];
    let mut before = Vec::new();
    for path in &owner_views {
        let r = app.get(path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "the owner reads {path}");
        before.push(without_clock(r.json().await.unwrap()));
    }

    let (_, intruder) = app.another_app("intruder").await;
    let values = [
        ("account", account.clone()),
        ("campaign", campaign.clone()),
        ("message", message.clone()),
        ("template", template_id.clone()),
        ("name", template_name.clone()),
        ("phone", opted_out.to_owned()),
        ("app", "acme".to_owned()),
        ("platform", "sandbox".to_owned()),
    ];
    let mut checked = 0;
    for (method, template, public, _) in operations(&app).await {
        // Routes without an owner's id in their path are the intruder's own (lists, opt-outs, callback…): checked
        // below by what they return.
        if public || template.starts_with("/webhooks/") || !template.contains('{') {
            continue;
        }
        let path = fill(&template, &values);
        let r = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&intruder)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        // A body the route cannot read is refused before any lookup (400/422); that it changed nothing is checked
        // at the end, with every other attempt.
        let refused = [StatusCode::NOT_FOUND, StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN];
        let unreadable = [StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY];
        assert!(
            refused.contains(&status) || (method != Method::GET && unreadable.contains(&status)),
            "{method} {path} as another app: {status} {body}"
        );
        assert!(
            !body.contains(&phone) && !body.contains(&campaign_name),
            "{method} {path} leaked the owner's data: {body}"
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} routes checked");

    // Routes that name the owner's account in their body.
    let send = app
        .client
        .post(app.url("/v1/messages"))
        .bearer_auth(&intruder)
        .json(&json!({"account": account, "to": "+5491123456789", "template": template_name, "language": "en_US"}))
        .send()
        .await
        .unwrap();
    assert_eq!(send.status(), StatusCode::NOT_FOUND, "{:?}", send.text().await);
    let csv = std::fs::read(fixtures().join("files/chat-tonic.csv")).unwrap();
    for path in ["/v1/campaigns", "/v1/campaigns/validate"] {
        let form = Form::new()
            .text("account", account.clone())
            .part("file", Part::bytes(csv.clone()).file_name("c.csv"));
        let r = app
            .client
            .post(app.url(path))
            .bearer_auth(&intruder)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}: {:?}", r.text().await);
    }
    // The intruder's own lists hold nothing of the owner's.
    for path in ["/v1/accounts", "/v1/campaigns", "/v1/optouts"] {
        let body = app
            .client
            .get(app.url(path))
            .bearer_auth(&intruder)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!body.contains(&account) && !body.contains(&campaign), "{path}: {body}");
    }

    // Nothing of the owner's changed.
    for (path, was) in owner_views.iter().zip(&before) {
        let now = without_clock(app.get(path).send().await.unwrap().json().await.unwrap());
        assert_eq!(&now, was, "{path} changed");
    }
}

/// A view without what moves with the clock alone: a scheduled campaign's `eta_seconds` counts down to its start.
fn without_clock(mut view: Value) -> Value {
    if let Some(fields) = view.as_object_mut() {
        fields.remove("eta_seconds");
    }
    view
}

/// A provider account's `base_url` is dialled by the senders: it may not name an internal address (in any spelling)
/// unless the server runs with `fetch_allow_private`, on creation or on a change.
#[tokio::test]
async fn account_base_urls_may_not_point_inside() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.fetch_allow_private = false).await;
    let account = |base_url: &str| {
        json!({"name": "meta", "provider": "meta", "sender": "1065", "base_url": base_url,
               "credentials": {"access_token": "t", "app_secret": "s"}})
    };
    for inside in [
        "http://127.0.0.1:9",
        "http://localhost:8080",
        "http://169.254.169.254/latest",
        "http://[::1]:8080",
        "http://0x7f000001/",
        "https://10.0.0.8",
    ] {
        let r = app.post_json("/v1/accounts", &account(inside)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{inside}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["details"]["field"], "base_url", "{inside}: {e}");
    }
    let created: Value = app
        .post_json("/v1/accounts", &account("https://graph.example.com"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let r = app
        .request(Method::PATCH, &format!("/v1/accounts/{id}"))
        .json(&json!({"base_url": "http://192.168.1.1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
