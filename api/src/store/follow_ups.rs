//! Follow-up rules and the webhook endpoints they send to.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::AuditEntry;
use super::schema::{follow_up_rules, webhook_endpoints};
use super::{Db, StoreResult, audit_log_insert, with_conn, with_tx};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = follow_up_rules, treat_none_as_null = true)]
pub struct RuleRow {
    pub id: String,
    pub organization_id: String,
    pub campaign_id: String,
    pub position: i32,
    pub disposition_code: Option<String>,
    pub category: Option<String>,
    pub action: String,
    pub delay_minutes: Option<i32>,
    pub target_campaign_id: Option<String>,
    pub endpoint_id: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub url: String,
    /// The HMAC-SHA256 key deliveries are signed with.
    pub secret: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A campaign's rules in position order.
pub async fn rules_of(db: &Db, campaign_id: &str) -> StoreResult<Vec<RuleRow>> {
    with_conn!(db, |conn| {
        Ok(follow_up_rules::table
            .filter(follow_up_rules::campaign_id.eq(campaign_id))
            .order((follow_up_rules::position.asc(), follow_up_rules::id.asc()))
            .select(RuleRow::as_select())
            .load(conn)
            .await?)
    })
}

pub async fn get_rule(db: &Db, id: &str) -> StoreResult<Option<RuleRow>> {
    with_conn!(db, |conn| {
        Ok(follow_up_rules::table
            .find(id)
            .select(RuleRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Add a rule after the campaign's last one.
pub async fn add_rule(db: &Db, mut row: RuleRow, audit: &AuditEntry) -> StoreResult<RuleRow> {
    with_tx!(db, |conn| {
        let last: Option<i32> = follow_up_rules::table
            .filter(follow_up_rules::campaign_id.eq(&row.campaign_id))
            .select(diesel::dsl::max(follow_up_rules::position))
            .first(conn)
            .await?;
        row.position = last.map_or(0, |p| p + 1);
        diesel::insert_into(follow_up_rules::table)
            .values(&row)
            .execute(conn)
            .await?;
        audit_log_insert!(conn, audit);
        Ok(row)
    })
}

pub async fn delete_rule(db: &Db, id: &str, audit: &AuditEntry) -> StoreResult<bool> {
    with_tx!(db, |conn| {
        let n = diesel::delete(follow_up_rules::table.find(id))
            .execute(conn)
            .await?;
        if n > 0 {
            audit_log_insert!(conn, audit);
        }
        Ok(n > 0)
    })
}

pub async fn endpoints_of(db: &Db, organization_id: &str) -> StoreResult<Vec<Endpoint>> {
    with_conn!(db, |conn| {
        Ok(webhook_endpoints::table
            .filter(webhook_endpoints::organization_id.eq(organization_id))
            .order(webhook_endpoints::created_at.asc())
            .select(Endpoint::as_select())
            .load(conn)
            .await?)
    })
}

pub async fn endpoint(db: &Db, id: &str) -> StoreResult<Option<Endpoint>> {
    with_conn!(db, |conn| {
        Ok(webhook_endpoints::table
            .find(id)
            .select(Endpoint::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Insert or update an endpoint, audited.
pub async fn save_endpoint(db: &Db, e: &Endpoint, audit: &AuditEntry) -> StoreResult<()> {
    with_tx!(db, |conn| {
        diesel::insert_into(webhook_endpoints::table)
            .values(e)
            .on_conflict(webhook_endpoints::id)
            .do_update()
            .set(e)
            .execute(conn)
            .await?;
        audit_log_insert!(conn, audit);
        Ok(())
    })
}
