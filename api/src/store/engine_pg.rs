//! The engine writer's group on PostgreSQL, pipelined: the group's
//! statements go to the server together and their answers are awaited
//! after, so a group costs two round trips (`BEGIN` with what the group
//! replaces; its writes with `COMMIT`), or one when it reads nothing,
//! instead of one per statement — under load each round trip is a wake-up
//! of the server's backend and of this thread, and they were most of a
//! group's time. The statements are the same macros the other paths
//! expand; what they read first (a call's state, an agent's presence) is
//! read for the whole group at once and carried through it in memory,
//! write by write, as the statements one by one would see it.
//!
//! Order: PostgreSQL runs a connection's statements in the order they
//! were sent, and each is sent on its future's first poll, which
//! [`Pipeline::send`] does in order (a statement not yet prepared waits
//! for the connection's statement cache, a fair lock, so nothing behind
//! it overtakes it).

use std::cell::RefCell;
use std::collections::HashMap;
use std::task::Poll;

use diesel::prelude::*;
use diesel_async::pooled_connection::PoolableConnection as _;
use diesel_async::pooled_connection::bb8::PooledConnection;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures::future::BoxFuture;

use chrono::NaiveDateTime;

use super::calls::{EngineWrite, Fence, LeadWrite, call_save, write_lead};
use super::models::{Call, CallEventRow, Presence};
use super::outage::Seen;
use super::schema::{agent_presence, call_events, calls, dial_attempts, leads};
use super::{PgDb, StoreError, StoreResult};

/// [`super::calls::save_all`] on PostgreSQL: one transaction, counted
/// and named like every other write (outages, injected failures).
///
/// `BEGIN` and `COMMIT` go in the pipeline too (diesel-async's
/// `transaction` sends each alone and waits: two round trips more), so
/// diesel's transaction manager does not know of this transaction: it
/// ends here, committed or rolled back, before the connection goes back
/// to the pool. (The writer's task is not cancelled while it runs: it
/// stops only with the process.)
pub(super) async fn save_all(
    db: &PgDb,
    kept: &mut Kept,
    fence: Option<&Fence>,
    writes: &[&EngineWrite],
) -> StoreResult<()> {
    db.writes.begin()?;
    let seen = Seen::default();
    let mut conn = kept.0.take();
    if conn.as_mut().is_some_and(|c| c.is_broken()) {
        conn = None;
    }
    let conn = match conn {
        Some(conn) => Ok(conn),
        None => db
            .pool
            .get_owned()
            .await
            .map_err(|e| StoreError::Connection(e.to_string())),
    };
    let result = match conn {
        Ok(conn) => {
            let c: &AsyncPgConnection = &conn;
            let result = seen.keep(group(c, fence, writes).await);
            if result.is_err() {
                // Whatever of the group was sent ends here (after a failed
                // statement the pipelined COMMIT has rolled back already,
                // and this only warns); the connection goes back to the
                // pool, which drops it if it is broken.
                let _ = Tx::Rollback.execute(&mut { c }).await;
            } else {
                kept.0 = Some(conn);
            }
            result
        }
        Err(e) => Err(e),
    };
    let result = seen.name(result);
    db.writes.record(&result);
    result
}

/// The connection the engine's writer keeps from one group to the next:
/// no check-out, and no round trip to see that it is alive, per group
/// (one that has broken is given back and another taken).
#[derive(Default)]
pub struct Kept(Option<PooledConnection<'static, AsyncPgConnection>>);

impl Kept {
    /// A connection is kept.
    pub fn holds(&self) -> bool {
        self.0.is_some()
    }

    /// Give the connection back when the pool has none idle (others may
    /// be waiting for one).
    pub fn give_back_if_scarce(&mut self, db: &super::Db) {
        if let (Some(_), super::Db::Pg(pg)) = (&self.0, db)
            && pg.pool.state().idle_connections == 0
        {
            self.0 = None;
        }
    }
}

async fn group(
    mut c: &AsyncPgConnection,
    fence: Option<&Fence>,
    writes: &[&EngineWrite],
) -> StoreResult<()> {
    let pipeline = Pipeline::default();
    Tx::Begin.execute(&mut c).pipe(&pipeline)?;
    if let Some(fence) = fence {
        // First: the lease row held FOR SHARE until COMMIT, or the whole
        // group refused (every statement after a failed one fails too).
        FenceCheck(fence).execute(&mut c).pipe(&pipeline)?;
    }
    let (mut ended, mut presence) = before(c, writes, &pipeline).await?;
    for w in writes {
        match w {
            EngineWrite::Call { row, events, lead } => {
                let (row, events): (&Call, &[CallEventRow]) = (row, events);
                let was = ended
                    .insert(row.id.as_str(), row.state == "ENDED")
                    .unwrap_or(false);
                call_save!(@[.pipe(&pipeline)] @ended_before(was) &mut c, row, events, lead.as_ref())?
            }
            EngineWrite::Presence(p) => {
                let was = presence.insert(p.user_id.as_str(), Some((**p).clone()));
                super::presence::presence_upsert!(@[.pipe(&pipeline)] @before(was.flatten()) &mut c, p)
            }
            EngineWrite::Release {
                lead_id,
                not_before,
            } => {
                super::claims::lead_release!(@[.pipe(&pipeline)] &mut c, lead_id, *not_before, None)
            }
        }
    }
    Tx::Commit.execute(&mut c).pipe(&pipeline)?;
    pipeline.send().await
}

/// A transaction's statements, kept prepared like any other statement so
/// that they can be pipelined.
#[derive(Debug, Clone, Copy)]
enum Tx {
    Begin,
    Commit,
    Rollback,
}

impl diesel::query_builder::QueryId for Tx {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for Tx {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        out.push_sql(match self {
            Tx::Begin => "BEGIN",
            Tx::Commit => "COMMIT",
            Tx::Rollback => "ROLLBACK",
        });
        Ok(())
    }
}

/// `SELECT pinline_fence(center, epoch)`, kept prepared like any other
/// statement so that it can be pipelined.
struct FenceCheck<'a>(&'a Fence);

impl diesel::query_builder::QueryId for FenceCheck<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for FenceCheck<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        out.push_sql("SELECT pinline_fence(");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.0.contact_center_id)?;
        out.push_sql(", ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.0.epoch)?;
        out.push_sql(")");
        Ok(())
    }
}

/// Whether each call the group ends is ENDED already, and each agent's
/// presence, as the database has them before the group (both reads sent
/// together).
async fn before<'w, 'c>(
    c: &'c AsyncPgConnection,
    writes: &[&'w EngineWrite],
    pipeline: &Pipeline<'c>,
) -> StoreResult<(HashMap<&'w str, bool>, HashMap<&'w str, Option<Presence>>)> {
    let mut ending: Vec<&str> = Vec::new();
    let mut users: Vec<&str> = Vec::new();
    for w in writes {
        match w {
            EngineWrite::Call { row, .. } if row.state == "ENDED" => ending.push(&row.id),
            EngineWrite::Presence(p) => users.push(&p.user_id),
            _ => {}
        }
    }
    if ending.is_empty() && users.is_empty() {
        // Nothing to read: the BEGIN goes with the writes.
        return Ok(Default::default());
    }
    // One lookup by key each (a key's plan is never in doubt), all sent
    // together with what is queued (the BEGIN).
    let calls_read = futures::future::join_all(ending.iter().map(|id| {
        calls::table
            .find(*id)
            .select(calls::state)
            .first::<String>(&mut { c })
    }));
    let presence_read = futures::future::join_all(users.iter().map(|user| {
        agent_presence::table
            .find(*user)
            .select(Presence::as_select())
            .first::<Presence>(&mut { c })
    }));
    let (sent, states, rows) =
        futures::future::join3(pipeline.send(), calls_read, presence_read).await;
    sent?;
    let mut ended: HashMap<&str, bool> = HashMap::with_capacity(ending.len());
    for (id, state) in ending.iter().zip(states) {
        ended.insert(id, state.optional()?.as_deref() == Some("ENDED"));
    }
    let mut presence: HashMap<&str, Option<Presence>> = HashMap::with_capacity(users.len());
    for (user, row) in users.iter().zip(rows) {
        presence.insert(user, row.optional()?);
    }
    Ok((ended, presence))
}

/// Statements sent together, answered in order.
#[derive(Default)]
pub(super) struct Pipeline<'a>(RefCell<Vec<BoxFuture<'a, QueryResult<usize>>>>);

/// `statement.execute(conn).pipe(&pipeline)?` queues the statement where
/// the other paths write `.await?` (the macros' `@[…]`).
pub(super) trait Pipe<'a> {
    fn pipe(self, pipeline: &Pipeline<'a>) -> StoreResult<usize>;
}

impl<'a> Pipe<'a> for BoxFuture<'a, QueryResult<usize>> {
    fn pipe(self, pipeline: &Pipeline<'a>) -> StoreResult<usize> {
        pipeline.0.borrow_mut().push(self);
        Ok(0)
    }
}

impl Pipeline<'_> {
    /// Send every statement queued so far (each on its first poll, in
    /// order), then take the answers in order; the first error is the
    /// group's. What is queued afterwards goes with the next send.
    fn send(&self) -> impl Future<Output = StoreResult<()>> + use<'_> {
        let mut futures = std::mem::take(&mut *self.0.borrow_mut());
        async move {
            let mut early: Vec<Option<QueryResult<usize>>> = Vec::with_capacity(futures.len());
            for f in futures.iter_mut() {
                early.push(match futures::poll!(f.as_mut()) {
                    Poll::Ready(r) => Some(r),
                    Poll::Pending => None,
                });
            }
            for (f, early) in futures.into_iter().zip(early) {
                match early {
                    Some(r) => r,
                    None => f.await,
                }
                .map_err(StoreError::from)?;
            }
            Ok(())
        }
    }
}
