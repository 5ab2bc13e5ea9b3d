//! Time for the engine: the real clock in `serve`, or a manual one that
//! only moves when told (engine tests, the simulator), so a 30-minute
//! campaign runs in milliseconds and the same inputs give the same run.
//! Also the timeline: the engine's one time-ordered queue of things due
//! (media events, its own timers).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

#[derive(Clone)]
pub enum Clock {
    Real,
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    pub fn manual(start: DateTime<Utc>) -> Clock {
        Clock::Manual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::Real => Utc::now(),
            Clock::Manual(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    pub fn is_manual(&self) -> bool {
        matches!(self, Clock::Manual(_))
    }

    /// Move a manual clock to `t` (never backwards); no-op for the real one.
    pub fn set(&self, t: DateTime<Utc>) {
        if let Clock::Manual(m) = self {
            let mut now = m.lock().unwrap_or_else(|p| p.into_inner());
            if t > *now {
                *now = t;
            }
        }
    }
}

/// Items due at given times, popped in time order (and in insertion order
/// for equal times). Cheap to clone: clones share the queue.
pub struct Timeline<T> {
    inner: Arc<TimelineInner<T>>,
}

/// Insertion counter and the items by (due time, insertion order).
type Queue<T> = (u64, BTreeMap<(DateTime<Utc>, u64), T>);

struct TimelineInner<T> {
    queue: Mutex<Queue<T>>,
    notify: Notify,
}

impl<T> Clone for Timeline<T> {
    fn clone(&self) -> Self {
        Timeline {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for Timeline<T> {
    fn default() -> Self {
        Timeline {
            inner: Arc::new(TimelineInner {
                queue: Mutex::new((0, BTreeMap::new())),
                notify: Notify::new(),
            }),
        }
    }
}

impl<T> Timeline<T> {
    pub fn push(&self, at: DateTime<Utc>, item: T) {
        {
            let mut q = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.0 += 1;
            let seq = q.0;
            q.1.insert((at, seq), item);
        }
        self.inner.notify.notify_one();
    }

    /// The earliest due time, if anything is queued.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        let q = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.1.keys().next().map(|(at, _)| *at)
    }

    /// When the earliest item that `wanted` accepts is due.
    pub fn next_due_of(&self, wanted: impl Fn(&T) -> bool) -> Option<DateTime<Utc>> {
        let q = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.1.iter()
            .find(|(_, item)| wanted(item))
            .map(|((at, _), _)| *at)
    }

    /// The earliest item due at or before `now`.
    pub fn pop_due(&self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, T)> {
        let mut q = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
        let key = *q.1.keys().next()?;
        if key.0 > now {
            return None;
        }
        q.1.remove(&key).map(|item| (key.0, item))
    }

    /// Like [`Timeline::pop_due`], but the earliest due item that `urgent`
    /// accepts goes first when several are due (a backlog).
    pub fn pop_due_preferring(
        &self,
        now: DateTime<Utc>,
        urgent: impl Fn(&T) -> bool,
    ) -> Option<(DateTime<Utc>, T)> {
        let mut q = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
        let first = *q.1.keys().next()?;
        if first.0 > now {
            return None;
        }
        let key =
            q.1.range(..=(now, u64::MAX))
                .find(|(_, item)| urgent(item))
                .map(|(k, _)| *k)
                .unwrap_or(first);
        q.1.remove(&key).map(|item| (key.0, item))
    }

    /// The earliest item due at or before `now` that `wanted` accepts,
    /// leaving the others queued.
    pub fn pop_due_only(
        &self,
        now: DateTime<Utc>,
        wanted: impl Fn(&T) -> bool,
    ) -> Option<(DateTime<Utc>, T)> {
        let mut q = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
        let key =
            q.1.range(..=(now, u64::MAX))
                .find(|(_, item)| wanted(item))
                .map(|(k, _)| *k)?;
        q.1.remove(&key).map(|item| (key.0, item))
    }

    pub fn len(&self) -> usize {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Resolves after the next `push`.
    pub async fn pushed(&self) {
        self.inner.notify.notified().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn pops_in_time_then_insertion_order() {
        let t0 = Utc::now();
        let tl = Timeline::default();
        tl.push(t0 + Duration::seconds(2), "late");
        tl.push(t0, "first");
        tl.push(t0, "second");
        assert_eq!(tl.next_due(), Some(t0));
        assert_eq!(tl.pop_due(t0).map(|x| x.1), Some("first"));
        assert_eq!(tl.pop_due(t0).map(|x| x.1), Some("second"));
        assert_eq!(tl.pop_due(t0), None, "not due yet");
        assert_eq!(
            tl.pop_due(t0 + Duration::seconds(5)).map(|x| x.1),
            Some("late")
        );
    }

    #[test]
    fn an_urgent_item_due_jumps_the_backlog_but_not_the_clock() {
        let t0 = Utc::now();
        let tl = Timeline::default();
        tl.push(t0, "a");
        tl.push(t0 + Duration::milliseconds(1), "b");
        tl.push(t0 + Duration::milliseconds(2), "URGENT");
        tl.push(t0 + Duration::seconds(9), "URGENT later");
        let urgent = |s: &&str| s.starts_with("URGENT");
        let now = t0 + Duration::milliseconds(5);
        let order: Vec<&str> =
            std::iter::from_fn(|| tl.pop_due_preferring(now, urgent).map(|x| x.1)).collect();
        assert_eq!(order, ["URGENT", "a", "b"]);
        assert_eq!(tl.len(), 1, "the later one is not due");
    }

    #[test]
    fn a_manual_clock_moves_only_forward() {
        let t0 = Utc::now();
        let c = Clock::manual(t0);
        c.set(t0 + Duration::seconds(3));
        c.set(t0);
        assert_eq!(c.now(), t0 + Duration::seconds(3));
    }
}
