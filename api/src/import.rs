//! Importing leads into a campaign: normalize every row, drop repeats of a
//! number within the batch and numbers the campaign already has, write the
//! accepted rows in one transaction, and report every refused or flagged
//! row. Used by `addLeads`, CSV uploads and the demo seed.

use std::collections::HashMap;

use crate::domain::lead::{self as dl, LeadInput, RowCode, RowIssue};
use crate::store::{self, Db, StoreError, models};

/// One refused or flagged row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowReport {
    /// 0-based position in the input.
    pub index: usize,
    /// The phone as given.
    pub phone: String,
    pub code: RowCode,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub merged: usize,
    pub rejected: Vec<RowReport>,
    pub warnings: Vec<RowReport>,
}

/// Normalize, dedupe and write one batch; the per-row report.
pub async fn import_rows(
    db: &Db,
    campaign: &models::Campaign,
    region: &str,
    rows: &[LeadInput],
) -> Result<ImportReport, StoreError> {
    let mut rejected = Vec::new();
    let mut warnings = Vec::new();
    let mut to_insert: Vec<(usize, models::Lead)> = Vec::with_capacity(rows.len());
    let mut seen = HashMap::new();
    let now = store::now();
    let row_result = |i: usize, phone: &str, issue: &RowIssue| RowReport {
        index: i,
        phone: phone.to_owned(),
        code: issue.code,
        message: issue.message.clone(),
    };
    for (i, input) in rows.iter().enumerate() {
        match dl::normalize(input, region) {
            Err(issue) => rejected.push(row_result(i, &input.phone, &issue)),
            Ok((lead, warning)) => {
                if let Some(first) = seen.get(&lead.phone) {
                    warnings.push(row_result(
                        i,
                        &input.phone,
                        &RowIssue {
                            code: RowCode::DuplicateMerged,
                            message: format!("same number as row {first}"),
                        },
                    ));
                    continue;
                }
                seen.insert(lead.phone.clone(), i);
                if let Some(w) = warning {
                    warnings.push(row_result(i, &input.phone, &w));
                }
                to_insert.push((
                    i,
                    models::Lead {
                        id: store::new_id(),
                        organization_id: campaign.organization_id.clone(),
                        campaign_id: campaign.id.clone(),
                        phone: lead.phone,
                        first_name: lead.first_name,
                        last_name: lead.last_name,
                        time_zone: lead.time_zone.map(|z| z.name().to_owned()),
                        custom_properties: serde_json::to_string(&lead.custom_properties)
                            .unwrap_or_else(|_| "[]".into()),
                        status: lead.status.as_str().to_owned(),
                        priority: 0,
                        attempts: 0,
                        not_before: None,
                        last_attempt_at: None,
                        last_outcome: None,
                        last_abandoned_at: None,
                        claimed_at: None,
                        claimed_from: None,
                        created_at: now,
                        updated_at: now,
                    },
                ));
            }
        }
    }
    let index_of: Vec<(usize, String)> = to_insert
        .iter()
        .map(|(i, l)| (*i, l.phone.clone()))
        .collect();
    let added =
        store::leads::insert_batch(db, to_insert.into_iter().map(|(_, l)| l).collect()).await?;
    for (i, phone) in &index_of {
        if !added.contains(phone) {
            warnings.push(RowReport {
                index: *i,
                phone: rows[*i].phone.clone(),
                code: RowCode::DuplicateMerged,
                message: format!("the campaign already has {phone}"),
            });
        }
    }
    warnings.sort_by_key(|w| w.index);
    let merged = warnings
        .iter()
        .filter(|w| w.code == RowCode::DuplicateMerged)
        .count();
    Ok(ImportReport {
        added: added.len(),
        merged,
        rejected,
        warnings,
    })
}

/// Which CSV columns hold the lead's own fields; `None` = recognize the
/// usual names (phone/number/mobile, first name, last name, time zone).
/// Every other column becomes a custom property, in file order.
#[derive(Debug, Clone, Default)]
pub struct CsvMapping {
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub time_zone: Option<String>,
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty: the first line must be a header row")]
    Empty,
    #[error("the header row is not valid UTF-8")]
    HeaderEncoding,
    #[error("no phone column: name one \"phone\" or map it (columns: {0})")]
    NoPhoneColumn(String),
    #[error("the mapped column {0:?} is not in the header")]
    MappedColumnMissing(String),
}

/// A parsed file: the rows to import and the rows refused while reading.
/// A row's index counts data rows from 0 (the first row after the header;
/// blank lines are skipped).
#[derive(Debug, Default)]
pub struct ParsedCsv {
    pub rows: Vec<CsvRow>,
    pub refused: Vec<RowReport>,
}

#[derive(Debug)]
pub struct CsvRow {
    pub index: usize,
    pub lead: LeadInput,
}

fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn find_column(
    header: &[String],
    mapped: Option<&str>,
    usual: &[&str],
) -> Result<Option<usize>, CsvError> {
    match mapped {
        Some(name) => header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
            .map(Some)
            .ok_or_else(|| CsvError::MappedColumnMissing(name.to_owned())),
        None => Ok(header
            .iter()
            .position(|h| usual.contains(&squash(h).as_str()))),
    }
}

/// Read a leads CSV: a header row, then one lead a row. Handles a UTF-8
/// BOM, CRLF line ends and quoted fields; a row with the wrong number of
/// fields or bytes that are not UTF-8 is refused on its own.
pub fn parse_leads_csv(bytes: &[u8], mapping: &CsvMapping) -> Result<ParsedCsv, CsvError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        _ => return Err(CsvError::Empty),
    };
    let header: Vec<String> = header
        .iter()
        .map(|f| std::str::from_utf8(f).map(|s| s.trim().to_owned()))
        .collect::<Result<_, _>>()
        .map_err(|_| CsvError::HeaderEncoding)?;
    let phone = find_column(
        &header,
        mapping.phone.as_deref(),
        &[
            "phone",
            "phonenumber",
            "number",
            "mobile",
            "tel",
            "telephone",
        ],
    )?
    .ok_or_else(|| CsvError::NoPhoneColumn(header.join(", ")))?;
    let first = find_column(
        &header,
        mapping.first_name.as_deref(),
        &["firstname", "first", "givenname"],
    )?;
    let last = find_column(
        &header,
        mapping.last_name.as_deref(),
        &["lastname", "last", "surname", "familyname"],
    )?;
    let zone = find_column(
        &header,
        mapping.time_zone.as_deref(),
        &["timezone", "tz", "zone"],
    )?;
    let own = [Some(phone), first, last, zone];
    let mut parsed = ParsedCsv::default();
    for (index, record) in records.enumerate() {
        let refuse = |code: RowCode, message: String, phone: String| RowReport {
            index,
            phone,
            code,
            message,
        };
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                parsed.refused.push(refuse(
                    RowCode::BadRow,
                    format!("unreadable row: {e}"),
                    String::new(),
                ));
                continue;
            }
        };
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let raw_phone = String::from_utf8_lossy(record.get(phone).unwrap_or_default()).into_owned();
        if record.len() != header.len() {
            parsed.refused.push(refuse(
                RowCode::BadRow,
                format!(
                    "the row has {} fields; the header has {}",
                    record.len(),
                    header.len()
                ),
                raw_phone,
            ));
            continue;
        }
        let fields: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
        let Ok(fields) = fields else {
            parsed.refused.push(refuse(
                RowCode::BadEncoding,
                "the row is not valid UTF-8: save the file as UTF-8".into(),
                raw_phone,
            ));
            continue;
        };
        let pick = |i: Option<usize>| i.and_then(|i| fields.get(i)).map(|s| (*s).to_owned());
        parsed.rows.push(CsvRow {
            index,
            lead: LeadInput {
                phone: fields[phone].to_owned(),
                first_name: pick(first),
                last_name: pick(last),
                time_zone: pick(zone).filter(|z| !z.trim().is_empty()),
                custom_properties: header
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !own.contains(&Some(*i)))
                    .map(|(i, name)| (name.clone(), fields[i].to_owned()))
                    .collect(),
            },
        });
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_messy_files_row_by_row() {
        let mut file = b"\xEF\xBB\xBFPhone,First Name,Plan,Notes,Time Zone\r\n".to_vec();
        file.extend_from_slice(b"212 555 0101,Ann,Gold,\"likes calls, mornings\",\r\n");
        file.extend_from_slice(b"212 555 0102,Bob,Silver\r\n");
        file.extend_from_slice(b"212 555 0103,Caf\xE9,Gold,x,\r\n");
        file.extend_from_slice(b"\r\n");
        file.extend_from_slice(b"+44 20 7946 0958,Dee,Bronze,,Europe/London\n");
        let parsed = parse_leads_csv(&file, &CsvMapping::default()).expect("parsed");
        assert_eq!(parsed.rows.len(), 2);
        let ann = &parsed.rows[0].lead;
        assert_eq!(parsed.rows[0].index, 0);
        assert_eq!(ann.phone, "212 555 0101");
        assert_eq!(ann.first_name.as_deref(), Some("Ann"));
        assert_eq!(ann.time_zone, None);
        assert_eq!(
            ann.custom_properties,
            vec![
                ("Plan".into(), "Gold".into()),
                ("Notes".into(), "likes calls, mornings".into())
            ]
        );
        assert_eq!(parsed.rows[1].index, 3, "blank lines are not rows");
        assert_eq!(
            parsed.rows[1].lead.time_zone.as_deref(),
            Some("Europe/London")
        );
        let refused: Vec<(usize, RowCode)> =
            parsed.refused.iter().map(|r| (r.index, r.code)).collect();
        assert_eq!(
            refused,
            vec![(1, RowCode::BadRow), (2, RowCode::BadEncoding)]
        );
    }

    #[test]
    fn header_problems_refuse_the_file() {
        assert_eq!(
            parse_leads_csv(b"", &CsvMapping::default()).unwrap_err(),
            CsvError::Empty
        );
        assert!(matches!(
            parse_leads_csv(b"name,plan\nAnn,Gold\n", &CsvMapping::default()).unwrap_err(),
            CsvError::NoPhoneColumn(_)
        ));
        let mapped = CsvMapping {
            phone: Some("Cell".into()),
            ..Default::default()
        };
        let parsed = parse_leads_csv(b"Name,Cell\nAnn,2125550101\n", &mapped).expect("mapped");
        assert_eq!(parsed.rows[0].lead.phone, "2125550101");
        assert_eq!(
            parsed.rows[0].lead.custom_properties,
            vec![("Name".into(), "Ann".into())]
        );
        let missing = CsvMapping {
            phone: Some("Mobile".into()),
            ..Default::default()
        };
        assert!(matches!(
            parse_leads_csv(b"Cell\n1\n", &missing),
            Err(CsvError::MappedColumnMissing(_))
        ));
    }
}

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
