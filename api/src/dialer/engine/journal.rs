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

use chrono::NaiveDateTime;

use super::{Due, EngineError, EngineResult, State};
use crate::events::Event;
use crate::store::{self, Db, Outage, StoreError, calls::LeadWrite, models};

/// How often a backlog is retried.
pub(crate) const RETRY_EVERY: chrono::Duration = chrono::Duration::seconds(1);

/// A write refused for a reason other than an outage (a constraint: a
/// bug) is given up after this many tries, so one bad row cannot hold the
/// whole floor.
const GIVE_UP_AFTER: u32 = 5;

/// One write or publication waiting for the database.
#[derive(Debug)]
pub(crate) enum Pending {
    Call {
        row: Box<models::Call>,
        events: Vec<models::CallEventRow>,
        lead: Option<LeadWrite>,
    },
    Presence(Box<models::Presence>),
    /// A claimed lead goes back to where it was.
    Release {
        lead_id: String,
        not_before: Option<NaiveDateTime>,
    },
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

async fn apply(db: &Db, p: &Pending) -> Result<(), StoreError> {
    match p {
        Pending::Call { row, events, lead } => {
            store::calls::save(db, row, events, lead.as_ref()).await
        }
        Pending::Presence(row) => store::presence::save(db, row).await,
        Pending::Release {
            lead_id,
            not_before,
        } => store::claims::release(db, lead_id, *not_before, None).await,
        Pending::Publish(_) => Ok(()),
    }
}

impl State {
    /// Writes are waiting for the database.
    pub(crate) fn behind(&self) -> bool {
        !self.journal.is_empty()
    }

    /// Write `p` now, or keep it (after anything already kept) when the
    /// database cannot take it. `Ok(false)`: kept.
    pub(crate) async fn write(&mut self, p: Pending) -> EngineResult<bool> {
        let now = self.clock.now();
        if self.behind() && (self.journal.just_failed(now) || !self.catch_up().await) {
            self.keep(p);
            return Ok(false);
        }
        match apply(&self.db, &p).await {
            Ok(()) => Ok(true),
            Err(e) => match e.outage() {
                Some(cause) => {
                    tracing::error!(%cause, "dialer engine: a write failed ({e}); kept until the database takes writes again");
                    self.journal.outage = Some(cause);
                    self.journal.failed_at = Some(now);
                    self.keep(p);
                    Ok(false)
                }
                None => Err(e.into()),
            },
        }
    }

    fn keep(&mut self, p: Pending) {
        self.journal.entries.push_back(p);
        if !self.journal.retry_queued {
            self.journal.retry_queued = true;
            self.after(RETRY_EVERY, Due::CatchUp);
        }
    }

    /// Publish now, or after the writes still waiting.
    pub(crate) fn publish_event(&mut self, event: Event) {
        if self.behind() {
            self.journal
                .entries
                .push_back(Pending::Publish(Box::new(event)));
        } else {
            self.events.publish(event);
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
            match apply(&self.db, front).await {
                Ok(()) => {
                    self.journal.refused = 0;
                    self.journal.entries.pop_front();
                }
                Err(e) if e.outage().is_some() => {
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
        let now = self.clock.now();
        if !self.behind() || (!self.journal.just_failed(now) && self.catch_up().await) {
            return Ok(());
        }
        Err(self.unavailable("nothing was changed"))
    }

    /// The answer while writes wait: what happened, and when to retry.
    pub(crate) fn unavailable(&self, what: &str) -> EngineError {
        let cause = self.journal.outage.unwrap_or(Outage::Gone);
        EngineError::Unavailable {
            cause,
            message: format!(
                "the database is not taking writes ({cause}): {what}; try again shortly"
            ),
        }
    }
}
