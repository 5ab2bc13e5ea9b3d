//! The engine: for each contact center, one task that owns the live
//! state of its agents, calls and running campaigns (`centers.rs` starts
//! them and finds a command's center). The API sends it commands; the
//! media provider's events and the engine's own timers come through the
//! center's time-ordered [`Timeline`]. Every step is written to the store
//! (calls, the call event log, presence) and published on the event bus.
//! On a manual clock, time moves only when told ([`Engine::advance`]),
//! which makes whole campaigns run deterministically in tests.

mod agents;
mod calls;
mod centers;
mod controls;
mod drain;
mod follow_ups;
mod journal;
mod legs;
mod manual;
mod numbers;
mod pacing;
mod recovery;
pub mod remote;
mod wrapup;
mod writer;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::clock::{Clock, Timeline};
use crate::domain::agent::AgentStatus;
use crate::domain::call::CallState;
use crate::events::{Event, EventBus, EventKind};
use crate::media::{MediaEvent, MediaProvider, MediaSink};
use crate::metrics::EngineMetrics;
use crate::store::{Db, StoreError, models};

pub use agents::{PinnedLeg, PinnedLegState, PresenceView};
pub use calls::CallStep;
pub use controls::{Control, TransferMode, TransferTo};
pub use follow_ups::rule_of;
pub use pacing::{CampaignLive, history_from, learn_from};

/// One answered call connected to an agent, as the bench sees it.
#[derive(Debug, Clone)]
pub struct ConnectSample {
    pub call_id: String,
    /// When the answer was due from the carrier (its event waiting in the
    /// engine's queue counts).
    pub answered: std::time::Instant,
    /// From then until the bridge was ordered, the call and its events
    /// written, and CONNECTED published.
    pub published: std::time::Duration,
    /// Of which the answer waited in the engine's queue.
    pub queued: std::time::Duration,
}

/// Where the engine reports connect samples when asked to (benchmarks).
pub type LatencyProbe = std::sync::Mutex<Vec<ConnectSample>>;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long an agent's pinned leg outlives their last websocket.
    pub session_grace: Duration,
    /// How often running campaigns are paced.
    pub pace_every: Duration,
    /// How long after submitting an agent may correct a wrap-up.
    pub wrap_up_edit_window: Duration,
    /// At most this many calls are placed (or offered) per campaign in one
    /// pass; a bigger decision continues in the next pass, after whatever
    /// fell due meanwhile (live answers are never stuck behind a burst).
    pub pace_chunk: usize,
    /// Benchmarks: every answer→connected time is also pushed here.
    pub latency_probe: Option<Arc<LatencyProbe>>,
    /// Several instances share the database: this one runs only the
    /// centers whose leases it holds (`Engine::apply_leases`), recovers
    /// each as it takes it, and fences their writes.
    pub leased: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            session_grace: Duration::seconds(30),
            pace_every: Duration::seconds(1),
            wrap_up_edit_window: crate::domain::wrap_up::EDIT_WINDOW,
            pace_chunk: 1,
            latency_probe: None,
            leased: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field}: {message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the dialer engine has stopped")]
    Stopped,
    /// The center is not this instance's (its lease is another's, or
    /// moving).
    #[error("contact center {center} is not run by this server")]
    NotHere { center: String },
    /// The database is not taking writes; what was done is kept and
    /// written when it does.
    #[error("{message}")]
    Unavailable {
        cause: crate::store::Outage,
        message: String,
    },
}

pub type EngineResult<T> = Result<T, EngineError>;

impl EngineError {
    /// The database could not take the write (retrying later helps).
    pub fn is_unavailable(&self) -> bool {
        match self {
            EngineError::Unavailable { .. } => true,
            EngineError::Store(e) => e.outage().is_some(),
            _ => false,
        }
    }
}

fn conflict(m: impl Into<String>) -> EngineError {
    EngineError::Conflict(m.into())
}

/// Things due at a moment.
#[derive(Debug, Clone)]
pub(crate) enum Due {
    Media(MediaEvent),
    /// Pace the running campaigns (periodic).
    Tick,
    /// Pace now (an agent became ready, a call ended).
    PaceNow,
    /// A live answer still without an agent is abandoned.
    ConnectDeadline {
        call_id: String,
    },
    /// The campaign's wrap-up limit for this agent and call.
    WrapUpLimit {
        agent_id: String,
        call_id: String,
    },
    /// The agent's session grace period ends (if `epoch` is still theirs).
    Grace {
        agent_id: String,
        epoch: u64,
    },
    /// Retry the writes the database did not take.
    CatchUp,
    /// The writer met an outage: take back what it holds.
    WriterFailed,
    /// The center's lease moved on: stop without writing.
    LeaseLost,
}

/// What the API asks of the engine.
pub(crate) enum Command {
    SetStatus {
        organization_id: String,
        agent_id: String,
        contact_center: Box<models::ContactCenter>,
        status: AgentStatus,
        reason: Option<String>,
        reply: oneshot::Sender<EngineResult<PresenceView>>,
    },
    SessionEnded {
        agent_id: String,
        reply: oneshot::Sender<()>,
    },
    Connection {
        agent_id: String,
        open: bool,
    },
    Presence {
        agent_id: String,
        reply: oneshot::Sender<Option<PresenceView>>,
    },
    Floor {
        contact_center_id: String,
        reply: oneshot::Sender<Vec<PresenceView>>,
    },
    PlaceCall {
        organization_id: String,
        agent_id: String,
        contact_center: Box<models::ContactCenter>,
        phone: String,
        lead: Option<Box<models::Lead>>,
        reply: oneshot::Sender<EngineResult<models::Call>>,
    },
    Control {
        agent_id: String,
        call_id: String,
        control: Control,
        reply: oneshot::Sender<EngineResult<models::Call>>,
    },
    WrapUp {
        agent_id: String,
        submission: wrapup::WrapUpSubmission,
        reply: oneshot::Sender<EngineResult<(models::WrapUp, PresenceView)>>,
    },
    CampaignLive {
        campaign_id: String,
        reply: oneshot::Sender<Option<CampaignLive>>,
    },
    AdvanceTo {
        to: DateTime<Utc>,
        reply: oneshot::Sender<()>,
    },
    Settle {
        reply: oneshot::Sender<()>,
    },
    Health {
        reply: oneshot::Sender<EngineHealth>,
    },
    Drain {
        reply: oneshot::Sender<Drained>,
    },
    /// The agent moves to another center: out of this one (refused while
    /// they are on a call or in wrap-up here).
    Release {
        agent_id: String,
        reply: oneshot::Sender<EngineResult<()>>,
    },
    /// The number was marked (DNC, invalid) in another center: its
    /// offers here are withdrawn.
    Withdraw {
        organization_id: String,
        phone: String,
        reply: oneshot::Sender<EngineResult<()>>,
    },
    /// The lease keeper saw the center's lease go: stop, unwritten.
    LeaseLost,
}

/// What a clean stop did.
#[derive(Debug, Clone, Default)]
pub struct Drained {
    /// Calls ended (their ends written and published).
    pub calls_ended: usize,
    /// Agents set OFFLINE.
    pub agents_offline: usize,
    /// Writes still waiting for the database at the end (the next start
    /// ends those calls at the last heartbeat).
    pub unwritten: usize,
}

/// What the engine holds that the database may not have yet.
#[derive(Debug, Clone, Default)]
pub struct EngineHealth {
    /// Writes (and publications behind them) waiting for the database.
    pub backlog: usize,
    /// Why they wait.
    pub outage: Option<crate::store::Outage>,
    /// Calls the engine is handling, sorted.
    pub live_calls: Vec<String>,
}

pub use wrapup::WrapUpSubmission;

/// A handle to the running engine (cheap to clone).
#[derive(Clone)]
pub struct Engine {
    centers: Arc<centers::Centers>,
    clock: Clock,
    /// Clustered: how commands reach the instance that runs their center.
    forwarder: Arc<std::sync::OnceLock<Arc<dyn remote::Forwarder>>>,
    /// Leased: a command found its center held by nobody (new, or its
    /// holder gone): the lease keeper looks at once.
    leases_wanted: Arc<tokio::sync::Notify>,
    /// Clustered: this instance's id.
    instance: Arc<std::sync::OnceLock<String>>,
    /// The live connections (websockets) this instance holds, by agent.
    sockets: Arc<std::sync::Mutex<HashMap<String, u32>>>,
}

/// Everything the engine task needs.
pub struct EngineParts {
    pub db: Db,
    pub events: Arc<dyn EventBus>,
    pub metrics: EngineMetrics,
    pub clock: Clock,
    pub config: EngineConfig,
}

impl Engine {
    /// Recover from the last stop, then start the engine (each contact
    /// center's task starts when the center is first needed). `media` is
    /// built by the caller around the sink it is given.
    pub async fn start(
        parts: EngineParts,
        media: impl FnOnce(Arc<dyn MediaSink>) -> Arc<dyn MediaProvider>,
    ) -> Result<Engine, StoreError> {
        let routes = legs::LegRoutes::new(parts.clock.clone());
        let media = media(routes.clone());
        if !parts.config.leased {
            // One instance: it was the one that stopped. (Leased: each
            // center is recovered as it is taken.)
            let _ = recovery::recover(&parts.db, parts.clock.now(), recovery::Scope::All).await?;
        }
        let clock = parts.clock.clone();
        let centers = centers::Centers::start(parts, media, routes)?;
        Ok(Engine {
            centers: Arc::new(centers),
            clock,
            forwarder: Arc::default(),
            leases_wanted: Arc::default(),
            instance: Arc::default(),
            sockets: Arc::default(),
        })
    }

    /// Resolves when a command found its center held by nobody.
    pub async fn leases_wanted(&self) {
        self.leases_wanted.notified().await
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Leased: the centers this instance holds now (and until when it
    /// certainly does), and those taken from an instance that stopped
    /// renewing. Centers no longer held stop at once without writing;
    /// newly held ones are recovered and started.
    pub async fn apply_leases(
        &self,
        held: &crate::cluster::Held,
        valid_until: Option<std::time::Instant>,
        taken_over: Vec<crate::store::leases::Lease>,
    ) -> Result<(), StoreError> {
        let returning = self
            .centers
            .apply_leases(held, valid_until, taken_over)
            .await?;
        if !returning.is_empty() {
            let engine = self.clone();
            tokio::spawn(async move { engine.bring_back(returning).await });
        }
        Ok(())
    }

    /// Agents of centers just taken over whose connections are still open
    /// (the instances holding them say so within a second) come back as
    /// they were, with a new pinned leg from this instance's media.
    async fn bring_back(&self, returning: Vec<recovery::Returning>) {
        tokio::time::sleep(remote::SOCKETS_SILENT / 2).await;
        for r in returning {
            if !self.centers.connected(&r.agent_id) {
                continue;
            }
            let home = match self.centers.agent_home(&r.agent_id).await {
                Ok(Some(home)) => home,
                _ => continue,
            };
            let cc = match crate::store::contact_centers::get(&self.centers.db, &home).await {
                Ok(Some(cc)) => cc,
                _ => continue,
            };
            let back = self
                .local_set_status(&r.organization_id, &r.agent_id, cc, r.status, r.reason)
                .await;
            match back {
                Ok(view) => tracing::info!(
                    agent = %r.agent_id,
                    status = %view.status.as_str(),
                    "agent brought back after their center moved here"
                ),
                Err(e) => tracing::info!(agent = %r.agent_id, "agent not brought back: {e}"),
            }
        }
    }

    /// Leased: whether the center may be given back now (no live calls).
    pub fn may_give(&self, center: &str) -> bool {
        self.centers.may_give(center)
    }

    /// Ask the engine of the agent's center (`None` when the agent is in
    /// none: never seen, or no presence written).
    async fn ask_agent<T>(
        &self,
        agent_id: &str,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> EngineResult<Option<T>> {
        match self.centers.agent_home(agent_id).await? {
            Some(center) => Ok(Some(self.centers.center(&center)?.ask(make).await?)),
            None => Ok(None),
        }
    }

    async fn local_set_status(
        &self,
        organization_id: &str,
        agent_id: &str,
        contact_center: models::ContactCenter,
        status: AgentStatus,
        reason: Option<String>,
    ) -> EngineResult<PresenceView> {
        let center = contact_center.id.clone();
        self.centers
            .move_agent(agent_id, &center, |reply| Command::SetStatus {
                organization_id: organization_id.to_owned(),
                agent_id: agent_id.to_owned(),
                contact_center: Box::new(contact_center),
                status,
                reason,
                reply,
            })
            .await?
    }

    /// Logout (or a deactivated user): pinned leg down, OFFLINE.
    async fn local_session_ended(&self, agent_id: &str) -> EngineResult<()> {
        self.ask_agent(agent_id, |reply| Command::SessionEnded {
            agent_id: agent_id.to_owned(),
            reply,
        })
        .await
        .map(|_| ())
    }

    async fn local_presence(&self, agent_id: &str) -> EngineResult<Option<PresenceView>> {
        match self
            .ask_agent(agent_id, |reply| Command::Presence {
                agent_id: agent_id.to_owned(),
                reply,
            })
            .await?
        {
            Some(view) => Ok(view),
            None => Ok(self.centers.unplaced_view(agent_id)),
        }
    }

    /// Every agent present in a contact center (not OFFLINE).
    async fn local_floor(&self, contact_center_id: &str) -> EngineResult<Vec<PresenceView>> {
        match self.centers.live(contact_center_id)? {
            Some(c) => {
                c.ask(|reply| Command::Floor {
                    contact_center_id: contact_center_id.to_owned(),
                    reply,
                })
                .await
            }
            None => Ok(Vec::new()),
        }
    }

    async fn local_place_call(
        &self,
        organization_id: &str,
        agent_id: &str,
        contact_center: models::ContactCenter,
        phone: String,
        lead: Option<models::Lead>,
    ) -> EngineResult<models::Call> {
        // The agent's own center (which refuses a call for another).
        let center = match self.centers.agent_home(agent_id).await? {
            Some(c) => c,
            None => contact_center.id.clone(),
        };
        self.centers
            .center(&center)?
            .ask(|reply| Command::PlaceCall {
                organization_id: organization_id.to_owned(),
                agent_id: agent_id.to_owned(),
                contact_center: Box::new(contact_center),
                phone,
                lead: lead.map(Box::new),
                reply,
            })
            .await?
    }

    async fn local_control(
        &self,
        agent_id: &str,
        call_id: &str,
        control: Control,
    ) -> EngineResult<models::Call> {
        self.ask_agent(agent_id, |reply| Command::Control {
            agent_id: agent_id.to_owned(),
            call_id: call_id.to_owned(),
            control,
            reply,
        })
        .await?
        .unwrap_or(Err(EngineError::NotFound("call")))
    }

    async fn local_wrap_up(
        &self,
        agent_id: &str,
        submission: WrapUpSubmission,
    ) -> EngineResult<(models::WrapUp, PresenceView)> {
        // The agent's center, or (never seen, no presence) the call's.
        let center = match self.centers.agent_home(agent_id).await? {
            Some(c) => c,
            None => match crate::store::calls::get(&self.centers.db, &submission.call_id).await? {
                Some(call) => call.contact_center_id,
                None => return Err(EngineError::NotFound("call")),
            },
        };
        let done = self
            .centers
            .center(&center)?
            .ask(|reply| Command::WrapUp {
                agent_id: agent_id.to_owned(),
                submission,
                reply,
            })
            .await??;
        let wrap = &done.0;
        if wrap.do_not_call || wrap.invalid_number.is_some() {
            // Offers to the number in the organization's other centers go
            // too (the center of the call withdrew its own).
            if let Some(call) = crate::store::calls::get(&self.centers.db, &wrap.call_id).await? {
                for (id, c) in self.centers.all() {
                    if id != center {
                        c.ask(|reply| Command::Withdraw {
                            organization_id: call.organization_id.clone(),
                            phone: call.phone.clone(),
                            reply,
                        })
                        .await??;
                    }
                }
            }
        }
        Ok(done)
    }

    async fn local_campaign_live(&self, campaign_id: &str) -> EngineResult<Option<CampaignLive>> {
        let Some(center) = self.centers.campaign_home(campaign_id).await? else {
            return Ok(None);
        };
        match self.centers.live(&center)? {
            Some(c) => {
                c.ask(|reply| Command::CampaignLive {
                    campaign_id: campaign_id.to_owned(),
                    reply,
                })
                .await
            }
            None => Ok(None),
        }
    }

    /// Manual clock: run everything due up to `now + by`, in time order.
    pub async fn advance(&self, by: Duration) -> EngineResult<()> {
        let to = self.clock.now() + by;
        self.centers.advance_to(to).await
    }

    /// The engine's backlog and live calls.
    pub async fn health(&self) -> EngineResult<EngineHealth> {
        self.centers.health().await
    }

    /// A clean stop: no new calls; every live call ends now (media hung
    /// up, its end and talk time written, ENDED published), every agent
    /// goes OFFLINE keeping any wrap-up they owe. The engine keeps
    /// answering (refusing new calls) until the process exits.
    pub async fn drain(&self) -> EngineResult<Drained> {
        let mut out = Drained::default();
        for (_, c) in self.centers.all() {
            let d = c.ask(|reply| Command::Drain { reply }).await?;
            out.calls_ended += d.calls_ended;
            out.agents_offline += d.agents_offline;
            out.unwritten += d.unwritten;
        }
        Ok(out)
    }

    /// Resolves once every command sent before it has been handled.
    pub async fn settle(&self) -> EngineResult<()> {
        for (_, c) in self.centers.all() {
            c.ask(|reply| Command::Settle { reply }).await?;
        }
        Ok(())
    }
}

/// A lead's answer: the one thing that may not wait (its 2 s to an agent
/// are running).
fn is_answer(d: &Due) -> bool {
    matches!(d, Due::Media(MediaEvent::Answered { .. }))
}

/// Sleep until `at` on the real clock. tokio's timer wakes on whole
/// milliseconds (up to ~1 ms late), which would add to every answer's
/// connect time: the last sub-millisecond is slept on the thread.
async fn precise_sleep_until(at: DateTime<Utc>) {
    const TICK: std::time::Duration = std::time::Duration::from_millis(1);
    let wait = (at - Utc::now()).to_std().unwrap_or_default();
    if wait > TICK {
        tokio::time::sleep(wait - TICK).await;
    }
    let rest = (at - Utc::now()).to_std().unwrap_or_default();
    if !rest.is_zero() {
        std::thread::sleep(rest.min(TICK));
    }
}

/// What a leg is to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LegOf {
    Pinned {
        agent_id: String,
    },
    Lead {
        call_id: String,
    },
    /// A warm-transfer consult or a conference participant.
    Extra {
        call_id: String,
    },
}

pub(crate) struct State {
    /// The contact center whose live state this is.
    pub center: String,
    pub db: Db,
    pub events: Arc<dyn EventBus>,
    pub metrics: EngineMetrics,
    pub clock: Clock,
    pub config: EngineConfig,
    pub media: Arc<dyn MediaProvider>,
    pub timeline: Timeline<Due>,
    pub agents: HashMap<String, agents::Agent>,
    pub calls: HashMap<String, calls::LiveCall>,
    pub legs: legs::Legs,
    /// The numbers every center of this process is calling.
    pub numbers: Arc<numbers::Numbers>,
    /// Leased: the lease the center's writes are made under, and until
    /// when this instance certainly holds it.
    pub fence: Option<crate::store::calls::Fence>,
    pub lease: Option<Arc<centers::LeaseView>>,
    /// The lease moved on: the center stopped here.
    pub lost: bool,
    /// How many calls are live (read by the lease keeper).
    pub live_count: Arc<std::sync::atomic::AtomicUsize>,
    pub campaigns: HashMap<String, pacing::CampaignCtx>,
    /// When the item being handled was due (real clock: how late we are).
    pub due_at: Option<DateTime<Utc>>,
    /// A `PaceNow` is already queued (they coalesce).
    pub pace_queued: bool,
    /// Writes the database did not take yet (and what waits behind them).
    pub journal: journal::Journal,
    /// Commits the engine's writes in groups, and publishes after them.
    pub writer: writer::Writer,
    /// The server is stopping: no new calls.
    pub draining: bool,
}

impl State {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        loop {
            self.drain_due().await;
            let next = self.timeline.next_due();
            let real = !self.clock.is_manual();
            let sleep = async {
                match (real, next) {
                    (true, Some(at)) => precise_sleep_until(at).await,
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => break,
                },
                _ = sleep => {}
                _ = self.timeline.pushed(), if real => {}
            }
            if self.lost {
                break;
            }
        }
    }

    /// The lease moved on (the keeper saw it, or the store refused a
    /// write): this instance may no longer dial, connect or write for the
    /// center. Its legs here are hung up (the new owner has ended their
    /// calls), and everything live is dropped unwritten.
    pub(crate) fn lease_lost(&mut self) {
        if self.lost {
            return;
        }
        self.lost = true;
        tracing::warn!(
            contact_center = %self.center,
            calls = self.calls.len(),
            "the center's lease moved on: stopped here, its calls and agents left to the new owner"
        );
        for live in self.calls.values() {
            for leg in live
                .lead_leg
                .iter()
                .chain(live.extras.iter().filter_map(|e| e.leg.as_ref()))
            {
                self.media.hang_up(leg);
            }
            self.numbers
                .end(&live.row.organization_id, &live.row.phone, &live.row.id);
        }
        for agent in self.agents.values() {
            if let Some(p) = &agent.pinned {
                self.media.tear_down(&p.id);
            }
        }
        self.legs.clear();
        self.calls.clear();
        self.agents.clear();
        self.campaigns.clear();
        self.live_count
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Leased: whether this instance still certainly holds the center's
    /// lease (before placing or connecting a call). A process paused past
    /// its lease finds out here, before the store's fence would.
    pub(crate) fn may_act(&mut self) -> EngineResult<()> {
        if self.lost || self.lease.as_ref().is_some_and(|l| !l.valid()) {
            self.lease_lost();
            return Err(EngineError::NotHere {
                center: self.center.clone(),
            });
        }
        Ok(())
    }

    /// Handle everything due by now, in time order.
    async fn drain_due(&mut self) {
        let now = self.clock.now();
        // On the real clock a live answer jumps whatever backlog there is
        // (its 2 s to an agent are running); a manual clock keeps strict
        // order so runs repeat exactly.
        let real = !self.clock.is_manual();
        let urgent = |d: &Due| real && is_answer(d);
        while let Some((at, due)) = self.timeline.pop_due_preferring(now, urgent) {
            self.due_at = Some(at);
            let handled = self.due(due).await;
            self.due_at = None;
            if let Err(e) = handled {
                tracing::error!("dialer engine step failed: {e}");
            }
        }
    }

    /// Live answers already due, handled now: called between the pieces
    /// of longer work (a pacing pass's claim, decisions and dials), so an
    /// answer waits for at most one database round trip, not a whole
    /// pass. Real clock only (a manual clock keeps strict order).
    pub(crate) async fn answers_first(&mut self) {
        if self.clock.is_manual() {
            return;
        }
        let outer = self.due_at;
        let now = self.clock.now();
        while let Some((at, Due::Media(event))) = self.timeline.pop_due_only(now, is_answer) {
            self.due_at = Some(at);
            if let Err(e) = self.media_event(event).await {
                tracing::error!("dialer engine step failed: {e}");
            }
        }
        self.due_at = outer;
    }

    /// Await `work` (a database round trip that holds nothing of the
    /// engine's) while handling live answers as they fall due: a pacing
    /// pass's claim or a pre-dial check no longer holds an answer back.
    /// Only where a step may be interleaved as [`State::answers_first`]
    /// allows; real clock only (a manual clock keeps strict order).
    pub(crate) async fn meanwhile<T>(&mut self, work: impl std::future::Future<Output = T>) -> T {
        if self.clock.is_manual() {
            return work.await;
        }
        let mut work = std::pin::pin!(work);
        loop {
            self.answers_first().await;
            let timeline = self.timeline.clone();
            let answer_due = async move {
                loop {
                    let pushed = timeline.pushed();
                    match timeline.next_due_of(is_answer) {
                        Some(at) => return precise_sleep_until(at).await,
                        None => pushed.await,
                    }
                }
            };
            match futures::future::select(work.as_mut(), std::pin::pin!(answer_due)).await {
                futures::future::Either::Left((done, _)) => return done,
                futures::future::Either::Right(((), _)) => {}
            }
        }
    }

    async fn due(&mut self, due: Due) -> EngineResult<()> {
        match due {
            Due::Media(event) => self.media_event(event).await,
            Due::Tick => {
                let next = self.clock.now() + self.config.pace_every;
                self.timeline.push(next, Due::Tick);
                self.pace_all().await
            }
            Due::PaceNow => {
                self.pace_queued = false;
                self.pace_all().await
            }
            Due::ConnectDeadline { call_id } => self.connect_deadline(&call_id).await,
            Due::WrapUpLimit { agent_id, call_id } => {
                let r = match self.writable().await {
                    Ok(()) => self.wrap_up_limit(&agent_id, &call_id).await,
                    Err(e) => Err(e),
                };
                if matches!(&r, Err(e) if e.is_unavailable()) {
                    // The automatic wrap-up waits for the database.
                    self.after(journal::RETRY_EVERY, Due::WrapUpLimit { agent_id, call_id });
                    return Ok(());
                }
                r
            }
            Due::Grace { agent_id, epoch } => self.grace_over(&agent_id, epoch).await,
            Due::CatchUp => self.catch_up_due().await,
            Due::WriterFailed => {
                self.take_back().await;
                Ok(())
            }
            Due::LeaseLost => {
                self.lease_lost();
                Ok(())
            }
        }
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::SetStatus {
                organization_id,
                agent_id,
                contact_center,
                status,
                reason,
                reply,
            } => match self.may_begin().await {
                Ok(()) => {
                    let r = self
                        .set_status(&organization_id, &agent_id, &contact_center, status, reason)
                        .await;
                    self.answer(reply, r, Some("the status is changed but not saved yet"));
                }
                Err(e) => self.answer(reply, Err(e), None),
            },
            Command::SessionEnded { agent_id, reply } => {
                if let Err(e) = self.end_session(&agent_id).await {
                    tracing::error!("ending {agent_id}'s session: {e}");
                }
                self.after_written(Box::new(move |_| {
                    let _ = reply.send(());
                }));
            }
            Command::Connection { agent_id, open } => self.connection(&agent_id, open),
            Command::Presence { agent_id, reply } => {
                let _ = reply.send(self.known_view(&agent_id).await);
            }
            Command::Floor {
                contact_center_id,
                reply,
            } => {
                let mut floor: Vec<PresenceView> = self
                    .agents
                    .values()
                    .filter(|a| {
                        a.contact_center_id.as_deref() == Some(contact_center_id.as_str())
                            && a.status != AgentStatus::Offline
                    })
                    .filter_map(|a| self.view(&a.agent_id))
                    .collect();
                floor.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
                let _ = reply.send(floor);
            }
            Command::PlaceCall {
                organization_id,
                agent_id,
                contact_center,
                phone,
                lead,
                reply,
            } => match self.may_begin().await {
                Ok(()) => {
                    let r = self
                        .place_call(
                            &organization_id,
                            &agent_id,
                            &contact_center,
                            phone,
                            lead.map(|l| *l),
                        )
                        .await;
                    self.answer(reply, r, Some("the call is placed but not saved yet"));
                }
                Err(e) => self.answer(reply, Err(e), None),
            },
            Command::Control {
                agent_id,
                call_id,
                control,
                reply,
            } => {
                // Hanging up always ends the call (the lead's line is
                // real); anything else waits for the database.
                let hang_up = matches!(control, Control::HangUp);
                match self.writable().await {
                    Err(_) if hang_up => {
                        let r = self.control(&agent_id, &call_id, control).await;
                        self.answer(reply, r, Some("the call is ended but not saved yet"));
                    }
                    Err(e) => self.answer(reply, Err(e), None),
                    Ok(()) => {
                        let r = self.control(&agent_id, &call_id, control).await;
                        self.answer(reply, r, Some("done but not saved yet"));
                    }
                }
            }
            Command::WrapUp {
                agent_id,
                submission,
                reply,
            } => {
                let r = match self.writable().await {
                    Ok(()) => self.submit_wrap_up(&agent_id, submission).await,
                    Err(e) => Err(e),
                };
                self.answer(reply, r, None);
            }
            Command::CampaignLive { campaign_id, reply } => {
                let _ = reply.send(self.campaign_live(&campaign_id));
            }
            Command::AdvanceTo { to, reply } => {
                while let Some(next) = self.timeline.next_due().filter(|d| *d <= to) {
                    self.clock.set(next);
                    self.drain_due().await;
                }
                self.clock.set(to);
                self.drain_due().await;
                self.after_written(Box::new(move |_| {
                    let _ = reply.send(());
                }));
            }
            Command::Settle { reply } => {
                self.after_written(Box::new(move |_| {
                    let _ = reply.send(());
                }));
            }
            Command::Drain { reply } => {
                let drained = self.drain().await;
                let _ = reply.send(drained);
            }
            Command::Release { agent_id, reply } => {
                let r = self.release_agent(&agent_id).await;
                self.answer(reply, r, None);
            }
            Command::LeaseLost => self.lease_lost(),
            Command::Withdraw {
                organization_id,
                phone,
                reply,
            } => {
                let r = self.withdraw_calls_to(&organization_id, &phone).await;
                self.answer(reply, r, None);
            }
            Command::Health { reply } => {
                self.synced().await;
                let mut live_calls: Vec<String> = self.calls.keys().cloned().collect();
                live_calls.sort();
                let _ = reply.send(EngineHealth {
                    backlog: self.journal.len(),
                    outage: self.journal.outage.filter(|_| self.behind()),
                    live_calls,
                });
            }
        }
    }

    pub(crate) fn publish(&mut self, organization_id: &str, kind: EventKind) {
        self.publish_at(organization_id, self.clock.now(), kind);
    }

    /// Publish what happened at `at` (a step's own time).
    pub(crate) fn publish_at(
        &mut self,
        organization_id: &str,
        at: chrono::DateTime<chrono::Utc>,
        kind: EventKind,
    ) {
        self.publish_event(Event {
            organization_id: organization_id.to_owned(),
            at,
            kind,
        });
    }

    /// Before a command that starts something (a status, a call): not
    /// while stopping, and not while writes wait for the database.
    async fn may_begin(&mut self) -> EngineResult<()> {
        self.not_stopping()?;
        self.writable().await
    }

    pub(crate) fn after(&self, d: Duration, due: Due) {
        self.timeline.push(self.clock.now() + d, due);
    }

    /// Pace the running campaigns as soon as what is already due is done
    /// (one pass however many ask for it meanwhile).
    pub(crate) fn pace_soon(&mut self) {
        if !self.pace_queued {
            self.pace_queued = true;
            self.after(Duration::zero(), Due::PaceNow);
        }
    }

    pub(crate) fn call_state(call: &models::Call) -> CallState {
        CallState::parse(&call.state).unwrap_or(CallState::Ended)
    }
}
