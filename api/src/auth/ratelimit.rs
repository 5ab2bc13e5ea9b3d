//! Log-in rate limits: failed attempts per account and all attempts per
//! client IP, each in a sliding window. The limiter takes `now` as an
//! argument; the caller reads the clock.
//!
//! On SQLite (one server) the counts live in this process
//! ([`LoginLimiter`]); on PostgreSQL, which several servers may share,
//! in the database (`store::login_attempts`), so a client spreading its
//! guesses over the servers meets one limit ([`LoginLimits`]).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` events per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: usize,
    pub window: Duration,
}

#[derive(Debug)]
struct Windows {
    limit: Limit,
    hits: HashMap<String, VecDeque<Instant>>,
}

impl Windows {
    fn new(limit: Limit) -> Self {
        Windows {
            limit,
            hits: HashMap::new(),
        }
    }

    fn prune(&mut self, key: &str, now: Instant) -> Option<&mut VecDeque<Instant>> {
        let window = self.limit.window;
        let q = self.hits.get_mut(key)?;
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        Some(q)
    }

    /// `Some(wait)` when `key` is at its limit.
    fn blocked(&mut self, key: &str, now: Instant) -> Option<Duration> {
        let (max, window) = (self.limit.max, self.limit.window);
        let q = self.prune(key, now)?;
        if q.len() >= max {
            let oldest = *q.front()?;
            Some(window.saturating_sub(now.duration_since(oldest)))
        } else {
            None
        }
    }

    fn record(&mut self, key: &str, now: Instant) {
        self.hits.entry(key.to_owned()).or_default().push_back(now);
        // Keep memory bounded: drop keys whose windows are empty.
        if self.hits.len() > 10_000 {
            let window = self.limit.window;
            self.hits
                .retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
    }
}

/// Refused: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

#[derive(Debug)]
pub struct LoginLimiter {
    inner: Mutex<(Windows, Windows)>,
}

impl LoginLimiter {
    pub fn new(per_account_failures: Limit, per_ip_attempts: Limit) -> Self {
        LoginLimiter {
            inner: Mutex::new((
                Windows::new(per_account_failures),
                Windows::new(per_ip_attempts),
            )),
        }
    }

    /// Called before checking the password: counts the attempt against the
    /// IP and refuses when the IP or the account is over its limit.
    pub fn begin(&self, account: &str, ip: &str, now: Instant) -> Result<(), RetryAfter> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (accounts, ips) = &mut *guard;
        if let Some(wait) = ips.blocked(ip, now) {
            return Err(RetryAfter(wait));
        }
        ips.record(ip, now);
        if let Some(wait) = accounts.blocked(account, now) {
            return Err(RetryAfter(wait));
        }
        Ok(())
    }

    /// A wrong password (or unknown account) counts against the account.
    pub fn failed(&self, account: &str, now: Instant) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.record(account, now);
    }

    /// A successful login clears the account's failures.
    pub fn succeeded(&self, account: &str) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.hits.remove(account);
    }
}

/// The log-in limits, kept where every server that could be asked sees
/// them.
pub enum LoginLimits {
    /// SQLite: one server, counting in memory.
    Memory(LoginLimiter),
    /// PostgreSQL: counted in the database.
    Shared {
        db: crate::store::Db,
        account: Limit,
        ip: Limit,
        /// When attempts past every window were last forgotten.
        pruned: Mutex<Option<Instant>>,
    },
}

impl LoginLimits {
    pub fn new(per_account_failures: Limit, per_ip_attempts: Limit, db: &crate::store::Db) -> Self {
        match db {
            crate::store::Db::Pg(_) => LoginLimits::Shared {
                db: db.clone(),
                account: per_account_failures,
                ip: per_ip_attempts,
                pruned: Mutex::new(None),
            },
            crate::store::Db::Sqlite(_) => {
                LoginLimits::Memory(LoginLimiter::new(per_account_failures, per_ip_attempts))
            }
        }
    }

    /// Before the password is checked: the attempt counts against the
    /// client's address, and is refused when the address or the account
    /// is over its limit.
    pub async fn begin(
        &self,
        account: &str,
        ip: &str,
    ) -> Result<Result<(), RetryAfter>, crate::store::StoreError> {
        use crate::store::login_attempts::{self, Check, Kind};
        let (db, account_limit, ip_limit) = match self {
            LoginLimits::Memory(local) => return Ok(local.begin(account, ip, Instant::now())),
            LoginLimits::Shared {
                db,
                account: a,
                ip: i,
                ..
            } => (db, *a, *i),
        };
        self.prune().await;
        let checks = [
            Check {
                kind: Kind::Ip,
                subject: ip,
                max: ip_limit.max,
                window: ip_limit.window,
                count: true,
            },
            Check {
                kind: Kind::Account,
                subject: account,
                max: account_limit.max,
                window: account_limit.window,
                count: false,
            },
        ];
        Ok(match login_attempts::check(db, &checks).await? {
            Some(wait) => Err(RetryAfter(wait)),
            None => Ok(()),
        })
    }

    /// A wrong password (or unknown account) counts against the account.
    pub async fn failed(&self, account: &str) {
        use crate::store::login_attempts::{self, Kind};
        match self {
            LoginLimits::Memory(local) => local.failed(account, Instant::now()),
            LoginLimits::Shared { db, .. } => {
                if let Err(e) = login_attempts::record(db, Kind::Account, account).await {
                    tracing::warn!("counting a failed log-in: {e}");
                }
            }
        }
    }

    /// A successful log-in clears the account's failures.
    pub async fn succeeded(&self, account: &str) {
        use crate::store::login_attempts::{self, Kind};
        match self {
            LoginLimits::Memory(local) => local.succeeded(account),
            LoginLimits::Shared { db, .. } => {
                if let Err(e) = login_attempts::clear(db, Kind::Account, account).await {
                    tracing::warn!("clearing an account's failed log-ins: {e}");
                }
            }
        }
    }

    /// At most once a minute, forget attempts past every window.
    async fn prune(&self) {
        let LoginLimits::Shared {
            db,
            account,
            ip,
            pruned,
        } = self
        else {
            return;
        };
        {
            let mut last = pruned.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < Duration::from_secs(60)) {
                return;
            }
            *last = Some(Instant::now());
        }
        let window = account.window.max(ip.window);
        if let Err(e) = crate::store::login_attempts::prune(db, window).await {
            tracing::warn!("forgetting old log-in attempts: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(
            Limit {
                max: 3,
                window: Duration::from_secs(60),
            },
            Limit {
                max: 5,
                window: Duration::from_secs(10),
            },
        )
    }

    #[test]
    fn account_locks_after_failures_and_unlocks_after_window() {
        let l = limiter();
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(l.begin("a", &format!("ip{i}"), t0).is_ok());
            l.failed("a", t0);
        }
        let err = l
            .begin("a", "ip9", t0 + Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(err, RetryAfter(Duration::from_secs(59)));
        assert!(l.begin("b", "ip8", t0).is_ok(), "other accounts unaffected");
        assert!(l.begin("a", "ip7", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn success_clears_account_failures() {
        let l = limiter();
        let t0 = Instant::now();
        for _ in 0..2 {
            l.failed("a", t0);
        }
        l.succeeded("a");
        l.failed("a", t0);
        l.failed("a", t0);
        assert!(l.begin("a", "x", t0).is_ok());
    }

    #[test]
    fn ip_limit_counts_every_attempt() {
        let l = limiter();
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(l.begin(&format!("acct{i}"), "ip", t0).is_ok());
        }
        assert!(l.begin("acct9", "ip", t0).is_err());
        assert!(l.begin("acct9", "ip", t0 + Duration::from_secs(10)).is_ok());
    }
}
