//! A campaign's leads: 25 a page, filtered by status, searched by number
//! or name; each opens the lead's page.

use leptos::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::pager::Pager;
use super::{error_line, words};
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

#[component]
pub fn Leads(campaign: String, token: String, refresh: RwSignal<u32>) -> impl IntoView {
    let pager = Pager::<Row>::new();
    let (rows, error) = (pager.rows, pager.error);
    let status = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let token = StoredValue::new(token);
    let campaign = StoredValue::new(campaign);

    let load = move |after: Option<String>| {
        let mut filter = serde_json::Map::new();
        let st = status.get_untracked();
        if !st.is_empty() {
            filter.insert("statuses".into(), json!([st]));
        }
        let q = search.get_untracked();
        if !q.trim().is_empty() {
            filter.insert("search".into(), json!(q.trim()));
        }
        let vars = json!({"c": campaign.get_value(), "first": PAGE, "filter": filter});
        pager.fetch(LEADS, "leads", vars, after, token.get_value());
    };
    let first_page = move || {
        pager.reset();
        load(None);
    };
    Effect::new(move |_| {
        refresh.track();
        status.track();
        first_page();
    });
    let typed = pager.search_as_typed(search, first_page);
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
            {pager.buttons(load)}
        </section>
    }
}
