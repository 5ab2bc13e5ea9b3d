//! Wrap-ups: the agent's disposition and notes for a call, written with
//! the lead's next status and the agent's presence in one transaction.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::calls::LeadWrite;
use super::models::{Presence, WrapUp};
use super::schema::{agent_presence, leads, wrap_ups};
use super::{Db, StoreResult, with_conn, with_tx};

pub async fn for_call(db: &Db, call_id: &str) -> StoreResult<Option<WrapUp>> {
    with_conn!(db, |conn| {
        Ok(wrap_ups::table
            .filter(wrap_ups::call_id.eq(call_id))
            .select(WrapUp::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Store the wrap-up, the lead's next status (when given) and the agent's
/// presence together.
pub async fn submit(
    db: &Db,
    w: &WrapUp,
    lead: Option<&LeadWrite>,
    presence: &Presence,
) -> StoreResult<()> {
    with_tx!(db, |conn| {
        diesel::insert_into(wrap_ups::table)
            .values(w)
            .execute(conn)
            .await?;
        if let Some(l) = lead {
            diesel::update(leads::table.find(&l.lead_id))
                .set((
                    leads::status.eq(&l.status),
                    leads::not_before.eq(l.not_before),
                    leads::callback_agent_id.eq(&l.callback_agent_id),
                    leads::updated_at.eq(w.created_at),
                ))
                .execute(conn)
                .await?;
        }
        diesel::insert_into(agent_presence::table)
            .values(presence)
            .on_conflict(agent_presence::user_id)
            .do_update()
            .set(presence)
            .execute(conn)
            .await?;
        Ok(())
    })
}
