//! Wrap-ups: the agent's disposition, notes and marks for a call, written
//! with the lead's next status, the list entries the marks make (DNC, DNT,
//! invalid) and the agent's presence in one transaction — never half.
//! Corrections within the edit window update it, audited.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::calls::LeadWrite;
use super::lists::{List, NewEntry, insert_entry};
use super::models::{AuditEntry, Presence, WrapUp};
use super::schema::{leads, wrap_ups};
use super::{Db, StoreResult, audit_log_insert, with_conn, with_tx};

/// A list entry a wrap-up's mark makes, with its audit entry.
pub struct Mark<'a> {
    pub list: List,
    pub entry: NewEntry<'a>,
    pub audit: AuditEntry,
}

macro_rules! lead_update {
    ($conn:expr, $l:expr, $at:expr) => {
        diesel::update(leads::table.find(&$l.lead_id))
            .set((
                leads::status.eq(&$l.status),
                leads::not_before.eq($l.not_before),
                leads::callback_agent_id.eq(&$l.callback_agent_id),
                leads::updated_at.eq($at),
            ))
            .execute($conn)
            .await?
    };
}

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

/// Store the wrap-up, the lead's next status (when given), the lists its
/// marks put the number on, and the agent's presence together.
pub async fn submit(
    db: &Db,
    w: &WrapUp,
    lead: Option<&LeadWrite>,
    marks: &[Mark<'_>],
    presence: &Presence,
) -> StoreResult<()> {
    with_tx!(db, |conn| {
        diesel::insert_into(wrap_ups::table)
            .values(w)
            .execute(conn)
            .await?;
        if let Some(l) = lead {
            lead_update!(conn, l, w.created_at);
        }
        for m in marks {
            let id = super::new_id();
            if insert_entry!(conn, m.list, m.entry, id, w.created_at) > 0 {
                audit_log_insert!(conn, &m.audit);
            }
        }
        super::presence::presence_upsert!(conn, presence);
        Ok(())
    })
}

/// A correction: the new disposition and notes (and the lead's status
/// they imply, when given), audited.
pub async fn correct(
    db: &Db,
    w: &WrapUp,
    lead: Option<&LeadWrite>,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let at = w.updated_at.unwrap_or(w.created_at);
    with_tx!(db, |conn| {
        diesel::update(wrap_ups::table.find(&w.id))
            .set((
                wrap_ups::disposition_code.eq(&w.disposition_code),
                wrap_ups::notes.eq(&w.notes),
                wrap_ups::updated_at.eq(w.updated_at),
                wrap_ups::corrections.eq(w.corrections),
                wrap_ups::category.eq(&w.category),
                wrap_ups::conversion.eq(w.conversion),
            ))
            .execute(conn)
            .await?;
        if let Some(l) = lead {
            lead_update!(conn, l, at);
        }
        audit_log_insert!(conn, audit);
        Ok(())
    })
}
