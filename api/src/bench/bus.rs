//! `pinline bench bus`: the event bus between instances on PostgreSQL —
//! one instance publishes at a steady rate, another receives; for each
//! rate, what arrived and how late (publication → arrival). The rate
//! where lag starts to grow is the bus's ceiling on this machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;

use super::{Percentiles, percentiles};
use crate::events::pg::PgBus;
use crate::events::{Event, EventBus, EventKind};
use crate::metrics::Metrics;
use crate::store::Db;

/// One rate's result.
#[derive(Debug, Clone)]
pub struct Step {
    /// Events a second asked for.
    pub rate: u64,
    pub sent: u64,
    pub received: u64,
    pub lag: Option<Percentiles>,
}

/// An event of about `bytes` bytes as JSON (a call's step is ~1 KB).
fn event(i: u64, bytes: usize) -> Event {
    Event {
        organization_id: "bench".into(),
        at: Utc::now(),
        kind: EventKind::CampaignStats {
            campaign_id: format!("bench-{i}-{}", "x".repeat(bytes.saturating_sub(120))),
        },
    }
}

/// Each of `rates` for `seconds`, in turn.
pub async fn run(
    db: &Db,
    rates: &[u64],
    seconds: u64,
    bytes: usize,
    progress: impl Fn(&str),
) -> Vec<Step> {
    // Each sees the other alive (a bus sends only when another instance
    // beats).
    let beats: Vec<_> = ["bench-a", "bench-b"]
        .into_iter()
        .map(|who| {
            crate::store::heartbeats::spawn(db.clone(), who.into(), Utc::now, Default::default())
        })
        .collect();
    let a = PgBus::start(db, "bench-a".into(), 65_536, Metrics::new("postgresql").bus);
    let b = PgBus::start(db, "bench-b".into(), 65_536, Metrics::new("postgresql").bus);
    let mut rx = b.subscribe();
    // Listening before the first step (LISTEN is not retroactive).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        a.publish(event(0, bytes));
        if tokio::time::timeout(Duration::from_millis(200), rx.next())
            .await
            .is_ok()
        {
            break;
        }
    }
    while tokio::time::timeout(Duration::from_millis(300), rx.next())
        .await
        .is_ok()
    {}
    let mut out = Vec::new();
    for &rate in rates {
        progress(&format!("{rate} events/s for {seconds} s…"));
        out.push(step(&a, &mut rx, rate, seconds, bytes).await);
    }
    for beat in beats {
        beat.abort();
    }
    out
}

async fn step(
    a: &Arc<PgBus>,
    rx: &mut futures::stream::BoxStream<'static, Event>,
    rate: u64,
    seconds: u64,
    bytes: usize,
) -> Step {
    let total = rate.saturating_mul(seconds);
    let every = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let publish = {
        let a = a.clone();
        tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            for i in 0..total {
                // Paced by the schedule, not by sleeps' drift: late ticks
                // publish at once.
                tokio::time::sleep_until(start + every.mul_f64(i as f64)).await;
                a.publish(event(i, bytes));
            }
        })
    };
    let mut lags = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let deadline = Instant::now() + Duration::from_secs(seconds + 5);
    while (lags.len() as u64) < total {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.next()).await {
            Ok(Some(e)) => lags.push((Utc::now() - e.at).to_std().unwrap_or_default()),
            _ => break,
        }
    }
    let _ = publish.await;
    Step {
        rate,
        sent: total,
        received: lags.len() as u64,
        lag: percentiles(lags),
    }
}
