//! Calls, their event log, and what a finished call does to its lead — one
//! transaction per step, so a crash never leaves a call ended without its
//! attempt recorded (or the other way round).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Call, CallEventRow, Presence};
use super::schema::{call_events, calls, dial_attempts, leads};
use super::{Db, StoreResult, with_conn, with_tx};

/// What a call's end does to its lead.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadWrite {
    pub lead_id: String,
    pub status: String,
    pub not_before: Option<NaiveDateTime>,
    /// Count an attempt (a call was placed) with this outcome.
    pub attempt: Option<String>,
    pub abandoned: bool,
    /// A callback reserved for an agent (or none).
    pub callback_agent_id: Option<String>,
}

/// The lead's side of a call's end, on the transaction's connection.
macro_rules! write_lead {
    (@[$($aw:tt)*] $conn:expr, $call:expr, $w:expr) => {{
        let (call, w) = ($call, $w);
        let at = call.updated_at;
        if let Some(outcome) = &w.attempt {
            diesel::insert_into(dial_attempts::table)
                .values((
                    dial_attempts::id.eq(super::new_id()),
                    dial_attempts::organization_id.eq(&call.organization_id),
                    dial_attempts::campaign_id.eq(call.campaign_id.as_deref().unwrap_or_default()),
                    dial_attempts::lead_id.eq(&w.lead_id),
                    dial_attempts::phone.eq(&call.phone),
                    dial_attempts::started_at.eq(call.dialed_at.unwrap_or(at)),
                    dial_attempts::outcome.eq(Some(outcome)),
                    dial_attempts::ended_at.eq(call.ended_at),
                ))
                .execute($conn)
                $($aw)*?;
            diesel::update(leads::table.find(&w.lead_id))
                .set((
                    leads::attempts.eq(leads::attempts + 1),
                    leads::last_attempt_at.eq(call.dialed_at),
                    leads::last_outcome.eq(Some(outcome)),
                ))
                .execute($conn)
                $($aw)*?;
        }
        if w.abandoned {
            diesel::update(leads::table.find(&w.lead_id))
                .set(leads::last_abandoned_at.eq(call.answered_at.or(Some(at))))
                .execute($conn)
                $($aw)*?;
        }
        diesel::update(leads::table.find(&w.lead_id))
            .set((
                leads::status.eq(&w.status),
                leads::not_before.eq(w.not_before),
                leads::callback_agent_id.eq(&w.callback_agent_id),
                leads::claimed_at.eq(None::<NaiveDateTime>),
                leads::claimed_from.eq(None::<String>),
                leads::updated_at.eq(at),
            ))
            .execute($conn)
            $($aw)*?;
        Ok::<(), super::StoreError>(())
    }};
}

/// The call, its new events and its lead, on the transaction's connection.
macro_rules! call_save {
    ($conn:expr, $call:expr, $events:expr, $lead:expr) => {
        call_save!(@[.await] $conn, $call, $events, $lead)
    };
    (@[$($aw:tt)*] $conn:expr, $call:expr, $events:expr, $lead:expr) => {{
        let call: &Call = $call;
        let ended = call.state == "ENDED"
            && calls::table
                .find(&call.id)
                .select(calls::state)
                .first::<String>($conn)
                $($aw)*
                .optional()?
                .as_deref()
                == Some("ENDED");
        call_save!(@[$($aw)*] @ended_before(ended) $conn, call, $events, $lead)
    }};
    // `ended_before`: the call's row already says ENDED (its hours are
    // counted). The pipelined group knows it beforehand (`engine_pg.rs`).
    (@[$($aw:tt)*] @ended_before($ended:expr) $conn:expr, $call:expr, $events:expr, $lead:expr) => {{
        let (call, events, lead): (&Call, &[CallEventRow], Option<&LeadWrite>) =
            ($call, $events, $lead);
        if call.state == "ENDED" && !$ended {
            super::reports::call_hours_add!(@[$($aw)*] $conn, call);
        }
        diesel::insert_into(calls::table)
            .values(call)
            .on_conflict(calls::id)
            .do_update()
            .set(call)
            .execute($conn)
            $($aw)*?;
        for e in events {
            diesel::insert_into(call_events::table)
                .values(e)
                .execute($conn)
                $($aw)*?;
        }
        if let Some(w) = lead {
            write_lead!(@[$($aw)*] $conn, call, w)?;
        }
        Ok::<(), super::StoreError>(())
    }};
}
pub(crate) use {call_save, write_lead};

/// Write the call as it is now, its new events, and (when it ended) its
/// lead's next status, in one transaction.
pub async fn save(
    db: &Db,
    call: &Call,
    events: &[CallEventRow],
    lead: Option<&LeadWrite>,
) -> StoreResult<()> {
    with_tx!(db, |conn| call_save!(conn, call, events, lead))
}

/// One of the dialer engine's writes (its writer commits them in groups:
/// `dialer/engine/writer.rs`).
#[derive(Debug, Clone)]
pub enum EngineWrite {
    /// A step of a call: [`save`].
    Call {
        row: Box<Call>,
        events: Vec<CallEventRow>,
        lead: Option<LeadWrite>,
    },
    /// An agent's presence: [`super::presence::save`].
    Presence(Box<Presence>),
    /// A claimed lead goes back: [`super::claims::release`].
    Release {
        lead_id: String,
        not_before: Option<NaiveDateTime>,
    },
}

/// Several of the engine's writes in one transaction, in order: all or
/// none.
pub async fn save_all(db: &Db, writes: &[&EngineWrite]) -> StoreResult<()> {
    save_all_kept(db, &mut Kept::default(), None, writes).await
}

/// The lease a group of writes is made under: the contact center and its
/// epoch (`store::leases`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub contact_center_id: String,
    pub epoch: i64,
}

/// [`save_all`] on a connection kept between calls (the engine's writer).
/// With a `fence` (PostgreSQL), the transaction starts with
/// `pinline_fence`: refused whole ([`super::StoreError::LeaseLost`]) once
/// the center's lease has moved on. (SQLite: one instance owns every
/// center; there is no fence.)
pub async fn save_all_kept(
    db: &Db,
    kept: &mut Kept,
    fence: Option<&Fence>,
    writes: &[&EngineWrite],
) -> StoreResult<()> {
    match db {
        Db::Sqlite(sqlite) => {
            let owned = writes.iter().map(|w| (*w).clone()).collect();
            super::engine_sqlite::save_all(sqlite, owned).await
        }
        Db::Pg(pg) => super::engine_pg::save_all(pg, kept, fence, writes).await,
    }
}

pub use super::engine_pg::Kept;

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<Call>> {
    with_conn!(db, |conn| {
        Ok(calls::table
            .find(id)
            .select(Call::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// What the organization's calls to `phone` since `since` say, for the
/// gate's per-number rules; `except` (the call about to be placed) is
/// left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberHistory {
    pub in_call: bool,
    pub last_abandoned_at: Option<NaiveDateTime>,
    /// When each call was placed (dialed), oldest first.
    pub placed: Vec<NaiveDateTime>,
}

pub async fn number_history(
    db: &Db,
    organization_id: &str,
    phone: &str,
    since: NaiveDateTime,
    except: Option<&str>,
) -> StoreResult<NumberHistory> {
    type Row = (
        String,
        String,
        Option<String>,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = with_conn!(db, |conn| {
        // `calls_by_number (organization_id, phone, created_at)`; a call
        // still open is recent, however long it has lasted.
        Ok::<_, super::StoreError>(
            calls::table
                .filter(calls::organization_id.eq(organization_id))
                .filter(calls::phone.eq(phone))
                .filter(calls::created_at.ge(since).or(calls::state.ne("ENDED")))
                .order(calls::created_at.asc())
                .select((
                    calls::id,
                    calls::state,
                    calls::outcome,
                    calls::dialed_at,
                    calls::answered_at,
                    calls::ended_at,
                ))
                .load(conn)
                .await?,
        )
    })?;
    let mut h = NumberHistory::default();
    for (id, state, outcome, dialed_at, answered_at, ended_at) in rows {
        if except == Some(id.as_str()) {
            continue;
        }
        if state != "ENDED" {
            h.in_call = true;
        }
        if outcome.as_deref() == Some("ABANDONED") {
            let at = answered_at.or(ended_at);
            h.last_abandoned_at = h.last_abandoned_at.max(at);
        }
        if let Some(t) = dialed_at {
            h.placed.push(t);
        }
    }
    h.placed.sort();
    Ok(h)
}

/// Calls not ended (after a crash: the ones that were in flight).
pub async fn open(db: &Db) -> StoreResult<Vec<Call>> {
    with_conn!(db, |conn| {
        Ok(calls::table
            .filter(calls::state.ne("ENDED"))
            .select(Call::as_select())
            .load(conn)
            .await?)
    })
}

/// The calls in progress in a contact center, oldest first (at most
/// `limit`): the supervisors' live floor.
pub async fn open_in(db: &Db, contact_center_id: &str, limit: i64) -> StoreResult<Vec<Call>> {
    with_conn!(db, |conn| {
        Ok(calls::table
            .filter(calls::contact_center_id.eq(contact_center_id))
            .filter(calls::state.ne("ENDED"))
            .order((calls::created_at.asc(), calls::id.asc()))
            .limit(limit)
            .select(Call::as_select())
            .load(conn)
            .await?)
    })
}

/// A call's logged steps, oldest first.
pub async fn events_of(db: &Db, call_id: &str) -> StoreResult<Vec<CallEventRow>> {
    with_conn!(db, |conn| {
        Ok(call_events::table
            .filter(call_events::call_id.eq(call_id))
            .order((call_events::at.asc(), call_events::id.asc()))
            .select(CallEventRow::as_select())
            .load(conn)
            .await?)
    })
}

/// An agent's most recent calls, newest first.
pub async fn recent_for_agent(db: &Db, agent_id: &str, limit: i64) -> StoreResult<Vec<Call>> {
    with_conn!(db, |conn| {
        Ok(calls::table
            .filter(calls::agent_id.eq(agent_id))
            .order(calls::created_at.desc())
            .limit(limit)
            .select(Call::as_select())
            .load(conn)
            .await?)
    })
}

/// A lead's calls, newest first.
pub async fn of_lead(db: &Db, lead_id: &str, limit: i64) -> StoreResult<Vec<Call>> {
    with_conn!(db, |conn| {
        Ok(calls::table
            .filter(calls::lead_id.eq(lead_id))
            .order((calls::created_at.desc(), calls::id.desc()))
            .limit(limit)
            .select(Call::as_select())
            .load(conn)
            .await?)
    })
}

/// A campaign's calls created in `[from, to)`, by id (creation order),
/// after `after`: one page of an export.
pub async fn page_of_campaign(
    db: &Db,
    campaign_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<super::Page<Call>> {
    let rows = with_conn!(db, |conn| {
        let mut q = calls::table
            .filter(calls::campaign_id.eq(campaign_id))
            .filter(calls::created_at.ge(from))
            .filter(calls::created_at.lt(to))
            .order(calls::id.asc())
            .limit(limit as i64 + 1)
            .select(Call::as_select())
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(calls::id.gt(after));
        }
        q.load(conn).await?
    });
    Ok(super::Page::from_overfetch(rows, limit))
}

/// The calls with these ids.
pub async fn by_ids(db: &Db, ids: &[String]) -> StoreResult<Vec<Call>> {
    with_conn!(db, |conn| {
        Ok(calls::table
            .filter(calls::id.eq_any(ids))
            .select(Call::as_select())
            .load(conn)
            .await?)
    })
}

/// When each live answer of a campaign since `since` came, and whether
/// it was abandoned, oldest first: the pacer's rolling windows.
pub async fn answer_times_since(
    db: &Db,
    campaign_id: &str,
    since: NaiveDateTime,
) -> StoreResult<Vec<(NaiveDateTime, bool)>> {
    with_conn!(db, |conn| {
        let rows: Vec<(Option<NaiveDateTime>, Option<String>)> = calls::table
            .filter(calls::campaign_id.eq(campaign_id))
            .filter(calls::answered_at.ge(since))
            .filter(calls::answered_by.eq("HUMAN"))
            .order(calls::answered_at.asc())
            .select((calls::answered_at, calls::outcome))
            .load(conn)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(at, outcome)| Some((at?, outcome.as_deref() == Some("ABANDONED"))))
            .collect())
    })
}

/// A campaign's most recent ended, dialed calls, newest first: what the
/// pacer learns from when the campaign starts (or the what-if simulates).
pub async fn recent_dialed_of_campaign(
    db: &Db,
    campaign_id: &str,
    limit: i64,
) -> StoreResult<Vec<Call>> {
    with_conn!(db, |conn| {
        Ok(calls::table
            .filter(calls::campaign_id.eq(campaign_id))
            .filter(calls::dialed_at.is_not_null())
            .filter(calls::ended_at.is_not_null())
            .order(calls::created_at.desc())
            .limit(limit)
            .select(Call::as_select())
            .load(conn)
            .await?)
    })
}
