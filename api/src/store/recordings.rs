//! Calls' recordings: where each file is kept and what it holds.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::recordings;
use super::{Db, StoreResult, with_conn, with_write};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = recordings, treat_none_as_default_value = false)]
pub struct Recording {
    pub call_id: String,
    pub organization_id: String,
    pub contact_center_id: String,
    /// RECORDING, PAUSED, DONE, CUT or DELETED.
    pub state: String,
    pub blob_key: String,
    pub started_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub frames: i64,
    pub size_bytes: i64,
    pub sha256: Option<String>,
    /// JSON array of `{"fromMs", "toMs"}`.
    pub paused_spans: String,
    pub deleted_at: Option<NaiveDateTime>,
    pub deleted_reason: Option<String>,
}

pub async fn insert(db: &Db, r: &Recording) -> StoreResult<()> {
    with_write!(db, |conn| {
        diesel::insert_into(recordings::table)
            .values(r)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn get(db: &Db, call_id: &str) -> StoreResult<Option<Recording>> {
    with_conn!(db, |conn| {
        Ok(recordings::table
            .find(call_id)
            .select(Recording::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Write that someone listened to or downloaded a recording.
pub async fn audit_access(db: &Db, entry: &super::models::AuditEntry) -> StoreResult<()> {
    with_write!(db, |conn| {
        super::audit_log_insert!(conn, entry);
        Ok(())
    })
}
