//! Calling windows: the days and local times a lead may be called, read in
//! the lead's own time zone. A moment is inside the window when the lead's
//! wall clock reads a time in `[start, end)` on an allowed weekday — which
//! stays true across daylight-saving gaps and overlaps and for zones with
//! 30- and 45-minute offsets, because it is always the zone's own clock that
//! is read.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

use super::identity::FieldError;

/// The legal bounds every window stays within (PRODUCT.md §4).
pub const LEGAL_START: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(t) => t,
    None => panic!("valid time"),
};
pub const LEGAL_END: NaiveTime = match NaiveTime::from_hms_opt(21, 0, 0) {
    Some(t) => t,
    None => panic!("valid time"),
};

/// A set of weekdays (bit 0 = Monday … bit 6 = Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weekdays(u8);

impl Weekdays {
    pub const ALL: Weekdays = Weekdays(0b111_1111);
    pub const MON_TO_FRI: Weekdays = Weekdays(0b001_1111);

    pub fn from_days(days: impl IntoIterator<Item = Weekday>) -> Weekdays {
        Weekdays(
            days.into_iter()
                .fold(0, |bits, d| bits | (1 << d.num_days_from_monday())),
        )
    }

    pub fn from_bits(bits: u8) -> Weekdays {
        Weekdays(bits & 0b111_1111)
    }

    pub fn bits(self) -> u8 {
        self.0
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        WEEK.into_iter().filter(move |d| self.contains(*d))
    }
}

/// The days of the week, Monday first.
pub const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// One day's hours: a call may start at or after the first time and must
/// ring out before the second; `None`: no calls that day.
pub type DayHours = Option<(NaiveTime, NaiveTime)>;

/// The hours of each day of the week, Monday first, read on the lead's own
/// clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallingWindow {
    week: [DayHours; 7],
}

impl Default for CallingWindow {
    /// Every day, 08:00–21:00: the legal maximum.
    fn default() -> Self {
        CallingWindow::from_week([Some((LEGAL_START, LEGAL_END)); 7])
    }
}

impl CallingWindow {
    /// The same hours on each of `days`, within the legal bounds; the error
    /// names the field.
    pub fn new(days: Weekdays, start: NaiveTime, end: NaiveTime) -> Result<Self, FieldError> {
        if days.is_empty() {
            return Err(FieldError::new(
                "callingWindow.days",
                "must include at least one day",
            ));
        }
        let mut week = [None; 7];
        for d in days.iter() {
            week[d.num_days_from_monday() as usize] = Some((start, end));
        }
        Self::weekly(week)
    }

    /// Each day its own hours (or closed), within the legal bounds; the
    /// error names the field.
    pub fn weekly(week: [DayHours; 7]) -> Result<Self, FieldError> {
        if week.iter().all(Option::is_none) {
            return Err(FieldError::new(
                "callingWindow.days",
                "must include at least one day",
            ));
        }
        for (start, end) in week.iter().flatten() {
            if *start < LEGAL_START {
                return Err(FieldError::new(
                    "callingWindow.start",
                    "must not be before 08:00 in the lead's local time",
                ));
            }
            if *end > LEGAL_END {
                return Err(FieldError::new(
                    "callingWindow.end",
                    "must not be after 21:00 in the lead's local time",
                ));
            }
            if start >= end {
                return Err(FieldError::new(
                    "callingWindow.end",
                    "must be after the start",
                ));
            }
        }
        Ok(CallingWindow { week })
    }

    /// The hours as given, unchecked: the law's own hours (Canada's run to
    /// 21:30) and stored windows already checked when saved.
    pub const fn from_week(week: [DayHours; 7]) -> Self {
        CallingWindow { week }
    }

    /// Each day's hours, Monday first.
    pub fn week(&self) -> [DayHours; 7] {
        self.week
    }

    pub fn hours_on(&self, day: Weekday) -> DayHours {
        self.week[day.num_days_from_monday() as usize]
    }

    /// The days with hours.
    pub fn days(&self) -> Weekdays {
        Weekdays::from_days(WEEK.into_iter().filter(|d| self.hours_on(*d).is_some()))
    }

    /// The earliest opening of any day (08:00 for a window with no day).
    pub fn earliest_start(&self) -> NaiveTime {
        self.week
            .iter()
            .flatten()
            .map(|h| h.0)
            .min()
            .unwrap_or(LEGAL_START)
    }

    /// The latest close of any day.
    pub fn latest_end(&self) -> NaiveTime {
        self.week
            .iter()
            .flatten()
            .map(|h| h.1)
            .max()
            .unwrap_or(LEGAL_START)
    }

    /// The shortest day's hours (a day with none is left out).
    pub fn shortest_day(&self) -> Option<Duration> {
        self.week.iter().flatten().map(|(s, e)| *e - *s).min()
    }

    /// The same hours on every open day: those hours.
    pub fn uniform(&self) -> Option<(NaiveTime, NaiveTime)> {
        let mut open = self.week.iter().flatten();
        let first = *open.next()?;
        open.all(|h| *h == first).then_some(first)
    }

    /// Whether the wall-clock reading `local` is inside the window.
    pub fn contains_local(&self, local: NaiveDateTime) -> bool {
        self.hours_on(local.weekday())
            .is_some_and(|(start, end)| local.time() >= start && local.time() < end)
    }

    /// Whether the window is open at `at` and stays open for all of `span`
    /// (a call is started only if it can ring out inside the window).
    pub fn is_open_for(&self, tz: Tz, at: DateTime<Utc>, span: Duration) -> bool {
        let end = at + span;
        let (la, lb) = (local(tz, at), local(tz, end));
        if !self.contains_local(la) || !self.contains_local(lb) || la.date() != lb.date() {
            return false;
        }
        if offset_secs(tz, at) == offset_secs(tz, end) {
            // No clock change in between: the local clock ran straight from
            // `la` to `lb`, both inside one day's hours.
            return true;
        }
        // A clock change inside the span: check both sides of it.
        let change = transition_between(tz, at, end);
        let before = local(tz, change - Duration::seconds(1));
        let after = local(tz, change);
        self.contains_local(before) && self.contains_local(after)
    }

    /// The first moment at or after `now` when the window is open for
    /// `span`; `None` when it never is (a span longer than every day).
    pub fn next_open(&self, tz: Tz, now: DateTime<Utc>, span: Duration) -> Option<DateTime<Utc>> {
        if self.is_open_for(tz, now, span) {
            return Some(now);
        }
        let today = local(tz, now).date();
        (0..=8)
            .filter_map(|d| today.checked_add_signed(Duration::days(d)))
            .filter_map(|date| {
                let (start, _) = self.hours_on(date.weekday())?;
                Some(first_instant_reading(tz, date.and_time(start)))
            })
            .find(|candidate| *candidate >= now && self.is_open_for(tz, *candidate, span))
    }
}

/// A week's hours as text, Monday first: "09:00-20:00,…,-" ("-": closed).
pub fn week_text(week: &[DayHours; 7]) -> String {
    week.iter()
        .map(|h| match h {
            Some((s, e)) => format!("{}-{}", s.format("%H:%M"), e.format("%H:%M")),
            None => "-".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The week [`week_text`] wrote; `None` for anything else.
pub fn parse_week(text: &str) -> Option<[DayHours; 7]> {
    let mut week = [None; 7];
    let mut days = text.split(',');
    for slot in &mut week {
        let day = days.next()?.trim();
        if day != "-" {
            let (s, e) = day.split_once('-')?;
            let t = |v: &str| NaiveTime::parse_from_str(v.trim(), "%H:%M").ok();
            *slot = Some((t(s)?, t(e)?));
        }
    }
    days.next().is_none().then_some(week)
}

fn local(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

fn offset_secs(tz: Tz, t: DateTime<Utc>) -> i64 {
    (local(tz, t) - t.naive_utc()).num_seconds()
}

/// The first second in `(a, b]` with `b`'s offset (there is a change).
fn transition_between(tz: Tz, a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
    let target = offset_secs(tz, a);
    let (mut lo, mut hi) = (a, b);
    while hi - lo > Duration::seconds(1) {
        let mid = lo + (hi - lo) / 2;
        if offset_secs(tz, mid) == target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// The first instant whose wall clock reads `wall` or later: the earlier
/// of two in an overlap; the end of the gap when `wall` is skipped.
pub(crate) fn first_instant_reading(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = wall;
    for _ in 0..(24 * 60) {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => return a.min(b).with_timezone(&Utc),
            LocalResult::None => probe += Duration::minutes(1),
        }
    }
    // No zone skips a whole day of minutes; fall back to reading as UTC.
    wall.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("time")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("utc")
    }

    const RING: Duration = Duration::seconds(25);

    #[test]
    fn windows_stay_within_the_legal_hours() {
        assert!(CallingWindow::new(Weekdays::ALL, hm(7, 59), hm(20, 0)).is_err());
        assert!(CallingWindow::new(Weekdays::ALL, hm(9, 0), hm(21, 1)).is_err());
        assert!(CallingWindow::new(Weekdays::ALL, hm(12, 0), hm(12, 0)).is_err());
        assert!(CallingWindow::new(Weekdays::from_bits(0), hm(9, 0), hm(17, 0)).is_err());
        let err = CallingWindow::new(Weekdays::ALL, hm(6, 0), hm(20, 0)).expect_err("too early");
        assert_eq!(err.field, "callingWindow.start");
        assert!(CallingWindow::new(Weekdays::MON_TO_FRI, hm(9, 0), hm(17, 30)).is_ok());
    }

    #[test]
    fn new_york_spring_forward_day() {
        // 2026-03-08: 02:00 EST → 03:00 EDT. 08:00 EDT = 12:00 UTC.
        let w = CallingWindow::default();
        let tz = Tz::America__New_York;
        assert!(!w.is_open_for(tz, utc(2026, 3, 8, 11, 59, 0), RING));
        assert!(w.is_open_for(tz, utc(2026, 3, 8, 12, 0, 0), RING));
        assert_eq!(
            w.next_open(tz, utc(2026, 3, 8, 6, 0, 0), RING),
            Some(utc(2026, 3, 8, 12, 0, 0))
        );
        // 21:00 EDT = 01:00 UTC next day.
        assert!(w.is_open_for(tz, utc(2026, 3, 9, 0, 59, 0), RING));
        assert!(
            !w.is_open_for(tz, utc(2026, 3, 9, 0, 59, 40), RING),
            "closes before the ring ends"
        );
    }

    #[test]
    fn new_york_fall_back_day() {
        // 2026-11-01: 02:00 EDT → 01:00 EST. 08:00 EST = 13:00 UTC.
        let w = CallingWindow::default();
        let tz = Tz::America__New_York;
        assert!(
            !w.is_open_for(tz, utc(2026, 11, 1, 12, 30, 0), RING),
            "07:30 EST"
        );
        assert_eq!(
            w.next_open(tz, utc(2026, 11, 1, 5, 30, 0), RING),
            Some(utc(2026, 11, 1, 13, 0, 0))
        );
        // The day before, 08:00 EDT = 12:00 UTC.
        assert_eq!(
            w.next_open(tz, utc(2026, 10, 31, 5, 0, 0), RING),
            Some(utc(2026, 10, 31, 12, 0, 0))
        );
    }

    #[test]
    fn lord_howe_half_hour_dst_and_kathmandu() {
        // Lord Howe: +10:30 standard, +11:00 in summer (from 2026-10-04).
        let w = CallingWindow::default();
        let lh = Tz::Australia__Lord_Howe;
        // 2026-07-01 (winter, +10:30): 08:00 local = 21:30 UTC the day before.
        assert_eq!(
            w.next_open(lh, utc(2026, 6, 30, 12, 0, 0), RING),
            Some(utc(2026, 6, 30, 21, 30, 0))
        );
        // 2027-01-15 (summer, +11:00): 08:00 local = 21:00 UTC the day before.
        assert_eq!(
            w.next_open(lh, utc(2027, 1, 14, 12, 0, 0), RING),
            Some(utc(2027, 1, 14, 21, 0, 0))
        );
        // The switch day itself, 2026-10-04: 02:00 → 02:30 (+10:30 → +11:00).
        // 08:00 that day is +11:00 = 21:00 UTC on the 3rd; 08:00 on the 3rd
        // was still +10:30 = 21:30 UTC on the 2nd.
        assert_eq!(
            w.next_open(lh, utc(2026, 10, 3, 12, 0, 0), RING),
            Some(utc(2026, 10, 3, 21, 0, 0))
        );
        assert_eq!(
            w.next_open(lh, utc(2026, 10, 2, 12, 0, 0), RING),
            Some(utc(2026, 10, 2, 21, 30, 0))
        );
        // Kathmandu, +05:45: 08:00 local = 02:15 UTC.
        let k = Tz::Asia__Kathmandu;
        assert_eq!(
            w.next_open(k, utc(2026, 5, 1, 0, 0, 0), RING),
            Some(utc(2026, 5, 1, 2, 15, 0))
        );
        assert!(!w.is_open_for(k, utc(2026, 5, 1, 2, 14, 59), RING));
        // 21:00 local = 15:15 UTC.
        assert!(!w.is_open_for(k, utc(2026, 5, 1, 15, 14, 40), RING));
        assert!(w.is_open_for(k, utc(2026, 5, 1, 15, 14, 30), RING));
    }

    #[test]
    fn weekdays_are_the_leads_weekdays() {
        // Mon–Fri 09:00–17:00; Friday 16:00 in Los Angeles is Saturday in UTC.
        let w = CallingWindow::new(Weekdays::MON_TO_FRI, hm(9, 0), hm(17, 0)).expect("window");
        let la = Tz::America__Los_Angeles;
        let friday_4pm = utc(2026, 6, 6, 0, 0, 0) - Duration::hours(1); // Fri 16:00 PDT
        assert!(w.is_open_for(la, friday_4pm, RING));
        // Friday 17:30 → next Monday 09:00 PDT = 16:00 UTC.
        let next = w.next_open(la, friday_4pm + Duration::minutes(90), RING);
        assert_eq!(next, Some(utc(2026, 6, 8, 16, 0, 0)));
    }

    const ZONES: &[Tz] = &[
        Tz::America__New_York,
        Tz::America__Chicago,
        Tz::America__Denver,
        Tz::America__Phoenix,
        Tz::America__Los_Angeles,
        Tz::America__Anchorage,
        Tz::Pacific__Honolulu,
        Tz::America__St_Johns,
        Tz::Europe__London,
        Tz::Europe__Berlin,
        Tz::Asia__Kolkata,
        Tz::Asia__Kathmandu,
        Tz::Australia__Lord_Howe,
        Tz::Australia__Adelaide,
        Tz::Pacific__Chatham,
        Tz::America__Sao_Paulo,
    ];

    fn arb_hours() -> impl Strategy<Value = DayHours> {
        proptest::option::weighted(0.8, (0u32..(13 * 60), 1u32..(13 * 60))).prop_map(|h| {
            h.and_then(|(a, b)| {
                let e = (a + b).min(13 * 60);
                (e > a).then(|| {
                    (
                        LEGAL_START + Duration::minutes(a.into()),
                        LEGAL_START + Duration::minutes(e.into()),
                    )
                })
            })
        })
    }

    /// Uniform windows and windows with each day its own hours.
    fn arb_window() -> impl Strategy<Value = CallingWindow> {
        let uniform = (1u8..128, arb_hours()).prop_filter_map("a day", |(bits, h)| {
            let (start, end) = h?;
            CallingWindow::new(Weekdays::from_bits(bits), start, end).ok()
        });
        let weekly = proptest::array::uniform7(arb_hours())
            .prop_filter_map("a day", |week| CallingWindow::weekly(week).ok());
        prop_oneof![uniform, weekly]
    }

    #[test]
    fn a_week_reads_back_as_written() {
        let mut week = [Some((hm(9, 0), hm(20, 0))); 7];
        week[5] = Some((hm(10, 0), hm(14, 30)));
        week[6] = None;
        let text = week_text(&week);
        assert_eq!(
            text,
            "09:00-20:00,09:00-20:00,09:00-20:00,09:00-20:00,09:00-20:00,10:00-14:30,-"
        );
        assert_eq!(parse_week(&text), Some(week));
        assert_eq!(parse_week("09:00-20:00"), None, "one day is not a week");
        assert_eq!(parse_week(&format!("{text},-")), None, "eight days");
        assert_eq!(parse_week(&text.replace("14:30", "25:00")), None);
    }

    #[test]
    fn each_day_keeps_its_own_hours() {
        // Mon–Fri 09:00–20:00, Saturday 10:00–14:00, Sunday closed.
        let mut week = [Some((hm(9, 0), hm(20, 0))); 7];
        week[5] = Some((hm(10, 0), hm(14, 0)));
        week[6] = None;
        let w = CallingWindow::weekly(week).expect("window");
        let ny = Tz::America__New_York;
        // Saturday 2026-06-13 13:59 EDT = 17:59 UTC: the ring ends after 14:00.
        assert!(w.is_open_for(ny, utc(2026, 6, 13, 17, 30, 0), RING));
        assert!(!w.is_open_for(ny, utc(2026, 6, 13, 17, 59, 50), RING));
        // Saturday 15:00 → Monday 09:00 EDT (13:00 UTC), Sunday skipped.
        assert_eq!(
            w.next_open(ny, utc(2026, 6, 13, 19, 0, 0), RING),
            Some(utc(2026, 6, 15, 13, 0, 0))
        );
        // Friday 08:30 opens at 09:00 and stays until 20:00, not 14:00.
        assert_eq!(
            w.next_open(ny, utc(2026, 6, 12, 12, 30, 0), RING),
            Some(utc(2026, 6, 12, 13, 0, 0))
        );
        assert!(w.is_open_for(ny, utc(2026, 6, 12, 23, 0, 0), RING));
        assert_eq!(w.days(), Weekdays::from_bits(0b011_1111));
        assert_eq!((w.earliest_start(), w.latest_end()), (hm(9, 0), hm(20, 0)));
        assert_eq!(w.uniform(), None);
        assert_eq!(w.shortest_day(), Some(Duration::hours(4)));
        // Each day within the legal bounds, and no day backwards.
        week[5] = Some((hm(7, 0), hm(14, 0)));
        assert_eq!(
            CallingWindow::weekly(week).map_err(|e| e.field),
            Err("callingWindow.start")
        );
        week[5] = Some((hm(14, 0), hm(10, 0)));
        assert_eq!(
            CallingWindow::weekly(week).map_err(|e| e.field),
            Err("callingWindow.end")
        );
        assert_eq!(
            CallingWindow::weekly([None; 7]).map_err(|e| e.field),
            Err("callingWindow.days")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Open means the lead's wall clock is inside the window for the
        /// whole ring, and `next_open` is truly the next opening.
        #[test]
        fn next_open_is_the_next_opening(
            window in arb_window(),
            zone in 0..ZONES.len(),
            // 2025-01-01 .. 2031-01-01, to the second.
            secs in 1_735_689_600i64..1_924_992_000i64,
            ring in 15i64..120,
        ) {
            let tz = ZONES[zone];
            let now = DateTime::from_timestamp(secs, 0).expect("time");
            let span = Duration::seconds(ring);
            if window.is_open_for(tz, now, span) {
                for s in [0, ring / 2, ring] {
                    let t = now + Duration::seconds(s);
                    prop_assert!(window.contains_local(local(tz, t)));
                }
            }
            let Some(next) = window.next_open(tz, now, span) else {
                // Only a window too short for one ring never opens (a clock
                // change can shorten a day's window by up to an hour).
                let longest = window.week().iter().flatten().map(|(s, e)| *e - *s).max();
                prop_assert!(longest.is_some_and(|l| l <= span + Duration::hours(1)));
                return Ok(());
            };
            prop_assert!(next >= now);
            prop_assert!(window.is_open_for(tz, next, span));
            prop_assert!(window.contains_local(local(tz, next)));
            // No earlier opening: probe each minute boundary before it.
            let mut t = now;
            while t < next {
                prop_assert!(!window.is_open_for(tz, t, span), "open at {t} before {next}");
                t += Duration::seconds(60 - t.timestamp().rem_euclid(60)).min(next - t);
                if t == next { break; }
            }
        }
    }
}
