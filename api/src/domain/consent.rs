//! Consent to be called, kept per number across the organization (the law
//! asks whether the called party agreed, whichever lead or campaign holds
//! the number), as a log that is only ever added to: consent given (its
//! kind, when, how, where it came from) and consent revoked. What stands
//! at an instant is the strongest consent given after the last revocation.

use chrono::{DateTime, Utc};

/// How strongly the called party agreed to be called. Ordered: a stronger
/// kind satisfies every weaker requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ConsentKind {
    #[default]
    None,
    /// Prior express consent (e.g. the number given on a form).
    Express,
    /// Prior express written consent: a signed (also electronically)
    /// agreement naming the number and the automated calls.
    ExpressWritten,
}

impl ConsentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentKind::None => "NONE",
            ConsentKind::Express => "EXPRESS",
            ConsentKind::ExpressWritten => "EXPRESS_WRITTEN",
        }
    }

    /// Reads the stored name, and the spellings people put in a CSV
    /// column (`express written`, `pewc`, `written`, `yes`/`no` …).
    pub fn parse(s: &str) -> Option<ConsentKind> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        match norm.as_str() {
            "NONE" | "NO" | "N" | "FALSE" | "0" => Some(ConsentKind::None),
            "EXPRESS" | "YES" | "Y" | "TRUE" | "1" | "PEC" => Some(ConsentKind::Express),
            "EXPRESS_WRITTEN" | "WRITTEN" | "PEWC" => Some(ConsentKind::ExpressWritten),
            _ => None,
        }
    }

    /// "prior express written consent"
    pub fn describe(self) -> &'static str {
        match self {
            ConsentKind::None => "no consent",
            ConsentKind::Express => "prior express consent",
            ConsentKind::ExpressWritten => "prior express written consent",
        }
    }
}

/// One entry of a number's consent log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentEntry {
    Given(ConsentKind),
    Revoked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentEvent {
    /// When the consent was given or revoked (not when it was recorded).
    pub at: DateTime<Utc>,
    pub entry: ConsentEntry,
}

/// What a number's log says at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    pub kind: ConsentKind,
    /// When the standing consent was given.
    pub given_at: Option<DateTime<Utc>>,
    /// The last revocation at or before the instant.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The consent standing at `now`: entries dated after `now` do not count
/// yet; a revocation cancels every consent given at or before it (the same
/// instant included: the stricter reading); the strongest consent given
/// after the last revocation stands, and its earliest date is kept.
pub fn standing(log: &[ConsentEvent], now: DateTime<Utc>) -> Standing {
    let revoked_at = log
        .iter()
        .filter(|e| e.at <= now && e.entry == ConsentEntry::Revoked)
        .map(|e| e.at)
        .max();
    let mut best = Standing {
        revoked_at,
        ..Standing::default()
    };
    for e in log {
        let ConsentEntry::Given(kind) = e.entry else {
            continue;
        };
        if e.at > now || revoked_at.is_some_and(|r| e.at <= r) || kind == ConsentKind::None {
            continue;
        }
        let better =
            kind > best.kind || (kind == best.kind && best.given_at.is_none_or(|g| e.at < g));
        if better {
            best.kind = kind;
            best.given_at = Some(e.at);
        }
    }
    best
}

/// What a campaign in an automated mode (predictive, progressive) asks of
/// its leads' consent, on top of what the called party's law asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsentPolicy {
    /// What the jurisdictions' rules require (written consent in Florida,
    /// Oklahoma and Maryland), nothing elsewhere.
    #[default]
    Law,
    /// At least express consent everywhere (and more where the law asks).
    Express,
    /// Express written consent everywhere.
    ExpressWritten,
}

impl ConsentPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentPolicy::Law => "LAW",
            ConsentPolicy::Express => "EXPRESS",
            ConsentPolicy::ExpressWritten => "EXPRESS_WRITTEN",
        }
    }

    pub fn parse(s: &str) -> Option<ConsentPolicy> {
        match s {
            "LAW" => Some(ConsentPolicy::Law),
            "EXPRESS" => Some(ConsentPolicy::Express),
            "EXPRESS_WRITTEN" => Some(ConsentPolicy::ExpressWritten),
            _ => None,
        }
    }

    /// The least consent the campaign itself asks for.
    pub fn needs(self) -> ConsentKind {
        match self {
            ConsentPolicy::Law => ConsentKind::None,
            ConsentPolicy::Express => ConsentKind::Express,
            ConsentPolicy::ExpressWritten => ConsentKind::ExpressWritten,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0)
            .single()
            .expect("t")
    }

    fn given(h: u32, kind: ConsentKind) -> ConsentEvent {
        ConsentEvent {
            at: at(h),
            entry: ConsentEntry::Given(kind),
        }
    }

    fn revoked(h: u32) -> ConsentEvent {
        ConsentEvent {
            at: at(h),
            entry: ConsentEntry::Revoked,
        }
    }

    #[test]
    fn the_strongest_consent_since_the_last_revocation_stands() {
        use ConsentKind::*;
        assert_eq!(standing(&[], at(12)).kind, None);
        let log = [
            given(1, Express),
            given(2, ExpressWritten),
            given(3, Express),
        ];
        let s = standing(&log, at(12));
        assert_eq!((s.kind, s.given_at), (ExpressWritten, Some(at(2))));
        // Not yet given at 01:30.
        assert_eq!(standing(&log, at(1)).kind, Express);
        assert_eq!(standing(&log, at(0)).kind, None);

        let log = [given(1, ExpressWritten), revoked(4), given(6, Express)];
        assert_eq!(standing(&log, at(3)).kind, ExpressWritten);
        let s = standing(&log, at(5));
        assert_eq!((s.kind, s.revoked_at), (None, Some(at(4))));
        assert_eq!(standing(&log, at(7)).kind, Express);
        // A consent dated at the revocation's instant is revoked with it.
        assert_eq!(standing(&[given(4, Express), revoked(4)], at(9)).kind, None);
        // The log's order does not matter.
        assert_eq!(
            standing(
                &[given(6, Express), revoked(4), given(1, ExpressWritten)],
                at(7)
            )
            .kind,
            Express
        );
    }

    #[test]
    fn kinds_read_as_people_write_them() {
        use ConsentKind::*;
        for (s, k) in [
            ("express written", ExpressWritten),
            ("EXPRESS_WRITTEN", ExpressWritten),
            ("pewc", ExpressWritten),
            ("Express", Express),
            ("yes", Express),
            ("none", None),
            (" no ", None),
        ] {
            assert_eq!(ConsentKind::parse(s), Some(k), "{s}");
        }
        assert_eq!(ConsentKind::parse("maybe"), Option::None);
        assert!(ExpressWritten > Express && Express > None);
    }
}
