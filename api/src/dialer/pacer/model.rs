//! What a campaign's own history says about its calls: how dials turn out
//! (human, machine, fast failure, no answer), how long they ring before an
//! answer, how long agents talk and wrap up. Learned over a sliding window
//! of recent calls so a change in the answer rate shows within minutes;
//! durations are fitted as lognormal (right-skewed, heavy-tailed: the usual
//! shape of call-centre service times).

use std::collections::VecDeque;

/// How a dial ended up, as the pacer learns from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DialOutcome {
    /// A person answered after this many seconds of ringing.
    Human(f64),
    /// An answering machine answered after this many seconds.
    Machine(f64),
    /// Busy, failed or rejected: ended without ringing out.
    Failed(f64),
    /// Rang until the ring timeout.
    NoAnswer,
    /// Ended unanswered after this many seconds, before the ring timeout
    /// (the pacer ended it, or the line dropped): it could still have been
    /// answered, so it counts as each outcome by how likely that outcome
    /// was to be still ringing then.
    Ended(f64),
}

/// A lognormal distribution by the mean and standard deviation of `ln x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    pub mu: f64,
    pub sigma: f64,
}

impl LogNormal {
    /// From the distribution's own mean and standard deviation (seconds).
    pub fn from_mean_sd(mean: f64, sd: f64) -> Self {
        let mean = mean.max(1e-3);
        let s2 = (1.0 + (sd / mean).powi(2)).ln();
        LogNormal {
            mu: mean.ln() - s2 / 2.0,
            sigma: s2.sqrt().max(1e-3),
        }
    }

    pub fn mean(&self) -> f64 {
        (self.mu + self.sigma * self.sigma / 2.0).exp()
    }

    pub fn sd(&self) -> f64 {
        let s2 = self.sigma * self.sigma;
        ((s2.exp() - 1.0) * (2.0 * self.mu + s2).exp()).sqrt()
    }

    /// P(X ≤ x).
    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            0.0
        } else {
            normal_cdf((x.ln() - self.mu) / self.sigma)
        }
    }

    /// The value with P(X ≤ x) = Φ(z).
    pub fn at_z(&self, z: f64) -> f64 {
        (self.mu + self.sigma * z).exp()
    }
}

/// E[X] and E[X²] of X = ln T for T lognormal `d` given T > `r`: the normal
/// truncated below at ln r.
fn truncated_log_moments(d: &LogNormal, r: f64) -> (f64, f64) {
    let a = (r.ln() - d.mu) / d.sigma;
    let tail = (1.0 - normal_cdf(a)).max(1e-12);
    let pdf = (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt();
    // The inverse Mills ratio; far in the tail it tends to a.
    let lambda = if tail > 1e-9 { pdf / tail } else { a.max(0.0) };
    let mean = d.mu + d.sigma * lambda;
    let var = d.sigma * d.sigma * (1.0 + a * lambda - lambda * lambda).max(0.0);
    (mean, var + mean * mean)
}

/// Φ(z), the standard normal distribution function (|error| < 1.2e-7).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' Chebyshev fit).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// A sliding window of positive durations with running sums of their logs.
#[derive(Debug, Clone)]
struct LogWindow {
    cap: usize,
    values: VecDeque<f64>,
    sum: f64,
    sum2: f64,
}

impl LogWindow {
    fn new(cap: usize) -> Self {
        LogWindow {
            cap,
            values: VecDeque::with_capacity(cap),
            sum: 0.0,
            sum2: 0.0,
        }
    }

    fn push(&mut self, secs: f64) {
        let l = secs.max(0.05).ln();
        self.values.push_back(l);
        self.sum += l;
        self.sum2 += l * l;
        if self.values.len() > self.cap
            && let Some(old) = self.values.pop_front()
        {
            self.sum -= old;
            self.sum2 -= old * old;
        }
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    /// The fitted lognormal, blended with `prior` as if it were `weight`
    /// observations (so a handful of calls does not swing it).
    fn fit(&self, prior: LogNormal, weight: f64) -> LogNormal {
        let n = self.values.len() as f64;
        let w = weight.max(0.0);
        if n + w <= 0.0 {
            return prior;
        }
        let prior2 = prior.sigma * prior.sigma + prior.mu * prior.mu;
        let mean = (self.sum + w * prior.mu) / (n + w);
        let m2 = (self.sum2 + w * prior2) / (n + w);
        LogNormal {
            mu: mean,
            sigma: (m2 - mean * mean).max(1e-6).sqrt(),
        }
    }
}

/// Before a campaign has history: typical outbound figures.
pub const PRIOR_RING: LogNormal = LogNormal {
    mu: 2.37,
    sigma: 0.47,
};
pub const PRIOR_TALK: LogNormal = LogNormal {
    mu: 4.6,
    sigma: 0.8,
};
pub const PRIOR_WRAP: LogNormal = LogNormal {
    mu: 2.7,
    sigma: 0.3,
};
/// The answer rates count every dial since the start until this many
/// windows of dials have resolved: until then the window could not slide
/// without bias. Unanswered calls resolve only at the ring timeout, so when
/// a campaign starts (or jumps) a burst of them lands together ~25 s after
/// the burst of answers; a sliding window of the last 200 resolutions then
/// sees mostly those and the answer rate looks a third of what it is
/// (measured on S3: 25 % → 7 % half a minute in, the pacer refilled to its
/// ratio cap and abandoned 28 of the first 131 answers).
const START_WINDOWS: usize = 5;

/// How many observations the priors weigh.
const PRIOR_WEIGHT: f64 = 5.0;

/// What the pacer learns from, updated as the campaign's calls progress.
#[derive(Debug, Clone)]
pub struct History {
    /// Each resolved dial as its shares of human, machine, failed and no
    /// answer (one 1 for a known outcome; fractions for an ended call).
    outcomes: VecDeque<[f64; 4]>,
    outcome_cap: usize,
    counts: [f64; 4],
    /// Every outcome since the start, until `START_WINDOWS` windows' worth
    /// have resolved (then the sliding window takes over).
    since_start: [f64; 4],
    resolved: usize,
    failed_secs: f64,
    ring: LogWindow,
    talk: LogWindow,
    wrap: LogWindow,
}

impl Default for History {
    fn default() -> Self {
        History::new(200, 500)
    }
}

impl History {
    /// Learn answer rates over the last `dials` resolved dials and durations
    /// over the last `durations` of each kind.
    pub fn new(dials: usize, durations: usize) -> Self {
        History {
            outcomes: VecDeque::with_capacity(dials.max(1)),
            outcome_cap: dials.max(1),
            counts: [0.0; 4],
            since_start: [0.0; 4],
            resolved: 0,
            failed_secs: 0.0,
            ring: LogWindow::new(durations.max(1)),
            talk: LogWindow::new(durations.max(1)),
            wrap: LogWindow::new(durations.max(1)),
        }
    }

    /// A dial's outcome as shares of the four outcomes.
    fn shares(&self, o: &DialOutcome) -> [f64; 4] {
        match *o {
            DialOutcome::Human(_) => [1.0, 0.0, 0.0, 0.0],
            DialOutcome::Machine(_) => [0.0, 1.0, 0.0, 0.0],
            DialOutcome::Failed(_) => [0.0, 0.0, 1.0, 0.0],
            DialOutcome::NoAnswer => [0.0, 0.0, 0.0, 1.0],
            DialOutcome::Ended(r) => {
                // What it most likely was, by what the history says so far:
                // answered later, failed later, or ringing out.
                let m = self.model();
                let later = 1.0 - m.ring.cdf(r);
                let alive = [
                    m.p_human * later,
                    m.p_machine * later,
                    if r < m.failed_secs { m.p_failed } else { 0.0 },
                    m.p_no_answer.max(0.05),
                ];
                let z: f64 = alive.iter().sum();
                alive.map(|a| a / z)
            }
        }
    }

    /// A dial's outcome is known (answered, failed, rang out or ended).
    pub fn dial(&mut self, o: DialOutcome) {
        match o {
            DialOutcome::Human(s) | DialOutcome::Machine(s) => self.ring.push(s),
            DialOutcome::Failed(s) => self.failed_secs = 0.9 * self.failed_secs + 0.1 * s,
            DialOutcome::NoAnswer | DialOutcome::Ended(_) => {}
        }
        let w = self.shares(&o);
        let from_start = self.resolved < START_WINDOWS * self.outcome_cap;
        for (k, w) in w.iter().enumerate() {
            self.counts[k] += w;
            if from_start {
                self.since_start[k] += w;
            }
        }
        self.resolved += 1;
        self.outcomes.push_back(w);
        if self.outcomes.len() > self.outcome_cap
            && let Some(old) = self.outcomes.pop_front()
        {
            for (c, o) in self.counts.iter_mut().zip(old) {
                *c = (*c - o).max(0.0);
            }
        }
    }

    /// A connected call's talk time (connect to hang-up).
    pub fn talk(&mut self, secs: f64) {
        self.talk.push(secs);
    }

    /// An agent's wrap-up time (hang-up to ready again).
    pub fn wrap(&mut self, secs: f64) {
        self.wrap.push(secs);
    }

    /// How many dials the rates are over.
    pub fn dials(&self) -> usize {
        self.outcomes.len()
    }

    pub fn model(&self) -> Model {
        let from_start = self.resolved < START_WINDOWS * self.outcome_cap;
        let (counts, dials) = if from_start {
            (&self.since_start, self.resolved)
        } else {
            (&self.counts, self.outcomes.len())
        };
        let n = dials.max(1) as f64;
        let p = |i: usize| counts[i] / n;
        Model {
            dials: dials as u32,
            from_start,
            p_human: p(0),
            p_machine: p(1),
            p_failed: p(2),
            p_no_answer: p(3),
            failed_secs: if self.counts[2] > 0.0 {
                self.failed_secs.max(1.0)
            } else {
                3.0
            },
            ring: self.ring.fit(PRIOR_RING, PRIOR_WEIGHT),
            talk: self.talk.fit(PRIOR_TALK, PRIOR_WEIGHT),
            wrap: self.wrap.fit(PRIOR_WRAP, PRIOR_WEIGHT),
            talks: self.talk.len() as u32,
            ring_weight: self.ring.len() as f64 + PRIOR_WEIGHT,
        }
    }
}

/// A snapshot of what the history says, for one decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    /// Resolved dials the rates are over.
    pub dials: u32,
    /// The rates are over every dial resolved since the campaign started
    /// (the first `START_WINDOWS` windows of it).
    pub from_start: bool,
    pub p_human: f64,
    pub p_machine: f64,
    pub p_failed: f64,
    pub p_no_answer: f64,
    /// How long a failed dial typically lasts.
    pub failed_secs: f64,
    /// Seconds from dial to answer, for answered dials.
    pub ring: LogNormal,
    pub talk: LogNormal,
    pub wrap: LogNormal,
    /// Talk times seen.
    pub talks: u32,
    /// Ring times seen (of answered dials), plus the prior's weight: what
    /// `ring` was fitted over.
    pub ring_weight: f64,
}

impl Model {
    /// The outcome shares counting the calls still ringing too, each as the
    /// outcome it most likely is after ringing `r` seconds (a few EM steps;
    /// `ringing` holds each ringing call's `r`).
    ///
    /// Shares from resolved calls alone lean toward the outcomes that
    /// resolve fast: in a campaign's first minutes answers and busy signals
    /// are counted but no unanswered call until its ring timeout, so every
    /// long-ringing call would look like a person about to answer. A call
    /// that has rung far past the answer times is almost surely unanswered.
    ///
    /// Only while the window holds every dial since the start: then
    /// resolved plus ringing is every call placed. Once it slides, the
    /// resolved window already has as many slow outcomes (dialed earlier)
    /// as are ringing now, and adding the ringing calls would count the
    /// slow outcomes twice (measured: S3 occupancy 93 % → 86 %).
    pub fn with_ringing(&self, ringing: &[f64], ring_timeout: f64) -> Model {
        if ringing.is_empty() || !self.from_start {
            return *self;
        }
        let resolved = f64::from(self.dials);
        let known = [
            self.p_human * resolved,
            self.p_machine * resolved,
            self.p_failed * resolved,
            self.p_no_answer * resolved,
        ];
        // How likely each outcome is to be still ringing after r seconds.
        let alive = |ring: &LogNormal, r: f64| {
            let s = 1.0 - ring.cdf(r);
            [
                s,
                s,
                f64::from(u8::from(r < self.failed_secs)),
                f64::from(u8::from(r < ring_timeout)),
            ]
        };
        // Start with "no answer" plausible: from a share of 0 the steps
        // could never find it.
        let mut p = [
            self.p_human,
            self.p_machine,
            self.p_failed,
            self.p_no_answer,
        ];
        if resolved <= 0.0 {
            p = [0.25, 0.1, 0.1, 0.55];
        }
        p[3] = p[3].max(0.25);
        // The ring times seen so far are only the answers that came back:
        // a call still ringing after r seconds that a person or machine
        // will answer has a ring time over r. Each such call adds its
        // expected log ring time (the normal truncated below at ln r) with
        // the weight of its being answered, so at a campaign's start, when
        // only the quick answers are in, the fit is not left short.
        let w0 = self.ring_weight.max(1.0);
        let (s1, s2) = (
            w0 * self.ring.mu,
            w0 * (self.ring.sigma * self.ring.sigma + self.ring.mu * self.ring.mu),
        );
        let mut ring = self.ring;
        for _ in 0..4 {
            let mut acc = known;
            let (mut w, mut t1, mut t2) = (w0, s1, s2);
            for &r in ringing {
                let l = alive(&ring, r);
                let z: f64 = p.iter().zip(l).map(|(p, l)| p * l).sum();
                if z > 1e-12 {
                    for k in 0..4 {
                        acc[k] += p[k] * l[k] / z;
                    }
                    let answered = (p[0] * l[0] + p[1] * l[1]) / z;
                    if answered > 1e-9 && r > 0.0 {
                        let (e1, e2) = truncated_log_moments(&ring, r);
                        w += answered;
                        t1 += answered * e1;
                        t2 += answered * e2;
                    }
                }
            }
            let total: f64 = acc.iter().sum();
            if total <= 0.0 {
                return *self;
            }
            p = acc.map(|a| a / total);
            let mu = t1 / w;
            ring = LogNormal {
                mu,
                sigma: (t2 / w - mu * mu).max(1e-6).sqrt(),
            };
        }
        Model {
            p_human: p[0],
            p_machine: p[1],
            p_failed: p[2],
            p_no_answer: p[3],
            ring,
            ..*self
        }
    }

    /// For a call that has rung `r` seconds without an outcome: the chance
    /// a person answers it within the next `t` seconds.
    pub fn human_within(&self, r: f64, t: f64, ring_timeout: f64) -> f64 {
        self.human_after(r, ring_timeout)(t)
    }

    /// [`Model::human_within`] for one call at several `t`: what does not
    /// depend on `t` is worked out once.
    pub fn human_after(&self, r: f64, ring_timeout: f64) -> impl Fn(f64) -> f64 + '_ {
        let g_r = self.ring.cdf(r);
        let ans = (self.p_human + self.p_machine) * (1.0 - g_r);
        let alive =
            ans + if r < self.failed_secs {
                self.p_failed
            } else {
                0.0
            } + if r < ring_timeout {
                self.p_no_answer
            } else {
                0.0
            };
        move |t| {
            if alive <= 1e-12 {
                return 0.0;
            }
            let end = (r + t).min(ring_timeout);
            let got = self.p_human * (self.ring.cdf(end) - g_r).max(0.0);
            (got / alive).clamp(0.0, 1.0)
        }
    }

    /// For an agent talking for `talked` seconds: the chance they are free
    /// (talk over and wrap-up done) within `t` seconds.
    pub fn talker_free_within(&self, talked: f64, t: f64) -> f64 {
        self.talker_free_after(talked)(t)
    }

    /// [`Model::talker_free_within`] for one agent at several `t`.
    pub fn talker_free_after(&self, talked: f64) -> impl Fn(f64) -> f64 + '_ {
        let wrap = self.wrap.mean();
        let s0 = 1.0 - self.talk.cdf(talked);
        let mean = self.talk.mean();
        move |t| {
            if t <= wrap {
                return 0.0;
            }
            if s0 <= 1e-9 {
                // Longer than the fit expects: a flat, memoryless guess.
                return ((t - wrap) / mean).min(1.0);
            }
            let s1 = 1.0 - self.talk.cdf(talked + t - wrap);
            ((s0 - s1) / s0).clamp(0.0, 1.0)
        }
    }

    /// For an agent in wrap-up for `wrapped` seconds: the chance they are
    /// free within `t` seconds.
    pub fn wrapper_free_within(&self, wrapped: f64, t: f64) -> f64 {
        self.wrapper_free_after(wrapped)(t)
    }

    /// [`Model::wrapper_free_within`] for one agent at several `t`.
    pub fn wrapper_free_after(&self, wrapped: f64) -> impl Fn(f64) -> f64 + '_ {
        let s0 = 1.0 - self.wrap.cdf(wrapped);
        move |t| {
            if s0 <= 1e-9 {
                return 1.0;
            }
            let s1 = 1.0 - self.wrap.cdf(wrapped + t);
            ((s0 - s1) / s0).clamp(0.0, 1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_moments_round_trip() {
        let d = LogNormal::from_mean_sd(120.0, 90.0);
        assert!((d.mean() - 120.0).abs() < 1e-6);
        assert!((d.sd() - 90.0).abs() < 1e-6);
        assert!((d.cdf(d.at_z(0.0)) - 0.5).abs() < 1e-6);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-5);
    }

    #[test]
    fn history_learns_rates_over_its_window() {
        let mut h = History::new(10, 10);
        // From the start, every dial counts…
        for _ in 0..START_WINDOWS * 10 - 10 {
            h.dial(DialOutcome::Failed(3.0));
        }
        assert!(h.model().from_start);
        assert_eq!(h.model().p_failed, 1.0);
        // …then the window slides.
        for _ in 0..10 {
            h.dial(DialOutcome::Human(10.0));
        }
        assert!(!h.model().from_start);
        assert_eq!(h.model().p_human, 1.0);
        for _ in 0..5 {
            h.dial(DialOutcome::NoAnswer);
        }
        let m = h.model();
        assert_eq!(m.dials, 10);
        assert!((m.p_human - 0.5).abs() < 1e-9);
        assert!((m.p_no_answer - 0.5).abs() < 1e-9);
    }

    #[test]
    fn durations_are_fitted_with_a_light_prior() {
        let mut h = History::default();
        for s in [60.0, 120.0, 240.0].iter().cycle().take(300) {
            h.talk(*s);
        }
        let t = h.model().talk;
        assert!((t.mu - 120f64.ln()).abs() < 0.05, "{t:?}");
    }

    #[test]
    fn conditional_chances_behave() {
        let mut h = History::default();
        for i in 0..100 {
            h.dial(if i % 4 == 0 {
                DialOutcome::Human(12.0)
            } else {
                DialOutcome::NoAnswer
            });
        }
        let m = h.model();
        // Fresh call: about a quarter answers eventually.
        let fresh = m.human_within(0.0, 25.0, 25.0);
        assert!((fresh - 0.25).abs() < 0.02, "{fresh}");
        // Past the ring timeout nothing answers.
        assert_eq!(m.human_within(25.0, 5.0, 25.0), 0.0);
        // Long ringing makes an answer less likely than fresh.
        assert!(m.human_within(20.0, 5.0, 25.0) < fresh);
        // Free-by chances grow with the horizon.
        assert!(m.talker_free_within(60.0, 10.0) < m.talker_free_within(60.0, 100.0));
        assert_eq!(m.talker_free_within(60.0, 1.0), 0.0, "wrap-up comes first");
        assert!(m.wrapper_free_within(5.0, 30.0) > 0.9);
    }

    #[test]
    fn a_burst_of_ring_outs_at_the_start_does_not_sink_the_answer_rate() {
        // A 100-agent start: 100 dials, then 150 more a few seconds later.
        // Answers and busy signals come back first; 25 s in, the first
        // burst's unanswered calls all ring out, then the second's.
        let mut h = History::default();
        let burst = |h: &mut History, n: u32| {
            for i in 0..n {
                match i % 20 {
                    0..5 => h.dial(DialOutcome::Human(12.0)),
                    5..7 => h.dial(DialOutcome::Machine(10.0)),
                    7..9 => h.dial(DialOutcome::Failed(3.0)),
                    _ => {}
                }
            }
        };
        burst(&mut h, 100);
        burst(&mut h, 160);
        for _ in 0..(100 + 160) * 11 / 20 {
            h.dial(DialOutcome::NoAnswer);
        }
        // The last 200 resolutions are almost all ring-outs (a sliding
        // window would say 8 % answer); every dial since the start says 25 %.
        let m = h.model();
        assert!(m.from_start);
        assert!((m.p_human - 0.25).abs() < 0.01, "{m:?}");
        assert_eq!(m.dials, 260);
    }

    #[test]
    fn ring_times_still_ringing_lengthen_the_fit() {
        // Eight seconds in: only the quick answers (3–6 s) are back, and
        // most calls are still ringing — some of them people about to
        // answer later, so the ring time is longer than the answers say.
        let mut h = History::default();
        for i in 0..30 {
            h.dial(match i % 3 {
                0 => DialOutcome::Human(3.0 + f64::from(i % 4)),
                1 => DialOutcome::Machine(4.0 + f64::from(i % 3)),
                _ => DialOutcome::Failed(3.0),
            });
        }
        let m = h.model();
        let w = m.with_ringing(&[8.0; 200], 25.0);
        assert!(
            w.ring.mean() > m.ring.mean() + 1.0,
            "{} → {}",
            m.ring.mean(),
            w.ring.mean()
        );
        // Calls ringing 8 s have a ring time over 8 s if answered: the
        // fitted chance of a ring under 8 s is below what the answers
        // alone said.
        assert!(w.ring.cdf(8.0) < m.ring.cdf(8.0));
    }

    #[test]
    fn calls_still_ringing_count_as_the_outcome_they_likely_are() {
        // A campaign's first minute: answers after ~2 s and busy signals
        // have come back; the unanswered calls are all still ringing.
        let mut h = History::default();
        for i in 0..40 {
            h.dial(if i % 4 == 0 {
                DialOutcome::Human(2.0 + f64::from(i % 3) * 0.5)
            } else {
                DialOutcome::Failed(1.0)
            });
        }
        let m = h.model();
        assert_eq!(m.p_no_answer, 0.0);
        let ringing = vec![40.0; 120];
        // Without the ringing calls each looks like a person about to answer…
        assert!(m.human_within(40.0, 20.0, 120.0) > 0.5);
        // …with them, ringing 40 s means unanswered.
        let w = m.with_ringing(&ringing, 120.0);
        assert!(w.p_no_answer > 0.6, "{w:?}");
        assert!(w.human_within(40.0, 20.0, 120.0) < 0.02, "{w:?}");
        // Fresh calls change little: they could still be anything.
        let fresh = m.with_ringing(&[0.5; 5], 120.0);
        assert!((fresh.p_human - m.p_human).abs() < 0.05, "{fresh:?}");
        let shares = w.p_human + w.p_machine + w.p_failed + w.p_no_answer;
        assert!((shares - 1.0).abs() < 1e-9);
        // Nothing ringing: the model as learned.
        assert_eq!(m.with_ringing(&[], 120.0), m);
        // Once the window slides it already counts the slow outcomes.
        for _ in 0..START_WINDOWS * 200 {
            h.dial(DialOutcome::Failed(1.0));
        }
        let full = h.model();
        assert!(!full.from_start);
        assert_eq!(full.with_ringing(&ringing, 120.0), full);
    }
}
