//! Wrap-ups: the agent's disposition, notes and marks for a call, written
//! with the lead's next status, the list entries the marks make (DNC, DNT,
//! invalid) and the agent's presence in one transaction — never half.
//! Corrections within the edit window update it, audited.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::calls::LeadWrite;
use super::lists::{List, NewEntry, insert_entry};
use super::models::{AuditEntry, Lead, Presence, WrapUp};
use super::outbox::{OutboxRow, outbox_insert};
use super::reports::wrap_hours_add;
use super::schema::{calls, leads, wrap_ups};
use super::{Db, StoreResult, audit_log_insert, with_conn, with_tx};

/// What the campaign's follow-up rules add to a wrap-up's transaction.
#[derive(Debug, Clone, Default)]
pub struct FollowUpWrites {
    /// Move the lead to this campaign (fresh there: NEW, no attempts) —
    /// unless that campaign already has the number, when it stays.
    pub move_to: Option<String>,
    /// Copies of the lead for other campaigns (skipped where the number
    /// is already a lead).
    pub copies: Vec<Lead>,
    /// Webhook deliveries owed.
    pub outbox: Vec<OutboxRow>,
    pub audit: Vec<AuditEntry>,
}

/// The follow-up writes on the transaction's connection.
macro_rules! follow_up_write {
    ($conn:expr, $w:expr, $f:expr, $at:expr) => {{
        let (w, f): (&WrapUp, &FollowUpWrites) = ($w, $f);
        if let (Some(target), Some(lead_id)) = (&f.move_to, &w.lead_id) {
            let phone: Option<String> = leads::table
                .find(lead_id)
                .select(leads::phone)
                .first($conn)
                .await
                .optional()?;
            let taken: i64 = leads::table
                .filter(leads::campaign_id.eq(target))
                .filter(leads::phone.eq(phone.unwrap_or_default()))
                .count()
                .get_result($conn)
                .await?;
            if taken == 0 {
                diesel::update(leads::table.find(lead_id))
                    .set((
                        leads::campaign_id.eq(target),
                        leads::status.eq("NEW"),
                        leads::attempts.eq(0),
                        leads::not_before.eq(None::<chrono::NaiveDateTime>),
                        leads::callback_agent_id.eq(None::<String>),
                        leads::updated_at.eq($at),
                    ))
                    .execute($conn)
                    .await?;
            }
        }
        for copy in &f.copies {
            diesel::insert_into(leads::table)
                .values(copy)
                .on_conflict((leads::campaign_id, leads::phone))
                .do_nothing()
                .execute($conn)
                .await?;
        }
        outbox_insert!($conn, &f.outbox);
        for a in &f.audit {
            audit_log_insert!($conn, a);
        }
    }};
}

/// The contact center of a call, on the transaction's connection.
macro_rules! contact_center_of {
    ($conn:expr, $call_id:expr) => {{
        let cc: String = calls::table
            .find($call_id)
            .select(calls::contact_center_id)
            .first($conn)
            .await?;
        cc
    }};
}

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
/// marks put the number on, a consent revoked on the call (with its audit
/// entry), and the agent's presence together.
pub async fn submit(
    db: &Db,
    w: &WrapUp,
    lead: Option<&LeadWrite>,
    marks: &[Mark<'_>],
    revocation: Option<&(super::models::Consent, AuditEntry)>,
    presence: &Presence,
    follow: &FollowUpWrites,
) -> StoreResult<()> {
    with_tx!(db, |conn| {
        diesel::insert_into(wrap_ups::table)
            .values(w)
            .execute(conn)
            .await?;
        let cc = contact_center_of!(conn, &w.call_id);
        wrap_hours_add!(conn, &cc, w, 1);
        if let Some(l) = lead {
            lead_update!(conn, l, w.created_at);
        }
        for m in marks {
            let id = super::new_id();
            if insert_entry!(conn, m.list, m.entry, id, w.created_at) > 0 {
                audit_log_insert!(conn, &m.audit);
            }
        }
        if let Some((consent, audit)) = revocation {
            super::consents::consent_insert!(conn, std::slice::from_ref(consent));
            audit_log_insert!(conn, audit);
        }
        super::presence::presence_upsert!(conn, presence);
        follow_up_write!(conn, w, follow, w.created_at);
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
    outbox: &[OutboxRow],
) -> StoreResult<()> {
    let at = w.updated_at.unwrap_or(w.created_at);
    with_tx!(db, |conn| {
        let before: WrapUp = wrap_ups::table
            .find(&w.id)
            .select(WrapUp::as_select())
            .first(conn)
            .await?;
        let cc = contact_center_of!(conn, &w.call_id);
        wrap_hours_add!(conn, &cc, &before, -1);
        wrap_hours_add!(conn, &cc, w, 1);
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
        outbox_insert!(conn, outbox);
        Ok(())
    })
}

/// A campaign's wrap-ups submitted in `[from, to)`, by id, after `after`:
/// one page of an export.
pub async fn page_of_campaign(
    db: &Db,
    campaign_id: &str,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<super::Page<WrapUp>> {
    let rows = with_conn!(db, |conn| {
        let mut q = wrap_ups::table
            .filter(wrap_ups::campaign_id.eq(campaign_id))
            .filter(wrap_ups::created_at.ge(from))
            .filter(wrap_ups::created_at.lt(to))
            .order(wrap_ups::id.asc())
            .limit(limit as i64 + 1)
            .select(WrapUp::as_select())
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(wrap_ups::id.gt(after));
        }
        q.load(conn).await?
    });
    Ok(super::Page::from_overfetch(rows, limit))
}

/// The wrap-ups of these calls.
pub async fn for_calls(db: &Db, call_ids: &[String]) -> StoreResult<Vec<WrapUp>> {
    with_conn!(db, |conn| {
        Ok(wrap_ups::table
            .filter(wrap_ups::call_id.eq_any(call_ids))
            .select(WrapUp::as_select())
            .load(conn)
            .await?)
    })
}

/// How long a campaign's most recent wrap-ups took (call ended → wrap-up
/// submitted, milliseconds), newest first.
pub async fn recent_wrap_ms(db: &Db, campaign_id: &str, limit: i64) -> StoreResult<Vec<i32>> {
    with_conn!(db, |conn| {
        Ok(wrap_ups::table
            .filter(wrap_ups::campaign_id.eq(campaign_id))
            .filter(wrap_ups::automatic.eq(false))
            .order(wrap_ups::created_at.desc())
            .limit(limit)
            .select(wrap_ups::wrap_ms)
            .load(conn)
            .await?)
    })
}
