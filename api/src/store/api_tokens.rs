//! Integrators' API tokens: organization-scoped, with a role, revocable.
//! The secret is a signed JWT handed out once; only its id is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{ApiToken, AuditEntry};
use super::schema::api_tokens;
use super::{Db, Page, StoreResult, audit_log_insert, with_conn, with_tx};

pub async fn insert(db: &Db, token: ApiToken, audit: AuditEntry) -> StoreResult<ApiToken> {
    with_tx!(db, |conn| {
        diesel::insert_into(api_tokens::table)
            .values(&token)
            .execute(conn)
            .await?;
        audit_log_insert!(conn, &audit);
        Ok(token.clone())
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<ApiToken>> {
    with_conn!(db, |conn| {
        Ok(api_tokens::table
            .find(id)
            .select(ApiToken::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn list(
    db: &Db,
    organization_id: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<ApiToken>> {
    let rows = with_conn!(db, |conn| {
        let mut q = api_tokens::table
            .filter(api_tokens::organization_id.eq(organization_id))
            .select(ApiToken::as_select())
            .order(api_tokens::id.asc())
            .limit(limit as i64 + 1)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(api_tokens::id.gt(after));
        }
        q.load(conn).await?
    });
    Ok(Page::from_overfetch(rows, limit))
}

/// Revoke; returns false when it was already revoked.
pub async fn revoke(db: &Db, id: &str, at: NaiveDateTime, audit: AuditEntry) -> StoreResult<bool> {
    with_tx!(db, |conn| {
        let n = diesel::update(
            api_tokens::table
                .filter(api_tokens::id.eq(id))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Some(at)))
        .execute(conn)
        .await?;
        if n > 0 {
            audit_log_insert!(conn, &audit);
        }
        Ok(n > 0)
    })
}
