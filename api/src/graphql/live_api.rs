//! The live subscriptions of the dialer: `agentEvents` (the signed-in
//! agent's presence, pinned leg and calls), `callEvents` and
//! `agentPresence` (a contact center's, for supervisors) and
//! `campaignStats`. Each starts with the current state, so a client that
//! reconnects re-syncs without a query.

use async_graphql::{Context, ID, Subscription};
use futures::{Stream, StreamExt};

use crate::domain::identity::Role as DomainRole;
use crate::events::{Event, EventKind};

use super::access::{self, require_role, require_user};
use super::call_types::{
    AgentEvent, Call, CallEvent, CampaignStats, PinnedLeg, PinnedLegChanged, Presence,
    PresenceChanged, WrapUpEvent, campaign_stats,
};
use super::campaign_api::load_campaign;
use super::{actor, app};

#[derive(Default)]
pub struct LiveSubscription;

fn call_event(event: &Event) -> Option<CallEvent> {
    match &event.kind {
        EventKind::Call { step, call, detail } => Some(CallEvent {
            step: (*step).into(),
            detail: detail.clone(),
            at: event.at,
            call: Call((**call).clone()),
        }),
        _ => None,
    }
}

#[Subscription]
impl LiveSubscription {
    /// For the signed-in agent: presence and pinned-leg changes, calls
    /// offered, connected (TONE then CONNECTED), their state changes, and
    /// WRAP_UP_REQUIRED. Starts with the current presence.
    async fn agent_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = AgentEvent>> {
        let (app, caller) = (app(ctx).clone(), actor(ctx)?);
        let me = require_user(caller)?.to_owned();
        let org = caller.organization_id.clone();
        let events = app.events.subscribe_agent(&me);
        let first = app
            .engine
            .presence(&me)
            .await
            .map_err(super::error::ApiError::from)?;
        Ok(async_stream::stream! {
            let mut leg = first.as_ref().and_then(|p| p.pinned_leg.clone());
            if let Some(p) = first {
                yield AgentEvent::PresenceChanged(PresenceChanged {
                    at: p.since,
                    presence: Presence(p),
                });
            }
            let mut events = events;
            while let Some(event) = events.next().await {
                if event.organization_id != org {
                    continue;
                }
                match &event.kind {
                    EventKind::Presence(p) if p.agent_id == me => {
                        if p.pinned_leg != leg {
                            leg = p.pinned_leg.clone();
                            yield AgentEvent::PinnedLegChanged(PinnedLegChanged {
                                pinned_leg: leg.as_ref().map(PinnedLeg::from),
                                at: event.at,
                            });
                        }
                        yield AgentEvent::PresenceChanged(PresenceChanged {
                            presence: Presence((**p).clone()),
                            at: event.at,
                        });
                    }
                    EventKind::Call { call, .. }
                        if call.agent_id.as_deref() == Some(me.as_str())
                            || call.target_agent_id.as_deref() == Some(me.as_str()) =>
                    {
                        if let Some(e) = call_event(&event) {
                            yield AgentEvent::CallEvent(Box::new(e));
                        }
                    }
                    _ => {}
                }
            }
        })
    }

    /// Every call's lifecycle in a contact center (supervisors).
    async fn call_events(
        &self,
        ctx: &Context<'_>,
        contact_center_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = CallEvent>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let cc = access::load_contact_center(app, caller, &contact_center_id).await?;
        let org = caller.organization_id.clone();
        Ok(app.events.subscribe().filter_map(move |event| {
            let keep = event.organization_id == org
                && matches!(&event.kind, EventKind::Call { call, .. } if call.contact_center_id == cc.id);
            let out = keep.then(|| call_event(&event)).flatten();
            async move { out }
        }))
    }

    /// Agents' presence in a contact center (supervisors): everyone present
    /// now, then every change.
    async fn agent_presence(
        &self,
        ctx: &Context<'_>,
        contact_center_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Presence>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let cc = access::load_contact_center(app, caller, &contact_center_id).await?;
        let org = caller.organization_id.clone();
        let events = app.events.subscribe();
        let floor = app
            .engine
            .floor(&cc.id)
            .await
            .map_err(super::error::ApiError::from)?;
        let live = events.filter_map(move |event| {
            let out = match event.kind {
                EventKind::Presence(p)
                    if event.organization_id == org
                        && p.contact_center_id.as_deref() == Some(cc.id.as_str()) =>
                {
                    Some(Presence(*p))
                }
                _ => None,
            };
            async move { out }
        });
        Ok(futures::stream::iter(floor.into_iter().map(Presence)).chain(live))
    }

    /// Every wrap-up of a campaign as it is submitted or corrected
    /// (supervisors and integrators): disposition, notes, the DNC / DNT /
    /// invalid marks, the call and the lead.
    async fn wrap_up_events(
        &self,
        ctx: &Context<'_>,
        campaign_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = WrapUpEvent>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let campaign = load_campaign(app, caller, &campaign_id).await?;
        let id = campaign.row.id.clone();
        let org = caller.organization_id.clone();
        Ok(app.events.subscribe().filter_map(move |event| {
            let out = match event.kind {
                EventKind::WrapUp {
                    wrap_up,
                    call,
                    corrected,
                } if event.organization_id == org
                    && wrap_up.campaign_id.as_deref() == Some(id.as_str()) =>
                {
                    Some(WrapUpEvent {
                        wrap_up: *wrap_up,
                        call: *call,
                        corrected,
                        at: event.at,
                    })
                }
                _ => None,
            };
            async move { out }
        }))
    }

    /// A campaign's figures: now, then whenever they change.
    async fn campaign_stats(
        &self,
        ctx: &Context<'_>,
        campaign_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = CampaignStats>> {
        let (app, caller) = (app(ctx).clone(), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let campaign = load_campaign(&app, caller, &campaign_id).await?;
        let id = campaign.row.id.clone();
        let org = caller.organization_id.clone();
        let events = app.events.subscribe();
        let first = campaign_stats(&app, &id).await?;
        Ok(async_stream::stream! {
            yield first;
            let mut events = events;
            while let Some(event) = events.next().await {
                let mine = event.organization_id == org
                    && matches!(&event.kind, EventKind::CampaignStats { campaign_id } if *campaign_id == id);
                if !mine {
                    continue;
                }
                match campaign_stats(&app, &id).await {
                    Ok(s) => yield s,
                    Err(_) => break,
                }
            }
        })
    }
}
