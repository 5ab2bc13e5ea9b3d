//! Running a CSV import as a job: the file read and written batch by batch
//! (one transaction each), progress saved (and announced) after every
//! batch.

use std::io::{Read, Seek};

use super::{LeadsCsv, RowReport, import_rows};
use crate::domain::lead::LeadInput;
use crate::store::{self, Db, StoreError, models};

/// Rows written per transaction in a CSV import.
pub const CSV_BATCH: usize = 5_000;

/// Import a CSV into `campaign` as job `job`, reading and writing it
/// batch by batch (the file is never whole in memory); the job row carries
/// the progress (and `on_progress` is told after each batch). Returns the
/// finished job.
pub async fn run_csv_job<R: Read + Seek + Send + 'static>(
    db: &Db,
    campaign: &models::Campaign,
    region: &str,
    fictional_ok: bool,
    mut job: store::imports::ImportJob,
    csv: LeadsCsv<R>,
    on_progress: impl Fn(&store::imports::ImportJob),
) -> Result<store::imports::ImportJob, StoreError> {
    let mut report: Vec<RowReport> = Vec::new();
    let mut csv = Some(csv);
    while let Some(reader) = csv.take() {
        // Reading is file IO and parsing: off the async threads.
        let read = tokio::task::spawn_blocking(move || {
            let mut reader = reader;
            let batch = reader.next_batch(CSV_BATCH);
            (reader, batch)
        })
        .await;
        let (reader, (batch, refused)) = match read {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "reading an import's file");
                let why = "the file could not be read to the end".to_owned();
                return fail(db, job, &mut report, why, &on_progress).await;
            }
        };
        if batch.is_empty() && refused.is_empty() {
            break;
        }
        csv = Some(reader);
        let refused_rows = i32::try_from(refused.len()).unwrap_or(i32::MAX);
        job.rejected += refused_rows;
        job.processed_rows += refused_rows;
        report.extend(refused);
        if !batch.is_empty() {
            let inputs: Vec<LeadInput> = batch.iter().map(|r| r.lead.clone()).collect();
            let outcome = match import_rows(db, campaign, region, &inputs, fictional_ok).await {
                Ok(o) => o,
                Err(e) => {
                    let why = format!(
                        "stopped after {} rows: {e}; the rows before were kept",
                        job.processed_rows
                    );
                    return fail(db, job, &mut report, why, &on_progress).await;
                }
            };
            let remap = |mut r: RowReport| {
                r.index = batch[r.index].index;
                r
            };
            job.added += i32::try_from(outcome.added).unwrap_or(0);
            job.merged += i32::try_from(outcome.merged).unwrap_or(0);
            job.rejected += i32::try_from(outcome.rejected.len()).unwrap_or(0);
            job.warned += i32::try_from(outcome.warnings.len()).unwrap_or(0);
            job.processed_rows += i32::try_from(batch.len()).unwrap_or(0);
            report.extend(outcome.rejected.into_iter().map(remap));
            report.extend(outcome.warnings.into_iter().map(remap));
        }
        store::imports::save(db, &job).await?;
        on_progress(&job);
    }
    job.state = "DONE".into();
    job.finished_at = Some(store::now());
    job.report = report_json(&mut report);
    store::imports::save(db, &job).await?;
    on_progress(&job);
    Ok(job)
}

/// End the job FAILED with `why`, keeping its report so far.
async fn fail(
    db: &Db,
    mut job: store::imports::ImportJob,
    report: &mut [RowReport],
    why: String,
    on_progress: &impl Fn(&store::imports::ImportJob),
) -> Result<store::imports::ImportJob, StoreError> {
    job.state = "FAILED".into();
    job.error = Some(why);
    job.finished_at = Some(store::now());
    job.report = report_json(report);
    // Watchers learn at once; the record follows when the database takes
    // writes again (a full disk is the likeliest reason to be here).
    on_progress(&job);
    let mut wait = std::time::Duration::from_millis(250);
    let mut waited = std::time::Duration::ZERO;
    loop {
        match store::imports::save(db, &job).await {
            Ok(()) => return Ok(job),
            Err(e) if e.outage().is_some() && waited < SAVE_FAILED_WITHIN => {
                tracing::warn!(job = %job.id, "recording the failed import: {e}; trying again");
                tokio::time::sleep(wait).await;
                waited += wait;
                wait = (wait * 2).min(std::time::Duration::from_secs(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// How long a failed import's record is retried before it is left to the
/// next start (which marks jobs left RUNNING as interrupted).
const SAVE_FAILED_WITHIN: std::time::Duration = std::time::Duration::from_secs(120);

fn report_json(report: &mut [RowReport]) -> String {
    report.sort_by_key(|r| r.index);
    let rows: Vec<serde_json::Value> = report
        .iter()
        .map(|r| {
            serde_json::json!({
                "index": r.index,
                "phone": r.phone,
                "code": r.code.as_str(),
                "message": r.message,
            })
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}
