//! Claiming the next eligible leads of a running campaign: the store claims
//! what SQL can judge (status, due time, attempts, abandon lockout, open
//! zones, DNC and invalid lists), the eligibility gate judges each claimed
//! lead on every rule, refused leads go back with the time they may be
//! tried again, and every decision lands in the compliance trail.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::facts::{OrgRules, campaign_facts, decide_under};
use crate::domain::campaign::{ABANDON_LOCKOUT, CampaignState, DialMode};
use crate::domain::eligibility::{LeadStatus, Verdict};
use crate::store::{self, Db, StoreError, claims, models};

/// A claim that failed after leads were taken: they are still DIALING and
/// must go back (when the database takes writes again), each with the
/// time it may be tried.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Stranded {
    pub leads: Vec<(String, Option<chrono::NaiveDateTime>)>,
    pub error: StoreError,
}

impl From<StoreError> for Stranded {
    fn from(error: StoreError) -> Self {
        Stranded {
            leads: Vec::new(),
            error,
        }
    }
}

/// Claim up to `n` leads of `campaign` that the gate allows at `now`.
pub async fn claim_eligible(
    db: &Db,
    campaign: &models::Campaign,
    now: DateTime<Utc>,
    n: usize,
) -> Result<Vec<models::Lead>, Stranded> {
    let zones = claims::zones_of_campaign(db, &campaign.id).await?;
    claim_eligible_in(db, campaign, now, n, &zones, None).await
}

/// [`claim_eligible`] given the zones the campaign's leads are in (the
/// engine keeps them: reading them scans every lead of the campaign).
pub async fn claim_eligible_in(
    db: &Db,
    campaign: &models::Campaign,
    now: DateTime<Utc>,
    n: usize,
    zones: &[String],
    fence: Option<&store::calls::Fence>,
) -> Result<Vec<models::Lead>, Stranded> {
    let state = store::campaigns::state_of(campaign)?;
    if state != CampaignState::Running || n == 0 {
        return Ok(Vec::new());
    }
    let settings = store::campaigns::settings_of(campaign)?;
    let facts = campaign_facts(state, &settings);
    let open_zones: Vec<String> = zones
        .iter()
        .filter(|z| {
            z.parse::<Tz>()
                .is_ok_and(|tz| facts.window.is_open_for(tz, now, facts.ring_timeout))
        })
        .cloned()
        .collect();
    let spec = claims::ClaimSpec {
        organization_id: &campaign.organization_id,
        campaign_id: &campaign.id,
        now: now.naive_utc(),
        open_zones: &open_zones,
        max_attempts: i32::try_from(settings.max_attempts).unwrap_or(i32::MAX),
        abandoned_after: (settings.dial_mode == DialMode::Predictive)
            .then(|| (now - ABANDON_LOCKOUT).naive_utc()),
        limit: n,
        fence,
    };
    let claimed = claims::claim(db, &spec).await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    // From here on, a failure leaves leads DIALING: the caller gets them
    // back to release.
    let stranded = |leads: &[models::Lead], error: StoreError| Stranded {
        leads: leads.iter().map(|l| (l.id.clone(), l.not_before)).collect(),
        error,
    };
    let org = match OrgRules::load(db, &campaign.organization_id, now).await {
        Ok(org) => org,
        Err(e) => return Err(stranded(&claimed, e)),
    };
    let mut allowed = Vec::with_capacity(claimed.len());
    let mut entries = Vec::with_capacity(claimed.len());
    for (i, lead) in claimed.iter().enumerate() {
        let before = lead
            .claimed_from
            .as_deref()
            .and_then(LeadStatus::parse)
            .unwrap_or(LeadStatus::New);
        let decision =
            match decide_under(db, facts, lead, before, now, Default::default(), &org).await {
                Ok(d) => d,
                Err(e) => {
                    let mut left = allowed.clone();
                    left.extend_from_slice(&claimed[i..]);
                    return Err(stranded(&left, e));
                }
            };
        entries.push(decision.trail_entry(lead, "claim"));
        if decision.verdict == Verdict::Eligible {
            allowed.push(lead.clone());
        } else {
            // Back with the time it may be judged again.
            let retry = decision.verdict.judge_again_at(now);
            let code = decision.verdict.code();
            let judged = Some((code, now.naive_utc()));
            if let Err(e) = claims::release(db, &lead.id, Some(retry.naive_utc()), judged).await {
                let mut left = allowed.clone();
                left.extend_from_slice(&claimed[i..]);
                let mut out = stranded(&left, e);
                if let Some(l) = out.leads.iter_mut().find(|l| l.0 == lead.id) {
                    l.1 = Some(retry.naive_utc());
                }
                return Err(out);
            }
        }
    }
    // No call without the decision on record.
    if let Err(e) = store::trail::insert(db, &entries).await {
        return Err(stranded(&allowed, e));
    }
    Ok(allowed)
}
