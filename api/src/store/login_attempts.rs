//! Log-in attempts kept in the database, so the log-in rate limits hold
//! across every server sharing it (PostgreSQL): a client that spreads its
//! guesses over the servers behind a load balancer meets one limit. Each
//! key's check and count run under a transaction-scoped advisory lock on
//! the key (safe behind PgBouncer's transaction pooling), so attempts at
//! once on several servers cannot slip past the limit together.

use std::time::Duration;

use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::RunQueryDsl;

use super::{Db, StoreResult};

const NOW: &str = "(now() AT TIME ZONE 'UTC')";
const SHARED: &str = "shared log-in limits";

/// Which count an attempt is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Every attempt from a client address.
    Ip,
    /// Each failure on an account.
    Account,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Ip => "ip",
            Kind::Account => "account",
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Window {
    #[diesel(sql_type = BigInt)]
    n: i64,
    /// Seconds until the oldest attempt in the window leaves it.
    #[diesel(sql_type = Nullable<Double>)]
    wait: Option<f64>,
}

/// One check of a key: over `max` in `window`, how long to wait; else
/// counted (when `count`).
#[derive(Debug, Clone)]
pub struct Check<'a> {
    pub kind: Kind,
    pub subject: &'a str,
    pub max: usize,
    pub window: Duration,
    /// Count this attempt when it is let through.
    pub count: bool,
}

/// Run `checks` in order, atomically: the first over its limit refuses
/// (`Some(wait)`) and nothing is counted; otherwise those marked are.
pub async fn check(db: &Db, checks: &[Check<'_>]) -> StoreResult<Option<Duration>> {
    let mut conn = db.pg(SHARED)?.conn().await?;
    use diesel_async::AsyncConnection as _;
    conn.transaction(async |conn| -> StoreResult<Option<Duration>> {
        for c in checks {
            lock(conn, c.kind, c.subject).await?;
        }
        for c in checks {
            let w: Window = diesel::sql_query(format!(
                "SELECT count(*) AS n, \
                 EXTRACT(EPOCH FROM (min(at) + make_interval(secs => $3) - {NOW}))::float8 AS wait \
                 FROM (SELECT at FROM login_attempts \
                       WHERE kind = $1 AND subject = $2 AND at > {NOW} - make_interval(secs => $3) \
                       ORDER BY at DESC LIMIT $4) recent"
            ))
            .bind::<Text, _>(c.kind.as_str())
            .bind::<Text, _>(c.subject)
            .bind::<Double, _>(c.window.as_secs_f64())
            .bind::<BigInt, _>(i64::try_from(c.max).unwrap_or(i64::MAX))
            .get_result(conn)
            .await?;
            if w.n >= i64::try_from(c.max).unwrap_or(i64::MAX) {
                let wait = w.wait.unwrap_or(0.0).max(0.0);
                return Ok(Some(Duration::from_secs_f64(wait)));
            }
        }
        for c in checks.iter().filter(|c| c.count) {
            record_on(conn, c.kind, c.subject).await?;
        }
        Ok(None)
    })
    .await
}

async fn lock(
    conn: &mut diesel_async::AsyncPgConnection,
    kind: Kind,
    subject: &str,
) -> StoreResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<Text, _>(format!("login:{}:{subject}", kind.as_str()))
        .execute(conn)
        .await?;
    Ok(())
}

async fn record_on(
    conn: &mut diesel_async::AsyncPgConnection,
    kind: Kind,
    subject: &str,
) -> StoreResult<()> {
    diesel::sql_query(format!(
        "INSERT INTO login_attempts (kind, subject, at) VALUES ($1, $2, {NOW})"
    ))
    .bind::<Text, _>(kind.as_str())
    .bind::<Text, _>(subject)
    .execute(conn)
    .await?;
    Ok(())
}

/// Count one attempt of `kind` for `subject` (a failure on an account).
pub async fn record(db: &Db, kind: Kind, subject: &str) -> StoreResult<()> {
    let mut conn = db.pg(SHARED)?.conn().await?;
    record_on(&mut conn, kind, subject).await
}

/// Forget the attempts of `kind` for `subject` (a successful log-in
/// clears its account's failures).
pub async fn clear(db: &Db, kind: Kind, subject: &str) -> StoreResult<()> {
    let mut conn = db.pg(SHARED)?.conn().await?;
    diesel::sql_query("DELETE FROM login_attempts WHERE kind = $1 AND subject = $2")
        .bind::<Text, _>(kind.as_str())
        .bind::<Text, _>(subject)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Forget attempts older than `window` (past every limit's window).
pub async fn prune(db: &Db, window: Duration) -> StoreResult<usize> {
    let mut conn = db.pg(SHARED)?.conn().await?;
    Ok(diesel::sql_query(format!(
        "DELETE FROM login_attempts WHERE at < {NOW} - make_interval(secs => $1)"
    ))
    .bind::<Double, _>(window.as_secs_f64())
    .execute(&mut *conn)
    .await?)
}
