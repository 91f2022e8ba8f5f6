//! The web dashboard. Over plain HTTP on both backends: its files (public, typed, under a strict
//! Content-Security-Policy) and the timeline API (one app never sees another's campaign). And, ignored unless run
//! with `just test-ui`, its main flows in headless Chromium driven over the W3C WebDriver protocol: sign in, upload
//! and confirm, the campaign page against the API, pause/resume/cancel, the list; with a checked screenshot of each.

#![allow(clippy::unwrap_used)]

use pregon_testkit::reqwest::multipart::{Form, Part};
use pregon_testkit::reqwest::{Method, StatusCode, header};
use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

on_both_backends!(the_timeline_counts_sends_and_is_tenant_checked);

/// A server that sends, with a quick sandbox that reports `delivered` and `read`.
async fn sending_app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.send = true;
        c.sending.providers.sandbox.latency = Duration::from_millis(5);
        c.sending.providers.sandbox.status_interval = Some(Duration::from_millis(100));
    })
    .await
}

/// A Chat-Tonic CSV sending the parameterless `hello_world` to `n` Spanish mobiles.
fn hello_csv(n: usize) -> Vec<u8> {
    let mut csv = String::from("phone,elementName,languageCode\n");
    for i in 0..n {
        csv.push_str(&format!("+3461234{i:04},hello_world,en_US\n"));
    }
    csv.into_bytes()
}

async fn upload(app: &TestApp, account: &str, name: &str, bytes: Vec<u8>) -> String {
    let form = Form::new()
        .text("account", account.to_owned())
        .part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let r = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let c: Value = r.json().await.unwrap();
    c["id"].as_str().unwrap().to_owned()
}

async fn json_of(r: pregon_testkit::reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn the_timeline_counts_sends_and_is_tenant_checked(backend: Backend) {
    let app = sending_app(backend).await;
    let account = app.sandbox_account(json!({})).await;
    let id = upload(&app, &account, "hello.csv", hello_csv(3)).await;
    app.wait_for(&id, Duration::from_secs(30), |c| c["status"] == "completed")
        .await;
    let path = format!("/v1/campaigns/{id}/timeline");

    let (status, t) = json_of(app.get(&path).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["total"], 3, "{t}");
    let points = t["data"].as_array().unwrap();
    assert!(!points.is_empty());
    let sum: u64 = points.iter().map(|p| p["sent"].as_u64().unwrap()).sum();
    assert_eq!(sum, 3);
    // A campaign of a few seconds is drawn second by second.
    assert_eq!(t["bucket_seconds"], 1, "{t}");

    let (status, t) = json_of(app.get(&format!("{path}?bucket=60")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((t["bucket_seconds"].as_u64(), t["total"].as_u64()), (Some(60), Some(3)));
    for p in t["data"].as_array().unwrap() {
        let at = chrono::DateTime::parse_from_rfc3339(p["at"].as_str().unwrap()).unwrap();
        assert_eq!(at.timestamp() % 60, 0, "buckets start on the minute: {p}");
    }

    // Another app is told the campaign does not exist, exactly as for an unknown id.
    let (_, intruder) = app.another_app("intruder").await;
    let (status, body) = json_of(
        app.client
            .get(app.url(&path))
            .bearer_auth(&intruder)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    let unknown = format!("/v1/campaigns/{}/timeline", uuid::Uuid::now_v7());
    let (status, unknown_body) = json_of(app.get(&unknown).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_body, body, "another app's campaign reads like no campaign");

    let (status, body) = json_of(app.client.get(app.url(&path)).send().await.unwrap()).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::UNAUTHORIZED, &json!("unauthorized"))
    );
    let (status, body) = json_of(app.get(&format!("{path}?bucket=0")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"]["field"], "bucket");
    let (status, body) = json_of(app.get(&format!("{path}?bucket=soon")).send().await.unwrap()).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_query"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_files_are_public_with_a_strict_policy() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/ui/app.js", "text/javascript; charset=utf-8"),
        ("/ui/app.css", "text/css; charset=utf-8"),
        ("/ui/favicon.svg", "image/svg+xml"),
    ] {
        // No token: the files hold no data.
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers();
        let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(get("content-type"), content_type, "{path}");
        assert_eq!(get("cache-control"), "no-cache", "{path}");
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
        let csp = get("content-security-policy");
        assert!(csp.starts_with("default-src 'self';"), "{path}: {csp}");
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        let etag = get("etag");
        assert!(etag.starts_with('"') && etag.len() > 10, "{path}: {etag}");
        assert!(!r.bytes().await.unwrap().is_empty());

        // The same file again is a 304 without a body while the binary is the same.
        let r = app
            .client
            .get(app.url(path))
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert!(r.bytes().await.unwrap().is_empty());
    }
    let (status, body) = json_of(app.client.get(app.url("/ui/nothing.js")).send().await.unwrap()).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("not_found"))
    );
    // A path out of the folder is not a file either.
    let r = app.client.get(app.url("/ui/..%2Fsrc%2Fmain.rs")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The policy forbids inline scripts and styles, so the page must have none.
    let page = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert_eq!(
        page.matches("<script").count(),
        page.matches("<script type=\"module\" src=\"/ui/").count()
    );
    assert!(
        !page.contains("<style") && !page.contains(" style="),
        "inline style in the page"
    );
}

/// Relative module specifiers (`from "./x.js"`) in a script.
fn imports(source: &str) -> Vec<String> {
    source
        .split("from \"./")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_module_the_page_imports_is_served() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut seen = BTreeSet::new();
    let mut todo = vec!["app.js".to_owned()];
    while let Some(module) = todo.pop() {
        if !seen.insert(module.clone()) {
            continue;
        }
        let r = app.client.get(app.url(&format!("/ui/{module}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{module} is imported but not served");
        let source = r.text().await.unwrap();
        assert!(
            !source.contains(".style =") && !source.contains("setAttribute(\"style\""),
            "{module}: inline styles break under the policy; set CSSOM properties"
        );
        todo.extend(imports(&source));
    }
    assert!(seen.len() >= 5, "{seen:?}");
}

// ---- the browser ----------------------------------------------------------------------------------------------------

/// The window the browser is started with, and so the size of every screenshot.
const WINDOW: (u32, u32) = (1280, 900);
/// W3C WebDriver's key for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A `chromedriver` process, stopped when dropped.
struct Driver(std::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One browser session, spoken to over WebDriver's HTTP protocol.
struct Browser {
    http: pregon_testkit::reqwest::Client,
    session: String,
    shots: PathBuf,
    _driver: Driver,
}

impl Browser {
    /// Start chromedriver on a free port and open a headless Chromium session.
    async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let child = std::process::Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_bin} (apt-get install chromium-driver): {e}"));
        let driver = Driver(child);
        let http = pregon_testkit::reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            let ready = match http.get(format!("{base}/status")).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .ok()
                    .is_some_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let chrome = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {"binary": chrome, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu",
                format!("--window-size={},{}", WINDOW.0, WINDOW.1),
                "--disable-dev-shm-usage", "--lang=en-US",
            ]},
        }}});
        let r = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        let session = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {body}"))
            .to_owned();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                // target/debug/deps/ui-… → target
                let exe = std::env::current_exe().unwrap();
                exe.ancestors().nth(3).unwrap().to_owned()
            });
        let shots = target.join("ui-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        let browser = Browser {
            http,
            session: format!("{base}/session/{session}"),
            shots,
            _driver: driver,
        };
        browser.fit_viewport().await;
        browser
    }

    /// Make the page's viewport (what a screenshot shows) exactly [`WINDOW`]: `--window-size` sizes the whole
    /// window, and new-headless Chromium keeps room in it for browser chrome it does not draw.
    async fn fit_viewport(&self) {
        let extra = self
            .js(
                "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]",
                json!([]),
            )
            .await;
        let (dw, dh) = (extra[0].as_u64().unwrap(), extra[1].as_u64().unwrap());
        self.must(
            Method::POST,
            "/window/rect",
            Some(json!({"width": u64::from(WINDOW.0) + dw, "height": u64::from(WINDOW.1) + dh})),
        )
        .await;
        let inner = self
            .js("return [window.innerWidth, window.innerHeight]", json!([]))
            .await;
        assert_eq!(inner, json!([WINDOW.0, WINDOW.1]), "the viewport");
    }

    /// One WebDriver command; its `value`, or the WebDriver error as `Err`.
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let mut r = self.http.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let response = r.send().await.unwrap();
        let ok = response.status().is_success();
        let v: Value = response.json().await.unwrap();
        if ok {
            Ok(v["value"].clone())
        } else {
            Err(v["value"].clone())
        }
    }

    async fn must(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.command(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("webdriver {path}: {e}"))
    }

    async fn goto(&self, url: &str) {
        self.must(Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    /// Run `script` (a function body; `arguments` are `args`) in the page.
    async fn js(&self, script: &str, args: Value) -> Value {
        self.must(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Poll `script` until it returns something truthy (at most 20 s); returns that.
    async fn until(&self, what: &str, script: &str, args: Value) -> Value {
        let started = Instant::now();
        loop {
            let v = self.js(script, args.clone()).await;
            if !(v.is_null() || v == false || v == "" || v == 0) {
                return v;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "waited 20 s for {what}; page: {}",
                self.js("return document.querySelector('main').innerText", json!([]))
                    .await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element matching `css`, once it is shown (at most 20 s).
    async fn find(&self, css: &str) -> String {
        self.until(
            &format!("`{css}` to be shown"),
            // Options of a closed select have no box; WebDriver clicks them all the same.
            "const e = document.querySelector(arguments[0]); \
             return e && (e.getClientRects().length > 0 || e.tagName === 'OPTION')",
            json!([css]),
        )
        .await;
        let v = self
            .must(
                Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element for `{css}`: {v}"))
            .to_owned()
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.must(Method::POST, &format!("/element/{id}/click"), Some(json!({})))
            .await;
    }

    /// Type `text` into the element (for a file input: the file's absolute path).
    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.command(Method::POST, &format!("/element/{id}/clear"), Some(json!({})))
            .await
            .ok();
        self.must(
            Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// The rendered text of the element matching `css`.
    async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.must(Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Wait until the element's text is `expected`.
    async fn until_text(&self, css: &str, expected: &str) {
        self.until(
            &format!("`{css}` to read {expected:?}"),
            "const e = document.querySelector(arguments[0]); return e && e.textContent.trim() === arguments[1]",
            json!([css, expected]),
        )
        .await;
    }

    /// Whether the element matching `css` is on the page and takes room (not hidden).
    async fn shown(&self, css: &str) -> bool {
        self.js(
            "const e = document.querySelector(arguments[0]); return !!e && e.getClientRects().length > 0",
            json!([css]),
        )
        .await
            == true
    }

    /// Save a screenshot as `name.png` and check it is a real render: the window's size, and not one flat colour.
    async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let encoded = self.must(Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap();
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, &bytes).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(&bytes)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((frame.width, frame.height), WINDOW, "{name}: screenshot size");
        let channels = frame.color_type.samples();
        let colours: BTreeSet<&[u8]> = pixels[..frame.buffer_size()].chunks(channels).collect();
        assert!(
            colours.len() > 64,
            "{name}: {} colours — a blank or broken render",
            colours.len()
        );
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Close the session (and Chromium) before the driver process is killed.
        let url = self.session.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    let _ = pregon_testkit::reqwest::Client::new()
                        .delete(url)
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                });
            }
        })
        .join();
    }
}

/// The sandbox templates, with WhatsApp formatting in `order_confirmation`'s body, the first row of the fixture.
fn formatted_templates() -> Value {
    let mut templates: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("templates/sandbox.json")).unwrap()).unwrap();
    for t in templates.as_array_mut().unwrap() {
        if t["name"] == "order_confirmation" {
            t["components"][1] = json!({"type": "BODY",
                "text": "Your order *{{1}}* for a total of _{{2}}_ is confirmed. ~No~ The expected delivery is ```{{3}}```."});
        }
    }
    templates
}

async fn account_with(app: &TestApp, name: &str, rate: u32) -> String {
    let (status, a) = json_of(
        app.post_json(
            "/v1/accounts",
            &json!({"name": name, "provider": "sandbox", "rate_per_second": rate}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let id = a["id"].as_str().unwrap().to_owned();
    let r = app
        .post_json(&format!("/v1/accounts/{id}/templates"), &formatted_templates())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver: just test-ui"]
async fn the_dashboard_in_a_browser() {
    let app = sending_app(Backend::Sqlite).await;
    let account = account_with(&app, "sandbox", 80).await;
    let slow = account_with(&app, "slow", 1).await;
    let b = Browser::start().await;
    let mut shots = Vec::new();

    // Sign in: a wrong token shows the server's own message; the right one opens the campaign list.
    b.goto(&app.url("/")).await;
    b.type_into("#token", "pgn_not-a-real-token").await;
    b.click("#sign-in button[type=submit]").await;
    let (_, refused) = json_of(
        app.client
            .get(app.url("/v1/accounts"))
            .bearer_auth("pgn_not-a-real-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let message = refused["error"]["message"].as_str().unwrap();
    b.until_text("#sign-in-error", message).await;
    shots.push(b.screenshot("01-sign-in-refused").await);
    b.type_into("#token", &app.token).await;
    b.click("#sign-in button[type=submit]").await;
    b.find("#campaigns").await;
    b.until_text("#campaigns td.empty", "No campaigns yet. Upload a file to start one.")
        .await;

    // Upload: the fixture goes through /validate first; its report shows; only Confirm creates the campaign.
    b.click("a[data-nav=new]").await;
    let file = fixtures().join("files/chat-tonic.csv").canonicalize().unwrap();
    b.type_into("#file", file.to_str().unwrap()).await;
    b.click(&format!("#account option[value=\"{account}\"]")).await;
    b.click("#validate").await;
    b.until_text("[data-report=rows]", "11").await;
    assert_eq!(b.text("[data-report=accepted]").await, "4");
    assert_eq!(b.text("[data-report=rejected]").await, "7");
    let listed = b
        .js(
            "return document.querySelectorAll('#report-rejections tbody tr').length",
            json!([]),
        )
        .await;
    assert_eq!(listed, 7);
    shots.push(b.screenshot("02-validation-report").await);
    let (_, before) = json_of(app.get("/v1/campaigns").send().await.unwrap()).await;
    assert_eq!(before["data"].as_array().unwrap().len(), 0, "validating stores nothing");
    b.click("#confirm").await;
    let hash = b
        .until(
            "the campaign page",
            "return /^#\\/campaigns\\/[0-9a-f-]{36}$/.test(location.hash) && location.hash",
            json!([]),
        )
        .await;
    let id = hash.as_str().unwrap().rsplit('/').next().unwrap().to_owned();

    // The campaign page shows the API's numbers once every message is read.
    let done = app
        .wait_for(&id, Duration::from_secs(30), |c| {
            c["status"] == "completed" && c["counts"]["read"] == 4
        })
        .await;
    b.until_text("#campaign-status", "completed").await;
    for (key, value) in done["counts"].as_object().unwrap() {
        b.until_text(&format!("[data-count={key}]"), &value.as_u64().unwrap().to_string())
            .await;
    }
    for control in ["#pause", "#resume", "#cancel"] {
        assert!(!b.shown(control).await, "{control} on a completed campaign");
    }
    // The chart draws the timeline the API gives.
    let (_, timeline) = json_of(app.get(&format!("/v1/campaigns/{id}/timeline")).send().await.unwrap()).await;
    assert_eq!(timeline["total"], 4);
    b.until_text("#timeline .chart-total", "4").await;
    let bars = b
        .js(
            "return document.querySelectorAll('#timeline svg rect.bar').length",
            json!([]),
        )
        .await;
    assert_eq!(bars, timeline["data"].as_array().unwrap().len());
    // The preview: the first message's parameters in the template, WhatsApp marks as tags, the rest as text.
    b.until_text("#preview .wa-body strong", "#1234").await;
    assert_eq!(b.text("#preview .wa-body em").await, "$1,250.00");
    assert_eq!(b.text("#preview .wa-body s").await, "No");
    assert_eq!(b.text("#preview .wa-body code").await, "March 15th");
    assert_eq!(b.text("#preview .wa-footer").await, "Thank you for shopping with us!");
    let buttons = b
        .js(
            "return [...document.querySelectorAll('#preview .wa-button')].map(e => e.textContent)",
            json!([]),
        )
        .await;
    assert_eq!(buttons, json!(["↩Thanks!", "↩Place another order"]));
    // Rejected rows, as the API lists them.
    let (_, rejections) = json_of(app.get(&format!("/v1/campaigns/{id}/rejections")).send().await.unwrap()).await;
    let first = &rejections["data"][0];
    let row = first["row_number"].as_u64().unwrap();
    let cells = b
        .until(
            "the rejected rows",
            "return [...(document.querySelector(`#rejections tr[data-row='${arguments[0]}']`)?.cells ?? [])].map(c => c.textContent)",
            json!([row]),
        )
        .await;
    assert_eq!(cells[0], row.to_string());
    assert_eq!(cells[2], first["code"]);
    assert_eq!(cells[3], first["message"]);
    shots.push(b.screenshot("03-campaign-completed").await);

    // Pause, resume and cancel a campaign that sends one message a second.
    let running = upload(&app, &slow, "slow.csv", hello_csv(60)).await;
    app.wait_for(&running, Duration::from_secs(30), |c| c["status"] == "running")
        .await;
    b.goto(&app.url(&format!("/#/campaigns/{running}"))).await;
    b.until_text("#campaign-status", "running").await;
    b.click("#pause").await;
    b.until_text("#campaign-status", "paused").await;
    let (_, c) = json_of(app.get(&format!("/v1/campaigns/{running}")).send().await.unwrap()).await;
    assert_eq!(c["status"], "paused");
    assert_eq!(c["pause_reason"], "paused by the user");
    assert!(!b.shown("#pause").await && b.shown("#resume").await && b.shown("#cancel").await);
    shots.push(b.screenshot("04-campaign-paused").await);
    b.click("#resume").await;
    b.until_text("#campaign-status", "running").await;
    let (_, c) = json_of(app.get(&format!("/v1/campaigns/{running}")).send().await.unwrap()).await;
    assert_eq!(c["status"], "running");
    assert!(b.shown("#pause").await && !b.shown("#resume").await);
    b.click("#cancel").await;
    b.must(Method::POST, "/alert/accept", Some(json!({}))).await;
    b.until_text("#campaign-status", "cancelled").await;
    let (_, c) = json_of(app.get(&format!("/v1/campaigns/{running}")).send().await.unwrap()).await;
    assert_eq!(c["status"], "cancelled");

    // The list: both campaigns with their badges.
    b.click("a[data-nav=campaigns]").await;
    b.until_text(&format!("#campaigns tr[data-id='{id}'] .badge"), "completed")
        .await;
    b.until_text(&format!("#campaigns tr[data-id='{running}'] .badge"), "cancelled")
        .await;
    assert!(!b.shown("#load-more").await, "two campaigns fit one page");
    shots.push(b.screenshot("05-campaign-list").await);

    // Signing out forgets the token.
    b.click("#sign-out").await;
    b.find("#token").await;
    let kept = b
        .js("return sessionStorage.length + localStorage.length", json!([]))
        .await;
    assert_eq!(kept, 0);
    for shot in shots {
        eprintln!("screenshot: {}", shot.display());
    }
}
