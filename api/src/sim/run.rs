//! One simulated day for one pacer and one seed: a discrete-event
//! simulation on virtual time. Pinline's pacer and progressive dialing are
//! the production code ([`Predictive`], [`Progressive`], [`History`]) fed the
//! same facts the engine gathers; the baselines are in [`super::baselines`].
//!
//! Common random numbers: lead k's fate (outcome draw, ring, talk and wrap
//! times) comes from its own stream of the seed, so every pacer calls the
//! same people and meets the same answers; only the timing differs.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use serde::Serialize;

use super::baselines::{
    AdaptTapered, Sample, VICIDIAL_ADJUST_SECS, VICIDIAL_DROP_SECS, VICIDIAL_PLACER_SECS,
    VICIDIAL_SAMPLE_SECS,
};
use super::scenario::{Scenario, Spread};
use crate::dialer::pacer::{
    AgentNow, CallNow, DialOutcome, History, Pacer, PacerFacts, Predictive, Progressive, Tally,
};

/// Which pacer runs the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub enum PacerKind {
    Pinline,
    Progressive,
    Vicidial,
    Clairvoyant,
}

impl PacerKind {
    pub const ALL: [PacerKind; 4] = [
        PacerKind::Pinline,
        PacerKind::Vicidial,
        PacerKind::Progressive,
        PacerKind::Clairvoyant,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PacerKind::Pinline => "pinline",
            PacerKind::Progressive => "progressive",
            PacerKind::Vicidial => "vicidial-adapt-tapered",
            PacerKind::Clairvoyant => "clairvoyant",
        }
    }

    pub fn parse(s: &str) -> Option<PacerKind> {
        PacerKind::ALL
            .into_iter()
            .find(|k| k.name() == s || (s == "vicidial" && *k == PacerKind::Vicidial))
    }
}

/// SplitMix64: small, fast, and the same on every platform forever.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn for_lead(seed: u64, lead: u64) -> Rng {
        let mut r = Rng(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ lead.wrapping_mul(0xD1B5_4A32_D192_ED03)
        );
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (a, b) = (self.unit(), self.unit());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }

    fn spread(&mut self, s: Spread) -> f64 {
        if s.sd <= 0.0 {
            return s.mean;
        }
        let d = crate::dialer::pacer::LogNormal::from_mean_sd(s.mean, s.sd);
        (d.mu + d.sigma * self.normal()).exp()
    }
}

/// A lead's fate, drawn before anyone dials it.
#[derive(Debug, Clone, Copy)]
struct Fate {
    u: f64,
    ring: f64,
    talk: f64,
    wrap: f64,
    failed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Human,
    Machine,
    Failed,
    NoAnswer,
}

fn fate(sc: &Scenario, seed: u64, lead: u64) -> Fate {
    let mut r = Rng::for_lead(seed, lead);
    let u = r.unit();
    // Truncated at the ring timeout: draw again (same stream) past it.
    let mut ring = sc.ring_timeout_secs;
    for _ in 0..64 {
        let x = r.spread(sc.answer_time);
        if x <= sc.ring_timeout_secs {
            ring = x;
            break;
        }
    }
    let talk = r.spread(sc.talk).max(1.0);
    let wrap = r.spread(sc.wrap).max(0.0);
    let failed = sc.failed_secs * (0.75 + 0.5 * r.unit());
    Fate {
        u,
        ring,
        talk,
        wrap,
        failed,
    }
}

fn outcome_of(sc: &Scenario, f: &Fate, at: f64) -> Outcome {
    let r = sc.rates_at(at / 3600.0);
    if f.u < r.human {
        Outcome::Human
    } else if f.u < r.human + r.machine {
        Outcome::Machine
    } else if f.u < r.human + r.machine + r.failed {
        Outcome::Failed
    } else {
        Outcome::NoAnswer
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ev {
    AgentIn(usize),
    AgentOut(usize),
    TalkEnd(usize),
    WrapEnd(usize),
    Resolve(usize),
    Deadline(usize),
    Tick,
    Pace,
    Sample,
    Adjust,
    /// The clairvoyant places lead `1` for agent `0`.
    DialFor(usize, u64),
}

#[derive(Debug)]
struct Item {
    t: f64,
    pri: u8,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Item {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    // A min-heap on (time, priority, order pushed).
    fn cmp(&self, o: &Self) -> Ordering {
        o.t.total_cmp(&self.t)
            .then(o.pri.cmp(&self.pri))
            .then(o.seq.cmp(&self.seq))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum AState {
    Off,
    Idle,
    Talking,
    Wrapping,
}

#[derive(Debug, Clone)]
struct Agent {
    state: AState,
    since: f64,
    logged_from: f64,
    shift_end: f64,
    leaving: bool,
    call: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CState {
    Ringing,
    Waiting,
    Connected,
    Done,
}

#[derive(Debug, Clone)]
struct Call {
    fate: Fate,
    outcome: Outcome,
    dialed: f64,
    answered: f64,
    state: CState,
    target: Option<usize>,
    /// The pacer's predicted abandonment chance for it, if it gave one.
    predicted: Option<f64>,
    /// The pacer ended it unanswered (after 15 s of ringing).
    hung_up: bool,
    abandoned: bool,
}

/// Ten-minute slices of the day, for the chart.
pub const SLICE_SECS: f64 = 600.0;

#[derive(Debug, Clone, Copy, Default)]
struct Slice {
    logged: f64,
    busy: f64,
}

/// What one simulated day measured.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub pacer: PacerKind,
    pub seed: u64,
    /// (talk + wrap) ÷ logged-in time.
    pub occupancy: f64,
    pub talk_minutes_per_agent_hour: f64,
    /// Abandoned ÷ live answers, by the scenario's connect rule.
    pub abandon_rate: f64,
    pub answers: u64,
    pub abandoned: u64,
    pub contacts_per_hour: f64,
    /// Mean time an agent waited between becoming free and the next call.
    pub mean_agent_wait_secs: f64,
    pub mean_answer_to_agent_secs: f64,
    pub dials: u64,
    /// Calls the pacer ended after ringing at least 15 s.
    pub hung_up: u64,
    /// Per ten-minute slice: occupancy in the slice and the abandonment rate
    /// so far.
    pub slices: Vec<(f64, f64)>,
    /// Pinline's runs: its predictions by band (see [`Calibration`]).
    pub calibration: Vec<Calibration>,
}

/// Upper edges of the predicted-risk bands [`Calibration`] counts in.
pub const CALIBRATION_EDGES: [f64; 8] = [0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 1.0];

/// The pacer's predictions against what happened, for the live answers of
/// calls whose predicted abandonment chance fell in one band.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Calibration {
    /// The band: predicted chance below this (and at or over the band
    /// before's).
    pub below: f64,
    pub answers: u64,
    /// The sum of the predicted chances (÷ answers: the mean prediction).
    pub predicted: f64,
    pub abandoned: u64,
}

impl Calibration {
    pub fn bands() -> Vec<Calibration> {
        CALIBRATION_EDGES
            .iter()
            .map(|&below| Calibration {
                below,
                ..Calibration::default()
            })
            .collect()
    }

    pub fn add(&mut self, o: &Calibration) {
        self.answers += o.answers;
        self.predicted += o.predicted;
        self.abandoned += o.abandoned;
    }
}

struct Sim<'a> {
    sc: &'a Scenario,
    seed: u64,
    kind: PacerKind,
    pacer: Predictive,
    end: f64,
    heap: BinaryHeap<Item>,
    seq: u64,
    agents: Vec<Agent>,
    calls: Vec<Call>,
    waiting: VecDeque<usize>,
    in_flight: Vec<usize>,
    next_lead: u64,
    history: History,
    tally: Tally,
    vici: AdaptTapered,
    pace_queued: bool,
    // Measures.
    answers: u64,
    abandoned: u64,
    contacts: u64,
    to_agent: f64,
    waits: f64,
    wait_count: u64,
    talk_total: f64,
    busy_total: f64,
    logged_total: f64,
    dials: u64,
    hung_up: u64,
    slices: Vec<Slice>,
    abandon_marks: Vec<(u64, u64)>,
    // Scratch for the pacer's facts.
    agent_facts: Vec<AgentNow>,
    call_facts: Vec<CallNow>,
    risks: Vec<f64>,
}

impl<'a> Sim<'a> {
    fn push(&mut self, t: f64, ev: Ev) {
        let pri = match ev {
            Ev::AgentIn(_) | Ev::WrapEnd(_) => 0,
            _ => 1,
        };
        self.seq += 1;
        self.heap.push(Item {
            t,
            pri,
            seq: self.seq,
            ev,
        });
    }

    fn add_span(&mut self, from: f64, to: f64, busy: bool) {
        let (from, to) = (from.max(0.0), to.min(self.end));
        if to <= from {
            return;
        }
        if busy {
            self.busy_total += to - from;
        } else {
            self.logged_total += to - from;
        }
        let mut a = from;
        while a < to {
            let i = ((a / SLICE_SECS) as usize).min(self.slices.len() - 1);
            let b = (((i + 1) as f64) * SLICE_SECS).min(to);
            let s = &mut self.slices[i];
            if busy {
                s.busy += b - a;
            } else {
                s.logged += b - a;
            }
            if b <= a {
                break;
            }
            a = b;
        }
    }

    fn mark_abandonment(&mut self, now: f64) {
        let i = ((now / SLICE_SECS) as usize).min(self.abandon_marks.len() - 1);
        self.abandon_marks[i] = (self.answers, self.abandoned);
    }

    fn pace_soon(&mut self, now: f64) {
        if matches!(self.kind, PacerKind::Pinline | PacerKind::Progressive) && !self.pace_queued {
            self.pace_queued = true;
            self.push(now, Ev::Pace);
        }
    }

    fn take_lead(&mut self) -> Option<u64> {
        if self.sc.leads.is_some_and(|n| self.next_lead >= n) {
            return None;
        }
        let k = self.next_lead;
        self.next_lead += 1;
        Some(k)
    }

    fn dial(&mut self, now: f64, lead: u64, target: Option<usize>) {
        let f = fate(self.sc, self.seed, lead);
        let outcome = outcome_of(self.sc, &f, now);
        let after = match outcome {
            Outcome::Human | Outcome::Machine => f.ring,
            Outcome::Failed => f.failed,
            Outcome::NoAnswer => self.sc.ring_timeout_secs,
        };
        let id = self.calls.len();
        self.calls.push(Call {
            fate: f,
            outcome,
            dialed: now,
            answered: 0.0,
            state: CState::Ringing,
            target,
            predicted: None,
            hung_up: false,
            abandoned: false,
        });
        self.in_flight.push(id);
        self.dials += 1;
        self.push(now + after, Ev::Resolve(id));
    }

    fn leave_flight(&mut self, call: usize) {
        if let Some(i) = self.in_flight.iter().position(|c| *c == call) {
            self.in_flight.swap_remove(i);
        }
    }

    fn connect(&mut self, now: f64, call: usize, agent: usize) {
        let answered = self.calls[call].answered;
        let waited = now - answered;
        if waited > self.sc.connect_within_secs + 1e-9 {
            // Only VICIdial keeps a caller past the rule (its 5 s drop).
            self.abandoned += 1;
            self.mark_abandonment(now);
        }
        self.contacts += 1;
        self.to_agent += waited;
        self.leave_flight(call);
        self.waiting.retain(|c| *c != call);
        let talk = self.calls[call].fate.talk;
        self.calls[call].state = CState::Connected;
        let a = &mut self.agents[agent];
        self.waits += now - a.since;
        self.wait_count += 1;
        a.state = AState::Talking;
        a.since = now;
        a.call = Some(call);
        self.push(now + talk, Ev::TalkEnd(agent));
        if self.kind == PacerKind::Clairvoyant {
            let free = now + talk + self.calls[call].fate.wrap;
            self.plan_next(now, agent, free);
        }
    }

    /// The clairvoyant: the next lead that will answer in person, placed so
    /// the answer comes the moment `agent` is free.
    fn plan_next(&mut self, now: f64, agent: usize, free: f64) {
        if free >= self.agents[agent].shift_end || free >= self.end {
            return;
        }
        for _ in 0..100_000 {
            let Some(k) = self.take_lead() else { return };
            let f = fate(self.sc, self.seed, k);
            let at = (free - f.ring).max(now);
            if outcome_of(self.sc, &f, at) == Outcome::Human {
                self.push(at, Ev::DialFor(agent, k));
                return;
            }
        }
    }

    fn longest_idle(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, a) in self.agents.iter().enumerate() {
            if a.state == AState::Idle && best.is_none_or(|b| a.since < self.agents[b].since) {
                best = Some(i);
            }
        }
        best
    }

    fn agent_free(&mut self, now: f64, agent: usize) {
        let a = &mut self.agents[agent];
        if a.leaving || now >= a.shift_end {
            a.state = AState::Off;
            let from = a.logged_from;
            self.add_span(from, now, false);
            return;
        }
        a.state = AState::Idle;
        a.since = now;
        // The longest-waiting caller first (one meant for this agent, or
        // for no one in particular).
        let next = self
            .waiting
            .iter()
            .copied()
            .find(|c| self.calls[*c].target.is_none_or(|t| t == agent));
        if let Some(c) = next {
            self.connect(now, c, agent);
        } else {
            self.pace_soon(now);
        }
    }

    fn resolve(&mut self, now: f64, call: usize) {
        if self.calls[call].state == CState::Done {
            return;
        }
        let c = self.calls[call].clone();
        let ring = now - c.dialed;
        match c.outcome {
            Outcome::Human => {
                self.history.dial(DialOutcome::Human(ring));
                self.answers += 1;
                self.tally.answers += 1;
                self.mark_abandonment(now);
                self.calls[call].answered = now;
                self.calls[call].state = CState::Waiting;
                let agent = match c.target {
                    Some(t) if self.agents[t].state == AState::Idle => Some(t),
                    _ => self.longest_idle(),
                };
                match agent {
                    Some(a) => self.connect(now, call, a),
                    None => {
                        self.waiting.push_back(call);
                        let wait = if self.kind == PacerKind::Vicidial {
                            VICIDIAL_DROP_SECS
                        } else {
                            self.sc.connect_within_secs
                        };
                        self.push(now + wait, Ev::Deadline(call));
                    }
                }
                if self.kind == PacerKind::Vicidial && self.calls[call].state == CState::Connected {
                    self.vici.answered(now, false);
                }
            }
            other => {
                self.history.dial(match other {
                    Outcome::Machine => DialOutcome::Machine(ring),
                    Outcome::Failed => DialOutcome::Failed(ring),
                    _ => DialOutcome::NoAnswer,
                });
                self.calls[call].state = CState::Done;
                self.leave_flight(call);
                self.pace_soon(now);
            }
        }
    }

    fn deadline(&mut self, now: f64, call: usize) {
        if self.calls[call].state != CState::Waiting {
            if self.kind == PacerKind::Vicidial {
                self.vici.answered(now, false);
            }
            return;
        }
        self.calls[call].state = CState::Done;
        self.calls[call].abandoned = true;
        self.waiting.retain(|c| *c != call);
        self.leave_flight(call);
        self.abandoned += 1;
        self.tally.abandoned += 1;
        self.mark_abandonment(now);
        if self.kind == PacerKind::Vicidial {
            self.vici.answered(now, true);
        }
        self.pace_soon(now);
    }

    fn pace(&mut self, now: f64) {
        self.pace_queued = false;
        if now >= self.end {
            return;
        }
        self.agent_facts.clear();
        for a in &self.agents {
            self.agent_facts.push(match a.state {
                AState::Off => continue,
                AState::Idle => AgentNow::Idle,
                AState::Talking => AgentNow::Talking(now - a.since),
                AState::Wrapping => AgentNow::WrappingUp(now - a.since),
            });
        }
        self.call_facts.clear();
        for c in &self.in_flight {
            let c = &self.calls[*c];
            self.call_facts.push(match c.state {
                CState::Waiting => CallNow::Waiting(now - c.answered),
                _ => CallNow::Ringing(now - c.dialed),
            });
        }
        let model = self.history.model();
        let facts = PacerFacts {
            agents: &self.agent_facts,
            calls: &self.call_facts,
            model: &model,
            last_24h: self.tally,
            last_30_days: self.tally,
            max_abandon_rate: self.sc.max_abandon_rate,
            max_dial_ratio: self.sc.max_dial_ratio,
            ring_timeout_secs: self.sc.ring_timeout_secs,
            connect_within_secs: self.sc.connect_within_secs,
        };
        let n = match self.kind {
            PacerKind::Pinline => {
                let d = self
                    .pacer
                    .decide_noting_risks(&facts, Some(&mut self.risks));
                // Ended unanswered: its Resolve event finds it done.
                let ended: Vec<usize> = d
                    .hang_up
                    .iter()
                    .filter_map(|j| self.in_flight.get(*j).copied())
                    .collect();
                for c in ended {
                    self.calls[c].state = CState::Done;
                    self.calls[c].hung_up = true;
                    self.leave_flight(c);
                    let rung = now - self.calls[c].dialed;
                    self.history.dial(DialOutcome::Ended(rung));
                    self.hung_up += 1;
                }
                d.calls_to_start
            }
            _ => {
                self.risks.clear();
                Progressive.decide(&facts).calls_to_start
            }
        };
        for i in 0..n as usize {
            let Some(k) = self.take_lead() else { break };
            self.dial(now, k, None);
            if let Some(c) = self.calls.last_mut() {
                c.predicted = self.risks.get(i).copied();
            }
        }
    }

    fn logged_in(&self) -> u32 {
        self.agents
            .iter()
            .filter(|a| a.state != AState::Off)
            .count() as u32
    }

    fn step(&mut self, now: f64, ev: Ev) {
        match ev {
            Ev::AgentIn(i) => {
                let a = &mut self.agents[i];
                a.logged_from = now;
                a.since = now;
                self.agent_free(now, i);
                if self.kind == PacerKind::Clairvoyant {
                    self.plan_next(now, i, now);
                }
            }
            Ev::AgentOut(i) => {
                let a = &mut self.agents[i];
                match a.state {
                    AState::Idle => {
                        a.state = AState::Off;
                        let from = a.logged_from;
                        self.add_span(from, now, false);
                    }
                    AState::Off => {}
                    _ => a.leaving = true,
                }
            }
            Ev::TalkEnd(i) => {
                let since = self.agents[i].since;
                let talk = now - since;
                self.add_span(since, now, true);
                self.talk_total += (now.min(self.end) - since).max(0.0);
                self.history.talk(talk);
                let a = &mut self.agents[i];
                let wrap = a.call.map_or(0.0, |c| self.calls[c].fate.wrap);
                if let Some(c) = a.call.take() {
                    self.calls[c].state = CState::Done;
                }
                a.state = AState::Wrapping;
                a.since = now;
                self.push(now + wrap, Ev::WrapEnd(i));
            }
            Ev::WrapEnd(i) => {
                let since = self.agents[i].since;
                self.add_span(since, now, true);
                self.history.wrap(now - since);
                self.agent_free(now, i);
            }
            Ev::Resolve(c) => self.resolve(now, c),
            Ev::Deadline(c) => self.deadline(now, c),
            Ev::Tick => {
                self.push(now + 1.0, Ev::Tick);
                self.pace(now);
            }
            Ev::Pace => self.pace(now),
            Ev::Sample => {
                self.push(now + VICIDIAL_SAMPLE_SECS, Ev::Sample);
                let ready = self
                    .agents
                    .iter()
                    .filter(|a| a.state == AState::Idle)
                    .count() as u32;
                let s = Sample {
                    ready,
                    waiting: self.waiting.len() as u32,
                    total: self.logged_in(),
                };
                self.vici.sample(s);
            }
            Ev::Adjust => {
                self.push(now + VICIDIAL_ADJUST_SECS, Ev::Adjust);
                self.vici.adjust(now, 0.0, self.end);
            }
            Ev::DialFor(agent, lead) => {
                if now < self.end {
                    self.dial(now, lead, Some(agent));
                }
            }
        }
    }

    fn placer(&mut self, now: f64) {
        if now >= self.end {
            return;
        }
        // VICIdial's live calls include those talking with an agent.
        let talking = self
            .agents
            .iter()
            .filter(|a| a.state == AState::Talking)
            .count() as u32;
        let live = self.in_flight.len() as u32 + talking;
        let n = self.vici.to_place(self.logged_in(), live);
        for _ in 0..n {
            let Some(k) = self.take_lead() else { break };
            self.dial(now, k, None);
        }
    }
}

/// Simulate one day of `sc` with `kind` on `seed`.
pub fn run(sc: &Scenario, kind: PacerKind, seed: u64, pacer: Predictive) -> RunResult {
    let end = sc.hours * 3600.0;
    let slices = (end / SLICE_SECS).ceil().max(1.0) as usize;
    let mut sim = Sim {
        sc,
        seed,
        kind,
        pacer,
        end,
        heap: BinaryHeap::new(),
        seq: 0,
        agents: Vec::new(),
        calls: Vec::new(),
        waiting: VecDeque::new(),
        in_flight: Vec::new(),
        next_lead: 0,
        history: History::default(),
        tally: Tally::default(),
        vici: AdaptTapered::new(sc.max_abandon_rate),
        pace_queued: false,
        answers: 0,
        abandoned: 0,
        contacts: 0,
        to_agent: 0.0,
        waits: 0.0,
        wait_count: 0,
        talk_total: 0.0,
        busy_total: 0.0,
        logged_total: 0.0,
        dials: 0,
        hung_up: 0,
        slices: vec![Slice::default(); slices],
        abandon_marks: vec![(u64::MAX, 0); slices],
        agent_facts: Vec::new(),
        call_facts: Vec::new(),
        risks: Vec::new(),
    };
    for s in sc.shifts() {
        let from = s.from_hour * 3600.0;
        let to = s.to_hour.map_or(end, |h| h * 3600.0).min(end);
        for _ in 0..s.count {
            let i = sim.agents.len();
            sim.agents.push(Agent {
                state: AState::Off,
                since: from,
                logged_from: from,
                shift_end: to,
                leaving: false,
                call: None,
            });
            sim.push(from, Ev::AgentIn(i));
            if to < end {
                sim.push(to, Ev::AgentOut(i));
            }
        }
    }
    match kind {
        PacerKind::Pinline | PacerKind::Progressive => sim.push(0.0, Ev::Tick),
        PacerKind::Vicidial => {
            sim.push(0.0, Ev::Sample);
            sim.push(VICIDIAL_ADJUST_SECS, Ev::Adjust);
        }
        PacerKind::Clairvoyant => {}
    }
    let mut next_place = 0.0;
    while let Some(item) = sim.heap.pop() {
        if item.t > end {
            break;
        }
        if kind == PacerKind::Vicidial {
            while next_place <= item.t {
                sim.placer(next_place);
                next_place += VICIDIAL_PLACER_SECS;
            }
        }
        sim.step(item.t, item.ev);
    }
    // Close the day: time still logged in, talks and wrap-ups under way.
    for i in 0..sim.agents.len() {
        let a = sim.agents[i].clone();
        match a.state {
            AState::Off => continue,
            AState::Talking => {
                sim.talk_total += (end - a.since).max(0.0);
                sim.add_span(a.since, end, true);
            }
            AState::Wrapping => sim.add_span(a.since, end, true),
            AState::Idle => {}
        }
        sim.add_span(a.logged_from, end, false);
    }
    let hours = sim.logged_total / 3600.0;
    let mut marks = Vec::with_capacity(slices);
    let mut last = (0u64, 0u64);
    for (i, s) in sim.slices.iter().enumerate() {
        if sim.abandon_marks[i].0 != u64::MAX {
            last = sim.abandon_marks[i];
        }
        let occ = if s.logged > 0.0 {
            s.busy / s.logged
        } else {
            0.0
        };
        let ab = if last.0 > 0 {
            last.1 as f64 / last.0 as f64
        } else {
            0.0
        };
        marks.push((occ, ab));
    }
    let mut calibration = Calibration::bands();
    for c in &sim.calls {
        let Some(p) = c.predicted else { continue };
        if c.outcome != Outcome::Human || c.state == CState::Ringing || c.hung_up {
            continue;
        }
        let band = CALIBRATION_EDGES
            .iter()
            .position(|&e| p < e)
            .unwrap_or(CALIBRATION_EDGES.len() - 1);
        let b = &mut calibration[band];
        b.answers += 1;
        b.predicted += p;
        b.abandoned += u64::from(c.abandoned);
    }
    RunResult {
        pacer: kind,
        seed,
        occupancy: if sim.logged_total > 0.0 {
            sim.busy_total / sim.logged_total
        } else {
            0.0
        },
        talk_minutes_per_agent_hour: if hours > 0.0 {
            sim.talk_total / 60.0 / hours
        } else {
            0.0
        },
        abandon_rate: if sim.answers > 0 {
            sim.abandoned as f64 / sim.answers as f64
        } else {
            0.0
        },
        answers: sim.answers,
        abandoned: sim.abandoned,
        contacts_per_hour: sim.contacts as f64 / sc.hours,
        mean_agent_wait_secs: if sim.wait_count > 0 {
            sim.waits / sim.wait_count as f64
        } else {
            0.0
        },
        mean_answer_to_agent_secs: if sim.contacts > 0 {
            sim.to_agent / sim.contacts as f64
        } else {
            0.0
        },
        dials: sim.dials,
        hung_up: sim.hung_up,
        slices: marks,
        calibration,
    }
}
