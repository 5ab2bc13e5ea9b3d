//! Contact centers and their members (which agents and supervisors work in
//! which contact center).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{AuditEntry, ContactCenter, Membership};
use super::schema::{contact_centers, memberships};
use super::{Db, Page, StoreError, StoreResult, audit_log_insert, with_conn, with_tx};

/// Changes to a contact center; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct ContactCenterChanges {
    pub name: Option<String>,
    pub dialer_enabled: Option<bool>,
    pub default_region: Option<String>,
    pub time_zone: Option<String>,
}

pub async fn insert(db: &Db, cc: ContactCenter, audit: AuditEntry) -> StoreResult<ContactCenter> {
    with_tx!(db, |conn| {
        diesel::insert_into(contact_centers::table)
            .values(&cc)
            .execute(conn)
            .await
            .map_err(|e| StoreError::unique_as(e, "a contact center with this name"))?;
        audit_log_insert!(conn, &audit);
        Ok(cc.clone())
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<ContactCenter>> {
    with_conn!(db, |conn| {
        Ok(contact_centers::table
            .find(id)
            .select(ContactCenter::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// A page of an organization's contact centers; with `member`, only those
/// the user belongs to.
pub async fn list(
    db: &Db,
    organization_id: &str,
    member: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<ContactCenter>> {
    let rows = with_conn!(db, |conn| {
        let mut q = contact_centers::table
            .filter(contact_centers::organization_id.eq(organization_id))
            .select(ContactCenter::as_select())
            .order(contact_centers::id.asc())
            .limit(limit as i64 + 1)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(contact_centers::id.gt(after));
        }
        if let Some(user) = member {
            q = q.filter(
                contact_centers::id.eq_any(
                    memberships::table
                        .filter(memberships::user_id.eq(user))
                        .select(memberships::contact_center_id),
                ),
            );
        }
        q.load(conn).await?
    });
    Ok(Page::from_overfetch(rows, limit))
}

pub async fn update(
    db: &Db,
    id: &str,
    changes: ContactCenterChanges,
    audit: AuditEntry,
) -> StoreResult<ContactCenter> {
    let now = super::now();
    with_tx!(db, |conn| {
        if let Some(name) = &changes.name {
            diesel::update(contact_centers::table.find(id))
                .set(contact_centers::name.eq(name))
                .execute(conn)
                .await
                .map_err(|e| StoreError::unique_as(e, "a contact center with this name"))?;
        }
        if let Some(enabled) = changes.dialer_enabled {
            diesel::update(contact_centers::table.find(id))
                .set(contact_centers::dialer_enabled.eq(enabled))
                .execute(conn)
                .await?;
        }
        if let Some(region) = &changes.default_region {
            diesel::update(contact_centers::table.find(id))
                .set(contact_centers::default_region.eq(region))
                .execute(conn)
                .await?;
        }
        if let Some(tz) = &changes.time_zone {
            diesel::update(contact_centers::table.find(id))
                .set(contact_centers::time_zone.eq(tz))
                .execute(conn)
                .await?;
        }
        let cc = diesel::update(contact_centers::table.find(id))
            .set(contact_centers::updated_at.eq(now))
            .returning(ContactCenter::as_returning())
            .get_result(conn)
            .await?;
        audit_log_insert!(conn, &audit);
        Ok(cc)
    })
}

/// Add a member; adding an existing member changes nothing and returns false.
pub async fn add_member(
    db: &Db,
    contact_center_id: &str,
    user_id: &str,
    audit: AuditEntry,
) -> StoreResult<bool> {
    let row = Membership {
        contact_center_id: contact_center_id.to_owned(),
        user_id: user_id.to_owned(),
        created_at: super::now(),
    };
    with_tx!(db, |conn| {
        let added = diesel::insert_into(memberships::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if added > 0 {
            audit_log_insert!(conn, &audit);
        }
        Ok(added > 0)
    })
}

/// Remove a member; returns false when they were not one.
pub async fn remove_member(
    db: &Db,
    contact_center_id: &str,
    user_id: &str,
    audit: AuditEntry,
) -> StoreResult<bool> {
    with_tx!(db, |conn| {
        let removed = diesel::delete(memberships::table.find((contact_center_id, user_id)))
            .execute(conn)
            .await?;
        if removed > 0 {
            audit_log_insert!(conn, &audit);
        }
        Ok(removed > 0)
    })
}

pub async fn is_member(db: &Db, contact_center_id: &str, user_id: &str) -> StoreResult<bool> {
    with_conn!(db, |conn| {
        let n: i64 = memberships::table
            .filter(memberships::contact_center_id.eq(contact_center_id))
            .filter(memberships::user_id.eq(user_id))
            .count()
            .get_result(conn)
            .await?;
        Ok(n > 0)
    })
}

/// The ids of the contact centers a user belongs to.
pub async fn ids_of_member(db: &Db, user_id: &str) -> StoreResult<Vec<String>> {
    with_conn!(db, |conn| {
        Ok(memberships::table
            .filter(memberships::user_id.eq(user_id))
            .select(memberships::contact_center_id)
            .load(conn)
            .await?)
    })
}

/// Whether two users are members of at least one common contact center.
pub async fn share_a_contact_center(db: &Db, a: &str, b: &str) -> StoreResult<bool> {
    let a_centers = ids_of_member(db, a).await?;
    with_conn!(db, |conn| {
        let n: i64 = memberships::table
            .filter(memberships::user_id.eq(b))
            .filter(memberships::contact_center_id.eq_any(&a_centers))
            .count()
            .get_result(conn)
            .await?;
        Ok(n > 0)
    })
}
