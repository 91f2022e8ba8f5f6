//! The SQLite backend: the embedded default. One process; WAL journal so readers never wait for the writer.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};
use std::str::FromStr;
use std::time::Duration;

/// A store on a SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: Pool<Sqlite>,
}

impl SqliteStore {
    /// Open (creating the file and its folder if needed) and migrate.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(dir) = options
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let mut migrator = sqlx::migrate!("../../migrations/sqlite");
        migrator.dangerous_set_table_name("_pregon_migrations");
        migrator.run(&pool).await?;
        // apalis's job tables, in the same file. Its `setup()` would also switch `synchronous` off on one
        // connection; only its migrations are wanted.
        apalis_sqlite::SqliteStorage::<()>::migrations()
            .run(&pool)
            .await?;
        Ok(Self { pool })
    }

    /// The connection pool (for apalis storages and tests).
    pub fn pool(&self) -> &Pool<Sqlite> {
        &self.pool
    }
}

crate::sql::sql_store!(SqliteStore, Sqlite, Backend::Sqlite);
