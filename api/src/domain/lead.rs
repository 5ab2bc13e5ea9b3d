//! Leads as they arrive: one input row (from `addLeads` or a CSV line) is
//! checked and normalized, or refused with a machine-readable code.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::consent::ConsentKind;
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
    /// The consent to be called that came with the lead, if any.
    pub consent: ConsentFields,
}

/// A consent as given with a lead (a CSV's columns, or `addLeads`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentFields {
    /// NONE, EXPRESS, EXPRESS_WRITTEN (and the spellings
    /// [`ConsentKind::parse`] reads).
    pub kind: Option<String>,
    /// When it was given: RFC 3339, or a date (`2026-11-30`: held to have
    /// been given at the end of that day everywhere, the stricter reading).
    pub at: Option<String>,
    /// How: "web form", "signed paper" …
    pub method: Option<String>,
    /// Where the record is: a form's address, a document's reference.
    pub source: Option<String>,
}

/// A consent ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedConsent {
    /// Never `None`: a row without consent stores nothing.
    pub kind: ConsentKind,
    pub at: DateTime<Utc>,
    pub method: String,
    pub source: String,
}

/// Check a lead's consent fields at `now`: `Ok(None)` when the row carries
/// no consent (no kind, or NONE — which records nothing and revokes
/// nothing). A consent dated in the future, or fields without a kind, are
/// refused (`BAD_CONSENT`).
pub fn normalize_consent(
    c: &ConsentFields,
    now: DateTime<Utc>,
) -> Result<Option<NormalizedConsent>, RowIssue> {
    let bad = |message: String| RowIssue {
        code: RowCode::BadConsent,
        message,
    };
    let too_long = [&c.kind, &c.at, &c.method, &c.source].iter().any(|f| {
        f.as_deref()
            .is_some_and(|s| s.chars().count() > MAX_FIELD_CHARS)
    });
    if too_long {
        return Err(RowIssue {
            code: RowCode::TooLarge,
            message: format!("at most {MAX_FIELD_CHARS} characters a field"),
        });
    }
    let Some(kind_text) = clean(c.kind.as_deref()) else {
        if [&c.at, &c.method, &c.source]
            .iter()
            .any(|f| clean(f.as_deref()).is_some())
        {
            return Err(bad(
                "a consent's date, method or source without its kind (EXPRESS or EXPRESS_WRITTEN)"
                    .into(),
            ));
        }
        return Ok(None);
    };
    let kind = ConsentKind::parse(&kind_text).ok_or_else(|| {
        bad(format!(
            "consent {kind_text:?}: write NONE, EXPRESS or EXPRESS_WRITTEN"
        ))
    })?;
    if kind == ConsentKind::None {
        return Ok(None);
    }
    let at = match clean(c.at.as_deref()) {
        None => now,
        Some(t) => parse_consent_time(&t).ok_or_else(|| {
            bad(format!(
                "consent date {t:?}: write 2026-11-30T14:05:00Z (RFC 3339) or 2026-11-30"
            ))
        })?,
    };
    if at > now + Duration::minutes(5) {
        return Err(bad(format!(
            "consent dated {} is in the future",
            at.to_rfc3339()
        )));
    }
    Ok(Some(NormalizedConsent {
        kind,
        at,
        method: clean(c.method.as_deref()).unwrap_or_else(|| "not stated".into()),
        source: clean(c.source.as_deref()).unwrap_or_default(),
    }))
}

/// RFC 3339, or a bare date taken as the end of that day everywhere on
/// Earth (12:00 UTC the next day: midnight at UTC−12), so a consent is
/// never held to be older than it can be.
fn parse_consent_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    d.succ_opt()?.and_hms_opt(12, 0, 0).map(|t| t.and_utc())
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
    /// Rejected: the consent's kind or date cannot be read, or it is dated
    /// in the future.
    BadConsent,
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
            RowCode::BadConsent => "BAD_CONSENT",
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
                | RowCode::BadConsent
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
    allowed: phone::Allowed,
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
    if let Some(refused) = phone::refused_in_campaign(&phone, allowed) {
        return Err(RowIssue {
            code: RowCode::NumberType,
            message: format!("phone {phone} {}: {}", refused.describe(), refused.remedy()),
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

/// Whether a lead's zone is verified after an edit: as the editor says
/// when they say; otherwise a new zone is not verified (whoever vouched
/// for the old one did not vouch for this one); otherwise unchanged
/// (`None`).
pub fn zone_verified_after_edit(new_zone: bool, verified: Option<bool>) -> Option<bool> {
    verified.or(new_zone.then_some(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    // As on the simulated carrier: these tests use fictional numbers.
    const PLAIN: phone::Allowed = phone::Allowed {
        toll_free: false,
        fictional: true,
    };
    const TOLL_FREE: phone::Allowed = phone::Allowed {
        toll_free: true,
        fictional: true,
    };

    #[test]
    fn fictional_numbers_only_on_the_simulated_carrier() {
        let real = phone::Allowed::default();
        let refused = normalize(&input("(212) 555-0123", None), "US", real).expect_err("fiction");
        assert_eq!(refused.code, RowCode::NumberType);
        assert!(
            refused.message.contains("reserved for fiction"),
            "{}",
            refused.message
        );
        assert!(normalize(&input("(212) 555-0223", None), "US", real).is_ok());
        assert!(normalize(&input("(212) 555-0123", None), "US", PLAIN).is_ok());
    }

    fn input(phone: &str, tz: Option<&str>) -> LeadInput {
        LeadInput {
            phone: phone.into(),
            time_zone: tz.map(str::to_owned),
            custom_properties: vec![("plan".into(), "gold".into()), ("age".into(), "42".into())],
            ..Default::default()
        }
    }

    #[test]
    fn a_new_zone_is_not_verified_unless_the_editor_says_so() {
        assert_eq!(zone_verified_after_edit(true, None), Some(false));
        assert_eq!(zone_verified_after_edit(true, Some(true)), Some(true));
        assert_eq!(zone_verified_after_edit(false, Some(true)), Some(true));
        assert_eq!(zone_verified_after_edit(false, None), None);
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
    fn consents_that_come_with_a_lead() {
        use chrono::TimeZone;
        let now = Utc
            .with_ymd_and_hms(2026, 12, 7, 15, 0, 0)
            .single()
            .expect("t");
        let fields = |kind: &str, at: &str| ConsentFields {
            kind: Some(kind.into()),
            at: (!at.is_empty()).then(|| at.into()),
            method: Some(" web form ".into()),
            source: None,
        };
        let c = normalize_consent(&fields("express written", "2026-11-30T09:15:00-05:00"), now)
            .expect("ok")
            .expect("a consent");
        assert_eq!(c.kind, ConsentKind::ExpressWritten);
        assert_eq!(c.at.to_rfc3339(), "2026-11-30T14:15:00+00:00");
        assert_eq!((c.method.as_str(), c.source.as_str()), ("web form", ""));
        // A bare date: the end of that day everywhere.
        let c = normalize_consent(&fields("EXPRESS", "2026-11-30"), now)
            .expect("ok")
            .expect("a consent");
        assert_eq!(c.at.to_rfc3339(), "2026-12-01T12:00:00+00:00");
        // No date: now.
        assert_eq!(
            normalize_consent(&fields("EXPRESS", ""), now)
                .expect("ok")
                .map(|c| c.at),
            Some(now)
        );
        // Nothing, or NONE: nothing to store.
        assert_eq!(normalize_consent(&ConsentFields::default(), now), Ok(None));
        assert_eq!(normalize_consent(&fields("none", ""), now), Ok(None));
        for bad in [
            fields("sure", ""),
            fields("EXPRESS", "yesterday"),
            fields("EXPRESS", "2026-12-09"),
            ConsentFields {
                method: Some("web form".into()),
                ..Default::default()
            },
        ] {
            assert_eq!(
                normalize_consent(&bad, now).map(|_| ()).unwrap_err().code,
                RowCode::BadConsent,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn toll_free_leads_only_where_the_campaign_calls_businesses() {
        let refused = normalize(&input("+1 800 555 0123", None), "US", PLAIN)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(refused.code, RowCode::NumberType);
        assert!(
            refused.message.contains("allowTollFree"),
            "{}",
            refused.message
        );
        let (lead, _) =
            normalize(&input("+1 800 555 0123", None), "US", TOLL_FREE).expect("allowed");
        assert_eq!(lead.phone, "+18005550123");
        // Premium rate stays refused.
        assert!(normalize(&input("+1 900 555 0123", None), "US", TOLL_FREE).is_err());
    }

    #[test]
    fn row_outcomes() {
        let (lead, warning) = normalize(&input("(212) 555-0123", None), "US", PLAIN).expect("ok");
        assert_eq!(lead.phone, "+12125550123");
        assert_eq!(lead.time_zone, Some(Tz::America__New_York));
        assert_eq!(lead.status, LeadStatus::New);
        assert_eq!(warning, None);
        assert_eq!(
            lead.custom_properties[0],
            ("plan".into(), "gold".into()),
            "order kept"
        );

        let (lead, warning) = normalize(&input("208 555 0123", None), "US", PLAIN).expect("ok");
        assert_eq!(lead.status, LeadStatus::NeedsTimeZone);
        assert_eq!(warning.map(|w| w.code), Some(RowCode::NeedsTimeZone));

        let (lead, warning) =
            normalize(&input("208 555 0123", Some("America/Boise")), "US", PLAIN).expect("ok");
        assert_eq!(lead.time_zone, Some(Tz::America__Boise));
        assert_eq!(warning, None);

        assert_eq!(
            normalize(&input("12", None), "US", PLAIN)
                .map(|_| ())
                .unwrap_err()
                .code,
            RowCode::BadNumber
        );
        assert_eq!(
            normalize(&input("2125550123", Some("Mars/Base")), "US", PLAIN)
                .map(|_| ())
                .unwrap_err()
                .code,
            RowCode::BadTimeZone
        );
    }
}
