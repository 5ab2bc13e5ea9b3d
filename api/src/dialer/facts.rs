//! Gathering what the eligibility gate needs to know about a lead, from the
//! store, and writing it down for the compliance trail.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde_json::json;

use crate::domain::campaign::{CampaignSettings, CampaignState};
use crate::domain::consent::Standing;
use crate::domain::eligibility::{
    CampaignFacts, LeadFacts, LeadStatus, ListFacts, NumberFacts, Verdict, gate,
    number_history_window,
};
use crate::domain::jurisdiction::{Law, Rule, jurisdictions_of, rulebook};
use crate::domain::phone::{Refused, also_zones, refused_as_lead};
use crate::domain::window::week_text;
use crate::store::{self, Db, StoreError, models};

/// Everything the gate used for one decision, owned.
#[derive(Debug, Clone)]
pub struct Decision {
    pub verdict: Verdict,
    pub time_zone: Option<Tz>,
    pub lists: ListFacts,
    pub status: LeadStatus,
    pub recent_attempts: Vec<DateTime<Utc>>,
    /// The organization's calls to the number (per-number rules).
    pub number_in_call: bool,
    pub number_last_abandoned_at: Option<DateTime<Utc>>,
    pub number_calls: Vec<DateTime<Utc>>,
    pub campaign: CampaignFacts,
    pub now: DateTime<Utc>,
    /// The called party's jurisdictions whose rules applied.
    pub jurisdictions: Vec<String>,
    /// Other zones whose clocks had to allow the call.
    pub also_zones: Vec<Tz>,
    /// The number's consent at the decision.
    pub consent: Standing,
    /// The organization's policy revision in force (0: the default).
    pub policy_revision: u32,
}

impl Decision {
    /// The compliance-trail entry for this decision about `lead`; `stage`
    /// says when it was taken (claim, pre-dial, manual).
    pub fn trail_entry(&self, lead: &models::Lead, stage: &str) -> store::trail::TrailEntry {
        let mut facts = self.facts_json(lead);
        facts["stage"] = json!(stage);
        store::trail::TrailEntry {
            id: store::new_id(),
            organization_id: lead.organization_id.clone(),
            campaign_id: lead.campaign_id.clone(),
            lead_id: lead.id.clone(),
            phone: lead.phone.clone(),
            at: self.now.naive_utc(),
            verdict: self.verdict.code().to_owned(),
            allowed: self.verdict == Verdict::Eligible,
            facts: facts.to_string(),
        }
    }

    /// The facts as a JSON object for the compliance trail.
    pub fn facts_json(&self, lead: &models::Lead) -> serde_json::Value {
        let local = self.time_zone.map(|tz| {
            self.now
                .with_timezone(&tz)
                .format("%a %Y-%m-%d %H:%M:%S")
                .to_string()
        });
        let today = self.time_zone.map(|tz| {
            let d = self.now.with_timezone(&tz).date_naive();
            self.recent_attempts
                .iter()
                .filter(|t| t.with_timezone(&tz).date_naive() == d)
                .count()
        });
        let w = self.campaign.window;
        json!({
            "verdict": self.verdict.code(),
            "until": self.verdict.until().map(|t| t.to_rfc3339()),
            "checkedAt": self.now.to_rfc3339(),
            "timeZone": self.time_zone.map(|tz| tz.name()),
            "timeZoneVerified": lead.time_zone_verified,
            "alsoZones": self.also_zones.iter().map(|z| z.name()).collect::<Vec<_>>(),
            "localTime": local,
            "window": {
                "days": w.days().iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                "start": w.earliest_start().format("%H:%M").to_string(),
                "end": w.latest_end().format("%H:%M").to_string(),
                "hours": week_text(&w.week()),
            },
            "ringTimeoutSeconds": self.campaign.ring_timeout.num_seconds(),
            "dnc": self.lists.do_not_call,
            "invalid": self.lists.invalid,
            "status": self.status.as_str(),
            "attempts": lead.attempts,
            "maxAttempts": self.campaign.max_attempts,
            "attemptsToday": today,
            "maxAttemptsPerDay": self.campaign.max_attempts_per_day,
            "notBefore": lead.not_before.map(|t| t.and_utc().to_rfc3339()),
            "lastAbandonedAt": lead.last_abandoned_at.map(|t| t.and_utc().to_rfc3339()),
            "number": {
                "inCall": self.number_in_call,
                "lastAbandonedAt": self.number_last_abandoned_at.map(|t| t.to_rfc3339()),
                "callsLast24h": self
                    .number_calls
                    .iter()
                    .filter(|t| self.now - **t < Duration::hours(24))
                    .count(),
            },
            "dialMode": self.campaign.dial_mode.as_str(),
            "consent": {
                "kind": self.consent.kind.as_str(),
                "givenAt": self.consent.given_at.map(|t| t.to_rfc3339()),
                "revokedAt": self.consent.revoked_at.map(|t| t.to_rfc3339()),
                "campaignAsks": self.campaign.consent.as_str(),
            },
            "law": {
                "version": rulebook().version,
                "jurisdictions": self.jurisdictions,
                "organizationPolicy": self.policy_revision,
                "rule": self.verdict.rule().map(|r| json!({
                    "jurisdiction": r.jurisdiction,
                    "citation": r.citation,
                    "summary": r.summary,
                    "source": r.source,
                    "holiday": r.holiday,
                })),
            },
        })
    }
}

pub fn campaign_facts(state: CampaignState, s: &CampaignSettings) -> CampaignFacts {
    CampaignFacts {
        state,
        dial_mode: s.dial_mode,
        window: s.calling_window,
        ring_timeout: Duration::seconds(s.ring_timeout_secs.into()),
        max_attempts: s.max_attempts,
        max_attempts_per_day: s.max_attempts_per_day,
        consent: s.automated_consent,
        allow_toll_free: s.allow_toll_free,
    }
}

/// Ask the gate about `lead` at `now`. `status` is the lead's status as the
/// gate should see it (for a lead just claimed: the status before the claim).
/// `placing`: the call about to be placed to it, which its number's history
/// leaves out.
/// The call a decision is for, when it is about to be placed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Placing<'a> {
    /// Its id (left out of the number's history).
    pub call_id: Option<&'a str>,
    /// Another call to the number is live in this process though not
    /// written yet (another contact center's).
    pub busy_here: bool,
}

pub async fn decide(
    db: &Db,
    campaign: CampaignFacts,
    lead: &models::Lead,
    status: LeadStatus,
    now: DateTime<Utc>,
    placing: Placing<'_>,
) -> Result<Decision, StoreError> {
    let org = OrgRules::load(db, &lead.organization_id, now).await?;
    decide_under(db, campaign, lead, status, now, placing, &org).await
}

/// The organization's own rules in force at an instant, read once for a
/// batch of decisions (a claim, a review pass) rather than per lead.
#[derive(Debug, Clone)]
pub struct OrgRules {
    /// The policy revision (0: the default).
    pub revision: u32,
    pub rules: Vec<Rule>,
}

impl OrgRules {
    pub async fn load(
        db: &Db,
        organization_id: &str,
        now: DateTime<Utc>,
    ) -> Result<OrgRules, StoreError> {
        let policy = store::policies::in_force(db, organization_id, now).await?;
        Ok(OrgRules {
            revision: policy.revision,
            rules: policy.rules(),
        })
    }
}

/// [`decide`] under the organization's rules `org`, read beforehand.
pub async fn decide_under(
    db: &Db,
    campaign: CampaignFacts,
    lead: &models::Lead,
    status: LeadStatus,
    now: DateTime<Utc>,
    placing: Placing<'_>,
    org: &OrgRules,
) -> Result<Decision, StoreError> {
    let time_zone = lead.time_zone.as_deref().and_then(|z| z.parse::<Tz>().ok());
    let jurisdictions = jurisdictions_of(&lead.phone, lead.region.as_deref());
    let book = rulebook();
    let rules = book.rules_with(&jurisdictions, &org.rules);
    let law = Law {
        version: &book.version,
        rules: &rules,
    };
    let since = (now - Duration::hours(48)).naive_utc();
    // The four reads are independent: one round trip's wait, not four
    // (this runs on the dialer's path, before every call).
    let (lists, attempts, number, (consent, _)) = tokio::try_join!(
        store::lists::verdicts(db, &lead.organization_id, &lead.phone),
        store::trail::attempts_since(db, &lead.id, since),
        store::calls::number_history(
            db,
            &lead.organization_id,
            &lead.phone,
            (now - number_history_window(&law)).naive_utc(),
            placing.call_id,
        ),
        store::consents::standing_of(db, &lead.organization_id, &lead.phone, now),
    )?;
    let mut number = number;
    number.in_call |= placing.busy_here;
    let recent_attempts: Vec<DateTime<Utc>> = attempts.into_iter().map(|t| t.and_utc()).collect();
    let number_calls: Vec<DateTime<Utc>> = number.placed.iter().map(|t| t.and_utc()).collect();
    let number_last_abandoned_at = number.last_abandoned_at.map(|t| t.and_utc());
    let also_zones = also_zones(&lead.phone, time_zone, lead.time_zone_verified);
    let facts = LeadFacts {
        status,
        time_zone,
        also_zones: &also_zones,
        attempts: u32::try_from(lead.attempts).unwrap_or(u32::MAX),
        recent_attempts: &recent_attempts,
        not_before: lead.not_before.map(|t| t.and_utc()),
        last_abandoned_at: lead.last_abandoned_at.map(|t| t.and_utc()),
        number: NumberFacts {
            in_call: number.in_call,
            last_abandoned_at: number_last_abandoned_at,
            recent_calls: &number_calls,
        },
        law,
        consent: consent.kind,
        // Fictional numbers are the carrier's to refuse: the simulator
        // "dials" them, a real trunk never does (media::sip).
        refused_type: refused_as_lead(&lead.phone).filter(|r| *r != Refused::Fictional),
    };
    let verdict = gate(&facts, &campaign, lists, now);
    Ok(Decision {
        verdict,
        time_zone,
        lists,
        status,
        recent_attempts,
        number_in_call: number.in_call,
        number_last_abandoned_at,
        number_calls,
        campaign,
        now,
        jurisdictions,
        also_zones,
        consent,
        policy_revision: org.revision,
    })
}
