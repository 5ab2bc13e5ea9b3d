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
    /// How many live connections instance `from` holds for each agent
    /// (a snapshot: said again every second, and at once when one opens
    /// or closes), for the instance that runs their center.
    Sockets {
        from: String,
        counts: Vec<(String, u32)>,
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
    /// The agent's page opens its browser pinned leg: the offer goes to
    /// the media of the instance that runs their center.
    BrowserOffer {
        agent_id: String,
        sdp_offer: String,
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
    /// The pinned leg the offer opened, and the SDP answer.
    Answer(Box<(super::PinnedLeg, String)>),
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
    const KNOWN: [&str; 9] = [
        "sdpOffer",
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

/// What another instance said of its agents' connections is forgotten
/// when it has not said it again for this long (it died, or the center
/// left this instance and it now tells the new owner).
pub(crate) const SOCKETS_SILENT: std::time::Duration = std::time::Duration::from_secs(4);

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
    /// `instance` is this one's id (said with its agents' connections).
    pub fn forward_with(&self, forwarder: std::sync::Arc<dyn Forwarder>, instance: &str) {
        let _ = self.forwarder.set(forwarder);
        let _ = self.instance.set(instance.to_owned());
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
            Remote::Sockets { from, counts } => {
                self.centers.remote_sockets(&from, &counts);
                RemoteReply::Done
            }
            Remote::BrowserOffer {
                agent_id,
                sdp_offer,
            } => RemoteReply::Answer(Box::new(
                self.local_browser_offer(&agent_id, &sdp_offer).await?,
            )),
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
    /// their center is told how many this one now holds.
    pub fn connection(&self, agent_id: &str, open: bool) {
        self.centers.connection(agent_id, open);
        let count = {
            let mut local = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
            let n = local.entry(agent_id.to_owned()).or_default();
            *n = if open { *n + 1 } else { n.saturating_sub(1) };
            let n = *n;
            if n == 0 {
                local.remove(agent_id);
            }
            n
        };
        if self.forwarder.get().is_none() {
            return; // One server: nobody else to tell.
        }
        let engine = self.clone();
        let agent_id = agent_id.to_owned();
        tokio::spawn(async move {
            engine.tell_sockets_of(vec![(agent_id, count)]).await;
        });
    }

    /// Clustered, every second: tell the instances that run the centers
    /// of agents connected here how many connections this one holds (a
    /// center taken over learns them within a second), and forget what
    /// instances that stopped saying so had said.
    pub async fn tell_sockets(&self) {
        let counts: Vec<(String, u32)> = self
            .sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(a, n)| (a.clone(), *n))
            .collect();
        self.tell_sockets_of(counts).await;
        self.centers.expire_sockets(SOCKETS_SILENT);
    }

    /// Send `counts` to the instances that run the agents' centers (those
    /// that run elsewhere).
    async fn tell_sockets_of(&self, counts: Vec<(String, u32)>) {
        let (Some(f), Some(me)) = (self.forwarder.get(), self.instance.get()) else {
            return;
        };
        let mut by_center: std::collections::BTreeMap<String, Vec<(String, u32)>> =
            Default::default();
        for (agent_id, n) in counts {
            let Ok(Some(center)) = self.centers.agent_home(&agent_id).await else {
                continue;
            };
            if self.centers.live(&center).is_err() {
                by_center.entry(center).or_default().push((agent_id, n));
            }
        }
        for (center, counts) in by_center {
            let said = Remote::Sockets {
                from: me.clone(),
                counts,
            };
            if let Err(e) = f.forward(&center, said).await {
                tracing::debug!("agents' connections, for their center's owner: {e}");
            }
        }
    }

    pub async fn presence(&self, agent_id: &str) -> EngineResult<Option<PresenceView>> {
        let agent_id = agent_id.to_owned();
        match self.run(Remote::Presence { agent_id }).await? {
            RemoteReply::MaybeView(v) => Ok(v.map(|v| *v)),
            _ => Err(mismatched()),
        }
    }

    /// Answer the agent's page's SDP offer for their browser pinned leg,
    /// on the instance that runs their center (its media carries the leg).
    pub async fn browser_offer(
        &self,
        agent_id: &str,
        sdp_offer: &str,
    ) -> EngineResult<(super::PinnedLeg, String)> {
        let command = Remote::BrowserOffer {
            agent_id: agent_id.to_owned(),
            sdp_offer: sdp_offer.to_owned(),
        };
        match self.run(command).await? {
            RemoteReply::Answer(a) => Ok(*a),
            _ => Err(mismatched()),
        }
    }

    async fn local_browser_offer(
        &self,
        agent_id: &str,
        sdp_offer: &str,
    ) -> EngineResult<(super::PinnedLeg, String)> {
        use crate::media::{MediaError, PinnedLegKind};
        let leg = self
            .local_presence(agent_id)
            .await?
            .and_then(|p| p.pinned_leg)
            .ok_or_else(|| {
                EngineError::Conflict(
                    "you have no pinned audio leg: go AVAILABLE in a dialer-enabled contact center first"
                        .into(),
                )
            })?;
        let other = match leg.kind {
            PinnedLegKind::Browser => None,
            PinnedLegKind::SipPhone => Some("a call to your SIP phone"),
            PinnedLegKind::Simulated => Some("simulated"),
        };
        if let Some(other) = other {
            return Err(EngineError::Conflict(format!(
                "your pinned audio leg is {other}, not a browser one"
            )));
        }
        let answer = self
            .centers
            .media()
            .browser_offer(&leg.id, sdp_offer)
            .map_err(|e| match e {
                MediaError::BadInput(message) => EngineError::Validation {
                    field: "sdpOffer",
                    message,
                },
                MediaError::UnknownLeg(_) => {
                    EngineError::Conflict("your pinned audio leg ended meanwhile: try again".into())
                }
                MediaError::Refused(m) => EngineError::Conflict(m),
            })?;
        Ok((leg, answer))
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
