//! Embedded migrations, one folder per backend with the same versions,
//! applied at start (`serve`) or on demand (`migrate`).

use diesel::{Connection, SqliteConnection, connection::SimpleConnection};
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbTarget, SQLITE_PRAGMAS, StoreError, StoreResult};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Apply every pending migration; returns the versions applied now.
///
/// PostgreSQL goes through `AsyncMigrationHarness`, which needs a
/// multi-thread tokio runtime; SQLite runs on a blocking thread.
pub async fn run_migrations(target: &DbTarget) -> StoreResult<Vec<String>> {
    let err = |e: &dyn std::fmt::Display| StoreError::Migration(e.to_string());
    match target {
        DbTarget::Postgres(url) => {
            let conn = AsyncPgConnection::establish(url)
                .await
                .map_err(|e| StoreError::Connection(e.to_string()))?;
            let mut harness = AsyncMigrationHarness::new(conn);
            let applied = harness
                .run_pending_migrations(PG_MIGRATIONS)
                .map_err(|e| err(&e))?;
            Ok(applied.iter().map(|v| v.to_string()).collect())
        }
        DbTarget::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
            }
            let url = path.to_string_lossy().into_owned();
            tokio::task::spawn_blocking(move || -> StoreResult<Vec<String>> {
                let mut conn = SqliteConnection::establish(&url)
                    .map_err(|e| StoreError::Connection(e.to_string()))?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                let applied = conn
                    .run_pending_migrations(SQLITE_MIGRATIONS)
                    .map_err(|e| err(&e))?;
                Ok(applied.iter().map(|v| v.to_string()).collect())
            })
            .await
            .map_err(|e| err(&e))?
        }
    }
}
