//! Test support: a fresh database per test, on either backend, removed when the test ends.

use crate::{Backend, DynStore, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};

/// The PostgreSQL server tests create their databases on; override with `PREGON_TEST_POSTGRES_URL`
/// (it must name a database the user can connect to, and the user must be allowed to `CREATE DATABASE`).
pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test.
pub struct TestDatabase {
    /// The URL to give `pregon_store::connect` or `PREGON_DATABASE_URL`.
    pub url: String,
    /// Its backend.
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A database of the given backend.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A new SQLite file in a temporary folder.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
        let url = format!("sqlite://{}", dir.path().join("pregon.db").display());
        TestDatabase {
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A new, empty PostgreSQL database. Panics (failing the test) when PostgreSQL is not reachable: the suite
    /// must run on both backends, never silently on one.
    pub async fn postgres() -> Self {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let admin = std::env::var("PREGON_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES_URL.into());
        let name = format!(
            "pregon_test_{}_{}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            uuid::Uuid::now_v7().simple()
        );
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is not reachable at {admin} (set PREGON_TEST_POSTGRES_URL): {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let url = with_database(&admin, &name);
        TestDatabase {
            url,
            backend: Backend::Postgres,
            _dir: None,
            postgres: Some((admin, name)),
        }
    }

    /// Connect to it through [`crate::connect`], migrations and all.
    pub async fn store(&self) -> Result<DynStore, StoreError> {
        crate::connect(&self.url).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived thread with its own
        // runtime removes the database.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: test database was not dropped");
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    match base[host_start..].rfind('/') {
        Some(slash) => format!("{}/{name}{query}", &base[..host_start + slash]),
        None => format!("{base}/{name}{query}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        use super::with_database;
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
