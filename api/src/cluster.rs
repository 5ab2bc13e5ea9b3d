//! Instances sharing one PostgreSQL database divide the contact centers
//! between them by lease (`store::leases`): the [`Keeper`] takes this
//! instance's share, renews it every second, gives back what is over its
//! share when another instance joins, and tells the engine which centers
//! it holds and under which epoch (the engine's writes for a center carry
//! it; the database's fence refuses them once the lease has moved on).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::store::{self, Db, StoreResult, leases::Lease};

/// How long a lease lasts without renewal (a dead owner's centers wait
/// this long before another instance takes them), and how often it is
/// renewed.
#[derive(Debug, Clone, Copy)]
pub struct LeaseConfig {
    pub ttl: Duration,
    pub renew_every: Duration,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig {
            ttl: Duration::from_secs(10),
            renew_every: Duration::from_secs(1),
        }
    }
}

/// What to do about this instance's share: take up to `take` more, give
/// back `give`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub take: i64,
    pub give: i64,
}

/// The share of `centers` for each of `live` instances (rounded up, so
/// every center has room), against the `held` ones.
pub fn plan(held: i64, centers: i64, live: i64) -> Plan {
    let share = if live <= 0 {
        centers
    } else {
        (centers + live - 1) / live
    };
    Plan {
        take: (share - held).max(0),
        give: (held - share).max(0),
    }
}

/// The centers held and their epochs.
pub type Held = BTreeMap<String, i64>;

/// Keeps this instance's leases (one per instance; a task calls
/// [`Keeper::step`] every `renew_every`).
pub struct Keeper {
    db: Db,
    instance: String,
    cfg: LeaseConfig,
    held: Held,
    /// Until when the held leases are certainly this instance's (the last
    /// renewal sent, plus the TTL): past it without a renewal they are
    /// dropped here too.
    valid_until: Option<Instant>,
    tx: watch::Sender<Held>,
    /// Leases taken from an instance that stopped renewing, not yet seen
    /// by the engine (it ends that instance's calls).
    taken_over: Vec<Lease>,
    metrics: crate::metrics::LeaseMetrics,
    /// Every lease was given back at a stop: nothing is taken again.
    stopped: bool,
    /// Asks a silent holder's address who answers there.
    probe: reqwest::Client,
    /// Holders found gone (their leases ended at once), and when: not
    /// counted among the live instances while their heartbeats age out
    /// (after the lease time the census leaves them out anyway, and they
    /// are forgotten here).
    gone: BTreeMap<String, Instant>,
}

/// What a silent holder's address says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probed {
    /// The holder answers: alive (only slow).
    Alive,
    /// Nothing listens there, or another instance does: the holder's
    /// process is gone (its listener outlives its drain).
    Gone,
    /// No answer in time, or unreachable: perhaps a pause or a partition;
    /// its leases run out on their own.
    Unknown,
}

/// Ask `url` which instance it is, against `owner`.
pub async fn probe(client: &reqwest::Client, url: &str, owner: &str) -> Probed {
    match client.get(format!("{url}/internal/instance")).send().await {
        Ok(r) if r.status().is_success() => match r.text().await {
            Ok(id) if id == owner => Probed::Alive,
            Ok(_) => Probed::Gone,
            Err(_) => Probed::Unknown,
        },
        // A server there that is not a clustered Pinline instance.
        Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => Probed::Gone,
        Ok(_) => Probed::Unknown,
        Err(e) if refused(&e) => Probed::Gone,
        Err(_) => Probed::Unknown,
    }
}

/// The connection was refused (nothing listens at the address), as
/// against timed out or unreachable.
fn refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = err.source();
    }
    false
}

impl Keeper {
    pub fn new(db: Db, instance: String, cfg: LeaseConfig) -> Keeper {
        Keeper {
            db,
            instance,
            cfg,
            held: Held::new(),
            valid_until: None,
            tx: watch::channel(Held::new()).0,
            taken_over: Vec::new(),
            metrics: Default::default(),
            stopped: false,
            probe: reqwest::Client::builder()
                .timeout(Duration::from_millis(500))
                .build()
                .unwrap_or_default(),
            gone: Default::default(),
        }
    }

    /// Count leases held, taken over and lost in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::LeaseMetrics) -> Keeper {
        self.metrics = metrics;
        self
    }

    /// The held centers, as they change.
    pub fn watch(&self) -> watch::Receiver<Held> {
        self.tx.subscribe()
    }

    pub fn held(&self) -> &Held {
        &self.held
    }

    /// Until when the held leases are certainly this instance's.
    pub fn valid_until(&self) -> Option<Instant> {
        self.valid_until
    }

    /// Leases taken since the last call (`previous_owner` set when taken
    /// from an instance that stopped renewing).
    pub fn taken_over(&mut self) -> Vec<Lease> {
        std::mem::take(&mut self.taken_over)
    }

    /// Renew, then take or give back to reach this instance's share.
    /// `may_give` says which held centers can be given back now (a center
    /// with live calls is handed over once they end).
    pub async fn step(&mut self, may_give: impl Fn(&str) -> bool) -> StoreResult<()> {
        if self.stopped {
            return Ok(());
        }
        let sent = Instant::now();
        let result = self.renew_and_share(&may_give).await;
        match &result {
            Ok(()) => self.valid_until = Some(sent + self.cfg.ttl),
            Err(_) => {
                if self.valid_until.is_some_and(|t| Instant::now() >= t) && !self.held.is_empty() {
                    tracing::warn!(
                        "leases: not renewed within {:?}; every center given up here",
                        self.cfg.ttl
                    );
                    self.held.clear();
                }
            }
        }
        self.metrics.held.set(self.held.len() as i64);
        self.tx.send_if_modified(|h| {
            if *h == self.held {
                false
            } else {
                h.clone_from(&self.held);
                true
            }
        });
        result
    }

    async fn renew_and_share(&mut self, may_give: &impl Fn(&str) -> bool) -> StoreResult<()> {
        store::leases::add_missing(&self.db).await?;
        let mine: Vec<String> = self.held.keys().cloned().collect();
        let renewed: Held = store::leases::renew(&self.db, &self.instance, &mine, self.cfg.ttl)
            .await?
            .into_iter()
            .collect();
        for (center, epoch) in &self.held {
            if renewed.get(center) != Some(epoch) {
                tracing::warn!(center, epoch, "leases: lost to another instance");
                self.metrics.lost.inc();
            }
        }
        self.held.retain(|c, e| renewed.get(c) == Some(e));
        self.end_gone_holders().await?;
        let ttl = self.cfg.ttl;
        self.gone.retain(|_, found| found.elapsed() < ttl);
        let gone: Vec<String> = self.gone.keys().cloned().collect();
        let (centers, live) =
            store::leases::census(&self.db, &self.instance, self.cfg.ttl, &gone).await?;
        let plan = plan(self.held.len() as i64, centers, live);
        if plan.give > 0 {
            let give: Vec<String> = self
                .held
                .keys()
                .rev()
                .filter(|c| may_give(c))
                .take(usize::try_from(plan.give).unwrap_or(0))
                .cloned()
                .collect();
            store::leases::release(&self.db, &self.instance, &give).await?;
            for c in &give {
                self.held.remove(c);
                tracing::info!(center = %c, "leases: given back (over this instance's share)");
            }
        }
        if plan.take > 0 {
            for lease in
                store::leases::take(&self.db, &self.instance, self.cfg.ttl, plan.take).await?
            {
                tracing::info!(
                    center = %lease.contact_center_id,
                    epoch = lease.epoch,
                    from = ?lease.previous_owner,
                    "leases: taken"
                );
                self.held
                    .insert(lease.contact_center_id.clone(), lease.epoch);
                if lease.previous_owner.is_some() {
                    self.metrics.takeovers.inc();
                }
                self.taken_over.push(lease);
            }
        }
        Ok(())
    }

    /// A holder that missed two heartbeats is asked who it is; if its
    /// process is gone (SIGKILL, a crash; a restart on its address), its
    /// leases end now rather than after the lease time.
    async fn end_gone_holders(&mut self) -> StoreResult<()> {
        let silent_since = store::now()
            - chrono::Duration::from_std(2 * store::heartbeats::EVERY)
                .unwrap_or(chrono::Duration::seconds(2));
        for server in store::leases::silent_holders(&self.db, &self.instance, silent_since).await? {
            let Some(url) = server.internal_url.as_deref() else {
                continue;
            };
            let owner = &server.instance_id;
            if probe(&self.probe, url, owner).await == Probed::Gone {
                let n = store::leases::expire_owner(&self.db, owner).await?;
                tracing::warn!(
                    instance = %server.label(),
                    leases = n,
                    "leases: a holder's process is gone (its address refuses); its leases end now"
                );
                self.gone.insert(owner.clone(), Instant::now());
            }
        }
        Ok(())
    }

    /// Give every lease back (a clean stop, after the centers are drained).
    pub async fn release_all(&mut self) -> StoreResult<()> {
        self.stopped = true;
        let mine: Vec<String> = self.held.keys().cloned().collect();
        store::leases::release(&self.db, &self.instance, &mine).await?;
        self.held.clear();
        self.metrics.held.set(0);
        self.tx.send_replace(Held::new());
        Ok(())
    }
}

/// One turn of the keeper: renew, take or give back, then start and stop
/// the engine's centers to match.
pub async fn step(keeper: &tokio::sync::Mutex<Keeper>, engine: &crate::dialer::engine::Engine) {
    let (held, valid_until, taken) = {
        let mut k = keeper.lock().await;
        if let Err(e) = k.step(|c| engine.may_give(c)).await {
            tracing::warn!("leases: renewing failed: {e}");
        }
        (k.held().clone(), k.valid_until(), k.taken_over())
    };
    if let Err(e) = engine.apply_leases(&held, valid_until, taken).await {
        tracing::error!("leases: starting a contact center taken here failed: {e}");
    }
}

/// Keep this instance's leases every `renew_every` (sooner when a command
/// finds its center held by nobody), and start and stop the engine's
/// centers as they come and go.
pub fn spawn(
    keeper: std::sync::Arc<tokio::sync::Mutex<Keeper>>,
    engine: crate::dialer::engine::Engine,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (every, ttl, db) = {
            let k = keeper.lock().await;
            (k.cfg.renew_every, k.cfg.ttl, k.db.clone())
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut swept = Instant::now();
        let mut told = Instant::now();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = engine.leases_wanted() => {}
            }
            if swept.elapsed() >= ttl {
                // The heartbeats of instances long gone (their imports are
                // carried on by `import::Jobs`, their centers taken).
                swept = Instant::now();
                let long_gone = store::now()
                    - chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(10)) * 2;
                if let Err(e) = store::heartbeats::forget_dead(&db, long_gone).await {
                    tracing::warn!("forgetting dead instances' heartbeats: {e}");
                }
            }
            step(&keeper, &engine).await;
            // Every second (not when woken for a command): the owners of
            // our agents' centers hear how many connections we hold.
            if told.elapsed() >= every {
                told = Instant::now();
                engine.tell_sockets().await;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_up_and_move_one_way() {
        assert_eq!(plan(0, 3, 1), Plan { take: 3, give: 0 });
        // A second instance: the first gives one back, the second takes it.
        assert_eq!(plan(3, 3, 2), Plan { take: 0, give: 1 });
        assert_eq!(plan(0, 3, 2), Plan { take: 2, give: 0 });
        // Settled: 2 + 1, nobody moves.
        assert_eq!(plan(2, 3, 2), Plan { take: 0, give: 0 });
        assert_eq!(plan(1, 3, 2), Plan { take: 1, give: 0 });
        // No centers, no instances counted: nothing to do / take all.
        assert_eq!(plan(0, 0, 3), Plan { take: 0, give: 0 });
        assert_eq!(plan(0, 4, 0), Plan { take: 4, give: 0 });
    }
}
