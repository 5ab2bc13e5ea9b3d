//! The organization's lists: Do-Not-Call, Do-Not-Text and invalid numbers.
//! DNC and invalid entries take effect for every campaign at once: the
//! claim query itself excludes them. Do-Not-Text does not block calls; it
//! is kept for text-messaging tools. Every change is audited.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::AuditEntry;
use super::schema::{dnc_entries, dnt_entries, invalid_numbers};
use super::{Db, Page, StoreResult, audit_log_insert, with_conn, with_tx};

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum List {
    DoNotCall,
    DoNotText,
    Invalid,
}

impl List {
    pub fn as_str(self) -> &'static str {
        match self {
            List::DoNotCall => "DO_NOT_CALL",
            List::DoNotText => "DO_NOT_TEXT",
            List::Invalid => "INVALID",
        }
    }
}

/// One number on a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub id: String,
    pub list: List,
    pub phone: String,
    /// For invalid numbers: WRONG_NUMBER, DISCONNECTED or OTHER.
    pub invalid_kind: Option<String>,
    pub source: String,
    pub reason: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// What to add.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub organization_id: &'a str,
    pub phone: &'a str,
    pub invalid_kind: Option<&'a str>,
    pub source: &'a str,
    pub reason: &'a str,
    pub created_by: Option<&'a str>,
}

type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    NaiveDateTime,
);

/// Run `$body` with `t` bound to the list's table module (DNC/DNT tables
/// share their columns; the invalid table adds `kind`).
macro_rules! on_list {
    ($list:expr, |$t:ident| $body:expr) => {
        match $list {
            List::DoNotCall => {
                use super::schema::dnc_entries as $t;
                $body
            }
            List::DoNotText => {
                use super::schema::dnt_entries as $t;
                $body
            }
            List::Invalid => {
                use super::schema::invalid_numbers as $t;
                $body
            }
        }
    };
}

/// Put a number on a list on `$conn`, inside the caller's transaction:
/// the rows added (0 when it was already there). Shared by [`add`] and the
/// wrap-up, which writes its marks with the wrap-up itself.
macro_rules! insert_entry {
    ($conn:expr, $list:expr, $e:expr, $id:expr, $now:expr) => {{
        use $crate::store::lists::List;
        use $crate::store::schema::{dnc_entries, dnt_entries, invalid_numbers};
        match $list {
            List::DoNotCall => {
                diesel::insert_into(dnc_entries::table)
                    .values((
                        dnc_entries::id.eq(&$id),
                        dnc_entries::organization_id.eq($e.organization_id),
                        dnc_entries::phone.eq($e.phone),
                        dnc_entries::source.eq($e.source),
                        dnc_entries::reason.eq($e.reason),
                        dnc_entries::created_by.eq($e.created_by),
                        dnc_entries::created_at.eq($now),
                    ))
                    .on_conflict((dnc_entries::organization_id, dnc_entries::phone))
                    .do_nothing()
                    .execute($conn)
                    .await?
            }
            List::DoNotText => {
                diesel::insert_into(dnt_entries::table)
                    .values((
                        dnt_entries::id.eq(&$id),
                        dnt_entries::organization_id.eq($e.organization_id),
                        dnt_entries::phone.eq($e.phone),
                        dnt_entries::source.eq($e.source),
                        dnt_entries::reason.eq($e.reason),
                        dnt_entries::created_by.eq($e.created_by),
                        dnt_entries::created_at.eq($now),
                    ))
                    .on_conflict((dnt_entries::organization_id, dnt_entries::phone))
                    .do_nothing()
                    .execute($conn)
                    .await?
            }
            List::Invalid => {
                diesel::insert_into(invalid_numbers::table)
                    .values((
                        invalid_numbers::id.eq(&$id),
                        invalid_numbers::organization_id.eq($e.organization_id),
                        invalid_numbers::phone.eq($e.phone),
                        invalid_numbers::kind.eq($e.invalid_kind.unwrap_or("OTHER")),
                        invalid_numbers::source.eq($e.source),
                        invalid_numbers::reason.eq($e.reason),
                        invalid_numbers::created_by.eq($e.created_by),
                        invalid_numbers::created_at.eq($now),
                    ))
                    .on_conflict((invalid_numbers::organization_id, invalid_numbers::phone))
                    .do_nothing()
                    .execute($conn)
                    .await?
            }
        }
    }};
}
pub(crate) use insert_entry;

/// Put a number on a list; false when it already was there.
pub async fn add(db: &Db, list: List, e: &NewEntry<'_>, audit: AuditEntry) -> StoreResult<bool> {
    let id = super::new_id();
    let now = super::now();
    with_tx!(db, |conn| {
        let n = insert_entry!(conn, list, e, id, now);
        if n > 0 {
            audit_log_insert!(conn, &audit);
        }
        Ok(n > 0)
    })
}

/// Take a number off a list; false when it was not on it.
pub async fn remove(
    db: &Db,
    list: List,
    organization_id: &str,
    phone: &str,
    audit: AuditEntry,
) -> StoreResult<bool> {
    with_tx!(db, |conn| {
        let n = on_list!(list, |t| diesel::delete(
            t::table
                .filter(t::organization_id.eq(organization_id))
                .filter(t::phone.eq(phone))
        )
        .execute(conn)
        .await?);
        if n > 0 {
            audit_log_insert!(conn, &audit);
        }
        Ok(n > 0)
    })
}

/// A page of a list, newest first, optionally only numbers containing
/// `search` (digits).
pub async fn search(
    db: &Db,
    list: List,
    organization_id: &str,
    search: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<ListEntry>> {
    let pattern = search.map(|s| {
        let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
        format!("%{digits}%")
    });
    let rows: Vec<(Row, Option<String>)> = with_conn!(db, |conn| {
        on_list!(list, |t| {
            let mut q = t::table
                .filter(t::organization_id.eq(organization_id))
                .select((
                    t::id,
                    t::phone,
                    t::source,
                    t::reason,
                    t::created_by,
                    t::created_at,
                ))
                .order(t::id.desc())
                .limit(limit as i64 + 1)
                .into_boxed();
            if let Some(after) = after {
                q = q.filter(t::id.lt(after));
            }
            if let Some(p) = &pattern {
                q = q.filter(t::phone.like(p));
            }
            let rows: Vec<Row> = q.load(conn).await?;
            rows.into_iter().map(|r| (r, None)).collect()
        })
    });
    // Invalid numbers also carry their kind.
    let kinds: std::collections::HashMap<String, String> = if list == List::Invalid {
        let ids: Vec<String> = rows.iter().map(|(r, _)| r.0.clone()).collect();
        with_conn!(db, |conn| {
            invalid_numbers::table
                .filter(invalid_numbers::id.eq_any(&ids))
                .select((invalid_numbers::id, invalid_numbers::kind))
                .load::<(String, String)>(conn)
                .await?
                .into_iter()
                .collect()
        })
    } else {
        Default::default()
    };
    let entries = rows
        .into_iter()
        .map(
            |((id, phone, source, reason, created_by, created_at), _)| ListEntry {
                invalid_kind: kinds.get(&id).cloned(),
                id,
                list,
                phone,
                source,
                reason,
                created_by,
                created_at,
            },
        )
        .collect();
    Ok(Page::from_overfetch(entries, limit))
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

/// Whether `phone` is on the Do-Not-Text list.
pub async fn is_do_not_text(db: &Db, organization_id: &str, phone: &str) -> StoreResult<bool> {
    with_conn!(db, |conn| {
        let n: i64 = dnt_entries::table
            .filter(dnt_entries::organization_id.eq(organization_id))
            .filter(dnt_entries::phone.eq(phone))
            .count()
            .get_result(conn)
            .await?;
        Ok(n > 0)
    })
}
