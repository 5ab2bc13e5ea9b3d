//! An organization's own calling rules: its hours per weekday, its closing
//! days and its caps on calls per number. They are rules like the law's
//! (jurisdiction `ORG`), added to every lead's law, so they can only narrow
//! what the law allows — never widen it. Each change is a new revision; a
//! decision at an instant is judged by the revision in force then.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::eligibility::RollingCap;
use super::identity::FieldError;
use super::jurisdiction::{Holiday, HolidayDate, Rule, RuleKind};
use super::window::{DayHours, parse_week, week_text};

/// The jurisdiction id an organization's own rules carry.
pub const ORGANIZATION: &str = "ORG";

/// The caps an organization has until it sets its own: three calls to a
/// number in any 24 hours (Maryland's Stop the Spam Calls Act, the
/// strictest US state cap, applied to every number).
pub const DEFAULT_CAPS: [RollingCap; 1] = [RollingCap {
    max: 3,
    within: Duration::hours(24),
}];

/// Bounds on what a policy may hold.
pub const MAX_HOLIDAYS: usize = 400;
pub const MAX_CAPS: usize = 10;
pub const MAX_CAP_CALLS: u32 = 1_000;
/// The longest cap window: 30 days (the number's history is read that far
/// back).
pub const MAX_CAP_HOURS: u32 = 30 * 24;

/// One of the organization's closing days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosingDay {
    pub name: String,
    pub date: ClosingDate,
}

/// Every year on a day, or once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosingDate {
    Yearly { month: u32, day: u32 },
    Once(NaiveDate),
}

impl ClosingDate {
    /// "2026-12-24" (once) or "12-24" (every year); `None` otherwise.
    pub fn parse(text: &str) -> Option<ClosingDate> {
        let t = text.trim();
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Some(ClosingDate::Once(d));
        }
        let (m, d) = t.split_once('-')?;
        if m.len() != 2 || d.len() != 2 {
            return None;
        }
        let (month, day): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
        // 2024 is a leap year: 02-29 is a day some years have.
        NaiveDate::from_ymd_opt(2024, month, day)?;
        Some(ClosingDate::Yearly { month, day })
    }

    pub fn text(self) -> String {
        match self {
            ClosingDate::Yearly { month, day } => format!("{month:02}-{day:02}"),
            ClosingDate::Once(d) => d.format("%Y-%m-%d").to_string(),
        }
    }

    fn holiday_date(self) -> HolidayDate {
        match self {
            ClosingDate::Yearly { month, day } => HolidayDate::Fixed { month, day },
            ClosingDate::Once(d) => HolidayDate::On(d),
        }
    }
}

/// What an organization adds to the law.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Its calling hours per weekday; `None`: it adds none (the law and
    /// each campaign's window decide).
    pub hours: Option<[DayHours; 7]>,
    pub closing_days: Vec<ClosingDay>,
    /// Caps on calls to one number across the organization.
    pub caps: Vec<RollingCap>,
}

impl Default for Policy {
    /// What an organization has before it sets anything: the default caps.
    fn default() -> Self {
        Policy {
            hours: None,
            closing_days: Vec::new(),
            caps: DEFAULT_CAPS.to_vec(),
        }
    }
}

/// A policy as set, and by whom.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// 0: the default, never set.
    pub revision: u32,
    pub set_at: Option<DateTime<Utc>>,
    pub set_by: Option<String>,
    pub policy: Policy,
}

impl Revision {
    /// The default policy, before any was set.
    pub fn initial() -> Revision {
        Revision {
            revision: 0,
            set_at: None,
            set_by: None,
            policy: Policy::default(),
        }
    }

    /// The policy as rules of the jurisdiction `ORG`, each citing the
    /// revision.
    pub fn rules(&self) -> Vec<Rule> {
        let citation = match self.revision {
            0 => "Organization policy (default)".to_owned(),
            n => format!("Organization policy, revision {n}"),
        };
        let checked = match (&self.set_by, self.set_at) {
            (Some(by), Some(at)) => format!("set by {by} at {}", at.to_rfc3339()),
            _ => "Pinline's default".to_owned(),
        };
        let rule = |kind: RuleKind, summary: String| Rule {
            jurisdiction: ORGANIZATION.to_owned(),
            kind,
            citation: citation.clone(),
            summary,
            source: "organization settings (compliancePolicy)".to_owned(),
            // The revision in force is chosen by instant; its rules apply
            // from the first day.
            effective: NaiveDate::MIN,
            checked: checked.clone(),
        };
        let p = &self.policy;
        let mut out = Vec::new();
        if let Some(week) = p.hours {
            out.push(rule(
                RuleKind::Hours(week),
                format!("the organization calls only {}", describe_week(&week)),
            ));
        }
        if !p.closing_days.is_empty() {
            let days = p
                .closing_days
                .iter()
                .map(|c| Holiday {
                    name: c.name.clone(),
                    date: c.date.holiday_date(),
                    observed: false,
                })
                .collect();
            out.push(rule(
                RuleKind::Holidays(days),
                "no calls on the organization's closing days".to_owned(),
            ));
        }
        for cap in &p.caps {
            out.push(rule(
                RuleKind::Cap(*cap),
                format!(
                    "at most {} calls to a number in any {} hours",
                    cap.max,
                    cap.within.num_hours()
                ),
            ));
        }
        out
    }
}

/// "Mon 09:00–20:00, Sat 10:00–14:00".
pub fn describe_week(week: &[DayHours; 7]) -> String {
    week.iter()
        .zip(super::window::WEEK)
        .filter_map(|(h, d)| {
            h.map(|(s, e)| format!("{d} {}–{}", s.format("%H:%M"), e.format("%H:%M")))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check a policy; the error names the field.
pub fn validate(p: &Policy) -> Result<(), FieldError> {
    if let Some(week) = &p.hours {
        if week.iter().all(Option::is_none) {
            return Err(FieldError::new(
                "hours",
                "must open on at least one day (to stop calling, pause the campaigns)",
            ));
        }
        if week.iter().flatten().any(|(s, e)| s >= e) {
            return Err(FieldError::new(
                "hours",
                "each day must end after it starts",
            ));
        }
    }
    if p.closing_days.len() > MAX_HOLIDAYS {
        return Err(FieldError::new(
            "closingDays",
            format!("at most {MAX_HOLIDAYS} days"),
        ));
    }
    if p.closing_days.iter().any(|c| c.name.trim().is_empty()) {
        return Err(FieldError::new("closingDays.name", "must not be empty"));
    }
    if p.caps.is_empty() {
        return Err(FieldError::new(
            "caps",
            "must hold at least one cap: calls to a number are always capped across the organization",
        ));
    }
    if p.caps.len() > MAX_CAPS {
        return Err(FieldError::new("caps", format!("at most {MAX_CAPS} caps")));
    }
    for cap in &p.caps {
        if !(1..=MAX_CAP_CALLS).contains(&cap.max) {
            return Err(FieldError::new(
                "caps.max",
                format!("must be between 1 and {MAX_CAP_CALLS} calls"),
            ));
        }
        let hours = cap.within.num_hours();
        if !(1..=i64::from(MAX_CAP_HOURS)).contains(&hours) {
            return Err(FieldError::new(
                "caps.withinHours",
                format!("must be between 1 and {MAX_CAP_HOURS} hours"),
            ));
        }
    }
    Ok(())
}

/// The stored form (JSON).
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    /// `window::week_text`, or absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hours: Option<String>,
    #[serde(default)]
    closing_days: Vec<StoredDay>,
    #[serde(default)]
    caps: Vec<StoredCap>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredDay {
    name: String,
    date: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredCap {
    max: u32,
    within_hours: u32,
}

impl Policy {
    pub fn to_json(&self) -> String {
        let stored = Stored {
            hours: self.hours.as_ref().map(week_text),
            closing_days: self
                .closing_days
                .iter()
                .map(|c| StoredDay {
                    name: c.name.clone(),
                    date: c.date.text(),
                })
                .collect(),
            caps: self
                .caps
                .iter()
                .map(|c| StoredCap {
                    max: c.max,
                    within_hours: u32::try_from(c.within.num_hours()).unwrap_or(0),
                })
                .collect(),
        };
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// The policy [`Policy::to_json`] wrote; `None` for anything else.
    pub fn from_json(text: &str) -> Option<Policy> {
        let s: Stored = serde_json::from_str(text).ok()?;
        let hours = match s.hours {
            Some(h) => Some(parse_week(&h)?),
            None => None,
        };
        let closing_days = s
            .closing_days
            .into_iter()
            .map(|d| {
                Some(ClosingDay {
                    date: ClosingDate::parse(&d.date)?,
                    name: d.name,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let caps = s
            .caps
            .into_iter()
            .map(|c| RollingCap {
                max: c.max,
                within: Duration::hours(c.within_hours.into()),
            })
            .collect();
        Some(Policy {
            hours,
            closing_days,
            caps,
        })
    }
}

/// Whether `date` is one of the policy's closing days (for the editor's
/// preview).
pub fn closes_on(p: &Policy, date: NaiveDate) -> Option<&str> {
    p.closing_days
        .iter()
        .find(|c| c.date.holiday_date().in_year(date.year()) == Some(date))
        .map(|c| c.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::jurisdiction::Law;
    use crate::domain::window::CallingWindow;
    use chrono::{NaiveTime, TimeZone};
    use chrono_tz::Tz;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("time")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("utc")
    }

    fn policy() -> Policy {
        let mut week = [Some((hm(9, 0), hm(19, 0))); 7];
        week[6] = None;
        Policy {
            hours: Some(week),
            closing_days: vec![
                ClosingDay {
                    name: "Christmas Eve".into(),
                    date: ClosingDate::parse("12-24").expect("date"),
                },
                ClosingDay {
                    name: "Inventory".into(),
                    date: ClosingDate::parse("2026-07-02").expect("date"),
                },
            ],
            caps: vec![RollingCap {
                max: 1,
                within: Duration::hours(8),
            }],
        }
    }

    #[test]
    fn closing_dates_read_both_ways() {
        assert_eq!(
            ClosingDate::parse("12-24"),
            Some(ClosingDate::Yearly { month: 12, day: 24 })
        );
        assert_eq!(
            ClosingDate::parse("2026-07-02"),
            NaiveDate::from_ymd_opt(2026, 7, 2).map(ClosingDate::Once)
        );
        assert_eq!(
            ClosingDate::parse("02-29"),
            Some(ClosingDate::Yearly { month: 2, day: 29 })
        );
        for bad in ["13-01", "2-3", "2026-02-30", "tomorrow", "", "12-24-2026"] {
            assert_eq!(ClosingDate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_policy_is_stored_and_read_back() {
        let p = policy();
        assert_eq!(Policy::from_json(&p.to_json()), Some(p));
        assert_eq!(
            Policy::from_json(&Policy::default().to_json()),
            Some(Policy::default())
        );
        assert_eq!(Policy::from_json("{\"hours\": \"nonsense\"}"), None);
    }

    #[test]
    fn its_rules_narrow_the_law_and_cite_the_revision() {
        let r = Revision {
            revision: 3,
            set_at: Some(utc(2026, 6, 1, 0, 0)),
            set_by: Some("admin@example.com".into()),
            policy: policy(),
        };
        let rules = r.rules();
        assert_eq!(rules.len(), 3);
        assert!(
            rules.iter().all(|r| r.jurisdiction == ORGANIZATION
                && r.citation == "Organization policy, revision 3")
        );
        let refs: Vec<&Rule> = rules.iter().collect();
        let law = Law {
            version: "t",
            rules: &refs,
        };
        let ny = Tz::America__New_York;
        let ring = Duration::seconds(25);
        // Wednesday 2026-06-10: 19:30 EDT is inside the law's hours, not
        // the organization's.
        let late = utc(2026, 6, 10, 23, 30);
        assert!(
            law.forbidding(ny, late, ring)
                .is_some_and(|r| r.summary.contains("Mon 09:00–19:00"))
        );
        assert!(law.forbidding(ny, utc(2026, 6, 10, 22, 0), ring).is_none());
        // Sunday closed; Christmas Eve every year; the inventory day once.
        assert!(law.forbidding(ny, utc(2026, 6, 14, 16, 0), ring).is_some());
        assert!(law.forbidding(ny, utc(2027, 12, 24, 16, 0), ring).is_some());
        assert!(law.forbidding(ny, utc(2026, 7, 2, 16, 0), ring).is_some());
        assert!(law.forbidding(ny, utc(2027, 7, 2, 16, 0), ring).is_none());
        // The next opening after Saturday evening is Monday 09:00.
        let next = law.next_open(
            &CallingWindow::default(),
            ny,
            utc(2026, 6, 13, 23, 30),
            ring,
        );
        assert_eq!(next, Some(utc(2026, 6, 15, 13, 0)));
        assert_eq!(
            law.caps(ny, late).map(|(c, _)| c).collect::<Vec<_>>(),
            vec![RollingCap {
                max: 1,
                within: Duration::hours(8)
            }]
        );
        assert_eq!(
            closes_on(&r.policy, NaiveDate::from_ymd_opt(2030, 12, 24).expect("d")),
            Some("Christmas Eve")
        );
        // Before anything is set: the default caps, citing the default.
        let initial = Revision::initial().rules();
        assert_eq!(initial.len(), 1);
        assert_eq!(initial[0].citation, "Organization policy (default)");
        assert_eq!(initial[0].kind, RuleKind::Cap(DEFAULT_CAPS[0]));
    }

    #[test]
    fn validation_names_the_field() {
        let field = |f: fn(&mut Policy)| {
            let mut p = policy();
            f(&mut p);
            validate(&p).map_err(|e| e.field)
        };
        assert_eq!(field(|_| {}), Ok(()));
        assert_eq!(field(|p| p.hours = Some([None; 7])), Err("hours"));
        assert_eq!(
            field(|p| p.hours = Some([Some((hm(12, 0), hm(9, 0))); 7])),
            Err("hours")
        );
        assert_eq!(field(|p| p.caps[0].max = 0), Err("caps.max"));
        assert_eq!(
            field(|p| p.caps[0].within = Duration::hours(24 * 31)),
            Err("caps.withinHours")
        );
        assert_eq!(field(|p| p.caps = vec![DEFAULT_CAPS[0]; 11]), Err("caps"));
        assert_eq!(
            field(|p| p.closing_days[0].name = " ".into()),
            Err("closingDays.name")
        );
        assert_eq!(field(|p| p.caps.clear()), Err("caps"));
    }
}
