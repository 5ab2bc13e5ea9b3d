//! Contact-center leases between instances sharing a PostgreSQL database
//! (`center_leases`; the design in docs/design.md, "Several instances").
//!
//! Times are the database's (`now()`), never an instance's clock: leases
//! expire by one clock however the machines' drift. Each statement is
//! one round trip, about once a second per instance: written as SQL text.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Double, Nullable, Text};
use diesel_async::RunQueryDsl;

use super::{Db, StoreError, StoreResult};

/// The database's clock as a UTC `TIMESTAMP` (the columns' type).
const NOW: &str = "(now() AT TIME ZONE 'UTC')";

/// A lease this instance holds: its writes for the center carry `epoch`.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Lease {
    #[diesel(sql_type = Text)]
    pub contact_center_id: String,
    #[diesel(sql_type = BigInt)]
    pub epoch: i64,
    /// Who held it before (when taken from an instance that stopped
    /// renewing: its calls are ended at its last heartbeat).
    #[diesel(sql_type = Nullable<Text>)]
    pub previous_owner: Option<String>,
}

#[derive(QueryableByName)]
struct Held {
    #[diesel(sql_type = Text)]
    contact_center_id: String,
    #[diesel(sql_type = BigInt)]
    epoch: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

macro_rules! on_pg {
    ($db:expr, |$conn:ident| $body:expr) => {{
        let pg = $db.pg("leases between instances")?;
        let mut pooled = pg
            .pool
            .get()
            .await
            .map_err(|e| StoreError::Connection(e.to_string()))?;
        let $conn = &mut *pooled;
        $body
    }};
}

/// A row for every contact center (free until taken).
pub async fn add_missing(db: &Db) -> StoreResult<usize> {
    on_pg!(db, |conn| {
        Ok(diesel::sql_query(
            "INSERT INTO center_leases (contact_center_id, expires_at) \
             SELECT c.id, TIMESTAMP '1970-01-01' FROM contact_centers c \
             WHERE NOT EXISTS (SELECT 1 FROM center_leases l WHERE l.contact_center_id = c.id) \
             ON CONFLICT DO NOTHING",
        )
        .execute(conn)
        .await?)
    })
}

/// Take up to `max` leases that are free or expired (not this instance's
/// own: those it renews), each under a new epoch, for `ttl`. A lease whose
/// row is held by a write under way (the fence) is skipped this time.
pub async fn take(db: &Db, instance: &str, ttl: Duration, max: i64) -> StoreResult<Vec<Lease>> {
    if max <= 0 {
        return Ok(Vec::new());
    }
    on_pg!(db, |conn| {
        Ok(diesel::sql_query(format!(
            "WITH free AS ( \
               SELECT contact_center_id, owner FROM center_leases \
               WHERE (owner IS NULL OR expires_at < {NOW}) AND owner IS DISTINCT FROM $1 \
               ORDER BY expires_at, contact_center_id LIMIT $2 \
               FOR UPDATE SKIP LOCKED) \
             UPDATE center_leases l SET owner = $1, epoch = l.epoch + 1, \
               expires_at = {NOW} + make_interval(secs => $3), taken_at = {NOW} \
             FROM free WHERE l.contact_center_id = free.contact_center_id \
             RETURNING l.contact_center_id, l.epoch, free.owner AS previous_owner"
        ))
        .bind::<Text, _>(instance)
        .bind::<BigInt, _>(max)
        .bind::<Double, _>(ttl.as_secs_f64())
        .load(conn)
        .await?)
    })
}

/// Renew this instance's leases for `ttl`; returns those still its own,
/// with their epochs (a lease missing, or under another epoch, is lost).
pub async fn renew(
    db: &Db,
    instance: &str,
    centers: &[String],
    ttl: Duration,
) -> StoreResult<Vec<(String, i64)>> {
    if centers.is_empty() {
        return Ok(Vec::new());
    }
    on_pg!(db, |conn| {
        let rows: Vec<Held> = diesel::sql_query(format!(
            "UPDATE center_leases SET expires_at = {NOW} + make_interval(secs => $3) \
             WHERE owner = $1 AND contact_center_id = ANY($2) \
             RETURNING contact_center_id, epoch"
        ))
        .bind::<Text, _>(instance)
        .bind::<Array<Text>, _>(centers)
        .bind::<Double, _>(ttl.as_secs_f64())
        .load(conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|h| (h.contact_center_id, h.epoch))
            .collect())
    })
}

/// End at once the leases of `owner`, an instance known to be gone (its
/// address refuses connections): they stay in its name, so whoever takes
/// them recovers its calls. Returns how many were ended.
pub async fn expire_owner(db: &Db, owner: &str) -> StoreResult<usize> {
    on_pg!(db, |conn| {
        Ok(diesel::sql_query(format!(
            "UPDATE center_leases SET expires_at = {NOW} - interval '1 second' \
             WHERE owner = $1 AND expires_at >= {NOW}"
        ))
        .bind::<Text, _>(owner)
        .execute(conn)
        .await?)
    })
}

/// The other instances holding a lease whose heartbeat has not moved
/// since `silent_since`, with where they said they are reached.
pub async fn silent_holders(
    db: &Db,
    instance: &str,
    silent_since: chrono::NaiveDateTime,
) -> StoreResult<Vec<super::heartbeats::Server>> {
    use super::schema::server_heartbeats;
    use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
    let mut conn = db.pg("leases between instances")?.conn().await?;
    Ok(server_heartbeats::table
        .filter(server_heartbeats::instance_id.ne(instance))
        .filter(server_heartbeats::beat_at.le(silent_since))
        .filter(server_heartbeats::internal_url.is_not_null())
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM center_leases l \
             WHERE l.owner = server_heartbeats.instance_id AND l.expires_at >= {NOW})"
        )))
        .select(super::heartbeats::Server::as_select())
        .load(&mut conn)
        .await?)
}

/// Give leases back (free at once for another instance).
pub async fn release(db: &Db, instance: &str, centers: &[String]) -> StoreResult<usize> {
    if centers.is_empty() {
        return Ok(0);
    }
    on_pg!(db, |conn| {
        Ok(diesel::sql_query(format!(
            "UPDATE center_leases SET owner = NULL, expires_at = {NOW} \
             WHERE owner = $1 AND contact_center_id = ANY($2)"
        ))
        .bind::<Text, _>(instance)
        .bind::<Array<Text>, _>(centers)
        .execute(conn)
        .await?)
    })
}

/// How many centers there are, and how many instances beat within
/// `alive` (this one counted even before its first beat).
pub async fn census(
    db: &Db,
    instance: &str,
    alive: Duration,
    gone: &[String],
) -> StoreResult<(i64, i64)> {
    on_pg!(db, |conn| {
        let centers: Count = diesel::sql_query("SELECT count(*) AS n FROM center_leases")
            .get_result(conn)
            .await?;
        let live: Count = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM server_heartbeats \
             WHERE beat_at > {NOW} - make_interval(secs => $1) AND instance_id <> $2 \
             AND NOT (instance_id = ANY($3))"
        ))
        .bind::<Double, _>(alive.as_secs_f64())
        .bind::<Text, _>(instance)
        .bind::<Array<Text>, _>(gone)
        .get_result(conn)
        .await?;
        Ok((centers.n, live.n + 1))
    })
}

/// Who holds each center now (unexpired leases): (center, owner, epoch).
pub async fn holders(db: &Db) -> StoreResult<Vec<(String, String, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        contact_center_id: String,
        #[diesel(sql_type = Text)]
        owner: String,
        #[diesel(sql_type = BigInt)]
        epoch: i64,
    }
    on_pg!(db, |conn| {
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT contact_center_id, owner, epoch FROM center_leases \
             WHERE owner IS NOT NULL AND expires_at >= {NOW} ORDER BY contact_center_id"
        ))
        .load(conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.contact_center_id, r.owner, r.epoch))
            .collect())
    })
}

/// Who holds `center` now (an unexpired lease).
pub async fn holder(db: &Db, center: &str) -> StoreResult<Option<String>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        owner: String,
    }
    on_pg!(db, |conn| {
        let row: Option<Row> = diesel::sql_query(format!(
            "SELECT owner FROM center_leases \
             WHERE contact_center_id = $1 AND owner IS NOT NULL AND expires_at >= {NOW}"
        ))
        .bind::<Text, _>(center)
        .get_result(conn)
        .await
        .map(Some)
        .or_else(|e| match e {
            diesel::result::Error::NotFound => Ok(None),
            e => Err(e),
        })?;
        Ok(row.map(|r| r.owner))
    })
}

/// The fence alone, in a transaction of its own: `Ok` while `epoch` is
/// the center's, [`StoreError::LeaseLost`] once it has moved on. (The
/// engine's writes put the same call first in their own transactions.)
pub async fn check_fence(db: &Db, center: &str, epoch: i64) -> StoreResult<()> {
    on_pg!(db, |conn| {
        diesel::sql_query("SELECT pinline_fence($1, $2)")
            .bind::<Text, _>(center)
            .bind::<BigInt, _>(epoch)
            .execute(conn)
            .await?;
        Ok(())
    })
}
