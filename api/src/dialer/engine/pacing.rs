//! The campaign loop: for each RUNNING campaign whose contact center has
//! ready agents, ask the campaign's pacer how many calls to start, claim
//! that many leads through the compliance gate, re-check each right before
//! dialing, and place (or, in PREVIEW, offer) the calls. Also the live
//! figures the supervisor sees (dial level, calls in flight, the pacer's
//! last decision in words).

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::calls::{CallStep, LiveCall};
use super::{EngineResult, State};
use crate::dialer::claim::claim_eligible_in;
use crate::dialer::facts::{Placing, campaign_facts, decide};
use crate::dialer::pacer::predictive::MIN_RING_BEFORE_HANG_UP;
use crate::dialer::pacer::{
    AgentNow, CallNow, DialOutcome, History, PacerDecision, PacerFacts, Rolling, for_mode,
};
use crate::dialer::router::{Candidate, pick};
use crate::domain::agent::AgentStatus;
use crate::domain::call::{CallOrigin, CallOutcome, CallState, awaiting_agent};
use crate::domain::campaign::{CampaignSettings, CampaignState, DialMode};
use crate::domain::eligibility::{LeadStatus, Verdict};
use crate::events::EventKind;
use crate::store::{self, StoreError, models};

/// How many of a campaign's past calls the pacer learns from at start.
const HISTORY_SEED: i64 = 500;

/// What a finished dialed call teaches the pacer about dial outcomes, if it
/// was not answered (answers are learned when they happen). A call that
/// ended unanswered well before `ring_timeout_secs` (the pacer ended it, or
/// the lead's line dropped) might still have been answered: it counts as
/// ended, not as rung out.
fn unanswered_outcome(row: &models::Call, ring_timeout_secs: f64) -> Option<DialOutcome> {
    let dialed = row.dialed_at?;
    if row.answered_at.is_some() {
        return None;
    }
    let secs = row
        .ended_at
        .map_or(0.0, |e| (e - dialed).num_milliseconds() as f64 / 1000.0);
    match row.outcome.as_deref().and_then(CallOutcome::parse)? {
        CallOutcome::NoAnswer if secs < ring_timeout_secs - 1.0 => Some(DialOutcome::Ended(secs)),
        CallOutcome::NoAnswer => Some(DialOutcome::NoAnswer),
        CallOutcome::Busy | CallOutcome::Failed => Some(DialOutcome::Failed(secs)),
        _ => None,
    }
}

/// What an answered call teaches: who answered and after how long.
pub(crate) fn answered_outcome(row: &models::Call) -> Option<DialOutcome> {
    let secs = (row.answered_at? - row.dialed_at?).num_milliseconds() as f64 / 1000.0;
    match row.answered_by.as_deref()? {
        "HUMAN" => Some(DialOutcome::Human(secs)),
        "MACHINE" => Some(DialOutcome::Machine(secs)),
        _ => None,
    }
}

/// A history learned from a campaign's past calls and wrap-ups (newest
/// first, as the store returns them), over the pacer's usual window.
pub fn history_from(calls: &[models::Call], wrap_ms: &[i32], ring_timeout_secs: f64) -> History {
    learn_from(History::default(), calls, wrap_ms, ring_timeout_secs)
}

/// `h` having learned from past calls and wrap-ups (newest first), whose
/// campaign rings unanswered calls for `ring_timeout_secs`.
pub fn learn_from(
    mut h: History,
    calls: &[models::Call],
    wrap_ms: &[i32],
    ring_timeout_secs: f64,
) -> History {
    for row in calls.iter().rev() {
        if let Some(o) =
            answered_outcome(row).or_else(|| unanswered_outcome(row, ring_timeout_secs))
        {
            h.dial(o);
        }
        if row.connected_at.is_some() && row.talk_ms > 0 {
            h.talk(row.talk_ms as f64 / 1000.0);
        }
    }
    for ms in wrap_ms.iter().rev() {
        h.wrap(f64::from(*ms) / 1000.0);
    }
    h
}

/// What the engine keeps per running campaign.
#[derive(Debug, Clone)]
pub(crate) struct CampaignCtx {
    pub row: models::Campaign,
    pub settings: CampaignSettings,
    pub decision: Option<PacerDecision>,
    /// Live answers and abandoned calls over the last 24 hours and the
    /// last 30 days, both rolling (loaded at first sight, then counted as
    /// calls end).
    pub answers_24h: Rolling,
    pub answers_30d: Rolling,
    /// What the pacer has learned from the campaign's calls.
    pub history: History,
    pub agents_available: u32,
    pub calls_in_flight: u32,
    /// The zones the campaign's leads are in, and when they were read
    /// (reading them scans every lead): read again after
    /// [`ZONES_KEPT`], or when a claim came back short (a lead in a zone
    /// not read yet is then found).
    pub zones: Option<(DateTime<Utc>, Vec<String>)>,
}

/// How long the zones of a campaign's leads are kept.
const ZONES_KEPT: Duration = Duration::seconds(10);

/// The windows the abandonment rate is held to, and their buckets.
fn windows() -> (Rolling, Rolling) {
    (
        Rolling::new(Duration::hours(24), Duration::minutes(1)),
        Rolling::new(Duration::days(30), Duration::hours(1)),
    )
}

/// A running campaign's live figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignLive {
    pub decision: Option<PacerDecision>,
    pub agents_available: u32,
    pub calls_in_flight: u32,
    pub dial_level: f64,
}

impl State {
    pub(crate) fn campaign_live(&self, campaign_id: &str) -> Option<CampaignLive> {
        let ctx = self.campaigns.get(campaign_id)?;
        Some(CampaignLive {
            decision: ctx.decision.clone(),
            agents_available: ctx.agents_available,
            calls_in_flight: ctx.calls_in_flight,
            dial_level: ctx.decision.as_ref().map_or(0.0, |d| d.dial_level),
        })
    }

    pub(crate) fn campaign_call_ended(&mut self, campaign_id: &str, row: &models::Call) {
        let Some(ctx) = self.campaigns.get_mut(campaign_id) else {
            return;
        };
        if row.dialed_at.is_some() {
            let timeout = f64::from(ctx.settings.ring_timeout_secs);
            if let Some(o) = unanswered_outcome(row, timeout) {
                ctx.history.dial(o);
            }
            if row.connected_at.is_some() && row.talk_ms > 0 {
                ctx.history.talk(row.talk_ms as f64 / 1000.0);
            }
            let human = row.answered_by.as_deref() == Some("HUMAN");
            if human {
                let abandoned = row.outcome.as_deref() == Some("ABANDONED");
                let at = row.answered_at.map_or(self.clock.now(), |t| t.and_utc());
                ctx.answers_24h.count(at, abandoned);
                ctx.answers_30d.count(at, abandoned);
            }
        }
        let org = ctx.row.organization_id.clone();
        self.publish(
            &org,
            EventKind::CampaignStats {
                campaign_id: campaign_id.to_owned(),
            },
        );
    }

    async fn campaign_ctx(&mut self, row: models::Campaign) -> EngineResult<&mut CampaignCtx> {
        let settings = store::campaigns::settings_of(&row)?;
        if !self.campaigns.contains_key(&row.id) {
            let now = self.clock.now();
            let since30 = (now - Duration::days(30)).naive_utc();
            let (mut answers_24h, mut answers_30d) = windows();
            for (at, abandoned) in
                store::calls::answer_times_since(&self.db().await, &row.id, since30).await?
            {
                answers_24h.count(at.and_utc(), abandoned);
                answers_30d.count(at.and_utc(), abandoned);
            }
            let past =
                store::calls::recent_dialed_of_campaign(&self.db().await, &row.id, HISTORY_SEED)
                    .await?;
            let wraps = store::wrap_ups::recent_wrap_ms(&self.db, &row.id, HISTORY_SEED).await?;
            self.campaigns.insert(
                row.id.clone(),
                CampaignCtx {
                    row: row.clone(),
                    settings: settings.clone(),
                    decision: None,
                    answers_24h,
                    answers_30d,
                    history: history_from(&past, &wraps, f64::from(settings.ring_timeout_secs)),
                    agents_available: 0,
                    calls_in_flight: 0,
                    zones: None,
                },
            );
        }
        let ctx = self
            .campaigns
            .get_mut(&row.id)
            .ok_or(super::EngineError::NotFound("campaign"))?;
        ctx.row = row;
        ctx.settings = settings;
        Ok(ctx)
    }

    /// One pass of the campaign loop.
    pub(crate) async fn pace_all(&mut self) -> EngineResult<()> {
        let ready_ccs: HashSet<String> = self
            .agents
            .values()
            .filter(|a| a.ready())
            .filter_map(|a| a.contact_center_id.clone())
            .collect();
        if ready_ccs.is_empty() && self.campaigns.is_empty() {
            return Ok(());
        }
        if self.behind() || self.draining {
            // No new calls while the database cannot record them, nor
            // while the server stops.
            return Ok(());
        }
        let mut running = store::campaigns::running(&self.db).await?;
        running.retain(|c| c.contact_center_id == self.center);
        let running_ids: HashSet<&str> = running.iter().map(|c| c.id.as_str()).collect();
        self.campaigns
            .retain(|id, _| running_ids.contains(id.as_str()));
        for row in running {
            if !ready_ccs.contains(&row.contact_center_id) && !self.campaigns.contains_key(&row.id)
            {
                continue;
            }
            if let Err(e) = self.pace(row).await {
                tracing::error!("pacing a campaign failed: {e}");
            }
        }
        Ok(())
    }

    async fn pace(&mut self, row: models::Campaign) -> EngineResult<()> {
        let now = self.clock.now();
        let campaign_id = row.id.clone();
        let cc = row.contact_center_id.clone();
        let secs =
            |t: chrono::NaiveDateTime| (now.naive_utc() - t).num_milliseconds() as f64 / 1000.0;
        let reserved: HashSet<String> = self
            .candidates(&cc)
            .into_iter()
            .filter(|c| c.2)
            .map(|c| c.0)
            .collect();
        let agents: Vec<AgentNow> = self
            .agents
            .values()
            .filter(|a| a.contact_center_id.as_deref() == Some(cc.as_str()))
            .filter(|a| !reserved.contains(&a.agent_id))
            .filter_map(|a| match a.status {
                AgentStatus::Available if a.ready() => Some(AgentNow::Idle),
                AgentStatus::OnCall => Some(AgentNow::Talking(secs(a.since.naive_utc()))),
                AgentStatus::WrapUp => Some(AgentNow::WrappingUp(secs(a.since.naive_utc()))),
                _ => None,
            })
            .collect();
        let idle = agents.iter().filter(|a| **a == AgentNow::Idle).count() as u32;
        let (flight_ids, in_flight): (Vec<String>, Vec<CallNow>) = self
            .calls
            .values()
            .filter(|c| c.row.campaign_id.as_deref() == Some(campaign_id.as_str()))
            .filter(|c| c.row.target_agent_id.is_none())
            .filter(|c| awaiting_agent(State::call_state(&c.row)))
            .filter(|c| c.row.answered_by.as_deref() != Some("MACHINE"))
            .map(|c| {
                let now = match c.row.answered_at {
                    Some(at) => CallNow::Waiting(secs(at)),
                    None => CallNow::Ringing(secs(c.row.dialed_at.unwrap_or(c.row.created_at))),
                };
                (c.row.id.clone(), now)
            })
            .unzip();
        let chunk = self.config.pace_chunk.max(1);
        let ctx = self.campaign_ctx(row).await?;
        let last_24h = ctx.answers_24h.at(now);
        let last_30_days = ctx.answers_30d.at(now);
        let model = ctx.history.model();
        let facts = PacerFacts {
            agents: &agents,
            calls: &in_flight,
            model: &model,
            last_24h,
            last_30_days,
            max_abandon_rate: ctx.settings.max_abandon_rate,
            max_dial_ratio: ctx.settings.max_dial_ratio,
            ring_timeout_secs: f64::from(ctx.settings.ring_timeout_secs),
            connect_within_secs: crate::domain::call::CONNECT_DEADLINE.num_milliseconds() as f64
                / 1000.0,
        };
        let mode = ctx.settings.dial_mode;
        let decision = for_mode(mode).decide(&facts);
        let hang_up: Vec<(String, f64)> = decision
            .hang_up
            .iter()
            .filter_map(|&j| match (flight_ids.get(j), in_flight.get(j)) {
                (Some(id), Some(CallNow::Ringing(r))) => Some((id.clone(), *r)),
                _ => None,
            })
            .collect();
        let in_flight = (in_flight.len() - hang_up.len()) as u32;
        let changed = ctx.decision.as_ref().map(|d| &d.reason) != Some(&decision.reason);
        let wanted = decision.calls_to_start as usize;
        let n = wanted.min(chunk);
        ctx.decision = Some(decision);
        ctx.agents_available = idle;
        ctx.calls_in_flight = in_flight;
        let campaign = ctx.row.clone();
        let settings = ctx.settings.clone();
        if changed {
            self.publish(
                &campaign.organization_id,
                EventKind::CampaignStats {
                    campaign_id: campaign_id.clone(),
                },
            );
        }
        for (id, rung) in hang_up {
            // Only calls still ringing, rung past the legal minimum (the
            // pacer never names others; checked again all the same).
            let ringing = self.calls.get(&id).is_some_and(|c| {
                c.row.answered_at.is_none() && awaiting_agent(State::call_state(&c.row))
            });
            if ringing && rung >= MIN_RING_BEFORE_HANG_UP {
                let why = format!(
                    "ended by the pacer after ringing {rung:.0} s: agents short for more answers"
                );
                self.end(&id, CallOutcome::NoAnswer, Some(why)).await?;
            }
        }
        if n == 0 {
            return Ok(());
        }
        let kept = self
            .campaigns
            .get(&campaign_id)
            .and_then(|c| c.zones.clone())
            .filter(|(at, _)| now - *at < ZONES_KEPT);
        let zones = match kept {
            Some((_, zones)) => zones,
            None => {
                let db = self.db.clone();
                let zones = self
                    .meanwhile(store::claims::zones_of_campaign(&db, &campaign_id))
                    .await?;
                if let Some(c) = self.campaigns.get_mut(&campaign_id) {
                    c.zones = Some((now, zones.clone()));
                }
                zones
            }
        };
        let db = self.db_meanwhile().await;
        let fence = self.fence.clone();
        let claimed = self
            .meanwhile(claim_eligible_in(
                &db,
                &campaign,
                now,
                n,
                &zones,
                fence.as_ref(),
            ))
            .await;
        if claimed.as_ref().is_ok_and(|l| l.len() < n)
            && let Some(c) = self.campaigns.get_mut(&campaign_id)
        {
            c.zones = None;
        }
        let leads = match claimed {
            Ok(leads) => leads,
            Err(stranded) => {
                for (lead_id, not_before) in &stranded.leads {
                    self.release(lead_id, *not_before).await?;
                }
                return Err(stranded.error.into());
            }
        };
        if wanted > n && leads.len() == n {
            // The rest in the next pass, after what falls due meanwhile.
            self.pace_soon();
        }
        let mut reserved: HashSet<String> = HashSet::new();
        for lead in leads {
            self.answers_first().await;
            // Who the call is for: a named callback's agent; in PREVIEW
            // the longest-idle agent; otherwise whoever is free at answer.
            let target = match (&lead.callback_agent_id, mode) {
                (Some(agent), _) => Some(agent.clone()),
                (None, DialMode::Preview) => {
                    let cands = self.candidates(&cc);
                    let view: Vec<Candidate> = cands
                        .iter()
                        .map(|(id, ready, res, idle)| Candidate {
                            agent_id: id,
                            ready: *ready,
                            reserved_for_other: *res || reserved.contains(id),
                            idle_since: *idle,
                        })
                        .collect();
                    match pick(&view, None) {
                        Some(a) => Some(a.to_owned()),
                        None => {
                            self.release(&lead.id, lead.not_before).await?;
                            continue;
                        }
                    }
                }
                (None, _) => None,
            };
            if let Some(t) = &target {
                let free = self.agents.get(t).is_some_and(|a| {
                    a.ready() && a.contact_center_id.as_deref() == Some(cc.as_str())
                }) && !reserved.contains(t)
                    && !self.calls.values().any(|c| {
                        c.row.target_agent_id.as_deref() == Some(t.as_str())
                            && c.row.state != CallState::Ended.as_str()
                    });
                if !free {
                    // The named agent is busy or away: try again shortly.
                    let later = (now + Duration::minutes(1)).naive_utc();
                    self.release(&lead.id, Some(later)).await?;
                    continue;
                }
                reserved.insert(t.clone());
            }
            let call_id = self.new_call(&campaign, &settings, lead, target, now);
            if mode == DialMode::Preview {
                self.step(&call_id, CallStep::Offered, None, None).await?;
            } else {
                self.dial_checked(&call_id).await?;
            }
        }
        Ok(())
    }

    fn new_call(
        &mut self,
        campaign: &models::Campaign,
        settings: &CampaignSettings,
        lead: models::Lead,
        target: Option<String>,
        now: DateTime<Utc>,
    ) -> String {
        let id = store::new_id();
        let t = now.naive_utc();
        let row = models::Call {
            id: id.clone(),
            organization_id: campaign.organization_id.clone(),
            contact_center_id: campaign.contact_center_id.clone(),
            campaign_id: Some(campaign.id.clone()),
            lead_id: Some(lead.id.clone()),
            agent_id: None,
            target_agent_id: target,
            origin: CallOrigin::Dialer.as_str().into(),
            phone: lead.phone.clone(),
            caller_id: settings.caller_id.clone(),
            state: CallState::Offered.as_str().into(),
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
                lead: Some(lead),
                settings: Some(settings.clone()),
                extras: Vec::new(),
                participant_agents: Vec::new(),
            },
        );
        self.live_count
            .store(self.calls.len(), std::sync::atomic::Ordering::Relaxed);
        id
    }

    /// Immediately before placing the call: DNC, invalid and the calling
    /// window again (a number listed since the claim is not called). The
    /// check is written to the compliance trail either way.
    pub(crate) async fn dial_checked(&mut self, call_id: &str) -> EngineResult<()> {
        let now = self.clock.now();
        let (lead, settings) = {
            let live = self
                .calls
                .get(call_id)
                .ok_or(super::EngineError::NotFound("call"))?;
            match (&live.lead, &live.settings) {
                (Some(l), Some(s)) => (l.clone(), s.clone()),
                _ => return self.originate_call(call_id).await,
            }
        };
        let before = lead
            .claimed_from
            .as_deref()
            .and_then(LeadStatus::parse)
            .unwrap_or(LeadStatus::New);
        let facts = campaign_facts(CampaignState::Running, &settings);
        let db = self.db_meanwhile().await;
        let placing = Placing {
            call_id: Some(call_id),
            busy_here: self
                .numbers
                .busy(&lead.organization_id, &lead.phone, Some(call_id)),
        };
        let (decision, recorded) = self
            .meanwhile(async {
                let decision = decide(&db, facts, &lead, before, now, placing).await?;
                let recorded =
                    store::trail::insert(&db, &[decision.trail_entry(&lead, "pre-dial")]).await;
                Ok::<_, StoreError>((decision, recorded))
            })
            .await?;
        if let Err(e) = recorded {
            // No call without its record: the lead goes back.
            let Some(cause) = e.outage() else {
                return Err(e.into());
            };
            return self
                .end(
                    call_id,
                    crate::domain::call::CallOutcome::NotDialed,
                    Some(format!(
                        "not dialed: the compliance trail could not be written ({cause})"
                    )),
                )
                .await;
        }
        if decision.verdict == Verdict::Eligible {
            self.originate_call(call_id).await
        } else {
            let why = decision.verdict.explain(decision.time_zone);
            self.end(
                call_id,
                crate::domain::call::CallOutcome::NotDialed,
                Some(format!("not dialed: {why}")),
            )
            .await
        }
    }

    /// A claimed lead that gets no call goes back.
    async fn release(
        &mut self,
        lead_id: &str,
        not_before: Option<chrono::NaiveDateTime>,
    ) -> super::EngineResult<()> {
        self.write(super::journal::Pending::Write(
            crate::store::calls::EngineWrite::Release {
                lead_id: lead_id.to_owned(),
                not_before,
            },
        ))
        .await
        .map(|_| ())
    }

    pub(crate) async fn dial_preview(&mut self, call_id: &str) -> EngineResult<models::Call> {
        self.dial_checked(call_id).await?;
        self.ended_row(call_id).await
    }
}
