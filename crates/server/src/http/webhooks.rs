//! Provider webhooks: `GET/POST /webhooks/{provider}/{account}`, outside the token layer. Meta bodies are checked
//! with `X-Hub-Signature-256` against the account's `app_secret`; the other providers (360dialog included: its
//! Meta-shaped bodies come unsigned) must carry the account's `webhook_secret` in the URL (`?token=…`) or an
//! `X-Webhook-Token` header. A refused request changes nothing, is counted, and is kept for audit like the others
//! (its first [`REFUSED_BODY_KEPT`] bytes: anyone who knows an account id can send one). Status events move
//! messages forward only (late and repeated ones change nothing); a user's reply that is an opt-out keyword adds the
//! number to the app's opt-out list. Status changes and replies become outbound callbacks of apps that set one.

use super::error::ApiError;
use super::openapi;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pregon_core::campaign::Account;
use pregon_core::{AccountId, ErrorCode, ProviderKind};
use pregon_providers::webhooks::{self, WebhookError};
use serde_json::json;
use std::sync::atomic::Ordering;

/// The webhook routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/webhooks/{provider}/{account}", get(handshake).post(receive))
}

/// The account the URL names, if it exists and is of that provider; anything else is a plain 404.
async fn account(state: &AppState, provider: &str, account: &str) -> Result<Account, ApiError> {
    let id: AccountId = account.parse().map_err(|_| ApiError::not_found("route"))?;
    let found = state
        .store
        .send_queue()
        .account(id)
        .await
        .map_err(|_| ApiError::not_found("route"))?;
    let kind: ProviderKind = provider.parse().map_err(|_| ApiError::not_found("route"))?;
    if found.settings.provider != kind {
        return Err(ApiError::not_found("route"));
    }
    Ok(found)
}

/// Meta's subscription check: answer the challenge when the verify token matches.
#[utoipa::path(
    get, operation_id = "webhookHandshake", path = "/webhooks/{provider}/{account}", tag = "webhooks",
    params(
        ("provider" = String, Path, description = "`meta`, `gupshup`, `infobip`, `360dialog`, `clickatell`: the \
            account's provider."),
        ("account" = uuid::Uuid, Path, description = "The account's id."),
        ("hub.mode" = String, Query, description = "`subscribe`."),
        ("hub.verify_token" = String, Query, description = "Must equal the account's `verify_token`."),
        ("hub.challenge" = String, Query, description = "Echoed back."),
    ),
    responses(
        (status = 200, description = "`hub.challenge`, as text.", content_type = "text/plain", body = String),
        (status = 401, response = openapi::Unauthorized),
        (status = 404, description = "`not_found`: no such account of that provider.", body = openapi::ErrorBody),
    ),
)]
async fn handshake(
    State(state): State<AppState>,
    Path((provider, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let account = account(&state, &provider, &id).await?;
    let token = account.credentials.get("verify_token").unwrap_or("");
    match webhooks::meta_handshake(query.as_deref().unwrap_or(""), token) {
        Some(challenge) => Ok((StatusCode::OK, challenge).into_response()),
        None => {
            state.metrics.webhook_requests_refused.fetch_add(1, Ordering::Relaxed);
            Err(ApiError::new(
                ErrorCode::Unauthorized,
                "the verify token does not match",
            ))
        }
    }
}

/// Whether the request proves it comes from the provider.
fn authenticate(account: &Account, headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Result<(), String> {
    if account.settings.provider == ProviderKind::Meta {
        let secret = account
            .credentials
            .get("app_secret")
            .ok_or("the account has no `app_secret`: Meta webhooks cannot be checked, so none is accepted")?;
        let header = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
        return webhooks::verify_meta_signature(secret, body, header).map_err(|e: WebhookError| e.to_string());
    }
    let secret = account
        .credentials
        .get("webhook_secret")
        .ok_or("the account has no `webhook_secret`: its webhooks cannot be checked, so none is accepted")?;
    let from_query = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    let given = from_query.or_else(|| {
        headers
            .get("x-webhook-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let matches = given.is_some_and(|g| crate::auth::same_secret(&g, secret));
    if matches {
        Ok(())
    } else {
        Err("missing or wrong webhook token".into())
    }
}

/// How much of a refused request's body is kept for audit.
pub const REFUSED_BODY_KEPT: usize = 4096;

/// The start of a refused body, cut at a character boundary.
fn refused_excerpt(text: &str) -> &str {
    if text.len() <= REFUSED_BODY_KEPT {
        return text;
    }
    let mut end = REFUSED_BODY_KEPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Status events and replies from the provider. Statuses only move messages forward; a reply that is an opt-out
/// keyword adds the sender to the app's opt-out list.
#[utoipa::path(
    post, operation_id = "receiveWebhook", summary = "Provider events (statuses and replies)", path = "/webhooks/{provider}/{account}", tag = "webhooks",
    security(("webhook_signature" = []), ("webhook_token" = []), ("webhook_token_header" = [])),
    params(
        ("provider" = String, Path, description = "`meta`, `gupshup`, `infobip`, `360dialog`, `clickatell`: the \
            account's provider."),
        ("account" = uuid::Uuid, Path, description = "The account's id."),
    ),
    request_body(content = Object, content_type = "application/json", description = "The provider's event JSON as \
        it sends it (Meta's `whatsapp_business_account` change; Gupshup's, Infobip's, 360dialog's or Clickatell's)."),
    responses(
        (status = 200, description = "What changed.", body = openapi::WebhookOutcome),
        (status = 400, response = openapi::BadRequest),
        (status = 401, description = "`unauthorized`: no valid signature or token; nothing changes.",
            body = openapi::ErrorBody),
        (status = 404, description = "`not_found`: no such account of that provider.", body = openapi::ErrorBody),
    ),
)]
async fn receive(
    State(state): State<AppState>,
    Path((provider, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let account = account(&state, &provider, &id).await?;
    let q = state.store.send_queue();
    let now = state.clock.now();
    let text = String::from_utf8_lossy(&body);
    let kind = account.settings.provider;
    if let Err(why) = authenticate(&account, &headers, query.as_deref(), &body) {
        state.metrics.webhook_requests_refused.fetch_add(1, Ordering::Relaxed);
        let _ = q
            .record_webhook(
                account.id,
                kind.as_str(),
                refused_excerpt(&text),
                &format!("refused: {why}"),
                now,
            )
            .await;
        tracing::warn!(account = %account.id, provider = %kind, %why, "webhook refused");
        return Err(ApiError::new(ErrorCode::Unauthorized, why));
    }
    let parsed = match webhooks::parse(kind, &body) {
        Ok(p) => p,
        Err(e) => {
            state.metrics.webhook_requests_refused.fetch_add(1, Ordering::Relaxed);
            let _ = q
                .record_webhook(
                    account.id,
                    kind.as_str(),
                    refused_excerpt(&text),
                    &format!("refused: {e}"),
                    now,
                )
                .await;
            return Err(ApiError::new(ErrorCode::InvalidJson, e.to_string()));
        }
    };
    let applied = q.apply_events(account.id, &parsed.statuses).await?.len() as u64;
    let ignored = parsed.statuses.len() as u64 - applied + parsed.ignored as u64;
    state
        .metrics
        .webhook_events_applied
        .fetch_add(applied, Ordering::Relaxed);
    state
        .metrics
        .webhook_events_ignored
        .fetch_add(ignored, Ordering::Relaxed);
    let mut opted_out = Vec::new();
    for message in &parsed.inbound {
        let said = message.text.as_deref().or(message.button_text.as_deref()).unwrap_or("");
        let keyword = said.trim().to_uppercase();
        if state
            .config
            .optout_keywords
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&keyword))
        {
            opted_out.push(message.from.clone());
        }
    }
    if !opted_out.is_empty() {
        state.store.add_optouts(account.app_id, &opted_out, "webhook").await?;
    }
    // Replies go to the app's callback, if it has one; a failure here must not make the provider resend the batch.
    if let Err(e) = crate::callbacks::enqueue_replies(&state, &account, &parsed.inbound, now).await {
        tracing::warn!(account = %account.id, error = %e, "cannot enqueue reply callbacks");
    }
    let outcome = format!(
        "applied {applied}, ignored {ignored}, inbound {}, opted out {}",
        parsed.inbound.len(),
        opted_out.len()
    );
    q.record_webhook(account.id, kind.as_str(), &text, &outcome, now)
        .await?;
    Ok(Json(json!({
        "applied": applied,
        "ignored": ignored,
        "inbound": parsed.inbound.len(),
        "opted_out": opted_out.len(),
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_bodies_are_cut_at_a_character_boundary() {
        assert_eq!(refused_excerpt("short"), "short");
        let long = "é".repeat(REFUSED_BODY_KEPT);
        let kept = refused_excerpt(&long);
        assert!(kept.len() <= REFUSED_BODY_KEPT && kept.len() > REFUSED_BODY_KEPT - 2);
        assert!(kept.chars().all(|c| c == 'é'));
    }
}
