//! The supervisors' live floor of a contact center (PRODUCT.md §3): the
//! agents board, the calls in progress and, per running campaign, its
//! dial level, calls in flight, agents available, abandonment against the
//! limit, contacts per hour and the pacer's last decision. Everything
//! moves with subscriptions (`agentPresence`, `callEvents`,
//! `campaignStats`) over one websocket; what they do not replay (the calls
//! already in progress, the running campaigns) is read once per
//! (re)connection.

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::graphql;
use crate::live::{Handlers, Link, Live};
use crate::model::{full_name, leg_state_words, state_words};
use crate::pages::shell::Center;
use crate::pages::supervisor::percent;
use crate::pages::workspace::status_words;
use crate::time;

const PRESENCE: &str = "agent { id name } status reason since pinnedLeg { state } \
     activeCall { id state connectedAt createdAt campaign { id name } }";
const CALL: &str = "id state dialer origin phone createdAt connectedAt \
     lead { firstName lastName } agent { id name } campaign { id name }";
const STATS: &str = "campaignId attempts connects contacts callsLastHour contactsLastHour \
     abandonRate30d abandonRateToday dialLevel agentsAvailable callsInFlight \
     pacerDecision { reason }";

#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct Named {
    pub id: String,
    pub name: String,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct AgentCall {
    id: String,
    state: String,
    connected_at: Option<String>,
    created_at: String,
    campaign: Option<Named>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct AgentRow {
    agent: Named,
    status: String,
    reason: Option<String>,
    since: String,
    pinned_leg: Option<Leg>,
    active_call: Option<AgentCall>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Leg {
    state: String,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct LeadName {
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct CallRow {
    id: String,
    state: String,
    dialer: bool,
    phone: String,
    created_at: String,
    connected_at: Option<String>,
    lead: Option<LeadName>,
    agent: Option<Named>,
    campaign: Option<Named>,
}

impl CallRow {
    fn who(&self) -> String {
        let name = self
            .lead
            .as_ref()
            .map(|l| full_name(l.first_name.as_deref(), l.last_name.as_deref()))
            .unwrap_or_default();
        if name.is_empty() {
            self.phone.clone()
        } else {
            name
        }
    }
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Decision {
    reason: String,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Stats {
    campaign_id: String,
    attempts: i64,
    connects: i64,
    contacts: i64,
    calls_last_hour: i64,
    contacts_last_hour: i64,
    abandon_rate30d: f64,
    abandon_rate_today: f64,
    dial_level: f64,
    agents_available: i64,
    calls_in_flight: i64,
    pacer_decision: Option<Decision>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Running {
    id: String,
    name: String,
    dial_mode: String,
    max_abandon_rate: f64,
}

#[derive(Clone, Copy)]
struct FloorState {
    agents: RwSignal<Vec<AgentRow>>,
    calls: RwSignal<Vec<CallRow>>,
    running: RwSignal<Vec<Running>>,
    stats: RwSignal<Vec<Stats>>,
    now: RwSignal<f64>,
    error: RwSignal<Option<String>>,
    /// The server running the center (several on one PostgreSQL).
    run_by: RwSignal<Option<String>>,
}

const RUNNING: &str = "query($cc: ID!) { campaigns(contactCenterId: $cc, states: [RUNNING], first: 50) \
     { edges { node { id name dialMode maxAbandonRate } } } \
     contactCenter(id: $cc) { runBy { name } } }";

fn upsert<T: Clone>(list: &mut Vec<T>, item: T, same: impl Fn(&T) -> bool) {
    match list.iter_mut().find(|x| same(x)) {
        Some(slot) => *slot = item,
        None => list.push(item),
    }
}

impl FloorState {
    fn on_presence(&self, data: &Value) {
        if let Ok(row) = serde_json::from_value::<AgentRow>(data["agentPresence"].clone()) {
            self.agents.update(|list| {
                let id = row.agent.id.clone();
                upsert(list, row, |r| r.agent.id == id);
                list.sort_by(|a, b| a.agent.name.cmp(&b.agent.name));
            });
        }
    }

    /// Returns the call's campaign when the floor does not follow it yet.
    fn on_call(&self, data: &Value) -> Option<String> {
        let row = serde_json::from_value::<CallRow>(data["callEvents"]["call"].clone()).ok()?;
        let campaign = row.campaign.as_ref().map(|c| c.id.clone());
        self.calls.update(|list| {
            if row.state == "ENDED" {
                list.retain(|c| c.id != row.id);
            } else {
                let id = row.id.clone();
                upsert(list, row, |c| c.id == id);
            }
        });
        campaign.filter(|id| {
            !self
                .running
                .with_untracked(|r| r.iter().any(|c| &c.id == id))
        })
    }

    fn on_stats(&self, data: &Value) {
        if let Ok(s) = serde_json::from_value::<Stats>(data["campaignStats"].clone()) {
            self.stats.update(|list| {
                let id = s.campaign_id.clone();
                upsert(list, s, |x| x.campaign_id == id);
            });
        }
    }
}

fn gauge_level(rate: f64, limit: f64) -> &'static str {
    if limit <= 0.0 || rate >= limit {
        "over"
    } else if rate >= 0.8 * limit {
        "near"
    } else {
        "ok"
    }
}

#[component]
pub fn LiveFloor(center: Center, token: String) -> impl IntoView {
    let st = FloorState {
        agents: RwSignal::new(Vec::new()),
        calls: RwSignal::new(Vec::new()),
        running: RwSignal::new(Vec::new()),
        stats: RwSignal::new(Vec::new()),
        now: RwSignal::new(time::now_ms()),
        error: RwSignal::new(None),
        run_by: RwSignal::new(None),
    };
    let link = RwSignal::new(Link::Connecting);
    let live = StoredValue::new_local(None::<Live>);
    let cc = center.id.clone();
    let token = StoredValue::new(token);
    let cc = StoredValue::new(cc);

    // (Re)start the live connection for the campaigns running now; its
    // own handlers call it again (through `restarter`) when a campaign
    // the floor does not follow yet shows up in a call.
    let restarter = StoredValue::new_local(None::<Rc<dyn Fn()>>);
    // A restart is on its way: the burst of call events from a campaign
    // that just started asks for one, not one each.
    let restarting = StoredValue::new(false);
    let again = move || {
        if let Some(f) = restarter.try_get_value().flatten() {
            f();
        }
    };
    let restart = move || {
        let token_now = token.get_value();
        let id = cc.get_value();
        spawn_local(async move {
            let running = match graphql::<Value>(RUNNING, json!({"cc": id}), Some(&token_now)).await
            {
                Ok(d) => {
                    st.run_by.set(
                        d["contactCenter"]["runBy"]["name"]
                            .as_str()
                            .map(str::to_owned),
                    );
                    d["campaigns"]["edges"]
                        .as_array()
                        .map(|edges| {
                            edges
                                .iter()
                                .filter_map(|e| {
                                    serde_json::from_value::<Running>(e["node"].clone()).ok()
                                })
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default()
                }
                Err(e) => {
                    st.error.set(Some(e.for_people()));
                    Vec::new()
                }
            };
            let mut subs = vec![
                (
                    format!(
                        "subscription($cc: ID!) {{ agentPresence(contactCenterId: $cc) {{ {PRESENCE} }} }}"
                    ),
                    json!({"cc": id}),
                ),
                (
                    format!(
                        "subscription($cc: ID!) {{ callEvents(contactCenterId: $cc) {{ step call {{ {CALL} }} }} }}"
                    ),
                    json!({"cc": id}),
                ),
            ];
            for c in &running {
                subs.push((
                    format!(
                        "subscription($c: ID!) {{ campaignStats(campaignId: $c) {{ {STATS} }} }}"
                    ),
                    json!({"c": c.id}),
                ));
            }
            st.stats
                .update(|s| s.retain(|x| running.iter().any(|c| c.id == x.campaign_id)));
            st.running.set(running);
            restarting.set_value(false);
            let _ = live.try_update_value(|l| {
                if let Some(old) = l.take() {
                    old.stop();
                }
            });
            let (tok, cc_id) = (token.get_value(), id.clone());
            let started = Live::start_on(
                link,
                token.get_value(),
                subs,
                Handlers {
                    on_data: Box::new(move |i, data| match i {
                        0 => st.on_presence(&data),
                        1 => {
                            if st.on_call(&data).is_some() && !restarting.get_value() {
                                restarting.set_value(true);
                                // A campaign started: follow it too (after
                                // this handler, not inside it).
                                set_timeout(again, Duration::from_millis(0));
                            }
                        }
                        _ => st.on_stats(&data),
                    }),
                    on_subscribed: Box::new(move || {
                        // The stream does not replay calls already in progress.
                        let (tok, cc_id) = (tok.clone(), cc_id.clone());
                        spawn_local(async move {
                            let q = format!(
                                "query($cc: ID!) {{ liveCalls(contactCenterId: $cc) {{ {CALL} }} }}"
                            );
                            if let Ok(d) =
                                graphql::<Value>(&q, json!({"cc": cc_id}), Some(&tok)).await
                                && let Ok(list) =
                                    serde_json::from_value::<Vec<CallRow>>(d["liveCalls"].clone())
                            {
                                st.calls.set(list);
                            }
                        });
                    }),
                    on_error: Box::new(move |text| {
                        st.error.set(Some(crate::api::capitalize(&text)))
                    }),
                },
            );
            live.set_value(Some(started));
        });
    };
    restarter.set_value(Some(Rc::new(restart)));
    restart();
    on_cleanup(move || {
        let _ = live.try_update_value(|l| {
            if let Some(old) = l.take() {
                old.stop();
            }
        });
    });
    if let Ok(h) =
        set_interval_with_handle(move || st.now.set(time::now_ms()), Duration::from_secs(1))
    {
        on_cleanup(move || h.clear());
    }

    view! {
        <div class="floor" data-link=move || format!("{:?}", link.get()).to_lowercase()>
            <header class="page-head">
                <h1>"Live floor · " {center.name.clone()}</h1>
                {move || st.run_by.get().map(|name| view! {
                    <p class="muted small" id="run-by" title="The Pinline server running this contact center's calls and agents">
                        "Run by server " <strong>{name}</strong>
                    </p>
                })}
                {move || (link.get() == Link::Reconnecting).then(|| view! {
                    <p class="banner link-state warn" role="status" id="reconnecting">"Reconnecting… the figures will catch up by themselves."</p>
                })}
            </header>
            {move || st.error.get().map(|e| view! {
                <p class="error" role="alert">{e}
                    <button class="link" aria-label="Dismiss the message" on:click=move |_| st.error.set(None)>"×"</button>
                </p>
            })}
            <CampaignCards st=st/>
            <div class="floor-grid">
                <AgentsBoard st=st/>
                <CallsTable st=st/>
            </div>
        </div>
    }
}

#[component]
fn CampaignCards(st: FloorState) -> impl IntoView {
    view! {
        <section class="campaign-cards" aria-label="Running campaigns">
            {move || {
                let running = st.running.get();
                if running.is_empty() {
                    return view! { <p class="card muted" id="no-running">"No campaign is running in this contact center."</p> }.into_any();
                }
                running.into_iter().map(|c| {
                    let id = c.id.clone();
                    let stats = move || st.stats.with(|s| s.iter().find(|x| x.campaign_id == id).cloned());
                    let limit = c.max_abandon_rate;
                    view! {
                        <article class="card campaign-stats" data-campaign-id=c.id.clone()>
                            <h2>{c.name.clone()} " " <span class="muted small">{c.dial_mode.to_lowercase()}</span></h2>
                            {move || stats().map(|s| view! {
                                <dl class="figures">
                                    <div><dt>"Dial level"</dt><dd class="dial-level">{format!("{:.2}", s.dial_level)}</dd></div>
                                    <div><dt>"Calls in flight"</dt><dd class="in-flight">{s.calls_in_flight}</dd></div>
                                    <div><dt>"Agents available"</dt><dd class="available">{s.agents_available}</dd></div>
                                    <div><dt>"Contacts / hour"</dt><dd class="contacts-hour">{s.contacts_last_hour}</dd></div>
                                    <div><dt>"Calls / hour"</dt><dd>{s.calls_last_hour}</dd></div>
                                    <div><dt>"Attempts · connects · contacts"</dt><dd class="totals">{format!("{} · {} · {}", s.attempts, s.connects, s.contacts)}</dd></div>
                                </dl>
                                <Gauge label="Abandoned today" rate=s.abandon_rate_today limit=limit/>
                                <Gauge label="Abandoned, 30 days" rate=s.abandon_rate30d limit=limit/>
                                <p class="pacer" title="The pacer's latest decision">
                                    <strong>"Pacer: "</strong>
                                    {s.pacer_decision.map(|d| d.reason).unwrap_or_else(|| "no decision yet".into())}
                                </p>
                            }.into_any()).unwrap_or_else(|| view! { <p class="muted">"Loading figures…"</p> }.into_any())}
                        </article>
                    }
                }).collect_view().into_any()
            }}
        </section>
    }
}

/// A horizontal gauge of an abandonment rate against the campaign's limit:
/// green, amber from 80 % of the limit, red at it.
#[component]
fn Gauge(label: &'static str, rate: f64, limit: f64) -> impl IntoView {
    let level = gauge_level(rate, limit);
    // The scale runs to 1.5 × the limit, so the limit line sits at 2/3.
    let scale = (limit * 1.5).max(0.0001);
    let width = ((rate / scale).clamp(0.0, 1.0) * 300.0).round();
    let mark = ((limit / scale) * 300.0).round();
    view! {
        <div class="gauge" data-level=level>
            <span class="gauge-label">{label} ": " <strong>{percent(rate)}</strong> " of " {percent(limit)}</span>
            <svg viewBox="0 0 300 14" preserveAspectRatio="none" role="img"
                aria-label=format!("{label}: {} against a limit of {}", percent(rate), percent(limit))>
                <rect x="0" y="2" width="300" height="10" rx="5" class="track"/>
                <rect x="0" y="2" width=width.to_string() height="10" rx="5" class=format!("bar {level}")/>
                <line x1=mark.to_string() x2=mark.to_string() y1="0" y2="14" class="limit"/>
            </svg>
        </div>
    }
}

#[component]
fn AgentsBoard(st: FloorState) -> impl IntoView {
    view! {
        <section class="card agents-board" id="agents-board" aria-labelledby="agents-title">
            <h2 id="agents-title">"Agents"</h2>
            {move || st.agents.with(Vec::is_empty).then(|| view! { <p class="muted">"No agent has signed in here yet."</p> })}
            <ul class="tiles">
                <For each=move || st.agents.get() key=|a| format!("{a:?}") children=move |a| {
                            let since = a.since.clone();
                            let in_status = move || time::clock(time::seconds_since(&since, st.now.get()));
                            let call = a.active_call.clone();
                            let call_time = call.clone().map(|c| {
                                let from = c.connected_at.unwrap_or(c.created_at);
                                move || time::clock(time::seconds_since(&from, st.now.get()))
                            });
                            let leg = a.pinned_leg.as_ref().map(|l| l.state.clone()).unwrap_or_else(|| "NONE".into());
                            view! {
                                <li class="agent-tile" data-agent-id=a.agent.id.clone() data-status=a.status.clone()>
                                    <p class="name"><span class=format!("dot {}", a.status.to_lowercase())></span> " " {a.agent.name.clone()}</p>
                                    <p class="status">
                                        <strong>{status_words(&a.status)}</strong>
                                        {a.reason.clone().filter(|_| a.status == "BREAK").map(|r| format!(" · {r}"))}
                                        <span class="muted">" · " {in_status}</span>
                                    </p>
                                    <p class="muted leg" data-state=leg.clone()>"Audio: " {leg_state_words(&leg)}</p>
                                    {call.map(|c| view! {
                                        <p class="on-call" data-call-id=c.id.clone()>
                                            {c.campaign.map(|k| k.name).unwrap_or_else(|| "Manual call".into())}
                                            " · " {call_time}
                                        </p>
                                    })}
                                </li>
                            }
                }/>
            </ul>
        </section>
    }
}

#[component]
fn CallsTable(st: FloorState) -> impl IntoView {
    view! {
        <section class="card live-calls" aria-labelledby="calls-title">
            <h2 id="calls-title">"Calls in progress " <span class="muted">{move || st.calls.with(|c| format!("({})", c.len()))}</span></h2>
            <div class="table-wrap">
                <table id="live-calls">
                    <thead><tr><th scope="col">"Lead"</th><th scope="col">"State"</th><th scope="col">"Agent"</th><th scope="col">"Campaign"</th><th scope="col">"Time"</th></tr></thead>
                    <tbody>
                        // Keyed by the whole row: an event rebuilds only the
                        // row it changed (200 rows re-rendered per event
                        // took the floor seconds behind under load).
                        <For each=move || st.calls.get() key=|c| format!("{c:?}") children=move |c| {
                            let from = c.connected_at.clone().unwrap_or_else(|| c.created_at.clone());
                            let dur = move || time::clock(time::seconds_since(&from, st.now.get()));
                            view! {
                                <tr data-call-id=c.id.clone() data-state=c.state.clone()>
                                    <td>{c.who()} {c.dialer.then(|| view! { " " <span class="pill dialer small">"Dialer"</span> })}</td>
                                    <td class="state">{state_words(&c.state)}</td>
                                    <td class="agent">{c.agent.as_ref().map(|a| a.name.clone()).unwrap_or_else(|| "—".into())}</td>
                                    <td>{c.campaign.as_ref().map(|k| k.name.clone()).unwrap_or_else(|| "Manual".into())}</td>
                                    <td class="num">{dur}</td>
                                </tr>
                            }
                        }/>
                    </tbody>
                </table>
                {move || st.calls.with(Vec::is_empty).then(|| view! { <p class="muted">"No call in progress."</p> })}
            </div>
        </section>
    }
}
