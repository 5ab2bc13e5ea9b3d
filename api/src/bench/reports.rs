//! `pinline bench reports`: campaign analytics and agent performance over
//! a campaign with N calls in 30 days (seeded in SQL), through the same
//! functions the GraphQL resolvers call. Each report runs `rounds` times;
//! the first (cold) run is reported apart.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{Percentiles, fixture_with, percentiles};
use crate::domain::campaign::CampaignSettings;
use crate::graphql::report_api::{abandon_rates, campaign_figures, team_figures};
use crate::store::{self, Db};

const START: &str = "2026-10-01 00:00:00";

#[derive(Debug)]
pub struct Timing {
    pub what: &'static str,
    pub cold: Duration,
    pub warm: Percentiles,
    /// A figure from the result, to show it did the work.
    pub check: String,
}

#[derive(Debug)]
pub struct ReportsBench {
    pub calls: usize,
    pub seed: Duration,
    pub timings: Vec<Timing>,
}

async fn time<F, Fut>(
    what: &'static str,
    rounds: usize,
    mut f: F,
) -> Result<Timing, Box<dyn std::error::Error>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<String, Box<dyn std::error::Error>>>,
{
    let t = Instant::now();
    let check = f().await?;
    let cold = t.elapsed();
    let mut warm = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        f().await?;
        warm.push(t.elapsed());
    }
    Ok(Timing {
        what,
        cold,
        warm: percentiles(warm).ok_or("no rounds")?,
        check,
    })
}

pub async fn run(
    db: &Db,
    calls: usize,
    agents: usize,
    rounds: usize,
) -> Result<ReportsBench, Box<dyn std::error::Error>> {
    let mut settings = CampaignSettings::defaults();
    settings.caller_id = "+14155550100".into();
    let (_, cc, campaign) = fixture_with(db, "Bench reports", &settings).await?;
    let t = Instant::now();
    store::bench_seed::seed_history(db, &campaign, agents, calls, START).await?;
    let seed = t.elapsed();
    let from: DateTime<Utc> = "2026-10-01T00:00:00Z".parse()?;
    let to: DateTime<Utc> = "2026-10-31T00:00:00Z".parse()?;
    let day: DateTime<Utc> = "2026-10-30T00:00:00Z".parse()?;
    let zone = chrono_tz::Tz::America__New_York;
    let mut timings = Vec::new();
    timings.push(
        time("campaign report, 30 days", rounds, || async {
            let f = campaign_figures(db, &campaign.id, from, to)
                .await
                .map_err(|e| e.message())?;
            Ok(format!("{} attempts, {} contacts", f.attempts, f.contacts))
        })
        .await?,
    );
    timings.push(
        time("campaign report, 1 day", rounds, || async {
            let f = campaign_figures(db, &campaign.id, day, to)
                .await
                .map_err(|e| e.message())?;
            Ok(format!("{} attempts", f.attempts))
        })
        .await?,
    );
    timings.push(
        time("abandonment today + 30 days", rounds, || async {
            let (t, d) = abandon_rates(db, &campaign.id, zone, to)
                .await
                .map_err(|e| e.message())?;
            Ok(format!("{:.4} / {:.4}", t, d))
        })
        .await?,
    );
    timings.push(
        time("agent performance, 30 days", rounds, || async {
            let t = team_figures(db, &cc, from, to, to)
                .await
                .map_err(|e| e.message())?;
            Ok(format!(
                "{} agents, {} calls, occupancy {:.3}",
                t.agents.len(),
                t.total.calls,
                t.total.occupancy()
            ))
        })
        .await?,
    );
    Ok(ReportsBench {
        calls,
        seed,
        timings,
    })
}
