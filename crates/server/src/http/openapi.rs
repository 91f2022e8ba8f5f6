//! The OpenAPI 3.1 document (`GET /openapi.json`) and the docs page that renders it (`GET /docs`).
//!
//! The document is generated from the `#[utoipa::path]` annotations on the handlers and the `ToSchema` derives on
//! their request and response types. Where a handler builds its answer with `json!`, a schema struct here describes
//! it; where a type lives in `pregon-core` (kept free of utoipa), a schema here mirrors it, and enumerations are
//! generated from the core's own lists (`ErrorCode::ALL`, `CampaignStatus::ALL`, …) so they cannot drift.
//!
//! The docs page is Swagger UI, compiled into the binary (`utoipa-swagger-ui` with `vendored`): nothing is fetched
//! from the internet at build or run time.

use super::{accounts, callback, campaigns, chat_tonic, controls, health, jelou, messages, optouts, samples};
use super::{dashboard, templates, uploads, webhooks};
use crate::state::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use pregon_core::{CampaignStatus, ErrorCode, MessageStatus, ProviderKind, RejectionCode};
use serde_json::json;
use std::borrow::Cow;
use std::sync::{Arc, LazyLock};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response as OaResponse, ResponseBuilder};
use utoipa::{Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

/// Where the document is served.
pub const SPEC_PATH: &str = "/openapi.json";
/// Where the docs page is served (it redirects to `/docs/`, whose assets are relative to it).
pub const DOCS_PATH: &str = "/docs";

/// The document and docs routes; public, like the health checks.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(spec))
        .route("/docs", get(docs_root))
        .route("/docs/", get(docs_index))
        .route("/docs/{*file}", get(docs_file))
}

/// The whole API as one OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pregon",
        description = "Sends WhatsApp template messages in bulk. The native API is under `/v1`; the Chat-Tonic and \
            Jelou compatible endpoints answer as their own documents show.\n\n\
            Every error answer has the body `{\"error\": {\"code\", \"message\", \"details\"}}` (see the `ErrorBody` \
            and `ErrorCode` schemas: the code is stable, match on it). The Jelou endpoint answers errors in Jelou's \
            own shapes instead. Every response carries an `x-request-id` header; send your own to trace a request.\n\n\
            Times are RFC 3339; ids are UUIDv7.",
        license(name = "AGPL-3.0-only", identifier = "AGPL-3.0-only"),
    ),
    paths(
        accounts::list, accounts::create, accounts::show, accounts::update, accounts::remove,
        templates::list, templates::create, templates::show, templates::replace, templates::remove, templates::sync,
        samples::sample,
        campaigns::list, uploads::create, uploads::validate, campaigns::show, campaigns::messages,
        campaigns::rejections, campaigns::events, campaigns::message,
        controls::change, controls::pause, controls::resume, controls::cancel, controls::retry_failed,
        messages::send,
        optouts::list, optouts::add, optouts::remove,
        callback::show, callback::set, callback::remove,
        jelou::send_bulk,
        chat_tonic::status_query, chat_tonic::upload, messages::send_hsm,
        health::healthz, health::readyz, health::metrics,
        webhooks::handshake, webhooks::receive,
        dashboard::index, dashboard::asset, dashboard::timeline,
        spec, docs_root, docs_index, docs_file,
    ),
    components(
        schemas(ErrorBody, ErrorDetail, ErrorCodeSchema, FileReasonSchema, RejectionCodeSchema),
        responses(BadRequest, Unauthorized, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
            Unprocessable, ServerError),
    ),
    modifiers(&SecuritySchemes, &ServerErrors),
    tags(
        (name = "native", description = "Pregon's own API under `/v1`: accounts, templates, campaigns, messages, \
            opt-outs, callbacks. Credentials: `Authorization: Bearer <token>` or Basic `app:token`."),
        (name = "chat-tonic", description = "Chat-Tonic compatible endpoints under `/api/v1/{app}`. The token may \
            also be in the query string (`token`, `apiKey`, `api_key` or `access_token`)."),
        (name = "jelou", description = "Jelou's \"Send Bulk HSM\": Basic `clientId:clientSecret` = the app's name \
            and token; answers in Jelou's shapes."),
        (name = "webhooks", description = "Provider callbacks (statuses and replies). No app token: Meta signs \
            with `X-Hub-Signature-256`, the others carry the account's `webhook_secret`."),
        (name = "operations", description = "Health, readiness, metrics, and this document."),
    ),
)]
pub struct ApiDoc;

/// The document as served: generated once.
static SPEC_JSON: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
});

/// This document.
#[utoipa::path(
    get, operation_id = "openApiDocument", path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.", content_type = "application/json",
        body = Object)),
)]
async fn spec() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], SPEC_JSON.as_str()).into_response()
}

/// The docs page, at `/docs/`: Swagger UI's assets are addressed relative to it.
#[utoipa::path(
    get, operation_id = "docsRedirect", path = "/docs", tag = "operations",
    responses((status = 303, description = "To `/docs/`.", headers(("Location" = String, description = "`/docs/`")))),
)]
async fn docs_root() -> Redirect {
    Redirect::to("/docs/")
}

/// The Swagger UI configuration: this document, and no online validator (it would send the document's URL out).
static DOCS_CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> =
    LazyLock::new(|| Arc::new(utoipa_swagger_ui::Config::from(SPEC_PATH).validator_url("none")));

/// The docs page: Swagger UI rendering this document.
#[utoipa::path(
    get, operation_id = "docsPage", path = "/docs/", tag = "operations",
    responses((status = 200, description = "The docs page (HTML).", content_type = "text/html", body = String)),
)]
async fn docs_index() -> Response {
    swagger_file("")
}

/// A file of the docs page (scripts, styles, icons), served from the binary.
#[utoipa::path(
    get, operation_id = "docsAsset", path = "/docs/{file}", tag = "operations",
    params(("file" = String, Path, description = "The asset's name, e.g. `swagger-ui-bundle.js`.")),
    responses(
        (status = 200, description = "The asset.", content_type = "application/octet-stream", body = String),
        (status = 404, response = NotFound),
    ),
)]
async fn docs_file(Path(file): Path<String>) -> Response {
    swagger_file(&file)
}

fn swagger_file(file: &str) -> Response {
    match utoipa_swagger_ui::serve(file, DOCS_CONFIG.clone()) {
        Ok(Some(f)) => {
            let mut response = ([(header::CONTENT_TYPE, f.content_type)], f.bytes.into_owned()).into_response();
            if f.gzpipped
                && let Ok(v) = "gzip".parse()
            {
                response.headers_mut().insert(header::CONTENT_ENCODING, v);
            }
            response
        }
        Ok(None) => super::error::ApiError::not_found("file").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serve the docs page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The security schemes the routes name.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let http = |scheme, description: &str| {
            SecurityScheme::Http(HttpBuilder::new().scheme(scheme).description(Some(description)).build())
        };
        let mut add = |name: &str, scheme| {
            components.security_schemes.insert(name.to_owned(), RefOr::T(scheme));
        };
        add(
            "bearer",
            http(
                HttpAuthScheme::Bearer,
                "An app's token (`pgn_…`), as `Authorization: Bearer <token>`. Accepted on every `/v1` and `/api/v1` \
                 route.",
            ),
        );
        add(
            "basic",
            http(
                HttpAuthScheme::Basic,
                "Basic `app:token`: the app's name and its token (Jelou's `clientId:clientSecret`). Accepted on every \
                 `/v1` and `/api/v1` route.",
            ),
        );
        add(
            "query_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "The app's token in the query string, as Chat-Tonic's document allows (also as `apiKey`, `api_key` \
                 or `access_token`). Only on the Chat-Tonic routes; refused elsewhere so tokens stay out of proxy \
                 logs.",
            ))),
        );
        add(
            "metrics_token",
            http(
                HttpAuthScheme::Bearer,
                "The server's `metrics_token` setting (not an app's token: the figures span every app).",
            ),
        );
        add(
            "webhook_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Hub-Signature-256",
                "Meta: `sha256=` + hex HMAC-SHA256 of the raw body keyed with the account's `app_secret`.",
            ))),
        );
        add(
            "webhook_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "Providers that sign nothing (360dialog, Gupshup, Infobip, Clickatell): the account's \
                 `webhook_secret` in the URL.",
            ))),
        );
        add(
            "webhook_token_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Webhook-Token",
                "The account's `webhook_secret` in a header instead of the URL.",
            ))),
        );
    }
}

/// Adds the server-side failures every route can answer (`internal`, `unavailable`, `request_timeout`).
struct ServerErrors;

impl Modify for ServerErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                operation
                    .responses
                    .responses
                    .entry("5XX".to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("ServerError")));
            }
        }
    }
}

/// The body of every error answer (except the Jelou endpoint's, which keeps Jelou's shapes).
#[derive(ToSchema)]
#[schema(example = json!({"error": {"code": "invalid_account", "message": "a gupshup account needs the credential `app_name`", "details": {"field": "credentials.app_name"}}}))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// One error: a stable code, a message for people, and details.
#[derive(ToSchema)]
pub struct ErrorDetail {
    /// Stable: match on it, never on `message`.
    #[schema(value_type = ErrorCodeSchema)]
    pub code: String,
    /// For people; may change.
    pub message: String,
    /// `null` or an object: `field` names the request field at fault, `path` the field of a template definition,
    /// `reason` the file reason of `invalid_file` (see `FileReason`), `code` the row rejection code of a refused
    /// single message (see `RejectionCode`).
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// One string constant with a description, for enumerations whose values each mean something.
fn described_const(value: &str, description: String) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some([value]))
        .title(Some(value))
        .description(Some(description))
        .build()
        .into()
}

/// A string enumeration.
fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(values))
        .description(Some(description))
        .build()
        .into()
}

/// The error catalogue (`ErrorCode`): every stable code, with its HTTP status and meaning.
pub struct ErrorCodeSchema;

impl PartialSchema for ErrorCodeSchema {
    fn schema() -> RefOr<Schema> {
        let mut table = String::from(
            "A stable error code. Codes are added, never renamed.\n\n| code | HTTP | meaning |\n| --- | --- | --- |\n",
        );
        let mut one_of = OneOfBuilder::new();
        for code in ErrorCode::ALL {
            table.push_str(&format!(
                "| `{}` | {} | {} |\n",
                code.as_str(),
                code.http_status(),
                code.description()
            ));
            one_of = one_of.item(described_const(
                code.as_str(),
                format!("HTTP {}. {}", code.http_status(), code.description()),
            ));
        }
        RefOr::T(Schema::OneOf(one_of.description(Some(table)).build()))
    }
}

impl ToSchema for ErrorCodeSchema {
    fn name() -> Cow<'static, str> {
        "ErrorCode".into()
    }
}

/// `details.reason` of an `invalid_file` error, and a failed campaign's reason.
pub struct FileReasonSchema;

impl PartialSchema for FileReasonSchema {
    fn schema() -> RefOr<Schema> {
        string_enum(
            pregon_ingest::FileError::REASONS.iter().copied(),
            "Why a campaign file cannot be used as a whole (`details.reason` of `invalid_file`).",
        )
    }
}

impl ToSchema for FileReasonSchema {
    fn name() -> Cow<'static, str> {
        "FileReason".into()
    }
}

/// Why an input row did not become a message.
pub struct RejectionCodeSchema;

impl PartialSchema for RejectionCodeSchema {
    fn schema() -> RefOr<Schema> {
        string_enum(
            RejectionCode::ALL.iter().map(|c| c.as_str()),
            "Why an input row did not become a message (row rejections; `details.code` of a refused single send).",
        )
    }
}

impl ToSchema for RejectionCodeSchema {
    fn name() -> Cow<'static, str> {
        "RejectionCode".into()
    }
}

/// A campaign's status.
pub struct CampaignStatusSchema;

impl PartialSchema for CampaignStatusSchema {
    fn schema() -> RefOr<Schema> {
        string_enum(CampaignStatus::ALL.iter().map(|s| s.as_str()), "A campaign's status.")
    }
}

impl ToSchema for CampaignStatusSchema {
    fn name() -> Cow<'static, str> {
        "CampaignStatus".into()
    }
}

/// A message's status.
pub struct MessageStatusSchema;

impl PartialSchema for MessageStatusSchema {
    fn schema() -> RefOr<Schema> {
        string_enum(MessageStatus::ALL.iter().map(|s| s.as_str()), "A message's status.")
    }
}

impl ToSchema for MessageStatusSchema {
    fn name() -> Cow<'static, str> {
        "MessageStatus".into()
    }
}

/// A provider, as accounts show it.
pub struct ProviderSchema;

impl PartialSchema for ProviderSchema {
    fn schema() -> RefOr<Schema> {
        string_enum(
            ProviderKind::ALL.iter().map(|p| p.as_str()),
            "The provider an account sends through. On input the Chat-Tonic platform names (`whatsapp-gupshup`, …) \
             are accepted too.",
        )
    }
}

impl ToSchema for ProviderSchema {
    fn name() -> Cow<'static, str> {
        "Provider".into()
    }
}

/// The error answer of one HTTP status: its description lists the catalogue codes answered with that status.
fn error_response(statuses: &[u16], lead: &str) -> OaResponse {
    let codes: Vec<&ErrorCode> = ErrorCode::ALL
        .iter()
        .filter(|c| statuses.contains(&c.http_status()))
        .collect();
    let mut description = format!("{lead} The `error.code` is one of:\n\n");
    for code in &codes {
        description.push_str(&format!("- `{}`: {}\n", code.as_str(), code.description()));
    }
    let example = codes
        .first()
        .map(|c| json!({"error": {"code": c.as_str(), "message": c.description(), "details": null}}));
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .example(example)
                .build(),
        )
        .build()
}

macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident => [$($status:literal),+] $lead:literal;)+) => {$(
        $(#[$doc])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<OaResponse>) {
                (stringify!($name), RefOr::T(error_response(&[$($status),+], $lead)))
            }
        }
    )+};
}

error_responses! {
    /// 400: the body or the query string does not parse.
    BadRequest => [400] "The body or the query string does not parse.";
    /// 401: no valid credentials.
    Unauthorized => [401] "No valid credentials (the response carries `WWW-Authenticate: Bearer`).";
    /// 404: not found, or another app's.
    NotFound => [404] "Not found, or belongs to another app (never said which).";
    /// 409: a conflict or a transition the state does not allow.
    Conflict => [409] "The resource exists or is in use, or its state does not allow this.";
    /// 413: the body or the file is over the limit.
    PayloadTooLarge => [413] "The body or the file is larger than the configured limit.";
    /// 415: not JSON where JSON is needed.
    UnsupportedMediaType => [415] "The body's content type is not one this endpoint takes.";
    /// 422: a value is not allowed.
    Unprocessable => [422] "A value is missing or not allowed; `details` says which.";
    /// 5XX: a server-side failure.
    ServerError => [408, 500, 503] "The server failed, timed out, or its database is not reachable; retry later.";
}

/// `{"data": [...]}`: every account of the app.
#[derive(ToSchema)]
pub struct AccountList {
    /// The accounts.
    #[schema(value_type = Vec<accounts::AccountView>)]
    pub data: Vec<serde_json::Value>,
}

/// A template as stored: the Meta `message_templates` item as given, plus Pregon's fields. Any other field of the
/// definition (`example`, `previous_category`, …) is kept as it was.
#[derive(ToSchema)]
#[schema(example = json!({"id": "0196f1d2-7c1a-7000-8000-000000000001", "account": "0196f1d2-7c1a-7000-8000-000000000000",
    "name": "order_confirmation", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is confirmed."}],
    "created_at": "2026-11-23T14:05:09Z", "updated_at": "2026-11-23T14:05:09Z"}))]
pub struct Template {
    /// Pregon's id, used in routes.
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    /// The account it belongs to.
    #[schema(value_type = uuid::Uuid)]
    pub account: String,
    /// Meta's own template id, if the definition had one.
    pub provider_id: Option<String>,
    /// Lowercase letters, digits and `_`.
    pub name: String,
    /// Like `en` or `en_US`.
    pub language: String,
    /// `APPROVED` when absent; only approved templates are sent.
    pub status: Option<String>,
    /// Meta's category (`MARKETING`, `UTILITY`, `AUTHENTICATION`).
    pub category: Option<String>,
    /// Meta's `parameter_format`: `POSITIONAL` (default) or `NAMED`.
    pub parameter_format: Option<String>,
    /// HEADER, BODY, FOOTER, BUTTONS, as in Meta's listing.
    #[schema(value_type = Vec<Object>)]
    pub components: Vec<serde_json::Value>,
    /// When it was stored.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Any other field of the definition, kept as it was given.
    #[serde(flatten)]
    pub other: std::collections::BTreeMap<String, serde_json::Value>,
}

/// `{"data": [...]}`: the templates of an account.
#[derive(ToSchema)]
pub struct TemplateList {
    /// The templates.
    pub data: Vec<Template>,
}

/// A template definition in the shape of Meta's `message_templates` items (what the Graph API lists and WhatsApp
/// Manager exports): `name`, `language`, `components`, optional `status`, `category`, `parameter_format`, `id`.
/// Unknown fields are kept.
#[derive(ToSchema)]
#[schema(example = json!({"name": "order_confirmation", "language": "en_US", "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is confirmed."}]}))]
pub struct TemplateDefinition {
    /// Lowercase letters, digits and `_` (at most 512).
    pub name: String,
    /// Like `en` or `en_US`.
    pub language: String,
    /// `APPROVED` when absent.
    pub status: Option<String>,
    /// Meta's category.
    pub category: Option<String>,
    /// `POSITIONAL` (default) or `NAMED`.
    pub parameter_format: Option<String>,
    /// Meta's own id; shown back as `provider_id`.
    pub id: Option<String>,
    /// HEADER, BODY (required), FOOTER, BUTTONS.
    #[schema(value_type = Vec<Object>)]
    pub components: Vec<serde_json::Value>,
    /// Any other field (`example`, `previous_category`, …): kept.
    #[serde(flatten)]
    pub other: std::collections::BTreeMap<String, serde_json::Value>,
}

/// A Meta listing response pasted as it is: `{"data": [...], "paging": …}`.
#[derive(ToSchema)]
pub struct TemplateListing {
    /// The definitions.
    pub data: Vec<TemplateDefinition>,
    /// Ignored.
    #[schema(value_type = Option<Object>)]
    pub paging: Option<serde_json::Value>,
}

/// `POST /v1/accounts/{account}/templates` takes one definition, an array of them, or a whole listing.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // a schema only: the handler reads the body as JSON and tells the three apart itself
pub enum TemplateInput {
    /// One definition.
    One(TemplateDefinition),
    /// Several, stored all or none.
    Many(Vec<TemplateDefinition>),
    /// A listing response.
    Listing(TemplateListing),
}

/// What a batch of templates answers: `{"data": [...]}`; a single definition answers the template itself.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // a schema only
pub enum TemplateCreated {
    /// For one definition.
    One(Box<Template>),
    /// For an array or a listing.
    Many(TemplateList),
}

/// Progress counters of a campaign, kept in the same transactions as the status changes.
#[derive(ToSchema)]
#[schema(as = Counts)]
pub struct CountsSchema {
    /// Input rows read.
    pub rows: u64,
    /// Rows that became messages.
    pub accepted: u64,
    /// Rows refused, with a reason.
    pub rejected: u64,
    /// Messages not yet handed to a sender.
    pub pending: u64,
    /// Handed to a sender.
    pub queued: u64,
    /// In flight.
    pub sending: u64,
    /// Accepted by the provider.
    pub sent: u64,
    /// Delivered to the phone.
    pub delivered: u64,
    /// Read.
    pub read: u64,
    /// Failed.
    pub failed: u64,
    /// Cancelled.
    pub cancelled: u64,
    /// Opted out: never sent.
    pub suppressed: u64,
}

/// When a campaign may send.
#[derive(ToSchema)]
#[schema(as = SendWindow, example = json!({"start": "09:00", "end": "18:00", "days": ["mon", "tue", "wed", "thu", "fri"], "zone": "recipient", "fallback": "UTC"}))]
pub struct SendWindowSchema {
    /// `HH:MM`, local time, on a whole minute.
    pub start: String,
    /// `HH:MM`, exclusive; before `start` for a window over midnight (which belongs to the day it opens).
    pub end: String,
    /// `mon` … `sun`; none means every day.
    pub days: Option<Vec<String>>,
    /// An IANA zone (`America/Argentina/Buenos_Aires`), or `recipient` for each recipient's local time.
    pub zone: String,
    /// With `recipient`: the zone of numbers whose country is unknown (UTC when absent).
    pub fallback: Option<String>,
}

/// The uploaded file of a campaign.
#[derive(ToSchema)]
#[schema(as = CampaignSource)]
pub struct CampaignSourceSchema {
    /// The file's name as sent.
    pub name: Option<String>,
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256 of the bytes received.
    pub sha256: String,
    /// The document format, sniffed from its bytes (`csv`, `xlsx`, `xls`, `json`).
    pub format: String,
    /// The archives around it, outermost first (`zip`, `gzip`, `tar`).
    pub wrapped_in: Vec<String>,
}

/// Where to read more of a campaign.
#[derive(ToSchema)]
#[schema(as = CampaignLinks)]
pub struct CampaignLinksSchema {
    /// The campaign.
    #[serde(rename = "self")]
    pub this: String,
    /// Its messages.
    pub messages: String,
    /// Its rejected rows.
    pub rejections: String,
}

/// Where to read more of an account.
#[derive(ToSchema)]
#[schema(as = AccountLinks)]
pub struct AccountLinksSchema {
    /// The account.
    #[serde(rename = "self")]
    pub this: String,
    /// Its templates.
    pub templates: String,
    /// The webhook URL to register with the provider (relative to the server's address).
    pub webhook: String,
}

/// The values a message fills its template with.
#[derive(ToSchema)]
#[schema(as = TemplateParams)]
pub struct TemplateParamsSchema {
    /// The header's value, if the header takes one.
    #[schema(value_type = Option<HeaderParamSchema>)]
    pub header: Option<serde_json::Value>,
    /// The body's values, in slot order.
    pub body: Vec<String>,
    /// Quick-reply payloads and URL suffixes, by button index (absent when none).
    pub buttons: Option<Vec<ButtonParamSchema>>,
}

/// A header's value: `{"text": "…"}` or `{"media": {"kind", "url", "filename"}}`.
#[derive(ToSchema)]
#[schema(as = HeaderParam)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // a schema only
pub enum HeaderParamSchema {
    /// Fills a text header's placeholder.
    Text(String),
    /// The media of a media header.
    Media {
        /// `image`, `video` or `document`.
        kind: String,
        /// Where the provider fetches it.
        url: String,
        /// The name a document is shown with.
        filename: Option<String>,
    },
}

/// A value for one button.
#[derive(ToSchema)]
#[schema(as = ButtonParam)]
pub struct ButtonParamSchema {
    /// The button's position in the template.
    pub index: u32,
    /// A quick-reply payload or a URL suffix.
    pub value: String,
}

/// A provider error on a failed message.
#[derive(ToSchema)]
pub struct MessageError {
    /// The provider's code (Meta's `131026`, …) or Pregon's.
    pub code: Option<String>,
    /// What it said.
    pub message: Option<String>,
}

/// An input row that did not become a message.
#[derive(ToSchema)]
#[schema(as = Rejection)]
pub struct RejectionSchema {
    /// The row of the input file (header = row 1; JSON: the element's position, from 1).
    pub row_number: u64,
    /// The column at fault, if one.
    pub column: Option<String>,
    /// Why.
    #[schema(value_type = RejectionCodeSchema)]
    pub code: String,
    /// For people.
    pub message: String,
}

/// A page of campaigns, newest first.
#[derive(ToSchema)]
pub struct CampaignPage {
    /// The campaigns.
    #[schema(value_type = Vec<campaigns::CampaignView>)]
    pub data: Vec<serde_json::Value>,
    /// Pass as `cursor` for the next page; `null` on the last.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub next_cursor: Option<String>,
}

/// A page of messages, oldest first.
#[derive(ToSchema)]
pub struct MessagePage {
    /// The messages.
    #[schema(value_type = Vec<campaigns::MessageView>)]
    pub data: Vec<serde_json::Value>,
    /// Pass as `cursor` for the next page; `null` on the last.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub next_cursor: Option<String>,
}

/// A page of rejected rows, by row number.
#[derive(ToSchema)]
pub struct RejectionPage {
    /// The rows.
    pub data: Vec<RejectionSchema>,
    /// Pass as `cursor` for the next page (the last row number); `null` on the last.
    pub next_cursor: Option<u64>,
}

/// What `retry-failed` did.
#[derive(ToSchema)]
pub struct RetryFailedAnswer {
    /// Messages queued again.
    pub requeued: u64,
    /// The campaign after it.
    #[schema(value_type = campaigns::CampaignView)]
    pub campaign: serde_json::Value,
}

/// The validation report of a file: what an upload would store, without storing anything.
#[derive(ToSchema)]
pub struct ValidationReport {
    /// Counts over every row.
    pub summary: ValidationSummary,
    /// The first 1,000 rejected rows.
    pub rejections: Vec<RejectionSchema>,
    /// How many are listed in `rejections`.
    pub rejections_listed: u64,
}

/// Counts of a whole file.
#[derive(ToSchema)]
pub struct ValidationSummary {
    /// The document format (after unwrapping).
    pub format: String,
    /// The archives around it, outermost first.
    pub wrapped_in: Vec<String>,
    /// Data rows read.
    pub rows: u64,
    /// Rows that would become messages (suppressed included).
    pub accepted: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Accepted rows whose recipient opted out.
    pub suppressed: u64,
}

/// The native upload as a multipart form. Either `file` or `file_url`.
#[derive(ToSchema)]
pub struct UploadForm {
    /// The campaign file: CSV, JSON, XLS or XLSX, possibly inside ZIP, GZ or TAR.
    #[schema(value_type = Option<String>, format = Binary)]
    pub file: Option<Vec<u8>>,
    /// Instead of `file`: an http(s) URL to fetch it from (private addresses refused).
    pub file_url: Option<String>,
    /// The account's id or name.
    pub account: String,
    /// The campaign's name (default: the file name).
    pub name: Option<String>,
    /// ISO 8601 with an offset, in the future; none = as soon as it is stored.
    pub scheduled_at: Option<String>,
    /// One template for the whole file: the mapping model (first column = phone). Without it, the Chat-Tonic
    /// columns (per-row `elementName`, sheet `campaign`).
    pub template: Option<String>,
    /// The template's language (default: the account's).
    pub language: Option<String>,
    /// JSON: `[{"param": 1, "column": "customer_name"}, {"param": 2, "value": "Acme"}]`; `param: 0` is a text
    /// header's placeholder.
    pub params: Option<String>,
    /// Header media for every row (mapping model).
    pub media_url: Option<String>,
    /// `image`, `video` or `document`.
    pub media_type: Option<String>,
    /// JSON array: quick-reply payloads by quick-reply button.
    pub button_payloads: Option<String>,
    /// The sheet to read, in the mapping model (default: the first).
    pub sheet: Option<String>,
}

/// The native upload as JSON: the same fields, with the file by URL.
#[derive(ToSchema)]
pub struct UploadJson {
    /// An http(s) URL to fetch the file from (private addresses refused).
    pub file_url: String,
    /// The account's id or name.
    pub account: String,
    /// The campaign's name (default: the file name).
    pub name: Option<String>,
    /// ISO 8601 with an offset, in the future.
    pub scheduled_at: Option<String>,
    /// One template for the whole file (the mapping model).
    pub template: Option<String>,
    /// The template's language.
    pub language: Option<String>,
    /// `[{"param": 1, "column": "customer_name"}, {"param": 2, "value": "Acme"}]`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub params: Option<serde_json::Value>,
    /// Header media for every row.
    pub media_url: Option<String>,
    /// `image`, `video` or `document`.
    pub media_type: Option<String>,
    /// Quick-reply payloads by quick-reply button.
    pub button_payloads: Option<Vec<String>>,
    /// The sheet to read, in the mapping model.
    pub sheet: Option<String>,
}

/// `{"data": [...], "next_cursor": …}`: the opt-out list, by number.
#[derive(ToSchema)]
pub struct OptOutPage {
    /// The numbers.
    pub data: Vec<OptOut>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A number on the opt-out list.
#[derive(ToSchema)]
pub struct OptOut {
    /// E.164.
    pub phone: String,
    /// `api`, `webhook` (an opt-out keyword), …
    pub source: String,
    /// When it was added.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What adding numbers did.
#[derive(ToSchema)]
pub struct OptOutsAdded {
    /// Numbers newly on the list.
    pub added: u64,
    /// Numbers that already were.
    pub already_listed: u64,
    /// Numbers that are not valid, with why.
    pub invalid: Vec<InvalidPhone>,
}

/// A number that could not be read.
#[derive(ToSchema)]
pub struct InvalidPhone {
    /// As sent.
    pub phone: String,
    /// Why.
    pub message: String,
}

/// The callback URL and its new signing secret (shown only here).
#[derive(ToSchema)]
pub struct CallbackSet {
    /// Where events are POSTed.
    pub url: String,
    /// Key of the `X-Pregon-Signature` HMAC.
    pub secret: String,
}

/// The callback URL.
#[derive(ToSchema)]
pub struct CallbackShown {
    /// Where events are POSTed.
    pub url: String,
}

/// `/healthz`.
#[derive(ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// `/readyz`.
#[derive(ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: String,
    /// `ok`.
    pub database: String,
}

/// What a webhook request changed.
#[derive(ToSchema)]
pub struct WebhookOutcome {
    /// Status events that moved a message forward.
    pub applied: u64,
    /// Events that changed nothing (late, repeated, unknown message, or of no interest).
    pub ignored: u64,
    /// Replies of recipients.
    pub inbound: u64,
    /// Replies that were an opt-out keyword.
    pub opted_out: u64,
}

/// Pregon's answer to a Chat-Tonic `sendhsm` (the document shows none).
#[derive(ToSchema)]
pub struct ChatTonicSent {
    /// The message's id (follow it at `/v1/messages/{id}`).
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    /// `pending` (or `suppressed` for an opted-out number).
    #[schema(value_type = MessageStatusSchema)]
    pub status: String,
    /// The recipient, E.164.
    pub phone: String,
}

/// Pregon's answer to a Chat-Tonic upload (the document shows none).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatTonicUploaded {
    /// The campaign's id.
    #[schema(value_type = uuid::Uuid)]
    pub campaign_id: String,
    /// `ingesting` at first.
    #[schema(value_type = CampaignStatusSchema)]
    pub status: String,
    /// When it starts; `null` = as soon as it is read.
    pub scheduled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Where to follow it.
    pub links: ChatTonicLinks,
}

/// Where to follow a Chat-Tonic campaign.
#[derive(ToSchema)]
pub struct ChatTonicLinks {
    /// The Chat-Tonic status query.
    pub status: String,
    /// The native campaign.
    pub campaign: String,
}

/// The Chat-Tonic upload: the file in the multipart field `upload`.
#[derive(ToSchema)]
pub struct ChatTonicUploadForm {
    /// Chat-Tonic columns (`phone`, `elementName`, `languageCode`, `parameter`…); sheet `campaign` in XLS/XLSX.
    #[schema(value_type = String, format = Binary)]
    pub upload: Vec<u8>,
}

/// The Chat-Tonic status query's answer: the campaign and a page of its messages.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatTonicStatus {
    /// The campaign's id.
    #[schema(value_type = uuid::Uuid)]
    pub campaign_id: String,
    /// Its status.
    #[schema(value_type = CampaignStatusSchema)]
    pub status: String,
    /// Its counters.
    pub counts: CountsSchema,
    /// A page of its messages, oldest first.
    pub hsms: Vec<ChatTonicHsm>,
    /// Pass as `cursor` for the next page; `null` on the last.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub next_cursor: Option<String>,
}

/// One message in the Chat-Tonic status query.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatTonicHsm {
    /// The message's id.
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    /// E.164.
    pub phone: String,
    /// The template.
    pub element_name: String,
    /// Its language.
    pub language_code: String,
    /// The row's `flag`.
    pub flag: Option<String>,
    /// The message's status.
    #[schema(value_type = MessageStatusSchema)]
    pub status: String,
    /// The provider's id, once sent.
    pub provider_message_id: Option<String>,
    /// On `failed`.
    pub error: Option<MessageError>,
    /// When sent.
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When delivered.
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When read.
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it failed.
    pub failed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Jelou's "Send Bulk HSM" as a multipart form (or the same fields as JSON with `fileUrl`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JelouForm {
    /// The CSV (first column = phone; header names of letters, digits and `_`). Or `fileUrl`.
    #[schema(value_type = Option<String>, format = Binary)]
    pub file: Option<Vec<u8>>,
    /// Instead of `file`: where to fetch it.
    pub file_url: Option<String>,
    /// The campaign's name.
    pub campaign_name: String,
    /// The template; its language is the account's `default_language`, or its only one.
    pub element_name: String,
    /// The account's id or name.
    pub bot_id: String,
    /// JSON: `[{"param": 1, "column": "order_id"}]` (`[]` when the template has none).
    pub params: String,
    /// `text` (default), `image`, `document` or `video`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The header media, for a media `type`.
    pub media_url: Option<String>,
    /// JSON array: each object becomes, as compact JSON, the payload of the quick reply at its position.
    pub button_payloads: Option<String>,
    /// ISO 8601 with an offset, in the future.
    pub scheduled_at: Option<String>,
}

/// Jelou's answer: `{"message": ["Campaign has been created."], "status": "success"}`, or `"failed"` with the
/// reason (`Invalid CSV format`, `Template not found or not approved`, …).
#[derive(ToSchema)]
#[schema(example = json!({"message": ["Campaign has been created."], "status": "success"}))]
pub struct JelouAnswer {
    /// One message.
    pub message: Vec<String>,
    /// `success` or `failed`.
    pub status: String,
}

/// Jelou's answer to bad credentials: `{"message": "Authentication failed"}`.
#[derive(ToSchema)]
pub struct JelouAuthFailed {
    /// `Authentication failed`.
    pub message: String,
}
