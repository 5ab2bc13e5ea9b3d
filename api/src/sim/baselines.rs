//! The baselines Pinline's pacer is compared with, re-implemented from
//! their public descriptions for the simulator only (never used to dial):
//!
//! - VICIdial's ADAPT_TAPERED dial method: a call placer every 2.5 s
//!   placing `round(level × agents) − live calls`; a sampler every second
//!   keeping the last 15 samples of ready agents R, calls waiting for an
//!   agent W and agents logged in T; every 15 s `m = (mean R − mean W) /
//!   mean T`, `p = 100·m` scaled by the intensity, `level ← level·(1 +
//!   p/100)` within [1, max]; drop brakes: more than 20 answers in the last
//!   minute with over half dropped halves the level; more than 50 answers
//!   today with dropped/answered over the limit tapers the level toward 1.0
//!   as the day's end nears. It drops a call after 5 s waiting.
//! - Progressive 1:1 is the production [`crate::dialer::pacer::Progressive`].
//! - The clairvoyant bound lives in the simulator's run loop: it knows each
//!   lead's outcome, ring time and talk time before dialing.

use std::collections::VecDeque;

/// VICIdial waits this long for an agent before dropping a call.
pub const VICIDIAL_DROP_SECS: f64 = 5.0;
pub const VICIDIAL_PLACER_SECS: f64 = 2.5;
pub const VICIDIAL_SAMPLE_SECS: f64 = 1.0;
pub const VICIDIAL_ADJUST_SECS: f64 = 15.0;
const SAMPLES: usize = 15;

/// One sampler reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub ready: u32,
    pub waiting: u32,
    pub total: u32,
}

#[derive(Debug, Clone)]
pub struct AdaptTapered {
    pub level: f64,
    pub max_level: f64,
    /// VICIdial's "adaptive intensity" (−40 … 40); 0 is neutral.
    pub intensity: f64,
    pub drop_limit: f64,
    samples: VecDeque<Sample>,
    /// Answers in the last minute: when, and whether dropped.
    minute: VecDeque<(f64, bool)>,
    pub answered_today: u64,
    pub dropped_today: u64,
}

impl AdaptTapered {
    /// The settings the comparison uses: intensity 0, drop limit as the
    /// campaign's, starting level 1.0, maximum 3.0.
    pub fn new(drop_limit: f64) -> Self {
        AdaptTapered {
            level: 1.0,
            max_level: 3.0,
            intensity: 0.0,
            drop_limit,
            samples: VecDeque::with_capacity(SAMPLES),
            minute: VecDeque::new(),
            answered_today: 0,
            dropped_today: 0,
        }
    }

    /// The call placer: how many calls to place now.
    pub fn to_place(&self, total_agents: u32, live_calls: u32) -> u32 {
        let want = (self.level * f64::from(total_agents)).round() as i64;
        (want - i64::from(live_calls)).max(0) as u32
    }

    pub fn sample(&mut self, s: Sample) {
        self.samples.push_back(s);
        while self.samples.len() > SAMPLES {
            self.samples.pop_front();
        }
    }

    /// A live answer resolved: with an agent, or dropped after 5 s.
    pub fn answered(&mut self, at: f64, dropped: bool) {
        self.minute.push_back((at, dropped));
        self.answered_today += 1;
        self.dropped_today += u64::from(dropped);
    }

    /// The 15-second adjustment at `now`, with the day running from
    /// `day_start` to `day_end` (the taper's end).
    pub fn adjust(&mut self, now: f64, day_start: f64, day_end: f64) {
        while self.minute.front().is_some_and(|(t, _)| now - t > 60.0) {
            self.minute.pop_front();
        }
        if !self.samples.is_empty() {
            let n = self.samples.len() as f64;
            let mean = |f: fn(&Sample) -> u32| {
                self.samples.iter().map(|s| f64::from(f(s))).sum::<f64>() / n
            };
            let (r, w, t) = (mean(|s| s.ready), mean(|s| s.waiting), mean(|s| s.total));
            if t > 0.0 {
                let m = (r - w) / t;
                let mut p = 100.0 * m;
                let i = self.intensity;
                p = if p < 0.0 {
                    p * (i / 100.0 - 1.0).abs()
                } else {
                    p * (i / 100.0 + 1.0)
                };
                self.level *= 1.0 + p / 100.0;
            }
        }
        let recent = self.minute.len();
        let dropped = self.minute.iter().filter(|(_, d)| *d).count();
        if recent > 20 && dropped * 2 > recent {
            self.level /= 2.0;
        }
        if self.answered_today > 50
            && self.dropped_today as f64 / self.answered_today as f64 > self.drop_limit
        {
            let left = ((day_end - now) / (day_end - day_start).max(1.0)).clamp(0.0, 1.0);
            self.level = 1.0 + (self.level - 1.0) * left;
        }
        self.level = self.level.clamp(1.0, self.max_level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(v: &mut AdaptTapered, s: Sample) {
        for _ in 0..15 {
            v.sample(s);
        }
    }

    #[test]
    fn the_placer_rounds_level_times_agents_less_live_calls() {
        let mut v = AdaptTapered::new(0.03);
        v.level = 1.5;
        assert_eq!(v.to_place(5, 2), 6, "round(7.5) = 8, less 2");
        assert_eq!(v.to_place(5, 9), 0);
    }

    #[test]
    fn idle_agents_raise_the_level_and_waiting_calls_lower_it() {
        let mut v = AdaptTapered::new(0.03);
        // 5 of 20 ready, none waiting: m = 0.25 → level × 1.25.
        fill(
            &mut v,
            Sample {
                ready: 5,
                waiting: 0,
                total: 20,
            },
        );
        v.adjust(100.0, 0.0, 14_400.0);
        assert!((v.level - 1.25).abs() < 1e-9, "{}", v.level);
        // 0 ready, 4 waiting of 20: m = −0.2 → × 0.8.
        fill(
            &mut v,
            Sample {
                ready: 0,
                waiting: 4,
                total: 20,
            },
        );
        v.adjust(115.0, 0.0, 14_400.0);
        assert!((v.level - 1.0).abs() < 1e-9, "{}", v.level);
        // Never under 1.0, never over the maximum.
        v.adjust(130.0, 0.0, 14_400.0);
        assert_eq!(v.level, 1.0);
        fill(
            &mut v,
            Sample {
                ready: 20,
                waiting: 0,
                total: 20,
            },
        );
        for k in 0..5 {
            v.adjust(145.0 + 15.0 * f64::from(k), 0.0, 14_400.0);
        }
        assert_eq!(v.level, 3.0);
    }

    #[test]
    fn intensity_scales_the_step() {
        let mut v = AdaptTapered::new(0.03);
        v.intensity = 20.0;
        fill(
            &mut v,
            Sample {
                ready: 2,
                waiting: 0,
                total: 20,
            },
        );
        v.adjust(15.0, 0.0, 1000.0);
        // p = 10 × 1.2 = 12 → level 1.12.
        assert!((v.level - 1.12).abs() < 1e-9, "{}", v.level);
        v.level = 2.0;
        fill(
            &mut v,
            Sample {
                ready: 0,
                waiting: 2,
                total: 20,
            },
        );
        v.adjust(30.0, 0.0, 1000.0);
        // p = −10 × |0.2 − 1| = −8 → level 1.84.
        assert!((v.level - 1.84).abs() < 1e-9, "{}", v.level);
    }

    /// A level-`level` dialer, all 10 agents busy and nothing waiting,
    /// after `answers` live answers (at 0 s, 1 s, …) of which `dropped`
    /// says which were dropped, adjusted at `now` of a 10,000 s day.
    fn braked(level: f64, start: f64, answers: u32, dropped: fn(u32) -> bool, now: f64) -> f64 {
        let mut v = AdaptTapered::new(0.03);
        v.level = level;
        let busy = Sample {
            ready: 0,
            waiting: 0,
            total: 10,
        };
        fill(&mut v, busy);
        for k in 0..answers {
            v.answered(start + f64::from(k), dropped(k));
        }
        v.adjust(now, 0.0, 10_000.0);
        v.level
    }

    #[test]
    fn the_drop_brakes() {
        // More than half of over 20 answers in the last minute dropped.
        let l = braked(2.0, 50.0, 22, |k| k % 3 != 0, 75.0);
        assert!((l - 1.0).abs() < 1e-9, "halved: {l}");
        // Answers older than a minute no longer count for the first brake;
        // the day is over the limit: taper halfway through the day.
        let l = braked(3.0, 0.0, 60, |k| k < 10, 5_000.0);
        assert!((l - 2.0).abs() < 1e-9, "1 + 2 × ½: {l}");
        // Under the limit: no taper.
        assert_eq!(braked(3.0, 0.0, 60, |k| k == 0, 5_000.0), 3.0);
    }
}
