//! `pinline bench`: measurements run by hand (never in CI), reported in
//! docs/benchmarks.md.
//!
//! - `claims`: claim latency (p50/p99/max of single-lead claims) and
//!   throughput (8 concurrent claimers) against a campaign of N leads.
//! - `import`: a CSV of N rows parsed and imported through the same job
//!   code as uploads; wall time and rows per second.
//! - `engine`: the dialer in real time on the sim carrier with N agents
//!   holding websockets (see [`engine`]).
//! - `sip`: the `sip` provider bridging N calls against sipp farms: 200 OK
//!   → agent latency, packet loss (see [`sip`]).
//! - `bus`: the event bus between instances on PostgreSQL, events a
//!   second and their lag (see [`bus`]).
//! - `reports`: campaign analytics and agent performance over a campaign
//!   of N calls (see [`reports`]).

pub mod attack;
pub mod bus;
pub mod engine;
pub mod reports;
pub mod sip;

use std::time::{Duration, Instant};

use crate::domain::campaign::CampaignSettings;
use crate::import::{CsvMapping, LeadsCsv, run_csv_job};
use crate::store::{self, Db, StoreError, claims, imports::ImportJob, models};

/// Percentiles of a sample of durations.
#[derive(Debug, Clone, Copy)]
pub struct Percentiles {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

pub fn percentiles(mut samples: Vec<Duration>) -> Option<Percentiles> {
    if samples.is_empty() {
        return None;
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Some(Percentiles {
        p50: at(0.50),
        p99: at(0.99),
        max: at(1.0),
    })
}

/// A bench organization, contact center and running campaign (default
/// settings, progressive).
async fn fixture(db: &Db, name: &str) -> Result<models::Campaign, Box<dyn std::error::Error>> {
    let mut settings = CampaignSettings::defaults();
    settings.caller_id = "+14155550100".into();
    Ok(fixture_with(db, name, &settings).await?.2)
}

type Fixture = (
    models::Organization,
    models::ContactCenter,
    models::Campaign,
);

/// A bench organization, contact center and running campaign with
/// `settings`.
async fn fixture_with(
    db: &Db,
    name: &str,
    settings: &CampaignSettings,
) -> Result<Fixture, Box<dyn std::error::Error>> {
    let (org, _) = crate::bootstrap::create_org(
        db,
        &format!("{name} {}", store::new_id()),
        &format!("bench-{}@bench.pinline.test", store::new_id()),
        "bench-password",
    )
    .await?;
    let now = store::now();
    let cc = models::ContactCenter {
        id: store::new_id(),
        organization_id: org.id.clone(),
        name: "Bench".into(),
        dialer_enabled: true,
        default_region: "US".into(),
        time_zone: "America/New_York".into(),
        created_at: now,
        updated_at: now,
    };
    let entry = store::audit::entry(&org.id, None, "contact_center.create", &cc.id, "bench");
    store::contact_centers::insert(db, cc.clone(), entry).await?;
    let row = store::campaigns::new_row(&cc, "Bench".into(), settings);
    let entry = store::audit::entry(&org.id, None, "campaign.create", &row.id, "bench");
    let row = store::campaigns::insert(db, row, entry).await?;
    let state = store::campaigns::set_state(
        db,
        &row.id,
        crate::domain::campaign::CampaignState::Draft,
        crate::domain::campaign::CampaignState::Running,
        store::audit::entry(&org.id, None, "campaign.state", &row.id, "bench"),
    )
    .await?;
    match state {
        store::campaigns::StateChange::Changed(c) => Ok((org, cc, *c)),
        _ => Err("could not start the bench campaign".into()),
    }
}

/// What `bench claims` measured.
#[derive(Debug)]
pub struct ClaimReport {
    pub leads: usize,
    pub seed: Duration,
    pub single: Percentiles,
    pub concurrent_claims_per_sec: f64,
    pub concurrent: Percentiles,
}

pub async fn claims(
    db: &Db,
    leads: usize,
    samples: usize,
) -> Result<ClaimReport, Box<dyn std::error::Error>> {
    let campaign = fixture(db, "Bench claims").await?;
    let started = Instant::now();
    store::bench_seed::seed_leads(db, &campaign, leads).await?;
    let seed = started.elapsed();
    let zones = vec!["America/New_York".to_owned()];
    let spec = |limit| claims::ClaimSpec {
        organization_id: &campaign.organization_id,
        campaign_id: &campaign.id,
        now: store::now(),
        open_zones: &zones,
        max_attempts: 5,
        abandoned_after: None,
        limit,
        fence: None,
    };
    // Warm up, then single-lead claims one after another.
    for _ in 0..50 {
        claims::claim(db, &spec(1)).await?;
    }
    let mut single = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        let got = claims::claim(db, &spec(1)).await?;
        single.push(t.elapsed());
        if got.is_empty() {
            break;
        }
    }
    // 8 claimers at once, 10 leads a claim.
    let per_task = samples / 8;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (db, campaign, zones) = (db.clone(), campaign.clone(), zones.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_task / 10 + 1);
            let mut claimed = 0usize;
            while claimed < per_task {
                let spec = claims::ClaimSpec {
                    organization_id: &campaign.organization_id,
                    campaign_id: &campaign.id,
                    now: store::now(),
                    open_zones: &zones,
                    max_attempts: 5,
                    abandoned_after: None,
                    limit: 10,
                    fence: None,
                };
                let s = Instant::now();
                let got = claims::claim(&db, &spec).await?;
                lat.push(s.elapsed());
                if got.is_empty() {
                    break;
                }
                claimed += got.len();
            }
            Ok::<_, StoreError>((claimed, lat))
        }));
    }
    let (mut total, mut lat) = (0usize, Vec::new());
    for task in tasks {
        let (n, l) = task.await??;
        total += n;
        lat.extend(l);
    }
    let secs = t.elapsed().as_secs_f64();
    Ok(ClaimReport {
        leads,
        seed,
        single: percentiles(single).ok_or("no samples")?,
        concurrent_claims_per_sec: total as f64 / secs,
        concurrent: percentiles(lat).ok_or("no samples")?,
    })
}

/// What `bench import` measured.
#[derive(Debug)]
pub struct ImportReport {
    pub rows: usize,
    pub bytes: usize,
    pub parse: Duration,
    pub total: Duration,
    pub added: i32,
}

pub async fn import(db: &Db, rows: usize) -> Result<ImportReport, Box<dyn std::error::Error>> {
    let campaign = fixture(db, "Bench import").await?;
    let area = ["212", "312", "415", "303", "602", "617", "206", "305"];
    let mut file = String::from("phone,first_name,last_name,plan,notes\n");
    for i in 0..rows {
        let a = area[i % area.len()];
        file.push_str(&format!(
            "({a}) {:03}-{:04},First{i},Last{i},Gold,\"customer since {}, prefers mornings\"\n",
            200 + (i / 10_000) % 800,
            i % 10_000,
            2000 + i % 25
        ));
    }
    let bytes = file.len();
    let started = Instant::now();
    let parsed = LeadsCsv::open(
        std::io::Cursor::new(file.into_bytes()),
        &CsvMapping::default(),
    )?;
    let parse = started.elapsed();
    let job = ImportJob::running(
        &campaign.organization_id,
        &campaign.id,
        None,
        "bench.csv",
        rows,
    );
    store::imports::insert(db, &job, "bench").await?;
    // Synthetic numbers, never dialed: the fictional range is fine.
    let done = run_csv_job(db, "bench", &campaign, "US", true, job, parsed, |_| {}).await?;
    Ok(ImportReport {
        rows,
        bytes,
        parse,
        total: started.elapsed(),
        added: done.added,
    })
}
