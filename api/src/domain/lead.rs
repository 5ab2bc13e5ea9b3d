//! Leads as they arrive: one input row (from `addLeads` or a CSV line) is
//! checked and normalized, or refused with a machine-readable code.

use chrono_tz::Tz;

use super::eligibility::LeadStatus;
use super::phone::{self, ZoneFromNumber};

/// One lead as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadInput {
    pub phone: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// An IANA name; when absent the number decides.
    pub time_zone: Option<String>,
    /// Whoever added the lead vouches for `time_zone`.
    pub time_zone_verified: bool,
    /// The state or province of the lead's address (ISO 3166-2, `US-FL`,
    /// or `FL` in the number's country): its calling rules apply too.
    pub region: Option<String>,
    /// Arbitrary ordered key/value pairs.
    pub custom_properties: Vec<(String, String)>,
}

/// A lead ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedLead {
    pub phone: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub time_zone: Option<Tz>,
    /// The zone was given and vouched for.
    pub time_zone_verified: bool,
    pub region: Option<String>,
    pub status: LeadStatus,
    pub custom_properties: Vec<(String, String)>,
}

/// Why a row was refused or flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowCode {
    /// Rejected: the number cannot be parsed or is not valid.
    BadNumber,
    /// Rejected: the time zone is not an IANA name.
    BadTimeZone,
    /// Rejected: the region is not an ISO 3166-2 state or province.
    BadRegion,
    /// Rejected: premium rate, shared cost, toll-free, a service number, a
    /// short code or an emergency number.
    NumberType,
    /// Rejected: a field is too long or there are too many properties.
    TooLarge,
    /// Rejected (CSV): the row's fields do not line up with the header.
    BadRow,
    /// Rejected (CSV): the row is not valid UTF-8.
    BadEncoding,
    /// Not added: the campaign already has this number.
    DuplicateMerged,
    /// Added, but not dialable until its time zone is set.
    NeedsTimeZone,
}

impl RowCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RowCode::BadNumber => "BAD_NUMBER",
            RowCode::BadTimeZone => "BAD_TIME_ZONE",
            RowCode::BadRegion => "BAD_REGION",
            RowCode::NumberType => "NUMBER_TYPE",
            RowCode::TooLarge => "TOO_LARGE",
            RowCode::BadRow => "BAD_ROW",
            RowCode::BadEncoding => "BAD_ENCODING",
            RowCode::DuplicateMerged => "DUPLICATE_MERGED",
            RowCode::NeedsTimeZone => "NEEDS_TIME_ZONE",
        }
    }

    /// Whether the row was refused (as opposed to added with a warning, or
    /// merged into an existing lead).
    pub fn is_rejection(self) -> bool {
        matches!(
            self,
            RowCode::BadNumber
                | RowCode::BadTimeZone
                | RowCode::BadRegion
                | RowCode::NumberType
                | RowCode::TooLarge
        )
    }
}

/// A refusal or warning, with words for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    pub code: RowCode,
    pub message: String,
}

pub const MAX_PROPERTIES: usize = 100;
pub const MAX_FIELD_CHARS: usize = 1_000;

fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Check and normalize one row. `Ok` may carry a warning
/// (`NEEDS_TIME_ZONE`); `Err` is a rejection.
pub fn normalize(
    input: &LeadInput,
    default_region: &str,
) -> Result<(NormalizedLead, Option<RowIssue>), RowIssue> {
    let too_long = |s: &str| s.chars().count() > MAX_FIELD_CHARS;
    if input.custom_properties.len() > MAX_PROPERTIES
        || input
            .custom_properties
            .iter()
            .any(|(k, v)| too_long(k) || too_long(v))
        || [
            &input.first_name,
            &input.last_name,
            &input.region,
            &input.time_zone,
        ]
        .iter()
        .any(|f| f.as_deref().is_some_and(too_long))
    {
        return Err(RowIssue {
            code: RowCode::TooLarge,
            message: format!(
                "at most {MAX_PROPERTIES} properties and {MAX_FIELD_CHARS} characters a field"
            ),
        });
    }
    let phone = phone::normalize(&input.phone, default_region).map_err(|e| RowIssue {
        code: RowCode::BadNumber,
        message: format!("phone {:?} {e}", input.phone),
    })?;
    if let Some(refused) = phone::refused_as_lead(&phone) {
        return Err(RowIssue {
            code: RowCode::NumberType,
            message: format!("phone {phone} {}: it is never dialed", refused.describe()),
        });
    }
    let (time_zone, warning) = match clean(input.time_zone.as_deref()) {
        Some(name) => {
            let tz: Tz = name.parse().map_err(|_| RowIssue {
                code: RowCode::BadTimeZone,
                message: format!("{name:?} is not an IANA time-zone name"),
            })?;
            (Some(tz), None)
        }
        None => match phone::zone_for_number(&phone) {
            ZoneFromNumber::Known(tz) => (Some(tz), None),
            ZoneFromNumber::Ambiguous(zones) => (
                None,
                Some(RowIssue {
                    code: RowCode::NeedsTimeZone,
                    message: format!(
                        "the number's area spans {} time zones: set timeZone to dial it",
                        zones.len()
                    ),
                }),
            ),
            ZoneFromNumber::Unknown => (
                None,
                Some(RowIssue {
                    code: RowCode::NeedsTimeZone,
                    message: "no time zone is known for this number: set timeZone to dial it"
                        .into(),
                }),
            ),
        },
    };
    let region = match clean(input.region.as_deref()) {
        Some(r) => Some(
            super::jurisdiction::normalize_region(&r, &phone).map_err(|message| RowIssue {
                code: RowCode::BadRegion,
                message,
            })?,
        ),
        None => None,
    };
    let status = if time_zone.is_some() {
        LeadStatus::New
    } else {
        LeadStatus::NeedsTimeZone
    };
    Ok((
        NormalizedLead {
            phone,
            first_name: clean(input.first_name.as_deref()),
            last_name: clean(input.last_name.as_deref()),
            time_zone,
            time_zone_verified: input.time_zone_verified && time_zone.is_some(),
            region,
            status,
            custom_properties: input
                .custom_properties
                .iter()
                .map(|(k, v)| (k.trim().to_owned(), v.clone()))
                .filter(|(k, _)| !k.is_empty())
                .collect(),
        },
        warning,
    ))
}

/// A lead can be edited unless a call to it is in progress.
pub fn check_editable(status: LeadStatus) -> Result<(), &'static str> {
    if status == LeadStatus::Dialing {
        Err("the lead is being dialed: try again after the call")
    } else {
        Ok(())
    }
}

/// A lead's status once its time zone is set: a lead that waited for one
/// becomes NEW (dialable); any other status stays as it is.
pub fn status_with_zone(status: LeadStatus) -> LeadStatus {
    match status {
        LeadStatus::NeedsTimeZone => LeadStatus::New,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(phone: &str, tz: Option<&str>) -> LeadInput {
        LeadInput {
            phone: phone.into(),
            time_zone: tz.map(str::to_owned),
            custom_properties: vec![("plan".into(), "gold".into()), ("age".into(), "42".into())],
            ..Default::default()
        }
    }

    #[test]
    fn setting_a_zone_makes_a_waiting_lead_dialable() {
        assert_eq!(status_with_zone(LeadStatus::NeedsTimeZone), LeadStatus::New);
        assert_eq!(status_with_zone(LeadStatus::Retry), LeadStatus::Retry);
        assert_eq!(status_with_zone(LeadStatus::Finished), LeadStatus::Finished);
        assert!(check_editable(LeadStatus::Dialing).is_err());
        assert!(check_editable(LeadStatus::NeedsTimeZone).is_ok());
    }

    #[test]
    fn row_outcomes() {
        let (lead, warning) = normalize(&input("(212) 555-0123", None), "US").expect("ok");
        assert_eq!(lead.phone, "+12125550123");
        assert_eq!(lead.time_zone, Some(Tz::America__New_York));
        assert_eq!(lead.status, LeadStatus::New);
        assert_eq!(warning, None);
        assert_eq!(
            lead.custom_properties[0],
            ("plan".into(), "gold".into()),
            "order kept"
        );

        let (lead, warning) = normalize(&input("208 555 0123", None), "US").expect("ok");
        assert_eq!(lead.status, LeadStatus::NeedsTimeZone);
        assert_eq!(warning.map(|w| w.code), Some(RowCode::NeedsTimeZone));

        let (lead, warning) =
            normalize(&input("208 555 0123", Some("America/Boise")), "US").expect("ok");
        assert_eq!(lead.time_zone, Some(Tz::America__Boise));
        assert_eq!(warning, None);

        assert_eq!(
            normalize(&input("12", None), "US")
                .map(|_| ())
                .unwrap_err()
                .code,
            RowCode::BadNumber
        );
        assert_eq!(
            normalize(&input("2125550123", Some("Mars/Base")), "US")
                .map(|_| ())
                .unwrap_err()
                .code,
            RowCode::BadTimeZone
        );
    }
}
