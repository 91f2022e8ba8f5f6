//! The conformance suite: every behaviour the [`Store`](crate::Store) promises, written once and run against
//! each backend by [`conformance_suite!`](crate::conformance_suite). A new backend passes this suite or it is
//! not a backend.

#![allow(clippy::unwrap_used, missing_docs)]

use crate::{CampaignFilter, DynStore, FailureKind, IngestBatch, MessageFilter, SendResult, StoreError};
use pregon_core::account::{AccountSettings, Credentials};
use pregon_core::campaign::NewCampaign;
use pregon_core::message::{NewMessage, Rejection, StatusEvent, StatusUpdate};
use pregon_core::template::{Template, TemplateParams};
use pregon_core::{AccountId, AppId, CampaignId, CampaignStatus, MessageId, MessageStatus, ProviderKind, TemplateId};
use serde_json::json;
use std::collections::BTreeMap;

/// Generates one `#[tokio::test]` per case for the backend given (`pregon_store::Backend::Sqlite`, …), each on a
/// fresh database.
#[macro_export]
macro_rules! conformance_suite {
    ($backend:expr) => {
        $crate::conformance_suite!(@cases $backend;
            reconnecting_keeps_data_and_migrations_are_idempotent,
            apps_are_found_by_token_hash_only,
            accounts_are_created_read_updated_and_deleted,
            templates_are_created_read_updated_and_deleted,
            every_resource_is_isolated_between_apps,
            campaigns_follow_the_lifecycle,
            campaigns_are_listed_newest_first_with_filters,
            messages_and_rejections_are_counted_as_they_are_stored,
            message_statuses_move_with_their_counters,
            cancelling_a_campaign_cancels_its_unsent_messages,
            concurrent_status_changes_apply_once,
            provider_message_ids_are_unique_per_account,
            opt_outs_are_kept_per_app,
            idempotency_keys_find_the_first_campaign,
            ingestion_is_claimed_by_one_owner_and_resumes_after_its_last_batch,
            a_failed_ingestion_leaves_nothing_behind,
            withdrawn_rows_become_rejections_once,
            a_cancelled_ingestion_loses_its_lease,
            a_campaign_is_created_with_its_whole_upload,
            claims_are_exclusive_and_counted,
            sends_move_from_queued_to_their_outcome,
            reservations_never_overlap_and_respect_the_daily_cap,
            a_dead_senders_messages_are_recovered_never_resent,
            status_events_only_move_messages_forward,
            webhook_failures_keep_whether_a_retry_is_worth_it,
            outcomes_and_status_events_on_the_same_messages_neither_deadlock_nor_get_lost,
            a_cancel_racing_the_senders_neither_deadlocks_nor_loses_a_count,
            callbacks_are_enqueued_for_apps_with_a_url_and_claimed_once,
            callbacks_are_retried_at_their_time_and_given_up,
            send_timelines_sum_sends_per_bucket,
        );
    };
    (@cases $backend:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let db = $crate::testing::TestDatabase::new($backend).await;
                let store = db.store().await.unwrap_or_else(|e| panic!("cannot open {}: {e}", db.url));
                $crate::conformance::$case(store, &db.url).await;
            }
        )+
    };
}

fn settings(name: &str) -> AccountSettings {
    AccountSettings {
        name: name.into(),
        provider: ProviderKind::Meta,
        sender: "106540352242922".into(),
        rate_per_second: 80,
        concurrency: 16,
        daily_cap: Some(1000),
        base_url: Some("http://127.0.0.1:9".into()),
        default_language: None,
        default_region: None,
    }
}

fn meta_credentials() -> Credentials {
    Credentials::new(BTreeMap::from([
        ("access_token".to_string(), "EAAG-secret-token".to_string()),
        ("app_secret".to_string(), "app-secret".to_string()),
    ]))
}

fn definition(name: &str, language: &str) -> (Template, serde_json::Value) {
    let v = json!({
        "name": name, "language": language, "status": "APPROVED", "category": "UTILITY", "id": "123",
        "components": [{"type": "BODY", "text": "Hi {{1}}, your code is {{2}}"}]
    });
    (Template::from_meta(&v).unwrap(), v)
}

async fn app(store: &DynStore, name: &str) -> AppId {
    store.create_app(name, &format!("hash-of-{name}")).await.unwrap().id
}

async fn account(store: &DynStore, app: AppId) -> AccountId {
    store
        .create_account(app, &settings("main"), &meta_credentials())
        .await
        .unwrap()
        .id
}

async fn campaign(store: &DynStore, app: AppId, account: AccountId) -> CampaignId {
    let new = NewCampaign {
        account_id: account,
        name: "november".into(),
        template_name: Some("greeting".into()),
        language: Some("en_US".into()),
        scheduled_at: None,
        options: json!({"model": "chat_tonic"}),
        source: None,
        idempotency_key: None,
    };
    store.create_campaign(app, &new).await.unwrap().id
}

fn messages(n: usize, status: MessageStatus) -> Vec<NewMessage> {
    (0..n)
        .map(|i| NewMessage {
            id: MessageId::new(),
            row_number: Some(i as u64 + 2),
            phone: format!("+54911{:08}", i),
            template_name: "greeting".into(),
            language: "en_US".into(),
            params: TemplateParams {
                body: vec![format!("name {i}"), "X1".into()],
                ..Default::default()
            },
            // Characters the stores must keep as they are (PostgreSQL's COPY text format reserves some).
            rendered_text: Some(format!("Hi name {i},\n\tyour code is X1 \\N \\ end")),
            flag: Some(format!("flag-{i}\r")),
            status,
        })
        .collect()
}

fn rejection(row: u64) -> Rejection {
    Rejection {
        row_number: row,
        column: Some("phone".into()),
        code: "invalid_phone".into(),
        message: "not a phone number".into(),
    }
}

/// A batch of new rows.
fn rows<'a>(messages: &'a [NewMessage], rejections: &'a [Rejection], through_row: u64) -> IngestBatch<'a> {
    IngestBatch {
        messages,
        rejections,
        withdrawn: &[],
        through_row,
    }
}

fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "{what}: expected not found, got {r:?}"
    );
}

pub async fn reconnecting_keeps_data_and_migrations_are_idempotent(store: DynStore, url: &str) {
    let a = app(&store, "acme").await;
    store.ping().await.unwrap();
    drop(store);
    let again = crate::connect(url).await.unwrap();
    assert_eq!(again.count_apps().await.unwrap(), 1);
    assert_eq!(
        again.app_by_token_hash("hash-of-acme").await.unwrap().map(|x| x.id),
        Some(a)
    );
}

pub async fn apps_are_found_by_token_hash_only(store: DynStore, _url: &str) {
    assert_eq!(store.count_apps().await.unwrap(), 0);
    let acme = store.create_app("acme", "h1").await.unwrap();
    assert_eq!(acme.name, "acme");
    let found = store.app_by_token_hash("h1").await.unwrap().unwrap();
    assert_eq!(found, acme);
    assert_eq!(store.app_by_token_hash("h2").await.unwrap(), None);
    assert_eq!(store.app_by_token_hash("").await.unwrap(), None);
    assert!(matches!(
        store.create_app("acme", "h3").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_app("other", "h1").await,
        Err(StoreError::Database(_)) | Err(StoreError::Conflict(_))
    ));
    store.create_app("other", "h4").await.unwrap();
    assert_eq!(store.count_apps().await.unwrap(), 2);
}

pub async fn accounts_are_created_read_updated_and_deleted(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let created = store
        .create_account(a, &settings("main"), &meta_credentials())
        .await
        .unwrap();
    assert_eq!(created.settings, settings("main"));
    assert_eq!(created.credentials, meta_credentials());
    assert_eq!(store.get_account(a, created.id).await.unwrap(), created);
    assert!(matches!(
        store.create_account(a, &settings("main"), &meta_credentials()).await,
        Err(StoreError::Conflict(_))
    ));
    let second = store
        .create_account(a, &settings("backup"), &Credentials::default())
        .await
        .unwrap();
    let listed: Vec<_> = store
        .list_accounts(a)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(listed, vec![created.id, second.id]);

    let mut changed = settings("main-renamed");
    changed.rate_per_second = 250;
    changed.daily_cap = None;
    changed.base_url = None;
    let updated = store
        .update_account(a, created.id, &changed, &Credentials::default())
        .await
        .unwrap();
    assert_eq!(updated.settings, changed);
    assert_eq!(updated.credentials, Credentials::default());
    assert!(updated.updated_at >= created.updated_at);
    assert!(matches!(
        store
            .update_account(a, second.id, &changed, &Credentials::default())
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_not_found(
        store
            .update_account(a, AccountId::new(), &changed, &Credentials::default())
            .await,
        "update unknown",
    );

    store.delete_account(a, second.id).await.unwrap();
    assert_not_found(store.get_account(a, second.id).await, "deleted account");
    assert_not_found(store.delete_account(a, second.id).await, "deleted twice");

    // An account with a campaign cannot be deleted: its history would go with it.
    campaign(&store, a, created.id).await;
    let r = store.delete_account(a, created.id).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
}

pub async fn templates_are_created_read_updated_and_deleted(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let (t, v) = definition("greeting", "en_US");
    let stored = store.create_template(a, acc, &t, &v).await.unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.language.as_str(), stored.status.as_str()),
        ("greeting", "en_US", "APPROVED")
    );
    assert_eq!(stored.definition, v, "the definition is kept exactly as given");
    assert_eq!(store.get_template(a, acc, stored.id).await.unwrap(), stored);
    assert!(matches!(
        store.create_template(a, acc, &t, &v).await,
        Err(StoreError::Conflict(_))
    ));

    let (t_es, v_es) = definition("greeting", "es");
    let (t_b, v_b) = definition("alert", "en_US");
    store.create_template(a, acc, &t_es, &v_es).await.unwrap();
    store.create_template(a, acc, &t_b, &v_b).await.unwrap();
    let listed: Vec<_> = store
        .list_templates(a, acc)
        .await
        .unwrap()
        .into_iter()
        .map(|t| format!("{}/{}", t.name, t.language))
        .collect();
    assert_eq!(listed, vec!["alert/en_US", "greeting/en_US", "greeting/es"]);
    assert_eq!(
        store
            .find_template(a, acc, "greeting", "es")
            .await
            .unwrap()
            .map(|t| t.language),
        Some("es".into())
    );
    assert_eq!(store.find_template(a, acc, "greeting", "fr").await.unwrap(), None);

    let mut v2 = v.clone();
    v2["status"] = json!("PAUSED");
    let t2 = Template::from_meta(&v2).unwrap();
    let updated = store.update_template(a, acc, stored.id, &t2, &v2).await.unwrap();
    assert_eq!(updated.status, "PAUSED");
    assert_eq!(updated.definition, v2);
    assert!(matches!(
        store.update_template(a, acc, stored.id, &t_es, &v_es).await,
        Err(StoreError::Conflict(_))
    ));

    store.delete_template(a, acc, stored.id).await.unwrap();
    assert_not_found(store.get_template(a, acc, stored.id).await, "deleted template");
    assert_not_found(store.delete_template(a, acc, stored.id).await, "deleted twice");
    assert_not_found(
        store.create_template(a, AccountId::new(), &t, &v).await,
        "unknown account",
    );

    // Deleting the account deletes its templates.
    store.delete_account(a, acc).await.unwrap();
    assert!(store.list_templates(a, acc).await.unwrap().is_empty());
}

pub async fn every_resource_is_isolated_between_apps(store: DynStore, _url: &str) {
    let owner = app(&store, "owner").await;
    let other = app(&store, "intruder").await;
    let acc = account(&store, owner).await;
    let (t, v) = definition("greeting", "en_US");
    let tpl = store.create_template(owner, acc, &t, &v).await.unwrap();
    let camp = campaign(&store, owner, acc).await;
    let msgs = messages(3, MessageStatus::Pending);
    store.insert_messages(owner, camp, &msgs).await.unwrap();
    store.insert_rejections(owner, camp, &[rejection(9)]).await.unwrap();
    let msg = msgs[0].id;

    // Reads.
    assert!(store.list_accounts(other).await.unwrap().is_empty());
    assert_not_found(store.get_account(other, acc).await, "get account");
    assert!(store.list_templates(other, acc).await.unwrap().is_empty());
    assert_not_found(store.get_template(other, acc, tpl.id).await, "get template");
    assert_eq!(
        store.find_template(other, acc, "greeting", "en_US").await.unwrap(),
        None
    );
    assert_not_found(store.get_campaign(other, camp).await, "get campaign");
    assert!(
        store
            .list_campaigns(
                other,
                &CampaignFilter {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_messages(
                other,
                camp,
                &MessageFilter {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.list_rejections(other, camp, None, 10).await.unwrap().is_empty());
    assert_not_found(store.get_message(other, msg).await, "get message");

    // Writes.
    assert_not_found(
        store
            .update_account(other, acc, &settings("x"), &Credentials::default())
            .await,
        "update account",
    );
    assert_not_found(store.delete_account(other, acc).await, "delete account");
    assert_not_found(
        store.create_template(other, acc, &t, &v).await,
        "template on another app's account",
    );
    assert_not_found(
        store.update_template(other, acc, tpl.id, &t, &v).await,
        "update template",
    );
    assert_not_found(store.delete_template(other, acc, tpl.id).await, "delete template");
    let new = NewCampaign {
        account_id: acc,
        name: "x".into(),
        ..Default::default()
    };
    assert_not_found(
        store.create_campaign(other, &new).await,
        "campaign on another app's account",
    );
    assert_not_found(
        store
            .set_campaign_status(other, camp, CampaignStatus::Cancelled, None)
            .await,
        "cancel campaign",
    );
    assert_not_found(
        store
            .insert_messages(other, camp, &messages(1, MessageStatus::Pending))
            .await,
        "insert messages",
    );
    assert_not_found(
        store.insert_rejections(other, camp, &[rejection(10)]).await,
        "insert rejections",
    );
    assert_not_found(
        store
            .set_message_status(other, msg, MessageStatus::Queued, &StatusUpdate::default())
            .await,
        "message status",
    );

    // And nothing of the owner's changed.
    let c = store.get_campaign(owner, camp).await.unwrap();
    assert_eq!(c.status, CampaignStatus::Ingesting);
    assert_eq!(
        (c.counts.rows, c.counts.accepted, c.counts.rejected, c.counts.pending),
        (4, 3, 1, 3)
    );
    assert_eq!(
        store.get_message(owner, msg).await.unwrap().status,
        MessageStatus::Pending
    );
    assert_eq!(store.list_templates(owner, acc).await.unwrap().len(), 1);
    assert_eq!(store.get_account(owner, acc).await.unwrap().settings.name, "main");
}

pub async fn campaigns_follow_the_lifecycle(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let at = chrono::Utc::now() + chrono::Duration::hours(2);
    let new = NewCampaign {
        account_id: acc,
        name: "launch".into(),
        template_name: None,
        language: None,
        scheduled_at: Some(at),
        ..Default::default()
    };
    let c = store.create_campaign(a, &new).await.unwrap();
    assert_eq!(c.status, CampaignStatus::Ingesting);
    assert_eq!(
        c.scheduled_at.map(|t| t.timestamp_micros()),
        Some(at.timestamp_micros())
    );
    assert_eq!(c.counts, Default::default());

    let err = store.set_campaign_status(a, c.id, CampaignStatus::Running, None).await;
    assert!(
        matches!(err, Err(StoreError::Transition(_))),
        "ingesting -> running skips scheduling: {err:?}"
    );
    let c = store
        .set_campaign_status(a, c.id, CampaignStatus::Scheduled, None)
        .await
        .unwrap();
    assert_eq!(c.status, CampaignStatus::Scheduled);
    assert!(c.started_at.is_none());
    let c = store
        .set_campaign_status(a, c.id, CampaignStatus::Running, None)
        .await
        .unwrap();
    let started = c.started_at.unwrap();
    let c = store
        .set_campaign_status(
            a,
            c.id,
            CampaignStatus::Paused,
            Some("failure ratio 25% over the last 200"),
        )
        .await
        .unwrap();
    assert_eq!(c.pause_reason.as_deref(), Some("failure ratio 25% over the last 200"));
    let c = store
        .set_campaign_status(a, c.id, CampaignStatus::Running, None)
        .await
        .unwrap();
    assert_eq!(c.pause_reason, None);
    assert_eq!(c.started_at, Some(started), "resuming keeps the first start time");
    let c = store
        .set_campaign_status(a, c.id, CampaignStatus::Completed, None)
        .await
        .unwrap();
    assert!(c.finished_at.is_some());
    assert!(matches!(
        store.set_campaign_status(a, c.id, CampaignStatus::Paused, None).await,
        Err(StoreError::Transition(_))
    ));

    let failed = store.create_campaign(a, &new).await.unwrap();
    let failed = store
        .set_campaign_status(a, failed.id, CampaignStatus::Failed, Some("the archive is encrypted"))
        .await
        .unwrap();
    assert_eq!(failed.failure_reason.as_deref(), Some("the archive is encrypted"));
    assert!(failed.finished_at.is_some());
    for to in CampaignStatus::ALL {
        assert!(
            store.set_campaign_status(a, failed.id, *to, None).await.is_err(),
            "failed is final ({to})"
        );
    }
    assert_not_found(
        store
            .set_campaign_status(a, CampaignId::new(), CampaignStatus::Scheduled, None)
            .await,
        "unknown",
    );
}

pub async fn campaigns_are_listed_newest_first_with_filters(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let acc2 = store
        .create_account(a, &settings("second"), &meta_credentials())
        .await
        .unwrap()
        .id;
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = campaign(&store, a, if i % 2 == 0 { acc } else { acc2 }).await;
        ids.push(id);
    }
    store
        .set_campaign_status(a, ids[1], CampaignStatus::Scheduled, None)
        .await
        .unwrap();
    let all = |f: CampaignFilter| {
        let store = store.clone();
        async move {
            store
                .list_campaigns(a, &f)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    let newest_first: Vec<_> = ids.iter().rev().copied().collect();
    assert_eq!(
        all(CampaignFilter {
            limit: 100,
            ..Default::default()
        })
        .await,
        newest_first
    );
    assert_eq!(
        all(CampaignFilter {
            limit: 2,
            ..Default::default()
        })
        .await,
        newest_first[..2].to_vec()
    );
    assert_eq!(
        all(CampaignFilter {
            limit: 2,
            before: Some(ids[3]),
            ..Default::default()
        })
        .await,
        vec![ids[2], ids[1]]
    );
    assert_eq!(
        all(CampaignFilter {
            limit: 100,
            status: Some(CampaignStatus::Scheduled),
            ..Default::default()
        })
        .await,
        vec![ids[1]]
    );
    assert_eq!(
        all(CampaignFilter {
            limit: 100,
            account_id: Some(acc2),
            ..Default::default()
        })
        .await,
        vec![ids[3], ids[1]]
    );
}

pub async fn messages_and_rejections_are_counted_as_they_are_stored(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    // Campaigns on either side of `c` (ids are time-ordered), whose messages no page of `c` may show.
    let before = campaign(&store, a, acc).await;
    let c = campaign(&store, a, acc).await;
    let after_c = campaign(&store, a, acc).await;
    for other in [before, after_c] {
        for status in [MessageStatus::Pending, MessageStatus::Suppressed] {
            store.insert_messages(a, other, &messages(3, status)).await.unwrap();
        }
    }
    // More than one INSERT chunk.
    let batch = messages(2500, MessageStatus::Pending);
    store.insert_messages(a, c, &batch).await.unwrap();
    store
        .insert_messages(a, c, &messages(2, MessageStatus::Suppressed))
        .await
        .unwrap();
    let rejected: Vec<_> = (3000..3007).map(rejection).collect();
    store.insert_rejections(a, c, &rejected).await.unwrap();
    assert!(matches!(
        store.insert_rejections(a, c, &[rejection(3000)]).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .insert_messages(a, c, &messages(1, MessageStatus::Sent))
            .await
            .is_err(),
        "messages are created pending or suppressed"
    );

    let counts = store.get_campaign(a, c).await.unwrap().counts;
    assert_eq!(counts.rows, 2509);
    assert_eq!(counts.accepted, 2502);
    assert_eq!(counts.rejected, 7);
    assert_eq!(counts.pending, 2500);
    assert_eq!(counts.suppressed, 2);

    let first = store.get_message(a, batch[0].id).await.unwrap();
    assert_eq!(first.phone, batch[0].phone);
    assert_eq!(first.params, batch[0].params);
    assert_eq!(first.rendered_text, batch[0].rendered_text);
    assert_eq!(first.flag.as_deref(), Some("flag-0\r"));
    assert_eq!(first.row_number, Some(2));
    assert_eq!(first.campaign_id, Some(c));
    assert_eq!(first.account_id, acc);
    assert_eq!(first.attempts, 0);

    // Keyset pagination visits every message once, in insertion order.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_messages(
                a,
                c,
                &MessageFilter {
                    status: None,
                    after,
                    limit: 1000,
                },
            )
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(
            page.iter().all(|m| m.campaign_id == Some(c)),
            "a page strays out of its campaign"
        );
        after = page.last().map(|m| m.id);
        seen.extend(page.into_iter().map(|m| m.id));
    }
    assert_eq!(seen.len(), 2502);
    assert_eq!(seen[..2500], batch.iter().map(|m| m.id).collect::<Vec<_>>()[..]);
    let suppressed = store
        .list_messages(
            a,
            c,
            &MessageFilter {
                status: Some(MessageStatus::Suppressed),
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(suppressed.len(), 2);
    // Keyset pages of one status stay inside that campaign and that status, from the first page to the last.
    for (status, expected) in [(MessageStatus::Pending, 2500), (MessageStatus::Suppressed, 2)] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .list_messages(
                    a,
                    c,
                    &MessageFilter {
                        status: Some(status),
                        after,
                        limit: 7,
                    },
                )
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            assert!(page.iter().all(|m| m.campaign_id == Some(c) && m.status == status));
            seen.extend(page.iter().map(|m| m.id));
        }
        assert_eq!(seen.len(), expected, "{status:?}");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{status:?} pages in id order");
    }

    let page = store.list_rejections(a, c, None, 5).await.unwrap();
    assert_eq!(
        page.iter().map(|r| r.row_number).collect::<Vec<_>>(),
        vec![3000, 3001, 3002, 3003, 3004]
    );
    assert_eq!(page[0], rejection(3000));
    let rest = store.list_rejections(a, c, Some(3004), 5).await.unwrap();
    assert_eq!(rest.iter().map(|r| r.row_number).collect::<Vec<_>>(), vec![3005, 3006]);
}

pub async fn message_statuses_move_with_their_counters(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let c = campaign(&store, a, acc).await;
    let batch = messages(3, MessageStatus::Pending);
    store.insert_messages(a, c, &batch).await.unwrap();
    let id = batch[0].id;
    let none = StatusUpdate::default();

    let m = store
        .set_message_status(a, id, MessageStatus::Queued, &none)
        .await
        .unwrap();
    assert_eq!(m.status, MessageStatus::Queued);
    let m = store
        .set_message_status(a, id, MessageStatus::Sending, &none)
        .await
        .unwrap();
    assert_eq!(m.attempts, 1);
    let sent = StatusUpdate {
        provider_message_id: Some("wamid.HBgL".into()),
        ..Default::default()
    };
    let m = store
        .set_message_status(a, id, MessageStatus::Sent, &sent)
        .await
        .unwrap();
    assert_eq!(m.provider_message_id.as_deref(), Some("wamid.HBgL"));
    assert!(m.sent_at.is_some());
    assert!(matches!(
        store.set_message_status(a, id, MessageStatus::Pending, &none).await,
        Err(StoreError::Transition(_))
    ));
    // Read without a delivered event: both timestamps are set.
    let m = store
        .set_message_status(a, id, MessageStatus::Read, &none)
        .await
        .unwrap();
    assert!(m.delivered_at.is_some() && m.read_at.is_some());
    assert_eq!(
        m.provider_message_id.as_deref(),
        Some("wamid.HBgL"),
        "kept when not given again"
    );
    assert!(
        store
            .set_message_status(a, id, MessageStatus::Delivered, &none)
            .await
            .is_err()
    );

    // A failure keeps the provider's code and text; a retry clears them and counts another attempt.
    let id2 = batch[1].id;
    store
        .set_message_status(a, id2, MessageStatus::Queued, &none)
        .await
        .unwrap();
    store
        .set_message_status(a, id2, MessageStatus::Sending, &none)
        .await
        .unwrap();
    let failure = StatusUpdate {
        provider_message_id: None,
        error_code: Some("131026".into()),
        error_message: Some("Message undeliverable".into()),
    };
    let m = store
        .set_message_status(a, id2, MessageStatus::Failed, &failure)
        .await
        .unwrap();
    assert_eq!(
        (m.error_code.as_deref(), m.error_message.as_deref()),
        (Some("131026"), Some("Message undeliverable"))
    );
    assert!(m.failed_at.is_some());
    let m = store
        .set_message_status(a, id2, MessageStatus::Queued, &none)
        .await
        .unwrap();
    assert_eq!((m.error_code, m.failed_at), (None, None));
    let m = store
        .set_message_status(a, id2, MessageStatus::Sending, &none)
        .await
        .unwrap();
    assert_eq!(m.attempts, 2);

    let counts = store.get_campaign(a, c).await.unwrap().counts;
    assert_eq!(
        (
            counts.pending,
            counts.queued,
            counts.sending,
            counts.sent,
            counts.delivered,
            counts.read,
            counts.failed
        ),
        (1, 0, 1, 0, 0, 1, 0)
    );
    assert_eq!(counts.accepted, 3);
    assert_not_found(
        store
            .set_message_status(a, MessageId::new(), MessageStatus::Queued, &none)
            .await,
        "unknown",
    );
}

pub async fn cancelling_a_campaign_cancels_its_unsent_messages(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let c = campaign(&store, a, acc).await;
    let batch = messages(6, MessageStatus::Pending);
    store.insert_messages(a, c, &batch).await.unwrap();
    store
        .set_campaign_status(a, c, CampaignStatus::Scheduled, None)
        .await
        .unwrap();
    store
        .set_campaign_status(a, c, CampaignStatus::Running, None)
        .await
        .unwrap();
    let none = StatusUpdate::default();
    // 0: sent, 1: sending, 2: queued, 3..5: pending
    for (i, path) in [
        &[MessageStatus::Queued, MessageStatus::Sending, MessageStatus::Sent][..],
        &[MessageStatus::Queued, MessageStatus::Sending][..],
        &[MessageStatus::Queued][..],
    ]
    .iter()
    .enumerate()
    {
        for s in *path {
            store.set_message_status(a, batch[i].id, *s, &none).await.unwrap();
        }
    }
    let c2 = store
        .set_campaign_status(a, c, CampaignStatus::Cancelled, None)
        .await
        .unwrap();
    assert_eq!(c2.status, CampaignStatus::Cancelled);
    assert!(c2.finished_at.is_some());
    let k = c2.counts;
    assert_eq!((k.pending, k.queued, k.sending, k.sent, k.cancelled), (0, 0, 1, 1, 4));
    let statuses: Vec<_> = store
        .list_messages(
            a,
            c,
            &MessageFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.status)
        .collect();
    use MessageStatus::*;
    assert_eq!(
        statuses,
        vec![Sent, Sending, Cancelled, Cancelled, Cancelled, Cancelled]
    );
}

pub async fn concurrent_status_changes_apply_once(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let c = campaign(&store, a, acc).await;
    let batch = messages(1, MessageStatus::Pending);
    store.insert_messages(a, c, &batch).await.unwrap();
    let id = batch[0].id;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .set_message_status(a, id, MessageStatus::Queued, &StatusUpdate::default())
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Transition(_)) | Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(ok, 1, "exactly one pending -> queued succeeds");
    let k = store.get_campaign(a, c).await.unwrap().counts;
    assert_eq!((k.pending, k.queued), (0, 1));

    let mut tasks = Vec::new();
    for to in [
        CampaignStatus::Scheduled,
        CampaignStatus::Cancelled,
        CampaignStatus::Failed,
        CampaignStatus::Scheduled,
    ] {
        let store = store.clone();
        tasks.push(tokio::spawn(
            async move { store.set_campaign_status(a, c, to, None).await },
        ));
    }
    for t in tasks {
        let _ = t.await.unwrap();
    }
    let final_status = store.get_campaign(a, c).await.unwrap().status;
    assert!(matches!(
        final_status,
        CampaignStatus::Cancelled | CampaignStatus::Failed | CampaignStatus::Scheduled
    ));
}

pub async fn provider_message_ids_are_unique_per_account(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let c = campaign(&store, a, acc).await;
    let batch = messages(2, MessageStatus::Pending);
    store.insert_messages(a, c, &batch).await.unwrap();
    let with_id = StatusUpdate {
        provider_message_id: Some("same".into()),
        ..Default::default()
    };
    for m in &batch {
        for s in [MessageStatus::Queued, MessageStatus::Sending] {
            store
                .set_message_status(a, m.id, s, &StatusUpdate::default())
                .await
                .unwrap();
        }
    }
    store
        .set_message_status(a, batch[0].id, MessageStatus::Sent, &with_id)
        .await
        .unwrap();
    assert!(matches!(
        store
            .set_message_status(a, batch[1].id, MessageStatus::Sent, &with_id)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.get_message(a, batch[1].id).await.unwrap().status,
        MessageStatus::Sending
    );
    let _ = TemplateId::new();
}

pub async fn opt_outs_are_kept_per_app(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let b = app(&store, "other").await;
    let phones: Vec<String> = (0..1500).map(|i| format!("+1415555{i:04}")).collect();
    assert_eq!(store.add_optouts(a, &phones, "api").await.unwrap(), 1500);
    assert_eq!(
        store.add_optouts(a, &phones[..10], "webhook").await.unwrap(),
        0,
        "already there"
    );
    assert_eq!(store.opted_out(a).await.unwrap().len(), 1500);
    assert!(store.opted_out(b).await.unwrap().is_empty());
    let page = store.list_optouts(a, None, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|o| o.phone.as_str()).collect::<Vec<_>>(),
        vec!["+14155550000", "+14155550001"]
    );
    assert_eq!(page[0].source, "api");
    let next = store.list_optouts(a, Some("+14155550001"), 1).await.unwrap();
    assert_eq!(next[0].phone, "+14155550002");
    store.remove_optout(a, "+14155550000").await.unwrap();
    assert_not_found(store.remove_optout(a, "+14155550000").await, "removed twice");
    assert_not_found(store.remove_optout(b, "+14155550001").await, "another app's number");
    assert_eq!(store.opted_out(a).await.unwrap().len(), 1499);
}

pub async fn idempotency_keys_find_the_first_campaign(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let b = app(&store, "other").await;
    let acc = account(&store, a).await;
    let acc_b = account(&store, b).await;
    let new = NewCampaign {
        account_id: acc,
        name: "x".into(),
        idempotency_key: Some("key-1".into()),
        ..Default::default()
    };
    let first = store.create_campaign(a, &new).await.unwrap();
    assert!(matches!(
        store.create_campaign(a, &new).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .campaign_by_idempotency_key(a, "key-1")
            .await
            .unwrap()
            .map(|c| c.id),
        Some(first.id)
    );
    assert_eq!(store.campaign_by_idempotency_key(a, "key-2").await.unwrap(), None);
    // Keys are per app.
    assert_eq!(store.campaign_by_idempotency_key(b, "key-1").await.unwrap(), None);
    let theirs = NewCampaign {
        account_id: acc_b,
        ..new
    };
    store.create_campaign(b, &theirs).await.unwrap();
}

async fn ingesting_campaign(store: &DynStore, app: AppId, account: AccountId) -> CampaignId {
    let new = NewCampaign {
        account_id: account,
        name: "upload".into(),
        options: json!({"model": "chat_tonic", "sheet": "campaign"}),
        source: Some(json!({"name": "hsm.csv", "size": 3, "sha256": "abc"})),
        ..Default::default()
    };
    let c = store.create_campaign(app, &new).await.unwrap();
    store.append_upload(app, c.id, 0, b"abc").await.unwrap();
    store.append_upload(app, c.id, 1, b"def").await.unwrap();
    c.id
}

pub async fn ingestion_is_claimed_by_one_owner_and_resumes_after_its_last_batch(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let c = ingesting_campaign(&store, a, acc).await;
    assert_eq!(store.read_upload(c, 0).await.unwrap().as_deref(), Some(&b"abc"[..]));
    assert_eq!(store.read_upload(c, 1).await.unwrap().as_deref(), Some(&b"def"[..]));
    assert_eq!(store.read_upload(c, 2).await.unwrap(), None);
    assert_not_found(
        store.append_upload(app(&store, "other").await, c, 2, b"x").await,
        "another app's campaign",
    );

    let lease = std::time::Duration::from_secs(30);
    let claim = store.claim_ingestion("worker-1", lease).await.unwrap().unwrap();
    assert_eq!(claim.campaign.id, c);
    assert_eq!(claim.options["sheet"], "campaign");
    assert_eq!(claim.campaign.source.as_ref().unwrap()["name"], "hsm.csv");
    assert!(
        store.claim_ingestion("worker-2", lease).await.unwrap().is_none(),
        "the lease is held"
    );

    store
        .store_ingest_batch(
            &claim,
            rows(&messages(3, MessageStatus::Pending), &[rejection(5)], 5),
            lease,
        )
        .await
        .unwrap();
    // A crash: the lease runs out, another worker takes over and sees where the first stopped.
    let short = std::time::Duration::from_millis(1);
    store
        .store_ingest_batch(&claim, rows(&[], &[], 5), short)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let again = store.claim_ingestion("worker-2", lease).await.unwrap().unwrap();
    assert_eq!(again.campaign.ingested_rows, 5);
    assert!(
        matches!(
            store
                .store_ingest_batch(&claim, rows(&messages(1, MessageStatus::Pending), &[], 6), lease)
                .await,
            Err(StoreError::Conflict(_))
        ),
        "the first worker lost its lease and cannot store"
    );
    store
        .store_ingest_batch(&again, rows(&messages(2, MessageStatus::Pending), &[], 7), lease)
        .await
        .unwrap();
    let done = store.finish_ingestion(&again, Ok(())).await.unwrap();
    assert_eq!(done.status, CampaignStatus::Scheduled);
    assert_eq!(done.ingested_rows, 7);
    assert_eq!(
        (done.counts.rows, done.counts.accepted, done.counts.rejected),
        (6, 5, 1)
    );
    assert_eq!(
        store.read_upload(c, 0).await.unwrap(),
        None,
        "the upload is deleted when ingestion ends"
    );
    assert!(store.claim_ingestion("worker-3", lease).await.unwrap().is_none());
}

pub async fn withdrawn_rows_become_rejections_once(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let c = ingesting_campaign(&store, a, acc).await;
    let lease = std::time::Duration::from_secs(30);
    let claim = store.claim_ingestion("w", lease).await.unwrap().unwrap();
    // Rows 2–4 pending, 5–6 suppressed.
    let mut batch = messages(3, MessageStatus::Pending);
    batch.extend(messages(5, MessageStatus::Suppressed).into_iter().skip(3));
    store
        .store_ingest_batch(&claim, rows(&batch, &[rejection(7)], 7), lease)
        .await
        .unwrap();
    let duplicate = |row: u64| Rejection {
        row_number: row,
        column: Some("phone".into()),
        code: "duplicate_recipient".into(),
        message: format!("already the recipient of row {}", row - 1),
    };
    // Row 4 (pending) and 6 (suppressed) turn out to be duplicates; row 40 has no message; a resumed run repeats
    // the same withdrawal.
    let withdrawn = [duplicate(4), duplicate(6), duplicate(40)];
    for _ in 0..2 {
        let last = IngestBatch {
            withdrawn: &withdrawn,
            ..rows(&[], &[], 7)
        };
        store.store_ingest_batch(&claim, last, lease).await.unwrap();
    }
    let done = store.finish_ingestion(&claim, Ok(())).await.unwrap();
    let counts = done.counts;
    assert_eq!(
        (
            counts.rows,
            counts.accepted,
            counts.rejected,
            counts.pending,
            counts.suppressed
        ),
        (6, 3, 3, 2, 1)
    );
    let kept: Vec<u64> = store
        .list_messages(
            a,
            c,
            &MessageFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .filter_map(|m| m.row_number)
        .collect();
    assert_eq!(kept, [2, 3, 5]);
    let rejected: Vec<(u64, String)> = store
        .list_rejections(a, c, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.row_number, r.code))
        .collect();
    assert_eq!(
        rejected,
        [
            (4, "duplicate_recipient".to_owned()),
            (6, "duplicate_recipient".to_owned()),
            (7, "invalid_phone".to_owned())
        ]
    );
}

pub async fn a_failed_ingestion_leaves_nothing_behind(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let c = ingesting_campaign(&store, a, acc).await;
    let lease = std::time::Duration::from_secs(30);
    let claim = store.claim_ingestion("w", lease).await.unwrap().unwrap();
    store
        .store_ingest_batch(
            &claim,
            rows(&messages(4, MessageStatus::Pending), &[rejection(9)], 9),
            lease,
        )
        .await
        .unwrap();
    let failed = store
        .finish_ingestion(&claim, Err("the archive is truncated or corrupt".into()))
        .await
        .unwrap();
    assert_eq!(failed.status, CampaignStatus::Failed);
    assert_eq!(
        failed.failure_reason.as_deref(),
        Some("the archive is truncated or corrupt")
    );
    assert_eq!(failed.counts, Default::default());
    assert!(
        store
            .list_messages(
                a,
                c,
                &MessageFilter {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.list_rejections(a, c, None, 10).await.unwrap().is_empty());
    assert_eq!(store.read_upload(c, 0).await.unwrap(), None);
}

pub async fn a_cancelled_ingestion_loses_its_lease(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let c = ingesting_campaign(&store, a, acc).await;
    let lease = std::time::Duration::from_secs(30);
    let claim = store.claim_ingestion("w", lease).await.unwrap().unwrap();
    store
        .set_campaign_status(a, c, CampaignStatus::Cancelled, None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .store_ingest_batch(&claim, rows(&messages(1, MessageStatus::Pending), &[], 2), lease)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.finish_ingestion(&claim, Ok(())).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.get_campaign(a, c).await.unwrap().status,
        CampaignStatus::Cancelled
    );
}

pub async fn a_campaign_is_created_with_its_whole_upload(store: DynStore, _url: &str) {
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload.csv");
    // Two and a half chunks of distinct bytes.
    let bytes: Vec<u8> = (0..(2 * 1024 * 1024 + 512 * 1024))
        .map(|i: u32| (i % 251) as u8)
        .collect();
    std::fs::write(&path, &bytes).unwrap();
    let new = NewCampaign {
        account_id: acc,
        name: "big".into(),
        ..Default::default()
    };
    let c = store.create_campaign_with_upload(a, &new, &path).await.unwrap();
    assert_eq!(c.status, CampaignStatus::Ingesting);
    let mut back = Vec::new();
    let mut seq = 0;
    while let Some(chunk) = store.read_upload(c.id, seq).await.unwrap() {
        back.extend_from_slice(&chunk);
        seq += 1;
    }
    assert_eq!(seq, 3);
    assert_eq!(back, bytes);
    // An account of another app: nothing is created, campaign or upload.
    let other = app(&store, "other").await;
    assert_not_found(
        store.create_campaign_with_upload(other, &new, &path).await,
        "another app's account",
    );
    assert_eq!(
        store
            .list_campaigns(
                other,
                &CampaignFilter {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .len(),
        0
    );
}

// ---- the send queue ----

/// A running campaign with `n` pending messages.
async fn running_campaign(store: &DynStore, n: usize) -> (AppId, AccountId, CampaignId, Vec<NewMessage>) {
    let a = app(store, "acme").await;
    let acc = account(store, a).await;
    let c = campaign(store, a, acc).await;
    let batch = messages(n, MessageStatus::Pending);
    store.insert_messages(a, c, &batch).await.unwrap();
    store
        .set_campaign_status(a, c, CampaignStatus::Scheduled, None)
        .await
        .unwrap();
    let started = store
        .send_queue()
        .start_due_campaigns(chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].status, CampaignStatus::Running);
    (a, acc, c, batch)
}

/// Send `n` messages of running campaign `c` at `at`, all accepted by the provider.
async fn send_at(store: &DynStore, acc: AccountId, c: CampaignId, n: u32, at: chrono::DateTime<chrono::Utc>) {
    let q = store.send_queue();
    let claimed = q.claim(acc, Some(c), "w1", n, at).await.unwrap();
    // Exactly `n`: PostgreSQL once claimed every pending message here (see `claim_in`).
    assert_eq!(claimed.len(), n as usize, "a claim takes at most its limit");
    let ids: Vec<MessageId> = claimed.iter().map(|m| m.id).collect();
    assert_eq!(q.mark_sending("w1", &ids, at).await.unwrap().len(), n as usize);
    let results: Vec<SendResult> = ids
        .iter()
        .map(|id| SendResult::Sent {
            id: *id,
            provider_message_id: format!("wamid.{id}"),
        })
        .collect();
    q.record("w1", &results, at).await.unwrap();
}

pub async fn send_timelines_sum_sends_per_bucket(store: DynStore, _url: &str) {
    let (a, acc, c, _) = running_campaign(&store, 8).await;
    // Another campaign of the same account sending in the same seconds: its sends are not this one's.
    let other = campaign(&store, a, acc).await;
    store
        .insert_messages(a, other, &messages(4, MessageStatus::Pending))
        .await
        .unwrap();
    store
        .set_campaign_status(a, other, CampaignStatus::Scheduled, None)
        .await
        .unwrap();
    assert_eq!(
        store
            .send_queue()
            .start_due_campaigns(chrono::Utc::now())
            .await
            .unwrap()
            .len(),
        1
    );
    let q = store.send_queue();
    assert_eq!(q.send_timeline(c, 60).await.unwrap(), vec![], "nothing sent yet");

    // A whole minute, so the buckets of 60 s start exactly there.
    let base = chrono::DateTime::from_timestamp(1_790_000_040, 0).unwrap();
    let s = chrono::Duration::seconds;
    send_at(&store, acc, c, 2, base).await;
    send_at(&store, acc, c, 1, base + s(1)).await;
    send_at(&store, acc, c, 3, base + s(65)).await;
    send_at(&store, acc, other, 4, base).await;

    assert_eq!(
        q.send_timeline(c, 1).await.unwrap(),
        vec![(base, 2), (base + s(1), 1), (base + s(65), 3)]
    );
    assert_eq!(
        q.send_timeline(c, 60).await.unwrap(),
        vec![(base, 3), (base + s(60), 3)]
    );
    assert_eq!(
        q.send_timeline(c, 0).await.unwrap(),
        q.send_timeline(c, 1).await.unwrap()
    );
    // Buckets are aligned to the epoch, not to the first send: 1,790,000,040 is 40 s into a 100 s bucket.
    assert_eq!(
        q.send_timeline(c, 100).await.unwrap(),
        vec![(base - s(40), 3), (base + s(60), 3)]
    );
    assert_eq!(q.send_timeline(other, 60).await.unwrap(), vec![(base, 4)]);

    // Purging reaches the timeline, second by second.
    q.purge_send_rates(base + s(1)).await.unwrap();
    assert_eq!(
        q.send_timeline(c, 60).await.unwrap(),
        vec![(base, 1), (base + s(60), 3)]
    );
    assert_eq!(q.send_timeline(other, 60).await.unwrap(), vec![]);
}

pub async fn claims_are_exclusive_and_counted(store: DynStore, _url: &str) {
    let (a, acc, c, _) = running_campaign(&store, 100).await;
    let now = chrono::Utc::now();
    let q1 = store.clone();
    let q2 = store.clone();
    let (one, two) = tokio::join!(
        async move { q1.send_queue().claim(acc, Some(c), "w1", 60, now).await.unwrap() },
        async move { q2.send_queue().claim(acc, Some(c), "w2", 60, now).await.unwrap() },
    );
    let mut ids: Vec<MessageId> = one.iter().chain(&two).map(|m| m.id).collect();
    assert_eq!(ids.len(), 100, "{} + {}", one.len(), two.len());
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 100, "no message claimed twice");
    assert!(one.iter().chain(&two).all(|m| m.status == MessageStatus::Queued));
    let k = store.get_campaign(a, c).await.unwrap().counts;
    assert_eq!((k.pending, k.queued), (0, 100));
    assert!(
        store
            .send_queue()
            .claim(acc, Some(c), "w3", 10, now)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn sends_move_from_queued_to_their_outcome(store: DynStore, _url: &str) {
    let (a, acc, c, _) = running_campaign(&store, 4).await;
    let q = store.send_queue();
    let now = chrono::Utc::now();
    let claimed = q.claim(acc, Some(c), "w1", 10, now).await.unwrap();
    let ids: Vec<MessageId> = claimed.iter().map(|m| m.id).collect();
    assert_eq!(q.mark_sending("someone-else", &ids, now).await.unwrap(), vec![]);
    let going = q.mark_sending("w1", &ids, now).await.unwrap();
    assert_eq!(going.len(), 4);
    let later = now + chrono::Duration::seconds(30);
    let results = vec![
        SendResult::Sent {
            id: ids[0],
            provider_message_id: "wamid.1".into(),
        },
        SendResult::Retry {
            id: ids[1],
            not_before: later,
            code: "130429".into(),
            message: "Rate limit hit".into(),
        },
        SendResult::Failed {
            id: ids[2],
            code: "131026".into(),
            message: "Message undeliverable".into(),
            kind: FailureKind::Permanent,
        },
        SendResult::Sent {
            id: ids[3],
            provider_message_id: "wamid.4".into(),
        },
    ];
    assert_eq!(q.record("w1", &results, now).await.unwrap(), vec![], "a retry is left");
    // Two sent in `now`'s second: the rate over the ten seconds after it counts them, the second itself does not.
    let next_second = now + chrono::Duration::seconds(1);
    assert_eq!(q.send_rate(c, 10, next_second).await.unwrap(), 0.2);
    assert_eq!(q.send_rate(c, 10, now).await.unwrap(), 0.0);
    q.purge_send_rates(next_second + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(q.send_rate(c, 10, next_second).await.unwrap(), 0.0);
    let k = store.get_campaign(a, c).await.unwrap().counts;
    assert_eq!((k.queued, k.sending, k.sent, k.failed), (1, 0, 2, 1));
    let m = store.get_message(a, ids[1]).await.unwrap();
    assert_eq!(
        (m.status, m.attempts, m.error_code.as_deref()),
        (MessageStatus::Queued, 1, Some("130429"))
    );
    assert_eq!(
        store
            .get_message(a, ids[0])
            .await
            .unwrap()
            .provider_message_id
            .as_deref(),
        Some("wamid.1")
    );
    // The retry waits for its time.
    assert!(q.claim(acc, Some(c), "w1", 10, now).await.unwrap().is_empty());
    let again = q.claim(acc, Some(c), "w1", 10, later).await.unwrap();
    assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), vec![ids[1]]);
    // A pause stops it before its request goes out.
    assert!(q.pause_running(c, "paused for the test", later).await.unwrap());
    assert!(q.mark_sending("w1", &[ids[1]], later).await.unwrap().is_empty());
    store
        .set_campaign_status(a, c, CampaignStatus::Running, None)
        .await
        .unwrap();
    assert_eq!(q.mark_sending("w1", &[ids[1]], later).await.unwrap(), vec![ids[1]]);
    let done = q
        .record(
            "w1",
            &[SendResult::Sent {
                id: ids[1],
                provider_message_id: "wamid.2".into(),
            }],
            later,
        )
        .await
        .unwrap();
    assert_eq!(done, vec![c]);
    let campaign = store.get_campaign(a, c).await.unwrap();
    assert_eq!(campaign.status, CampaignStatus::Completed);
    assert_eq!((campaign.counts.sent, campaign.counts.failed), (3, 1));
    assert_eq!(store.get_message(a, ids[1]).await.unwrap().attempts, 2);
}

pub async fn reservations_never_overlap_and_respect_the_daily_cap(store: DynStore, _url: &str) {
    let (_, acc, c, _) = running_campaign(&store, 1).await;
    let spacing = std::time::Duration::from_millis(10);
    let now = chrono::Utc::now();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let s = store.clone();
        let campaign = (i % 2 == 0).then_some(c);
        tasks.push(tokio::spawn(async move {
            s.send_queue()
                .reserve(acc, campaign, 5, spacing, None, now)
                .await
                .unwrap()
        }));
    }
    let mut spans = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.granted, 5);
        spans.push((r.start, r.start + chrono::Duration::milliseconds(50)));
    }
    spans.sort();
    assert!(spans[0].0 >= now);
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "overlapping reservations {:?} and {:?}", w[0], w[1]);
    }
    // 60 sent today (the sandbox default cap in `settings` is 1000): a cap of 70 leaves 10.
    let r = store
        .send_queue()
        .reserve(acc, None, 25, spacing, Some(70), now)
        .await
        .unwrap();
    assert_eq!(r.granted, 10);
    let r = store
        .send_queue()
        .reserve(acc, None, 25, spacing, Some(70), now)
        .await
        .unwrap();
    assert_eq!(r.granted, 0);
}

pub async fn a_dead_senders_messages_are_recovered_never_resent(store: DynStore, _url: &str) {
    let (a, acc, c, _) = running_campaign(&store, 3).await;
    let q = store.send_queue();
    let t0 = chrono::Utc::now();
    q.heartbeat("w1", t0).await.unwrap();
    q.heartbeat("w2", t0 + chrono::Duration::seconds(50)).await.unwrap();
    let claimed = q.claim(acc, Some(c), "w1", 10, t0).await.unwrap();
    assert_eq!(q.mark_sending("w1", &[claimed[0].id], t0).await.unwrap().len(), 1);
    let dead_after = std::time::Duration::from_secs(30);
    let grace = std::time::Duration::from_secs(600);
    let r = q
        .recover(dead_after, grace, t0 + chrono::Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!((r.dead_senders, r.requeued, r.unknown), (1, 2, 0), "w2 is alive");
    let k = store.get_campaign(a, c).await.unwrap().counts;
    assert_eq!((k.queued, k.sending), (2, 1));
    // The two never tried are claimable again; the one in flight is not.
    let again = q
        .claim(acc, Some(c), "w2", 10, t0 + chrono::Duration::seconds(61))
        .await
        .unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|m| m.id != claimed[0].id));
    let r = q
        .recover(dead_after, grace, t0 + chrono::Duration::seconds(700))
        .await
        .unwrap();
    assert_eq!(r.unknown, 1);
    let m = store.get_message(a, claimed[0].id).await.unwrap();
    assert_eq!(
        (m.status, m.error_code.as_deref()),
        (MessageStatus::Failed, Some("outcome_unknown"))
    );
    let k = store.get_campaign(a, c).await.unwrap().counts;
    assert_eq!((k.sending, k.failed, k.queued), (0, 1, 2));
}

pub async fn status_events_only_move_messages_forward(store: DynStore, _url: &str) {
    let (a, acc, c, _) = running_campaign(&store, 2).await;
    let q = store.send_queue();
    let now = chrono::Utc::now();
    let claimed = q.claim(acc, Some(c), "w1", 10, now).await.unwrap();
    let ids: Vec<MessageId> = claimed.iter().map(|m| m.id).collect();
    q.mark_sending("w1", &ids, now).await.unwrap();
    let sent: Vec<SendResult> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| SendResult::Sent {
            id: *id,
            provider_message_id: format!("wamid.{i}"),
        })
        .collect();
    assert_eq!(q.record("w1", &sent, now).await.unwrap(), vec![c]);
    let event = |pid: Option<&str>, id: Option<MessageId>, status| StatusEvent {
        provider_message_id: pid.map(str::to_owned),
        message_id: id,
        status,
        at: now,
        error: None,
    };
    let events = [
        // Read before delivered: read, with its delivered time set too.
        event(Some("wamid.0"), None, MessageStatus::Read),
        event(Some("wamid.0"), None, MessageStatus::Delivered),
        event(Some("wamid.0"), None, MessageStatus::Sent),
        // By Pregon's id.
        event(None, Some(ids[1]), MessageStatus::Delivered),
        event(Some("wamid.unknown"), None, MessageStatus::Read),
    ];
    let changes = q.apply_events(acc, &events).await.unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(
        (
            changes[0].message_id,
            changes[0].status,
            changes[0].campaign_id,
            changes[0].app_id
        ),
        (ids[0], MessageStatus::Read, Some(c), a)
    );
    assert_eq!(changes[0].provider_message_id.as_deref(), Some("wamid.0"));
    assert_eq!(changes[0].flag, claimed[0].flag);
    assert_eq!(changes[0].phone, claimed[0].phone);
    assert_eq!(
        (changes[1].message_id, changes[1].status),
        (ids[1], MessageStatus::Delivered)
    );
    // Another account's event for the same provider id changes nothing.
    let other = account_named(&store, a, "other").await;
    assert!(q.apply_events(other, &events).await.unwrap().is_empty());
    let m0 = store.get_message(a, ids[0]).await.unwrap();
    assert_eq!(m0.status, MessageStatus::Read);
    assert!(m0.delivered_at.is_some() && m0.read_at.is_some());
    let k = store.get_campaign(a, c).await.unwrap().counts;
    assert_eq!((k.sent, k.delivered, k.read), (0, 1, 1));
}

/// A failure reported by webhook with Meta's 131049 is retry-worthy, as it is in a send answer; others are permanent.
pub async fn webhook_failures_keep_whether_a_retry_is_worth_it(store: DynStore, _url: &str) {
    let (a, acc, c, _) = running_campaign(&store, 3).await;
    let q = store.send_queue();
    let now = chrono::Utc::now();
    let claimed = q.claim(acc, Some(c), "w1", 10, now).await.unwrap();
    let ids: Vec<MessageId> = claimed.iter().map(|m| m.id).collect();
    q.mark_sending("w1", &ids, now).await.unwrap();
    let sent: Vec<SendResult> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| SendResult::Sent {
            id: *id,
            provider_message_id: format!("wamid.{i}"),
        })
        .collect();
    q.record("w1", &sent, now).await.unwrap();
    let failed = |i: usize, code: &str| StatusEvent {
        provider_message_id: Some(format!("wamid.{i}")),
        message_id: None,
        status: MessageStatus::Failed,
        at: now,
        error: Some((code.to_owned(), "refused".to_owned())),
    };
    let changes = q
        .apply_events(acc, &[failed(0, "131049"), failed(1, "131026")])
        .await
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(store.retry_failed(a, c).await.unwrap(), 1, "only the 131049 one");
    let requeued = store.get_message(a, ids[0]).await.unwrap();
    assert_eq!(requeued.status, MessageStatus::Queued);
    let kept = store.get_message(a, ids[1]).await.unwrap();
    assert_eq!(
        (kept.status, kept.error_code.as_deref()),
        (MessageStatus::Failed, Some("131026"))
    );
    let k = store.get_campaign(a, c).await.unwrap().counts;
    assert_eq!((k.failed, k.queued, k.sent), (1, 1, 1));
}

/// The recorder (`sent`) and the webhook applier (`delivered`) on the same messages at once, as when a provider's
/// status webhook overtakes the recording of its answer: PostgreSQL once saw deadlocks here (each locked the campaign
/// row at a different point), and an event whose message moved between its read and its update was dropped.
pub async fn outcomes_and_status_events_on_the_same_messages_neither_deadlock_nor_get_lost(
    store: DynStore,
    _url: &str,
) {
    const N: usize = 400;
    const CHUNK: usize = 50;
    let (a, acc, c, _) = running_campaign(&store, N).await;
    let q = store.send_queue();
    let now = chrono::Utc::now();
    let claimed = q.claim(acc, Some(c), "w1", N as u32, now).await.unwrap();
    let mut ids: Vec<MessageId> = claimed.iter().map(|m| m.id).collect();
    ids.sort();
    assert_eq!(q.mark_sending("w1", &ids, now).await.unwrap().len(), N);
    for chunk in ids.chunks(CHUNK) {
        // Outcomes in id order, events in the reverse order: the two lock orders that met in a cycle.
        let results: Vec<SendResult> = chunk
            .iter()
            .map(|id| SendResult::Sent {
                id: *id,
                provider_message_id: format!("wamid.{id}"),
            })
            .collect();
        let events: Vec<StatusEvent> = chunk
            .iter()
            .rev()
            .map(|id| StatusEvent {
                provider_message_id: None,
                message_id: Some(*id),
                status: MessageStatus::Delivered,
                at: now,
                error: None,
            })
            .collect();
        let (recorder, applier) = (store.clone(), store.clone());
        let recorded = tokio::spawn(async move { recorder.send_queue().record("w1", &results, now).await });
        let applied = tokio::spawn(async move { applier.send_queue().apply_events(acc, &events).await });
        recorded.await.unwrap().unwrap();
        let changes = applied.await.unwrap().unwrap();
        assert_eq!(
            changes.len(),
            CHUNK,
            "every event moves its message, whichever came first"
        );
    }
    let k = store.get_campaign(a, c).await.unwrap().counts;
    assert_eq!((k.sending, k.sent, k.delivered), (0, 0, N as u64));
    for id in [ids[0], ids[N - 1]] {
        let m = store.get_message(a, id).await.unwrap();
        assert_eq!(m.status, MessageStatus::Delivered);
        assert_eq!(
            m.provider_message_id,
            Some(format!("wamid.{id}")),
            "the provider's id is kept either way"
        );
    }
}

/// A cancel while senders claim and mark the campaign's messages: each side locks messages and the campaign's row,
/// and PostgreSQL once saw them wait on each other (the cancel took the campaign's row first) and abort one. Each
/// round cancels at a different moment of the senders' work.
pub async fn a_cancel_racing_the_senders_neither_deadlocks_nor_loses_a_count(store: DynStore, _url: &str) {
    const ROUNDS: u64 = 12;
    const N: usize = 120;
    let a = app(&store, "acme").await;
    let acc = account(&store, a).await;
    for round in 0..ROUNDS {
        let c = campaign(&store, a, acc).await;
        store
            .insert_messages(a, c, &messages(N, MessageStatus::Pending))
            .await
            .unwrap();
        for to in [CampaignStatus::Scheduled, CampaignStatus::Running] {
            store.set_campaign_status(a, c, to, None).await.unwrap();
        }
        let now = chrono::Utc::now();
        let claimed = store
            .send_queue()
            .claim(acc, Some(c), "w1", (N / 2) as u32, now)
            .await
            .unwrap();
        let mut ids: Vec<MessageId> = claimed.iter().map(|m| m.id).collect();
        ids.sort();
        // One sender marks its claim a message at a time (one transaction each) while another claims the rest.
        let marker = tokio::spawn({
            let store = store.clone();
            async move {
                for id in ids {
                    store.send_queue().mark_sending("w1", &[id], now).await?;
                }
                Ok::<_, StoreError>(())
            }
        });
        let claimer = tokio::spawn({
            let store = store.clone();
            async move {
                while !store.send_queue().claim(acc, Some(c), "w2", 3, now).await?.is_empty() {}
                Ok::<_, StoreError>(())
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(round * 3)).await;
        let cancelled = store
            .set_campaign_status(a, c, CampaignStatus::Cancelled, None)
            .await
            .unwrap_or_else(|e| panic!("round {round}: the cancel failed: {e}"));
        assert_eq!(cancelled.status, CampaignStatus::Cancelled);
        marker
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("round {round}: marking failed: {e}"));
        claimer
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("round {round}: claiming failed: {e}"));
        let k = store.get_campaign(a, c).await.unwrap().counts;
        let rows = store
            .list_messages(
                a,
                c,
                &MessageFilter {
                    limit: N as u32 + 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let count = |s: MessageStatus| rows.iter().filter(|m| m.status == s).count() as u64;
        assert_eq!(rows.len(), N);
        assert_eq!((k.pending, k.queued), (0, 0), "round {round}: nothing left to send");
        assert_eq!(
            (k.sending, k.cancelled),
            (count(MessageStatus::Sending), count(MessageStatus::Cancelled)),
            "round {round}: the counters are the rows' statuses"
        );
        assert_eq!(k.sending + k.cancelled, N as u64, "round {round}");
    }
}

async fn account_named(store: &DynStore, app: AppId, name: &str) -> AccountId {
    store
        .create_account(app, &settings(name), &meta_credentials())
        .await
        .unwrap()
        .id
}

// ---- callbacks ----

/// A campaign of 4 sent by `w1`, the app's callback set after the first two: returns the messages in id order.
async fn callbacks_setup(store: &DynStore) -> (AppId, AccountId, CampaignId, Vec<pregon_core::message::Message>) {
    let (a, acc, c, _) = running_campaign(store, 4).await;
    let q = store.send_queue();
    let now = chrono::Utc::now();
    let claimed = q.claim(acc, Some(c), "w1", 10, now).await.unwrap();
    let ids: Vec<MessageId> = claimed.iter().map(|m| m.id).collect();
    q.mark_sending("w1", &ids, now).await.unwrap();
    let sent = |i: usize| SendResult::Sent {
        id: ids[i],
        provider_message_id: format!("wamid.{i}"),
    };
    q.record("w1", &[sent(0), sent(1)], now).await.unwrap();
    assert!(
        q.claim_callbacks(10, now, now + chrono::Duration::seconds(1))
            .await
            .unwrap()
            .is_empty(),
        "no callback URL: nothing enqueued"
    );
    assert!(store.callback(a).await.unwrap().is_none());
    store
        .set_callback(a, "https://example.com/hook", "s3cret")
        .await
        .unwrap();
    q.record(
        "w1",
        &[
            sent(2),
            SendResult::Failed {
                id: ids[3],
                code: "131026".into(),
                message: "Message undeliverable".into(),
                kind: FailureKind::Permanent,
            },
        ],
        now,
    )
    .await
    .unwrap();
    (a, acc, c, claimed)
}

pub async fn callbacks_are_enqueued_for_apps_with_a_url_and_claimed_once(store: DynStore, _url: &str) {
    let (a, acc, c, claimed) = callbacks_setup(&store).await;
    let q = store.send_queue();
    let changes = q
        .apply_events(
            acc,
            &[StatusEvent {
                provider_message_id: Some("wamid.0".into()),
                message_id: None,
                status: MessageStatus::Delivered,
                at: chrono::Utc::now(),
                error: None,
            }],
        )
        .await
        .unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        q.enqueue_callbacks(a, &[json!({"type": "reply"})], chrono::Utc::now())
            .await
            .unwrap(),
        1
    );
    let b = app(&store, "beta").await;
    assert_eq!(
        q.enqueue_callbacks(b, &[json!({"type": "reply"})], chrono::Utc::now())
            .await
            .unwrap(),
        0,
        "an app without a URL gets nothing"
    );
    // The reply context: the last message sent to a number.
    let last = q.last_sent_to(acc, &claimed[0].phone).await.unwrap().unwrap();
    assert_eq!(last.id, claimed[0].id);
    assert!(q.last_sent_to(acc, "+10000000000").await.unwrap().is_none());

    let now = chrono::Utc::now() + chrono::Duration::seconds(1);
    let lease = now + chrono::Duration::seconds(60);
    let (s1, s2) = (store.clone(), store.clone());
    let (one, two) = tokio::join!(
        async move { s1.send_queue().claim_callbacks(3, lease, now).await.unwrap() },
        async move { s2.send_queue().claim_callbacks(3, lease, now).await.unwrap() },
    );
    let all: Vec<_> = one.iter().chain(&two).collect();
    assert_eq!(all.len(), 4, "{} + {}", one.len(), two.len());
    let mut ids: Vec<_> = all.iter().map(|e| e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "no event claimed twice");
    assert!(all.iter().all(|e| e.attempts == 1 && e.app_id == a));
    assert!(
        all.iter()
            .all(|e| e.target == Some(("https://example.com/hook".into(), "s3cret".into())))
    );
    let bodies: Vec<serde_json::Value> = all.iter().map(|e| serde_json::from_str(&e.body).unwrap()).collect();
    let status_of = |m: MessageId, status: &str| {
        bodies
            .iter()
            .find(|b| b["message"] == json!(m) && b["status"] == status)
            .unwrap_or_else(|| panic!("no {status} event for {m} in {bodies:?}"))
            .clone()
    };
    let sent = status_of(claimed[2].id, "sent");
    assert_eq!(sent["type"], "status");
    assert_eq!(sent["campaign"], json!(c));
    assert_eq!(sent["phone"], claimed[2].phone.as_str());
    assert_eq!(sent["flag"], json!(claimed[2].flag));
    assert_eq!(sent["provider_message_id"], "wamid.2");
    assert!(sent["error"].is_null() && sent["at"].is_string());
    let failed = status_of(claimed[3].id, "failed");
    assert_eq!(
        failed["error"],
        json!({"code": "131026", "message": "Message undeliverable"})
    );
    let delivered = status_of(claimed[0].id, "delivered");
    assert_eq!(delivered["provider_message_id"], "wamid.0");
    assert!(bodies.iter().any(|b| b["type"] == "reply"));
    // Leased: nobody else takes them while they are being delivered.
    assert!(q.claim_callbacks(10, lease, now).await.unwrap().is_empty());
}

pub async fn callbacks_are_retried_at_their_time_and_given_up(store: DynStore, _url: &str) {
    let (a, _, _, _) = callbacks_setup(&store).await;
    let q = store.send_queue();
    let t0 = chrono::Utc::now() + chrono::Duration::seconds(1);
    let at = |s: i64| t0 + chrono::Duration::seconds(s);
    let mut claimed = q.claim_callbacks(10, at(60), t0).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let (first, second) = (claimed.remove(0), claimed.remove(0));
    q.finish_callback(
        first.id,
        &crate::CallbackOutcome::Retry {
            at: at(10),
            error: "HTTP 500".into(),
        },
        t0,
    )
    .await
    .unwrap();
    q.finish_callback(second.id, &crate::CallbackOutcome::Delivered, t0)
        .await
        .unwrap();
    assert!(
        q.claim_callbacks(10, at(70), at(5)).await.unwrap().is_empty(),
        "not yet"
    );
    let again = q.claim_callbacks(10, at(70), at(11)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id, again[0].attempts, &again[0].body),
        (first.id, 2, &first.body)
    );
    // Crashed mid-delivery: the lease runs out and it comes back.
    let back = q.claim_callbacks(10, at(200), at(71)).await.unwrap();
    assert_eq!((back.len(), back[0].attempts), (1, 3));
    q.finish_callback(
        first.id,
        &crate::CallbackOutcome::GaveUp {
            error: "HTTP 500".into(),
        },
        at(71),
    )
    .await
    .unwrap();
    assert!(
        q.claim_callbacks(10, at(10_000), at(9_000)).await.unwrap().is_empty(),
        "given up"
    );
    // Delivered and given-up rows are purged after the retention; pending ones never.
    q.enqueue_callbacks(a, &[json!({"type": "reply"})], t0).await.unwrap();
    assert_eq!(q.purge_callbacks(at(1)).await.unwrap(), 2);
    // Removing the callback gives up what is pending.
    store.delete_callback(a).await.unwrap();
    assert!(store.callback(a).await.unwrap().is_none());
    assert!(q.claim_callbacks(10, at(10_000), at(9_000)).await.unwrap().is_empty());
    assert!(matches!(store.delete_callback(a).await, Err(StoreError::NotFound)));
}
