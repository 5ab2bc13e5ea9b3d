//! Pacers decide how many calls a campaign starts now, and say why in one
//! line for the supervisor's live view. Pure: the engine gathers the facts
//! and acts on the decision.
//!
//! - PREVIEW offers one lead per idle agent; the agent dials or skips.
//! - PROGRESSIVE places one call per idle agent not already covered by a
//!   call in flight: it never has more calls in flight than idle agents.
//! - PREDICTIVE over-dials by the inverse of the recent answer rate, up to
//!   the campaign's max dial ratio, and falls back to progressive when the
//!   abandonment rate (today or over 30 days) reaches the campaign's limit.
//!   The tuned algorithm comes later behind the same trait.

use crate::domain::campaign::DialMode;

/// What the engine knows about a campaign at this moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacerFacts {
    /// Agents ready for a call (AVAILABLE, pinned leg idle) and not
    /// reserved by a preview or a named callback.
    pub idle_agents: u32,
    /// Calls placed and not yet with an agent (dialing, ringing, answered).
    pub calls_in_flight: u32,
    /// Human answers per call placed, recently; `None` before enough calls.
    pub answer_rate: Option<f64>,
    /// Abandoned / live answers today and over the rolling 30 days.
    pub abandon_rate_today: f64,
    pub abandon_rate_30d: f64,
    pub max_abandon_rate: f64,
    pub max_dial_ratio: f64,
}

/// How many calls to start, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PacerDecision {
    pub calls_to_start: u32,
    /// Calls (in flight after this decision) per idle agent.
    pub dial_level: f64,
    pub reason: String,
}

pub trait Pacer: Send + Sync {
    fn decide(&self, facts: &PacerFacts) -> PacerDecision;
}

/// The pacer for a dial mode.
pub fn for_mode(mode: DialMode) -> &'static dyn Pacer {
    match mode {
        DialMode::Preview => &Preview,
        DialMode::Progressive => &Progressive,
        DialMode::Predictive => &Predictive,
    }
}

fn level(in_flight: u32, idle: u32) -> f64 {
    if idle == 0 {
        0.0
    } else {
        f64::from(in_flight) / f64::from(idle)
    }
}

fn agents(n: u32) -> String {
    if n == 1 {
        "1 agent idle".into()
    } else {
        format!("{n} agents idle")
    }
}

pub struct Preview;

impl Pacer for Preview {
    fn decide(&self, f: &PacerFacts) -> PacerDecision {
        let n = f.idle_agents;
        PacerDecision {
            calls_to_start: n,
            dial_level: if n > 0 { 1.0 } else { 0.0 },
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
        let n = f.idle_agents.saturating_sub(f.calls_in_flight);
        let reason = if f.idle_agents == 0 {
            "dialing 0: no agent idle".to_owned()
        } else if n == 0 {
            format!(
                "dialing 0: {} already cover {}",
                calls(f.calls_in_flight),
                agents(f.idle_agents)
            )
        } else {
            format!(
                "dialing {n}: {}, {} in flight",
                agents(f.idle_agents),
                calls(f.calls_in_flight)
            )
        };
        PacerDecision {
            calls_to_start: n,
            dial_level: level(f.calls_in_flight + n, f.idle_agents),
            reason,
        }
    }
}

fn calls(n: u32) -> String {
    if n == 1 {
        "1 call".into()
    } else {
        format!("{n} calls")
    }
}

/// Below this many recent calls the answer rate is not trusted yet.
pub const MIN_CALLS_FOR_RATE: u32 = 20;

pub struct Predictive;

impl Pacer for Predictive {
    fn decide(&self, f: &PacerFacts) -> PacerDecision {
        let worst = f.abandon_rate_today.max(f.abandon_rate_30d);
        if worst >= f.max_abandon_rate {
            let mut d = Progressive.decide(f);
            d.reason = format!(
                "{} (progressive: abandonment {:.1} % reached the {:.1} % limit)",
                d.reason,
                worst * 100.0,
                f.max_abandon_rate * 100.0
            );
            return d;
        }
        let Some(rate) = f.answer_rate.filter(|r| *r > 0.0) else {
            let mut d = Progressive.decide(f);
            d.reason = format!("{} (progressive until the answer rate is known)", d.reason);
            return d;
        };
        // Expected answers from the calls in flight plus new ones should
        // match the idle agents: dial idle / rate, capped by the ratio.
        let ratio = (1.0 / rate).min(f.max_dial_ratio).max(1.0);
        let target = (f64::from(f.idle_agents) * ratio).floor() as u32;
        let n = target.saturating_sub(f.calls_in_flight);
        PacerDecision {
            calls_to_start: n,
            dial_level: level(f.calls_in_flight + n, f.idle_agents),
            reason: format!(
                "dialing {n}: {}, answer rate {:.0} %, level {ratio:.1}, abandonment {:.1} % of {:.1} %",
                agents(f.idle_agents),
                rate * 100.0,
                worst * 100.0,
                f.max_abandon_rate * 100.0
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(idle: u32, in_flight: u32) -> PacerFacts {
        PacerFacts {
            idle_agents: idle,
            calls_in_flight: in_flight,
            answer_rate: Some(0.25),
            abandon_rate_today: 0.0,
            abandon_rate_30d: 0.0,
            max_abandon_rate: 0.03,
            max_dial_ratio: 2.5,
        }
    }

    #[test]
    fn progressive_covers_each_idle_agent_once() {
        let d = Progressive.decide(&facts(4, 1));
        assert_eq!(d.calls_to_start, 3);
        assert_eq!(d.reason, "dialing 3: 4 agents idle, 1 call in flight");
        assert_eq!(Progressive.decide(&facts(2, 2)).calls_to_start, 0);
    }

    #[test]
    fn predictive_over_dials_then_falls_back_at_the_limit() {
        let d = Predictive.decide(&facts(4, 0));
        assert_eq!(d.calls_to_start, 10, "4 × min(1/0.25, 2.5)");
        assert!(d.reason.contains("answer rate 25 %"), "{}", d.reason);
        let mut f = facts(4, 0);
        f.abandon_rate_30d = 0.031;
        let d = Predictive.decide(&f);
        assert_eq!(d.calls_to_start, 4);
        assert!(d.reason.contains("progressive"), "{}", d.reason);
        f.abandon_rate_30d = 0.0;
        f.answer_rate = None;
        assert_eq!(Predictive.decide(&f).calls_to_start, 4);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn progressive_never_exceeds_idle_agents(idle in 0u32..50, in_flight in 0u32..50) {
            let d = Progressive.decide(&facts(idle, in_flight));
            prop_assert!(d.calls_to_start + in_flight <= idle.max(in_flight));
            prop_assert!(!d.reason.is_empty());
        }

        #[test]
        fn predictive_respects_the_dial_ratio(idle in 0u32..50, rate in 0.01f64..1.0, abandon in 0.0f64..0.1) {
            let mut f = facts(idle, 0);
            f.answer_rate = Some(rate);
            f.abandon_rate_today = abandon;
            let d = Predictive.decide(&f);
            prop_assert!(f64::from(d.calls_to_start) <= f64::from(idle) * f.max_dial_ratio + 1e-9);
            if abandon >= f.max_abandon_rate {
                prop_assert!(d.calls_to_start <= idle);
            }
        }
    }
}
