//! The server's heartbeat: one row per running server, its `beat_at`
//! moved every second. It is the last moment the server knew its calls
//! were live — what a start after a crash ends them at — and, being a
//! write, it keeps the store's record of whether writes work fresh for
//! `/readyz`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::server_heartbeats;
use super::{Db, StoreResult, with_conn, with_write};

/// What an instance says of itself in its heartbeat.
#[derive(Debug, Clone, Default)]
pub struct Said {
    /// Where other instances reach it (once it listens).
    pub url: Option<String>,
    /// What it is called (`serve --instance-name`).
    pub name: Option<String>,
}

/// Move this server's heartbeat to `at`.
pub async fn beat(
    db: &Db,
    instance_id: &str,
    started_at: NaiveDateTime,
    at: NaiveDateTime,
    said: &Said,
) -> StoreResult<()> {
    let internal_url = said.url.as_deref();
    let name = said.name.as_deref();
    db.writes().begin_uncounted()?;
    let result = async {
        with_conn!(db, |conn| {
            diesel::insert_into(server_heartbeats::table)
                .values((
                    server_heartbeats::instance_id.eq(instance_id),
                    server_heartbeats::started_at.eq(started_at),
                    server_heartbeats::beat_at.eq(at),
                    server_heartbeats::internal_url.eq(internal_url),
                    server_heartbeats::name.eq(name),
                ))
                .on_conflict(server_heartbeats::instance_id)
                .do_update()
                .set((
                    server_heartbeats::beat_at.eq(at),
                    server_heartbeats::internal_url.eq(internal_url),
                    server_heartbeats::name.eq(name),
                ))
                .execute(conn)
                .await
                .map_err(super::StoreError::from)?;
            Ok(())
        })
    }
    .await;
    db.writes().record(&result);
    result
}

/// The last heartbeat of any server before this start (one server today:
/// the one that stopped), and forget them all.
pub async fn take_last(db: &Db) -> StoreResult<Option<NaiveDateTime>> {
    let last: Option<NaiveDateTime> = with_conn!(db, |conn| {
        server_heartbeats::table
            .select(diesel::dsl::max(server_heartbeats::beat_at))
            .first(conn)
            .await?
    });
    with_write!(db, |conn| {
        diesel::delete(server_heartbeats::table)
            .execute(conn)
            .await?;
        Ok(())
    })?;
    Ok(last)
}

/// One instance's last heartbeat (a lease taken over from it ends its
/// calls there).
pub async fn last_of(db: &Db, instance_id: &str) -> StoreResult<Option<NaiveDateTime>> {
    with_conn!(db, |conn| {
        Ok(server_heartbeats::table
            .find(instance_id)
            .select(server_heartbeats::beat_at)
            .first(conn)
            .await
            .optional()?)
    })
}

/// Where another instance reaches `instance_id` (none: it has not said,
/// or it left no heartbeat).
pub async fn url_of(db: &Db, instance_id: &str) -> StoreResult<Option<String>> {
    with_conn!(db, |conn| {
        Ok(server_heartbeats::table
            .find(instance_id)
            .select(server_heartbeats::internal_url)
            .first::<Option<String>>(conn)
            .await
            .optional()?
            .flatten())
    })
}

/// A server sharing the database, as its heartbeat says.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = server_heartbeats)]
pub struct Server {
    pub instance_id: String,
    pub started_at: NaiveDateTime,
    pub beat_at: NaiveDateTime,
    pub internal_url: Option<String>,
    pub name: Option<String>,
}

impl Server {
    /// What it is called: its name, or its id.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.instance_id)
    }
}

/// One server's heartbeat.
pub async fn get(db: &Db, instance_id: &str) -> StoreResult<Option<Server>> {
    with_conn!(db, |conn| {
        Ok(server_heartbeats::table
            .find(instance_id)
            .select(Server::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Every server with a heartbeat row, the latest beat first.
pub async fn all(db: &Db) -> StoreResult<Vec<Server>> {
    with_conn!(db, |conn| {
        Ok(server_heartbeats::table
            .select(Server::as_select())
            .order((
                server_heartbeats::beat_at.desc(),
                server_heartbeats::instance_id,
            ))
            .load(conn)
            .await?)
    })
}

/// Forget the heartbeats of servers that have not beaten since `before`
/// and hold no contact center's lease (nothing is left to recover from
/// them): a killed server's row does not linger.
///
/// Upkeep on a timer, like the heartbeat: not counted among the writes
/// tests number (`Writes::fail_nth`).
pub async fn forget_dead(db: &Db, before: NaiveDateTime) -> StoreResult<usize> {
    db.writes().begin_uncounted()?;
    let result = async {
        with_conn!(db, |conn| {
            Ok(diesel::sql_query(
                "DELETE FROM server_heartbeats WHERE beat_at < $1 AND NOT EXISTS \
                 (SELECT 1 FROM center_leases l WHERE l.owner = server_heartbeats.instance_id)",
            )
            .bind::<diesel::sql_types::Timestamp, _>(before)
            .execute(conn)
            .await?)
        })
    }
    .await;
    db.writes().record(&result);
    result
}

/// An instance leaving cleanly: no longer counted among the live ones.
pub async fn forget(db: &Db, instance_id: &str) -> StoreResult<()> {
    with_write!(db, |conn| {
        diesel::delete(server_heartbeats::table.find(instance_id))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// How often the heartbeat moves.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Beat every [`EVERY`] for `instance` until aborted; `now` reads the
/// server's clock, `said` what it says of itself (its address once
/// known).
pub fn spawn(
    db: Db,
    instance: String,
    now: impl Fn() -> chrono::DateTime<chrono::Utc> + Send + 'static,
    said: std::sync::Arc<std::sync::RwLock<Said>>,
) -> tokio::task::JoinHandle<()> {
    let started = now().naive_utc();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // A failure is logged by the store's write record (once per
            // outage) and shows in /readyz.
            let said = said.read().unwrap_or_else(|e| e.into_inner()).clone();
            let _ = beat(&db, &instance, started, now().naive_utc(), &said).await;
        }
    })
}
