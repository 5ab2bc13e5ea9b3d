//! Bootstrapping an installation: `create-org` (an organization and its
//! first admin) and `seed-demo` (the demo organization of API.md).

use crate::auth::password;
use crate::domain::campaign::{self, CampaignSettings};
use crate::domain::identity::{self, FieldError, Role};
use crate::domain::lead::LeadInput;
use crate::store::{self, Db, StoreError, audit, models};

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("invalid {0}")]
    Field(#[from] FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Password(#[from] password::PasswordError),
}

/// A generated password: 20 characters from an unambiguous alphabet.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..20)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn user_row(
    organization_id: &str,
    email: &str,
    name: &str,
    role: Role,
    hash: String,
) -> Result<models::User, FieldError> {
    let now = store::now();
    Ok(models::User {
        id: store::new_id(),
        organization_id: organization_id.to_owned(),
        email: identity::normalize_email(email)?,
        name: identity::normalize_name("name", name)?,
        role: role.as_str().to_owned(),
        password_hash: hash,
        active: true,
        created_at: now,
        updated_at: now,
    })
}

/// Create an organization and its first admin.
pub async fn create_org(
    db: &Db,
    name: &str,
    admin_email: &str,
    admin_password: &str,
) -> Result<(models::Organization, models::User), BootstrapError> {
    let name = identity::normalize_name("name", name)?;
    identity::check_password(admin_password)?;
    let org = models::Organization {
        id: store::new_id(),
        name,
        created_at: store::now(),
    };
    let hash = password::hash_async(admin_password.to_owned()).await?;
    let admin = user_row(&org.id, admin_email, "Administrator", Role::Admin, hash)?;
    store::organizations::create_with_admin(db, org.clone(), admin.clone()).await?;
    Ok((org, admin))
}

pub const DEMO_ORG: &str = "Pinline Demo";
pub const DEMO_CONTACT_CENTER: &str = "Demo Outbound";

/// One printed demo login.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub email: String,
    pub role: Role,
    pub password: String,
}

/// What `seed_demo` did.
#[derive(Debug, Clone)]
pub enum DemoSeed {
    Created(Vec<DemoLogin>),
    /// The demo organization was already there: nothing was changed.
    AlreadySeeded,
}

/// Create the demo organization: admin, supervisor, agent1…agent5, one
/// dialer-enabled contact center with the supervisor and agents as members.
/// Every user gets `password`, or one random password for all when none.
pub async fn seed_demo(db: &Db, password: Option<&str>) -> Result<DemoSeed, BootstrapError> {
    if store::organizations::find_by_name(db, DEMO_ORG)
        .await?
        .is_some()
    {
        return Ok(DemoSeed::AlreadySeeded);
    }
    let password = match password {
        Some(p) => p.to_owned(),
        None => random_password(),
    };
    let (org, admin) = create_org(db, DEMO_ORG, "admin@demo.pinline.test", &password).await?;
    let now = store::now();
    let cc = models::ContactCenter {
        id: store::new_id(),
        organization_id: org.id.clone(),
        name: DEMO_CONTACT_CENTER.to_owned(),
        dialer_enabled: true,
        default_region: "US".into(),
        time_zone: "America/New_York".into(),
        created_at: now,
        updated_at: now,
    };
    let entry = audit::entry(&org.id, None, "contact_center.create", &cc.id, "demo seed");
    store::contact_centers::insert(db, cc.clone(), entry).await?;

    let hash = password::hash_async(password.clone()).await?;
    let mut logins = vec![DemoLogin {
        email: admin.email.clone(),
        role: Role::Admin,
        password: password.clone(),
    }];
    let mut people = vec![(
        "supervisor@demo.pinline.test".to_owned(),
        "Sam Supervisor".to_owned(),
        Role::Supervisor,
    )];
    for i in 1..=5 {
        people.push((
            format!("agent{i}@demo.pinline.test"),
            format!("Agent {i}"),
            Role::Agent,
        ));
    }
    for (email, name, role) in people {
        let user = user_row(&org.id, &email, &name, role, hash.clone())?;
        let entry = audit::entry(&org.id, None, "user.create", &user.id, "demo seed");
        store::users::insert(db, user, std::slice::from_ref(&cc.id), entry).await?;
        logins.push(DemoLogin {
            email,
            role,
            password: password.clone(),
        });
    }
    seed_demo_campaign(db, &cc).await?;
    Ok(DemoSeed::Created(logins))
}

pub const DEMO_CAMPAIGN: &str = "Spring Renewals (demo)";

/// The demo's world leads: (zone, number prefix, first number) — seven
/// zones whose 08:00–21:00 windows together cover every hour of the day,
/// so the demo dials whenever it is started.
const DEMO_ZONES: [(&str, &str, u32); 7] = [
    ("America/New_York", "+1212555", 110),
    ("America/Los_Angeles", "+1213555", 110),
    ("Pacific/Honolulu", "+1808555", 110),
    ("Europe/London", "+4420794", 60100),
    ("Asia/Kolkata", "+9198300", 12100),
    ("Asia/Tokyo", "+8131234", 5100),
    ("Australia/Sydney", "+6129374", 4100),
];
const DEMO_WORLD_LEADS_PER_ZONE: u32 = 300;

/// Every demo lead: eight named US customers, then 300 more in each zone of
/// [`DEMO_ZONES`].
pub fn demo_leads() -> Vec<LeadInput> {
    const PEOPLE: [(&str, &str, &str, &str, &str); 8] = [
        ("212 555 0101", "Ada", "Lovelace", "Gold", "2019"),
        ("312 555 0102", "Grace", "Hopper", "Silver", "2021"),
        ("415 555 0103", "Alan", "Turing", "Gold", "2018"),
        ("303 555 0104", "Katherine", "Johnson", "Bronze", "2023"),
        ("602 555 0105", "Edsger", "Dijkstra", "Silver", "2020"),
        ("617 555 0106", "Barbara", "Liskov", "Gold", "2017"),
        ("206 555 0107", "Donald", "Knuth", "Bronze", "2022"),
        ("808 555 0108", "Margaret", "Hamilton", "Gold", "2016"),
    ];
    const FIRST: [&str; 8] = [
        "Mary", "Tim", "Radia", "Ken", "Frances", "John", "Sophie", "Dennis",
    ];
    const LAST: [&str; 8] = [
        "Somerville",
        "Berners-Lee",
        "Perlman",
        "Thompson",
        "Allen",
        "Backus",
        "Wilson",
        "Ritchie",
    ];
    const PLANS: [&str; 3] = ["Gold", "Silver", "Bronze"];
    let props = |plan: &str, since: String| {
        vec![
            ("Plan".to_owned(), plan.to_owned()),
            ("Customer since".to_owned(), since),
            ("Renewal due".to_owned(), "2027-04-01".to_owned()),
        ]
    };
    let mut leads: Vec<LeadInput> = PEOPLE
        .iter()
        .map(|(phone, first, last, plan, since)| LeadInput {
            phone: (*phone).into(),
            first_name: Some((*first).into()),
            last_name: Some((*last).into()),
            time_zone: None,
            time_zone_verified: false,
            region: None,
            consent: Default::default(),
            custom_properties: props(plan, (*since).into()),
        })
        .collect();
    for (z, (zone, prefix, first_number)) in DEMO_ZONES.iter().enumerate() {
        for i in 0..DEMO_WORLD_LEADS_PER_ZONE {
            let k = (z as u32 * DEMO_WORLD_LEADS_PER_ZONE + i) as usize;
            let number = first_number + i;
            // Pad to the width of the zone's first number (at least the
            // four digits of a NANP line number: 110 → 0110).
            let width = first_number.to_string().len().max(4);
            leads.push(LeadInput {
                phone: format!("{prefix}{number:0width$}"),
                first_name: Some(FIRST[k % FIRST.len()].into()),
                last_name: Some(LAST[(k / FIRST.len() + k) % LAST.len()].into()),
                time_zone: Some((*zone).into()),
                time_zone_verified: false,
                region: None,
                consent: Default::default(),
                custom_properties: props(PLANS[k % PLANS.len()], (2015 + k % 10).to_string()),
            });
        }
    }
    leads
}

/// A draft campaign of the demo leads.
async fn seed_demo_campaign(db: &Db, cc: &models::ContactCenter) -> Result<(), BootstrapError> {
    let mut settings = CampaignSettings::defaults();
    settings.caller_id = "+14155550100".into();
    campaign::validate(&settings)?;
    let row = store::campaigns::new_row(cc, DEMO_CAMPAIGN.into(), &settings);
    let entry = audit::entry(
        &cc.organization_id,
        None,
        "campaign.create",
        &row.id,
        "demo seed",
    );
    let row = store::campaigns::insert(db, row, entry).await?;
    let leads = demo_leads();
    // The demo's own numbers are fictional: a real trunk refuses to dial
    // them (media::sip), the simulator plays them.
    crate::import::import_rows(db, &row, &cc.default_region, &leads, true).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Timelike, Utc};

    #[test]
    fn every_demo_lead_is_a_valid_number_with_a_known_zone() {
        let leads = demo_leads();
        assert_eq!(leads.len(), 8 + 7 * 300);
        let mut seen = std::collections::HashSet::new();
        for lead in &leads {
            let e164 = crate::domain::phone::normalize(&lead.phone, "US")
                .unwrap_or_else(|e| panic!("{}: {e:?}", lead.phone));
            assert!(seen.insert(e164), "{} twice", lead.phone);
            if let Some(z) = &lead.time_zone {
                assert!(z.parse::<chrono_tz::Tz>().is_ok(), "{z}");
            }
        }
    }

    #[test]
    fn some_demo_zone_is_inside_its_calling_window_at_every_hour() {
        // Through a year, both sides of every DST change.
        let start = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 30, 0)
            .single()
            .expect("time");
        for h in 0..(365 * 24) {
            let t = start + Duration::hours(h);
            let open = DEMO_ZONES.iter().any(|(zone, _, _)| {
                let tz: chrono_tz::Tz = zone.parse().expect("zone");
                let local = t.with_timezone(&tz);
                (8..20).contains(&local.hour())
            });
            assert!(open, "no demo zone open at {t}");
        }
    }
}
