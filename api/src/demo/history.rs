//! The demo's past: a few working days of the demo campaign, simulated on
//! first start so Reports and their charts have something to show at the
//! first sign-in. Each agent works 09:00–17:00 in the contact center's
//! time zone on weekdays, with lunch and the odd break; each call is
//! drawn by the sim carrier's model ([`sim_model::plan`], a consumer
//! list's outcomes: 25 % people, 15 % machines…), one line per agent as
//! the progressive dialer places them; people talk, agents wrap up with
//! the live demo agents' dispositions. Pure: the caller stores the result
//! ([`crate::store::history::insert`]) and records that it did (an audit
//! entry `demo.history`), so demo data says it is.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::campaign::CampaignSettings;
use crate::media::sim_model::{self, SimConfig, SimOutcome};
use crate::store::history::AgentHour;
use crate::store::models::{Call, WrapUp};
use crate::store::presence::hour_pieces;

/// Where the simulated calls belong.
#[derive(Debug, Clone)]
pub struct HistoryScope {
    pub organization_id: String,
    pub contact_center_id: String,
    pub campaign_id: String,
    pub caller_id: String,
    pub time_zone: chrono_tz::Tz,
    pub settings: CampaignSettings,
    /// The agents' user ids.
    pub agents: Vec<String>,
    /// Numbers the calls go to.
    pub phones: Vec<String>,
}

/// What the simulated days produced.
#[derive(Debug, Default)]
pub struct History {
    pub calls: Vec<Call>,
    pub wraps: Vec<WrapUp>,
    pub time: Vec<AgentHour>,
    pub days: Vec<NaiveDate>,
}

/// The `days` weekdays before `now`'s date (in `tz`), oldest first.
pub fn working_days(now: DateTime<Utc>, tz: chrono_tz::Tz, days: u32) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = now.with_timezone(&tz).date_naive();
    while out.len() < days as usize {
        d = match d.pred_opt() {
            Some(p) => p,
            None => break,
        };
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(d);
        }
    }
    out.reverse();
    out
}

fn local(tz: chrono_tz::Tz, day: NaiveDate, h: u32, m: u32) -> Option<NaiveDateTime> {
    let t = day.and_hms_opt(h, m, 0)?;
    Some(tz.from_local_datetime(&t).earliest()?.naive_utc())
}

/// An agent's time, cut at UTC hours as the engine keeps it.
#[derive(Default)]
struct Clock {
    ms: HashMap<(String, NaiveDateTime, &'static str), i64>,
}

impl Clock {
    fn add(&mut self, agent: &str, status: &'static str, from: NaiveDateTime, to: NaiveDateTime) {
        for (hour, ms) in hour_pieces(from, to) {
            *self.ms.entry((agent.to_owned(), hour, status)).or_default() += ms;
        }
    }
}

fn ms(d: f64) -> Duration {
    Duration::milliseconds((d * 1000.0).round() as i64)
}

/// Simulate `days` working days before `now`.
pub fn simulate(scope: &HistoryScope, now: DateTime<Utc>, days: u32, seed: u64) -> History {
    let config = SimConfig::default();
    let ring = f64::from(scope.settings.ring_timeout_secs);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut history = History {
        days: working_days(now, scope.time_zone, days),
        ..History::default()
    };
    let mut clock = Clock::default();
    let mut call_index = 0u64;
    let disposition = |code: &str| scope.settings.disposition(code).ok();
    for day in history.days.clone() {
        let (Some(start), Some(lunch), Some(back), Some(end)) = (
            local(scope.time_zone, day, 9, 0),
            local(scope.time_zone, day, 12, 0),
            local(scope.time_zone, day, 12, 30),
            local(scope.time_zone, day, 17, 0),
        ) else {
            continue;
        };
        for agent in &scope.agents {
            let mut t = start + Duration::seconds(rng.random_range(0..600));
            let mut had_lunch = false;
            while t < end {
                if !had_lunch && t >= lunch {
                    let until = back.max(t);
                    clock.add(agent, "BREAK", t, until);
                    t = until;
                    had_lunch = true;
                    continue;
                }
                call_index += 1;
                let plan = sim_model::plan(&config, seed, call_index, &[], ring);
                let phone = scope
                    .phones
                    .get(rng.random_range(0..scope.phones.len().max(1)))
                    .cloned()
                    .unwrap_or_default();
                let placed = t;
                let mut call = Call {
                    id: crate::store::new_id(),
                    organization_id: scope.organization_id.clone(),
                    contact_center_id: scope.contact_center_id.clone(),
                    campaign_id: Some(scope.campaign_id.clone()),
                    lead_id: None,
                    agent_id: None,
                    target_agent_id: None,
                    origin: "DIALER".into(),
                    phone,
                    caller_id: scope.caller_id.clone(),
                    state: "ENDED".into(),
                    outcome: None,
                    answered_by: None,
                    muted: false,
                    on_hold: false,
                    created_at: placed,
                    dialed_at: Some(placed),
                    answered_at: None,
                    connected_at: None,
                    ended_at: None,
                    updated_at: placed,
                    hold_ms: 0,
                    talk_ms: 0,
                    held_at: None,
                };
                let after = ms(plan.after_secs.min(ring));
                let ended = match plan.outcome {
                    SimOutcome::Human => {
                        let answered = placed + after;
                        let connected = answered + Duration::milliseconds(150);
                        let ended = connected + ms(plan.talk_secs);
                        call.agent_id = Some(agent.clone());
                        call.outcome = Some("COMPLETED".into());
                        call.answered_by = Some("HUMAN".into());
                        call.answered_at = Some(answered);
                        call.connected_at = Some(connected);
                        call.talk_ms = (ended - connected).num_milliseconds() as i32;
                        clock.add(agent, "AVAILABLE", placed, connected);
                        clock.add(agent, "ON_CALL", connected, ended);
                        // The wrap-up: a few seconds to a minute.
                        let wrap = Duration::seconds(rng.random_range(6..60));
                        let (code, notes) = pick(&mut rng);
                        if let Some(d) = disposition(code) {
                            history.wraps.push(WrapUp {
                                id: crate::store::new_id(),
                                organization_id: scope.organization_id.clone(),
                                call_id: call.id.clone(),
                                campaign_id: Some(scope.campaign_id.clone()),
                                lead_id: None,
                                agent_id: agent.clone(),
                                disposition_code: code.to_owned(),
                                notes: notes.to_owned(),
                                automatic: false,
                                created_at: ended + wrap,
                                do_not_call: false,
                                do_not_text: false,
                                invalid_number: None,
                                callback_at: None,
                                callback_agent_id: None,
                                updated_at: None,
                                corrections: 0,
                                wrap_ms: wrap.num_milliseconds() as i32,
                                category: d.category.as_str().to_owned(),
                                conversion: d.conversion,
                                revoke_consent: false,
                            });
                        }
                        clock.add(agent, "WRAP_UP", ended, ended + wrap);
                        t = ended + wrap;
                        if rng.random_ratio(1, 12) {
                            let pause = Duration::seconds(rng.random_range(300..900));
                            clock.add(agent, "BREAK", t, t + pause);
                            t += pause;
                        }
                        ended
                    }
                    SimOutcome::Machine => {
                        let answered = placed + after;
                        let ended = answered + Duration::milliseconds(2_500);
                        call.outcome = Some("MACHINE".into());
                        call.answered_by = Some("MACHINE".into());
                        call.answered_at = Some(answered);
                        clock.add(agent, "AVAILABLE", placed, ended);
                        t = ended;
                        ended
                    }
                    SimOutcome::NoAnswer | SimOutcome::Busy | SimOutcome::Failed => {
                        let (outcome, ended) = match plan.outcome {
                            SimOutcome::NoAnswer => ("NO_ANSWER", placed + ms(ring)),
                            SimOutcome::Busy => ("BUSY", placed + after),
                            _ => ("FAILED", placed + after),
                        };
                        call.outcome = Some(outcome.into());
                        clock.add(agent, "AVAILABLE", placed, ended);
                        t = ended;
                        ended
                    }
                };
                call.ended_at = Some(ended);
                call.updated_at = ended;
                history.calls.push(call);
                // The next line is placed a moment later.
                t += Duration::milliseconds(rng.random_range(200..1_500));
            }
        }
    }
    history.time = clock
        .ms
        .into_iter()
        .map(|((user_id, hour, status), ms)| AgentHour {
            contact_center_id: scope.contact_center_id.clone(),
            hour,
            user_id,
            status: status.to_owned(),
            organization_id: scope.organization_id.clone(),
            ms,
        })
        .collect();
    history
}

/// A disposition as the demo agents give them.
fn pick(rng: &mut StdRng) -> (&'static str, &'static str) {
    let total: u32 = super::DISPOSITIONS.iter().map(|d| d.1).sum();
    let mut n = rng.random_range(0..total.max(1));
    for (code, weight, notes) in super::DISPOSITIONS {
        if n < weight {
            return (code, notes);
        }
        n -= weight;
    }
    (super::DISPOSITIONS[0].0, super::DISPOSITIONS[0].2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> HistoryScope {
        HistoryScope {
            organization_id: "org".into(),
            contact_center_id: "cc".into(),
            campaign_id: "camp".into(),
            caller_id: "+14155550100".into(),
            time_zone: chrono_tz::America::New_York,
            settings: CampaignSettings::defaults(),
            agents: vec!["a1".into(), "a2".into(), "a3".into()],
            phones: vec!["+12125550110".into(), "+12125550111".into()],
        }
    }

    #[test]
    fn weekdays_before_today_oldest_first() {
        // Monday 7 December 2026, noon in New York.
        let now: DateTime<Utc> = "2026-12-07T17:00:00Z".parse().expect("time");
        let days = working_days(now, chrono_tz::America::New_York, 3);
        let want: Vec<NaiveDate> = ["2026-12-02", "2026-12-03", "2026-12-04"]
            .iter()
            .map(|d| d.parse().expect("date"))
            .collect();
        assert_eq!(days, want);
    }

    #[test]
    fn simulated_days_hold_together_as_the_engine_would_have_kept_them() {
        let now: DateTime<Utc> = "2026-12-07T17:00:00Z".parse().expect("time");
        let s = scope();
        let h = simulate(&s, now, 3, 7);
        assert!(h.calls.len() > 1_000, "{} calls", h.calls.len());
        let by_id: HashMap<&str, &Call> = h.calls.iter().map(|c| (c.id.as_str(), c)).collect();
        let tz = s.time_zone;
        let mut per_agent: HashMap<&str, Vec<(NaiveDateTime, NaiveDateTime)>> = HashMap::new();
        for c in &h.calls {
            let ended = c.ended_at.expect("ended");
            assert!(c.created_at <= ended);
            // Placed in working hours, on a past weekday.
            let placed = Utc.from_utc_datetime(&c.created_at).with_timezone(&tz);
            assert!(
                (9..17).contains(&chrono::Timelike::hour(&placed)),
                "{placed}"
            );
            assert!(h.days.contains(&placed.date_naive()));
            match c.outcome.as_deref() {
                Some("COMPLETED") => {
                    let connected = c.connected_at.expect("connected");
                    assert_eq!(i64::from(c.talk_ms), (ended - connected).num_milliseconds());
                    per_agent
                        .entry(c.agent_id.as_deref().expect("agent"))
                        .or_default()
                        .push((c.created_at, ended));
                }
                Some("MACHINE" | "NO_ANSWER" | "BUSY" | "FAILED") => {
                    assert!(c.agent_id.is_none() && c.connected_at.is_none())
                }
                other => panic!("outcome {other:?}"),
            }
        }
        // An agent has one call at a time.
        for calls in per_agent.values_mut() {
            calls.sort();
            for w in calls.windows(2) {
                assert!(w[0].1 <= w[1].0, "{:?} overlaps {:?}", w[0], w[1]);
            }
        }
        // Every connected call is wrapped up once, after it ended, with a
        // disposition the campaign has.
        let completed = h
            .calls
            .iter()
            .filter(|c| c.outcome.as_deref() == Some("COMPLETED"))
            .count();
        assert_eq!(h.wraps.len(), completed);
        for w in &h.wraps {
            let c = by_id[w.call_id.as_str()];
            assert!(w.created_at >= c.ended_at.expect("ended"));
            assert!(s.settings.disposition(&w.disposition_code).is_ok());
        }
        // About a quarter of the calls reach a person (the sim's list).
        let share = completed as f64 / h.calls.len() as f64;
        assert!((0.15..0.35).contains(&share), "{share}");
        // Each agent's day adds up to about eight hours.
        let total: i64 = h.time.iter().map(|t| t.ms).sum();
        let per_day = total as f64 / 3_600_000.0 / (3.0 * s.agents.len() as f64);
        assert!((7.5..8.5).contains(&per_day), "{per_day} h");
        // Repeatable from its seed.
        let again = simulate(&s, now, 3, 7);
        assert_eq!(again.calls.len(), h.calls.len());
    }
}
