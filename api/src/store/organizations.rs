//! Organizations: the tenant boundary. Everything else belongs to one.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{AuditEntry, Organization, User};
use super::schema::{audit_log, organizations, users};
use super::{Db, StoreError, StoreResult, with_conn, with_tx};

/// Create an organization together with its first admin, in one transaction.
pub async fn create_with_admin(db: &Db, org: Organization, admin: User) -> StoreResult<()> {
    let audit = AuditEntry {
        id: super::new_id(),
        organization_id: org.id.clone(),
        actor_id: None,
        action: "organization.create".into(),
        subject_id: org.id.clone(),
        detail: format!("organization {:?} with admin {}", org.name, admin.email),
        created_at: org.created_at,
    };
    with_tx!(db, |conn| {
        diesel::insert_into(organizations::table)
            .values(&org)
            .execute(conn)
            .await?;
        diesel::insert_into(users::table)
            .values(&admin)
            .execute(conn)
            .await
            .map_err(|e| StoreError::unique_as(e, "a user with this email"))?;
        diesel::insert_into(audit_log::table)
            .values(&audit)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<Organization>> {
    with_conn!(db, |conn| {
        Ok(organizations::table
            .find(id)
            .select(Organization::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn find_by_name(db: &Db, name: &str) -> StoreResult<Option<Organization>> {
    with_conn!(db, |conn| {
        Ok(organizations::table
            .filter(organizations::name.eq(name))
            .select(Organization::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}
