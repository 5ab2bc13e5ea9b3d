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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallingWindow {
    pub days: Weekdays,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for CallingWindow {
    /// Every day, 08:00–21:00: the legal maximum.
    fn default() -> Self {
        CallingWindow {
            days: Weekdays::ALL,
            start: LEGAL_START,
            end: LEGAL_END,
        }
    }
}

impl CallingWindow {
    /// A window within the legal bounds; the error names the field.
    pub fn new(days: Weekdays, start: NaiveTime, end: NaiveTime) -> Result<Self, FieldError> {
        if days.is_empty() {
            return Err(FieldError::new(
                "callingWindow.days",
                "must include at least one day",
            ));
        }
        if start < LEGAL_START {
            return Err(FieldError::new(
                "callingWindow.start",
                "must not be before 08:00 in the lead's local time",
            ));
        }
        if end > LEGAL_END {
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
        Ok(CallingWindow { days, start, end })
    }

    /// Whether the wall-clock reading `local` is inside the window.
    pub fn contains_local(&self, local: NaiveDateTime) -> bool {
        self.days.contains(local.weekday()) && local.time() >= self.start && local.time() < self.end
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
            // `la` to `lb`, both inside one window interval.
            return true;
        }
        // A clock change inside the span: check both sides of it.
        let change = transition_between(tz, at, end);
        let before = local(tz, change - Duration::seconds(1));
        let after = local(tz, change);
        self.contains_local(before) && self.contains_local(after)
    }

    /// The first moment at or after `now` when the window is open for
    /// `span`; `None` when it never is (a span longer than the window).
    pub fn next_open(&self, tz: Tz, now: DateTime<Utc>, span: Duration) -> Option<DateTime<Utc>> {
        if self.is_open_for(tz, now, span) {
            return Some(now);
        }
        let today = local(tz, now).date();
        (0..=8)
            .filter_map(|d| today.checked_add_signed(Duration::days(d)))
            .filter(|date| self.days.contains(date.weekday()))
            .map(|date| first_instant_reading(tz, date.and_time(self.start)))
            .find(|candidate| *candidate >= now && self.is_open_for(tz, *candidate, span))
    }
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

    fn arb_window() -> impl Strategy<Value = CallingWindow> {
        (1u8..128, 0u32..(13 * 60), 1u32..(13 * 60)).prop_filter_map(
            "start before end",
            |(bits, a, b)| {
                let (s, e) = (a.min(a + b), (a + b).min(13 * 60));
                let start = LEGAL_START + Duration::minutes(s.into());
                let end = LEGAL_START + Duration::minutes(e.into());
                CallingWindow::new(Weekdays::from_bits(bits), start, end).ok()
            },
        )
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
                prop_assert!(window.end - window.start <= span + Duration::hours(1));
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
