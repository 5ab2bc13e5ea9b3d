//! The engine split by contact center: each center's live state (its
//! agents, calls, running campaigns, timeline, journal and writer) is a
//! task of its own, started the first time the center is needed, on an
//! engine runtime of a few threads (so one process uses more than one
//! core, and a busy center does not hold up another's answers). Its
//! writer is a task on the writers' thread. Centers share nothing live:
//! the API's commands find their center here (an agent's is the one they
//! last set a status in, or the one their presence row names after a
//! restart; a campaign's is its row's), and media events find theirs by
//! leg (`legs.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{mpsc, oneshot};

use super::legs::{LegRoutes, Legs};
use super::{
    Command, Due, EngineConfig, EngineError, EngineHealth, EngineParts, EngineResult, PresenceView,
    State, writer,
};
use crate::clock::{Clock, Timeline};
use crate::events::EventBus;
use crate::media::MediaProvider;
use crate::metrics::EngineMetrics;
use crate::store::{self, Db, StoreError};

/// Threads the centers' engines run on.
const ENGINE_THREADS: usize = 2;
/// The engines' connections (shared by every center: a pacing pass's
/// reads, and the answers handled meanwhile).
const ENGINE_CONNECTIONS: u32 = 6;
/// The writers' connections (a writer keeps one while it is busy).
const WRITER_CONNECTIONS: u32 = 6;

/// One running center's engine.
#[derive(Clone)]
pub(crate) struct Center {
    id: String,
    pub(crate) tx: mpsc::UnboundedSender<Command>,
    pub(crate) timeline: Timeline<Due>,
    /// Leased: the epoch it runs under.
    epoch: Option<i64>,
    live_count: Arc<AtomicUsize>,
}

/// This instance's leases as its engines see them (leased mode).
#[derive(Default)]
pub(crate) struct LeaseView {
    held: Mutex<crate::cluster::Held>,
    valid_until: Mutex<Option<Instant>>,
}

impl LeaseView {
    /// The leases were renewed recently enough to be certainly ours.
    pub(crate) fn valid(&self) -> bool {
        self.valid_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|t| Instant::now() < t)
    }

    fn holds(&self, center: &str) -> bool {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(center)
    }
}

impl Center {
    pub(crate) async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> EngineResult<T> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).map_err(|_| self.stopped())?;
        rx.await.map_err(|_| self.stopped())
    }

    /// Its engine is gone: leased, it stopped when the lease moved on.
    fn stopped(&self) -> EngineError {
        match self.epoch {
            Some(_) => EngineError::NotHere {
                center: self.id.clone(),
            },
            None => EngineError::Stopped,
        }
    }

    fn tell(&self, cmd: Command) {
        let _ = self.tx.send(cmd);
    }
}

/// Where an agent's commands go.
#[derive(Debug)]
struct AgentRoute {
    center: Option<String>,
    /// Their open live connections (kept here too: they move with the
    /// agent to another center).
    connections: u32,
    /// When a connection of theirs was first noted.
    seen: DateTime<Utc>,
}

#[derive(Default)]
struct Inner {
    centers: HashMap<String, Center>,
    agents: HashMap<String, AgentRoute>,
    campaigns: HashMap<String, String>,
    /// What other instances last said of the connections they hold for
    /// agents routed here (by instance, then agent): the count, and when.
    sockets: HashMap<(String, String), (u32, std::time::Instant)>,
}

impl AgentRoute {
    fn new(seen: DateTime<Utc>) -> AgentRoute {
        AgentRoute {
            center: None,
            connections: 0,
            seen,
        }
    }
}

/// What every center's engine is made with.
pub(crate) struct Centers {
    /// The server's pool, for finding a center.
    pub(crate) db: Db,
    events: Arc<dyn EventBus>,
    metrics: EngineMetrics,
    clock: Clock,
    config: EngineConfig,
    media: Arc<dyn MediaProvider>,
    routes: Arc<LegRoutes>,
    numbers: Arc<super::numbers::Numbers>,
    /// The centers' engines, spread over these.
    engines: Vec<LocalThread>,
    /// Every center's writer.
    writers: LocalThread,
    /// When the engine started: every center paces in step with it.
    started: DateTime<Utc>,
    /// Leased mode: which centers this instance holds.
    leases: Option<Arc<LeaseView>>,
    inner: Mutex<Inner>,
}

/// A task to start on a local thread (its future need not be `Send`:
/// the engine's and the writer's hold database pipelines across awaits).
pub(crate) type Spawn = Box<dyn FnOnce() -> std::pin::Pin<Box<dyn Future<Output = ()>>> + Send>;

/// A thread with a runtime of its own, running the tasks it is sent
/// until every sender is dropped, and a pool whose connections' I/O runs
/// there (`Db::own_pool`).
#[derive(Clone)]
pub(crate) struct LocalThread {
    tx: mpsc::UnboundedSender<Spawn>,
    pub(crate) db: Db,
}

impl LocalThread {
    pub(crate) fn start(name: &str, db: &Db, connections: u32) -> Result<LocalThread, StoreError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::System(format!("{name}'s runtime: {e}")))?;
        let db = {
            let _in = runtime.enter();
            db.own_pool(connections)
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<Spawn>();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, async move {
                    while let Some(make) = rx.recv().await {
                        tokio::task::spawn_local(make());
                    }
                });
            })
            .map_err(|e| StoreError::System(format!("{name}'s thread: {e}")))?;
        Ok(LocalThread { tx, db })
    }

    pub(crate) fn spawn(&self, make: Spawn) {
        if self.tx.send(make).is_err() {
            tracing::error!("dialer engine: a thread of the engine has stopped");
        }
    }
}

impl Centers {
    pub(crate) fn start(
        p: EngineParts,
        media: Arc<dyn MediaProvider>,
        routes: Arc<LegRoutes>,
    ) -> Result<Centers, StoreError> {
        let engines = (0..ENGINE_THREADS)
            .map(|i| LocalThread::start(&format!("pinline-engine-{i}"), &p.db, ENGINE_CONNECTIONS))
            .collect::<Result<Vec<_>, _>>()?;
        let writers = LocalThread::start("pinline-writer", &p.db, WRITER_CONNECTIONS)?;
        Ok(Centers {
            leases: p.config.leased.then(Arc::default),
            started: p.clock.now(),
            db: p.db,
            events: p.events,
            metrics: p.metrics,
            clock: p.clock,
            config: p.config,
            media,
            routes,
            numbers: Arc::default(),
            engines,
            writers,
            inner: Mutex::default(),
        })
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The center's engine if it runs.
    pub(crate) fn running(&self, id: &str) -> Option<Center> {
        self.inner().centers.get(id).cloned()
    }

    /// The center's engine if it runs here; none when it does not run
    /// yet (nothing live); leased, when another instance has it (or it
    /// is being taken over), `NotHere`.
    pub(crate) fn live(&self, id: &str) -> EngineResult<Option<Center>> {
        match (self.running(id), &self.leases) {
            (Some(c), _) => Ok(Some(c)),
            (None, None) => Ok(None),
            (None, Some(_)) => Err(EngineError::NotHere { center: id.into() }),
        }
    }

    /// Every running center's engine, by id.
    pub(crate) fn all(&self) -> Vec<(String, Center)> {
        let mut all: Vec<(String, Center)> = self
            .inner()
            .centers
            .iter()
            .map(|(id, c)| (id.clone(), c.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The center's engine, started if it does not run yet (leased: only
    /// a held center runs, started when taken).
    pub(crate) fn center(&self, id: &str) -> EngineResult<Center> {
        let mut inner = self.inner();
        self.center_in(&mut inner, id)
    }

    fn center_in(&self, inner: &mut Inner, id: &str) -> EngineResult<Center> {
        if let Some(c) = inner.centers.get(id) {
            return Ok(c.clone());
        }
        if self.leases.is_some() {
            return Err(EngineError::NotHere { center: id.into() });
        }
        Ok(self.start_center(inner, id, None))
    }

    /// Start `id`'s engine, told first of the open connections of every
    /// agent already routed to it (placed while it did not run here: a
    /// leased center not yet taken, or taken over), so none of them is
    /// taken for gone and sent OFFLINE after the grace.
    fn start_center(&self, inner: &mut Inner, id: &str, epoch: Option<i64>) -> Center {
        let thread = &self.engines[inner.centers.len() % self.engines.len()];
        let c = self.spawn(id, thread, epoch);
        for (agent_id, route) in &inner.agents {
            if route.center.as_deref() == Some(id) {
                for _ in 0..route.connections {
                    c.tell(Command::Connection {
                        agent_id: agent_id.clone(),
                        open: true,
                    });
                }
            }
        }
        inner.centers.insert(id.to_owned(), c.clone());
        c
    }

    /// Leased: stop the centers no longer held (at once, unwritten), then
    /// recover and start the newly held ones.
    pub(crate) async fn apply_leases(
        &self,
        held: &crate::cluster::Held,
        valid_until: Option<Instant>,
        taken_over: Vec<store::leases::Lease>,
    ) -> Result<Vec<super::recovery::Returning>, StoreError> {
        let Some(view) = &self.leases else {
            return Ok(Vec::new());
        };
        let mut returning = Vec::new();
        *view.held.lock().unwrap_or_else(|e| e.into_inner()) = held.clone();
        *view.valid_until.lock().unwrap_or_else(|e| e.into_inner()) = valid_until;
        let gone: Vec<Center> = {
            let mut inner = self.inner();
            let ids: Vec<String> = inner
                .centers
                .iter()
                .filter(|(id, c)| held.get(*id).copied() != c.epoch)
                .map(|(id, _)| id.clone())
                .collect();
            let gone = ids
                .iter()
                .filter_map(|id| inner.centers.remove(id))
                .collect();
            for route in inner.agents.values_mut() {
                if route.center.as_ref().is_some_and(|c| ids.contains(c)) {
                    route.center = None;
                }
            }
            gone
        };
        for c in gone {
            c.tell(Command::LeaseLost);
        }
        let previous: HashMap<String, Option<String>> = taken_over
            .into_iter()
            .map(|l| (l.contact_center_id, l.previous_owner))
            .collect();
        for (id, epoch) in held {
            if self.running(id).is_some() {
                continue;
            }
            // The previous owner's calls end at its last heartbeat.
            let last_alive = match previous.get(id).cloned().flatten() {
                Some(owner) => store::heartbeats::last_of(&self.db, &owner).await?,
                None => None,
            };
            let back = super::recovery::recover(
                &self.db,
                self.clock.now(),
                super::recovery::Scope::Center {
                    id: id.clone(),
                    last_alive,
                },
            )
            .await?;
            if view.holds(id) {
                let mut inner = self.inner();
                self.start_center(&mut inner, id, Some(*epoch));
                tracing::info!(contact_center = %id, epoch, "contact center started here");
                returning.extend(back);
            }
        }
        Ok(returning)
    }

    /// Whether a live connection of the agent's is open (here, or on an
    /// instance that said so).
    pub(crate) fn connected(&self, agent_id: &str) -> bool {
        self.inner()
            .agents
            .get(agent_id)
            .is_some_and(|r| r.connections > 0)
    }

    /// Whether a held center may be given back now (no live calls).
    pub(crate) fn may_give(&self, center: &str) -> bool {
        self.running(center)
            .is_none_or(|c| c.live_count.load(Ordering::Relaxed) == 0)
    }

    fn spawn(&self, id: &str, thread: &LocalThread, epoch: Option<i64>) -> Center {
        let fence = epoch.map(|epoch| store::calls::Fence {
            contact_center_id: id.to_owned(),
            epoch,
        });
        let live_count = Arc::new(AtomicUsize::new(0));
        let timeline: Timeline<Due> = Timeline::default();
        timeline.push(self.first_tick(), Due::Tick);
        let writer = writer::Writer::start(
            &self.writers,
            self.events.clone(),
            self.clock.clone(),
            timeline.clone(),
            fence.clone(),
        );
        let state = State {
            fence,
            lease: self.leases.clone(),
            lost: false,
            live_count: live_count.clone(),
            center: id.to_owned(),
            db: thread.db.clone(),
            writer,
            events: self.events.clone(),
            metrics: self.metrics.clone(),
            clock: self.clock.clone(),
            config: self.config.clone(),
            media: self.media.clone(),
            timeline: timeline.clone(),
            agents: HashMap::new(),
            calls: HashMap::new(),
            legs: Legs::new(self.routes.clone(), timeline.clone()),
            numbers: self.numbers.clone(),
            campaigns: HashMap::new(),
            due_at: None,
            pace_queued: false,
            journal: Default::default(),
            draining: false,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        thread.spawn(Box::new(move || Box::pin(state.run(rx))));
        tracing::debug!(contact_center = id, "contact center's engine started");
        Center {
            id: id.to_owned(),
            tx,
            timeline,
            epoch,
            live_count,
        }
    }

    /// A new center paces in step with the others (a manual clock's runs
    /// repeat whenever the center started).
    fn first_tick(&self) -> DateTime<Utc> {
        let now = self.clock.now();
        let every = self.config.pace_every.num_milliseconds().max(1);
        let since = (now - self.started).num_milliseconds().max(0);
        let k = (since + every - 1) / every;
        self.started + Duration::milliseconds(k * every)
    }

    /// The center the agent's commands go to: the one they are in, or the
    /// one their last written presence names (after a restart).
    pub(crate) async fn agent_home(&self, agent_id: &str) -> EngineResult<Option<String>> {
        if let Some(center) = self
            .inner()
            .agents
            .get(agent_id)
            .and_then(|r| r.center.clone())
        {
            return Ok(Some(center));
        }
        let Some(center) = store::presence::get(&self.db, agent_id)
            .await?
            .and_then(|p| p.contact_center_id)
        else {
            return Ok(None);
        };
        let mut inner = self.inner();
        Ok(Some(self.place_agent(&mut inner, agent_id, &center)))
    }

    /// The agent is in `center` from now on (unless they were placed
    /// meanwhile); their open connections go with them. Their center.
    fn place_agent(&self, inner: &mut Inner, agent_id: &str, center: &str) -> String {
        let connections = {
            let route = inner
                .agents
                .entry(agent_id.to_owned())
                .or_insert_with(|| AgentRoute::new(self.clock.now()));
            if let Some(c) = &route.center {
                return c.clone();
            }
            route.center = Some(center.to_owned());
            route.connections
        };
        match inner.centers.get(center) {
            Some(c) => {
                for _ in 0..connections {
                    c.tell(Command::Connection {
                        agent_id: agent_id.to_owned(),
                        open: true,
                    });
                }
            }
            // Not running yet: started now (unleased), or when its lease
            // is taken, told of the agent's connections then.
            None => {
                let _ = self.center_in(inner, center);
            }
        }
        center.to_owned()
    }

    /// The agent goes to `center` (a status set there): out of the one
    /// they were in first, which refuses while they are on a call or in
    /// wrap-up there. Then `make` is sent to `center`, in order after
    /// their connections.
    pub(crate) async fn move_agent<T>(
        &self,
        agent_id: &str,
        center: &str,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> EngineResult<T> {
        if let Some(old) = self.agent_home(agent_id).await?.filter(|c| c != center) {
            if let Some(engine) = self.running(&old) {
                engine
                    .ask(|reply| Command::Release {
                        agent_id: agent_id.to_owned(),
                        reply,
                    })
                    .await??;
            }
            let mut inner = self.inner();
            if let Some(route) = inner.agents.get_mut(agent_id)
                && route.center.as_deref() == Some(old.as_str())
            {
                route.center = None;
            }
        }
        let (reply, rx) = oneshot::channel();
        let c = {
            let mut inner = self.inner();
            let home = self.place_agent(&mut inner, agent_id, center);
            let c = self.center_in(&mut inner, &home)?;
            c.tx.send(make(reply)).map_err(|_| c.stopped())?;
            c
        };
        rx.await.map_err(|_| c.stopped())
    }

    /// Instance `from` holds `counts` connections of these agents now:
    /// the difference from what it said before is counted as opened or
    /// closed here.
    pub(crate) fn remote_sockets(&self, from: &str, counts: &[(String, u32)]) {
        let now = std::time::Instant::now();
        let changes: Vec<(String, i64)> = {
            let mut inner = self.inner();
            counts
                .iter()
                .map(|(agent_id, n)| {
                    let key = (from.to_owned(), agent_id.clone());
                    let before = if *n == 0 {
                        inner.sockets.remove(&key)
                    } else {
                        inner.sockets.insert(key, (*n, now))
                    }
                    .map_or(0, |(b, _)| b);
                    (agent_id.clone(), i64::from(*n) - i64::from(before))
                })
                .collect()
        };
        self.apply_socket_changes(changes);
    }

    /// Forget what instances silent for `silent` said of their agents'
    /// connections (closed, as far as this instance knows).
    pub(crate) fn expire_sockets(&self, silent: std::time::Duration) {
        let changes: Vec<(String, i64)> = {
            let mut inner = self.inner();
            let stale: Vec<(String, String)> = inner
                .sockets
                .iter()
                .filter(|(_, (_, at))| at.elapsed() > silent)
                .map(|(k, _)| k.clone())
                .collect();
            stale
                .into_iter()
                .filter_map(|k| {
                    let (n, _) = inner.sockets.remove(&k)?;
                    Some((k.1, -i64::from(n)))
                })
                .collect()
        };
        self.apply_socket_changes(changes);
    }

    fn apply_socket_changes(&self, changes: Vec<(String, i64)>) {
        for (agent_id, delta) in changes {
            for _ in 0..delta.unsigned_abs() {
                self.connection(&agent_id, delta > 0);
            }
        }
    }

    /// The media provider this instance's centers use.
    pub(crate) fn media(&self) -> &Arc<dyn MediaProvider> {
        &self.media
    }

    /// An agent's live connection opened or closed.
    pub(crate) fn connection(&self, agent_id: &str, open: bool) {
        let mut inner = self.inner();
        let route = inner
            .agents
            .entry(agent_id.to_owned())
            .or_insert_with(|| AgentRoute::new(self.clock.now()));
        if open {
            route.connections += 1;
        } else {
            route.connections = route.connections.saturating_sub(1);
        }
        let center = route.center.clone();
        if center.is_none() && route.connections == 0 {
            inner.agents.remove(agent_id);
        }
        if let Some(c) = center.and_then(|c| inner.centers.get(&c)) {
            c.tell(Command::Connection {
                agent_id: agent_id.to_owned(),
                open,
            });
        }
    }

    /// An agent in no center yet whose page is open: OFFLINE since then.
    pub(crate) fn unplaced_view(&self, agent_id: &str) -> Option<PresenceView> {
        let inner = self.inner();
        let route = inner.agents.get(agent_id)?;
        Some(PresenceView {
            agent_id: agent_id.to_owned(),
            contact_center_id: None,
            status: crate::domain::agent::AgentStatus::Offline,
            reason: None,
            since: route.seen,
            pinned_leg: None,
            call_id: None,
            wrap_up_call_id: None,
            offered_call_id: None,
        })
    }

    /// The center a campaign belongs to.
    pub(crate) async fn campaign_home(&self, campaign_id: &str) -> EngineResult<Option<String>> {
        if let Some(c) = self.inner().campaigns.get(campaign_id) {
            return Ok(Some(c.clone()));
        }
        let Some(row) = store::campaigns::get(&self.db, campaign_id).await? else {
            return Ok(None);
        };
        self.inner()
            .campaigns
            .insert(campaign_id.to_owned(), row.contact_center_id.clone());
        Ok(Some(row.contact_center_id))
    }

    /// Manual clock: run every center's due items up to `to` in time
    /// order across centers (each runs what is due before the next item
    /// of any other), then every center at `to`.
    pub(crate) async fn advance_to(&self, to: DateTime<Utc>) -> EngineResult<()> {
        loop {
            let all = self.all();
            let dues: Vec<Option<DateTime<Utc>>> =
                all.iter().map(|(_, c)| c.timeline.next_due()).collect();
            let Some((first, at)) = dues
                .iter()
                .enumerate()
                .filter_map(|(i, d)| d.map(|d| (i, d)))
                .filter(|(_, d)| *d <= to)
                .min_by_key(|(_, d)| *d)
            else {
                break;
            };
            let bound = dues
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != first)
                .filter_map(|(_, d)| *d)
                .min()
                .map_or(to, |d| d.min(to))
                .max(at)
                .max(self.clock.now());
            all[first]
                .1
                .ask(|reply| Command::AdvanceTo { to: bound, reply })
                .await?;
        }
        self.clock.set(to);
        for (_, c) in self.all() {
            c.ask(|reply| Command::AdvanceTo { to, reply }).await?;
        }
        Ok(())
    }

    /// Every running center's health, together.
    pub(crate) async fn health(&self) -> EngineResult<EngineHealth> {
        let mut out = EngineHealth::default();
        for (_, c) in self.all() {
            let h = c.ask(|reply| Command::Health { reply }).await?;
            out.backlog += h.backlog;
            out.outage = out.outage.or(h.outage);
            out.live_calls.extend(h.live_calls);
        }
        out.live_calls.sort();
        Ok(out)
    }
}
