//! Test-only: start Pregon in-process on port 0 against a fresh database, and talk to it over real HTTP.
//!
//! ```ignore
//! let app = TestApp::spawn(Backend::Postgres).await;
//! let r = app.get("/v1/accounts").send().await?;
//! ```

#![allow(clippy::unwrap_used)]

use pregon::config::Config;
use pregon::state::AppState;
use pregon_store::DynStore;
use pregon_store::testing::TestDatabase;

pub use pregon_core::campaign::App;
pub use pregon_store::Backend;
pub use reqwest;

/// A running Pregon with its own database and one app (tenant) whose token the client uses.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The first app.
    pub app: App,
    /// Its token.
    pub token: String,
    /// Direct access to the database, to arrange what the API cannot (yet) create.
    pub store: DynStore,
    /// A plain HTTP client.
    pub client: reqwest::Client,
    /// The server's shared state (its clock, to move time in tests).
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    // Declared last: the server stops before its database is dropped.
    _db: TestDatabase,
}

impl TestApp {
    /// Start Pregon on `backend` with default settings.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Start Pregon on `backend` with settings adjusted by `configure`.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
        pregon::install_crypto_provider();
        let db = TestDatabase::new(backend).await;
        let store = db
            .store()
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", db.url));
        // Tests fetch `file_url`s from their own local servers.
        let mut config = Config {
            database_url: db.url.clone(),
            demo: false,
            fetch_allow_private: true,
            // Tests of ingestion read `scheduled` campaigns; tests of sending turn the dispatcher on.
            send: false,
            ..Config::default()
        };
        configure(&mut config);
        let (app, token) = pregon::bootstrap::create_app(&store, "acme").await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(store.clone(), config).unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        pregon::spawn_workers(state.clone(), stopped);
        let serving = state.clone();
        tokio::spawn(async move {
            let _ = pregon::http::serve(listener, serving, async {
                let _ = rx.await;
            })
            .await;
            let _ = stop.send(true);
        });
        TestApp {
            base,
            app,
            token,
            store,
            client: reqwest::Client::new(),
            state,
            shutdown: Some(tx),
            _db: db,
        }
    }

    /// Another app (tenant) on the same server, with its token.
    pub async fn another_app(&self, name: &str) -> (App, String) {
        pregon::bootstrap::create_app(&self.store, name).await.unwrap()
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with this app's token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(&self.token)
    }

    /// `GET path` with this app's token.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, path)
    }

    /// A `sandbox` account holding the example templates of `fixtures/templates/sandbox.json`, with `settings`
    /// (a JSON object) merged into its definition; returns its id.
    pub async fn sandbox_account(&self, settings: serde_json::Value) -> String {
        let mut account = serde_json::json!({"name": "sandbox", "provider": "sandbox"});
        if let (Some(a), Some(extra)) = (account.as_object_mut(), settings.as_object()) {
            a.extend(extra.clone());
        }
        let created: serde_json::Value = self
            .post_json("/v1/accounts", &account)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        let templates: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixtures().join("templates/sandbox.json")).unwrap()).unwrap();
        let r = self
            .post_json(&format!("/v1/accounts/{id}/templates"), &templates)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        id
    }

    /// Poll campaign `id` until it leaves `ingesting` (at most 30 s); returns it.
    pub async fn settled(&self, id: &str) -> serde_json::Value {
        let started = std::time::Instant::now();
        loop {
            let c: serde_json::Value = self
                .get(&format!("/v1/campaigns/{id}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if c["status"] != "ingesting" {
                return c;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "still ingesting: {c}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Poll campaign `id` until `done` holds for it (at most `within`); returns it.
    pub async fn wait_for(
        &self,
        id: &str,
        within: std::time::Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let started = std::time::Instant::now();
        loop {
            let c: serde_json::Value = self
                .get(&format!("/v1/campaigns/{id}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if done(&c) {
                return c;
            }
            assert!(started.elapsed() < within, "campaign not there after {within:?}: {c}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The first 1,000 messages of campaign `id`, oldest first, as the API shows them.
    pub async fn messages(&self, id: &str) -> Vec<serde_json::Value> {
        let page: serde_json::Value = self
            .get(&format!("/v1/campaigns/{id}/messages?limit=1000"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["data"].as_array().unwrap().clone()
    }

    /// `POST path` with a JSON body and this app's token.
    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, path).json(body)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The repository's `fixtures/` folder.
pub fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Runs each `async fn name(backend: Backend)` once per backend, as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::Backend::Postgres).await
                }
            )+
        }
    };
}
