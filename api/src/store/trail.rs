//! The compliance trail: one row per gate decision on a claimed lead —
//! the verdict and the facts it used — for auditors to query and export.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::{compliance_trail, dial_attempts};
use super::{Db, Page, StoreResult, with_conn, with_write};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = compliance_trail)]
pub struct TrailEntry {
    pub id: String,
    pub organization_id: String,
    pub campaign_id: String,
    pub lead_id: String,
    pub phone: String,
    pub at: NaiveDateTime,
    pub verdict: String,
    pub allowed: bool,
    /// JSON object of the facts the gate used.
    pub facts: String,
}

pub async fn insert(db: &Db, entries: &[TrailEntry]) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    with_write!(db, |conn| {
        for e in entries {
            diesel::insert_into(compliance_trail::table)
                .values(e)
                .execute(conn)
                .await?;
        }
        Ok(())
    })
}

/// A campaign's trail in `[from, to)`, oldest first.
pub async fn list(
    db: &Db,
    campaign_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<TrailEntry>> {
    let rows = with_conn!(db, |conn| {
        let mut q = compliance_trail::table
            .filter(compliance_trail::campaign_id.eq(campaign_id))
            .filter(compliance_trail::at.ge(from))
            .filter(compliance_trail::at.lt(to))
            .select(TrailEntry::as_select())
            .order(compliance_trail::id.asc())
            .limit(limit as i64 + 1)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(compliance_trail::id.gt(after));
        }
        q.load(conn).await?
    });
    Ok(Page::from_overfetch(rows, limit))
}

/// When a lead's attempts since `since` started.
pub async fn attempts_since(
    db: &Db,
    lead_id: &str,
    since: NaiveDateTime,
) -> StoreResult<Vec<NaiveDateTime>> {
    with_conn!(db, |conn| {
        Ok(dial_attempts::table
            .filter(dial_attempts::lead_id.eq(lead_id))
            .filter(dial_attempts::started_at.ge(since))
            .select(dial_attempts::started_at)
            .load(conn)
            .await?)
    })
}
