//! Infobip's callbacks (providers.md §3.4), all `{"results": […]}`, one kind of item each:
//! - delivery reports: `{"messageId", "callbackData", "status": {"groupName", "name", …}, "error": {…}, "sentAt",
//!   "doneAt"}`;
//! - seen reports: `{"messageId", "from", "to", "sentAt", "seenAt"}` — the message was read;
//! - user messages: `{"from", "to", "integrationType", "receivedAt", "messageId", "pairedMessageId",
//!   "message": {"type": "TEXT" | "BUTTON" | …, "context": {"id"}}}`.
//!
//! Status groups: `PENDING` and `ACCEPTED` → sent; `DELIVERED` → delivered, except `DELIVERED_TO_OPERATOR` (only as
//! far as the network) → sent; `UNDELIVERABLE`, `EXPIRED`, `REJECTED` → failed, with the error's name and
//! description (the status's when the error is `NO_ERROR`). Pregon's id is both `messageId` and `callbackData` of
//! its sends; either is read when it is a UUID.

use super::{Inbound, Parsed, WebhookError, event, fields, malformed};
use chrono::{DateTime, Utc};
use pregon_core::message::StatusEvent;
use pregon_core::{MessageId, MessageStatus};
use serde_json::Value;

/// The reports and user messages of a body.
pub(super) fn parse(root: &Value, now: DateTime<Utc>) -> Result<Parsed, WebhookError> {
    let results = root
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("no `results` array"))?;
    let mut out = Parsed::default();
    for item in results {
        if item.get("seenAt").is_some() {
            out.status(seen(item, now));
        } else if item.get("status").is_some() {
            out.status(delivery(item, now));
        } else if item.get("message").is_some() {
            out.inbound(inbound(item, now));
        } else {
            out.ignored += 1;
        }
    }
    Ok(out)
}

/// Pregon's id in a report: `callbackData`, else `messageId`, when a UUID.
fn pregon_id(item: &Value) -> Option<MessageId> {
    fields::message_id(item.get("callbackData")).or_else(|| fields::message_id(item.get("messageId")))
}

/// A seen report: `read` at `seenAt`.
fn seen(item: &Value, now: DateTime<Utc>) -> Option<StatusEvent> {
    event(
        fields::text(item.get("messageId")),
        pregon_id(item),
        MessageStatus::Read,
        fields::time_or(now, &[item.get("seenAt")]),
        None,
    )
}

/// A delivery report, by its status group (see the module doc); `None` for unknown groups.
fn delivery(item: &Value, now: DateTime<Utc>) -> Option<StatusEvent> {
    let status = item.get("status").filter(|s| s.is_object())?;
    let name = fields::str(status.get("name"));
    let group = match fields::str(status.get("groupName")) {
        Some(group) => group.to_ascii_uppercase(),
        // The group ids of Infobip's status table.
        None => match status.get("groupId").and_then(Value::as_i64)? {
            0 => "ACCEPTED".into(),
            1 => "PENDING".into(),
            2 => "UNDELIVERABLE".into(),
            3 => "DELIVERED".into(),
            4 => "EXPIRED".into(),
            5 => "REJECTED".into(),
            _ => return None,
        },
    };
    let to_operator = name == Some("DELIVERED_TO_OPERATOR")
        || (name.is_none() && status.get("id").and_then(Value::as_i64) == Some(2));
    let kind = match group.as_str() {
        "DELIVERED" if to_operator => MessageStatus::Sent,
        "DELIVERED" => MessageStatus::Delivered,
        "PENDING" | "ACCEPTED" => MessageStatus::Sent,
        "UNDELIVERABLE" | "EXPIRED" | "REJECTED" => MessageStatus::Failed,
        _ => return None,
    };
    event(
        fields::text(item.get("messageId")),
        pregon_id(item),
        kind,
        fields::time_or(now, &[item.get("doneAt"), item.get("sentAt")]),
        Some(error(item.get("error"), status, &group)),
    )
}

/// The failure of a report: its `error` unless that is `NO_ERROR` (id 0), else its status.
fn error(error: Option<&Value>, status: &Value, group: &str) -> (String, String) {
    let real = error.filter(|e| {
        e.is_object()
            && e.get("id").and_then(Value::as_i64) != Some(0)
            && fields::str(e.get("name")) != Some("NO_ERROR")
    });
    let from = |e: &Value| {
        let code = fields::text(e.get("name")).or_else(|| fields::code(e.get("id")));
        let text = fields::text(e.get("description")).map(|t| crate::classify::cap(&t));
        (code, text)
    };
    let (code, text) = match real.map(from) {
        Some((Some(code), text)) => (Some(code), text),
        _ => from(status),
    };
    (code.unwrap_or_else(|| group.to_owned()), text.unwrap_or_default())
}

/// A user message: `TEXT` (`text`), a template quick-reply tap (`BUTTON`: `text`, `payload`), an interactive reply
/// (`INTERACTIVE_BUTTON_REPLY`/`INTERACTIVE_LIST_REPLY`: `id`, `title`), or any other kind (no text).
fn inbound(item: &Value, now: DateTime<Utc>) -> Option<Inbound> {
    let from = fields::phone(item.get("from"))?;
    let message = item.get("message").filter(|m| m.is_object())?;
    let field = |name: &str| fields::text(message.get(name));
    let kind = fields::str(message.get("type"))
        .unwrap_or_default()
        .to_ascii_uppercase();
    let (text, button_payload, button_text) = match kind.as_str() {
        "TEXT" => (field("text"), None, None),
        "BUTTON" => (None, field("payload"), field("text")),
        "INTERACTIVE_BUTTON_REPLY" | "INTERACTIVE_LIST_REPLY" => (None, field("id"), field("title")),
        _ => (None, None, None),
    };
    let context = message
        .get("context")
        .and_then(|c| c.get("id"))
        .or_else(|| item.get("pairedMessageId"));
    Some(Inbound {
        from,
        text,
        button_payload,
        button_text,
        context_provider_message_id: fields::text(context),
        context_message_id: fields::message_id(context),
        provider_message_id: fields::text(item.get("messageId")),
        at: fields::time_or(now, &[item.get("receivedAt")]),
    })
}
