//! The event bus: what happened, fanned out to subscribers (GraphQL
//! subscriptions, the webhook worker's wake-ups). [`LocalBus`] is the
//! in-process broadcast (SQLite: one instance); on PostgreSQL,
//! [`pg::PgBus`] also carries every event to the other instances sharing
//! the database (LISTEN/NOTIFY), so a subscriber on any instance sees what
//! happened on all of them.

pub mod pg;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

/// Something that happened in an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub organization_id: String,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A user was created or changed (name, role, active).
    UserChanged { user_id: String },
    /// A contact center was created or changed.
    ContactCenterChanged { contact_center_id: String },
    /// A user joined (`member == true`) or left a contact center.
    MembershipChanged {
        contact_center_id: String,
        user_id: String,
        member: bool,
    },
    /// A CSV import made progress (or finished).
    ImportProgress { job_id: String },
    /// An agent's presence changed (status, reason, pinned leg, call).
    Presence(Box<crate::dialer::engine::PresenceView>),
    /// A step in a call's life; `call` is the call after the step.
    Call {
        step: crate::dialer::engine::CallStep,
        call: Box<crate::store::models::Call>,
        detail: Option<String>,
    },
    /// A campaign's live figures changed (a pacer decision, a call).
    CampaignStats { campaign_id: String },
    /// Access ended: a session, every session of a user, or an API token.
    /// Every open websocket it covers closes (4403), on every instance.
    AccessRevoked(Revoked),
    /// A wrap-up was submitted (or, `corrected`, changed in its edit window).
    WrapUp {
        wrap_up: Box<crate::store::models::WrapUp>,
        call: Box<crate::store::models::Call>,
        corrected: bool,
    },
}

/// What a revocation covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Revoked {
    /// One login session (logout).
    Session { session_id: String },
    /// Every session of a user (deactivated, new password, new role).
    User { user_id: String },
    /// An integrator's API token.
    ApiToken { token_id: String },
}

impl Revoked {
    /// Whether a connection authenticated as `principal` is covered.
    pub fn covers(&self, principal: &crate::auth::Principal) -> bool {
        use crate::auth::Principal;
        match (self, principal) {
            (Revoked::Session { session_id }, Principal::User { session_id: s, .. }) => {
                s == session_id
            }
            (Revoked::User { user_id }, Principal::User { user_id: u, .. }) => u == user_id,
            (Revoked::ApiToken { token_id }, Principal::ApiToken { token_id: t }) => t == token_id,
            _ => false,
        }
    }
}

impl Event {
    /// The agents this event is about (their own `agentEvents` streams).
    pub fn agents(&self) -> Vec<&str> {
        match &self.kind {
            EventKind::Presence(p) => vec![p.agent_id.as_str()],
            EventKind::Call { call, .. } => {
                let mut v: Vec<&str> = call.agent_id.iter().map(String::as_str).collect();
                if let Some(t) = call.target_agent_id.as_deref()
                    && !v.contains(&t)
                {
                    v.push(t);
                }
                v
            }
            _ => Vec::new(),
        }
    }
}

pub trait EventBus: Send + Sync + 'static {
    fn publish(&self, event: Event);
    /// Every event published from now on. A subscriber too slow to keep up
    /// skips what it missed (and the skip is logged) rather than blocking
    /// publishers.
    fn subscribe(&self) -> BoxStream<'static, Event>;
    /// Only the events about one agent ([`Event::agents`]): what an agent's
    /// own stream needs, without waking every agent's stream for every
    /// event of the floor.
    fn subscribe_agent(&self, agent_id: &str) -> BoxStream<'static, Event>;
    /// Only [`EventKind::AccessRevoked`]: what every open websocket
    /// watches, without waking for the floor's traffic.
    fn subscribe_revocations(&self) -> BoxStream<'static, Revoked>;
}

/// The in-process bus: a bounded `tokio::sync::broadcast` channel for
/// everything, and one per agent with a live agent stream.
pub struct LocalBus {
    tx: broadcast::Sender<Event>,
    revocations: broadcast::Sender<Revoked>,
    capacity: usize,
    agents: std::sync::Mutex<std::collections::HashMap<String, broadcast::Sender<Event>>>,
}

impl LocalBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        LocalBus {
            tx,
            revocations: broadcast::channel(256).0,
            capacity,
            agents: Default::default(),
        }
    }
}

fn stream_of(rx: broadcast::Receiver<Event>) -> BoxStream<'static, Event> {
    BroadcastStream::new(rx)
        .filter_map(|item| async move {
            match item {
                Ok(event) => Some(event),
                Err(e) => {
                    tracing::warn!("event subscriber lagged: {e}");
                    None
                }
            }
        })
        .boxed()
}

impl EventBus for LocalBus {
    fn publish(&self, event: Event) {
        if let EventKind::AccessRevoked(r) = &event.kind {
            let _ = self.revocations.send(r.clone());
        }
        let agents = event.agents();
        if !agents.is_empty() {
            let mut map = self.agents.lock().unwrap_or_else(|p| p.into_inner());
            for agent in agents {
                if let Some(tx) = map.get(agent) {
                    if tx.receiver_count() == 0 {
                        map.remove(agent);
                    } else {
                        let _ = tx.send(event.clone());
                    }
                }
            }
        }
        // No subscribers is not an error.
        let _ = self.tx.send(event);
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        stream_of(self.tx.subscribe())
    }

    fn subscribe_agent(&self, agent_id: &str) -> BoxStream<'static, Event> {
        let mut map = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        let cap = self.capacity.clamp(16, 1024);
        let rx = map
            .entry(agent_id.to_owned())
            .or_insert_with(|| broadcast::channel(cap).0)
            .subscribe();
        stream_of(rx)
    }

    fn subscribe_revocations(&self) -> BoxStream<'static, Revoked> {
        BroadcastStream::new(self.revocations.subscribe())
            .filter_map(|item| async move {
                match item {
                    Ok(r) => Some(r),
                    Err(e) => {
                        // Not expected (256 revocations at once); the
                        // sockets re-check their token on every operation.
                        tracing::warn!("revocation subscriber lagged: {e}");
                        None
                    }
                }
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_get_events_published_after_they_subscribe() {
        let bus = LocalBus::new(16);
        let ev = |id: &str| Event {
            organization_id: "o".into(),
            at: Utc::now(),
            kind: EventKind::UserChanged { user_id: id.into() },
        };
        bus.publish(ev("before"));
        let mut sub = bus.subscribe();
        bus.publish(ev("after"));
        let got = sub.next().await.expect("event");
        assert_eq!(
            got.kind,
            EventKind::UserChanged {
                user_id: "after".into()
            }
        );
    }

    #[tokio::test]
    async fn an_agent_stream_gets_only_that_agents_events() {
        let bus = LocalBus::new(16);
        let presence = |agent: &str| Event {
            organization_id: "o".into(),
            at: Utc::now(),
            kind: EventKind::Presence(Box::new(crate::dialer::engine::PresenceView {
                agent_id: agent.into(),
                contact_center_id: None,
                status: crate::domain::agent::AgentStatus::Offline,
                reason: None,
                since: Utc::now(),
                pinned_leg: None,
                call_id: None,
                wrap_up_call_id: None,
                offered_call_id: None,
            })),
        };
        let mut mine = bus.subscribe_agent("a1");
        let mut all = bus.subscribe();
        bus.publish(presence("a2"));
        bus.publish(presence("a1"));
        let got = mine.next().await.expect("event");
        assert_eq!(got.agents(), vec!["a1"]);
        assert_eq!(all.next().await.expect("event").agents(), vec!["a2"]);
        // A dropped agent stream's channel goes at the next event for it.
        drop(mine);
        bus.publish(presence("a1"));
        assert!(bus.agents.lock().expect("lock").is_empty());
    }
}
