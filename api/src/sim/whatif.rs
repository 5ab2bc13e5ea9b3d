//! The supervisor's what-if: a scenario built from a campaign's recorded
//! calls (how dials turned out, ring, talk and wrap-up times), for a given
//! number of agents over the campaign's calling window, so `simulate` can
//! predict tomorrow's occupancy and abandonment.

use super::scenario::{Rates, Scenario, Spread, Team};
use crate::dialer::engine::learn_from;
use crate::dialer::pacer::{History, MIN_CALLS_FOR_RATE};
use crate::store::{self, Db, StoreError};

/// How many of the campaign's latest calls the what-if learns from.
const CALLS: i64 = 5000;

#[derive(Debug, thiserror::Error)]
pub enum WhatIfError {
    #[error("no campaign {0}")]
    NoCampaign(String),
    #[error(
        "campaign {0} has {1} dialed calls on record; the what-if needs at least {MIN_CALLS_FOR_RATE}"
    )]
    TooLittleHistory(String, usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The scenario for `agents` agents working the campaign's calling window.
pub async fn scenario_from_campaign(
    db: &Db,
    campaign_id: &str,
    agents: u32,
) -> Result<Scenario, WhatIfError> {
    let row = store::campaigns::get(db, campaign_id)
        .await?
        .ok_or_else(|| WhatIfError::NoCampaign(campaign_id.to_owned()))?;
    let settings = store::campaigns::settings_of(&row)?;
    let calls = store::calls::recent_dialed_of_campaign(db, campaign_id, CALLS).await?;
    let wraps = store::wrap_ups::recent_wrap_ms(db, campaign_id, CALLS).await?;
    // Over everything on record, not the pacer's short window.
    let n = calls.len().max(wraps.len()).max(1);
    let h = learn_from(
        History::new(n, n),
        &calls,
        &wraps,
        f64::from(settings.ring_timeout_secs),
    );
    if (h.dials() as u32) < MIN_CALLS_FOR_RATE {
        return Err(WhatIfError::TooLittleHistory(
            campaign_id.to_owned(),
            h.dials(),
        ));
    }
    let m = h.model();
    let w = settings.calling_window;
    let secs = (w.latest_end() - w.earliest_start())
        .num_seconds()
        .max(3600) as f64;
    let spread = |d: crate::dialer::pacer::LogNormal| Spread {
        mean: d.mean(),
        sd: d.sd(),
    };
    Ok(Scenario {
        name: format!("what-if {}", row.name),
        description: format!(
            "{agents} agents over {:.1} h, from {} dials on record",
            secs / 3600.0,
            m.dials
        ),
        hours: secs / 3600.0,
        seeds: 20,
        agents: Team::AllDay(agents),
        leads: None,
        rates: vec![Rates {
            from_hour: 0.0,
            human: m.p_human,
            machine: m.p_machine,
            failed: m.p_failed,
        }],
        failed_secs: m.failed_secs,
        answer_time: spread(m.ring),
        ring_timeout_secs: f64::from(settings.ring_timeout_secs),
        talk: spread(m.talk),
        wrap: spread(m.wrap),
        connect_within_secs: crate::domain::call::CONNECT_DEADLINE.num_milliseconds() as f64
            / 1000.0,
        max_abandon_rate: settings.max_abandon_rate,
        max_dial_ratio: settings.max_dial_ratio,
    })
}
