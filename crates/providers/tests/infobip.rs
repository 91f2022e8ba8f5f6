//! Infobip adapter against a local mock: the exact request (providers.md §3.1) and every class of answer (§3.2,
//! §3.3).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pregon_core::ProviderKind;
use pregon_core::template::{MediaKind, Template, TemplateParams};
use pregon_providers::infobip::Infobip;
use pregon_providers::{Failure, FailureScope, Provider, ProviderConfig, ProviderError, SendOutcome};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::{MockServer, ResponseTemplate};

const KEY: &str = "ib-test-key";

fn infobip_with(server: &MockServer, config: &ProviderConfig) -> Infobip {
    let account = account(
        ProviderKind::Infobip,
        "+441134960000",
        Some(&server.uri()),
        &[("api_key", KEY)],
    );
    Infobip::new(&account, http(), config).unwrap()
}

fn accepted_answer(message_id: &str) -> Value {
    json!({"messages": [{"to": PHONE_DIGITS, "messageCount": 1, "messageId": message_id,
        "status": {"groupId": 1, "groupName": "PENDING", "id": 7, "name": "PENDING_ENROUTE",
            "description": "Message sent to next instance"}}],
        "bulkId": "2034072219640523073"})
}

async fn request_for(template: &Template, params: TemplateParams) -> wiremock::Request {
    let server = server(answer(200, accepted_answer(MESSAGE_ID))).await;
    let outcome = send(&infobip_with(&server, &config()), template, params).await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: MESSAGE_ID.into()
        }
    );
    only_request(&server).await
}

async fn outcome_of(response: ResponseTemplate) -> SendOutcome {
    let server = server(response).await;
    send(&infobip_with(&server, &config()), &rich_template(), rich_params()).await
}

fn failure(code: &str, message: &str, scope: FailureScope) -> Failure {
    Failure {
        scope,
        ..Failure::message(code, message)
    }
}

/// The request body with `template_data` as `messages[0].content.templateData`.
fn expected(template_name: &str, language: &str, template_data: Value) -> Value {
    json!({"messages": [{
        "from": "441134960000",
        "to": PHONE_DIGITS,
        "messageId": MESSAGE_ID,
        "content": {"templateName": template_name, "templateData": template_data, "language": language},
        "callbackData": MESSAGE_ID,
    }]})
}

#[tokio::test]
async fn text_header_body_url_and_quick_reply_buttons() {
    let request = request_for(&rich_template(), rich_params()).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/whatsapp/1/message/template");
    assert_eq!(header(&request, "authorization"), Some("App ib-test-key"));
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    assert_eq!(header(&request, "accept"), Some("application/json"));
    assert_eq!(
        json_body(&request),
        expected(
            "order_update",
            "es_AR",
            json!({
                "body": {"placeholders": ["Asha", "martes 3"]},
                "header": {"type": "TEXT", "placeholder": "ORD-9271"},
                "buttons": [
                    {"type": "URL", "parameter": "track-9271"},
                    {"type": "QUICK_REPLY", "parameter": "STOP_PROMO"}
                ]
            })
        )
    );
}

#[tokio::test]
async fn media_headers() {
    let request = request_for(
        &media_template("DOCUMENT"),
        media_params(MediaKind::Document, Some("invoice.pdf")),
    )
    .await;
    assert_eq!(
        json_body(&request),
        expected(
            "invoice_ready",
            "en_US",
            json!({
                "body": {"placeholders": ["INV-42"]},
                "header": {"type": "DOCUMENT", "mediaUrl": "https://files.example/inv-42.pdf", "filename": "invoice.pdf"}
            })
        )
    );
    // Infobip requires a document's filename: without one, the URL's last segment.
    let request = request_for(&media_template("DOCUMENT"), media_params(MediaKind::Document, None)).await;
    assert_eq!(
        json_body(&request)["messages"][0]["content"]["templateData"]["header"],
        json!({"type": "DOCUMENT", "mediaUrl": "https://files.example/inv-42.pdf", "filename": "inv-42.pdf"})
    );
    for (format, kind, wire) in [
        ("IMAGE", MediaKind::Image, "IMAGE"),
        ("VIDEO", MediaKind::Video, "VIDEO"),
    ] {
        let request = request_for(&media_template(format), media_params(kind, None)).await;
        assert_eq!(
            json_body(&request)["messages"][0]["content"]["templateData"]["header"],
            json!({"type": wire, "mediaUrl": "https://files.example/inv-42.pdf"})
        );
    }
}

#[tokio::test]
async fn named_parameters_go_in_slot_order() {
    let request = request_for(&named_template(), named_params()).await;
    assert_eq!(
        json_body(&request),
        expected(
            "named_order",
            "en_US",
            json!({"body": {"placeholders": ["Jessica", "SKBUP2-4CPIG9"]}})
        )
    );
}

#[tokio::test]
async fn accepted_keeps_the_id() {
    let outcome = outcome_of(answer(200, accepted_answer("a28dd97c-1ffb-4fcf-99f1-0b557ed381da"))).await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: "a28dd97c-1ffb-4fcf-99f1-0b557ed381da".into()
        }
    );
}

#[tokio::test]
async fn a_rejected_group_refuses_the_message() {
    let rejected = |name: &str, description: &str| {
        json!({"messages": [{"to": PHONE_DIGITS, "messageCount": 1, "messageId": MESSAGE_ID,
            "status": {"groupId": 5, "groupName": "REJECTED", "id": 51, "name": name, "description": description}}]})
    };
    let outcome = outcome_of(answer(
        200,
        rejected("REJECTED_DESTINATION", "Destination address is invalid"),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(Failure::message(
            "REJECTED_DESTINATION",
            "Destination address is invalid"
        ))
    );
    let outcome = outcome_of(answer(
        200,
        rejected("REJECTED_NOT_ENOUGH_CREDITS", "Not enough credits"),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure(
            "REJECTED_NOT_ENOUGH_CREDITS",
            "Not enough credits",
            FailureScope::Account
        ))
    );
}

#[tokio::test]
async fn throttled_with_retry_after() {
    let outcome = outcome_of(
        answer(
            429,
            json!({"requestError": {"serviceException": {"messageId": "TOO_MANY_REQUESTS", "text": "Too many requests"}}}),
        )
        .insert_header("Retry-After", "7"),
    )
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure {
            retry_after: Some(Duration::from_secs(7)),
            ..Failure::message("TOO_MANY_REQUESTS", "Too many requests")
        })
    );
}

#[tokio::test]
async fn server_errors_are_transient() {
    let outcome = outcome_of(answer(
        500,
        json!({"errorCode": "E500", "description": "Something went wrong."}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure::message("E500", "Something went wrong."))
    );
    let outcome = outcome_of(raw(503, b"", "text/plain")).await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure::message("http_503", "Service Unavailable"))
    );
}

#[tokio::test]
async fn permanent_errors_keep_code_and_text_in_both_shapes() {
    let outcome = outcome_of(answer(
        400,
        json!({"requestError": {"serviceException": {"messageId": "BAD_REQUEST", "text": "Bad request",
            "validationErrors": {"messages[0].content.templateName": ["template does not exist"]}}}}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(Failure::message(
            "BAD_REQUEST",
            "Bad request; messages[0].content.templateName: template does not exist"
        ))
    );
    let outcome = outcome_of(answer(
        400,
        json!({"errorCode": "E400", "description": "Request cannot be processed.", "action": "Check the syntax",
            "violations": [{"property": "messages[0].to", "violation": "must not be blank"}],
            "resources": [{"name": "API", "url": "https://www.infobip.com/docs/api"}]}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(Failure::message(
            "E400",
            "Request cannot be processed.; messages[0].to: must not be blank"
        ))
    );
}

#[tokio::test]
async fn account_failures() {
    let outcome = outcome_of(answer(
        401,
        json!({"requestError": {"serviceException": {"messageId": "UNAUTHORIZED", "text": "Invalid login details"}}}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("UNAUTHORIZED", "Invalid login details", FailureScope::Account))
    );
    let outcome = outcome_of(answer(403, json!({"errorCode": "E403", "description": "Forbidden."}))).await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("E403", "Forbidden.", FailureScope::Account))
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
    let server = server(slow(answer(200, accepted_answer("late")))).await;
    let outcome = send(&infobip_with(&server, &short_config()), &rich_template(), rich_params()).await;
    assert!(
        matches!(&outcome, SendOutcome::Transient(f) if f.code == "timeout"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn base_url_and_api_key_are_required() {
    let account = account(ProviderKind::Infobip, "+441134960000", None, &[("api_key", KEY)]);
    assert!(matches!(
        Infobip::new(&account, http(), &config()),
        Err(ProviderError::Missing { what: "base_url", .. })
    ));
    let account = common::account(
        ProviderKind::Infobip,
        "+441134960000",
        Some("https://x.api.infobip.com"),
        &[],
    );
    assert!(matches!(
        Infobip::new(&account, http(), &config()),
        Err(ProviderError::Missing { what: "api_key", .. })
    ));
    let account = common::account(
        ProviderKind::Infobip,
        "+441134960000",
        Some("https://x.api.infobip.com/"),
        &[("api_key", KEY)],
    );
    assert_eq!(
        Infobip::new(&account, http(), &config()).unwrap().kind(),
        ProviderKind::Infobip
    );
}
