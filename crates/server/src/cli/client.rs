//! The HTTP side of the client commands: one `reqwest` client with the server's URL and the app's token, and every
//! failure turned into a [`CliError`] that says what happened in words and picks the exit code.

use super::{CliError, Remote};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// How long a JSON request may take. Uploads have no overall limit (a 100 MB file on a slow link takes minutes);
/// their connection still has to open within [`CONNECT_TIMEOUT`].
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long opening the connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of one Pregon server, authenticated as one app.
pub struct Client {
    http: reqwest::Client,
    /// The server's root, without a trailing `/`.
    base: String,
    token: String,
}

impl Client {
    /// A client for `remote`; fails without a token, or with a server URL that is not `http(s)://…`.
    pub fn new(remote: &Remote) -> Result<Client, CliError> {
        let base = remote.server.trim().trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&base)
            .map_err(|e| CliError::Usage(format!("--server `{}` is not a URL: {e}", remote.server)))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(CliError::Usage(format!(
                "--server `{}` must be an http:// or https:// URL, like http://127.0.0.1:8080",
                remote.server
            )));
        }
        let token = remote
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                CliError::Unauthorized(
                    "no token: pass --token or set PREGON_TOKEN to the app's token (`pregon apps create` prints one)"
                        .into(),
                )
            })?
            .to_owned();
        // reqwest is built without a default TLS crypto provider; https needs the process-wide one installed.
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("pregon-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Other(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client { http, base, token })
    }

    /// The server's root URL, as given.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A request to `path` (which starts with `/`) with the token, and no overall time-out.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// Send `request`; a 2xx answer is returned, anything else becomes the error the server gave.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, CliError> {
        let response = request.send().await.map_err(|e| self.network_error(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(error_from_response(response).await)
    }

    /// A JSON request with the usual time-out; the answer parsed as `T`.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, CliError> {
        let mut request = self.request(method, path).timeout(REQUEST_TIMEOUT);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = self.send(request).await?;
        read_json(response).await
    }

    /// `GET path`, parsed as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.json(Method::GET, path, None).await
    }

    /// A request that never got an answer: the server is down, the name does not resolve, the connection broke.
    pub fn network_error(&self, e: &reqwest::Error) -> CliError {
        let reason = if e.is_timeout() {
            "the request timed out".to_owned()
        } else {
            root_cause(e)
        };
        CliError::Unreachable {
            url: self.base.clone(),
            reason,
        }
    }
}

/// The answer's body as `T`; a body of another shape is the server's fault, said plainly.
pub async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, CliError> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| CliError::Other(format!("the answer broke off: {}", root_cause(&e))))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        CliError::Other(format!(
            "unexpected answer from the server (HTTP {status}): {e}: {}",
            excerpt(&bytes)
        ))
    })
}

/// The server's `{"error": {"code", "message", "details"}}` as a [`CliError`]; any other body is reported with its
/// HTTP status and the start of the body (a proxy's HTML page, say).
pub async fn error_from_response(response: Response) -> CliError {
    let status = response.status();
    let bytes = response.bytes().await.unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let details = error.and_then(|e| e.get("details")).filter(|d| !d.is_null()).cloned();
    match (code, message) {
        (Some(code), Some(message)) if status == StatusCode::UNAUTHORIZED => {
            CliError::Unauthorized(format!("the server refused the token: {message} [{code}]"))
        }
        (Some(code), Some(message)) => CliError::Api {
            status: status.as_u16(),
            code,
            message,
            details,
        },
        _ if status == StatusCode::UNAUTHORIZED => {
            CliError::Unauthorized(format!("the server refused the token (HTTP {status})"))
        }
        _ => CliError::Api {
            status: status.as_u16(),
            code: format!("http_{}", status.as_u16()),
            message: format!("the server answered HTTP {status}: {}", excerpt(&bytes)),
            details: None,
        },
    }
}

/// The innermost cause of an error, in words: "connection refused" rather than reqwest's outer "error sending
/// request for url (…)".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current: &(dyn std::error::Error + 'static) = e;
    loop {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => return "the connection was reset".into(),
                _ => {}
            }
        }
        match current.source() {
            Some(next) => current = next,
            None => return current.to_string(),
        }
    }
}

/// The first 200 characters of a body, for an error message.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    let cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}
