//! The eligibility gate: may this lead be dialed now, and if not, exactly
//! why. A pure function of the lead, its campaign, the organization's lists
//! and `now`; the claim and the engine both ask it, and the compliance trail
//! records its answer with the facts it used.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::campaign::{ABANDON_LOCKOUT, CampaignState, DialMode, str_enum};
use super::consent::{ConsentKind, ConsentPolicy};
use super::jurisdiction::{Law, Rule};
use super::phone::Refused;
use super::window::CallingWindow;

/// Where a lead stands in its campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeadStatus {
    /// Never tried.
    New,
    /// Tried; due again at `not_before`.
    Retry,
    /// A callback is scheduled at `not_before`.
    Callback,
    /// Claimed by the dialer: a call is being placed or is in progress.
    Dialing,
    /// Nothing more to do.
    Finished,
    /// Accepted, but its time zone is unknown: never dialed until fixed.
    NeedsTimeZone,
}

str_enum!(LeadStatus {
    New => "NEW",
    Retry => "RETRY",
    Callback => "CALLBACK",
    Dialing => "DIALING",
    Finished => "FINISHED",
    NeedsTimeZone => "NEEDS_TIME_ZONE",
});

/// What the gate knows about the lead.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadFacts<'a> {
    pub status: LeadStatus,
    pub time_zone: Option<Tz>,
    /// Other zones the lead may be in, whose clocks must allow the call
    /// too: those its number leaves possible (a split area code, or a zone
    /// given for the lead that its number does not confirm and nobody
    /// verified). The windows are the later opening and the earlier close.
    pub also_zones: &'a [Tz],
    /// Attempts so far.
    pub attempts: u32,
    /// When recent attempts started (at least the last 48 hours'), for the
    /// per-day limit in the lead's local day.
    pub recent_attempts: &'a [DateTime<Utc>],
    /// Not before this moment (a retry's or a callback's due time).
    pub not_before: Option<DateTime<Utc>>,
    /// The last abandoned attempt, for the predictive 72-hour lockout.
    pub last_abandoned_at: Option<DateTime<Utc>>,
    /// What the organization's calls say about the lead's number.
    pub number: NumberFacts<'a>,
    /// The rules of the called party's jurisdictions.
    pub law: Law<'a>,
    /// The consent standing for the number (the organization's log).
    pub consent: ConsentKind,
    /// The number's class when it is one never dialed as a lead (toll-free
    /// only by campaigns that allow it).
    pub refused_type: Option<Refused>,
}

/// What the organization's calls say about a number, whichever campaign,
/// contact center or lead (or agent, by hand) made them: the law counts
/// calls to a number, not to a lead.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NumberFacts<'a> {
    /// A call to the number is under way.
    pub in_call: bool,
    /// The last call to the number that was abandoned.
    pub last_abandoned_at: Option<DateTime<Utc>>,
    /// When calls to the number were placed, at least over the longest
    /// window of the caps that apply ([`number_history_window`]).
    pub recent_calls: &'a [DateTime<Utc>],
}

/// At most `max` calls to one number in any `within`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollingCap {
    pub max: u32,
    pub within: Duration,
}

/// How far back a number's calls matter to the gate under `law`: its
/// longest cap window or abandon lockout, or the predictive lockout.
pub fn number_history_window(law: &Law<'_>) -> Duration {
    law.rules
        .iter()
        .filter_map(|r| match r.kind {
            super::jurisdiction::RuleKind::Cap(c) => Some(c.within),
            super::jurisdiction::RuleKind::AbandonLockout(d) => Some(d),
            _ => None,
        })
        .chain([ABANDON_LOCKOUT])
        .max()
        .unwrap_or(ABANDON_LOCKOUT)
}

/// The rule of a jurisdiction that decided, as the trail and `eligibility`
/// name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cited {
    /// `US-FL`.
    pub jurisdiction: String,
    pub citation: String,
    pub summary: String,
    pub source: String,
    /// The rules table's version.
    pub version: String,
    /// The holiday, for a holiday rule.
    pub holiday: Option<String>,
}

impl Cited {
    pub fn of(rule: &Rule, version: &str) -> Cited {
        Cited {
            jurisdiction: rule.jurisdiction.clone(),
            citation: rule.citation.clone(),
            summary: rule.summary.clone(),
            source: rule.source.clone(),
            version: version.to_owned(),
            holiday: None,
        }
    }

    /// "Fla. Stat. §501.616(6)(a): no commercial telephone solicitation …"
    pub fn line(&self) -> String {
        match &self.holiday {
            Some(h) => format!(
                "{} ({}): {}: {h}",
                self.citation, self.jurisdiction, self.summary
            ),
            None => format!(
                "{} ({}): {}",
                self.citation, self.jurisdiction, self.summary
            ),
        }
    }
}

/// What the gate knows about the campaign.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CampaignFacts {
    pub state: CampaignState,
    pub dial_mode: DialMode,
    pub window: CallingWindow,
    pub ring_timeout: Duration,
    pub max_attempts: u32,
    pub max_attempts_per_day: u32,
    /// What the campaign asks of consent in an automated dial mode.
    pub consent: ConsentPolicy,
    /// The campaign calls businesses: toll-free leads are dialed.
    pub allow_toll_free: bool,
}

/// The organization's lists, checked for the lead's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListFacts {
    pub do_not_call: bool,
    pub invalid: bool,
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Eligible,
    CampaignNotRunning,
    Dnc,
    Invalid,
    /// Finished, or already being dialed.
    NotDialable(LeadStatus),
    NeedsTimeZone,
    /// A number of a class never dialed as a lead (premium rate, shared
    /// cost, a service number; toll-free unless the campaign allows it).
    NumberType(Refused),
    /// An automated dial mode needs `needs` and the number has less.
    NoConsent {
        needs: ConsentKind,
        /// The jurisdiction's rule; `None`: the campaign's own setting.
        rule: Option<Cited>,
    },
    /// A predictive campaign, and the called party's law forbids
    /// predictive calls.
    DialMode {
        rule: Cited,
    },
    /// Another call to the same number is under way.
    NumberInCall,
    MaxAttempts,
    AbandonLockout {
        until: DateTime<Utc>,
        /// The jurisdiction's rule, when one sets it (every dial mode).
        rule: Option<Cited>,
    },
    RetryNotDue {
        at: DateTime<Utc>,
    },
    DailyLimit {
        until: DateTime<Utc>,
    },
    /// The number had `cap.max` calls in the last `cap.within`.
    NumberCap {
        cap: RollingCap,
        until: DateTime<Utc>,
        /// The jurisdiction's rule; `None`: the organization's cap.
        rule: Option<Cited>,
    },
    /// `None` when the window never opens long enough for a call.
    OutsideWindow {
        next_open_at: Option<DateTime<Utc>>,
        /// The jurisdiction's rule that closes it; `None`: the campaign's
        /// window.
        rule: Option<Cited>,
    },
}

impl Verdict {
    /// The machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Eligible => "ELIGIBLE",
            Verdict::CampaignNotRunning => "CAMPAIGN_NOT_RUNNING",
            Verdict::Dnc => "DNC",
            Verdict::Invalid => "INVALID",
            Verdict::NotDialable(LeadStatus::Dialing) => "IN_PROGRESS",
            Verdict::NotDialable(_) => "FINISHED",
            Verdict::NeedsTimeZone => "NEEDS_TIME_ZONE",
            Verdict::NoConsent { .. } => "NO_CONSENT",
            Verdict::DialMode { .. } => "DIAL_MODE",
            Verdict::NumberType(_) => "NUMBER_TYPE",
            Verdict::NumberInCall => "NUMBER_IN_CALL",
            Verdict::NumberCap { .. } => "NUMBER_CAP",
            Verdict::MaxAttempts => "MAX_ATTEMPTS",
            Verdict::AbandonLockout { .. } => "ABANDON_LOCKOUT",
            Verdict::RetryNotDue { .. } => "RETRY_NOT_DUE",
            Verdict::DailyLimit { .. } => "DAILY_LIMIT",
            Verdict::OutsideWindow { .. } => "OUTSIDE_WINDOW",
        }
    }

    /// The earliest moment the reason could lift by itself, if any.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        match self {
            Verdict::AbandonLockout { until, .. }
            | Verdict::DailyLimit { until }
            | Verdict::NumberCap { until, .. } => Some(*until),
            Verdict::RetryNotDue { at } => Some(*at),
            Verdict::OutsideWindow { next_open_at, .. } => *next_open_at,
            _ => None,
        }
    }

    /// When a refused lead should be judged again: when the reason lifts,
    /// and never sooner than a minute (a refusal cannot spin). A missing
    /// consent lifts only when someone records one, which is rare: an hour.
    pub fn judge_again_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let soonest = match self {
            Verdict::NoConsent { .. } | Verdict::DialMode { .. } => now + Duration::hours(1),
            _ => now + Duration::minutes(1),
        };
        self.until().unwrap_or(soonest).max(soonest)
    }

    /// The jurisdiction's rule that decided, if one did.
    pub fn rule(&self) -> Option<&Cited> {
        match self {
            Verdict::AbandonLockout { rule, .. }
            | Verdict::NumberCap { rule, .. }
            | Verdict::NoConsent { rule, .. }
            | Verdict::OutsideWindow { rule, .. } => rule.as_ref(),
            Verdict::DialMode { rule } => Some(rule),
            _ => None,
        }
    }

    /// One line for a supervisor.
    pub fn explain(&self, tz: Option<Tz>) -> String {
        let when = |t: &DateTime<Utc>| match tz {
            Some(tz) => format!(
                "{} {}",
                t.with_timezone(&tz).format("%a %Y-%m-%d %H:%M"),
                tz.name()
            ),
            None => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        };
        let why = match self.rule() {
            Some(rule) => format!(" — {}", rule.line()),
            None => String::new(),
        };
        let line: String = match self {
            Verdict::Eligible => "dialable now".into(),
            Verdict::CampaignNotRunning => "not dialable: the campaign is not running".into(),
            Verdict::Dnc => "never dialed: the number is on the Do-Not-Call list".into(),
            Verdict::Invalid => "never dialed: the number is marked invalid".into(),
            Verdict::NotDialable(LeadStatus::Dialing) => "being dialed right now".into(),
            Verdict::NotDialable(_) => "finished: nothing more to do".into(),
            Verdict::NeedsTimeZone => {
                "not dialable until its time zone is set: its local time cannot be known".into()
            }
            Verdict::NumberType(r) => format!("never dialed: the number {}; {}", r.describe(), r.remedy()),
            Verdict::NoConsent { needs, rule } => format!(
                "not dialed by this campaign's dial mode: {} without the called party's {} (preview and manual calls may dial it)",
                if rule.is_some() {
                    "the law forbids automated calls"
                } else {
                    "the campaign allows no automated calls"
                },
                needs.describe()
            ),
            Verdict::DialMode { .. } => "not dialed by a predictive campaign: the law of the called party's jurisdiction forbids predictive calls there (a progressive or preview campaign may dial it)".into(),
            Verdict::NumberInCall => {
                "not dialable now: another call to the same number is under way".into()
            }
            Verdict::MaxAttempts => "not dialable: the campaign's attempt limit is reached".into(),
            Verdict::AbandonLockout { until, rule: None } => format!(
                "not dialable until {}: a call to the number was abandoned (72-hour rule for predictive campaigns, whichever campaign made the call)",
                when(until)
            ),
            Verdict::AbandonLockout {
                until,
                rule: Some(_),
            } => format!(
                "not dialable until {}: a call to the number was abandoned (whichever campaign made the call)",
                when(until)
            ),
            Verdict::NumberCap { cap, until, .. } => format!(
                "not dialable until {}: the number had {} calls in the last {} hours (across the organization)",
                when(until),
                cap.max,
                cap.within.num_hours()
            ),
            Verdict::RetryNotDue { at } => {
                format!("not dialable until {}: retry not due", when(at))
            }
            Verdict::DailyLimit { until } => format!(
                "not dialable until {}: today's attempt limit is reached",
                when(until)
            ),
            Verdict::OutsideWindow {
                next_open_at: Some(t),
                rule: Some(_),
            } => format!(
                "not dialable until {}: the law of the called party's jurisdiction",
                when(t)
            ),
            Verdict::OutsideWindow {
                next_open_at: Some(t),
                rule: None,
            } => {
                format!("not dialable until {}: outside calling window", when(t))
            }
            Verdict::OutsideWindow {
                next_open_at: None,
                rule: Some(_),
            } => "not dialable: the law of the called party's jurisdiction leaves no time for a call within three weeks".into(),
            Verdict::OutsideWindow {
                next_open_at: None,
                rule: None,
            } => "not dialable: the calling window is shorter than the ring timeout".into(),
        };
        line + &why
    }
}

/// What closes the lead's windows at `at` in any of `zones`: `Some(Some)`
/// a rule of the law (and the zone it was read in), `Some(None)` the
/// campaign's window, `None` nothing.
pub fn closed_by<'r>(
    law: &Law<'r>,
    window: &CallingWindow,
    zones: &[Tz],
    at: DateTime<Utc>,
    span: Duration,
) -> Option<Option<(&'r Rule, Tz)>> {
    // The law first: when it and the campaign both close, the law is what
    // an auditor asks about.
    for z in zones {
        if let Some(rule) = law.forbidding(*z, at, span) {
            return Some(Some((rule, *z)));
        }
    }
    zones
        .iter()
        .any(|z| !window.is_open_for(*z, at, span))
        .then_some(None)
}

/// The first moment at or after `from` when the campaign's window and
/// every rule are open for `span` in every one of `zones`.
pub fn next_open_everywhere(
    law: &Law<'_>,
    window: &CallingWindow,
    zones: &[Tz],
    from: DateTime<Utc>,
    span: Duration,
) -> Option<DateTime<Utc>> {
    let mut t = from;
    // Each round moves to the latest of the zones' next openings; when no
    // zone moves it, all are open.
    for _ in 0..64 {
        let mut moved = false;
        for z in zones {
            let next = law.next_open(window, *z, t, span)?;
            if next > t {
                t = next;
                moved = true;
            }
        }
        if !moved {
            return Some(t);
        }
    }
    None
}

/// When `cap` lets the number be called again, if it does not now: the
/// moment enough of its calls in the window have left it.
pub fn cap_lifts_at(
    cap: RollingCap,
    calls: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut inside: Vec<DateTime<Utc>> = calls
        .iter()
        .copied()
        .filter(|t| *t <= now && now - *t < cap.within)
        .collect();
    let max = cap.max as usize;
    if inside.len() < max {
        return None;
    }
    inside.sort();
    // Once the (len − max + 1) oldest have left, max − 1 remain.
    Some(inside[inside.len() - max] + cap.within)
}

/// May the lead be dialed at `now`?
///
/// The checks run from the most permanent reason to the most passing one,
/// so the answer names what a supervisor would have to change first.
pub fn gate(
    lead: &LeadFacts<'_>,
    campaign: &CampaignFacts,
    lists: ListFacts,
    now: DateTime<Utc>,
) -> Verdict {
    if campaign.state != CampaignState::Running {
        return Verdict::CampaignNotRunning;
    }
    if lists.do_not_call {
        return Verdict::Dnc;
    }
    if lists.invalid {
        return Verdict::Invalid;
    }
    if let Some(r) = lead.refused_type
        && !(r == Refused::TollFree && campaign.allow_toll_free)
    {
        return Verdict::NumberType(r);
    }
    match lead.status {
        LeadStatus::Finished | LeadStatus::Dialing => return Verdict::NotDialable(lead.status),
        LeadStatus::NeedsTimeZone => return Verdict::NeedsTimeZone,
        LeadStatus::New | LeadStatus::Retry | LeadStatus::Callback => {}
    }
    let Some(tz) = lead.time_zone else {
        return Verdict::NeedsTimeZone;
    };
    if campaign.dial_mode.is_automated() {
        let law = lead
            .law
            .consent_needed(tz, now)
            .map(|(kind, rule)| (kind, Some(rule)));
        let own = Some((campaign.consent.needs(), None));
        // The stronger demand; the law's when they are equal.
        let needed = [law, own]
            .into_iter()
            .flatten()
            .max_by(|a, b| a.0.cmp(&b.0).then(a.1.is_some().cmp(&b.1.is_some())));
        if let Some((needs, rule)) = needed
            && lead.consent < needs
        {
            return Verdict::NoConsent {
                needs,
                rule: rule.map(|r| Cited::of(r, lead.law.version)),
            };
        }
    }
    if campaign.dial_mode == DialMode::Predictive
        && let Some(rule) = lead.law.forbidding_predictive(tz, now)
    {
        return Verdict::DialMode {
            rule: Cited::of(rule, lead.law.version),
        };
    }
    if lead.number.in_call {
        return Verdict::NumberInCall;
    }
    if lead.attempts >= campaign.max_attempts {
        return Verdict::MaxAttempts;
    }
    let law = &lead.law;
    // The predictive lockout, and a jurisdiction's in every dial mode
    // (the longer when both apply).
    let predictive = (campaign.dial_mode == DialMode::Predictive).then_some(ABANDON_LOCKOUT);
    let lockout = match (predictive, law.abandon_lockout(tz, now)) {
        (Some(p), Some((d, rule))) if d >= p => Some((d, Some(rule))),
        (Some(p), _) => Some((p, None)),
        (None, Some((d, rule))) => Some((d, Some(rule))),
        (None, None) => None,
    };
    if let Some((span, rule)) = lockout
        && let Some(abandoned) = lead.last_abandoned_at.max(lead.number.last_abandoned_at)
        && now < abandoned + span
    {
        return Verdict::AbandonLockout {
            until: abandoned + span,
            rule: rule.map(|r| Cited::of(r, law.version)),
        };
    }
    if let Some(at) = lead.not_before
        && now < at
    {
        return Verdict::RetryNotDue { at };
    }
    let zones: Vec<Tz> = std::iter::once(tz)
        .chain(lead.also_zones.iter().copied().filter(|z| *z != tz))
        .collect();
    let next_open = |from: DateTime<Utc>| {
        next_open_everywhere(law, &campaign.window, &zones, from, campaign.ring_timeout)
    };
    // The jurisdictions' caps first, so the verdict names the statute; then
    // the organization's.
    let mut caps: Vec<_> = law.caps(tz, now).collect();
    caps.sort_by_key(|(_, rule)| rule.jurisdiction == super::policy::ORGANIZATION);
    for (cap, rule) in caps.into_iter().map(|(c, r)| (c, Some(r))) {
        if let Some(until) = cap_lifts_at(cap, lead.number.recent_calls, now) {
            return Verdict::NumberCap {
                cap,
                until: next_open(until).unwrap_or(until),
                rule: rule.map(|r| Cited::of(r, law.version)),
            };
        }
    }
    let today = now.with_timezone(&tz).date_naive();
    let today_count = lead
        .recent_attempts
        .iter()
        .filter(|t| t.with_timezone(&tz).date_naive() == today)
        .count();
    if today_count >= campaign.max_attempts_per_day as usize {
        // The next local day's window opening.
        let tomorrow = today.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0));
        let until = tomorrow
            .and_then(|midnight| midnight.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now + Duration::days(1));
        return Verdict::DailyLimit {
            until: next_open(until).unwrap_or(until),
        };
    }
    match closed_by(law, &campaign.window, &zones, now, campaign.ring_timeout) {
        Some(Some((rule, zone))) => {
            let mut cited = Cited::of(rule, law.version);
            cited.holiday = rule.holiday_at(zone, now);
            Verdict::OutsideWindow {
                next_open_at: next_open(now),
                rule: Some(cited),
            }
        }
        Some(None) => Verdict::OutsideWindow {
            next_open_at: next_open(now),
            rule: None,
        },
        None => Verdict::Eligible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::jurisdiction::{Holiday, HolidayDate, RuleKind};
    use crate::domain::window::Weekdays;
    use chrono::{Datelike, NaiveTime, TimeZone};
    use proptest::prelude::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("utc")
    }

    fn campaign(mode: DialMode) -> CampaignFacts {
        CampaignFacts {
            state: CampaignState::Running,
            dial_mode: mode,
            window: CallingWindow::default(),
            ring_timeout: Duration::seconds(25),
            max_attempts: 3,
            max_attempts_per_day: 2,
            consent: ConsentPolicy::Law,
            allow_toll_free: false,
        }
    }

    fn lead(tz: Option<Tz>) -> LeadFacts<'static> {
        LeadFacts {
            status: LeadStatus::New,
            time_zone: tz,
            also_zones: &[],
            attempts: 0,
            recent_attempts: &[],
            not_before: None,
            last_abandoned_at: None,
            number: NumberFacts::default(),
            law: Law::NONE,
            consent: ConsentKind::None,
            refused_type: None,
        }
    }

    // 2026-06-10 16:00 UTC = 12:00 in New York.
    fn noon_ny() -> DateTime<Utc> {
        utc(2026, 6, 10, 16, 0)
    }

    const NY: Option<Tz> = Some(Tz::America__New_York);

    fn rule(n: usize, kind: RuleKind) -> Rule {
        Rule {
            jurisdiction: "XX".into(),
            kind,
            citation: format!("rule {n}"),
            summary: "test".into(),
            source: "https://example.test".into(),
            effective: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"),
            checked: "test".into(),
        }
    }

    /// A rules table from the property test's draws.
    fn random_rules(
        tz: Option<Tz>,
        now: DateTime<Utc>,
        hours: Option<Vec<Option<(u32, u32)>>>,
        holiday: Option<i64>,
        cap: Option<(u32, i64)>,
        lockout: Option<i64>,
        consent: Option<ConsentKind>,
    ) -> Vec<Rule> {
        let mut rules = Vec::new();
        if let Some(days) = hours {
            let mut week = [None; 7];
            for (slot, d) in week.iter_mut().zip(days) {
                *slot = d.and_then(|(start, len)| {
                    let six = NaiveTime::from_hms_opt(6, 0, 0)?;
                    let end = (start + len).min(16 * 60);
                    (end > start).then(|| {
                        (
                            six + Duration::minutes(start.into()),
                            six + Duration::minutes(end.into()),
                        )
                    })
                });
            }
            rules.push(rule(rules.len(), RuleKind::Hours(week)));
        }
        if let (Some(offset), Some(tz)) = (holiday, tz) {
            let d = (now + Duration::days(offset))
                .with_timezone(&tz)
                .date_naive();
            rules.push(rule(
                rules.len(),
                RuleKind::Holidays(vec![Holiday {
                    name: "a day".into(),
                    date: HolidayDate::Fixed {
                        month: d.month(),
                        day: d.day(),
                    },
                    observed: false,
                }]),
            ));
        }
        if let Some((max, h)) = cap {
            rules.push(rule(
                rules.len(),
                RuleKind::Cap(RollingCap {
                    max,
                    within: Duration::hours(h),
                }),
            ));
        }
        if let Some(h) = lockout {
            rules.push(rule(
                rules.len(),
                RuleKind::AbandonLockout(Duration::hours(h)),
            ));
        }
        if let Some(k) = consent {
            rules.push(rule(rules.len(), RuleKind::Consent(k)));
        }
        rules
    }

    #[test]
    fn automated_modes_need_the_consent_the_law_and_the_campaign_ask() {
        let now = noon_ny();
        let ok = ListFacts::default();
        let florida = rule(0, RuleKind::Consent(ConsentKind::ExpressWritten));
        let rules = [&florida];
        let in_florida = |consent| LeadFacts {
            law: Law {
                version: "v",
                rules: &rules,
            },
            consent,
            ..lead(NY)
        };
        for mode in [DialMode::Predictive, DialMode::Progressive] {
            let c = campaign(mode);
            for weaker in [ConsentKind::None, ConsentKind::Express] {
                let v = gate(&in_florida(weaker), &c, ok, now);
                assert_eq!(v.code(), "NO_CONSENT");
                assert_eq!(v.rule().map(|r| r.citation.as_str()), Some("rule 0"));
                assert_eq!(v.until(), None);
                assert!(
                    v.explain(NY).contains("prior express written consent"),
                    "{}",
                    v.explain(NY)
                );
            }
            assert_eq!(
                gate(&in_florida(ConsentKind::ExpressWritten), &c, ok, now),
                Verdict::Eligible
            );
            // Where no law asks, the campaign's own setting does.
            assert_eq!(gate(&lead(NY), &c, ok, now), Verdict::Eligible);
            let strict = CampaignFacts {
                consent: ConsentPolicy::Express,
                ..c
            };
            assert_eq!(
                gate(&lead(NY), &strict, ok, now),
                Verdict::NoConsent {
                    needs: ConsentKind::Express,
                    rule: None
                }
            );
            let express = LeadFacts {
                consent: ConsentKind::Express,
                ..lead(NY)
            };
            assert_eq!(gate(&express, &strict, ok, now), Verdict::Eligible);
        }
        // A person choosing to dial (preview) is not an automated system.
        let preview = CampaignFacts {
            consent: ConsentPolicy::ExpressWritten,
            ..campaign(DialMode::Preview)
        };
        assert_eq!(
            gate(&in_florida(ConsentKind::None), &preview, ok, now),
            Verdict::Eligible
        );
        // Not before the rule is in force.
        let later = Rule {
            effective: chrono::NaiveDate::from_ymd_opt(2030, 1, 1).expect("date"),
            ..florida.clone()
        };
        let rules = [&later];
        let before = LeadFacts {
            law: Law {
                version: "v",
                rules: &rules,
            },
            ..lead(NY)
        };
        assert_eq!(
            gate(&before, &campaign(DialMode::Predictive), ok, now),
            Verdict::Eligible
        );
    }

    #[test]
    fn each_reason() {
        let now = noon_ny();
        let c = campaign(DialMode::Predictive);
        let ok = ListFacts::default();
        assert_eq!(gate(&lead(NY), &c, ok, now), Verdict::Eligible);
        let toll_free = LeadFacts {
            refused_type: Some(Refused::TollFree),
            ..lead(NY)
        };
        assert_eq!(
            gate(&toll_free, &c, ok, now),
            Verdict::NumberType(Refused::TollFree)
        );
        let businesses = CampaignFacts {
            allow_toll_free: true,
            ..c
        };
        assert_eq!(gate(&toll_free, &businesses, ok, now), Verdict::Eligible);
        let premium = LeadFacts {
            refused_type: Some(Refused::PremiumRate),
            ..lead(NY)
        };
        assert_eq!(gate(&premium, &businesses, ok, now).code(), "NUMBER_TYPE");
        let paused = CampaignFacts {
            state: CampaignState::Paused,
            ..c
        };
        assert_eq!(
            gate(&lead(NY), &paused, ok, now),
            Verdict::CampaignNotRunning
        );
        let dnc = ListFacts {
            do_not_call: true,
            invalid: false,
        };
        assert_eq!(gate(&lead(NY), &c, dnc, now), Verdict::Dnc);
        let invalid = ListFacts {
            do_not_call: false,
            invalid: true,
        };
        assert_eq!(gate(&lead(NY), &c, invalid, now), Verdict::Invalid);
        assert_eq!(gate(&lead(None), &c, ok, now), Verdict::NeedsTimeZone);
        let maxed = LeadFacts {
            attempts: 3,
            ..lead(NY)
        };
        assert_eq!(gate(&maxed, &c, ok, now), Verdict::MaxAttempts);
        let later = now + Duration::hours(2);
        let retry = LeadFacts {
            status: LeadStatus::Retry,
            not_before: Some(later),
            ..lead(NY)
        };
        assert_eq!(
            gate(&retry, &c, ok, now),
            Verdict::RetryNotDue { at: later }
        );
        let two = [now - Duration::hours(2), now - Duration::hours(1)];
        let busy_day = LeadFacts {
            attempts: 2,
            recent_attempts: &two,
            ..lead(NY)
        };
        // Tomorrow 08:00 in New York = 12:00 UTC.
        assert_eq!(
            gate(&busy_day, &c, ok, now),
            Verdict::DailyLimit {
                until: utc(2026, 6, 11, 12, 0)
            }
        );
        let night = utc(2026, 6, 11, 2, 0); // 22:00 in New York
        assert_eq!(
            gate(&lead(NY), &c, ok, night),
            Verdict::OutsideWindow {
                next_open_at: Some(utc(2026, 6, 11, 12, 0)),
                rule: None,
            }
        );
    }

    #[test]
    fn rules_hold_per_number_across_the_organization() {
        let now = noon_ny();
        let c = campaign(DialMode::Predictive);
        let ok = ListFacts::default();
        // Another campaign's call to the number is under way.
        let busy = LeadFacts {
            number: NumberFacts {
                in_call: true,
                ..NumberFacts::default()
            },
            ..lead(NY)
        };
        assert_eq!(gate(&busy, &c, ok, now), Verdict::NumberInCall);
        // Abandoned in another campaign ten hours ago: locked out here too
        // (this lead itself was never called).
        let abandoned = now - Duration::hours(10);
        let elsewhere = LeadFacts {
            number: NumberFacts {
                last_abandoned_at: Some(abandoned),
                ..NumberFacts::default()
            },
            ..lead(NY)
        };
        assert_eq!(
            gate(&elsewhere, &c, ok, now),
            Verdict::AbandonLockout {
                until: abandoned + ABANDON_LOCKOUT,
                rule: None,
            }
        );
        assert_eq!(
            gate(&elsewhere, &campaign(DialMode::Progressive), ok, now),
            Verdict::Eligible
        );
        // Three calls in 24 h across midnight, from other leads: the
        // fourth waits until the oldest is 24 h old.
        let calls = [
            now - Duration::hours(23),
            now - Duration::hours(13),
            now - Duration::hours(1),
        ];
        // The organization's default policy: 3 calls in any 24 h.
        let org = crate::domain::policy::Revision::initial().rules();
        let org_refs: Vec<&Rule> = org.iter().collect();
        let law = Law {
            version: "t",
            rules: &org_refs,
        };
        let capped = LeadFacts {
            number: NumberFacts {
                recent_calls: &calls,
                ..NumberFacts::default()
            },
            law,
            ..lead(NY)
        };
        assert_eq!(
            gate(&capped, &c, ok, now),
            Verdict::NumberCap {
                cap: crate::domain::policy::DEFAULT_CAPS[0],
                until: now + Duration::hours(1),
                rule: Some(Cited::of(&org[0], "t")),
            }
        );
        // Without the policy's cap (a law with none) it is not capped.
        assert_eq!(
            gate(
                &LeadFacts {
                    law: Law::NONE,
                    ..capped.clone()
                },
                &c,
                ok,
                now
            ),
            Verdict::Eligible
        );
        let two = &calls[1..];
        let fine = LeadFacts {
            number: NumberFacts {
                recent_calls: two,
                ..NumberFacts::default()
            },
            law,
            ..lead(NY)
        };
        assert_eq!(gate(&fine, &c, ok, now), Verdict::Eligible);
    }

    #[test]
    fn abandon_lockout_is_for_predictive_only() {
        let now = noon_ny();
        let abandoned = now - Duration::hours(10);
        let l = LeadFacts {
            status: LeadStatus::Retry,
            attempts: 1,
            last_abandoned_at: Some(abandoned),
            ..lead(NY)
        };
        let ok = ListFacts::default();
        assert_eq!(
            gate(&l, &campaign(DialMode::Predictive), ok, now),
            Verdict::AbandonLockout {
                until: abandoned + Duration::hours(72),
                rule: None,
            }
        );
        assert_eq!(
            gate(&l, &campaign(DialMode::Progressive), ok, now),
            Verdict::Eligible
        );
        assert_eq!(
            gate(&l, &campaign(DialMode::Preview), ok, now),
            Verdict::Eligible
        );
        let long_ago = LeadFacts {
            last_abandoned_at: Some(now - Duration::hours(72)),
            ..l
        };
        assert_eq!(
            gate(&long_ago, &campaign(DialMode::Predictive), ok, now),
            Verdict::Eligible
        );
    }

    #[test]
    fn window_closing_before_the_ring_ends() {
        // 20:59:50 in New York with a 25 s ring: not eligible.
        let c = campaign(DialMode::Progressive);
        let at = utc(2026, 6, 11, 0, 59) + Duration::seconds(50);
        assert!(matches!(
            gate(&lead(NY), &c, ListFacts::default(), at),
            Verdict::OutsideWindow { .. }
        ));
        let c10 = CampaignFacts {
            ring_timeout: Duration::seconds(5),
            ..c
        };
        assert_eq!(
            gate(&lead(NY), &c10, ListFacts::default(), at),
            Verdict::Eligible
        );
    }

    #[test]
    fn explanations_read_in_the_leads_time() {
        let v = Verdict::OutsideWindow {
            next_open_at: Some(utc(2026, 6, 11, 14, 0)),
            rule: None,
        };
        assert_eq!(
            v.explain(Some(Tz::America__Chicago)),
            "not dialable until Thu 2026-06-11 09:00 America/Chicago: outside calling window"
        );
    }

    const ZONES: &[Tz] = &[
        Tz::America__New_York,
        Tz::America__Los_Angeles,
        Tz::America__Phoenix,
        Tz::Australia__Lord_Howe,
        Tz::Asia__Kathmandu,
        Tz::Europe__London,
    ];

    /// 2026–2027, in seconds.
    const YEARS: std::ops::Range<i64> = 1_767_225_600..1_830_297_600;

    /// The instants in [`YEARS`] when one of [`ZONES`] changes its clock.
    fn clock_changes() -> &'static [i64] {
        static CHANGES: std::sync::OnceLock<Vec<i64>> = std::sync::OnceLock::new();
        CHANGES.get_or_init(|| {
            let offset = |tz: Tz, t: i64| {
                DateTime::from_timestamp(t, 0)
                    .map(|t| t.with_timezone(&tz).naive_local() - t.naive_utc())
            };
            let mut out = Vec::new();
            for tz in ZONES {
                let mut t = YEARS.start;
                while t < YEARS.end {
                    if offset(*tz, t) != offset(*tz, t + 1800) {
                        out.push(t + 1800);
                    }
                    t += 1800;
                }
            }
            out
        })
    }

    /// Instants over 2026–2027: a third anywhere, a third within three
    /// hours of a clock change, a third within three hours of a local
    /// midnight in one of the zones.
    fn arb_instant() -> impl Strategy<Value = i64> {
        let changes = clock_changes();
        prop_oneof![
            YEARS,
            (0..changes.len(), -10_800i64..10_800).prop_map(move |(i, d)| changes[i] + d),
            (0..ZONES.len(), 0i64..730, -10_800i64..10_800).prop_map(|(z, day, d)| {
                let midnight = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
                    .and_then(|d0| d0.checked_add_signed(Duration::days(day)))
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .and_then(|m| m.and_local_timezone(ZONES[z]).earliest())
                    .map_or(YEARS.start, |m| m.timestamp());
                midnight + d
            }),
        ]
    }

    fn arb_status() -> impl Strategy<Value = LeadStatus> {
        prop_oneof![
            Just(LeadStatus::New),
            Just(LeadStatus::Retry),
            Just(LeadStatus::Callback),
            Just(LeadStatus::Dialing),
            Just(LeadStatus::Finished),
            Just(LeadStatus::NeedsTimeZone),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The gate never says Eligible for a DNC or invalid number, outside
        /// the lead's local window, beyond the attempt limits, before a
        /// retry is due, or inside a predictive abandon lockout.
        #[test]
        fn eligible_only_when_every_rule_holds(
            status in arb_status(),
            zone in proptest::option::weighted(0.95, 0..ZONES.len()),
            also_zone in proptest::option::weighted(0.3, 0..ZONES.len()),
            attempts in 0u32..6,
            recent_offsets in proptest::collection::vec(0i64..(48 * 3600), 0..5),
            not_before_offset in proptest::option::of(-86_400i64..86_400),
            abandoned_offset in proptest::option::of(0i64..(100 * 3600)),
            dnc in proptest::bool::weighted(0.2),
            invalid in proptest::bool::weighted(0.2),
            mode in prop_oneof![Just(DialMode::Preview), Just(DialMode::Progressive), Just(DialMode::Predictive)],
            days in 1u8..128,
            start_min in 0u32..(12 * 60),
            len_min in 1u32..(13 * 60),
            max_attempts in 1u32..5,
            per_day in 1u32..3,
            secs in arb_instant(),
            number_in_call in proptest::bool::weighted(0.1),
            number_abandoned_offset in proptest::option::of(0i64..(100 * 3600)),
            number_offsets in proptest::collection::vec(0i64..(30 * 3600), 0..6),
            law_hours in proptest::option::of(proptest::collection::vec(proptest::option::weighted(0.8, (0u32..(16 * 60), 1u32..(16 * 60))), 7)),
            law_holiday in proptest::option::of(-1i64..3),
            law_cap in proptest::option::of((1u32..4, 1i64..30)),
            law_lockout in proptest::option::of(1i64..100),
            consent in 0usize..3,
            policy in 0usize..3,
            law_consent in proptest::option::of(1usize..3),
            law_no_predictive in proptest::bool::weighted(0.2),
            toll_free in proptest::bool::weighted(0.1),
            allow_toll_free in proptest::bool::ANY,
        ) {
            const KINDS: [ConsentKind; 3] = [ConsentKind::None, ConsentKind::Express, ConsentKind::ExpressWritten];
            const POLICIES: [ConsentPolicy; 3] = [ConsentPolicy::Law, ConsentPolicy::Express, ConsentPolicy::ExpressWritten];
            let now = DateTime::from_timestamp(secs, 0).expect("time");
            let start = NaiveTime::from_hms_opt(8, 0, 0).expect("t") + Duration::minutes(start_min.into());
            let end_min = (start_min + len_min).min(13 * 60);
            prop_assume!(end_min > start_min);
            let end = NaiveTime::from_hms_opt(8, 0, 0).expect("t") + Duration::minutes(end_min.into());
            let window = CallingWindow::new(Weekdays::from_bits(days), start, end).expect("window");
            let c = CampaignFacts {
                state: CampaignState::Running,
                dial_mode: mode,
                window,
                ring_timeout: Duration::seconds(25),
                max_attempts,
                max_attempts_per_day: per_day.min(max_attempts),
                consent: POLICIES[policy],
                allow_toll_free,
            };
            let recent: Vec<_> = recent_offsets.iter().map(|s| now - Duration::seconds(*s)).collect();
            let number_calls: Vec<_> = number_offsets.iter().map(|s| now - Duration::seconds(*s)).collect();
            let tz = zone.map(|z| ZONES[z]);
            let also: Vec<Tz> = also_zone.map(|z| ZONES[z]).into_iter().collect();
            // A random rules table: hours per weekday, a holiday near
            // `now` in the lead's local date, a cap, a lockout.
            let mut rules = random_rules(tz, now, law_hours, law_holiday, law_cap, law_lockout, law_consent.map(|k| KINDS[k]));
            if law_no_predictive {
                rules.push(rule(rules.len(), RuleKind::NoPredictive));
            }
            let rule_refs: Vec<&Rule> = rules.iter().collect();
            let law = Law { version: "prop", rules: &rule_refs };
            let l = LeadFacts {
                status,
                time_zone: tz,
                also_zones: &also,
                attempts,
                recent_attempts: &recent,
                not_before: not_before_offset.map(|s| now + Duration::seconds(s)),
                last_abandoned_at: abandoned_offset.map(|s| now - Duration::seconds(s)),
                number: NumberFacts {
                    in_call: number_in_call,
                    last_abandoned_at: number_abandoned_offset.map(|s| now - Duration::seconds(s)),
                    recent_calls: &number_calls,
                },
                law,
                consent: KINDS[consent],
                refused_type: toll_free.then_some(Refused::TollFree),
            };
            let verdict = gate(&l, &c, ListFacts { do_not_call: dnc, invalid }, now);
            if verdict == Verdict::Eligible {
                let tz = tz.expect("a zone");
                prop_assert!(!dnc && !invalid);
                prop_assert!(!toll_free || allow_toll_free, "a toll-free lead in a campaign that does not allow them");
                prop_assert!(matches!(status, LeadStatus::New | LeadStatus::Retry | LeadStatus::Callback));
                prop_assert!(attempts < max_attempts);
                prop_assert!(l.not_before.is_none_or(|t| t <= now));
                if mode == DialMode::Predictive {
                    prop_assert!(l.last_abandoned_at.is_none_or(|t| now >= t + ABANDON_LOCKOUT));
                    prop_assert!(l.number.last_abandoned_at.is_none_or(|t| now >= t + ABANDON_LOCKOUT));
                }
                // Automated modes only with the consent asked for.
                if mode.is_automated() {
                    prop_assert!(KINDS[consent] >= POLICIES[policy].needs());
                }
                // Per number, across the organization.
                prop_assert!(!number_in_call);
                // Open in the lead's zone and in every other it may be in.
                for z in std::iter::once(tz).chain(also.iter().copied()) {
                    let local_now = now.with_timezone(&z).naive_local();
                    let local_end = (now + c.ring_timeout).with_timezone(&z).naive_local();
                    prop_assert!(window.contains_local(local_now) && window.contains_local(local_end), "closed in {z}");
                }
                let today = now.with_timezone(&tz).date_naive();
                let today_count = recent.iter().filter(|t| t.with_timezone(&tz).date_naive() == today).count();
                prop_assert!(today_count < c.max_attempts_per_day as usize);
                // No rule of the table forbids it.
                for r in &rules {
                    for z in std::iter::once(tz).chain(also.iter().copied()) {
                        prop_assert!(r.allows(z, now, c.ring_timeout), "{} forbids in {z}", r.citation);
                    }
                    if let RuleKind::Cap(cap) = r.kind {
                        prop_assert!(cap_lifts_at(cap, &number_calls, now).is_none(), "{} binds", r.citation);
                    }
                    if let RuleKind::AbandonLockout(d) = r.kind {
                        prop_assert!(l.last_abandoned_at.is_none_or(|t| now >= t + d));
                        prop_assert!(l.number.last_abandoned_at.is_none_or(|t| now >= t + d));
                    }
                    if let RuleKind::Consent(k) = r.kind && mode.is_automated() {
                        prop_assert!(KINDS[consent] >= k, "{} needs {k:?}", r.citation);
                    }
                    if r.kind == RuleKind::NoPredictive {
                        prop_assert!(mode != DialMode::Predictive, "{} forbids predictive", r.citation);
                    }
                }
            }
            // A refusal that names a rule names one that forbids.
            if let Some(cited) = verdict.rule() {
                let tz = tz.expect("a zone");
                let r = rules.iter().find(|r| r.citation == cited.citation).expect("a rule of the table");
                match (&verdict, &r.kind) {
                    (Verdict::OutsideWindow { .. }, RuleKind::Hours(_) | RuleKind::Holidays(_)) => {
                        let forbids = std::iter::once(tz)
                            .chain(also.iter().copied())
                            .any(|z| !r.allows(z, now, c.ring_timeout));
                        prop_assert!(forbids);
                    }
                    (Verdict::NumberCap { cap, .. }, RuleKind::Cap(rc)) => {
                        prop_assert_eq!(cap, rc);
                        prop_assert!(cap_lifts_at(*rc, &number_calls, now).is_some());
                    }
                    (Verdict::AbandonLockout { until, .. }, RuleKind::AbandonLockout(_)) => {
                        prop_assert!(now < *until);
                    }
                    (Verdict::NoConsent { needs, .. }, RuleKind::Consent(k)) => {
                        prop_assert_eq!(needs, k);
                        prop_assert!(mode.is_automated() && KINDS[consent] < *k);
                    }
                    (Verdict::DialMode { .. }, RuleKind::NoPredictive) => {
                        prop_assert_eq!(mode, DialMode::Predictive);
                    }
                    (v, k) => prop_assert!(false, "{v:?} names {k:?}"),
                }
            }
            if let Verdict::NoConsent { needs, .. } = &verdict {
                prop_assert!(mode.is_automated() && KINDS[consent] < *needs);
            }
            if !mode.is_automated() {
                prop_assert!(!matches!(verdict, Verdict::NoConsent { .. }), "a person dials");
            }
            if let Verdict::NumberCap { cap, until, .. } = verdict {
                // It names a cap that binds now, and lifts by `until`.
                prop_assert!(cap_lifts_at(cap, &number_calls, now).is_some());
                prop_assert!(until > now);
                prop_assert!(cap_lifts_at(cap, &number_calls, until).is_none());
            }
            if let Verdict::OutsideWindow { next_open_at: Some(t), .. } = verdict {
                prop_assert!(t > now);
                for z in std::iter::once(tz.expect("zone")).chain(also.iter().copied()) {
                    prop_assert!(window.is_open_for(z, t, c.ring_timeout));
                    prop_assert!(law.forbidding(z, t, c.ring_timeout).is_none());
                }
            }
        }
    }
}
