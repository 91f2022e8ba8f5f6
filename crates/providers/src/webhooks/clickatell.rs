//! Clickatell One API callbacks (providers.md §5): `{"integrationId", "integrationName", "event": {<kind>: […]}}`.
//!
//! - `messageStatusUpdate[]`: `{"messageId", "clientMessageId", "statusCode", "status", "timestamp"}`. The shape
//!   comes from Clickatell's business-read-notification request and a third-party consumer (UNVERIFIED, §5); the
//!   codes from Clickatell's One API message status table: 1 `UNKNOWN`, 2 `QUEUED`, 3 `SCHEDULED` (ignored),
//!   4 `SENT_TO_SUPPLIER` → sent, 5 `DEVICE_ACK` → delivered, 6 `READ` → read, 24 `EMULATED` (a test send, ignored),
//!   and every other code from 20 up (`EXPIRED`, `DELIVERY_FAILURE`, `RECIPIENT_DOES_NOT_EXIST`, the `WHATSAPP_*`
//!   and `MEDIA_*` errors, …) → failed, with the code and the status name. Without a code, the name decides; an
//!   unknown name is ignored rather than taken for a failure.
//! - `moText[]` (Clickatell's "receive message callback"): `{"messageId", "relatedMessageId",
//!   "relatedClientMessageId", "from", "timestamp", "content"}`. Other `mo*` kinds (media, location) become user
//!   messages without text. No sample of a WhatsApp button tap was found, so none is read as one.
//!
//! Timestamps are milliseconds. Pregon's id is `clientMessageId` (and `relatedClientMessageId` in a reply).

use super::{Inbound, Parsed, WebhookError, event, fields, malformed};
use chrono::{DateTime, Utc};
use pregon_core::MessageStatus;
use pregon_core::message::StatusEvent;
use serde_json::Value;

/// The statuses and user messages of a body.
pub(super) fn parse(root: &Value, now: DateTime<Utc>) -> Result<Parsed, WebhookError> {
    let events = root
        .get("event")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("no `event` object"))?;
    let mut out = Parsed::default();
    for (kind, items) in events {
        let Some(items) = items.as_array() else {
            out.ignored += 1;
            continue;
        };
        for item in items {
            match kind.as_str() {
                "messageStatusUpdate" => out.status(status_event(item, now)),
                mo if mo.starts_with("mo") => out.inbound(inbound(item, mo == "moText", now)),
                _ => out.ignored += 1,
            }
        }
    }
    Ok(out)
}

/// One status update (see the module doc); `None` for statuses Pregon does not track.
fn status_event(item: &Value, now: DateTime<Utc>) -> Option<StatusEvent> {
    let code = match item.get("statusCode") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let name = fields::str(item.get("status")).map(str::to_ascii_uppercase);
    let status = match code {
        Some(code) => by_code(code)?,
        None => by_name(name.as_deref()?)?,
    };
    let error = (
        code.map(|c| c.to_string()).or_else(|| name.clone()).unwrap_or_default(),
        fields::text(item.get("statusDescription"))
            .or_else(|| fields::text(item.get("description")))
            .or(name)
            .unwrap_or_default(),
    );
    event(
        fields::text(item.get("messageId")),
        fields::message_id(item.get("clientMessageId")),
        status,
        fields::time_or(now, &[item.get("timestamp")]),
        Some(error),
    )
}

/// A status by its code in Clickatell's table.
fn by_code(code: i64) -> Option<MessageStatus> {
    match code {
        4 => Some(MessageStatus::Sent),
        5 => Some(MessageStatus::Delivered),
        6 => Some(MessageStatus::Read),
        24 => None,
        20.. => Some(MessageStatus::Failed),
        _ => None,
    }
}

/// A status by its name, for an update without a code.
fn by_name(name: &str) -> Option<MessageStatus> {
    match name {
        "SENT_TO_SUPPLIER" | "SENT" => Some(MessageStatus::Sent),
        "DEVICE_ACK" | "DELIVERED" => Some(MessageStatus::Delivered),
        "READ" => Some(MessageStatus::Read),
        "FAILED"
        | "EXPIRED"
        | "STOPPED_BY_USER"
        | "STOPPED_BY_ADMIN"
        | "DELIVERY_FAILURE"
        | "INSUFFICIENT_ACCOUNT_BALANCE"
        | "VOLUME_LIMIT"
        | "VOLUME_LIMIT_DAILY"
        | "VOLUME_LIMIT_MONTHLY"
        | "RECIPIENT_DOES_NOT_EXIST"
        | "ROUTING_ERROR" => Some(MessageStatus::Failed),
        n if n.starts_with("WHATSAPP_") || n.starts_with("MEDIA_") || n.starts_with("ENCRYPTION_") => {
            Some(MessageStatus::Failed)
        }
        _ => None,
    }
}

/// One `mo*` item; `content` is its text only for `moText` (media content is base64).
fn inbound(item: &Value, is_text: bool, now: DateTime<Utc>) -> Option<Inbound> {
    Some(Inbound {
        from: fields::phone(item.get("from"))?,
        text: if is_text {
            fields::text(item.get("content"))
        } else {
            None
        },
        button_payload: None,
        button_text: None,
        context_provider_message_id: fields::text(item.get("relatedMessageId")),
        context_message_id: fields::message_id(item.get("relatedClientMessageId")),
        provider_message_id: fields::text(item.get("messageId")),
        at: fields::time_or(now, &[item.get("timestamp")]),
    })
}
