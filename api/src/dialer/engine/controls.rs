//! The agent's controls on their call: mute, hold/resume, blind and warm
//! transfer (to an agent of the contact center or an outside number), add
//! a participant, hang up, and preview Dial/Skip — each checked against
//! the call's state and its owner — and what the transfer and conference
//! legs report.

use super::agents::PinnedLegState;
use super::calls::CallStep;
use super::{EngineError, EngineResult, LegOf, State, conflict};
use crate::domain::agent::{AgentEvent, next};
use crate::domain::call::{CallOutcome, CallState, Control as Ctl, allows};
use crate::media::{LegId, LegPurpose, MediaEvent, Originate};
use crate::store::{self, models};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TransferTo {
    Agent(String),
    Phone(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TransferMode {
    Blind,
    Warm,
}

/// What an agent asks of their call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Control {
    Mute(bool),
    Hold(bool),
    Transfer {
        to: TransferTo,
        mode: TransferMode,
    },
    AddParticipant(TransferTo),
    HangUp,
    /// Preview: place the offered call, or pass on it.
    Dial,
    Skip,
}

/// A transfer or conference leg in progress.
#[derive(Debug, Clone)]
pub(crate) struct Extra {
    pub to: TransferTo,
    /// `None` for a transfer that is not a separate leg.
    pub leg: Option<LegId>,
    pub purpose: ExtraPurpose,
    pub answered: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExtraPurpose {
    BlindTransfer,
    WarmTransfer,
    Participant,
}

impl State {
    pub(crate) async fn control(
        &mut self,
        agent_id: &str,
        call_id: &str,
        control: Control,
    ) -> EngineResult<models::Call> {
        if !self.calls.contains_key(call_id) && matches!(control, Control::HangUp) {
            if self.behind() {
                // Its end may be among the writes waiting for the database.
                return Err(self.unavailable("the call's end is not saved yet"));
            }
            // Hanging up twice (a retry after a lost answer, or after
            // UNAVAILABLE) ends the call once and answers the same.
            if let Some(row) = store::calls::get(&self.db().await, call_id).await?
                && row.state == CallState::Ended.as_str()
                && row.agent_id.as_deref() == Some(agent_id)
            {
                return Ok(row);
            }
        }
        let live = self.live(call_id).map_err(|_| {
            // An ended call is no longer live: say so plainly.
            conflict("the call has ended (or is not yours)")
        })?;
        let owner = live.row.agent_id.as_deref() == Some(agent_id)
            || (live.row.state == CallState::Offered.as_str()
                && live.row.target_agent_id.as_deref() == Some(agent_id));
        if !owner {
            return Err(EngineError::NotFound("call"));
        }
        let state = State::call_state(&live.row);
        let ctl = match &control {
            Control::Mute(_) => Ctl::Mute,
            Control::Hold(true) => Ctl::Hold,
            Control::Hold(false) => Ctl::Resume,
            Control::Transfer { .. } => Ctl::Transfer,
            Control::AddParticipant(_) => Ctl::AddParticipant,
            Control::HangUp => Ctl::HangUp,
            Control::Dial => Ctl::Dial,
            Control::Skip => Ctl::Skip,
        };
        allows(state, ctl).map_err(|r| conflict(r.0))?;
        match control {
            Control::Mute(muted) => {
                let pinned = self.pinned_of(agent_id)?;
                self.media
                    .mute(&pinned, muted)
                    .map_err(|e| conflict(e.to_string()))?;
                self.live_mut(call_id)?.row.muted = muted;
                let step = if muted {
                    CallStep::Muted
                } else {
                    CallStep::Unmuted
                };
                self.step(call_id, step, None, None).await
            }
            Control::Hold(on) => {
                let leg = self.lead_leg_of(call_id)?;
                self.media
                    .hold(&leg, on)
                    .map_err(|e| conflict(e.to_string()))?;
                let live = self.live_mut(call_id)?;
                live.row.on_hold = on;
                live.row.state = if on {
                    CallState::Held
                } else {
                    CallState::Connected
                }
                .as_str()
                .into();
                let step = if on {
                    CallStep::Held
                } else {
                    CallStep::Resumed
                };
                self.step(call_id, step, None, None).await
            }
            Control::HangUp => {
                let warm_ready = self
                    .live(call_id)?
                    .extras
                    .iter()
                    .any(|e| e.purpose == ExtraPurpose::WarmTransfer && e.answered);
                if state == CallState::Transferring && warm_ready {
                    self.complete_warm_transfer(agent_id, call_id).await?;
                } else {
                    let outcome = match state {
                        CallState::Dialing | CallState::Ringing => CallOutcome::NoAnswer,
                        _ => CallOutcome::Completed,
                    };
                    self.end(call_id, outcome, Some("the agent hung up".into()))
                        .await?;
                }
                self.ended_row(call_id).await
            }
            Control::Transfer { to, mode } => self.transfer(agent_id, call_id, to, mode).await,
            Control::AddParticipant(to) => self.add_participant(agent_id, call_id, to).await,
            Control::Dial => self.dial_preview(call_id).await,
            Control::Skip => {
                self.end(
                    call_id,
                    CallOutcome::Skipped,
                    Some("skipped by the agent".into()),
                )
                .await?;
                self.ended_row(call_id).await
            }
        }
    }

    pub(crate) async fn ended_row(&mut self, call_id: &str) -> EngineResult<models::Call> {
        match self.calls.get(call_id) {
            Some(live) => Ok(live.row.clone()),
            None => store::calls::get(&self.db().await, call_id)
                .await?
                .ok_or(EngineError::NotFound("call")),
        }
    }

    pub(crate) fn pinned_of(&self, agent_id: &str) -> EngineResult<LegId> {
        self.agents
            .get(agent_id)
            .and_then(|a| a.pinned.as_ref())
            .map(|p| p.id.clone())
            .ok_or_else(|| conflict("you have no audio leg"))
    }

    pub(crate) fn lead_leg_of(&self, call_id: &str) -> EngineResult<LegId> {
        self.live(call_id)?
            .lead_leg
            .clone()
            .ok_or_else(|| conflict("the call has no lead leg"))
    }

    /// Hand the call to a ready agent of the same contact center.
    pub(crate) fn transfer_target_agent(
        &self,
        from: &str,
        call_id: &str,
        to: &str,
    ) -> EngineResult<String> {
        let cc = self.live(call_id)?.row.contact_center_id.clone();
        if to == from {
            return Err(conflict("you cannot transfer a call to yourself"));
        }
        let agent = self
            .agents
            .get(to)
            .filter(|a| a.contact_center_id.as_deref() == Some(cc.as_str()))
            .ok_or(EngineError::NotFound("agent"))?;
        if !agent.ready() {
            return Err(conflict(
                "that agent is not available for a call now (not ready or no audio leg)",
            ));
        }
        Ok(to.to_owned())
    }

    pub(crate) async fn transfer(
        &mut self,
        agent_id: &str,
        call_id: &str,
        to: TransferTo,
        mode: TransferMode,
    ) -> EngineResult<models::Call> {
        let lead_leg = self.lead_leg_of(call_id)?;
        match (&to, mode) {
            (TransferTo::Agent(target), TransferMode::Blind) => {
                let target = self.transfer_target_agent(agent_id, call_id, target)?;
                self.media
                    .unbridge(&lead_leg)
                    .map_err(|e| conflict(e.to_string()))?;
                self.live_mut(call_id)?.row.agent_id = None;
                self.leave_call_to_available(agent_id).await?;
                if let Some(a) = self.agents.get_mut(agent_id) {
                    a.wrap_up_call_id = None;
                }
                self.presence_changed(agent_id).await?;
                let live = self.live_mut(call_id)?;
                live.row.on_hold = false;
                live.row.muted = false;
                self.step(
                    call_id,
                    CallStep::Transferred,
                    Some(format!("to agent {target}")),
                    None,
                )
                .await?;
                self.connect(call_id, &target, None, None).await?;
                self.ended_row(call_id).await
            }
            (TransferTo::Agent(target), TransferMode::Warm) => {
                let target = self.transfer_target_agent(agent_id, call_id, target)?;
                let pinned = self.pinned_of(&target)?;
                self.media
                    .hold(&lead_leg, true)
                    .map_err(|e| conflict(e.to_string()))?;
                self.media
                    .bridge(&lead_leg, &pinned)
                    .map_err(|e| conflict(e.to_string()))?;
                self.join_agent(&target, call_id).await?;
                self.start_transfer(
                    call_id,
                    Extra {
                        to: TransferTo::Agent(target.clone()),
                        leg: None,
                        purpose: ExtraPurpose::WarmTransfer,
                        answered: true,
                    },
                    Some(format!("warm to agent {target}: hang up to complete")),
                )
                .await
            }
            (TransferTo::Phone(phone), TransferMode::Blind) => {
                self.media
                    .transfer(&lead_leg, phone)
                    .map_err(|e| conflict(e.to_string()))?;
                self.start_transfer(
                    call_id,
                    Extra {
                        to: to.clone(),
                        leg: None,
                        purpose: ExtraPurpose::BlindTransfer,
                        answered: false,
                    },
                    Some(format!("blind to {phone}")),
                )
                .await
            }
            (TransferTo::Phone(phone), TransferMode::Warm) => {
                self.media
                    .hold(&lead_leg, true)
                    .map_err(|e| conflict(e.to_string()))?;
                let leg = self.originate_extra(call_id, phone, LegPurpose::Consult)?;
                self.start_transfer(
                    call_id,
                    Extra {
                        to: to.clone(),
                        leg: Some(leg),
                        purpose: ExtraPurpose::WarmTransfer,
                        answered: false,
                    },
                    Some(format!("warm to {phone}")),
                )
                .await
            }
        }
    }

    /// The lead holds while the transfer goes on.
    pub(crate) async fn start_transfer(
        &mut self,
        call_id: &str,
        extra: Extra,
        detail: Option<String>,
    ) -> EngineResult<models::Call> {
        let live = self.live_mut(call_id)?;
        live.extras.push(extra);
        live.row.state = CallState::Transferring.as_str().into();
        live.row.on_hold = true;
        self.step(call_id, CallStep::TransferStarted, detail, None)
            .await
    }

    pub(crate) fn originate_extra(
        &mut self,
        call_id: &str,
        phone: &str,
        purpose: LegPurpose,
    ) -> EngineResult<LegId> {
        let caller_id = self.live(call_id)?.row.caller_id.clone();
        self.may_act()?;
        let leg = self
            .media
            .originate(&Originate {
                to: phone.to_owned(),
                caller_id,
                ring_timeout: std::time::Duration::from_secs(30),
                purpose,
                hints: Vec::new(),
            })
            .map_err(|e| conflict(e.to_string()))?;
        self.legs.insert(
            leg.clone(),
            LegOf::Extra {
                call_id: call_id.to_owned(),
            },
        );
        Ok(leg)
    }

    pub(crate) async fn join_agent(&mut self, agent_id: &str, call_id: &str) -> EngineResult<()> {
        let now = self.clock.now();
        if let Some(a) = self.agents.get_mut(agent_id) {
            a.status = next(a.status, AgentEvent::CallConnected).map_err(|r| conflict(r.0))?;
            a.since = now;
            a.call_id = Some(call_id.to_owned());
        }
        self.live_mut(call_id)?
            .participant_agents
            .push(agent_id.to_owned());
        self.note_pinned_state(agent_id, PinnedLegState::Bridged);
        self.presence_changed(agent_id).await
    }

    pub(crate) async fn complete_warm_transfer(
        &mut self,
        agent_id: &str,
        call_id: &str,
    ) -> EngineResult<()> {
        let media = self.media.clone();
        let live = self.live_mut(call_id)?;
        let Some(pos) = live
            .extras
            .iter()
            .position(|e| e.purpose == ExtraPurpose::WarmTransfer)
        else {
            return Ok(());
        };
        let extra = live.extras.remove(pos);
        match extra.to {
            TransferTo::Agent(target) => {
                live.participant_agents.retain(|a| *a != target);
                live.row.agent_id = Some(target.clone());
                live.row.state = CallState::Connected.as_str().into();
                live.row.on_hold = false;
                live.row.muted = false;
                if let Some(leg) = &live.lead_leg {
                    let _ = media.hold(leg, false);
                }
                if let Some(a) = self.agents.get_mut(&target) {
                    a.wrap_up_call_id = Some(call_id.to_owned());
                }
                if let Some(a) = self.agents.get_mut(agent_id) {
                    a.wrap_up_call_id = None;
                }
                self.leave_call_to_available(agent_id).await?;
                self.step(
                    call_id,
                    CallStep::Transferred,
                    Some(format!("to agent {target}")),
                    None,
                )
                .await?;
            }
            TransferTo::Phone(phone) => {
                let joined = match (&live.lead_leg, &extra.leg) {
                    (Some(lead), Some(consult)) => media.join(lead, consult),
                    _ => Ok(()),
                };
                if let Err(e) = joined {
                    // The provider cannot put them together (no mixer on
                    // real legs yet): let the consulted party go rather
                    // than leave two callers on an open, silent line.
                    if let Some(consult) = &extra.leg {
                        media.hang_up(consult);
                        self.legs.remove(consult);
                    }
                    return self
                        .transfer_back(
                            call_id,
                            format!("{phone} could not be joined ({e}): the lead is back with you"),
                        )
                        .await;
                }
                // The lead and the consulted party carry on without us.
                if let Some(lead) = &live.lead_leg {
                    let _ = media.hold(lead, false);
                }
                let gone: Vec<LegId> = live.lead_leg.take().into_iter().chain(extra.leg).collect();
                for leg in gone {
                    self.legs.remove(&leg);
                }
                self.leave_media(agent_id);
                self.end(
                    call_id,
                    CallOutcome::Transferred,
                    Some(format!("warm to {phone}")),
                )
                .await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn blind_transfer_done(
        &mut self,
        call_id: &str,
        ok: bool,
    ) -> EngineResult<()> {
        let live = self.live_mut(call_id)?;
        let Some(pos) = live
            .extras
            .iter()
            .position(|e| e.purpose == ExtraPurpose::BlindTransfer)
        else {
            return Ok(());
        };
        let extra = live.extras.remove(pos);
        let to = match extra.to {
            TransferTo::Phone(p) | TransferTo::Agent(p) => p,
        };
        if ok {
            if let Some(leg) = live.lead_leg.take() {
                self.legs.remove(&leg);
            }
            self.end(
                call_id,
                CallOutcome::Transferred,
                Some(format!("blind to {to}")),
            )
            .await
        } else {
            self.transfer_failed(call_id, &to).await
        }
    }

    pub(crate) async fn transfer_failed(&mut self, call_id: &str, to: &str) -> EngineResult<()> {
        self.transfer_back(
            call_id,
            format!("{to} did not answer: the lead is back with you"),
        )
        .await
    }

    /// The transfer did not happen: the lead is back with the agent.
    async fn transfer_back(&mut self, call_id: &str, detail: String) -> EngineResult<()> {
        let live = self.live_mut(call_id)?;
        live.row.state = CallState::Connected.as_str().into();
        live.row.on_hold = false;
        if let Some(leg) = live.lead_leg.clone() {
            let _ = self.media.hold(&leg, false);
        }
        self.step(call_id, CallStep::TransferFailed, Some(detail), None)
            .await?;
        Ok(())
    }

    pub(crate) async fn add_participant(
        &mut self,
        agent_id: &str,
        call_id: &str,
        to: TransferTo,
    ) -> EngineResult<models::Call> {
        match &to {
            TransferTo::Agent(target) => {
                let target = self.transfer_target_agent(agent_id, call_id, target)?;
                let lead_leg = self.lead_leg_of(call_id)?;
                let pinned = self.pinned_of(&target)?;
                self.media
                    .bridge(&lead_leg, &pinned)
                    .map_err(|e| conflict(e.to_string()))?;
                self.join_agent(&target, call_id).await?;
                self.step(
                    call_id,
                    CallStep::ParticipantJoined,
                    Some(format!("agent {target}")),
                    None,
                )
                .await
            }
            TransferTo::Phone(phone) => {
                let leg = self.originate_extra(call_id, phone, LegPurpose::Participant)?;
                self.live_mut(call_id)?.extras.push(Extra {
                    to: to.clone(),
                    leg: Some(leg),
                    purpose: ExtraPurpose::Participant,
                    answered: false,
                });
                self.step(
                    call_id,
                    CallStep::ParticipantAdded,
                    Some(phone.clone()),
                    None,
                )
                .await
            }
        }
    }

    pub(crate) async fn extra_leg_event(
        &mut self,
        call_id: &str,
        event: MediaEvent,
    ) -> EngineResult<()> {
        let leg = event.leg().clone();
        let Some(live) = self.calls.get_mut(call_id) else {
            return Ok(());
        };
        let Some(pos) = live
            .extras
            .iter()
            .position(|e| e.leg.as_ref() == Some(&leg))
        else {
            return Ok(());
        };
        let extra = live.extras[pos].clone();
        let to = match &extra.to {
            TransferTo::Phone(p) | TransferTo::Agent(p) => p.clone(),
        };
        match event {
            MediaEvent::Answered { .. } => {
                live.extras[pos].answered = true;
                match extra.purpose {
                    ExtraPurpose::Participant => {
                        let joined = match live.lead_leg.clone() {
                            Some(lead) => self.media.join(&lead, &leg),
                            None => Ok(()),
                        };
                        if let Err(e) = joined {
                            live.extras.remove(pos);
                            self.legs.remove(&leg);
                            self.media.hang_up(&leg);
                            self.step(
                                call_id,
                                CallStep::ParticipantFailed,
                                Some(format!("{to} answered but could not be joined ({e})")),
                                None,
                            )
                            .await?;
                        } else {
                            self.step(call_id, CallStep::ParticipantJoined, Some(to), None)
                                .await?;
                        }
                    }
                    _ => {
                        // The agent talks with the consulted party while
                        // the lead holds (hears silence) on the same call.
                        let joined = match live.lead_leg.clone() {
                            Some(lead) => self.media.join(&lead, &leg),
                            None => Ok(()),
                        };
                        if let Err(e) = joined {
                            if let Some(live) = self.calls.get_mut(call_id) {
                                live.extras.retain(|x| x.leg.as_ref() != Some(&leg));
                            }
                            self.legs.remove(&leg);
                            self.media.hang_up(&leg);
                            return self
                                .transfer_back(
                                    call_id,
                                    format!("{to} answered but could not be joined ({e}): the lead is back with you"),
                                )
                                .await;
                        }
                        self.step(
                            call_id,
                            CallStep::TransferStarted,
                            Some(format!("{to} answered: hang up to complete the transfer")),
                            None,
                        )
                        .await?;
                    }
                }
            }
            MediaEvent::Busy { .. }
            | MediaEvent::NoAnswer { .. }
            | MediaEvent::Failed { .. }
            | MediaEvent::RemoteHangUp { .. } => {
                live.extras.remove(pos);
                self.legs.remove(&leg);
                match extra.purpose {
                    ExtraPurpose::Participant => {
                        let step = if extra.answered {
                            CallStep::Resumed
                        } else {
                            CallStep::ParticipantFailed
                        };
                        self.step(call_id, step, Some(format!("{to} left")), None)
                            .await?;
                    }
                    _ => self.transfer_failed(call_id, &to).await?,
                }
            }
            _ => {}
        }
        Ok(())
    }
}
