//! Campaign analytics and agent performance, folded from hourly groups.
//! Pure: the store's aggregate queries hand in rows grouped by UTC hour;
//! this turns them into totals, rates, hours and local days.
//!
//! Definitions (docs/api.md "Reports" says the same in words):
//! - attempts: calls placed; live answers: answered by a person;
//!   connects: calls connected to an agent; abandoned: live answers that
//!   found no agent within 2 s.
//! - abandonment rate = abandoned ÷ live answers; answering-machine rate =
//!   machine answers ÷ all answers.
//! - contacts: wrap-ups whose disposition category is not NON_CONTACT (a
//!   conversation with the right party); conversions: wrap-ups whose
//!   disposition is flagged `conversion`; conversion rate = conversions ÷
//!   contacts.
//! - average talk and hold are per connect; average wrap per wrap-up;
//!   calls (contacts) per hour = attempts (contacts) ÷ the hours in which
//!   the campaign placed at least one call.
//! - agent occupancy = handle time (talk + hold + wrap) ÷ (handle + idle),
//!   idle being time Available; average handle time = handle ÷ calls.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// Calls of one hour sharing outcome, answer and reach (from the store).
#[derive(Debug, Clone, PartialEq)]
pub struct CallRow {
    pub hour: NaiveDateTime,
    pub outcome: Option<String>,
    pub answered_by: Option<String>,
    pub dialed: bool,
    pub connected: bool,
    pub calls: i64,
    pub talk_ms: i64,
    pub hold_ms: i64,
}

/// Wrap-ups of one hour sharing a disposition (from the store).
#[derive(Debug, Clone, PartialEq)]
pub struct WrapRow {
    pub hour: NaiveDateTime,
    pub disposition_code: String,
    pub category: String,
    pub conversion: bool,
    pub wrap_ups: i64,
    pub wrap_ms: i64,
}

/// What one hour of a campaign amounted to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HourFigures {
    pub hour: NaiveDateTime,
    pub attempts: i64,
    pub live_answers: i64,
    pub connects: i64,
    pub abandoned: i64,
    pub contacts: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

/// A campaign over a range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignFigures {
    pub attempts: i64,
    pub live_answers: i64,
    pub machine_answers: i64,
    pub connects: i64,
    pub abandoned: i64,
    pub wrap_ups: i64,
    pub contacts: i64,
    pub conversions: i64,
    pub abandon_rate: f64,
    pub machine_rate: f64,
    pub conversion_rate: f64,
    pub avg_talk_secs: f64,
    pub avg_hold_secs: f64,
    pub avg_wrap_secs: f64,
    pub calls_per_hour: f64,
    pub contacts_per_hour: f64,
    pub outcomes: Vec<Count>,
    pub dispositions: Vec<Count>,
    pub categories: Vec<Count>,
    pub hours: Vec<HourFigures>,
}

/// `a ÷ b`, 0 when there is nothing to divide.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn counts(map: BTreeMap<String, i64>) -> Vec<Count> {
    map.into_iter()
        .map(|(key, count)| Count { key, count })
        .collect()
}

/// Whether a wrap-up of this disposition category is a contact (a
/// conversation with the right party).
pub fn is_contact(category: &str) -> bool {
    category != "NON_CONTACT"
}

pub fn campaign(calls: &[CallRow], wraps: &[WrapRow]) -> CampaignFigures {
    let mut f = CampaignFigures::default();
    let mut hours: BTreeMap<NaiveDateTime, HourFigures> = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    let (mut talk, mut hold, mut wrap) = (0i64, 0i64, 0i64);
    for r in calls.iter().filter(|r| r.dialed) {
        let h = hours.entry(r.hour).or_insert_with(|| HourFigures {
            hour: r.hour,
            ..Default::default()
        });
        h.attempts += r.calls;
        f.attempts += r.calls;
        match r.answered_by.as_deref() {
            Some("HUMAN") => {
                h.live_answers += r.calls;
                f.live_answers += r.calls;
            }
            Some("MACHINE") => f.machine_answers += r.calls,
            _ => {}
        }
        if r.connected {
            h.connects += r.calls;
            f.connects += r.calls;
            talk += r.talk_ms;
            hold += r.hold_ms;
        }
        if r.outcome.as_deref() == Some("ABANDONED") {
            h.abandoned += r.calls;
            f.abandoned += r.calls;
        }
        *outcomes
            .entry(r.outcome.clone().unwrap_or_else(|| "IN_PROGRESS".into()))
            .or_insert(0) += r.calls;
    }
    let active_hours = hours.len() as f64;
    let mut dispositions = BTreeMap::new();
    let mut categories = BTreeMap::new();
    for w in wraps {
        f.wrap_ups += w.wrap_ups;
        wrap += w.wrap_ms;
        *dispositions.entry(w.disposition_code.clone()).or_insert(0) += w.wrap_ups;
        *categories.entry(w.category.clone()).or_insert(0) += w.wrap_ups;
        if is_contact(&w.category) {
            f.contacts += w.wrap_ups;
            hours
                .entry(w.hour)
                .or_insert_with(|| HourFigures {
                    hour: w.hour,
                    ..Default::default()
                })
                .contacts += w.wrap_ups;
        }
        if w.conversion {
            f.conversions += w.wrap_ups;
        }
    }
    f.abandon_rate = ratio(f.abandoned as f64, f.live_answers as f64);
    f.machine_rate = ratio(
        f.machine_answers as f64,
        (f.live_answers + f.machine_answers) as f64,
    );
    f.conversion_rate = ratio(f.conversions as f64, f.contacts as f64);
    f.avg_talk_secs = ratio(talk as f64 / 1000.0, f.connects as f64);
    f.avg_hold_secs = ratio(hold as f64 / 1000.0, f.connects as f64);
    f.avg_wrap_secs = ratio(wrap as f64 / 1000.0, f.wrap_ups as f64);
    f.calls_per_hour = ratio(f.attempts as f64, active_hours);
    f.contacts_per_hour = ratio(f.contacts as f64, active_hours);
    f.outcomes = counts(outcomes);
    f.dispositions = counts(dispositions);
    f.categories = counts(categories);
    f.hours = hours.into_values().collect();
    f
}

/// An agent's calls of one hour (from the store).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentCallRow {
    pub agent_id: String,
    pub hour: NaiveDateTime,
    pub calls: i64,
    pub talk_ms: i64,
    pub hold_ms: i64,
}

/// An agent's wrap-ups of one hour with one disposition (from the store).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentWrapRow {
    pub agent_id: String,
    pub hour: NaiveDateTime,
    pub disposition_code: String,
    pub wrap_ups: i64,
    pub wrap_ms: i64,
}

/// An agent's time in one status within one hour.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentTimeRow {
    pub agent_id: String,
    pub hour: NaiveDateTime,
    pub status: String,
    pub ms: i64,
}

/// Sums for one agent (or a whole contact center) over some time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentSums {
    pub calls: i64,
    pub talk_ms: i64,
    pub hold_ms: i64,
    pub wrap_ups: i64,
    pub wrap_ms: i64,
    pub idle_ms: i64,
    pub break_ms: i64,
    pub dispositions: BTreeMap<String, i64>,
}

impl AgentSums {
    fn add(&mut self, o: &AgentSums) {
        self.calls += o.calls;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.wrap_ups += o.wrap_ups;
        self.wrap_ms += o.wrap_ms;
        self.idle_ms += o.idle_ms;
        self.break_ms += o.break_ms;
        for (k, v) in &o.dispositions {
            *self.dispositions.entry(k.clone()).or_insert(0) += v;
        }
    }

    pub fn handle_ms(&self) -> i64 {
        self.talk_ms + self.hold_ms + self.wrap_ms
    }

    pub fn occupancy(&self) -> f64 {
        ratio(
            self.handle_ms() as f64,
            (self.handle_ms() + self.idle_ms) as f64,
        )
    }

    pub fn avg_handle_secs(&self) -> f64 {
        ratio(self.handle_ms() as f64 / 1000.0, self.calls as f64)
    }

    pub fn disposition_counts(&self) -> Vec<Count> {
        counts(self.dispositions.clone())
    }
}

/// One agent over a range: per local day and in total.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentFigures {
    pub agent_id: String,
    pub days: BTreeMap<NaiveDate, AgentSums>,
    pub total: AgentSums,
}

/// A contact center over a range: each agent, and everyone together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamFigures {
    pub agents: Vec<AgentFigures>,
    pub days: BTreeMap<NaiveDate, AgentSums>,
    pub total: AgentSums,
}

/// Fold hourly rows into agents and local days in `zone` (an hour belongs
/// to the local day it starts in).
pub fn team(
    calls: &[AgentCallRow],
    wraps: &[AgentWrapRow],
    time: &[AgentTimeRow],
    zone: Tz,
) -> TeamFigures {
    let day = |h: NaiveDateTime| zone.from_utc_datetime(&h).date_naive();
    let mut by_agent: BTreeMap<String, BTreeMap<NaiveDate, AgentSums>> = BTreeMap::new();
    fn at<'m>(
        m: &'m mut BTreeMap<String, BTreeMap<NaiveDate, AgentSums>>,
        agent: &str,
        day: NaiveDate,
    ) -> &'m mut AgentSums {
        m.entry(agent.to_owned())
            .or_default()
            .entry(day)
            .or_default()
    }
    for c in calls {
        let s = at(&mut by_agent, &c.agent_id, day(c.hour));
        s.calls += c.calls;
        s.talk_ms += c.talk_ms;
        s.hold_ms += c.hold_ms;
    }
    for w in wraps {
        let s = at(&mut by_agent, &w.agent_id, day(w.hour));
        s.wrap_ups += w.wrap_ups;
        s.wrap_ms += w.wrap_ms;
        *s.dispositions
            .entry(w.disposition_code.clone())
            .or_insert(0) += w.wrap_ups;
    }
    for t in time {
        match t.status.as_str() {
            "AVAILABLE" => at(&mut by_agent, &t.agent_id, day(t.hour)).idle_ms += t.ms,
            "BREAK" => at(&mut by_agent, &t.agent_id, day(t.hour)).break_ms += t.ms,
            _ => {}
        }
    }
    let mut out = TeamFigures::default();
    for (agent_id, days) in by_agent {
        let mut total = AgentSums::default();
        for (d, s) in &days {
            total.add(s);
            out.days.entry(*d).or_default().add(s);
        }
        out.total.add(&total);
        out.agents.push(AgentFigures {
            agent_id,
            days,
            total,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn call(hour: &str, outcome: &str, by: Option<&str>, connected: bool, n: i64) -> CallRow {
        CallRow {
            hour: h(hour),
            outcome: Some(outcome.into()),
            answered_by: by.map(Into::into),
            dialed: outcome != "SKIPPED",
            connected,
            calls: n,
            talk_ms: if connected { n * 60_000 } else { 0 },
            hold_ms: if connected { n * 10_000 } else { 0 },
        }
    }

    #[test]
    fn campaign_rates_and_hours() {
        let calls = [
            call("2026-11-24 17:00:00", "COMPLETED", Some("HUMAN"), true, 3),
            call("2026-11-24 17:00:00", "ABANDONED", Some("HUMAN"), false, 1),
            call("2026-11-24 18:00:00", "MACHINE", Some("MACHINE"), false, 2),
            call("2026-11-24 18:00:00", "NO_ANSWER", None, false, 4),
            call("2026-11-24 18:00:00", "SKIPPED", None, false, 5),
        ];
        let w = |code: &str, cat: &str, conv: bool, n: i64| WrapRow {
            hour: h("2026-11-24 17:00:00"),
            disposition_code: code.into(),
            category: cat.into(),
            conversion: conv,
            wrap_ups: n,
            wrap_ms: n * 20_000,
        };
        let f = campaign(
            &calls,
            &[
                w("INTERESTED", "CONTACT", true, 1),
                w("NOT_INTERESTED", "FINAL", false, 1),
                w("LEFT_VOICEMAIL", "NON_CONTACT", false, 1),
            ],
        );
        assert_eq!((f.attempts, f.live_answers, f.machine_answers), (10, 4, 2));
        assert_eq!(
            (f.connects, f.abandoned, f.contacts, f.conversions),
            (3, 1, 2, 1)
        );
        assert_eq!(f.abandon_rate, 0.25);
        assert!((f.machine_rate - 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(f.conversion_rate, 0.5);
        assert_eq!(
            (f.avg_talk_secs, f.avg_hold_secs, f.avg_wrap_secs),
            (60.0, 10.0, 20.0)
        );
        assert_eq!((f.calls_per_hour, f.contacts_per_hour), (5.0, 1.0));
        assert_eq!(f.hours.len(), 2);
        assert_eq!(f.hours[0].attempts, 4);
        assert_eq!(f.hours[0].contacts, 2);
        assert!(!f.outcomes.iter().any(|c| c.key == "SKIPPED"));
    }

    #[test]
    fn nothing_divides_to_zero() {
        let f = campaign(&[], &[]);
        assert_eq!(
            (f.abandon_rate, f.calls_per_hour, f.avg_talk_secs),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn team_days_follow_the_contact_centers_zone() {
        // 03:00 UTC on the 25th is the evening of the 24th in New York.
        let calls = [
            AgentCallRow {
                agent_id: "a".into(),
                hour: h("2026-11-25 03:00:00"),
                calls: 2,
                talk_ms: 100_000,
                hold_ms: 20_000,
            },
            AgentCallRow {
                agent_id: "b".into(),
                hour: h("2026-11-25 15:00:00"),
                calls: 1,
                talk_ms: 50_000,
                hold_ms: 0,
            },
        ];
        let wraps = [AgentWrapRow {
            agent_id: "a".into(),
            hour: h("2026-11-25 03:00:00"),
            disposition_code: "INTERESTED".into(),
            wrap_ups: 2,
            wrap_ms: 40_000,
        }];
        let time = [AgentTimeRow {
            agent_id: "a".into(),
            hour: h("2026-11-25 03:00:00"),
            status: "AVAILABLE".into(),
            ms: 160_000,
        }];
        let t = team(&calls, &wraps, &time, Tz::America__New_York);
        let a = &t.agents[0];
        let d24 = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(a.days.keys().copied().collect::<Vec<_>>(), vec![d24]);
        assert_eq!(a.total.handle_ms(), 160_000);
        assert_eq!(a.total.occupancy(), 0.5);
        assert_eq!(a.total.avg_handle_secs(), 80.0);
        assert_eq!(t.days.len(), 2);
        assert_eq!(t.total.calls, 3);
    }
}
