//! Gupshup's callbacks (providers.md §2.3). v3 is Meta's envelope ([`super::meta`]); v2 is one event per body:
//! `{"type": "message-event", "payload": {"id", "gsId", "type", "payload": {"ts"} | {"code", "reason"}}}` for
//! statuses, `{"type": "message", "payload": {"id", "source", "type", "payload", "sender", "context"}}` for user
//! messages, and other types (`billing-event`, `user-event`, `template-event`, …) that Pregon does not use.
//!
//! Gupshup keeps no Pregon id: a status names the message by `gsId` (the id of the send answer, which Pregon
//! stores), falling back to `id` when `gsId` is absent (failures, and events over a week late).

use super::meta::{self, Flavour};
use super::{Inbound, Parsed, WebhookError, event, fields, malformed};
use chrono::{DateTime, Utc};
use pregon_core::MessageStatus;
use pregon_core::message::StatusEvent;
use serde_json::Value;

/// The statuses and user messages of a v2 or v3 body.
pub(super) fn parse(root: &Value, now: DateTime<Utc>) -> Result<Parsed, WebhookError> {
    if root.get("entry").is_some() {
        return meta::parse(root, now, Flavour::GupshupV3);
    }
    let mut out = Parsed::default();
    let payload = || {
        root.get("payload")
            .filter(|p| p.is_object())
            .ok_or_else(|| malformed("no `payload` object"))
    };
    match fields::str(root.get("type")) {
        Some("message-event") => out.status(status_event(payload()?, root.get("timestamp"), now)),
        Some("message") => out.inbound(inbound(payload()?, root.get("timestamp"), now)),
        Some(_) => out.ignored += 1,
        None => return Err(malformed("neither a v2 `type` nor a v3 `entry`")),
    }
    Ok(out)
}

/// A v2 `message-event`: `sent`, `delivered`, `read` or `failed`; `None` for `enqueued`, `deleted` and others.
fn status_event(payload: &Value, sent_at: Option<&Value>, now: DateTime<Utc>) -> Option<StatusEvent> {
    let status = match fields::str(payload.get("type"))? {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        _ => return None,
    };
    let inner = payload.get("payload");
    let code = fields::code(inner.and_then(|p| p.get("code")));
    let reason = fields::text(inner.and_then(|p| p.get("reason")));
    let error = match (code, reason) {
        (None, None) => None,
        (code, reason) => Some((code.unwrap_or_else(|| "unknown".into()), reason.unwrap_or_default())),
    };
    event(
        fields::text(payload.get("gsId")).or_else(|| fields::text(payload.get("id"))),
        None,
        status,
        // The event's own time (seconds), else the callback's (milliseconds).
        fields::time_or(now, &[inner.and_then(|p| p.get("ts")), sent_at]),
        error,
    )
}

/// A v2 `message`: text (`payload.text`), a template quick-reply tap (`quick_reply`: `text`, `postbackText`), an
/// interactive reply (`button_reply`/`list_reply`: `title`, `postbackText` or `id`), or any other kind (no text).
fn inbound(payload: &Value, received_at: Option<&Value>, now: DateTime<Utc>) -> Option<Inbound> {
    let from = fields::phone(payload.get("sender").and_then(|s| s.get("phone")))
        .or_else(|| fields::phone(payload.get("source")))?;
    let content = payload.get("payload");
    let field = |name: &str| fields::text(content.and_then(|c| c.get(name)));
    let (text, button_payload, button_text) = match fields::str(payload.get("type")).unwrap_or_default() {
        "text" => (field("text"), None, None),
        "quick_reply" => (None, field("postbackText"), field("text")),
        "button_reply" | "list_reply" => (None, field("postbackText").or_else(|| field("id")), field("title")),
        _ => (None, None, None),
    };
    let context = payload.get("context");
    Some(Inbound {
        from,
        text,
        button_payload,
        button_text,
        context_provider_message_id: fields::text(context.and_then(|c| c.get("gsId")))
            .or_else(|| fields::text(context.and_then(|c| c.get("id")))),
        context_message_id: None,
        provider_message_id: fields::text(payload.get("id")),
        at: fields::time_or(now, &[received_at, payload.get("timestamp")]),
    })
}
