//! Calls in the engine: placing them (after the last compliance check),
//! what the media provider reports on their legs, routing a live answer to
//! an agent (tone, then connected), abandonment after 2 s, how a call ends
//! (exactly one outcome, its lead's next status in the same write), and
//! the wrap-up that closes the loop.

use chrono::{DateTime, Duration, Utc};

use super::agents::PinnedLegState;
use super::controls::Extra;
use super::{Due, EngineError, EngineResult, LegOf, State, conflict};
use crate::dialer::router::{Candidate, pick};
use crate::domain::agent::{AgentEvent, next};
use crate::domain::call::{CONNECT_DEADLINE, CallOrigin, CallOutcome, CallState};
use crate::domain::campaign::{
    AttemptOutcome, CampaignSettings, MachineHandling, after_attempt, str_enum,
};
use crate::domain::eligibility::LeadStatus;
use crate::events::EventKind;
use crate::media::{AnsweredBy, LegId, LegPurpose, MediaEvent, Originate};
use crate::store::{
    self,
    calls::{EngineWrite, LeadWrite},
    models,
};

/// A step in a call's life, as logged and published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CallStep {
    Offered,
    Dialing,
    Ringing,
    Answered,
    Machine,
    Tone,
    Connected,
    Muted,
    Unmuted,
    Held,
    Resumed,
    TransferStarted,
    TransferFailed,
    Transferred,
    ParticipantAdded,
    ParticipantJoined,
    ParticipantFailed,
    SafeHarbor,
    Ended,
    WrapUpRequired,
    WrappedUp,
}

str_enum!(CallStep {
    Offered => "OFFERED",
    Dialing => "DIALING",
    Ringing => "RINGING",
    Answered => "ANSWERED",
    Machine => "MACHINE",
    Tone => "TONE",
    Connected => "CONNECTED",
    Muted => "MUTED",
    Unmuted => "UNMUTED",
    Held => "HELD",
    Resumed => "RESUMED",
    TransferStarted => "TRANSFER_STARTED",
    TransferFailed => "TRANSFER_FAILED",
    Transferred => "TRANSFERRED",
    ParticipantAdded => "PARTICIPANT_ADDED",
    ParticipantJoined => "PARTICIPANT_JOINED",
    ParticipantFailed => "PARTICIPANT_FAILED",
    SafeHarbor => "SAFE_HARBOR",
    Ended => "ENDED",
    WrapUpRequired => "WRAP_UP_REQUIRED",
    WrappedUp => "WRAPPED_UP",
});

/// A call the engine is handling.
#[derive(Debug, Clone)]
pub(crate) struct LiveCall {
    pub row: models::Call,
    pub lead_leg: Option<LegId>,
    pub lead: Option<models::Lead>,
    pub settings: Option<CampaignSettings>,
    pub extras: Vec<Extra>,
    /// Agents conferenced in (not the call's agent).
    pub participant_agents: Vec<String>,
}

/// A skipped preview lead comes back after this.
const SKIP_DELAY: Duration = Duration::minutes(15);

pub(crate) fn ts(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    t.naive_utc()
}

pub(crate) fn props_of(lead: &models::Lead) -> Vec<(String, String)> {
    serde_json::from_str(&lead.custom_properties).unwrap_or_default()
}

impl State {
    pub(crate) fn live(&self, call_id: &str) -> EngineResult<&LiveCall> {
        self.calls.get(call_id).ok_or(EngineError::NotFound("call"))
    }

    pub(crate) fn live_mut(&mut self, call_id: &str) -> EngineResult<&mut LiveCall> {
        self.calls
            .get_mut(call_id)
            .ok_or(EngineError::NotFound("call"))
    }

    /// Log and publish a step of the call as it now is; with `lead`, the
    /// call ended and its lead moves on in the same transaction.
    pub(crate) async fn step(
        &mut self,
        call_id: &str,
        step: CallStep,
        detail: Option<String>,
        lead: Option<LeadWrite>,
    ) -> EngineResult<models::Call> {
        let now = self.clock.now();
        self.steps(call_id, &[(step, now)], detail, lead).await
    }

    /// Several steps of a call at once, each at its own time: written in
    /// one transaction with the call (and the lead), then published in
    /// order.
    pub(crate) async fn steps(
        &mut self,
        call_id: &str,
        steps: &[(CallStep, chrono::DateTime<chrono::Utc>)],
        detail: Option<String>,
        lead: Option<LeadWrite>,
    ) -> EngineResult<models::Call> {
        let now = self.clock.now();
        let live = self.live_mut(call_id)?;
        live.row.updated_at = ts(now);
        account_time(&mut live.row, ts(now));
        let row = live.row.clone();
        let events: Vec<models::CallEventRow> = steps
            .iter()
            .map(|(step, at)| models::CallEventRow {
                id: store::new_id(),
                organization_id: row.organization_id.clone(),
                contact_center_id: row.contact_center_id.clone(),
                call_id: Some(row.id.clone()),
                agent_id: row.agent_id.clone().or_else(|| row.target_agent_id.clone()),
                kind: step.as_str().to_owned(),
                detail: serde_json::json!({ "detail": detail, "state": row.state }).to_string(),
                at: ts(*at),
            })
            .collect();
        self.write(super::journal::Pending::Write(EngineWrite::Call {
            row: Box::new(row.clone()),
            events,
            lead,
        }))
        .await?;
        for (step, at) in steps {
            self.publish_at(
                &row.organization_id,
                *at,
                EventKind::Call {
                    step: *step,
                    call: Box::new(row.clone()),
                    detail: detail.clone(),
                },
            );
        }
        if row.state == CallState::Ended.as_str() {
            if let Some(live) = self.calls.remove(call_id) {
                self.live_count
                    .store(self.calls.len(), std::sync::atomic::Ordering::Relaxed);
                self.numbers
                    .end(&live.row.organization_id, &live.row.phone, call_id);
                for leg in live
                    .lead_leg
                    .iter()
                    .chain(live.extras.iter().filter_map(|e| e.leg.as_ref()))
                {
                    self.legs.remove(leg);
                }
            }
            if let Some(campaign_id) = &row.campaign_id {
                self.campaign_call_ended(campaign_id, &row);
            }
        }
        Ok(row)
    }

    pub(crate) async fn media_event(&mut self, event: MediaEvent) -> EngineResult<()> {
        let Some(of) = self.legs.get(event.leg()).cloned() else {
            // A leg already gone (the sim schedules ahead): nothing to do.
            return Ok(());
        };
        match of {
            LegOf::Pinned { agent_id } => match event {
                MediaEvent::PinnedLegUp { .. } => self.pinned_leg_event(&agent_id, true).await,
                MediaEvent::PinnedLegLost { .. } => self.pinned_leg_event(&agent_id, false).await,
                MediaEvent::PinnedLegInterrupted { .. } => {
                    self.pinned_leg_interrupted(&agent_id).await
                }
                MediaEvent::PinnedLegFailed { reason, .. } => {
                    self.pinned_leg_failed(&agent_id, reason).await
                }
                _ => Ok(()),
            },
            LegOf::Lead { call_id } => self.lead_leg_event(&call_id, event).await,
            LegOf::Extra { call_id } => self.extra_leg_event(&call_id, event).await,
        }
    }

    pub(crate) async fn lead_leg_event(
        &mut self,
        call_id: &str,
        event: MediaEvent,
    ) -> EngineResult<()> {
        let now = self.clock.now();
        let state = State::call_state(&self.live(call_id)?.row);
        match event {
            MediaEvent::Ringing { .. } if state == CallState::Dialing => {
                self.live_mut(call_id)?.row.state = CallState::Ringing.as_str().into();
                self.step(call_id, CallStep::Ringing, None, None).await?;
            }
            MediaEvent::Answered { by, .. }
                if matches!(state, CallState::Dialing | CallState::Ringing) =>
            {
                self.answered(call_id, by, now).await?;
            }
            MediaEvent::Busy { .. } => self.end(call_id, CallOutcome::Busy, None).await?,
            MediaEvent::NoAnswer { .. } => self.end(call_id, CallOutcome::NoAnswer, None).await?,
            MediaEvent::Failed { reason, .. } => {
                self.end(call_id, CallOutcome::Failed, Some(reason)).await?
            }
            MediaEvent::RemoteHangUp { .. } => {
                let outcome = match state {
                    // Hung up before an agent was connected: counted as
                    // abandoned (the strict reading).
                    CallState::Answered => CallOutcome::Abandoned,
                    CallState::Dialing | CallState::Ringing => CallOutcome::NoAnswer,
                    _ => CallOutcome::Completed,
                };
                self.end(call_id, outcome, Some("the lead hung up".into()))
                    .await?
            }
            MediaEvent::TransferDone { ok, .. } => self.blind_transfer_done(call_id, ok).await?,
            _ => {}
        }
        Ok(())
    }

    pub(crate) async fn answered(
        &mut self,
        call_id: &str,
        by: AnsweredBy,
        now: DateTime<Utc>,
    ) -> EngineResult<()> {
        let media = self.media.clone();
        // From when the answer was due (waiting in our queue counts).
        let late = match (self.clock.is_manual(), self.due_at) {
            (false, Some(at)) => (Utc::now() - at).to_std().unwrap_or_default(),
            _ => std::time::Duration::ZERO,
        };
        let now_instant = std::time::Instant::now();
        let started = now_instant.checked_sub(late).unwrap_or(now_instant);
        let live = self.live_mut(call_id)?;
        live.row.answered_at = Some(ts(now));
        live.row.answered_by = Some(
            match by {
                AnsweredBy::Human => "HUMAN",
                AnsweredBy::Machine => "MACHINE",
            }
            .into(),
        );
        let origin = CallOrigin::parse(&live.row.origin).unwrap_or(CallOrigin::Dialer);
        let learned = (origin == CallOrigin::Dialer)
            .then(|| super::pacing::answered_outcome(&live.row))
            .flatten()
            .zip(live.row.campaign_id.clone());
        if let Some((o, campaign_id)) = learned
            && let Some(ctx) = self.campaigns.get_mut(&campaign_id)
        {
            ctx.history.dial(o);
        }
        let live = self.live_mut(call_id)?;
        let handling = live
            .settings
            .as_ref()
            .map_or(MachineHandling::ConnectAgent, |s| s.machine_handling);
        if by == AnsweredBy::Machine && origin == CallOrigin::Dialer {
            match handling {
                MachineHandling::HangUp => {
                    if let Some(leg) = &live.lead_leg {
                        media.hang_up(leg);
                    }
                    return self
                        .end(
                            call_id,
                            CallOutcome::Machine,
                            Some("hung up on a machine".into()),
                        )
                        .await;
                }
                MachineHandling::LeaveMessage => {
                    let message = live
                        .settings
                        .as_ref()
                        .map(crate::domain::campaign::spoken_message)
                        .unwrap_or_default();
                    if let Some(leg) = &live.lead_leg {
                        let _ = media.play(leg, &message, true);
                    }
                    return self
                        .end(
                            call_id,
                            CallOutcome::Machine,
                            Some("left the message".into()),
                        )
                        .await;
                }
                MachineHandling::ConnectAgent => {}
            }
        }
        live.row.state = CallState::Answered.as_str().into();
        // Manual calls already have their agent.
        let agent = match origin {
            CallOrigin::Manual => live.row.agent_id.clone(),
            _ => self.pick_agent(call_id),
        };
        match agent {
            Some(agent_id) => {
                let step = if by == AnsweredBy::Machine {
                    CallStep::Machine
                } else {
                    CallStep::Answered
                };
                self.connect(call_id, &agent_id, Some(step), Some((started, late)))
                    .await?;
            }
            None => {
                let step = if by == AnsweredBy::Machine {
                    CallStep::Machine
                } else {
                    CallStep::Answered
                };
                self.step(call_id, step, Some("waiting for an agent".into()), None)
                    .await?;
                self.after(
                    CONNECT_DEADLINE,
                    Due::ConnectDeadline {
                        call_id: call_id.to_owned(),
                    },
                );
            }
        }
        Ok(())
    }

    /// Agents ready in the call's contact center, and who is reserved.
    pub(crate) fn candidates(
        &self,
        contact_center_id: &str,
    ) -> Vec<(String, bool, bool, DateTime<Utc>)> {
        let reserved: std::collections::HashSet<&str> = self
            .calls
            .values()
            .filter(|c| c.row.state != CallState::Ended.as_str())
            .filter_map(|c| c.row.target_agent_id.as_deref())
            .collect();
        self.agents
            .values()
            .filter(|a| a.contact_center_id.as_deref() == Some(contact_center_id))
            .map(|a| {
                (
                    a.agent_id.clone(),
                    a.ready(),
                    reserved.contains(a.agent_id.as_str()),
                    a.idle_since,
                )
            })
            .collect()
    }

    pub(crate) fn pick_agent(&self, call_id: &str) -> Option<String> {
        let live = self.calls.get(call_id)?;
        let cands = self.candidates(&live.row.contact_center_id);
        let view: Vec<Candidate> = cands
            .iter()
            .map(|(id, ready, reserved, idle)| Candidate {
                agent_id: id,
                ready: *ready,
                reserved_for_other: *reserved,
                idle_since: *idle,
            })
            .collect();
        pick(&view, live.row.target_agent_id.as_deref()).map(str::to_owned)
    }

    /// Bridge the call into the agent's pinned leg (the media plays the
    /// tone first) and make it theirs. `answered`: the answer's own step,
    /// when this is its first word (an answer that waited for an agent had
    /// it published then). Each step carries its time: ANSWERED the
    /// answer's, TONE the bridge's, CONNECTED the tone's end, when the
    /// agent hears the lead. `timed`: when the answer came (and how long
    /// it waited in the queue), for the answer→connected measurements
    /// taken when CONNECTED is published (after its write).
    pub(crate) async fn connect(
        &mut self,
        call_id: &str,
        agent_id: &str,
        answered: Option<CallStep>,
        timed: Option<(std::time::Instant, std::time::Duration)>,
    ) -> EngineResult<()> {
        let media = self.media.clone();
        let now = self.clock.now();
        let pinned = self
            .agents
            .get(agent_id)
            .and_then(|a| a.pinned.as_ref())
            .map(|p| p.id.clone());
        self.may_act()?;
        let live = self.live_mut(call_id)?;
        if let (Some(leg), Some(pinned)) = (&live.lead_leg, &pinned) {
            media
                .bridge(leg, pinned)
                .map_err(|e| conflict(format!("could not bridge the call: {e}")))?;
        }
        let live = self.live_mut(call_id)?;
        live.row.state = CallState::Connected.as_str().into();
        live.row.connected_at = Some(ts(now));
        live.row.agent_id = Some(agent_id.to_owned());
        let manual = live.row.origin == CallOrigin::Manual.as_str();
        if let Some(agent) = self.agents.get_mut(agent_id) {
            if !manual {
                agent.status =
                    next(agent.status, AgentEvent::CallConnected).map_err(|r| conflict(r.0))?;
                agent.since = now;
            }
            agent.call_id = Some(call_id.to_owned());
            agent.wrap_up_call_id = Some(call_id.to_owned());
        }
        // One presence event for the whole step (status, call, leg).
        self.note_pinned_state(agent_id, PinnedLegState::Bridged);
        let answered_at = self
            .calls
            .get(call_id)
            .and_then(|c| c.row.answered_at)
            .map_or(now, |t| t.and_utc());
        let tone_end = now + chrono::Duration::from_std(crate::media::TONE).unwrap_or_default();
        let mut steps = Vec::with_capacity(3);
        if let Some(step) = answered {
            steps.push((step, answered_at));
        }
        steps.push((CallStep::Tone, now));
        steps.push((CallStep::Connected, tone_end));
        self.steps(call_id, &steps, None, None).await?;
        if let Some((started, queued)) = timed {
            let histogram = self.metrics.answer_to_connect.clone();
            let probe = self.config.latency_probe.clone();
            let call_id = call_id.to_owned();
            self.after_written(Box::new(move |outage| {
                if outage.is_some() {
                    return;
                }
                let took = started.elapsed();
                histogram.observe(took.as_secs_f64());
                if let Some(probe) = probe {
                    probe
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(super::ConnectSample {
                            call_id,
                            answered: started,
                            published: took,
                            queued,
                        });
                }
            }));
        }
        self.presence_changed(agent_id).await?;
        Ok(())
    }

    /// An agent became ready: give them the oldest live answer waiting.
    pub(crate) async fn route_waiting(&mut self) -> EngineResult<()> {
        let mut waiting: Vec<(chrono::NaiveDateTime, String)> = self
            .calls
            .values()
            .filter(|c| c.row.state == CallState::Answered.as_str())
            .map(|c| {
                (
                    c.row.answered_at.unwrap_or(c.row.created_at),
                    c.row.id.clone(),
                )
            })
            .collect();
        waiting.sort();
        for (_, call_id) in waiting {
            if let Some(agent_id) = self.pick_agent(&call_id) {
                self.connect(&call_id, &agent_id, None, None).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn connect_deadline(&mut self, call_id: &str) -> EngineResult<()> {
        let Some(live) = self.calls.get(call_id) else {
            return Ok(());
        };
        if live.row.state != CallState::Answered.as_str() {
            return Ok(());
        }
        let message = live
            .settings
            .as_ref()
            .map(crate::domain::campaign::spoken_message)
            .unwrap_or_default();
        if let Some(leg) = live.lead_leg.clone() {
            let _ = self.media.play(&leg, &message, true);
        }
        self.step(call_id, CallStep::SafeHarbor, Some(message), None)
            .await?;
        self.end(
            call_id,
            CallOutcome::Abandoned,
            Some("no agent free within 2 seconds".into()),
        )
        .await
    }

    /// End a call with its one outcome; its agent goes to wrap-up.
    pub(crate) async fn end(
        &mut self,
        call_id: &str,
        outcome: CallOutcome,
        detail: Option<String>,
    ) -> EngineResult<()> {
        let now = self.clock.now();
        let live = self.live_mut(call_id)?;
        if live.row.state == CallState::Ended.as_str() {
            return Ok(());
        }
        let was = State::call_state(&live.row);
        live.row.state = CallState::Ended.as_str().into();
        live.row.outcome = Some(outcome.as_str().into());
        live.row.ended_at = Some(ts(now));
        live.row.on_hold = false;
        let lead_write = lead_after(live, outcome, now);
        let agent = live.row.agent_id.clone();
        let legs: Vec<LegId> = live
            .lead_leg
            .iter()
            .cloned()
            .chain(live.extras.iter().filter_map(|e| e.leg.clone()))
            .collect();
        let conferenced = std::mem::take(&mut live.participant_agents);
        let wrap_limit = live.settings.as_ref().and_then(|s| s.wrap_up_limit_secs);
        let had_agent = matches!(
            was,
            CallState::Connected | CallState::Held | CallState::Transferring
        ) || live.row.origin == CallOrigin::Manual.as_str();
        for leg in &legs {
            self.media.hang_up(leg);
        }
        self.metrics
            .calls_ended
            .get_or_create(&crate::metrics::OutcomeLabels {
                outcome: outcome.as_str(),
            })
            .inc();
        let row = self
            .step(call_id, CallStep::Ended, detail, lead_write)
            .await?;
        for other in conferenced {
            self.leave_call_to_available(&other).await?;
        }
        if let Some(agent_id) = agent.filter(|_| had_agent) {
            self.agent_to_wrap_up(&agent_id, &row, wrap_limit).await?;
        }
        self.pace_soon();
        Ok(())
    }

    /// The call left the agent: pinned leg idle again, WRAP_UP.
    pub(crate) async fn agent_to_wrap_up(
        &mut self,
        agent_id: &str,
        row: &models::Call,
        wrap_limit: Option<u32>,
    ) -> EngineResult<()> {
        let now = self.clock.now();
        let Some(agent) = self.agents.get_mut(agent_id) else {
            return Ok(());
        };
        if agent.call_id.as_deref() != Some(row.id.as_str()) {
            return Ok(());
        }
        agent.call_id = None;
        agent.wrap_up_call_id = Some(row.id.clone());
        // An agent whose session already ended stays OFFLINE, owing it.
        agent.status = next(agent.status, AgentEvent::CallEnded).unwrap_or(agent.status);
        agent.since = now;
        self.pinned_leg_unbridged(agent_id);
        // A transient leg for a manual call in a contact center without
        // the dialer goes with the call.
        self.sync_pinned_leg(agent_id)?;
        self.presence_changed(agent_id).await?;
        self.publish(
            &row.organization_id,
            EventKind::Call {
                step: CallStep::WrapUpRequired,
                call: Box::new(row.clone()),
                detail: None,
            },
        );
        if let Some(secs) = wrap_limit {
            self.after(
                Duration::seconds(secs.into()),
                Due::WrapUpLimit {
                    agent_id: agent_id.to_owned(),
                    call_id: row.id.clone(),
                },
            );
        }
        Ok(())
    }

    /// Tell the agent (again) that the call's wrap-up is owed.
    pub(crate) async fn wrap_up_required(&mut self, call_id: &str) -> EngineResult<()> {
        let Some(row) = store::calls::get(&self.db().await, call_id).await? else {
            return Ok(());
        };
        let org = row.organization_id.clone();
        self.publish(
            &org,
            EventKind::Call {
                step: CallStep::WrapUpRequired,
                call: Box::new(row),
                detail: None,
            },
        );
        Ok(())
    }

    /// The agent's pinned leg leaves the call's audio (the others carry
    /// on); a provider that cannot is logged, the leg is idle either way.
    pub(crate) fn leave_media(&self, agent_id: &str) {
        if let Some(p) = self.agents.get(agent_id).and_then(|a| a.pinned.as_ref())
            && let Err(e) = self.media.leave(&p.id)
        {
            tracing::warn!(agent = agent_id, "leaving the call's audio: {e}");
        }
    }

    /// A conferenced agent leaves without a wrap-up.
    pub(crate) async fn leave_call_to_available(&mut self, agent_id: &str) -> EngineResult<()> {
        let now = self.clock.now();
        self.leave_media(agent_id);
        if let Some(agent) = self.agents.get_mut(agent_id) {
            agent.call_id = None;
            if let Ok(status) = next(agent.status, AgentEvent::HandedOver) {
                agent.status = status;
                agent.since = now;
                agent.idle_since = now;
            }
        }
        self.pinned_leg_unbridged(agent_id);
        self.presence_changed(agent_id).await
    }

    /// The agent's session ended during their call: the lead is hung up
    /// and the wrap-up stays owed.
    pub(crate) async fn agent_left_call(
        &mut self,
        agent_id: &str,
        call_id: &str,
    ) -> EngineResult<()> {
        let Some(live) = self.calls.get(call_id) else {
            return Ok(());
        };
        if live.row.agent_id.as_deref() != Some(agent_id) {
            // Conferenced in someone else's call: just leave.
            self.leave_media(agent_id);
            if let Some(live) = self.calls.get_mut(call_id) {
                live.participant_agents.retain(|a| a != agent_id);
            }
            return Ok(());
        }
        self.end(
            call_id,
            CallOutcome::Completed,
            Some("the agent's session ended".into()),
        )
        .await
    }

    /// Previews offered to an agent who left go back.
    pub(crate) async fn release_offers_of(&mut self, agent_id: &str) -> EngineResult<()> {
        let offers: Vec<String> = self
            .calls
            .values()
            .filter(|c| {
                c.row.state == CallState::Offered.as_str()
                    && c.row.target_agent_id.as_deref() == Some(agent_id)
            })
            .map(|c| c.row.id.clone())
            .collect();
        for call_id in offers {
            self.end(
                call_id.as_str(),
                CallOutcome::NotDialed,
                Some("withdrawn: the agent left".into()),
            )
            .await?;
        }
        Ok(())
    }

    /// Place a dialer call for a claimed lead (already re-checked).
    pub(crate) async fn originate_call(&mut self, call_id: &str) -> EngineResult<()> {
        let now = self.clock.now();
        let live = self.live(call_id)?;
        let ring = live.settings.as_ref().map_or(25, |s| s.ring_timeout_secs);
        let req = Originate {
            to: live.row.phone.clone(),
            caller_id: live.row.caller_id.clone(),
            ring_timeout: std::time::Duration::from_secs(ring.into()),
            purpose: LegPurpose::Lead,
            hints: live.lead.as_ref().map(props_of).unwrap_or_default(),
        };
        self.may_act()?;
        match self.media.originate(&req) {
            Ok(leg) => {
                self.legs.insert(
                    leg.clone(),
                    LegOf::Lead {
                        call_id: call_id.to_owned(),
                    },
                );
                let live = self.live_mut(call_id)?;
                live.lead_leg = Some(leg);
                live.row.state = CallState::Dialing.as_str().into();
                live.row.dialed_at = Some(ts(now));
                self.step(call_id, CallStep::Dialing, None, None).await?;
            }
            Err(e) => {
                self.live_mut(call_id)?.row.dialed_at = Some(ts(now));
                self.end(call_id, CallOutcome::Failed, Some(e.to_string()))
                    .await?;
            }
        }
        Ok(())
    }
}

/// The lead's next status when its call ends (`None` when the call had no
/// lead or was never placed for it).
fn lead_after(live: &LiveCall, outcome: CallOutcome, now: DateTime<Utc>) -> Option<LeadWrite> {
    let lead = live.lead.as_ref()?;
    let settings = live.settings.as_ref();
    let placed = live.row.dialed_at.is_some();
    let back = lead
        .claimed_from
        .clone()
        .filter(|s| s != LeadStatus::Dialing.as_str())
        .unwrap_or_else(|| LeadStatus::New.as_str().into());
    let attempts = u32::try_from(lead.attempts).unwrap_or(u32::MAX);
    match outcome {
        // Skipped by the agent: it comes back later. Never dialed (an
        // offer withdrawn, a refusal right before dialing): as it was.
        CallOutcome::Skipped | CallOutcome::NotDialed => Some(LeadWrite {
            lead_id: lead.id.clone(),
            status: back,
            not_before: if outcome == CallOutcome::Skipped {
                Some(ts(now + SKIP_DELAY))
            } else {
                lead.not_before
            },
            attempt: None,
            abandoned: false,
            callback_agent_id: lead.callback_agent_id.clone(),
        }),
        _ if !placed => None,
        _ => {
            let retry = outcome.retry_as().unwrap_or(AttemptOutcome::NoAnswer);
            let (status, not_before) = match settings {
                Some(s) => after_attempt(s, attempts, retry, now),
                None => (LeadStatus::Retry, Some(now + Duration::hours(4))),
            };
            Some(LeadWrite {
                lead_id: lead.id.clone(),
                status: status.as_str().into(),
                not_before: not_before.map(ts),
                attempt: Some(outcome.as_str().into()),
                abandoned: outcome == CallOutcome::Abandoned,
                callback_agent_id: None,
            })
        }
    }
}

/// Keep the call's hold and talk time as it goes: a hold that began opens
/// `held_at`, a hold that ended (or the call's end) adds to `hold_ms`; at
/// the end, talk time is the connected time minus hold.
pub(crate) fn account_time(row: &mut models::Call, now: chrono::NaiveDateTime) {
    let ended = row.state == CallState::Ended.as_str();
    let ms = |d: chrono::TimeDelta| i32::try_from(d.num_milliseconds().max(0)).unwrap_or(i32::MAX);
    match (row.on_hold && !ended, row.held_at) {
        (true, None) => row.held_at = Some(now),
        (false, Some(since)) => {
            row.hold_ms = row.hold_ms.saturating_add(ms(now - since));
            row.held_at = None;
        }
        _ => {}
    }
    if ended && let Some(connected) = row.connected_at {
        let end = row.ended_at.unwrap_or(now);
        row.talk_ms = ms(end - connected).saturating_sub(row.hold_ms).max(0);
    }
}
