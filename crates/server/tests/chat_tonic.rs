//! Chat-Tonic's status query, `GET /api/v1/{app}/hsm?query={"campaignId":"…"}`, with the token in the header or
//! the query string.

#![allow(clippy::unwrap_used)]

use pregon_core::campaign::NewCampaign;
use pregon_core::message::{NewMessage, StatusUpdate};
use pregon_core::template::TemplateParams;
use pregon_core::{AccountId, CampaignId, MessageId, MessageStatus};
use pregon_testkit::reqwest::StatusCode;
use pregon_testkit::{Backend, TestApp, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(status_query_answers_the_campaign_messages);

async fn campaign_with_messages(app: &TestApp, n: usize) -> (CampaignId, Vec<MessageId>) {
    let acc: Value = app
        .post_json("/v1/accounts", &json!({"name": "main", "provider": "sandbox"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account: AccountId = acc["id"].as_str().unwrap().parse().unwrap();
    let new = NewCampaign {
        account_id: account,
        name: "c".into(),
        ..Default::default()
    };
    let campaign = app.store.create_campaign(app.app.id, &new).await.unwrap();
    let messages: Vec<NewMessage> = (0..n)
        .map(|i| NewMessage {
            id: MessageId::new(),
            row_number: Some(i as u64 + 2),
            phone: format!("+54911000000{i:02}"),
            template_name: "hello_world".into(),
            language: "en_US".into(),
            params: TemplateParams::default(),
            rendered_text: None,
            flag: Some(format!("customer-{i}")),
            status: MessageStatus::Pending,
        })
        .collect();
    app.store
        .insert_messages(app.app.id, campaign.id, &messages)
        .await
        .unwrap();
    (campaign.id, messages.iter().map(|m| m.id).collect())
}

async fn status_query_answers_the_campaign_messages(backend: Backend) {
    // Its campaign is written straight to the store: no ingestion worker may claim it while `ingesting` (and fail it).
    let app = TestApp::spawn_with(backend, |c| c.ingest = false).await;
    let (campaign, ids) = campaign_with_messages(&app, 3).await;
    for s in [MessageStatus::Queued, MessageStatus::Sending, MessageStatus::Sent] {
        let update = StatusUpdate {
            provider_message_id: Some("wamid.1".into()),
            ..Default::default()
        };
        app.store
            .set_message_status(app.app.id, ids[0], s, &update)
            .await
            .unwrap();
    }
    let query = json!({"campaignId": campaign}).to_string();
    let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let path = format!("/api/v1/acme/hsm?query={encoded}");

    // Token in the query string, as the Chat-Tonic document allows.
    let r = app
        .client
        .get(app.url(&format!("{path}&token={}", app.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["campaignId"], json!(campaign));
    assert_eq!(v["status"], "ingesting");
    assert_eq!(v["counts"]["sent"], 1);
    let hsms = v["hsms"].as_array().unwrap();
    assert_eq!(hsms.len(), 3);
    assert_eq!(
        (hsms[0]["status"].as_str(), hsms[0]["providerMessageId"].as_str()),
        (Some("sent"), Some("wamid.1"))
    );
    assert_eq!(
        (hsms[1]["status"].as_str(), hsms[1]["flag"].as_str()),
        (Some("pending"), Some("customer-1"))
    );

    // Token in the header; pages with limit and cursor.
    let page: Value = app
        .get(&format!("{path}&limit=2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["hsms"].as_array().unwrap().len(), 2);
    let cursor = page["nextCursor"].as_str().unwrap();
    let rest: Value = app
        .get(&format!("{path}&limit=2&cursor={cursor}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["hsms"].as_array().unwrap().len(), 1);
    assert_eq!(rest["nextCursor"], Value::Null);

    // Clear 4xx for a bad query.
    let bad = |q: &str| {
        let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
        app.get(&format!("/api/v1/acme/hsm?query={q}")).send()
    };
    for (q, status, code) in [
        ("not json", StatusCode::BAD_REQUEST, "invalid_query"),
        ("{}", StatusCode::BAD_REQUEST, "invalid_query"),
        ("{\"campaignId\": \"nope\"}", StatusCode::NOT_FOUND, "not_found"),
        (
            "{\"campaignId\": \"01a20627-0000-7000-8000-000000000000\"}",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let r = bad(q).await.unwrap();
        assert_eq!(r.status(), status, "{q}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], code, "{q}");
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
    }
    let r = app.get("/api/v1/acme/hsm").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // No token, a wrong token, another app's name or another app's campaign.
    let r = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .get(app.url(&format!("{path}&token=pgn_wrong")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (_, other) = app.another_app("intruder").await;
    let r = app
        .client
        .get(app.url(&format!("{path}&token={other}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "acme's path with intruder's token");
    let theirs = format!("/api/v1/intruder/hsm?query={encoded}&token={other}");
    let r = app.client.get(app.url(&theirs)).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "acme's campaign under intruder's name"
    );
}
