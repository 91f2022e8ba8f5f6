//! Shared fixtures for the adapter tests: accounts, messages, templates and a mock provider.
#![allow(dead_code, clippy::unwrap_used)]

use pregon_core::campaign::Account;
use pregon_core::message::Message;
use pregon_core::template::{ButtonParam, HeaderParam, MediaKind, Template, TemplateParams};
use pregon_core::{AccountId, AccountSettings, AppId, MessageId, MessageStatus, ProviderKind};
use pregon_providers::{Outbound, Provider, ProviderConfig, SendOutcome};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Pregon's id of every test message.
pub const MESSAGE_ID: &str = "01890a5d-ac96-774b-bcce-b302099a8057";
/// The recipient of every test message.
pub const PHONE: &str = "+5491123456789";
/// The recipient without `+`.
pub const PHONE_DIGITS: &str = "5491123456789";

/// reqwest is built without a crypto provider; install one before building a client.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The config of most tests: a time-out generous enough for a loaded machine.
pub fn config() -> ProviderConfig {
    ProviderConfig {
        meta_api_version: "v23.0".into(),
        request_timeout: Duration::from_secs(10),
        ..ProviderConfig::default()
    }
}

/// The config of the time-out tests: 250 ms.
pub fn short_config() -> ProviderConfig {
    ProviderConfig {
        request_timeout: Duration::from_millis(250),
        ..config()
    }
}

/// An account of `provider` pointing at `base_url`.
pub fn account(provider: ProviderKind, sender: &str, base_url: Option<&str>, credentials: &[(&str, &str)]) -> Account {
    let now = chrono::Utc::now();
    Account {
        id: AccountId::new(),
        app_id: AppId::new(),
        settings: AccountSettings {
            name: "main".into(),
            provider,
            sender: sender.into(),
            rate_per_second: 80,
            concurrency: 16,
            daily_cap: None,
            base_url: base_url.map(str::to_owned),
            default_language: None,
            default_region: None,
        },
        credentials: pregon_core::account::Credentials::new(
            credentials
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        ),
        created_at: now,
        updated_at: now,
    }
}

/// A pending message for `template` with `params`.
pub fn message(template: &Template, params: TemplateParams) -> Message {
    let now = chrono::Utc::now();
    Message {
        id: MESSAGE_ID.parse::<MessageId>().unwrap(),
        app_id: AppId::new(),
        campaign_id: None,
        account_id: AccountId::new(),
        row_number: Some(2),
        phone: PHONE.into(),
        template_name: template.name.clone(),
        language: template.language.clone(),
        params,
        rendered_text: None,
        flag: None,
        status: MessageStatus::Sending,
        provider_message_id: None,
        error_code: None,
        error_message: None,
        attempts: 0,
        created_at: now,
        updated_at: now,
        sent_at: None,
        delivered_at: None,
        read_at: None,
        failed_at: None,
    }
}

/// A text header with a placeholder, two body values, a dynamic URL button (0) and a quick reply (1), with
/// Gupshup's template id.
pub fn rich_template() -> Template {
    Template::from_meta(&json!({
        "id": "c6aecef6-bcb0-4fb1-8100-28c094e3bc6b",
        "name": "order_update",
        "language": "es_AR",
        "status": "APPROVED",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}"},
            {"type": "BODY", "text": "Hola {{1}}, tu pedido llega el {{2}}."},
            {"type": "FOOTER", "text": "Gracias"},
            {"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Seguir", "url": "https://shop.example/track/{{1}}"},
                {"type": "QUICK_REPLY", "text": "No me interesa"}
            ]}
        ]
    }))
    .unwrap()
}

/// Values for [`rich_template`].
pub fn rich_params() -> TemplateParams {
    TemplateParams {
        header: Some(HeaderParam::Text("ORD-9271".into())),
        body: vec!["Asha".into(), "martes 3".into()],
        buttons: vec![
            ButtonParam {
                index: 1,
                value: "STOP_PROMO".into(),
            },
            ButtonParam {
                index: 0,
                value: "track-9271".into(),
            },
        ],
    }
}

/// A template whose header is `format` media, with one body value and no provider id.
pub fn media_template(format: &str) -> Template {
    Template::from_meta(&json!({
        "name": "invoice_ready",
        "language": "en_US",
        "components": [
            {"type": "HEADER", "format": format},
            {"type": "BODY", "text": "Your invoice {{1}} is ready."}
        ]
    }))
    .unwrap()
}

/// Values for [`media_template`].
pub fn media_params(kind: MediaKind, filename: Option<&str>) -> TemplateParams {
    TemplateParams {
        header: Some(HeaderParam::Media {
            kind,
            url: "https://files.example/inv-42.pdf".into(),
            filename: filename.map(str::to_owned),
        }),
        body: vec!["INV-42".into()],
        buttons: vec![],
    }
}

/// A named-parameter template (`{{first_name}}` twice, then `{{order_number}}`).
pub fn named_template() -> Template {
    Template::from_meta(&json!({
        "name": "named_order",
        "language": "en_US",
        "parameter_format": "NAMED",
        "components": [
            {"type": "BODY", "text": "Hi {{first_name}}, order {{order_number}} is on its way, {{first_name}}."}
        ]
    }))
    .unwrap()
}

/// Values for [`named_template`].
pub fn named_params() -> TemplateParams {
    TemplateParams {
        header: None,
        body: vec!["Jessica".into(), "SKBUP2-4CPIG9".into()],
        buttons: vec![],
    }
}

/// A started mock provider answering every request with `response`.
pub async fn server(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

/// Send `template` with `params` through `provider`.
pub async fn send(provider: &dyn Provider, template: &Template, params: TemplateParams) -> SendOutcome {
    let message = message(template, params);
    provider
        .send(Outbound {
            message: &message,
            template,
        })
        .await
}

/// The one request the mock received.
pub async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "expected exactly one request");
    requests.remove(0)
}

/// A header of `request`, as text.
pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).map(|v| v.to_str().unwrap())
}

/// The JSON body of `request`.
pub fn json_body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// A JSON answer with `status`.
pub fn answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// A raw answer with `status` and a `content_type`.
pub fn raw(status: u16, body: &[u8], content_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_vec(), content_type)
}

/// Answers no adapter may panic on, each with its HTTP status.
pub fn garbage() -> Vec<(u16, Vec<u8>)> {
    vec![
        (200, b"<html><body>502 Bad Gateway</body></html>".to_vec()),
        (200, Vec::new()),
        (200, b"{\"messages\": \"nope\"}".to_vec()),
        (200, b"[1, 2, 3]".to_vec()),
        (200, vec![0xff, 0xfe, 0x00, 0x80]),
        (400, b"{\"error\": 5}".to_vec()),
        (400, b"null".to_vec()),
        (502, b"<html>Bad Gateway</html>".to_vec()),
        (500, Vec::new()),
        (302, Vec::new()),
    ]
}

/// 3 s of delay, well past the time-out of [`short_config`].
pub fn slow(response: ResponseTemplate) -> ResponseTemplate {
    response.set_delay(Duration::from_secs(3))
}

/// A template with two positional body values and nothing else.
pub fn plain_template() -> Template {
    Template::from_meta(&json!({
        "name": "welcome_notification",
        "language": "en",
        "components": [{"type": "BODY", "text": "Welcome {{1}}, your code is {{2}}."}]
    }))
    .unwrap()
}

/// Values for [`plain_template`].
pub fn plain_params() -> TemplateParams {
    TemplateParams {
        header: None,
        body: vec!["John".into(), "X-12".into()],
        buttons: vec![],
    }
}

/// The Cloud API body (Meta, 360dialog) of [`rich_template`] with [`rich_params`]: providers.md §1.2.
pub fn cloud_rich_body() -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+5491123456789",
        "type": "template",
        "biz_opaque_callback_data": MESSAGE_ID,
        "template": {
            "name": "order_update",
            "language": {"code": "es_AR", "policy": "deterministic"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "ORD-9271"}]},
                {"type": "body", "parameters": [
                    {"type": "text", "text": "Asha"},
                    {"type": "text", "text": "martes 3"}
                ]},
                {"type": "button", "sub_type": "url", "index": "0",
                    "parameters": [{"type": "text", "text": "track-9271"}]},
                {"type": "button", "sub_type": "quick_reply", "index": "1",
                    "parameters": [{"type": "payload", "payload": "STOP_PROMO"}]}
            ]
        }
    })
}

/// The form fields of `request`, in order.
pub fn form_fields(request: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&request.body).into_owned().collect()
}
