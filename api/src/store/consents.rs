//! Each number's consent log (domain::consent): entries are only added,
//! never changed or removed, each with when, how and where it came from.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{AuditEntry, Consent};
use super::schema::consents;
use super::{Db, StoreResult, with_conn, with_tx};
use crate::domain::consent::{ConsentEntry, ConsentEvent, ConsentKind, Standing, standing};

/// The most entries read for one number (a log longer than this is kept,
/// but only its newest entries decide).
const MAX_LOG: i64 = 1_000;

/// The stored kind of a revocation.
pub const REVOKED: &str = "REVOKED";

/// Insert consent log entries on the transaction's connection.
macro_rules! consent_insert {
    ($conn:expr, $rows:expr) => {{
        let rows: &[$crate::store::models::Consent] = $rows;
        // One statement per row: SQLite takes no multi-row insert here.
        for row in rows {
            diesel::insert_into($crate::store::schema::consents::table)
                .values(row)
                .execute($conn)
                .await?;
        }
    }};
}
pub(crate) use consent_insert;

impl Consent {
    /// The entry as the domain reads it; `None` for a kind it does not
    /// know (never written by this version).
    pub fn event(&self) -> Option<ConsentEvent> {
        let entry = if self.kind == REVOKED {
            ConsentEntry::Revoked
        } else {
            ConsentEntry::Given(ConsentKind::parse(&self.kind)?)
        };
        Some(ConsentEvent {
            at: self.at.and_utc(),
            entry,
        })
    }
}

/// A number's log, newest first (at most [`MAX_LOG`] entries).
pub async fn log(db: &Db, organization_id: &str, phone: &str) -> StoreResult<Vec<Consent>> {
    with_conn!(db, |conn| {
        Ok(consents::table
            .filter(consents::organization_id.eq(organization_id))
            .filter(consents::phone.eq(phone))
            .order((consents::at.desc(), consents::id.desc()))
            .limit(MAX_LOG)
            .select(Consent::as_select())
            .load(conn)
            .await?)
    })
}

/// What stands for the number at `now`, with the entry that gave it.
pub async fn standing_of(
    db: &Db,
    organization_id: &str,
    phone: &str,
    now: DateTime<Utc>,
) -> StoreResult<(Standing, Option<Consent>)> {
    let rows = log(db, organization_id, phone).await?;
    Ok(standing_in(&rows, now))
}

/// What stands in `rows` at `now`, with the entry that gave it.
pub fn standing_in(rows: &[Consent], now: DateTime<Utc>) -> (Standing, Option<Consent>) {
    let events: Vec<ConsentEvent> = rows.iter().filter_map(Consent::event).collect();
    let s = standing(&events, now);
    let given = s.given_at.and_then(|at| {
        rows.iter()
            .filter(|r| r.at.and_utc() == at && r.kind == s.kind.as_str())
            .min_by(|a, b| a.id.cmp(&b.id))
            .cloned()
    });
    (s, given)
}

/// Add `rows` to the log, with the audit entry, together.
pub async fn record(db: &Db, rows: &[Consent], audit: &AuditEntry) -> StoreResult<()> {
    with_tx!(db, |conn| {
        consent_insert!(conn, rows);
        super::audit_log_insert!(conn, audit);
        Ok(())
    })
}
