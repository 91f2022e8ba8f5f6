//! Each provider's documented webhook bodies (fixtures/webhooks/) posted to the real server, on both backends: the
//! messages they name move to the status they report — forward only — with the campaign counters equal to a
//! recount; an unsigned or wrongly tokened request is refused and changes nothing.

#![allow(clippy::unwrap_used)]

use pregon_core::campaign::NewCampaign;
use pregon_core::message::{NewMessage, StatusUpdate};
use pregon_core::template::TemplateParams;
use pregon_core::{AccountId, CampaignStatus, MessageId, MessageStatus, ProviderKind};
use pregon_store::MessageFilter;
use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::{Value, json};
use std::collections::HashMap;

on_both_backends!(
    meta_bodies_move_their_messages,
    dialog360_bodies_move_their_messages,
    gupshup_bodies_move_their_messages,
    infobip_bodies_move_their_messages,
    clickatell_bodies_move_their_messages,
);

const TOKEN: &str = "hook-secret-42";
const APP_SECRET: &str = "meta-app-secret";

/// The status fixtures of a provider, in the order a message lives them.
fn status_files(provider: &str) -> Vec<&'static str> {
    match provider {
        "gupshup" => vec![
            "v2-sent.json",
            "v2-delivered.json",
            "v2-read.json",
            "v2-failed.json",
            "v3-sent.json",
            "v3-failed.json",
            "billing-event.json",
            "v2-enqueued.json",
        ],
        "infobip" => vec!["sent.json", "delivered.json", "seen.json", "failed.json"],
        "meta" => vec!["sent.json", "delivered.json", "read.json", "failed.json", "batch.json"],
        _ => vec!["sent.json", "delivered.json", "read.json", "failed.json"],
    }
}

async fn run(backend: Backend, provider: ProviderKind) {
    // Its campaign is written straight to the store: no ingestion worker may claim it while `ingesting` (and fail it).
    let app = TestApp::spawn_with(backend, |c| c.ingest = false).await;
    let credentials = match provider {
        ProviderKind::Meta => json!({"access_token": "t", "app_secret": APP_SECRET}),
        ProviderKind::Gupshup => json!({"api_key": "k", "app_name": "DemoAPI", "webhook_secret": TOKEN}),
        _ => json!({"api_key": "k", "webhook_secret": TOKEN}),
    };
    let r = app
        .post_json(
            "/v1/accounts",
            &json!({"name": "a", "provider": provider.as_str(), "sender": "15550783881", "credentials": credentials,
                    "base_url": "https://api.example.com"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let account: AccountId = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let dir = fixtures().join("webhooks").join(provider.as_str());
    let bodies: Vec<(String, Vec<u8>)> = status_files(provider.as_str())
        .into_iter()
        .map(|f| (f.to_owned(), std::fs::read(dir.join(f)).unwrap()))
        .collect();

    // One `sent` message per provider id the bodies name, in a running campaign.
    let mut ids: Vec<String> = Vec::new();
    for (_, body) in &bodies {
        for e in pregon_providers::webhooks::parse(provider, body).unwrap().statuses {
            let id = e.provider_message_id.unwrap();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    assert!(!ids.is_empty());
    let store = &app.store;
    let a = app.app.id;
    let campaign = store
        .create_campaign(
            a,
            &NewCampaign {
                account_id: account,
                name: "hooks".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let messages: Vec<NewMessage> = ids
        .iter()
        .enumerate()
        .map(|(i, _)| NewMessage {
            id: MessageId::new(),
            row_number: Some(i as u64 + 2),
            phone: format!("+54911234{:05}", i),
            template_name: "t".into(),
            language: "en".into(),
            params: TemplateParams::default(),
            rendered_text: None,
            flag: None,
            status: MessageStatus::Pending,
        })
        .collect();
    store.insert_messages(a, campaign, &messages).await.unwrap();
    store
        .set_campaign_status(a, campaign, CampaignStatus::Scheduled, None)
        .await
        .unwrap();
    store
        .set_campaign_status(a, campaign, CampaignStatus::Running, None)
        .await
        .unwrap();
    let mut by_provider_id: HashMap<String, MessageId> = HashMap::new();
    for (m, pid) in messages.iter().zip(&ids) {
        for s in [MessageStatus::Queued, MessageStatus::Sending] {
            store
                .set_message_status(a, m.id, s, &StatusUpdate::default())
                .await
                .unwrap();
        }
        let update = StatusUpdate {
            provider_message_id: Some(pid.clone()),
            ..StatusUpdate::default()
        };
        store
            .set_message_status(a, m.id, MessageStatus::Sent, &update)
            .await
            .unwrap();
        by_provider_id.insert(pid.clone(), m.id);
    }

    let client = pregon_testkit::reqwest::Client::new();
    let url = app.url(&format!("/webhooks/{}/{account}", provider.as_str()));
    let post = |body: Vec<u8>, authorized: bool| {
        let target = match (provider, authorized) {
            (ProviderKind::Meta, _) => url.clone(),
            (_, true) => format!("{url}?token={TOKEN}"),
            (_, false) => format!("{url}?token=guess"),
        };
        let mut r = client
            .post(target)
            .header("content-type", "application/json")
            .body(body.clone());
        if provider == ProviderKind::Meta {
            let key = if authorized { APP_SECRET } else { "forged" };
            r = r.header(
                "x-hub-signature-256",
                format!("sha256={}", pregon_mock_provider::sign(key, &body)),
            );
        }
        r.send()
    };
    // Refused first: nothing moves.
    let r = post(bodies[0].1.clone(), false).await.unwrap();
    assert_eq!(r.status(), 401);
    // Each body in order; the expected status of each message follows the same forward-only rule.
    let mut expected: HashMap<MessageId, MessageStatus> =
        by_provider_id.values().map(|id| (*id, MessageStatus::Sent)).collect();
    for (file, body) in &bodies {
        let r = post(body.clone(), true).await.unwrap();
        assert_eq!(r.status(), 200, "{file}: {}", r.text().await.unwrap());
        for e in pregon_providers::webhooks::parse(provider, body).unwrap().statuses {
            let id = by_provider_id[e.provider_message_id.as_ref().unwrap()];
            let now = expected[&id];
            if let Some(next) = now.advance(e.status) {
                expected.insert(id, next);
            }
        }
    }
    let stored = store
        .list_messages(
            a,
            campaign,
            &MessageFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut recount: HashMap<MessageStatus, u64> = HashMap::new();
    for m in &stored {
        assert_eq!(m.status, expected[&m.id], "{}: {m:?}", provider.as_str());
        if m.status == MessageStatus::Failed {
            assert!(m.error_code.is_some(), "a failure keeps the provider's code: {m:?}");
        }
        *recount.entry(m.status).or_default() += 1;
    }
    assert!(
        stored.iter().any(|m| m.status != MessageStatus::Sent),
        "the bodies moved something"
    );
    let k = store.get_campaign(a, campaign).await.unwrap().counts;
    let n = |s| recount.get(&s).copied().unwrap_or(0);
    assert_eq!(
        (k.sent, k.delivered, k.read, k.failed),
        (
            n(MessageStatus::Sent),
            n(MessageStatus::Delivered),
            n(MessageStatus::Read),
            n(MessageStatus::Failed)
        )
    );
    // The same bodies again change nothing.
    for (_, body) in &bodies {
        let r = post(body.clone(), true).await.unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["applied"], 0);
    }
}

async fn meta_bodies_move_their_messages(backend: Backend) {
    run(backend, ProviderKind::Meta).await;
}

async fn dialog360_bodies_move_their_messages(backend: Backend) {
    run(backend, ProviderKind::Dialog360).await;
}

async fn gupshup_bodies_move_their_messages(backend: Backend) {
    run(backend, ProviderKind::Gupshup).await;
}

async fn infobip_bodies_move_their_messages(backend: Backend) {
    run(backend, ProviderKind::Infobip).await;
}

async fn clickatell_bodies_move_their_messages(backend: Backend) {
    run(backend, ProviderKind::Clickatell).await;
}
