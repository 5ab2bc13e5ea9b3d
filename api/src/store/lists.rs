//! The organization's lists: Do-Not-Call, Do-Not-Text and invalid numbers.
//! DNC and invalid entries take effect for every campaign at once: the
//! claim query itself excludes them.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::AuditEntry;
use super::schema::{dnc_entries, invalid_numbers};
use super::{Db, StoreResult, audit_log_insert, with_conn, with_tx};

/// Put `phone` (E.164) on the Do-Not-Call list; false when it already was.
pub async fn add_dnc(
    db: &Db,
    organization_id: &str,
    phone: &str,
    source: &str,
    reason: &str,
    created_by: Option<&str>,
    audit: AuditEntry,
) -> StoreResult<bool> {
    let id = super::new_id();
    let now = super::now();
    with_tx!(db, |conn| {
        let n = diesel::insert_into(dnc_entries::table)
            .values((
                dnc_entries::id.eq(&id),
                dnc_entries::organization_id.eq(organization_id),
                dnc_entries::phone.eq(phone),
                dnc_entries::source.eq(source),
                dnc_entries::reason.eq(reason),
                dnc_entries::created_by.eq(created_by),
                dnc_entries::created_at.eq(now),
            ))
            .on_conflict((dnc_entries::organization_id, dnc_entries::phone))
            .do_nothing()
            .execute(conn)
            .await?;
        if n > 0 {
            audit_log_insert!(conn, &audit);
        }
        Ok(n > 0)
    })
}

/// Whether `phone` is on the DNC list or marked invalid.
pub async fn verdicts(
    db: &Db,
    organization_id: &str,
    phone: &str,
) -> StoreResult<crate::domain::eligibility::ListFacts> {
    with_conn!(db, |conn| {
        let dnc: i64 = dnc_entries::table
            .filter(dnc_entries::organization_id.eq(organization_id))
            .filter(dnc_entries::phone.eq(phone))
            .count()
            .get_result(conn)
            .await?;
        let invalid: i64 = invalid_numbers::table
            .filter(invalid_numbers::organization_id.eq(organization_id))
            .filter(invalid_numbers::phone.eq(phone))
            .count()
            .get_result(conn)
            .await?;
        Ok(crate::domain::eligibility::ListFacts {
            do_not_call: dnc > 0,
            invalid: invalid > 0,
        })
    })
}
