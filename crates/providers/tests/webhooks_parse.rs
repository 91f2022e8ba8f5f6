//! Webhook bodies → events: every fixture of `fixtures/webhooks/` parsed, with its exact status events, user
//! messages and ignored count (sources in `fixtures/README.md`).
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use pregon_core::message::StatusEvent;
use pregon_core::{MessageStatus, ProviderKind};
use pregon_providers::webhooks::{Inbound, Parsed, WebhookError, parse_at};
use std::path::{Path, PathBuf};

/// Pregon ids used by the fixtures' callback fields.
const PREGON1: &str = "0199a4f2-7c3e-7b8a-9d41-2f6c8e1a5b30";
const PREGON2: &str = "0199a4f2-7c3e-7b8a-9d41-2f6c8e1a5b31";
const PREGON3: &str = "0199a4f2-7c3e-7b8a-9d41-2f6c8e1a5b32";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/webhooks")
}

/// "Now" for items without a time.
fn now() -> DateTime<Utc> {
    rfc3339("2030-01-01T00:00:00Z")
}

fn rfc3339(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn secs(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap()
}

fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn fixture(provider: ProviderKind, dir: &str, name: &str) -> Parsed {
    let body = std::fs::read(fixtures().join(dir).join(format!("{name}.json"))).unwrap();
    parse_at(provider, &body, now()).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"))
}

fn body(provider: ProviderKind, json: serde_json::Value) -> Result<Parsed, WebhookError> {
    parse_at(provider, json.to_string().as_bytes(), now())
}

fn status(
    provider_message_id: Option<&str>,
    message_id: Option<&str>,
    status: MessageStatus,
    at: DateTime<Utc>,
    error: Option<(&str, &str)>,
) -> StatusEvent {
    StatusEvent {
        provider_message_id: provider_message_id.map(Into::into),
        message_id: message_id.map(|m| m.parse().unwrap()),
        status,
        at,
        error: error.map(|(c, t)| (c.into(), t.into())),
    }
}

fn only_status(parsed: Parsed, expected: StatusEvent) {
    assert_eq!(
        parsed,
        Parsed {
            statuses: vec![expected],
            inbound: vec![],
            ignored: 0
        }
    );
}

fn only_inbound(parsed: Parsed, expected: Inbound) {
    assert_eq!(
        parsed,
        Parsed {
            statuses: vec![],
            inbound: vec![expected],
            ignored: 0
        }
    );
}

fn only_ignored(parsed: Parsed, ignored: usize) {
    assert_eq!(
        parsed,
        Parsed {
            statuses: vec![],
            inbound: vec![],
            ignored
        }
    );
}

/// A user message with only a sender and a time; tests fill in the rest.
fn inbound(from: &str, provider_message_id: &str, at: DateTime<Utc>) -> Inbound {
    Inbound {
        from: from.into(),
        text: None,
        button_payload: None,
        button_text: None,
        context_provider_message_id: None,
        context_message_id: None,
        provider_message_id: Some(provider_message_id.into()),
        at,
    }
}

#[test]
fn every_fixture_parses_for_its_provider() {
    let dirs = [
        ("meta", ProviderKind::Meta),
        ("360dialog", ProviderKind::Dialog360),
        ("gupshup", ProviderKind::Gupshup),
        ("infobip", ProviderKind::Infobip),
        ("clickatell", ProviderKind::Clickatell),
    ];
    let mut count = 0;
    for (dir, provider) in dirs {
        for file in std::fs::read_dir(fixtures().join(dir)).unwrap() {
            let path = file.unwrap().path();
            let parsed = parse_at(provider, &std::fs::read(&path).unwrap(), now())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                parsed.statuses.len() + parsed.inbound.len() + parsed.ignored > 0,
                "{} says nothing",
                path.display()
            );
            count += 1;
        }
    }
    assert!(count >= 37, "{count} fixtures");
}

#[test]
fn the_sandbox_has_no_webhooks() {
    assert_eq!(
        parse_at(ProviderKind::Sandbox, b"{}", now()),
        Err(WebhookError::Unsupported(ProviderKind::Sandbox))
    );
}

mod meta {
    use super::*;

    const WAMID: &str = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=";

    fn meta(name: &str) -> Parsed {
        fixture(ProviderKind::Meta, "meta", name)
    }

    #[test]
    fn sent_without_a_callback_field() {
        only_status(
            meta("sent"),
            status(Some(WAMID), None, MessageStatus::Sent, secs(1750030073), None),
        );
    }

    #[test]
    fn delivered_with_pregons_id() {
        only_status(
            meta("delivered"),
            status(
                Some(WAMID),
                Some(PREGON1),
                MessageStatus::Delivered,
                secs(1750030080),
                None,
            ),
        );
    }

    #[test]
    fn read_v24_minimal() {
        only_status(
            meta("read"),
            status(Some(WAMID), None, MessageStatus::Read, secs(1750030073), None),
        );
    }

    #[test]
    fn failed_with_its_error() {
        only_status(
            meta("failed"),
            status(
                Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA"),
                None,
                MessageStatus::Failed,
                secs(1751142888),
                Some((
                    "131049",
                    "This message was not delivered to maintain healthy ecosystem engagement.: In order to maintain a \
                     healthy ecosystem engagement, the message failed to be delivered.",
                )),
            ),
        );
    }

    #[test]
    fn a_value_level_error_names_no_message() {
        only_ignored(meta("value-error"), 1);
    }

    #[test]
    fn a_text_reply() {
        only_inbound(
            meta("inbound-text"),
            Inbound {
                text: Some("Does it come in another color?".into()),
                ..inbound(
                    "+16505551234",
                    "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                    secs(1749416383),
                )
            },
        );
    }

    #[test]
    fn a_quick_reply_tap() {
        only_inbound(
            meta("inbound-button"),
            Inbound {
                button_payload: Some("Unsubscribe".into()),
                button_text: Some("Unsubscribe".into()),
                context_provider_message_id: Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJFNjk2OTMwNEZCQjhGMzUyQUYA".into()),
                ..inbound(
                    "+16505551234",
                    "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUU0M0MxQzQzMUJCMTMwNUZFOQA=",
                    secs(1750091045),
                )
            },
        );
    }

    #[test]
    fn an_interactive_button_reply() {
        only_inbound(
            meta("inbound-interactive"),
            Inbound {
                button_payload: Some("cancel-button".into()),
                button_text: Some("Cancel".into()),
                context_provider_message_id: Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJGMzEyNzhENTZDMzNGODlDRDgA".into()),
                ..inbound(
                    "+16505551234",
                    "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUJDQ0NDM0FEODY4ODkzOTc5RgA=",
                    secs(1749854575),
                )
            },
        );
    }

    #[test]
    fn a_batch_across_entries_and_changes() {
        assert_eq!(
            meta("batch"),
            Parsed {
                statuses: vec![
                    status(
                        Some("wamid.BATCH1"),
                        Some(PREGON1),
                        MessageStatus::Sent,
                        secs(1750030073),
                        None
                    ),
                    status(
                        Some("wamid.BATCH2"),
                        Some(PREGON2),
                        MessageStatus::Delivered,
                        secs(1750030075),
                        None
                    ),
                    // `biz_opaque_callback_data` that is not a Pregon id is left out.
                    status(Some("wamid.BATCH3"), None, MessageStatus::Read, secs(1750030079), None),
                    status(
                        Some("wamid.BATCH5"),
                        Some(PREGON3),
                        MessageStatus::Failed,
                        secs(1751142888),
                        Some(("131026", "Message undeliverable: Message Undeliverable.")),
                    ),
                ],
                inbound: vec![Inbound {
                    text: Some("STOP".into()),
                    context_provider_message_id: Some("wamid.BATCH5".into()),
                    ..inbound("+16505551234", "wamid.BATCH6", secs(1750030090))
                }],
                // `played`, the template-status change, the value-level error.
                ignored: 3,
            }
        );
    }

    #[test]
    fn an_unsupported_message_is_still_a_reply_without_text() {
        let parsed = body(
            ProviderKind::Meta,
            serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
            "field": "messages", "value": {"messages": [
                {"from": "16505551234", "id": "wamid.U", "timestamp": "1750090702", "type": "unsupported",
                 "errors": [{"code": 131051, "title": "Message type unknown"}]},
                {"from": "16505551234", "id": "wamid.R", "timestamp": "1750090703", "type": "reaction",
                 "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
                {"id": "wamid.NOFROM", "timestamp": "1750090704", "type": "text", "text": {"body": "?"}}
            ]}}]}]}),
        )
        .unwrap();
        assert_eq!(
            parsed.inbound,
            vec![inbound("+16505551234", "wamid.U", secs(1750090702))]
        );
        assert_eq!(parsed.ignored, 2);
    }

    #[test]
    fn a_status_without_a_time_takes_now_and_one_without_ids_is_skipped() {
        let parsed = body(
            ProviderKind::Meta,
            serde_json::json!({"entry": [{"changes": [{"value": {"statuses": [
                {"id": "wamid.A", "status": "delivered"},
                {"status": "delivered", "timestamp": "1750030073"},
                {"id": "wamid.B", "status": "deleted", "timestamp": "1750030073"}
            ]}}]}]}),
        )
        .unwrap();
        assert_eq!(
            parsed.statuses,
            vec![status(Some("wamid.A"), None, MessageStatus::Delivered, now(), None)]
        );
        assert_eq!(parsed.ignored, 2);
    }

    #[test]
    fn envelopes_that_are_not_metas() {
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"entry": {}}),
            serde_json::json!({"statuses": []}),
        ] {
            assert!(matches!(body(ProviderKind::Meta, bad), Err(WebhookError::Malformed(_))));
        }
        assert!(matches!(
            parse_at(ProviderKind::Meta, b"[1, 2]", now()),
            Err(WebhookError::Malformed(_))
        ));
    }
}

mod dialog360 {
    use super::*;

    const WAMID: &str = "wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEjQ4RjYxRDk0QjQ3QjlCNjk4NQA=";

    fn d360(name: &str) -> Parsed {
        fixture(ProviderKind::Dialog360, "360dialog", name)
    }

    #[test]
    fn statuses() {
        only_status(
            d360("sent"),
            status(Some(WAMID), Some(PREGON1), MessageStatus::Sent, secs(1751000000), None),
        );
        only_status(
            d360("delivered"),
            status(
                Some(WAMID),
                Some(PREGON1),
                MessageStatus::Delivered,
                secs(1751000004),
                None,
            ),
        );
        only_status(
            d360("read"),
            status(Some(WAMID), None, MessageStatus::Read, secs(1751000060), None),
        );
        only_status(
            d360("failed"),
            status(
                Some(WAMID),
                Some(PREGON1),
                MessageStatus::Failed,
                secs(1751000001),
                Some(("131026", "Message undeliverable: Message Undeliverable.")),
            ),
        );
    }

    #[test]
    fn replies() {
        only_inbound(
            d360("inbound-text"),
            Inbound {
                text: Some("Danke!".into()),
                ..inbound(
                    "+4915112345678",
                    "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFjNFQjBDMEE4RjA1QzlFN0I1NTE0NEEA",
                    secs(1751000120),
                )
            },
        );
        only_inbound(
            d360("inbound-button"),
            Inbound {
                button_payload: Some("stop_promotions".into()),
                button_text: Some("Stop promotions".into()),
                context_provider_message_id: Some(WAMID.into()),
                ..inbound(
                    "+4915112345678",
                    "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFjNFQjBGNkE5QjI0RDc4QTMwNjBGRQA=",
                    secs(1751000130),
                )
            },
        );
    }

    #[test]
    fn the_legacy_flat_shape_is_read_for_360dialog_only() {
        let flat = serde_json::json!({"statuses": [
            {"id": "gBEGkYiEB1VXAglK1ZEqA1YKPrU", "recipient_id": "4915112345678", "status": "read",
             "timestamp": "1518694700"}]});
        only_status(
            body(ProviderKind::Dialog360, flat.clone()).unwrap(),
            status(
                Some("gBEGkYiEB1VXAglK1ZEqA1YKPrU"),
                None,
                MessageStatus::Read,
                secs(1518694700),
                None,
            ),
        );
        assert!(matches!(
            body(ProviderKind::Meta, flat),
            Err(WebhookError::Malformed(_))
        ));
    }
}

mod gupshup {
    use super::*;

    const GS_ID: &str = "853bab23-0963-42c7-8436-7fe4f5866c76";

    fn gupshup(name: &str) -> Parsed {
        fixture(ProviderKind::Gupshup, "gupshup", name)
    }

    #[test]
    fn v2_statuses_by_gs_id() {
        only_status(
            gupshup("v2-sent"),
            status(Some(GS_ID), None, MessageStatus::Sent, secs(1592311836), None),
        );
        only_status(
            gupshup("v2-delivered"),
            status(Some(GS_ID), None, MessageStatus::Delivered, secs(1592311836), None),
        );
        only_status(
            gupshup("v2-read"),
            status(Some(GS_ID), None, MessageStatus::Read, secs(1592311900), None),
        );
    }

    #[test]
    fn v2_failed_by_id_at_the_callbacks_time() {
        only_status(
            gupshup("v2-failed"),
            status(
                Some(GS_ID),
                None,
                MessageStatus::Failed,
                millis(1592311842070),
                Some(("1002", "<text; exact wording unverified>")),
            ),
        );
    }

    #[test]
    fn v2_enqueued_and_billing_are_ignored() {
        only_ignored(gupshup("v2-enqueued"), 1);
        only_ignored(gupshup("billing-event"), 1);
    }

    #[test]
    fn v3_statuses_by_gs_id() {
        const V3_GS_ID: &str = "7daeb742-f2dc-4c09-90e0-d879d20f7b98";
        only_status(
            gupshup("v3-sent"),
            status(Some(V3_GS_ID), None, MessageStatus::Sent, secs(1710930461), None),
        );
        only_status(
            gupshup("v3-failed"),
            status(
                Some(V3_GS_ID),
                None,
                MessageStatus::Failed,
                secs(1710930470),
                Some(("131026", "Message undeliverable: Message Undeliverable.")),
            ),
        );
        // v3 `enqueued` and a status without `gs_id` (keyed by its wamid).
        let parsed = body(
            ProviderKind::Gupshup,
            serde_json::json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"statuses": [
                {"gs_id": V3_GS_ID, "id": "wamid.A", "status": "enqueued", "timestamp": "1710930460"},
                {"id": "wamid.A", "status": "delivered", "timestamp": "1710930462000"}
            ]}}]}]}),
        )
        .unwrap();
        assert_eq!(
            parsed.statuses,
            vec![status(
                Some("wamid.A"),
                None,
                MessageStatus::Delivered,
                secs(1710930462),
                None
            )]
        );
        assert_eq!(parsed.ignored, 1);
    }

    #[test]
    fn a_text_reply_names_the_gs_id_it_answers() {
        only_inbound(
            gupshup("inbound-text"),
            Inbound {
                text: Some("hi".into()),
                context_provider_message_id: Some("9b71295f-f7af-4c1f-b2b4-31b4a4867bad".into()),
                ..inbound("+918098982124", "ABEGkYaYVSEEAgo-sMx1DoUoQJRW", millis(1590854464792))
            },
        );
    }

    #[test]
    fn quick_reply_taps() {
        only_inbound(
            gupshup("inbound-quick-reply"),
            Inbound {
                button_text: Some("View Account Balance".into()),
                context_provider_message_id: Some("9b71295f-f7af-4c1f-b2b4-31b4a4867bad".into()),
                ..inbound("+918098982124", "ABEGkYaYVSEEAgo-sMx1DoUoQJRW", millis(1590854464792))
            },
        );
        only_inbound(
            gupshup("inbound-quick-reply-postback"),
            Inbound {
                button_payload: Some("stop_promotions".into()),
                button_text: Some("Stop promotions".into()),
                context_provider_message_id: Some("gBEGkZlgQyWAAgnJx6zdzW-tmW4".into()),
                ..inbound("+919876543210", "ABEGkZlgQyWAAgo-sDVSUOa9jH0z", millis(1712230664720))
            },
        );
    }

    #[test]
    fn an_interactive_button_reply() {
        // docs.gupshup.io/docs/interactive, "User replies to Quick Reply message".
        let parsed = body(
            ProviderKind::Gupshup,
            serde_json::json!({"app": "DemoApp", "timestamp": 1580228523976_i64, "version": 2, "type": "message",
                "payload": {"id": "ABEGkYaYVSEEAhCzqobr15BdMPcRup1fIXAJ", "source": "918098982124",
                    "type": "button_reply", "payload": {"title": "First", "id": "qr1", "reply": "First 1"},
                    "sender": {"phone": "918098982124", "name": "John", "country_code": "91",
                        "dial_code": "8098982124"},
                    "context": {"id": "gBEGkYaYVSEEAgkvE0f1ZkfXX78", "gsId": "123b0fb2-0620-493b-8f7e-5a1ceb6d8c58"}}}),
        )
        .unwrap();
        only_inbound(
            parsed,
            Inbound {
                button_payload: Some("qr1".into()),
                button_text: Some("First".into()),
                context_provider_message_id: Some("123b0fb2-0620-493b-8f7e-5a1ceb6d8c58".into()),
                ..inbound(
                    "+918098982124",
                    "ABEGkYaYVSEEAhCzqobr15BdMPcRup1fIXAJ",
                    millis(1580228523976),
                )
            },
        );
    }

    #[test]
    fn envelopes_that_are_not_gupshups() {
        for bad in [
            serde_json::json!({"app": "x"}),
            serde_json::json!({"type": "message-event"}),
            serde_json::json!({"type": "message", "payload": "text"}),
        ] {
            assert!(matches!(
                body(ProviderKind::Gupshup, bad),
                Err(WebhookError::Malformed(_))
            ));
        }
        only_ignored(
            body(
                ProviderKind::Gupshup,
                serde_json::json!({"type": "user-event", "payload": {}}),
            )
            .unwrap(),
            1,
        );
    }
}

mod infobip {
    use super::*;

    const IB_ID: &str = "a28dd97c-1ffb-4fcf-99f1-0b557ed381da";

    fn infobip(name: &str) -> Parsed {
        fixture(ProviderKind::Infobip, "infobip", name)
    }

    fn report(status: serde_json::Value, error: serde_json::Value) -> Parsed {
        body(
            ProviderKind::Infobip,
            serde_json::json!({"results": [{"messageId": PREGON1, "callbackData": PREGON1,
                "doneAt": "2026-01-01T10:00:05.000+0000", "status": status, "error": error}]}),
        )
        .unwrap()
    }

    #[test]
    fn delivered_to_handset() {
        // `callbackData` is not a Pregon id here; `messageId` is a UUID, so it is taken.
        only_status(
            infobip("delivered"),
            status(
                Some(IB_ID),
                Some(IB_ID),
                MessageStatus::Delivered,
                rfc3339("2026-01-01T10:00:05Z"),
                None,
            ),
        );
    }

    #[test]
    fn delivered_to_operator_is_sent() {
        only_status(
            infobip("sent"),
            status(
                Some(PREGON2),
                Some(PREGON2),
                MessageStatus::Sent,
                rfc3339("2026-01-01T10:00:00Z"),
                None,
            ),
        );
    }

    #[test]
    fn undeliverable_with_its_error() {
        only_status(
            infobip("failed"),
            status(
                Some(PREGON3),
                Some(PREGON3),
                MessageStatus::Failed,
                rfc3339("2026-01-01T10:05:00Z"),
                Some(("EC_ABSENT_SUBSCRIBER", "Absent Subscriber")),
            ),
        );
    }

    #[test]
    fn a_seen_report_is_read() {
        only_status(
            infobip("seen"),
            status(
                Some(IB_ID),
                Some(IB_ID),
                MessageStatus::Read,
                rfc3339("2026-01-01T10:12:30Z"),
                None,
            ),
        );
    }

    #[test]
    fn every_status_group() {
        let at = rfc3339("2026-01-01T10:00:05Z");
        let no_error = serde_json::json!({"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR",
            "description": "No Error", "permanent": false});
        only_status(
            report(
                serde_json::json!({"groupId": 1, "groupName": "PENDING", "id": 7, "name": "PENDING_ENROUTE",
                    "description": "Message sent to next instance"}),
                no_error.clone(),
            ),
            status(Some(PREGON1), Some(PREGON1), MessageStatus::Sent, at, None),
        );
        only_status(
            report(
                serde_json::json!({"groupId": 4, "groupName": "EXPIRED", "id": 15, "name": "EXPIRED_EXPIRED",
                    "description": "Message expired"}),
                no_error.clone(),
            ),
            status(
                Some(PREGON1),
                Some(PREGON1),
                MessageStatus::Failed,
                at,
                Some(("EXPIRED_EXPIRED", "Message expired")),
            ),
        );
        only_status(
            report(
                serde_json::json!({"groupId": 5, "id": 6, "name": "REJECTED_NETWORK"}),
                serde_json::json!(null),
            ),
            status(
                Some(PREGON1),
                Some(PREGON1),
                MessageStatus::Failed,
                at,
                Some(("REJECTED_NETWORK", "")),
            ),
        );
        only_status(
            report(serde_json::json!({"groupId": 3, "id": 2}), serde_json::json!(null)),
            status(Some(PREGON1), Some(PREGON1), MessageStatus::Sent, at, None),
        );
        only_ignored(report(serde_json::json!({"groupName": "SOMETHING_NEW"}), no_error), 1);
    }

    #[test]
    fn a_text_reply() {
        only_inbound(
            infobip("inbound-text"),
            Inbound {
                text: Some("Support hello".into()),
                ..inbound(
                    "+385919998888",
                    "ABEGOFl3VCQoAhBalbc6rTQT6mgS29EmGZ7a",
                    rfc3339("2019-07-19T11:23:26.998Z"),
                )
            },
        );
    }

    #[test]
    fn a_quick_reply_tap_on_pregons_message() {
        only_inbound(
            infobip("inbound-button"),
            Inbound {
                button_payload: Some("stop_promotions".into()),
                button_text: Some("Stop promotions".into()),
                context_provider_message_id: Some(PREGON1.into()),
                context_message_id: Some(PREGON1.parse().unwrap()),
                ..inbound(
                    "+441134960001",
                    "ABEGRBE0lgABAhC0oPHt8OsDMSI2",
                    rfc3339("2026-01-01T10:15:00Z"),
                )
            },
        );
    }

    #[test]
    fn envelopes_that_are_not_infobips() {
        for bad in [serde_json::json!({}), serde_json::json!({"results": {}})] {
            assert!(matches!(
                body(ProviderKind::Infobip, bad),
                Err(WebhookError::Malformed(_))
            ));
        }
        only_ignored(
            body(
                ProviderKind::Infobip,
                serde_json::json!({"results": [{"messageId": "x"}, 5]}),
            )
            .unwrap(),
            2,
        );
    }
}

mod clickatell {
    use super::*;

    const CK_ID: &str = "77fb29998253415fa5d66971d519d362";

    fn clickatell(name: &str) -> Parsed {
        fixture(ProviderKind::Clickatell, "clickatell", name)
    }

    fn update(item: serde_json::Value) -> Parsed {
        body(
            ProviderKind::Clickatell,
            serde_json::json!({"integrationId": "i", "event": {"messageStatusUpdate": [item]}}),
        )
        .unwrap()
    }

    #[test]
    fn statuses_by_code() {
        only_status(
            clickatell("sent"),
            status(
                Some(CK_ID),
                Some(PREGON1),
                MessageStatus::Sent,
                millis(1767261600000),
                None,
            ),
        );
        only_status(
            clickatell("delivered"),
            status(
                Some(CK_ID),
                Some(PREGON1),
                MessageStatus::Delivered,
                millis(1767261605000),
                None,
            ),
        );
        only_status(
            clickatell("read"),
            status(
                Some(CK_ID),
                Some(PREGON1),
                MessageStatus::Read,
                millis(1767261720000),
                None,
            ),
        );
        only_status(
            clickatell("failed"),
            status(
                Some(CK_ID),
                Some(PREGON1),
                MessageStatus::Failed,
                millis(1767261601000),
                Some(("29", "RECIPIENT_DOES_NOT_EXIST")),
            ),
        );
    }

    #[test]
    fn queued_scheduled_emulated_and_unknown_names_are_ignored() {
        for item in [
            serde_json::json!({"messageId": CK_ID, "statusCode": 2, "status": "QUEUED"}),
            serde_json::json!({"messageId": CK_ID, "statusCode": 3, "status": "SCHEDULED"}),
            serde_json::json!({"messageId": CK_ID, "statusCode": 24, "status": "EMULATED"}),
            serde_json::json!({"messageId": CK_ID, "status": "SOMETHING_NEW"}),
            serde_json::json!({"messageId": CK_ID}),
        ] {
            only_ignored(update(item), 1);
        }
    }

    #[test]
    fn a_code_as_text_or_a_name_alone() {
        only_status(
            update(serde_json::json!({"messageId": CK_ID, "statusCode": "6", "timestamp": 1767261720000_i64})),
            status(Some(CK_ID), None, MessageStatus::Read, millis(1767261720000), None),
        );
        only_status(
            update(serde_json::json!({"messageId": CK_ID, "status": "delivered", "timestamp": 1767261605000_i64})),
            status(Some(CK_ID), None, MessageStatus::Delivered, millis(1767261605000), None),
        );
        only_status(
            update(
                serde_json::json!({"messageId": CK_ID, "status": "WHATSAPP_RE_ENGAGEMENT_REQUIRED",
                "timestamp": 1767261605000_i64}),
            ),
            status(
                Some(CK_ID),
                None,
                MessageStatus::Failed,
                millis(1767261605000),
                Some(("WHATSAPP_RE_ENGAGEMENT_REQUIRED", "WHATSAPP_RE_ENGAGEMENT_REQUIRED")),
            ),
        );
    }

    #[test]
    fn a_text_reply() {
        // `relatedClientMessageId` of the sample is 32 hex digits, not a Pregon id.
        only_inbound(
            clickatell("inbound-text"),
            Inbound {
                text: Some("Text Content of the reply message".into()),
                context_provider_message_id: Some("d33eef0838a121f71069a4cc8d55c19e".into()),
                ..inbound("+2799900001", "3a89680503414383af44dcd0e4e5f184", millis(1506607698000))
            },
        );
        let reply = body(
            ProviderKind::Clickatell,
            serde_json::json!({"event": {"moText": [{"messageId": "m", "relatedClientMessageId": PREGON1,
                "from": "2799900001", "timestamp": 1506607698000_i64, "content": "STOP"}],
                "moMedia": [{"messageId": "n", "from": "2799900001", "content": "aGVsbG8=", "caption": "c"}],
                "somethingNew": [{}], "notAList": 1}}),
        )
        .unwrap();
        // Event kinds come in the JSON object's key order, which serde_json may or may not keep.
        let mut got = reply.inbound;
        got.sort_by(|a, b| a.provider_message_id.cmp(&b.provider_message_id));
        assert_eq!(
            got,
            vec![
                Inbound {
                    text: Some("STOP".into()),
                    context_message_id: Some(PREGON1.parse().unwrap()),
                    ..inbound("+2799900001", "m", millis(1506607698000))
                },
                inbound("+2799900001", "n", now()),
            ]
        );
        assert_eq!(reply.ignored, 2);
    }

    #[test]
    fn envelopes_that_are_not_clickatells() {
        for bad in [
            serde_json::json!({"integrationId": "i"}),
            serde_json::json!({"event": []}),
        ] {
            assert!(matches!(
                body(ProviderKind::Clickatell, bad),
                Err(WebhookError::Malformed(_))
            ));
        }
    }
}
