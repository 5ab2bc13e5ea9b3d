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

/// Undelivered rows due at `now`, oldest due first.
pub async fn due(db: &Db, now: NaiveDateTime, limit: i64) -> StoreResult<Vec<OutboxRow>> {
    with_conn!(db, |conn| {
        Ok(outbox::table
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::next_attempt_at.le(now))
            .order(outbox::next_attempt_at.asc())
            .limit(limit)
            .select(OutboxRow::as_select())
            .load(conn)
            .await?)
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
