//! Single sends: native `POST /v1/messages` (JSON fields, or the shorthand of seed 002) and Chat-Tonic
//! `POST /api/v1/{app}/{platform}/{accountId}/sendhsm`. A single message passes the same checks as a file row
//! (phone, template, parameters, media, buttons, opt-outs), is stored outside any campaign, and goes out through
//! its account's sender like campaign messages, at the account's rate.

use super::campaigns::MessageView;
use super::error::{ApiError, Json, Path};
use super::openapi;
use super::uploads::resolve_account;
use crate::auth::Caller;
use crate::ingestion;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use pregon_core::campaign::Account;
use pregon_core::message::Message;
use pregon_core::shorthand::{ButtonValueKind, Shorthand};
use pregon_core::template::HeaderParam;
use pregon_core::{AppId, ErrorCode};
use pregon_ingest::model::{CampaignRow, MediaRef, ParamValues};
use pregon_ingest::validate::{CampaignDefaults, Outcome, Validator};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `POST /v1/messages`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/messages", post(send))
}

/// The Chat-Tonic single send, mounted under `/api/v1`.
pub fn chat_tonic_routes() -> Router<AppState> {
    Router::new().route("/{app}/{platform}/{account}/sendhsm", post(send_hsm))
}

/// Media for a template's header.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Media {
    /// Chat-Tonic's `URL` (the only source there is).
    #[serde(default)]
    from: Option<String>,
    /// `image`, `video` or `document`; must match the template's header.
    #[serde(rename = "type", default)]
    kind: Option<String>,
    /// An http(s) URL the provider fetches.
    url: String,
}

/// One message, as `POST /v1/messages` takes it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"account": "main", "to": "+5491123456789", "template": "appointment_reminder",
    "language": "es", "params": ["odontología", "Ana", "15/03", "10:30"], "flag": "lead=42"}))]
struct SendRequest {
    /// The account, by id or name.
    account: String,
    /// The recipient, E.164 or national with the account's default region.
    to: String,
    /// The template's name (unless `shorthand` is given).
    #[serde(default)]
    template: Option<String>,
    /// The template's language (default: the account's, or the template's only one).
    #[serde(default)]
    language: Option<String>,
    /// Values in template order: a text header's first, then the body's.
    #[serde(default)]
    params: Vec<String>,
    /// Media for a media header.
    #[serde(default)]
    media: Option<Media>,
    /// The suffix of a dynamic URL button.
    #[serde(default)]
    button_parameter: Option<String>,
    /// Quick-reply payloads, in quick-reply order.
    #[serde(default)]
    button_payloads: Vec<String>,
    /// Echoed in callbacks (status changes and replies).
    #[serde(default)]
    flag: Option<String>,
    /// The whole message in the shorthand `&(( template=[[…]] language=[[…]] body_text=[[…]] … ))&`.
    #[serde(default)]
    shorthand: Option<String>,
}

/// What every single send comes down to.
struct Single {
    to: String,
    template: String,
    language: Option<String>,
    params: Vec<String>,
    media: Option<MediaRef>,
    button_parameter: Option<String>,
    button_payloads: Vec<String>,
    flag: Option<String>,
    /// Button values exactly as the shorthand placed them, kept over the validator's.
    exact_buttons: Option<Vec<pregon_core::template::ButtonParam>>,
}

impl Single {
    fn from_shorthand(to: String, flag: Option<String>, s: Shorthand) -> Single {
        let mut params = Vec::new();
        let mut media = None;
        match s.params.header {
            Some(HeaderParam::Text(t)) => params.push(t),
            Some(HeaderParam::Media { kind, url, .. }) => {
                media = Some(MediaRef {
                    from: Some("URL".into()),
                    kind: Some(format!("{kind:?}").to_ascii_lowercase()),
                    url,
                });
            }
            None => {}
        }
        params.extend(s.params.body);
        let mut button_parameter = None;
        let mut button_payloads = Vec::new();
        for (b, kind) in s.params.buttons.iter().zip(&s.button_kinds) {
            match kind {
                ButtonValueKind::Url => button_parameter = button_parameter.or(Some(b.value.clone())),
                ButtonValueKind::Payload => button_payloads.push(b.value.clone()),
            }
        }
        Single {
            to,
            template: s.template,
            language: Some(s.language),
            params,
            media,
            button_parameter,
            button_payloads,
            flag,
            exact_buttons: (!s.params.buttons.is_empty()).then_some(s.params.buttons),
        }
    }
}

/// Send one message: the same checks as a file row, then out through the account's sender at its rate.
#[utoipa::path(
    post, operation_id = "sendMessage", path = "/v1/messages", tag = "native", security(("bearer" = []), ("basic" = [])),
    request_body = SendRequest,
    responses(
        (status = 202, description = "Stored and queued; follow it at `/v1/messages/{id}`.",
            body = super::campaigns::MessageView),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
async fn send(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Json(body): Json<SendRequest>,
) -> Result<Response, ApiError> {
    let account = resolve_account(&state, app.id, "account", Some(&body.account)).await?;
    let single = match body.shorthand {
        Some(text) => {
            let parsed = pregon_core::shorthand::parse(&text)
                .map_err(|e| ApiError::invalid_field("shorthand", e.to_string()))?;
            Single::from_shorthand(body.to, body.flag, parsed)
        }
        None => Single {
            to: body.to,
            template: body
                .template
                .ok_or_else(|| ApiError::invalid_field("template", "give `template` (or `shorthand`)"))?,
            language: body.language,
            params: body.params,
            media: body.media.map(|m| MediaRef {
                from: m.from,
                kind: m.kind,
                url: m.url,
            }),
            button_parameter: body.button_parameter,
            button_payloads: body.button_payloads,
            flag: body.flag,
            exact_buttons: None,
        },
    };
    let message = store_single(&state, app.id, &account, single).await?;
    Ok((StatusCode::ACCEPTED, Json(MessageView::from(message))).into_response())
}

/// The Chat-Tonic body: `{"id", "hsm": {"namespace", "elementName", "parameters", "media", "languageCode"},
/// "buttonParameter", "flag"}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ChatTonicSendHsm, example = json!({"id": "+5491123456789", "hsm": {"namespace": "…",
    "elementName": "order_confirmation", "parameters": ["Ana", "A-42"]}, "flag": "lead-42"}))]
struct HsmRequest {
    /// The recipient's phone.
    id: String,
    /// The template message.
    hsm: Hsm,
    /// The suffix of a dynamic URL button.
    #[serde(default)]
    button_parameter: Option<String>,
    /// Echoed in callbacks.
    #[serde(default)]
    flag: Option<String>,
}

/// The template message of a Chat-Tonic `sendhsm`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ChatTonicHsmBody)]
struct Hsm {
    /// Accepted and ignored (WhatsApp's namespace is the account's).
    #[serde(default)]
    #[allow(dead_code)]
    namespace: Option<String>,
    /// The template's name.
    element_name: String,
    /// Values in template order; numbers are taken as text.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    parameters: Vec<Value>,
    /// Media for a media header.
    #[serde(default)]
    media: Option<Media>,
    /// The template's language (default: the account's).
    #[serde(default)]
    language_code: Option<String>,
}

/// Chat-Tonic's single send.
#[utoipa::path(
    post, operation_id = "chatTonicSendHsm", path = "/api/v1/{app}/{platform}/{account}/sendhsm", tag = "chat-tonic", security(("bearer" = []), ("basic" = []), ("query_token" = [])),
    params(
        ("app" = String, Path, description = "The app's name (the caller's)."),
        ("platform" = String, Path, description = "`whatsapp-gupshup`, `whatsapp-infobip`, `whatsapp-clickatell`, \
            `whatsapp-360dialog`, `whatsapp-cloud` or `whatsapp-sandbox`: must match the account."),
        ("account" = String, Path, description = "The account's id or name (Chat-Tonic's `accountId`)."),
    ),
    request_body = HsmRequest,
    responses(
        (status = 202, description = "Stored and queued.", body = openapi::ChatTonicSent),
        (status = 400, response = openapi::BadRequest),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, response = openapi::NotFound),
        (status = 415, response = openapi::UnsupportedMediaType),
        (status = 422, response = openapi::Unprocessable),
    ),
)]
async fn send_hsm(
    State(state): State<AppState>,
    Extension(Caller(app)): Extension<Caller>,
    Path((app_name, platform, account_id)): Path<(String, String, String)>,
    Json(body): Json<HsmRequest>,
) -> Result<Response, ApiError> {
    if app_name != app.name {
        return Err(ApiError::not_found("app"));
    }
    let account = resolve_account(&state, app.id, "accountId", Some(&account_id)).await?;
    let expected = account.settings.provider.chat_tonic_platform();
    if Some(platform.as_str()) != expected && platform != account.settings.provider.as_str() {
        return Err(ApiError::invalid_field(
            "platform",
            format!(
                "the account is a {} account (platform `{}`), not `{platform}`",
                account.settings.provider,
                expected.unwrap_or("")
            ),
        ));
    }
    // Chat-Tonic parameters may be numbers in JSON; they are text to WhatsApp.
    let params = body
        .hsm
        .parameters
        .iter()
        .map(|p| match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let single = Single {
        to: body.id,
        template: body.hsm.element_name,
        language: body.hsm.language_code,
        params,
        media: body.hsm.media.map(|m| MediaRef {
            from: m.from,
            kind: m.kind,
            url: m.url,
        }),
        button_parameter: body.button_parameter,
        button_payloads: Vec::new(),
        flag: body.flag,
        exact_buttons: None,
    };
    let message = store_single(&state, app.id, &account, single).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "id": message.id, "status": message.status, "phone": message.phone })),
    )
        .into_response())
}

/// Check a single message like a file row, store it, and wake the sender.
async fn store_single(state: &AppState, app: AppId, account: &Account, single: Single) -> Result<Message, ApiError> {
    let book = ingestion::template_book(&state.store, app, account).await?;
    let opted_out = state.store.opted_out(app).await?;
    let defaults = CampaignDefaults {
        template: None,
        default_language: account.settings.default_language.clone(),
        default_region: account.settings.default_region.clone(),
        media: None,
        button_payloads: single.button_payloads.clone(),
    };
    let row = CampaignRow {
        row: 1,
        phone: single.to,
        phone_column: "to".into(),
        template_name: Some(single.template),
        language: single.language,
        namespace: None,
        language_policy: None,
        flag: single.flag,
        button_parameter: single.button_parameter,
        media: single.media,
        params: ParamValues::Ordered(single.params),
        param_columns: BTreeMap::new(),
    };
    let mut validator = Validator::new(book, defaults, opted_out);
    let mut message = match validator.check(row) {
        Outcome::Message(m) => m,
        Outcome::Rejected(r) => {
            return Err(ApiError::new(ErrorCode::InvalidRequest, r.message)
                .with_details(json!({ "field": r.column, "code": r.code })));
        }
    };
    message.row_number = None;
    if let Some(buttons) = single.exact_buttons {
        message.params.buttons = buttons;
    }
    let stored = state.store.create_single_message(app, account.id, &message).await?;
    state.dispatch_wake.notify_waiters();
    Ok(stored)
}
