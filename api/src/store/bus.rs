//! The SQL of the event bus between instances (`events/pg.rs`), on
//! PostgreSQL only: `NOTIFY` on one channel, a connection that `LISTEN`s
//! to it, and the table that keeps an event too large for a notification.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures::StreamExt;

use super::schema::bus_events;
use super::{Db, StoreError, StoreResult};

/// The channel every instance listens to.
pub const CHANNEL: &str = "pinline_events";

/// The largest payload a notification carries (PostgreSQL's limit is
/// 8,000 bytes); a larger one is parked in `bus_events`.
pub const MAX_NOTIFY_BYTES: usize = 7_900;

/// `SELECT pg_notify(channel, p) FROM unnest($1) p`: every payload in one
/// statement, delivered in order (a transaction's notifications are), and
/// kept prepared (unlike literal SQL).
struct NotifyAll<'a>(&'a [String]);

impl diesel::query_builder::QueryId for NotifyAll<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::QueryFragment<Pg> for NotifyAll<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT pg_notify('");
        out.push_sql(CHANNEL);
        out.push_sql("', p) FROM unnest(");
        out.push_bind_param::<Array<Text>, _>(self.0)?;
        out.push_sql(") WITH ORDINALITY AS u(p, n) ORDER BY n");
        Ok(())
    }
}

/// Notify every listener of each payload, in order.
pub async fn notify(db: &Db, payloads: &[String]) -> StoreResult<()> {
    let pg = db.pg("the event bus between instances")?;
    let mut conn = pg.conn().await?;
    NotifyAll(payloads).execute(&mut conn).await?;
    Ok(())
}

/// Keep a payload too large for a notification; its id goes instead.
pub async fn park(db: &Db, payload: &str, at: NaiveDateTime) -> StoreResult<i64> {
    super::with_conn!(db, |conn| {
        Ok(diesel::insert_into(bus_events::table)
            .values((bus_events::payload.eq(payload), bus_events::at.eq(at)))
            .returning(bus_events::id)
            .get_result(conn)
            .await?)
    })
}

/// A parked payload (gone once swept).
pub async fn parked(db: &Db, id: i64) -> StoreResult<Option<String>> {
    super::with_conn!(db, |conn| {
        Ok(bus_events::table
            .find(id)
            .select(bus_events::payload)
            .first(conn)
            .await
            .optional()?)
    })
}

/// Forget payloads parked before `before`.
pub async fn sweep(db: &Db, before: NaiveDateTime) -> StoreResult<usize> {
    super::with_conn!(db, |conn| {
        Ok(
            diesel::delete(bus_events::table.filter(bus_events::at.lt(before)))
                .execute(conn)
                .await?,
        )
    })
}

/// Whether another instance's heartbeat moved since `since` (heartbeats
/// are written by each instance's clock).
pub async fn others_alive(db: &Db, instance: &str, since: NaiveDateTime) -> StoreResult<bool> {
    use super::schema::server_heartbeats as h;
    super::with_conn!(db, |conn| {
        let n: i64 = h::table
            .filter(h::instance_id.ne(instance))
            .filter(h::beat_at.gt(since))
            .count()
            .get_result(conn)
            .await?;
        Ok(n > 0)
    })
}

/// A connection of its own that listens to [`CHANNEL`].
pub struct Listener(AsyncPgConnection);

/// `LISTEN` on a new connection (not the pool's: it stays open, and its
/// notifications are read as they come).
pub async fn listen(db: &Db) -> StoreResult<Listener> {
    let pg = db.pg("the event bus between instances")?;
    let mut conn = AsyncPgConnection::establish(&pg.url)
        .await
        .map_err(|e| StoreError::Connection(e.to_string()))?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await?;
    Ok(Listener(conn))
}

impl Listener {
    /// The next payload, or `None` when `wait` passes without one. An
    /// error when the connection is gone (listen again: what was sent
    /// meanwhile is not replayed).
    pub async fn next(&mut self, wait: std::time::Duration) -> StoreResult<Option<String>> {
        let mut stream = std::pin::pin!(self.0.notifications_stream());
        match tokio::time::timeout(wait, stream.next()).await {
            Err(_) => Ok(None),
            Ok(None) => Err(StoreError::Connection(
                "the listening connection closed".into(),
            )),
            Ok(Some(Err(e))) => Err(e.into()),
            Ok(Some(Ok(n))) => Ok(Some(n.payload)),
        }
    }

    /// A round trip on the listening connection: a connection cut
    /// silently (no reset) shows here, within `wait`. Notifications that
    /// come meanwhile wait for [`Listener::next`].
    pub async fn ping(&mut self, wait: std::time::Duration) -> StoreResult<()> {
        match tokio::time::timeout(
            wait,
            diesel::select(1i32.into_sql::<diesel::sql_types::Integer>()).execute(&mut self.0),
        )
        .await
        {
            Ok(r) => r.map(|_| ()).map_err(StoreError::from),
            Err(_) => Err(StoreError::Connection(
                "the listening connection did not answer".into(),
            )),
        }
    }
}
