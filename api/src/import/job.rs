//! Running a CSV import as a job: batches of rows written one transaction
//! each, progress saved (and announced) after every batch.

use super::{ParsedCsv, RowReport, import_rows};
use crate::domain::lead::LeadInput;
use crate::store::{self, Db, StoreError, models};

/// Rows written per transaction in a CSV import.
pub const CSV_BATCH: usize = 5_000;

/// Import a parsed CSV into `campaign` as job `job`, batch by batch; the
/// job row carries the progress (and `on_progress` is told after each
/// batch). Returns the finished job.
pub async fn run_csv_job(
    db: &Db,
    campaign: &models::Campaign,
    region: &str,
    mut job: store::imports::ImportJob,
    parsed: ParsedCsv,
    on_progress: impl Fn(&store::imports::ImportJob),
) -> Result<store::imports::ImportJob, StoreError> {
    let mut report: Vec<RowReport> = parsed.refused;
    job.rejected = i32::try_from(report.len()).unwrap_or(i32::MAX);
    job.processed_rows = job.rejected;
    for batch in parsed.rows.chunks(CSV_BATCH) {
        let inputs: Vec<LeadInput> = batch.iter().map(|r| r.lead.clone()).collect();
        let result = import_rows(db, campaign, region, &inputs).await;
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                job.state = "FAILED".into();
                job.error = Some(format!(
                    "stopped after {} rows: {e}; the rows before were kept",
                    job.processed_rows
                ));
                job.finished_at = Some(store::now());
                job.report = report_json(&mut report);
                store::imports::save(db, &job).await?;
                on_progress(&job);
                return Ok(job);
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
