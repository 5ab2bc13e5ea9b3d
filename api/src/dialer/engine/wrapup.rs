//! The wrap-up that closes the loop: the agent's disposition, notes and
//! marks (Do-Not-Call, Do-Not-Text, invalid number) and callback, or the
//! automatic disposition when the campaign's wrap-up limit passes. The
//! wrap-up, the lead's next status, the list entries and the agent's
//! presence are written together; a DNC or invalid mark also withdraws
//! any call to the number not yet placed, in every campaign of the
//! organization. Retrying the same submission returns the stored wrap-up;
//! a different one within the edit window is a correction (audited), after
//! it a `CONFLICT`.

use chrono::{DateTime, Duration, Utc};

use super::calls::{CallStep, ts};
use super::follow_ups::Subject;
use super::{EngineError, EngineResult, State, conflict};
use crate::domain::agent::{AgentEvent, AgentStatus, next};
use crate::domain::call::{CallOutcome, CallState};
use crate::domain::campaign::{
    AttemptOutcome, CampaignSettings, DispositionCategory, after_attempt,
};
use crate::domain::eligibility::LeadStatus;
use crate::domain::wrap_up::correction_open;
use crate::events::EventKind;
use crate::store::{self, calls::LeadWrite, lists::List, models, wrap_ups::Mark};

pub const MAX_NOTES: usize = 4000;
/// The automatic disposition recorded when the wrap-up limit passes.
pub const AUTO_DISPOSITION: &str = "NO_DISPOSITION";

/// What the agent submits.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WrapUpSubmission {
    pub call_id: String,
    pub disposition_code: String,
    pub notes: String,
    pub do_not_call: bool,
    pub do_not_text: bool,
    /// WRONG_NUMBER, DISCONNECTED or OTHER.
    pub invalid_number: Option<String>,
    pub callback_at: Option<DateTime<Utc>>,
    pub callback_agent_id: Option<String>,
    pub next_status: AgentStatus,
    /// The called party revoked their consent to be called ("stop calling
    /// me"): recorded for the number across the organization at once.
    pub revoke_consent: bool,
}

impl WrapUpSubmission {
    /// The automatic one for a passed wrap-up limit.
    fn automatic(call_id: &str) -> Self {
        WrapUpSubmission {
            call_id: call_id.to_owned(),
            disposition_code: AUTO_DISPOSITION.into(),
            notes: String::new(),
            do_not_call: false,
            do_not_text: false,
            invalid_number: None,
            callback_at: None,
            callback_agent_id: None,
            next_status: AgentStatus::Available,
            revoke_consent: false,
        }
    }

    /// Whether it says what `w` already says (a retry, not a correction).
    fn same_as(&self, w: &models::WrapUp) -> bool {
        self.disposition_code == w.disposition_code && self.notes == w.notes && self.same_marks(w)
    }

    fn same_marks(&self, w: &models::WrapUp) -> bool {
        self.do_not_call == w.do_not_call
            && self.do_not_text == w.do_not_text
            && self.invalid_number == w.invalid_number
            && self.callback_at.map(ts) == w.callback_at
            && self.callback_agent_id == w.callback_agent_id
            && self.revoke_consent == w.revoke_consent
    }
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
        self.record_wrap_up(agent_id, WrapUpSubmission::automatic(call_id), true)
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
        // The same submission retried returns the stored wrap-up; a
        // different one is a correction.
        if let Some(existing) = store::wrap_ups::for_call(&self.db, &s.call_id).await? {
            if existing.agent_id != agent_id {
                return Err(conflict(
                    "this call's wrap-up was submitted by someone else",
                ));
            }
            let view = self
                .known_view(agent_id)
                .await
                .ok_or(EngineError::NotFound("agent"))?;
            if s.same_as(&existing) {
                return Ok((existing, view));
            }
            let wrap = self.correct_wrap_up(existing, &s).await?;
            return Ok((wrap, view));
        }
        self.record_wrap_up(agent_id, s, false).await
    }

    /// A different disposition or notes for a wrap-up already stored:
    /// within the edit window it replaces them (audited, and the lead's
    /// next status follows the new disposition unless the lead is being
    /// dialed again); after it, `CONFLICT`.
    async fn correct_wrap_up(
        &mut self,
        existing: models::WrapUp,
        s: &WrapUpSubmission,
    ) -> EngineResult<models::WrapUp> {
        let now = self.clock.now();
        correction_open(
            existing.created_at.and_utc(),
            now,
            self.config.wrap_up_edit_window,
        )
        .map_err(|closes| {
            conflict(format!(
                "this call's wrap-up can no longer be corrected: the edit window closed at {}",
                closes.format("%H:%M:%S UTC")
            ))
        })?;
        if !s.same_marks(&existing) {
            return Err(EngineError::Validation {
                field: "doNotCall",
                message: "a correction changes the disposition and notes only; \
                          Do-Not-Call, Do-Not-Text, invalid and callback marks are kept \
                          (change the lists instead)"
                    .into(),
            });
        }
        let call = store::calls::get(&self.db().await, &existing.call_id)
            .await?
            .ok_or(EngineError::NotFound("call"))?;
        let CallContext { campaign, lead } = self.call_context(&call).await?;
        let settings = campaign.as_ref().map(|(_, s)| s);
        if let Some(settings) = settings {
            check_disposition(settings, &s.disposition_code)?;
        }
        let lead_write = match (&lead, settings) {
            (Some(lead), Some(settings)) if lead.status != LeadStatus::Dialing.as_str() => {
                Some(lead_after_disposition(lead, settings, s, false, now)?)
            }
            _ => None,
        };
        let before = serde_json::json!({
            "dispositionCode": existing.disposition_code,
            "notes": existing.notes,
        });
        let mut wrap = existing;
        wrap.disposition_code = s.disposition_code.clone();
        wrap.notes = s.notes.clone();
        wrap.automatic = false;
        classify(&mut wrap, settings);
        wrap.updated_at = Some(ts(now));
        wrap.corrections += 1;
        let audit = store::audit::entry(
            &wrap.organization_id,
            Some(&wrap.agent_id),
            "wrap_up.correct",
            &wrap.id,
            serde_json::json!({
                "before": before,
                "after": {"dispositionCode": wrap.disposition_code, "notes": wrap.notes},
            })
            .to_string(),
        );
        let mut unchanged = lead_write.clone();
        let follow = self
            .follow_ups(
                Subject {
                    wrap: &wrap,
                    call: &call,
                    lead: lead.as_ref(),
                    campaign: campaign.as_ref(),
                    event: "wrap_up.corrected",
                    lead_actions: false,
                },
                &mut unchanged,
                now,
            )
            .await?;
        store::wrap_ups::correct(
            &self.db().await,
            &wrap,
            lead_write.as_ref(),
            &audit,
            &follow.outbox,
        )
        .await?;
        self.publish(
            &wrap.organization_id,
            EventKind::WrapUp {
                wrap_up: Box::new(wrap.clone()),
                call: Box::new(call),
                corrected: true,
            },
        );
        Ok(wrap)
    }

    /// What a wrap-up of `call` needs besides the call: its campaign with
    /// settings, and its lead, as stored now.
    async fn call_context(&mut self, call: &models::Call) -> EngineResult<CallContext> {
        read_context(&self.db().await, call).await
    }

    pub(crate) async fn record_wrap_up(
        &mut self,
        agent_id: &str,
        s: WrapUpSubmission,
        automatic: bool,
    ) -> EngineResult<(models::WrapUp, super::PresenceView)> {
        let now = self.clock.now();
        // After a restart the agent is met here first: from their last
        // written presence (OFFLINE, owing the wrap-up).
        let _ = self.known_view(agent_id).await;
        let owed = self
            .agents
            .get(agent_id)
            .and_then(|a| a.wrap_up_call_id.clone());
        let status = self.agents.get(agent_id).map(|a| a.status);
        let away = status == Some(AgentStatus::Offline) && !automatic;
        if owed.as_deref() != Some(s.call_id.as_str())
            || !(status == Some(AgentStatus::WrapUp) || away)
        {
            return Err(if owed.is_some() && status == Some(AgentStatus::OnCall) {
                conflict("the call is still connected: hang up first")
            } else {
                conflict("no wrap-up is pending for this call")
            });
        }
        // From here answers due go on while the database is awaited: the
        // agent in wrap-up is not one they can reach.
        let db = self.db_meanwhile().await;
        let call = self
            .meanwhile(store::calls::get(&db, &s.call_id))
            .await?
            .ok_or(EngineError::NotFound("call"))?;
        let CallContext { campaign, lead } = self.meanwhile(read_context(&db, &call)).await?;
        let settings = campaign.as_ref().map(|(_, s)| s);
        let mut lead_write = match (&lead, settings) {
            (Some(lead), Some(settings)) => {
                Some(lead_after_disposition(lead, settings, &s, automatic, now)?)
            }
            _ => None,
        };
        let from = status.unwrap_or(AgentStatus::WrapUp);
        let next_status = if automatic {
            next(from, AgentEvent::WrapUpTimedOut)
        } else {
            next(from, AgentEvent::WrapUpSubmitted(s.next_status))
        }
        .map_err(|r| EngineError::Validation {
            field: "nextStatus",
            message: r.0.into(),
        })?;
        let mut wrap = models::WrapUp {
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
            do_not_call: s.do_not_call,
            do_not_text: s.do_not_text,
            invalid_number: s.invalid_number.clone(),
            callback_at: s.callback_at.map(ts),
            callback_agent_id: s.callback_agent_id.clone(),
            updated_at: None,
            corrections: 0,
            wrap_ms: call.ended_at.map_or(0, |ended| {
                i32::try_from((ts(now) - ended).num_milliseconds().max(0)).unwrap_or(i32::MAX)
            }),
            category: String::new(),
            conversion: false,
            revoke_consent: s.revoke_consent,
        };
        classify(&mut wrap, settings);
        let follow = self
            .follow_ups(
                Subject {
                    wrap: &wrap,
                    call: &call,
                    lead: lead.as_ref(),
                    campaign: campaign.as_ref(),
                    event: "wrap_up.submitted",
                    lead_actions: !automatic,
                },
                &mut lead_write,
                now,
            )
            .await?;
        // The reads are done: answers due meanwhile go first (the agent in
        // wrap-up is not one they can reach).
        self.answers_first().await;
        let reason = format!("marked at wrap-up of call {}", call.id);
        let mut marks: Vec<Mark<'_>> = Vec::new();
        let mut mark = |list: List| {
            marks.push(Mark {
                list,
                entry: store::lists::NewEntry {
                    organization_id: &call.organization_id,
                    phone: &call.phone,
                    invalid_kind: if list == List::Invalid {
                        s.invalid_number.as_deref()
                    } else {
                        None
                    },
                    source: "WRAP_UP",
                    reason: &reason,
                    created_by: Some(agent_id),
                },
                audit: store::audit::entry(
                    &call.organization_id,
                    Some(agent_id),
                    &format!("list.{}.add", list.as_str().to_lowercase()),
                    &call.phone,
                    reason.clone(),
                ),
            })
        };
        if s.do_not_call {
            mark(List::DoNotCall);
        }
        if s.do_not_text {
            mark(List::DoNotText);
        }
        if s.invalid_number.is_some() {
            mark(List::Invalid);
        }
        let revocation = s.revoke_consent.then(|| {
            (
                models::Consent {
                    id: store::new_id(),
                    organization_id: call.organization_id.clone(),
                    phone: call.phone.clone(),
                    kind: store::consents::REVOKED.to_owned(),
                    at: ts(now),
                    method: "said on a call".into(),
                    source: reason.clone(),
                    lead_id: call.lead_id.clone(),
                    call_id: Some(call.id.clone()),
                    created_by: Some(agent_id.to_owned()),
                    created_at: ts(now),
                },
                store::audit::entry(
                    &call.organization_id,
                    Some(agent_id),
                    "consent.revoke",
                    &call.phone,
                    reason.clone(),
                ),
            )
        });
        // The agent stays in wrap-up in memory (no answer can reach them)
        // until the wrap-up is written: answers due meanwhile go on.
        let agent = self
            .agents
            .get(agent_id)
            .ok_or(EngineError::NotFound("agent"))?;
        let since = if agent.status != next_status {
            now
        } else {
            agent.since
        };
        let reason = if away { agent.reason.clone() } else { None };
        let row = models::Presence {
            user_id: agent.agent_id.clone(),
            organization_id: agent.organization_id.clone(),
            contact_center_id: agent.contact_center_id.clone(),
            status: next_status.as_str().into(),
            reason: reason.clone(),
            since: ts(since),
            pending_wrap_up_call_id: None,
            updated_at: ts(now),
        };
        let db = self.db_meanwhile().await;
        self.meanwhile(store::wrap_ups::submit(
            &db,
            &wrap,
            lead_write.as_ref(),
            &marks,
            revocation.as_ref(),
            &row,
            &follow,
        ))
        .await?;
        let agent = self
            .agents
            .get_mut(agent_id)
            .ok_or(EngineError::NotFound("agent"))?;
        if agent.status == AgentStatus::WrapUp
            && let Some(ctx) = call
                .campaign_id
                .as_ref()
                .and_then(|c| self.campaigns.get_mut(c))
        {
            let secs = (now - agent.since).num_milliseconds() as f64 / 1000.0;
            ctx.history.wrap(secs);
        }
        agent.since = since;
        agent.status = next_status;
        agent.wrap_up_call_id = None;
        agent.reason = reason;
        if next_status == AgentStatus::Available {
            agent.idle_since = now;
        }
        drop(marks);
        if s.do_not_call || s.invalid_number.is_some() {
            self.withdraw_calls_to(&call.organization_id, &call.phone)
                .await?;
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
            EventKind::WrapUp {
                wrap_up: Box::new(wrap.clone()),
                call: Box::new(call.clone()),
                corrected: false,
            },
        );
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

/// [`State::call_context`] once the engine's writes are in (`db` from
/// [`State::db`]).
async fn read_context(db: &store::Db, call: &models::Call) -> EngineResult<CallContext> {
    let campaign = match &call.campaign_id {
        Some(id) => match store::campaigns::get(db, id).await? {
            Some(c) => {
                let settings = store::campaigns::settings_of(&c)?;
                Some((c, settings))
            }
            None => None,
        },
        None => None,
    };
    let lead = match &call.lead_id {
        Some(lead_id) => store::leads::get(db, lead_id).await?,
        None => None,
    };
    Ok(CallContext { campaign, lead })
}

impl State {
    /// A number just put on the DNC or invalid list: calls to it that are
    /// claimed but not placed (preview offers) in any campaign of the
    /// organization are withdrawn. (Claimed leads not yet offered are
    /// stopped by the check right before dialing.)
    pub(crate) async fn withdraw_calls_to(
        &mut self,
        organization_id: &str,
        phone: &str,
    ) -> EngineResult<()> {
        let offered: Vec<String> = self
            .calls
            .values()
            .filter(|c| {
                c.row.organization_id == organization_id
                    && c.row.phone == phone
                    && c.row.state == CallState::Offered.as_str()
            })
            .map(|c| c.row.id.clone())
            .collect();
        for call_id in offered {
            self.end(
                &call_id,
                CallOutcome::NotDialed,
                Some("withdrawn: the number was marked at another call's wrap-up".into()),
            )
            .await?;
        }
        Ok(())
    }
}

/// A call's campaign (row and settings) and lead.
struct CallContext {
    campaign: Option<(models::Campaign, CampaignSettings)>,
    lead: Option<models::Lead>,
}

/// The wrap-up's category and conversion flag, from its disposition in the
/// campaign's set as it is now (a code not in the set — an automatic
/// disposition, a call outside any campaign — is a non-contact).
fn classify(wrap: &mut models::WrapUp, settings: Option<&CampaignSettings>) {
    let d = settings.and_then(|s| s.disposition(&wrap.disposition_code).ok());
    wrap.category = d
        .map_or(DispositionCategory::NonContact, |d| d.category)
        .as_str()
        .to_owned();
    wrap.conversion = d.is_some_and(|d| d.conversion);
}

/// The disposition `code` of the campaign's set, as a `VALIDATION` error.
fn check_disposition<'a>(
    settings: &'a CampaignSettings,
    code: &str,
) -> EngineResult<&'a crate::domain::campaign::Disposition> {
    settings
        .disposition(code)
        .map_err(|message| EngineError::Validation {
            field: "dispositionCode",
            message,
        })
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
    // The limit passed: retried like an unanswered call.
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
    // The agent's disposition comes from the campaign's set, with a
    // callback or without.
    let disposition = check_disposition(settings, &s.disposition_code)?;
    // A number now on the DNC or invalid list is never dialed again, a
    // callback asked for or not.
    if s.do_not_call || s.invalid_number.is_some() {
        return Ok(write(LeadStatus::Finished, None, None));
    }
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
