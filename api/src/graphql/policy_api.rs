//! The organization's own calling rules over GraphQL (`domain::policy`):
//! read by supervisors and admins, set by admins (audited). Each change is
//! a new revision; the gate reads the revision in force at each decision.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};

use crate::domain::eligibility::RollingCap;
use crate::domain::identity::{FieldError, Role as DomainRole};
use crate::domain::policy::{self, ClosingDate, ClosingDay as DomainDay, Policy, Revision};
use crate::store::{self, audit};

use super::access::require_role;
use super::campaign_api::{DayHoursInput, week_of};
use super::campaign_types::{DayHours, day_hours};
use super::error::{ApiError, ApiResult};
use super::{actor, app};

/// What the organization adds to the law of each called party: it only
/// ever narrows (docs/compliance.md).
pub struct CompliancePolicy(pub Revision);

#[Object]
impl CompliancePolicy {
    /// 0: the default, never set.
    async fn revision(&self) -> u32 {
        self.0.revision
    }
    async fn set_at(&self) -> Option<DateTime<Utc>> {
        self.0.set_at
    }
    /// The id of the user (or API token) who set it.
    async fn set_by(&self) -> Option<&str> {
        self.0.set_by.as_deref()
    }
    /// The organization's calling hours per weekday, read on each lead's
    /// own clock (closed days left out); null: it adds no hours.
    async fn hours(&self) -> Option<Vec<DayHours>> {
        self.0.policy.hours.as_ref().map(day_hours)
    }
    /// Days it never calls.
    async fn closing_days(&self) -> Vec<ClosingDay> {
        self.0
            .policy
            .closing_days
            .iter()
            .map(|d| ClosingDay {
                name: d.name.clone(),
                date: d.date.text(),
            })
            .collect()
    }
    /// Caps on calls to one number across the organization, whichever
    /// campaign, contact center or lead.
    async fn caps(&self) -> Vec<NumberCap> {
        self.0
            .policy
            .caps
            .iter()
            .map(|c| NumberCap {
                max: c.max,
                within_hours: u32::try_from(c.within.num_hours()).unwrap_or(0),
            })
            .collect()
    }
}

/// A day the organization never calls.
#[derive(SimpleObject)]
pub struct ClosingDay {
    pub name: String,
    /// "MM-DD" every year, or "YYYY-MM-DD" once, in the lead's local date.
    pub date: String,
}

/// At most `max` calls to a number in any `withinHours`.
#[derive(SimpleObject)]
pub struct NumberCap {
    pub max: u32,
    pub within_hours: u32,
}

/// A new revision: what is left out stays as it is.
#[derive(InputObject)]
pub struct CompliancePolicyInput {
    /// Each day's hours (days not listed are closed); an empty list: the
    /// organization adds no hours of its own.
    pub hours: Option<Vec<DayHoursInput>>,
    /// At most 400.
    pub closing_days: Option<Vec<ClosingDayInput>>,
    /// At least one, at most 10: 1–1000 calls within 1–720 hours.
    pub caps: Option<Vec<NumberCapInput>>,
}

#[derive(InputObject)]
pub struct ClosingDayInput {
    pub name: String,
    /// "MM-DD" every year, or "YYYY-MM-DD" once.
    pub date: String,
}

#[derive(InputObject)]
pub struct NumberCapInput {
    pub max: u32,
    pub within_hours: u32,
}

#[derive(SimpleObject)]
pub struct CompliancePolicyPayload {
    pub policy: CompliancePolicy,
}

/// The policy `input` makes of `base`, checked.
fn merged(base: Policy, input: CompliancePolicyInput) -> Result<Policy, FieldError> {
    let mut p = base;
    if let Some(hours) = input.hours {
        p.hours = if hours.is_empty() {
            None
        } else {
            Some(week_of("hours", hours)?)
        };
    }
    if let Some(days) = input.closing_days {
        if days.len() > policy::MAX_HOLIDAYS {
            return Err(FieldError::new(
                "closingDays",
                format!("at most {} days", policy::MAX_HOLIDAYS),
            ));
        }
        p.closing_days = days
            .into_iter()
            .map(|d| {
                let date = ClosingDate::parse(&d.date).ok_or_else(|| {
                    FieldError::new(
                        "closingDays.date",
                        format!(
                            "{:?} is not a date: write MM-DD (every year) or YYYY-MM-DD (once)",
                            d.date
                        ),
                    )
                })?;
                Ok(DomainDay {
                    name: d.name.trim().to_owned(),
                    date,
                })
            })
            .collect::<Result<_, FieldError>>()?;
    }
    if let Some(caps) = input.caps {
        p.caps = caps
            .into_iter()
            .map(|c| RollingCap {
                max: c.max,
                within: Duration::hours(c.within_hours.into()),
            })
            .collect();
    }
    policy::validate(&p)?;
    Ok(p)
}

#[derive(Default)]
pub struct PolicyQuery;

#[Object]
impl PolicyQuery {
    /// The organization's own calling rules in force now (supervisors and
    /// admins).
    async fn compliance_policy(&self, ctx: &Context<'_>) -> ApiResult<CompliancePolicy> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let now = app.engine.clock().now();
        Ok(CompliancePolicy(
            store::policies::in_force(&app.db, &caller.organization_id, now).await?,
        ))
    }

    /// Every revision set, newest first (supervisors and admins): what an
    /// auditor reads next to the trail's `law.organizationPolicy`.
    async fn compliance_policy_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, validator(minimum = 1, maximum = 200))] first: i64,
    ) -> ApiResult<Vec<CompliancePolicy>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        store::policies::revisions(&app.db, &caller.organization_id, first)
            .await?
            .iter()
            .map(|r| Ok(CompliancePolicy(r.revision()?)))
            .collect()
    }
}

#[derive(Default)]
pub struct PolicyMutation;

#[Object]
impl PolicyMutation {
    /// Set the organization's own calling rules (admins; audited): hours
    /// per weekday, closing days and caps per number. They narrow what the
    /// law of each called party allows and never widen it; the gate applies
    /// them from this instant, at claim and again before dialing.
    async fn set_compliance_policy(
        &self,
        ctx: &Context<'_>,
        input: CompliancePolicyInput,
    ) -> ApiResult<CompliancePolicyPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let now = app.engine.clock().now();
        let org = &caller.organization_id;
        let current = store::policies::in_force(&app.db, org, now).await?;
        let next = merged(current.policy, input)?;
        let entry = audit::entry(
            org,
            Some(caller.audit_id()),
            "organization.policy",
            org,
            next.to_json(),
        );
        let revision = store::policies::set(
            &app.db,
            org,
            &next,
            caller.audit_id(),
            now.naive_utc(),
            &entry,
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Duplicate(_) => ApiError::Conflict(
                "another change to the policy was saved at the same moment: read it and save again"
                    .into(),
            ),
            e => e.into(),
        })?;
        Ok(CompliancePolicyPayload {
            policy: CompliancePolicy(revision),
        })
    }
}
