//! Template listings against a local mock: Meta's paged `message_templates` (providers.md §1.8) and 360dialog's
//! `waba_templates`, the exact requests, refusals, and the providers without a listing.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pregon_core::ProviderKind;
use pregon_providers::templates::{ListError, list};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn template(name: &str) -> serde_json::Value {
    json!({"id": format!("id-{name}"), "name": name, "language": "en_US", "status": "APPROVED", "category": "UTILITY",
           "components": [{"type": "BODY", "text": "Hi {{1}}"}]})
}

#[tokio::test]
async fn meta_listing_follows_the_after_cursor_on_the_accounts_own_host() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v23.0/102290129340398/message_templates"))
        .and(header("authorization", "Bearer EAAG-token"))
        .and(query_param("after", "CURSOR1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [template("third")],
            "paging": {"cursors": {"before": "CURSOR1", "after": "CURSOR2"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v23.0/102290129340398/message_templates"))
        .and(header("authorization", "Bearer EAAG-token"))
        .and(query_param(
            "fields",
            "name,status,category,language,components,parameter_format",
        ))
        .and(query_param("limit", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [template("first"), template("second")],
            // `next` elsewhere is not followed: the cursor is asked of the account's own host.
            "paging": {"cursors": {"before": "X", "after": "CURSOR1"}, "next": "https://elsewhere.example/steal"}
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let account = account(
        ProviderKind::Meta,
        "106540352242922",
        Some(&server.uri()),
        &[("access_token", "EAAG-token"), ("waba_id", "102290129340398")],
    );
    let listed = list(&account, &http(), &config()).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["first", "second", "third"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn meta_refusals_and_missing_waba_ids_are_errors_with_the_reason() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}
        })))
        .mount(&server)
        .await;
    let with_waba = account(
        ProviderKind::Meta,
        "1",
        Some(&server.uri()),
        &[("access_token", "bad"), ("waba_id", "1")],
    );
    let e = list(&with_waba, &http(), &config()).await.unwrap_err();
    assert!(
        matches!(&e, ListError::Refused { status: 401, message, .. } if message == "Error validating access token"),
        "{e:?}"
    );
    let without = account(ProviderKind::Meta, "1", Some(&server.uri()), &[("access_token", "t")]);
    let e = list(&without, &http(), &config()).await.unwrap_err();
    assert!(e.to_string().contains("waba_id"), "{e}");
}

#[tokio::test]
async fn dialog360_listing_reads_waba_templates_with_the_api_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/configs/templates"))
        .and(header("D360-API-KEY", "key-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "count": 1, "filters": {}, "limit": 1000, "offset": 0, "sort": ["id"], "total": 1,
            "waba_templates": [template("order_update")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let account = account(
        ProviderKind::Dialog360,
        "1",
        Some(&server.uri()),
        &[("api_key", "key-1")],
    );
    let listed = list(&account, &http(), &config()).await.unwrap();
    assert_eq!(listed, vec![template("order_update")]);
}

#[tokio::test]
async fn providers_without_a_listing_say_so() {
    for provider in [
        ProviderKind::Gupshup,
        ProviderKind::Infobip,
        ProviderKind::Clickatell,
        ProviderKind::Sandbox,
    ] {
        let account = account(provider, "1", None, &[]);
        let e = list(&account, &http(), &config()).await.unwrap_err();
        assert!(
            matches!(e, ListError::Unsupported(p) if p == provider),
            "{provider}: {e:?}"
        );
    }
}
