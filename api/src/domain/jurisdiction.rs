//! The calling rules of the called party's jurisdictions: a versioned table
//! (`api/data/jurisdictions.toml`), each rule with its citation, source and
//! effective date; which jurisdictions apply to a number and a lead's
//! address; and what they forbid at a moment, in the lead's local time.
//!
//! A rule only ever narrows: the gate refuses when any applicable rule
//! forbids, so the strictest of several jurisdictions decides.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

use super::consent::ConsentKind;
use super::eligibility::RollingCap;
use super::window::{CallingWindow, first_instant_reading};

/// Why a rules table was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rules table: {0}")]
pub struct RulesError(String);

/// The rules table: every jurisdiction Pinline knows the calling rules of.
#[derive(Debug, Clone, PartialEq)]
pub struct Rulebook {
    /// The table's version, recorded with every decision.
    pub version: String,
    pub jurisdictions: Vec<Jurisdiction>,
}

/// A country (`US`, ISO 3166-1) or a state or province (`US-FL`, ISO 3166-2).
#[derive(Debug, Clone, PartialEq)]
pub struct Jurisdiction {
    pub id: String,
    pub name: String,
    pub rules: Vec<Rule>,
}

/// One rule, and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The jurisdiction's id.
    pub jurisdiction: String,
    pub kind: RuleKind,
    /// "Fla. Stat. §501.616(6)(a)".
    pub citation: String,
    /// What it forbids, in one line.
    pub summary: String,
    /// Where the text can be read.
    pub source: String,
    /// The first local day it applies.
    pub effective: NaiveDate,
    /// How it was checked, and any stricter reading taken.
    pub checked: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// Calling hours per weekday (Monday first); `None`: no calls that day.
    Hours([Option<(NaiveTime, NaiveTime)>; 7]),
    /// No calls on these days.
    Holidays(Vec<Holiday>),
    /// At most `max` calls to a number in any `within`.
    Cap(RollingCap),
    /// No call to a number within `within` of an abandoned call to it, in
    /// every dial mode.
    AbandonLockout(Duration),
    /// Calls placed by an automated dial mode (predictive, progressive)
    /// only to numbers with at least this consent.
    Consent(ConsentKind),
    /// No predictive calls: a predictive dialer plays a recorded message
    /// on a call it abandons, which makes it the recorded-message
    /// "automated device" some laws restrict.
    NoPredictive,
}

/// A day, worked out per year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub name: String,
    pub date: HolidayDate,
    /// On a weekend it is also kept on a weekday: the Friday before a
    /// Saturday (United States), and the next free weekday (Australia).
    /// Both are kept: the stricter reading.
    pub observed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayDate {
    Fixed {
        month: u32,
        day: u32,
    },
    /// The `n`th `weekday` of `month`; `n = -1`: the last.
    Nth {
        month: u32,
        weekday: Weekday,
        n: i8,
    },
    /// Days from Western Easter Sunday.
    Easter(i64),
    /// The Tuesday after the first Monday of November.
    ElectionDay,
    /// One day, in one year only (an organization's own closing day).
    On(NaiveDate),
}

impl HolidayDate {
    /// Its date in `year`.
    pub fn in_year(self, year: i32) -> Option<NaiveDate> {
        match self {
            HolidayDate::Fixed { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            HolidayDate::Nth { month, weekday, n } if n > 0 => {
                NaiveDate::from_weekday_of_month_opt(year, month, weekday, n as u8)
            }
            HolidayDate::Nth { month, weekday, .. } => {
                let next_month = if month == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(year, month + 1, 1)
                }?;
                let mut d = next_month.pred_opt()?;
                while d.weekday() != weekday {
                    d = d.pred_opt()?;
                }
                Some(d)
            }
            HolidayDate::Easter(offset) => {
                easter(year).and_then(|e| e.checked_add_signed(Duration::days(offset)))
            }
            HolidayDate::On(date) => (date.year() == year).then_some(date),
            HolidayDate::ElectionDay => {
                NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Mon, 1)
                    .and_then(|d| d.succ_opt())
            }
        }
    }
}

/// Western Easter Sunday (the anonymous Gregorian computus).
pub fn easter(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The days of `holidays` in `year`, observed days included.
pub fn holiday_dates(holidays: &[Holiday], year: i32) -> Vec<(NaiveDate, &str)> {
    let mut days: Vec<(NaiveDate, &str)> = holidays
        .iter()
        .filter_map(|h| h.date.in_year(year).map(|d| (d, h.name.as_str())))
        .collect();
    let primary: Vec<NaiveDate> = days.iter().map(|(d, _)| *d).collect();
    let mut taken: Vec<NaiveDate> = Vec::new();
    for h in holidays.iter().filter(|h| h.observed) {
        let Some(d) = h.date.in_year(year) else {
            continue;
        };
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        if d.weekday() == Weekday::Sat
            && let Some(friday) = d.pred_opt()
        {
            days.push((friday, h.name.as_str()));
        }
        let mut sub = d;
        while let Some(next) = sub.succ_opt() {
            sub = next;
            if !matches!(sub.weekday(), Weekday::Sat | Weekday::Sun)
                && !primary.contains(&sub)
                && !taken.contains(&sub)
            {
                taken.push(sub);
                days.push((sub, h.name.as_str()));
                break;
            }
        }
    }
    days
}

impl Rule {
    fn in_force(&self, tz: Tz, at: DateTime<Utc>) -> bool {
        at.with_timezone(&tz).date_naive() >= self.effective
    }

    /// Whether the rule lets a call start at `at` and ring for `span`, in
    /// `tz` (caps and lockouts are judged elsewhere: they need the number's
    /// history).
    pub fn allows(&self, tz: Tz, at: DateTime<Utc>, span: Duration) -> bool {
        if !self.in_force(tz, at) {
            return true;
        }
        match &self.kind {
            RuleKind::Hours(week) => CallingWindow::from_week(*week).is_open_for(tz, at, span),
            RuleKind::Holidays(days) => {
                let (a, b) = (
                    at.with_timezone(&tz).date_naive(),
                    (at + span).with_timezone(&tz).date_naive(),
                );
                [a, b]
                    .iter()
                    .all(|d| !holiday_dates(days, d.year()).iter().any(|(h, _)| h == d))
            }
            RuleKind::Cap(_)
            | RuleKind::AbandonLockout(_)
            | RuleKind::Consent(_)
            | RuleKind::NoPredictive => true,
        }
    }

    /// The local times this rule may open at on `date` (its hours' start).
    fn openings(&self, date: NaiveDate) -> Option<NaiveTime> {
        match &self.kind {
            RuleKind::Hours(week) => {
                week[date.weekday().num_days_from_monday() as usize].map(|(s, _)| s)
            }
            _ => None,
        }
    }

    /// The holiday `at` falls on, if this rule names one.
    pub fn holiday_at(&self, tz: Tz, at: DateTime<Utc>) -> Option<String> {
        let RuleKind::Holidays(days) = &self.kind else {
            return None;
        };
        let d = at.with_timezone(&tz).date_naive();
        holiday_dates(days, d.year())
            .into_iter()
            .find(|(h, _)| *h == d)
            .map(|(_, name)| name.to_owned())
    }
}

/// The rules that apply to one lead: its jurisdictions' rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Law<'a> {
    pub version: &'a str,
    pub rules: &'a [&'a Rule],
}

impl<'a> Law<'a> {
    /// No rules (tests, and numbers of no known jurisdiction).
    pub const NONE: Law<'static> = Law {
        version: "",
        rules: &[],
    };

    /// The first rule that forbids a call at `at` ringing for `span`.
    pub fn forbidding(&self, tz: Tz, at: DateTime<Utc>, span: Duration) -> Option<&'a Rule> {
        self.rules.iter().copied().find(|r| !r.allows(tz, at, span))
    }

    /// The caps in force at `at`, with the rule that sets each.
    pub fn caps(&self, tz: Tz, at: DateTime<Utc>) -> impl Iterator<Item = (RollingCap, &'a Rule)> {
        self.rules
            .iter()
            .copied()
            .filter_map(move |r| match r.kind {
                RuleKind::Cap(cap) if r.in_force(tz, at) => Some((cap, r)),
                _ => None,
            })
    }

    /// The strongest consent an automated dial mode needs at `at`, with
    /// the rule that asks for it.
    pub fn consent_needed(&self, tz: Tz, at: DateTime<Utc>) -> Option<(ConsentKind, &'a Rule)> {
        self.rules
            .iter()
            .copied()
            .filter_map(|r| match r.kind {
                RuleKind::Consent(k) if r.in_force(tz, at) => Some((k, r)),
                _ => None,
            })
            .max_by_key(|(k, _)| *k)
    }

    /// The rule in force at `at` that forbids predictive calls, if any.
    pub fn forbidding_predictive(&self, tz: Tz, at: DateTime<Utc>) -> Option<&'a Rule> {
        self.rules
            .iter()
            .copied()
            .find(|r| r.kind == RuleKind::NoPredictive && r.in_force(tz, at))
    }

    /// The every-mode abandon lockout in force at `at`, if any.
    pub fn abandon_lockout(&self, tz: Tz, at: DateTime<Utc>) -> Option<(Duration, &'a Rule)> {
        self.rules.iter().copied().find_map(|r| match r.kind {
            RuleKind::AbandonLockout(d) if r.in_force(tz, at) => Some((d, r)),
            _ => None,
        })
    }

    /// The first moment at or after `now` when `window` and every rule let
    /// a call ring for `span`; `None` if none within 21 local days.
    pub fn next_open(
        &self,
        window: &CallingWindow,
        tz: Tz,
        now: DateTime<Utc>,
        span: Duration,
    ) -> Option<DateTime<Utc>> {
        let open = |t: DateTime<Utc>| {
            window.is_open_for(tz, t, span) && self.forbidding(tz, t, span).is_none()
        };
        if open(now) {
            return Some(now);
        }
        // The intersection of the day's intervals opens at the latest of
        // their starts: one of the starts.
        let today = now.with_timezone(&tz).date_naive();
        for offset in 0..=21 {
            let Some(date) = today.checked_add_signed(Duration::days(offset)) else {
                break;
            };
            let mut starts: Vec<NaiveTime> = self
                .rules
                .iter()
                .filter_map(|r| r.openings(date))
                .chain(window.hours_on(date.weekday()).map(|(s, _)| s))
                .collect();
            starts.sort();
            starts.dedup();
            if let Some(t) = starts
                .into_iter()
                .map(|s| first_instant_reading(tz, date.and_time(s)))
                .find(|t| *t >= now && open(*t))
            {
                return Some(t);
            }
        }
        None
    }
}

/// The rules table built into this binary.
pub fn rulebook() -> &'static Rulebook {
    static BOOK: OnceLock<Rulebook> = OnceLock::new();
    BOOK.get_or_init(|| {
        // The table is part of the source and checked by a unit test; a
        // table that does not load is a build defect, and dialing without
        // the law is worse than not starting.
        match Rulebook::parse(include_str!("../../data/jurisdictions.toml")) {
            Ok(book) => book,
            Err(e) => panic!("{e}"),
        }
    })
}

/// The jurisdictions a number and a lead's region (`US-FL`, or `FL` for a
/// number's own country) place the called party in: the number's country,
/// the states or provinces its area code was assigned in, and the
/// address's.
pub fn jurisdictions_of(e164: &str, region: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let country = country_of(e164);
    if let Some(c) = &country {
        ids.push(c.clone());
    }
    if let Some(regions) = area_code_regions(e164) {
        ids.extend(regions.iter().map(|r| (*r).to_owned()));
    }
    if let Some(r) = region.map(str::trim).filter(|r| !r.is_empty()) {
        let r = r.to_ascii_uppercase();
        let full = match (&country, r.contains('-')) {
            (_, true) => r,
            (Some(c), false) => format!("{c}-{r}"),
            (None, false) => r,
        };
        if let Some((c, _)) = full.split_once('-') {
            ids.push(c.to_owned());
        }
        ids.push(full);
    }
    let mut seen = Vec::new();
    ids.retain(|id| {
        if seen.contains(id) {
            false
        } else {
            seen.push(id.clone());
            true
        }
    });
    ids
}

/// The number's country (ISO 3166-1 alpha-2), from its calling code and
/// numbering plan.
pub fn country_of(e164: &str) -> Option<String> {
    let n = phonenumber::parse(None, e164).ok()?;
    n.country().id().map(|id| format!("{id:?}"))
}

const NANP: &str = include_str!("../../data/nanp_regions.tsv");

/// The regions a North American area code was assigned in.
fn area_code_regions(e164: &str) -> Option<&'static Vec<&'static str>> {
    static TABLE: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    let area = e164.strip_prefix("+1")?.get(..3)?;
    TABLE
        .get_or_init(|| {
            NANP.lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('\t'))
                .map(|(a, rs)| (a, rs.split(',').collect()))
                .collect()
        })
        .get(area)
}

/// A lead's region (the state or province of its address) as ISO 3166-2:
/// `US-FL`; `FL` or `fl` is read in the number's country. A United States
/// or Canadian region must be a state, district or province.
pub fn normalize_region(raw: &str, e164: &str) -> Result<String, String> {
    let r = raw.trim().to_ascii_uppercase();
    let full = if r.contains('-') {
        r
    } else {
        let country = country_of(e164)
            .ok_or_else(|| format!("{raw:?}: write the country too, as in US-FL"))?;
        format!("{country}-{r}")
    };
    let valid_shape = full.split_once('-').is_some_and(|(c, s)| {
        c.len() == 2
            && c.bytes().all(|b| b.is_ascii_uppercase())
            && (1..=3).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if !valid_shape {
        return Err(format!(
            "{raw:?} is not an ISO 3166-2 region: write it as in US-FL or CA-ON"
        ));
    }
    if (full.starts_with("US-") || full.starts_with("CA-")) && !known_nanp_region(&full) {
        return Err(format!("{full} is not a state or province"));
    }
    Ok(full)
}

fn known_nanp_region(region: &str) -> bool {
    static KNOWN: OnceLock<Vec<&'static str>> = OnceLock::new();
    KNOWN
        .get_or_init(|| {
            let mut all: Vec<&'static str> = NANP
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('\t'))
                .flat_map(|(_, rs)| rs.split(','))
                .collect();
            all.sort_unstable();
            all.dedup();
            all
        })
        .binary_search(&region)
        .is_ok()
}

impl Rulebook {
    /// The rules of `ids` that this table has.
    pub fn rules_for(&self, ids: &[String]) -> Vec<&Rule> {
        self.jurisdictions
            .iter()
            .filter(|j| ids.contains(&j.id))
            .flat_map(|j| j.rules.iter())
            .collect()
    }

    /// The rules of `ids` and then `own` (an organization's): what one
    /// lead's law is made of.
    pub fn rules_with<'a>(&'a self, ids: &[String], own: &'a [Rule]) -> Vec<&'a Rule> {
        self.rules_for(ids).into_iter().chain(own).collect()
    }

    pub fn parse(text: &str) -> Result<Rulebook, RulesError> {
        let raw: RawBook = toml::from_str(text).map_err(|e| RulesError(e.to_string()))?;
        let sets: HashMap<String, Vec<Holiday>> = raw
            .holiday_set
            .into_iter()
            .map(|s| {
                let days = s
                    .days
                    .into_iter()
                    .map(RawHoliday::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((s.id, days))
            })
            .collect::<Result<_, RulesError>>()?;
        let mut jurisdictions = Vec::new();
        for j in raw.jurisdiction {
            let mut rules = Vec::new();
            for r in j.rule {
                let kind = r
                    .kind(&sets)
                    .map_err(|e| RulesError(format!("{}: {e}", j.id)))?;
                let effective = NaiveDate::parse_from_str(&r.effective, "%Y-%m-%d")
                    .map_err(|e| RulesError(format!("{}: effective {}: {e}", j.id, r.effective)))?;
                if r.citation.trim().is_empty() || r.source.trim().is_empty() {
                    return Err(RulesError(format!(
                        "{}: a rule without its citation or source",
                        j.id
                    )));
                }
                rules.push(Rule {
                    jurisdiction: j.id.clone(),
                    kind,
                    citation: r.citation,
                    summary: r.summary,
                    source: r.source,
                    effective,
                    checked: r.checked,
                });
            }
            jurisdictions.push(Jurisdiction {
                id: j.id,
                name: j.name,
                rules,
            });
        }
        Ok(Rulebook {
            version: raw.version,
            jurisdictions,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBook {
    version: String,
    #[serde(default)]
    holiday_set: Vec<RawSet>,
    jurisdiction: Vec<RawJurisdiction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    id: String,
    days: Vec<RawHoliday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJurisdiction {
    id: String,
    name: String,
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: String,
    date: String,
    #[serde(default)]
    observed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    kind: String,
    citation: String,
    summary: String,
    source: String,
    effective: String,
    checked: String,
    // hours
    every: Option<String>,
    mon: Option<String>,
    tue: Option<String>,
    wed: Option<String>,
    thu: Option<String>,
    fri: Option<String>,
    sat: Option<String>,
    sun: Option<String>,
    // holidays
    #[serde(default)]
    sets: Vec<String>,
    #[serde(default)]
    days: Vec<RawHoliday>,
    // cap, lockout
    max: Option<u32>,
    hours: Option<i64>,
    // consent
    needs: Option<String>,
}

impl RawHoliday {
    fn parse(self) -> Result<Holiday, RulesError> {
        let date = parse_holiday_date(&self.date).ok_or_else(|| {
            RulesError(format!("holiday {}: bad date {:?}", self.name, self.date))
        })?;
        Ok(Holiday {
            name: self.name,
            date,
            observed: self.observed,
        })
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// `12-25`, `nov thu 4`, `may mon last`, `easter`, `easter-2`,
/// `election-day`.
fn parse_holiday_date(s: &str) -> Option<HolidayDate> {
    let s = s.trim();
    if s == "election-day" {
        return Some(HolidayDate::ElectionDay);
    }
    if let Some(rest) = s.strip_prefix("easter") {
        let offset = if rest.is_empty() {
            0
        } else {
            rest.parse().ok()?
        };
        return Some(HolidayDate::Easter(offset));
    }
    if let Some((m, d)) = s.split_once('-') {
        let (month, day) = (m.parse().ok()?, d.parse().ok()?);
        NaiveDate::from_ymd_opt(2024, month, day)?;
        return Some(HolidayDate::Fixed { month, day });
    }
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [m, w, n] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|x| x == m)? as u32 + 1;
    let weekday: Weekday = w.parse().ok()?;
    let n = match *n {
        "last" => -1,
        n => n.parse::<i8>().ok().filter(|n| (1..=5).contains(n))?,
    };
    Some(HolidayDate::Nth { month, weekday, n })
}

fn parse_hours(s: &str) -> Result<Option<(NaiveTime, NaiveTime)>, String> {
    if s.trim() == "closed" {
        return Ok(None);
    }
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("hours {s:?}: write HH:MM-HH:MM or closed"))?;
    let t = |x: &str| {
        NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|e| format!("hours {s:?}: {e}"))
    };
    let (start, end) = (t(a)?, t(b)?);
    if start >= end {
        return Err(format!("hours {s:?}: the end must be after the start"));
    }
    Ok(Some((start, end)))
}

impl RawRule {
    fn kind(&self, sets: &HashMap<String, Vec<Holiday>>) -> Result<RuleKind, String> {
        match self.kind.as_str() {
            "hours" => {
                let days = [
                    &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
                ];
                let mut week = [None; 7];
                for (slot, day) in week.iter_mut().zip(days) {
                    let text = day
                        .as_ref()
                        .or(self.every.as_ref())
                        .ok_or("hours: give every day (or `every`)")?;
                    *slot = parse_hours(text)?;
                }
                Ok(RuleKind::Hours(week))
            }
            "holidays" => {
                let mut days = Vec::new();
                for s in &self.sets {
                    days.extend(
                        sets.get(s)
                            .ok_or_else(|| format!("no holiday set {s:?}"))?
                            .iter()
                            .cloned(),
                    );
                }
                for d in &self.days {
                    let date = parse_holiday_date(&d.date)
                        .ok_or_else(|| format!("holiday {}: bad date {:?}", d.name, d.date))?;
                    days.push(Holiday {
                        name: d.name.clone(),
                        date,
                        observed: d.observed,
                    });
                }
                if days.is_empty() {
                    return Err("holidays: no days".into());
                }
                Ok(RuleKind::Holidays(days))
            }
            "cap" => {
                let max = self.max.filter(|m| *m > 0).ok_or("cap: max ≥ 1")?;
                let hours = self.hours.filter(|h| *h > 0).ok_or("cap: hours ≥ 1")?;
                Ok(RuleKind::Cap(RollingCap {
                    max,
                    within: Duration::hours(hours),
                }))
            }
            "abandon-lockout" => {
                let hours = self
                    .hours
                    .filter(|h| *h > 0)
                    .ok_or("abandon-lockout: hours ≥ 1")?;
                Ok(RuleKind::AbandonLockout(Duration::hours(hours)))
            }
            "consent" => {
                let needs = self
                    .needs
                    .as_deref()
                    .and_then(ConsentKind::parse)
                    .filter(|k| *k != ConsentKind::None)
                    .ok_or("consent: needs = \"express\" or \"express-written\"")?;
                Ok(RuleKind::Consent(needs))
            }
            "no-predictive" => Ok(RuleKind::NoPredictive),
            other => Err(format!("unknown rule kind {other:?}")),
        }
    }
}

impl Rulebook {
    /// The table for people, as Markdown (docs/compliance.md embeds it; a
    /// test keeps the two the same).
    pub fn to_markdown(&self) -> String {
        let mut out = format!("Rules table version **{}**.\n", self.version);
        for j in &self.jurisdictions {
            out.push_str(&format!("\n### {} — {}\n\n", j.id, j.name));
            out.push_str("| Rule | What it forbids | Citation | In force from | Checked |\n");
            out.push_str("|---|---|---|---|---|\n");
            for r in &j.rules {
                let what = match &r.kind {
                    RuleKind::Hours(week) => hours_text(week),
                    RuleKind::Holidays(days) => {
                        let names: Vec<&str> = days.iter().map(|d| d.name.as_str()).collect();
                        format!("no calls on: {}", names.join(", "))
                    }
                    RuleKind::Cap(c) => format!(
                        "at most {} calls to a number in any {} h",
                        c.max,
                        c.within.num_hours()
                    ),
                    RuleKind::AbandonLockout(d) => format!(
                        "no call within {} h of an abandoned call to the number, any dial mode",
                        d.num_hours()
                    ),
                    RuleKind::Consent(k) => format!(
                        "predictive and progressive calls only with the called party's {}",
                        k.describe()
                    ),
                    RuleKind::NoPredictive => {
                        "no predictive calls (progressive and preview calls allowed)".to_owned()
                    }
                };
                let kind = match r.kind {
                    RuleKind::Hours(_) => "hours",
                    RuleKind::Holidays(_) => "holidays",
                    RuleKind::Cap(_) => "cap",
                    RuleKind::AbandonLockout(_) => "abandon lockout",
                    RuleKind::Consent(_) => "consent",
                    RuleKind::NoPredictive => "dial mode",
                };
                out.push_str(&format!(
                    "| {kind} | {what} | [{}]({}) | {} | {} |\n",
                    r.citation.replace('|', "\\|"),
                    r.source,
                    r.effective,
                    r.checked.replace('|', "\\|"),
                ));
            }
        }
        out
    }
}

fn hours_text(week: &[Option<(NaiveTime, NaiveTime)>; 7]) -> String {
    const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let text = |d: &Option<(NaiveTime, NaiveTime)>| match d {
        Some((a, b)) => format!("{}–{}", a.format("%H:%M"), b.format("%H:%M")),
        None => "closed".to_owned(),
    };
    // Runs of days with the same hours: "Mon–Fri 09:00–18:00; Sat …".
    let mut parts = Vec::new();
    let mut i = 0;
    while i < 7 {
        let mut j = i;
        while j + 1 < 7 && week[j + 1] == week[i] {
            j += 1;
        }
        let days = if i == 0 && j == 6 {
            "every day".to_owned()
        } else if i == j {
            NAMES[i].to_owned()
        } else {
            format!("{}–{}", NAMES[i], NAMES[j])
        };
        parts.push(format!("{days} {}", text(&week[i])));
        i = j + 1;
    }
    format!("calls only: {} (local time)", parts.join("; "))
}

#[cfg(test)]
mod tests;
