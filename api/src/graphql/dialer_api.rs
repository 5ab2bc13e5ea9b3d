//! Agents' presence, calls and wrap-ups over GraphQL: `setAgentStatus`,
//! `myPresence`, `myActiveCall`, `placeCall`, the call controls, preview
//! Dial/Skip and `submitWrapUp`. The engine decides; this layer checks who
//! may ask.

use async_graphql::{Context, ID, InputObject, Object, OneofObject, SimpleObject};
use chrono::{DateTime, Utc};

use crate::app::App;
use crate::auth::Actor;
use crate::dialer::engine::{Control, TransferMode as EngineMode, TransferTo, WrapUpSubmission};
use crate::domain::agent::AgentStatus as DomainStatus;
use crate::domain::identity::Role as DomainRole;
use crate::domain::phone;
use crate::store::{self, models};

use super::access::{self, require_role, require_user, sees_whole_organization};
use super::call_types::{
    AgentStatus, Call, CampaignStats, PinnedLeg, Presence, WrapUp, campaign_stats,
};
use super::campaign_api::load_campaign;
use super::error::{ApiError, ApiResult};
use super::{actor, app};

#[derive(InputObject)]
pub struct SetAgentStatusInput {
    pub contact_center_id: ID,
    /// AVAILABLE, BREAK or OFFLINE (ON_CALL and WRAP_UP are set by calls).
    pub status: AgentStatus,
    /// Why (shown to supervisors), e.g. "lunch".
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct PresencePayload {
    pub presence: Presence,
}

#[derive(InputObject)]
pub struct ConnectPinnedLegInput {
    /// The page's WebRTC offer (`RTCPeerConnection.createOffer`), with
    /// audio that can be PCMU. No trickle: the answer carries the
    /// server's one candidate (ICE lite).
    pub sdp_offer: String,
}

#[derive(SimpleObject)]
pub struct ConnectPinnedLegPayload {
    /// For `setRemoteDescription({type: "answer", sdp})`.
    pub sdp_answer: String,
    /// The leg, CONNECTING until the page connects (then IDLE, or BRIDGED
    /// when a lead was waiting on it).
    pub pinned_leg: PinnedLeg,
}

#[derive(InputObject)]
pub struct PlaceCallInput {
    pub contact_center_id: ID,
    /// The number to call (normalized in the contact center's region);
    /// may be left out when `leadId` is given.
    pub phone: Option<String>,
    pub lead_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct CallPayload {
    pub call: Call,
}

#[derive(InputObject)]
pub struct MuteCallInput {
    pub call_id: ID,
    pub muted: bool,
}

#[derive(InputObject)]
pub struct HoldCallInput {
    pub call_id: ID,
    pub on_hold: bool,
}

/// Exactly one of an agent of the contact center or an outside number.
#[derive(OneofObject)]
pub enum TransferTargetInput {
    AgentId(ID),
    Phone(String),
}

#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TransferMode {
    /// Hand the call over at once.
    Blind,
    /// Talk to the target first (the lead holds); hang up to complete.
    Warm,
}

#[derive(InputObject)]
pub struct TransferCallInput {
    pub call_id: ID,
    pub to: TransferTargetInput,
    pub mode: TransferMode,
}

#[derive(InputObject)]
pub struct AddParticipantInput {
    pub call_id: ID,
    /// An outside number, or
    pub phone: Option<String>,
    /// an agent of the contact center (exactly one of the two).
    pub agent_id: Option<ID>,
}

#[derive(InputObject)]
pub struct CallIdInput {
    pub call_id: ID,
}

#[derive(InputObject)]
pub struct SubmitWrapUpInput {
    pub call_id: ID,
    /// A code from the campaign's disposition set (any code for calls
    /// outside a campaign).
    pub disposition_code: String,
    #[graphql(default)]
    pub notes: String,
    /// Put the number on the organization's Do-Not-Call list: no campaign
    /// calls it again, from the moment the wrap-up commits.
    #[graphql(default)]
    pub do_not_call: bool,
    /// Put the number on the Do-Not-Text list (calls are not blocked).
    #[graphql(default)]
    pub do_not_text: bool,
    /// Mark the number invalid (never dialed again), and why.
    pub invalid_number: Option<super::lists_api::InvalidReason>,
    /// The called party revoked their consent to be called ("stop calling
    /// me"): recorded for the number across the organization from the
    /// moment the wrap-up commits; campaigns that need consent stop dialing
    /// it. To stop every call, also mark Do-Not-Call.
    #[graphql(default)]
    pub revoke_consent: bool,
    /// Schedule a callback (inside the lead's calling window).
    pub callback_at: Option<DateTime<Utc>>,
    /// Who takes the callback: an agent, or anyone when left out.
    pub callback_agent_id: Option<ID>,
    /// Where the agent goes next: AVAILABLE (default), BREAK or OFFLINE.
    pub next_status: Option<AgentStatus>,
}

#[derive(SimpleObject)]
pub struct SubmitWrapUpPayload {
    pub wrap_up: WrapUp,
    pub presence: Presence,
}

/// A call the caller may see: its agent, its target, or a supervisor of
/// its contact center (admins and API tokens: the organization's).
pub async fn load_call(app: &App, caller: &Actor, id: &str) -> ApiResult<models::Call> {
    let call = store::calls::get(&app.db, id)
        .await?
        .filter(|c| c.organization_id == caller.organization_id)
        .ok_or_else(|| ApiError::not_found("call"))?;
    let me = caller.user_id();
    let own =
        me.is_some() && (call.agent_id.as_deref() == me || call.target_agent_id.as_deref() == me);
    let sees = own
        || sees_whole_organization(caller)
        || (caller.role.includes(DomainRole::Supervisor)
            && access::load_contact_center(app, caller, &call.contact_center_id)
                .await
                .is_ok());
    if sees {
        Ok(call)
    } else {
        Err(ApiError::not_found("call"))
    }
}

fn no_presence(agent_id: &str) -> Presence {
    Presence(crate::dialer::engine::PresenceView {
        agent_id: agent_id.to_owned(),
        contact_center_id: None,
        status: DomainStatus::Offline,
        reason: None,
        since: chrono::Utc::now(),
        pinned_leg: None,
        call_id: None,
        wrap_up_call_id: None,
        offered_call_id: None,
    })
}

#[derive(Default)]
pub struct DialerQuery;

#[Object]
impl DialerQuery {
    /// The signed-in agent's presence.
    async fn my_presence(&self, ctx: &Context<'_>) -> ApiResult<Presence> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let me = require_user(caller)?;
        Ok(app
            .engine
            .presence(me)
            .await?
            .map(Presence)
            .unwrap_or_else(|| no_presence(me)))
    }

    /// The call the signed-in agent is on, if any.
    async fn my_active_call(&self, ctx: &Context<'_>) -> ApiResult<Option<Call>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let me = require_user(caller)?;
        let Some(p) = app.engine.presence(me).await? else {
            return Ok(None);
        };
        match p.call_id {
            Some(id) => Ok(store::calls::get(&app.db, &id).await?.map(Call)),
            None => Ok(None),
        }
    }

    /// The signed-in agent's recent calls, newest first.
    async fn my_calls(&self, ctx: &Context<'_>, first: Option<i32>) -> ApiResult<Vec<Call>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let me = require_user(caller)?;
        let n = i64::from(first.unwrap_or(20).clamp(1, 100));
        Ok(store::calls::recent_for_agent(&app.db, me, n)
            .await?
            .into_iter()
            .map(Call)
            .collect())
    }

    async fn call(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Call> {
        load_call(app(ctx), actor(ctx)?, &id).await.map(Call)
    }

    /// The calls in progress in a contact center, oldest first, at most
    /// 1 000 (supervisors): the live floor's list, which `callEvents`
    /// keeps current.
    async fn live_calls(&self, ctx: &Context<'_>, contact_center_id: ID) -> ApiResult<Vec<Call>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let cc = access::load_contact_center(app, caller, &contact_center_id).await?;
        Ok(store::calls::open_in(&app.db, &cc.id, 1000)
            .await?
            .into_iter()
            .map(Call)
            .collect())
    }

    /// Every agent present in a contact center now (supervisors).
    async fn agent_floor(
        &self,
        ctx: &Context<'_>,
        contact_center_id: ID,
    ) -> ApiResult<Vec<Presence>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let cc = access::load_contact_center(app, caller, &contact_center_id).await?;
        Ok(app
            .engine
            .floor(&cc.id)
            .await?
            .into_iter()
            .map(Presence)
            .collect())
    }

    /// A campaign's figures now (also on `Campaign.stats`; supervisors).
    async fn campaign_stats(&self, ctx: &Context<'_>, campaign_id: ID) -> ApiResult<CampaignStats> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let c = load_campaign(app, caller, &campaign_id).await?;
        campaign_stats(app, &c.row.id).await
    }
}

#[derive(Default)]
pub struct DialerMutation;

async fn control(ctx: &Context<'_>, call_id: &ID, c: Control) -> ApiResult<models::Call> {
    let (app, caller) = (app(ctx), actor(ctx)?);
    let me = require_user(caller)?;
    // Not the caller's call (or another organization's): NOT_FOUND.
    load_call(app, caller, call_id).await?;
    Ok(app.engine.control(me, call_id, c).await?)
}

fn phone_in(cc: &models::ContactCenter, raw: &str, field: &str) -> ApiResult<String> {
    phone::normalize(raw, &cc.default_region)
        .map_err(|e| ApiError::validation(field, format!("{e}")))
}

async fn cc_of_call(app: &App, call_id: &str) -> ApiResult<models::ContactCenter> {
    let call = store::calls::get(&app.db, call_id)
        .await?
        .ok_or_else(|| ApiError::not_found("call"))?;
    store::contact_centers::get(&app.db, &call.contact_center_id)
        .await?
        .ok_or(ApiError::Internal)
}

#[Object]
impl DialerMutation {
    /// Go AVAILABLE (in a dialer-enabled contact center this brings up the
    /// pinned audio leg), BREAK or OFFLINE (the leg goes down).
    async fn set_agent_status(
        &self,
        ctx: &Context<'_>,
        input: SetAgentStatusInput,
    ) -> ApiResult<PresencePayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let me = require_user(caller)?;
        let cc = access::load_contact_center(app, caller, &input.contact_center_id).await?;
        if !store::contact_centers::is_member(&app.db, &cc.id, me).await? {
            return Err(ApiError::Forbidden(
                "you are not a member of this contact center".into(),
            ));
        }
        // Its length is bounded at the edge (`graphql::limits`): a longer
        // one is refused there, never cut here.
        let reason = input
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        let view = app
            .engine
            .set_status(&caller.organization_id, me, cc, input.status.into(), reason)
            .await?;
        Ok(PresencePayload {
            presence: Presence(view),
        })
    }

    /// Open (or, after a page reload, reopen) the signed-in agent's
    /// BROWSER pinned leg: the page's SDP offer in, the server's answer
    /// out. CONFLICT when the agent has no pinned leg (not AVAILABLE in a
    /// dialer-enabled contact center) or it is not a browser one;
    /// VALIDATION on `sdpOffer` when the offer cannot be used.
    async fn connect_pinned_leg(
        &self,
        ctx: &Context<'_>,
        input: ConnectPinnedLegInput,
    ) -> ApiResult<ConnectPinnedLegPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let me = require_user(caller)?;
        let (leg, answer) = app.engine.browser_offer(me, &input.sdp_offer).await?;
        let pinned: PinnedLeg = (&leg).into();
        Ok(ConnectPinnedLegPayload {
            sdp_answer: answer,
            pinned_leg: pinned,
        })
    }

    /// Dial a number or a lead yourself (origin MANUAL), through the same
    /// compliance gate as the dialer.
    async fn place_call(&self, ctx: &Context<'_>, input: PlaceCallInput) -> ApiResult<CallPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let me = require_user(caller)?;
        let cc = access::load_contact_center(app, caller, &input.contact_center_id).await?;
        let lead = match &input.lead_id {
            Some(id) => {
                let lead = store::leads::get(&app.db, id)
                    .await?
                    .filter(|l| l.organization_id == caller.organization_id)
                    .ok_or_else(|| ApiError::not_found("lead"))?;
                let campaign = store::campaigns::get(&app.db, &lead.campaign_id)
                    .await?
                    .ok_or(ApiError::Internal)?;
                if campaign.contact_center_id != cc.id {
                    return Err(ApiError::not_found("lead"));
                }
                Some(lead)
            }
            None => None,
        };
        let phone = match (&input.phone, &lead) {
            (Some(p), Some(l)) => {
                let p = phone_in(&cc, p, "phone")?;
                if p != l.phone {
                    return Err(ApiError::validation(
                        "phone",
                        "differs from the lead's number; leave it out to call the lead",
                    ));
                }
                p
            }
            (Some(p), None) => phone_in(&cc, p, "phone")?,
            (None, Some(l)) => l.phone.clone(),
            (None, None) => return Err(ApiError::validation("phone", "give a phone or a leadId")),
        };
        let call = app
            .engine
            .place_call(&caller.organization_id, me, cc, phone, lead)
            .await?;
        Ok(CallPayload { call: Call(call) })
    }

    async fn mute_call(&self, ctx: &Context<'_>, input: MuteCallInput) -> ApiResult<bool> {
        control(ctx, &input.call_id, Control::Mute(input.muted)).await?;
        Ok(true)
    }

    async fn hold_call(&self, ctx: &Context<'_>, input: HoldCallInput) -> ApiResult<bool> {
        control(ctx, &input.call_id, Control::Hold(input.on_hold)).await?;
        Ok(true)
    }

    async fn transfer_call(&self, ctx: &Context<'_>, input: TransferCallInput) -> ApiResult<bool> {
        let to = match input.to {
            TransferTargetInput::AgentId(id) => TransferTo::Agent(id.to_string()),
            TransferTargetInput::Phone(p) => {
                let cc = cc_of_call(app(ctx), &input.call_id).await?;
                TransferTo::Phone(phone_in(&cc, &p, "to.phone")?)
            }
        };
        let mode = match input.mode {
            TransferMode::Blind => EngineMode::Blind,
            TransferMode::Warm => EngineMode::Warm,
        };
        control(ctx, &input.call_id, Control::Transfer { to, mode }).await?;
        Ok(true)
    }

    async fn add_participant(
        &self,
        ctx: &Context<'_>,
        input: AddParticipantInput,
    ) -> ApiResult<bool> {
        let to = match (input.phone, input.agent_id) {
            (Some(p), None) => {
                let cc = cc_of_call(app(ctx), &input.call_id).await?;
                TransferTo::Phone(phone_in(&cc, &p, "phone")?)
            }
            (None, Some(a)) => TransferTo::Agent(a.to_string()),
            _ => {
                return Err(ApiError::validation(
                    "phone",
                    "give exactly one of phone and agentId",
                ));
            }
        };
        control(ctx, &input.call_id, Control::AddParticipant(to)).await?;
        Ok(true)
    }

    async fn hang_up(&self, ctx: &Context<'_>, input: CallIdInput) -> ApiResult<bool> {
        control(ctx, &input.call_id, Control::HangUp).await?;
        Ok(true)
    }

    /// PREVIEW: place the offered call.
    async fn dial_preview(&self, ctx: &Context<'_>, input: CallIdInput) -> ApiResult<CallPayload> {
        let call = control(ctx, &input.call_id, Control::Dial).await?;
        Ok(CallPayload { call: Call(call) })
    }

    /// PREVIEW: pass on the offered lead (it comes back later).
    async fn skip_preview(&self, ctx: &Context<'_>, input: CallIdInput) -> ApiResult<CallPayload> {
        let call = control(ctx, &input.call_id, Control::Skip).await?;
        Ok(CallPayload { call: Call(call) })
    }

    /// Finish a call: disposition, notes, Do-Not-Call / Do-Not-Text /
    /// invalid marks and a callback, written all together; returns the
    /// agent to AVAILABLE (or `nextStatus`). The same submission retried
    /// returns the stored wrap-up; a different disposition or notes within
    /// the edit window (5 minutes) corrects it (audited), after it is
    /// `CONFLICT`.
    async fn submit_wrap_up(
        &self,
        ctx: &Context<'_>,
        input: SubmitWrapUpInput,
    ) -> ApiResult<SubmitWrapUpPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let me = require_user(caller)?;
        let call = load_call(app, caller, &input.call_id).await?;
        let code = input.disposition_code.trim().to_owned();
        if code.is_empty() {
            return Err(ApiError::validation("dispositionCode", "is required"));
        }
        let callback_agent_id = match input.callback_agent_id {
            Some(id) => {
                let user = access::load_user(app, caller, &id).await?;
                let member =
                    store::contact_centers::is_member(&app.db, &call.contact_center_id, &user.id)
                        .await?;
                if !member || !user.active {
                    return Err(ApiError::validation(
                        "callbackAgentId",
                        "must be an active member of the call's contact center",
                    ));
                }
                Some(user.id)
            }
            None => None,
        };
        let (wrap, presence) = app
            .engine
            .wrap_up(
                me,
                WrapUpSubmission {
                    call_id: input.call_id.to_string(),
                    disposition_code: code,
                    notes: input.notes,
                    do_not_call: input.do_not_call,
                    do_not_text: input.do_not_text,
                    invalid_number: input.invalid_number.map(|r| r.as_str().to_owned()),
                    callback_at: input.callback_at,
                    callback_agent_id,
                    next_status: input
                        .next_status
                        .map(Into::into)
                        .unwrap_or(DomainStatus::Available),
                    revoke_consent: input.revoke_consent,
                },
            )
            .await?;
        Ok(SubmitWrapUpPayload {
            wrap_up: WrapUp(wrap),
            presence: Presence(presence),
        })
    }
}
