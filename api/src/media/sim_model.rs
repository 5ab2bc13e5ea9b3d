//! The simulated carrier's model: how a dialed call turns out (human,
//! machine, no answer, busy, failed), how long it rings and how long the
//! conversation lasts — drawn from a seeded, configurable distribution, or
//! forced per lead with custom properties (`sim.outcome = busy`,
//! `sim.ring_seconds = 3`, `sim.talk_seconds = 30`) for demos and tests.
//! Pure: the same seed and inputs give the same plan.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How a call to a lead ends up before any agent is involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimOutcome {
    Human,
    Machine,
    NoAnswer,
    Busy,
    Failed,
}

impl SimOutcome {
    pub fn parse(s: &str) -> Option<SimOutcome> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "human" | "answer" | "answered" => Some(SimOutcome::Human),
            "machine" | "voicemail" => Some(SimOutcome::Machine),
            "no_answer" | "noanswer" => Some(SimOutcome::NoAnswer),
            "busy" => Some(SimOutcome::Busy),
            "failed" | "fail" => Some(SimOutcome::Failed),
            _ => None,
        }
    }
}

/// The distribution calls are drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Shares of each outcome (normalized; need not sum to 1).
    pub human: f64,
    pub machine: f64,
    pub no_answer: f64,
    pub busy: f64,
    pub failed: f64,
    /// Seconds until a person or machine answers: uniform in this range.
    pub answer_after_secs: (f64, f64),
    /// Seconds until a busy or failed signal.
    pub reject_after_secs: (f64, f64),
    /// Conversation length, log-normal with this median and spread.
    pub talk_median_secs: f64,
    pub talk_sigma: f64,
}

impl Default for SimConfig {
    /// Roughly a consumer outbound list: 25 % people, 15 % machines.
    fn default() -> Self {
        SimConfig {
            human: 0.25,
            machine: 0.15,
            no_answer: 0.45,
            busy: 0.10,
            failed: 0.05,
            answer_after_secs: (3.0, 18.0),
            reject_after_secs: (1.0, 4.0),
            talk_median_secs: 90.0,
            talk_sigma: 0.6,
        }
    }
}

impl SimConfig {
    /// The demo's carrier: people answer more often and sooner than on a
    /// real list, and talk briefly, so someone trying Pinline gets a call
    /// within seconds of going Available and sees several in a minute.
    pub fn demo() -> Self {
        SimConfig {
            // Few calls that ring out: a newcomer's first dial is rarely
            // one that keeps them waiting for the whole ring timeout.
            human: 0.85,
            machine: 0.05,
            no_answer: 0.03,
            busy: 0.05,
            failed: 0.02,
            answer_after_secs: (2.0, 5.0),
            reject_after_secs: (1.0, 3.0),
            talk_median_secs: 40.0,
            talk_sigma: 0.5,
        }
    }
}

/// What will happen when this call is placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallPlan {
    pub outcome: SimOutcome,
    /// Seconds from dialing to the answer or the signal; for NO_ANSWER, the
    /// call rings until the ring timeout.
    pub after_secs: f64,
    /// For a human answer: how long the lead would talk.
    pub talk_secs: f64,
}

/// Plan one call: `seed` and `call_index` make it repeatable; `props` are
/// the lead's custom properties (forcing keys win); `ring_timeout_secs`
/// bounds the ring.
pub fn plan(
    config: &SimConfig,
    seed: u64,
    call_index: u64,
    props: &[(String, String)],
    ring_timeout_secs: f64,
) -> CallPlan {
    let mut rng = StdRng::seed_from_u64(seed ^ call_index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let forced = |key: &str| {
        props
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
    };
    let number = |key: &str| {
        forced(key)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    let outcome = forced("sim.outcome")
        .and_then(SimOutcome::parse)
        .unwrap_or_else(|| draw_outcome(config, &mut rng));
    let uniform = |rng: &mut StdRng, (lo, hi): (f64, f64)| {
        if hi > lo {
            rng.random_range(lo..hi)
        } else {
            lo
        }
    };
    let after = match outcome {
        SimOutcome::Human | SimOutcome::Machine => number("sim.ring_seconds")
            .unwrap_or_else(|| uniform(&mut rng, config.answer_after_secs))
            .min(ring_timeout_secs),
        SimOutcome::NoAnswer => ring_timeout_secs,
        SimOutcome::Busy | SimOutcome::Failed => number("sim.ring_seconds")
            .unwrap_or_else(|| uniform(&mut rng, config.reject_after_secs)),
    };
    let talk = number("sim.talk_seconds").unwrap_or_else(|| {
        // Box–Muller for a standard normal, then log-normal.
        let (u1, u2): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        config.talk_median_secs * (config.talk_sigma * z).exp()
    });
    CallPlan {
        outcome,
        after_secs: after,
        talk_secs: if outcome == SimOutcome::Human {
            talk
        } else {
            0.0
        },
    }
}

fn draw_outcome(c: &SimConfig, rng: &mut StdRng) -> SimOutcome {
    let weights = [
        (SimOutcome::Human, c.human),
        (SimOutcome::Machine, c.machine),
        (SimOutcome::NoAnswer, c.no_answer),
        (SimOutcome::Busy, c.busy),
        (SimOutcome::Failed, c.failed),
    ];
    let total: f64 = weights.iter().map(|(_, w)| w.max(0.0)).sum();
    if total <= 0.0 {
        return SimOutcome::NoAnswer;
    }
    let mut x = rng.random_range(0.0..total);
    for (outcome, w) in weights {
        let w = w.max(0.0);
        if x < w {
            return outcome;
        }
        x -= w;
    }
    SimOutcome::NoAnswer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_plan() {
        let c = SimConfig::default();
        let a = plan(&c, 7, 42, &[], 25.0);
        assert_eq!(a, plan(&c, 7, 42, &[], 25.0));
        let differs = (0..50).any(|i| plan(&c, 7, i, &[], 25.0) != a);
        assert!(differs);
    }

    #[test]
    fn lead_properties_force_the_outcome() {
        let c = SimConfig::default();
        let props = vec![
            ("Plan".to_owned(), "Gold".to_owned()),
            ("sim.outcome".to_owned(), "Busy".to_owned()),
            ("sim.ring_seconds".to_owned(), "2".to_owned()),
        ];
        for i in 0..20 {
            let p = plan(&c, 1, i, &props, 25.0);
            assert_eq!(
                (p.outcome, p.after_secs, p.talk_secs),
                (SimOutcome::Busy, 2.0, 0.0)
            );
        }
        let human = vec![
            ("sim.outcome".to_owned(), "human".to_owned()),
            ("sim.talk_seconds".to_owned(), "30".to_owned()),
        ];
        let p = plan(&c, 1, 0, &human, 25.0);
        assert_eq!((p.outcome, p.talk_secs), (SimOutcome::Human, 30.0));
        assert!(p.after_secs <= 25.0);
        // Nonsense values fall back to the model.
        let junk = vec![
            ("sim.outcome".to_owned(), "maybe".to_owned()),
            ("sim.talk_seconds".to_owned(), "-3".to_owned()),
        ];
        let p = plan(&c, 1, 0, &junk, 25.0);
        assert!(p.talk_secs >= 0.0);
    }

    #[test]
    fn outcomes_follow_the_shares() {
        let c = SimConfig::default();
        let n = 20_000;
        let humans = (0..n)
            .filter(|i| plan(&c, 99, *i, &[], 25.0).outcome == SimOutcome::Human)
            .count();
        let share = humans as f64 / n as f64;
        assert!((share - 0.25).abs() < 0.02, "human share {share}");
        let no_answer = plan(
            &SimConfig {
                human: 0.0,
                machine: 0.0,
                no_answer: 1.0,
                busy: 0.0,
                failed: 0.0,
                ..c
            },
            1,
            1,
            &[],
            25.0,
        );
        assert_eq!(
            (no_answer.outcome, no_answer.after_secs),
            (SimOutcome::NoAnswer, 25.0),
            "rings out the full timeout"
        );
    }
}
