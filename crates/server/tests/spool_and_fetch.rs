//! Uploads and `file_url` downloads reach disk with their size and SHA-256, within their limits, and the fetcher
//! cannot be pointed at the private network: every URL form, DNS answer and redirect of an internal address is
//! refused. Real HTTP throughout, against axum servers on 127.0.0.1:0.

#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::routing::{get, post};
use bytes::Bytes;
use futures::stream;
use pregon::fetch::{FetchError, FetchPolicy, Fetcher, forbidden_reason, is_forbidden};
use pregon::spool::{SpoolError, spool, spool_field};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

fn ok_chunks(chunks: Vec<Vec<u8>>) -> impl futures::Stream<Item = Result<Bytes, Infallible>> + Unpin {
    stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))))
}

/// Deterministic, non-repeating-looking bytes, so a misplaced chunk changes the hash.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

// ---------------------------------------------------------------- spool

#[tokio::test]
async fn spool_writes_every_chunk_and_hashes_it() {
    let dir = tempfile::tempdir().unwrap();
    let chunks = vec![
        pattern(1, 1),
        vec![],
        pattern(65_536, 2),
        pattern(300_000, 3),
        pattern(7, 4),
    ];
    let all: Vec<u8> = chunks.concat();

    let file = spool(ok_chunks(chunks), dir.path(), 1 << 20).await.unwrap();
    assert_eq!(file.size(), all.len() as u64);
    assert_eq!(file.sha256(), sha256_hex(&all));
    assert_eq!(file.sha256(), file.sha256().to_lowercase());
    assert_eq!(std::fs::read(file.path()).unwrap(), all);
    assert!(file.path().starts_with(dir.path()));

    let path = file.path().to_path_buf();
    drop(file);
    assert!(!path.exists(), "a spooled file is deleted on drop");
    assert_eq!(files_in(dir.path()), 0);
}

#[tokio::test]
async fn spool_of_an_empty_stream_is_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = spool(ok_chunks(vec![]), dir.path(), 10).await.unwrap();
    assert_eq!(file.size(), 0);
    assert_eq!(file.sha256(), sha256_hex(b""));
}

#[tokio::test]
async fn spool_accepts_exactly_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let file = spool(ok_chunks(vec![vec![1; 600], vec![2; 400]]), dir.path(), 1000)
        .await
        .unwrap();
    assert_eq!(file.size(), 1000);
}

#[tokio::test]
async fn spool_stops_at_the_limit_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = spool(ok_chunks(vec![vec![1; 600], vec![2; 401]]), dir.path(), 1000)
        .await
        .unwrap_err();
    assert!(matches!(err, SpoolError::TooLarge { limit: 1000 }), "{err:?}");
    assert_eq!(files_in(dir.path()), 0);

    // An endless stream: only stopping at the limit ends this test.
    let endless = stream::repeat_with(|| Ok::<_, Infallible>(Bytes::from_static(&[0; 4096])));
    let err = spool(endless, dir.path(), 1 << 20).await.unwrap_err();
    assert!(
        matches!(err, SpoolError::TooLarge { limit } if limit == 1 << 20),
        "{err:?}"
    );
    assert_eq!(files_in(dir.path()), 0);
}

#[tokio::test]
async fn a_failing_stream_is_a_source_error_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let chunks = stream::iter(vec![Ok(Bytes::from_static(b"abc")), Err("connection reset")]);
    let err = spool(chunks, dir.path(), 1000).await.unwrap_err();
    assert!(
        matches!(&err, SpoolError::Source(m) if m == "connection reset"),
        "{err:?}"
    );
    assert_eq!(files_in(dir.path()), 0);
}

#[tokio::test]
async fn spool_into_a_missing_directory_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = spool(ok_chunks(vec![vec![1]]), &dir.path().join("missing"), 10)
        .await
        .unwrap_err();
    assert!(matches!(err, SpoolError::Io(_)), "{err:?}");
}

#[tokio::test]
async fn persist_moves_the_file_and_keeps_it() {
    let spool_dir = tempfile::tempdir().unwrap();
    let shared = tempfile::tempdir().unwrap();
    let data = pattern(10_000, 9);
    let file = spool(ok_chunks(vec![data.clone()]), spool_dir.path(), 1 << 20)
        .await
        .unwrap();
    let dest = shared.path().join("campaign.csv");
    std::fs::write(&dest, b"old").unwrap();

    let kept = file.persist(&dest).unwrap();
    assert_eq!(kept, dest);
    assert_eq!(std::fs::read(&dest).unwrap(), data, "an existing file is replaced");
    assert_eq!(files_in(spool_dir.path()), 0, "moved, not copied");
}

// ---------------------------------------------------------------- spool_field (axum multipart)

#[derive(serde::Serialize, serde::Deserialize)]
struct Spooled {
    size: u64,
    sha256: String,
}

async fn upload(
    State(dir): State<Arc<tempfile::TempDir>>,
    mut multipart: Multipart,
) -> Result<axum::Json<Spooled>, StatusCode> {
    let field = multipart.next_field().await.unwrap().unwrap();
    match spool_field(field, dir.path(), 3_000_000).await {
        Ok(file) => Ok(axum::Json(Spooled {
            size: file.size(),
            sha256: file.sha256().to_owned(),
        })),
        Err(SpoolError::TooLarge { .. }) => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Err(_) => Err(StatusCode::BAD_REQUEST),
    }
}

#[tokio::test]
async fn multipart_fields_are_spooled() {
    pregon::install_crypto_provider();
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let app = Router::new()
        .route("/upload", post(upload))
        .layer(DefaultBodyLimit::disable())
        .with_state(dir.clone());
    let base = serve(app).await;
    let client = reqwest::Client::new();

    // Larger than axum's 2 MB default body limit, so it arrives in many chunks.
    let data = pattern(2_500_000, 5);
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(data.clone()).file_name("c.csv"));
    let response = client
        .post(format!("{base}/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let spooled: Spooled = response.json().await.unwrap();
    assert_eq!(spooled.size, data.len() as u64);
    assert_eq!(spooled.sha256, sha256_hex(&data));

    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(pattern(3_000_001, 6)).file_name("c.csv"),
    );
    let response = client
        .post(format!("{base}/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(files_in(dir.path()), 0, "neither upload is left behind");
}

// ---------------------------------------------------------------- fetch, local server

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

/// A file server: `/file` (1 MB, streamed in chunks, no Content-Length), `/sized/{n}` (n bytes with
/// Content-Length), `/stream/{n}` (n bytes, chunked), `/slow-headers`, `/slow-body`, `/redirect` → `/file`,
/// `/to-ftp`; counts every request.
async fn file_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new()
        .route(
            "/file",
            get(|| async { Body::from_stream(chunked(pattern(1 << 20, 7), 10_000)) }),
        )
        .route(
            "/sized/{n}",
            get(|axum::extract::Path(n): axum::extract::Path<usize>| async move { vec![b'x'; n] }),
        )
        .route(
            "/stream/{n}",
            get(|axum::extract::Path(n): axum::extract::Path<usize>| async move {
                Body::from_stream(chunked(vec![b'y'; n], 8192))
            }),
        )
        .route(
            "/slow-headers",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .route(
            "/slow-body",
            get(|| async {
                let first = stream::once(async { Ok::<_, Infallible>(Bytes::from_static(b"first chunk")) });
                let stalled = stream::once(async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    Ok::<_, Infallible>(Bytes::from_static(b"never"))
                });
                Body::from_stream(futures::StreamExt::chain(first, stalled))
            }),
        )
        .route(
            "/redirect",
            get(|| async { (StatusCode::FOUND, [(LOCATION, "/file")]) }),
        )
        .route(
            "/to-ftp",
            get(|| async { (StatusCode::MOVED_PERMANENTLY, [(LOCATION, "ftp://127.0.0.1/file")]) }),
        )
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                counter.fetch_add(1, Ordering::SeqCst);
                next.run(request)
            },
        ));
    (serve(app).await, hits)
}

fn chunked(data: Vec<u8>, size: usize) -> impl futures::Stream<Item = Result<Bytes, Infallible>> {
    let chunks: Vec<_> = data.chunks(size).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    stream::iter(chunks)
}

fn local_policy() -> FetchPolicy {
    FetchPolicy {
        allow_private: true,
        max_bytes: 2 << 20,
        timeout: Duration::from_secs(10),
        max_redirects: 5,
    }
}

#[test]
fn the_default_policy_is_strict() {
    let policy = FetchPolicy::default();
    assert!(!policy.allow_private);
    assert_eq!(policy.max_bytes, 100 * 1024 * 1024);
    assert_eq!(policy.timeout, Duration::from_secs(60));
    assert_eq!(policy.max_redirects, 5);
}

#[tokio::test]
async fn fetch_spools_the_body_with_its_hash() {
    let (base, _) = file_server().await;
    let fetcher = Fetcher::new(local_policy()).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let file = fetcher.fetch(&format!("{base}/file"), dir.path()).await.unwrap();
    let expected = pattern(1 << 20, 7);
    assert_eq!(file.size(), expected.len() as u64);
    assert_eq!(file.sha256(), sha256_hex(&expected));
    assert_eq!(std::fs::read(file.path()).unwrap(), expected);

    // Redirects are followed.
    let file = fetcher.fetch(&format!("{base}/redirect"), dir.path()).await.unwrap();
    assert_eq!(file.sha256(), sha256_hex(&expected));
}

#[tokio::test]
async fn fetch_reports_a_non_2xx_status() {
    let (base, _) = file_server().await;
    let fetcher = Fetcher::new(local_policy()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = fetcher.fetch(&format!("{base}/missing"), dir.path()).await.unwrap_err();
    assert!(matches!(err, FetchError::Status(404)), "{err:?}");
    assert_eq!(files_in(dir.path()), 0);
}

#[tokio::test]
async fn fetch_refuses_a_body_over_the_limit() {
    let (base, _) = file_server().await;
    let policy = FetchPolicy {
        max_bytes: 100_000,
        ..local_policy()
    };
    let fetcher = Fetcher::new(policy).unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Streamed without Content-Length: only counting the bytes received can catch it.
    let err = fetcher
        .fetch(&format!("{base}/stream/100001"), dir.path())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { limit: 100_000 }), "{err:?}");
    // Announced by Content-Length: refused before the body is read.
    let err = fetcher
        .fetch(&format!("{base}/sized/5000000"), dir.path())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { limit: 100_000 }), "{err:?}");
    assert_eq!(files_in(dir.path()), 0);

    // The limit itself is fine, either way.
    for path in ["/stream/100000", "/sized/100000"] {
        let file = fetcher.fetch(&format!("{base}{path}"), dir.path()).await.unwrap();
        assert_eq!(file.size(), 100_000);
    }
}

#[tokio::test]
async fn fetch_times_out_on_a_slow_server() {
    let (base, _) = file_server().await;
    let policy = FetchPolicy {
        timeout: Duration::from_millis(500),
        ..local_policy()
    };
    let fetcher = Fetcher::new(policy).unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Slow to answer, and slow in the middle of the body: the deadline covers the whole transfer.
    for path in ["/slow-headers", "/slow-body"] {
        let started = Instant::now();
        let err = fetcher.fetch(&format!("{base}{path}"), dir.path()).await.unwrap_err();
        assert!(matches!(err, FetchError::Timeout), "{path}: {err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path}: took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(files_in(dir.path()), 0);
}

#[tokio::test]
async fn fetch_takes_only_http_and_https() {
    let (base, hits) = file_server().await;
    let dir = tempfile::tempdir().unwrap();
    for allow_private in [false, true] {
        let fetcher = Fetcher::new(FetchPolicy {
            allow_private,
            ..local_policy()
        })
        .unwrap();
        for url in [
            "ftp://127.0.0.1/file",
            "ftp://example.com/file",
            "file:///etc/passwd",
            "gopher://example.com/",
            "data:text/plain,hi",
            "not a url",
            "http://",
        ] {
            let err = fetcher.fetch(url, dir.path()).await.unwrap_err();
            assert!(matches!(err, FetchError::InvalidUrl(_)), "{url}: {err:?}");
        }
        // A redirect to another scheme is refused too.
        let err = fetcher.fetch(&format!("{base}/to-ftp"), dir.path()).await;
        if allow_private {
            assert!(matches!(err, Err(FetchError::InvalidUrl(_))), "{err:?}");
        }
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "only the redirecting hop was requested");
}

// ---------------------------------------------------------------- fetch, SSRF

#[tokio::test]
async fn fetch_refuses_internal_addresses_in_every_spelling() {
    let (base, hits) = file_server().await;
    let port = base.rsplit(':').next().unwrap();
    let fetcher = Fetcher::new(FetchPolicy {
        allow_private: false,
        ..local_policy()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let urls = [
        format!("http://127.0.0.1:{port}/file"),
        format!("http://127.9.8.7:{port}/file"),
        format!("http://localhost:{port}/file"),
        format!("http://LOCALHOST.:{port}/file"),
        format!("http://files.localhost:{port}/file"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/file".to_owned(),
        "http://172.16.0.1/file".to_owned(),
        "http://192.168.1.1/file".to_owned(),
        "http://100.64.0.1/file".to_owned(),
        format!("http://0.0.0.0:{port}/file"),
        format!("http://[::1]:{port}/file"),
        format!("http://[::]:{port}/file"),
        format!("http://[::ffff:127.0.0.1]:{port}/file"),
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/".to_owned(),
        "http://[fe80::1]/file".to_owned(),
        "http://[fd00::1]/file".to_owned(),
        format!("http://2130706433:{port}/file"),
        format!("http://0x7f.1:{port}/file"),
        format!("http://0x7f000001:{port}/file"),
        format!("http://017700000001:{port}/file"),
        format!("http://127.1:{port}/file"),
        "https://224.0.0.1/file".to_owned(),
        "http://255.255.255.255/file".to_owned(),
        "http://192.0.2.1/file".to_owned(),
        "http://198.18.0.1/file".to_owned(),
        "http://[2001:db8::1]/file".to_owned(),
    ];
    for url in &urls {
        let err = fetcher.fetch(url, dir.path()).await.unwrap_err();
        assert!(matches!(err, FetchError::Forbidden(_)), "{url}: {err:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no refused URL reached the server");
}

/// Answers from a fixed table, like a DNS server an attacker controls.
struct TableResolver {
    names: HashMap<&'static str, Vec<IpAddr>>,
    asked: AtomicUsize,
}

impl Resolve for TableResolver {
    fn resolve(&self, name: Name) -> Resolving {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let found = self.names.get(name.as_str()).cloned();
        Box::pin(async move {
            let ips = found.ok_or("no such test name")?;
            Ok(Box::new(
                ips.into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ) as Addrs)
        })
    }
}

#[tokio::test]
async fn names_resolving_to_internal_addresses_are_refused_when_connecting() {
    let (base, hits) = file_server().await;
    let port = base.rsplit(':').next().unwrap();
    let resolver = Arc::new(TableResolver {
        names: HashMap::from([
            ("public.test", vec!["127.0.0.1".parse().unwrap()]),
            ("metadata.test", vec!["169.254.169.254".parse().unwrap()]),
            (
                "mixed.test",
                vec![
                    "10.0.0.1".parse().unwrap(),
                    "::ffff:127.0.0.1".parse().unwrap(),
                    "::1".parse().unwrap(),
                ],
            ),
        ]),
        asked: AtomicUsize::new(0),
    });
    let strict = Fetcher::with_resolver(
        FetchPolicy {
            allow_private: false,
            ..local_policy()
        },
        resolver.clone(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();

    for name in ["public.test", "metadata.test", "mixed.test"] {
        let err = strict
            .fetch(&format!("http://{name}:{port}/file"), dir.path())
            .await
            .unwrap_err();
        match &err {
            FetchError::Forbidden(why) => assert!(why.contains(name), "{why}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(
        resolver.asked.load(Ordering::SeqCst),
        3,
        "the check happened at resolution, when connecting"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    // The same resolver with private addresses allowed reaches the server: the refusals above were the guard.
    let open = Fetcher::with_resolver(local_policy(), resolver).unwrap();
    let file = open
        .fetch(&format!("http://public.test:{port}/file"), dir.path())
        .await
        .unwrap();
    assert_eq!(file.size(), 1 << 20);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn errors_never_echo_credentials_or_query() {
    let fetcher = Fetcher::new(FetchPolicy::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "http://user:hunter2@127.0.0.1/file?token=s3cret",
        "ftp://user:hunter2@example.com/file?token=s3cret",
        "http://user:hunter2@nonexistent.invalid/file?token=s3cret",
    ] {
        let err = fetcher.fetch(url, dir.path()).await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2") && !text.contains("s3cret"), "{url}: {text}");
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_show_scheme_host_and_path_only() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // A current-thread test runtime: the fetch and the server run on this thread, under this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let (base, _) = file_server().await;
    let fetcher = Fetcher::new(local_policy()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let authority = base.trim_start_matches("http://");
    fetcher
        .fetch(
            &format!("http://user:hunter2@{authority}/redirect?token=s3cret"),
            dir.path(),
        )
        .await
        .unwrap();

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains(&format!("{base}/redirect")), "{text}");
    assert!(text.contains(&format!("{base}/file")), "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains("s3cret") && !text.contains("user:"),
        "{text}"
    );
}

// ---------------------------------------------------------------- the address classifier

#[test]
fn address_classifier() {
    // (address, forbidden)
    let table: &[(&str, bool)] = &[
        // public IPv4, including the neighbours of every forbidden range
        ("8.8.8.8", false),
        ("1.1.1.1", false),
        ("93.184.216.34", false),
        ("1.0.0.0", false),
        ("9.255.255.255", false),
        ("11.0.0.0", false),
        ("100.63.255.255", false),
        ("100.128.0.0", false),
        ("126.255.255.255", false),
        ("128.0.0.0", false),
        ("169.253.255.255", false),
        ("169.255.0.0", false),
        ("172.15.255.255", false),
        ("172.32.0.0", false),
        ("191.255.255.255", false),
        ("192.0.1.0", false),
        ("192.0.3.0", false),
        ("192.88.98.255", false),
        ("192.167.255.255", false),
        ("192.169.0.0", false),
        ("198.17.255.255", false),
        ("198.20.0.0", false),
        ("198.51.99.255", false),
        ("198.51.101.0", false),
        ("203.0.112.255", false),
        ("203.0.114.0", false),
        ("223.255.255.255", false),
        // unspecified / "this network"
        ("0.0.0.0", true),
        ("0.1.2.3", true),
        ("0.255.255.255", true),
        // private
        ("10.0.0.0", true),
        ("10.0.0.1", true),
        ("10.255.255.255", true),
        ("172.16.0.0", true),
        ("172.20.1.1", true),
        ("172.31.255.255", true),
        ("192.168.0.0", true),
        ("192.168.255.255", true),
        // carrier-grade NAT
        ("100.64.0.0", true),
        ("100.127.255.255", true),
        // loopback
        ("127.0.0.1", true),
        ("127.0.0.0", true),
        ("127.255.255.254", true),
        // link-local, cloud metadata
        ("169.254.0.0", true),
        ("169.254.169.254", true),
        ("169.254.255.255", true),
        // IETF protocol assignments, 6to4 relay
        ("192.0.0.1", true),
        ("192.0.0.255", true),
        ("192.88.99.1", true),
        // documentation, benchmarking
        ("192.0.2.0", true),
        ("192.0.2.255", true),
        ("198.51.100.7", true),
        ("203.0.113.200", true),
        ("198.18.0.0", true),
        ("198.19.255.255", true),
        // multicast, reserved, broadcast
        ("224.0.0.1", true),
        ("239.255.255.255", true),
        ("240.0.0.1", true),
        ("254.255.255.255", true),
        ("255.255.255.255", true),
        // public IPv6
        ("2606:4700:4700::1111", false),
        ("2001:4860:4860::8888", false),
        ("2a00:1450:4001:80b::200e", false),
        ("2001:200::1", false),
        ("2001:db7:ffff::1", false),
        ("2001:db9::1", false),
        ("3ffe::1", false),
        ("3fff:1000::1", false),
        // IPv4 inside IPv6: judged by the IPv4 address
        ("::ffff:8.8.8.8", false),
        ("::ffff:127.0.0.1", true),
        ("::ffff:10.0.0.1", true),
        ("::ffff:169.254.169.254", true),
        ("::ffff:0.0.0.0", true),
        ("::ffff:192.168.0.1", true),
        ("64:ff9b::8.8.8.8", false),
        ("64:ff9b::127.0.0.1", true),
        ("64:ff9b::10.1.2.3", true),
        ("64:ff9b:1::1", true),
        ("::127.0.0.1", true),
        ("::8.8.8.8", true),
        // unspecified, loopback
        ("::", true),
        ("::1", true),
        // unique local, link-local, site-local
        ("fc00::", true),
        ("fd12:3456:789a::1", true),
        ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
        ("fe80::1", true),
        ("febf:ffff::1", true),
        ("fec0::1", true),
        // multicast
        ("ff02::1", true),
        ("ff0e::1", true),
        // documentation, benchmarking, Teredo, ORCHID, 6to4, discard, segment routing
        ("2001:db8::1", true),
        ("2001:db8:ffff:ffff::1", true),
        ("3fff::1", true),
        ("3fff:fff::1", true),
        ("2001:2::1", true),
        ("2001::1", true),
        ("2001:10::1", true),
        ("2001:1ff::1", true),
        ("2002:7f00:1::1", true),
        ("2002:808:808::1", true),
        ("100::1", true),
        ("5f00::1", true),
        // outside 2000::/3: reserved, not routable
        ("1::1", true),
        ("4000::1", true),
        ("e000::1", true),
    ];
    for (address, forbidden) in table {
        let ip: IpAddr = address.parse().unwrap();
        assert_eq!(is_forbidden(ip), *forbidden, "{address}: {:?}", forbidden_reason(ip));
        assert_eq!(forbidden_reason(ip).is_some(), *forbidden, "{address}");
    }
    assert_eq!(
        forbidden_reason("127.0.0.1".parse().unwrap()),
        Some("a loopback address")
    );
    assert!(
        forbidden_reason("169.254.169.254".parse().unwrap())
            .unwrap()
            .contains("metadata")
    );
}
