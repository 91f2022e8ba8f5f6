//! Ingestion as a durable job: a worker that dies half-way is taken over and the file is stored exactly once;
//! rejections export as CSV; sample files upload back cleanly.

#![allow(clippy::unwrap_used)]

use pregon::config::Config;
use pregon::ingestion::{self, IngestSpec};
use pregon::state::AppState;
use pregon_core::account::{AccountSettings, Credentials};
use pregon_core::campaign::NewCampaign;
use pregon_core::template::Template;
use pregon_core::{CampaignStatus, ProviderKind};
use pregon_ingest::pipeline::{self, Batch};
use pregon_store::MessageFilter;
use pregon_store::testing::TestDatabase;
use pregon_testkit::reqwest::multipart::{Form, Part};
use pregon_testkit::reqwest::{Method, StatusCode};
use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

on_both_backends!(
    a_worker_that_dies_half_way_is_resumed_without_duplicates,
    a_process_that_does_not_ingest_leaves_uploads_to_one_that_does,
    rejections_export_as_csv,
    sample_files_upload_back
);

const ROWS: u64 = 12_000;

async fn a_worker_that_dies_half_way_is_resumed_without_duplicates(backend: Backend) {
    pregon::install_crypto_provider();
    let db = TestDatabase::new(backend).await;
    let store = db.store().await.unwrap();
    let (app, _) = pregon::bootstrap::create_app(&store, "acme").await.unwrap();
    let settings = AccountSettings {
        name: "sandbox".into(),
        provider: ProviderKind::Sandbox,
        sender: "sandbox".into(),
        rate_per_second: 80,
        concurrency: 4,
        daily_cap: None,
        base_url: None,
        default_language: None,
        default_region: None,
    };
    let account = store
        .create_account(app.id, &settings, &Credentials::default())
        .await
        .unwrap();
    let def = json!({"name": "hello_world", "language": "en_US", "components": [{"type": "BODY", "text": "Hello"}]});
    store
        .create_template(app.id, account.id, &Template::from_meta(&def).unwrap(), &def)
        .await
        .unwrap();

    // 12,000 rows (three batches); every 1,000th phone is invalid, so rejections are part of the resume too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut csv = String::from("phone,elementName,languageCode\n");
    for i in 0..ROWS {
        if i % 1000 == 999 {
            csv.push_str("123,hello_world,en_US\n");
        } else {
            csv.push_str(&format!(
                "+1415{}{:04},hello_world,en_US\n",
                200 + i / 10_000,
                i % 10_000
            ));
        }
    }
    std::fs::write(&path, csv).unwrap();
    let spec = IngestSpec {
        model: "chat_tonic".into(),
        sheet: Some("campaign".into()),
        ..Default::default()
    };
    let new = NewCampaign {
        account_id: account.id,
        name: "big".into(),
        options: serde_json::to_value(&spec).unwrap(),
        ..Default::default()
    };
    let campaign = store.create_campaign_with_upload(app.id, &new, &path).await.unwrap();

    // The first worker stores one batch, then dies (its lease is short so the test need not wait a minute).
    let dead = store
        .claim_ingestion("dead-worker", Duration::from_millis(300))
        .await
        .unwrap()
        .unwrap();
    let options = spec.pipeline_options(&account, Default::default(), 0).unwrap();
    let book = ingestion::template_book(&store, app.id, &account).await.unwrap();
    let first: Arc<Mutex<Option<Batch>>> = Arc::default();
    let keep = first.clone();
    let read_path = path.clone();
    let crashed = tokio::task::spawn_blocking(move || {
        pipeline::run(&read_path, book, HashSet::new(), &options, |batch| {
            *keep.lock().unwrap() = Some(batch);
            Err("crash")
        })
    })
    .await
    .unwrap();
    assert!(crashed.is_err());
    let batch = first.lock().unwrap().take().unwrap();
    let through = batch.through_row;
    assert!(through > 1 && through < ROWS, "one batch of several: {through}");
    store
        .store_ingest_batch(&dead, ingestion::stored(&batch), Duration::from_millis(300))
        .await
        .unwrap();

    // Another worker takes the campaign over once the lease has run out, and finishes it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let state = AppState::new(
        store.clone(),
        Config {
            database_url: db.url.clone(),
            ..Config::default()
        },
    )
    .unwrap();
    let claim = store
        .claim_ingestion("second-worker", ingestion::LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim.campaign.ingested_rows, through);
    ingestion::ingest(&state, claim).await.unwrap();

    let c = store.get_campaign(app.id, campaign.id).await.unwrap();
    assert_eq!(c.status, CampaignStatus::Scheduled);
    assert_eq!(c.counts.rows, ROWS);
    assert_eq!(c.counts.rejected, ROWS / 1000);
    assert_eq!(c.counts.accepted, ROWS - ROWS / 1000);
    let messages = store
        .list_messages(
            app.id,
            campaign.id,
            &MessageFilter {
                limit: 20_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let rejections = store.list_rejections(app.id, campaign.id, None, 20_000).await.unwrap();
    assert_eq!(messages.len() as u64, c.counts.accepted, "the counters equal a recount");
    assert_eq!(rejections.len() as u64, c.counts.rejected);
    let mut rows: Vec<u64> = messages
        .iter()
        .filter_map(|m| m.row_number)
        .chain(rejections.iter().map(|r| r.row_number))
        .collect();
    rows.sort_unstable();
    let expected: Vec<u64> = (2..ROWS + 2).collect();
    assert_eq!(rows, expected, "every row exactly once");
    assert_eq!(
        store.read_upload(campaign.id, 0).await.unwrap(),
        None,
        "the upload is gone once ingested"
    );
}

/// `ingest = false`: the process takes uploads but never reads them; another process (here a second worker on the same
/// database) does.
async fn a_process_that_does_not_ingest_leaves_uploads_to_one_that_does(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.ingest = false).await;
    let account = app.sandbox_account(json!({})).await;
    let id = upload_chat_tonic_csv(&app, account).await;
    // The worker would have claimed it at once (an upload wakes it) or within its 1 s poll.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let waiting = app.wait_for(&id, Duration::from_secs(5), |_| true).await;
    assert_eq!(waiting["status"], "ingesting", "{waiting}");
    assert_eq!(waiting["counts"]["rows"], 0, "{waiting}");

    let mut config = (*app.state.config).clone();
    config.ingest = true;
    let other = AppState::new(app.store.clone(), config).unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = pregon::spawn_workers(other, stopped);
    let done = app
        .wait_for(&id, Duration::from_secs(30), |c| c["status"] != "ingesting")
        .await;
    assert_eq!(done["status"], "scheduled", "{done}");
    assert_eq!(
        (done["counts"]["accepted"].as_u64(), done["counts"]["rejected"].as_u64()),
        (Some(4), Some(7))
    );
    stop.send(true).unwrap();
    worker.await.unwrap();
}

/// Upload `fixtures/files/chat-tonic.csv` (4 messages, 7 rejections) as a campaign of `account`; its id.
async fn upload_chat_tonic_csv(app: &TestApp, account: String) -> String {
    let bytes = std::fs::read(fixtures().join("files/chat-tonic.csv")).unwrap();
    let form = Form::new()
        .text("account", account)
        .part("file", Part::bytes(bytes).file_name("hsm.csv"));
    let created: Value = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

async fn rejections_export_as_csv(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({})).await;
    let id = upload_chat_tonic_csv(&app, account).await;
    app.settled(&id).await;
    let r = app
        .get(&format!("/v1/campaigns/{id}/rejections"))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<(u64, String)> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].parse().unwrap(), r[2].to_owned()))
        .collect();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0], (6, "invalid_phone".to_owned()));
    assert_eq!(rows[6], (12, "missing_button_parameter".to_owned()));
    let same = app
        .get(&format!("/v1/campaigns/{id}/rejections?format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(same, text);
}

async fn sample_files_upload_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.sandbox_account(json!({})).await;
    for (format, name) in [("csv", "sample.csv"), ("xlsx", "sample.xlsx")] {
        let r = app
            .get(&format!(
                "/v1/accounts/{account}/templates/appointment_reminder/sample?format={format}"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{format}");
        let bytes = r.bytes().await.unwrap().to_vec();
        let form = Form::new()
            .text("account", account.clone())
            .part("file", Part::bytes(bytes).file_name(name));
        let created: Value = app
            .request(Method::POST, "/v1/campaigns")
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let c = app.settled(created["id"].as_str().unwrap()).await;
        assert_eq!(
            (c["counts"]["accepted"].as_u64(), c["counts"]["rejected"].as_u64()),
            (Some(1), Some(0)),
            "{format}: {c}"
        );
    }
    // The Jelou-model sample, with the mapping it comes with.
    let r = app
        .get(&format!(
            "/v1/accounts/{account}/templates/payment_due/sample?model=jelou"
        ))
        .send()
        .await
        .unwrap();
    let params = r.headers().get("x-pregon-params").unwrap().to_str().unwrap().to_owned();
    let bytes = r.bytes().await.unwrap().to_vec();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("phone_number,param_1,param_2,param_3"), "{text}");
    let form = Form::new()
        .text("account", account.clone())
        .text("template", "payment_due")
        .text("params", params)
        .part("file", Part::bytes(bytes).file_name("jelou.csv"));
    let created: Value = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = app.settled(created["id"].as_str().unwrap()).await;
    // payment_due has a dynamic URL button: a mapping-model file gives no buttonParameter, so the row is refused
    // with the reason, not dropped.
    assert_eq!(c["counts"]["rows"], 1, "{c}");
    let r = app
        .get(&format!("/v1/accounts/{account}/templates/no_such/sample"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
