//! Campaign and lead queries and mutations (supervisors and admins; agents
//! may read the campaigns of their contact centers).

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{NaiveTime, Weekday as ChronoWeekday};

use crate::app::App;
use crate::auth::Actor;
use crate::domain::campaign::{
    self as dc, CampaignSettings, LifecycleAction, RetryDelays as DomainRetryDelays,
};
use crate::domain::identity::{self, FieldError, Role as DomainRole};
use crate::domain::lead::LeadInput as DomainLeadInput;
use crate::domain::phone;
use crate::domain::window::{CallingWindow as DomainWindow, Weekdays};
use crate::store::{self, audit, models};

use super::access::{self, require_role, sees_whole_organization};
use super::campaign_types::{
    Campaign, CampaignState, CustomPropertyInput, DialMode, DispositionCategory, Lead,
    LeadConnection, LeadFilter, MachineHandling, Weekday, leads_page,
};
use super::connection::{Cursor, page_args};
use super::error::{ApiError, ApiResult};
use super::{actor, app};

/// The campaign, if the caller may see it (its contact center's members,
/// admins, API tokens); otherwise `NOT_FOUND`.
pub async fn load_campaign(app: &App, actor: &Actor, id: &str) -> ApiResult<Campaign> {
    let row = store::campaigns::get(&app.db, id)
        .await?
        .filter(|c| c.organization_id == actor.organization_id)
        .ok_or_else(|| ApiError::not_found("campaign"))?;
    access::load_contact_center(app, actor, &row.contact_center_id)
        .await
        .map_err(|_| ApiError::not_found("campaign"))?;
    Campaign::from_row(row)
}

/// The lead, if the caller (a supervisor or admin) may see its campaign;
/// otherwise `NOT_FOUND`.
pub async fn load_lead(app: &App, actor: &Actor, id: &str) -> ApiResult<(models::Lead, Campaign)> {
    require_role(actor, DomainRole::Supervisor)?;
    let lead = store::leads::get(&app.db, id)
        .await?
        .filter(|l| l.organization_id == actor.organization_id)
        .ok_or_else(|| ApiError::not_found("lead"))?;
    let campaign = load_campaign(app, actor, &lead.campaign_id)
        .await
        .map_err(|_| ApiError::not_found("lead"))?;
    Ok((lead, campaign))
}

/// The same hours on some days (`days`, `start`, `end`; what is left out
/// keeps the campaign's days, earliest opening and latest close), or each
/// day its own (`hours`; days not listed are closed) — one or the other.
#[derive(InputObject, Clone)]
pub struct CallingWindowInput {
    /// Default: every day.
    pub days: Option<Vec<Weekday>>,
    /// "HH:MM" in the lead's local time; default and earliest 08:00.
    pub start: Option<String>,
    /// "HH:MM" in the lead's local time; default and latest 21:00.
    pub end: Option<String>,
    /// Each day's hours (08:00–21:00 at most, at least 15 minutes), each
    /// day at most once; days not listed are closed.
    pub hours: Option<Vec<DayHoursInput>>,
}

/// One day's hours.
#[derive(InputObject, Clone)]
pub struct DayHoursInput {
    pub day: Weekday,
    /// "HH:MM", local time.
    pub start: String,
    /// "HH:MM", local time (exclusive).
    pub end: String,
}

/// The week `hours` describe (days not listed closed), or why not, named
/// as `field`.
pub fn week_of(
    field: &'static str,
    hours: Vec<DayHoursInput>,
) -> Result<[crate::domain::window::DayHours; 7], FieldError> {
    let mut week = [None; 7];
    for h in hours {
        let day = format!("{:?}", h.day);
        let slot = &mut week[ChronoWeekday::from(h.day).num_days_from_monday() as usize];
        if slot.is_some() {
            return Err(FieldError::new(field, format!("lists {day} twice")));
        }
        let start = parse_hm(field, &h.start)?;
        let end = parse_hm(field, &h.end)?;
        if start >= end {
            return Err(FieldError::new(
                field,
                format!("{day}: the end must be after the start"),
            ));
        }
        *slot = Some((start, end));
    }
    Ok(week)
}

#[derive(InputObject, Clone)]
pub struct RetryDelaysInput {
    pub no_answer_minutes: Option<u32>,
    pub busy_minutes: Option<u32>,
    pub machine_minutes: Option<u32>,
    pub abandoned_minutes: Option<u32>,
    pub failed_minutes: Option<u32>,
}

#[derive(InputObject, Clone)]
pub struct DispositionInput {
    /// A–Z, 0–9 and _.
    pub code: String,
    pub label: String,
    pub category: DispositionCategory,
    #[graphql(default)]
    pub ends_lead: bool,
    pub retry_delay_minutes: Option<u32>,
    /// Counts as a conversion in the analytics (a sale, an appointment).
    #[graphql(default)]
    pub conversion: bool,
}

/// Campaign settings; on create, absent fields take the defaults, on update
/// they stay as they are.
#[derive(InputObject, Clone, Default)]
pub struct CampaignSettingsInput {
    pub dial_mode: Option<DialMode>,
    /// The number leads see; normalized to E.164 in the contact center's region.
    pub caller_id: Option<String>,
    pub calling_window: Option<CallingWindowInput>,
    /// At least 15 seconds.
    pub ring_timeout_seconds: Option<u32>,
    pub max_attempts: Option<u32>,
    pub max_attempts_per_day: Option<u32>,
    pub retry_delays: Option<RetryDelaysInput>,
    /// At most 0.03 (3 % of live answers); default 0.03.
    pub max_abandon_rate: Option<f64>,
    pub max_dial_ratio: Option<f64>,
    /// Null: no limit (on `updateCampaign`, null removes the limit and
    /// leaving it out keeps it).
    pub wrap_up_limit_seconds: MaybeUndefined<u32>,
    pub dispositions: Option<Vec<DispositionInput>>,
    pub machine_handling: Option<MachineHandling>,
    pub safe_harbor_message: Option<String>,
    /// What predictive and progressive calls ask of a number's consent on
    /// top of the law (default LAW: what the called party's jurisdiction
    /// requires).
    pub automated_consent: Option<super::consent_api::AutomatedConsent>,
    /// The campaign calls businesses: toll-free numbers may be its leads
    /// (refused otherwise). Default false.
    pub allow_toll_free: Option<bool>,
}

#[derive(InputObject)]
pub struct CreateCampaignInput {
    pub contact_center_id: ID,
    pub name: String,
    #[graphql(flatten)]
    pub settings: CampaignSettingsInput,
}

#[derive(InputObject)]
pub struct UpdateCampaignInput {
    pub id: ID,
    pub name: Option<String>,
    #[graphql(flatten)]
    pub settings: CampaignSettingsInput,
}

#[derive(InputObject)]
pub struct CampaignIdInput {
    pub campaign_id: ID,
}

#[derive(SimpleObject)]
pub struct CampaignPayload {
    pub campaign: Campaign,
}

#[derive(InputObject)]
pub struct LeadInput {
    pub phone: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// IANA name; when absent it is derived from the number.
    pub time_zone: Option<String>,
    /// The supervisor adding the lead vouches for `timeZone`: it alone
    /// decides the lead's local time (otherwise the number's zones apply
    /// too).
    #[graphql(default)]
    pub time_zone_verified: bool,
    /// The state or province of the lead's address, ISO 3166-2 (`US-FL`,
    /// or `FL` in the number's country): its calling rules apply too.
    pub region: Option<String>,
    #[graphql(default)]
    pub custom_properties: Vec<CustomPropertyInput>,
    /// The called party's consent to be called, recorded for the number
    /// across the organization.
    pub consent: Option<super::consent_api::ConsentInput>,
}

#[derive(InputObject)]
pub struct AddLeadsInput {
    pub campaign_id: ID,
    /// Up to 10 000 per call; accepted rows are written all or none.
    pub leads: Vec<LeadInput>,
}

/// One row that was refused or flagged.
#[derive(SimpleObject, Clone)]
pub struct RowResult {
    /// 0-based position in the input.
    pub index: i32,
    /// The phone as given.
    pub phone: String,
    /// BAD_NUMBER, BAD_TIME_ZONE, BAD_REGION, TOO_LARGE (rejected); NEEDS_TIME_ZONE,
    /// DUPLICATE_MERGED (warnings).
    pub code: String,
    pub message: String,
}

#[derive(SimpleObject)]
pub struct AddLeadsPayload {
    /// New leads written.
    pub added: i32,
    /// Rows whose number the campaign already had (not added).
    pub merged: i32,
    pub rejected: Vec<RowResult>,
    /// Added but not dialable until fixed (NEEDS_TIME_ZONE), or merged.
    pub warnings: Vec<RowResult>,
}

impl From<crate::import::RowReport> for RowResult {
    fn from(r: crate::import::RowReport) -> Self {
        RowResult {
            index: i32::try_from(r.index).unwrap_or(i32::MAX),
            phone: r.phone,
            code: r.code.as_str().to_owned(),
            message: r.message,
        }
    }
}

impl From<crate::import::ImportReport> for AddLeadsPayload {
    fn from(r: crate::import::ImportReport) -> Self {
        AddLeadsPayload {
            added: i32::try_from(r.added).unwrap_or(i32::MAX),
            merged: i32::try_from(r.merged).unwrap_or(i32::MAX),
            rejected: r.rejected.into_iter().map(Into::into).collect(),
            warnings: r.warnings.into_iter().map(Into::into).collect(),
        }
    }
}

pub const MAX_LEADS_PER_CALL: usize = 10_000;

#[derive(InputObject)]
pub struct UpdateLeadInput {
    pub id: ID,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// IANA name. Setting it on a NEEDS_TIME_ZONE lead makes it dialable.
    /// Where its number suggests other zones, their clocks apply too until
    /// the zone is verified.
    pub time_zone: Option<String>,
    /// The lead's zone was confirmed (with the lead, not guessed): it
    /// alone decides the lead's local time. Supervisors and admins only;
    /// audited. Setting `timeZone` without it clears it.
    pub time_zone_verified: Option<bool>,
    /// The state or province of the lead's address, ISO 3166-2 (`US-FL`,
    /// or `FL` in the number's country).
    pub region: Option<String>,
    /// Higher is dialed first among new leads (−1000…1000).
    pub priority: Option<i32>,
}

#[derive(SimpleObject)]
pub struct LeadPayload {
    pub lead: Lead,
}

fn parse_hm(field: &'static str, s: &str) -> Result<NaiveTime, FieldError> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| FieldError::new(field, "must be a time as HH:MM (24-hour)"))
}

/// Apply `input` over `base` and validate the result.
fn merge_settings(
    base: CampaignSettings,
    input: CampaignSettingsInput,
    carrier: Carrier<'_>,
) -> ApiResult<CampaignSettings> {
    let mut problems = Vec::new();
    let s = merge_checked(base, input, carrier, &mut problems);
    match problems.into_iter().next() {
        Some(e) => Err(e.into()),
        None => Ok(s),
    }
}

/// Where a campaign's calls go: numbers without a country code are read in
/// `region`; the simulated carrier (`simulated`) may show fictional numbers.
#[derive(Clone, Copy)]
struct Carrier<'a> {
    region: &'a str,
    simulated: bool,
}

impl<'a> Carrier<'a> {
    fn of(app: &App, cc: &'a models::ContactCenter) -> Carrier<'a> {
        Carrier {
            region: &cc.default_region,
            simulated: app.media.simulated(),
        }
    }
}

/// Apply `input` over `base`, adding every problem to `out` (a value that
/// does not parse keeps `base`'s; one problem per field).
fn merge_checked(
    base: CampaignSettings,
    input: CampaignSettingsInput,
    carrier: Carrier<'_>,
    out: &mut Vec<FieldError>,
) -> CampaignSettings {
    let region = carrier.region;
    let mut s = base;
    if let Some(m) = input.dial_mode {
        s.dial_mode = m.into();
    }
    if let Some(c) = input.caller_id {
        match phone::normalize(&c, region) {
            Ok(n) => s.caller_id = n,
            Err(e) => out.push(FieldError::new("callerId", format!("{e}"))),
        }
    }
    if let Some(w) = input.calling_window {
        match w.hours {
            Some(_) if w.days.is_some() || w.start.is_some() || w.end.is_some() => {
                out.push(FieldError::new(
                    "callingWindow.hours",
                    "give either each day's hours or days, start and end, not both",
                ))
            }
            Some(hours) => {
                match week_of("callingWindow.hours", hours).and_then(DomainWindow::weekly) {
                    Ok(w) => s.calling_window = w,
                    Err(e) => out.push(FieldError::new("callingWindow.hours", e.message)),
                }
            }
            None => {
                let current = s.calling_window;
                let days = match w.days {
                    Some(d) => Weekdays::from_days(d.into_iter().map(Into::into)),
                    None => current.days(),
                };
                let start = match w.start {
                    Some(t) => parse_hm("callingWindow.start", &t).map_err(|e| out.push(e)),
                    None => Ok(current.earliest_start()),
                };
                let end = match w.end {
                    Some(t) => parse_hm("callingWindow.end", &t).map_err(|e| out.push(e)),
                    None => Ok(current.latest_end()),
                };
                if let (Ok(start), Ok(end)) = (start, end) {
                    match DomainWindow::new(days, start, end) {
                        Ok(w) => s.calling_window = w,
                        Err(e) => out.push(e),
                    }
                }
            }
        }
    }
    if let Some(v) = input.ring_timeout_seconds {
        s.ring_timeout_secs = v;
    }
    if let Some(v) = input.max_attempts {
        s.max_attempts = v;
    }
    if let Some(v) = input.max_attempts_per_day {
        s.max_attempts_per_day = v;
    }
    if let Some(r) = input.retry_delays {
        let d = s.retry_delays;
        s.retry_delays = DomainRetryDelays {
            no_answer: r.no_answer_minutes.unwrap_or(d.no_answer),
            busy: r.busy_minutes.unwrap_or(d.busy),
            machine: r.machine_minutes.unwrap_or(d.machine),
            abandoned: r.abandoned_minutes.unwrap_or(d.abandoned),
            failed: r.failed_minutes.unwrap_or(d.failed),
        };
    }
    if let Some(v) = input.max_abandon_rate {
        s.max_abandon_rate = v;
    }
    if let Some(v) = input.max_dial_ratio {
        s.max_dial_ratio = v;
    }
    match input.wrap_up_limit_seconds {
        MaybeUndefined::Value(v) => s.wrap_up_limit_secs = Some(v),
        MaybeUndefined::Null => s.wrap_up_limit_secs = None,
        MaybeUndefined::Undefined => {}
    }
    if let Some(ds) = input.dispositions {
        s.dispositions = ds
            .into_iter()
            .map(|d| dc::Disposition {
                code: d.code.trim().to_owned(),
                label: d.label.trim().to_owned(),
                category: d.category.into(),
                ends_lead: d.ends_lead,
                retry_delay_minutes: d.retry_delay_minutes,
                conversion: d.conversion,
            })
            .collect();
    }
    if let Some(c) = input.automated_consent {
        s.automated_consent = c.into();
    }
    if let Some(t) = input.allow_toll_free {
        s.allow_toll_free = t;
    }
    if let Some(m) = input.machine_handling {
        s.machine_handling = m.into();
    }
    if let Some(m) = input.safe_harbor_message {
        s.safe_harbor_message = m.trim().to_owned();
    }
    if !carrier.simulated && phone::is_fictional(&s.caller_id) {
        let f = phone::Refused::Fictional;
        out.push(FieldError::new(
            "callerId",
            format!(
                "{} {}: {}; show a number people can call back",
                s.caller_id,
                f.describe(),
                f.remedy()
            ),
        ));
    }
    for p in dc::problems(&s) {
        if !out.iter().any(|e| e.field == p.field) {
            out.push(p);
        }
    }
    s
}

/// A setting that would be refused, and why.
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct FieldProblem {
    /// The input field, as in a `VALIDATION` error's `field`.
    pub field: String,
    pub message: String,
}

#[derive(Default)]
pub struct CampaignQuery;

#[Object]
impl CampaignQuery {
    async fn campaign(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Campaign> {
        load_campaign(app(ctx), actor(ctx)?, &id).await
    }

    /// Check a new campaign's name and settings without saving anything:
    /// every problem, by field, in the form's order (none: `createCampaign`
    /// would accept them). The web app's campaign editor asks as the
    /// supervisor types (supervisors).
    async fn check_campaign(
        &self,
        ctx: &Context<'_>,
        input: CreateCampaignInput,
    ) -> ApiResult<Vec<FieldProblem>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let cc = access::load_contact_center(app, caller, &input.contact_center_id).await?;
        let mut out = Vec::new();
        if !cc.dialer_enabled {
            out.push(FieldError::new(
                "contactCenterId",
                "has the dialer disabled: an admin can enable it",
            ));
        }
        if let Err(e) = identity::normalize_name("name", &input.name) {
            out.push(e);
        }
        if input.settings.caller_id.is_none() {
            out.push(FieldError::new("callerId", "is required"));
        }
        merge_checked(
            CampaignSettings::defaults(),
            input.settings,
            Carrier::of(app, &cc),
            &mut out,
        );
        let mut seen = Vec::new();
        Ok(out
            .into_iter()
            .filter(|e| {
                let first = !seen.contains(&e.field);
                seen.push(e.field);
                first
            })
            .map(|e| FieldProblem {
                field: e.field.to_owned(),
                message: e.message,
            })
            .collect())
    }

    /// Campaigns the caller may see, optionally of one contact center and
    /// in some states.
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        contact_center_id: Option<ID>,
        states: Option<Vec<CampaignState>>,
    ) -> ApiResult<Connection<Cursor, Campaign, EmptyFields, EmptyFields>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let args = page_args(ctx, first, after)?;
        let centers: Option<Vec<String>> = match (&contact_center_id, caller.user_id()) {
            (Some(cc), _) => Some(vec![access::load_contact_center(app, caller, cc).await?.id]),
            (None, Some(me)) if !sees_whole_organization(caller) => {
                Some(store::contact_centers::ids_of_member(&app.db, me).await?)
            }
            _ => None,
        };
        let states: Option<Vec<String>> = states.map(|s| {
            s.into_iter()
                .map(|st| dc::CampaignState::from(st).as_str().to_owned())
                .collect()
        });
        let page = store::campaigns::list(
            &app.db,
            &caller.organization_id,
            centers.as_deref(),
            states.as_deref(),
            args.after.as_deref(),
            args.limit,
        )
        .await?;
        let mut out = Connection::new(args.after.is_some(), page.has_next);
        for row in page.items {
            let id = row.id.clone();
            out.edges.push(async_graphql::connection::Edge::new(
                Cursor(id),
                Campaign::from_row(row)?,
            ));
        }
        Ok(out)
    }

    /// A campaign's leads (supervisors and admins).
    async fn leads(
        &self,
        ctx: &Context<'_>,
        campaign_id: ID,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<LeadFilter>,
    ) -> ApiResult<LeadConnection> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let campaign = load_campaign(app, caller, &campaign_id).await?;
        leads_page(ctx, &campaign.row.id, first, after, filter).await
    }

    async fn lead(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Lead> {
        let (lead, _) = load_lead(app(ctx), actor(ctx)?, &id).await?;
        Ok(Lead(lead))
    }
}

#[derive(Default)]
pub struct CampaignMutation;

async fn change_state(
    ctx: &Context<'_>,
    input: CampaignIdInput,
    action: LifecycleAction,
) -> ApiResult<CampaignPayload> {
    let (app, caller) = (app(ctx), actor(ctx)?);
    require_role(caller, DomainRole::Supervisor)?;
    let campaign = load_campaign(app, caller, &input.campaign_id).await?;
    let from = campaign.state;
    let Some(to) = dc::transition(from, action) else {
        return Err(ApiError::Conflict(format!(
            "a {} campaign cannot be {}",
            from.as_str(),
            match action {
                LifecycleAction::Start => "started",
                LifecycleAction::Pause => "paused",
                LifecycleAction::Complete => "completed",
                LifecycleAction::Archive => "archived",
            }
        )));
    };
    let entry = audit::entry(
        &caller.organization_id,
        Some(caller.audit_id()),
        "campaign.state",
        &campaign.row.id,
        format!("{} → {}", from.as_str(), to.as_str()),
    );
    match store::campaigns::set_state(&app.db, &campaign.row.id, from, to, entry).await? {
        store::campaigns::StateChange::Changed(row) => Ok(CampaignPayload {
            campaign: Campaign::from_row(*row)?,
        }),
        store::campaigns::StateChange::Raced => Err(ApiError::Conflict(
            "the campaign changed state meanwhile: reload and try again".into(),
        )),
        store::campaigns::StateChange::AnotherRunning => Err(ApiError::Conflict(
            "another campaign is already running in this contact center: pause or complete it first"
                .into(),
        )),
    }
}

#[Object]
impl CampaignMutation {
    /// Create a DRAFT campaign in a dialer-enabled contact center.
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        input: CreateCampaignInput,
    ) -> ApiResult<CampaignPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let cc = access::load_contact_center(app, caller, &input.contact_center_id).await?;
        if !cc.dialer_enabled {
            return Err(ApiError::validation(
                "contactCenterId",
                "has the dialer disabled: an admin can enable it",
            ));
        }
        let name = identity::normalize_name("name", &input.name)?;
        if input.settings.caller_id.is_none() {
            return Err(ApiError::validation("callerId", "is required"));
        }
        let settings = merge_settings(
            CampaignSettings::defaults(),
            input.settings,
            Carrier::of(app, &cc),
        )?;
        let row = store::campaigns::new_row(&cc, name, &settings);
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "campaign.create",
            &row.id,
            format!("{:?} ({})", row.name, row.dial_mode),
        );
        let row = store::campaigns::insert(&app.db, row, entry).await?;
        Ok(CampaignPayload {
            campaign: Campaign::from_row(row)?,
        })
    }

    /// Change a campaign's name or settings (not once completed).
    async fn update_campaign(
        &self,
        ctx: &Context<'_>,
        input: UpdateCampaignInput,
    ) -> ApiResult<CampaignPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let campaign = load_campaign(app, caller, &input.id).await?;
        dc::check_open(campaign.state, "cannot be changed").map_err(ApiError::Conflict)?;
        let cc = access::load_contact_center(app, caller, &campaign.row.contact_center_id).await?;
        let settings = merge_settings(campaign.settings, input.settings, Carrier::of(app, &cc))?;
        let mut row = campaign.row;
        if let Some(n) = input.name {
            row.name = identity::normalize_name("name", &n)?;
        }
        store::campaigns::apply_settings(&mut row, &settings);
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "campaign.update",
            &row.id,
            format!("{:?}", row.name),
        );
        let row = store::campaigns::update(&app.db, row, entry).await?;
        Ok(CampaignPayload {
            campaign: Campaign::from_row(row)?,
        })
    }

    /// DRAFT or PAUSED → RUNNING. At most one campaign runs per contact
    /// center (`CONFLICT`).
    async fn start_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> ApiResult<CampaignPayload> {
        change_state(ctx, input, LifecycleAction::Start).await
    }

    /// RUNNING → PAUSED.
    async fn pause_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> ApiResult<CampaignPayload> {
        change_state(ctx, input, LifecycleAction::Pause).await
    }

    /// RUNNING or PAUSED → COMPLETED (final).
    async fn complete_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> ApiResult<CampaignPayload> {
        change_state(ctx, input, LifecycleAction::Complete).await
    }

    /// COMPLETED (or an unused DRAFT) → ARCHIVED.
    async fn archive_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignIdInput,
    ) -> ApiResult<CampaignPayload> {
        change_state(ctx, input, LifecycleAction::Archive).await
    }

    /// Fix or change a lead: names, time zone (a NEEDS_TIME_ZONE lead
    /// becomes NEW), region, priority. Not while it is being dialed.
    async fn update_lead(
        &self,
        ctx: &Context<'_>,
        input: UpdateLeadInput,
    ) -> ApiResult<LeadPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let (lead, _) = load_lead(app, caller, &input.id).await?;
        let status = crate::domain::eligibility::LeadStatus::parse(&lead.status)
            .ok_or(ApiError::Internal)?;
        crate::domain::lead::check_editable(status)
            .map_err(|why| ApiError::Conflict(why.into()))?;
        let time_zone = match input.time_zone.as_deref() {
            Some(z) => Some(identity::normalize_time_zone("timeZone", z)?),
            None => None,
        };
        if input.priority.is_some_and(|p| !(-1000..=1000).contains(&p)) {
            return Err(ApiError::validation(
                "priority",
                "must be between -1000 and 1000",
            ));
        }
        if input.time_zone_verified.is_some() {
            require_role(caller, DomainRole::Supervisor)?;
        }
        let time_zone_verified = crate::domain::lead::zone_verified_after_edit(
            time_zone.is_some(),
            input.time_zone_verified,
        );
        let region = match input.region.as_deref() {
            Some(r) => Some(
                crate::domain::jurisdiction::normalize_region(r, &lead.phone)
                    .map_err(|why| ApiError::validation("region", why))?,
            ),
            None => None,
        };
        let name = |field: &'static str, v: Option<String>| -> ApiResult<Option<String>> {
            v.map(|n| identity::normalize_name(field, &n).map_err(ApiError::from))
                .transpose()
        };
        let new_status = time_zone
            .as_ref()
            .map(|_| crate::domain::lead::status_with_zone(status))
            .filter(|s| *s != status)
            .map(|s| s.as_str().to_owned());
        let changes = store::leads::LeadChanges {
            first_name: name("firstName", input.first_name)?,
            last_name: name("lastName", input.last_name)?,
            time_zone,
            region,
            time_zone_verified,
            priority: input.priority,
            status: new_status,
        };
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "lead.update",
            &lead.id,
            format!("{changes:?}"),
        );
        let lead = store::leads::update(&app.db, &lead.id, changes, entry).await?;
        Ok(LeadPayload { lead: Lead(lead) })
    }

    /// Add leads in a batch: every row gets an outcome; accepted rows are
    /// written all or none.
    async fn add_leads(
        &self,
        ctx: &Context<'_>,
        input: AddLeadsInput,
    ) -> ApiResult<AddLeadsPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let campaign = load_campaign(app, caller, &input.campaign_id).await?;
        if input.leads.len() > MAX_LEADS_PER_CALL {
            return Err(ApiError::validation(
                "leads",
                format!("at most {MAX_LEADS_PER_CALL} per call; split the list or upload a CSV"),
            ));
        }
        dc::check_open(campaign.state, "takes no new leads").map_err(ApiError::Conflict)?;
        let cc = access::load_contact_center(app, caller, &campaign.row.contact_center_id).await?;
        let rows: Vec<DomainLeadInput> = input
            .leads
            .into_iter()
            .map(|l| DomainLeadInput {
                phone: l.phone,
                first_name: l.first_name,
                last_name: l.last_name,
                time_zone: l.time_zone,
                time_zone_verified: l.time_zone_verified,
                region: l.region,
                consent: l
                    .consent
                    .as_ref()
                    .map(super::consent_api::ConsentInput::fields)
                    .unwrap_or_default(),
                custom_properties: l
                    .custom_properties
                    .into_iter()
                    .map(|p| (p.key, p.value))
                    .collect(),
            })
            .collect();
        let report = crate::import::import_rows(
            &app.db,
            &campaign.row,
            &cc.default_region,
            &rows,
            app.media.simulated(),
        )
        .await?;
        Ok(report.into())
    }
}
