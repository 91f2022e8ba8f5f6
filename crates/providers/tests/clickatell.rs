//! Clickatell adapter against a local mock: the 2019 `hsm` request (providers.md §5), what it cannot carry, and
//! every class of answer.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pregon_core::ProviderKind;
use pregon_core::template::{MediaKind, Template, TemplateParams};
use pregon_providers::clickatell::Clickatell;
use pregon_providers::{Failure, FailureScope, Provider, ProviderConfig, ProviderError, SendOutcome};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::{MockServer, ResponseTemplate};

const KEY: &str = "ck-test-key";

fn clickatell_with(server: &MockServer, config: &ProviderConfig) -> Clickatell {
    let account = account(
        ProviderKind::Clickatell,
        "+27000000000",
        Some(&server.uri()),
        &[("api_key", KEY)],
    );
    Clickatell::new(&account, http(), config).unwrap()
}

fn accepted_answer(id: &str) -> Value {
    json!({"messages": [{"apiMessageId": id, "accepted": true, "to": PHONE_DIGITS,
        "clientMessageId": MESSAGE_ID, "error": null}], "error": null})
}

async fn outcome_of(response: ResponseTemplate) -> SendOutcome {
    let server = server(response).await;
    send(&clickatell_with(&server, &config()), &plain_template(), plain_params()).await
}

fn failure(code: &str, message: &str, scope: FailureScope) -> Failure {
    Failure {
        scope,
        ..Failure::message(code, message)
    }
}

#[tokio::test]
async fn body_values_as_numbered_hsm_parameters() {
    let server = server(answer(202, accepted_answer("77fb29998253415fa5d66971d519d362"))).await;
    let outcome = send(&clickatell_with(&server, &config()), &plain_template(), plain_params()).await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: "77fb29998253415fa5d66971d519d362".into()
        }
    );
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/v1/message");
    assert_eq!(header(&request, "authorization"), Some(KEY));
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    assert_eq!(header(&request, "accept"), Some("application/json"));
    assert_eq!(
        json_body(&request),
        json!({"messages": [{
            "to": PHONE_DIGITS,
            "channel": "whatsapp",
            "hsm": {"template": "welcome_notification", "parameters": {"1": "John", "2": "X-12"}},
            "clientMessageId": MESSAGE_ID,
        }]})
    );
}

/// Header values, button values and named parameters have no field in the `hsm` format: refused, nothing sent.
#[tokio::test]
async fn what_the_hsm_format_cannot_carry_is_refused_before_sending() {
    let cases: Vec<(Template, TemplateParams, &str)> = vec![
        (rich_template(), rich_params(), "has a header with a placeholder"),
        (
            media_template("IMAGE"),
            media_params(MediaKind::Image, None),
            "has a media header",
        ),
        (
            plain_template(),
            TemplateParams {
                buttons: rich_params().buttons,
                ..plain_params()
            },
            "is sent with button values",
        ),
        (named_template(), named_params(), "has named parameters"),
    ];
    for (template, params, why) in cases {
        let server = server(answer(202, accepted_answer("x"))).await;
        let outcome = send(&clickatell_with(&server, &config()), &template, params).await;
        assert_eq!(
            outcome,
            SendOutcome::Permanent(Failure::message(
                "unsupported_by_provider",
                format!(
                    "template `{}` {why}, which Clickatell's documented template format (hsm) cannot carry",
                    template.name
                )
            ))
        );
        assert!(server.received_requests().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn accepted_keeps_the_id() {
    let outcome = outcome_of(answer(202, accepted_answer("a1b2c3"))).await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: "a1b2c3".into()
        }
    );
}

#[tokio::test]
async fn not_accepted_is_permanent_with_the_error() {
    let outcome = outcome_of(answer(
        202,
        json!({"messages": [{"apiMessageId": "", "accepted": false, "to": PHONE_DIGITS,
            "error": {"code": 23, "description": "Invalid or missing parameter: to", "documentation": "https://…"}}],
            "error": null}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(Failure::message("23", "Invalid or missing parameter: to"))
    );
    let outcome = outcome_of(answer(202, json!({"messages": [{"accepted": false, "error": null}]}))).await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(Failure::message("not_accepted", "the message was not accepted"))
    );
}

#[tokio::test]
async fn throttled_with_retry_after() {
    let outcome = outcome_of(
        answer(
            429,
            json!({"messages": [], "error": {"code": 429, "description": "Too many requests"}}),
        )
        .insert_header("Retry-After", "7"),
    )
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure {
            retry_after: Some(Duration::from_secs(7)),
            ..Failure::message("429", "Too many requests")
        })
    );
}

#[tokio::test]
async fn server_errors_are_transient() {
    let outcome = outcome_of(raw(503, b"<html>maintenance</html>", "text/html")).await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure::message("http_503", "<html>maintenance</html>"))
    );
}

#[tokio::test]
async fn a_permanent_error_keeps_code_and_text() {
    let outcome = outcome_of(answer(
        400,
        json!({"messages": [], "error": {"code": 101, "description": "Invalid or missing parameters"}}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(Failure::message("101", "Invalid or missing parameters"))
    );
}

#[tokio::test]
async fn auth_failure_stops_the_account() {
    let outcome = outcome_of(answer(
        401,
        json!({"messages": [], "error": {"code": 1, "description": "Invalid or missing Integration API Key.",
            "documentation": "https://www.clickatell.com/developers/api-docs/http-status-codes-rest/"}}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure(
            "1",
            "Invalid or missing Integration API Key.",
            FailureScope::Account
        ))
    );
    let outcome = outcome_of(raw(401, b"", "text/plain")).await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("http_401", "Unauthorized", FailureScope::Account))
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
    let server = server(slow(answer(202, accepted_answer("late")))).await;
    let outcome = send(
        &clickatell_with(&server, &short_config()),
        &plain_template(),
        plain_params(),
    )
    .await;
    assert!(
        matches!(&outcome, SendOutcome::Transient(f) if f.code == "timeout"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn missing_api_key() {
    let account = account(ProviderKind::Clickatell, "+27000000000", None, &[]);
    assert!(matches!(
        Clickatell::new(&account, http(), &config()),
        Err(ProviderError::Missing { what: "api_key", .. })
    ));
    let account = common::account(ProviderKind::Clickatell, "+27000000000", None, &[("api_key", KEY)]);
    assert_eq!(
        Clickatell::new(&account, http(), &config()).unwrap().kind(),
        ProviderKind::Clickatell
    );
}
