//! Meta's webhook authentication (providers.md §1.7), which 360dialog's Cloud API hosting forwards:
//! - each POST carries `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body keyed with the app
//!   secret; [`verify_meta_signature`] checks it in constant time (over the exact bytes received, before parsing);
//! - subscribing the URL is a GET with `hub.mode=subscribe`, `hub.verify_token` and `hub.challenge`;
//!   [`meta_handshake`] gives the challenge to echo (200, `text/plain`) when the token is the account's.

use super::WebhookError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header carrying Meta's signature.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// The longest challenge echoed back. Meta's is a number; anything long or outside `[A-Za-z0-9._-]` is refused, so
/// the endpoint never reflects arbitrary text.
const CHALLENGE_MAX: usize = 128;

/// Whether `header` (the value of [`SIGNATURE_HEADER`], if the request had one) is `sha256=` and the hex HMAC-SHA256
/// of `body` keyed with `app_secret`. A missing or blank header is [`WebhookError::MissingSignature`]; a header
/// that is not `sha256=<64 hex digits>`, a wrong signature, or a blank `app_secret` (which can vouch for nothing)
/// is [`WebhookError::BadSignature`].
pub fn verify_meta_signature(app_secret: &str, body: &[u8], header: Option<&str>) -> Result<(), WebhookError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(WebhookError::MissingSignature)?;
    if app_secret.is_empty() {
        return Err(WebhookError::BadSignature);
    }
    let hex_digits = header
        .get(..7)
        .filter(|prefix| prefix.eq_ignore_ascii_case("sha256="))
        .and_then(|_| header.get(7..))
        .ok_or(WebhookError::BadSignature)?;
    let expected = hex::decode(hex_digits).map_err(|_| WebhookError::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).map_err(|_| WebhookError::BadSignature)?;
    mac.update(body);
    // Constant-time, and refuses a digest of the wrong length.
    mac.verify_slice(&expected).map_err(|_| WebhookError::BadSignature)
}

/// Meta's subscription handshake: given the GET's raw query string (`hub.mode=subscribe&hub.verify_token=…&
/// hub.challenge=…`, percent-encoded), the challenge to answer with when the mode is `subscribe` and the token is
/// `verify_token` (compared in constant time); `None` otherwise — Pregon then answers 401. A blank `verify_token` matches
/// nothing.
pub fn meta_handshake(query: &str, verify_token: &str) -> Option<String> {
    if verify_token.is_empty() {
        return None;
    }
    let (mut mode, mut token, mut challenge) = (None, None, None);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "hub.mode" => mode = Some(value),
            "hub.verify_token" => token = Some(value),
            "hub.challenge" => challenge = Some(value),
            _ => {}
        }
    }
    let token_matches: bool = token?.as_bytes().ct_eq(verify_token.as_bytes()).into();
    let challenge = challenge?;
    let challenge_ok = !challenge.is_empty()
        && challenge.len() <= CHALLENGE_MAX
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    (mode? == "subscribe" && token_matches && challenge_ok).then(|| challenge.into_owned())
}
