//! Starting again after a stop or a crash: calls that were in flight end
//! with outcome SERVER_RESTART (their leads are retried after the
//! campaign's delay, so none is dialed twice at once), leads claimed but
//! not dialed go back, and every agent is OFFLINE without a pinned leg —
//! keeping the wrap-up they owed for when they come back. All of it at the
//! last moment the server knew it was alive (its heartbeat, at most a
//! second old when it died), so a call cut off keeps the talk time it had
//! and the agents' time is not counted through the outage.

use chrono::{DateTime, Utc};

use super::calls::{CallStep, account_time};
use crate::domain::call::{CallOutcome, CallState};
use crate::domain::campaign::{AttemptOutcome, after_attempt};
use crate::domain::eligibility::LeadStatus;
use crate::store::{self, Db, StoreError, calls::LeadWrite, models};

/// What a recovery covers.
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    /// Every center: the one server starting (its last heartbeat is the
    /// last one of any, and they are forgotten).
    All,
    /// One contact center taken over from an instance that stopped
    /// renewing its lease, whose last heartbeat was `last_alive` (none:
    /// it left no heartbeat, or the center had no owner).
    Center {
        id: String,
        last_alive: Option<chrono::NaiveDateTime>,
    },
}

impl Scope {
    fn covers(&self, center: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Center { id, .. } => center == Some(id.as_str()),
        }
    }
}

/// An agent who was present in a center taken over: brought back as they
/// were (Available, or on Break with its reason) if a connection of
/// theirs is still open somewhere — a new pinned leg is opened for them
/// by the new owner (their page opens a browser one; a SIP phone is
/// called again).
#[derive(Debug, Clone)]
pub(crate) struct Returning {
    pub organization_id: String,
    pub agent_id: String,
    pub status: crate::domain::agent::AgentStatus,
    pub reason: Option<String>,
}

/// Recover `scope`; for one center taken over, who may come back.
pub(crate) async fn recover(
    db: &Db,
    now: DateTime<Utc>,
    scope: Scope,
) -> Result<Vec<Returning>, StoreError> {
    use crate::domain::agent::AgentStatus;
    let t = now.naive_utc();
    let last_alive = match &scope {
        Scope::All => store::heartbeats::take_last(db).await?,
        Scope::Center { last_alive, .. } => *last_alive,
    }
    .filter(|b| *b < t);
    // What the server last knew of: its heartbeat, or the record's own
    // last change when that is later (never after now).
    let alive_at = |known: chrono::NaiveDateTime| last_alive.map_or(t, |b| b.max(known).min(t));
    let mut open = store::calls::open(db).await?;
    open.retain(|c| scope.covers(Some(&c.contact_center_id)));
    let ended = open.len();
    for mut call in open {
        let placed = call.dialed_at.is_some();
        let end = alive_at(call.updated_at);
        call.state = CallState::Ended.as_str().into();
        call.outcome = Some(CallOutcome::ServerRestart.as_str().into());
        call.ended_at = Some(end);
        call.updated_at = t;
        call.on_hold = false;
        account_time(&mut call, end);
        let lead_write = match &call.lead_id {
            Some(lead_id) => lead_write(db, lead_id, &call, placed, now).await?,
            None => None,
        };
        let event = models::CallEventRow {
            id: store::new_id(),
            organization_id: call.organization_id.clone(),
            contact_center_id: call.contact_center_id.clone(),
            call_id: Some(call.id.clone()),
            agent_id: call.agent_id.clone(),
            kind: CallStep::Ended.as_str().into(),
            detail: serde_json::json!({
                "detail": "the server stopped while the call was in flight",
                "state": "ENDED",
            })
            .to_string(),
            at: end,
        };
        store::calls::save(db, &call, &[event], lead_write.as_ref()).await?;
    }
    let center = match &scope {
        Scope::All => None,
        Scope::Center { id, .. } => Some(id.as_str()),
    };
    let released = store::claims::release_orphans(db, t, center).await?;
    let mut offline = 0;
    let mut returning = Vec::new();
    for mut p in store::presence::all(db).await? {
        if p.status != "OFFLINE" && scope.covers(p.contact_center_id.as_deref()) {
            if matches!(scope, Scope::Center { .. }) {
                let on_break = p.status == AgentStatus::Break.as_str();
                returning.push(Returning {
                    organization_id: p.organization_id.clone(),
                    agent_id: p.user_id.clone(),
                    status: if on_break {
                        AgentStatus::Break
                    } else {
                        AgentStatus::Available
                    },
                    reason: p.reason.clone().filter(|_| on_break),
                });
            }
            p.status = "OFFLINE".into();
            p.reason = Some("server restarted".into());
            p.since = alive_at(p.since);
            p.updated_at = t;
            store::presence::save(db, &p).await?;
            offline += 1;
        }
    }
    if ended + released + offline > 0 {
        tracing::warn!(
            scope = ?scope,
            calls_ended = ended,
            leads_released = released,
            agents_offline = offline,
            "recovered from the last stop"
        );
    }
    Ok(returning)
}

async fn lead_write(
    db: &Db,
    lead_id: &str,
    call: &models::Call,
    placed: bool,
    now: DateTime<Utc>,
) -> Result<Option<LeadWrite>, StoreError> {
    let Some(lead) = store::leads::get(db, lead_id).await? else {
        return Ok(None);
    };
    if lead.status != LeadStatus::Dialing.as_str() {
        return Ok(None);
    }
    if !placed {
        return Ok(Some(LeadWrite {
            lead_id: lead.id.clone(),
            status: lead
                .claimed_from
                .clone()
                .unwrap_or_else(|| LeadStatus::New.as_str().into()),
            not_before: lead.not_before,
            attempt: None,
            abandoned: false,
            callback_agent_id: lead.callback_agent_id.clone(),
        }));
    }
    let settings = match &call.campaign_id {
        Some(id) => match store::campaigns::get(db, id).await? {
            Some(c) => Some(store::campaigns::settings_of(&c)?),
            None => None,
        },
        None => None,
    };
    let attempts = u32::try_from(lead.attempts).unwrap_or(u32::MAX);
    let (status, not_before) = match &settings {
        Some(s) => after_attempt(s, attempts, AttemptOutcome::Failed, now),
        None => (LeadStatus::Retry, Some(now + chrono::Duration::hours(24))),
    };
    Ok(Some(LeadWrite {
        lead_id: lead.id.clone(),
        status: status.as_str().into(),
        not_before: not_before.map(|t| t.naive_utc()),
        attempt: Some(CallOutcome::ServerRestart.as_str().into()),
        abandoned: false,
        callback_agent_id: None,
    }))
}
