//! `pinline bench engine`: the dialer in real time on the sim carrier. N
//! agents, each with a live `graphql-transport-ws` connection subscribed to
//! `agentEvents`, take calls from a running campaign of leads that answer
//! (forced by `sim.*` properties), talk, and are wrapped up automatically
//! at the campaign's wrap-up limit. Measured:
//!
//! - answer → connected published: from when the carrier's answer was due
//!   (time spent waiting in the engine's queue counts) until the bridge was
//!   ordered, the call and its TONE/CONNECTED events written and CONNECTED
//!   published on the bus (the engine's own probe);
//! - answer → the agent's websocket client has the CONNECTED message (the
//!   same start, the client's clock: one process);
//! - the most calls in flight at once (placed and not yet ended).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::{Percentiles, fixture_with, percentiles};
use crate::app::App;
use crate::config::Config;
use crate::dialer::engine::{ConnectSample, LatencyProbe};
use crate::domain::agent::AgentStatus;
use crate::domain::campaign::{CampaignSettings, DialMode};
use crate::domain::identity::Role;
use crate::domain::lead::LeadInput;
use crate::events::EventKind;
use crate::store::{self, models};

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What to run.
#[derive(Debug, Clone)]
pub struct EngineBench {
    pub agents: usize,
    pub seconds: u64,
    /// Talk time range of each answered call, seconds.
    pub talk: (u32, u32),
    pub mode: DialMode,
    /// PostgreSQL URL (a scratch database); none: a temporary SQLite file.
    pub database_url: Option<String>,
    /// Hostile clients sending the worst documents while it runs
    /// ([`super::attack`]); `/healthz` is timed either way.
    pub attack: usize,
    /// The attackers send `{ __typename }` instead (the baseline).
    pub benign: bool,
    /// Servers sharing the PostgreSQL database (in this process, each
    /// with its own listener), one contact center each; every agent's
    /// websocket and commands go to a server that does not run its center
    /// (forwarded, events over the database's bus).
    pub instances: usize,
}

#[derive(Debug)]
pub struct EngineReport {
    pub connects: usize,
    pub published: Option<Percentiles>,
    /// Of which waiting in the engine's queue.
    pub queued: Option<Percentiles>,
    pub delivered: Option<Percentiles>,
    /// The same two after the first wave of calls (the shift-start burst,
    /// every agent going Available at once, excluded).
    pub steady_published: Option<Percentiles>,
    pub steady_delivered: Option<Percentiles>,
    pub steady_connects: usize,
    /// CONNECTED messages the websocket clients got / connects measured.
    pub delivered_count: usize,
    pub max_in_flight: usize,
    pub calls_ended: usize,
    pub abandoned: usize,
    /// `/healthz` every 100 ms, and the attack's counts.
    pub attack: super::attack::AttackReport,
}

/// A time zone where it is mid-day now, so the calling window is open
/// (benchmarks and real-clock tests).
pub fn daytime_zone() -> &'static str {
    use chrono::Timelike;
    const ZONES: [&str; 8] = [
        "America/New_York",
        "America/Los_Angeles",
        "Pacific/Honolulu",
        "Asia/Tokyo",
        "Asia/Kolkata",
        "Europe/Berlin",
        "America/Sao_Paulo",
        "Australia/Sydney",
    ];
    let now = chrono::Utc::now();
    ZONES
        .iter()
        .find(|z| {
            z.parse::<chrono_tz::Tz>()
                .map(|tz| (10..17).contains(&now.with_timezone(&tz).hour()))
                .unwrap_or(false)
        })
        .copied()
        .unwrap_or("America/New_York")
}

fn leads(n: usize, talk: (u32, u32), zone: &str) -> Vec<LeadInput> {
    const AREAS: [&str; 8] = ["202", "212", "312", "415", "303", "602", "617", "206"];
    let span = talk.1.saturating_sub(talk.0).max(1);
    (0..n)
        .map(|i| LeadInput {
            phone: format!("+1{}555{:04}", AREAS[i / 9000 % AREAS.len()], 1 + i % 9000),
            first_name: Some("Bench".into()),
            last_name: Some(format!("Lead {i}")),
            time_zone: Some(zone.into()),
            // Synthetic leads in a zone where it is daytime now.
            time_zone_verified: true,
            region: None,
            consent: Default::default(),
            custom_properties: vec![
                ("sim.outcome".into(), "human".into()),
                ("sim.ring_seconds".into(), (1 + i % 3).to_string()),
                (
                    "sim.talk_seconds".into(),
                    (talk.0 + (i as u32 * 7919) % span).to_string(),
                ),
            ],
        })
        .collect()
}

/// One agent's websocket: subscribe to `agentEvents`, note when each
/// CONNECTED arrives.
async fn agent_socket(
    url: String,
    token: String,
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    ready: tokio::sync::mpsc::Sender<()>,
) -> BenchResult<()> {
    let mut req = url.into_client_request()?;
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    let init = serde_json::json!({"type": "connection_init", "payload": {"token": token}});
    ws.send(Message::text(init.to_string())).await?;
    let sub = serde_json::json!({"type": "subscribe", "id": "a", "payload": {
        "query": "subscription { agentEvents { ... on CallEvent { step call { id } } } }"}});
    let mut subscribed = false;
    while let Some(msg) = ws.next().await {
        let Message::Text(text) = msg? else { continue };
        let v: serde_json::Value = serde_json::from_str(&text)?;
        match v["type"].as_str() {
            Some("connection_ack") if !subscribed => {
                ws.send(Message::text(sub.to_string())).await?;
                subscribed = true;
                let _ = ready.send(()).await;
            }
            Some("ping") => {
                ws.send(Message::text(r#"{"type":"pong"}"#)).await?;
            }
            Some("next") => {
                let e = &v["payload"]["data"]["agentEvents"];
                if e["step"] == "CONNECTED"
                    && let Some(id) = e["call"]["id"].as_str()
                {
                    let at = Instant::now();
                    seen.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(id.to_owned(), at);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

pub async fn run(b: &EngineBench, progress: impl Fn(&str)) -> BenchResult<EngineReport> {
    let dir = std::env::temp_dir().join(format!("pinline-bench-engine-{}", std::process::id()));
    let instances = b.instances.max(1);
    if instances > 1 && b.database_url.is_none() {
        return Err("several instances share a PostgreSQL database: give --database-url".into());
    }
    let probe: Arc<LatencyProbe> = Arc::new(Mutex::new(Vec::new()));
    let secret = format!("bench-{}", store::new_id());
    let config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.clone(),
        database_url: Some(
            b.database_url
                .clone()
                .unwrap_or_else(|| dir.join("bench.sqlite3").display().to_string()),
        ),
        jwt_secret: Some(secret),
        max_db_connections: 16,
        session_grace: Duration::from_secs(3600),
        latency_probe: Some(probe.clone()),
        // Every agent's websocket opens at once from this one address (as
        // a contact center behind one NAT address does).
        anonymous: crate::http::budget::AnonymousLimits {
            per_second: b.agents.max(20) as f64,
            burst: (b.agents.max(100) * 2) as f64,
            ..Default::default()
        },
        ..Config::default()
    };
    let app = App::start(config.clone()).await?;

    let mut settings = CampaignSettings::defaults();
    settings.caller_id = "+14155550100".into();
    settings.dial_mode = b.mode;
    settings.wrap_up_limit_secs = Some(5);
    settings.max_attempts_per_day = 5;
    // Enough leads for every agent to stay busy for the whole run.
    let cycle = 2 + (b.talk.0 + b.talk.1) / 2 + 5;
    let n = (b.agents as u64 * (b.seconds / u64::from(cycle.max(1)) + 2) * 2) as usize;
    progress(&format!("{n} leads, {} agents…", b.agents));
    // One contact center (and organization) per instance, the leads
    // shared out between them.
    let mut fixtures = Vec::new();
    let all_leads = leads(n, b.talk, daytime_zone());
    for k in 0..instances {
        let (org, cc, campaign) = fixture_with(&app.db, "Bench engine", &settings)
            .await
            .map_err(|e| e.to_string())?;
        let mine: Vec<LeadInput> = all_leads
            .iter()
            .skip(k)
            .step_by(instances)
            .cloned()
            .collect();
        for chunk in mine.chunks(5000) {
            crate::import::import_rows(
                &app.db,
                &campaign,
                &cc.default_region,
                chunk,
                app.media.simulated(),
            )
            .await?;
        }
        fixtures.push((org, cc));
    }
    let mut apps = vec![app.clone()];
    for k in 1..instances {
        let mut more = config.clone();
        more.data_dir = dir.join(format!("instance-{k}"));
        apps.push(App::start(more).await?);
    }
    let hash = crate::auth::password::hash_async("bench-password".into()).await?;
    let mut agents: Vec<(usize, models::User)> = Vec::new();
    for i in 0..b.agents {
        let now = store::now();
        let home = i % instances;
        let (org, cc) = &fixtures[home];
        let user = models::User {
            id: store::new_id(),
            organization_id: org.id.clone(),
            email: format!("agent{i}@bench.pinline.test"),
            name: format!("Agent {i}"),
            role: Role::Agent.as_str().into(),
            password_hash: hash.clone(),
            active: true,
            created_at: now,
            updated_at: now,
        };
        let entry = store::audit::entry(&org.id, None, "user.create", &user.id, "bench");
        let user = store::users::insert(&app.db, user, std::slice::from_ref(&cc.id), entry).await?;
        agents.push((home, user));
    }

    let mut bases = Vec::new();
    let mut stops = Vec::new();
    for served in &apps {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        served.advertise(&base);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let served = served.clone();
        tokio::spawn(async move {
            let _ = crate::http::serve(served, listener, async {
                let _ = stop_rx.await;
            })
            .await;
        });
        bases.push(base);
        stops.push(stop_tx);
    }
    // Where each center runs: every instance one (the first took them
    // all, and gives back what is over its share as the others join).
    let mut runs_on = vec![0usize; instances];
    if instances > 1 {
        progress("waiting for the centers to spread over the instances…");
        let spread = Instant::now();
        loop {
            let holders = store::leases::holders(&app.db).await?;
            let owner_of = |cc: &models::ContactCenter| {
                holders
                    .iter()
                    .find(|(c, _, _)| *c == cc.id)
                    .and_then(|(_, o, _)| apps.iter().position(|a| a.instance == *o))
            };
            let owners: Vec<Option<usize>> = fixtures.iter().map(|(_, cc)| owner_of(cc)).collect();
            let mut distinct: Vec<usize> = owners.iter().flatten().copied().collect();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() == instances && owners.iter().all(Option::is_some) {
                runs_on = owners.into_iter().flatten().collect();
                break;
            }
            if spread.elapsed() > Duration::from_secs(60) {
                return Err(format!("the centers did not spread: {owners:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // Each agent talks to an instance that does not run its center.
    let via = |home: usize| (runs_on[home] + 1) % instances;

    progress("websockets…");
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(b.agents.max(1));
    let ttl = chrono::Duration::hours(1);
    for (home, agent) in &agents {
        let (token, _) = crate::auth::open_session(&app.db, &app.keys, agent, ttl, None).await?;
        let url = format!(
            "ws://{}/graphql/ws",
            bases[via(*home)].trim_start_matches("http://")
        );
        let (seen, ready) = (seen.clone(), ready_tx.clone());
        tokio::spawn(async move {
            if let Err(e) = agent_socket(url, token, seen, ready).await {
                tracing::warn!("bench websocket: {e}");
            }
        });
    }
    for _ in 0..b.agents {
        tokio::time::timeout(Duration::from_secs(30), ready_rx.recv())
            .await
            .map_err(|_| "websockets did not all come up")?;
    }
    // Let the subscriptions settle before calls start.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Watch calls in flight from the bus.
    let mut events = app.events.subscribe();
    let (done_tx, mut done) = tokio::sync::oneshot::channel::<()>();
    let watch = tokio::spawn(async move {
        let mut open: HashMap<String, ()> = HashMap::new();
        let (mut max, mut ended, mut abandoned) = (0usize, 0usize, 0usize);
        loop {
            let e = tokio::select! {
                e = events.next() => match e {
                    Some(e) => e,
                    None => break,
                },
                _ = &mut done => break,
            };
            if let EventKind::Call { call, step, .. } = &e.kind {
                if call.state == "ENDED" {
                    if open.remove(&call.id).is_some() {
                        ended += 1;
                        if call.outcome.as_deref() == Some("ABANDONED") {
                            abandoned += 1;
                        }
                    }
                } else if step.as_str() == "DIALING" {
                    open.insert(call.id.clone(), ());
                    max = max.max(open.len());
                }
            }
        }
        (max, ended, abandoned)
    });

    progress(&format!(
        "running {} s{}…",
        b.seconds,
        if b.attack > 0 {
            format!(" under attack by {} clients", b.attack)
        } else {
            String::new()
        }
    ));
    let attack = super::attack::Attack::start(&bases[0], b.attack, b.benign, b.seconds)
        .map_err(|e| format!("starting the attackers: {e}"))?;
    for (home, agent) in &agents {
        let (org, cc) = &fixtures[*home];
        apps[via(*home)]
            .engine
            .set_status(&org.id, &agent.id, cc.clone(), AgentStatus::Available, None)
            .await?;
    }
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(b.seconds) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let n = probe.lock().unwrap_or_else(|p| p.into_inner()).len();
        progress(&format!(
            "{:>4} s: {n} calls connected",
            started.elapsed().as_secs()
        ));
    }
    let attack = attack.finish().await;
    // Give the last CONNECTED messages time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = done_tx.send(());
    let (max_in_flight, calls_ended, abandoned) = watch.await?;
    // A clean stop: the calls end and are written before the runtime goes
    // (it used to be torn down under the engine's writes mid-flight).
    for a in &apps {
        if let Err(e) = a.engine.drain().await {
            tracing::warn!("ending the bench's calls: {e}");
        }
    }
    for a in apps.iter().rev() {
        a.release_leases().await;
    }
    for stop in stops {
        let _ = stop.send(());
    }

    let samples: Vec<ConnectSample> = probe.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let delivered_of = |samples: &[&ConnectSample]| -> Vec<Duration> {
        samples
            .iter()
            .filter_map(|s| seen.get(&s.call_id).map(|at| at.duration_since(s.answered)))
            .collect()
    };
    let all: Vec<&ConnectSample> = samples.iter().collect();
    // The first wave: every agent's first call (ring ≤ 3 s, talk ≤ max).
    let warm = started + Duration::from_secs(u64::from(b.talk.1) + 10);
    let steady: Vec<&ConnectSample> = samples.iter().filter(|s| s.answered >= warm).collect();
    let delivered = delivered_of(&all);
    let report = EngineReport {
        connects: samples.len(),
        published: percentiles(samples.iter().map(|s| s.published).collect()),
        queued: percentiles(samples.iter().map(|s| s.queued).collect()),
        delivered_count: delivered.len(),
        delivered: percentiles(delivered),
        steady_published: percentiles(steady.iter().map(|s| s.published).collect()),
        steady_delivered: percentiles(delivered_of(&steady)),
        steady_connects: steady.len(),
        max_in_flight,
        calls_ended,
        abandoned,
        attack,
    };
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}
