//! No webhook body makes the parsers panic: garbage bytes, truncated JSON, deep nesting, and every fixture with
//! each of its values swapped for values of the wrong type or absurd size. Whatever they return, what they return
//! holds together (every event names a message, every sender is `+digits`).
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use pregon_core::ProviderKind;
use pregon_providers::webhooks::{Parsed, WebhookError, parse_at};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const PROVIDERS: [ProviderKind; 5] = [
    ProviderKind::Meta,
    ProviderKind::Dialog360,
    ProviderKind::Gupshup,
    ProviderKind::Infobip,
    ProviderKind::Clickatell,
];

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).unwrap()
}

/// Every fixture, with the provider that sends it.
fn fixtures() -> Vec<(ProviderKind, PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/webhooks");
    let mut all = Vec::new();
    for (dir, provider) in [
        ("meta", ProviderKind::Meta),
        ("360dialog", ProviderKind::Dialog360),
        ("gupshup", ProviderKind::Gupshup),
        ("infobip", ProviderKind::Infobip),
        ("clickatell", ProviderKind::Clickatell),
    ] {
        for file in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = file.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            all.push((provider, path, bytes));
        }
    }
    all
}

/// Parse, and check that whatever came back is coherent.
fn check(provider: ProviderKind, body: &[u8]) -> Result<Parsed, WebhookError> {
    let result = parse_at(provider, body, now());
    if let Ok(parsed) = &result {
        for event in &parsed.statuses {
            assert!(
                event.provider_message_id.is_some() || event.message_id.is_some(),
                "{event:?}"
            );
            assert!(
                event
                    .provider_message_id
                    .as_ref()
                    .is_none_or(|id| !id.trim().is_empty())
            );
        }
        for message in &parsed.inbound {
            let digits = message.from.strip_prefix('+').unwrap();
            assert!(
                (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
                "{message:?}"
            );
        }
    }
    result
}

#[test]
fn garbage_bytes_are_malformed() {
    let mut bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b" ".to_vec(),
        b"null".to_vec(),
        b"true".to_vec(),
        b"42".to_vec(),
        b"\"entry\"".to_vec(),
        b"[]".to_vec(),
        b"[{\"entry\": []}]".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"{\"entry\": [}".to_vec(),
        b"\xff\xfe\x00{".to_vec(),
        b"{\"results\": [\xff]}".to_vec(),
        b"{\"timestamp\": 1e400}".to_vec(),
        "{\"entry\": [{\"changes\": [{\"value\": {\"statuses\": [{\"id\": \"\u{0}\"}]}}]}]}"
            .as_bytes()
            .to_vec(),
        vec![b'['; 100_000],
        [vec![b'['; 50_000], vec![b']'; 50_000]].concat(),
        format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes(),
    ];
    // Deterministic noise.
    let alphabet = b"{}[]\":,0123456789.eE-+ tfnul\\abcxyz\xc3\xa9";
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in 0..300 {
        let body = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly JSON punctuation, so the noise gets past the first byte.
                alphabet[(seed % alphabet.len() as u64) as usize]
            })
            .collect();
        bodies.push(body);
    }
    for body in &bodies {
        for provider in PROVIDERS {
            let _ = check(provider, body);
        }
        assert!(parse_at(ProviderKind::Sandbox, body, now()).is_err());
    }
    assert!(matches!(
        check(ProviderKind::Meta, b"{\"timestamp\": 1e400}"),
        Err(WebhookError::Malformed(_))
    ));
    assert!(matches!(
        check(ProviderKind::Infobip, &[b'['; 100_000]),
        Err(WebhookError::Malformed(_))
    ));
}

#[test]
fn truncated_fixtures_never_panic() {
    for (provider, path, bytes) in fixtures() {
        for end in 0..bytes.len() {
            let result = check(provider, &bytes[..end]);
            // Cutting a pretty-printed object before its closing brace always breaks it.
            assert!(
                result.is_err() || bytes[end..].iter().all(u8::is_ascii_whitespace),
                "{}",
                path.display()
            );
        }
    }
}

/// Values of every wrong kind and absurd size.
fn strange_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1.5e308),
        json!(-0.0),
        json!(""),
        json!("   "),
        json!("x"),
        json!("9".repeat(400)),
        json!("+".repeat(20)),
        json!("é".repeat(1_000)),
        json!([]),
        json!([null, 1, "a"]),
        json!({}),
        json!({"id": {}, "status": []}),
    ]
}

/// Every path to a value in `value`, as JSON pointers.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                pointers(v, format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn fixtures_with_wrong_types_and_huge_values_never_panic() {
    let strange = strange_values();
    let mut parsed = 0;
    for (provider, path, bytes) in fixtures() {
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        // A body sent to another provider's URL must not panic either.
        for other in PROVIDERS {
            let _ = check(other, &bytes);
        }
        let mut paths = Vec::new();
        pointers(&original, String::new(), &mut paths);
        for pointer in paths.iter().filter(|p| !p.is_empty()) {
            for replacement in &strange {
                let mut body = original.clone();
                *body.pointer_mut(pointer).unwrap() = replacement.clone();
                if check(provider, body.to_string().as_bytes()).is_ok() {
                    parsed += 1;
                }
            }
            // And the key removed.
            let mut body = original.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            match body.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(items)) => {
                    items.remove(key.parse::<usize>().unwrap());
                }
                _ => unreachable!("{}: {pointer}", path.display()),
            }
            let _ = check(provider, body.to_string().as_bytes());
        }
    }
    // Most mutations leave the envelope readable: the items inside are skipped, not the body.
    assert!(parsed > 1_000, "{parsed}");
}
