//! The transactional outbox: webhook deliveries owed, written in the same
//! transaction as what caused them (a wrap-up), and delivered by
//! `crate::webhooks` at least once. The row's id is the `Webhook-Id`
//! header of every attempt; each attempt is kept in `webhook_deliveries`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::{outbox, webhook_deliveries};
use super::{Db, StoreResult, with_conn, with_tx, with_write};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox, treat_none_as_null = true)]
pub struct OutboxRow {
    pub id: String,
    pub organization_id: String,
    pub endpoint_id: String,
    pub event: String,
    /// The JSON body sent, byte for byte, on every attempt.
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    pub delivered_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: String,
    pub outbox_id: String,
    pub attempt: i32,
    pub at: NaiveDateTime,
    /// The receiver's HTTP status (none: no response at all).
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// Insert outbox rows on the transaction's connection.
macro_rules! outbox_insert {
    ($conn:expr, $rows:expr) => {
        for row in $rows {
            diesel::insert_into($crate::store::schema::outbox::table)
                .values(row)
                .execute($conn)
                .await?;
        }
    };
}
pub(crate) use outbox_insert;

/// Claim up to `limit` undelivered rows due at `now`, oldest due first,
/// for one sender: each is due again only at `hold_until` (when a sender
/// that died mid-delivery is given up on; the attempt's record sets the
/// real next time). Several instances claim at once and each row goes to
/// one of them: on PostgreSQL a claimer that meets a row another is
/// claiming waits for it and then checks it again (an `UPDATE`
/// re-evaluates its condition on the row as the other left it: no longer
/// due), on SQLite claims take turns.
pub async fn claim_due(
    db: &Db,
    now: NaiveDateTime,
    limit: i64,
    hold_until: NaiveDateTime,
) -> StoreResult<Vec<OutboxRow>> {
    let mut rows: Vec<OutboxRow> = with_tx!(db, |conn| {
        let due: Vec<String> = outbox::table
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::next_attempt_at.le(now))
            .order(outbox::next_attempt_at.asc())
            .limit(limit)
            .select(outbox::id)
            .load(conn)
            .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        Ok(diesel::update(
            outbox::table
                .filter(outbox::id.eq_any(&due))
                .filter(outbox::delivered_at.is_null())
                .filter(outbox::next_attempt_at.le(now)),
        )
        .set(outbox::next_attempt_at.eq(hold_until))
        .returning(OutboxRow::as_returning())
        .get_results(conn)
        .await?)
    })?;
    rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(rows)
}

/// Add rows outside a wrap-up (tools and tests; wrap-ups write theirs in
/// their own transaction).
pub async fn add(db: &Db, rows: &[OutboxRow]) -> StoreResult<()> {
    with_tx!(db, |conn| {
        outbox_insert!(conn, rows);
        Ok(())
    })
}

/// When the next undelivered row falls due.
pub async fn next_due(db: &Db) -> StoreResult<Option<NaiveDateTime>> {
    with_conn!(db, |conn| {
        Ok(outbox::table
            .filter(outbox::delivered_at.is_null())
            .select(diesel::dsl::min(outbox::next_attempt_at))
            .first(conn)
            .await?)
    })
}

/// Record an attempt: delivered (`retry_at` none) or due again at `retry_at`.
pub async fn record(db: &Db, d: &Delivery, retry_at: Option<NaiveDateTime>) -> StoreResult<()> {
    with_tx!(db, |conn| {
        diesel::insert_into(webhook_deliveries::table)
            .values(d)
            .execute(conn)
            .await?;
        let q = diesel::update(outbox::table.find(&d.outbox_id));
        match retry_at {
            None => {
                q.set((
                    outbox::attempts.eq(d.attempt),
                    outbox::delivered_at.eq(Some(d.at)),
                    outbox::last_error.eq(None::<String>),
                ))
                .execute(conn)
                .await?
            }
            Some(at) => {
                q.set((
                    outbox::attempts.eq(d.attempt),
                    outbox::next_attempt_at.eq(at),
                    outbox::last_error.eq(&d.error),
                ))
                .execute(conn)
                .await?
            }
        };
        Ok(())
    })
}

/// An endpoint's outbox rows, newest first.
pub async fn of_endpoint(db: &Db, endpoint_id: &str, limit: i64) -> StoreResult<Vec<OutboxRow>> {
    with_conn!(db, |conn| {
        Ok(outbox::table
            .filter(outbox::endpoint_id.eq(endpoint_id))
            .order(outbox::created_at.desc())
            .limit(limit)
            .select(OutboxRow::as_select())
            .load(conn)
            .await?)
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<OutboxRow>> {
    with_conn!(db, |conn| {
        Ok(outbox::table
            .find(id)
            .select(OutboxRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// A row's attempts, first first.
pub async fn deliveries_of(db: &Db, outbox_id: &str) -> StoreResult<Vec<Delivery>> {
    with_conn!(db, |conn| {
        Ok(webhook_deliveries::table
            .filter(webhook_deliveries::outbox_id.eq(outbox_id))
            .order(webhook_deliveries::attempt.asc())
            .select(Delivery::as_select())
            .load(conn)
            .await?)
    })
}

/// Everything an endpoint still owes falls due now (it was re-enabled or
/// re-pointed: no reason to wait out the backoff).
pub async fn wake_endpoint(db: &Db, endpoint_id: &str, now: NaiveDateTime) -> StoreResult<usize> {
    with_write!(db, |conn| {
        Ok(diesel::update(
            outbox::table
                .filter(outbox::endpoint_id.eq(endpoint_id))
                .filter(outbox::delivered_at.is_null()),
        )
        .set(outbox::next_attempt_at.eq(now))
        .execute(conn)
        .await?)
    })
}

/// Send a row again now (an admin's "redeliver").
pub async fn redeliver(db: &Db, id: &str, now: NaiveDateTime) -> StoreResult<bool> {
    with_write!(db, |conn| {
        Ok(diesel::update(outbox::table.find(id))
            .set((
                outbox::delivered_at.eq(None::<NaiveDateTime>),
                outbox::next_attempt_at.eq(now),
            ))
            .execute(conn)
            .await?
            > 0)
    })
}
