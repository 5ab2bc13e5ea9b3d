//! Importing leads into a campaign: normalize every row, drop repeats of a
//! number within the batch and numbers the campaign already has, write the
//! accepted rows in one transaction, and report every refused or flagged
//! row. Used by `addLeads`, CSV uploads and the demo seed.

use std::collections::HashMap;

pub mod columns;
mod csv;
mod job;
pub mod jobs;

pub use csv::{CsvError, CsvMapping, CsvRow, LeadsCsv, ParsedCsv, parse_leads_csv};
pub use job::{CSV_BATCH, run_csv_job};
pub use jobs::{Jobs, Spooled};

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
    fictional_ok: bool,
) -> Result<ImportReport, StoreError> {
    let none = None::<fn(&ImportReport) -> store::imports::Checkpoint>;
    Ok(
        import_rows_then(db, campaign, region, rows, fictional_ok, none)
            .await?
            .0,
    )
}

/// [`import_rows`], with the import job's checkpoint `then` makes of the
/// batch's report written in the batch's transaction.
pub async fn import_rows_then<F>(
    db: &Db,
    campaign: &models::Campaign,
    region: &str,
    rows: &[LeadInput],
    fictional_ok: bool,
    then: Option<F>,
) -> Result<(ImportReport, Option<store::imports::Checkpoint>), StoreError>
where
    F: FnOnce(&ImportReport) -> store::imports::Checkpoint + Send,
{
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
    let allowed = crate::domain::phone::Allowed {
        toll_free: store::campaigns::settings_of(campaign)?.allow_toll_free,
        fictional: fictional_ok,
    };
    let mut consents: Vec<models::Consent> = Vec::new();
    for (i, input) in rows.iter().enumerate() {
        let checked = dl::normalize(input, region, allowed).and_then(|(lead, warning)| {
            let consent = dl::normalize_consent(&input.consent, now.and_utc())?;
            Ok((lead, warning, consent))
        });
        match checked {
            Err(issue) => rejected.push(row_result(i, &input.phone, &issue)),
            Ok((lead, warning, consent)) => {
                // The consent is the number's, whether or not this row
                // adds a lead (a duplicate still brings it, naming no lead).
                let lead_id = store::new_id();
                let duplicate = seen.get(&lead.phone).copied();
                if let Some(c) = consent {
                    consents.push(models::Consent {
                        id: store::new_id(),
                        organization_id: campaign.organization_id.clone(),
                        phone: lead.phone.clone(),
                        kind: c.kind.as_str().to_owned(),
                        at: c.at.naive_utc(),
                        method: c.method,
                        source: if c.source.is_empty() {
                            format!("lead import, campaign {}", campaign.name)
                        } else {
                            c.source
                        },
                        lead_id: duplicate.is_none().then(|| lead_id.clone()),
                        call_id: None,
                        created_by: None,
                        created_at: now,
                    });
                }
                if let Some(first) = duplicate {
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
                        id: lead_id,
                        organization_id: campaign.organization_id.clone(),
                        campaign_id: campaign.id.clone(),
                        phone: lead.phone,
                        first_name: lead.first_name,
                        last_name: lead.last_name,
                        time_zone: lead.time_zone.map(|z| z.name().to_owned()),
                        region: lead.region,
                        time_zone_verified: lead.time_zone_verified,
                        last_verdict: None,
                        judged_at: None,
                        custom_properties: serde_json::to_string(&lead.custom_properties)
                            .unwrap_or_else(|_| "[]".into()),
                        status: lead.status.as_str().to_owned(),
                        priority: 0,
                        attempts: 0,
                        not_before: None,
                        last_attempt_at: None,
                        last_outcome: None,
                        last_abandoned_at: None,
                        callback_agent_id: None,
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
    let report_of = |added: &std::collections::HashSet<String>| {
        let mut warnings = warnings.clone();
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
        ImportReport {
            added: added.len(),
            merged,
            rejected: rejected.clone(),
            warnings,
        }
    };
    let (added, checkpoint) = store::leads::insert_batch_then(
        db,
        to_insert.into_iter().map(|(_, l)| l).collect(),
        consents,
        then.map(|then| |added: &std::collections::HashSet<String>| then(&report_of(added))),
    )
    .await?;
    Ok((report_of(&added), checkpoint))
}
