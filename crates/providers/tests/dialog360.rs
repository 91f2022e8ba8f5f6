//! 360dialog adapter against a local mock: Meta's body on 360dialog's host and key (providers.md §4), Meta's
//! codes passed through, 360dialog's own refusals.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pregon_core::ProviderKind;
use pregon_core::template::{MediaKind, Template, TemplateParams};
use pregon_providers::dialog360::Dialog360;
use pregon_providers::{Failure, FailureScope, Provider, ProviderConfig, ProviderError, SendOutcome};
use serde_json::json;
use std::time::Duration;
use wiremock::{MockServer, ResponseTemplate};

const KEY: &str = "d360-test-key";

fn d360_with(server: &MockServer, config: &ProviderConfig) -> Dialog360 {
    let account = account(
        ProviderKind::Dialog360,
        "+5491100000000",
        Some(&server.uri()),
        &[("api_key", KEY)],
    );
    Dialog360::new(&account, http(), config).unwrap()
}

async fn request_for(template: &Template, params: TemplateParams) -> wiremock::Request {
    let server = server(answer(200, json!({"messages": [{"id": "wamid.X"}]}))).await;
    let outcome = send(&d360_with(&server, &config()), template, params).await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: "wamid.X".into()
        }
    );
    only_request(&server).await
}

async fn outcome_of(response: ResponseTemplate) -> SendOutcome {
    let server = server(response).await;
    send(&d360_with(&server, &config()), &rich_template(), rich_params()).await
}

fn failure(code: &str, message: &str, scope: FailureScope) -> Failure {
    Failure {
        scope,
        ..Failure::message(code, message)
    }
}

#[tokio::test]
async fn text_header_body_url_and_quick_reply_buttons() {
    let request = request_for(&rich_template(), rich_params()).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/messages");
    assert_eq!(header(&request, "d360-api-key"), Some(KEY));
    assert_eq!(header(&request, "authorization"), None);
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    assert_eq!(json_body(&request), cloud_rich_body());
}

#[tokio::test]
async fn media_header() {
    let request = request_for(&media_template("IMAGE"), media_params(MediaKind::Image, None)).await;
    assert_eq!(
        json_body(&request)["template"]["components"],
        json!([
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://files.example/inv-42.pdf"}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "INV-42"}]}
        ])
    );
}

#[tokio::test]
async fn named_parameters() {
    let request = request_for(&named_template(), named_params()).await;
    assert_eq!(
        json_body(&request)["template"]["components"],
        json!([{"type": "body", "parameters": [
            {"type": "text", "parameter_name": "first_name", "text": "Jessica"},
            {"type": "text", "parameter_name": "order_number", "text": "SKBUP2-4CPIG9"}
        ]}])
    );
}

#[tokio::test]
async fn accepted_keeps_the_wamid() {
    let outcome = outcome_of(answer(
        200,
        json!({"messaging_product": "whatsapp", "contacts": [{"input": "5491123456789", "wa_id": "5491123456789"}],
            "messages": [{"id": "wamid.HBgNNTQ5MTEyMzQ1Njc4ORUCABEYEjA"}]}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: "wamid.HBgNNTQ5MTEyMzQ1Njc4ORUCABEYEjA".into()
        }
    );
}

#[tokio::test]
async fn throttled_with_retry_after() {
    let outcome =
        outcome_of(answer(429, json!({"error": {"message": "Too many requests"}})).insert_header("Retry-After", "7"))
            .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure {
            retry_after: Some(Duration::from_secs(7)),
            ..Failure::message("http_429", "Too many requests")
        })
    );
    // Meta's throttle passed through.
    let outcome = outcome_of(
        answer(
            400,
            json!({"error": {"message": "(#130429) Rate limit hit", "code": 130429}}),
        )
        .insert_header("Retry-After", "7"),
    )
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure {
            retry_after: Some(Duration::from_secs(7)),
            ..Failure::message("130429", "(#130429) Rate limit hit")
        })
    );
}

#[tokio::test]
async fn the_endpoint_rate_limit_text_is_transient() {
    let outcome = outcome_of(answer(
        400,
        json!({"meta": {"success": false, "http_code": 400,
            "developer_message": "You have exceeded the endpoint rate limit"}}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure::message(
            "http_400",
            "You have exceeded the endpoint rate limit"
        ))
    );
}

#[tokio::test]
async fn server_errors_are_transient() {
    let outcome = outcome_of(raw(502, b"WhatsApp for Business API not available", "text/plain")).await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure::message("http_502", "WhatsApp for Business API not available"))
    );
}

#[tokio::test]
async fn a_permanent_meta_error_keeps_code_and_text() {
    let outcome = outcome_of(answer(
        400,
        json!({"error": {"message": "(#131026) Message undeliverable", "code": 131026,
            "error_data": {"messaging_product": "whatsapp", "details": "Recipient is not a WhatsApp user"}}}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(Failure::message(
            "131026",
            "(#131026) Message undeliverable: Recipient is not a WhatsApp user"
        ))
    );
}

#[tokio::test]
async fn a_paused_template_pauses_the_template() {
    let outcome = outcome_of(answer(
        400,
        json!({"error": {"message": "(#132015) Template is paused", "code": 132015}}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure(
            "132015",
            "(#132015) Template is paused",
            FailureScope::Template
        ))
    );
}

#[tokio::test]
async fn account_failures() {
    let outcome = outcome_of(answer(
        401,
        json!({"meta": {"success": false, "http_code": 401, "developer_message": "Invalid api_key"}}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("http_401", "Invalid api_key", FailureScope::Account))
    );
    let outcome = outcome_of(raw(401, b"", "text/plain")).await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("http_401", "invalid api_key", FailureScope::Account))
    );
    for text in ["lack of payment", "WhatsApp for Business API has been disabled"] {
        let outcome = outcome_of(answer(400, json!({"meta": {"developer_message": text}}))).await;
        assert_eq!(
            outcome,
            SendOutcome::Permanent(failure("http_400", text, FailureScope::Account))
        );
    }
    let outcome = outcome_of(raw(403, b"endpoint blocked", "text/plain")).await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("http_403", "endpoint blocked", FailureScope::Account))
    );
}

#[tokio::test]
async fn garbage_answers_are_classified_not_panicked_on() {
    for (status, body) in garbage() {
        let outcome = outcome_of(raw(status, &body, "text/html")).await;
        match (status, &outcome) {
            (200, SendOutcome::Permanent(f)) => assert_eq!(f.code, "invalid_response"),
            (500..=599, SendOutcome::Transient(f)) => assert_eq!(f.code, format!("http_{status}")),
            (300..=499, SendOutcome::Permanent(f)) => assert_eq!(f.code, format!("http_{status}")),
            _ => panic!("{status} {body:?}: {outcome:?}"),
        }
    }
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let server = server(slow(answer(200, json!({"messages": [{"id": "wamid.late"}]})))).await;
    let outcome = send(&d360_with(&server, &short_config()), &rich_template(), rich_params()).await;
    assert!(
        matches!(&outcome, SendOutcome::Transient(f) if f.code == "timeout"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn missing_api_key() {
    let account = account(ProviderKind::Dialog360, "+5491100000000", None, &[("api_key", "  ")]);
    assert!(matches!(
        Dialog360::new(&account, http(), &config()),
        Err(ProviderError::Missing { what: "api_key", .. })
    ));
    let account = common::account(ProviderKind::Dialog360, "x", None, &[("api_key", KEY)]);
    assert_eq!(
        Dialog360::new(&account, http(), &config()).unwrap().kind(),
        ProviderKind::Dialog360
    );
}
