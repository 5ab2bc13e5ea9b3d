//! Reports: campaign analytics and agent performance for any range
//! (supervisors and admins). The figures are folded in `domain::report`
//! from the store's hourly aggregates; definitions are there and in
//! docs/api.md.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::access::{self, require_role};
use super::campaign_api::load_campaign;
use super::error::{ApiError, ApiResult};
use super::{actor, app};
use crate::app::App;
use crate::domain::identity::Role as DomainRole;
use crate::domain::report::{self as rep, AgentSums, Count};
use crate::store::{self, Db, reports};

/// The longest range a report covers.
const LONGEST_RANGE_DAYS: i64 = 400;

#[derive(SimpleObject, Clone, Debug)]
pub struct KeyCount {
    pub key: String,
    pub count: i64,
}

fn key_counts(v: &[Count]) -> Vec<KeyCount> {
    v.iter()
        .map(|c| KeyCount {
            key: c.key.clone(),
            count: c.count,
        })
        .collect()
}

/// One UTC hour of a campaign (for charts of calls and contacts per hour).
#[derive(SimpleObject, Clone, Debug)]
pub struct ReportHour {
    pub hour: DateTime<Utc>,
    pub attempts: i64,
    pub live_answers: i64,
    pub connects: i64,
    pub abandoned: i64,
    pub contacts: i64,
}

/// A campaign over `[from, to)`. Rates are fractions (0.03 = 3 %).
#[derive(SimpleObject, Clone, Debug)]
pub struct CampaignReport {
    pub campaign_id: ID,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Calls placed.
    pub attempts: i64,
    /// Answered by a person.
    pub live_answers: i64,
    pub machine_answers: i64,
    /// Connected to an agent.
    pub connects: i64,
    /// Live answers that found no agent within 2 seconds.
    pub abandoned: i64,
    pub wrap_ups: i64,
    /// Wrap-ups whose disposition is not in the NON_CONTACT category.
    pub contacts: i64,
    /// Wrap-ups whose disposition is flagged as a conversion.
    pub conversions: i64,
    /// Abandoned ÷ live answers, over the range.
    pub abandon_rate: f64,
    /// The same since local midnight in the contact center's time zone,
    /// and over the 30 days before now (the regulator's measure).
    pub abandon_rate_today: f64,
    #[graphql(name = "abandonRate30d")]
    pub abandon_rate_30d: f64,
    /// Machine answers ÷ all answers.
    pub machine_rate: f64,
    /// Conversions ÷ contacts.
    pub conversion_rate: f64,
    /// Per connect.
    pub avg_talk_seconds: f64,
    pub avg_hold_seconds: f64,
    /// Per wrap-up (call ended → wrap-up submitted).
    pub avg_wrap_seconds: f64,
    /// Over the hours in which the campaign placed calls.
    pub calls_per_hour: f64,
    pub contacts_per_hour: f64,
    pub outcomes: Vec<KeyCount>,
    pub dispositions: Vec<KeyCount>,
    pub categories: Vec<KeyCount>,
    pub hours: Vec<ReportHour>,
    /// Now, whatever the range.
    pub leads_by_status: Vec<KeyCount>,
}

/// An agent's (or a team's) figures over some time. Seconds throughout.
#[derive(SimpleObject, Clone, Debug)]
pub struct PerformanceFigures {
    /// Calls connected to the agent.
    pub calls_handled: i64,
    pub talk_seconds: f64,
    pub hold_seconds: f64,
    pub wrap_up_seconds: f64,
    /// Time Available, waiting for a call.
    pub idle_seconds: f64,
    pub break_seconds: f64,
    /// Handle time (talk + hold + wrap) ÷ (handle + idle).
    pub occupancy: f64,
    /// Handle time ÷ calls handled.
    pub avg_handle_seconds: f64,
    pub dispositions: Vec<KeyCount>,
}

impl From<&AgentSums> for PerformanceFigures {
    fn from(s: &AgentSums) -> Self {
        let secs = |ms: i64| ms as f64 / 1000.0;
        PerformanceFigures {
            calls_handled: s.calls,
            talk_seconds: secs(s.talk_ms),
            hold_seconds: secs(s.hold_ms),
            wrap_up_seconds: secs(s.wrap_ms),
            idle_seconds: secs(s.idle_ms),
            break_seconds: secs(s.break_ms),
            occupancy: s.occupancy(),
            avg_handle_seconds: s.avg_handle_secs(),
            dispositions: key_counts(&s.disposition_counts()),
        }
    }
}

/// One local day (in the contact center's time zone).
#[derive(SimpleObject, Clone, Debug)]
pub struct PerformanceDay {
    pub date: NaiveDate,
    pub figures: PerformanceFigures,
}

fn days(d: &std::collections::BTreeMap<NaiveDate, AgentSums>) -> Vec<PerformanceDay> {
    d.iter()
        .map(|(date, s)| PerformanceDay {
            date: *date,
            figures: s.into(),
        })
        .collect()
}

#[derive(SimpleObject, Clone, Debug)]
pub struct AgentPerformance {
    pub agent: super::types::User,
    pub total: PerformanceFigures,
    pub days: Vec<PerformanceDay>,
}

/// A contact center's agents over `[from, to)`, and the whole team.
#[derive(SimpleObject, Clone, Debug)]
pub struct ContactCenterPerformance {
    pub contact_center_id: ID,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub time_zone: String,
    pub total: PerformanceFigures,
    pub days: Vec<PerformanceDay>,
    pub agents: Vec<AgentPerformance>,
}

/// The range asked for: `to` defaults to now, `from` to local midnight of
/// `to`'s day in `zone`; `from` must come before `to`, at most
/// 400 days apart.
pub fn range(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    zone: Tz,
) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let to = to.unwrap_or(now);
    let from = from.unwrap_or_else(|| local_midnight(to, zone));
    if from >= to {
        return Err(ApiError::validation("from", "must be before `to`"));
    }
    if to - from > TimeDelta::days(LONGEST_RANGE_DAYS) {
        return Err(ApiError::validation(
            "from",
            format!("a report covers at most {LONGEST_RANGE_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// The start of `at`'s local day in `zone`.
pub fn local_midnight(at: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
    let day = at.with_timezone(&zone).date_naive();
    day.and_hms_opt(0, 0, 0)
        .and_then(|m| zone.from_local_datetime(&m).earliest())
        .map_or(at - TimeDelta::days(1), |m| m.with_timezone(&Utc))
}

pub fn zone_of(cc: &store::models::ContactCenter) -> Tz {
    cc.time_zone.parse().unwrap_or(Tz::UTC)
}

pub(crate) async fn contact_center_zone(app: &App, contact_center_id: &str) -> ApiResult<Tz> {
    Ok(store::contact_centers::get(&app.db, contact_center_id)
        .await?
        .as_ref()
        .map_or(Tz::UTC, zone_of))
}

/// Abandonment today (local midnight in `zone`) and over the 30 days
/// before `now`.
pub async fn abandon_rates(
    db: &Db,
    campaign_id: &str,
    zone: Tz,
    now: DateTime<Utc>,
) -> ApiResult<(f64, f64)> {
    let (l30, a30) =
        reports::answers_since(db, campaign_id, (now - TimeDelta::days(30)).naive_utc()).await?;
    let (lt, at) =
        reports::answers_since(db, campaign_id, local_midnight(now, zone).naive_utc()).await?;
    Ok((
        rep::ratio(at as f64, lt as f64),
        rep::ratio(a30 as f64, l30 as f64),
    ))
}

/// A campaign's figures over `[from, to)`.
pub async fn campaign_figures(
    db: &Db,
    campaign_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<rep::CampaignFigures> {
    let (f, t) = (from.naive_utc(), to.naive_utc());
    let calls = reports::campaign_calls(db, campaign_id, f, t)
        .await?
        .into_iter()
        .map(|g| {
            Ok(rep::CallRow {
                hour: g.hour,
                outcome: g.outcome,
                answered_by: g.answered_by,
                dialed: g.dialed,
                connected: g.connected,
                calls: g.calls,
                talk_ms: g.talk_ms,
                hold_ms: g.hold_ms,
            })
        })
        .collect::<Result<Vec<_>, store::StoreError>>()?;
    let wraps = reports::campaign_wrap_ups(db, campaign_id, f, t)
        .await?
        .into_iter()
        .map(|g| {
            Ok(rep::WrapRow {
                hour: g.hour,
                disposition_code: g.disposition_code,
                category: g.category,
                conversion: g.conversion,
                wrap_ups: g.wrap_ups,
                wrap_ms: g.wrap_ms,
            })
        })
        .collect::<Result<Vec<_>, store::StoreError>>()?;
    Ok(rep::campaign(&calls, &wraps))
}

/// A contact center's agents over `[from, to)`; `now` closes the spans of
/// agents still in a status.
pub async fn team_figures(
    db: &Db,
    cc: &store::models::ContactCenter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<rep::TeamFigures> {
    let (f, t) = (from.naive_utc(), to.naive_utc());
    let calls = reports::agent_calls(db, &cc.id, f, t)
        .await?
        .into_iter()
        .map(|g| {
            Ok(rep::AgentCallRow {
                hour: g.hour,
                agent_id: g.agent_id,
                calls: g.calls,
                talk_ms: g.talk_ms,
                hold_ms: g.hold_ms,
            })
        })
        .collect::<Result<Vec<_>, store::StoreError>>()?;
    let wraps = reports::agent_wrap_ups(db, &cc.id, f, t)
        .await?
        .into_iter()
        .map(|g| {
            Ok(rep::AgentWrapRow {
                hour: g.hour,
                agent_id: g.agent_id,
                disposition_code: g.disposition_code,
                wrap_ups: g.wrap_ups,
                wrap_ms: g.wrap_ms,
            })
        })
        .collect::<Result<Vec<_>, store::StoreError>>()?;
    // Stored time is cut at hours: a range starting mid-hour takes that
    // hour's time from the hour it starts in.
    let hour_start = reports::hour_floor(f);
    let mut time: Vec<rep::AgentTimeRow> =
        store::presence::time_by_status(db, &cc.id, hour_start, t)
            .await?
            .into_iter()
            .map(|(hour, agent_id, status, ms)| rep::AgentTimeRow {
                agent_id,
                hour,
                status,
                ms,
            })
            .collect();
    // Agents in a status right now: the span so far counts too.
    let now = now.naive_utc();
    for p in store::presence::all(db).await? {
        if p.contact_center_id.as_deref() == Some(cc.id.as_str()) && p.status != "OFFLINE" {
            for (hour, ms) in store::presence::hour_pieces(p.since.max(f), now.min(t)) {
                time.push(rep::AgentTimeRow {
                    agent_id: p.user_id.clone(),
                    hour,
                    status: p.status.clone(),
                    ms,
                });
            }
        }
    }
    Ok(rep::team(&calls, &wraps, &time, zone_of(cc)))
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// A campaign's analytics over `[from, to)` (default: today so far in
    /// the contact center's time zone). Supervisors and admins.
    async fn campaign_report(
        &self,
        ctx: &Context<'_>,
        campaign_id: ID,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> ApiResult<CampaignReport> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let c = load_campaign(app, caller, &campaign_id).await?;
        let zone = contact_center_zone(app, &c.row.contact_center_id).await?;
        let (from, to) = range(from, to, app.engine.clock().now(), zone)?;
        let now = app.engine.clock().now();
        let f = campaign_figures(&app.db, &c.row.id, from, to).await?;
        let (today, d30) = abandon_rates(&app.db, &c.row.id, zone, now).await?;
        let leads = store::leads::count_by_status(&app.db, &c.row.id).await?;
        Ok(CampaignReport {
            campaign_id: ID(c.row.id.clone()),
            from,
            to,
            attempts: f.attempts,
            live_answers: f.live_answers,
            machine_answers: f.machine_answers,
            connects: f.connects,
            abandoned: f.abandoned,
            wrap_ups: f.wrap_ups,
            contacts: f.contacts,
            conversions: f.conversions,
            abandon_rate: f.abandon_rate,
            abandon_rate_today: today,
            abandon_rate_30d: d30,
            machine_rate: f.machine_rate,
            conversion_rate: f.conversion_rate,
            avg_talk_seconds: f.avg_talk_secs,
            avg_hold_seconds: f.avg_hold_secs,
            avg_wrap_seconds: f.avg_wrap_secs,
            calls_per_hour: f.calls_per_hour,
            contacts_per_hour: f.contacts_per_hour,
            outcomes: key_counts(&f.outcomes),
            dispositions: key_counts(&f.dispositions),
            categories: key_counts(&f.categories),
            hours: f
                .hours
                .iter()
                .map(|h| ReportHour {
                    hour: h.hour.and_utc(),
                    attempts: h.attempts,
                    live_answers: h.live_answers,
                    connects: h.connects,
                    abandoned: h.abandoned,
                    contacts: h.contacts,
                })
                .collect(),
            leads_by_status: leads
                .into_iter()
                .map(|(key, count)| KeyCount { key, count })
                .collect(),
        })
    }

    /// Agent performance in a contact center over `[from, to)` (default:
    /// today so far in its time zone), per agent and local day, and for
    /// the whole team. `agentId` narrows it to one agent. Supervisors and
    /// admins.
    async fn agent_performance(
        &self,
        ctx: &Context<'_>,
        contact_center_id: ID,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        agent_id: Option<ID>,
    ) -> ApiResult<ContactCenterPerformance> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let cc = access::load_contact_center(app, caller, &contact_center_id).await?;
        let zone = zone_of(&cc);
        let (from, to) = range(from, to, app.engine.clock().now(), zone)?;
        let now = app.engine.clock().now();
        let mut team = team_figures(&app.db, &cc, from, to, now).await?;
        if let Some(only) = &agent_id {
            team.agents.retain(|a| a.agent_id == only.as_str());
        }
        let mut agents = Vec::with_capacity(team.agents.len());
        for a in &team.agents {
            let Some(user) = store::users::get(&app.db, &a.agent_id).await? else {
                continue;
            };
            agents.push(AgentPerformance {
                agent: super::types::User(user),
                total: (&a.total).into(),
                days: days(&a.days),
            });
        }
        let (total, team_days) = match &agent_id {
            Some(_) => match team.agents.first() {
                Some(a) => ((&a.total).into(), days(&a.days)),
                None => ((&AgentSums::default()).into(), Vec::new()),
            },
            None => ((&team.total).into(), days(&team.days)),
        };
        Ok(ContactCenterPerformance {
            contact_center_id: ID(cc.id.clone()),
            from,
            to,
            time_zone: zone.name().to_owned(),
            total,
            days: team_days,
            agents,
        })
    }
}
