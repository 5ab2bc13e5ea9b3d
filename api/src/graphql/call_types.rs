//! The schema's types for presence and calls: Presence, PinnedLeg, Call,
//! the call's logged steps, campaign live figures, and their enums.

use async_graphql::{Context, Enum, ID, Object, SimpleObject, Union};
use chrono::{DateTime, Utc};

use crate::dialer::engine::PresenceView;
use crate::domain::call;
use crate::store::{self, models};

use super::app;
use super::campaign_types::{Campaign, Disposition, Lead};
use super::error::{ApiError, ApiResult};
use super::types::{User, utc};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::agent::AgentStatus")]
pub enum AgentStatus {
    Offline,
    Available,
    OnCall,
    WrapUp,
    Break,
}

/// IDLE = connected and muted, waiting for the next call.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::dialer::engine::PinnedLegState")]
pub enum PinnedLegState {
    Connecting,
    Idle,
    Bridged,
    Disconnected,
}

/// What carries the pinned leg. BROWSER: the agent's page opens it with
/// `connectPinnedLeg` (WebRTC) while it is CONNECTING or DISCONNECTED.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::media::PinnedLegKind")]
pub enum PinnedLegKind {
    Simulated,
    SipPhone,
    Browser,
}

/// Only DIALER calls carry the "Dialer" tag.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::call::CallOrigin")]
pub enum CallOrigin {
    Dialer,
    Manual,
    Inbound,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::call::CallState")]
pub enum CallState {
    Offered,
    Dialing,
    Ringing,
    Answered,
    Connected,
    Held,
    Transferring,
    Ended,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::call::CallOutcome")]
pub enum CallOutcome {
    Completed,
    Transferred,
    Abandoned,
    Machine,
    NoAnswer,
    Busy,
    Failed,
    Skipped,
    NotDialed,
    ServerRestart,
}

/// A step in a call's life.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::dialer::engine::CallStep")]
pub enum CallStep {
    Offered,
    Dialing,
    Ringing,
    Answered,
    Machine,
    Tone,
    Connected,
    Muted,
    Unmuted,
    Held,
    Resumed,
    TransferStarted,
    TransferFailed,
    Transferred,
    ParticipantAdded,
    ParticipantJoined,
    ParticipantFailed,
    SafeHarbor,
    Ended,
    WrapUpRequired,
    WrappedUp,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct PinnedLeg {
    pub id: ID,
    pub state: PinnedLegState,
    pub kind: PinnedLegKind,
}

impl From<&crate::dialer::engine::PinnedLeg> for PinnedLeg {
    fn from(p: &crate::dialer::engine::PinnedLeg) -> Self {
        PinnedLeg {
            id: ID(p.id.clone()),
            state: p.state.into(),
            kind: p.kind.into(),
        }
    }
}

/// An agent's presence: status, since when, the pinned audio leg, the call.
#[derive(Clone, Debug)]
pub struct Presence(pub PresenceView);

#[Object]
impl Presence {
    async fn agent(&self, ctx: &Context<'_>) -> ApiResult<User> {
        store::users::get(&app(ctx).db, &self.0.agent_id)
            .await?
            .map(User)
            .ok_or(ApiError::Internal)
    }
    async fn contact_center_id(&self) -> Option<ID> {
        self.0.contact_center_id.clone().map(ID)
    }
    async fn status(&self) -> AgentStatus {
        self.0.status.into()
    }
    /// Why (for BREAK, or how the agent went OFFLINE).
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn since(&self) -> DateTime<Utc> {
        self.0.since
    }
    async fn pinned_leg(&self) -> Option<PinnedLeg> {
        self.0.pinned_leg.as_ref().map(PinnedLeg::from)
    }
    /// The call the agent is on.
    async fn active_call(&self, ctx: &Context<'_>) -> ApiResult<Option<Call>> {
        load_row(ctx, self.0.call_id.as_deref()).await
    }
    /// The call whose wrap-up the agent owes.
    async fn wrap_up_call(&self, ctx: &Context<'_>) -> ApiResult<Option<Call>> {
        load_row(ctx, self.0.wrap_up_call_id.as_deref()).await
    }
    /// PREVIEW: the lead offered to this agent, waiting for `dialPreview`
    /// or `skipPreview` (withdrawn if the agent leaves AVAILABLE).
    async fn offered_call(&self, ctx: &Context<'_>) -> ApiResult<Option<Call>> {
        load_row(ctx, self.0.offered_call_id.as_deref()).await
    }
}

async fn load_row(ctx: &Context<'_>, id: Option<&str>) -> ApiResult<Option<Call>> {
    match id {
        Some(id) => Ok(store::calls::get(&app(ctx).db, id).await?.map(Call)),
        None => Ok(None),
    }
}

/// A call. Only calls the caller may see are ever handed out, so its
/// lead and campaign are shown to whoever holds it (the screen pop).
#[derive(Clone, Debug)]
pub struct Call(pub models::Call);

#[Object]
impl Call {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn origin(&self) -> CallOrigin {
        call::CallOrigin::parse(&self.0.origin)
            .unwrap_or(call::CallOrigin::Dialer)
            .into()
    }
    /// Whether the dialer placed it (the "Dialer" pill).
    async fn dialer(&self) -> bool {
        self.0.origin == call::CallOrigin::Dialer.as_str()
    }
    async fn state(&self) -> CallState {
        call::CallState::parse(&self.0.state)
            .unwrap_or(call::CallState::Ended)
            .into()
    }
    /// The call's recording; null when the call was not recorded (or its
    /// recording was deleted).
    async fn recording(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<super::recording_types::Recording>> {
        Ok(store::recordings::get(&app(ctx).db, &self.0.id)
            .await?
            .filter(|r| r.state != "DELETED")
            .map(super::recording_types::Recording))
    }
    async fn outcome(&self) -> Option<CallOutcome> {
        self.0
            .outcome
            .as_deref()
            .and_then(call::CallOutcome::parse)
            .map(Into::into)
    }
    /// E.164.
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    async fn caller_id(&self) -> &str {
        &self.0.caller_id
    }
    /// HUMAN or MACHINE once answered.
    async fn answered_by(&self) -> Option<&str> {
        self.0.answered_by.as_deref()
    }
    async fn muted(&self) -> bool {
        self.0.muted
    }
    async fn on_hold(&self) -> bool {
        self.0.on_hold
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    async fn dialed_at(&self) -> Option<DateTime<Utc>> {
        self.0.dialed_at.map(utc)
    }
    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.0.answered_at.map(utc)
    }
    async fn connected_at(&self) -> Option<DateTime<Utc>> {
        self.0.connected_at.map(utc)
    }
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.ended_at.map(utc)
    }
    /// Seconds the lead and the agent were connected, less time on hold;
    /// set when the call ends (also for a call cut off by a stop or a
    /// crash: up to the server's last heartbeat).
    async fn talk_seconds(&self) -> Option<f64> {
        self.0.ended_at.map(|_| f64::from(self.0.talk_ms) / 1000.0)
    }
    /// Seconds on hold (so far, for a call in progress: up to its last
    /// step).
    async fn hold_seconds(&self) -> f64 {
        f64::from(self.0.hold_ms) / 1000.0
    }
    async fn lead(&self, ctx: &Context<'_>) -> ApiResult<Option<Lead>> {
        match &self.0.lead_id {
            Some(id) => Ok(store::leads::get(&app(ctx).db, id).await?.map(Lead)),
            None => Ok(None),
        }
    }
    async fn campaign(&self, ctx: &Context<'_>) -> ApiResult<Option<Campaign>> {
        match &self.0.campaign_id {
            Some(id) => match store::campaigns::get(&app(ctx).db, id).await? {
                Some(row) => Ok(Some(Campaign::from_row(row)?)),
                None => Ok(None),
            },
            None => Ok(None),
        }
    }
    /// The agent the call is (or was last) with.
    async fn agent(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        match &self.0.agent_id {
            Some(id) => Ok(store::users::get(&app(ctx).db, id).await?.map(User)),
            None => Ok(None),
        }
    }
    /// The agent the call is reserved for (a preview, a named callback).
    async fn target_agent_id(&self) -> Option<ID> {
        self.0.target_agent_id.clone().map(ID)
    }
    /// Every logged step of the call, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<CallLogEntry>> {
        let rows = store::calls::events_of(&app(ctx).db, &self.0.id).await?;
        Ok(rows.into_iter().map(CallLogEntry::from_row).collect())
    }
    /// The dispositions this call's wrap-up may use: its campaign's set,
    /// or the default set for a call outside a campaign.
    async fn dispositions(&self, ctx: &Context<'_>) -> ApiResult<Vec<Disposition>> {
        if let Some(id) = &self.0.campaign_id
            && let Some(row) = store::campaigns::get(&app(ctx).db, id).await?
        {
            let settings = store::campaigns::settings_of(&row)?;
            return Ok(settings
                .dispositions
                .iter()
                .map(Disposition::from)
                .collect());
        }
        Ok(crate::domain::campaign::default_dispositions()
            .iter()
            .map(Disposition::from)
            .collect())
    }
    async fn wrap_up(&self, ctx: &Context<'_>) -> ApiResult<Option<WrapUp>> {
        Ok(store::wrap_ups::for_call(&app(ctx).db, &self.0.id)
            .await?
            .map(WrapUp))
    }
}

/// One logged step of a call.
#[derive(SimpleObject, Clone, Debug)]
pub struct CallLogEntry {
    /// The step's name (a `CallStep` value).
    pub step: String,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

impl CallLogEntry {
    fn from_row(row: models::CallEventRow) -> CallLogEntry {
        let detail = serde_json::from_str::<serde_json::Value>(&row.detail)
            .ok()
            .and_then(|v| v.get("detail").and_then(|d| d.as_str().map(str::to_owned)));
        CallLogEntry {
            step: row.kind,
            detail,
            at: utc(row.at),
        }
    }
}

/// The agent's record of a call: disposition and notes.
#[derive(Clone, Debug)]
pub struct WrapUp(pub models::WrapUp);

#[Object]
impl WrapUp {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn call_id(&self) -> ID {
        ID(self.0.call_id.clone())
    }
    async fn disposition_code(&self) -> &str {
        &self.0.disposition_code
    }
    /// As given (escape when showing).
    async fn notes(&self) -> &str {
        &self.0.notes
    }
    /// Recorded by the server when the wrap-up limit passed.
    async fn automatic(&self) -> bool {
        self.0.automatic
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    /// The agent who submitted it.
    async fn agent_id(&self) -> ID {
        ID(self.0.agent_id.clone())
    }
    async fn do_not_call(&self) -> bool {
        self.0.do_not_call
    }
    async fn do_not_text(&self) -> bool {
        self.0.do_not_text
    }
    /// The called party revoked their consent to be called on this call.
    async fn revoke_consent(&self) -> bool {
        self.0.revoke_consent
    }
    /// WRONG_NUMBER, DISCONNECTED or OTHER when the number was marked invalid.
    async fn invalid_number(&self) -> Option<&str> {
        self.0.invalid_number.as_deref()
    }
    async fn callback_at(&self) -> Option<DateTime<Utc>> {
        self.0.callback_at.map(utc)
    }
    async fn callback_agent_id(&self) -> Option<ID> {
        self.0.callback_agent_id.clone().map(ID)
    }
    /// When it was last corrected (null: never).
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.0.updated_at.map(utc)
    }
    /// How many times it was corrected within the edit window.
    async fn corrections(&self) -> i32 {
        self.0.corrections
    }
}

/// A wrap-up submitted or corrected, live (`wrapUpEvents`).
pub struct WrapUpEvent {
    pub wrap_up: models::WrapUp,
    pub call: models::Call,
    pub corrected: bool,
    pub at: DateTime<Utc>,
}

#[Object]
impl WrapUpEvent {
    async fn wrap_up(&self) -> WrapUp {
        WrapUp(self.wrap_up.clone())
    }
    async fn call(&self) -> Call {
        Call(self.call.clone())
    }
    async fn lead(&self, ctx: &Context<'_>) -> ApiResult<Option<Lead>> {
        match &self.wrap_up.lead_id {
            Some(id) => Ok(store::leads::get(&app(ctx).db, id).await?.map(Lead)),
            None => Ok(None),
        }
    }
    /// A correction within the edit window (else a new wrap-up).
    async fn corrected(&self) -> bool {
        self.corrected
    }
    async fn at(&self) -> DateTime<Utc> {
        self.at
    }
}

/// A step of a call, live.
#[derive(SimpleObject, Clone, Debug)]
pub struct CallEvent {
    pub step: CallStep,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
    pub call: Call,
}

/// The agent's presence changed.
#[derive(SimpleObject, Clone, Debug)]
pub struct PresenceChanged {
    pub presence: Presence,
    pub at: DateTime<Utc>,
}

/// The agent's pinned leg changed state (`pinnedLeg` null: torn down).
#[derive(SimpleObject, Clone, Debug)]
pub struct PinnedLegChanged {
    pub pinned_leg: Option<PinnedLeg>,
    pub at: DateTime<Utc>,
}

/// What the signed-in agent sees happen.
#[derive(Union, Clone, Debug)]
pub enum AgentEvent {
    PresenceChanged(PresenceChanged),
    PinnedLegChanged(PinnedLegChanged),
    CallEvent(Box<CallEvent>),
}

#[derive(SimpleObject, Clone, Debug)]
pub struct PacerDecision {
    pub calls_to_start: u32,
    /// One line in words, for the supervisor.
    pub reason: String,
}

/// A campaign's figures: totals from the store, live ones from the engine.
#[derive(SimpleObject, Clone, Debug)]
pub struct CampaignStats {
    pub campaign_id: ID,
    /// Calls placed, all time (in progress included).
    pub attempts: i64,
    /// Calls connected to an agent, all time.
    pub connects: i64,
    /// Wrap-ups whose disposition is not in the NON_CONTACT category (a
    /// conversation with the right party), all time — as in `campaignReport`.
    pub contacts: i64,
    /// Calls placed and contacts over the last 60 minutes.
    pub calls_last_hour: i64,
    pub contacts_last_hour: i64,
    /// Abandoned / live answers over the last 30 days (the regulator's
    /// measure) and since midnight UTC.
    #[graphql(name = "abandonRate30d")]
    pub abandon_rate_30d: f64,
    pub abandon_rate_today: f64,
    /// Calls in flight per idle agent after the last decision.
    pub dial_level: f64,
    pub agents_available: u32,
    pub calls_in_flight: u32,
    pub pacer_decision: Option<PacerDecision>,
}

/// Wrap-ups that are contacts, from counts per category.
fn contacts(by_category: &[(String, i64)]) -> i64 {
    by_category
        .iter()
        .filter(|(c, _)| crate::domain::report::is_contact(c))
        .map(|(_, n)| n)
        .sum()
}

pub async fn campaign_stats(app: &crate::app::App, campaign_id: &str) -> ApiResult<CampaignStats> {
    let now = app.engine.clock().now();
    let totals = store::reports::live_totals(
        &app.db,
        campaign_id,
        (now - chrono::Duration::hours(1)).naive_utc(),
    )
    .await?;
    let zone = match store::campaigns::get(&app.db, campaign_id).await? {
        Some(c) => super::report_api::contact_center_zone(app, &c.contact_center_id).await?,
        None => chrono_tz::Tz::UTC,
    };
    let (today, d30) = super::report_api::abandon_rates(&app.db, campaign_id, zone, now).await?;
    let live = app.engine.campaign_live(campaign_id).await?;
    Ok(CampaignStats {
        campaign_id: ID(campaign_id.to_owned()),
        attempts: totals.attempts,
        connects: totals.connects,
        contacts: contacts(&totals.wrap_ups_by_category),
        calls_last_hour: totals.attempts_last_hour,
        contacts_last_hour: contacts(&totals.wrap_ups_by_category_last_hour),
        abandon_rate_30d: d30,
        abandon_rate_today: today,
        dial_level: live.as_ref().map_or(0.0, |l| l.dial_level),
        agents_available: live.as_ref().map_or(0, |l| l.agents_available),
        calls_in_flight: live.as_ref().map_or(0, |l| l.calls_in_flight),
        pacer_decision: live.and_then(|l| l.decision).map(|d| PacerDecision {
            calls_to_start: d.calls_to_start,
            reason: d.reason,
        }),
    })
}
