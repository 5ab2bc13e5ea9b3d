//! Between calls: what the agent is waiting for, a dial pad for a manual
//! call (`placeCall`, through the same compliance gate as the dialer), and
//! the agent's recent calls (the dialer's carry the Dialer pill).

use leptos::ev;
use leptos::prelude::*;
use serde_json::json;

use super::Ws;
use crate::model::{full_name, outcome_words};
use crate::time;

const PLACE_CALL: &str = "mutation($cc: ID!, $phone: String!) { placeCall(input: {contactCenterId: $cc, phone: $phone}) { call { id } } }";
const KEYS: [&str; 12] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

#[component]
pub fn Idle() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let waiting = move || match ws.status().as_str() {
        "AVAILABLE" if ws.center.get_value().dialer_enabled => match ws.running.get() {
            Some(c) => format!(
                "Waiting for the next call from “{}”. You will hear a tone when a lead is connected.",
                c.name
            ),
            None => {
                "Available. No campaign is running right now; you can place a call yourself.".into()
            }
        },
        "AVAILABLE" => "Available.".into(),
        "BREAK" => "On break. Go Available to take calls.".into(),
        _ => "Offline. Go Available to take calls.".into(),
    };
    view! {
        <div class="idle">
            <div class="card waiting" id="waiting"><p>{waiting}</p></div>
            <DialPad/>
            <RecentCalls/>
        </div>
    }
}

#[component]
fn DialPad() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let number = RwSignal::new(String::new());
    let placing = RwSignal::new(false);
    let submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        let phone = number.get_untracked().trim().to_owned();
        if phone.is_empty() {
            ws.error.set(Some("Type a number to call.".into()));
            return;
        }
        placing.set(true);
        let cc = ws.center.get_value().id;
        ws.run(PLACE_CALL, json!({"cc": cc, "phone": phone}), move |_| {
            placing.set(false);
            number.set(String::new());
        });
    };
    Effect::new(move |_| {
        if ws.error.get().is_some() {
            placing.set(false);
        }
    });
    // Manual calls are for an Available agent (the server refuses others).
    let can_call = move || ws.live() && ws.status() == "AVAILABLE" && !placing.get();
    view! {
        <form class="card dial-pad" id="dial-pad" on:submit=submit aria-labelledby="dial-pad-title">
            <h2 id="dial-pad-title">"Place a call"</h2>
            <label for="dial-number">"Number"</label>
            <input
                id="dial-number"
                type="tel"
                inputmode="tel"
                autocomplete="off"
                placeholder="+1 555 010 0000"
                prop:value=number
                on:input=move |e| number.set(event_target_value(&e))
            />
            <div class="keys" role="group" aria-label="Dial pad">
                {KEYS.iter().map(|k| {
                    let k = *k;
                    view! {
                        <button type="button" class="key secondary" aria-label=format!("Digit {k}") on:click=move |_| number.update(|n| n.push_str(k))>{k}</button>
                    }
                }).collect_view()}
            </div>
            {move || (ws.status() != "AVAILABLE").then(|| view! { <p class="muted" id="dial-hint">"Go Available to place a call."</p> })}
            <div class="submit-row">
                <button type="button" class="secondary" aria-label="Delete the last digit" on:click=move |_| number.update(|n| { n.pop(); })>"⌫"</button>
                <button type="submit" id="place-call" disabled=move || !can_call()>{move || if placing.get() { "Calling…" } else { "Call" }}</button>
            </div>
        </form>
    }
}

#[component]
fn RecentCalls() -> impl IntoView {
    let ws = expect_context::<Ws>();
    view! {
        <section class="card recent" aria-labelledby="recent-title">
            <h2 id="recent-title">"Recent calls"</h2>
            {move || {
                let list = ws.recent.get();
                if list.is_empty() {
                    return view! { <p class="muted">"No calls yet."</p> }.into_any();
                }
                view! {
                    <ul id="recent-calls">
                        {list.into_iter().map(|c| {
                            let name = c.lead.as_ref()
                                .map(|l| full_name(l.first_name.as_deref(), l.last_name.as_deref()))
                                .filter(|n| !n.is_empty())
                                .unwrap_or_else(|| c.phone.clone());
                            let when = time::parse_ms(&c.created_at).map(|t| time::in_zone(t, None)).unwrap_or_default();
                            let what = c.wrap_up.as_ref().map(|w| w.disposition_code.replace('_', " ").to_lowercase())
                                .or_else(|| c.outcome.as_deref().map(|o| outcome_words(o).to_owned()))
                                .unwrap_or_else(|| "in progress".into());
                            view! {
                                <li data-call-id=c.id.clone() data-origin=c.origin.clone()>
                                    <span class="name">{name}</span>
                                    {c.dialer.then(|| view! { <span class="pill dialer small">"Dialer"</span> })}
                                    <span class="muted">{when} " · " {what}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
