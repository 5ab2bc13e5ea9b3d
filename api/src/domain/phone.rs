//! Phone numbers: normalization to E.164 (with the `phonenumber` crate and
//! a default region), and the time zone a number implies.
//!
//! The number → zone table is Google libphonenumber's time-zone map
//! (`api/data/phone_time_zones.tsv`, see its header for the source and how
//! to regenerate it): the longest matching prefix wins. For the North
//! American Numbering Plan it has every assigned area code, and for area
//! codes that span zones, exchange-level prefixes where they are known.
//! A prefix whose zones all keep the same clock (Europe/London and
//! Europe/Jersey) counts as one zone.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Tz;
use phonenumber::{Mode, country};

/// Why a number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is empty")]
    Empty,
    #[error("is not a phone number")]
    Unparseable,
    #[error("is not a valid number for its country")]
    Invalid,
    #[error("has an unknown default region")]
    UnknownRegion,
}

/// Normalize to E.164 (`+14155550123`). Numbers without a country code are
/// read in `default_region` (ISO 3166 alpha-2).
pub fn normalize(raw: &str, default_region: &str) -> Result<String, PhoneError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(PhoneError::Empty);
    }
    if raw.len() > 40 {
        return Err(PhoneError::Unparseable);
    }
    let region = country::Id::from_str(default_region).map_err(|_| PhoneError::UnknownRegion)?;
    let number = phonenumber::parse(Some(region), raw).map_err(|_| PhoneError::Unparseable)?;
    if !phonenumber::is_valid(&number) {
        return Err(PhoneError::Invalid);
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// What a number says about its time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneFromNumber {
    /// One zone (or several that keep the same clock).
    Known(Tz),
    /// The number's area spans zones with different clocks.
    Ambiguous(Vec<Tz>),
    /// No data for this number.
    Unknown,
}

const TABLE: &str = include_str!("../../data/phone_time_zones.tsv");

struct ZoneTable {
    /// Zones per prefix, and the verdict, worked out on first use.
    by_prefix: HashMap<&'static str, (Vec<Tz>, OnceLock<ZoneFromNumber>)>,
    longest: usize,
}

fn table() -> &'static ZoneTable {
    static TABLE_CELL: OnceLock<ZoneTable> = OnceLock::new();
    TABLE_CELL.get_or_init(|| {
        let mut by_prefix = HashMap::new();
        let mut longest = 0;
        for line in TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let Some((prefix, zones)) = line.split_once('\t') else {
                continue;
            };
            let zones: Vec<Tz> = zones.split(',').filter_map(|z| z.parse().ok()).collect();
            longest = longest.max(prefix.len());
            by_prefix.insert(prefix, (zones, OnceLock::new()));
        }
        ZoneTable { by_prefix, longest }
    })
}

fn verdict(zones: &[Tz]) -> ZoneFromNumber {
    match zones {
        [] => ZoneFromNumber::Unknown,
        [one] => ZoneFromNumber::Known(*one),
        [first, rest @ ..] if rest.iter().all(|z| same_clock(*first, *z)) => {
            ZoneFromNumber::Known(*first)
        }
        _ => ZoneFromNumber::Ambiguous(zones.to_vec()),
    }
}

/// Whether two zones show the same local time at every hour of 2025–2027.
fn same_clock(a: Tz, b: Tz) -> bool {
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single();
    let Some(start) = start else { return false };
    (0..(3 * 366 * 24)).all(|h| {
        let t = start + Duration::hours(h);
        t.with_timezone(&a).naive_local() == t.with_timezone(&b).naive_local()
    })
}

/// The zone an E.164 number implies (longest known prefix).
pub fn zone_for_number(e164: &str) -> ZoneFromNumber {
    let digits = e164.trim_start_matches('+');
    let t = table();
    let max = t.longest.min(digits.len());
    for len in (1..=max).rev() {
        if let Some((zones, decided)) = digits.get(..len).and_then(|p| t.by_prefix.get(p)) {
            return decided.get_or_init(|| verdict(zones)).clone();
        }
    }
    ZoneFromNumber::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_to_e164() {
        assert_eq!(
            normalize("(415) 555-2671", "US").as_deref(),
            Ok("+14155552671")
        );
        assert_eq!(
            normalize("+44 20 7946 0958", "US").as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(
            normalize("020 7946 0958", "GB").as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(normalize("", "US"), Err(PhoneError::Empty));
        assert_eq!(normalize("hello", "US"), Err(PhoneError::Unparseable));
        assert!(
            normalize("+1 123 456 7890", "US").is_err(),
            "area codes never start with 1"
        );
        assert_eq!(
            normalize("415 555 2671", "ZZ"),
            Err(PhoneError::UnknownRegion)
        );
    }

    #[test]
    fn nanp_area_codes() {
        let zone = |n: &str| zone_for_number(n);
        // Single-zone area codes.
        assert_eq!(
            zone("+12125550123"),
            ZoneFromNumber::Known(Tz::America__New_York)
        );
        assert_eq!(
            zone("+13125550123"),
            ZoneFromNumber::Known(Tz::America__Chicago)
        );
        assert_eq!(
            zone("+14155550123"),
            ZoneFromNumber::Known(Tz::America__Los_Angeles)
        );
        assert_eq!(
            zone("+16025550123"),
            ZoneFromNumber::Known(Tz::America__Phoenix)
        );
        assert_eq!(
            zone("+18085550123"),
            ZoneFromNumber::Known(Tz::Pacific__Honolulu)
        );
        assert_eq!(
            zone("+13055550123"),
            ZoneFromNumber::Known(Tz::America__New_York)
        );
        // 907 covers Alaska, Aleutians included (Anchorage and Adak clocks).
        assert!(matches!(zone("+19075550123"), ZoneFromNumber::Ambiguous(_)));
        // 208 (Idaho) spans Mountain and Pacific: an unknown exchange is ambiguous…
        assert!(matches!(zone("+12085550123"), ZoneFromNumber::Ambiguous(_)));
        // …a known exchange is not.
        assert_eq!(
            zone("+12082010123"),
            ZoneFromNumber::Known(Tz::America__Denver)
        );
    }

    #[test]
    fn countries_with_one_clock() {
        assert!(matches!(
            zone_for_number("+442079460958"),
            ZoneFromNumber::Known(z) if same_clock(z, Tz::Europe__London)
        ));
        assert!(matches!(
            zone_for_number("+9771234567"),
            ZoneFromNumber::Known(z) if same_clock(z, Tz::Asia__Kathmandu)
        ));
        assert!(matches!(
            zone_for_number("+61212345678"),
            ZoneFromNumber::Known(_) | ZoneFromNumber::Ambiguous(_)
        ));
    }
}
