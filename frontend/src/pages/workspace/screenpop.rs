//! The screen pop: the lead of the call on screen (active, in wrap-up or
//! offered) — its custom properties in their original order, its earlier
//! attempts and the notes agents left on them.

use leptos::prelude::*;

use super::Ws;
use crate::model::{Call, outcome_words};
use crate::time;

#[component]
pub fn ScreenPop() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let shown = move || -> Option<Call> {
        ws.presence.with(|p| {
            p.as_ref().and_then(|p| {
                p.active_call
                    .clone()
                    .or_else(|| p.wrap_up_call.clone())
                    .or_else(|| p.offered_call.clone())
            })
        })
    };
    move || match shown() {
        None => view! {
            <div class="card screen-pop empty">
                <h2>"Lead details"</h2>
                <p class="muted">"The lead's details appear here the moment a call connects."</p>
            </div>
        }
        .into_any(),
        Some(call) => match call.lead.clone() {
            None => view! {
                <div class="card screen-pop" id="screen-pop">
                    <h2>{call.phone.clone()}</h2>
                    <p class="muted">"A number outside any campaign: no lead details."</p>
                </div>
            }
            .into_any(),
            Some(lead) => {
                let zone = lead.time_zone.clone();
                let earlier: Vec<_> = lead
                    .history
                    .iter()
                    .filter(|h| h.id != call.id)
                    .cloned()
                    .collect();
                let notes: Vec<_> = earlier
                    .iter()
                    .filter_map(|h| {
                        h.wrap_up
                            .as_ref()
                            .filter(|w| !w.notes.trim().is_empty())
                            .map(|w| {
                                (
                                    h.created_at.clone(),
                                    h.agent.as_ref().map(|a| a.name.clone()),
                                    w.notes.clone(),
                                )
                            })
                    })
                    .collect();
                let name = lead.name();
                view! {
                    <div class="card screen-pop" id="screen-pop" data-lead-id=lead.id.clone()>
                        <h2>{if name.is_empty() { lead.phone.clone() } else { name }}</h2>
                        <p class="muted">
                            {lead.phone.clone()}
                            {zone.clone().map(|z| {
                                let local = time::in_zone(time::now_ms(), Some(&z));
                                format!(" · {z} · now {local}")
                            })}
                        </p>
                        <h3>"Details"</h3>
                        {if lead.custom_properties.is_empty() {
                            view! { <p class="muted">"No custom details for this lead."</p> }.into_any()
                        } else {
                            view! {
                                <dl class="props" id="lead-properties">
                                    {lead.custom_properties.iter().map(|p| view! {
                                        <div class="prop"><dt>{p.key.clone()}</dt><dd>{p.value.clone()}</dd></div>
                                    }).collect_view()}
                                </dl>
                            }.into_any()
                        }}
                        <h3>"Earlier attempts"</h3>
                        {if earlier.is_empty() {
                            view! { <p class="muted" id="attempt-history">"First attempt."</p> }.into_any()
                        } else {
                            view! {
                                <ol class="history" id="attempt-history">
                                    {earlier.iter().map(|h| {
                                        let when = time::parse_ms(&h.created_at).map(|t| time::in_zone(t, None)).unwrap_or_default();
                                        let what = h.wrap_up.as_ref().map(|w| w.disposition_code.replace('_', " ").to_lowercase())
                                            .unwrap_or_else(|| h.outcome.as_deref().map(outcome_words).unwrap_or("In progress").to_owned());
                                        view! {
                                            <li>
                                                <span>{when}</span>
                                                " · " <span>{what}</span>
                                                {h.agent.as_ref().map(|a| view! { <span class="muted">" · " {a.name.clone()}</span> })}
                                                {h.dialer.then(|| view! { " " <span class="pill dialer small">"Dialer"</span> })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ol>
                            }.into_any()
                        }}
                        <h3>"Previous notes"</h3>
                        {if notes.is_empty() {
                            view! { <p class="muted" id="previous-notes">"No notes yet."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="notes" id="previous-notes">
                                    {notes.into_iter().map(|(at, who, text)| {
                                        let when = time::parse_ms(&at).map(|t| time::in_zone(t, None)).unwrap_or_default();
                                        view! {
                                            <li><p class="note">{text}</p><p class="muted">{when}{who.map(|w| format!(" · {w}"))}</p></li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    </div>
                }
                .into_any()
            }
        },
    }
}
