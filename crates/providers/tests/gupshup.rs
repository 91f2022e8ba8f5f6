//! Gupshup adapter against a local mock: the exact form (providers.md §2.1) and every class of answer.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pregon_core::ProviderKind;
use pregon_core::template::{MediaKind, Template, TemplateParams};
use pregon_providers::gupshup::Gupshup;
use pregon_providers::{Failure, FailureScope, ProviderConfig, ProviderError, SendOutcome};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::{MockServer, ResponseTemplate};

const KEY: &str = "gs-test-key";

fn gupshup_with(server: &MockServer, config: &ProviderConfig) -> Gupshup {
    let account = account(
        ProviderKind::Gupshup,
        "+917834811114",
        Some(&server.uri()),
        &[("api_key", KEY), ("app_name", "MyAppName")],
    );
    Gupshup::new(&account, http(), config).unwrap()
}

async fn request_for(template: &Template, params: TemplateParams) -> wiremock::Request {
    let server = server(answer(
        200,
        json!({"status": "submitted", "messageId": "ac08ea83-99fa-4d43-a03c-317e4011503c"}),
    ))
    .await;
    let outcome = send(&gupshup_with(&server, &config()), template, params).await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: "ac08ea83-99fa-4d43-a03c-317e4011503c".into()
        }
    );
    only_request(&server).await
}

async fn outcome_of(response: ResponseTemplate) -> SendOutcome {
    let server = server(response).await;
    send(&gupshup_with(&server, &config()), &rich_template(), rich_params()).await
}

/// The form fields with the JSON ones (`template`, `message`, `postbackTexts`) decoded, for comparison.
fn decoded(request: &wiremock::Request) -> Vec<(String, Value)> {
    form_fields(request)
        .into_iter()
        .map(|(k, v)| {
            let value = match k.as_str() {
                "template" | "message" | "postbackTexts" => serde_json::from_str(&v).unwrap(),
                _ => Value::String(v),
            };
            (k, value)
        })
        .collect()
}

fn fields(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
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
    assert_eq!(request.url.path(), "/wa/api/v1/template/msg");
    assert_eq!(header(&request, "apikey"), Some(KEY));
    assert_eq!(
        header(&request, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        decoded(&request),
        fields(&[
            ("channel", json!("whatsapp")),
            ("source", json!("917834811114")),
            ("destination", json!(PHONE_DIGITS)),
            ("src.name", json!("MyAppName")),
            (
                "template",
                json!({"id": "c6aecef6-bcb0-4fb1-8100-28c094e3bc6b",
                    "params": ["ORD-9271", "Asha", "martes 3", "track-9271"]})
            ),
            ("postbackTexts", json!([{"index": 1, "text": "STOP_PROMO"}])),
        ])
    );
}

#[tokio::test]
async fn media_headers_go_in_message() {
    let request = request_for(
        &media_template("DOCUMENT"),
        media_params(MediaKind::Document, Some("invoice.pdf")),
    )
    .await;
    assert_eq!(
        decoded(&request),
        fields(&[
            ("channel", json!("whatsapp")),
            ("source", json!("917834811114")),
            ("destination", json!(PHONE_DIGITS)),
            ("src.name", json!("MyAppName")),
            // No Gupshup id in the definition: the name stands in.
            ("template", json!({"id": "invoice_ready", "params": ["INV-42"]})),
            (
                "message",
                json!({"type": "document", "document": {"link": "https://files.example/inv-42.pdf", "filename": "invoice.pdf"}})
            ),
        ])
    );
    let request = request_for(&media_template("VIDEO"), media_params(MediaKind::Video, None)).await;
    let message = decoded(&request).into_iter().find(|(k, _)| k == "message").unwrap().1;
    assert_eq!(
        message,
        json!({"type": "video", "video": {"link": "https://files.example/inv-42.pdf"}})
    );
}

#[tokio::test]
async fn named_parameters_go_in_slot_order() {
    let request = request_for(&named_template(), named_params()).await;
    let template = decoded(&request).into_iter().find(|(k, _)| k == "template").unwrap().1;
    assert_eq!(
        template,
        json!({"id": "named_order", "params": ["Jessica", "SKBUP2-4CPIG9"]})
    );
}

#[tokio::test]
async fn accepted_keeps_the_id() {
    let outcome = outcome_of(answer(
        200,
        json!({"status": "submitted", "messageId": "ee4a68a0-1203-4c85-8dc3-49d0b3226a35"}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: "ee4a68a0-1203-4c85-8dc3-49d0b3226a35".into()
        }
    );
}

#[tokio::test]
async fn throttled_with_retry_after() {
    let outcome = outcome_of(
        answer(429, json!({"status": "error", "message": "Too Many Requests"})).insert_header("Retry-After", "7"),
    )
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure {
            retry_after: Some(Duration::from_secs(7)),
            ..Failure::message("http_429", "Too Many Requests")
        })
    );
    // Gupshup's own rate-limit code.
    let outcome = outcome_of(answer(
        400,
        json!({"status": "error", "code": 4001, "message": "API Rate Limited"}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure::message("4001", "API Rate Limited"))
    );
}

#[tokio::test]
async fn server_errors_are_transient() {
    let outcome = outcome_of(answer(
        500,
        json!({"status": "error", "message": "Internal Server Error"}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure::message("http_500", "Internal Server Error"))
    );
}

#[tokio::test]
async fn a_permanent_error_keeps_code_and_text() {
    let outcome = outcome_of(answer(
        400,
        json!({"status": "error", "code": 1002, "message": "Number Does Not Exist On WhatsApp"}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(Failure::message("1002", "Number Does Not Exist On WhatsApp"))
    );
    let outcome = outcome_of(answer(
        400,
        json!({"status": "error", "message": "Invalid Destination"}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(Failure::message("http_400", "Invalid Destination"))
    );
}

#[tokio::test]
async fn a_paused_template_pauses_the_template() {
    let outcome = outcome_of(answer(
        400,
        json!({"status": "error", "code": "4005", "message": "Message Sending failed as the template is paused."}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure(
            "4005",
            "Message Sending failed as the template is paused.",
            FailureScope::Template
        ))
    );
    // Meta's code passed through.
    let outcome = outcome_of(answer(
        400,
        json!({"status": "error", "code": 132015, "message": "Template is paused"}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("132015", "Template is paused", FailureScope::Template))
    );
}

#[tokio::test]
async fn account_failures() {
    let outcome = outcome_of(answer(
        401,
        json!({"message": "Authentication Failed", "status": "error"}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("http_401", "Authentication Failed", FailureScope::Account))
    );
    // The same refusal with a 200.
    let outcome = outcome_of(answer(
        200,
        json!({"message": "Authentication Failed", "status": "error"}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("http_200", "Authentication Failed", FailureScope::Account))
    );
    let outcome = outcome_of(answer(
        400,
        json!({"status": "error", "code": 1003, "message": "Wallet Balance Low"}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("1003", "Wallet Balance Low", FailureScope::Account))
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
    let server = server(slow(answer(200, json!({"status": "submitted", "messageId": "x"})))).await;
    let outcome = send(&gupshup_with(&server, &short_config()), &rich_template(), rich_params()).await;
    assert!(
        matches!(&outcome, SendOutcome::Transient(f) if f.code == "timeout"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn missing_credentials() {
    let account = account(ProviderKind::Gupshup, "+917834811114", None, &[("api_key", KEY)]);
    assert!(matches!(
        Gupshup::new(&account, http(), &config()),
        Err(ProviderError::Missing { what: "app_name", .. })
    ));
    let account = common::account(ProviderKind::Gupshup, "+917834811114", None, &[("app_name", "A")]);
    assert!(matches!(
        Gupshup::new(&account, http(), &config()),
        Err(ProviderError::Missing { what: "api_key", .. })
    ));
    let account = common::account(
        ProviderKind::Gupshup,
        "++",
        None,
        &[("api_key", KEY), ("app_name", "A")],
    );
    assert!(matches!(
        Gupshup::new(&account, http(), &config()),
        Err(ProviderError::Missing { what: "sender", .. })
    ));
}
