//! The PostgreSQL backend: production, with several `pregon` processes sharing one database.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};
use std::time::Duration;

/// A store on a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: Pool<Postgres>,
}

impl PostgresStore {
    /// Connect and migrate.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        let mut migrator = sqlx::migrate!("../../migrations/postgres");
        migrator.dangerous_set_table_name("_pregon_migrations");
        migrator.run(&pool).await?;
        // apalis's job tables live in their own `apalis` schema of the same database.
        apalis_postgres::PostgresStorage::<()>::migrations()
            .run(&pool)
            .await?;
        Ok(Self { pool })
    }

    /// The connection pool (for apalis storages and tests).
    pub fn pool(&self) -> &Pool<Postgres> {
        &self.pool
    }
}

crate::sql::sql_store!(PostgresStore, Postgres, Backend::Postgres);
