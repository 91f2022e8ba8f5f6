//! apalis's job storage lives in the same database as Pregon's tables, on both backends: the store's migrations
//! create it, and a job pushed through the app's own pool lands there.

#![allow(clippy::unwrap_used)]

use apalis::prelude::TaskSink;
use pregon_store::postgres::PostgresStore;
use pregon_store::sqlite::SqliteStore;
use pregon_store::testing::TestDatabase;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Probe {
    n: u32,
}

#[tokio::test]
async fn sqlite_jobs_share_the_database() {
    let db = TestDatabase::sqlite().await;
    let store = SqliteStore::connect(&db.url).await.unwrap();
    let mut storage = apalis_sqlite::SqliteStorage::<Probe>::new(store.pool())
        .with_config(apalis_sqlite::Config::default().queue("probe"));
    storage.push(Probe { n: 7 }).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM Jobs WHERE job_type = 'probe'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    let apps: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM apps")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(apps, 0, "Pregon's tables are in the same file");
}

#[tokio::test]
async fn postgres_jobs_share_the_database() {
    let db = TestDatabase::postgres().await;
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let mut storage = apalis_postgres::PostgresStorage::<Probe>::new(store.pool())
        .with_config(apalis_postgres::Config::default().queue("probe"));
    storage.push(Probe { n: 7 }).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM apalis.jobs WHERE job_type = 'probe'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    let apps: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM apps")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(apps, 0, "Pregon's tables are in the same database");
}
