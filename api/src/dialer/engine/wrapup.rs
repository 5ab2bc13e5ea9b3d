//! The wrap-up that closes the loop (minimal here; the wrap-up issue
//! completes it): the agent's disposition and notes, or the automatic one
//! when the campaign's wrap-up limit passes; the lead's next status, the
//! wrap-up and the agent's presence written together.

use chrono::{DateTime, Duration, Utc};

use super::calls::{CallStep, ts};
use super::{EngineError, EngineResult, State, conflict};
use crate::domain::agent::{AgentEvent, AgentStatus, next};
use crate::domain::campaign::{
    AttemptOutcome, CampaignSettings, DispositionCategory, after_attempt,
};
use crate::domain::eligibility::LeadStatus;
use crate::events::EventKind;
use crate::store::{self, calls::LeadWrite, models};

pub const MAX_NOTES: usize = 4000;
/// The automatic disposition recorded when the wrap-up limit passes.
pub const AUTO_DISPOSITION: &str = "NO_DISPOSITION";

/// A minimal wrap-up (the wrap-up issue completes it).
#[derive(Debug, Clone)]
pub struct WrapUpSubmission {
    pub call_id: String,
    pub disposition_code: String,
    pub notes: String,
    pub callback_at: Option<DateTime<Utc>>,
    pub callback_agent_id: Option<String>,
    pub next_status: AgentStatus,
}

impl State {
    pub(crate) async fn wrap_up_limit(
        &mut self,
        agent_id: &str,
        call_id: &str,
    ) -> EngineResult<()> {
        let owed = self.agents.get(agent_id).is_some_and(|a| {
            a.status == AgentStatus::WrapUp && a.wrap_up_call_id.as_deref() == Some(call_id)
        });
        if !owed {
            return Ok(());
        }
        self.record_wrap_up(
            agent_id,
            WrapUpSubmission {
                call_id: call_id.to_owned(),
                disposition_code: AUTO_DISPOSITION.into(),
                notes: String::new(),
                callback_at: None,
                callback_agent_id: None,
                next_status: AgentStatus::Available,
            },
            true,
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn submit_wrap_up(
        &mut self,
        agent_id: &str,
        s: WrapUpSubmission,
    ) -> EngineResult<(models::WrapUp, super::PresenceView)> {
        if s.notes.chars().count() > MAX_NOTES {
            return Err(EngineError::Validation {
                field: "notes",
                message: format!("must be at most {MAX_NOTES} characters"),
            });
        }
        // The same submission retried returns the stored wrap-up.
        if let Some(existing) = store::wrap_ups::for_call(&self.db, &s.call_id).await? {
            if existing.agent_id == agent_id
                && existing.disposition_code == s.disposition_code
                && existing.notes == s.notes
            {
                let view = self.view(agent_id).ok_or(EngineError::NotFound("agent"))?;
                return Ok((existing, view));
            }
            return Err(conflict("this call's wrap-up is already submitted"));
        }
        self.record_wrap_up(agent_id, s, false).await
    }

    pub(crate) async fn record_wrap_up(
        &mut self,
        agent_id: &str,
        s: WrapUpSubmission,
        automatic: bool,
    ) -> EngineResult<(models::WrapUp, super::PresenceView)> {
        let now = self.clock.now();
        let owed = self
            .agents
            .get(agent_id)
            .and_then(|a| a.wrap_up_call_id.clone());
        let status = self.agents.get(agent_id).map(|a| a.status);
        if owed.as_deref() != Some(s.call_id.as_str()) || status != Some(AgentStatus::WrapUp) {
            return Err(if owed.is_some() && status == Some(AgentStatus::OnCall) {
                conflict("the call is still connected: hang up first")
            } else {
                conflict("no wrap-up is pending for this call")
            });
        }
        let call = store::calls::get(&self.db, &s.call_id)
            .await?
            .ok_or(EngineError::NotFound("call"))?;
        let settings = match &call.campaign_id {
            Some(id) => match store::campaigns::get(&self.db, id).await? {
                Some(c) => Some(store::campaigns::settings_of(&c)?),
                None => None,
            },
            None => None,
        };
        let lead_write = match (&call.lead_id, &settings) {
            (Some(lead_id), Some(settings)) => {
                let lead = store::leads::get(&self.db, lead_id).await?;
                lead.map(|lead| lead_after_disposition(&lead, settings, &s, automatic, now))
                    .transpose()?
            }
            _ => None,
        };
        let next_status = if automatic {
            next(AgentStatus::WrapUp, AgentEvent::WrapUpTimedOut)
        } else {
            next(
                AgentStatus::WrapUp,
                AgentEvent::WrapUpSubmitted(s.next_status),
            )
        }
        .map_err(|r| EngineError::Validation {
            field: "nextStatus",
            message: r.0.into(),
        })?;
        let wrap = models::WrapUp {
            id: store::new_id(),
            organization_id: call.organization_id.clone(),
            call_id: call.id.clone(),
            campaign_id: call.campaign_id.clone(),
            lead_id: call.lead_id.clone(),
            agent_id: agent_id.to_owned(),
            disposition_code: s.disposition_code.clone(),
            notes: s.notes.clone(),
            automatic,
            created_at: ts(now),
        };
        let agent = self
            .agents
            .get_mut(agent_id)
            .ok_or(EngineError::NotFound("agent"))?;
        let before = agent.clone();
        agent.status = next_status;
        agent.since = now;
        agent.wrap_up_call_id = None;
        agent.reason = None;
        if next_status == AgentStatus::Available {
            agent.idle_since = now;
        }
        let row = models::Presence {
            user_id: agent.agent_id.clone(),
            organization_id: agent.organization_id.clone(),
            contact_center_id: agent.contact_center_id.clone(),
            status: next_status.as_str().into(),
            reason: None,
            since: ts(now),
            pending_wrap_up_call_id: None,
            updated_at: ts(now),
        };
        if let Err(e) = store::wrap_ups::submit(&self.db, &wrap, lead_write.as_ref(), &row).await {
            self.agents.insert(agent_id.to_owned(), before);
            return Err(e.into());
        }
        self.sync_pinned_leg(agent_id)?;
        let view = self.view(agent_id).ok_or(EngineError::NotFound("agent"))?;
        self.publish(
            &call.organization_id,
            EventKind::Presence(Box::new(view.clone())),
        );
        let org = call.organization_id.clone();
        self.publish(
            &org,
            EventKind::Call {
                step: CallStep::WrappedUp,
                call: Box::new(call),
                detail: Some(
                    if automatic {
                        "wrap-up limit passed: automatic disposition"
                    } else {
                        "wrapped up"
                    }
                    .into(),
                ),
            },
        );
        if next_status == AgentStatus::Available {
            self.route_waiting().await?;
            self.pace_soon();
        }
        Ok((wrap, view))
    }
}

/// The lead's status after the agent's disposition.
fn lead_after_disposition(
    lead: &models::Lead,
    settings: &CampaignSettings,
    s: &WrapUpSubmission,
    automatic: bool,
    now: DateTime<Utc>,
) -> EngineResult<LeadWrite> {
    let write =
        |status: LeadStatus, not_before: Option<DateTime<Utc>>, agent: Option<String>| LeadWrite {
            lead_id: lead.id.clone(),
            status: status.as_str().into(),
            not_before: not_before.map(ts),
            attempt: None,
            abandoned: false,
            callback_agent_id: agent,
        };
    if let Some(at) = s.callback_at {
        if at <= now {
            return Err(EngineError::Validation {
                field: "callbackAt",
                message: "must be in the future".into(),
            });
        }
        let tz = lead
            .time_zone
            .as_deref()
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok());
        if let Some(tz) = tz {
            let ring = Duration::seconds(settings.ring_timeout_secs.into());
            if !settings.calling_window.is_open_for(tz, at, ring) {
                let next = settings
                    .calling_window
                    .next_open(tz, at, ring)
                    .map(|t| {
                        t.with_timezone(&tz)
                            .format("%a %Y-%m-%d %H:%M %Z")
                            .to_string()
                    })
                    .unwrap_or_else(|| "never".into());
                return Err(EngineError::Validation {
                    field: "callbackAt",
                    message: format!(
                        "is outside the lead's calling window; the next allowed time is {next}"
                    ),
                });
            }
        }
        return Ok(write(
            LeadStatus::Callback,
            Some(at),
            s.callback_agent_id.clone(),
        ));
    }
    if automatic {
        let attempts = u32::try_from(lead.attempts).unwrap_or(u32::MAX);
        let (status, at) = after_attempt(
            settings,
            attempts.saturating_sub(1),
            AttemptOutcome::NoAnswer,
            now,
        );
        return Ok(write(status, at, None));
    }
    let disposition = settings
        .dispositions
        .iter()
        .find(|d| d.code == s.disposition_code)
        .ok_or_else(|| EngineError::Validation {
            field: "dispositionCode",
            message: format!(
                "is not in the campaign's set ({})",
                settings
                    .dispositions
                    .iter()
                    .map(|d| d.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    if disposition.ends_lead
        || lead.attempts >= i32::try_from(settings.max_attempts).unwrap_or(i32::MAX)
    {
        return Ok(write(LeadStatus::Finished, None, None));
    }
    let delay = disposition
        .retry_delay_minutes
        .map(|m| Duration::minutes(m.into()))
        .unwrap_or_else(|| settings.retry_delays.for_outcome(AttemptOutcome::NoAnswer));
    let status = if disposition.category == DispositionCategory::Callback {
        LeadStatus::Callback
    } else {
        LeadStatus::Retry
    };
    Ok(write(status, Some(now + delay), None))
}
