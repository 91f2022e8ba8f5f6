//! Campaign files given by URL (`file_url` / `fileUrl`), fetched without becoming a way into the private network.
//!
//! The URL comes from a client, so it is an SSRF vector: every hop (the URL and each redirect) must be http(s) and
//! must not name a forbidden address, and every DNS answer is filtered at connection time by the resolver the HTTP
//! client itself uses, so a name cannot pass a check with a public address and then connect to a private one
//! (DNS rebinding). Proxies are disabled, because a proxy would resolve names where we cannot filter them.

use crate::spool::{SpoolError, SpooledFile, spool};
use futures::TryStreamExt;
use reqwest::StatusCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::error::Error as _;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// Fetch settings: `allow_private` lets tests (and operators who need it) reach loopback/private hosts.
#[derive(Clone, Debug)]
pub struct FetchPolicy {
    /// Allow every address, including loopback, private and link-local ones (tests, closed networks).
    pub allow_private: bool,
    /// Largest body accepted, counted on the bytes received.
    pub max_bytes: u64,
    /// Deadline for the whole fetch: connecting, every redirect and the body.
    pub timeout: Duration,
    /// Most redirects followed; one more is an error.
    pub max_redirects: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allow_private: false,
            max_bytes: 100 * 1024 * 1024,
            timeout: Duration::from_secs(60),
            max_redirects: 5,
        }
    }
}

/// Why a URL could not be fetched. No variant holds the URL itself, which may carry credentials.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not a URL, not http/https, or without a host (also for a redirect's `Location`).
    #[error("invalid file URL: {0}")]
    InvalidUrl(String),
    /// The URL, a redirect or a DNS answer names a private, loopback, link-local or otherwise internal address.
    #[error("refused to fetch the file: {0}")]
    Forbidden(String),
    /// The server answered with a status other than 2xx.
    #[error("the file server answered HTTP {0}")]
    Status(u16),
    /// The body is larger than the policy allows.
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The whole fetch took longer than the policy allows.
    #[error("fetching the file timed out")]
    Timeout,
    /// Connecting or reading failed, or there were too many redirects.
    #[error("could not fetch the file: {0}")]
    Network(String),
    /// The body could not be written to disk.
    #[error("could not store the fetched file: {0}")]
    Io(#[from] std::io::Error),
}

/// Downloads files under a [`FetchPolicy`]. Build one and share it: clones share the connection pool.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: FetchPolicy,
}

impl Fetcher {
    /// A fetcher that resolves names with the system resolver (getaddrinfo).
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        Self::with_resolver(policy, Arc::new(SystemResolver))
    }

    /// A fetcher that resolves names with `resolver`, whose answers are still filtered unless `allow_private`.
    pub fn with_resolver(policy: FetchPolicy, resolver: Arc<dyn Resolve>) -> Result<Self, FetchError> {
        let resolver: Arc<dyn Resolve> = if policy.allow_private {
            resolver
        } else {
            Arc::new(GuardedResolver { inner: resolver })
        };
        Self::build(policy, resolver)
    }

    /// The policy in effect.
    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// GET `url` (http or https only) and spool the body to `dir` with the size limit; not 2xx → error with the status.
    pub async fn fetch(&self, url: &str, dir: &Path) -> Result<SpooledFile, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        self.check_url(&url)?;
        tracing::info!(url = %redact(&url), "fetching file");
        tokio::time::timeout(self.policy.timeout, self.fetch_checked(url, dir))
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }

    /// Check that `url` may be reached under this policy (http or https, not a forbidden address unless allowed).
    pub fn check(&self, url: &str) -> Result<Url, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        self.check_url(&url)?;
        Ok(url)
    }

    /// POST `body` as JSON to `url` under the same policy (the address checks; redirects are not followed) with
    /// `headers`, within `timeout`; returns the answer's status.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: String,
        timeout: Duration,
    ) -> Result<u16, FetchError> {
        let url = self.check(url)?;
        let mut request = self
            .client
            .post(url)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(request_error)?;
        Ok(response.status().as_u16())
    }

    fn build(policy: FetchPolicy, resolver: Arc<dyn Resolve>) -> Result<Self, FetchError> {
        crate::install_crypto_provider();
        let client = reqwest::Client::builder()
            // A proxy (including one from HTTP_PROXY) would resolve names on its side, past our resolver.
            .no_proxy()
            // Redirects are followed by hand so every hop goes through `check_url`; reqwest's own redirect
            // policy would need its verdict smuggled out of an opaque error.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(resolver)
            .user_agent(concat!("pregon/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(describe)
            .map_err(FetchError::Network)?;
        Ok(Self { client, policy })
    }

    async fn fetch_checked(&self, mut url: Url, dir: &Path) -> Result<SpooledFile, FetchError> {
        let limit = self.policy.max_bytes;
        let mut redirects = 0;
        loop {
            let response = self.client.get(url.clone()).send().await.map_err(request_error)?;
            let status = response.status();
            if let Some(next) = self.redirect_target(&url, status, response.headers().get(reqwest::header::LOCATION))? {
                if redirects == self.policy.max_redirects {
                    return Err(FetchError::Network(format!(
                        "more than {} redirects",
                        self.policy.max_redirects
                    )));
                }
                redirects += 1;
                tracing::debug!(from = %redact(&url), to = %redact(&next), status = status.as_u16(), "following redirect");
                url = next;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            // Only a shortcut: an honest header saves the download, the spool limit catches a dishonest one.
            if let Some(length) = response.content_length()
                && length > limit
            {
                return Err(FetchError::TooLarge { limit });
            }
            let body = Box::pin(response.bytes_stream().map_err(describe));
            let file = spool(body, dir, limit).await.map_err(|e| match e {
                SpoolError::TooLarge { limit } => FetchError::TooLarge { limit },
                SpoolError::Io(e) => FetchError::Io(e),
                SpoolError::Source(e) => FetchError::Network(e),
            })?;
            tracing::info!(url = %redact(&url), size = file.size(), sha256 = file.sha256(), "fetched file");
            return Ok(file);
        }
    }

    /// The next URL if `status` is a redirect worth following, checked like the first one.
    fn redirect_target(
        &self,
        current: &Url,
        status: StatusCode,
        location: Option<&reqwest::header::HeaderValue>,
    ) -> Result<Option<Url>, FetchError> {
        let followed = [
            StatusCode::MOVED_PERMANENTLY,
            StatusCode::FOUND,
            StatusCode::SEE_OTHER,
            StatusCode::TEMPORARY_REDIRECT,
            StatusCode::PERMANENT_REDIRECT,
        ];
        let Some(location) = location.filter(|_| followed.contains(&status)) else {
            return Ok(None);
        };
        let location = location
            .to_str()
            .map_err(|_| FetchError::InvalidUrl("a redirect's Location is not text".into()))?;
        let next = current
            .join(location)
            .map_err(|e| FetchError::InvalidUrl(format!("a redirect's Location is invalid: {e}")))?;
        self.check_url(&next)?;
        Ok(Some(next))
    }

    /// Refuse what can be refused before connecting: other schemes, and hosts that are forbidden addresses
    /// themselves. Names are checked when they are resolved, by [`GuardedResolver`].
    fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::InvalidUrl(format!(
                "only http and https URLs can be fetched, not {}",
                url.scheme()
            )));
        }
        // The url crate has already turned `2130706433`, `0x7f.1`, `127.1` and `[::ffff:127.0.0.1]` into
        // addresses, so the classifier sees what the connector will dial.
        let host = url
            .host()
            .ok_or_else(|| FetchError::InvalidUrl("the URL has no host".into()))?;
        if self.policy.allow_private {
            return Ok(());
        }
        let ip = match host {
            Host::Ipv4(ip) => IpAddr::V4(ip),
            Host::Ipv6(ip) => IpAddr::V6(ip),
            Host::Domain(name) => {
                // RFC 6761: `localhost` names are loopback whatever DNS says; refusing them here gives a clearer
                // error than the resolver would.
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    return Err(FetchError::Forbidden(format!("{name} is a loopback name")));
                }
                return Ok(());
            }
        };
        match forbidden_reason(ip) {
            Some(reason) => Err(FetchError::Forbidden(format!("{ip} is {reason}"))),
            None => Ok(()),
        }
    }
}

pub use pregon_core::address::{forbidden_reason, is_forbidden};

/// "scheme://host[:port]/path": what may be logged of a URL. The query and userinfo may hold credentials.
fn redact(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
}

/// An error's message and causes, without the URL reqwest attaches to its errors (it may hold credentials).
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn request_error(err: reqwest::Error) -> FetchError {
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<ForbiddenAnswer>() {
            return FetchError::Forbidden(refused.to_string());
        }
        source = cause.source();
    }
    if err.is_timeout() {
        FetchError::Timeout
    } else {
        FetchError::Network(describe(err))
    }
}

/// The resolver's refusal, found again in reqwest's error chain to become [`FetchError::Forbidden`].
#[derive(Debug)]
struct ForbiddenAnswer {
    name: String,
    ip: IpAddr,
    reason: &'static str,
}

impl fmt::Display for ForbiddenAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} resolves to {}, {}", self.name, self.ip, self.reason)
    }
}

impl std::error::Error for ForbiddenAnswer {}

/// Drops forbidden addresses from every answer, at the moment the connector asks: the check and the connection
/// use the same answer, so rebinding between them is impossible.
struct GuardedResolver {
    inner: Arc<dyn Resolve>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let resolving = self.inner.resolve(name);
        Box::pin(async move {
            let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                resolving.await?.partition(|addr| forbidden_reason(addr.ip()).is_none());
            match (allowed.is_empty(), refused.first()) {
                (true, Some(addr)) => Err(Box::new(ForbiddenAnswer {
                    name: host,
                    ip: addr.ip(),
                    reason: forbidden_reason(addr.ip()).unwrap_or("forbidden"),
                }) as _),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

/// The system resolver with internal addresses dropped from its answers, or `None` when `allow_private` (then
/// reqwest's own resolver is used): for every client that dials a URL a tenant chose (provider `base_url`s).
pub fn guarded_resolver(allow_private: bool) -> Option<Arc<dyn Resolve>> {
    (!allow_private).then(|| {
        Arc::new(GuardedResolver {
            inner: Arc::new(SystemResolver),
        }) as Arc<dyn Resolve>
    })
}

/// getaddrinfo on the blocking pool, like reqwest's default resolver (which is not public).
struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    //! Redirect re-checks end to end: the first hop must reach a local server while the policy forbids private
    //! addresses, which only an unguarded client (built here, not reachable from outside the module) allows.

    use super::*;
    use axum::Router;
    use axum::extract::State;
    use axum::http::header::LOCATION;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use std::collections::HashMap;
    use std::net::Ipv4Addr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct MapResolver(HashMap<String, IpAddr>);

    impl Resolve for MapResolver {
        fn resolve(&self, name: Name) -> Resolving {
            let found = self.0.get(name.as_str()).copied();
            Box::pin(async move {
                let ip = found.ok_or("unknown test name")?;
                Ok(Box::new(std::iter::once(SocketAddr::new(ip, 0))) as Addrs)
            })
        }
    }

    #[derive(Clone)]
    struct Server {
        port: u16,
        secret_hits: Arc<AtomicUsize>,
        loop_hits: Arc<AtomicUsize>,
    }

    async fn redirect_to(State(s): State<Server>, path: axum::extract::Path<String>) -> impl IntoResponse {
        let port = s.port;
        let target = match path.0.as_str() {
            "loopback" => format!("http://127.0.0.1:{port}/secret"),
            "decimal" => format!("http://2130706433:{port}/secret"),
            "hex" => format!("http://0x7f.1:{port}/secret"),
            "mapped" => format!("http://[::ffff:127.0.0.1]:{port}/secret"),
            "v6-loopback" => format!("http://[::1]:{port}/secret"),
            "localhost" => format!("http://localhost:{port}/secret"),
            "metadata" => "http://169.254.169.254/latest/meta-data/".to_owned(),
            "private" => format!("http://10.0.0.1:{port}/secret"),
            "ftp" => "ftp://public.test/secret".to_owned(),
            "public" => format!("http://public.test:{port}/ok"),
            "relative" => "/ok".to_owned(),
            _ => "/nowhere".to_owned(),
        };
        (StatusCode::FOUND, [(LOCATION, target)])
    }

    async fn start() -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Server {
            port: listener.local_addr().unwrap().port(),
            secret_hits: Arc::default(),
            loop_hits: Arc::default(),
        };
        let app = Router::new()
            .route("/to/{target}", get(redirect_to))
            .route(
                "/secret",
                get(|State(s): State<Server>| async move {
                    s.secret_hits.fetch_add(1, Ordering::SeqCst);
                    "secret"
                }),
            )
            .route(
                "/loop",
                get(|State(s): State<Server>| async move {
                    s.loop_hits.fetch_add(1, Ordering::SeqCst);
                    (StatusCode::TEMPORARY_REDIRECT, [(LOCATION, "/loop")])
                }),
            )
            .route("/ok", get(|| async { "ok" }))
            .with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        server
    }

    /// Strict URL checks, but `public.test` reaches the local server: stands in for a public host that redirects.
    fn strict_fetcher(max_redirects: usize) -> Fetcher {
        let names = HashMap::from([("public.test".to_owned(), IpAddr::V4(Ipv4Addr::LOCALHOST))]);
        let policy = FetchPolicy {
            allow_private: false,
            max_redirects,
            timeout: Duration::from_secs(10),
            ..FetchPolicy::default()
        };
        Fetcher::build(policy, Arc::new(MapResolver(names))).unwrap()
    }

    #[tokio::test]
    async fn every_redirect_hop_is_checked() {
        let server = start().await;
        let fetcher = strict_fetcher(5);
        let dir = tempfile::tempdir().unwrap();
        let base = format!("http://public.test:{}", server.port);

        // The harness works: a public-looking first hop is fetched, and so are allowed redirects.
        for ok in ["/ok", "/to/public", "/to/relative"] {
            let file = fetcher.fetch(&format!("{base}{ok}"), dir.path()).await.unwrap();
            assert_eq!(std::fs::read(file.path()).unwrap(), b"ok", "{ok}");
        }
        for target in [
            "loopback",
            "decimal",
            "hex",
            "mapped",
            "v6-loopback",
            "localhost",
            "metadata",
            "private",
        ] {
            let err = fetcher
                .fetch(&format!("{base}/to/{target}"), dir.path())
                .await
                .unwrap_err();
            assert!(matches!(err, FetchError::Forbidden(_)), "{target}: {err:?}");
        }
        let err = fetcher.fetch(&format!("{base}/to/ftp"), dir.path()).await.unwrap_err();
        assert!(matches!(err, FetchError::InvalidUrl(_)), "{err:?}");
        assert_eq!(server.secret_hits.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn redirects_stop_at_the_limit() {
        let server = start().await;
        let fetcher = strict_fetcher(3);
        let dir = tempfile::tempdir().unwrap();
        let err = fetcher
            .fetch(&format!("http://public.test:{}/loop", server.port), dir.path())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, FetchError::Network(m) if m.contains("more than 3 redirects")),
            "{err:?}"
        );
        // The first request and three redirects.
        assert_eq!(server.loop_hits.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn logged_urls_keep_only_scheme_host_port_and_path() {
        let url = Url::parse("https://user:pa55@Example.com:8443/files/c.csv?token=s3cret#frag").unwrap();
        assert_eq!(redact(&url), "https://example.com:8443/files/c.csv");
        let url = Url::parse("http://[::1]/x?y").unwrap();
        assert_eq!(redact(&url), "http://[::1]/x");
    }
}
