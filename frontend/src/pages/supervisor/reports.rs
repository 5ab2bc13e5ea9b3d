//! Reports of a campaign over any date range: the headline figures, calls
//! and contacts over time, dispositions, abandonment against the limit,
//! agents' occupancy split and the agent performance table — each with a
//! CSV export. They follow the campaign's `wrapUpEvents`, so the figures
//! move as agents finish calls.

use std::time::Duration;

use js_sys::Date;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use serde::Deserialize;
use serde_json::{Value, json};
use wasm_bindgen::JsValue;

use super::charts::{bars, hbars, line_with_limit, stacked};
use super::{csv, error_line, percent, words};
use crate::api::graphql;
use crate::live::{Handlers, Live};
use crate::pages::shell::Center;
use crate::time;

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: f64 = 24.0 * HOUR_MS;

const CAMPAIGNS: &str = "query($cc: ID!) { campaigns(contactCenterId: $cc, first: 100) { nodes { id name state maxAbandonRate } } }";
const REPORT: &str = "query($c: ID!, $cc: ID!, $from: DateTime, $to: DateTime) { \
     campaignReport(campaignId: $c, from: $from, to: $to) { attempts liveAnswers machineAnswers connects \
     abandoned wrapUps contacts conversions abandonRate abandonRate30d avgTalkSeconds avgWrapSeconds \
     callsPerHour contactsPerHour dispositions { key count } hours { hour attempts liveAnswers connects abandoned contacts } } \
     agentPerformance(contactCenterId: $cc, from: $from, to: $to) { total { ...F } agents { agent { id name } total { ...F } } } } \
     fragment F on PerformanceFigures { callsHandled talkSeconds holdSeconds wrapUpSeconds idleSeconds occupancy avgHandleSeconds dispositions { key count } }";

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct CampaignOption {
    id: String,
    name: String,
    state: String,
    max_abandon_rate: f64,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct KeyCount {
    key: String,
    count: i64,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Hour {
    hour: String,
    attempts: i64,
    live_answers: i64,
    connects: i64,
    abandoned: i64,
    contacts: i64,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Report {
    attempts: i64,
    live_answers: i64,
    machine_answers: i64,
    connects: i64,
    abandoned: i64,
    wrap_ups: i64,
    contacts: i64,
    conversions: i64,
    abandon_rate: f64,
    abandon_rate30d: f64,
    avg_talk_seconds: f64,
    avg_wrap_seconds: f64,
    calls_per_hour: f64,
    contacts_per_hour: f64,
    dispositions: Vec<KeyCount>,
    hours: Vec<Hour>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Figures {
    calls_handled: i64,
    talk_seconds: f64,
    hold_seconds: f64,
    wrap_up_seconds: f64,
    idle_seconds: f64,
    occupancy: f64,
    avg_handle_seconds: f64,
    dispositions: Vec<KeyCount>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Agent {
    id: String,
    name: String,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct AgentRow {
    agent: Agent,
    total: Figures,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Performance {
    total: Figures,
    agents: Vec<AgentRow>,
}

/// "2026-12-02" for the local day of `ms`.
fn local_date(ms: f64) -> String {
    let d = Date::new(&JsValue::from_f64(ms));
    format!(
        "{:04}-{:02}-{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date()
    )
}

/// Local midnight starting `date` ("YYYY-MM-DD").
fn midnight(date: &str) -> Option<f64> {
    let ms = Date::new(&JsValue::from_str(&format!("{date}T00:00"))).get_time();
    (!ms.is_nan()).then_some(ms)
}

/// The chart's buckets over `[from, to)`: hours for up to two days, else
/// local days. Each: its label and the key `key_of` gives an hour.
struct Buckets {
    hourly: bool,
    keys: Vec<String>,
    labels: Vec<String>,
}

impl Buckets {
    fn new(from: f64, to: f64) -> Buckets {
        let hourly = to - from <= 2.0 * DAY_MS;
        let (mut keys, mut labels) = (Vec::new(), Vec::new());
        if hourly {
            let mut t = (from / HOUR_MS).floor() * HOUR_MS;
            while t < to {
                keys.push(format!("{t}"));
                let d = Date::new(&JsValue::from_f64(t));
                labels.push(format!("{:02}:00", d.get_hours()));
                t += HOUR_MS;
            }
        } else {
            // Each day by its noon (safe across DST changes); a day is in
            // when it starts before `to`, even if `to` is earlier than its noon.
            let mut t = from + 12.0 * HOUR_MS;
            while t - 12.0 * HOUR_MS < to {
                keys.push(local_date(t));
                let d = Date::new(&JsValue::from_f64(t));
                const MONTHS: [&str; 12] = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ];
                labels.push(format!(
                    "{} {}",
                    MONTHS[d.get_month() as usize % 12],
                    d.get_date()
                ));
                t += DAY_MS;
            }
        }
        Buckets {
            hourly,
            keys,
            labels,
        }
    }

    fn key_of(&self, hour_ms: f64) -> String {
        if self.hourly {
            format!("{}", (hour_ms / HOUR_MS).floor() * HOUR_MS)
        } else {
            local_date(hour_ms)
        }
    }

    /// Per bucket: attempts, live answers, connects, abandoned, contacts.
    fn sum(&self, hours: &[Hour]) -> Vec<[i64; 5]> {
        let mut out = vec![[0i64; 5]; self.keys.len()];
        for h in hours {
            let Some(ms) = time::parse_ms(&h.hour) else {
                continue;
            };
            let key = self.key_of(ms);
            if let Some(i) = self.keys.iter().position(|k| *k == key) {
                let row = &mut out[i];
                row[0] += h.attempts;
                row[1] += h.live_answers;
                row[2] += h.connects;
                row[3] += h.abandoned;
                row[4] += h.contacts;
            }
        }
        out
    }
}

fn minutes(seconds: f64) -> String {
    time::clock(seconds.round() as i64)
}

fn dispositions_words(d: &[KeyCount]) -> String {
    d.iter()
        .map(|k| format!("{} {}", words(&k.key), k.count))
        .collect::<Vec<_>>()
        .join(", ")
}

fn download(id: &'static str, name: &'static str, data: String) -> impl IntoView {
    view! { <a class="button secondary small" id=id download=name href=csv::href(&data)>"CSV"</a> }
}

#[component]
pub fn Reports(center: Center, token: String) -> impl IntoView {
    let query = use_query_map();
    let wanted = query.with_untracked(|q| q.get("campaign"));
    let campaigns = RwSignal::new(Vec::<CampaignOption>::new());
    let chosen = RwSignal::new(wanted.unwrap_or_default());
    let today = local_date(time::now_ms());
    let from = RwSignal::new(local_date(time::now_ms() - 6.0 * DAY_MS));
    let to = RwSignal::new(today);
    let report = RwSignal::new(None::<(Report, Performance, f64, f64)>);
    let error = RwSignal::new(None::<String>);
    let tick = RwSignal::new(0u32);
    let version = StoredValue::new(0u32);
    let live = StoredValue::new_local(None::<Live>);
    let token = StoredValue::new(token);
    let cc = StoredValue::new(center.id.clone());

    spawn_local(async move {
        match graphql::<Value>(
            CAMPAIGNS,
            json!({"cc": cc.get_value()}),
            Some(&token.get_value()),
        )
        .await
        {
            Ok(d) => {
                let list: Vec<CampaignOption> =
                    serde_json::from_value(d["campaigns"]["nodes"].clone()).unwrap_or_default();
                if !list.iter().any(|c| c.id == chosen.get_untracked()) {
                    let pick = list.iter().find(|c| c.state == "RUNNING").or(list.first());
                    chosen.set(pick.map(|c| c.id.clone()).unwrap_or_default());
                }
                campaigns.set(list);
            }
            Err(e) => error.set(Some(e.for_people())),
        }
    });

    // Read the report whenever the campaign, the range or a wrap-up changes it.
    Effect::new(move |_| {
        tick.track();
        let (c, f, t) = (chosen.get(), from.get(), to.get());
        if c.is_empty() {
            return;
        }
        let (Some(from_ms), Some(to_ms)) = (midnight(&f), midnight(&t).map(|m| m + DAY_MS)) else {
            error.set(Some("Choose a valid date range.".into()));
            return;
        };
        if to_ms <= from_ms {
            error.set(Some("The range must end on or after its first day.".into()));
            return;
        }
        let v = version.get_value() + 1;
        version.set_value(v);
        let vars = json!({"c": c, "cc": cc.get_value(), "from": time::iso(from_ms), "to": time::iso(to_ms.min(time::now_ms() + HOUR_MS))});
        spawn_local(async move {
            let r = graphql::<Value>(REPORT, vars, Some(&token.get_value())).await;
            if version.get_value() != v {
                return;
            }
            match r.and_then(|d| {
                let rep = serde_json::from_value::<Report>(d["campaignReport"].clone());
                let perf = serde_json::from_value::<Performance>(d["agentPerformance"].clone());
                match (rep, perf) {
                    (Ok(a), Ok(b)) => Ok((a, b)),
                    (Err(e), _) | (_, Err(e)) => Err(crate::api::ApiError {
                        code: "INTERNAL".into(),
                        message: format!("unexpected answer from the server: {e}"),
                    }),
                }
            }) {
                Ok((rep, perf)) => {
                    error.set(None);
                    report.set(Some((
                        rep,
                        perf,
                        from_ms,
                        to_ms.min(time::now_ms() + HOUR_MS).max(from_ms + HOUR_MS),
                    )));
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    });

    // Follow the campaign's wrap-ups: each one moves the figures.
    Effect::new(move |_| {
        let c = chosen.get();
        let _ = live.try_update_value(|l| l.take().map(|l| l.stop()));
        if c.is_empty() {
            return;
        }
        let started = Live::start_many(
            token.get_value(),
            vec![(
                "subscription($c: ID!) { wrapUpEvents(campaignId: $c) { wrapUp { id } } }".into(),
                json!({"c": c}),
            )],
            Handlers {
                on_data: Box::new(move |_, _| {
                    let v = version.get_value();
                    set_timeout(
                        move || {
                            if version.get_value() == v {
                                tick.update(|t| *t += 1)
                            }
                        },
                        Duration::from_millis(300),
                    );
                }),
                on_subscribed: Box::new(|| {}),
                on_error: Box::new(move |text| error.set(Some(crate::api::capitalize(&text)))),
            },
        );
        live.set_value(Some(started));
    });
    on_cleanup(move || {
        let _ = live.try_update_value(|l| l.take().map(|l| l.stop()));
    });

    let limit = move || {
        campaigns.with(|l| {
            l.iter()
                .find(|x| x.id == chosen.get())
                .map_or(0.03, |x| x.max_abandon_rate)
        })
    };

    view! {
        <section class="floor reports">
            <div class="page-head">
                <h1>"Reports"</h1>
                <div class="filters">
                    <label for="report-campaign">"Campaign"</label>
                    <select id="report-campaign" on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {move || campaigns.get().into_iter().map(|c| {
                            let id = c.id.clone();
                            view! { <option value=c.id.clone() selected=move || chosen.get() == id>{c.name}</option> }
                        }).collect_view()}
                    </select>
                    <label for="report-from">"From"</label>
                    <input id="report-from" type="date" prop:value=move || from.get() on:change=move |ev| from.set(event_target_value(&ev))/>
                    <label for="report-to">"To"</label>
                    <input id="report-to" type="date" prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev))/>
                </div>
            </div>
            {error_line(error)}
            {move || campaigns.with(Vec::is_empty).then(|| view! { <p class="card muted">"No campaigns yet."</p> })}
            {move || report.get().map(|(r, perf, from_ms, to_ms)| {
                let limit = limit();
                let b = Buckets::new(from_ms, to_ms);
                let sums = b.sum(&r.hours);
                let per = if b.hourly { "hour" } else { "day" };
                // Cumulative abandonment at the end of each bucket.
                let (mut live_n, mut ab_n) = (0i64, 0i64);
                let cumulative: Vec<f64> = sums.iter().map(|s| {
                    live_n += s[1];
                    ab_n += s[3];
                    if live_n > 0 { ab_n as f64 / live_n as f64 } else { 0.0 }
                }).collect();
                let calls_csv = csv::write(&["bucket", "attempts", "live_answers", "connects", "abandoned", "contacts"],
                    b.keys.iter().zip(&sums).map(|(k, s)| vec![bucket_name(k, b.hourly), s[0].to_string(), s[1].to_string(), s[2].to_string(), s[3].to_string(), s[4].to_string()]));
                let ab_csv = csv::write(&["bucket", "live_answers", "abandoned", "cumulative_rate", "limit"],
                    b.keys.iter().zip(&sums).zip(&cumulative).map(|((k, s), c)| vec![bucket_name(k, b.hourly), s[1].to_string(), s[3].to_string(), format!("{c:.4}"), format!("{limit:.4}")]));
                let dispo_csv = csv::write(&["disposition", "count"], r.dispositions.iter().map(|k| vec![k.key.clone(), k.count.to_string()]));
                let agents_csv = csv::write(&["agent", "calls", "talk_seconds", "hold_seconds", "wrap_up_seconds", "idle_seconds", "occupancy", "avg_handle_seconds", "dispositions"],
                    perf.agents.iter().map(|a| vec![a.agent.name.clone(), a.total.calls_handled.to_string(), format!("{:.0}", a.total.talk_seconds), format!("{:.0}", a.total.hold_seconds),
                        format!("{:.0}", a.total.wrap_up_seconds), format!("{:.0}", a.total.idle_seconds), format!("{:.4}", a.total.occupancy), format!("{:.0}", a.total.avg_handle_seconds),
                        a.total.dispositions.iter().map(|k| format!("{}={}", k.key, k.count)).collect::<Vec<_>>().join(" ")]));
                let occupancy_rows: Vec<(String, Vec<f64>)> = perf.agents.iter()
                    .map(|a| (a.agent.name.clone(), vec![a.total.talk_seconds, a.total.hold_seconds, a.total.wrap_up_seconds, a.total.idle_seconds]))
                    .collect();
                let figure = |id: &'static str, label: &'static str, value: String| view! {
                    <div class="figure" id=id><span class="value">{value}</span><span class="label">{label}</span></div>
                };
                let over = r.abandon_rate30d >= limit;
                view! {
                    <div class="card figures report-figures">
                        {figure("fig-attempts", "attempts", r.attempts.to_string())}
                        {figure("fig-live", "live answers", r.live_answers.to_string())}
                        {figure("fig-machines", "machines", r.machine_answers.to_string())}
                        {figure("fig-connects", "connects", r.connects.to_string())}
                        {figure("fig-wrapups", "wrap-ups", r.wrap_ups.to_string())}
                        {figure("fig-contacts", "contacts", r.contacts.to_string())}
                        {figure("fig-conversions", "conversions", r.conversions.to_string())}
                        {figure("fig-abandon", "abandoned (range)", format!("{} · {}", r.abandoned, percent(r.abandon_rate)))}
                        <div class="figure" id="fig-abandon30" data-over=over.then_some("true")><span class="value">{percent(r.abandon_rate30d)}</span><span class="label">{format!("abandoned, 30 days (limit {})", percent(limit))}</span></div>
                        {figure("fig-talk", "average talk", minutes(r.avg_talk_seconds))}
                        {figure("fig-wrap", "average wrap-up", minutes(r.avg_wrap_seconds))}
                        {figure("fig-rate", "calls · contacts per hour", format!("{:.1} · {:.1}", r.calls_per_hour, r.contacts_per_hour))}
                    </div>
                    <div class="report-grid">
                        <div class="card">
                            <div class="chart-head"><h2>{format!("Calls and contacts per {per}")}</h2>{download("calls-csv", "calls-and-contacts.csv", calls_csv)}</div>
                            {bars("calls-chart", format!("{} calls placed and {} contacts over the range", r.attempts, r.contacts), b.labels.clone(),
                                vec![("Calls placed", sums.iter().map(|s| s[0] as f64).collect()), ("Contacts", sums.iter().map(|s| s[4] as f64).collect())])}
                        </div>
                        <div class="card">
                            <div class="chart-head"><h2>"Abandonment against the limit"</h2>{download("abandon-csv", "abandonment.csv", ab_csv)}</div>
                            {line_with_limit("abandon-chart", format!("{} of {} live answers abandoned, limit {}", r.abandoned, r.live_answers, percent(limit)), b.labels.clone(), cumulative, limit)}
                        </div>
                        <div class="card">
                            <div class="chart-head"><h2>"Dispositions"</h2>{download("dispositions-csv", "dispositions.csv", dispo_csv)}</div>
                            {if r.dispositions.is_empty() {
                                view! { <p class="muted">"No wrap-ups in this range."</p> }.into_any()
                            } else {
                                hbars("dispositions-chart", dispositions_words(&r.dispositions), r.dispositions.iter().map(|k| (words(&k.key), k.count as f64)).collect())
                            }}
                        </div>
                        <div class="card">
                            <div class="chart-head"><h2>"Agent occupancy"</h2></div>
                            {if occupancy_rows.is_empty() {
                                view! { <p class="muted">"No agent time in this range."</p> }.into_any()
                            } else {
                                stacked("occupancy-chart", format!("Team occupancy {}", percent(perf.total.occupancy)), &["Talk", "Hold", "Wrap-up", "Idle"], occupancy_rows)
                            }}
                        </div>
                    </div>
                    <div class="card">
                        <div class="chart-head"><h2>"Agent performance"</h2>{download("agents-csv", "agent-performance.csv", agents_csv)}</div>
                        <div class="table-wrap">
                            <table id="agent-performance">
                                <thead><tr><th>"Agent"</th><th class="num">"Calls"</th><th class="num">"Talk"</th><th class="num">"Hold"</th><th class="num">"Wrap-up"</th>
                                    <th class="num">"Idle"</th><th class="num">"Occupancy"</th><th class="num">"Avg handle"</th><th>"Dispositions"</th></tr></thead>
                                <tbody>
                                    {perf.agents.into_iter().map(|a| view! {
                                        <tr data-agent-id=a.agent.id>
                                            <td>{a.agent.name}</td><td class="num">{a.total.calls_handled}</td>
                                            <td class="num">{minutes(a.total.talk_seconds)}</td><td class="num">{minutes(a.total.hold_seconds)}</td>
                                            <td class="num">{minutes(a.total.wrap_up_seconds)}</td><td class="num">{minutes(a.total.idle_seconds)}</td>
                                            <td class="num">{percent(a.total.occupancy)}</td><td class="num">{minutes(a.total.avg_handle_seconds)}</td>
                                            <td>{dispositions_words(&a.total.dispositions)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    </div>
                }
            })}
        </section>
    }
}

/// A bucket's name in the CSV: the hour as RFC 3339, or the local date.
fn bucket_name(key: &str, hourly: bool) -> String {
    if hourly {
        key.parse::<f64>().map(time::iso).unwrap_or_default()
    } else {
        key.to_owned()
    }
}
