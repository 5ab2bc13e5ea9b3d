//! Seeding a campaign with many synthetic leads in one SQL statement, for
//! `pinline bench` only (a million rows in seconds, not the import path).

use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

use super::models::Campaign;
use super::{Db, StoreResult, with_conn};

pub async fn seed_leads(db: &Db, campaign: &Campaign, n: usize) -> StoreResult<()> {
    let now = super::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let (org, id) = (&campaign.organization_id, &campaign.id);
    // Ids and phones are generated from the row number: unique per campaign.
    let (series, pad_id, pad_phone) = match db {
        Db::Pg(_) => (
            format!("generate_series(1, {n}) AS s(x)"),
            "lpad(x::text, 9, '0')",
            "lpad(x::text, 10, '0')",
        ),
        Db::Sqlite(_) => (
            format!(
                "(WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq LIMIT {n}) SELECT x FROM seq)"
            ),
            "printf('%09d', x)",
            "printf('%010d', x)",
        ),
    };
    let sql = format!(
        "INSERT INTO leads (id, organization_id, campaign_id, phone, first_name, last_name, time_zone, \
         custom_properties, status, priority, attempts, created_at, updated_at) \
         SELECT 'bench-{id}-' || {pad_id}, '{org}', '{id}', '+1' || {pad_phone}, 'First', 'Last', \
         'America/New_York', '[]', 'NEW', 0, 0, '{now}', '{now}' FROM {series}"
    );
    with_conn!(db, |conn| {
        conn.batch_execute(&sql).await?;
        if matches!(db, Db::Pg(_)) {
            diesel::sql_query("ANALYZE leads").execute(conn).await?;
        }
        Ok(())
    })
}
