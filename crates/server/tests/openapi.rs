//! The OpenAPI document at `/openapi.json` and the docs page at `/docs`: the document is valid OpenAPI 3.1 whose
//! every `$ref` resolves, every route the router registers is documented with its method (read from the router's
//! source, so a new route without an annotation fails here), every documented operation is routed, documented
//! answers match what the server really answers, and the docs page loads from the binary alone.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use pregon_core::ErrorCode;
use pregon_testkit::reqwest::{Method, StatusCode, multipart};
use pregon_testkit::{Backend, TestApp, fixtures};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use tower::ServiceExt;

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options", "trace"];

async fn document(app: &TestApp) -> Value {
    // No token: the document is public.
    let r = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        r.headers()
    );
    r.json().await.unwrap()
}

/// Every `$ref` string anywhere in `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// `(method, path)` of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_every_reference_resolves() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = document(&app).await;

    // A typed parse of the whole document by an OpenAPI 3.1 model (utoipa emits 3.1.0; `openapiv3` reads only 3.0).
    let text = serde_json::to_string(&doc).unwrap();
    let spec = oas3::from_json(&text).unwrap_or_else(|e| panic!("not an OpenAPI 3.1 document: {e}"));
    let version = spec.validate_version().unwrap();
    assert_eq!((version.major, version.minor), (3, 1));
    assert_eq!(spec.info.title, "Pregon");
    assert!(!spec.info.version.is_empty());

    let components = &doc["components"];
    for section in ["schemas", "responses", "securitySchemes"] {
        assert!(
            components[section].as_object().is_some_and(|m| !m.is_empty()),
            "no components.{section}"
        );
    }
    for scheme in [
        "bearer",
        "basic",
        "query_token",
        "metrics_token",
        "webhook_signature",
        "webhook_token",
    ] {
        assert!(
            components["securitySchemes"].get(scheme).is_some(),
            "no security scheme {scheme}"
        );
    }

    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50, "suspiciously few references: {}", all.len());
    for r in &all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r} is not a local reference"));
        assert!(pointer.starts_with("/components/"), "{r} points outside the components");
        assert!(doc.pointer(pointer).is_some(), "{r} resolves to nothing");
    }

    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tags,
        BTreeSet::from(["native", "chat-tonic", "jelou", "webhooks", "operations"])
    );
    let schemes = components["securitySchemes"].as_object().unwrap();
    let mut operation_ids = BTreeSet::new();
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(operation_ids.insert(id.to_owned()), "operationId {id} is used twice");
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path} has no summary"
        );
        let op_tags = op["tags"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has no tag"));
        assert!(
            op_tags.iter().all(|t| tags.contains(t.as_str().unwrap())),
            "{method} {path}: {op_tags:?}"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|k| k.starts_with('2') || k.starts_with('3')),
            "{method} {path} documents no success answer"
        );
        for requirement in op["security"].as_array().into_iter().flatten() {
            for name in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(name), "{method} {path}: unknown scheme {name}");
            }
        }
        // Every `{param}` of the path is a documented path parameter.
        let params: BTreeSet<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            assert!(params.contains(name), "{method} {path}: `{name}` is not documented");
        }
    }

    // Who needs what: the native API takes header credentials only, Chat-Tonic also a query token, health none.
    let security = |method: &str, path: &str| -> BTreeSet<String> {
        doc["paths"][path][method]["security"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r.as_object().unwrap().keys().cloned())
            .collect()
    };
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(security("get", "/v1/campaigns"), names(&["bearer", "basic"]));
    assert_eq!(
        security("get", "/api/v1/{app}/hsm"),
        names(&["bearer", "basic", "query_token"])
    );
    assert_eq!(security("post", "/v1/hsm/file"), names(&["basic", "bearer"]));
    assert_eq!(security("get", "/healthz"), names(&[]));
    assert_eq!(security("get", "/openapi.json"), names(&[]));
    assert_eq!(security("get", "/metrics"), names(&["metrics_token"]));
}

#[tokio::test]
async fn the_error_catalogue_is_in_the_document() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];

    let body = &schemas["ErrorBody"];
    assert_eq!(body["required"], json!(["error"]));
    assert_eq!(body["properties"]["error"]["$ref"], "#/components/schemas/ErrorDetail");
    let detail = &schemas["ErrorDetail"];
    assert_eq!(detail["properties"]["code"]["$ref"], "#/components/schemas/ErrorCode");

    // One constant per code of the catalogue, in its order, each with its HTTP status and meaning.
    let listed: Vec<(String, String)> = schemas["ErrorCode"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["enum"][0].as_str().unwrap().to_owned(),
                c["description"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = ErrorCode::ALL
        .iter()
        .map(|c| {
            (
                c.as_str().to_owned(),
                format!("HTTP {}. {}", c.http_status(), c.description()),
            )
        })
        .collect();
    assert_eq!(listed, expected);

    // The shared error answers list the codes of their status and point at the body schema.
    for (name, status) in [
        ("Unauthorized", 401),
        ("NotFound", 404),
        ("Conflict", 409),
        ("Unprocessable", 422),
    ] {
        let response = &doc["components"]["responses"][name];
        let text = response["description"].as_str().unwrap();
        for code in ErrorCode::ALL.iter().filter(|c| c.http_status() == status) {
            assert!(text.contains(&format!("`{}`", code.as_str())), "{name}: {text}");
        }
        assert_eq!(
            response["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
    }

    // Routes document their errors: every secured operation its 401, every one its server errors.
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.contains_key("5XX"), "{method} {path}");
        if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            assert!(responses.contains_key("401"), "{method} {path} documents no 401");
        }
    }
    let upload = &doc["paths"]["/v1/campaigns"]["post"]["responses"];
    for status in ["202", "401", "404", "413", "422"] {
        assert!(upload.get(status).is_some(), "POST /v1/campaigns: no {status}");
    }
}

// --- Every route of the router is documented -----------------------------------------------------------------

fn http_source(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/http")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text between the `{` that opens `fn name` and the `}` that closes it (strings and line comments skipped).
fn fn_body(src: &str, name: &str) -> Option<String> {
    let start = src.find(&format!("fn {name}("))?;
    let open = start + src[start..].find('{')?;
    let bytes = src.as_bytes();
    let (mut depth, mut i) = (0usize, open);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(src[open + 1..i].to_owned());
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The first string literal at or after `at`, and where it ends.
fn string_at(text: &str, at: usize) -> (String, usize) {
    let open = at + text[at..].find('"').unwrap();
    let close = open + 1 + text[open + 1..].find('"').unwrap();
    (text[open + 1..close].to_owned(), close + 1)
}

/// The text of the parenthesised argument list that opens at `open` (an index of `(`).
fn args_at(text: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in {}", &text[open..])
}

/// `module::function()` calls of route functions (`routes`, `chat_tonic_routes`, …) in `text`.
fn route_fn_calls(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for (at, _) in text.match_indices("routes()") {
        let start = text[..at]
            .rfind(|c: char| !is_ident(c) && c != ':')
            .map_or(0, |i| i + 1);
        let call = &text[start..at + "routes".len()];
        let (module, function) = call
            .rsplit_once("::")
            .unwrap_or_else(|| panic!("a route function called without its module: `{call}()`"));
        out.push((module.to_owned(), function.to_owned()));
    }
    out
}

/// `(METHOD, path)` of every `.route("path", get(..).post(..))` in `text`, with `prefix` before the path.
fn routes_in(text: &str, prefix: &str, origin: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(".route(") {
        let args = args_at(text, at + ".route".len());
        let (path, after) = string_at(args, 0);
        let handlers = &args[after..];
        let mut methods = Vec::new();
        let mut ident = String::new();
        for c in handlers.chars() {
            if c.is_ascii_alphanumeric() || c == '_' {
                ident.push(c);
                continue;
            }
            if c == '(' {
                if METHODS.contains(&ident.as_str()) {
                    methods.push(ident.to_uppercase());
                } else if ident == "any" || ident.ends_with("_service") || ident == "on" {
                    panic!("{origin}: `{ident}(…)` on {path}: teach this test which methods it routes");
                }
            }
            ident.clear();
        }
        assert!(
            !methods.is_empty(),
            "{origin}: no method found for {path} in `{handlers}`"
        );
        // axum's catch-all `{*rest}` is a plain `{rest}` parameter in OpenAPI.
        let path = format!("{prefix}{path}").replace("{*", "{");
        out.extend(methods.into_iter().map(|m| (m, path.clone())));
    }
    out
}

/// Every `(METHOD, path)` the router of `src/http/mod.rs` registers, read from the source: the route functions it
/// merges or nests (with the nest's prefix), and the `.route(…)` calls in each. Anything this reader does not
/// understand fails the test rather than being skipped.
fn registered_routes() -> BTreeSet<(String, String)> {
    let router = fn_body(&http_source("mod.rs"), "router").expect("fn router in src/http/mod.rs");
    // rustfmt puts each statement of the function on lines indented by four spaces.
    let mut statements: Vec<String> = Vec::new();
    for line in router.lines() {
        let top =
            line.starts_with("    ") && !line.starts_with("     ") && !line.trim_start().starts_with(['}', ')', '.']);
        match statements.last_mut() {
            Some(s) if !top => {
                s.push('\n');
                s.push_str(line);
            }
            _ => statements.push(line.to_owned()),
        }
    }
    let mut lets: BTreeMap<String, String> = BTreeMap::new();
    let mut chain = None;
    for s in statements {
        let t = s.trim();
        if let Some(rest) = t.strip_prefix("let ") {
            let (name, expr) = rest.split_once('=').unwrap();
            lets.insert(name.trim().to_owned(), expr.to_owned());
        } else if t.starts_with("Router::new()") {
            assert!(chain.is_none(), "two router chains in fn router");
            chain = Some(t.to_owned());
        }
    }
    let chain = chain.expect("the router chain returned by fn router");

    // (module, function, prefix) of every route function wired into the router.
    let mut wired: Vec<(String, String, String)> = Vec::new();
    for (at, _) in chain.match_indices(".nest(") {
        let args = args_at(&chain, at + ".nest".len());
        let (prefix, after) = string_at(args, 0);
        let name = args[after..].trim_start_matches([',', ' ']).trim();
        let expr = lets
            .remove(name)
            .unwrap_or_else(|| panic!("`.nest({prefix:?}, {name})`: `{name}` is not a `let` of fn router"));
        assert!(!expr.contains(".nest("), "a nest inside `{name}`: teach this test");
        let calls = route_fn_calls(&expr);
        assert!(!calls.is_empty(), "`{name}` wires no route function");
        wired.extend(calls.into_iter().map(|(m, f)| (m, f, prefix.clone())));
    }
    for (name, expr) in &lets {
        assert!(
            route_fn_calls(expr).is_empty(),
            "`let {name}` holds routes that are not nested anywhere this test can see"
        );
    }
    let outer = chain.match_indices(".nest(").fold(chain.clone(), |c, (at, _)| {
        let args = args_at(&chain, at + ".nest".len());
        c.replace(args, "")
    });
    wired.extend(route_fn_calls(&outer).into_iter().map(|(m, f)| (m, f, String::new())));

    let mut routes = BTreeSet::new();
    let mut seen_route_calls = 0;
    for (module, function, prefix) in &wired {
        let body = fn_body(&http_source(&format!("{module}.rs")), function)
            .unwrap_or_else(|| panic!("fn {function} not found in src/http/{module}.rs"));
        assert!(
            !body.contains(".merge(") && !body.contains(".nest("),
            "{module}::{function} merges or nests: teach this test"
        );
        let found = routes_in(&body, prefix, &format!("{module}::{function}"));
        seen_route_calls += body.matches(".route(").count();
        routes.extend(found);
    }
    routes.extend(routes_in(&outer, "", "mod.rs"));
    seen_route_calls += outer.matches(".route(").count();

    // Every `.route(` of every file under src/http was read: none hides in a function the router does not name.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut everywhere = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            everywhere += std::fs::read_to_string(&path).unwrap().matches(".route(").count();
        }
    }
    assert_eq!(
        seen_route_calls, everywhere,
        "some `.route(` calls under src/http are in functions fn router does not wire as this test reads it"
    );
    routes
}

#[tokio::test]
async fn every_route_of_the_router_is_documented() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = document(&app).await;
    let registered = registered_routes();
    // A floor, so a reader that silently finds nothing cannot pass.
    assert!(
        registered.len() >= 40,
        "only {} routes read: {registered:?}",
        registered.len()
    );
    for expected in [
        ("GET", "/v1/accounts"),
        ("POST", "/api/v1/{app}/hsm/campaign/upload"),
        ("POST", "/v1/hsm/file"),
    ] {
        assert!(
            registered.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "the route reader missed {expected:?}"
        );
    }
    let documented = documented(&doc);
    let missing: Vec<_> = registered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes without an OpenAPI annotation (add #[utoipa::path] and list the handler in openapi::ApiDoc): \
         {missing:?}"
    );
    let extra: Vec<_> = documented.difference(&registered).collect();
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
}

#[tokio::test]
async fn every_documented_operation_reaches_a_route() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = document(&app).await;
    // The real router, with a fallback that says "no route": nothing documented may land there or on a 405.
    let router = pregon::http::router(app.state.clone())
        .fallback(|| async { (axum::http::StatusCode::IM_A_TEAPOT, "no route") });
    for (method, path) in documented(&doc) {
        let concrete: String = path
            .split('/')
            .map(|s| match s {
                "{app}" => "acme",
                "{provider}" => "meta",
                "{file}" => "index.css",
                s if s.starts_with('{') => "01a20627-0000-7000-8000-000000000000",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        let request = axum::http::Request::builder()
            .method(method.as_str())
            .uri(&concrete)
            .body(Body::empty())
            .unwrap();
        let status = router.clone().oneshot(request).await.unwrap().status();
        assert!(
            status != axum::http::StatusCode::IM_A_TEAPOT && status != axum::http::StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not routed ({status})"
        );
    }
}

// --- The docs page ------------------------------------------------------------------------------------------

/// The values of `attr="…"` attributes in `html`.
fn attribute_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_docs_page_loads_from_the_binary_without_a_token() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.url().clone();
    assert_eq!(page.path(), "/docs/");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");

    let assets: Vec<String> = attribute_values(&html, "src")
        .into_iter()
        .chain(attribute_values(&html, "href"))
        .collect();
    assert!(assets.len() >= 4, "{assets:?}");
    assert!(assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")));
    for asset in &assets {
        let url = page.join(asset).unwrap();
        // Nothing from elsewhere: every asset comes from this server.
        assert_eq!(url.origin(), page.origin(), "{asset} is not served by Pregon");
        let r = app.client.get(url.clone()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        assert!(!r.bytes().await.unwrap().is_empty(), "{url} is empty");
    }

    // The page is pointed at this document, and at no online validator.
    let init = app
        .client
        .get(page.join("swagger-initializer.js").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), StatusCode::OK);
    let init = init.text().await.unwrap();
    assert!(init.contains("\"/openapi.json\""), "{init}");
    assert!(init.contains("\"validatorUrl\": \"none\""), "{init}");

    let missing = app.client.get(app.url("/docs/no-such-file.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

// --- Documented answers are the real ones --------------------------------------------------------------------

/// Checks `value` against the JSON schema `schema` of the document: the keywords utoipa emits (`$ref`, `type`
/// with `null`, `properties`, `required`, `additionalProperties: false`, `items`, `enum`, `oneOf`, `allOf`).
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let target = doc
            .pointer(r.trim_start_matches('#'))
            .ok_or(format!("{at}: {r} unresolved"))?;
        return check(doc, target, value, at);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let fits = options.iter().filter(|o| check(doc, o, value, at).is_ok()).count();
        if fits != 1 {
            return Err(format!("{at}: {value} fits {fits} of oneOf {schema}"));
        }
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(doc, part, value, at)?;
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let fits = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !fits {
            return Err(format!("{at}: {value} is not {types:?}"));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema["properties"].as_object();
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !object.contains_key(name) {
                return Err(format!("{at}: required `{name}` missing from {value}"));
            }
        }
        if let Some(properties) = properties {
            for (name, v) in object {
                match (properties.get(name), &schema["additionalProperties"]) {
                    (Some(s), _) => check(doc, s, v, &format!("{at}.{name}"))?,
                    (None, Value::Bool(true)) => {}
                    (None, extra @ Value::Object(_)) => check(doc, extra, v, &format!("{at}.{name}"))?,
                    // Stricter than JSON Schema on purpose: an answer must not carry a field its schema does not
                    // name, unless the schema says other fields are allowed.
                    (None, _) => {
                        return Err(format!(
                            "{at}: `{name}` is not documented (documented: {:?})",
                            properties.keys()
                        ));
                    }
                }
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            check(doc, items, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// Checks a real answer against what the document says `method path` answers with its status.
async fn conforms(doc: &Value, method: &str, path: &str, r: pregon_testkit::reqwest::Response) -> Value {
    let status = r.status().as_u16().to_string();
    let body: Value = r.json().await.unwrap();
    let responses = &doc["paths"][path][method]["responses"];
    let mut response = responses
        .get(&status)
        .unwrap_or_else(|| panic!("{method} {path} answered {status}, which is not documented: {body}"));
    if let Some(r) = response["$ref"].as_str() {
        response = doc.pointer(r.trim_start_matches('#')).unwrap();
    }
    let schema = &response["content"]["application/json"]["schema"];
    assert!(!schema.is_null(), "{method} {path} {status}: no JSON schema documented");
    if let Err(e) = check(doc, schema, &body, "body") {
        panic!("{method} {path} {status} does not match its schema: {e}");
    }
    body
}

#[tokio::test]
async fn documented_answers_match_the_real_ones() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = document(&app).await;
    let d = &doc;

    conforms(
        d,
        "get",
        "/healthz",
        app.client.get(app.url("/healthz")).send().await.unwrap(),
    )
    .await;
    conforms(
        d,
        "get",
        "/readyz",
        app.client.get(app.url("/readyz")).send().await.unwrap(),
    )
    .await;
    conforms(
        d,
        "get",
        "/v1/accounts",
        app.client.get(app.url("/v1/accounts")).send().await.unwrap(),
    )
    .await;

    let r = app
        .post_json("/v1/accounts", &json!({"name": "sandbox", "provider": "sandbox"}))
        .send()
        .await
        .unwrap();
    let account = conforms(d, "post", "/v1/accounts", r).await;
    let account = account["id"].as_str().unwrap().to_owned();
    let templates: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("templates/sandbox.json")).unwrap()).unwrap();
    let r = app
        .post_json(&format!("/v1/accounts/{account}/templates"), &templates)
        .send()
        .await
        .unwrap();
    let created = conforms(d, "post", "/v1/accounts/{account}/templates", r).await;
    let template = created["data"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .get(&format!("/v1/accounts/{account}/templates/{template}"))
        .send()
        .await
        .unwrap();
    conforms(d, "get", "/v1/accounts/{account}/templates/{template}", r).await;
    let r = app.get(&format!("/v1/accounts/{account}")).send().await.unwrap();
    conforms(d, "get", "/v1/accounts/{account}", r).await;
    let r = app.get("/v1/accounts").send().await.unwrap();
    conforms(d, "get", "/v1/accounts", r).await;
    let r = app
        .get(&format!("/v1/accounts/{account}/templates"))
        .send()
        .await
        .unwrap();
    conforms(d, "get", "/v1/accounts/{account}/templates", r).await;
    let r = app
        .request(Method::PATCH, &format!("/v1/accounts/{account}"))
        .json(&json!({"rate_per_second": 0}))
        .send()
        .await
        .unwrap();
    let refused = conforms(d, "patch", "/v1/accounts/{account}", r).await;
    assert_eq!(refused["error"]["code"], "invalid_account");

    // A campaign through the native upload, with a rejected row.
    let csv = std::fs::read(fixtures().join("files/chat-tonic.csv")).unwrap();
    let mut csv_with_bad_row = csv.clone();
    csv_with_bad_row.extend_from_slice(b"\nnot-a-phone,,order_confirmation,en,,,,,,\n");
    let form = multipart::Form::new().text("account", account.clone()).part(
        "file",
        multipart::Part::bytes(csv_with_bad_row.clone()).file_name("c.csv"),
    );
    let r = app
        .request(Method::POST, "/v1/campaigns/validate")
        .multipart(form)
        .send()
        .await
        .unwrap();
    conforms(d, "post", "/v1/campaigns/validate", r).await;
    let form = multipart::Form::new()
        .text("account", account.clone())
        .text("scheduled_at", "2099-01-01T00:00:00Z")
        .part("file", multipart::Part::bytes(csv_with_bad_row).file_name("c.csv"));
    let r = app
        .request(Method::POST, "/v1/campaigns")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let campaign = conforms(d, "post", "/v1/campaigns", r).await;
    let campaign = campaign["id"].as_str().unwrap().to_owned();
    app.settled(&campaign).await;
    let r = app.get(&format!("/v1/campaigns/{campaign}")).send().await.unwrap();
    let shown = conforms(d, "get", "/v1/campaigns/{campaign}", r).await;
    assert!(
        shown["source"].is_object() && shown["counts"]["rejected"].as_u64() >= Some(1),
        "{shown}"
    );
    conforms(
        d,
        "get",
        "/v1/campaigns",
        app.get("/v1/campaigns").send().await.unwrap(),
    )
    .await;
    let r = app
        .get(&format!("/v1/campaigns/{campaign}/messages"))
        .send()
        .await
        .unwrap();
    let page = conforms(d, "get", "/v1/campaigns/{campaign}/messages", r).await;
    let message = page["data"][0]["id"].as_str().unwrap().to_owned();
    let r = app.get(&format!("/v1/messages/{message}")).send().await.unwrap();
    conforms(d, "get", "/v1/messages/{message}", r).await;
    let r = app
        .get(&format!("/v1/campaigns/{campaign}/rejections"))
        .send()
        .await
        .unwrap();
    let rejections = conforms(d, "get", "/v1/campaigns/{campaign}/rejections", r).await;
    assert!(!rejections["data"].as_array().unwrap().is_empty());
    let r = app
        .request(Method::PATCH, &format!("/v1/campaigns/{campaign}"))
        .json(&json!({"rate_cap": 1, "send_window": {"start": "09:00", "end": "18:00", "zone": "UTC"}}))
        .send()
        .await
        .unwrap();
    let changed = conforms(d, "patch", "/v1/campaigns/{campaign}", r).await;
    assert!(changed["send_window"].is_object(), "{changed}");
    let r = app
        .request(Method::POST, &format!("/v1/campaigns/{campaign}/pause"))
        .send()
        .await
        .unwrap();
    conforms(d, "post", "/v1/campaigns/{campaign}/pause", r).await;
    let r = app
        .request(Method::POST, &format!("/v1/campaigns/{campaign}/cancel"))
        .send()
        .await
        .unwrap();
    conforms(d, "post", "/v1/campaigns/{campaign}/cancel", r).await;
    let r = app
        .request(Method::POST, &format!("/v1/campaigns/{campaign}/resume"))
        .send()
        .await
        .unwrap();
    let refused = conforms(d, "post", "/v1/campaigns/{campaign}/resume", r).await;
    assert_eq!(refused["error"]["code"], "invalid_transition");
    let r = app
        .request(Method::POST, &format!("/v1/campaigns/{campaign}/retry-failed"))
        .send()
        .await
        .unwrap();
    conforms(d, "post", "/v1/campaigns/{campaign}/retry-failed", r).await;

    // Single sends, native and Chat-Tonic.
    let r = app
        .post_json(
            "/v1/messages",
            &json!({"account": account, "to": "+5491123456789", "shorthand": "&(( template=[[hello_world]] language=[[en_US]] ))&"}),
        )
        .send()
        .await
        .unwrap();
    let sent = conforms(d, "post", "/v1/messages", r).await;
    assert!(sent["params"].is_object(), "{sent}");
    let r = app
        .post_json(
            &format!("/api/v1/acme/whatsapp-sandbox/{account}/sendhsm"),
            &json!({"id": "+5491123456780", "hsm": {"elementName": "hello_world", "languageCode": "en_US", "parameters": []}}),
        )
        .send()
        .await
        .unwrap();
    conforms(d, "post", "/api/v1/{app}/{platform}/{account}/sendhsm", r).await;

    // Chat-Tonic upload and status query, with the token in the query string.
    let form = multipart::Form::new().part("upload", multipart::Part::bytes(csv).file_name("c.csv"));
    let r = app
        .client
        .post(app.url(&format!(
            "/api/v1/acme/hsm/campaign/upload?platform=whatsapp-sandbox&accountId={account}&token={}",
            app.token
        )))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let uploaded = conforms(d, "post", "/api/v1/{app}/hsm/campaign/upload", r).await;
    let ct = uploaded["campaignId"].as_str().unwrap().to_owned();
    app.settled(&ct).await;
    let r = app
        .get(&format!("/api/v1/acme/hsm?query=%7B%22campaignId%22%3A%22{ct}%22%7D"))
        .send()
        .await
        .unwrap();
    let status = conforms(d, "get", "/api/v1/{app}/hsm", r).await;
    assert!(!status["hsms"].as_array().unwrap().is_empty());

    // Jelou: its own success and failure shapes.
    let jelou = |template: &str| {
        multipart::Form::new()
            .text("campaignName", "promo")
            .text("elementName", template.to_owned())
            .text("botId", account.clone())
            .text("type", "image")
            .text("mediaUrl", "https://example.com/o.jpg")
            .text(
                "params",
                r#"[{"param":1,"column":"order_id"},{"param":2,"column":"amount"},{"param":3,"column":"customer_name"}]"#,
            )
            .part(
                "file",
                multipart::Part::bytes(std::fs::read(fixtures().join("files/jelou.csv")).unwrap()).file_name("j.csv"),
            )
    };
    let r = app
        .client
        .post(app.url("/v1/hsm/file"))
        .basic_auth("acme", Some(&app.token))
        .multipart(jelou("order_confirmation"))
        .send()
        .await
        .unwrap();
    conforms(d, "post", "/v1/hsm/file", r).await;
    let r = app
        .client
        .post(app.url("/v1/hsm/file"))
        .basic_auth("acme", Some(&app.token))
        .multipart(jelou("no_such_template"))
        .send()
        .await
        .unwrap();
    let failed = conforms(d, "post", "/v1/hsm/file", r).await;
    assert_eq!(failed["status"], "failed");
    let r = app
        .client
        .post(app.url("/v1/hsm/file"))
        .basic_auth("acme", Some("nope"))
        .send()
        .await
        .unwrap();
    conforms(d, "post", "/v1/hsm/file", r).await;

    // Opt-outs and the callback.
    let r = app
        .post_json("/v1/optouts", &json!({"phones": ["+54 9 11 2345-6789", "nope"]}))
        .send()
        .await
        .unwrap();
    conforms(d, "post", "/v1/optouts", r).await;
    conforms(d, "get", "/v1/optouts", app.get("/v1/optouts").send().await.unwrap()).await;
    let r = app
        .request(Method::PUT, "/v1/callback")
        .json(&json!({"url": "https://hooks.example.com/pregon"}))
        .send()
        .await
        .unwrap();
    conforms(d, "put", "/v1/callback", r).await;
    conforms(d, "get", "/v1/callback", app.get("/v1/callback").send().await.unwrap()).await;

    // Errors: the catalogue's body.
    let r = app.client.get(app.url("/v1/campaigns")).send().await.unwrap();
    let unauthorized = conforms(d, "get", "/v1/campaigns", r).await;
    assert_eq!(unauthorized["error"]["code"], "unauthorized");
    let r = app
        .get("/v1/campaigns/01a20627-0000-7000-8000-000000000000")
        .send()
        .await
        .unwrap();
    conforms(d, "get", "/v1/campaigns/{campaign}", r).await;
    let r = app
        .client
        .post(app.url(&format!("/webhooks/sandbox/{account}")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    conforms(d, "post", "/webhooks/{provider}/{account}", r).await;
}
