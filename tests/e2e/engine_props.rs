//! A property test over random campaigns and random agent behaviour, on the
//! manual clock through the API: whatever the agents do (go available, take
//! breaks, drop their connection, hang up, wrap up, dial or skip previews)
//! and whatever the carrier does, and with numbers put on Do-Not-Call
//! mid-run:
//!
//! - never two calls (or offers) to one lead at once;
//! - never a dial to a number on Do-Not-Call, never more dials to a lead
//!   than the campaign's attempt limit;
//! - every call that started ends, with exactly one ENDED step and one
//!   stored outcome, and no lead is left claimed;
//! - agents' statuses only move along the state machine of `domain/agent`;
//! - no request ever fails with anything but a typed refusal.
//!
//! Each case builds a whole server, so cases are few (`PINLINE_PROPTEST_CASES`
//! raises them for a longer hunt); PostgreSQL gets a smaller share.

use std::collections::{HashMap, HashSet};

use pinline::domain::agent::{AgentStatus, can_move};
use pinline::events::{Event, EventKind};
use pinline_tests::dialer::{Floor, lead};
use pinline_tests::{Backend, error_code};
use proptest::prelude::*;
use serde_json::{Value, json};

const OUTCOMES: [&str; 5] = ["human", "machine", "busy", "no_answer", "failed"];
const MODES: [&str; 3] = ["PREVIEW", "PROGRESSIVE", "PREDICTIVE"];
const CHOICES: [&str; 3] = ["AVAILABLE", "BREAK", "OFFLINE"];
const MAX_ATTEMPTS: usize = 2;

#[derive(Debug, Clone)]
enum Act {
    /// Agent chooses AVAILABLE / BREAK / OFFLINE (may be refused).
    Choose(usize, usize),
    HangUp(usize),
    /// Wrap up, then go to the given choice.
    WrapUp(usize, usize),
    /// Put lead n's number on Do-Not-Call.
    Dnc(usize),
    /// Dial (true) or skip (false) an offered preview.
    Preview(usize, bool),
    /// The agent's websocket drops (false) or comes back (true).
    Connection(usize, bool),
}

#[derive(Debug, Clone)]
struct Scenario {
    mode: usize,
    /// (outcome, ring seconds, talk seconds)
    leads: Vec<(usize, u32, u32)>,
    agents: usize,
    /// Each act, then that many seconds pass.
    acts: Vec<(Act, i64)>,
}

fn act(agents: usize, leads: usize) -> impl Strategy<Value = Act> {
    prop_oneof![
        3 => (0..agents, 0..3usize).prop_map(|(a, c)| Act::Choose(a, c)),
        2 => (0..agents).prop_map(Act::HangUp),
        3 => (0..agents, 0..3usize).prop_map(|(a, c)| Act::WrapUp(a, c)),
        1 => (0..leads).prop_map(Act::Dnc),
        2 => (0..agents, any::<bool>()).prop_map(|(a, d)| Act::Preview(a, d)),
        1 => (0..agents, any::<bool>()).prop_map(|(a, up)| Act::Connection(a, up)),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (0..3usize, 1..=3usize, 2..=8usize).prop_flat_map(|(mode, agents, n)| {
        (
            Just(mode),
            proptest::collection::vec((0..5usize, 0..6u32, 1..40u32), n),
            Just(agents),
            proptest::collection::vec((act(agents, n), 0..8i64), 4..24),
        )
            .prop_map(|(mode, leads, agents, acts)| Scenario {
                mode,
                leads,
                agents,
                acts,
            })
    })
}

fn phone(i: usize) -> String {
    format!("+1202555{:04}", 1100 + i)
}

/// What the event stream has shown so far, and what it must never show.
#[derive(Default)]
struct Watch {
    read: usize,
    /// lead → the call (or offer) open for it.
    open: HashMap<String, String>,
    /// call → how many ENDED steps.
    ended: HashMap<String, usize>,
    /// lead → dials.
    dials: HashMap<String, usize>,
    dnc: HashSet<String>,
    status: HashMap<String, AgentStatus>,
    broken: Vec<String>,
}

impl Watch {
    fn feed(&mut self, seen: &[Event]) {
        for e in &seen[self.read..] {
            match &e.kind {
                EventKind::Call { step, call, .. } => {
                    let step = step.as_str();
                    self.ended.entry(call.id.clone()).or_default();
                    if step == "ENDED" {
                        *self.ended.entry(call.id.clone()).or_default() += 1;
                    }
                    let Some(lead) = &call.lead_id else { continue };
                    if step == "DIALING" {
                        *self.dials.entry(lead.clone()).or_default() += 1;
                        if self.dnc.contains(&call.phone) {
                            self.broken
                                .push(format!("dialed {} after it was listed", call.phone));
                        }
                    }
                    if call.state == "ENDED" {
                        if self.open.get(lead) == Some(&call.id) {
                            self.open.remove(lead);
                        }
                    } else if let Some(other) = self.open.get(lead) {
                        if other != &call.id {
                            self.broken
                                .push(format!("lead {lead}: {other} and {} open", call.id));
                        }
                    } else {
                        self.open.insert(lead.clone(), call.id.clone());
                    }
                }
                EventKind::Presence(p) => {
                    let before = self
                        .status
                        .insert(p.agent_id.clone(), p.status)
                        .unwrap_or(AgentStatus::Offline);
                    if !can_move(before, p.status) {
                        self.broken.push(format!(
                            "agent {} moved {} → {}",
                            p.agent_id,
                            before.as_str(),
                            p.status.as_str()
                        ));
                    }
                }
                _ => {}
            }
        }
        self.read = seen.len();
    }
}

/// A request that may be refused, but only with a typed refusal.
async fn attempt(f: &Floor, agent: usize, q: &str, v: Value) -> Value {
    let body = f.srv.gql(Some(&f.agents[agent].token), q, v).await;
    if let Some(code) = error_code(&body) {
        assert!(
            matches!(code.as_str(), "CONFLICT" | "NOT_FOUND" | "VALIDATION"),
            "{q}: {body}"
        );
    }
    body["data"].clone()
}

async fn me(f: &Floor, agent: usize) -> Value {
    attempt(
        f,
        agent,
        "{ myPresence { status activeCall { id state } wrapUpCall { id } offeredCall { id } } }",
        json!({}),
    )
    .await["myPresence"]
        .clone()
}

const WRAP_UP: &str = "mutation($c:ID!,$n:AgentStatus){submitWrapUp(input:{callId:$c,dispositionCode:\"NOT_INTERESTED\",nextStatus:$n}){wrapUp{id}}}";

async fn perform(f: &mut Floor, w: &mut Watch, act: &Act, lead_count: usize) {
    match *act {
        Act::Choose(a, c) => {
            attempt(
                f,
                a,
                "mutation($cc:ID!,$s:AgentStatus!){setAgentStatus(input:{contactCenterId:$cc,status:$s}){presence{status}}}",
                json!({"cc": f.cc, "s": CHOICES[c]}),
            )
            .await;
        }
        Act::HangUp(a) => {
            if let Some(id) = me(f, a).await["activeCall"]["id"].as_str() {
                attempt(
                    f,
                    a,
                    "mutation($c:ID!){hangUp(input:{callId:$c})}",
                    json!({"c": id}),
                )
                .await;
            }
        }
        Act::WrapUp(a, c) => {
            if let Some(id) = me(f, a).await["wrapUpCall"]["id"].as_str() {
                attempt(f, a, WRAP_UP, json!({"c": id, "n": CHOICES[c]})).await;
            }
        }
        Act::Dnc(n) => {
            // Everything the engine did before the listing is on the bus.
            f.srv.app.engine.settle().await.expect("engine");
            f.collect();
            w.feed(&f.seen);
            let p = phone(n % lead_count);
            f.add_dnc(&p).await;
            w.dnc.insert(p);
        }
        Act::Preview(a, dial) => {
            if let Some(id) = me(f, a).await["offeredCall"]["id"].as_str() {
                let q = if dial {
                    "mutation($c:ID!){dialPreview(input:{callId:$c}){call{id}}}"
                } else {
                    "mutation($c:ID!){skipPreview(input:{callId:$c}){call{id}}}"
                };
                attempt(f, a, q, json!({"c": id})).await;
            }
        }
        Act::Connection(a, up) => f.srv.app.engine.connection(&f.agents[a].id, up),
    }
}

/// Let everything finish: previews skipped, calls hung up, wrap-ups done,
/// agents OFFLINE, the campaign paused, the clock well past the last ring.
async fn drain(f: &mut Floor) {
    f.srv
        .ok(
            Some(&f.sup),
            "mutation($c:ID!){pauseCampaign(input:{campaignId:$c}){campaign{state}}}",
            json!({"c": f.campaign}),
        )
        .await;
    for _ in 0..3 {
        for a in 0..f.agents.len() {
            f.srv.app.engine.connection(&f.agents[a].id, true);
            let p = me(f, a).await;
            if let Some(id) = p["offeredCall"]["id"].as_str() {
                let q = "mutation($c:ID!){skipPreview(input:{callId:$c}){call{id}}}";
                attempt(f, a, q, json!({"c": id})).await;
            }
            if let Some(id) = p["activeCall"]["id"].as_str() {
                let q = "mutation($c:ID!){hangUp(input:{callId:$c})}";
                attempt(f, a, q, json!({"c": id})).await;
            }
            let p = me(f, a).await;
            if let Some(id) = p["wrapUpCall"]["id"].as_str() {
                attempt(f, a, WRAP_UP, json!({"c": id, "n": "OFFLINE"})).await;
            }
            attempt(
                f,
                a,
                "mutation($cc:ID!){setAgentStatus(input:{contactCenterId:$cc,status:OFFLINE}){presence{status}}}",
                json!({"cc": f.cc}),
            )
            .await;
        }
        f.advance(90).await;
    }
}

async fn run(backend: Backend, s: Scenario) -> Result<(), String> {
    let leads = s
        .leads
        .iter()
        .enumerate()
        .map(|(i, &(o, ring, talk))| lead(&phone(i), OUTCOMES[o], ring, talk))
        .collect();
    let mut f = Floor::new(
        backend,
        json!({
            "dialMode": MODES[s.mode],
            "maxAttempts": MAX_ATTEMPTS,
            "retryDelays": {"noAnswerMinutes": 1, "busyMinutes": 1, "machineMinutes": 1, "failedMinutes": 1},
            "wrapUpLimitSeconds": 20,
        }),
        leads,
        s.agents,
    )
    .await;
    let mut w = Watch::default();
    f.start_campaign().await;
    for a in 0..s.agents {
        f.set_status(a, "AVAILABLE").await;
    }
    for (act, secs) in &s.acts {
        perform(&mut f, &mut w, act, s.leads.len()).await;
        f.advance(*secs).await;
        w.feed(&f.seen);
    }
    drain(&mut f).await;
    w.feed(&f.seen);

    let mut broken = std::mem::take(&mut w.broken);
    for (lead, n) in &w.dials {
        if *n > MAX_ATTEMPTS {
            broken.push(format!("lead {lead} dialed {n} times"));
        }
    }
    for (call, n) in &w.ended {
        let c = f.call(call).await;
        if *n != 1 || c["state"] != "ENDED" || c["outcome"].is_null() {
            broken.push(format!("call ended {n} times: {c}"));
        }
    }
    let open = pinline::store::calls::open(&f.srv.app.db)
        .await
        .expect("calls");
    if !open.is_empty() {
        broken.push(format!("{} calls still open in the store", open.len()));
    }
    for i in 0..s.leads.len() {
        let l = f.lead_by_phone(&phone(i)).await;
        if l["status"] == "DIALING" {
            broken.push(format!("lead left claimed: {l}"));
        }
    }
    f.finish().await;
    if broken.is_empty() {
        Ok(())
    } else {
        Err(broken.join("\n"))
    }
}

fn cases(default: u32) -> u32 {
    std::env::var("PINLINE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn check(backend: Backend, default_cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let config = ProptestConfig {
        cases: cases(default_cases),
        // Shrinking rebuilds a server per step: a few are enough.
        max_shrink_iters: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(s in scenario())| {
        let result = rt.block_on(run(backend, s));
        prop_assert!(result.is_ok(), "{}", result.err().unwrap_or_default());
    });
}

#[test]
fn the_engine_keeps_its_promises_sqlite() {
    check(Backend::Sqlite, 24);
}

#[test]
fn the_engine_keeps_its_promises_postgres() {
    check(Backend::Postgres, 8);
}
