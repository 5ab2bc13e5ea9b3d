//! The event bus between instances on one PostgreSQL database.
//!
//! Every event is delivered to this instance's subscribers at once
//! (in-process, as [`LocalBus`] does) and sent to the other instances as a
//! `NOTIFY` on one channel: a small JSON envelope with the event, or, for
//! an event larger than a notification may be, the id of a row that keeps
//! it (`bus_events`, swept after a few minutes). Each instance `LISTEN`s on
//! a connection of its own and hands what the others sent to its own
//! subscribers; its own notifications come back too and are skipped.
//!
//! Order: one instance's events reach every other instance in the order it
//! published them (one sender, one statement per batch, and a
//! transaction's notifications are delivered in order). Events are not
//! durable: while the listening connection is down, what others sent is
//! lost — the gap is counted and logged, and subscribers re-read state
//! when they reconnect (the web app does on every reconnect).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Event, EventBus, LocalBus, Revoked};
use crate::app::AbortOnDrop;
use crate::metrics::BusMetrics;
use crate::store::{self, Db};

/// Most events in one `NOTIFY` statement.
const BATCH: usize = 256;
/// How long a batch is retried while the database does not take it.
const SEND_FOR: Duration = Duration::from_secs(5);
/// Parked payloads older than this are swept.
const PARKED_FOR: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// How often other instances are looked for, and how recent a heartbeat
/// counts as alive.
const PEERS_EVERY: Duration = Duration::from_secs(1);
const PEER_ALIVE: chrono::TimeDelta = chrono::TimeDelta::seconds(10);
/// A quiet listening connection is checked this often.
const PING_EVERY: Duration = Duration::from_secs(5);

/// What crosses between instances.
#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The sending instance.
    i: String,
    /// Its sequence number (notifications equal in a transaction would be
    /// folded into one; this keeps every one distinct).
    n: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<Event>,
    /// A parked event's row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<i64>,
}

pub struct PgBus {
    local: LocalBus,
    out: mpsc::UnboundedSender<Event>,
    /// Another instance is alive (its heartbeat moved lately): only then
    /// are events sent (a lone instance pays nothing for the bus).
    others: Arc<AtomicBool>,
    _tasks: [AbortOnDrop; 3],
}

impl PgBus {
    /// Start sending and listening for `instance` (a name unique among the
    /// running instances).
    pub fn start(db: &Db, instance: String, capacity: usize, stats: BusMetrics) -> Arc<PgBus> {
        let (out, rx) = mpsc::unbounded_channel();
        let others = Arc::new(AtomicBool::new(true));
        Arc::new_cyclic(|weak: &std::sync::Weak<PgBus>| {
            let sender = tokio::spawn(send(db.clone(), instance.clone(), rx, stats.clone()));
            let peers = tokio::spawn(watch_peers(db.clone(), instance.clone(), others.clone()));
            let listener = tokio::spawn(listen(db.clone(), instance, weak.clone(), stats.clone()));
            PgBus {
                local: LocalBus::new(capacity),
                out,
                others,
                _tasks: [
                    AbortOnDrop(sender),
                    AbortOnDrop(listener),
                    AbortOnDrop(peers),
                ],
            }
        })
    }
}

impl EventBus for PgBus {
    fn publish(&self, event: Event) {
        if self.others.load(Ordering::Relaxed) {
            let _ = self.out.send(event.clone());
        }
        self.local.publish(event);
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        self.local.subscribe()
    }

    fn subscribe_agent(&self, agent_id: &str) -> BoxStream<'static, Event> {
        self.local.subscribe_agent(agent_id)
    }

    fn subscribe_revocations(&self) -> BoxStream<'static, Revoked> {
        self.local.subscribe_revocations()
    }
}

/// Whether another instance is alive, looked at every second (a joining
/// instance is sent events within a second of its first heartbeat; its
/// subscribers read the state they start from anyway).
async fn watch_peers(db: Db, instance: String, others: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(PEERS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let since = (Utc::now() - PEER_ALIVE).naive_utc();
        match store::bus::others_alive(&db, &instance, since).await {
            Ok(alive) => {
                if others.swap(alive, Ordering::Relaxed) != alive {
                    tracing::info!(
                        "event bus: {}",
                        if alive {
                            "another instance is up: sending events to it"
                        } else {
                            "no other instance: events stay here"
                        }
                    );
                }
            }
            // In doubt, send.
            Err(e) => {
                tracing::debug!("event bus: cannot look for other instances: {e}");
                others.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// The sender: everything waiting goes in one statement; a payload too
/// large for a notification is parked first.
async fn send(db: Db, instance: String, mut rx: mpsc::UnboundedReceiver<Event>, stats: BusMetrics) {
    let db = db.own_pool(1);
    let mut n: u64 = 0;
    let mut batch = Vec::with_capacity(BATCH);
    let mut swept_at = std::time::Instant::now();
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut payloads = Vec::with_capacity(batch.len());
        for event in batch.drain(..) {
            n += 1;
            match envelope(&db, &instance, n, event, &stats).await {
                Some(p) => payloads.push(p),
                None => {
                    stats.dropped.inc();
                }
            }
        }
        let started = std::time::Instant::now();
        loop {
            match store::bus::notify(&db, &payloads).await {
                Ok(()) => {
                    stats.sent.inc_by(payloads.len() as u64);
                    break;
                }
                Err(e) if started.elapsed() < SEND_FOR => {
                    tracing::warn!("event bus: sending failed ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => {
                    tracing::error!(
                        "event bus: {} events not sent to other instances: {e}",
                        payloads.len()
                    );
                    stats.dropped.inc_by(payloads.len() as u64);
                    break;
                }
            }
        }
        if swept_at.elapsed() > Duration::from_secs(60) {
            swept_at = std::time::Instant::now();
            let before = (Utc::now() - PARKED_FOR).naive_utc();
            if let Err(e) = store::bus::sweep(&db, before).await {
                tracing::warn!("event bus: sweeping parked events failed: {e}");
            }
        }
    }
}

/// The notification's payload for `event`, parking it when it is too
/// large; `None` when it cannot be sent.
async fn envelope(
    db: &Db,
    instance: &str,
    n: u64,
    event: Event,
    stats: &BusMetrics,
) -> Option<String> {
    let mut env = Envelope {
        i: instance.to_owned(),
        n,
        e: Some(event),
        r: None,
    };
    let json = match serde_json::to_string(&env) {
        Ok(json) => json,
        Err(e) => {
            tracing::error!("event bus: an event cannot be encoded: {e}");
            return None;
        }
    };
    if json.len() <= store::bus::MAX_NOTIFY_BYTES {
        return Some(json);
    }
    let started = std::time::Instant::now();
    let id = loop {
        match store::bus::park(db, &json, Utc::now().naive_utc()).await {
            Ok(id) => break id,
            Err(e) if started.elapsed() < SEND_FOR => {
                tracing::warn!("event bus: parking a large event failed ({e}); retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                tracing::error!("event bus: a large event not sent to other instances: {e}");
                return None;
            }
        }
    };
    stats.parked.inc();
    env.e = None;
    env.r = Some(id);
    serde_json::to_string(&env).ok()
}

/// The listener: what other instances sent, to this instance's
/// subscribers; listens again (after a pause) when its connection is lost.
async fn listen(db: Db, instance: String, bus: std::sync::Weak<PgBus>, stats: BusMetrics) {
    let mut first = true;
    loop {
        let mut listener = match store::bus::listen(&db).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("event bus: cannot listen ({e}); trying again in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if !first {
            stats.gaps.inc();
            tracing::warn!(
                "event bus: listening again; what other instances sent meanwhile was missed"
            );
        }
        first = false;
        loop {
            let payload = match listener.next(PING_EVERY).await {
                Ok(Some(p)) => p,
                Ok(None) => match listener.ping(PING_EVERY).await {
                    Ok(()) => continue,
                    Err(e) => {
                        tracing::warn!("event bus: the listening connection is gone: {e}");
                        break;
                    }
                },
                Err(e) => {
                    tracing::warn!("event bus: the listening connection is gone: {e}");
                    break;
                }
            };
            let Some(event) = received(&db, &instance, &payload).await else {
                continue;
            };
            let Some(bus) = bus.upgrade() else { return };
            stats.received.inc();
            let lag = (Utc::now() - event.at).to_std().unwrap_or_default();
            stats.lag.observe(lag.as_secs_f64());
            bus.local.publish(event);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The event in a notification from another instance (`None` for this
/// instance's own, and for what cannot be read — logged).
async fn received(db: &Db, instance: &str, payload: &str) -> Option<Event> {
    let env: Envelope = match serde_json::from_str(payload) {
        Ok(env) => env,
        Err(e) => {
            tracing::warn!("event bus: a notification that is not an event: {e}");
            return None;
        }
    };
    if env.i == instance {
        return None;
    }
    if let Some(event) = env.e {
        return Some(event);
    }
    let id = env.r?;
    match store::bus::parked(db, id).await {
        Ok(Some(json)) => match serde_json::from_str::<Envelope>(&json) {
            Ok(Envelope { e: Some(event), .. }) => Some(event),
            _ => {
                tracing::warn!("event bus: parked event {id} cannot be read");
                None
            }
        },
        Ok(None) => {
            tracing::warn!("event bus: parked event {id} was swept before it was read");
            None
        }
        Err(e) => {
            tracing::warn!("event bus: parked event {id} cannot be read: {e}");
            None
        }
    }
}
