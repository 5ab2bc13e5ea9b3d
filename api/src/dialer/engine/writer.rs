//! A center's writer: a task on the writers' thread that commits the
//! center's engine's writes in groups and publishes what follows them once they
//! are in. The engine hands a write over and goes on with the next step
//! (the next answer is not kept waiting behind this one's transaction);
//! whatever the engine publishes or answers after a write is published or
//! answered by the writer after that write commits, so nobody — an agent's
//! websocket, a supervisor, the API client whose command it was — is told
//! anything the database does not have ("written before published").
//!
//! Every job waiting when the writer is free goes into one transaction
//! (one commit instead of one per step). When that transaction fails for
//! an outage, the writer holds the group and everything sent after it,
//! unwritten and unpublished, answers waiting commands `UNAVAILABLE`, and
//! asks the engine to take them back: the engine's journal
//! (`journal.rs`) then retries them in order as before, and the writer
//! stays idle until the journal is empty. A write refused for another
//! reason (a constraint: a bug) is found by writing the group one by one
//! and is dropped with an error, as the engine's own step would have
//! failed.
//!
//! The engine reads the database only after what it handed over is
//! written ([`Writer::sync`], a barrier), where the read depends on it:
//! the gate's per-number history, claims, a call's or a presence's row.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

use super::Due;
use super::journal::Pending;
use crate::clock::{Clock, Timeline};
use crate::events::EventBus;
use crate::store::{self, Db, Outage, StoreError, calls::EngineWrite};

/// At most this many jobs in one transaction.
const MAX_GROUP: usize = 512;

/// A writer keeps its connection this long after its last group (the
/// writers share a few).
const KEEP_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Run after the jobs before it are written and published: `None` when
/// they are, the outage when they are held.
pub(crate) type After = Box<dyn FnOnce(Option<Outage>) + Send>;

/// What the writer is asked to do, in the engine's order.
pub(crate) enum Job {
    Write(Pending),
    After(After),
    /// A barrier: answered once everything before it is written, with
    /// whatever is held (after an outage) handed back.
    Sync(oneshot::Sender<Handback>),
}

/// Held writes, handed back to the engine's journal.
#[derive(Debug, Default)]
pub(crate) struct Handback {
    pub outage: Option<Outage>,
    pub entries: Vec<Pending>,
}

#[derive(Default)]
struct Shared {
    /// Jobs handled (the engine counts those it sent).
    done: AtomicU64,
    /// Writes are held after an outage, not yet handed back.
    failed: AtomicBool,
}

/// The engine's side.
pub(crate) struct Writer {
    tx: mpsc::UnboundedSender<Job>,
    sent: u64,
    shared: Arc<Shared>,
}

impl Writer {
    /// Start the writer's task on the writers' thread (and its pool).
    pub(crate) fn start(
        thread: &super::centers::LocalThread,
        events: Arc<dyn EventBus>,
        clock: Clock,
        timeline: Timeline<Due>,
        fence: Option<store::calls::Fence>,
    ) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::default());
        let task = Task {
            fence,
            db: thread.db.clone(),
            events,
            clock,
            timeline,
            shared: shared.clone(),
            held: Vec::new(),
            outage: None,
            kept: Default::default(),
        };
        thread.spawn(Box::new(move || Box::pin(task.run(rx))));
        Writer {
            tx,
            sent: 0,
            shared,
        }
    }

    /// Everything handed over is written and published, and nothing is
    /// held.
    pub(crate) fn idle(&self) -> bool {
        !self.failed() && self.shared.done.load(Ordering::Acquire) >= self.sent
    }

    /// Writes are held after an outage (the engine should take them back).
    pub(crate) fn failed(&self) -> bool {
        self.shared.failed.load(Ordering::Acquire)
    }

    pub(crate) fn send(&mut self, job: Job) {
        self.sent += 1;
        if let Err(mpsc::error::SendError(job)) = self.tx.send(job) {
            // Only when the writer's thread is gone (it does not panic by
            // design): nothing more can be written by it.
            self.sent -= 1;
            tracing::error!(
                "dialer engine: the writer has stopped; dropped {}",
                job.describe()
            );
        }
    }

    /// Wait until everything handed over is written; what is held after
    /// an outage comes back.
    pub(crate) async fn sync(&mut self) -> Handback {
        match self.barrier() {
            Some(rx) => rx.await.unwrap_or_default(),
            None => Handback::default(),
        }
    }

    /// [`Writer::sync`] as a future that holds nothing of the engine's
    /// (none when there is nothing to wait for).
    pub(crate) fn barrier(&mut self) -> Option<oneshot::Receiver<Handback>> {
        if self.idle() {
            return None;
        }
        let (reply, rx) = oneshot::channel();
        self.send(Job::Sync(reply));
        Some(rx)
    }
}

impl Job {
    fn describe(&self) -> &'static str {
        match self {
            Job::Write(Pending::Publish(_)) => "a publication",
            Job::Write(_) => "a write",
            Job::After(_) => "an answer",
            Job::Sync(_) => "a barrier",
        }
    }
}

struct Task {
    /// The center's lease its writes are made under (none: the center is
    /// not leased, one instance runs every center).
    fence: Option<store::calls::Fence>,
    db: Db,
    events: Arc<dyn EventBus>,
    clock: Clock,
    timeline: Timeline<Due>,
    shared: Arc<Shared>,
    /// Held after an outage, in order, until the engine takes them back.
    held: Vec<Pending>,
    outage: Option<Outage>,
    /// Its connection, from one group to the next.
    kept: store::calls::Kept,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>) {
        let mut group = Vec::with_capacity(MAX_GROUP);
        loop {
            let got = if self.kept.holds() {
                match tokio::time::timeout(KEEP_FOR, rx.recv_many(&mut group, MAX_GROUP)).await {
                    Ok(got) => got,
                    Err(_) => {
                        // Idle: its connection back to the others.
                        self.kept = Default::default();
                        rx.recv_many(&mut group, MAX_GROUP).await
                    }
                }
            } else {
                rx.recv_many(&mut group, MAX_GROUP).await
            };
            if got == 0 {
                break;
            }
            self.group(std::mem::take(&mut group)).await;
            // Every connection taken: another writer may be waiting.
            self.kept.give_back_if_scarce(&self.db);
        }
    }

    /// One group: written together, then published and answered in order.
    async fn group(&mut self, jobs: Vec<Job>) {
        let ok_until = if self.outage.is_some() {
            0
        } else {
            self.write(&jobs).await
        };
        for (i, job) in jobs.into_iter().enumerate() {
            let written = i < ok_until;
            match job {
                Job::Write(Pending::Publish(event)) if written => self.events.publish(*event),
                Job::Write(_) if written => {}
                Job::Write(p) => self.held.push(p),
                Job::After(f) => {
                    self.shared.done.fetch_add(1, Ordering::AcqRel);
                    f(if written { None } else { self.outage });
                    continue;
                }
                Job::Sync(reply) => {
                    let back = Handback {
                        outage: self.outage.take(),
                        entries: std::mem::take(&mut self.held),
                    };
                    self.shared.failed.store(false, Ordering::Release);
                    self.shared.done.fetch_add(1, Ordering::AcqRel);
                    let _ = reply.send(back);
                    continue;
                }
            }
            self.shared.done.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Write the group's writes; how many of its jobs are written (all of
    /// them, or up to the first an outage stopped).
    async fn write(&mut self, jobs: &[Job]) -> usize {
        let writes: Vec<&EngineWrite> = jobs.iter().filter_map(Job::write).collect();
        if writes.is_empty() {
            return jobs.len();
        }
        let fence = self.fence.as_ref();
        let e = match store::calls::save_all_kept(&self.db, &mut self.kept, fence, &writes).await {
            Ok(()) => return jobs.len(),
            Err(e) => e,
        };
        if let Some(cause) = e.outage() {
            self.outage_met(cause, &e);
            return 0;
        }
        // Refused for another reason: find the write, one by one.
        for (i, job) in jobs.iter().enumerate() {
            let Some(w) = job.write() else { continue };
            match store::calls::save_all_kept(&self.db, &mut Default::default(), fence, &[w]).await
            {
                Ok(()) => {}
                Err(e) => match e.outage() {
                    Some(cause) => {
                        self.outage_met(cause, &e);
                        return i;
                    }
                    None => {
                        tracing::error!("dialer engine: a write was refused ({e}); dropped: {w:?}")
                    }
                },
            }
        }
        jobs.len()
    }

    fn outage_met(&mut self, cause: Outage, e: &StoreError) {
        if cause == Outage::Moved {
            // For good: the engine stops the center.
            tracing::warn!("dialer engine: the center's lease moved on ({e}); its writes end here");
            self.timeline.push(self.clock.now(), Due::LeaseLost);
            self.fail(cause);
            return;
        }
        tracing::error!(
            %cause,
            "dialer engine: a write failed ({e}); kept until the database takes writes again"
        );
        self.fail(cause);
    }

    /// Hold from now on, and ask the engine to take the held writes back.
    fn fail(&mut self, cause: Outage) {
        self.outage = Some(cause);
        self.shared.failed.store(true, Ordering::Release);
        self.timeline.push(self.clock.now(), Due::WriterFailed);
    }
}

impl Job {
    fn write(&self) -> Option<&EngineWrite> {
        match self {
            Job::Write(Pending::Write(w)) => Some(w),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::dialer::engine::centers::LocalThread;
    use crate::events::{Event, EventKind, LocalBus};
    use crate::store::DbTarget;

    fn release(lead: &str) -> Job {
        Job::Write(Pending::Write(EngineWrite::Release {
            lead_id: lead.into(),
            not_before: None,
        }))
    }

    fn publish(campaign: &str) -> Job {
        Job::Write(Pending::Publish(Box::new(Event {
            organization_id: "org".into(),
            at: chrono::Utc::now(),
            kind: EventKind::CampaignStats {
                campaign_id: campaign.into(),
            },
        })))
    }

    /// What the jobs before it came to: `None` written, else the outage.
    async fn outcome(w: &mut Writer) -> Option<Outage> {
        let (tx, rx) = oneshot::channel();
        w.send(Job::After(Box::new(move |o| {
            let _ = tx.send(o);
        })));
        rx.await.expect("the writer answers")
    }

    fn campaign_of(e: &Event) -> &str {
        match &e.kind {
            EventKind::CampaignStats { campaign_id } => campaign_id,
            _ => "",
        }
    }

    #[tokio::test]
    async fn publishes_after_the_commit_and_hands_back_what_an_outage_held() {
        let dir = std::env::temp_dir().join(format!("pinline-writer-{}", store::new_id()));
        let target = DbTarget::Sqlite(dir.join("w.sqlite3"));
        store::run_migrations(&target).await.expect("migrate");
        let db = Db::connect(&target, 2).await.expect("db");
        let bus = Arc::new(LocalBus::new(64));
        let mut seen = bus.subscribe();
        let clock = Clock::manual(chrono::Utc::now());
        let timeline: Timeline<Due> = Timeline::default();
        let thread = LocalThread::start("test-writer", &db, 2).expect("thread");
        let mut w = Writer::start(&thread, bus.clone(), clock.clone(), timeline.clone(), None);

        // Writes waiting together go in together; what follows them is
        // published once they are in.
        let before = db.writes().count();
        for lead in ["a", "b", "c", "d"] {
            w.send(release(lead));
        }
        w.send(publish("first"));
        assert_eq!(outcome(&mut w).await, None);
        let groups = db.writes().count() - before;
        assert!((1..=4).contains(&groups), "{groups} transactions");
        assert!(w.idle());
        let e = seen.next().await.expect("published");
        assert_eq!(campaign_of(&e), "first");

        // An outage: the group and everything after it are held, nothing
        // is published, the engine is told, and gets them back in order.
        db.writes().fail_all(true);
        w.send(release("x"));
        w.send(publish("held"));
        w.send(release("y"));
        assert_eq!(outcome(&mut w).await, Some(Outage::DiskFull));
        assert!(w.failed() && !w.idle());
        w.send(release("z"));
        assert_eq!(outcome(&mut w).await, Some(Outage::DiskFull), "still held");
        let told = timeline.pop_due(clock.now()).map(|(_, d)| d);
        assert!(matches!(told, Some(Due::WriterFailed)), "{told:?}");
        let back = w.sync().await;
        assert_eq!(back.outage, Some(Outage::DiskFull));
        let order: Vec<String> = back
            .entries
            .iter()
            .map(|p| match p {
                Pending::Write(EngineWrite::Release { lead_id, .. }) => lead_id.clone(),
                Pending::Publish(e) => campaign_of(e).to_owned(),
                Pending::Write(_) => "?".into(),
            })
            .collect();
        assert_eq!(order, ["x", "held", "y", "z"]);
        assert!(!w.failed() && w.idle(), "the writer takes work again");
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(50), seen.next()).await;
        assert!(nothing.is_err(), "nothing held was published");

        db.writes().fail_all(false);
        w.send(publish("after"));
        assert_eq!(outcome(&mut w).await, None);
        let e = seen.next().await.expect("published");
        assert_eq!(campaign_of(&e), "after");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
