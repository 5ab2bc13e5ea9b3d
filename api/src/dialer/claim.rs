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

/// Claim up to `n` leads of `campaign` that the gate allows at `now`.
pub async fn claim_eligible(
    db: &Db,
    campaign: &models::Campaign,
    now: DateTime<Utc>,
    n: usize,
) -> Result<Vec<models::Lead>, StoreError> {
    let state = store::campaigns::state_of(campaign)?;
    if state != CampaignState::Running || n == 0 {
        return Ok(Vec::new());
    }
    let settings = store::campaigns::settings_of(campaign)?;
    let facts = campaign_facts(state, &settings);
    let open_zones: Vec<String> = claims::zones_of_campaign(db, &campaign.id)
        .await?
        .into_iter()
        .filter(|z| {
            z.parse::<Tz>()
                .is_ok_and(|tz| facts.window.is_open_for(tz, now, facts.ring_timeout))
        })
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
    };
    let claimed = claims::claim(db, &spec).await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let org = OrgRules::load(db, &campaign.organization_id, now).await?;
    let mut allowed = Vec::with_capacity(claimed.len());
    let mut entries = Vec::with_capacity(claimed.len());
    for lead in claimed {
        let before = lead
            .claimed_from
            .as_deref()
            .and_then(LeadStatus::parse)
            .unwrap_or(LeadStatus::New);
        let decision = decide_under(db, facts, &lead, before, now, None, &org).await?;
        entries.push(decision.trail_entry(&lead, "claim"));
        if decision.verdict == Verdict::Eligible {
            allowed.push(lead);
        } else {
            // Back with the time it may be judged again.
            let retry = decision.verdict.judge_again_at(now);
            let code = decision.verdict.code();
            let judged = Some((code, now.naive_utc()));
            claims::release(db, &lead.id, Some(retry.naive_utc()), judged).await?;
        }
    }
    store::trail::insert(db, &entries).await?;
    Ok(allowed)
}
