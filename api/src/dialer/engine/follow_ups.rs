//! A wrap-up's follow-ups: the campaign's rules (`domain::follow_up`)
//! turned into writes for the wrap-up's own transaction — the lead's next
//! step, moves and copies to other campaigns, and webhook outbox rows.

use chrono::{DateTime, Utc};

use super::calls::ts;
use super::{EngineResult, State};
use crate::domain::campaign::{CampaignSettings, CampaignState, DispositionCategory};
use crate::domain::eligibility::LeadStatus;
use crate::domain::follow_up::{self, Action, ActionKind, Rule};
use crate::store::{self, calls::LeadWrite, models, wrap_ups::FollowUpWrites};

/// A stored rule as the domain's, or `None` if it no longer makes sense
/// (logged and skipped, never fatal to a wrap-up).
pub fn rule_of(r: &store::follow_ups::RuleRow) -> Option<Rule> {
    let delay = || r.delay_minutes.and_then(|m| u32::try_from(m).ok());
    let action = match ActionKind::parse(&r.action)? {
        ActionKind::Retry => Action::Retry {
            delay_minutes: delay()?,
        },
        ActionKind::Callback => Action::Callback {
            delay_minutes: delay()?,
        },
        ActionKind::Move => Action::Move {
            campaign_id: r.target_campaign_id.clone()?,
        },
        ActionKind::Copy => Action::Copy {
            campaign_id: r.target_campaign_id.clone()?,
        },
        ActionKind::Webhook => Action::Webhook {
            endpoint_id: r.endpoint_id.clone()?,
        },
    };
    let category = match &r.category {
        Some(c) => Some(DispositionCategory::parse(c)?),
        None => None,
    };
    Some(Rule {
        id: r.id.clone(),
        disposition_code: r.disposition_code.clone(),
        category,
        action,
    })
}

/// What a follow-up needs to know about the wrap-up.
pub(crate) struct Subject<'a> {
    pub wrap: &'a models::WrapUp,
    pub call: &'a models::Call,
    pub lead: Option<&'a models::Lead>,
    /// The call's campaign and its settings.
    pub campaign: Option<&'a (models::Campaign, CampaignSettings)>,
    /// `wrap_up.submitted` or `wrap_up.corrected`.
    pub event: &'a str,
    /// Whether the rules may decide the lead's next step, move or copy it
    /// (a first submission; a correction only sends webhooks).
    pub lead_actions: bool,
}

impl State {
    pub(crate) async fn follow_ups(
        &self,
        s: Subject<'_>,
        lead_write: &mut Option<LeadWrite>,
        now: DateTime<Utc>,
    ) -> EngineResult<FollowUpWrites> {
        let mut out = FollowUpWrites::default();
        let Some((campaign, settings)) = s.campaign else {
            return Ok(out);
        };
        let rows = store::follow_ups::rules_of(&self.db, &campaign.id).await?;
        if rows.is_empty() {
            return Ok(out);
        }
        let rules: Vec<Rule> = rows
            .iter()
            .filter_map(|r| {
                let rule = rule_of(r);
                if rule.is_none() {
                    tracing::warn!(rule = %r.id, "follow-up rule skipped: stored malformed");
                }
                rule
            })
            .collect();
        let category =
            DispositionCategory::parse(&s.wrap.category).unwrap_or(DispositionCategory::NonContact);
        let marked = s.wrap.do_not_call || s.wrap.invalid_number.is_some();
        let plan = follow_up::plan(&rules, &s.wrap.disposition_code, category, marked);
        if s.lead_actions
            && let Some(lead) = s.lead
        {
            // An agent's own callback beats a rule's.
            if s.wrap.callback_at.is_none() {
                let attempts = u32::try_from(lead.attempts).unwrap_or(0);
                let tz = lead.time_zone.as_deref().and_then(|z| z.parse().ok());
                let step = plan
                    .lead
                    .as_ref()
                    .and_then(|a| follow_up::lead_step(a, attempts, settings, tz, now));
                if let Some((status, at)) = step {
                    set_lead(lead_write, lead, status, at);
                }
                if let Some(Action::Move {
                    campaign_id: target,
                }) = &plan.lead
                    && self.target_ok(s.wrap, target).await?
                {
                    out.move_to = Some(target.clone());
                }
            }
            for target in &plan.copies {
                if self.target_ok(s.wrap, target).await? {
                    out.copies.push(copy_of(lead, target, now));
                }
            }
        }
        let lead_status = lead_write.as_ref().map(|w| w.status.clone());
        for endpoint_id in &plan.webhooks {
            let Some(e) = store::follow_ups::endpoint(&self.db, endpoint_id).await? else {
                continue;
            };
            if e.organization_id != s.wrap.organization_id {
                continue;
            }
            let id = store::new_id();
            out.outbox.push(store::outbox::OutboxRow {
                payload: crate::webhooks::wrap_up_payload(
                    &id,
                    s.event,
                    s.wrap,
                    s.call,
                    s.lead,
                    if out.move_to.is_some() {
                        Some("NEW")
                    } else {
                        lead_status.as_deref()
                    },
                    Some(campaign),
                ),
                id,
                organization_id: e.organization_id.clone(),
                endpoint_id: e.id.clone(),
                event: s.event.to_owned(),
                created_at: ts(now),
                next_attempt_at: ts(now),
                attempts: 0,
                delivered_at: None,
                last_error: None,
            });
        }
        if !plan.applied.is_empty() {
            out.audit.push(store::audit::entry(
                &s.wrap.organization_id,
                Some(&s.wrap.agent_id),
                "follow_up.apply",
                &s.wrap.id,
                serde_json::json!({
                    "rules": plan.applied,
                    "moveTo": out.move_to,
                    "copies": out.copies.iter().map(|c| &c.campaign_id).collect::<Vec<_>>(),
                    "webhooks": out.outbox.len(),
                })
                .to_string(),
            ));
        }
        Ok(out)
    }

    /// A campaign a lead may be moved or copied to: the organization's,
    /// and not completed or archived.
    async fn target_ok(&self, wrap: &models::WrapUp, target: &str) -> EngineResult<bool> {
        let ok = store::campaigns::get(&self.db, target)
            .await?
            .filter(|c| c.organization_id == wrap.organization_id)
            .and_then(|c| CampaignState::parse(&c.state))
            .is_some_and(|s| !matches!(s, CampaignState::Completed | CampaignState::Archived));
        if !ok {
            tracing::warn!(
                target,
                "follow-up skipped: the target campaign is gone or closed"
            );
        }
        Ok(ok)
    }
}

/// The lead's next step as a rule decided it.
fn set_lead(
    w: &mut Option<LeadWrite>,
    lead: &models::Lead,
    status: LeadStatus,
    at: Option<DateTime<Utc>>,
) {
    *w = Some(LeadWrite {
        lead_id: lead.id.clone(),
        status: status.as_str().into(),
        not_before: at.map(ts),
        attempt: None,
        abandoned: false,
        callback_agent_id: None,
    });
}

/// A fresh copy of `lead` for campaign `target`.
fn copy_of(lead: &models::Lead, target: &str, now: DateTime<Utc>) -> models::Lead {
    let status = if lead.time_zone.is_some() {
        LeadStatus::New
    } else {
        LeadStatus::NeedsTimeZone
    };
    models::Lead {
        id: store::new_id(),
        organization_id: lead.organization_id.clone(),
        campaign_id: target.to_owned(),
        phone: lead.phone.clone(),
        first_name: lead.first_name.clone(),
        last_name: lead.last_name.clone(),
        time_zone: lead.time_zone.clone(),
        region: lead.region.clone(),
        time_zone_verified: lead.time_zone_verified,
        last_verdict: None,
        judged_at: None,
        custom_properties: lead.custom_properties.clone(),
        status: status.as_str().into(),
        priority: lead.priority,
        attempts: 0,
        not_before: None,
        last_attempt_at: None,
        last_outcome: None,
        last_abandoned_at: None,
        claimed_at: None,
        claimed_from: None,
        created_at: ts(now),
        updated_at: ts(now),
        callback_agent_id: None,
    }
}
