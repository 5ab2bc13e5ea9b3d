//! A simulation scenario: the team, how dials turn out (rates that may
//! change during the day), the durations, the campaign's limits. Written as
//! TOML; every field has the standard scenarios' common value as default,
//! so a file only says what differs.

use serde::{Deserialize, Serialize};

use crate::domain::campaign::DEFAULT_MAX_ABANDON_RATE;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read the scenario {0}: {1}")]
    Read(String, std::io::Error),
    #[error("the scenario {0} is not valid TOML for a scenario: {1}")]
    Parse(String, String),
    #[error("the scenario {name} is not usable: {why}")]
    Invalid { name: String, why: String },
}

/// A duration distribution: lognormal by its mean and standard deviation in
/// seconds (a standard deviation of 0 is a fixed duration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spread {
    pub mean: f64,
    #[serde(default)]
    pub sd: f64,
}

/// A group of agents with the same shift (hours from the start of the day).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub count: u32,
    #[serde(default)]
    pub from_hour: f64,
    /// Until the end of the day when absent.
    #[serde(default)]
    pub to_hour: Option<f64>,
}

/// The team: a head count logged in all day, or shifts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Team {
    AllDay(u32),
    Shifts(Vec<Shift>),
}

/// How dials turn out from a given hour on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    #[serde(default)]
    pub from_hour: f64,
    pub human: f64,
    pub machine: f64,
    /// Busy or failed: ends after `failed_secs`.
    pub failed: f64,
}

fn d_hours() -> f64 {
    4.0
}
fn d_seeds() -> u32 {
    20
}
fn d_rates() -> Vec<Rates> {
    vec![Rates {
        from_hour: 0.0,
        human: 0.25,
        machine: 0.10,
        failed: 0.10,
    }]
}
fn d_failed() -> f64 {
    3.0
}
fn d_answer() -> Spread {
    Spread {
        mean: 12.0,
        sd: 6.0,
    }
}
fn d_timeout() -> f64 {
    25.0
}
fn d_talk() -> Spread {
    Spread {
        mean: 120.0,
        sd: 90.0,
    }
}
fn d_wrap() -> Spread {
    Spread {
        mean: 15.0,
        sd: 0.0,
    }
}
fn d_connect() -> f64 {
    2.0
}
fn d_limit() -> f64 {
    DEFAULT_MAX_ABANDON_RATE
}
fn d_ratio() -> f64 {
    crate::domain::campaign::CampaignSettings::defaults().max_dial_ratio
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "d_hours")]
    pub hours: f64,
    /// How many seeds a full run takes (1, 2, … this many).
    #[serde(default = "d_seeds")]
    pub seeds: u32,
    pub agents: Team,
    /// Leads to call; unlimited when absent.
    #[serde(default)]
    pub leads: Option<u64>,
    /// Dial outcomes; each entry holds from its hour until the next one's.
    #[serde(default = "d_rates")]
    pub rates: Vec<Rates>,
    #[serde(default = "d_failed")]
    pub failed_secs: f64,
    /// Time to a person's or a machine's answer (truncated at the timeout).
    #[serde(default = "d_answer")]
    pub answer_time: Spread,
    #[serde(default = "d_timeout")]
    pub ring_timeout_secs: f64,
    #[serde(default = "d_talk")]
    pub talk: Spread,
    #[serde(default = "d_wrap")]
    pub wrap: Spread,
    /// A live answer not with an agent within this is abandoned.
    #[serde(default = "d_connect")]
    pub connect_within_secs: f64,
    #[serde(default = "d_limit")]
    pub max_abandon_rate: f64,
    #[serde(default = "d_ratio")]
    pub max_dial_ratio: f64,
}

/// The standard scenario set (scenarios/S1.toml … S7.toml), built in.
pub const STANDARD: [(&str, &str); 7] = [
    ("S1", include_str!("../../../scenarios/S1.toml")),
    ("S2", include_str!("../../../scenarios/S2.toml")),
    ("S3", include_str!("../../../scenarios/S3.toml")),
    ("S4", include_str!("../../../scenarios/S4.toml")),
    ("S5", include_str!("../../../scenarios/S5.toml")),
    ("S6", include_str!("../../../scenarios/S6.toml")),
    ("S7", include_str!("../../../scenarios/S7.toml")),
];

impl Scenario {
    pub fn parse(name: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario =
            toml::from_str(text).map_err(|e| ScenarioError::Parse(name.into(), e.to_string()))?;
        s.check()?;
        Ok(s)
    }

    /// A standard scenario by name (S1 … S7), or a file.
    pub fn load(arg: &str) -> Result<Scenario, ScenarioError> {
        if let Some((_, text)) = STANDARD.iter().find(|(n, _)| n.eq_ignore_ascii_case(arg)) {
            return Scenario::parse(arg, text);
        }
        let text =
            std::fs::read_to_string(arg).map_err(|e| ScenarioError::Read(arg.to_owned(), e))?;
        Scenario::parse(arg, &text)
    }

    pub fn standard() -> Vec<Scenario> {
        STANDARD
            .iter()
            .filter_map(|(n, t)| Scenario::parse(n, t).ok())
            .collect()
    }

    pub fn shifts(&self) -> Vec<Shift> {
        match &self.agents {
            Team::AllDay(n) => vec![Shift {
                count: *n,
                from_hour: 0.0,
                to_hour: None,
            }],
            Team::Shifts(s) => s.clone(),
        }
    }

    pub fn agent_count(&self) -> u32 {
        self.shifts().iter().map(|s| s.count).sum()
    }

    /// The rates in force at `hour`.
    pub fn rates_at(&self, hour: f64) -> Rates {
        let mut r = self.rates[0];
        for x in &self.rates {
            if x.from_hour <= hour {
                r = *x;
            }
        }
        r
    }

    fn check(&self) -> Result<(), ScenarioError> {
        let bad = |why: String| {
            Err(ScenarioError::Invalid {
                name: self.name.clone(),
                why,
            })
        };
        if !(self.hours > 0.0 && self.hours <= 24.0 * 7.0) {
            return bad(format!(
                "hours must be over 0 and at most a week, not {}",
                self.hours
            ));
        }
        if self.agent_count() == 0 {
            return bad("it needs at least one agent".into());
        }
        if self.agent_count() > 5000 {
            return bad("at most 5000 agents".into());
        }
        for s in self.shifts() {
            let end = s.to_hour.unwrap_or(self.hours);
            if s.from_hour < 0.0 || end <= s.from_hour {
                return bad(format!(
                    "a shift must end after it starts (from {} to {end})",
                    s.from_hour
                ));
            }
        }
        if self.rates.is_empty() {
            return bad("rates needs at least one entry".into());
        }
        for r in &self.rates {
            let all = [r.human, r.machine, r.failed];
            if all.iter().any(|p| !(0.0..=1.0).contains(p)) || all.iter().sum::<f64>() > 1.0 + 1e-9
            {
                return bad(format!(
                    "rates from hour {}: human, machine and failed must be chances that add up to at most 1",
                    r.from_hour
                ));
            }
        }
        for (what, s) in [
            ("answer_time", self.answer_time),
            ("talk", self.talk),
            ("wrap", self.wrap),
        ] {
            if !(s.mean > 0.0 && s.sd >= 0.0 && s.mean.is_finite() && s.sd.is_finite()) {
                return bad(format!(
                    "{what}: the mean must be over 0 and the sd at least 0"
                ));
            }
        }
        if self.ring_timeout_secs < 15.0 {
            return bad("ring_timeout_secs: unanswered calls ring at least 15 seconds".into());
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(self.connect_within_secs) || !positive(self.failed_secs) {
            return bad("connect_within_secs and failed_secs must be over 0".into());
        }
        if !(self.max_abandon_rate > 0.0 && self.max_abandon_rate < 1.0) {
            return bad("max_abandon_rate must be between 0 and 1".into());
        }
        if !(1.0..=5.0).contains(&self.max_dial_ratio) {
            return bad("max_dial_ratio must be between 1.0 and 5.0".into());
        }
        if self.seeds == 0 {
            return bad("seeds must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_set_parses_with_its_changes() {
        let all = Scenario::standard();
        assert_eq!(all.len(), 7);
        let s1 = &all[0];
        assert_eq!(s1.agent_count(), 20);
        assert_eq!(s1.hours, 4.0);
        assert_eq!(s1.rates_at(3.0).human, 0.25);
        assert_eq!(all[1].agent_count(), 5);
        assert_eq!(all[2].agent_count(), 100);
        assert_eq!(all[3].rates_at(0.0).human, 0.10);
        assert_eq!(all[4].rates_at(1.9).human, 0.30);
        assert_eq!(all[4].rates_at(2.0).human, 0.10);
        assert_eq!(
            all[5].talk,
            Spread {
                mean: 45.0,
                sd: 30.0
            }
        );
        assert_eq!(
            all[6].talk,
            Spread {
                mean: 300.0,
                sd: 200.0
            }
        );
        assert!(
            all.iter()
                .all(|s| s.wrap.mean == 15.0 && s.connect_within_secs == 2.0)
        );
    }

    #[test]
    fn bad_scenarios_are_refused_by_name() {
        let e = Scenario::parse("x", "name = \"x\"\nagents = 0").unwrap_err();
        assert!(e.to_string().contains("at least one agent"), "{e}");
        let e =
            Scenario::parse("x", "name = \"x\"\nagents = 3\nring_timeout_secs = 10").unwrap_err();
        assert!(e.to_string().contains("at least 15 seconds"), "{e}");
        let e = Scenario::parse("x", "name = \"x\"\nagents = 3\nbogus = 1").unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Scenario::parse(
            "x",
            "name = \"x\"\nagents = 3\n[[rates]]\nhuman = 0.9\nmachine = 0.2\nfailed = 0.0",
        )
        .unwrap_err();
        assert!(e.to_string().contains("add up to at most 1"), "{e}");
        assert!(matches!(
            Scenario::load("/nonexistent.toml"),
            Err(ScenarioError::Read(..))
        ));
    }
}
