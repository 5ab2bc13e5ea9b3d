//! The engine: one task that owns the live state of agents, calls and
//! running campaigns, and is the only place that awaits. The API sends it
//! commands; the media provider's events and the engine's own timers come
//! through one time-ordered [`Timeline`]. Every step is written to the
//! store (calls, the call event log, presence) and published on the event
//! bus. On a manual clock, time moves only when told ([`Engine::advance`]),
//! which makes whole campaigns run deterministically in tests.

mod agents;
mod calls;
mod controls;
mod drain;
mod follow_ups;
mod journal;
mod manual;
mod pacing;
mod recovery;
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
use crate::media::{LegId, MediaEvent, MediaProvider, MediaSink};
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
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            session_grace: Duration::seconds(30),
            pace_every: Duration::seconds(1),
            wrap_up_edit_window: crate::domain::wrap_up::EDIT_WINDOW,
            pace_chunk: 1,
            latency_probe: None,
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

/// The sink the media provider emits into: the engine's timeline.
pub(crate) struct TimelineSink {
    clock: Clock,
    timeline: Timeline<Due>,
}

impl MediaSink for TimelineSink {
    fn emit(&self, after: std::time::Duration, event: MediaEvent) {
        let after = Duration::from_std(after).unwrap_or(Duration::zero());
        self.timeline
            .push(self.clock.now() + after, Due::Media(event));
    }
}

impl TimelineSink {
    pub(crate) fn new(clock: Clock, timeline: Timeline<Due>) -> Self {
        TimelineSink { clock, timeline }
    }
}

/// A handle to the running engine (cheap to clone).
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::UnboundedSender<Command>,
    clock: Clock,
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
    /// Recover from the last stop, then start the engine task. `media` is
    /// built by the caller around the sink returned by `make_sink`.
    pub async fn start(
        parts: EngineParts,
        media: impl FnOnce(Arc<dyn MediaSink>) -> Arc<dyn MediaProvider>,
    ) -> Result<Engine, StoreError> {
        let timeline: Timeline<Due> = Timeline::default();
        let sink: Arc<dyn MediaSink> =
            Arc::new(TimelineSink::new(parts.clock.clone(), timeline.clone()));
        let media = media(sink);
        let now = parts.clock.now();
        recovery::recover(&parts.db, now).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let clock = parts.clock.clone();
        timeline.push(now, Due::Tick);
        let writer = writer::Writer::start(
            parts.db.clone(),
            parts.events.clone(),
            parts.clock.clone(),
            timeline.clone(),
        )?;
        let state = State {
            db: parts.db,
            writer,
            events: parts.events,
            metrics: parts.metrics,
            clock: parts.clock,
            config: parts.config,
            media,
            timeline,
            agents: HashMap::new(),
            calls: HashMap::new(),
            legs: HashMap::new(),
            campaigns: HashMap::new(),
            due_at: None,
            pace_queued: false,
            journal: Default::default(),
            draining: false,
        };
        // The engine runs on a thread of its own: however busy the API's
        // workers are (a flood of requests), a call's next step waits for
        // the OS to schedule one thread, not behind every ready request.
        on_own_thread("pinline-engine", move || state.run(rx))?;
        Ok(Engine { tx, clock })
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> EngineResult<T> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)
    }

    pub async fn set_status(
        &self,
        organization_id: &str,
        agent_id: &str,
        contact_center: models::ContactCenter,
        status: AgentStatus,
        reason: Option<String>,
    ) -> EngineResult<PresenceView> {
        self.ask(|reply| Command::SetStatus {
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
    pub async fn session_ended(&self, agent_id: &str) -> EngineResult<()> {
        self.ask(|reply| Command::SessionEnded {
            agent_id: agent_id.to_owned(),
            reply,
        })
        .await
    }

    /// An agent's live connection opened or closed (the session grace
    /// period runs while none is open).
    pub fn connection(&self, agent_id: &str, open: bool) {
        let _ = self.tx.send(Command::Connection {
            agent_id: agent_id.to_owned(),
            open,
        });
    }

    pub async fn presence(&self, agent_id: &str) -> EngineResult<Option<PresenceView>> {
        self.ask(|reply| Command::Presence {
            agent_id: agent_id.to_owned(),
            reply,
        })
        .await
    }

    /// Every agent present in a contact center (not OFFLINE).
    pub async fn floor(&self, contact_center_id: &str) -> EngineResult<Vec<PresenceView>> {
        self.ask(|reply| Command::Floor {
            contact_center_id: contact_center_id.to_owned(),
            reply,
        })
        .await
    }

    pub async fn place_call(
        &self,
        organization_id: &str,
        agent_id: &str,
        contact_center: models::ContactCenter,
        phone: String,
        lead: Option<models::Lead>,
    ) -> EngineResult<models::Call> {
        self.ask(|reply| Command::PlaceCall {
            organization_id: organization_id.to_owned(),
            agent_id: agent_id.to_owned(),
            contact_center: Box::new(contact_center),
            phone,
            lead: lead.map(Box::new),
            reply,
        })
        .await?
    }

    pub async fn control(
        &self,
        agent_id: &str,
        call_id: &str,
        control: Control,
    ) -> EngineResult<models::Call> {
        self.ask(|reply| Command::Control {
            agent_id: agent_id.to_owned(),
            call_id: call_id.to_owned(),
            control,
            reply,
        })
        .await?
    }

    pub async fn wrap_up(
        &self,
        agent_id: &str,
        submission: WrapUpSubmission,
    ) -> EngineResult<(models::WrapUp, PresenceView)> {
        self.ask(|reply| Command::WrapUp {
            agent_id: agent_id.to_owned(),
            submission,
            reply,
        })
        .await?
    }

    pub async fn campaign_live(&self, campaign_id: &str) -> EngineResult<Option<CampaignLive>> {
        self.ask(|reply| Command::CampaignLive {
            campaign_id: campaign_id.to_owned(),
            reply,
        })
        .await
    }

    /// Manual clock: run everything due up to `now + by`, in time order.
    pub async fn advance(&self, by: Duration) -> EngineResult<()> {
        let to = self.clock.now() + by;
        self.ask(|reply| Command::AdvanceTo { to, reply }).await
    }

    /// The engine's backlog and live calls.
    pub async fn health(&self) -> EngineResult<EngineHealth> {
        self.ask(|reply| Command::Health { reply }).await
    }

    /// A clean stop: no new calls; every live call ends now (media hung
    /// up, its end and talk time written, ENDED published), every agent
    /// goes OFFLINE keeping any wrap-up they owe. The engine keeps
    /// answering (refusing new calls) until the process exits.
    pub async fn drain(&self) -> EngineResult<Drained> {
        self.ask(|reply| Command::Drain { reply }).await
    }

    /// Resolves once every command sent before it has been handled.
    pub async fn settle(&self) -> EngineResult<()> {
        self.ask(|reply| Command::Settle { reply }).await
    }
}

/// The engine's own connections (a pacing pass's read and the answers
/// handled meanwhile, with room to spare).
const ENGINE_CONNECTIONS: u32 = 4;

/// Run the future `make` builds on a thread of its own, with a runtime of
/// its own (the engine, its writer).
pub(crate) fn on_own_thread<F: std::future::Future<Output = ()>>(
    name: &str,
    make: impl FnOnce() -> F + Send + 'static,
) -> Result<(), StoreError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::System(format!("{name}'s runtime: {e}")))?;
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || runtime.block_on(make()))
        .map_err(|e| StoreError::System(format!("{name}'s thread: {e}")))?;
    Ok(())
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
    pub db: Db,
    pub events: Arc<dyn EventBus>,
    pub metrics: EngineMetrics,
    pub clock: Clock,
    pub config: EngineConfig,
    pub media: Arc<dyn MediaProvider>,
    pub timeline: Timeline<Due>,
    pub agents: HashMap<String, agents::Agent>,
    pub calls: HashMap<String, calls::LiveCall>,
    pub legs: HashMap<LegId, LegOf>,
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
        // Its connections' I/O on this thread's runtime (`Db::own_pool`).
        self.db = self.db.own_pool(ENGINE_CONNECTIONS);
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
        }
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
