//! Reading single fields of a webhook body: texts, phones, Pregon ids, times. Each takes what it finds
//! (`Option<&Value>`) and gives `None` for anything absent or of the wrong kind.

use crate::classify;
use chrono::{DateTime, NaiveDateTime, Utc};
use pregon_core::MessageId;
use serde_json::Value;

/// Above this, an epoch number is read as milliseconds (1e11 s is the year 5138; 1e11 ms is 1973).
const MILLIS_FROM: i64 = 100_000_000_000;

/// The most digits in an E.164 number.
const PHONE_DIGITS_MAX: usize = 15;

/// A non-blank string, trimmed, owned.
pub(super) fn text(value: Option<&Value>) -> Option<String> {
    classify::str_of(value).map(str::to_owned)
}

/// A non-blank string, trimmed.
pub(super) fn str(value: Option<&Value>) -> Option<&str> {
    classify::str_of(value)
}

/// A string or a number as an id or code (`131049`, `"E400"`).
pub(super) fn code(value: Option<&Value>) -> Option<String> {
    classify::code_string(value)
}

/// A phone number (string or number, any formatting) as E.164 with a `+`; `None` without 1–15 digits.
pub(super) fn phone(value: Option<&Value>) -> Option<String> {
    let raw = match value? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_u64()?.to_string(),
        _ => return None,
    };
    let digits = classify::digits(&raw);
    (!digits.is_empty() && digits.len() <= PHONE_DIGITS_MAX).then(|| format!("+{digits}"))
}

/// Pregon's message id, if the field holds one: a UUID written as Pregon writes it (hyphenated, 36 characters),
/// so that a provider's own 32-hex-digit ids are never taken for one.
pub(super) fn message_id(value: Option<&Value>) -> Option<MessageId> {
    str(value).filter(|s| s.len() == 36)?.parse().ok()
}

/// The first of `values` that reads as a time, else `now`.
pub(super) fn time_or(now: DateTime<Utc>, values: &[Option<&Value>]) -> DateTime<Utc> {
    values.iter().find_map(|v| time(*v)).unwrap_or(now)
}

/// A time: unix seconds or milliseconds (number or digit string), RFC 3339, or Infobip's
/// `2026-01-01T10:00:00.000+0000`. `None` for anything else, or a time outside what `chrono` can hold.
pub(super) fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    match value? {
        Value::Number(n) => match n.as_i64() {
            Some(i) => epoch(i),
            // Floats: whole seconds or milliseconds, when in range (an `as` cast saturates, never panics).
            None => n
                .as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e15)
                .and_then(|f| epoch(f as i64)),
        },
        Value::String(s) => {
            let s = s.trim();
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                return epoch(s.parse().ok()?);
            }
            DateTime::parse_from_rfc3339(s)
                .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
                .map(|t| t.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    // Offset-less: taken as UTC.
                    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                        .ok()
                        .map(|t| t.and_utc())
                })
        }
        _ => None,
    }
}

/// Unix seconds, or milliseconds past [`MILLIS_FROM`]; `None` for zero, negatives and what `chrono` cannot hold.
fn epoch(n: i64) -> Option<DateTime<Utc>> {
    match n {
        ..=0 => None,
        MILLIS_FROM.. => DateTime::from_timestamp_millis(n),
        _ => DateTime::from_timestamp(n, 0),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn times_in_every_shape() {
        let t = at("2025-06-15T23:27:53Z");
        for v in [
            json!(1750030073),
            json!("1750030073"),
            json!(1750030073000_i64),
            json!("1750030073000"),
            json!(1750030073.0),
            json!("2025-06-15T23:27:53Z"),
            json!("2025-06-16T01:27:53+02:00"),
            json!("2025-06-15T23:27:53.000+0000"),
            json!("2025-06-15T23:27:53"),
        ] {
            assert_eq!(time(Some(&v)), Some(t), "{v}");
        }
        for v in [
            json!(0),
            json!(-5),
            json!(u64::MAX),
            json!(1e300),
            json!("99999999999999999999999"),
            json!("yesterday"),
            json!(""),
            json!(null),
            json!([1]),
            json!(i64::MAX),
        ] {
            assert_eq!(time(Some(&v)), None, "{v}");
        }
    }

    #[test]
    fn only_hyphenated_uuids_are_pregon_ids() {
        let id = "0199a4f2-7c3e-7b8a-9d41-2f6c8e1a5b30";
        assert_eq!(message_id(Some(&json!(id))), Some(id.parse().unwrap()));
        assert_eq!(message_id(Some(&json!(format!(" {id} ")))), Some(id.parse().unwrap()));
        for other in [
            "0199a4f27c3e7b8a9d412f6c8e1a5b30",
            "Callback data",
            "",
            "{0199a4f2-7c3e-7b8a-9d41-2f6c8e1a5b30}",
        ] {
            assert_eq!(message_id(Some(&json!(other))), None, "{other}");
        }
        assert_eq!(message_id(Some(&json!(5))), None);
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(phone(Some(&json!("16505551234"))), Some("+16505551234".into()));
        assert_eq!(phone(Some(&json!("+54 9 11 2345-6789"))), Some("+5491123456789".into()));
        assert_eq!(phone(Some(&json!(2799900001_u64))), Some("+2799900001".into()));
        assert_eq!(phone(Some(&json!("no digits"))), None);
        assert_eq!(phone(Some(&json!("1234567890123456"))), None);
        assert_eq!(phone(Some(&json!(true))), None);
    }
}
