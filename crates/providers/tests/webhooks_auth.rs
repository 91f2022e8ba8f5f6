//! Meta's webhook authentication (providers.md §1.7): the `X-Hub-Signature-256` HMAC over the raw body, and the
//! `hub.*` subscription handshake.
#![allow(clippy::unwrap_used)]

use hmac::{Hmac, Mac};
use pregon_providers::webhooks::{WebhookError, meta_handshake, verify_meta_signature};
use sha2::Sha256;

const SECRET: &str = "6d1f0a3c9b8e7d6c5b4a39281706f5e4";
const BODY: &[u8] = include_bytes!("../../../fixtures/webhooks/meta/batch.json");

/// `sha256=<hex>` of `body` under `secret`, as Meta computes it.
fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn a_correct_signature_passes() {
    let header = signature(SECRET, BODY);
    assert_eq!(verify_meta_signature(SECRET, BODY, Some(&header)), Ok(()));
    // Hex case, the prefix's case and surrounding blanks do not matter.
    let upper = format!("SHA256={}", header["sha256=".len()..].to_ascii_uppercase());
    assert_eq!(verify_meta_signature(SECRET, BODY, Some(&upper)), Ok(()));
    assert_eq!(
        verify_meta_signature(SECRET, BODY, Some(&format!(" {header}\t"))),
        Ok(())
    );
    // An empty body is signed too.
    assert_eq!(
        verify_meta_signature(SECRET, b"", Some(&signature(SECRET, b""))),
        Ok(())
    );
}

#[test]
fn a_forged_signature_is_refused() {
    // Another secret.
    let forged = signature("not-the-app-secret", BODY);
    assert_eq!(
        verify_meta_signature(SECRET, BODY, Some(&forged)),
        Err(WebhookError::BadSignature)
    );
    // The right secret, but the body changed by one byte.
    let mut tampered = BODY.to_vec();
    tampered[10] ^= 1;
    let header = signature(SECRET, BODY);
    assert_eq!(
        verify_meta_signature(SECRET, &tampered, Some(&header)),
        Err(WebhookError::BadSignature)
    );
    // The right signature of another body.
    assert_eq!(
        verify_meta_signature(SECRET, BODY, Some(&signature(SECRET, b"{}"))),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn a_missing_signature_is_refused() {
    assert_eq!(
        verify_meta_signature(SECRET, BODY, None),
        Err(WebhookError::MissingSignature)
    );
    assert_eq!(
        verify_meta_signature(SECRET, BODY, Some("")),
        Err(WebhookError::MissingSignature)
    );
    assert_eq!(
        verify_meta_signature(SECRET, BODY, Some("  ")),
        Err(WebhookError::MissingSignature)
    );
}

#[test]
fn a_malformed_signature_is_refused() {
    let good = signature(SECRET, BODY);
    let digits = &good["sha256=".len()..];
    for header in [
        digits.to_owned(),                     // no prefix
        format!("sha1={digits}"),              // another algorithm
        format!("sha256={}", &digits[..62]),   // one byte short
        format!("sha256={digits}00"),          // one byte long
        format!("sha256={}zz", &digits[..62]), // not hex
        format!("sha256={}", &digits[..63]),   // odd length
        "sha256=".to_owned(),                  // nothing signed
        "sha2€6=abcd".to_owned(),              // a multi-byte character across the prefix
        "é".to_owned(),                        // shorter than the prefix
        format!("sha256= {digits}"),           // a blank inside
    ] {
        assert_eq!(
            verify_meta_signature(SECRET, BODY, Some(&header)),
            Err(WebhookError::BadSignature),
            "{header}"
        );
    }
}

#[test]
fn a_blank_app_secret_vouches_for_nothing() {
    let header = signature("", BODY);
    assert_eq!(
        verify_meta_signature("", BODY, Some(&header)),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn the_handshake_answers_the_right_token_only() {
    let token = "pregon-verify-token";
    assert_eq!(
        meta_handshake(
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=pregon-verify-token",
            token
        ),
        Some("1158201444".into())
    );
    // Percent-encoding is decoded.
    assert_eq!(
        meta_handshake(
            "hub.verify_token=a%20b%26c&hub.mode=subscribe&hub.challenge=42",
            "a b&c"
        ),
        Some("42".into())
    );
    for query in [
        "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong",
        "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=pregon-verify-toke",
        "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=pregon-verify-token2",
        "hub.mode=subscribe&hub.challenge=1158201444",
        "hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=pregon-verify-token",
        "hub.challenge=1158201444&hub.verify_token=pregon-verify-token",
        "hub.mode=subscribe&hub.verify_token=pregon-verify-token",
        "hub.mode=subscribe&hub.challenge=&hub.verify_token=pregon-verify-token",
        "hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=pregon-verify-token",
        "",
        "%%%&&&==",
    ] {
        assert_eq!(meta_handshake(query, token), None, "{query}");
    }
    let long = format!(
        "hub.mode=subscribe&hub.challenge={}&hub.verify_token={token}",
        "9".repeat(129)
    );
    assert_eq!(meta_handshake(&long, token), None);
}

#[test]
fn a_blank_verify_token_matches_nothing() {
    assert_eq!(
        meta_handshake("hub.mode=subscribe&hub.challenge=1&hub.verify_token=", ""),
        None
    );
}
