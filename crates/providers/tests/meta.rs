//! Meta Cloud API adapter against a local mock: the exact request (providers.md §1.2) and every class of answer.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pregon_core::ProviderKind;
use pregon_core::template::{ButtonParam, MediaKind, Template, TemplateParams};
use pregon_providers::meta::Meta;
use pregon_providers::{Failure, FailureScope, Provider, ProviderConfig, ProviderError, SendOutcome};
use serde_json::json;
use std::time::Duration;
use wiremock::MockServer;

const SENDER: &str = "106540352242922";
const TOKEN: &str = "EAAG-test-token";

fn meta(server: &MockServer) -> Meta {
    meta_with(server, &config())
}

fn meta_with(server: &MockServer, config: &ProviderConfig) -> Meta {
    let account = account(
        ProviderKind::Meta,
        SENDER,
        Some(&server.uri()),
        &[("access_token", TOKEN)],
    );
    Meta::new(&account, http(), config).unwrap()
}

async fn request_for(template: &Template, params: TemplateParams) -> wiremock::Request {
    let server = server(answer(200, json!({"messages": [{"id": "wamid.X"}]}))).await;
    let outcome = send(&meta(&server), template, params).await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: "wamid.X".into()
        }
    );
    only_request(&server).await
}

/// The outcome of sending the rich message to a provider answering `response`.
async fn outcome_of(response: wiremock::ResponseTemplate) -> SendOutcome {
    let server = server(response).await;
    send(&meta(&server), &rich_template(), rich_params()).await
}

fn graph_error(code: i64, message: &str, details: &str) -> serde_json::Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details}, "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}})
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
    assert_eq!(request.url.path(), "/v23.0/106540352242922/messages");
    assert_eq!(request.url.query(), None);
    assert_eq!(header(&request, "authorization"), Some("Bearer EAAG-test-token"));
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    assert_eq!(json_body(&request), cloud_rich_body());
}

#[tokio::test]
async fn document_header_carries_link_and_filename() {
    let request = request_for(
        &media_template("DOCUMENT"),
        media_params(MediaKind::Document, Some("invoice.pdf")),
    )
    .await;
    assert_eq!(
        json_body(&request)["template"],
        json!({
            "name": "invoice_ready",
            "language": {"code": "en_US", "policy": "deterministic"},
            "components": [
                {"type": "header", "parameters": [{"type": "document",
                    "document": {"link": "https://files.example/inv-42.pdf", "filename": "invoice.pdf"}}]},
                {"type": "body", "parameters": [{"type": "text", "text": "INV-42"}]}
            ]
        })
    );
}

#[tokio::test]
async fn image_and_video_headers_carry_a_link_only() {
    for (format, kind, key) in [
        ("IMAGE", MediaKind::Image, "image"),
        ("VIDEO", MediaKind::Video, "video"),
    ] {
        let request = request_for(&media_template(format), media_params(kind, Some("ignored.pdf"))).await;
        assert_eq!(
            json_body(&request)["template"]["components"][0],
            json!({"type": "header", "parameters": [{"type": key, key: {"link": "https://files.example/inv-42.pdf"}}]})
        );
    }
}

#[tokio::test]
async fn named_parameters_carry_their_names() {
    let request = request_for(&named_template(), named_params()).await;
    assert_eq!(
        json_body(&request)["template"],
        json!({
            "name": "named_order",
            "language": {"code": "en_US", "policy": "deterministic"},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Jessica"},
                {"type": "text", "parameter_name": "order_number", "text": "SKBUP2-4CPIG9"}
            ]}]
        })
    );
}

#[tokio::test]
async fn a_template_without_values_has_no_components() {
    let template = Template::from_meta(&json!({"name": "hello_world", "language": "en_US",
        "components": [{"type": "BODY", "text": "Hello World"}]}))
    .unwrap();
    let request = request_for(&template, TemplateParams::default()).await;
    assert_eq!(
        json_body(&request)["template"],
        json!({"name": "hello_world", "language": {"code": "en_US", "policy": "deterministic"}})
    );
}

#[tokio::test]
async fn a_value_for_a_button_that_takes_none_is_refused_before_sending() {
    let server = server(answer(200, json!({"messages": [{"id": "wamid.X"}]}))).await;
    let mut params = rich_params();
    params.buttons.push(ButtonParam {
        index: 5,
        value: "x".into(),
    });
    let outcome = send(&meta(&server), &rich_template(), params).await;
    assert!(
        matches!(&outcome, SendOutcome::Permanent(f) if f.code == "invalid_button" && f.scope == FailureScope::Message),
        "{outcome:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn accepted_keeps_the_wamid() {
    let outcome = outcome_of(answer(
        200,
        json!({"messaging_product": "whatsapp",
            "contacts": [{"input": "+5491123456789", "wa_id": "5491123456789"}],
            "messages": [{"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA", "message_status": "accepted"}]}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            provider_message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA".into()
        }
    );
}

#[tokio::test]
async fn throttled_with_retry_after_seconds() {
    let outcome = outcome_of(
        answer(
            429,
            graph_error(
                130429,
                "(#130429) Rate limit hit",
                "Cloud API message throughput has been reached.",
            ),
        )
        .insert_header("Retry-After", "7"),
    )
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure {
            retry_after: Some(Duration::from_secs(7)),
            ..Failure::message(
                "130429",
                "(#130429) Rate limit hit: Cloud API message throughput has been reached."
            )
        })
    );
}

#[tokio::test]
async fn retry_after_as_an_http_date() {
    let at = chrono::Utc::now() + chrono::TimeDelta::seconds(30);
    let outcome = outcome_of(
        answer(429, json!({})).insert_header("Retry-After", at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()),
    )
    .await;
    let SendOutcome::Transient(f) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(f.code, "http_429");
    let wait = f.retry_after.unwrap();
    assert!(
        wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
        "{wait:?}"
    );
}

#[tokio::test]
async fn server_errors_are_transient() {
    let outcome = outcome_of(answer(
        503,
        graph_error(2, "(#2) Service temporarily unavailable", "Try again later"),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure::message(
            "2",
            "(#2) Service temporarily unavailable: Try again later"
        ))
    );
    let outcome = outcome_of(raw(500, b"<html>oops</html>", "text/html")).await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure::message("http_500", "<html>oops</html>"))
    );
}

#[tokio::test]
async fn a_permanent_error_keeps_code_and_text() {
    let outcome = outcome_of(answer(
        400,
        graph_error(
            131026,
            "(#131026) Message undeliverable",
            "Recipient is not a WhatsApp user",
        ),
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
async fn ecosystem_refusal_131049_is_permanent_under_its_own_code() {
    let outcome = outcome_of(answer(
        400,
        graph_error(
            131049,
            "(#131049) This message was not delivered to maintain healthy ecosystem engagement.",
            "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
        ),
    ))
    .await;
    let SendOutcome::Permanent(f) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!((f.code.as_str(), f.scope), ("131049", FailureScope::Message));
}

#[tokio::test]
async fn a_paused_or_missing_template_pauses_the_template() {
    let outcome = outcome_of(answer(
        400,
        graph_error(
            132015,
            "(#132015) Template is paused",
            "Template is paused due to low quality",
        ),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure(
            "132015",
            "(#132015) Template is paused: Template is paused due to low quality",
            FailureScope::Template
        ))
    );
    for code in [132016, 132001] {
        let outcome = outcome_of(answer(404, graph_error(code, "(#x) template", "t"))).await;
        assert!(
            matches!(&outcome, SendOutcome::Permanent(f) if f.scope == FailureScope::Template && f.code == code.to_string()),
            "{code}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_token_stops_the_account() {
    let outcome = outcome_of(answer(
        401,
        json!({"error": {"message": "Error validating access token: Session has expired.", "type": "OAuthException",
            "code": 190, "fbtrace_id": "x"}}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure(
            "190",
            "Error validating access token: Session has expired.",
            FailureScope::Account
        ))
    );
    // A 401 with a body that is not Graph's is the account's too.
    let outcome = outcome_of(raw(401, b"Unauthorized", "text/plain")).await;
    assert_eq!(
        outcome,
        SendOutcome::Permanent(failure("http_401", "Unauthorized", FailureScope::Account))
    );
}

#[tokio::test]
async fn the_code_table_of_section_1_5() {
    use FailureScope::*;
    let transient = None;
    let cases: &[(u16, i64, Option<FailureScope>)] = &[
        (400, 1, transient),
        (400, 4, transient),
        (400, 80007, transient),
        (400, 131056, transient),
        (500, 131000, transient),
        (500, 131016, transient),
        (500, 131057, transient),
        (503, 133004, transient),
        (401, 0, Some(Account)),
        (500, 3, Some(Account)),
        (403, 10, Some(Account)),
        (403, 200, Some(Account)),
        (403, 299, Some(Account)),
        (400, 33, Some(Account)),
        (403, 368, Some(Account)),
        (403, 131005, Some(Account)),
        (403, 131031, Some(Account)),
        (400, 131037, Some(Account)),
        (400, 131042, Some(Account)),
        (400, 131048, Some(Account)),
        (400, 100, Some(Message)),
        (403, 130497, Some(Message)),
        (400, 132000, Some(Message)),
        (400, 131050, Some(Message)),
        (400, 131052, Some(Message)),
        (500, 999999, transient),
    ];
    for &(status, code, expected) in cases {
        let outcome = outcome_of(answer(status, graph_error(code, "m", "d"))).await;
        let got = match &outcome {
            SendOutcome::Transient(f) => {
                assert_eq!(f.code, code.to_string());
                None
            }
            SendOutcome::Permanent(f) => {
                assert_eq!(f.code, code.to_string());
                Some(f.scope)
            }
            other => panic!("{code}: {other:?}"),
        };
        assert_eq!(got, expected, "code {code} at HTTP {status}");
    }
}

#[tokio::test]
async fn is_transient_makes_an_unknown_code_transient() {
    let outcome = outcome_of(answer(
        400,
        json!({"error": {"message": "(#777) Something", "code": 777, "is_transient": true}}),
    ))
    .await;
    assert_eq!(
        outcome,
        SendOutcome::Transient(Failure::message("777", "(#777) Something"))
    );
}

#[tokio::test]
async fn retry_after_travels_with_permanent_failures_too() {
    let outcome =
        outcome_of(answer(400, graph_error(100, "(#100) Invalid parameter", "x")).insert_header("Retry-After", "60"))
            .await;
    let SendOutcome::Permanent(f) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(f.retry_after, Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn garbage_answers_are_classified_not_panicked_on() {
    for (status, body) in garbage() {
        let outcome = outcome_of(raw(status, &body, "text/html")).await;
        match (status, &outcome) {
            (200, SendOutcome::Permanent(f)) => assert_eq!(f.code, "invalid_response"),
            (500..=599, SendOutcome::Transient(f)) => assert_eq!(f.code, format!("http_{status}")),
            (300..=499, SendOutcome::Permanent(f)) => {
                assert_eq!(
                    (f.code.clone(), f.scope),
                    (format!("http_{status}"), FailureScope::Message)
                )
            }
            _ => panic!("{status} {body:?}: {outcome:?}"),
        }
    }
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let server = server(slow(answer(200, json!({"messages": [{"id": "wamid.late"}]})))).await;
    let outcome = send(&meta_with(&server, &short_config()), &rich_template(), rich_params()).await;
    assert!(
        matches!(&outcome, SendOutcome::Transient(f) if f.code == "timeout" && f.scope == FailureScope::Message),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let account = account(
        ProviderKind::Meta,
        SENDER,
        Some("http://127.0.0.1:1"),
        &[("access_token", TOKEN)],
    );
    let provider = Meta::new(&account, http(), &config()).unwrap();
    let outcome = send(&provider, &rich_template(), rich_params()).await;
    assert!(
        matches!(&outcome, SendOutcome::Transient(f) if f.code == "connect"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn missing_token_or_sender() {
    let no_token = account(ProviderKind::Meta, SENDER, None, &[]);
    assert!(matches!(
        Meta::new(&no_token, http(), &config()),
        Err(ProviderError::Missing {
            what: "access_token",
            ..
        })
    ));
    let no_sender = account(ProviderKind::Meta, " ", None, &[("access_token", TOKEN)]);
    assert!(matches!(
        Meta::new(&no_sender, http(), &config()),
        Err(ProviderError::Missing { what: "sender", .. })
    ));
    let provider = Meta::new(
        &account(ProviderKind::Meta, SENDER, None, &[("access_token", TOKEN)]),
        http(),
        &config(),
    )
    .unwrap();
    assert_eq!(provider.kind(), ProviderKind::Meta);
}
