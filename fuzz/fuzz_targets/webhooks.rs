//! Every provider's webhook parser, and Meta's signature check and subscription handshake. The first byte picks
//! which; the rest is the body (or, for the signature, `header\nbody`; for the handshake, the query string).
//! Property: nothing panics (the parsers promise it: "Never panics, whatever the body").
#![no_main]

use libfuzzer_sys::fuzz_target;
use pregon_core::ProviderKind;
use pregon_providers::webhooks;

const PROVIDERS: [ProviderKind; 6] = [
    ProviderKind::Meta,
    ProviderKind::Dialog360,
    ProviderKind::Gupshup,
    ProviderKind::Infobip,
    ProviderKind::Clickatell,
    ProviderKind::Sandbox,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 8 {
        6 => {
            let (header, body) = match rest.iter().position(|&b| b == b'\n') {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            let header = String::from_utf8_lossy(header);
            let _ = webhooks::verify_meta_signature("app-secret", body, Some(&header));
        }
        7 => {
            let query = String::from_utf8_lossy(rest);
            if let Some(challenge) = webhooks::meta_handshake(&query, "verify-token") {
                // The challenge is echoed as the answer body: it must never be arbitrary text.
                assert!(
                    !challenge.is_empty()
                        && challenge
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                    "{challenge:?}"
                );
            }
        }
        n => {
            let provider = PROVIDERS[usize::from(n)];
            if let Ok(parsed) = webhooks::parse(provider, rest) {
                assert_ne!(provider, ProviderKind::Sandbox);
                // Touch everything, as the server does when it applies the events.
                let _ = format!("{parsed:?}");
            }
        }
    }
});
