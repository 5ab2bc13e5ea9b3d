//! Leads of a campaign: batch inserts (all rows of a batch or none) that
//! report which numbers the campaign already had, and paged listing.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Consent, Lead};
use super::schema::leads;
use super::{Db, Page, StoreResult, with_conn, with_tx};

/// Insert `rows` in one transaction, with the consents that came with them
/// (each names the lead it came with; a lead not added because the
/// campaign already has its number leaves the consent without one). Numbers
/// the campaign already has are left alone; returns the phones that were
/// added.
///
/// One statement per row (a prepared statement, reused): portable across
/// both backends and fast enough for 10 000-row batches; a multi-row
/// INSERT is the next step if imports need it.
pub async fn insert_batch(
    db: &Db,
    rows: Vec<Lead>,
    consents: Vec<Consent>,
) -> StoreResult<HashSet<String>> {
    let none = None::<fn(&HashSet<String>) -> super::imports::Checkpoint>;
    Ok(insert_batch_then(db, rows, consents, none).await?.0)
}

/// [`insert_batch`], and in the same transaction the import job's
/// checkpoint `then` makes of the phones added (the batch and its mark
/// on the job are written together, or neither is).
pub async fn insert_batch_then<F>(
    db: &Db,
    rows: Vec<Lead>,
    mut consents: Vec<Consent>,
    then: Option<F>,
) -> StoreResult<(HashSet<String>, Option<super::imports::Checkpoint>)>
where
    F: FnOnce(&HashSet<String>) -> super::imports::Checkpoint + Send,
{
    if rows.is_empty() && consents.is_empty() && then.is_none() {
        return Ok((HashSet::new(), None));
    }
    with_tx!(db, |conn| {
        let mut added = HashSet::with_capacity(rows.len());
        for row in &rows {
            let n = diesel::insert_into(leads::table)
                .values(row)
                .on_conflict((leads::campaign_id, leads::phone))
                .do_nothing()
                .execute(conn)
                .await?;
            if n > 0 {
                added.insert(row.phone.clone());
            } else {
                for c in consents
                    .iter_mut()
                    .filter(|c| c.lead_id.as_deref() == Some(row.id.as_str()))
                {
                    c.lead_id = None;
                }
            }
        }
        super::consents::consent_insert!(conn, &consents);
        let checkpoint = then.map(|then| then(&added));
        if let Some(cp) = &checkpoint {
            super::imports::import_checkpoint!(conn, cp);
        }
        Ok((added, checkpoint))
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<Lead>> {
    with_conn!(db, |conn| {
        Ok(leads::table
            .find(id)
            .select(Lead::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Filters for listing leads.
#[derive(Debug, Default, Clone)]
pub struct LeadFilter {
    pub statuses: Option<Vec<String>>,
    /// A part of the phone number or of the name.
    pub search: Option<String>,
}

pub async fn list(
    db: &Db,
    campaign_id: &str,
    filter: &LeadFilter,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<Lead>> {
    let pattern = filter
        .search
        .as_ref()
        .map(|s| format!("%{}%", s.replace(['%', '_'], "")));
    let rows = with_conn!(db, |conn| {
        let mut q = leads::table
            .filter(leads::campaign_id.eq(campaign_id))
            .select(Lead::as_select())
            .order(leads::id.asc())
            .limit(limit as i64 + 1)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(leads::id.gt(after));
        }
        if let Some(statuses) = &filter.statuses {
            q = q.filter(leads::status.eq_any(statuses));
        }
        if let Some(p) = &pattern {
            q = q.filter(
                leads::phone
                    .like(p)
                    .or(leads::first_name.like(p))
                    .or(leads::last_name.like(p)),
            );
        }
        q.load(conn).await?
    });
    Ok(Page::from_overfetch(rows, limit))
}

/// Leads per status in a campaign.
pub async fn count_by_status(db: &Db, campaign_id: &str) -> StoreResult<Vec<(String, i64)>> {
    with_conn!(db, |conn| {
        Ok(leads::table
            .filter(leads::campaign_id.eq(campaign_id))
            .group_by(leads::status)
            .select((leads::status, diesel::dsl::count_star()))
            .load(conn)
            .await?)
    })
}

/// Record a finished dial attempt: the attempt row, the lead's counters,
/// and its next status and due time (from `domain::campaign::after_attempt`).
pub async fn record_attempt(
    db: &Db,
    lead: &Lead,
    outcome: &str,
    started_at: chrono::NaiveDateTime,
    next_status: &str,
    not_before: Option<chrono::NaiveDateTime>,
) -> StoreResult<()> {
    use super::schema::dial_attempts;
    let id = super::new_id();
    let now = super::now();
    let abandoned = outcome == crate::domain::campaign::AttemptOutcome::Abandoned.as_str();
    with_tx!(db, |conn| {
        diesel::insert_into(dial_attempts::table)
            .values((
                dial_attempts::id.eq(&id),
                dial_attempts::organization_id.eq(&lead.organization_id),
                dial_attempts::campaign_id.eq(&lead.campaign_id),
                dial_attempts::lead_id.eq(&lead.id),
                dial_attempts::phone.eq(&lead.phone),
                dial_attempts::started_at.eq(started_at),
                dial_attempts::outcome.eq(Some(outcome)),
                dial_attempts::ended_at.eq(Some(now)),
            ))
            .execute(conn)
            .await?;
        diesel::update(leads::table.find(&lead.id))
            .set((
                leads::attempts.eq(leads::attempts + 1),
                leads::last_attempt_at.eq(Some(started_at)),
                leads::last_outcome.eq(Some(outcome)),
                leads::status.eq(next_status),
                leads::not_before.eq(not_before),
                leads::claimed_at.eq(None::<chrono::NaiveDateTime>),
                leads::claimed_from.eq(None::<String>),
                leads::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        if abandoned {
            diesel::update(leads::table.find(&lead.id))
                .set(leads::last_abandoned_at.eq(Some(started_at)))
                .execute(conn)
                .await?;
        }
        Ok(())
    })
}

/// Changes to a lead; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct LeadChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub time_zone: Option<String>,
    pub region: Option<String>,
    pub time_zone_verified: Option<bool>,
    pub priority: Option<i32>,
    pub status: Option<String>,
}

pub async fn update(
    db: &Db,
    id: &str,
    changes: LeadChanges,
    audit: super::models::AuditEntry,
) -> StoreResult<Lead> {
    let now = super::now();
    with_tx!(db, |conn| {
        if let Some(v) = &changes.first_name {
            diesel::update(leads::table.find(id))
                .set(leads::first_name.eq(Some(v)))
                .execute(conn)
                .await?;
        }
        if let Some(v) = &changes.last_name {
            diesel::update(leads::table.find(id))
                .set(leads::last_name.eq(Some(v)))
                .execute(conn)
                .await?;
        }
        if let Some(v) = &changes.time_zone {
            diesel::update(leads::table.find(id))
                .set(leads::time_zone.eq(Some(v)))
                .execute(conn)
                .await?;
        }
        if let Some(v) = changes.time_zone_verified {
            diesel::update(leads::table.find(id))
                .set(leads::time_zone_verified.eq(v))
                .execute(conn)
                .await?;
        }
        if let Some(v) = &changes.region {
            diesel::update(leads::table.find(id))
                .set(leads::region.eq(Some(v)))
                .execute(conn)
                .await?;
        }
        if let Some(v) = changes.priority {
            diesel::update(leads::table.find(id))
                .set(leads::priority.eq(v))
                .execute(conn)
                .await?;
        }
        if let Some(v) = &changes.status {
            diesel::update(leads::table.find(id))
                .set(leads::status.eq(v))
                .execute(conn)
                .await?;
        }
        let lead = diesel::update(leads::table.find(id))
            .set(leads::updated_at.eq(now))
            .returning(Lead::as_returning())
            .get_result(conn)
            .await?;
        super::audit_log_insert!(conn, &audit);
        Ok(lead)
    })
}
