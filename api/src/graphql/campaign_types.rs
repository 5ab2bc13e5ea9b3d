//! Campaign and lead types of the schema.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc, Weekday as ChronoWeekday};

use crate::domain::campaign as dc;
use crate::domain::eligibility::LeadStatus as DomainLeadStatus;
use crate::domain::window::CallingWindow as DomainWindow;
use crate::store::{self, models};

use super::connection::{Cursor, connection, page_args};
use super::error::{ApiError, ApiResult};
use super::types::{ContactCenter, utc};
use super::{actor, app};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::campaign::DialMode")]
pub enum DialMode {
    Preview,
    Progressive,
    Predictive,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::campaign::CampaignState")]
pub enum CampaignState {
    Draft,
    Running,
    Paused,
    Completed,
    Archived,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::campaign::MachineHandling")]
pub enum MachineHandling {
    HangUp,
    LeaveMessage,
    ConnectAgent,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::campaign::DispositionCategory")]
pub enum DispositionCategory {
    Contact,
    NonContact,
    Callback,
    Final,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::eligibility::LeadStatus")]
pub enum LeadStatus {
    New,
    Retry,
    Callback,
    Dialing,
    Finished,
    NeedsTimeZone,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<Weekday> for ChronoWeekday {
    fn from(d: Weekday) -> Self {
        match d {
            Weekday::Monday => ChronoWeekday::Mon,
            Weekday::Tuesday => ChronoWeekday::Tue,
            Weekday::Wednesday => ChronoWeekday::Wed,
            Weekday::Thursday => ChronoWeekday::Thu,
            Weekday::Friday => ChronoWeekday::Fri,
            Weekday::Saturday => ChronoWeekday::Sat,
            Weekday::Sunday => ChronoWeekday::Sun,
        }
    }
}

impl From<ChronoWeekday> for Weekday {
    fn from(d: ChronoWeekday) -> Self {
        match d {
            ChronoWeekday::Mon => Weekday::Monday,
            ChronoWeekday::Tue => Weekday::Tuesday,
            ChronoWeekday::Wed => Weekday::Wednesday,
            ChronoWeekday::Thu => Weekday::Thursday,
            ChronoWeekday::Fri => Weekday::Friday,
            ChronoWeekday::Sat => Weekday::Saturday,
            ChronoWeekday::Sun => Weekday::Sunday,
        }
    }
}

/// Days and local times a lead may be called, in the lead's own zone.
#[derive(SimpleObject)]
pub struct CallingWindow {
    /// The days with hours.
    pub days: Vec<Weekday>,
    /// "HH:MM", lead's local time: the earliest opening of any day.
    pub start: String,
    /// "HH:MM", lead's local time (exclusive): the latest close of any day.
    pub end: String,
    /// Each day's own hours, Monday first (closed days left out): the
    /// window exactly, when the days differ.
    pub hours: Vec<DayHours>,
}

impl From<DomainWindow> for CallingWindow {
    fn from(w: DomainWindow) -> Self {
        CallingWindow {
            days: w.days().iter().map(Weekday::from).collect(),
            start: w.earliest_start().format("%H:%M").to_string(),
            end: w.latest_end().format("%H:%M").to_string(),
            hours: day_hours(&w.week()),
        }
    }
}

/// One day's calling hours.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct DayHours {
    pub day: Weekday,
    /// "HH:MM", local time.
    pub start: String,
    /// "HH:MM", local time (exclusive).
    pub end: String,
}

/// The open days of `week` as [`DayHours`], Monday first.
pub fn day_hours(week: &[crate::domain::window::DayHours; 7]) -> Vec<DayHours> {
    week.iter()
        .zip(crate::domain::window::WEEK)
        .filter_map(|(h, day)| {
            h.map(|(s, e)| DayHours {
                day: day.into(),
                start: s.format("%H:%M").to_string(),
                end: e.format("%H:%M").to_string(),
            })
        })
        .collect()
}

/// Minutes to wait before retrying a lead, per outcome of its last call.
#[derive(SimpleObject)]
pub struct RetryDelays {
    pub no_answer_minutes: u32,
    pub busy_minutes: u32,
    pub machine_minutes: u32,
    /// At least 4320 (72 h) in PREDICTIVE campaigns.
    pub abandoned_minutes: u32,
    pub failed_minutes: u32,
}

#[derive(SimpleObject)]
pub struct Disposition {
    pub code: String,
    pub label: String,
    pub category: DispositionCategory,
    /// The lead is finished after this disposition.
    pub ends_lead: bool,
    pub retry_delay_minutes: Option<u32>,
    /// Counts as a conversion in the analytics.
    pub conversion: bool,
}

impl From<&dc::Disposition> for Disposition {
    fn from(d: &dc::Disposition) -> Self {
        Disposition {
            code: d.code.clone(),
            label: d.label.clone(),
            category: d.category.into(),
            ends_lead: d.ends_lead,
            retry_delay_minutes: d.retry_delay_minutes,
            conversion: d.conversion,
        }
    }
}

#[derive(SimpleObject)]
pub struct LeadStatusCount {
    pub status: LeadStatus,
    pub count: i64,
}

/// A calling campaign over a list of leads, in one contact center.
pub struct Campaign {
    pub row: models::Campaign,
    pub settings: dc::CampaignSettings,
    pub state: dc::CampaignState,
}

impl Campaign {
    pub fn from_row(row: models::Campaign) -> ApiResult<Campaign> {
        let settings = store::campaigns::settings_of(&row)?;
        let state = store::campaigns::state_of(&row)?;
        Ok(Campaign {
            row,
            settings,
            state,
        })
    }
}

#[Object]
impl Campaign {
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    async fn state(&self) -> CampaignState {
        self.state.into()
    }
    async fn dial_mode(&self) -> DialMode {
        self.settings.dial_mode.into()
    }
    /// E.164.
    async fn caller_id(&self) -> &str {
        &self.settings.caller_id
    }
    async fn calling_window(&self) -> CallingWindow {
        self.settings.calling_window.into()
    }
    async fn ring_timeout_seconds(&self) -> u32 {
        self.settings.ring_timeout_secs
    }
    async fn max_attempts(&self) -> u32 {
        self.settings.max_attempts
    }
    async fn max_attempts_per_day(&self) -> u32 {
        self.settings.max_attempts_per_day
    }
    async fn retry_delays(&self) -> RetryDelays {
        let r = self.settings.retry_delays;
        RetryDelays {
            no_answer_minutes: r.no_answer,
            busy_minutes: r.busy,
            machine_minutes: r.machine,
            abandoned_minutes: r.abandoned,
            failed_minutes: r.failed,
        }
    }
    /// Fraction of live answers that may be abandoned (0.03 = 3 %).
    async fn max_abandon_rate(&self) -> f64 {
        self.settings.max_abandon_rate
    }
    /// Most calls in flight (dialing, ringing, answered and waiting) per
    /// working agent (idle, on a call or in wrap-up): the predictive
    /// pacer's ceiling.
    async fn max_dial_ratio(&self) -> f64 {
        self.settings.max_dial_ratio
    }
    async fn wrap_up_limit_seconds(&self) -> Option<u32> {
        self.settings.wrap_up_limit_secs
    }
    async fn dispositions(&self) -> Vec<Disposition> {
        self.settings
            .dispositions
            .iter()
            .map(Disposition::from)
            .collect()
    }
    async fn machine_handling(&self) -> MachineHandling {
        self.settings.machine_handling.into()
    }
    /// What predictive and progressive calls ask of a number's consent,
    /// on top of the called party's law.
    async fn automated_consent(&self) -> super::consent_api::AutomatedConsent {
        self.settings.automated_consent.into()
    }
    /// The campaign calls businesses: toll-free numbers may be its leads.
    async fn allow_toll_free(&self) -> bool {
        self.settings.allow_toll_free
    }
    /// Played to a live answer that cannot be connected to an agent.
    async fn safe_harbor_message(&self) -> &str {
        &self.settings.safe_harbor_message
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.row.created_at)
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        utc(self.row.updated_at)
    }
    async fn contact_center(&self, ctx: &Context<'_>) -> ApiResult<ContactCenter> {
        store::contact_centers::get(&app(ctx).db, &self.row.contact_center_id)
            .await?
            .map(ContactCenter)
            .ok_or(ApiError::Internal)
    }
    /// Attempts, contacts, abandonment, and the pacer's live figures
    /// (supervisors).
    async fn stats(&self, ctx: &Context<'_>) -> ApiResult<super::call_types::CampaignStats> {
        super::access::require_role(actor(ctx)?, crate::domain::identity::Role::Supervisor)?;
        super::call_types::campaign_stats(app(ctx), &self.row.id).await
    }
    /// How many leads are in each status.
    async fn lead_counts(&self, ctx: &Context<'_>) -> ApiResult<Vec<LeadStatusCount>> {
        let counts = store::leads::count_by_status(&app(ctx).db, &self.row.id).await?;
        Ok(counts
            .into_iter()
            .filter_map(|(s, count)| {
                DomainLeadStatus::parse(&s).map(|status| LeadStatusCount {
                    status: status.into(),
                    count,
                })
            })
            .collect())
    }
}

#[derive(SimpleObject)]
pub struct CustomProperty {
    pub key: String,
    pub value: String,
}

#[derive(InputObject)]
#[graphql(name = "CustomPropertyInput")]
pub struct CustomPropertyInput {
    pub key: String,
    pub value: String,
}

/// Someone to call, in one campaign.
pub struct Lead(pub models::Lead);

pub type LeadConnection = Connection<Cursor, Lead, EmptyFields, EmptyFields>;

#[Object]
impl Lead {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// E.164.
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }
    /// IANA name; null until known (status NEEDS_TIME_ZONE).
    async fn time_zone(&self) -> Option<&str> {
        self.0.time_zone.as_deref()
    }
    /// The state or province of the lead's address (ISO 3166-2), if given:
    /// its calling rules apply with the number's.
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }
    /// Someone confirmed `timeZone`: it alone decides the lead's local
    /// time. Otherwise every other zone its number leaves possible must
    /// allow a call too.
    async fn time_zone_verified(&self) -> bool {
        self.0.time_zone_verified
    }
    async fn status(&self) -> ApiResult<LeadStatus> {
        DomainLeadStatus::parse(&self.0.status)
            .map(Into::into)
            .ok_or(ApiError::Internal)
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// The consent to be called standing for the number now, across the
    /// organization (docs/compliance.md).
    async fn consent(&self, ctx: &Context<'_>) -> ApiResult<super::consent_api::Consent> {
        super::consent_api::standing(ctx, &self.0.organization_id, &self.0.phone).await
    }
    /// The number's consent log, newest first (at most 1 000 entries).
    async fn consent_history(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<super::consent_api::ConsentEntry>> {
        super::consent_api::history(ctx, &self.0.organization_id, &self.0.phone).await
    }
    /// On the organization's Do-Not-Text list (calls are still allowed).
    async fn do_not_text(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(
            store::lists::is_do_not_text(&app(ctx).db, &self.0.organization_id, &self.0.phone)
                .await?,
        )
    }
    async fn priority(&self) -> i32 {
        self.0.priority
    }
    /// Not dialed before this moment (retry or callback due).
    async fn not_before(&self) -> Option<DateTime<Utc>> {
        self.0.not_before.map(utc)
    }
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_attempt_at.map(utc)
    }
    /// How the last attempt ended (a call outcome: BUSY, NO_ANSWER, …).
    async fn last_outcome(&self) -> Option<&str> {
        self.0.last_outcome.as_deref()
    }
    /// A scheduled callback reserved for this agent.
    async fn callback_agent_id(&self) -> Option<ID> {
        self.0.callback_agent_id.clone().map(ID)
    }
    /// The lead's own key/value pairs, in the order given.
    async fn custom_properties(&self) -> ApiResult<Vec<CustomProperty>> {
        let pairs: Vec<(String, String)> =
            serde_json::from_str(&self.0.custom_properties).map_err(|_| ApiError::Internal)?;
        Ok(pairs
            .into_iter()
            .map(|(key, value)| CustomProperty { key, value })
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    /// The lead's calls, newest first (at most `first`, default 10, up to
    /// 50): outcome, agent and wrap-up of each attempt — the screen pop's
    /// attempt history and previous notes.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
    ) -> ApiResult<Vec<super::call_types::Call>> {
        if !(1..=50).contains(&first) {
            return Err(ApiError::validation("first", "must be between 1 and 50"));
        }
        let rows = store::calls::of_lead(&app(ctx).db, &self.0.id, i64::from(first)).await?;
        Ok(rows.into_iter().map(super::call_types::Call).collect())
    }
    async fn campaign(&self, ctx: &Context<'_>) -> ApiResult<Campaign> {
        let row = store::campaigns::get(&app(ctx).db, &self.0.campaign_id)
            .await?
            .ok_or(ApiError::Internal)?;
        Campaign::from_row(row)
    }
}

#[derive(InputObject, Default)]
pub struct LeadFilter {
    pub statuses: Option<Vec<LeadStatus>>,
    /// Part of the number or of a name.
    pub search: Option<String>,
}

/// A page of a campaign's leads.
pub async fn leads_page(
    ctx: &Context<'_>,
    campaign_id: &str,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<LeadFilter>,
) -> ApiResult<LeadConnection> {
    let _ = actor(ctx)?;
    let args = page_args(ctx, first, after)?;
    let filter = filter.unwrap_or_default();
    let store_filter = store::leads::LeadFilter {
        statuses: filter.statuses.map(|s| {
            s.into_iter()
                .map(|st| DomainLeadStatus::from(st).as_str().to_owned())
                .collect()
        }),
        search: filter.search,
    };
    let page = store::leads::list(
        &app(ctx).db,
        campaign_id,
        &store_filter,
        args.after.as_deref(),
        args.limit,
    )
    .await?;
    Ok(connection(ctx, &args, page, |l| l.id.clone(), Lead))
}
