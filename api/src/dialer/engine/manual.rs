//! Manual calls: an agent dials a number (or a lead) from the workspace.
//! The same compliance gate applies — DNC, invalid, and the calling window
//! in the number's local time — and such calls have origin MANUAL (no
//! Dialer tag).

use crate::domain::consent::ConsentPolicy;
use chrono::Duration;

use super::calls::LiveCall;
use super::{EngineError, EngineResult, State, conflict};
use crate::dialer::facts::{OrgRules, Placing, decide};
use crate::domain::agent::{AgentEvent, AgentStatus, next};
use crate::domain::call::{CallOrigin, CallState};
use crate::domain::campaign::{CampaignState, DialMode};
use crate::domain::eligibility::{
    CampaignFacts, Cited, LeadStatus, Verdict, cap_lifts_at, closed_by, number_history_window,
};
use crate::domain::jurisdiction::{Law, jurisdictions_of, rulebook};
use crate::domain::phone::{Allowed, also_zones, refused_in_campaign};
use crate::domain::window::CallingWindow;
use crate::store::{self, claims, models};

impl State {
    pub(crate) async fn place_call(
        &mut self,
        organization_id: &str,
        agent_id: &str,
        cc: &models::ContactCenter,
        phone: String,
        lead: Option<models::Lead>,
    ) -> EngineResult<models::Call> {
        let now = self.clock.now();
        let agent = self.agent_entry(organization_id, agent_id).await?;
        if agent.contact_center_id.as_deref() != Some(cc.id.as_str())
            || agent.status != AgentStatus::Available
            || agent.call_id.is_some()
        {
            return Err(conflict(
                "go Available in this contact center (with no call) before placing a call",
            ));
        }
        let lists = store::lists::verdicts(&self.db, organization_id, &phone).await?;
        if lists.do_not_call {
            return Err(conflict(
                "this number is on the Do-Not-Call list: it may not be called",
            ));
        }
        if lists.invalid {
            return Err(conflict(
                "this number is marked invalid: it may not be called",
            ));
        }
        let fictional = self.media.simulated();
        let refused = |toll_free: bool| match refused_in_campaign(
            &phone,
            Allowed {
                toll_free,
                fictional,
            },
        ) {
            Some(r) => Err(EngineError::Validation {
                field: "phone",
                message: format!("{phone} {}: {}", r.describe(), r.remedy()),
            }),
            None => Ok(()),
        };
        let (settings, lead) = match lead {
            Some(lead) => {
                let campaign = store::campaigns::get(&self.db, &lead.campaign_id)
                    .await?
                    .ok_or(EngineError::NotFound("campaign"))?;
                let settings = store::campaigns::settings_of(&campaign)?;
                refused(settings.allow_toll_free)?;
                let facts = CampaignFacts {
                    state: CampaignState::Running,
                    dial_mode: DialMode::Preview,
                    window: settings.calling_window,
                    ring_timeout: Duration::seconds(settings.ring_timeout_secs.into()),
                    max_attempts: u32::MAX,
                    max_attempts_per_day: u32::MAX,
                    // A person chose to dial: no automated-mode consent.
                    consent: ConsentPolicy::Law,
                    allow_toll_free: settings.allow_toll_free,
                };
                let mut as_new = lead.clone();
                as_new.not_before = None;
                let placing = Placing {
                    call_id: None,
                    busy_here: self.numbers.busy(organization_id, &phone, None),
                };
                let decision = decide(
                    &self.db().await,
                    facts,
                    &as_new,
                    LeadStatus::New,
                    now,
                    placing,
                )
                .await?;
                store::trail::insert(&self.db, &[decision.trail_entry(&lead, "manual")]).await?;
                if decision.verdict != Verdict::Eligible {
                    return Err(conflict(format!(
                        "this lead may not be called now: {}",
                        decision.verdict.explain(decision.time_zone)
                    )));
                }
                let claimed = claims::claim_one(&self.db().await, &lead.id, now.naive_utc())
                    .await?
                    .ok_or_else(|| conflict("this lead is being called already"))?;
                (Some(settings), Some(claimed))
            }
            None => {
                refused(false)?;
                // No lead: the number's possible zones (all of them) and
                // the law of its jurisdictions, within the legal maximum.
                let window = CallingWindow::default();
                let ring = Duration::seconds(25);
                let zones = also_zones(&phone, None, false);
                if zones.is_empty() {
                    return Err(EngineError::Validation {
                        field: "phone",
                        message: "the number's local time cannot be known, so it may not be called; place the call for a lead with a time zone".into(),
                    });
                }
                let book = rulebook();
                let org = OrgRules::load(&self.db, organization_id, now).await?;
                let rules = book.rules_with(&jurisdictions_of(&phone, None), &org.rules);
                let law = Law {
                    version: &book.version,
                    rules: &rules,
                };
                match closed_by(&law, &window, &zones, now, ring) {
                    None => {}
                    Some(Some((rule, _))) => {
                        let cited = Cited::of(rule, law.version);
                        return Err(conflict(format!(
                            "it is outside the hours allowed where this number is: {}",
                            cited.line()
                        )));
                    }
                    Some(None) => {
                        return Err(conflict(
                            "it is outside the calling window (08:00–21:00) where this number is",
                        ));
                    }
                }
                // The number's calls across the organization: one at a
                // time, and within every cap of the law and the
                // organization (read in each zone it may be in).
                let history = store::calls::number_history(
                    &self.db().await,
                    organization_id,
                    &phone,
                    (now - number_history_window(&law)).naive_utc(),
                    None,
                )
                .await?;
                if history.in_call || self.numbers.busy(organization_id, &phone, None) {
                    return Err(conflict("this number is being called already"));
                }
                let placed: Vec<_> = history.placed.iter().map(|t| t.and_utc()).collect();
                for zone in &zones {
                    for (cap, rule) in law.caps(*zone, now) {
                        if let Some(until) = cap_lifts_at(cap, &placed, now) {
                            return Err(conflict(format!(
                                "this number has had {} calls in {} hours ({}); it may be called again at {}",
                                cap.max,
                                cap.within.num_hours(),
                                Cited::of(rule, law.version).line(),
                                until.to_rfc3339()
                            )));
                        }
                    }
                }
                (None, None)
            }
        };
        // Agents outside a dialer contact center get a leg for this call.
        if self
            .agents
            .get(agent_id)
            .is_some_and(|a| a.pinned.is_none())
        {
            self.start_pinned_leg(agent_id)?;
        }
        let id = store::new_id();
        let t = now.naive_utc();
        let row = models::Call {
            id: id.clone(),
            organization_id: organization_id.to_owned(),
            contact_center_id: cc.id.clone(),
            campaign_id: lead.as_ref().map(|l| l.campaign_id.clone()),
            lead_id: lead.as_ref().map(|l| l.id.clone()),
            agent_id: Some(agent_id.to_owned()),
            target_agent_id: None,
            origin: CallOrigin::Manual.as_str().into(),
            phone,
            caller_id: settings
                .as_ref()
                .map(|s| s.caller_id.clone())
                .unwrap_or_default(),
            state: CallState::Dialing.as_str().into(),
            outcome: None,
            answered_by: None,
            muted: false,
            on_hold: false,
            created_at: t,
            dialed_at: None,
            answered_at: None,
            connected_at: None,
            ended_at: None,
            updated_at: t,
            hold_ms: 0,
            talk_ms: 0,
            held_at: None,
        };
        self.numbers.begin(&row.organization_id, &row.phone, &id);
        self.calls.insert(
            id.clone(),
            LiveCall {
                row,
                lead_leg: None,
                lead,
                settings,
                extras: Vec::new(),
                participant_agents: Vec::new(),
            },
        );
        self.live_count
            .store(self.calls.len(), std::sync::atomic::Ordering::Relaxed);
        if let Some(a) = self.agents.get_mut(agent_id) {
            a.status = next(a.status, AgentEvent::CallConnected).map_err(|r| conflict(r.0))?;
            a.since = now;
            a.call_id = Some(id.clone());
            a.wrap_up_call_id = Some(id.clone());
        }
        // The call row exists once placed; the presence names it.
        self.originate_call(&id).await?;
        self.presence_changed(agent_id).await?;
        self.ended_row(&id).await
    }
}
