//! A clean stop (SIGTERM, Ctrl-C): the engine places no new calls, ends
//! every live call at once — the media hung up with a reason, the end and
//! its talk time written, ENDED published to agents and supervisors — and
//! sets every agent OFFLINE, keeping the wrap-up they owe for when they
//! come back (leased, the agents are left as they are for the instance
//! that takes the center: it brings back those still connected). What the database cannot take (an outage at the stop) is
//! left to the next start, which ends such calls at the last heartbeat.

use super::{Drained, State};
use crate::domain::agent::AgentStatus;
use crate::domain::call::{CallOutcome, CallState};

impl State {
    pub(crate) async fn drain(&mut self) -> Drained {
        self.draining = true;
        let mut out = Drained::default();
        let mut calls: Vec<(String, bool)> = self
            .calls
            .values()
            .map(|c| (c.row.id.clone(), c.row.state == CallState::Offered.as_str()))
            .collect();
        calls.sort();
        for (call_id, offered) in calls {
            // An offer never dialed goes back as it was; a placed call ends
            // as cut off by the server (its lead is tried again).
            let (outcome, why) = if offered {
                (CallOutcome::NotDialed, "withdrawn: the server is stopping")
            } else {
                (CallOutcome::ServerRestart, "the server is stopping")
            };
            match self.end(&call_id, outcome, Some(why.into())).await {
                Ok(()) => out.calls_ended += 1,
                Err(e) => tracing::error!(call = %call_id, "ending a call at the stop: {e}"),
            }
        }
        let mut agents: Vec<String> = self
            .agents
            .values()
            .filter(|a| a.status != AgentStatus::Offline)
            .map(|a| a.agent_id.clone())
            .collect();
        agents.sort();
        for agent_id in agents {
            if self.fence.is_some() {
                // Leased: the center is handed to another instance, which
                // brings the agents still connected back as they are (with
                // a pinned leg of its own). Only this one's legs go.
                self.drop_pinned_leg(&agent_id);
                continue;
            }
            match self.end_session(&agent_id).await {
                Ok(()) => out.agents_offline += 1,
                Err(e) => {
                    tracing::error!(agent = %agent_id, "setting an agent OFFLINE at the stop: {e}")
                }
            }
        }
        self.synced().await;
        if self.behind() {
            self.catch_up().await;
        }
        out.unwritten = self.journal.len();
        out
    }

    /// Refuse what would start something new while stopping.
    pub(crate) fn not_stopping(&self) -> super::EngineResult<()> {
        if self.draining {
            return Err(super::EngineError::Unavailable {
                cause: crate::store::Outage::Gone,
                message: "the server is stopping: try again in a moment".into(),
            });
        }
        Ok(())
    }
}
