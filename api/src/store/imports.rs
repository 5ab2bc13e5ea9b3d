//! Import jobs: a CSV upload's progress and per-row report.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::import_jobs;
use super::{Db, StoreResult, with_conn, with_write};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = import_jobs, treat_none_as_default_value = false)]
pub struct ImportJob {
    pub id: String,
    pub organization_id: String,
    pub campaign_id: String,
    pub created_by: Option<String>,
    pub file_name: String,
    /// RUNNING, DONE or FAILED.
    pub state: String,
    pub total_rows: i32,
    pub processed_rows: i32,
    pub added: i32,
    pub merged: i32,
    pub rejected: i32,
    pub warned: i32,
    /// JSON array of `{index, phone, code, message}` for every rejected or
    /// flagged row.
    pub report: String,
    pub error: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

impl ImportJob {
    /// A new RUNNING job with nothing processed yet.
    pub fn running(
        organization_id: &str,
        campaign_id: &str,
        created_by: Option<&str>,
        file_name: &str,
        total_rows: usize,
    ) -> ImportJob {
        ImportJob {
            id: super::new_id(),
            organization_id: organization_id.to_owned(),
            campaign_id: campaign_id.to_owned(),
            created_by: created_by.map(str::to_owned),
            file_name: file_name.to_owned(),
            state: "RUNNING".into(),
            total_rows: i32::try_from(total_rows).unwrap_or(i32::MAX),
            processed_rows: 0,
            added: 0,
            merged: 0,
            rejected: 0,
            warned: 0,
            report: "[]".into(),
            error: None,
            created_at: super::now(),
            finished_at: None,
        }
    }
}

/// A new job, run by `instance` (this process).
pub async fn insert(db: &Db, job: &ImportJob, instance: &str) -> StoreResult<()> {
    with_write!(db, |conn| {
        diesel::insert_into(import_jobs::table)
            .values((job, import_jobs::instance_id.eq(instance)))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Save progress (counts, state, report).
pub async fn save(db: &Db, job: &ImportJob) -> StoreResult<()> {
    with_write!(db, |conn| {
        diesel::update(import_jobs::table.find(&job.id))
            .set((
                import_jobs::state.eq(&job.state),
                import_jobs::total_rows.eq(job.total_rows),
                import_jobs::processed_rows.eq(job.processed_rows),
                import_jobs::added.eq(job.added),
                import_jobs::merged.eq(job.merged),
                import_jobs::rejected.eq(job.rejected),
                import_jobs::warned.eq(job.warned),
                import_jobs::report.eq(&job.report),
                import_jobs::error.eq(&job.error),
                import_jobs::finished_at.eq(job.finished_at),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<ImportJob>> {
    with_conn!(db, |conn| {
        Ok(import_jobs::table
            .find(id)
            .select(ImportJob::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Jobs a crash left RUNNING are FAILED (what they wrote stays written):
/// every one (`alive_since` none: one server, starting), or — several
/// instances sharing the database — those whose instance has not beaten
/// since `alive_since` (it died: the upload was on its disk, so the job
/// cannot go on elsewhere; re-importing merges by phone).
pub async fn fail_interrupted(
    db: &Db,
    alive_since: Option<chrono::NaiveDateTime>,
) -> StoreResult<usize> {
    use super::schema::server_heartbeats;
    let now = super::now();
    with_write!(db, |conn| {
        let mut running = import_jobs::table
            .filter(import_jobs::state.eq("RUNNING"))
            .into_boxed();
        if let Some(since) = alive_since {
            running = running.filter(
                import_jobs::instance_id.is_null().or(diesel::dsl::not(
                    import_jobs::instance_id.eq_any(
                        server_heartbeats::table
                            .filter(server_heartbeats::beat_at.gt(since))
                            .select(server_heartbeats::instance_id.nullable()),
                    ),
                )),
            );
        }
        Ok(diesel::update(
            import_jobs::table.filter(import_jobs::id.eq_any(running.select(import_jobs::id))),
        )
        .set((
            import_jobs::state.eq("FAILED"),
            import_jobs::error.eq(Some(
                "the server stopped during the import; rows of finished batches were kept",
            )),
            import_jobs::finished_at.eq(Some(now)),
        ))
        .execute(conn)
        .await?)
    })
}
