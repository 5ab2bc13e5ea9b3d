//! The review of the leads the claim passes over. The claim's SQL skips
//! leads it can judge without the gate (on the Do-Not-Call or invalid list,
//! out of attempts, locked out after an abandoned call, in a zone whose
//! window is closed), so they would leave no trace; the review asks the
//! gate about every waiting lead of each running campaign, in batches off
//! the engine's path, and writes a compliance-trail row (stage `review`)
//! each time a lead's verdict changes. A refused lead is not judged again
//! before its reason lifts. So an auditor's export of a campaign's trail
//! says why each lead was or was not dialed.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use super::facts::{OrgRules, campaign_facts, decide_under};
use crate::clock::Clock;
use crate::domain::eligibility::{LeadStatus, Verdict};
use crate::store::{self, Db, StoreError, claims, models};

/// How the review runs.
#[derive(Debug, Clone, Copy)]
pub struct ReviewConfig {
    /// Between passes over the running campaigns.
    pub interval: StdDuration,
    /// Leads judged per campaign per pass.
    pub batch: i64,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            interval: StdDuration::from_secs(5),
            batch: 200,
        }
    }
}

/// A lead judged eligible (but not yet claimed), or refused for a reason
/// with no set end, is judged again after this.
pub const ELIGIBLE_AGAIN: Duration = Duration::minutes(30);

/// What one pass over a campaign did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reviewed {
    pub judged: usize,
    /// Trail rows written (verdicts that changed).
    pub recorded: usize,
}

/// Judge up to `limit` waiting leads of `campaign` at `now`.
pub async fn review_campaign(
    db: &Db,
    campaign: &models::Campaign,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Reviewed, StoreError> {
    let state = store::campaigns::state_of(campaign)?;
    let settings = store::campaigns::settings_of(campaign)?;
    let facts = campaign_facts(state, &settings);
    let since = (now - ELIGIBLE_AGAIN).naive_utc();
    let leads = claims::to_review(db, &campaign.id, now.naive_utc(), since, limit).await?;
    let mut out = Reviewed::default();
    if leads.is_empty() {
        return Ok(out);
    }
    let org = OrgRules::load(db, &campaign.organization_id, now).await?;
    let mut entries = Vec::new();
    for lead in &leads {
        let status = LeadStatus::parse(&lead.status).unwrap_or(LeadStatus::New);
        let decision = decide_under(db, facts, lead, status, now, Default::default(), &org).await?;
        let code = decision.verdict.code();
        let refused = decision.verdict != Verdict::Eligible;
        // A refusal: not judged again (nor claimed) before it lifts; one
        // with no end in sight (a list, no zone, no attempts left) after
        // a while.
        let again = refused.then(|| {
            let lifts = decision.verdict.judge_again_at(now);
            match decision.verdict.until() {
                Some(_) => lifts,
                None => lifts.max(now + ELIGIBLE_AGAIN),
            }
            .naive_utc()
        });
        if !claims::judged(db, lead, code, again, now.naive_utc()).await? {
            continue; // claimed or changed meanwhile: the claim judges it
        }
        out.judged += 1;
        if refused && lead.last_verdict.as_deref() != Some(code) {
            entries.push(decision.trail_entry(lead, "review"));
        }
    }
    out.recorded = entries.len();
    store::trail::insert(db, &entries).await?;
    Ok(out)
}

/// One pass over every running campaign; `true` when a campaign had more
/// waiting than one batch.
pub async fn review_all(db: &Db, now: DateTime<Utc>, batch: i64) -> Result<bool, StoreError> {
    let mut more = false;
    for campaign in store::campaigns::running(db).await? {
        let done = review_campaign(db, &campaign, now, batch).await?;
        more |= done.judged as i64 >= batch;
    }
    Ok(more)
}

/// Run the review until the returned handle is dropped or aborted.
pub fn spawn(db: Db, clock: Clock, cfg: ReviewConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let pause = match review_all(&db, clock.now(), cfg.batch).await {
                // More waiting: go on soon, leaving the database to the
                // engine in between.
                Ok(true) => cfg.interval / 5,
                Ok(false) => cfg.interval,
                Err(e) => {
                    tracing::warn!("review of passed-over leads: {e}");
                    cfg.interval
                }
            };
            tokio::time::sleep(pause).await;
        }
    })
}
