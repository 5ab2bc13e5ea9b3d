//! The audit trail: who changed what in an organization. Entries are written
//! in the same transaction as the change they describe.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::AuditEntry;
use super::schema::audit_log;
use super::{Db, Page, StoreResult, with_conn};

/// Build an entry stamped now.
pub fn entry(
    organization_id: &str,
    actor_id: Option<&str>,
    action: &str,
    subject_id: &str,
    detail: impl Into<String>,
) -> AuditEntry {
    AuditEntry {
        id: super::new_id(),
        organization_id: organization_id.to_owned(),
        actor_id: actor_id.map(str::to_owned),
        action: action.to_owned(),
        subject_id: subject_id.to_owned(),
        detail: detail.into(),
        created_at: super::now(),
    }
}

/// Newest first.
pub async fn list(
    db: &Db,
    organization_id: &str,
    before: Option<&str>,
    limit: usize,
) -> StoreResult<Page<AuditEntry>> {
    let rows = with_conn!(db, |conn| {
        let mut q = audit_log::table
            .filter(audit_log::organization_id.eq(organization_id))
            .select(AuditEntry::as_select())
            .order(audit_log::id.desc())
            .limit(limit as i64 + 1)
            .into_boxed();
        if let Some(before) = before {
            q = q.filter(audit_log::id.lt(before));
        }
        q.load(conn).await?
    });
    Ok(Page::from_overfetch(rows, limit))
}
