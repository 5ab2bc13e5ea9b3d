//! Follow-up workflows: per-campaign rules "when the disposition is X (or
//! its category is Y) → do Z", applied when a wrap-up is submitted.
//!
//! Every matching rule is considered in position order. A lead can only go
//! one way, so the first matching rule that decides the lead's next step
//! (retry, callback, move) wins and later ones of that kind are ignored;
//! copies and webhooks all apply. A number just marked Do-Not-Call or
//! invalid is never retried, called back, moved or copied — its webhooks
//! still fire, with the marks in the payload.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::campaign::{CampaignSettings, DispositionCategory, str_enum};
use super::eligibility::LeadStatus;

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Dial the lead again after this many minutes (attempt limits hold).
    Retry { delay_minutes: u32 },
    /// Schedule a callback (for any agent) after this many minutes, moved
    /// to the lead's next calling-window opening if it falls outside.
    Callback { delay_minutes: u32 },
    /// Move the lead to another campaign of the organization (fresh: new,
    /// no attempts there yet).
    Move { campaign_id: String },
    /// Put a copy of the lead in another campaign (this one goes on as
    /// the disposition says).
    Copy { campaign_id: String },
    /// Send the wrap-up to a webhook endpoint.
    Webhook { endpoint_id: String },
}

/// An action's kind, as stored and in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Retry,
    Callback,
    Move,
    Copy,
    Webhook,
}

str_enum!(ActionKind {
    Retry => "RETRY",
    Callback => "CALLBACK",
    Move => "MOVE",
    Copy => "COPY",
    Webhook => "WEBHOOK",
});

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Retry { .. } => ActionKind::Retry,
            Action::Callback { .. } => ActionKind::Callback,
            Action::Move { .. } => ActionKind::Move,
            Action::Copy { .. } => ActionKind::Copy,
            Action::Webhook { .. } => ActionKind::Webhook,
        }
    }

    fn decides_lead(&self) -> bool {
        matches!(
            self,
            Action::Retry { .. } | Action::Callback { .. } | Action::Move { .. }
        )
    }
}

/// The longest delay a retry or callback rule may ask for (30 days).
pub const MAX_DELAY_MINUTES: u32 = 30 * 24 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    /// Matches this disposition code (none: any).
    pub disposition_code: Option<String>,
    /// Matches dispositions of this category (none: any).
    pub category: Option<DispositionCategory>,
    pub action: Action,
}

impl Rule {
    pub fn matches(&self, code: &str, category: DispositionCategory) -> bool {
        self.disposition_code.as_deref().is_none_or(|c| c == code)
            && self.category.is_none_or(|c| c == category)
    }
}

/// What a wrap-up's rules amount to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The lead's next step, when a rule decides it.
    pub lead: Option<Action>,
    /// Campaigns that get a copy of the lead.
    pub copies: Vec<String>,
    /// Endpoints that get the wrap-up.
    pub webhooks: Vec<String>,
    /// The rules that applied, in order (for the audit trail).
    pub applied: Vec<String>,
}

/// `rules` in position order; `marked`: the number was just put on the
/// Do-Not-Call or invalid list.
pub fn plan(rules: &[Rule], code: &str, category: DispositionCategory, marked: bool) -> Plan {
    let mut p = Plan::default();
    for r in rules.iter().filter(|r| r.matches(code, category)) {
        match &r.action {
            Action::Webhook { endpoint_id } => {
                if !p.webhooks.contains(endpoint_id) {
                    p.webhooks.push(endpoint_id.clone());
                }
            }
            _ if marked => continue,
            Action::Copy { campaign_id } => {
                if !p.copies.contains(campaign_id) {
                    p.copies.push(campaign_id.clone());
                }
            }
            a if a.decides_lead() => {
                if p.lead.is_some() {
                    continue;
                }
                p.lead = Some(a.clone());
            }
            _ => continue,
        }
        p.applied.push(r.id.clone());
    }
    p
}

/// Where a RETRY or CALLBACK rule sends the lead, decided at `now`:
/// a retry after its delay unless the campaign's attempts are used up
/// (then the lead is finished); a callback after its delay, moved to the
/// next opening of the lead's window (time zone `tz`, a call of `ring`
/// must fit) when it falls outside. `None` for actions that do not decide
/// the lead's status (MOVE decides its campaign, COPY and WEBHOOK
/// nothing).
pub fn lead_step(
    action: &Action,
    attempts: u32,
    settings: &CampaignSettings,
    tz: Option<Tz>,
    now: DateTime<Utc>,
) -> Option<(LeadStatus, Option<DateTime<Utc>>)> {
    match action {
        Action::Retry { .. } if attempts >= settings.max_attempts => {
            Some((LeadStatus::Finished, None))
        }
        Action::Retry { delay_minutes } => Some((
            LeadStatus::Retry,
            Some(now + Duration::minutes((*delay_minutes).into())),
        )),
        Action::Callback { delay_minutes } => {
            let at = now + Duration::minutes((*delay_minutes).into());
            let ring = Duration::seconds(settings.ring_timeout_secs.into());
            let at = match tz {
                Some(tz) if !settings.calling_window.is_open_for(tz, at, ring) => settings
                    .calling_window
                    .next_open(tz, at, ring)
                    .unwrap_or(at),
                _ => at,
            };
            Some((LeadStatus::Callback, Some(at)))
        }
        Action::Move { .. } | Action::Copy { .. } | Action::Webhook { .. } => None,
    }
}

/// Check a rule as given: something to match is optional (a rule with
/// neither matches every wrap-up), delays are bounded, a rule never moves
/// or copies a lead into its own campaign.
pub fn validate(rule: &Rule, own_campaign: &str) -> Result<(), (&'static str, String)> {
    match &rule.action {
        Action::Retry { delay_minutes } | Action::Callback { delay_minutes }
            if *delay_minutes == 0 || *delay_minutes > MAX_DELAY_MINUTES =>
        {
            Err((
                "delayMinutes",
                format!("must be between 1 and {MAX_DELAY_MINUTES} minutes (30 days)"),
            ))
        }
        Action::Move { campaign_id } | Action::Copy { campaign_id }
            if campaign_id == own_campaign =>
        {
            Err((
                "targetCampaignId",
                "must be another campaign than the rule's own".into(),
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DispositionCategory::*;

    fn rule(
        id: &str,
        code: Option<&str>,
        cat: Option<DispositionCategory>,
        action: Action,
    ) -> Rule {
        Rule {
            id: id.into(),
            disposition_code: code.map(Into::into),
            category: cat,
            action,
        }
    }

    fn hook(e: &str) -> Action {
        Action::Webhook {
            endpoint_id: e.into(),
        }
    }

    #[test]
    fn the_first_lead_rule_wins_and_copies_and_webhooks_all_apply() {
        let rules = [
            rule(
                "r1",
                Some("INTERESTED"),
                None,
                Action::Move {
                    campaign_id: "sales".into(),
                },
            ),
            rule(
                "r2",
                None,
                Some(Contact),
                Action::Retry { delay_minutes: 60 },
            ),
            rule(
                "r3",
                None,
                Some(Contact),
                Action::Copy {
                    campaign_id: "survey".into(),
                },
            ),
            rule("r4", None, None, hook("crm")),
            rule("r5", Some("NO_ANSWER"), None, hook("other")),
        ];
        let p = plan(&rules, "INTERESTED", Contact, false);
        assert_eq!(
            p.lead,
            Some(Action::Move {
                campaign_id: "sales".into()
            })
        );
        assert_eq!(p.copies, vec!["survey".to_owned()]);
        assert_eq!(p.webhooks, vec!["crm".to_owned()]);
        assert_eq!(p.applied, vec!["r1", "r3", "r4"]);
        let p = plan(&rules, "OTHER_CONTACT", Contact, false);
        assert_eq!(p.lead, Some(Action::Retry { delay_minutes: 60 }));
        let p = plan(&rules, "NO_ANSWER", NonContact, false);
        assert_eq!((p.lead, p.webhooks.len()), (None, 2));
    }

    #[test]
    fn a_marked_number_only_fires_webhooks() {
        let rules = [
            rule("r1", None, None, Action::Callback { delay_minutes: 5 }),
            rule(
                "r2",
                None,
                None,
                Action::Copy {
                    campaign_id: "x".into(),
                },
            ),
            rule("r3", None, None, hook("crm")),
        ];
        let p = plan(&rules, "NOT_INTERESTED", Final, true);
        assert_eq!(p.lead, None);
        assert!(p.copies.is_empty());
        assert_eq!(p.webhooks, vec!["crm".to_owned()]);
    }

    #[test]
    fn both_code_and_category_must_match_when_given() {
        let r = rule("r", Some("A"), Some(Final), hook("e"));
        assert!(r.matches("A", Final));
        assert!(!r.matches("A", Contact));
        assert!(!r.matches("B", Final));
    }

    #[test]
    fn lead_steps_keep_attempt_limits_and_the_calling_window() {
        let mut s = CampaignSettings::defaults();
        s.max_attempts = 3;
        // Noon in New York on a Tuesday.
        let noon: DateTime<Utc> = "2026-11-24T17:00:00Z".parse().unwrap();
        let ny = Some(Tz::America__New_York);
        let retry = Action::Retry { delay_minutes: 90 };
        assert_eq!(
            lead_step(&retry, 1, &s, ny, noon),
            Some((LeadStatus::Retry, Some(noon + Duration::minutes(90))))
        );
        assert_eq!(
            lead_step(&retry, 3, &s, ny, noon),
            Some((LeadStatus::Finished, None))
        );
        // 10 hours later is 22:00 there: the next morning at 08:00 instead.
        let callback = Action::Callback { delay_minutes: 600 };
        let morning: DateTime<Utc> = "2026-11-25T13:00:00Z".parse().unwrap();
        assert_eq!(
            lead_step(&callback, 1, &s, ny, noon),
            Some((LeadStatus::Callback, Some(morning)))
        );
        let soon = Action::Callback { delay_minutes: 30 };
        assert_eq!(
            lead_step(&soon, 1, &s, ny, noon),
            Some((LeadStatus::Callback, Some(noon + Duration::minutes(30))))
        );
        assert_eq!(lead_step(&hook("e"), 1, &s, ny, noon), None);
    }

    #[test]
    fn validation() {
        let own = "c1";
        assert!(
            validate(
                &rule("r", None, None, Action::Retry { delay_minutes: 0 }),
                own
            )
            .is_err()
        );
        assert!(
            validate(
                &rule(
                    "r",
                    None,
                    None,
                    Action::Retry {
                        delay_minutes: MAX_DELAY_MINUTES + 1
                    }
                ),
                own
            )
            .is_err()
        );
        assert!(
            validate(
                &rule(
                    "r",
                    None,
                    None,
                    Action::Move {
                        campaign_id: own.into()
                    }
                ),
                own
            )
            .is_err()
        );
        assert!(
            validate(
                &rule(
                    "r",
                    None,
                    None,
                    Action::Copy {
                        campaign_id: "c2".into()
                    }
                ),
                own
            )
            .is_ok()
        );
    }
}
