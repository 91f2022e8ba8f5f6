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
        if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
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
        apalis_sqlite::SqliteStorage::<()>::migrations().run(&pool).await?;
        Ok(Self { pool })
    }

    /// The connection pool (for apalis storages and tests).
    pub fn pool(&self) -> &Pool<Sqlite> {
        &self.pool
    }
}

crate::sql::sql_store!(SqliteStore, Sqlite, Backend::Sqlite);

impl SqliteStore {
    /// Multi-row `INSERT … VALUES`, 1,000 rows per statement inside the caller's transaction (crates.md §8: about
    /// 1 M rows/s; one row per statement is 25–50 × slower).
    pub(crate) async fn insert_message_rows(
        conn: &mut sqlx::SqliteConnection,
        app: uuid::Uuid,
        campaign: uuid::Uuid,
        account: uuid::Uuid,
        messages: &[pregon_core::message::NewMessage],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), sqlx::Error> {
        for chunk in messages.chunks(crate::sql::INSERT_CHUNK) {
            let mut q = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO messages (id, app_id, campaign_id, account_id, row_number, phone, template_name, \
                 language, params, rendered_text, flag, status, created_at, updated_at) ",
            );
            q.push_values(chunk, |mut b, m| {
                b.push_bind(m.id.0)
                    .push_bind(app)
                    .push_bind(campaign)
                    .push_bind(account)
                    .push_bind(m.row_number.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
                    .push_bind(m.phone.as_str())
                    .push_bind(m.template_name.as_str())
                    .push_bind(m.language.as_str())
                    .push_bind(sqlx::types::Json(&m.params))
                    .push_bind(m.rendered_text.as_deref())
                    .push_bind(m.flag.as_deref())
                    .push_bind(m.status.as_str())
                    .push_bind(now)
                    .push_bind(now);
            });
            q.build().execute(&mut *conn).await?;
        }
        Ok(())
    }
}
