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
        apalis_postgres::PostgresStorage::<()>::migrations().run(&pool).await?;
        Ok(Self { pool })
    }

    /// The connection pool (for apalis storages and tests).
    pub fn pool(&self) -> &Pool<Postgres> {
        &self.pool
    }
}

crate::sql::sql_store!(PostgresStore, Postgres, Backend::Postgres);

/// Bytes of COPY data sent at a time.
const COPY_CHUNK: usize = 1 << 20;

/// Append `value` to COPY text data, escaping what the text format reserves.
fn copy_text(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Append an optional value: `\N` is COPY's NULL.
fn copy_opt(out: &mut String, value: Option<&str>) {
    match value {
        Some(v) => copy_text(out, v),
        None => out.push_str("\\N"),
    }
}

impl PostgresStore {
    /// `COPY messages … FROM STDIN` (text format) inside the caller's transaction: the fastest way into PostgreSQL
    /// (crates.md §8: ahead of `UNNEST`, far ahead of row-at-a-time inserts).
    pub(crate) async fn insert_message_rows(
        conn: &mut sqlx::PgConnection,
        app: uuid::Uuid,
        campaign: uuid::Uuid,
        account: uuid::Uuid,
        messages: &[pregon_core::message::NewMessage],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), sqlx::Error> {
        use std::fmt::Write;
        let mut copy = conn
            .copy_in_raw(
                "COPY messages (id, app_id, campaign_id, account_id, row_number, phone, template_name, language, params, \
                 rendered_text, flag, status, created_at, updated_at) FROM STDIN",
            )
            .await?;
        let now = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let fixed = format!("\t{app}\t{campaign}\t{account}\t");
        let mut buf = String::with_capacity(COPY_CHUNK + 4096);
        for m in messages {
            let params = serde_json::to_string(&m.params).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            let _ = write!(buf, "{}", m.id.0);
            buf.push_str(&fixed);
            match m.row_number {
                Some(n) => {
                    let _ = write!(buf, "{n}");
                }
                None => buf.push_str("\\N"),
            }
            for value in [
                m.phone.as_str(),
                m.template_name.as_str(),
                m.language.as_str(),
                params.as_str(),
            ] {
                buf.push('\t');
                copy_text(&mut buf, value);
            }
            buf.push('\t');
            copy_opt(&mut buf, m.rendered_text.as_deref());
            buf.push('\t');
            copy_opt(&mut buf, m.flag.as_deref());
            buf.push('\t');
            buf.push_str(m.status.as_str());
            buf.push('\t');
            buf.push_str(&now);
            buf.push('\t');
            buf.push_str(&now);
            buf.push('\n');
            if buf.len() >= COPY_CHUNK {
                copy.send(buf.as_bytes()).await?;
                buf.clear();
            }
        }
        if !buf.is_empty() {
            copy.send(buf.as_bytes()).await?;
        }
        copy.finish().await?;
        Ok(())
    }
}
