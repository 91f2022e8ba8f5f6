//! Tokens and the one auth layer every `/v1` and `/api` route goes through.
//!
//! A token is 32 random bytes (`pgn_` + base64url); only its SHA-256 is stored. A fast hash is right here: the
//! token has 256 bits of entropy, so there is nothing for a slow hash to protect, and lookups stay one index probe.
//!
//! Accepted forms: `Authorization: Bearer <token>` everywhere; `Authorization: Basic base64(app:token)` (Jelou's
//! `clientId:clientSecret`) everywhere; a token in the query string (`token`, `apiKey`, `api_key` or
//! `access_token`) only on the Chat-Tonic routes, whose document allows it. Query strings are never logged.

use crate::http::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use pregon_core::ErrorCode;
use pregon_core::campaign::App;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix of every token, so a leaked one is recognisable (and greppable by secret scanners).
pub const TOKEN_PREFIX: &str = "pgn_";

/// A new random token.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What the store keeps of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The authenticated app, put into request extensions by the auth layer.
#[derive(Clone, Debug)]
pub struct Caller(pub App);

/// Query-string names a Chat-Tonic client may put its token in.
const QUERY_TOKEN_NAMES: &[&str] = &["token", "apiKey", "api_key", "access_token"];

/// The credentials a request presents.
#[derive(Debug, PartialEq, Eq)]
enum Presented {
    Bearer(String),
    Basic { app: String, token: String },
}

fn presented(parts: &Parts, allow_query: bool) -> Result<Option<Presented>, ApiError> {
    if let Some(value) = parts.headers.get(AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| unauthorized("the Authorization header is not readable text"))?;
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        return match scheme.to_ascii_lowercase().as_str() {
            "bearer" if !rest.is_empty() => Ok(Some(Presented::Bearer(rest.to_owned()))),
            "basic" => {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(rest)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| unauthorized("the Basic credentials are not base64 of `app:token`"))?;
                let (app, token) = decoded
                    .split_once(':')
                    .ok_or_else(|| unauthorized("the Basic credentials are not `app:token`"))?;
                Ok(Some(Presented::Basic {
                    app: app.to_owned(),
                    token: token.to_owned(),
                }))
            }
            _ => Err(unauthorized("use `Authorization: Bearer <token>` or Basic `app:token`")),
        };
    }
    if allow_query && let Some(query) = parts.uri.query() {
        for (key, value) in form_pairs(query) {
            if QUERY_TOKEN_NAMES.contains(&key.as_str()) && !value.is_empty() {
                return Ok(Some(Presented::Bearer(value)));
            }
        }
    }
    Ok(None)
}

fn form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

async fn authenticate(state: &AppState, parts: &Parts, allow_query: bool) -> Result<App, ApiError> {
    let presented = presented(parts, allow_query)?.ok_or_else(|| {
        unauthorized(if allow_query {
            "credentials required: `Authorization: Bearer <token>`, or `?token=` in the query string"
        } else {
            "credentials required: `Authorization: Bearer <token>`"
        })
    })?;
    let (token, basic_app) = match presented {
        Presented::Bearer(token) => (token, None),
        Presented::Basic { app, token } => (token, Some(app)),
    };
    let app = state
        .store
        .app_by_token_hash(&hash_token(&token))
        .await?
        .ok_or_else(|| unauthorized("invalid token"))?;
    if basic_app.is_some_and(|name| name != app.name) {
        return Err(unauthorized("invalid credentials"));
    }
    Ok(app)
}

/// The auth layer for the native API: header credentials only.
pub async fn require_app(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, ApiError> {
    run(state, request, next, false).await
}

/// The auth layer for the Chat-Tonic routes: header credentials or a token in the query string.
pub async fn require_app_or_query_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    run(state, request, next, true).await
}

async fn run(state: AppState, request: Request, next: Next, allow_query: bool) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let app = authenticate(&state, &parts, allow_query).await?;
    tracing::Span::current().record("app", app.name.as_str());
    parts.extensions.insert(Caller(app));
    Ok(next.run(Request::from_parts(parts, body)).await)
}

/// Whether a secret someone sent equals the expected one. The digests are compared, not the strings, so the time taken
/// says nothing about how long a prefix matched.
pub fn same_secret(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request as HttpRequest;

    fn parts(uri: &str, auth: Option<&str>) -> Parts {
        let mut b = HttpRequest::builder().uri(uri);
        if let Some(a) = auth {
            b = b.header(AUTHORIZATION, a);
        }
        b.body(()).map(|r| r.into_parts().0).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43, "{a}");
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 64);
        assert!(!hash_token(&a).contains(&a[4..]));
    }

    #[test]
    fn credentials_are_read_from_each_accepted_place() {
        assert_eq!(
            presented(&parts("/v1/x", Some("Bearer abc")), false).ok(),
            Some(Some(Presented::Bearer("abc".into())))
        );
        assert_eq!(
            presented(&parts("/v1/x", Some("bearer  abc ")), false).ok(),
            Some(Some(Presented::Bearer("abc".into())))
        );
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("acme:pgn_tok")
        );
        assert_eq!(
            presented(&parts("/v1/x", Some(&basic)), false).ok(),
            Some(Some(Presented::Basic {
                app: "acme".into(),
                token: "pgn_tok".into()
            }))
        );
        assert!(presented(&parts("/v1/x", Some("Basic !!!")), false).is_err());
        assert!(presented(&parts("/v1/x", Some("Digest x")), false).is_err());
        assert!(presented(&parts("/v1/x", Some("Bearer")), false).is_err());
        // Query tokens only where allowed.
        assert_eq!(
            presented(&parts("/api/v1/acme/hsm?token=abc", None), false).ok(),
            Some(None)
        );
        for q in [
            "token=abc",
            "apiKey=abc",
            "api_key=abc",
            "access_token=abc",
            "query=%7B%7D&token=abc",
        ] {
            assert_eq!(
                presented(&parts(&format!("/api/v1/acme/hsm?{q}"), None), true).ok(),
                Some(Some(Presented::Bearer("abc".into()))),
                "{q}"
            );
        }
        assert_eq!(
            presented(&parts("/api/v1/acme/hsm?token=", None), true).ok(),
            Some(None)
        );
    }
}
