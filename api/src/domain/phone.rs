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
    #[error(
        "has an extension: dial the main number, or put the extension in a property of the lead"
    )]
    Extension,
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
    if raw.to_ascii_lowercase().contains(";ext=") {
        return Err(PhoneError::Extension);
    }
    // A number written with its country code is read without the default
    // region: given one, the `phonenumber` crate strips a leading 1 of the
    // national number as if it were the region's trunk prefix (+977 1 …
    // Kathmandu, +44 161 … Manchester came out invalid).
    let default = (!raw.starts_with('+')).then_some(region);
    let number = phonenumber::parse(default, raw).map_err(|_| PhoneError::Unparseable)?;
    if !phonenumber::is_valid(&number) {
        return Err(PhoneError::Invalid);
    }
    // An extension is not part of the number: dropping it would dial the
    // switchboard and merge two contacts into one.
    if number.extension().is_some() {
        return Err(PhoneError::Extension);
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// A class of numbers that is never dialed: the called party or the caller
/// pays a premium, or the number reaches no one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    PremiumRate,
    SharedCost,
    TollFree,
    /// Universal access, voicemail access, pagers, personal numbers.
    Service,
    ShortCode,
    Emergency,
    /// The North American 555-0100…0199 range, reserved for fiction.
    Fictional,
}

impl Refused {
    pub fn describe(self) -> &'static str {
        match self {
            Refused::PremiumRate => "is a premium-rate number: the caller pays a premium",
            Refused::SharedCost => "is a shared-cost number",
            Refused::TollFree => "is a toll-free number: it reaches a business, not a person",
            Refused::Service => {
                "is a service number (company, voicemail, pager or personal number)"
            }
            Refused::ShortCode => "is a short code",
            Refused::Emergency => "is an emergency number",
            Refused::Fictional => {
                "is in the 555-0100…0199 range reserved for fiction: no one can answer it"
            }
        }
    }

    /// What can be done about it.
    pub fn remedy(self) -> &'static str {
        match self {
            Refused::TollFree => {
                "it is dialed only by a campaign that calls businesses (allowTollFree)"
            }
            Refused::Fictional => "it is dialed only through the simulated carrier (the demo)",
            _ => "it is never dialed",
        }
    }
}

/// A number of the North American 555-0100…0199 range, reserved for
/// fiction (films, books, demos): +1 NPA 555 01XX.
pub fn is_fictional(e164: &str) -> bool {
    let d = e164.as_bytes();
    e164.len() == 12 && e164.starts_with("+1") && &d[5..8] == b"555" && &d[8..10] == b"01"
}

/// Which classes a campaign dials beyond ordinary numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allowed {
    /// A campaign that calls businesses (`allowTollFree`).
    pub toll_free: bool,
    /// The simulated carrier, which calls nobody.
    pub fictional: bool,
}

/// The class of `e164` that is never dialed as a lead, if it is one.
pub fn refused_as_lead(e164: &str) -> Option<Refused> {
    // A toll-free or premium 555 number is refused as what it costs.
    refused_by_type(e164).or_else(|| is_fictional(e164).then_some(Refused::Fictional))
}

fn refused_by_type(e164: &str) -> Option<Refused> {
    use phonenumber::Type;
    let n = phonenumber::parse(None, e164).ok()?;
    match n.number_type(&phonenumber::metadata::DATABASE) {
        Type::PremiumRate => Some(Refused::PremiumRate),
        Type::SharedCost => Some(Refused::SharedCost),
        Type::TollFree => Some(Refused::TollFree),
        Type::Uan | Type::Voicemail | Type::Pager | Type::PersonalNumber => Some(Refused::Service),
        Type::ShortCode => Some(Refused::ShortCode),
        Type::Emergency => Some(Refused::Emergency),
        _ => None,
    }
}

/// The class of `e164` that is never dialed as a lead where `allowed`
/// classes are.
pub fn refused_in_campaign(e164: &str, allowed: Allowed) -> Option<Refused> {
    refused_by_type(e164)
        .filter(|r| !(*r == Refused::TollFree && allowed.toll_free))
        .or_else(|| (is_fictional(e164) && !allowed.fictional).then_some(Refused::Fictional))
}

/// The class of `e164` that may not be shown as a caller ID (a toll-free
/// caller ID is a business's own and is allowed; a fictional one only by
/// the simulated carrier, which the caller checks).
pub fn refused_as_caller_id(e164: &str) -> Option<Refused> {
    refused_as_lead(e164).filter(|r| !matches!(r, Refused::TollFree | Refused::Fictional))
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
    /// [`candidate_zones`]' answers per prefix, worked out on first use.
    subtrees: OnceLock<Subtrees>,
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
        ZoneTable {
            by_prefix,
            longest,
            subtrees: OnceLock::new(),
        }
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

/// Every zone the table leaves possible for a number: its longest known
/// prefix's zones and, where that prefix's area is split (longer prefixes
/// in the table name other zones, and this number matched none of them),
/// every zone of the area: the table does not know this exchange, so
/// Pinline does not guess. Empty when nothing is known.
pub fn candidate_zones(e164: &str) -> Vec<Tz> {
    let digits = e164.trim_start_matches('+');
    let t = table();
    let max = t.longest.min(digits.len());
    for len in (1..=max).rev() {
        if let Some(prefix) = digits.get(..len)
            && t.by_prefix.contains_key(prefix)
        {
            let subtree = t.subtrees.get_or_init(|| subtrees(&t.by_prefix));
            return subtree
                .get(prefix)
                .map(|(all, distinct)| distinct.get_or_init(|| one_per_clock(all)).clone())
                .unwrap_or_default();
        }
    }
    Vec::new()
}

/// The zones besides a lead's own whose clocks must also allow a call to
/// it: every zone its number leaves possible — unless someone verified the
/// lead's zone, which then alone decides. A zone given for a lead narrows
/// the window but never widens it. (A bare number has no zone of its own:
/// `also_zones(n, None, false)` is every zone it may be in.)
pub fn also_zones(e164: &str, own: Option<Tz>, verified: bool) -> Vec<Tz> {
    if verified && own.is_some() {
        return Vec::new();
    }
    candidate_zones(e164)
        .into_iter()
        .filter(|z| Some(*z) != own)
        .collect()
}

/// Per prefix: the zones of it and every longer prefix under it (and, once
/// asked for, one per distinct clock).
type Subtrees = HashMap<&'static str, (Vec<Tz>, OnceLock<Vec<Tz>>)>;

fn subtrees(by_prefix: &HashMap<&'static str, (Vec<Tz>, OnceLock<ZoneFromNumber>)>) -> Subtrees {
    let mut out: HashMap<&'static str, Vec<Tz>> = HashMap::new();
    for (prefix, (zones, _)) in by_prefix {
        for len in 1..=prefix.len() {
            let ancestor = &prefix[..len];
            if let Some((key, _)) = by_prefix.get_key_value(ancestor) {
                let entry = out.entry(*key).or_default();
                for z in zones {
                    if !entry.contains(z) {
                        entry.push(*z);
                    }
                }
            }
        }
    }
    out.into_iter()
        .map(|(k, zones)| (k, (zones, OnceLock::new())))
        .collect()
}

fn one_per_clock(zones: &[Tz]) -> Vec<Tz> {
    let mut sorted = zones.to_vec();
    sorted.sort_by_key(|z| z.name());
    let mut distinct: Vec<Tz> = Vec::new();
    for z in sorted {
        if !distinct.iter().any(|d| same_clock(*d, z)) {
            distinct.push(z);
        }
    }
    distinct
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
    fn a_leads_zone_narrows_unless_verified() {
        let ny = Tz::America__New_York;
        let phoenix = "+16025550123";
        // Given New York for a Phoenix number: Phoenix's clock applies too.
        assert_eq!(
            also_zones(phoenix, Some(ny), false),
            vec![Tz::America__Phoenix]
        );
        // Verified: New York alone.
        assert_eq!(also_zones(phoenix, Some(ny), true), Vec::<Tz>::new());
        // The number's own zone given: nothing else.
        assert_eq!(
            also_zones(phoenix, Some(Tz::America__Phoenix), false),
            Vec::<Tz>::new()
        );
        // No zone of its own (a bare number): every zone it may be in,
        // even when "verified" (there is nothing to verify).
        assert_eq!(also_zones(phoenix, None, true), vec![Tz::America__Phoenix]);
        assert_eq!(
            also_zones("+18502010123", None, false),
            candidate_zones("+18502010123")
        );
    }

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
    fn costly_and_service_numbers_are_refused() {
        assert_eq!(refused_as_lead("+19005550123"), Some(Refused::PremiumRate));
        assert_eq!(refused_as_lead("+18005550123"), Some(Refused::TollFree));
        assert_eq!(refused_as_lead("+18885550123"), Some(Refused::TollFree));
        assert_eq!(refused_as_lead("+449098790000"), Some(Refused::PremiumRate));
        assert_eq!(refused_as_lead("+448001234567"), Some(Refused::TollFree));
        assert!(matches!(
            refused_as_lead("+448431234567"),
            Some(Refused::SharedCost | Refused::PremiumRate)
        ));
        assert_eq!(refused_as_lead("+12125551234"), None);
        // The 555-0100…0199 range is fiction's; its neighbours are not.
        assert_eq!(refused_as_lead("+12125550123"), Some(Refused::Fictional));
        assert_eq!(refused_as_lead("+12125550100"), Some(Refused::Fictional));
        assert_eq!(refused_as_lead("+12125550199"), Some(Refused::Fictional));
        assert_eq!(refused_as_lead("+12125550200"), None);
        assert_eq!(refused_as_lead("+12125550099"), None);
        assert_eq!(
            refused_as_lead("+12125550123").is_some(),
            is_fictional("+12125550123")
        );
        let demo = Allowed {
            toll_free: false,
            fictional: true,
        };
        assert_eq!(refused_in_campaign("+12125550123", demo), None);
        assert_eq!(
            refused_in_campaign("+12125550123", Allowed::default()),
            Some(Refused::Fictional)
        );
        assert_eq!(
            refused_as_caller_id("+14155550100"),
            None,
            "checked by the caller"
        );
        assert_eq!(refused_as_lead("+447400123456"), None, "a UK mobile");
        assert_eq!(
            refused_as_caller_id("+19005550123"),
            Some(Refused::PremiumRate)
        );
        assert_eq!(refused_as_caller_id("+18005550123"), None);
    }

    #[test]
    fn extensions_are_not_dropped() {
        for raw in [
            "212 555 0123 x12",
            "212-555-0123 ext. 12",
            "+1 212 555 0123;ext=12",
        ] {
            assert_eq!(normalize(raw, "US"), Err(PhoneError::Extension), "{raw}");
        }
    }

    #[test]
    fn landlines_and_mobiles_per_country() {
        // A sample of valid numbers the metadata must accept: Nepal's
        // Kathmandu landlines (+977 1 …) and mobiles, and others.
        for n in [
            "+97714200000",
            "+97715550000",
            "+9779841234567",
            "+97761520000",
            "+442079460958",
            "+441612345678",
            "+447400123456",
            "+61212345678",
            "+61412345678",
            "+919830012345",
            "+81312345678",
            "+4930123456",
            "+14165550123",
        ] {
            assert_eq!(normalize(n, "US").as_deref(), Ok(n), "{n}");
        }
    }

    #[test]
    fn split_area_codes_leave_every_zone_of_the_area() {
        let names = |n: &str| {
            let mut z: Vec<&str> = candidate_zones(n).iter().map(|z| z.name()).collect();
            z.sort_unstable();
            z
        };
        // 850-201: the table knows only some of 850's Central exchanges, so
        // an exchange it does not list may be either.
        assert_eq!(
            names("+18502010123"),
            ["America/Chicago", "America/New_York"]
        );
        // An exchange the table lists as Central is Central.
        assert_eq!(names("+18502000123"), ["America/Chicago"]);
        assert_eq!(
            names("+15415550123"),
            ["America/Denver", "America/Los_Angeles"]
        );
        assert_eq!(
            names("+18125550123"),
            ["America/Chicago", "America/New_York"]
        );
        // One zone for the whole area code.
        assert_eq!(names("+12125550123"), ["America/New_York"]);
        assert_eq!(names("+16025550123"), ["America/Phoenix"]);
        assert!(candidate_zones("+999").is_empty());
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
