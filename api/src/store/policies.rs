//! Each organization's own calling rules (`domain::policy`), kept as
//! revisions that are only added: a decision at an instant reads the
//! revision in force then, so the trail and `eligibility(at:)` answer for
//! the past as it stood.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{AuditEntry, OrganizationPolicy};
use super::schema::organization_policies as op;
use super::{Db, StoreError, StoreResult, with_conn, with_tx};
use crate::domain::policy::{Policy, Revision};

impl OrganizationPolicy {
    /// The row as the domain reads it.
    pub fn revision(&self) -> StoreResult<Revision> {
        let policy = Policy::from_json(&self.policy).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "organization {} policy revision {}",
                self.organization_id, self.revision
            ))
        })?;
        Ok(Revision {
            revision: u32::try_from(self.revision).unwrap_or(0),
            set_at: Some(self.set_at.and_utc()),
            set_by: Some(self.set_by.clone()),
            policy,
        })
    }
}

/// The revision in force at `at` (the default before any was set).
pub async fn in_force(db: &Db, organization_id: &str, at: DateTime<Utc>) -> StoreResult<Revision> {
    let at = at.naive_utc();
    let row: Option<OrganizationPolicy> = with_conn!(db, |conn| {
        Ok::<_, StoreError>(
            op::table
                .filter(op::organization_id.eq(organization_id))
                .filter(op::set_at.le(at))
                .order(op::revision.desc())
                .select(OrganizationPolicy::as_select())
                .first(conn)
                .await
                .optional()?,
        )
    })?;
    match row {
        Some(r) => r.revision(),
        None => Ok(Revision::initial()),
    }
}

/// The newest revisions first, at most `limit`.
pub async fn revisions(
    db: &Db,
    organization_id: &str,
    limit: i64,
) -> StoreResult<Vec<OrganizationPolicy>> {
    with_conn!(db, |conn| {
        Ok(op::table
            .filter(op::organization_id.eq(organization_id))
            .order(op::revision.desc())
            .limit(limit)
            .select(OrganizationPolicy::as_select())
            .load(conn)
            .await?)
    })
}

/// Add a revision (the next number) with its audit entry, together. Two
/// admins saving at once: one of them gets `Duplicate` and saves again.
pub async fn set(
    db: &Db,
    organization_id: &str,
    policy: &Policy,
    set_by: &str,
    at: NaiveDateTime,
    audit: &AuditEntry,
) -> StoreResult<Revision> {
    let row: OrganizationPolicy = with_tx!(db, |conn| {
        let last: Option<i32> = op::table
            .filter(op::organization_id.eq(organization_id))
            .select(diesel::dsl::max(op::revision))
            .first(conn)
            .await?;
        let row = OrganizationPolicy {
            organization_id: organization_id.to_owned(),
            revision: last.unwrap_or(0) + 1,
            policy: policy.to_json(),
            set_at: at,
            set_by: set_by.to_owned(),
        };
        diesel::insert_into(op::table)
            .values(&row)
            .execute(conn)
            .await
            .map_err(|e| StoreError::unique_as(e, "policy revision"))?;
        super::audit_log_insert!(conn, audit);
        Ok(row)
    })?;
    row.revision()
}
