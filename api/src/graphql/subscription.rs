//! Subscriptions, fed by the event bus. Each stream is filtered to the
//! caller's organization (and to what the caller may see).

use async_graphql::{Context, Enum, ID, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};

use crate::domain::identity::Role as DomainRole;
use crate::events::EventKind;

use super::access::require_role;
use super::imports_api::{ImportJob, load_job};
use super::{actor, app};

#[derive(Default)]
pub struct DirectorySubscription;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DirectoryChange {
    UserChanged,
    ContactCenterChanged,
    MemberAdded,
    MemberRemoved,
}

/// A change to the organization's users, contact centers or memberships.
/// Re-read the named objects to see the new state.
#[derive(SimpleObject, Clone, Debug)]
pub struct DirectoryEvent {
    pub change: DirectoryChange,
    pub user_id: Option<ID>,
    pub contact_center_id: Option<ID>,
    pub at: DateTime<Utc>,
}

#[Subscription]
impl DirectorySubscription {
    /// A CSV import's progress: the job now, then after every batch, until
    /// it is DONE or FAILED (supervisors).
    async fn import_progress(
        &self,
        ctx: &Context<'_>,
        job_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = ImportJob>> {
        let (app, caller) = (app(ctx).clone(), actor(ctx)?.clone());
        // Subscribe before reading the job, so no progress falls between.
        let events = app.events.subscribe();
        let first = load_job(&app, &caller, &job_id).await?;
        let id = job_id.to_string();
        Ok(async_stream::stream! {
            let done = |j: &ImportJob| j.0.state != "RUNNING";
            let finished = done(&first);
            yield first;
            if finished {
                return;
            }
            let mut events = events;
            while let Some(event) = events.next().await {
                if !matches!(&event.kind, EventKind::ImportProgress { job_id } if *job_id == id) {
                    continue;
                }
                match load_job(&app, &caller, &id).await {
                    Ok(job) => {
                        let finished = done(&job);
                        yield job;
                        if finished {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        })
    }

    /// Live changes to users, contact centers and memberships (admins).
    async fn directory_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = DirectoryEvent>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let org = caller.organization_id.clone();
        Ok(app.events.subscribe().filter_map(move |event| {
            let mine = event.organization_id == org;
            async move {
                if !mine {
                    return None;
                }
                let (change, user_id, contact_center_id) = match event.kind {
                    EventKind::ImportProgress { .. }
                    | EventKind::Presence(_)
                    | EventKind::Call { .. }
                    | EventKind::CampaignStats { .. }
                    | EventKind::WrapUp { .. }
                    | EventKind::AccessRevoked(_) => return None,
                    EventKind::UserChanged { user_id } => {
                        (DirectoryChange::UserChanged, Some(user_id), None)
                    }
                    EventKind::ContactCenterChanged { contact_center_id } => (
                        DirectoryChange::ContactCenterChanged,
                        None,
                        Some(contact_center_id),
                    ),
                    EventKind::MembershipChanged {
                        contact_center_id,
                        user_id,
                        member,
                    } => (
                        if member {
                            DirectoryChange::MemberAdded
                        } else {
                            DirectoryChange::MemberRemoved
                        },
                        Some(user_id),
                        Some(contact_center_id),
                    ),
                };
                Some(DirectoryEvent {
                    change,
                    user_id: user_id.map(ID),
                    contact_center_id: contact_center_id.map(ID),
                    at: event.at,
                })
            }
        }))
    }
}
