//! Which contact center's engine a media event belongs to. The media
//! provider is one for the process and knows legs only; each center's
//! engine registers the legs it opens ([`Legs::insert`]), and the sink
//! ([`LegRoutes`]) pushes every event onto the timeline of the center
//! whose leg it is. A provider may emit before the call that opened the
//! leg has returned (the simulated carrier schedules a call's ringing
//! from inside `originate`): such an event waits, unrouted, until the leg
//! is registered a moment later. A leg given up stays routed a while, so
//! an event the provider had scheduled still finds its engine, which
//! ignores it as the single engine did.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use super::{Due, LegOf};
use crate::clock::{Clock, Timeline};
use crate::media::{LegId, MediaEvent, MediaSink};

/// How long an event for a leg nobody registered waits, and a given-up
/// leg stays routed.
const LINGER: Duration = Duration::seconds(60);

/// The process's media sink: every event to its center's timeline.
pub(crate) struct LegRoutes {
    clock: Clock,
    inner: Mutex<Routes>,
}

#[derive(Default)]
struct Routes {
    to: HashMap<LegId, Timeline<Due>>,
    /// Events for legs not registered yet: (due, emitted, event).
    waiting: Vec<(DateTime<Utc>, DateTime<Utc>, MediaEvent)>,
    /// Legs given up, oldest first, with when.
    retired: VecDeque<(DateTime<Utc>, LegId)>,
}

impl LegRoutes {
    pub(crate) fn new(clock: Clock) -> Arc<LegRoutes> {
        Arc::new(LegRoutes {
            clock,
            inner: Mutex::default(),
        })
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn register(&self, leg: &LegId, timeline: &Timeline<Due>) {
        let mut r = self.routes();
        r.to.insert(leg.clone(), timeline.clone());
        if r.waiting.iter().any(|(_, _, e)| e.leg() == leg) {
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut r.waiting)
                .into_iter()
                .partition(|(_, _, e)| e.leg() == leg);
            r.waiting = rest;
            for (at, _, event) in mine {
                timeline.push(at, Due::Media(event));
            }
        }
    }

    fn retire(&self, leg: &LegId) {
        let now = self.clock.now();
        let mut r = self.routes();
        r.retired.push_back((now, leg.clone()));
        while let Some((at, _)) = r.retired.front() {
            if now - *at < LINGER {
                break;
            }
            if let Some((_, old)) = r.retired.pop_front() {
                r.to.remove(&old);
            }
        }
    }

    /// Legs routed (registered and lingering), events waiting.
    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        let r = self.routes();
        (r.to.len(), r.waiting.len())
    }
}

impl MediaSink for LegRoutes {
    fn emit(&self, after: std::time::Duration, event: MediaEvent) {
        let now = self.clock.now();
        let at = now + Duration::from_std(after).unwrap_or(Duration::zero());
        let mut r = self.routes();
        match r.to.get(event.leg()) {
            Some(timeline) => timeline.push(at, Due::Media(event)),
            None => {
                r.waiting.retain(|(_, emitted, _)| now - *emitted < LINGER);
                r.waiting.push((at, now, event));
            }
        }
    }
}

/// One center's legs: what each is to its engine, registered with the
/// process's routes as they open and given up as they close.
pub(crate) struct Legs {
    mine: HashMap<LegId, LegOf>,
    routes: Arc<LegRoutes>,
    timeline: Timeline<Due>,
}

impl Legs {
    pub(crate) fn new(routes: Arc<LegRoutes>, timeline: Timeline<Due>) -> Legs {
        Legs {
            mine: HashMap::new(),
            routes,
            timeline,
        }
    }

    pub(crate) fn get(&self, leg: &LegId) -> Option<&LegOf> {
        self.mine.get(leg)
    }

    pub(crate) fn insert(&mut self, leg: LegId, of: LegOf) {
        self.routes.register(&leg, &self.timeline);
        self.mine.insert(leg, of);
    }

    /// Give every leg up.
    pub(crate) fn clear(&mut self) {
        for leg in self.mine.keys() {
            self.routes.retire(leg);
        }
        self.mine.clear();
    }

    pub(crate) fn remove(&mut self, leg: &LegId) -> Option<LegOf> {
        let of = self.mine.remove(leg);
        if of.is_some() {
            self.routes.retire(leg);
        }
        of
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ringing(leg: &str) -> MediaEvent {
        MediaEvent::Ringing { leg: leg.into() }
    }

    fn due_legs(t: &Timeline<Due>, now: DateTime<Utc>) -> Vec<String> {
        let mut out = Vec::new();
        while let Some((_, d)) = t.pop_due(now) {
            if let Due::Media(e) = d {
                out.push(e.leg().clone());
            }
        }
        out
    }

    #[test]
    fn events_reach_the_center_whose_leg_it_is_even_when_emitted_before_it_is_registered() {
        let start = Utc::now();
        let clock = Clock::manual(start);
        let routes = LegRoutes::new(clock.clone());
        let (a, b) = (Timeline::default(), Timeline::default());
        let mut legs_a = Legs::new(routes.clone(), a.clone());
        let mut legs_b = Legs::new(routes.clone(), b.clone());
        legs_a.insert(
            "a1".into(),
            LegOf::Lead {
                call_id: "c".into(),
            },
        );
        routes.emit(std::time::Duration::ZERO, ringing("a1"));
        // Emitted from inside `originate`, before B knows the leg.
        routes.emit(std::time::Duration::from_secs(1), ringing("b1"));
        assert_eq!(routes.counts(), (1, 1));
        legs_b.insert(
            "b1".into(),
            LegOf::Lead {
                call_id: "d".into(),
            },
        );
        assert_eq!(due_legs(&a, start + Duration::seconds(5)), ["a1"]);
        assert_eq!(due_legs(&b, start), Vec::<String>::new(), "due in a second");
        assert_eq!(due_legs(&b, start + Duration::seconds(1)), ["b1"]);

        // A leg given up still routes a while, then is forgotten; an
        // event nobody claims is dropped after as long.
        legs_a.remove(&"a1".into());
        routes.emit(std::time::Duration::ZERO, ringing("a1"));
        assert_eq!(due_legs(&a, start), ["a1"]);
        routes.emit(std::time::Duration::ZERO, ringing("never"));
        clock.set(start + Duration::seconds(61));
        legs_b.remove(&"b1".into());
        assert_eq!(routes.counts(), (1, 1), "a1 forgotten; b1 lingers");
        routes.emit(std::time::Duration::ZERO, ringing("a1"));
        assert_eq!(routes.counts(), (1, 1), "the old orphan dropped, a1's kept");
        assert!(due_legs(&a, clock.now()).is_empty());
    }
}
