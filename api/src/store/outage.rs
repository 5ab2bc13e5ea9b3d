//! When the database cannot take a write: what the cause is (a full disk,
//! a read-only file system, a server gone), named the same way on both
//! backends, and the store's own record of whether writes are working —
//! which `/readyz` reports and the engine waits on. Tests inject failures
//! here (the Nth write, or every write) to drive the same paths a full
//! disk does.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::StoreError;

/// Why the database is not taking writes (or not answering at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outage {
    /// No space left for the database's files.
    DiskFull,
    /// The database (or its file system) is read-only.
    ReadOnly,
    /// The server is gone: connection refused, lost or shutting down.
    Gone,
    /// The operating system failed a read or write.
    Io,
    /// Another writer held the database too long.
    Busy,
    /// The contact center's lease moved to another instance: its writes
    /// are refused here for good (the new owner has the center).
    Moved,
}

impl Outage {
    pub fn as_str(self) -> &'static str {
        match self {
            Outage::DiskFull => "disk full",
            Outage::ReadOnly => "database read-only",
            Outage::Gone => "database not reachable",
            Outage::Io => "disk I/O error",
            Outage::Busy => "database busy",
            Outage::Moved => "the contact center moved to another server",
        }
    }

    /// How long a client should wait before retrying.
    pub fn retry_after_secs(self) -> u64 {
        match self {
            Outage::Busy => 1,
            Outage::Gone | Outage::Moved => 2,
            Outage::DiskFull | Outage::ReadOnly | Outage::Io => 5,
        }
    }
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outage a database error reports, if it is one (rather than a
/// constraint or a bug). SQLite's and PostgreSQL's own wording.
pub fn classify(e: &DieselError) -> Option<Outage> {
    match e {
        DieselError::DatabaseError(kind, info) => {
            let m = info.message().to_ascii_lowercase();
            match kind {
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    Some(by_message(&m).unwrap_or(Outage::Gone))
                }
                DatabaseErrorKind::ReadOnlyTransaction => Some(Outage::ReadOnly),
                _ => by_message(&m),
            }
        }
        DieselError::RollbackErrorOnCommit {
            rollback_error,
            commit_error,
        } => classify(commit_error).or_else(|| classify(rollback_error)),
        DieselError::BrokenTransactionManager => None,
        _ => None,
    }
}

fn by_message(m: &str) -> Option<Outage> {
    const FULL: [&str; 4] = [
        "database or disk is full",
        "no space left on device",
        "could not extend file",
        "disk quota exceeded",
    ];
    const READ_ONLY: [&str; 3] = [
        "readonly database",
        "read-only file system",
        "read-only transaction",
    ];
    const GONE: [&str; 7] = [
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "server closed the connection",
        "connection closed",
        "connection refused",
        "unable to open database file",
    ];
    if FULL.iter().any(|s| m.contains(s)) {
        Some(Outage::DiskFull)
    } else if READ_ONLY.iter().any(|s| m.contains(s)) {
        Some(Outage::ReadOnly)
    } else if GONE.iter().any(|s| m.contains(s)) {
        Some(Outage::Gone)
    } else if m.contains("disk i/o error") || m.contains("could not write") {
        Some(Outage::Io)
    } else if m.contains("database is locked") {
        Some(Outage::Busy)
    } else {
        None
    }
}

impl StoreError {
    /// The outage behind this error, if it is one.
    pub fn outage(&self) -> Option<Outage> {
        match self {
            StoreError::Unavailable { cause, .. } => Some(*cause),
            StoreError::Connection(_) => Some(Outage::Gone),
            StoreError::LeaseLost(_) => Some(Outage::Moved),
            StoreError::Query(e) => classify(e),
            _ => None,
        }
    }
}

/// Whether writes are working, and failures injected by tests.
#[derive(Debug, Default)]
pub struct Writes {
    /// Injected: every write fails (as a full disk does) while set.
    fail_all: AtomicBool,
    /// Injected: the write with this sequence number fails (0: none).
    fail_at: AtomicU64,
    /// Write transactions begun so far.
    count: AtomicU64,
    /// The last write failed with this outage (a success clears it).
    failing: Mutex<Option<(Outage, String)>>,
}

impl Writes {
    /// Tests: the `n`th write from now fails (1: the next one).
    pub fn fail_nth(&self, n: u64) {
        let at = self.count.load(Ordering::SeqCst) + n.max(1);
        self.fail_at.store(at, Ordering::SeqCst);
    }

    /// Tests: every write fails while `on` (a full disk).
    pub fn fail_all(&self, on: bool) {
        self.fail_all.store(on, Ordering::SeqCst);
    }

    /// Write transactions begun so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// The outage the last write met, if it failed.
    pub fn failing(&self) -> Option<(Outage, String)> {
        self.failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// An injected failure, recorded as a real one would be.
    fn injected(&self) -> StoreError {
        let detail = "injected write failure (test)";
        self.record(&Err::<(), _>(StoreError::Unavailable {
            cause: Outage::DiskFull,
            detail: detail.into(),
        }));
        StoreError::Unavailable {
            cause: Outage::DiskFull,
            detail: detail.into(),
        }
    }

    /// Before a background write that tests do not count (the heartbeat,
    /// which beats on the wall clock): only "every write fails" applies.
    pub(crate) fn begin_uncounted(&self) -> Result<(), StoreError> {
        if self.fail_all.load(Ordering::SeqCst) {
            return Err(self.injected());
        }
        Ok(())
    }

    /// Before a write transaction: an injected failure, if one is due.
    pub(crate) fn begin(&self) -> Result<(), StoreError> {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let nth = self
            .fail_at
            .compare_exchange(n, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if nth || self.fail_all.load(Ordering::SeqCst) {
            return Err(self.injected());
        }
        Ok(())
    }

    /// After a write: remember whether writes work.
    pub(crate) fn record<T>(&self, result: &Result<T, StoreError>) {
        let now = match result {
            Ok(_) => None,
            Err(e) => match e.outage() {
                // A lease moved on: the database works.
                Some(Outage::Moved) => return,
                Some(cause) => Some((cause, e.to_string())),
                // A constraint or a bug: says nothing about the database.
                None => return,
            },
        };
        let mut failing = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        if now.is_some() && failing.is_none() {
            tracing::error!(error = %result.as_ref().err().map(|e| e.to_string()).unwrap_or_default(), "database writes are failing");
        } else if now.is_none() && failing.is_some() {
            tracing::warn!("database writes work again");
        }
        *failing = now;
    }
}

/// Inside a write transaction: the first outage the body met. SQLite
/// rolls a transaction back by itself when the disk is full, so the
/// `ROLLBACK` that follows fails with "no transaction is active" and would
/// hide the cause; this keeps it.
#[derive(Debug, Default)]
pub struct Seen(Mutex<Option<(Outage, String)>>);

impl Seen {
    pub fn keep<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(e) = &r
            && let Some(cause) = e.outage()
        {
            let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
            seen.get_or_insert((cause, e.to_string()));
        }
        r
    }

    /// The transaction's result, its error named by the outage seen.
    pub fn name<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        match r {
            // A lease refusal names itself (and is no outage to record).
            Err(e) if !matches!(e, StoreError::Unavailable { .. } | StoreError::LeaseLost(_)) => {
                let seen = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
                match (seen, e.outage()) {
                    (Some((cause, detail)), _) => Err(StoreError::Unavailable { cause, detail }),
                    (None, Some(cause)) => Err(StoreError::Unavailable {
                        cause,
                        detail: e.to_string(),
                    }),
                    (None, None) => Err(e),
                }
            }
            r => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_backends_wording() {
        let cases = [
            ("database or disk is full", Some(Outage::DiskFull)),
            (
                "could not extend file \"base/1/2\": No space left on device",
                Some(Outage::DiskFull),
            ),
            (
                "attempt to write a readonly database",
                Some(Outage::ReadOnly),
            ),
            (
                "terminating connection due to administrator command",
                Some(Outage::Gone),
            ),
            ("disk I/O error", Some(Outage::Io)),
            ("database is locked", Some(Outage::Busy)),
            ("UNIQUE constraint failed: users.email", None),
        ];
        for (message, want) in cases {
            let e = DieselError::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new(message.to_owned()),
            );
            assert_eq!(classify(&e), want, "{message}");
        }
        let lost = DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand,
            Box::new("broken pipe".to_owned()),
        );
        assert_eq!(classify(&lost), Some(Outage::Gone));
    }

    #[test]
    fn the_nth_write_fails_once_and_a_success_clears_the_record() {
        let w = Writes::default();
        w.fail_nth(2);
        assert!(w.begin().is_ok());
        let e = w.begin().unwrap_err();
        assert_eq!(e.outage(), Some(Outage::DiskFull));
        assert!(w.failing().is_some());
        assert!(w.begin().is_ok());
        w.record(&Ok::<(), StoreError>(()));
        assert!(w.failing().is_none());
        w.fail_all(true);
        assert!(w.begin().is_err() && w.begin().is_err());
        w.fail_all(false);
        assert!(w.begin().is_ok());
    }

    #[test]
    fn a_rollback_error_does_not_hide_the_disk_being_full() {
        let seen = Seen::default();
        let full = StoreError::Query(DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("database or disk is full".to_owned()),
        ));
        let _ = seen.keep::<()>(Err(full));
        let rollback = StoreError::Query(DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("cannot rollback - no transaction is active".to_owned()),
        ));
        let named = seen.name::<()>(Err(rollback)).unwrap_err();
        assert_eq!(named.outage(), Some(Outage::DiskFull));
        assert!(named.to_string().contains("disk full"), "{named}");
    }
}
