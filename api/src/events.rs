//! The event bus: what happened, fanned out to subscribers (GraphQL
//! subscriptions today). In-process broadcast now; a cross-instance
//! transport (PostgreSQL LISTEN/NOTIFY) can sit behind the same trait.

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

/// Something that happened in an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub organization_id: String,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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
}

pub trait EventBus: Send + Sync + 'static {
    fn publish(&self, event: Event);
    /// Every event published from now on. A subscriber too slow to keep up
    /// skips what it missed (and the skip is logged) rather than blocking
    /// publishers.
    fn subscribe(&self) -> BoxStream<'static, Event>;
}

/// The in-process bus: a bounded `tokio::sync::broadcast` channel.
pub struct LocalBus {
    tx: broadcast::Sender<Event>,
}

impl LocalBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        LocalBus { tx }
    }
}

impl EventBus for LocalBus {
    fn publish(&self, event: Event) {
        // No subscribers is not an error.
        let _ = self.tx.send(event);
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        BroadcastStream::new(self.tx.subscribe())
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
}
