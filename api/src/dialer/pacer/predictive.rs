//! The predictive pacer: dial ahead of agents about to be free, call by
//! call, while the chance that the next call's live answer finds no agent
//! within the connect deadline stays under a threshold; the threshold
//! follows the abandonment budget left (over the last 24 hours and 30 days) and drops to
//! progressive dialing when the budget is spent.
//!
//! For a new call answered at time T (a few points of the learned ring-time
//! distribution) it is abandoned when fewer agents are free by T plus the
//! deadline than live answers arrived before it. Agents free by then are a
//! sum of independent chances (idle now, talking for τ seconds — the learned
//! talk-time distribution conditioned on τ — or in wrap-up); earlier answers
//! likewise (each ringing call, conditioned on how long it has rung, and the
//! other calls started in the same decision). Both sums are taken as normal
//! (mean and variance), which makes a decision a few thousand arithmetic
//! steps even with a hundred agents. `docs/pacing.md` argues the design.

use super::{
    AgentNow, CallNow, MIN_CALLS_FOR_RATE, Pacer, PacerDecision, PacerFacts, Progressive, agents,
    calls, level,
};
use crate::dialer::pacer::Model;
use crate::dialer::pacer::model::normal_cdf;

/// Points of the standard normal at the middle of eight equal-probability
/// slices: the answer times a new call is evaluated at.
const Z: [f64; 8] = [
    -1.534_12, -0.887_15, -0.488_776, -0.157_311, 0.157_311, 0.488_776, 0.887_15, 1.534_12,
];

/// The predictive pacer's tuning. [`Predictive::STANDARD`] is what
/// campaigns use; the simulator can try others.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Predictive {
    /// Aim at this share of the campaign's limit, keeping the rest as a
    /// margin for chance.
    pub target_share: f64,
    /// The most a new call's abandonment chance may be (with a full budget).
    pub max_risk: f64,
    /// Budget left at which the full `max_risk` applies, in horizons' worth
    /// of the abandonments the target allows (so the same for 5 agents as
    /// for 100); below it the allowed risk shrinks in proportion. The
    /// budget grows by what the answers so far left unspent, so this works
    /// as an integral controller: risk per horizon of unspent budget is
    /// `max_risk / budget_for_full_risk`.
    pub budget_for_full_risk: f64,
    /// How far ahead the budget counts the answers still to come.
    pub horizon_secs: f64,
    /// The part of the connect deadline the pacer relies on.
    pub deadline_share: f64,
    /// How much of the estimate of later decisions' shorter-ringing calls
    /// (answered before this one) to count.
    pub future_share: f64,
    /// End calls that have rung at least this long (15 s: not sooner)…
    pub min_ring_secs: f64,
    /// …when their answer's abandonment chance is over this many times the
    /// risk threshold (0: never).
    pub hang_up_factor: f64,
}

impl Predictive {
    pub const STANDARD: Predictive = Predictive {
        target_share: 0.9,
        max_risk: 0.1,
        budget_for_full_risk: 5.0,
        horizon_secs: 600.0,
        deadline_share: 0.75,
        future_share: 1.0,
        min_ring_secs: 15.0,
        hang_up_factor: 1.5,
    };
}

impl Default for Predictive {
    fn default() -> Self {
        Predictive::STANDARD
    }
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

impl Predictive {
    fn fallback(f: &PacerFacts, why: String) -> PacerDecision {
        let mut d = Progressive.decide(f);
        d.reason = format!("{} (progressive: {why})", d.reason);
        d
    }

    /// Abandonments the pacer may still spend, counting the answers the
    /// next `horizon_secs` should bring, and the budget at which the full
    /// `max_risk` applies; an error (why) when a window is at or over the
    /// limit already or nothing is left.
    fn budget(&self, f: &PacerFacts) -> Result<(f64, f64), String> {
        let m = f.model;
        let handle = (m.talk.mean() + m.wrap.mean()).max(1.0);
        let coming = f.agents.len() as f64 * self.horizon_secs / handle;
        let target = self.target_share * f.max_abandon_rate;
        let mut slack = f64::INFINITY;
        for (name, t) in [
            ("over 24 hours", f.last_24h),
            ("over 30 days", f.last_30_days),
        ] {
            // A rate over so few answers that the next horizon's outweigh
            // them is left to the budget below: at a day's start one or two
            // abandonments put it over the limit, and falling back to
            // progressive then cost S4 a fifth of its first hour.
            if t.abandoned > 0 && t.rate() >= f.max_abandon_rate && t.answers as f64 >= coming {
                return Err(format!(
                    "abandonment {} {name} reached the {} limit",
                    pct(t.rate()),
                    pct(f.max_abandon_rate)
                ));
            }
            let s = target * (t.answers as f64 + coming) - t.abandoned as f64;
            slack = slack.min(s);
        }
        if slack <= 0.0 {
            return Err(format!(
                "no abandonment budget left under {} of the limit",
                pct(target)
            ));
        }
        Ok((slack, self.budget_for_full_risk * target * coming))
    }
}

/// Seconds from now at which calls already ringing are checked.
const SOON: [f64; 5] = [1.0, 3.0, 5.0, 7.0, 9.0];

/// Adds one agent's chance of being free, or one call's of being answered,
/// by each of the [`SOON`] times (mean and variance).
fn add_soon(sum: &mut [(f64, f64); SOON.len()], row: [f64; SOON.len()]) {
    for (s, q) in sum.iter_mut().zip(row) {
        s.0 += q;
        s.1 += q * (1.0 - q);
    }
}

/// No call is ended unanswered sooner than this (US telemarketing rules:
/// 15 seconds or four rings), whatever the tuning says.
pub const MIN_RING_BEFORE_HANG_UP: f64 = 15.0;

impl Predictive {
    /// Whether this pacer may end `c` now: it is ringing, has rung at least
    /// `min_ring_secs` (never under 15 s) and has not reached the timeout.
    fn may_end(&self, c: &CallNow, ring_timeout_secs: f64) -> bool {
        let min_ring = self.min_ring_secs.max(MIN_RING_BEFORE_HANG_UP);
        self.hang_up_factor > 0.0
            && matches!(*c, CallNow::Ringing(r) if r >= min_ring && r < ring_timeout_secs)
    }

    /// Calls that have rung at least `min_ring_secs` (never under 15 s)
    /// whose live answer, if it came now, would more likely than
    /// `hang_up_factor` × `risk` find no agent within the deadline: the
    /// riskiest first, each one ended lowering the others' risk. A call
    /// that has rung that long is mostly going to ring out (S1: 1 in 11 is
    /// a person still to answer), so ending it costs little, and new calls
    /// placed at the threshold are the better bet.
    fn calls_to_end(
        &self,
        f: &PacerFacts,
        m: &Model,
        risk: f64,
        free: &[(f64, f64); SOON.len()],
    ) -> Vec<usize> {
        let mut out = Vec::new();
        let timeout = f.ring_timeout_secs;
        let old = |c: &CallNow| self.may_end(c, timeout);
        // Answers before each check time (agents free by it plus the grace
        // are `free`, summed in the decision's loop over agents).
        let mut before = [(0.0, 0.0); SOON.len()];
        let mut rows: Vec<(usize, f64, [f64; SOON.len()])> = Vec::new();
        for (j, c) in f.calls.iter().enumerate() {
            match *c {
                CallNow::Waiting(_) => add_soon(&mut before, [1.0; SOON.len()]),
                CallNow::Ringing(r) => {
                    let row = SOON.map(m.human_after(r, timeout));
                    add_soon(&mut before, row);
                    if old(c) {
                        rows.push((j, r, row));
                    }
                }
            }
        }
        // A ringing call's chance of being abandoned if a person answers
        // it: over the check times it could be answered at, weighted by
        // the chance it is answered then.
        let risk_of = |r: f64, row: &[f64; SOON.len()], before: &[(f64, f64); SOON.len()]| {
            let (mut num, mut den, mut prev) = (0.0, 0.0, 0.0);
            for k in 0..SOON.len() {
                if r + SOON[k] - 1.0 >= timeout {
                    break;
                }
                let w = (row[k] - prev).max(0.0);
                prev = row[k];
                let mean = free[k].0 - (before[k].0 - row[k]);
                let var = (free[k].1 + before[k].1).max(0.09);
                num += w * normal_cdf((0.5 - mean) / var.sqrt());
                den += w;
            }
            if den > 1e-12 { num / den } else { 0.0 }
        };
        let limit = self.hang_up_factor * risk;
        let mut ranked: Vec<(usize, f64, [f64; SOON.len()], f64)> = rows
            .into_iter()
            .map(|(j, r, row)| (j, r, row, risk_of(r, &row, &before)))
            .collect();
        ranked.sort_by(|a, b| b.3.total_cmp(&a.3));
        for (j, r, row, _) in ranked {
            if risk_of(r, &row, &before) <= limit {
                continue;
            }
            for (b, q) in before.iter_mut().zip(row) {
                b.0 -= q;
                b.1 -= q * (1.0 - q);
            }
            out.push(j);
        }
        out
    }
}

/// Per answer-time point: agents free by its deadline and live answers
/// before it, as mean and variance.
#[derive(Debug, Clone, Copy, Default)]
struct Point {
    /// Share of answered calls answered by then.
    g: f64,
    free: f64,
    free_var: f64,
    before: f64,
    before_var: f64,
}

/// Adds one agent's chance of being free (`free`) or one call's of being
/// answered before, at every point.
fn add(pts: &mut [Point; Z.len()], free: bool, q: impl Fn(usize) -> f64) {
    for (i, p) in pts.iter_mut().enumerate() {
        let q = q(i);
        if free {
            p.free += q;
            p.free_var += q * (1.0 - q);
        } else {
            p.before += q;
            p.before_var += q * (1.0 - q);
        }
    }
}

impl Pacer for Predictive {
    fn decide(&self, f: &PacerFacts) -> PacerDecision {
        self.decide_noting_risks(f, None)
    }
}

impl Predictive {
    /// [`Pacer::decide`], also leaving in `risks` (when given) each call's
    /// predicted chance of being abandoned if a person answers it (the
    /// k-th call started at `risks[k - 1]`; empty when the decision is
    /// progressive). The simulator checks these against what happens; the
    /// engine does not ask, so it does not pay for the calls it dials for
    /// idle agents.
    pub fn decide_noting_risks(
        &self,
        f: &PacerFacts,
        mut risks: Option<&mut Vec<f64>>,
    ) -> PacerDecision {
        if let Some(r) = risks.as_deref_mut() {
            r.clear();
        }
        let working = f.agents.len() as u32;
        if working == 0 {
            return PacerDecision {
                calls_to_start: 0,
                dial_level: 0.0,
                reason: "dialing 0: no agent working".into(),
                hang_up: Vec::new(),
            };
        }
        if f.model.dials < MIN_CALLS_FOR_RATE || f.model.p_human <= 0.0 {
            return Self::fallback(
                f,
                format!(
                    "learning the answer rate, {} of {MIN_CALLS_FOR_RATE} calls",
                    f.model.dials.min(MIN_CALLS_FOR_RATE)
                ),
            );
        }
        let (slack, full) = match self.budget(f) {
            Ok(s) => s,
            Err(why) => return Self::fallback(f, why),
        };
        let with_ringing = if f.model.from_start {
            let ringing: Vec<f64> = f
                .calls
                .iter()
                .filter_map(|c| match *c {
                    CallNow::Ringing(r) => Some(r),
                    CallNow::Waiting(_) => None,
                })
                .collect();
            f.model.with_ringing(&ringing, f.ring_timeout_secs)
        } else {
            *f.model
        };
        let m = &with_ringing;
        let risk = self.max_risk * (slack / full).min(1.0);
        let timeout = f.ring_timeout_secs;
        let grace = f.connect_within_secs * self.deadline_share;
        let idle_now = f64::from(f.idle_agents());
        let rings: [f64; Z.len()] = Z.map(|z| m.ring.at_z(z).min(timeout));
        let mut pts = [Point::default(); Z.len()];
        for (p, &t) in pts.iter_mut().zip(&rings) {
            p.g = m.ring.cdf(t);
        }
        // Each agent and call once, at every point (the per-item parts of
        // the chances are worked out once: most of a decision's cost).
        let by: [f64; Z.len()] = rings.map(|t| t + grace);
        // Agents free by the next seconds too, when some call has rung
        // long enough that it may be ended.
        let check = f.calls.iter().any(|c| self.may_end(c, timeout));
        let mut free_soon = [(0.0, 0.0); SOON.len()];
        for a in f.agents {
            match *a {
                AgentNow::Idle => {
                    pts.iter_mut().for_each(|p| p.free += 1.0);
                    if check {
                        add_soon(&mut free_soon, [1.0; SOON.len()]);
                    }
                }
                AgentNow::Talking(s) => {
                    let q = m.talker_free_after(s);
                    add(&mut pts, true, |i| q(by[i]));
                    if check {
                        add_soon(&mut free_soon, SOON.map(|t| q(t + grace)));
                    }
                }
                AgentNow::WrappingUp(s) => {
                    let q = m.wrapper_free_after(s);
                    add(&mut pts, true, |i| q(by[i]));
                    if check {
                        add_soon(&mut free_soon, SOON.map(|t| q(t + grace)));
                    }
                }
            }
        }
        let hang_up = if check {
            self.calls_to_end(f, m, risk, &free_soon)
        } else {
            Vec::new()
        };
        for (j, c) in f.calls.iter().enumerate() {
            if hang_up.contains(&j) {
                continue;
            }
            match *c {
                CallNow::Waiting(_) => pts.iter_mut().for_each(|p| p.before += 1.0),
                CallNow::Ringing(r) => {
                    let q = m.human_after(r, timeout);
                    add(&mut pts, false, |i| q(rings[i]));
                }
            }
        }
        for (p, (&t, &by)) in pts.iter_mut().zip(rings.iter().zip(&by)) {
            // Calls the next decisions place will answer before this one
            // if they ring shorter: about as many as agents come free, at
            // the rate they come free now, times E[(t − ring)⁺].
            let rate = (p.free - idle_now).max(0.0) / by;
            let ahead = rings.iter().map(|r| (t - r).max(0.0)).sum::<f64>() / rings.len() as f64;
            let future = self.future_share * rate * ahead;
            p.before += future;
            p.before_var += future;
        }
        let idle = f.idle_agents();
        let in_flight = f.calls_in_flight() - hang_up.len() as u32;
        let cap = f.most_in_flight().saturating_sub(in_flight);
        let sure = idle.saturating_sub(in_flight).min(cap);
        let chance = |n: u32| -> f64 {
            let others = f64::from(n.saturating_sub(1));
            let mut sum = 0.0;
            for p in &pts {
                let a = m.p_human * p.g;
                let mean = p.free - p.before - others * a;
                let var = (p.free_var + p.before_var + others * a * (1.0 - a)).max(0.09);
                sum += normal_cdf((0.5 - mean) / var.sqrt());
            }
            sum / pts.len() as f64
        };
        if let Some(r) = risks.as_deref_mut() {
            r.extend((1..=sure).map(chance));
        }
        let mut n = sure;
        let mut last = 0.0;
        while n < cap {
            let q = chance(n + 1);
            if q > risk {
                break;
            }
            if let Some(r) = risks.as_deref_mut() {
                r.push(q);
            }
            last = q;
            n += 1;
        }
        let mid = pts[Z.len() / 2];
        let soon = (mid.free - f64::from(idle)).max(0.0);
        let capped = if n == cap && cap > sure {
            format!(", capped by the dial ratio {:.1}", f.max_dial_ratio)
        } else {
            String::new()
        };
        let risk_note = if n > sure {
            format!(", last call's risk {}", pct(last))
        } else {
            String::new()
        };
        let ending = match hang_up.len() {
            0 => String::new(),
            1 => format!(", ending 1 call rung past {MIN_RING_BEFORE_HANG_UP:.0} s"),
            k => format!(", ending {k} calls rung past {MIN_RING_BEFORE_HANG_UP:.0} s"),
        };
        let reason = format!(
            "dialing {n}: {} + {soon:.1} free soon, {} in flight; answers {:.0} %; abandoned {} over 24 hours, {} over 30 days (limit {}){risk_note}{capped}{ending}",
            agents(idle),
            calls(in_flight),
            m.p_human * 100.0,
            pct(f.last_24h.rate()),
            pct(f.last_30_days.rate()),
            pct(f.max_abandon_rate),
        );
        PacerDecision {
            calls_to_start: n,
            dial_level: level(f, n),
            reason,
            hang_up,
        }
    }
}
