//! `/v1/accounts` and `/v1/accounts/{id}/templates` over real HTTP, on both backends.

#![allow(clippy::unwrap_used)]

use pregon_testkit::reqwest::{Method, StatusCode};
use pregon_testkit::{Backend, TestApp, fixtures, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    accounts_are_created_listed_updated_and_deleted,
    invalid_accounts_are_refused_with_the_field_at_fault,
    credentials_never_appear_in_any_response,
    templates_from_a_meta_listing_are_accepted_as_they_are,
    invalid_templates_are_refused_with_their_path,
    templates_sync_from_the_providers_listing,
);

async fn body(r: pregon_testkit::reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

fn meta_account() -> Value {
    json!({
        "name": "main",
        "provider": "meta",
        "sender": "106540352242922",
        "credentials": {"access_token": "EAAG-SECRET-ACCESS", "app_secret": "SECRET-APP", "verify_token": "SECRET-VERIFY"},
        "rate_per_second": 80,
        "concurrency": 10,
        "daily_cap": 1000,
        "base_url": "http://127.0.0.1:9"
    })
}

async fn accounts_are_created_listed_updated_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, created) = body(app.post_json("/v1/accounts", &meta_account()).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["provider"], "meta");
    assert_eq!(created["rate_per_second"], 80);
    assert_eq!(created["daily_cap"], 1000);
    assert_eq!(
        created["credentials_set"],
        json!(["access_token", "app_secret", "verify_token"])
    );
    assert_eq!(created["links"]["webhook"], format!("/webhooks/meta/{id}"));

    let (status, again) = body(app.post_json("/v1/accounts", &meta_account()).send().await.unwrap()).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );

    let sandbox = json!({"name": "play", "provider": "sandbox"});
    let (status, sb) = body(app.post_json("/v1/accounts", &sandbox).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{sb}");
    assert_eq!(
        (sb["sender"].as_str(), sb["rate_per_second"].as_u64()),
        (Some("sandbox"), Some(80))
    );

    let (status, list) = body(app.get("/v1/accounts").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["main", "play"]);

    // PATCH changes only what it names; credentials merge, null removes one.
    let patch =
        json!({"rate_per_second": 250, "daily_cap": null, "credentials": {"verify_token": null, "waba_id": "1234"}});
    let (status, updated) = body(
        app.request(Method::PATCH, &format!("/v1/accounts/{id}"))
            .json(&patch)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["rate_per_second"], 250);
    assert_eq!(updated["daily_cap"], Value::Null);
    assert_eq!(updated["concurrency"], 10);
    assert_eq!(
        updated["credentials_set"],
        json!(["access_token", "app_secret", "waba_id"])
    );
    let (status, e) = body(
        app.request(Method::PATCH, &format!("/v1/accounts/{id}"))
            .json(&json!({"provider": "gupshup"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_account"))
    );
    let (status, e) = body(
        app.request(Method::PATCH, &format!("/v1/accounts/{id}"))
            .json(&json!({"credentials": {"access_token": null}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, e["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("credentials.access_token"))
    );

    let r = app
        .request(Method::DELETE, &format!("/v1/accounts/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, e) = body(app.get(&format!("/v1/accounts/{id}")).send().await.unwrap()).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, _) = body(app.get("/v1/accounts/not-a-uuid").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn invalid_accounts_are_refused_with_the_field_at_fault(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (json!({"name": "x", "provider": "twilio", "sender": "1"}), "provider"),
        (
            json!({"name": "x", "provider": "meta", "sender": "1"}),
            "credentials.access_token",
        ),
        (
            json!({"name": "x", "provider": "meta", "sender": "1", "credentials": {"access_token": "a", "acess": "typo"}}),
            "credentials.acess",
        ),
        (
            json!({"name": "x", "provider": "gupshup", "sender": "1", "credentials": {"api_key": "k"}}),
            "credentials.app_name",
        ),
        (
            json!({"name": "x", "provider": "infobip", "sender": "1", "credentials": {"api_key": "k"}}),
            "base_url",
        ),
        (
            json!({"name": "x", "provider": "meta", "credentials": {"access_token": "a"}}),
            "sender",
        ),
        (json!({"name": "", "provider": "sandbox"}), "name"),
        (
            json!({"name": "x", "provider": "sandbox", "rate_per_second": 0}),
            "rate_per_second",
        ),
        (
            json!({"name": "x", "provider": "sandbox", "concurrency": 0}),
            "concurrency",
        ),
        (
            json!({"name": "x", "provider": "sandbox", "base_url": "file:///etc/passwd"}),
            "base_url",
        ),
    ];
    for (input, field) in cases {
        let (status, e) = body(app.post_json("/v1/accounts", &input).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{input} -> {e}");
        assert_eq!(e["error"]["code"], "invalid_account", "{input}");
        assert_eq!(e["error"]["details"]["field"], field, "{input}");
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
    }
    // Unknown top-level fields and wrong types are JSON-shape errors.
    for input in [
        json!({"name": "x", "provider": "sandbox", "rate": 5}),
        json!({"name": 5, "provider": "sandbox"}),
    ] {
        let (status, e) = body(app.post_json("/v1/accounts", &input).send().await.unwrap()).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_json")),
            "{input}"
        );
    }
    let (_, list) = body(app.get("/v1/accounts").send().await.unwrap()).await;
    assert_eq!(list["data"], json!([]), "nothing was stored");
}

async fn credentials_never_appear_in_any_response(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let secrets = ["EAAG-SECRET-ACCESS", "SECRET-APP", "SECRET-VERIFY", "NEW-SECRET"];
    let mut bodies = Vec::new();
    let created = app
        .post_json("/v1/accounts", &meta_account())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    bodies.push(created);
    bodies.push(app.get("/v1/accounts").send().await.unwrap().text().await.unwrap());
    bodies.push(
        app.get(&format!("/v1/accounts/{id}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let patch = json!({"credentials": {"access_token": "NEW-SECRET"}});
    bodies.push(
        app.request(Method::PATCH, &format!("/v1/accounts/{id}"))
            .json(&patch)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    // An error about the credentials names the key, not the value.
    let bad = json!({"credentials": {"access_token": "NEW-SECRET", "bogus": "SECRET-APP"}});
    bodies.push(
        app.request(Method::PATCH, &format!("/v1/accounts/{id}"))
            .json(&bad)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    bodies.push(
        app.get(&format!("/v1/accounts/{id}/templates"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    for b in &bodies {
        for s in secrets {
            assert!(!b.contains(s), "secret {s} leaked in {b}");
        }
    }
    // They were stored, though: the store hands them to the sender.
    let acc = app.store.get_account(app.app.id, id.parse().unwrap()).await.unwrap();
    assert_eq!(acc.credentials.get("access_token"), Some("NEW-SECRET"));
}

async fn templates_from_a_meta_listing_are_accepted_as_they_are(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, acc) = body(app.post_json("/v1/accounts", &meta_account()).send().await.unwrap()).await;
    let base = format!("/v1/accounts/{}/templates", acc["id"].as_str().unwrap());
    let listing: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("templates/meta-listing.json")).unwrap())
            .unwrap();

    // The whole listing response, pasted as it is.
    let (status, created) = body(app.post_json(&base, &listing).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["data"].as_array().unwrap().len(), 2);

    let (_, list) = body(app.get(&base).send().await.unwrap()).await;
    let items = list["data"].as_array().unwrap();
    assert_eq!(
        items.iter().map(|t| t["name"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["2023_april_promo", "hello_world"]
    );
    // Read back in Meta's shape: every original field kept, Meta's id as provider_id, Pregon's id as id.
    let promo = &items[0];
    let original = &listing["data"][1];
    for key in ["name", "language", "status", "category", "components"] {
        assert_eq!(promo[key], original[key], "{key}");
    }
    assert_eq!(promo["provider_id"], original["id"]);
    let tid = promo["id"].as_str().unwrap().to_owned();
    assert_ne!(tid, original["id"].as_str().unwrap());

    // The same again is a conflict, and stores nothing new.
    let (status, e) = body(app.post_json(&base, &listing["data"][0]).send().await.unwrap()).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );

    // What was read can be written back (PUT), here with a new status.
    let mut edited = promo.clone();
    edited["status"] = json!("PAUSED");
    let (status, put) = body(
        app.request(Method::PUT, &format!("{base}/{tid}"))
            .json(&edited)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(
        (put["status"].as_str(), put["id"].as_str()),
        (Some("PAUSED"), Some(tid.as_str()))
    );
    assert_eq!(put["provider_id"], original["id"]);
    let (_, one) = body(app.get(&format!("{base}/{tid}")).send().await.unwrap()).await;
    assert_eq!(one, put);

    let r = app
        .request(Method::DELETE, &format!("{base}/{tid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, _) = body(app.get(&format!("{base}/{tid}")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, acc_view) = body(
        app.get(&format!("/v1/accounts/{}", acc["id"].as_str().unwrap()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        acc_view["templates"].as_array().unwrap().len(),
        1,
        "the account lists its templates"
    );
}

async fn invalid_templates_are_refused_with_their_path(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, acc) = body(
        app.post_json("/v1/accounts", &json!({"name": "s", "provider": "sandbox"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let base = format!("/v1/accounts/{}/templates", acc["id"].as_str().unwrap());
    let good = json!({"name": "ok", "language": "en", "components": [{"type": "BODY", "text": "Hi {{1}}"}]});
    let bad = json!({"name": "bad", "language": "en", "components": [{"type": "BODY", "text": "Hi {{2}}"}]});
    let (status, e) = body(app.post_json(&base, &bad).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["code"], "invalid_template");
    assert_eq!(e["error"]["details"]["path"], "components[0].text");
    // In a batch, nothing is stored when one item is bad, and the error names its index.
    let (status, e) = body(app.post_json(&base, &json!([good, bad])).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["details"]["path"], "[1].components[0].text");
    let (_, list) = body(app.get(&base).send().await.unwrap()).await;
    assert_eq!(list["data"], json!([]));
    let (status, _) = body(
        app.get(&format!("/v1/accounts/{}/templates", uuid_like()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn uuid_like() -> &'static str {
    "01a20627-0000-7000-8000-000000000000"
}

async fn templates_sync_from_the_providers_listing(backend: Backend) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let app = TestApp::spawn(backend).await;
    let graph = MockServer::start().await;
    let item = |name: &str, status: &str| {
        json!({"id": format!("9{}", name.len()), "name": name, "language": "en_US", "status": status,
               "category": "UTILITY", "components": [{"type": "BODY", "text": "Hi {{1}}, your order shipped."}]})
    };
    let broken = json!({"name": "broken", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
                        "components": [{"type": "BODY", "text": ""}]});
    Mock::given(method("GET"))
        .and(path("/v23.0/4455/message_templates"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [item("shipped", "APPROVED"), item("kept", "APPROVED"), item("fresh", "PENDING"), broken],
            "paging": {"cursors": {"before": "A", "after": "B"}}
        })))
        .mount(&graph)
        .await;
    let (_, account) = body(
        app.post_json(
            "/v1/accounts",
            &json!({"name": "meta", "provider": "meta", "sender": "1065", "base_url": graph.uri(),
                    "credentials": {"access_token": "t", "waba_id": "4455"}}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let id = account["id"].as_str().unwrap().to_owned();
    let templates = format!("/v1/accounts/{id}/templates");
    // Here before the sync: one the provider still lists (as it was), one it lists changed, one it dropped.
    for t in [
        item("kept", "APPROVED"),
        item("shipped", "PENDING"),
        item("gone", "APPROVED"),
    ] {
        let (status, _) = body(app.post_json(&templates, &t).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, report) = body(
        app.request(Method::POST, &format!("{templates}/sync?prune=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (
            &report["listed"],
            &report["created"],
            &report["updated"],
            &report["unchanged"],
            &report["deleted"]
        ),
        (&json!(4), &json!(1), &json!(1), &json!(1), &json!(1)),
        "{report}"
    );
    assert_eq!(report["skipped"][0]["name"], "broken", "{report}");
    let (_, list) = body(app.get(&templates).send().await.unwrap()).await;
    let mut now: Vec<(String, String)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    now.sort();
    assert_eq!(
        now,
        [("fresh", "PENDING"), ("kept", "APPROVED"), ("shipped", "APPROVED")]
            .map(|(n, s)| (n.to_owned(), s.to_owned()))
    );

    // Providers without a listing, and a provider that refuses, say so.
    let sandbox = app.sandbox_account(json!({})).await;
    let (status, e) = body(
        app.request(Method::POST, &format!("/v1/accounts/{sandbox}/templates/sync"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    graph.reset().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "Invalid WABA", "code": 100}})),
        )
        .mount(&graph)
        .await;
    let (status, e) = body(
        app.request(Method::POST, &format!("{templates}/sync"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{e}");
    assert_eq!(e["error"]["code"], "provider_error");
    assert!(e["error"]["message"].as_str().unwrap().contains("Invalid WABA"), "{e}");
}
