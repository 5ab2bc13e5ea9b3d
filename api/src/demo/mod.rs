//! The live demo (`pinline serve --seed-demo`): the demo campaign running
//! from the start, and simulated agents on the floor — `agent2@…` and on
//! (`--demo-agents`, `agent1@` stays free for the person trying Pinline) —
//! who go Available, take the dialer's calls, wrap up after a few seconds
//! with plausible dispositions and now and then take a break, through the
//! same engine commands as a person in the web app. With the demo's
//! carrier profile ([`crate::media::sim_model::SimConfig::demo`]) a call
//! reaches an agent who goes Available within seconds.

use std::time::Duration;

use futures::StreamExt;
use rand::Rng;

use crate::app::App;
use crate::bootstrap::{DEMO_CAMPAIGN, DEMO_CONTACT_CENTER};
use crate::dialer::engine::{CallStep, WrapUpSubmission};
use crate::domain::agent::AgentStatus;
use crate::domain::campaign::CampaignState;
use crate::events::EventKind;
use crate::store::{self, StoreError, audit};

pub mod history;

/// Demo agents beyond agent1 (the seed has five).
pub const MAX_DEMO_AGENTS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the demo organization is not seeded: {0}")]
    NotSeeded(&'static str),
}

/// What a demo agent says at wrap-up, with how often.
const DISPOSITIONS: [(&str, u32, &str); 5] = [
    ("INTERESTED", 22, "Wants the renewal quote by email"),
    ("NOT_INTERESTED", 38, "Happy with the current plan"),
    ("CALL_BACK", 15, "Asked to call back next week"),
    ("LEFT_VOICEMAIL", 15, ""),
    ("WRONG_PARTY", 10, "Number belongs to someone else now"),
];

/// The demo organization's contact center and campaign.
async fn find(
    db: &store::Db,
) -> Result<
    (
        store::models::ContactCenter,
        Option<store::models::Campaign>,
    ),
    DemoError,
> {
    let first = store::users::with_email(db, "agent1@demo.pinline.test", 1)
        .await?
        .pop()
        .ok_or(DemoError::NotSeeded("no agent1@demo.pinline.test"))?;
    let centers = store::contact_centers::ids_of_member(db, &first.id).await?;
    let mut cc = None;
    for id in centers {
        if let Some(c) = store::contact_centers::get(db, &id).await?
            && c.name == DEMO_CONTACT_CENTER
        {
            cc = Some(c);
        }
    }
    let cc = cc.ok_or(DemoError::NotSeeded("no demo contact center"))?;
    let campaign = store::campaigns::list(
        db,
        &cc.organization_id,
        Some(std::slice::from_ref(&cc.id)),
        None,
        None,
        100,
    )
    .await?
    .items
    .into_iter()
    .find(|c| c.name == DEMO_CAMPAIGN);
    Ok((cc, campaign))
}

/// Simulate `days` working days of the demo campaign before now and store
/// them ([`history`]), with an audit entry marking them demo data. Returns
/// how many calls were stored. Run once, right after the demo is seeded.
pub async fn seed_history(db: &store::Db, days: u32, seed: u64) -> Result<usize, DemoError> {
    let (cc, campaign) = find(db).await?;
    let campaign = campaign.ok_or(DemoError::NotSeeded("no demo campaign"))?;
    let settings = store::campaigns::settings_of(&campaign)?;
    let mut agents = Vec::new();
    for i in 1..=1 + MAX_DEMO_AGENTS {
        if let Some(u) = store::users::with_email(db, &format!("agent{i}@demo.pinline.test"), 1)
            .await?
            .pop()
        {
            agents.push(u.id);
        }
    }
    let phones = crate::bootstrap::demo_leads()
        .iter()
        .filter_map(|l| crate::domain::phone::normalize(&l.phone, &cc.default_region).ok())
        .collect();
    let scope = history::HistoryScope {
        organization_id: cc.organization_id.clone(),
        contact_center_id: cc.id.clone(),
        campaign_id: campaign.id.clone(),
        caller_id: settings.caller_id.clone(),
        time_zone: cc.time_zone.parse().unwrap_or(chrono_tz::America::New_York),
        settings,
        agents,
        phones,
    };
    let h = history::simulate(&scope, chrono::Utc::now(), days, seed);
    let (first, last) = (h.days.first(), h.days.last());
    let entry = audit::entry(
        &cc.organization_id,
        None,
        "demo.history",
        &campaign.id,
        format!(
            "demo data: {} simulated calls and {} wrap-ups on {} working days ({} to {})",
            h.calls.len(),
            h.wraps.len(),
            h.days.len(),
            first.map(ToString::to_string).unwrap_or_default(),
            last.map(ToString::to_string).unwrap_or_default(),
        ),
    );
    store::history::insert(db, &h.calls, &h.wraps, &h.time, entry).await?;
    Ok(h.calls.len())
}

/// Start the demo campaign (if it is not running) and `agents` simulated
/// agents. Returns at once; the agents run until the server stops.
pub async fn start(app: &App, agents: usize) -> Result<usize, DemoError> {
    let (cc, campaign) = find(&app.db).await?;
    let org = cc.organization_id.clone();
    if let Some(c) = &campaign {
        let state = CampaignState::parse(&c.state);
        if matches!(state, Some(CampaignState::Draft | CampaignState::Paused)) {
            let from = state.unwrap_or(CampaignState::Draft);
            let entry = audit::entry(
                &org,
                None,
                "campaign.state",
                &c.id,
                format!("{} → RUNNING (demo start)", from.as_str()),
            );
            store::campaigns::set_state(&app.db, &c.id, from, CampaignState::Running, entry)
                .await?;
        }
    }
    let mut started = 0;
    for i in 2..2 + agents.min(MAX_DEMO_AGENTS) {
        let email = format!("agent{i}@demo.pinline.test");
        let Some(user) = store::users::with_email(&app.db, &email, 1).await?.pop() else {
            continue;
        };
        let (app, cc) = (app.clone(), cc.clone());
        tokio::spawn(async move { run_agent(app, user.organization_id, user.id, cc).await });
        started += 1;
    }
    Ok(started)
}

/// One simulated agent, for as long as the server runs.
async fn run_agent(app: App, org: String, agent: String, cc: store::models::ContactCenter) {
    // A client that never goes away: no session grace runs out.
    app.engine.connection(&agent, true);
    let mut events = app.events.subscribe_agent(&agent);
    // Spread the first logins over a few seconds, as people arrive.
    let arrive = rand::rng().random_range(500..4_000);
    tokio::time::sleep(Duration::from_millis(arrive)).await;
    loop {
        if let Err(e) = app
            .engine
            .set_status(&org, &agent, cc.clone(), AgentStatus::Available, None)
            .await
        {
            tracing::debug!(agent, "demo agent could not go available: {e:?}");
        }
        // Wait for a call's wrap-up.
        let call_id = loop {
            match events.next().await {
                None => return,
                Some(e) => {
                    if let EventKind::Call { step, call, .. } = &e.kind
                        && *step == CallStep::WrapUpRequired
                        && call.agent_id.as_deref() == Some(agent.as_str())
                    {
                        break call.id.clone();
                    }
                }
            }
        };
        let (think, code, notes, pause) = {
            let mut rng = rand::rng();
            let total: u32 = DISPOSITIONS.iter().map(|d| d.1).sum();
            let mut pick = rng.random_range(0..total);
            let (code, _, notes) = DISPOSITIONS
                .iter()
                .find(|d| {
                    if pick < d.1 {
                        true
                    } else {
                        pick -= d.1;
                        false
                    }
                })
                .copied()
                .unwrap_or(DISPOSITIONS[0]);
            let pause = rng.random_ratio(1, 8).then(|| rng.random_range(30..90));
            (rng.random_range(3..9), code, notes, pause)
        };
        tokio::time::sleep(Duration::from_secs(think)).await;
        let submitted = app
            .engine
            .wrap_up(
                &agent,
                WrapUpSubmission {
                    call_id,
                    disposition_code: code.into(),
                    notes: notes.to_owned(),
                    do_not_call: false,
                    do_not_text: false,
                    invalid_number: None,
                    callback_at: None,
                    callback_agent_id: None,
                    next_status: if pause.is_some() {
                        AgentStatus::Break
                    } else {
                        AgentStatus::Available
                    },
                    revoke_consent: false,
                },
            )
            .await;
        if let Err(e) = submitted {
            // Wrapped up automatically at the limit, say: carry on.
            tracing::debug!(agent, "demo wrap-up: {e:?}");
        }
        if let Some(secs) = pause {
            let _ = app
                .engine
                .set_status(
                    &org,
                    &agent,
                    cc.clone(),
                    AgentStatus::Break,
                    Some("Coffee".into()),
                )
                .await;
            tokio::time::sleep(Duration::from_secs(secs)).await;
        }
    }
}
