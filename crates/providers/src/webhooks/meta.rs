//! Meta's Cloud API webhook envelope (providers.md §1.7): `entry[].changes[].value` with `statuses[]` and
//! `messages[]`. 360dialog forwards it unchanged (§4); Gupshup's v3 events copy it and add `gs_id` (§2.3).

use super::{Inbound, Parsed, WebhookError, event, fields, malformed};
use chrono::{DateTime, Utc};
use pregon_core::MessageStatus;
use pregon_core::message::StatusEvent;
use serde_json::{Map, Value, json};

/// Whose copy of the envelope is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flavour {
    /// Meta's own.
    Cloud,
    /// 360dialog's: Meta's, and also the legacy flat `{"statuses": […], "messages": […]}` of its On-Premise hosting.
    Dialog360,
    /// Gupshup's v3: Meta's, with Gupshup's id (`gs_id`) beside the wamid. Pregon stores the Gupshup id.
    GupshupV3,
}

/// The statuses and user messages of an envelope.
pub(super) fn parse(root: &Value, now: DateTime<Utc>, flavour: Flavour) -> Result<Parsed, WebhookError> {
    let mut out = Parsed::default();
    match root.get("entry") {
        Some(Value::Array(entries)) => {
            for entry in entries {
                let Some(changes) = entry.get("changes").and_then(Value::as_array) else {
                    out.ignored += 1;
                    continue;
                };
                for change in changes {
                    // `field` names the subscription; only `messages` carries statuses and user messages (Gupshup
                    // samples sometimes leave it out).
                    let field = change.get("field").and_then(Value::as_str);
                    match (field, change.get("value").and_then(Value::as_object)) {
                        (None | Some("messages"), Some(value)) => read_value(value, now, flavour, &mut out),
                        _ => out.ignored += 1,
                    }
                }
            }
        }
        Some(_) => return Err(malformed("`entry` is not an array")),
        None => match root.as_object() {
            Some(flat)
                if flavour == Flavour::Dialog360
                    && (flat.contains_key("statuses") || flat.contains_key("messages")) =>
            {
                read_value(flat, now, flavour, &mut out)
            }
            _ => return Err(malformed("no `entry` array")),
        },
    }
    Ok(out)
}

/// One change's `value`: its statuses, its user messages, and its value-level `errors` (which name no message,
/// so they are only counted).
fn read_value(value: &Map<String, Value>, now: DateTime<Utc>, flavour: Flavour, out: &mut Parsed) {
    let statuses = value.get("statuses").and_then(Value::as_array);
    let messages = value.get("messages").and_then(Value::as_array);
    let errors = value.get("errors").and_then(Value::as_array);
    if statuses.is_none() && messages.is_none() && errors.is_none() {
        out.ignored += 1;
        return;
    }
    for status in statuses.into_iter().flatten() {
        out.status(status_event(status, now, flavour));
    }
    for message in messages.into_iter().flatten() {
        out.inbound(inbound(message, now, flavour));
    }
    out.ignored += errors.map_or(0, Vec::len);
}

/// One `statuses[]` item: `sent`, `delivered`, `read` or `failed`; `None` for others (`played`, `deleted`,
/// Gupshup's `enqueued`) and unreadable items.
fn status_event(item: &Value, now: DateTime<Utc>, flavour: Flavour) -> Option<StatusEvent> {
    let status = match fields::str(item.get("status"))? {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        _ => return None,
    };
    let wamid = fields::text(item.get("id"));
    let provider_message_id = match flavour {
        Flavour::GupshupV3 => fields::text(item.get("gs_id")).or(wamid),
        Flavour::Cloud | Flavour::Dialog360 => wamid,
    };
    event(
        provider_message_id,
        fields::message_id(item.get("biz_opaque_callback_data")),
        status,
        fields::time_or(now, &[item.get("timestamp")]),
        error(item.get("errors").and_then(|e| e.get(0))),
    )
}

/// A Graph error object (`{code, title, message, error_data.details}`) as code and text, read as the send side
/// reads Graph errors.
pub(super) fn error(e: Option<&Value>) -> Option<(String, String)> {
    let e = e.filter(|e| e.is_object())?;
    let code = fields::code(e.get("code"));
    let text = crate::meta::graph_error(&json!({ "error": e })).map(|g| g.text);
    match (code, text) {
        (None, None) => None,
        (code, text) => Some((code.unwrap_or_else(|| "unknown".into()), text.unwrap_or_default())),
    }
}

/// One `messages[]` item. Every kind becomes an [`Inbound`] except `system` (a number change) and `reaction`
/// (an emoji on a message), which are not messages; `None` also when the sender is unreadable.
fn inbound(item: &Value, now: DateTime<Utc>, flavour: Flavour) -> Option<Inbound> {
    let kind = fields::str(item.get("type")).unwrap_or_default();
    if matches!(kind, "system" | "reaction") {
        return None;
    }
    let from = fields::phone(item.get("from"))?;
    let (text, button_payload, button_text) = match kind {
        "text" => (fields::text(item.pointer("/text/body")), None, None),
        "button" => (
            None,
            fields::text(item.pointer("/button/payload")),
            fields::text(item.pointer("/button/text")),
        ),
        "interactive" => {
            let reply = item
                .get("interactive")
                .and_then(|i| i.get("button_reply").or_else(|| i.get("list_reply")));
            let reply = reply.filter(|r| r.is_object());
            (
                None,
                fields::text(reply.and_then(|r| r.get("id"))),
                fields::text(reply.and_then(|r| r.get("title"))),
            )
        }
        _ => (None, None, None),
    };
    let context = item.get("context");
    let context_id = fields::text(context.and_then(|c| c.get("id")));
    let context_provider_message_id = match flavour {
        Flavour::GupshupV3 => fields::text(context.and_then(|c| c.get("gs_id"))).or(context_id),
        Flavour::Cloud | Flavour::Dialog360 => context_id,
    };
    Some(Inbound {
        from,
        text,
        button_payload,
        button_text,
        context_provider_message_id,
        context_message_id: None,
        provider_message_id: fields::text(item.get("id")),
        at: fields::time_or(now, &[item.get("timestamp")]),
    })
}
