//! Agents' presence as last written: the engine keeps the live copy in
//! memory and writes every change here, so a restart knows who owed a
//! wrap-up. Each change also closes the span the agent just left: its time
//! is added to `agent_time`, cut at UTC hour boundaries, which is what
//! agent reports sum (idle, talk, wrap time) without replaying history.

use chrono::{DurationRound, NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::Presence;
use super::schema::{agent_presence, agent_time};
use super::{Db, StoreResult, with_conn, with_tx};

/// The longest span credited when an agent's status changes (a status left
/// standing through a long outage is not a month of idle time).
const LONGEST_SPAN: TimeDelta = TimeDelta::days(1);

/// `[from, to)` cut at UTC hour boundaries: (hour, milliseconds in it).
pub fn hour_pieces(from: NaiveDateTime, to: NaiveDateTime) -> Vec<(NaiveDateTime, i64)> {
    let from = from.max(to - LONGEST_SPAN);
    let mut out = Vec::new();
    let Ok(mut hour) = from.duration_trunc(TimeDelta::hours(1)) else {
        return out;
    };
    while hour < to {
        let next = hour + TimeDelta::hours(1);
        let ms = (next.min(to) - from.max(hour)).num_milliseconds();
        if ms > 0 {
            out.push((hour, ms));
        }
        hour = next;
    }
    out
}

/// Upsert the presence row on the transaction's connection, first adding
/// the span the agent leaves (its status from its `since` to the new
/// `since`) to `agent_time`.
macro_rules! presence_upsert {
    ($conn:expr, $p:expr) => {
        $crate::store::presence::presence_upsert!(@[.await] $conn, $p)
    };
    (@[$($aw:tt)*] $conn:expr, $p:expr) => {{
        use $crate::store::schema::agent_presence as ap;
        let p: &$crate::store::models::Presence = $p;
        let before: Option<$crate::store::models::Presence> = ap::table
            .find(&p.user_id)
            .select($crate::store::models::Presence::as_select())
            .first($conn)
            $($aw)*
            .optional()?;
        $crate::store::presence::presence_upsert!(@[$($aw)*] @before(before) $conn, p)
    }};
    // `before`: the agent's row as it is (the pipelined group knows it
    // beforehand: `engine_pg.rs`).
    (@[$($aw:tt)*] @before($before:expr) $conn:expr, $p:expr) => {{
        use $crate::store::schema::{agent_presence as ap, agent_time as at};
        let p: &$crate::store::models::Presence = $p;
        let before: Option<$crate::store::models::Presence> = $before;
        if let Some(b) = before.filter(|b| b.since < p.since && b.status != "OFFLINE") {
            if let Some(cc) = &b.contact_center_id {
                for (hour, ms) in $crate::store::presence::hour_pieces(b.since, p.since) {
                    diesel::insert_into(at::table)
                        .values((
                            at::contact_center_id.eq(cc),
                            at::hour.eq(hour),
                            at::user_id.eq(&b.user_id),
                            at::status.eq(&b.status),
                            at::organization_id.eq(&b.organization_id),
                            at::ms.eq(ms),
                        ))
                        .on_conflict((at::contact_center_id, at::hour, at::user_id, at::status))
                        .do_update()
                        .set(at::ms.eq(at::ms + diesel::upsert::excluded(at::ms)))
                        .execute($conn)
                        $($aw)*?;
                }
            }
        }
        diesel::insert_into(ap::table)
            .values(p)
            .on_conflict(ap::user_id)
            .do_update()
            .set(p)
            .execute($conn)
            $($aw)*?;
    }};
}
pub(crate) use presence_upsert;

pub async fn save(db: &Db, p: &Presence) -> StoreResult<()> {
    with_tx!(db, |conn| {
        presence_upsert!(conn, p);
        Ok(())
    })
}

pub async fn get(db: &Db, user_id: &str) -> StoreResult<Option<Presence>> {
    with_conn!(db, |conn| {
        Ok(agent_presence::table
            .find(user_id)
            .select(Presence::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn all(db: &Db) -> StoreResult<Vec<Presence>> {
    with_conn!(db, |conn| {
        Ok(agent_presence::table
            .select(Presence::as_select())
            .load(conn)
            .await?)
    })
}

/// Time per (agent, status) in a contact center over `[from, to)`, whole
/// hours as stored (an hour counts when it starts in the range).
pub async fn time_by_status(
    db: &Db,
    contact_center_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<(NaiveDateTime, String, String, i64)>> {
    with_conn!(db, |conn| {
        Ok(agent_time::table
            .filter(agent_time::contact_center_id.eq(contact_center_id))
            .filter(agent_time::hour.ge(from))
            .filter(agent_time::hour.lt(to))
            .select((
                agent_time::hour,
                agent_time::user_id,
                agent_time::status,
                agent_time::ms,
            ))
            .load(conn)
            .await?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn spans_are_cut_at_hour_boundaries() {
        let p = hour_pieces(t("2026-11-24 16:50:00"), t("2026-11-24 18:10:00"));
        assert_eq!(
            p,
            vec![
                (t("2026-11-24 16:00:00"), 10 * 60_000),
                (t("2026-11-24 17:00:00"), 60 * 60_000),
                (t("2026-11-24 18:00:00"), 10 * 60_000),
            ]
        );
        assert!(hour_pieces(t("2026-11-24 17:00:00"), t("2026-11-24 17:00:00")).is_empty());
        let long = hour_pieces(t("2026-11-01 00:00:00"), t("2026-11-24 00:00:00"));
        assert_eq!(
            long.iter().map(|p| p.1).sum::<i64>(),
            LONGEST_SPAN.num_milliseconds()
        );
    }
}
