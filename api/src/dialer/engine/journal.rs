//! Writes the database could not take yet. The engine's memory follows
//! the world (a lead who hung up has hung up, whatever the disk says), so
//! when a step's write meets an outage (a full disk, a read-only file
//! system, PostgreSQL gone) the write is kept here, in order, and so is
//! every publication after it: nobody is told what the database does not
//! have. The engine retries every second; once the database takes writes
//! again the kept writes go in (oldest first) and the publications follow,
//! so memory and database agree again without a restart. Meanwhile the
//! engine places no new calls, and commands that would add to the backlog
//! answer `UNAVAILABLE` — except hanging up, which always ends the call.

use std::collections::VecDeque;

use super::writer::{After, Job};
use super::{Due, EngineError, EngineResult, State};
use crate::events::Event;
use crate::store::calls::{EngineWrite, Fence};
use crate::store::{self, Db, Outage, StoreError};

/// How often a backlog is retried.
pub(crate) const RETRY_EVERY: chrono::Duration = chrono::Duration::seconds(1);

/// A write refused for a reason other than an outage (a constraint: a
/// bug) is given up after this many tries, so one bad row cannot hold the
/// whole floor.
const GIVE_UP_AFTER: u32 = 5;

/// One write or publication waiting for the database.
#[derive(Debug)]
pub(crate) enum Pending {
    Write(EngineWrite),
    Publish(Box<Event>),
}

#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: VecDeque<Pending>,
    /// A retry is on the timeline.
    retry_queued: bool,
    /// Tries of the oldest entry that failed for another reason than an
    /// outage.
    refused: u32,
    /// The outage that started the backlog.
    pub outage: Option<Outage>,
    /// When catching up last failed: a write or a command within
    /// [`RETRY_EVERY`] of it does not try again (a database that is gone
    /// can take seconds to say so, and the engine would wait each time).
    failed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Journal {
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Catching up failed less than [`RETRY_EVERY`] before `now`.
    fn just_failed(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.failed_at.is_some_and(|t| now - t < RETRY_EVERY)
    }
}

async fn apply(db: &Db, fence: Option<&Fence>, p: &Pending) -> Result<(), StoreError> {
    match p {
        Pending::Write(w) => {
            store::calls::save_all_kept(db, &mut Default::default(), fence, &[w]).await
        }
        Pending::Publish(_) => Ok(()),
    }
}

impl State {
    /// Writes are waiting for the database (kept here, or held by the
    /// writer after an outage it met).
    pub(crate) fn behind(&self) -> bool {
        !self.journal.is_empty() || self.writer.failed()
    }

    /// Hand `p` to the writer, or keep it (after anything already kept)
    /// when the database cannot take it. `Ok(false)`: kept.
    pub(crate) async fn write(&mut self, p: Pending) -> EngineResult<bool> {
        let now = self.clock.now();
        self.take_back().await;
        if self.behind() && (self.journal.just_failed(now) || !self.catch_up().await) {
            self.keep(p);
            return Ok(false);
        }
        self.writer.send(Job::Write(p));
        Ok(true)
    }

    /// Everything handed to the writer is written: before a read that
    /// depends on the engine's own writes (the gate's history of a number,
    /// a claim, a call's row). What the writer held after an outage comes
    /// back to the journal.
    pub(crate) async fn synced(&mut self) {
        let back = self.writer.sync().await;
        self.kept_by_writer(back);
    }

    /// The database, once everything handed to the writer is written.
    pub(crate) async fn db(&mut self) -> Db {
        self.synced().await;
        self.db.clone()
    }

    /// [`State::db`] while handling live answers as they fall due
    /// ([`State::meanwhile`]: only where a step may be interleaved).
    pub(crate) async fn db_meanwhile(&mut self) -> Db {
        if let Some(rx) = self.writer.barrier() {
            let back = self.meanwhile(rx).await.unwrap_or_default();
            self.kept_by_writer(back);
        }
        self.db.clone()
    }

    /// The writer met an outage: take back what it holds.
    pub(crate) async fn take_back(&mut self) {
        if self.writer.failed() {
            self.synced().await;
        }
    }

    fn kept_by_writer(&mut self, back: super::writer::Handback) {
        if back.entries.is_empty() && back.outage.is_none() {
            return;
        }
        self.journal.outage = back.outage.or(self.journal.outage);
        self.journal.failed_at = Some(self.clock.now());
        for p in back.entries {
            self.keep(p);
        }
    }

    /// Run `f` once what was handed to the writer before is written and
    /// published (`None`), or held after an outage (the outage).
    pub(crate) fn after_written(&mut self, f: After) {
        if !self.journal.is_empty() {
            f(self.journal.outage.or(Some(Outage::Gone)));
        } else if self.writer.idle() {
            f(None);
        } else {
            self.writer.send(Job::After(f));
        }
    }

    /// A command's answer, once what it wrote is written: `UNAVAILABLE`
    /// (`what` happened but is not saved yet) when it is only kept.
    pub(crate) fn answer<T: Send + 'static>(
        &mut self,
        reply: tokio::sync::oneshot::Sender<EngineResult<T>>,
        r: EngineResult<T>,
        what: Option<&'static str>,
    ) {
        self.after_written(Box::new(move |outage| {
            let r = match (r, outage, what) {
                (Ok(_), Some(cause), Some(what)) => Err(unavailable(cause, what)),
                (r, _, _) => r,
            };
            let _ = reply.send(r);
        }));
    }

    fn keep(&mut self, p: Pending) {
        self.journal.entries.push_back(p);
        if !self.journal.retry_queued {
            self.journal.retry_queued = true;
            self.after(RETRY_EVERY, Due::CatchUp);
        }
    }

    /// Publish now, or after the writes still waiting (kept, or with the
    /// writer).
    pub(crate) fn publish_event(&mut self, event: Event) {
        if !self.journal.is_empty() {
            self.journal
                .entries
                .push_back(Pending::Publish(Box::new(event)));
        } else if self.writer.idle() {
            self.events.publish(event);
        } else {
            self.writer
                .send(Job::Write(Pending::Publish(Box::new(event))));
        }
    }

    /// Write what is waiting, oldest first, publishing as it goes. True
    /// when nothing is left.
    pub(crate) async fn catch_up(&mut self) -> bool {
        let had = self.journal.len();
        while let Some(front) = self.journal.entries.front() {
            if let Pending::Publish(_) = front {
                if let Some(Pending::Publish(event)) = self.journal.entries.pop_front() {
                    self.events.publish(*event);
                }
                continue;
            }
            match apply(&self.db, self.fence.as_ref(), front).await {
                Ok(()) => {
                    self.journal.refused = 0;
                    self.journal.entries.pop_front();
                }
                Err(e) if e.outage().is_some() => {
                    if e.outage() == Some(Outage::Moved) {
                        self.after(chrono::Duration::zero(), Due::LeaseLost);
                    }
                    self.journal.outage = e.outage();
                    self.journal.failed_at = Some(self.clock.now());
                    return false;
                }
                Err(e) => {
                    self.journal.refused += 1;
                    if self.journal.refused < GIVE_UP_AFTER {
                        self.journal.failed_at = Some(self.clock.now());
                        return false;
                    }
                    tracing::error!(
                        "dialer engine: a kept write was refused {GIVE_UP_AFTER} times ({e}); given up: {:?}",
                        self.journal.entries.front()
                    );
                    self.journal.refused = 0;
                    self.journal.entries.pop_front();
                }
            }
        }
        if had > 0 {
            tracing::warn!(
                writes = had,
                "dialer engine: the database takes writes again; the kept writes are in"
            );
            self.journal.outage = None;
            self.journal.failed_at = None;
            self.pace_soon();
        }
        true
    }

    /// The retry timer.
    pub(crate) async fn catch_up_due(&mut self) -> EngineResult<()> {
        self.take_back().await;
        self.journal.retry_queued = false;
        self.journal.failed_at = None;
        if self.catch_up().await {
            // Answers that waited for an agent meanwhile.
            self.route_waiting().await
        } else {
            self.journal.retry_queued = true;
            self.after(RETRY_EVERY, Due::CatchUp);
            Ok(())
        }
    }

    /// Before a command that would add to a backlog: catch up or refuse.
    pub(crate) async fn writable(&mut self) -> EngineResult<()> {
        self.take_back().await;
        let now = self.clock.now();
        if !self.behind() || (!self.journal.just_failed(now) && self.catch_up().await) {
            return Ok(());
        }
        Err(self.unavailable("nothing was changed"))
    }

    /// The answer while writes wait: what happened, and when to retry.
    pub(crate) fn unavailable(&self, what: &str) -> EngineError {
        unavailable(self.journal.outage.unwrap_or(Outage::Gone), what)
    }
}

fn unavailable(cause: Outage, what: &str) -> EngineError {
    EngineError::Unavailable {
        cause,
        message: format!("the database is not taking writes ({cause}): {what}; try again shortly"),
    }
}
