//! Commands for a contact center that runs on another instance (several
//! instances on one PostgreSQL, `serve --cluster`): the engine's API call
//! as data, sent to the lease holder ([`Forwarder`], over internal HTTP
//! in `http/internal.rs`), executed there by [`super::Engine::execute`]
//! as if it had been asked locally, and its answer or error sent back.

use std::future::Future;
use std::pin::Pin;

use super::{
    CampaignLive, Control, Engine, EngineError, EngineResult, PresenceView, WrapUpSubmission,
};
use crate::domain::agent::AgentStatus;
use crate::store::{Outage, StoreError, models};

/// An engine command, for the instance that runs its center.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Remote {
    SetStatus {
        organization_id: String,
        agent_id: String,
        contact_center: Box<models::ContactCenter>,
        status: AgentStatus,
        reason: Option<String>,
    },
    SessionEnded {
        agent_id: String,
    },
    Connection {
        agent_id: String,
        open: bool,
    },
    Presence {
        agent_id: String,
    },
    Floor {
        contact_center_id: String,
    },
    PlaceCall {
        organization_id: String,
        agent_id: String,
        contact_center: Box<models::ContactCenter>,
        phone: String,
        lead: Option<Box<models::Lead>>,
    },
    Control {
        agent_id: String,
        call_id: String,
        control: Control,
    },
    WrapUp {
        agent_id: String,
        submission: Box<WrapUpSubmission>,
    },
    CampaignLive {
        campaign_id: String,
    },
}

/// Its answer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum RemoteReply {
    Done,
    View(Box<PresenceView>),
    MaybeView(Option<Box<PresenceView>>),
    Floor(Vec<PresenceView>),
    Call(Box<models::Call>),
    WrapUp(Box<(models::WrapUp, PresenceView)>),
    CampaignLive(Option<CampaignLive>),
}

/// Its error, as the API would show it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum RemoteError {
    Conflict(String),
    NotFound(String),
    Validation {
        field: String,
        message: String,
    },
    Unavailable {
        cause: Outage,
        message: String,
    },
    /// The center does not run there either (moving): retry shortly.
    NotHere(String),
    Failed(String),
}

impl From<EngineError> for RemoteError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Conflict(m) => RemoteError::Conflict(m),
            EngineError::NotFound(what) => RemoteError::NotFound(what.into()),
            EngineError::Validation { field, message } => RemoteError::Validation {
                field: field.into(),
                message,
            },
            EngineError::Unavailable { cause, message } => {
                RemoteError::Unavailable { cause, message }
            }
            EngineError::Store(e) => match e.outage() {
                Some(cause) => RemoteError::Unavailable {
                    cause,
                    message: e.to_string(),
                },
                None => RemoteError::Failed(e.to_string()),
            },
            EngineError::NotHere { center } => RemoteError::NotHere(center),
            EngineError::Stopped => RemoteError::Failed("the dialer engine has stopped".into()),
        }
    }
}

/// The API's field names and record kinds are few and known: the ones an
/// engine error names, back as the `'static` strings it holds.
fn known(s: &str) -> &'static str {
    const KNOWN: [&str; 8] = [
        "agent",
        "call",
        "lead",
        "campaign",
        "notes",
        "reason",
        "callbackAt",
        "phone",
    ];
    KNOWN.iter().find(|k| **k == s).copied().unwrap_or("record")
}

impl From<RemoteError> for EngineError {
    fn from(e: RemoteError) -> Self {
        match e {
            RemoteError::Conflict(m) => EngineError::Conflict(m),
            RemoteError::NotFound(what) => EngineError::NotFound(known(&what)),
            RemoteError::Validation { field, message } => EngineError::Validation {
                field: known(&field),
                message,
            },
            RemoteError::Unavailable { cause, message } => {
                EngineError::Unavailable { cause, message }
            }
            RemoteError::NotHere(center) => EngineError::NotHere { center },
            RemoteError::Failed(m) => {
                EngineError::Store(StoreError::System(format!("on the owning instance: {m}")))
            }
        }
    }
}

/// A boxed future that may cross threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends a command to the instance that runs `center`.
pub trait Forwarder: Send + Sync {
    fn forward<'a>(
        &'a self,
        center: &'a str,
        command: Remote,
    ) -> BoxFuture<'a, EngineResult<RemoteReply>>;
}

/// How long a command waits for its center to settle on an instance
/// before answering `UNAVAILABLE` (a takeover's recovery takes well under
/// this; a dead holder's lease runs out only after the lease time).
pub(crate) const SETTLING: std::time::Duration = std::time::Duration::from_secs(3);
const RETRY_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// The reply was not of the command's kind (a bug, or versions apart).
pub(crate) fn mismatched() -> EngineError {
    EngineError::Store(StoreError::System(
        "the owning instance answered another command".into(),
    ))
}

impl Engine {
    /// Clustered: send commands for centers that run elsewhere through
    /// `forwarder` (set once, at start).
    pub fn forward_with(&self, forwarder: std::sync::Arc<dyn Forwarder>) {
        let _ = self.forwarder.set(forwarder);
    }

    /// Carry `command` out here, or — when its center runs on another
    /// instance — there.
    ///
    /// A center changing hands is briefly nowhere (its new holder has
    /// claimed it and is recovering it; or the old one has let it go and
    /// nobody has claimed it yet): while `NotHere` says the command was
    /// carried out nowhere, it is tried again for up to [`SETTLING`].
    async fn run(&self, command: Remote) -> EngineResult<RemoteReply> {
        let Some(f) = self.forwarder.get() else {
            return self.execute(command).await;
        };
        let deadline = tokio::time::Instant::now() + SETTLING;
        loop {
            let r = match self.execute(command.clone()).await {
                Err(EngineError::NotHere { center }) => f.forward(&center, command.clone()).await,
                r => r,
            };
            match r {
                Err(EngineError::NotHere { .. })
                    if tokio::time::Instant::now() + RETRY_EVERY < deadline =>
                {
                    self.leases_wanted.notify_one();
                    tokio::time::sleep(RETRY_EVERY).await;
                }
                r => return r,
            }
        }
    }

    /// A command forwarded by another instance, carried out here (never
    /// forwarded again: a center that does not run here answers
    /// `NotHere`, and the caller retries).
    pub async fn execute(&self, command: Remote) -> EngineResult<RemoteReply> {
        Ok(match command {
            Remote::SetStatus {
                organization_id,
                agent_id,
                contact_center,
                status,
                reason,
            } => RemoteReply::View(Box::new(
                self.local_set_status(&organization_id, &agent_id, *contact_center, status, reason)
                    .await?,
            )),
            Remote::SessionEnded { agent_id } => {
                self.local_session_ended(&agent_id).await?;
                RemoteReply::Done
            }
            Remote::Connection { agent_id, open } => {
                self.centers.connection(&agent_id, open);
                RemoteReply::Done
            }
            Remote::Presence { agent_id } => {
                RemoteReply::MaybeView(self.local_presence(&agent_id).await?.map(Box::new))
            }
            Remote::Floor { contact_center_id } => {
                RemoteReply::Floor(self.local_floor(&contact_center_id).await?)
            }
            Remote::PlaceCall {
                organization_id,
                agent_id,
                contact_center,
                phone,
                lead,
            } => RemoteReply::Call(Box::new(
                self.local_place_call(
                    &organization_id,
                    &agent_id,
                    *contact_center,
                    phone,
                    lead.map(|l| *l),
                )
                .await?,
            )),
            Remote::Control {
                agent_id,
                call_id,
                control,
            } => RemoteReply::Call(Box::new(
                self.local_control(&agent_id, &call_id, control).await?,
            )),
            Remote::WrapUp {
                agent_id,
                submission,
            } => RemoteReply::WrapUp(Box::new(self.local_wrap_up(&agent_id, *submission).await?)),
            Remote::CampaignLive { campaign_id } => {
                RemoteReply::CampaignLive(self.local_campaign_live(&campaign_id).await?)
            }
        })
    }

    pub async fn set_status(
        &self,
        organization_id: &str,
        agent_id: &str,
        contact_center: models::ContactCenter,
        status: AgentStatus,
        reason: Option<String>,
    ) -> EngineResult<PresenceView> {
        let command = Remote::SetStatus {
            organization_id: organization_id.to_owned(),
            agent_id: agent_id.to_owned(),
            contact_center: Box::new(contact_center),
            status,
            reason,
        };
        match self.run(command).await? {
            RemoteReply::View(v) => Ok(*v),
            _ => Err(mismatched()),
        }
    }

    /// Logout (or a deactivated user): pinned leg down, OFFLINE.
    pub async fn session_ended(&self, agent_id: &str) -> EngineResult<()> {
        let agent_id = agent_id.to_owned();
        match self.run(Remote::SessionEnded { agent_id }).await? {
            RemoteReply::Done => Ok(()),
            _ => Err(mismatched()),
        }
    }

    /// An agent's live connection opened or closed (the session grace
    /// period runs while none is open); clustered, the instance that runs
    /// their center is told too.
    pub fn connection(&self, agent_id: &str, open: bool) {
        self.centers.connection(agent_id, open);
        let Some(f) = self.forwarder.get().cloned() else {
            return;
        };
        let (centers, agent_id) = (self.centers.clone(), agent_id.to_owned());
        tokio::spawn(async move {
            let Ok(Some(center)) = centers.agent_home(&agent_id).await else {
                return;
            };
            if centers.live(&center).is_err() {
                let told = f
                    .forward(&center, Remote::Connection { agent_id, open })
                    .await;
                if let Err(e) = told {
                    tracing::debug!("an agent's connection, for the center's owner: {e}");
                }
            }
        });
    }

    pub async fn presence(&self, agent_id: &str) -> EngineResult<Option<PresenceView>> {
        let agent_id = agent_id.to_owned();
        match self.run(Remote::Presence { agent_id }).await? {
            RemoteReply::MaybeView(v) => Ok(v.map(|v| *v)),
            _ => Err(mismatched()),
        }
    }

    /// Every agent present in a contact center (not OFFLINE).
    pub async fn floor(&self, contact_center_id: &str) -> EngineResult<Vec<PresenceView>> {
        let contact_center_id = contact_center_id.to_owned();
        match self.run(Remote::Floor { contact_center_id }).await? {
            RemoteReply::Floor(f) => Ok(f),
            _ => Err(mismatched()),
        }
    }

    pub async fn place_call(
        &self,
        organization_id: &str,
        agent_id: &str,
        contact_center: models::ContactCenter,
        phone: String,
        lead: Option<models::Lead>,
    ) -> EngineResult<models::Call> {
        let command = Remote::PlaceCall {
            organization_id: organization_id.to_owned(),
            agent_id: agent_id.to_owned(),
            contact_center: Box::new(contact_center),
            phone,
            lead: lead.map(Box::new),
        };
        match self.run(command).await? {
            RemoteReply::Call(c) => Ok(*c),
            _ => Err(mismatched()),
        }
    }

    pub async fn control(
        &self,
        agent_id: &str,
        call_id: &str,
        control: Control,
    ) -> EngineResult<models::Call> {
        let command = Remote::Control {
            agent_id: agent_id.to_owned(),
            call_id: call_id.to_owned(),
            control,
        };
        match self.run(command).await? {
            RemoteReply::Call(c) => Ok(*c),
            _ => Err(mismatched()),
        }
    }

    pub async fn wrap_up(
        &self,
        agent_id: &str,
        submission: WrapUpSubmission,
    ) -> EngineResult<(models::WrapUp, PresenceView)> {
        let command = Remote::WrapUp {
            agent_id: agent_id.to_owned(),
            submission: Box::new(submission),
        };
        match self.run(command).await? {
            RemoteReply::WrapUp(w) => Ok(*w),
            _ => Err(mismatched()),
        }
    }

    pub async fn campaign_live(&self, campaign_id: &str) -> EngineResult<Option<CampaignLive>> {
        let campaign_id = campaign_id.to_owned();
        match self.run(Remote::CampaignLive { campaign_id }).await? {
            RemoteReply::CampaignLive(c) => Ok(c),
            _ => Err(mismatched()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_as_the_api_shows_them() {
        let cases = [
            EngineError::Conflict("busy".into()),
            EngineError::NotFound("call"),
            EngineError::Validation {
                field: "notes",
                message: "too long".into(),
            },
            EngineError::Unavailable {
                cause: Outage::DiskFull,
                message: "full".into(),
            },
            EngineError::NotHere {
                center: "cc".into(),
            },
        ];
        for e in cases {
            let before = e.to_string();
            let wire = serde_json::to_string(&RemoteError::from(e)).expect("json");
            let back: RemoteError = serde_json::from_str(&wire).expect("back");
            assert_eq!(EngineError::from(back).to_string(), before);
        }
    }
}
