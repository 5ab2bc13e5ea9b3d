//! The aggregate queries behind campaign analytics and agent performance.
//! Each is one pass over an index range (`calls_by_campaign`,
//! `calls_by_contact_center`, `wrap_ups_by_campaign`, `agent_time`'s key),
//! grouped by UTC hour in SQL, and folded into days, hours and totals by
//! the caller — so a report's cost is the rows in its range, read once.
//! Durations are stored on the rows in milliseconds: no timestamp
//! arithmetic in SQL, which the two backends spell differently.
//!
//! Written as SQL text (the grouping expression differs by backend); the
//! `$n` placeholders become SQLite's `?n`.

use chrono::NaiveDateTime;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;

use super::{Db, StoreError, StoreResult, with_conn};

/// Calls of one UTC hour with the same outcome, answer and reach.
#[derive(Debug, Clone, QueryableByName)]
pub struct CallGroup {
    #[diesel(sql_type = Text)]
    pub hour: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub outcome: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub answered_by: Option<String>,
    /// Placed (not a skipped preview or a call refused before dialing).
    #[diesel(sql_type = Bool)]
    pub dialed: bool,
    /// Connected to an agent.
    #[diesel(sql_type = Bool)]
    pub connected: bool,
    #[diesel(sql_type = BigInt)]
    pub calls: i64,
    #[diesel(sql_type = BigInt)]
    pub talk_ms: i64,
    #[diesel(sql_type = BigInt)]
    pub hold_ms: i64,
}

/// Wrap-ups of one UTC hour with the same disposition.
#[derive(Debug, Clone, QueryableByName)]
pub struct WrapGroup {
    #[diesel(sql_type = Text)]
    pub hour: String,
    #[diesel(sql_type = Text)]
    pub disposition_code: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Bool)]
    pub conversion: bool,
    #[diesel(sql_type = BigInt)]
    pub wrap_ups: i64,
    #[diesel(sql_type = BigInt)]
    pub wrap_ms: i64,
}

/// An agent's calls of one UTC hour.
#[derive(Debug, Clone, QueryableByName)]
pub struct AgentCallGroup {
    #[diesel(sql_type = Text)]
    pub agent_id: String,
    #[diesel(sql_type = Text)]
    pub hour: String,
    #[diesel(sql_type = BigInt)]
    pub calls: i64,
    #[diesel(sql_type = BigInt)]
    pub talk_ms: i64,
    #[diesel(sql_type = BigInt)]
    pub hold_ms: i64,
}

/// An agent's wrap-ups of one UTC hour with the same disposition.
#[derive(Debug, Clone, QueryableByName)]
pub struct AgentWrapGroup {
    #[diesel(sql_type = Text)]
    pub agent_id: String,
    #[diesel(sql_type = Text)]
    pub hour: String,
    #[diesel(sql_type = Text)]
    pub disposition_code: String,
    #[diesel(sql_type = BigInt)]
    pub wrap_ups: i64,
    #[diesel(sql_type = BigInt)]
    pub wrap_ms: i64,
}

#[derive(Debug, Clone, QueryableByName)]
struct Answers {
    #[diesel(sql_type = BigInt)]
    live: i64,
    #[diesel(sql_type = BigInt)]
    abandoned: i64,
}

/// The UTC hour of `col`, as `YYYY-MM-DD HH:00:00`.
fn hour_of(db: &Db, col: &str) -> String {
    match db {
        Db::Pg(_) => format!("to_char({col}, 'YYYY-MM-DD HH24:00:00')"),
        Db::Sqlite(_) => format!("strftime('%Y-%m-%d %H:00:00', {col})"),
    }
}

/// `$n` placeholders as the backend spells them.
fn placeholders(db: &Db, sql: String) -> String {
    match db {
        Db::Pg(_) => sql,
        Db::Sqlite(_) => sql.replace('$', "?"),
    }
}

/// Load `$sql`'s rows with its three binds: an id, and the range.
macro_rules! load_range {
    ($db:expr, $sql:expr, $id:expr, $from:expr, $to:expr) => {
        with_conn!($db, |conn| {
            Ok(sql_query(&$sql)
                .bind::<Text, _>($id)
                .bind::<Timestamp, _>($from)
                .bind::<Timestamp, _>($to)
                .load(conn)
                .await?)
        })
    };
}

/// Parse an hour as [`hour_of`] writes it.
pub fn parse_hour(s: &str) -> StoreResult<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .map_err(|_| StoreError::Corrupt(format!("bad hour bucket {s:?}")))
}

/// A campaign's calls created in `[from, to)`, grouped.
pub async fn campaign_calls(
    db: &Db,
    campaign_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<CallGroup>> {
    let sql = placeholders(
        db,
        format!(
            "SELECT {hour} AS hour, outcome, answered_by, \
                 (dialed_at IS NOT NULL) AS dialed, (connected_at IS NOT NULL) AS connected, \
                 COUNT(*) AS calls, COALESCE(SUM(talk_ms), 0) AS talk_ms, \
                 COALESCE(SUM(hold_ms), 0) AS hold_ms \
             FROM calls WHERE campaign_id = $1 AND created_at >= $2 AND created_at < $3 \
             GROUP BY 1, 2, 3, 4, 5",
            hour = hour_of(db, "created_at")
        ),
    );
    load_range!(db, sql, campaign_id, from, to)
}

/// A campaign's wrap-ups submitted in `[from, to)`, grouped.
pub async fn campaign_wrap_ups(
    db: &Db,
    campaign_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<WrapGroup>> {
    let sql = placeholders(
        db,
        format!(
            "SELECT {hour} AS hour, disposition_code, category, conversion, \
                 COUNT(*) AS wrap_ups, COALESCE(SUM(wrap_ms), 0) AS wrap_ms \
             FROM wrap_ups WHERE campaign_id = $1 AND created_at >= $2 AND created_at < $3 \
             GROUP BY 1, 2, 3, 4",
            hour = hour_of(db, "created_at")
        ),
    );
    load_range!(db, sql, campaign_id, from, to)
}

/// A campaign's live answers answered since `since`, and how many of them
/// were abandoned: the abandonment rate's two terms. (`created_at` bounds
/// the index range: a call is answered within the hour it was created.)
pub async fn answers_since(
    db: &Db,
    campaign_id: &str,
    since: NaiveDateTime,
) -> StoreResult<(i64, i64)> {
    let sql = placeholders(
        db,
        "SELECT COUNT(*) AS live, \
             COALESCE(SUM(CASE WHEN outcome = 'ABANDONED' THEN 1 ELSE 0 END), 0) AS abandoned \
         FROM calls WHERE campaign_id = $1 AND created_at >= $2 AND answered_at >= $3 \
             AND answered_by = 'HUMAN'"
            .to_owned(),
    );
    with_conn!(db, |conn| {
        let rows: Vec<Answers> = sql_query(&sql)
            .bind::<Text, _>(campaign_id)
            .bind::<Timestamp, _>(since - chrono::TimeDelta::hours(1))
            .bind::<Timestamp, _>(since)
            .load(conn)
            .await?;
        Ok(<[Answers]>::first(&rows).map_or((0, 0), |a| (a.live, a.abandoned)))
    })
}

/// Calls connected to agents of a contact center, created in `[from, to)`,
/// per agent and hour.
pub async fn agent_calls(
    db: &Db,
    contact_center_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<AgentCallGroup>> {
    let sql = placeholders(
        db,
        format!(
            "SELECT agent_id, {hour} AS hour, COUNT(*) AS calls, \
                 COALESCE(SUM(talk_ms), 0) AS talk_ms, COALESCE(SUM(hold_ms), 0) AS hold_ms \
             FROM calls WHERE contact_center_id = $1 AND created_at >= $2 AND created_at < $3 \
                 AND connected_at IS NOT NULL AND agent_id IS NOT NULL \
             GROUP BY 1, 2",
            hour = hour_of(db, "created_at")
        ),
    );
    load_range!(db, sql, contact_center_id, from, to)
}

/// Wrap-ups of calls of a contact center, submitted in `[from, to)`, per
/// agent, hour and disposition.
pub async fn agent_wrap_ups(
    db: &Db,
    contact_center_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<AgentWrapGroup>> {
    let sql = placeholders(
        db,
        format!(
            "SELECT w.agent_id AS agent_id, {hour} AS hour, w.disposition_code AS disposition_code, \
                 COUNT(*) AS wrap_ups, COALESCE(SUM(w.wrap_ms), 0) AS wrap_ms \
             FROM wrap_ups w JOIN calls c ON c.id = w.call_id \
             WHERE c.contact_center_id = $1 AND w.created_at >= $2 AND w.created_at < $3 \
             GROUP BY 1, 2, 3",
            hour = hour_of(db, "w.created_at")
        ),
    );
    load_range!(db, sql, contact_center_id, from, to)
}
