//! Running a CSV import as a job: the file read and written batch by batch
//! (one transaction each), progress saved (and announced) after every
//! batch.

use std::io::{Read, Seek};

use super::{ImportReport, LeadsCsv, RowReport, import_rows_then};
use crate::domain::lead::LeadInput;
use crate::store::{self, Db, StoreError, models};

/// Rows written per transaction in a CSV import.
pub const CSV_BATCH: usize = 5_000;

/// Import a CSV into `campaign` as job `job` (this server's, `instance`),
/// reading and writing it batch by batch (the file is never whole in
/// memory); each batch is written with its mark on the job (counts,
/// report rows, batches done) in one transaction, and `on_progress` told
/// after it. The batches the job already did (carried on from a server
/// that died) are read past, not written again. Returns the finished job;
/// `LeaseLost` when another server has taken the job over.
#[allow(clippy::too_many_arguments)]
pub async fn run_csv_job<R: Read + Seek + Send + 'static>(
    db: &Db,
    instance: &str,
    campaign: &models::Campaign,
    region: &str,
    fictional_ok: bool,
    mut job: store::imports::ImportJob,
    csv: LeadsCsv<R>,
    on_progress: impl Fn(&store::imports::ImportJob),
) -> Result<store::imports::ImportJob, StoreError> {
    let mut csv = Some(csv);
    let mut batch_no = 0;
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
                return fail(db, instance, job, why, &on_progress).await;
            }
        };
        if batch.is_empty() && refused.is_empty() {
            break;
        }
        csv = Some(reader);
        batch_no += 1;
        if batch_no <= job.batches_done {
            continue; // Written before this server took the job over.
        }
        let inputs: Vec<LeadInput> = batch.iter().map(|r| r.lead.clone()).collect();
        let mark = |r: &ImportReport| checkpoint(&job, instance, &batch, &refused, r);
        match import_rows_then(db, campaign, region, &inputs, fictional_ok, Some(mark)).await {
            Ok((_, Some(cp))) => job = cp.job,
            Ok((_, None)) => {}
            Err(e @ StoreError::LeaseLost(_)) => return Err(e),
            Err(e) => {
                let why = format!(
                    "stopped after {} rows: {e}; the rows before were kept",
                    job.processed_rows
                );
                return fail(db, instance, job, why, &on_progress).await;
            }
        }
        on_progress(&job);
    }
    job.state = "DONE".into();
    job.finished_at = Some(store::now());
    let job = end(db, instance, job).await?;
    on_progress(&job);
    Ok(job)
}

/// `job` after one more batch: `batch` read (with `refused` turned away
/// by the reader) and written as `written` says.
fn checkpoint(
    job: &store::imports::ImportJob,
    instance: &str,
    batch: &[super::CsvRow],
    refused: &[RowReport],
    written: &ImportReport,
) -> store::imports::Checkpoint {
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let row = |index: usize, r: &RowReport| store::imports::ReportRow {
        job_id: job.id.clone(),
        row_index: count(index),
        code: r.code.as_str().to_owned(),
        phone: r.phone.clone(),
        message: r.message.clone(),
    };
    // `written` counts rows by their place in the batch; the report says
    // their place in the file.
    let in_file = |r: &RowReport| batch.get(r.index).map_or(r.index, |b| b.index);
    let rows = refused
        .iter()
        .map(|r| row(r.index, r))
        .chain(
            written
                .rejected
                .iter()
                .chain(&written.warnings)
                .map(|r| row(in_file(r), r)),
        )
        .collect();
    let mut next = job.clone();
    next.rejected += count(refused.len() + written.rejected.len());
    next.processed_rows += count(refused.len() + batch.len());
    next.added += count(written.added);
    next.merged += count(written.merged);
    next.warned += count(written.warnings.len());
    next.batches_done += 1;
    store::imports::Checkpoint {
        job: next,
        instance: instance.to_owned(),
        rows,
    }
}

/// End the job FAILED with `why`, keeping its report so far.
async fn fail(
    db: &Db,
    instance: &str,
    mut job: store::imports::ImportJob,
    why: String,
    on_progress: &impl Fn(&store::imports::ImportJob),
) -> Result<store::imports::ImportJob, StoreError> {
    job.state = "FAILED".into();
    job.error = Some(why);
    job.finished_at = Some(store::now());
    // Watchers learn at once; the record follows when the database takes
    // writes again (a full disk is the likeliest reason to be here).
    on_progress(&job);
    end(db, instance, job).await
}

/// Write the job's end, trying again while the database cannot take it.
async fn end(
    db: &Db,
    instance: &str,
    job: store::imports::ImportJob,
) -> Result<store::imports::ImportJob, StoreError> {
    let mut wait = std::time::Duration::from_millis(250);
    let mut waited = std::time::Duration::ZERO;
    loop {
        match store::imports::end(db, job.clone(), instance).await {
            Ok(job) => return Ok(job),
            Err(e) if e.outage().is_some() && waited < SAVE_FAILED_WITHIN => {
                tracing::warn!(job = %job.id, "recording the end of an import: {e}; trying again");
                tokio::time::sleep(wait).await;
                waited += wait;
                wait = (wait * 2).min(std::time::Duration::from_secs(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// How long a job's end is retried before it is left to the next start
/// (which carries jobs left RUNNING on).
const SAVE_FAILED_WITHIN: std::time::Duration = std::time::Duration::from_secs(120);
