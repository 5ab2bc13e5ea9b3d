//! The campaigns of a contact center: state and headline figures, a way to
//! a new one.

use leptos::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::{percent, words};
use crate::api::graphql;
use crate::pages::shell::Center;

const CAMPAIGNS: &str = "query($cc: ID!) { campaigns(contactCenterId: $cc, first: 100, \
     states: [DRAFT, RUNNING, PAUSED, COMPLETED]) { nodes { id name state dialMode \
     leadCounts { status count } stats { attempts contacts abandonRate30d } } } }";

#[derive(Deserialize, Clone)]
struct Data {
    campaigns: Nodes,
}

#[derive(Deserialize, Clone)]
struct Nodes {
    nodes: Vec<Row>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Row {
    id: String,
    name: String,
    state: String,
    dial_mode: String,
    lead_counts: Vec<Count>,
    stats: Figures,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct Count {
    pub status: String,
    pub count: i64,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Figures {
    attempts: i64,
    contacts: i64,
    abandon_rate30d: f64,
}

#[component]
pub fn Campaigns(center: Center, token: String) -> impl IntoView {
    let cc = center.id.clone();
    let list = LocalResource::new(move || {
        let (cc, token) = (cc.clone(), token.clone());
        async move { graphql::<Data>(CAMPAIGNS, json!({"cc": cc}), Some(&token)).await }
    });
    view! {
        <section class="floor">
            <div class="page-head">
                <h1>"Campaigns · " {center.name.clone()}</h1>
                <a class="button" href="/campaigns/new">"New campaign"</a>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e.for_people()}</p> }.into_any(),
                    Ok(d) if d.campaigns.nodes.is_empty() => view! {
                        <p class="card muted" id="no-campaigns">"No campaigns yet. Create one, then import its leads."</p>
                    }.into_any(),
                    Ok(d) => view! {
                        <div class="card table-wrap">
                            <table id="campaigns">
                                <thead><tr>
                                    <th>"Campaign"</th><th>"State"</th><th>"Mode"</th><th class="num">"Leads"</th>
                                    <th class="num">"Attempts"</th><th class="num">"Contacts"</th><th class="num">"Abandoned (30 d)"</th>
                                </tr></thead>
                                <tbody>
                                    {d.campaigns.nodes.into_iter().map(|c| {
                                        let leads: i64 = c.lead_counts.iter().map(|x| x.count).sum();
                                        view! {
                                            <tr data-campaign-id=c.id.clone() data-state=c.state.clone()>
                                                <td><a href=format!("/campaigns/{}", c.id)>{c.name}</a></td>
                                                <td><span class=format!("state {}", c.state.to_lowercase())>{words(&c.state)}</span></td>
                                                <td>{words(&c.dial_mode)}</td>
                                                <td class="num">{leads}</td>
                                                <td class="num">{c.stats.attempts}</td>
                                                <td class="num">{c.stats.contacts}</td>
                                                <td class="num">{percent(c.stats.abandon_rate30d)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
