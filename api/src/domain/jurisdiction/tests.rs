//! The rules table loads, holidays fall where the calendars say, and each
//! jurisdiction's boundaries hold an instant either side.

use chrono::TimeZone;

use super::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("utc")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

const RING: Duration = Duration::seconds(25);

/// The rules of `ids` in the built-in table.
fn law_of(ids: &[&str]) -> Vec<&'static Rule> {
    let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    rulebook().rules_for(&ids)
}

/// Whether a call may start at the local wall time `y-m-d h:mi` in `tz`.
fn allowed(ids: &[&str], tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> bool {
    let rules = law_of(ids);
    let law = Law {
        version: "test",
        rules: &rules,
    };
    let at = tz
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .earliest()
        .expect("local")
        .with_timezone(&Utc);
    law.forbidding(tz, at, RING).is_none()
}

#[test]
fn the_built_in_table_loads_with_every_rule_cited() {
    let book = rulebook();
    assert!(!book.version.is_empty());
    for id in [
        "US", "CA", "GB", "AU", "US-FL", "US-OK", "US-MD", "US-CT", "US-WA", "US-TX", "US-MS",
        "US-LA", "US-AL", "US-UT", "US-RI", "US-PA", "US-ME",
    ] {
        let j = book
            .jurisdictions
            .iter()
            .find(|j| j.id == id)
            .unwrap_or_else(|| panic!("{id} missing"));
        assert!(!j.rules.is_empty(), "{id} has no rules");
        for r in &j.rules {
            assert!(r.citation.len() > 5 && r.source.starts_with("http"), "{id}");
            assert!(!r.checked.is_empty() && !r.summary.is_empty(), "{id}");
        }
    }
    let ids: Vec<String> = book.jurisdictions.iter().map(|j| j.id.clone()).collect();
    let all = book.rules_for(&ids);
    let law = Law {
        version: "t",
        rules: &all,
    };
    assert_eq!(
        crate::domain::eligibility::number_history_window(&law),
        Duration::hours(72)
    );
}

#[test]
fn bad_tables_are_refused_with_the_reason() {
    let base = |rule: &str| {
        format!(
            "version = \"t\"\n[[jurisdiction]]\nid = \"X\"\nname = \"X\"\n[[jurisdiction.rule]]\n{rule}\ncitation = \"c\"\nsummary = \"s\"\nsource = \"https://x\"\neffective = \"2020-01-01\"\nchecked = \"t\"\n"
        )
    };
    assert!(Rulebook::parse(&base("kind = \"hours\"\nevery = \"08:00-20:00\"")).is_ok());
    for bad in [
        "kind = \"hours\"\nmon = \"08:00-20:00\"",
        "kind = \"hours\"\nevery = \"20:00-08:00\"",
        "kind = \"hours\"\nevery = \"8am-5pm\"",
        "kind = \"holidays\"\ndays = [{ name = \"x\", date = \"02-30\" }]",
        "kind = \"holidays\"\nsets = [\"nowhere\"]",
        "kind = \"cap\"\nmax = 0\nhours = 24",
        "kind = \"curfew\"",
    ] {
        assert!(Rulebook::parse(&base(bad)).is_err(), "{bad}");
    }
    let no_source = base("kind = \"hours\"\nevery = \"08:00-20:00\"").replace("https://x", "");
    assert!(Rulebook::parse(&no_source).is_err());
}

#[test]
fn holidays_fall_on_their_days() {
    assert_eq!(easter(2026), Some(date(2026, 4, 5)));
    assert_eq!(easter(2027), Some(date(2027, 3, 28)));
    assert_eq!(easter(2024), Some(date(2024, 3, 31)));
    let thanksgiving = HolidayDate::Nth {
        month: 11,
        weekday: Weekday::Thu,
        n: 4,
    };
    assert_eq!(thanksgiving.in_year(2026), Some(date(2026, 11, 26)));
    assert_eq!(thanksgiving.in_year(2027), Some(date(2027, 11, 25)));
    let memorial = HolidayDate::Nth {
        month: 5,
        weekday: Weekday::Mon,
        n: -1,
    };
    assert_eq!(memorial.in_year(2026), Some(date(2026, 5, 25)));
    assert_eq!(memorial.in_year(2027), Some(date(2027, 5, 31)));
    assert_eq!(
        HolidayDate::ElectionDay.in_year(2026),
        Some(date(2026, 11, 3))
    );
    assert_eq!(
        HolidayDate::ElectionDay.in_year(2027),
        Some(date(2027, 11, 2))
    );
    // Observed days: Independence Day 2026 is a Saturday, so Friday the 3rd
    // (United States) and Monday the 6th (the stricter reading) are kept.
    let july4 = vec![Holiday {
        name: "Independence Day".into(),
        date: HolidayDate::Fixed { month: 7, day: 4 },
        observed: true,
    }];
    let days: Vec<NaiveDate> = holiday_dates(&july4, 2026)
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    assert!(days.contains(&date(2026, 7, 3)) && days.contains(&date(2026, 7, 4)));
    assert!(days.contains(&date(2026, 7, 6)));
    // Christmas on a Saturday and Boxing Day on a Sunday (2027): the
    // substitutes are Monday the 27th and Tuesday the 28th.
    let au = &rulebook()
        .jurisdictions
        .iter()
        .find(|j| j.id == "AU")
        .expect("AU")
        .rules;
    let RuleKind::Holidays(au_days) = &au[1].kind else {
        panic!("AU holidays")
    };
    let days: Vec<NaiveDate> = holiday_dates(au_days, 2027)
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    for d in [25, 26, 27, 28] {
        assert!(days.contains(&date(2027, 12, d)), "Dec {d}");
    }
}

#[test]
fn united_states_federal_hours() {
    let ny = Tz::America__New_York;
    assert!(!allowed(&["US"], ny, 2026, 6, 10, 7, 59));
    assert!(allowed(&["US"], ny, 2026, 6, 10, 8, 0));
    assert!(allowed(&["US"], ny, 2026, 6, 10, 20, 59));
    assert!(!allowed(&["US"], ny, 2026, 6, 10, 21, 0));
    // Sundays and holidays are not federal restrictions.
    assert!(allowed(&["US"], ny, 2026, 12, 25, 12, 0));
}

#[test]
fn states_with_evening_limits() {
    let (ny, chi, la) = (
        Tz::America__New_York,
        Tz::America__Chicago,
        Tz::America__Los_Angeles,
    );
    for (id, tz) in [("US-FL", ny), ("US-OK", chi), ("US-MD", ny), ("US-WA", la)] {
        assert!(allowed(&["US", id], tz, 2026, 6, 10, 19, 59), "{id}");
        assert!(!allowed(&["US", id], tz, 2026, 6, 10, 20, 0), "{id}");
        assert!(allowed(&["US", id], tz, 2026, 6, 10, 8, 0), "{id}");
        assert!(!allowed(&["US", id], tz, 2026, 6, 10, 7, 59), "{id}");
    }
    // Connecticut: 9–20.
    assert!(!allowed(&["US", "US-CT"], ny, 2026, 6, 10, 8, 59));
    assert!(allowed(&["US", "US-CT"], ny, 2026, 6, 10, 9, 0));
    assert!(!allowed(&["US", "US-CT"], ny, 2026, 6, 10, 20, 0));
    // Maryland's rule is in force from 2024-01-01 only.
    assert!(allowed(&["US", "US-MD"], ny, 2023, 12, 31, 20, 30));
    assert!(!allowed(&["US", "US-MD"], ny, 2024, 1, 1, 20, 30));
}

#[test]
fn texas_sundays_start_at_noon() {
    let chi = Tz::America__Chicago;
    // Saturday 2026-06-13, Sunday 2026-06-14.
    assert!(!allowed(&["US", "US-TX"], chi, 2026, 6, 13, 8, 59));
    assert!(allowed(&["US", "US-TX"], chi, 2026, 6, 13, 9, 0));
    assert!(!allowed(&["US", "US-TX"], chi, 2026, 6, 14, 11, 59));
    assert!(allowed(&["US", "US-TX"], chi, 2026, 6, 14, 12, 0));
    assert!(allowed(&["US", "US-TX"], chi, 2026, 6, 14, 20, 59));
    assert!(!allowed(&["US", "US-TX"], chi, 2026, 6, 14, 21, 0));
}

#[test]
fn sundays_and_holidays() {
    let chi = Tz::America__Chicago;
    let den = Tz::America__Denver;
    // Sunday 2026-06-14.
    for (id, tz) in [
        ("US-MS", chi),
        ("US-LA", chi),
        ("US-AL", chi),
        ("US-UT", den),
    ] {
        assert!(
            allowed(&["US", id], tz, 2026, 6, 13, 12, 0),
            "{id} Saturday"
        );
        assert!(!allowed(&["US", id], tz, 2026, 6, 14, 12, 0), "{id} Sunday");
    }
    // Thanksgiving 2026 (Nov 26) and 2027 (Nov 25); the day after is open.
    for id in ["US-LA", "US-AL", "US-UT", "US-RI", "US-PA"] {
        let tz = if id == "US-UT" { den } else { chi };
        assert!(!allowed(&["US", id], tz, 2026, 11, 26, 12, 0), "{id} 2026");
        assert!(!allowed(&["US", id], tz, 2027, 11, 25, 12, 0), "{id} 2027");
        assert!(
            allowed(&["US", id], tz, 2027, 11, 26, 12, 0),
            "{id} the day after"
        );
    }
    // Their own days: Mardi Gras 2027 (Feb 9) in Louisiana, Pioneer Day
    // in Utah, Victory Day in Rhode Island, Flag Day in Pennsylvania.
    assert!(!allowed(&["US", "US-LA"], chi, 2027, 2, 9, 12, 0));
    assert!(allowed(&["US", "US-MS"], chi, 2027, 2, 9, 12, 0));
    assert!(!allowed(&["US", "US-UT"], den, 2026, 7, 24, 12, 0));
    let ny = Tz::America__New_York;
    assert!(!allowed(&["US", "US-RI"], ny, 2026, 8, 10, 12, 0));
    assert!(!allowed(&["US", "US-PA"], ny, 2027, 6, 14, 12, 0));
    // The holiday is the lead's local date: 23:30 UTC on Thanksgiving eve
    // is already Thanksgiving nowhere in the US, 05:30 UTC the next day is
    // still Thanksgiving in Chicago (but outside hours anyway).
    let law_rules = law_of(&["US-PA"]);
    let law = Law {
        version: "t",
        rules: &law_rules,
    };
    let rule = law
        .forbidding(ny, utc(2026, 11, 26, 17, 0), RING)
        .expect("Thanksgiving");
    assert_eq!(
        rule.holiday_at(ny, utc(2026, 11, 26, 17, 0)).as_deref(),
        Some("Thanksgiving Day")
    );
    assert!(
        law.forbidding(ny, utc(2026, 11, 25, 23, 30), RING)
            .is_none()
    );
}

#[test]
fn rhode_island_hours() {
    let ny = Tz::America__New_York;
    // Friday 2026-06-12, Saturday the 13th.
    assert!(!allowed(&["US", "US-RI"], ny, 2026, 6, 12, 8, 59));
    assert!(allowed(&["US", "US-RI"], ny, 2026, 6, 12, 9, 0));
    assert!(!allowed(&["US", "US-RI"], ny, 2026, 6, 12, 18, 0));
    assert!(!allowed(&["US", "US-RI"], ny, 2026, 6, 13, 9, 59));
    assert!(allowed(&["US", "US-RI"], ny, 2026, 6, 13, 10, 0));
    assert!(!allowed(&["US", "US-RI"], ny, 2026, 6, 13, 17, 0));
}

#[test]
fn canada_australia_and_the_uk() {
    let to = Tz::America__Toronto;
    // Wednesday 2026-06-10, Saturday the 13th.
    assert!(!allowed(&["CA"], to, 2026, 6, 10, 8, 59));
    assert!(allowed(&["CA"], to, 2026, 6, 10, 21, 29));
    assert!(!allowed(&["CA"], to, 2026, 6, 10, 21, 30));
    assert!(!allowed(&["CA"], to, 2026, 6, 13, 9, 59));
    assert!(allowed(&["CA"], to, 2026, 6, 13, 10, 0));
    assert!(!allowed(&["CA"], to, 2026, 6, 13, 18, 0));
    let syd = Tz::Australia__Sydney;
    assert!(allowed(&["AU"], syd, 2026, 6, 10, 19, 59));
    assert!(!allowed(&["AU"], syd, 2026, 6, 10, 20, 0));
    assert!(!allowed(&["AU"], syd, 2026, 6, 13, 17, 0));
    assert!(!allowed(&["AU"], syd, 2026, 6, 14, 12, 0), "Sunday");
    assert!(
        !allowed(&["AU"], syd, 2027, 4, 26, 12, 0),
        "Anzac Day 2027 is a Sunday: its Monday"
    );
    assert!(
        !allowed(&["AU"], syd, 2026, 4, 3, 12, 0),
        "Good Friday 2026"
    );
    assert!(
        !allowed(&["AU"], syd, 2026, 4, 6, 12, 0),
        "Easter Monday 2026"
    );
    // The UK sets no hours, only the lockout after an abandoned call.
    let lon = Tz::Europe__London;
    assert!(allowed(&["GB"], lon, 2026, 6, 14, 7, 0));
    let rules = law_of(&["GB"]);
    let law = Law {
        version: "t",
        rules: &rules,
    };
    assert_eq!(
        law.abandon_lockout(lon, utc(2026, 6, 14, 7, 0))
            .map(|(d, _)| d),
        Some(Duration::hours(72))
    );
}

#[test]
fn a_numbers_jurisdictions() {
    let ids = |n: &str, r: Option<&str>| jurisdictions_of(n, r);
    assert_eq!(ids("+13055550123", None), vec!["US", "US-FL"]);
    assert_eq!(ids("+18502010123", None), vec!["US", "US-FL"]);
    assert_eq!(ids("+12125550123", None), vec!["US", "US-NY"]);
    // The address adds its state: both apply.
    assert_eq!(
        ids("+12125550123", Some("fl")),
        vec!["US", "US-NY", "US-FL"]
    );
    assert_eq!(
        ids("+12125550123", Some("US-MD")),
        vec!["US", "US-NY", "US-MD"]
    );
    assert_eq!(ids("+14165550123", None), vec!["CA", "CA-ON"]);
    assert_eq!(ids("+442079460958", None), vec!["GB"]);
    assert_eq!(ids("+61212345678", None)[0], "AU");
}

#[test]
fn the_next_opening_skips_closed_days() {
    let rules = law_of(&["US", "US-LA"]);
    let law = Law {
        version: "t",
        rules: &rules,
    };
    let chi = Tz::America__Chicago;
    let window = CallingWindow::default();
    // Saturday 2026-11-21 at 20:30: Sunday is closed → Monday 08:00 CST.
    let next = law.next_open(&window, chi, utc(2026, 11, 22, 2, 30), RING);
    assert_eq!(next, Some(utc(2026, 11, 23, 14, 0)));
    // Wednesday before Thanksgiving 20:30 → Friday 08:00.
    let next = law.next_open(&window, chi, utc(2026, 11, 26, 2, 30), RING);
    assert_eq!(next, Some(utc(2026, 11, 27, 14, 0)));
    // Texas on a Sunday morning with a campaign opening at 10:00: noon.
    let rules = law_of(&["US", "US-TX"]);
    let tx = Law {
        version: "t",
        rules: &rules,
    };
    let w = CallingWindow::new(
        crate::domain::window::Weekdays::ALL,
        NaiveTime::from_hms_opt(10, 0, 0).expect("t"),
        NaiveTime::from_hms_opt(20, 0, 0).expect("t"),
    )
    .expect("window");
    assert_eq!(
        tx.next_open(&w, chi, utc(2026, 6, 14, 13, 0), RING),
        Some(utc(2026, 6, 14, 17, 0))
    );
}

#[test]
fn docs_compliance_md_shows_the_table_in_force() {
    // Regenerate with PINLINE_WRITE_RULES_DOC=1 cargo test docs_compliance.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/compliance.md");
    let doc = std::fs::read_to_string(path).expect("docs/compliance.md");
    let (begin, end) = ("<!-- rules:begin -->\n", "<!-- rules:end -->");
    let a = doc.find(begin).expect("begin marker") + begin.len();
    let b = doc.find(end).expect("end marker");
    let table = rulebook().to_markdown();
    if std::env::var_os("PINLINE_WRITE_RULES_DOC").is_some() {
        let updated = format!("{}{}{}", &doc[..a], table, &doc[b..]);
        std::fs::write(path, updated).expect("write");
        return;
    }
    assert!(
        doc[a..b] == table,
        "docs/compliance.md does not show the rules table in force: run PINLINE_WRITE_RULES_DOC=1 cargo test -p pinline docs_compliance"
    );
}

#[test]
fn regions_are_iso_3166_2() {
    assert_eq!(
        normalize_region("fl", "+12125550123").as_deref(),
        Ok("US-FL")
    );
    assert_eq!(
        normalize_region(" US-MD ", "+442079460958").as_deref(),
        Ok("US-MD")
    );
    assert_eq!(
        normalize_region("on", "+14165550123").as_deref(),
        Ok("CA-ON")
    );
    assert_eq!(
        normalize_region("US-DC", "+12125550123").as_deref(),
        Ok("US-DC")
    );
    assert_eq!(
        normalize_region("GB-SCT", "+442079460958").as_deref(),
        Ok("GB-SCT")
    );
    for bad in ["Florida", "US-ZZ", "XX", "U-FL", "US-", "US-FL;drop", ""] {
        assert!(normalize_region(bad, "+12125550123").is_err(), "{bad}");
    }
}

/// Maine: no predictive calls (a recorded-message device); Utah: automated
/// calls only with express consent. Progressive and preview calls to Maine,
/// and preview calls to Utah without consent, go ahead.
#[test]
fn maine_and_utah_restrict_automated_calls() {
    use crate::domain::campaign::{CampaignState, DialMode};
    use crate::domain::consent::{ConsentKind, ConsentPolicy};
    use crate::domain::eligibility::{
        CampaignFacts, LeadFacts, LeadStatus, ListFacts, NumberFacts, Verdict, gate,
    };
    assert_eq!(jurisdictions_of("+12075550123", None), vec!["US", "US-ME"]);
    let ny = Tz::America__New_York;
    let noon = utc(2026, 6, 10, 16, 0); // Wednesday, 12:00 in Maine and Utah's 10:00
    let verdict = |ids: &[&str], tz: Tz, mode: DialMode, consent: ConsentKind| {
        let rules = law_of(ids);
        let lead = LeadFacts {
            status: LeadStatus::New,
            time_zone: Some(tz),
            also_zones: &[],
            attempts: 0,
            recent_attempts: &[],
            not_before: None,
            last_abandoned_at: None,
            number: NumberFacts::default(),
            law: Law {
                version: "t",
                rules: &rules,
            },
            consent,
            refused_type: None,
        };
        let campaign = CampaignFacts {
            state: CampaignState::Running,
            dial_mode: mode,
            window: CallingWindow::default(),
            ring_timeout: RING,
            max_attempts: 3,
            max_attempts_per_day: 2,
            consent: ConsentPolicy::Law,
            allow_toll_free: false,
        };
        gate(&lead, &campaign, ListFacts::default(), noon)
    };
    let me = ["US", "US-ME"];
    match verdict(&me, ny, DialMode::Predictive, ConsentKind::ExpressWritten) {
        Verdict::DialMode { rule } => {
            assert_eq!(rule.jurisdiction, "US-ME");
            assert_eq!(rule.citation, "10 M.R.S. §1498(1)(A), (2), (3)");
        }
        v => panic!("{v:?}"),
    }
    for mode in [DialMode::Progressive, DialMode::Preview] {
        assert_eq!(
            verdict(&me, ny, mode, ConsentKind::None),
            Verdict::Eligible,
            "{mode:?}"
        );
    }
    let ut = ["US", "US-UT"];
    let denver = Tz::America__Denver;
    for mode in [DialMode::Predictive, DialMode::Progressive] {
        assert!(
            matches!(
                verdict(&ut, denver, mode, ConsentKind::None),
                Verdict::NoConsent {
                    needs: ConsentKind::Express,
                    rule: Some(_)
                }
            ),
            "{mode:?}"
        );
        assert_eq!(
            verdict(&ut, denver, mode, ConsentKind::Express),
            Verdict::Eligible
        );
    }
    assert_eq!(
        verdict(&ut, denver, DialMode::Preview, ConsentKind::None),
        Verdict::Eligible
    );
}
