//! One app never sees or touches another app's accounts, templates, campaigns or messages: every route answers
//! 404 (not 403, which would confirm the id exists), lists are empty, and nothing of the owner's changes.

#![allow(clippy::unwrap_used)]

use pregon_core::campaign::NewCampaign;
use pregon_core::message::{NewMessage, Rejection};
use pregon_core::template::TemplateParams;
use pregon_core::{MessageId, MessageStatus};
use pregon_testkit::reqwest::{Method, StatusCode};
use pregon_testkit::{Backend, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(every_resource_of_an_app_is_invisible_to_another);

async fn every_resource_of_an_app_is_invisible_to_another(backend: Backend) {
    // Its campaign is written straight to the store: no ingestion worker may claim it while `ingesting` (and fail it).
    let app = TestApp::spawn_with(backend, |c| c.ingest = false).await;
    // The owner's resources: an account and a template through the API, a campaign with messages and a rejected
    // row through the store (campaign creation arrives with the ingestion endpoints).
    let acc: Value = app
        .post_json("/v1/accounts", &json!({"name": "main", "provider": "sandbox"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let acc_id = acc["id"].as_str().unwrap().to_owned();
    let template = json!({"name": "greeting", "language": "en", "components": [{"type": "BODY", "text": "Hi {{1}}"}]});
    let tpl: Value = app
        .post_json(&format!("/v1/accounts/{acc_id}/templates"), &template)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tpl_id = tpl["id"].as_str().unwrap().to_owned();
    let new = NewCampaign {
        account_id: acc_id.parse().unwrap(),
        name: "owner's campaign".into(),
        template_name: Some("greeting".into()),
        language: Some("en".into()),
        ..Default::default()
    };
    let campaign = app.store.create_campaign(app.app.id, &new).await.unwrap();
    let msg_id = MessageId::new();
    let message = NewMessage {
        id: msg_id,
        row_number: Some(2),
        phone: "+5491123456789".into(),
        template_name: "greeting".into(),
        language: "en".into(),
        params: TemplateParams {
            body: vec!["Ana".into()],
            ..Default::default()
        },
        rendered_text: Some("Hi Ana".into()),
        flag: None,
        status: MessageStatus::Pending,
    };
    app.store
        .insert_messages(app.app.id, campaign.id, &[message])
        .await
        .unwrap();
    let rejection = Rejection {
        row_number: 3,
        column: Some("phone".into()),
        code: "invalid_phone".into(),
        message: "x".into(),
    };
    app.store
        .insert_rejections(app.app.id, campaign.id, &[rejection])
        .await
        .unwrap();
    let c = campaign.id;

    let owner_view = |path: String| {
        let r = app.get(&path).send();
        async move { r.await.unwrap().text().await.unwrap() }
    };
    let before = [
        owner_view(format!("/v1/accounts/{acc_id}")).await,
        owner_view(format!("/v1/accounts/{acc_id}/templates/{tpl_id}")).await,
        owner_view(format!("/v1/campaigns/{c}")).await,
        owner_view(format!("/v1/messages/{msg_id}")).await,
    ];
    for b in &before {
        let v: Value = serde_json::from_str(b).unwrap();
        assert!(v["id"].is_string(), "owner can read its own resources: {b}");
    }

    let (_, intruder_token) = app.another_app("intruder").await;
    let as_intruder =
        |method: Method, path: &str| app.client.request(method, app.url(path)).bearer_auth(&intruder_token);

    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/v1/accounts/{acc_id}"), None),
        (
            Method::PATCH,
            format!("/v1/accounts/{acc_id}"),
            Some(json!({"name": "pwned"})),
        ),
        (Method::DELETE, format!("/v1/accounts/{acc_id}"), None),
        (Method::GET, format!("/v1/accounts/{acc_id}/templates"), None),
        (
            Method::POST,
            format!("/v1/accounts/{acc_id}/templates"),
            Some(json!({"name": "x", "language": "en", "components": [{"type": "BODY", "text": "x"}]})),
        ),
        (Method::GET, format!("/v1/accounts/{acc_id}/templates/{tpl_id}"), None),
        (
            Method::PUT,
            format!("/v1/accounts/{acc_id}/templates/{tpl_id}"),
            Some(template.clone()),
        ),
        (
            Method::DELETE,
            format!("/v1/accounts/{acc_id}/templates/{tpl_id}"),
            None,
        ),
        (Method::GET, format!("/v1/campaigns/{c}"), None),
        (Method::GET, format!("/v1/campaigns/{c}/messages"), None),
        (Method::GET, format!("/v1/campaigns/{c}/rejections"), None),
        (Method::GET, format!("/v1/messages/{msg_id}"), None),
    ];
    for (method, path, body) in attempts {
        let mut req = as_intruder(method.clone(), &path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} -> {text}");
        let e: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(e["error"]["code"], "not_found", "{method} {path}");
        assert!(
            !text.contains("owner's campaign") && !text.contains("+5491123456789"),
            "{method} {path} leaked: {text}"
        );
    }
    for path in [
        "/v1/accounts",
        "/v1/campaigns",
        &format!("/v1/campaigns?account={acc_id}"),
    ] {
        let v: Value = as_intruder(Method::GET, path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["data"], json!([]), "{path}");
    }
    // The intruder's token with the owner's name in Basic credentials is refused.
    let r = app
        .client
        .get(app.url("/v1/accounts"))
        .basic_auth("acme", Some(&intruder_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Nothing of the owner's changed.
    let after = [
        owner_view(format!("/v1/accounts/{acc_id}")).await,
        owner_view(format!("/v1/accounts/{acc_id}/templates/{tpl_id}")).await,
        owner_view(format!("/v1/campaigns/{c}")).await,
        owner_view(format!("/v1/messages/{msg_id}")).await,
    ];
    assert_eq!(before, after);
    let rejections: Value = app
        .get(&format!("/v1/campaigns/{c}/rejections"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rejections["data"][0]["row_number"], 3);
}
