//! Storage: one `Db` handle over PostgreSQL or SQLite, and one repository
//! module per aggregate. Every query is written once and run on either
//! backend through the `with_conn!` / `with_tx!` macros, which match the
//! variant and expand the same diesel expression for each connection type.

pub mod api_tokens;
pub mod audit;
pub mod bench_seed;
pub mod bus;
pub mod calls;
pub mod campaigns;
pub mod claims;
pub mod consents;
pub mod contact_centers;
mod engine_pg;
mod engine_sqlite;
pub mod follow_ups;
pub mod heartbeats;
pub mod history;
pub mod imports;
pub mod leads;
pub mod leases;
pub mod lists;
pub mod login_attempts;
mod migrate;
pub mod models;
pub mod organizations;
pub mod outage;
pub mod outbox;
pub mod policies;
pub mod presence;
pub mod recordings;
pub mod reports;
pub mod schema;
pub mod sessions;
pub mod trail;
pub mod users;
pub mod wrap_ups;

use std::path::{Path, PathBuf};

use diesel::SqliteConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

pub use migrate::run_migrations;
pub use outage::{Outage, Writes};

/// A pooled SQLite connection, driven on a blocking thread by diesel-async.
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Pragmas applied to every SQLite connection (see docs/design.md).
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; \
     PRAGMA busy_timeout = 5000; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA wal_autocheckpoint = 0;";

/// How often the background checkpointer folds the WAL into the database
/// file. Without it a commit that crosses SQLite's auto-checkpoint size
/// pays for the checkpoint itself (milliseconds on the dialer's hot path).
const SQLITE_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The database: PostgreSQL in production, SQLite for the embedded default.
#[derive(Clone)]
pub enum Db {
    Pg(PgDb),
    Sqlite(SqliteDb),
}

/// PostgreSQL: a pool, and the record of whether writes work.
#[derive(Clone)]
pub struct PgDb {
    pub pool: Pool<AsyncPgConnection>,
    pub writes: std::sync::Arc<Writes>,
    pub(crate) url: std::sync::Arc<str>,
}

impl PgDb {
    /// A connection from the pool.
    pub async fn conn(
        &self,
    ) -> StoreResult<diesel_async::pooled_connection::bb8::PooledConnection<'_, AsyncPgConnection>>
    {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Connection(e.to_string()))
    }
}

/// The embedded database: a pool, and one in-process gate for write
/// transactions. SQLite allows one writer at a time; queuing writers on an
/// async mutex hands the lock over at once, where SQLite's busy handler
/// would sleep and poll (and hold a pooled connection while it does).
#[derive(Clone)]
pub struct SqliteDb {
    pub pool: Pool<SqliteConn>,
    pub writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Held by every clone; the checkpointer stops when the last is gone.
    alive: std::sync::Arc<()>,
    pub writes: std::sync::Arc<Writes>,
}

/// Which database a URL or data dir selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DbTarget {
    /// `postgres://` / `postgresql://` select PostgreSQL; `sqlite:PATH` or no
    /// URL at all select the SQLite file `pinline.sqlite3` in the data dir.
    pub fn resolve(database_url: Option<&str>, data_dir: &Path) -> DbTarget {
        match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                DbTarget::Postgres(url.to_owned())
            }
            Some(url) => {
                let path = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or(url);
                DbTarget::Sqlite(PathBuf::from(path))
            }
            None => DbTarget::Sqlite(data_dir.join("pinline.sqlite3")),
        }
    }

    /// A description safe for logs (no password).
    pub fn describe(&self) -> String {
        match self {
            DbTarget::Postgres(url) => match url.split_once('@') {
                Some((_, host)) => format!("postgresql (…@{host})"),
                None => "postgresql".to_owned(),
            },
            DbTarget::Sqlite(path) => format!("sqlite ({})", path.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to the database: {0}")]
    Connection(String),
    #[error("database error: {0}")]
    Query(DieselError),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// The database cannot take the write (or answer) now; retrying later
    /// may help.
    #[error("{cause}: {detail}")]
    Unavailable { cause: Outage, detail: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A write for a contact center whose lease this instance no longer
    /// holds (another instance took it): refused by the fence.
    #[error("{0}")]
    LeaseLost(String),
    /// The operating system refused something the store's owner needs
    /// (a thread, a runtime).
    #[error("{0}")]
    System(String),
}

/// What `pinline_fence` says when it refuses (the migration's words).
const LEASE_LOST: &str = "pinline: lease lost";

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        if let DieselError::DatabaseError(_, info) = &e
            && info.message().starts_with(LEASE_LOST)
        {
            return StoreError::LeaseLost(info.message().to_owned());
        }
        match outage::classify(&e) {
            Some(cause) => StoreError::Unavailable {
                cause,
                detail: e.to_string(),
            },
            None => StoreError::Query(e),
        }
    }
}

impl StoreError {
    /// Map a unique-constraint violation to `Duplicate(what)`.
    pub fn unique_as(e: DieselError, what: &'static str) -> StoreError {
        match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                StoreError::Duplicate(what)
            }
            other => other.into(),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Run `$body` with `$conn` bound to a pooled connection of either backend.
macro_rules! with_conn {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Pg(pg) => {
                let mut pooled = pg
                    .pool
                    .get()
                    .await
                    .map_err(|e| $crate::store::StoreError::Connection(e.to_string()))?;
                let $conn = &mut *pooled;
                $body
            }
            $crate::store::Db::Sqlite(sqlite) => {
                let mut pooled = sqlite
                    .pool
                    .get()
                    .await
                    .map_err(|e| $crate::store::StoreError::Connection(e.to_string()))?;
                let $conn = &mut *pooled;
                $body
            }
        }
    };
}

diesel::define_sql_function! {
    /// `COALESCE(a, b)`: a statement using it may be kept prepared, where
    /// one with a literal SQL fragment is prepared again every time (a
    /// round trip more on PostgreSQL).
    #[sql_name = "COALESCE"]
    fn coalesce<ST: diesel::sql_types::SingleValue>(a: ST, b: ST) -> ST;
}

/// Run `$body` (an expression yielding `StoreResult<T>`) in one transaction:
/// `BEGIN` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite (so a writer never
/// fails to upgrade a read lock), after taking the SQLite write gate.
macro_rules! with_tx {
    ($db:expr, |$conn:ident| $body:expr) => {{
        let db: &$crate::store::Db = $db;
        let writes = db.writes();
        writes.begin()?;
        let seen = $crate::store::outage::Seen::default();
        let result = match db {
            $crate::store::Db::Pg(pg) => {
                use diesel_async::AsyncConnection as _;
                match pg.pool.get().await {
                    Ok(mut pooled) => {
                        pooled
                            .transaction(async |$conn| -> $crate::store::StoreResult<_> {
                                seen.keep(async { $body }.await)
                            })
                            .await
                    }
                    Err(e) => Err($crate::store::StoreError::Connection(e.to_string())),
                }
            }
            $crate::store::Db::Sqlite(sqlite) => {
                let _writer = sqlite.writer.lock().await;
                match sqlite.pool.get().await {
                    Ok(mut pooled) => {
                        pooled
                            .immediate_transaction(async |$conn| -> $crate::store::StoreResult<_> {
                                seen.keep(async { $body }.await)
                            })
                            .await
                    }
                    Err(e) => Err($crate::store::StoreError::Connection(e.to_string())),
                }
            }
        };
        let result = seen.name(result);
        writes.record(&result);
        result
    }};
}
/// `with_conn!` for a single write outside a transaction: counted and
/// recorded as a write (so an outage is noticed and tests can inject one).
macro_rules! with_write {
    ($db:expr, |$conn:ident| $body:expr) => {{
        let db: &$crate::store::Db = $db;
        db.writes().begin()?;
        let result: $crate::store::StoreResult<_> =
            async { $crate::store::with_conn!(db, |$conn| $body) }.await;
        db.writes().record(&result);
        result
    }};
}
pub(crate) use {with_conn, with_tx, with_write};

/// A PostgreSQL pool; it connects on first use (no connection is kept
/// idle ahead of need), from the runtime that uses it.
fn pg_pool(url: &str, max_connections: u32) -> Pool<AsyncPgConnection> {
    Pool::builder()
        .max_size(max_connections)
        .connection_timeout(std::time::Duration::from_secs(10))
        .build_unchecked(AsyncDieselConnectionManager::<AsyncPgConnection>::new(url))
}

impl Db {
    /// Open the pool for `target`. SQLite creates its file (and directory) on
    /// first use. Does not migrate: call [`Db::migrate`].
    pub async fn connect(target: &DbTarget, max_connections: u32) -> StoreResult<Db> {
        match target {
            DbTarget::Postgres(url) => Ok(Db::Pg(PgDb {
                pool: pg_pool(url, max_connections),
                writes: Default::default(),
                url: url.as_str().into(),
            })),
            DbTarget::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Connection(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let mut config = ManagerConfig::<SqliteConn>::default();
                config.custom_setup = Box::new(|url| {
                    let url = url.to_owned();
                    Box::pin(async move {
                        let mut conn = SqliteConn::establish(&url).await?;
                        conn.batch_execute(SQLITE_PRAGMAS)
                            .await
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        Ok(conn)
                    })
                });
                let url = path.to_string_lossy().into_owned();
                let manager =
                    AsyncDieselConnectionManager::<SqliteConn>::new_with_config(url, config);
                let pool = Pool::builder()
                    .max_size(max_connections)
                    .connection_timeout(std::time::Duration::from_secs(10))
                    .build(manager)
                    .await
                    .map_err(|e| StoreError::Connection(e.to_string()))?;
                let db = SqliteDb {
                    pool,
                    writer: Default::default(),
                    alive: Default::default(),
                    writes: Default::default(),
                };
                spawn_checkpointer(&db);
                Ok(Db::Sqlite(db))
            }
        }
    }

    /// The same database through a pool of its own, opened on the calling
    /// runtime (at most `max_connections`): a PostgreSQL connection's I/O
    /// runs as a task on the runtime that opened it, so a thread with a
    /// runtime of its own (the dialer engine, its writer) then waits on
    /// its own tasks only, not behind the server's. What writes meet
    /// (outages, injected failures) is shared. SQLite: the same pool.
    pub fn own_pool(&self, max_connections: u32) -> Db {
        match self {
            Db::Pg(pg) => Db::Pg(PgDb {
                pool: pg_pool(&pg.url, max_connections),
                writes: pg.writes.clone(),
                url: pg.url.clone(),
            }),
            Db::Sqlite(_) => self.clone(),
        }
    }

    /// Whether writes work (and test-injected failures).
    pub fn writes(&self) -> &Writes {
        match self {
            Db::Pg(pg) => &pg.writes,
            Db::Sqlite(sqlite) => &sqlite.writes,
        }
    }

    /// The PostgreSQL database, for `what` that only PostgreSQL does
    /// (several instances sharing it).
    pub fn pg(&self, what: &str) -> StoreResult<&PgDb> {
        match self {
            Db::Pg(pg) => Ok(pg),
            Db::Sqlite(_) => Err(StoreError::System(format!("{what} needs PostgreSQL"))),
        }
    }

    /// Which backend this is, for logs and metrics.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Pg(_) => "postgresql",
            Db::Sqlite(_) => "sqlite",
        }
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> StoreResult<()> {
        with_conn!(self, |conn| {
            conn.batch_execute("SELECT 1").await?;
            Ok(())
        })
    }
}

/// Checkpoint the WAL off the write path (PASSIVE: never waits for
/// readers or writers). Stops when the pool is dropped.
fn spawn_checkpointer(db: &SqliteDb) {
    let alive = std::sync::Arc::downgrade(&db.alive);
    let pool = db.pool.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SQLITE_CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if alive.upgrade().is_none() {
                break;
            }
            let Ok(mut conn) = pool.get().await else {
                continue;
            };
            if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::debug!("WAL checkpoint: {e}");
            }
        }
    });
}

/// A new opaque id: a UUIDv7 (time-ordered, so keyset paging by id follows
/// creation order).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Now, as stored: UTC without offset.
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// One page of a keyset-paged list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}

impl<T> Page<T> {
    /// Build from `limit + 1` loaded rows.
    pub fn from_overfetch(mut items: Vec<T>, limit: usize) -> Page<T> {
        let has_next = items.len() > limit;
        items.truncate(limit);
        Page { items, has_next }
    }
}

/// Insert an audit entry on the transaction's connection.
macro_rules! audit_log_insert {
    ($conn:expr, $entry:expr) => {
        diesel::insert_into($crate::store::schema::audit_log::table)
            .values($entry)
            .execute($conn)
            .await?
    };
}
pub(crate) use audit_log_insert;
