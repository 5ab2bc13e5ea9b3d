//! Compliance for supervisors: why a lead is or is not dialable right now
//! (`eligibility`), and the trail of every claim decision
//! (`complianceTrail`; CSV at `/exports/compliance-trail.csv`).

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::dialer::facts::{campaign_facts, decide};
use crate::domain::eligibility::{LeadStatus, Verdict};
use crate::domain::identity::Role;
use crate::domain::jurisdiction::rulebook;
use crate::store::{self, trail::TrailEntry};

use super::access::require_role;
use super::campaign_api::{load_campaign, load_lead};
use super::connection::{Cursor, connection, page_args};
use super::error::{ApiError, ApiResult};
use super::{actor, app};

/// Whether a lead may be dialed now, and if not, why.
#[derive(SimpleObject)]
pub struct Eligibility {
    pub eligible: bool,
    /// ELIGIBLE, CAMPAIGN_NOT_RUNNING, DNC, INVALID, IN_PROGRESS, FINISHED,
    /// NUMBER_TYPE, NEEDS_TIME_ZONE, NO_CONSENT, DIAL_MODE, NUMBER_IN_CALL,
    /// MAX_ATTEMPTS,
    /// ABANDON_LOCKOUT, RETRY_NOT_DUE, NUMBER_CAP, DAILY_LIMIT,
    /// OUTSIDE_WINDOW.
    pub reason: String,
    /// The rule of the called party's jurisdiction that decided, when a
    /// law did (not the campaign's own settings).
    pub rule: Option<ComplianceRule>,
    /// The called party's jurisdictions whose rules were applied: the
    /// number's country, its area code's state or province, the address's.
    pub jurisdictions: Vec<String>,
    /// The version of the calling-rules table in force.
    pub rules_version: String,
    /// One line, in the lead's local time.
    pub explanation: String,
    /// When the reason lifts by itself, if it does.
    pub until: Option<DateTime<Utc>>,
    pub checked_at: DateTime<Utc>,
    /// The facts the gate used, as a JSON object.
    pub facts: String,
}

/// A rule of the calling-rules table (docs/compliance.md).
#[derive(SimpleObject, Clone)]
pub struct ComplianceRule {
    /// `US-FL`: a country (ISO 3166-1) or a state or province (ISO 3166-2).
    pub jurisdiction: String,
    /// "Fla. Stat. §501.616(6)(a)".
    pub citation: String,
    pub summary: String,
    /// Where its text can be read.
    pub source: String,
    /// The holiday, for a holiday rule.
    pub holiday: Option<String>,
}

impl ComplianceRule {
    fn from_facts(facts: &serde_json::Value) -> Option<ComplianceRule> {
        let r = facts.get("law")?.get("rule")?;
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        Some(ComplianceRule {
            jurisdiction: s("jurisdiction")?,
            citation: s("citation")?,
            summary: s("summary").unwrap_or_default(),
            source: s("source").unwrap_or_default(),
            holiday: s("holiday"),
        })
    }
}

/// One decision of the eligibility gate on a claimed lead.
pub struct ComplianceRecord(pub TrailEntry);

#[Object]
impl ComplianceRecord {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at.and_utc()
    }
    async fn lead_id(&self) -> ID {
        ID(self.0.lead_id.clone())
    }
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    /// The gate's reason code (ELIGIBLE when the call was allowed).
    async fn verdict(&self) -> &str {
        &self.0.verdict
    }
    async fn allowed(&self) -> bool {
        self.0.allowed
    }
    /// The facts it used (time zone, local time, window, attempts, lists,
    /// the law…), as a JSON object.
    async fn facts(&self) -> &str {
        &self.0.facts
    }
    /// The jurisdiction's rule that decided, if a law did.
    async fn rule(&self) -> Option<ComplianceRule> {
        serde_json::from_str(&self.0.facts)
            .ok()
            .and_then(|f| ComplianceRule::from_facts(&f))
    }
    /// The version of the calling-rules table the decision used (empty for
    /// decisions taken before the table existed).
    async fn rules_version(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.0.facts)
            .ok()
            .and_then(|f| f.get("law")?.get("version")?.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

#[derive(Default)]
pub struct ComplianceQuery;

#[Object]
impl ComplianceQuery {
    /// Why a lead is or is not dialable at `at` (default: now).
    async fn eligibility(
        &self,
        ctx: &Context<'_>,
        lead_id: ID,
        at: Option<DateTime<Utc>>,
    ) -> ApiResult<Eligibility> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let (lead, campaign) = load_lead(app, caller, &lead_id).await?;
        let now = at.unwrap_or_else(Utc::now);
        let status = LeadStatus::parse(&lead.status).ok_or(ApiError::Internal)?;
        let facts = campaign_facts(campaign.state, &campaign.settings);
        let decision = decide(&app.db, facts, &lead, status, now, Default::default()).await?;
        let facts = decision.facts_json(&lead);
        Ok(Eligibility {
            eligible: decision.verdict == Verdict::Eligible,
            reason: decision.verdict.code().to_owned(),
            rule: ComplianceRule::from_facts(&facts),
            jurisdictions: decision.jurisdictions.clone(),
            rules_version: rulebook().version.clone(),
            explanation: decision.verdict.explain(decision.time_zone),
            until: decision.verdict.until(),
            checked_at: now,
            facts: facts.to_string(),
        })
    }

    /// A campaign's claim decisions in `[from, to)`, oldest first.
    async fn compliance_trail(
        &self,
        ctx: &Context<'_>,
        campaign_id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<Cursor, ComplianceRecord, EmptyFields, EmptyFields>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, Role::Supervisor)?;
        let campaign = load_campaign(app, caller, &campaign_id).await?;
        if to <= from {
            return Err(ApiError::validation("to", "must be after from"));
        }
        let args = page_args(ctx, first, after)?;
        let page = store::trail::list(
            &app.db,
            &campaign.row.id,
            from.naive_utc(),
            to.naive_utc(),
            args.after.as_deref(),
            args.limit,
        )
        .await?;
        Ok(connection(
            ctx,
            &args,
            page,
            |e| e.id.clone(),
            ComplianceRecord,
        ))
    }
}
