//! Pacers decide how many calls a campaign starts now, and say why in one
//! line for the supervisor's live view. Pure: the engine (and the
//! simulator, which runs this same code on virtual time) gathers the facts
//! and acts on the decision.
//!
//! - PREVIEW offers one lead per idle agent; the agent dials or skips.
//! - PROGRESSIVE places one call per idle agent not already covered by a
//!   call in flight: it never has more calls in flight than idle agents.
//! - PREDICTIVE ([`predictive`]) dials ahead of agents who are about to be
//!   free, as far as the chance that a new call's live answer finds no agent
//!   within the 2 seconds stays under a threshold set by the abandonment
//!   budget left in the day and the 30-day window; it falls back to
//!   progressive when the budget is spent. `docs/pacing.md` argues it.

pub mod model;
pub mod predictive;

pub use model::{DialOutcome, History, LogNormal, Model};
pub use predictive::Predictive;

use crate::domain::campaign::DialMode;

/// An agent working the campaign's contact center, as the pacer sees them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AgentNow {
    /// Ready for a call (AVAILABLE, pinned leg idle) and not reserved.
    Idle,
    /// On a call for this many seconds.
    Talking(f64),
    /// In wrap-up for this many seconds.
    WrappingUp(f64),
}

/// A call of the campaign placed and not yet with an agent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CallNow {
    /// Dialing or ringing for this many seconds.
    Ringing(f64),
    /// A person answered this many seconds ago and waits for an agent.
    Waiting(f64),
}

/// Live answers and how many of them were abandoned, over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub answers: i64,
    pub abandoned: i64,
}

impl Tally {
    /// One more live answer, abandoned or not.
    pub fn count(&mut self, abandoned: bool) {
        self.answers += 1;
        self.abandoned += i64::from(abandoned);
    }

    pub fn rate(&self) -> f64 {
        if self.answers <= 0 {
            0.0
        } else {
            self.abandoned as f64 / self.answers as f64
        }
    }
}

/// Live answers over a sliding window (the last 24 hours, the last 30
/// days), kept in buckets of `bucket` so the sums move as time does: an
/// answer leaves the window once its bucket is entirely older than it.
#[derive(Debug, Clone)]
pub struct Rolling {
    window: chrono::Duration,
    bucket: chrono::Duration,
    /// (bucket start, its answers), oldest first.
    buckets: std::collections::VecDeque<(chrono::DateTime<chrono::Utc>, Tally)>,
    sum: Tally,
}

impl Rolling {
    pub fn new(window: chrono::Duration, bucket: chrono::Duration) -> Rolling {
        Rolling {
            window,
            bucket: bucket.max(chrono::Duration::seconds(1)),
            buckets: Default::default(),
            sum: Tally::default(),
        }
    }

    fn bucket_of(&self, at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        let size = self.bucket.num_seconds();
        let secs = at.timestamp();
        chrono::DateTime::from_timestamp(secs - secs.rem_euclid(size), 0).unwrap_or(at)
    }

    /// One live answer at `at`, abandoned or not.
    pub fn count(&mut self, at: chrono::DateTime<chrono::Utc>, abandoned: bool) {
        let start = self.bucket_of(at);
        match self.buckets.iter_mut().rev().find(|(b, _)| *b <= start) {
            Some((b, t)) if *b == start => t.count(abandoned),
            _ => {
                // Usually the newest; an older answer (loaded out of order)
                // goes in its place.
                let mut t = Tally::default();
                t.count(abandoned);
                let i = self.buckets.partition_point(|(b, _)| *b < start);
                self.buckets.insert(i, (start, t));
            }
        }
        self.sum.count(abandoned);
    }

    /// The answers within the window ending at `now`.
    pub fn at(&mut self, now: chrono::DateTime<chrono::Utc>) -> Tally {
        while let Some((start, t)) = self.buckets.front().copied() {
            if start + self.bucket > now - self.window {
                break;
            }
            self.buckets.pop_front();
            self.sum.answers -= t.answers;
            self.sum.abandoned -= t.abandoned;
        }
        self.sum
    }
}

/// What the engine knows about a campaign at this moment.
#[derive(Debug, Clone, Copy)]
pub struct PacerFacts<'a> {
    /// Agents logged in to the campaign's contact center and working
    /// (idle, on a call, in wrap-up); agents on break are left out.
    pub agents: &'a [AgentNow],
    pub calls: &'a [CallNow],
    /// What the campaign's history says about its calls.
    pub model: &'a Model,
    /// Live answers over the last 24 hours (Ofcom: at most 3 % abandoned
    /// per campaign in any 24 hours) and the last 30 days (FTC).
    pub last_24h: Tally,
    pub last_30_days: Tally,
    pub max_abandon_rate: f64,
    /// Most calls in flight per working agent.
    pub max_dial_ratio: f64,
    pub ring_timeout_secs: f64,
    /// A live answer not with an agent within this is abandoned.
    pub connect_within_secs: f64,
}

impl PacerFacts<'_> {
    pub fn idle_agents(&self) -> u32 {
        self.agents
            .iter()
            .filter(|a| matches!(a, AgentNow::Idle))
            .count() as u32
    }

    pub fn calls_in_flight(&self) -> u32 {
        self.calls.len() as u32
    }

    /// Most calls in flight the dial ratio allows.
    pub fn most_in_flight(&self) -> u32 {
        (self.max_dial_ratio.max(1.0) * self.agents.len() as f64 + 1e-9).floor() as u32
    }
}

/// How many calls to start, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PacerDecision {
    pub calls_to_start: u32,
    /// Calls in flight after this decision per working agent.
    pub dial_level: f64,
    pub reason: String,
    /// Calls to end now (indexes into the facts' `calls`).
    pub hang_up: Vec<usize>,
}

pub trait Pacer: Send + Sync {
    fn decide(&self, facts: &PacerFacts) -> PacerDecision;
}

/// The pacer for a dial mode.
pub fn for_mode(mode: DialMode) -> &'static dyn Pacer {
    match mode {
        DialMode::Preview => &Preview,
        DialMode::Progressive => &Progressive,
        DialMode::Predictive => &Predictive::STANDARD,
    }
}

pub(crate) fn level(f: &PacerFacts, starting: u32) -> f64 {
    if f.agents.is_empty() {
        0.0
    } else {
        f64::from(f.calls_in_flight() + starting) / f.agents.len() as f64
    }
}

pub(crate) fn agents(n: u32) -> String {
    if n == 1 {
        "1 agent idle".into()
    } else {
        format!("{n} agents idle")
    }
}

pub struct Preview;

impl Pacer for Preview {
    fn decide(&self, f: &PacerFacts) -> PacerDecision {
        let n = f.idle_agents();
        PacerDecision {
            calls_to_start: n,
            dial_level: level(f, n),
            hang_up: Vec::new(),
            reason: if n == 0 {
                "offering nothing: no agent idle".into()
            } else {
                format!("offering {n} preview(s): {}", agents(n))
            },
        }
    }
}

pub struct Progressive;

impl Pacer for Progressive {
    fn decide(&self, f: &PacerFacts) -> PacerDecision {
        let idle = f.idle_agents();
        let in_flight = f.calls_in_flight();
        let n = idle.saturating_sub(in_flight);
        let reason = if idle == 0 {
            "dialing 0: no agent idle".to_owned()
        } else if n == 0 {
            format!(
                "dialing 0: {} already cover {}",
                calls(in_flight),
                agents(idle)
            )
        } else {
            format!(
                "dialing {n}: {}, {} in flight",
                agents(idle),
                calls(in_flight)
            )
        };
        PacerDecision {
            calls_to_start: n,
            dial_level: level(f, n),
            reason,
            hang_up: Vec::new(),
        }
    }
}

pub(crate) fn calls(n: u32) -> String {
    if n == 1 {
        "1 call".into()
    } else {
        format!("{n} calls")
    }
}

/// Below this many resolved dials the answer rate is not trusted yet.
pub const MIN_CALLS_FOR_RATE: u32 = 20;
#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn abandonment_windows_roll() {
        use chrono::{Duration, TimeZone, Utc};
        let t0 = Utc
            .with_ymd_and_hms(2026, 6, 10, 22, 30, 0)
            .single()
            .expect("t");
        let mut day = Rolling::new(Duration::hours(24), Duration::minutes(1));
        let mut month = Rolling::new(Duration::days(30), Duration::hours(1));
        // Two abandoned before midnight, one answered after: all three in
        // the 24 hours that follow, whatever the calendar says.
        for (at, abandoned) in [
            (t0, true),
            (t0 + Duration::minutes(20), true),
            (t0 + Duration::hours(3), false),
        ] {
            day.count(at, abandoned);
            month.count(at, abandoned);
        }
        let night = t0 + Duration::hours(4);
        assert_eq!(
            day.at(night),
            Tally {
                answers: 3,
                abandoned: 2
            }
        );
        // 24 h after the first, it leaves; 24 h after the second, that too.
        assert_eq!(
            day.at(t0 + Duration::hours(24) + Duration::minutes(1))
                .abandoned,
            1
        );
        assert_eq!(
            day.at(t0 + Duration::hours(25)),
            Tally {
                answers: 1,
                abandoned: 0
            }
        );
        // The 30-day window drops what is older than 30 days (it used to
        // keep counting since the campaign was first seen).
        assert_eq!(month.at(t0 + Duration::days(29)).answers, 3);
        assert_eq!(
            month.at(t0 + Duration::days(30) + Duration::hours(4)),
            Tally::default()
        );
        // An older answer loaded late goes in its place and leaves in time.
        let mut late = Rolling::new(Duration::hours(24), Duration::minutes(1));
        late.count(t0 + Duration::hours(2), false);
        late.count(t0, true);
        assert_eq!(
            late.at(t0 + Duration::hours(24) + Duration::minutes(1)),
            Tally {
                answers: 1,
                abandoned: 0
            }
        );
    }

    /// A model learned from 200 dials: a quarter answered by a person.
    pub(crate) fn model() -> Model {
        model_with_rings(&[12.0])
    }

    /// [`model`] with people answering after these ring times in turn.
    fn model_with_rings(rings: &[f64]) -> Model {
        let mut h = History::default();
        for i in 0..200 {
            h.dial(match i % 20 {
                0..5 => DialOutcome::Human(rings[i % rings.len()]),
                5..7 => DialOutcome::Machine(10.0),
                7..9 => DialOutcome::Failed(3.0),
                _ => DialOutcome::NoAnswer,
            });
        }
        for s in [40.0, 70.0, 120.0, 200.0, 330.0].iter().cycle().take(100) {
            h.talk(*s);
            h.wrap(15.0);
        }
        h.model()
    }

    fn facts<'a>(agents: &'a [AgentNow], calls: &'a [CallNow], m: &'a Model) -> PacerFacts<'a> {
        PacerFacts {
            agents,
            calls,
            model: m,
            last_24h: Tally::default(),
            last_30_days: Tally::default(),
            max_abandon_rate: 0.03,
            max_dial_ratio: 2.5,
            ring_timeout_secs: 25.0,
            connect_within_secs: 2.0,
        }
    }

    #[test]
    fn progressive_covers_each_idle_agent_once() {
        let m = model();
        let agents = [AgentNow::Idle; 4];
        let d = Progressive.decide(&facts(&agents, &[CallNow::Ringing(1.0)], &m));
        assert_eq!(d.calls_to_start, 3);
        assert_eq!(d.reason, "dialing 3: 4 agents idle, 1 call in flight");
        let two = [AgentNow::Idle; 2];
        let d = Progressive.decide(&facts(&two, &[CallNow::Ringing(1.0); 2], &m));
        assert_eq!(d.calls_to_start, 0);
    }

    #[test]
    fn predictive_dials_ahead_and_falls_back_at_the_limit() {
        let m = model();
        let agents = [AgentNow::Idle; 4];
        let d = Predictive::STANDARD.decide(&facts(&agents, &[], &m));
        assert!(d.calls_to_start > 4, "{d:?}");
        assert!(d.calls_to_start <= 10, "2.5 × 4 agents: {d:?}");
        assert!(d.reason.contains("answers 25 %"), "{}", d.reason);
        // Agents in wrap-up, free within seconds: dial ahead of them.
        let busy = [AgentNow::WrappingUp(8.0); 10];
        let d = Predictive::STANDARD.decide(&facts(&busy, &[], &m));
        assert!(d.calls_to_start > 0, "{d:?}");
        // Just connected calls free no one in the next seconds.
        let fresh = [AgentNow::Talking(1.0); 3];
        let d = Predictive::STANDARD.decide(&facts(&fresh, &[], &m));
        assert_eq!(d.calls_to_start, 0, "{d:?}");

        let mut f = facts(&agents, &[], &m);
        f.last_30_days = Tally {
            answers: 1000,
            abandoned: 31,
        };
        let d = Predictive::STANDARD.decide(&f);
        assert_eq!(d.calls_to_start, 4);
        assert!(
            d.reason
                .contains("progressive: abandonment 3.1 % over 30 days"),
            "{}",
            d.reason
        );
        let mut unknown = History::default();
        unknown.dial(DialOutcome::Human(5.0));
        let u = unknown.model();
        let d = Predictive::STANDARD.decide(&facts(&agents, &[], &u));
        assert_eq!(d.calls_to_start, 4);
        assert!(
            d.reason.contains("learning the answer rate, 1 of 20"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn predictive_keeps_dialing_past_calls_ringing_out_at_the_start() {
        // A campaign's first minute with a 120-s ring timeout: answers
        // (after ~2 s) and busy signals are back, the 150 calls ringing
        // 40 s are unanswered ones — not people about to take all 100
        // agents.
        let mut h = History::default();
        for i in 0..40 {
            h.dial(if i % 4 == 0 {
                DialOutcome::Human(2.0)
            } else {
                DialOutcome::Failed(1.0)
            });
        }
        let m = h.model();
        let agents = [AgentNow::Idle; 100];
        let calls = [CallNow::Ringing(40.0); 150];
        let mut f = facts(&agents, &calls, &m);
        f.ring_timeout_secs = 120.0;
        let d = Predictive::STANDARD.decide(&f);
        assert!(d.calls_to_start >= 50, "{d:?}");
        assert!(d.calls_to_start <= 100, "cap 250 in flight: {d:?}");
    }

    #[test]
    fn predictive_spends_as_the_budget_allows() {
        let m = model();
        let agents: Vec<AgentNow> = (0..20)
            .map(|i| AgentNow::WrappingUp(f64::from(i) * 0.7))
            .collect();
        // A ratio the decisions stay under.
        let mut f = facts(&agents, &[], &m);
        f.max_dial_ratio = 5.0;
        let roomy = Predictive::STANDARD.decide(&f);
        // After 2,000 answers with 20 abandoned (1 %, well under the
        // 2.55 % target) the unspent budget raises the threshold (an
        // integral controller)…
        f.last_24h = Tally {
            answers: 2000,
            abandoned: 20,
        };
        f.last_30_days = f.last_24h;
        let unspent = Predictive::STANDARD.decide(&f);
        assert!(
            unspent.calls_to_start > roomy.calls_to_start,
            "{unspent:?} vs {roomy:?}"
        );
        f.last_30_days = Tally::default();
        // …and 2.8 % of 1000 answers abandoned: little room under 90 % of 3 %.
        f.last_24h = Tally {
            answers: 1000,
            abandoned: 28,
        };
        let tight = Predictive::STANDARD.decide(&f);
        assert!(
            tight.calls_to_start < roomy.calls_to_start,
            "{tight:?} vs {roomy:?}"
        );
        f.last_24h.abandoned = 30;
        let spent = Predictive::STANDARD.decide(&f);
        assert_eq!(
            spent.calls_to_start, 0,
            "no one idle: progressive dials none"
        );
        assert!(
            spent
                .reason
                .contains("progressive: abandonment 3.0 % over 24 hours"),
            "{}",
            spent.reason
        );
    }

    /// Like [`model`], with answers spread over 4–22 s of ringing, so a
    /// call that has rung 16 s may still be answered.
    fn spread_model() -> Model {
        model_with_rings(&[4.0, 7.0, 9.0, 12.0, 14.0, 17.0, 19.0, 22.0])
    }

    #[test]
    fn predictive_ends_calls_rung_past_15_s_only_when_answers_outrun_agents() {
        let m = spread_model();
        // Every agent just connected: no one is free for a minute, and 40
        // calls ring, 20 of them for 16 s.
        let busy = [AgentNow::Talking(2.0); 10];
        let mut calls = vec![CallNow::Ringing(16.0); 20];
        calls.extend([CallNow::Ringing(5.0); 20]);
        let d = Predictive::STANDARD.decide(&facts(&busy, &calls, &m));
        assert!(!d.hang_up.is_empty(), "{d:?}");
        assert!(
            d.hang_up.iter().all(|j| *j < 20),
            "only the 16-s calls: {d:?}"
        );
        assert!(d.reason.contains("rung past 15 s"), "{}", d.reason);
        // The same calls ringing 14 s: not yet, whatever the risk.
        let young = vec![CallNow::Ringing(14.0); 40];
        let d = Predictive::STANDARD.decide(&facts(&busy, &young, &m));
        assert!(d.hang_up.is_empty(), "{d:?}");
        // Plenty of idle agents: every answer has one, nothing is ended.
        let idle = [AgentNow::Idle; 60];
        let d = Predictive::STANDARD.decide(&facts(&idle, &calls, &m));
        assert!(d.hang_up.is_empty(), "{d:?}");
        // Turned off, or a ring timeout the 15 s would not leave room in.
        let off = Predictive {
            hang_up_factor: 0.0,
            ..Predictive::STANDARD
        };
        assert!(off.decide(&facts(&busy, &calls, &m)).hang_up.is_empty());
        let eager = Predictive {
            min_ring_secs: 3.0,
            ..Predictive::STANDARD
        };
        let d = eager.decide(&facts(&busy, &calls, &m));
        assert!(d.hang_up.iter().all(|j| *j < 20), "15 s is a floor: {d:?}");
        // Progressive and preview never end a call.
        assert!(
            Progressive
                .decide(&facts(&busy, &calls, &m))
                .hang_up
                .is_empty()
        );
    }

    #[test]
    fn an_ended_call_counts_as_what_it_likely_was() {
        let base = || {
            let mut h = History::default();
            for i in 0..100 {
                h.dial(match i % 4 {
                    0 => DialOutcome::Human(10.0),
                    _ => DialOutcome::NoAnswer,
                });
            }
            h
        };
        let share = |o: DialOutcome| {
            let mut h = base();
            for _ in 0..100 {
                h.dial(o);
            }
            h.model().p_human
        };
        let rang_out = share(DialOutcome::NoAnswer);
        let late = share(DialOutcome::Ended(20.0));
        let early = share(DialOutcome::Ended(2.0));
        assert!((rang_out - 0.125).abs() < 1e-9, "{rang_out}");
        // Ended after 20 s: almost surely unanswered, a little above.
        assert!(late > rang_out && late < 0.15, "{late}");
        // Ended after 2 s: could well have been a person.
        assert!(early > 0.2, "{early}");
        let m = base().model();
        assert!((m.p_human + m.p_no_answer - 1.0).abs() < 1e-9);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn progressive_never_exceeds_idle_agents(idle in 0usize..50, in_flight in 0usize..50) {
            let m = model();
            let agents = vec![AgentNow::Idle; idle];
            let calls = vec![CallNow::Ringing(3.0); in_flight];
            let d = Progressive.decide(&facts(&agents, &calls, &m));
            prop_assert!(d.calls_to_start as usize + in_flight <= idle.max(in_flight));
            prop_assert!(!d.reason.is_empty());
        }

        #[test]
        fn predictive_respects_the_dial_ratio(
            idle in 0usize..30,
            talking in prop::collection::vec(0.0f64..600.0, 0..60),
            ringing in prop::collection::vec(0.0f64..25.0, 0..80),
            ratio in 1.0f64..5.0,
            abandoned in 0i64..60,
        ) {
            let m = model();
            let mut agents = vec![AgentNow::Idle; idle];
            agents.extend(talking.iter().map(|s| AgentNow::Talking(*s)));
            let calls: Vec<CallNow> = ringing.iter().map(|r| CallNow::Ringing(*r)).collect();
            let mut f = facts(&agents, &calls, &m);
            f.max_dial_ratio = ratio;
            f.last_24h = Tally { answers: 1000, abandoned };
            let d = Predictive::STANDARD.decide(&f);
            let most = (ratio * agents.len() as f64).floor() as usize;
            let after = d.calls_to_start as usize + calls.len() - d.hang_up.len();
            prop_assert!(after <= most.max(calls.len()));
            // Only calls ringing, each once, none sooner than 15 s.
            let mut ended = d.hang_up.clone();
            ended.sort_unstable();
            ended.dedup();
            prop_assert_eq!(ended.len(), d.hang_up.len());
            for j in &d.hang_up {
                prop_assert!(matches!(calls[*j], CallNow::Ringing(r) if r >= 15.0), "{:?}", calls[*j]);
            }
            if abandoned >= 30 {
                prop_assert!(d.calls_to_start as usize <= idle.saturating_sub(calls.len()));
            }
            prop_assert!(!d.reason.is_empty());
        }
    }
}
