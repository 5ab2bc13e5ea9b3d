//! A campaign's leads: 25 a page, filtered by status, searched by number
//! or name; each opens the lead's page.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{error_line, words};
use crate::api::graphql;
use crate::model::full_name;
use crate::time;

const PAGE: usize = 25;
const STATUSES: [&str; 6] = [
    "NEW",
    "RETRY",
    "CALLBACK",
    "DIALING",
    "FINISHED",
    "NEEDS_TIME_ZONE",
];
const LEADS: &str = "query($c: ID!, $first: Int, $after: String, $filter: LeadFilter) { \
     leads(campaignId: $c, first: $first, after: $after, filter: $filter) { \
     pageInfo { hasNextPage endCursor } nodes { id phone firstName lastName status attempts \
     lastOutcome lastAttemptAt notBefore timeZone } } }";

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Row {
    id: String,
    phone: String,
    first_name: Option<String>,
    last_name: Option<String>,
    status: String,
    attempts: i64,
    last_outcome: Option<String>,
    last_attempt_at: Option<String>,
    not_before: Option<String>,
    time_zone: Option<String>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[component]
pub fn Leads(campaign: String, token: String, refresh: RwSignal<u32>) -> impl IntoView {
    let rows = RwSignal::new(Vec::<Row>::new());
    let next = RwSignal::new(None::<String>);
    // The cursors of the pages before this one (None: the first page).
    let back = RwSignal::new(Vec::<Option<String>>::new());
    let at = RwSignal::new(None::<String>);
    let status = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let version = StoredValue::new(0u32);
    let token = StoredValue::new(token);
    let campaign = StoredValue::new(campaign);

    let load = move |after: Option<String>| {
        let v = version.get_value() + 1;
        version.set_value(v);
        let mut filter = serde_json::Map::new();
        let st = status.get_untracked();
        if !st.is_empty() {
            filter.insert("statuses".into(), json!([st]));
        }
        let q = search.get_untracked();
        if !q.trim().is_empty() {
            filter.insert("search".into(), json!(q.trim()));
        }
        let vars =
            json!({"c": campaign.get_value(), "first": PAGE, "after": after, "filter": filter});
        spawn_local(async move {
            let r = graphql::<Value>(LEADS, vars, Some(&token.get_value())).await;
            if version.get_value() != v {
                return;
            }
            match r {
                Ok(d) => {
                    error.set(None);
                    rows.set(
                        serde_json::from_value(d["leads"]["nodes"].clone()).unwrap_or_default(),
                    );
                    let info: Option<PageInfo> =
                        serde_json::from_value(d["leads"]["pageInfo"].clone()).ok();
                    next.set(info.filter(|i| i.has_next_page).and_then(|i| i.end_cursor));
                    at.set(after);
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };
    let first_page = move || {
        back.set(Vec::new());
        load(None);
    };
    Effect::new(move |_| {
        refresh.track();
        status.track();
        first_page();
    });
    // Search 300 ms after the last keystroke.
    let typed = move |ev| {
        search.set(event_target_value(&ev));
        let v = version.get_value();
        set_timeout(
            move || {
                if version.get_value() == v {
                    first_page();
                }
            },
            Duration::from_millis(300),
        );
    };
    let now = time::now_ms();

    view! {
        <section class="card" id="leads">
            <div class="page-head">
                <h2>"Leads"</h2>
                <div class="filters">
                    <label class="visually-hidden" for="lead-status">"Status"</label>
                    <select id="lead-status" on:change=move |ev| status.set(event_target_value(&ev))>
                        <option value="">"Every status"</option>
                        {STATUSES.iter().map(|s| view! { <option value=*s>{words(s)}</option> }).collect_view()}
                    </select>
                    <label class="visually-hidden" for="lead-search">"Search by number or name"</label>
                    <input id="lead-search" type="search" placeholder="Number or name" on:input=typed/>
                </div>
            </div>
            {error_line(error)}
            <div class="table-wrap">
                <table id="lead-table">
                    <thead><tr><th>"Lead"</th><th>"Phone"</th><th>"Status"</th><th class="num">"Attempts"</th><th>"Last outcome"</th><th>"Next call"</th></tr></thead>
                    <tbody>
                        {move || rows.get().into_iter().map(|r| {
                            let name = full_name(r.first_name.as_deref(), r.last_name.as_deref());
                            let name = if name.is_empty() { r.phone.clone() } else { name };
                            let last = match (&r.last_outcome, &r.last_attempt_at) {
                                (Some(o), Some(t)) => format!("{} · {}", words(o), time::parse_ms(t).map(|ms| time::in_zone(ms, None)).unwrap_or_default()),
                                (Some(o), None) => words(o),
                                _ => "—".into(),
                            };
                            let due = r.not_before.as_deref().and_then(time::parse_ms).filter(|ms| *ms > now)
                                .map(|ms| time::in_zone(ms, r.time_zone.as_deref()))
                                .unwrap_or_else(|| "—".into());
                            view! {
                                <tr data-lead-id=r.id.clone() data-status=r.status.clone()>
                                    <td><a href=format!("/leads/{}", r.id)>{name}</a></td>
                                    <td>{r.phone}</td>
                                    <td>{words(&r.status)}</td>
                                    <td class="num">{r.attempts}</td>
                                    <td>{last}</td>
                                    <td>{due}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {move || rows.with(Vec::is_empty).then(|| view! { <p class="muted" id="no-leads">"No leads match."</p> })}
            <div class="pager">
                <button class="secondary" disabled=move || back.with(Vec::is_empty) on:click=move |_| {
                    let mut stack = back.get_untracked();
                    if let Some(prev) = stack.pop() {
                        back.set(stack);
                        load(prev);
                    }
                }>"Previous page"</button>
                <button class="secondary" id="next-page" disabled=move || next.with(Option::is_none) on:click=move |_| {
                    if let Some(cursor) = next.get_untracked() {
                        back.update(|b| b.push(at.get_untracked()));
                        load(Some(cursor));
                    }
                }>"Next page"</button>
            </div>
        </section>
    }
}
