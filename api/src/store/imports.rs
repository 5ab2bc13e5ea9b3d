//! Import jobs: a CSV upload's progress and per-row report.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::{import_jobs, import_report_rows, import_uploads};
use super::{Db, StoreResult, with_conn, with_tx, with_write};

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
    /// Batches of the file written (where a server carrying the job on
    /// starts reading).
    pub batches_done: i32,
    /// JSON: the column mapping, set once the whole upload is stored; a
    /// job without it cannot be carried on by another server.
    pub settings: Option<String>,
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
            batches_done: 0,
            settings: None,
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

/// A refused or flagged row of a job, kept until the job ends (its report
/// is then written whole on the job).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = import_report_rows)]
pub struct ReportRow {
    pub job_id: String,
    pub row_index: i32,
    pub code: String,
    pub phone: String,
    pub message: String,
}

/// A batch's mark on its job, written in the batch's own transaction:
/// the job's counts after the batch and the batch's report rows. Refused
/// (the transaction rolls back) when the job is no longer this server's
/// or another already wrote this batch.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The job as it stands after the batch (`batches_done` counted).
    pub job: ImportJob,
    /// The server writing it.
    pub instance: String,
    pub rows: Vec<ReportRow>,
}

/// Write `$cp` (a `&Checkpoint`) on the transaction's connection.
macro_rules! import_checkpoint {
    ($conn:expr, $cp:expr) => {{
        use $crate::store::schema::{import_jobs as j, import_report_rows as r};
        let cp: &$crate::store::imports::Checkpoint = $cp;
        let moved = diesel::update(
            j::table
                .filter(j::id.eq(&cp.job.id))
                .filter(j::instance_id.eq(&cp.instance))
                .filter(j::state.eq("RUNNING"))
                .filter(j::batches_done.eq(cp.job.batches_done - 1)),
        )
        .set((
            j::processed_rows.eq(cp.job.processed_rows),
            j::added.eq(cp.job.added),
            j::merged.eq(cp.job.merged),
            j::rejected.eq(cp.job.rejected),
            j::warned.eq(cp.job.warned),
            j::batches_done.eq(cp.job.batches_done),
        ))
        .execute($conn)
        .await?;
        if moved == 0 {
            return Err($crate::store::StoreError::LeaseLost(
                "the import was taken over by another server".into(),
            ));
        }
        // One statement per row: SQLite takes no multi-row insert here.
        for row in &cp.rows {
            diesel::insert_into(r::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute($conn)
                .await?;
        }
    }};
}
pub(crate) use import_checkpoint;

/// Part `seq` of job `job_id`'s upload.
pub async fn put_upload(db: &Db, job_id: &str, seq: i32, data: &[u8]) -> StoreResult<()> {
    with_write!(db, |conn| {
        diesel::insert_into(import_uploads::table)
            .values((
                import_uploads::job_id.eq(job_id),
                import_uploads::seq.eq(seq),
                import_uploads::data.eq(data),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Part `seq` of a job's upload; `None` past its end.
pub async fn upload_part(db: &Db, job_id: &str, seq: i32) -> StoreResult<Option<Vec<u8>>> {
    with_conn!(db, |conn| {
        Ok(import_uploads::table
            .find((job_id, seq))
            .select(import_uploads::data)
            .first(conn)
            .await
            .optional()?)
    })
}

/// The whole upload is stored: any server can carry the job on.
pub async fn set_settings(db: &Db, job_id: &str, settings: &str) -> StoreResult<()> {
    with_write!(db, |conn| {
        diesel::update(import_jobs::table.find(job_id))
            .set(import_jobs::settings.eq(Some(settings)))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// End `job` (DONE or FAILED, as it says) with the report of every row
/// its batches kept, and let its upload go; refused when another server
/// has taken it over. The job as written.
pub async fn end(db: &Db, mut job: ImportJob, instance: &str) -> StoreResult<ImportJob> {
    with_tx!(db, |conn| {
        let rows: Vec<ReportRow> = import_report_rows::table
            .filter(import_report_rows::job_id.eq(&job.id))
            .order((import_report_rows::row_index, import_report_rows::code))
            .select(ReportRow::as_select())
            .load(conn)
            .await?;
        job.report = serde_json::Value::Array(
            rows.iter()
                .map(|r| {
                    serde_json::json!({
                        "index": r.row_index,
                        "phone": r.phone,
                        "code": r.code,
                        "message": r.message,
                    })
                })
                .collect(),
        )
        .to_string();
        let ended = diesel::update(
            import_jobs::table
                .filter(import_jobs::id.eq(&job.id))
                .filter(import_jobs::instance_id.eq(instance))
                .filter(import_jobs::state.eq("RUNNING")),
        )
        .set((
            import_jobs::state.eq(&job.state),
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
        if ended == 0 {
            return Err(super::StoreError::LeaseLost(
                "the import was taken over by another server".into(),
            ));
        }
        diesel::delete(import_report_rows::table.filter(import_report_rows::job_id.eq(&job.id)))
            .execute(conn)
            .await?;
        diesel::delete(import_uploads::table.filter(import_uploads::job_id.eq(&job.id)))
            .execute(conn)
            .await?;
        Ok(job)
    })
}

/// Jobs left RUNNING by a server that is gone, now `me`'s: every one
/// (`alive_since` none: one server, starting), or — several servers
/// sharing the database — those whose server has not beaten since
/// `alive_since`. Each is taken by one server (the first to move it).
/// Those that can be carried on (their upload whole in the database) are
/// returned to be run; the others are FAILED (what they wrote stays
/// written; importing the file again merges by phone).
pub async fn take_orphans(
    db: &Db,
    me: &str,
    alive_since: Option<NaiveDateTime>,
) -> StoreResult<Vec<ImportJob>> {
    use super::schema::server_heartbeats;
    let orphans: Vec<(String, Option<String>)> = with_conn!(db, |conn| {
        let mut running = import_jobs::table
            .filter(import_jobs::state.eq("RUNNING"))
            .into_boxed();
        if let Some(since) = alive_since {
            running = running
                .filter(super::coalesce(import_jobs::instance_id, "").ne(me))
                .filter(
                    import_jobs::instance_id.is_null().or(diesel::dsl::not(
                        import_jobs::instance_id.eq_any(
                            server_heartbeats::table
                                .filter(server_heartbeats::beat_at.gt(since))
                                .select(server_heartbeats::instance_id.nullable()),
                        ),
                    )),
                );
        }
        let found: Vec<(String, Option<String>)> = running
            .select((import_jobs::id, import_jobs::instance_id))
            .load(conn)
            .await?;
        StoreResult::Ok(found)
    })?;
    let now = super::now();
    let mut taken = Vec::new();
    for (id, was) in orphans {
        let job = with_write!(db, |conn| {
            let moved = diesel::update(
                import_jobs::table
                    .filter(import_jobs::id.eq(&id))
                    .filter(import_jobs::state.eq("RUNNING"))
                    .filter(
                        super::coalesce(import_jobs::instance_id, "")
                            .eq(was.as_deref().unwrap_or("")),
                    ),
            )
            .set(import_jobs::instance_id.eq(me))
            .execute(conn)
            .await?;
            if moved == 0 {
                return StoreResult::Ok(None); // Another server took it first.
            }
            StoreResult::Ok(
                import_jobs::table
                    .find(&id)
                    .select(ImportJob::as_select())
                    .first(conn)
                    .await
                    .optional()?,
            )
        })?;
        let Some(mut job) = job else { continue };
        if job.settings.is_some() {
            taken.push(job);
            continue;
        }
        job.state = "FAILED".into();
        job.error = Some(
            "the server stopped before the whole upload was stored; rows of finished batches were kept: import the file again (rows already added merge by phone)"
                .into(),
        );
        job.finished_at = Some(now);
        end(db, job, me).await?;
    }
    Ok(taken)
}
