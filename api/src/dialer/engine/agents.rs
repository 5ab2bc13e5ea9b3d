//! Agents' presence and pinned legs: going AVAILABLE in a dialer-enabled
//! contact center brings the pinned leg up (CONNECTING → IDLE); it stays
//! through calls and wrap-ups and goes down on BREAK, OFFLINE, logout, or
//! when no live connection has been open for the grace period.

use chrono::{DateTime, Utc};

use super::{Due, EngineError, EngineResult, LegOf, State, conflict};
use crate::domain::agent::{AgentEvent, AgentStatus, next, wants_pinned_leg};
use crate::domain::call::CallState;
use crate::events::EventKind;
use crate::media::{LegId, PinnedLegKind};
use crate::store::{self, models};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PinnedLegState {
    Connecting,
    Idle,
    Bridged,
    Disconnected,
}

crate::domain::campaign::str_enum!(PinnedLegState {
    Connecting => "CONNECTING",
    Idle => "IDLE",
    Bridged => "BRIDGED",
    Disconnected => "DISCONNECTED",
});

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PinnedLeg {
    pub id: LegId,
    pub state: PinnedLegState,
    /// What carries it (a browser leg waits for the agent's page).
    pub kind: PinnedLegKind,
}

/// An agent as the engine keeps them.
#[derive(Debug, Clone)]
pub struct Agent {
    pub agent_id: String,
    pub organization_id: String,
    pub contact_center_id: Option<String>,
    pub dialer_enabled: bool,
    pub status: AgentStatus,
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
    pub idle_since: DateTime<Utc>,
    pub pinned: Option<PinnedLeg>,
    /// The call the agent is on (or is consulted on).
    pub call_id: Option<String>,
    /// The call whose wrap-up the agent owes.
    pub wrap_up_call_id: Option<String>,
    pub connections: u32,
    pub grace_epoch: u64,
}

/// An agent's presence, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PresenceView {
    pub agent_id: String,
    pub contact_center_id: Option<String>,
    pub status: AgentStatus,
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
    pub pinned_leg: Option<PinnedLeg>,
    pub call_id: Option<String>,
    pub wrap_up_call_id: Option<String>,
    /// A preview offered to this agent, waiting for Dial or Skip.
    pub offered_call_id: Option<String>,
}

impl Agent {
    fn view(&self) -> PresenceView {
        PresenceView {
            agent_id: self.agent_id.clone(),
            contact_center_id: self.contact_center_id.clone(),
            status: self.status,
            reason: self.reason.clone(),
            since: self.since,
            pinned_leg: self.pinned.clone(),
            call_id: self.call_id.clone(),
            // Owed once the call has ended: the call in progress is the
            // active call, not a wrap-up yet (the engine keeps it noted
            // from the connect on, so a restart mid-call still owes it).
            wrap_up_call_id: self
                .wrap_up_call_id
                .clone()
                .filter(|w| self.call_id.as_ref() != Some(w)),
            offered_call_id: None,
        }
    }

    /// Ready for a dialer call: AVAILABLE, pinned leg idle, no call.
    pub fn ready(&self) -> bool {
        self.status == AgentStatus::Available
            && self.call_id.is_none()
            && self
                .pinned
                .as_ref()
                .is_some_and(|p| p.state == PinnedLegState::Idle)
    }

    fn row(&self, now: DateTime<Utc>) -> models::Presence {
        models::Presence {
            user_id: self.agent_id.clone(),
            organization_id: self.organization_id.clone(),
            contact_center_id: self.contact_center_id.clone(),
            status: self.status.as_str().to_owned(),
            reason: self.reason.clone(),
            since: self.since.naive_utc(),
            pending_wrap_up_call_id: self.wrap_up_call_id.clone(),
            updated_at: now.naive_utc(),
        }
    }
}

impl State {
    /// The agent's live record, loaded from the last written presence the
    /// first time (a restart left them OFFLINE, maybe owing a wrap-up).
    pub(crate) async fn agent_entry(
        &mut self,
        organization_id: &str,
        agent_id: &str,
    ) -> EngineResult<&mut Agent> {
        let known = self
            .agents
            .get(agent_id)
            .is_some_and(|a| !a.organization_id.is_empty());
        if !known {
            let now = self.clock.now();
            let row = store::presence::get(&self.db().await, agent_id).await?;
            if let Some(user) = store::users::get(&self.db, agent_id).await? {
                self.media.agent_known(agent_id, &user.email);
            }
            // A connection may have been noted before the first status.
            let connections = self.agents.get(agent_id).map_or(0, |a| a.connections);
            let agent = Agent {
                agent_id: agent_id.to_owned(),
                organization_id: organization_id.to_owned(),
                contact_center_id: row.as_ref().and_then(|r| r.contact_center_id.clone()),
                dialer_enabled: false,
                status: AgentStatus::Offline,
                reason: None,
                since: row.as_ref().map_or(now, |r| r.since.and_utc()),
                idle_since: now,
                pinned: None,
                call_id: None,
                wrap_up_call_id: row.and_then(|r| r.pending_wrap_up_call_id),
                connections,
                grace_epoch: 0,
            };
            self.agents.insert(agent_id.to_owned(), agent);
        }
        self.agents
            .get_mut(agent_id)
            .ok_or(EngineError::NotFound("agent"))
    }

    /// Write and publish the agent's presence.
    pub(crate) async fn presence_changed(&mut self, agent_id: &str) -> EngineResult<()> {
        let now = self.clock.now();
        let Some(agent) = self.agents.get(agent_id) else {
            return Ok(());
        };
        let row = agent.row(now);
        let org = agent.organization_id.clone();
        self.write(super::journal::Pending::Write(
            crate::store::calls::EngineWrite::Presence(Box::new(row)),
        ))
        .await?;
        if let Some(view) = self.view(agent_id) {
            self.publish(&org, EventKind::Presence(Box::new(view)));
        }
        Ok(())
    }

    pub(crate) async fn set_status(
        &mut self,
        organization_id: &str,
        agent_id: &str,
        cc: &models::ContactCenter,
        wanted: AgentStatus,
        reason: Option<String>,
    ) -> EngineResult<PresenceView> {
        let now = self.clock.now();
        let agent = self.agent_entry(organization_id, agent_id).await?;
        let moving = agent.contact_center_id.as_deref() != Some(cc.id.as_str());
        if moving && matches!(agent.status, AgentStatus::OnCall | AgentStatus::WrapUp) {
            return Err(conflict(
                "you are on a call or in wrap-up in another contact center: finish there first",
            ));
        }
        // Coming back with a wrap-up owed (after a restart, or a lost
        // session mid-call): the wrap-up comes first.
        let owes = agent.wrap_up_call_id.clone();
        let status = if wanted == AgentStatus::Available && owes.is_some() {
            next(agent.status, AgentEvent::ReturnedOwingWrapUp)
                .or_else(|_| next(agent.status, AgentEvent::Chose(wanted)))
                .map_err(|r| conflict(r.0))?
        } else {
            next(agent.status, AgentEvent::Chose(wanted)).map_err(|r| conflict(r.0))?
        };
        if moving {
            self.drop_pinned_leg(agent_id);
        }
        let agent = self
            .agents
            .get_mut(agent_id)
            .ok_or(EngineError::NotFound("agent"))?;
        agent.contact_center_id = Some(cc.id.clone());
        agent.dialer_enabled = cc.dialer_enabled;
        let changed = agent.status != status || agent.reason != reason;
        if agent.status != status {
            agent.since = now;
        }
        agent.status = status;
        agent.reason = if status == AgentStatus::Break || status == AgentStatus::Offline {
            reason
        } else {
            None
        };
        if status == AgentStatus::Available {
            agent.idle_since = now;
        }
        let needs_grace = agent.connections == 0;
        self.sync_pinned_leg(agent_id)?;
        if needs_grace {
            self.start_grace(agent_id);
        }
        if changed || moving {
            self.presence_changed(agent_id).await?;
        }
        if status == AgentStatus::WrapUp
            && let Some(call_id) = owes
        {
            self.wrap_up_required(&call_id).await?;
        }
        if status == AgentStatus::Available {
            self.pace_soon();
        } else {
            // Offers wait only for agents who are there to take them.
            self.release_offers_of(agent_id).await?;
        }
        self.view(agent_id).ok_or(EngineError::NotFound("agent"))
    }

    /// The agent's view, from the last written presence when the engine
    /// has not met them since it started (after a restart: OFFLINE, and
    /// any wrap-up they still owe).
    pub(crate) async fn known_view(&mut self, agent_id: &str) -> Option<PresenceView> {
        let known = self
            .agents
            .get(agent_id)
            .is_some_and(|a| !a.organization_id.is_empty());
        if !known {
            match store::presence::get(&self.db().await, agent_id).await {
                Ok(Some(row)) => {
                    if let Err(e) = self.agent_entry(&row.organization_id, agent_id).await {
                        tracing::error!("loading {agent_id}'s presence: {e}");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::error!("loading {agent_id}'s presence: {e}"),
            }
        }
        self.view(agent_id)
    }

    /// What the API shows of an agent: their state and any offer waiting.
    pub(crate) fn view(&self, agent_id: &str) -> Option<PresenceView> {
        let mut view = self.agents.get(agent_id)?.view();
        view.offered_call_id = self
            .calls
            .values()
            .find(|c| {
                c.row.state == CallState::Offered.as_str()
                    && c.row.target_agent_id.as_deref() == Some(agent_id)
            })
            .map(|c| c.row.id.clone());
        Some(view)
    }

    /// Bring the pinned leg up or down to match the agent's status.
    pub(crate) fn sync_pinned_leg(&mut self, agent_id: &str) -> EngineResult<()> {
        let Some(agent) = self.agents.get(agent_id) else {
            return Ok(());
        };
        let wants = wants_pinned_leg(agent.status, agent.dialer_enabled);
        match (&agent.pinned, wants) {
            (None, true) => self.start_pinned_leg(agent_id)?,
            (Some(_), false) => self.drop_pinned_leg(agent_id),
            _ => {}
        }
        Ok(())
    }

    /// Ask the provider for the agent's pinned leg (CONNECTING).
    pub(crate) fn start_pinned_leg(&mut self, agent_id: &str) -> EngineResult<()> {
        let leg = self
            .media
            .create_pinned_leg(agent_id)
            .map_err(|e| conflict(format!("the pinned audio leg could not start: {e}")))?;
        let kind = self.media.pinned_leg_kind(&leg);
        self.legs.insert(
            leg.clone(),
            LegOf::Pinned {
                agent_id: agent_id.to_owned(),
            },
        );
        if let Some(agent) = self.agents.get_mut(agent_id) {
            agent.pinned = Some(PinnedLeg {
                id: leg,
                state: PinnedLegState::Connecting,
                kind,
            });
        }
        Ok(())
    }

    pub(crate) fn drop_pinned_leg(&mut self, agent_id: &str) {
        if let Some(pinned) = self.agents.get_mut(agent_id).and_then(|a| a.pinned.take()) {
            self.media.tear_down(&pinned.id);
            self.legs.remove(&pinned.id);
        }
    }

    /// The pinned leg's state changed and nothing else of the presence:
    /// published now.
    pub(crate) async fn set_pinned_state(
        &mut self,
        agent_id: &str,
        state: PinnedLegState,
    ) -> EngineResult<()> {
        if !self.note_pinned_state(agent_id, state) {
            return Ok(());
        }
        let Some(agent) = self.agents.get(agent_id) else {
            return Ok(());
        };
        let org = agent.organization_id.clone();
        if let Some(view) = self.view(agent_id) {
            self.publish(&org, EventKind::Presence(Box::new(view)));
        }
        Ok(())
    }

    /// Change the pinned leg's state without publishing: for steps that
    /// change more of the presence and publish it once
    /// ([`Self::presence_changed`]). True when it changed.
    pub(crate) fn note_pinned_state(&mut self, agent_id: &str, state: PinnedLegState) -> bool {
        let now = self.clock.now();
        let Some(agent) = self.agents.get_mut(agent_id) else {
            return false;
        };
        let Some(pinned) = agent.pinned.as_mut() else {
            return false;
        };
        if pinned.state == state {
            return false;
        }
        pinned.state = state;
        if state == PinnedLegState::Idle && agent.status == AgentStatus::Available {
            agent.idle_since = now;
        }
        true
    }

    /// The media provider reports a pinned leg up or lost.
    pub(crate) async fn pinned_leg_event(&mut self, agent_id: &str, up: bool) -> EngineResult<()> {
        if up {
            let bridged = self
                .agents
                .get(agent_id)
                .is_some_and(|a| a.call_id.is_some() && a.status == AgentStatus::OnCall);
            // Up again while a lead is on it (a browser came back from a
            // reload): bridged, the lead heard again.
            let state = if bridged {
                PinnedLegState::Bridged
            } else {
                PinnedLegState::Idle
            };
            self.set_pinned_state(agent_id, state).await?;
            self.route_waiting().await?;
            self.pace_soon();
        } else {
            // Lost: show it, and bring up a new one.
            self.set_pinned_state(agent_id, PinnedLegState::Disconnected)
                .await?;
            if let Some(p) = self.agents.get_mut(agent_id).and_then(|a| a.pinned.take()) {
                self.legs.remove(&p.id);
            }
            self.sync_pinned_leg(agent_id)?;
        }
        Ok(())
    }

    /// The agent's call left the pinned leg: IDLE again, unless the leg is
    /// not up (a browser leg waiting for its page stays DISCONNECTED or
    /// CONNECTING, so no call is routed to an agent who cannot hear it).
    pub(crate) fn pinned_leg_unbridged(&mut self, agent_id: &str) {
        let down = self
            .agents
            .get(agent_id)
            .and_then(|a| a.pinned.as_ref())
            .is_none_or(|p| {
                matches!(
                    p.state,
                    PinnedLegState::Disconnected | PinnedLegState::Connecting
                )
            });
        if !down {
            // The callers publish the presence once, status and leg together.
            self.note_pinned_state(agent_id, PinnedLegState::Idle);
        }
    }

    /// A browser leg dropped: shown DISCONNECTED while the page may come
    /// back (a reload) on the same leg.
    pub(crate) async fn pinned_leg_interrupted(&mut self, agent_id: &str) -> EngineResult<()> {
        self.set_pinned_state(agent_id, PinnedLegState::Disconnected)
            .await
    }

    /// The pinned leg cannot come up (or back): an AVAILABLE agent goes on
    /// BREAK with the reason, so no call is sent to someone who cannot
    /// hear it. On a call or in wrap-up the call goes on (hang-up and
    /// wrap-up need no audio); the leg shows DISCONNECTED and a new offer
    /// from the page still brings it back.
    pub(crate) async fn pinned_leg_failed(
        &mut self,
        agent_id: &str,
        reason: String,
    ) -> EngineResult<()> {
        let Some(agent) = self.agents.get(agent_id) else {
            return Ok(());
        };
        if agent.status != AgentStatus::Available {
            return self
                .set_pinned_state(agent_id, PinnedLegState::Disconnected)
                .await;
        }
        tracing::warn!(agent = agent_id, "{reason}: the agent goes on BREAK");
        let now = self.clock.now();
        if let Some(agent) = self.agents.get_mut(agent_id) {
            agent.status = AgentStatus::Break;
            agent.since = now;
            agent.reason = Some(reason);
        }
        self.release_offers_of(agent_id).await?;
        self.drop_pinned_leg(agent_id);
        self.presence_changed(agent_id).await
    }

    /// Logout, or the session vanished: any call ends (its wrap-up stays
    /// owed), the pinned leg goes down, OFFLINE.
    pub(crate) async fn end_session(&mut self, agent_id: &str) -> EngineResult<()> {
        let Some(agent) = self.agents.get(agent_id) else {
            return Ok(());
        };
        if agent.status == AgentStatus::Offline {
            return Ok(());
        }
        if let Some(call_id) = agent.call_id.clone() {
            self.agent_left_call(agent_id, &call_id).await?;
        }
        self.release_offers_of(agent_id).await?;
        let now = self.clock.now();
        if let Some(agent) = self.agents.get_mut(agent_id) {
            agent.status =
                next(agent.status, AgentEvent::SessionEnded).unwrap_or(AgentStatus::Offline);
            agent.since = now;
            agent.reason = Some("session ended".into());
            agent.call_id = None;
        }
        self.drop_pinned_leg(agent_id);
        self.presence_changed(agent_id).await
    }

    /// The agent moves to another center's engine: their pinned leg goes
    /// down and offers held for them go back; refused while they are on
    /// a call or in wrap-up here.
    pub(crate) async fn release_agent(&mut self, agent_id: &str) -> EngineResult<()> {
        let Some(agent) = self.agents.get(agent_id) else {
            return Ok(());
        };
        if matches!(agent.status, AgentStatus::OnCall | AgentStatus::WrapUp) {
            return Err(conflict(
                "you are on a call or in wrap-up in another contact center: finish there first",
            ));
        }
        self.release_offers_of(agent_id).await?;
        self.drop_pinned_leg(agent_id);
        self.agents.remove(agent_id);
        Ok(())
    }

    pub(crate) fn connection(&mut self, agent_id: &str, open: bool) {
        let Some(agent) = self.agents.get_mut(agent_id) else {
            if open {
                // Not present yet: remembered when they set a status.
                self.pending_connections(agent_id, 1);
            }
            return;
        };
        if open {
            agent.connections += 1;
            agent.grace_epoch += 1;
        } else {
            agent.connections = agent.connections.saturating_sub(1);
            if agent.connections == 0 {
                self.start_grace(agent_id);
            }
        }
    }

    fn pending_connections(&mut self, agent_id: &str, n: u32) {
        let now = self.clock.now();
        self.agents.insert(
            agent_id.to_owned(),
            Agent {
                agent_id: agent_id.to_owned(),
                organization_id: String::new(),
                contact_center_id: None,
                dialer_enabled: false,
                status: AgentStatus::Offline,
                reason: None,
                since: now,
                idle_since: now,
                pinned: None,
                call_id: None,
                wrap_up_call_id: None,
                connections: n,
                grace_epoch: 0,
            },
        );
    }

    fn start_grace(&mut self, agent_id: &str) {
        let grace = self.config.session_grace;
        if let Some(agent) = self.agents.get_mut(agent_id) {
            if agent.status == AgentStatus::Offline {
                return;
            }
            agent.grace_epoch += 1;
            let epoch = agent.grace_epoch;
            self.after(
                grace,
                Due::Grace {
                    agent_id: agent_id.to_owned(),
                    epoch,
                },
            );
        }
    }

    pub(crate) async fn grace_over(&mut self, agent_id: &str, epoch: u64) -> EngineResult<()> {
        let expired = self
            .agents
            .get(agent_id)
            .is_some_and(|a| a.grace_epoch == epoch && a.connections == 0);
        if expired {
            tracing::info!(agent_id, "no live connection for the grace period: OFFLINE");
            self.end_session(agent_id).await?;
        }
        Ok(())
    }
}
