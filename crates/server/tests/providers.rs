//! Sending through each real provider adapter, through the real server on both backends, against a local mock of
//! the provider (the account's `base_url`): the exact request the provider documents arrives for every message —
//! method, path, auth, content type and body, with Pregon's message id in the callback field where there is one —
//! and each class of answer ends in the right state: accepted → `sent` with the provider's id; 429 with
//! `Retry-After` once → `sent` on the second attempt; 5xx every time → `failed` after the last attempt with the last
//! code; a permanent refusal → `failed` at once with the provider's code and text; a paused template (Meta 132015)
//! pauses the campaign.
//!
//! Each campaign is uploaded with a `scheduled_at` an hour ahead, so its message ids are known before the mock
//! provider is armed with the exact bodies; the server's clock is then moved to the start time.

#![allow(clippy::unwrap_used)]

use pregon_testkit::reqwest::Method;
use pregon_testkit::reqwest::multipart::{Form, Part};
use pregon_testkit::{Backend, TestApp, on_both_backends};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

on_both_backends!(
    meta_sends_the_documented_request_and_records_every_answer,
    dialog360_sends_the_documented_request_and_records_every_answer,
    gupshup_sends_the_documented_request_and_records_every_answer,
    infobip_sends_the_documented_request_and_records_every_answer,
    clickatell_sends_the_documented_request_and_records_every_answer,
    meta_paused_template_pauses_the_campaign,
);

/// Attempts of a message before a transient failure is final, in these tests.
const MAX_ATTEMPTS: u64 = 3;

/// The recipients (valid numbers of AR, AR, ES, US), one per class of answer, in this order.
const PHONES: [&str; 4] = ["+5491123456789", "+5491123456780", "+34612345678", "+14155552671"];
/// Accepted at once.
const ACCEPTED: usize = 0;
/// 429 with `Retry-After: 1` once, then accepted.
const THROTTLED: usize = 1;
/// A server error every time.
const BROKEN: usize = 2;
/// Refused for good.
const REFUSED: usize = 3;

/// The first body value of each row.
const NAMES: [&str; 4] = ["Ana", "Bruno", "Carla", "Diego"];

/// Gupshup's id of the `order_update` template.
const GUPSHUP_TEMPLATE_ID: &str = "c6aecef6-bcb0-4fb1-8100-28c094e3bc6b";

/// `order_update`: a text header with a placeholder, two body values and a dynamic URL button.
fn order_update() -> Value {
    json!({
        "id": GUPSHUP_TEMPLATE_ID,
        "name": "order_update",
        "language": "es_AR",
        "status": "APPROVED",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}"},
            {"type": "BODY", "text": "Hola {{1}}, tu pedido llega el {{2}}."},
            {"type": "FOOTER", "text": "Gracias"},
            {"type": "BUTTONS", "buttons": [
                {"type": "URL", "text": "Seguir", "url": "https://shop.example/track/{{1}}"}
            ]}
        ]
    })
}

/// `order_ready`: two positional body values, nothing else (what Clickatell's `hsm` format can carry).
fn order_ready() -> Value {
    json!({
        "name": "order_ready",
        "language": "en",
        "status": "APPROVED",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is ready."}]
    })
}

/// Row `i`'s values.
fn order(i: usize) -> String {
    format!("ORD-{}", 9270 + i)
}
fn day(i: usize) -> String {
    format!("martes {}", i + 3)
}
fn track(i: usize) -> String {
    format!("track-{}", 9270 + i)
}

/// A Chat-Tonic CSV of `order_update` to every phone (header value first, then the body's).
fn order_update_csv() -> String {
    let mut csv = String::from("phone,elementName,languageCode,buttonParameter,parameter,parameter,parameter\n");
    for (i, phone) in PHONES.iter().enumerate() {
        csv.push_str(&format!(
            "{phone},order_update,es_AR,{},{},{},{}\n",
            track(i),
            order(i),
            NAMES[i],
            day(i)
        ));
    }
    csv
}

/// A Chat-Tonic CSV of `order_ready` to every phone.
fn order_ready_csv() -> String {
    let mut csv = String::from("phone,elementName,languageCode,parameter,parameter\n");
    for (i, phone) in PHONES.iter().enumerate() {
        csv.push_str(&format!("{phone},order_ready,en,{},{}\n", NAMES[i], order(i)));
    }
    csv
}

/// One stored message: its row (index into [`PHONES`]) and Pregon's id.
#[derive(Clone, Debug)]
struct Sent {
    row: usize,
    id: String,
}

impl Sent {
    fn digits(&self) -> String {
        PHONES[self.row].trim_start_matches('+').to_owned()
    }
}

/// A request body as compared: JSON, or form fields with the JSON-valued ones decoded.
#[derive(Clone, Debug, PartialEq)]
enum Body {
    Json(Value),
    Form(Vec<(String, Value)>),
}

impl Body {
    /// `request`'s body read the way `like` is.
    fn of(request: &Request, like: &Body) -> Option<Body> {
        match like {
            Body::Json(_) => serde_json::from_slice(&request.body).ok().map(Body::Json),
            Body::Form(_) => Some(Body::Form(form_fields(&request.body))),
        }
    }
}

/// Form fields in order, Gupshup's JSON-valued ones (`template`, `message`, `postbackTexts`) decoded.
fn form_fields(body: &[u8]) -> Vec<(String, Value)> {
    form_urlencoded::parse(body)
        .into_owned()
        .map(|(k, v)| {
            let value = match k.as_str() {
                "template" | "message" | "postbackTexts" => serde_json::from_str(&v).unwrap_or(Value::String(v)),
                _ => Value::String(v),
            };
            (k, value)
        })
        .collect()
}

/// How one provider is reached and how it answers in each scenario.
struct Wire {
    /// `POST /v1/accounts` without `base_url`, `rate_per_second`, `concurrency`.
    account: Value,
    /// The template definition to add.
    template: Value,
    /// The campaign file.
    csv: String,
    /// The request path.
    path: String,
    /// The auth header and its value.
    auth: (&'static str, &'static str),
    /// The request's content type.
    content_type: &'static str,
    /// The exact body for a message.
    body: fn(&Sent) -> Body,
    /// The acceptance for a message, and the provider id it carries.
    accepted: fn(&Sent) -> (ResponseTemplate, String),
    /// A 429 with `Retry-After: 1`.
    throttled: ResponseTemplate,
    /// The first server error, then the one of every later attempt, and the code that one is recorded with.
    broken: (ResponseTemplate, ResponseTemplate, &'static str),
    /// A permanent refusal and the code and text it is recorded with.
    refused: (ResponseTemplate, &'static str, &'static str),
}

/// A server that sends, retries fast and gives up after [`MAX_ATTEMPTS`].
async fn sending_app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.send = true;
        c.sending.max_attempts = MAX_ATTEMPTS as u32;
        c.sending.backoff_base = Duration::from_millis(50);
        c.sending.backoff_max = Duration::from_millis(200);
        c.sending.providers.request_timeout = Duration::from_secs(5);
    })
    .await
}

/// Create the account (pointing at `server`) and its template; returns the account's id.
async fn account(app: &TestApp, wire: &Wire, server: &MockServer, rate: u32) -> String {
    let mut account = wire.account.clone();
    let extra = json!({"base_url": server.uri(), "rate_per_second": rate, "concurrency": 4});
    account
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = app.post_json("/v1/accounts", &account).send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let r = app
        .post_json(&format!("/v1/accounts/{id}/templates"), &json!([wire.template]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    id
}

/// Upload `csv` (written to a temporary file first) as a campaign of `account` starting at `at`; returns the
/// campaign once ingested (`scheduled`).
async fn upload(app: &TestApp, account: &str, csv: &str, at: chrono::DateTime<chrono::Utc>) -> Value {
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    file.write_all(csv.as_bytes()).unwrap();
    file.flush().unwrap();
    let bytes = std::fs::read(file.path()).unwrap();
    let form = Form::new()
        .text("account", account.to_owned())
        .text("scheduled_at", at.to_rfc3339())
        .part("file", Part::bytes(bytes).file_name("campaign.csv"));
    let r = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let created: Value = r.json().await.unwrap();
    let c = app.settled(created["id"].as_str().unwrap()).await;
    assert_eq!(c["status"], "scheduled", "{c}");
    assert_eq!(
        (c["counts"]["accepted"].as_u64(), c["counts"]["rejected"].as_u64()),
        (Some(4), Some(0))
    );
    c
}

/// The campaign's messages, by row.
async fn sent(app: &TestApp, campaign: &str) -> Vec<Sent> {
    let mut list: Vec<Sent> = app
        .messages(campaign)
        .await
        .iter()
        .map(|m| {
            let phone = m["phone"].as_str().unwrap();
            let row = PHONES
                .iter()
                .position(|p| *p == phone)
                .unwrap_or_else(|| panic!("phone {phone}"));
            Sent {
                row,
                id: m["id"].as_str().unwrap().to_owned(),
            }
        })
        .collect();
    list.sort_by_key(|s| s.row);
    assert_eq!(list.iter().map(|s| s.row).collect::<Vec<_>>(), [0, 1, 2, 3]);
    list
}

/// A mock that matches only the exact request for `message`.
fn exact(wire: &Wire, message: &Sent) -> MockBuilder {
    let base = Mock::given(method("POST"))
        .and(path(wire.path.as_str()))
        .and(header(wire.auth.0, wire.auth.1))
        .and(header("content-type", wire.content_type))
        .and(header("accept", "application/json"));
    match (wire.body)(message) {
        Body::Json(v) => base.and(body_json(v)),
        Body::Form(fields) => base.and(move |r: &Request| form_fields(&r.body) == fields),
    }
}

/// `answer`, noting when each request arrived in `times`.
fn stamped(
    times: &Arc<Mutex<Vec<Instant>>>,
    answer: ResponseTemplate,
) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static {
    let times = times.clone();
    move |_: &Request| {
        times.lock().unwrap().push(Instant::now());
        answer.clone()
    }
}

/// Start campaign `c` now by moving the server's clock to its start time.
fn start(app: &TestApp, c: &Value) {
    let at: chrono::DateTime<chrono::Utc> = c["scheduled_at"].as_str().unwrap().parse().unwrap();
    app.state.clock.set(at + chrono::Duration::milliseconds(10));
    app.state.dispatch_wake.notify_one();
}

/// The whole scenario for one provider: four messages, one per class of answer.
async fn exercise(backend: Backend, wire: Wire) {
    let server = MockServer::start().await;
    let app = sending_app(backend).await;
    let account = account(&app, &wire, &server, 100).await;
    let c = upload(
        &app,
        &account,
        &wire.csv,
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    let msgs = sent(&app, id).await;

    // Arm the provider: every answer is for the exact request of its message only (anything else gets a 404,
    // which would fail the message as `http_404`).
    let mut accepted_ids = Vec::new();
    let throttled_at = Arc::new(Mutex::new(Vec::new()));
    for m in &msgs {
        let (ok, provider_id) = (wire.accepted)(m);
        accepted_ids.push(provider_id);
        match m.row {
            ACCEPTED => exact(&wire, m).respond_with(ok).expect(1).mount(&server).await,
            THROTTLED => {
                exact(&wire, m)
                    .respond_with(stamped(&throttled_at, wire.throttled.clone()))
                    .up_to_n_times(1)
                    .expect(1)
                    .mount(&server)
                    .await;
                exact(&wire, m)
                    .respond_with(stamped(&throttled_at, ok))
                    .expect(1)
                    .mount(&server)
                    .await;
            }
            BROKEN => {
                exact(&wire, m)
                    .respond_with(wire.broken.0.clone())
                    .up_to_n_times(1)
                    .expect(1)
                    .mount(&server)
                    .await;
                exact(&wire, m)
                    .respond_with(wire.broken.1.clone())
                    .expect(MAX_ATTEMPTS - 1)
                    .mount(&server)
                    .await;
            }
            _ => {
                exact(&wire, m)
                    .respond_with(wire.refused.0.clone())
                    .expect(1)
                    .mount(&server)
                    .await
            }
        }
    }

    start(&app, &c);
    let done = app
        .wait_for(id, Duration::from_secs(15), |c| {
            c["status"] != "scheduled" && c["status"] != "running"
        })
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["pause_reason"], Value::Null);
    assert!(
        done["started_at"].is_string() && done["finished_at"].is_string(),
        "{done}"
    );
    let k = &done["counts"];
    let counts: Vec<Option<u64>> = ["rows", "accepted", "pending", "queued", "sending", "sent", "failed"]
        .iter()
        .map(|key| k[key].as_u64())
        .collect();
    assert_eq!(
        counts,
        [Some(4), Some(4), Some(0), Some(0), Some(0), Some(2), Some(2)],
        "{k}"
    );

    // Every request that arrived is the exact one of its message, as often as its scenario asks.
    let requests = server.received_requests().await.unwrap();
    let mut per_row = [0u64; 4];
    for r in &requests {
        assert_eq!(r.method.as_str(), "POST");
        assert_eq!(r.url.path(), wire.path);
        assert_eq!(r.url.query(), None);
        let h = |name: &str| r.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(h(wire.auth.0).as_deref(), Some(wire.auth.1));
        assert_eq!(h("content-type").as_deref(), Some(wire.content_type));
        let expected: Vec<Body> = msgs.iter().map(|m| (wire.body)(m)).collect();
        let body = Body::of(r, &expected[0]).unwrap();
        let row = expected
            .iter()
            .position(|b| *b == body)
            .unwrap_or_else(|| panic!("an unexpected request body: {body:?}\nexpected one of {expected:#?}"));
        per_row[row] += 1;
    }
    assert_eq!(per_row, [1, 2, MAX_ATTEMPTS, 1]);
    server.verify().await;
    // The throttled message waited as long as `Retry-After` asked, not the (much shorter) backoff.
    let at = throttled_at.lock().unwrap().clone();
    assert_eq!(at.len(), 2);
    assert!(
        at[1] - at[0] >= Duration::from_millis(950),
        "retried after {:?}",
        at[1] - at[0]
    );

    // Each message ends as its answers say.
    let list = app.messages(id).await;
    let by_row = |row: usize| list.iter().find(|m| m["id"] == msgs[row].id.as_str()).unwrap();
    for row in [ACCEPTED, THROTTLED] {
        let m = by_row(row);
        assert_eq!(m["status"], "sent", "{m}");
        assert_eq!(m["provider_message_id"], accepted_ids[row].as_str(), "{m}");
        assert_eq!(m["attempts"], if row == ACCEPTED { 1 } else { 2 }, "{m}");
        assert_eq!(m["error"], Value::Null, "{m}");
        assert!(m["sent_at"].is_string(), "{m}");
    }
    let m = by_row(BROKEN);
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(m["attempts"], MAX_ATTEMPTS, "{m}");
    assert_eq!(m["error"]["code"], wire.broken.2, "{m}");
    assert_eq!(m["provider_message_id"], Value::Null, "{m}");
    assert!(m["failed_at"].is_string(), "{m}");
    let m = by_row(REFUSED);
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(m["attempts"], 1, "{m}");
    assert_eq!(
        m["error"],
        json!({"code": wire.refused.1, "message": wire.refused.2}),
        "{m}"
    );
    assert_eq!(m["provider_message_id"], Value::Null, "{m}");
    assert!(m["failed_at"].is_string(), "{m}");
}

fn json_answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn raw_answer(status: u16, body: &str, content_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), content_type)
}

/// A Graph API error (Meta, and 360dialog passing Meta's through).
fn graph_error(code: u64, message: &str, details: &str) -> Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details}, "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}})
}

/// The Cloud API body of `order_update` (Meta and 360dialog).
fn cloud_api_body(m: &Sent) -> Body {
    let i = m.row;
    Body::Json(json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONES[i],
        "type": "template",
        "biz_opaque_callback_data": m.id,
        "template": {
            "name": "order_update",
            "language": {"code": "es_AR", "policy": "deterministic"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": order(i)}]},
                {"type": "body", "parameters": [
                    {"type": "text", "text": NAMES[i]},
                    {"type": "text", "text": day(i)}
                ]},
                {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": track(i)}]}
            ]
        }
    }))
}

/// A Cloud API acceptance with a wamid of the message's own.
fn cloud_api_accepted(m: &Sent) -> (ResponseTemplate, String) {
    let wamid = format!("wamid.HBgN{}FQIAERgSQ0I2QjM5REFBODkyQTExOEU{}AA==", m.digits(), m.row);
    let answer = json_answer(
        200,
        json!({"messaging_product": "whatsapp",
            "contacts": [{"input": PHONES[m.row], "wa_id": m.digits()}],
            "messages": [{"id": wamid, "message_status": "accepted"}]}),
    );
    (answer, wamid)
}

const META_SENDER: &str = "106540352242922";
const META_TOKEN: &str = "EAAG-e2e-token";

fn meta_wire() -> Wire {
    Wire {
        account: json!({"name": "meta", "provider": "meta", "sender": META_SENDER,
            "credentials": {"access_token": META_TOKEN}}),
        template: order_update(),
        csv: order_update_csv(),
        path: format!("/v23.0/{META_SENDER}/messages"),
        auth: ("authorization", "Bearer EAAG-e2e-token"),
        content_type: "application/json",
        body: cloud_api_body,
        accepted: cloud_api_accepted,
        throttled: json_answer(
            429,
            graph_error(
                130429,
                "(#130429) Rate limit hit",
                "Cloud API message throughput has been reached.",
            ),
        )
        .insert_header("Retry-After", "1"),
        broken: (
            json_answer(
                500,
                graph_error(131000, "(#131000) Something went wrong", "Something went wrong"),
            ),
            raw_answer(503, "Service Unavailable", "text/plain"),
            "http_503",
        ),
        refused: (
            json_answer(
                400,
                graph_error(131026, "(#131026) Message undeliverable", "Message Undeliverable."),
            ),
            "131026",
            "(#131026) Message undeliverable: Message Undeliverable.",
        ),
    }
}

async fn meta_sends_the_documented_request_and_records_every_answer(backend: Backend) {
    exercise(backend, meta_wire()).await;
}

async fn dialog360_sends_the_documented_request_and_records_every_answer(backend: Backend) {
    let wire = Wire {
        account: json!({"name": "d360", "provider": "360dialog", "sender": "+14155550100",
            "credentials": {"api_key": "d360-e2e-key"}}),
        template: order_update(),
        csv: order_update_csv(),
        path: "/messages".into(),
        auth: ("D360-API-KEY", "d360-e2e-key"),
        content_type: "application/json",
        body: cloud_api_body,
        accepted: cloud_api_accepted,
        throttled: json_answer(429, json!({"error": {"message": "Too many requests"}}))
            .insert_header("Retry-After", "1"),
        broken: (
            raw_answer(502, "<html>Bad Gateway</html>", "text/html"),
            json_answer(
                500,
                graph_error(131000, "(#131000) Something went wrong", "Something went wrong"),
            ),
            "131000",
        ),
        refused: (
            json_answer(
                400,
                graph_error(131026, "(#131026) Message undeliverable", "Message Undeliverable."),
            ),
            "131026",
            "(#131026) Message undeliverable: Message Undeliverable.",
        ),
    };
    exercise(backend, wire).await;
}

async fn gupshup_sends_the_documented_request_and_records_every_answer(backend: Backend) {
    fn body(m: &Sent) -> Body {
        let i = m.row;
        let fields = [
            ("channel", json!("whatsapp")),
            ("source", json!("917834811114")),
            ("destination", json!(m.digits())),
            ("src.name", json!("PregonApp")),
            (
                "template",
                json!({"id": GUPSHUP_TEMPLATE_ID, "params": [order(i), NAMES[i], day(i), track(i)]}),
            ),
        ];
        Body::Form(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
    fn accepted(m: &Sent) -> (ResponseTemplate, String) {
        let id = format!("ac08ea83-99fa-4d43-a03c-317e401150{:02}", m.row);
        (json_answer(202, json!({"status": "submitted", "messageId": id})), id)
    }
    let wire = Wire {
        account: json!({"name": "gupshup", "provider": "gupshup", "sender": "+917834811114",
            "credentials": {"api_key": "gs-e2e-key", "app_name": "PregonApp"}}),
        template: order_update(),
        csv: order_update_csv(),
        path: "/wa/api/v1/template/msg".into(),
        auth: ("apikey", "gs-e2e-key"),
        content_type: "application/x-www-form-urlencoded",
        body,
        accepted,
        throttled: json_answer(429, json!({"status": "error", "message": "Too Many Requests"}))
            .insert_header("Retry-After", "1"),
        broken: (
            json_answer(500, json!({"status": "error", "message": "Internal Server Error"})),
            raw_answer(502, "<html>Bad Gateway</html>", "text/html"),
            "http_502",
        ),
        refused: (
            json_answer(
                400,
                json!({"status": "error", "code": 1002, "message": "Number Does Not Exist On WhatsApp"}),
            ),
            "1002",
            "Number Does Not Exist On WhatsApp",
        ),
    };
    exercise(backend, wire).await;
}

async fn infobip_sends_the_documented_request_and_records_every_answer(backend: Backend) {
    fn body(m: &Sent) -> Body {
        let i = m.row;
        Body::Json(json!({"messages": [{
            "from": "441134960000",
            "to": m.digits(),
            "messageId": m.id,
            "content": {
                "templateName": "order_update",
                "templateData": {
                    "body": {"placeholders": [NAMES[i], day(i)]},
                    "header": {"type": "TEXT", "placeholder": order(i)},
                    "buttons": [{"type": "URL", "parameter": track(i)}]
                },
                "language": "es_AR"
            },
            "callbackData": m.id
        }]}))
    }
    /// Infobip echoes the `messageId` it was given.
    fn accepted(m: &Sent) -> (ResponseTemplate, String) {
        let answer = json_answer(
            200,
            json!({"messages": [{"to": m.digits(), "messageCount": 1, "messageId": m.id,
                "status": {"groupId": 1, "groupName": "PENDING", "id": 7, "name": "PENDING_ENROUTE",
                    "description": "Message sent to next instance"}}],
                "bulkId": "2034072219640523073"}),
        );
        (answer, m.id.clone())
    }
    let wire = Wire {
        account: json!({"name": "infobip", "provider": "infobip", "sender": "+441134960000",
            "credentials": {"api_key": "ib-e2e-key"}}),
        template: order_update(),
        csv: order_update_csv(),
        path: "/whatsapp/1/message/template".into(),
        auth: ("authorization", "App ib-e2e-key"),
        content_type: "application/json",
        body,
        accepted,
        throttled: json_answer(
            429,
            json!({"requestError": {"serviceException": {"messageId": "TOO_MANY_REQUESTS", "text": "Too many requests"}}}),
        )
        .insert_header("Retry-After", "1"),
        broken: (
            raw_answer(502, "<html>Bad Gateway</html>", "text/html"),
            json_answer(500, json!({"errorCode": "E500", "description": "Something went wrong."})),
            "E500",
        ),
        refused: (
            json_answer(
                400,
                json!({"errorCode": "E400", "description": "Request cannot be processed.", "action": "Check the syntax",
                    "violations": [{"property": "messages[0].to", "violation": "must be a valid number"}],
                    "resources": [{"name": "API", "url": "https://www.infobip.com/docs/api"}]}),
            ),
            "E400",
            "Request cannot be processed.; messages[0].to: must be a valid number",
        ),
    };
    exercise(backend, wire).await;
}

async fn clickatell_sends_the_documented_request_and_records_every_answer(backend: Backend) {
    fn body(m: &Sent) -> Body {
        let i = m.row;
        Body::Json(json!({"messages": [{
            "to": m.digits(),
            "channel": "whatsapp",
            "hsm": {"template": "order_ready", "parameters": {"1": NAMES[i], "2": order(i)}},
            "clientMessageId": m.id
        }]}))
    }
    fn accepted(m: &Sent) -> (ResponseTemplate, String) {
        let id = format!("77fb29998253415fa5d66971d519d3{:02}", m.row);
        let answer = json_answer(
            202,
            json!({"messages": [{"apiMessageId": id, "accepted": true, "to": m.digits(),
                "clientMessageId": m.id, "error": null}], "error": null}),
        );
        (answer, id)
    }
    let wire = Wire {
        account: json!({"name": "clickatell", "provider": "clickatell", "sender": "+27000000000",
            "credentials": {"api_key": "ck-e2e-key"}}),
        template: order_ready(),
        csv: order_ready_csv(),
        path: "/v1/message".into(),
        auth: ("authorization", "ck-e2e-key"),
        content_type: "application/json",
        body,
        accepted,
        throttled: json_answer(
            429,
            json!({"messages": [], "error": {"code": 429, "description": "Too many requests"}}),
        )
        .insert_header("Retry-After", "1"),
        broken: (
            json_answer(
                500,
                json!({"messages": [], "error": {"code": 500, "description": "Internal server error"}}),
            ),
            raw_answer(503, "<html>maintenance</html>", "text/html"),
            "http_503",
        ),
        refused: (
            json_answer(
                400,
                json!({"messages": [], "error": {"code": 101, "description": "Invalid or missing parameters",
                    "documentation": "https://www.clickatell.com/developers/api-docs/http-status-codes-rest/"}}),
            ),
            "101",
            "Invalid or missing parameters",
        ),
    };
    exercise(backend, wire).await;
}

/// Meta refuses the template (132015, paused for low quality): the campaign pauses, naming the template, and
/// nothing more is sent.
async fn meta_paused_template_pauses_the_campaign(backend: Backend) {
    let server = MockServer::start().await;
    let app = sending_app(backend).await;
    let wire = meta_wire();
    // One message a second: the others are still waiting when the refusal comes back.
    let account = account(&app, &wire, &server, 1).await;
    let c = upload(
        &app,
        &account,
        &wire.csv,
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    let msgs = sent(&app, id).await;
    let text = "(#132015) Template is paused";
    let details = "Template is paused due to low quality so it cannot be sent in a template message.";
    for m in &msgs {
        exact(&wire, m)
            .respond_with(json_answer(400, graph_error(132015, text, details)))
            .mount(&server)
            .await;
    }

    start(&app, &c);
    let paused = app
        .wait_for(id, Duration::from_secs(10), |c| {
            c["status"] != "scheduled" && c["status"] != "running"
        })
        .await;
    assert_eq!(paused["status"], "paused", "{paused}");
    let reason = paused["pause_reason"].as_str().unwrap();
    assert!(
        reason.contains("`order_update`") && reason.contains("132015") && reason.contains("Template is paused"),
        "{reason}"
    );
    // Past the next send slot: still one request, one failed message, the rest waiting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "only the first message went out");
    let c: Value = app
        .get(&format!("/v1/campaigns/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "paused");
    let k = &c["counts"];
    assert_eq!(
        (k["failed"].as_u64(), k["sent"].as_u64(), k["sending"].as_u64()),
        (Some(1), Some(0), Some(0)),
        "{k}"
    );
    assert_eq!(k["pending"].as_u64().unwrap() + k["queued"].as_u64().unwrap(), 3, "{k}");
    let list = app.messages(id).await;
    let failed: Vec<&Value> = list.iter().filter(|m| m["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{list:?}");
    assert_eq!(failed[0]["id"], msgs[0].id.as_str(), "the first row goes first");
    assert_eq!(failed[0]["attempts"], 1);
    assert_eq!(
        failed[0]["error"],
        json!({"code": "132015", "message": format!("{text}: {details}")})
    );
    for m in list.iter().filter(|m| m["status"] != "failed") {
        assert!(m["status"] == "pending" || m["status"] == "queued", "{m}");
        assert_eq!(m["attempts"], 0, "{m}");
    }
}
