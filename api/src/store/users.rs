//! Users: the people who sign in (agents, supervisors, admins).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{AuditEntry, Membership, User};
use super::schema::{memberships, sessions, users};
use super::{Db, Page, StoreError, StoreResult, audit_log_insert, with_conn, with_tx};

/// Filters for listing users.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub role: Option<String>,
    pub active: Option<bool>,
    /// Case-insensitive substring of the name or email.
    pub search: Option<String>,
    /// Only users who share a contact center with this user.
    pub sharing_contact_center_with: Option<String>,
    /// Only members of this contact center.
    pub contact_center_id: Option<String>,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

/// Insert a user and their memberships in one transaction.
pub async fn insert(
    db: &Db,
    user: User,
    contact_center_ids: &[String],
    audit: AuditEntry,
) -> StoreResult<User> {
    let rows: Vec<Membership> = contact_center_ids
        .iter()
        .map(|cc| Membership {
            contact_center_id: cc.clone(),
            user_id: user.id.clone(),
            created_at: user.created_at,
        })
        .collect();
    with_tx!(db, |conn| {
        diesel::insert_into(users::table)
            .values(&user)
            .execute(conn)
            .await
            .map_err(|e| StoreError::unique_as(e, "a user with this email"))?;
        for row in &rows {
            diesel::insert_into(memberships::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        audit_log_insert!(conn, &audit);
        Ok(user.clone())
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<User>> {
    with_conn!(db, |conn| {
        Ok(users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// The accounts with this email, one per organization at most (an email
/// is unique within an organization), oldest first, at most `limit`.
pub async fn with_email(db: &Db, email: &str, limit: i64) -> StoreResult<Vec<User>> {
    with_conn!(db, |conn| {
        Ok(users::table
            .filter(users::email.eq(email))
            .order(users::created_at.asc())
            .limit(limit)
            .select(User::as_select())
            .load(conn)
            .await?)
    })
}

/// A page of an organization's users, ordered by id (creation order).
pub async fn list(
    db: &Db,
    organization_id: &str,
    filter: &UserFilter,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<User>> {
    let pattern = filter
        .search
        .as_ref()
        .map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")));
    let sharing = match &filter.sharing_contact_center_with {
        Some(member) => Some(super::contact_centers::ids_of_member(db, member).await?),
        None => None,
    };
    let rows = with_conn!(db, |conn| {
        let mut q = users::table
            .filter(users::organization_id.eq(organization_id))
            .select(User::as_select())
            .order(users::id.asc())
            .limit(limit as i64 + 1)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(users::id.gt(after));
        }
        if let Some(role) = &filter.role {
            q = q.filter(users::role.eq(role));
        }
        if let Some(active) = filter.active {
            q = q.filter(users::active.eq(active));
        }
        if let Some(p) = &pattern {
            q = q.filter(users::email.like(p).or(users::name.like(p)));
        }
        if let Some(cc) = &filter.contact_center_id {
            q = q.filter(
                users::id.eq_any(
                    memberships::table
                        .filter(memberships::contact_center_id.eq(cc))
                        .select(memberships::user_id),
                ),
            );
        }
        if let Some(centers) = &sharing {
            q = q.filter(
                users::id.eq_any(
                    memberships::table
                        .filter(memberships::contact_center_id.eq_any(centers))
                        .select(memberships::user_id),
                ),
            );
        }
        q.load(conn).await?
    });
    Ok(Page::from_overfetch(rows, limit))
}

/// Apply `changes`; deactivating a user also ends their sessions.
pub async fn update(
    db: &Db,
    id: &str,
    changes: UserChanges,
    audit: AuditEntry,
) -> StoreResult<User> {
    let now = super::now();
    with_tx!(db, |conn| {
        if let Some(name) = &changes.name {
            diesel::update(users::table.find(id))
                .set(users::name.eq(name))
                .execute(conn)
                .await?;
        }
        if let Some(role) = &changes.role {
            diesel::update(users::table.find(id))
                .set(users::role.eq(role))
                .execute(conn)
                .await?;
        }
        if let Some(hash) = &changes.password_hash {
            diesel::update(users::table.find(id))
                .set(users::password_hash.eq(hash))
                .execute(conn)
                .await?;
        }
        if let Some(active) = changes.active {
            diesel::update(users::table.find(id))
                .set(users::active.eq(active))
                .execute(conn)
                .await?;
        }
        if changes.active == Some(false) || changes.password_hash.is_some() {
            diesel::update(
                sessions::table
                    .filter(sessions::user_id.eq(id))
                    .filter(sessions::ended_at.is_null()),
            )
            .set(sessions::ended_at.eq(Some(now)))
            .execute(conn)
            .await?;
        }
        let user = diesel::update(users::table.find(id))
            .set(users::updated_at.eq(now))
            .returning(User::as_returning())
            .get_result(conn)
            .await?;
        audit_log_insert!(conn, &audit);
        Ok(user)
    })
}
