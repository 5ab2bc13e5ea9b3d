//! The aggregate queries behind campaign analytics and agent performance.
//!
//! Whole hours come from the rollups `call_hours` and `wrap_hours`, which
//! a call's end and a wrap-up (or its correction) update in their own
//! transactions; only the partial hours at a range's edges are read from
//! the raw rows. So a 30-day report reads ~720 rollup rows per key, not a
//! million calls (docs/benchmarks.md). A call counts in the rollup once
//! it has ended; calls still in progress show in the raw edge hours (the
//! current hour, when a range ends now). Results are grouped by UTC hour
//! and folded into days, hours and totals by the caller (`domain::report`).
//! Durations are stored in milliseconds: no timestamp arithmetic in SQL.
//!
//! Written as SQL text (the hour expression differs by backend); the `$n`
//! placeholders become SQLite's `?n`.

use chrono::NaiveDateTime;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;

use super::{Db, StoreResult, with_conn};

/// The UTC hour a moment falls in.
pub fn hour_floor(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::DurationRound;
    t.duration_trunc(chrono::TimeDelta::hours(1)).unwrap_or(t)
}

/// Add a call that just ended to `call_hours`, on the transaction's
/// connection (the caller checks it was not ended before).
macro_rules! call_hours_add {
    ($conn:expr, $call:expr) => {
        $crate::store::reports::call_hours_add!(@[.await] $conn, $call)
    };
    (@[$($aw:tt)*] $conn:expr, $call:expr) => {{
        use $crate::store::schema::call_hours as h;
        let c: &$crate::store::models::Call = $call;
        diesel::insert_into(h::table)
            .values((
                h::contact_center_id.eq(&c.contact_center_id),
                h::campaign_id.eq(c.campaign_id.as_deref().unwrap_or("")),
                h::hour.eq($crate::store::reports::hour_floor(c.created_at)),
                h::agent_id.eq(c.agent_id.as_deref().unwrap_or("")),
                h::outcome.eq(c.outcome.as_deref().unwrap_or("")),
                h::answered_by.eq(c.answered_by.as_deref().unwrap_or("")),
                h::dialed.eq(c.dialed_at.is_some()),
                h::connected.eq(c.connected_at.is_some()),
                h::calls.eq(1i64),
                h::talk_ms.eq(i64::from(c.talk_ms)),
                h::hold_ms.eq(i64::from(c.hold_ms)),
            ))
            .on_conflict((
                h::campaign_id,
                h::hour,
                h::contact_center_id,
                h::agent_id,
                h::outcome,
                h::answered_by,
                h::dialed,
                h::connected,
            ))
            .do_update()
            .set((
                h::calls.eq(h::calls + 1i64),
                h::talk_ms.eq(h::talk_ms + diesel::upsert::excluded(h::talk_ms)),
                h::hold_ms.eq(h::hold_ms + diesel::upsert::excluded(h::hold_ms)),
            ))
            .execute($conn)
            $($aw)*?;
    }};
}
pub(crate) use call_hours_add;

/// Add (`sign` 1) or take back (`sign` -1) a wrap-up in `wrap_hours`, on
/// the transaction's connection.
macro_rules! wrap_hours_add {
    ($conn:expr, $cc:expr, $w:expr, $sign:expr) => {{
        use $crate::store::schema::wrap_hours as h;
        let (w, sign): (&$crate::store::models::WrapUp, i64) = ($w, $sign);
        diesel::insert_into(h::table)
            .values((
                h::contact_center_id.eq($cc),
                h::campaign_id.eq(w.campaign_id.as_deref().unwrap_or("")),
                h::hour.eq($crate::store::reports::hour_floor(w.created_at)),
                h::agent_id.eq(&w.agent_id),
                h::disposition_code.eq(&w.disposition_code),
                h::category.eq(&w.category),
                h::conversion.eq(w.conversion),
                h::wrap_ups.eq(sign),
                h::wrap_ms.eq(sign * i64::from(w.wrap_ms)),
            ))
            .on_conflict((
                h::campaign_id,
                h::hour,
                h::contact_center_id,
                h::agent_id,
                h::disposition_code,
                h::category,
                h::conversion,
            ))
            .do_update()
            .set((
                h::wrap_ups.eq(h::wrap_ups + diesel::upsert::excluded(h::wrap_ups)),
                h::wrap_ms.eq(h::wrap_ms + diesel::upsert::excluded(h::wrap_ms)),
            ))
            .execute($conn)
            .await?;
    }};
}
pub(crate) use wrap_hours_add;

/// Calls of one UTC hour with the same outcome, answer and reach.
#[derive(Debug, Clone, QueryableByName)]
pub struct CallGroup {
    #[diesel(sql_type = Timestamp)]
    pub hour: NaiveDateTime,
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
    #[diesel(sql_type = Timestamp)]
    pub hour: NaiveDateTime,
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
    #[diesel(sql_type = Timestamp)]
    pub hour: NaiveDateTime,
    #[diesel(sql_type = BigInt)]
    pub calls: i64,
    #[diesel(sql_type = BigInt)]
    pub talk_ms: i64,
    #[diesel(sql_type = BigInt)]
    pub hold_ms: i64,
}

/// An agent's wrap-ups of one UTC hour with one disposition.
#[derive(Debug, Clone, QueryableByName)]
pub struct AgentWrapGroup {
    #[diesel(sql_type = Text)]
    pub agent_id: String,
    #[diesel(sql_type = Timestamp)]
    pub hour: NaiveDateTime,
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

/// The UTC hour of `col` (a timestamp on PostgreSQL, its stored text form
/// on SQLite — both read back as a `Timestamp`).
fn hour_of(db: &Db, col: &str) -> String {
    match db {
        Db::Pg(_) => format!("date_trunc('hour', {col})"),
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

/// Where `[from, to)` is read from: the rollup for its whole hours, the
/// raw rows for the partial hours at each end.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub raw: Vec<(NaiveDateTime, NaiveDateTime)>,
    pub rolled: Option<(NaiveDateTime, NaiveDateTime)>,
}

pub fn split(from: NaiveDateTime, to: NaiveDateTime) -> Split {
    let floor = hour_floor(from);
    let first = if floor == from {
        from
    } else {
        floor + chrono::TimeDelta::hours(1)
    };
    let last = hour_floor(to);
    if first >= last {
        return Split {
            raw: vec![(from, to)],
            rolled: None,
        };
    }
    let raw = [(from, first), (last, to)]
        .into_iter()
        .filter(|(a, b)| a < b)
        .collect();
    Split {
        raw,
        rolled: Some((first, last)),
    }
}

/// Run `raw` over the raw edges and `rolled` over the whole hours of
/// `[from, to)`, as rows of type `T`.
macro_rules! over {
    ($db:expr, $id:expr, $from:expr, $to:expr, $raw:expr, $rolled:expr, $t:ty) => {{
        let parts = split($from, $to);
        let (raw, rolled) = (
            placeholders($db, $raw.to_owned()),
            placeholders($db, $rolled.to_owned()),
        );
        let mut out: Vec<$t> = Vec::new();
        for (a, b) in parts.raw {
            let rows: StoreResult<Vec<$t>> = load_range!($db, raw, $id, a, b);
            out.extend(rows?);
        }
        if let Some((a, b)) = parts.rolled {
            let rows: StoreResult<Vec<$t>> = load_range!($db, rolled, $id, a, b);
            out.extend(rows?);
        }
        Ok(out)
    }};
}

/// A campaign's calls created in `[from, to)`, grouped.
pub async fn campaign_calls(
    db: &Db,
    campaign_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<CallGroup>> {
    let raw = format!(
        "SELECT {hour} AS hour, outcome, answered_by, \
             (dialed_at IS NOT NULL) AS dialed, (connected_at IS NOT NULL) AS connected, \
             COUNT(*) AS calls, COALESCE(SUM(talk_ms), 0) AS talk_ms, \
             COALESCE(SUM(hold_ms), 0) AS hold_ms \
         FROM calls WHERE campaign_id = $1 AND created_at >= $2 AND created_at < $3 \
         GROUP BY 1, 2, 3, 4, 5",
        hour = hour_of(db, "created_at")
    );
    let rolled = "SELECT hour, NULLIF(outcome, '') AS outcome, NULLIF(answered_by, '') AS answered_by, \
             dialed, connected, CAST(SUM(calls) AS BIGINT) AS calls, \
             CAST(SUM(talk_ms) AS BIGINT) AS talk_ms, CAST(SUM(hold_ms) AS BIGINT) AS hold_ms \
         FROM call_hours WHERE campaign_id = $1 AND hour >= $2 AND hour < $3 \
         GROUP BY 1, 2, 3, 4, 5";
    over!(db, campaign_id, from, to, raw, rolled, CallGroup)
}

/// A campaign's wrap-ups submitted in `[from, to)`, grouped.
pub async fn campaign_wrap_ups(
    db: &Db,
    campaign_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<WrapGroup>> {
    let raw = format!(
        "SELECT {hour} AS hour, disposition_code, category, conversion, \
             COUNT(*) AS wrap_ups, COALESCE(SUM(wrap_ms), 0) AS wrap_ms \
         FROM wrap_ups WHERE campaign_id = $1 AND created_at >= $2 AND created_at < $3 \
         GROUP BY 1, 2, 3, 4",
        hour = hour_of(db, "created_at")
    );
    let rolled = "SELECT hour, disposition_code, category, conversion, \
             CAST(SUM(wrap_ups) AS BIGINT) AS wrap_ups, CAST(SUM(wrap_ms) AS BIGINT) AS wrap_ms \
         FROM wrap_hours WHERE campaign_id = $1 AND hour >= $2 AND hour < $3 AND wrap_ups <> 0 \
         GROUP BY 1, 2, 3, 4";
    over!(db, campaign_id, from, to, raw, rolled, WrapGroup)
}

/// A campaign's live answers answered since `since`, and how many of them
/// were abandoned: the abandonment rate's two terms, exact (from the raw
/// rows through the `calls_live_answers` partial index).
pub async fn answers_since(
    db: &Db,
    campaign_id: &str,
    since: NaiveDateTime,
) -> StoreResult<(i64, i64)> {
    let sql = placeholders(
        db,
        "SELECT COUNT(*) AS live, \
             COALESCE(SUM(CASE WHEN outcome = 'ABANDONED' THEN 1 ELSE 0 END), 0) AS abandoned \
         FROM calls WHERE campaign_id = $1 AND answered_at >= $2 AND answered_by = 'HUMAN'"
            .to_owned(),
    );
    with_conn!(db, |conn| {
        let rows: Vec<Answers> = sql_query(&sql)
            .bind::<Text, _>(campaign_id)
            .bind::<Timestamp, _>(since)
            .load(conn)
            .await?;
        Ok(<[Answers]>::first(&rows).map_or((0, 0), |a| (a.live, a.abandoned)))
    })
}

#[derive(Debug, Clone, QueryableByName)]
struct Pair {
    #[diesel(sql_type = BigInt)]
    a: i64,
    #[diesel(sql_type = BigInt)]
    b: i64,
}

#[derive(Debug, Clone, QueryableByName)]
struct CategoryCount {
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A campaign's running totals for the live view: calls placed and
/// connected all time (the rollup plus the calls still in progress) and
/// placed since `hour_ago`; wrap-ups per disposition category all time and
/// since `hour_ago` (which categories are contacts is `domain::report`'s
/// call).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveTotals {
    pub attempts: i64,
    pub connects: i64,
    pub attempts_last_hour: i64,
    pub wrap_ups_by_category: Vec<(String, i64)>,
    pub wrap_ups_by_category_last_hour: Vec<(String, i64)>,
}

pub async fn live_totals(
    db: &Db,
    campaign_id: &str,
    hour_ago: NaiveDateTime,
) -> StoreResult<LiveTotals> {
    let ph = |s: &str| placeholders(db, s.to_owned());
    let ended = ph(
        "SELECT CAST(COALESCE(SUM(CASE WHEN dialed THEN calls ELSE 0 END), 0) AS BIGINT) AS a, \
             CAST(COALESCE(SUM(CASE WHEN connected THEN calls ELSE 0 END), 0) AS BIGINT) AS b \
         FROM call_hours WHERE campaign_id = $1",
    );
    let open = ph(
        "SELECT COALESCE(SUM(CASE WHEN dialed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS a, \
             COALESCE(SUM(CASE WHEN connected_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS b \
         FROM calls WHERE campaign_id = $1 AND state IN \
             ('OFFERED', 'DIALING', 'RINGING', 'ANSWERED', 'CONNECTED', 'HELD', 'TRANSFERRING')",
    );
    let placed_recently = ph("SELECT COUNT(*) AS a, CAST(0 AS BIGINT) AS b FROM calls \
         WHERE campaign_id = $1 AND created_at >= $2 AND dialed_at IS NOT NULL");
    let categories = ph(
        "SELECT category, CAST(COALESCE(SUM(wrap_ups), 0) AS BIGINT) AS n \
         FROM wrap_hours WHERE campaign_id = $1 GROUP BY category",
    );
    let categories_recently = ph("SELECT category, COUNT(*) AS n FROM wrap_ups \
         WHERE campaign_id = $1 AND created_at >= $2 GROUP BY category");
    let one = |rows: Vec<Pair>| <[Pair]>::first(&rows).map_or((0, 0), |p| (p.a, p.b));
    let pairs = |rows: Vec<CategoryCount>| rows.into_iter().map(|c| (c.category, c.n)).collect();
    with_conn!(db, |conn| {
        let mut totals = [(0, 0); 2];
        for (i, sql) in [&ended, &open].into_iter().enumerate() {
            let rows: Vec<Pair> = sql_query(sql)
                .bind::<Text, _>(campaign_id)
                .load(conn)
                .await?;
            totals[i] = one(rows);
        }
        let recent: Vec<Pair> = sql_query(&placed_recently)
            .bind::<Text, _>(campaign_id)
            .bind::<Timestamp, _>(hour_ago)
            .load(conn)
            .await?;
        let all: Vec<CategoryCount> = sql_query(&categories)
            .bind::<Text, _>(campaign_id)
            .load(conn)
            .await?;
        let last_hour: Vec<CategoryCount> = sql_query(&categories_recently)
            .bind::<Text, _>(campaign_id)
            .bind::<Timestamp, _>(hour_ago)
            .load(conn)
            .await?;
        Ok(LiveTotals {
            attempts: totals[0].0 + totals[1].0,
            connects: totals[0].1 + totals[1].1,
            attempts_last_hour: one(recent).0,
            wrap_ups_by_category: pairs(all),
            wrap_ups_by_category_last_hour: pairs(last_hour),
        })
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
    let raw = format!(
        "SELECT agent_id, {hour} AS hour, COUNT(*) AS calls, \
             COALESCE(SUM(talk_ms), 0) AS talk_ms, COALESCE(SUM(hold_ms), 0) AS hold_ms \
         FROM calls WHERE contact_center_id = $1 AND created_at >= $2 AND created_at < $3 \
             AND connected_at IS NOT NULL AND agent_id IS NOT NULL \
         GROUP BY 1, 2",
        hour = hour_of(db, "created_at")
    );
    let rolled = "SELECT agent_id, hour, CAST(SUM(calls) AS BIGINT) AS calls, \
             CAST(SUM(talk_ms) AS BIGINT) AS talk_ms, CAST(SUM(hold_ms) AS BIGINT) AS hold_ms \
         FROM call_hours WHERE contact_center_id = $1 AND hour >= $2 AND hour < $3 \
             AND connected AND agent_id <> '' \
         GROUP BY 1, 2";
    over!(db, contact_center_id, from, to, raw, rolled, AgentCallGroup)
}

/// Wrap-ups of calls of a contact center, submitted in `[from, to)`, per
/// agent, hour and disposition.
pub async fn agent_wrap_ups(
    db: &Db,
    contact_center_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<AgentWrapGroup>> {
    let raw = format!(
        "SELECT w.agent_id AS agent_id, {hour} AS hour, w.disposition_code AS disposition_code, \
             COUNT(*) AS wrap_ups, COALESCE(SUM(w.wrap_ms), 0) AS wrap_ms \
         FROM wrap_ups w JOIN calls c ON c.id = w.call_id \
         WHERE c.contact_center_id = $1 AND w.created_at >= $2 AND w.created_at < $3 \
         GROUP BY 1, 2, 3",
        hour = hour_of(db, "w.created_at")
    );
    let rolled = "SELECT agent_id, hour, disposition_code, CAST(SUM(wrap_ups) AS BIGINT) AS wrap_ups, \
             CAST(SUM(wrap_ms) AS BIGINT) AS wrap_ms \
         FROM wrap_hours WHERE contact_center_id = $1 AND hour >= $2 AND hour < $3 AND wrap_ups <> 0 \
         GROUP BY 1, 2, 3";
    over!(db, contact_center_id, from, to, raw, rolled, AgentWrapGroup)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn ranges_split_into_whole_hours_and_raw_edges() {
        let s = split(t("2026-11-24 16:30:00"), t("2026-11-24 20:15:00"));
        assert_eq!(
            s.rolled,
            Some((t("2026-11-24 17:00:00"), t("2026-11-24 20:00:00")))
        );
        assert_eq!(
            s.raw,
            vec![
                (t("2026-11-24 16:30:00"), t("2026-11-24 17:00:00")),
                (t("2026-11-24 20:00:00"), t("2026-11-24 20:15:00")),
            ]
        );
        let aligned = split(t("2026-11-24 17:00:00"), t("2026-11-24 19:00:00"));
        assert!(aligned.raw.is_empty());
        let inside = split(t("2026-11-24 17:10:00"), t("2026-11-24 17:50:00"));
        assert_eq!((inside.rolled, inside.raw.len()), (None, 1));
    }
}
