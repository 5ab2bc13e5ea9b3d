//! The status control (Available, Break with a reason, Offline; the
//! current status and the time in it) and the dialer banner (the running
//! campaign and the pinned leg's state).

use leptos::prelude::*;
use serde_json::json;

use super::Ws;
use crate::model::leg_words;
use crate::{audio, time};

const SET_STATUS: &str = "mutation($cc: ID!, $status: AgentStatus!, $reason: String) { \
     setAgentStatus(input: {contactCenterId: $cc, status: $status, reason: $reason}) { presence { status } } }";

const BREAK_REASONS: [&str; 5] = ["Lunch", "Coffee", "Training", "Meeting", "Other"];

pub fn status_words(status: &str) -> &'static str {
    match status {
        "AVAILABLE" => "Available",
        "ON_CALL" => "On a call",
        "WRAP_UP" => "Wrap-up",
        "BREAK" => "On break",
        _ => "Offline",
    }
}

#[component]
pub fn StatusControl() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let reason = RwSignal::new(BREAK_REASONS[0].to_owned());
    let set = move |status: &'static str| {
        audio::unlock();
        let cc = ws.center.get_value().id;
        let reason = (status == "BREAK").then(|| reason.get_untracked());
        ws.run(
            SET_STATUS,
            json!({"cc": cc, "status": status, "reason": reason}),
            |_| {},
        );
    };
    // Calls set ON_CALL and WRAP_UP; the agent chooses only between calls.
    let busy = move || matches!(ws.status().as_str(), "ON_CALL" | "WRAP_UP") || !ws.live();
    let elapsed = move || {
        let since = ws.presence.with(|p| p.as_ref().map(|p| p.since.clone()));
        since.map(|s| time::clock(time::seconds_since(&s, ws.now.get())))
    };
    let current = move || ws.status();
    view! {
        <div class="status-control">
            <p class="status" id="agent-status" data-status=current aria-live="polite">
                <span class=move || format!("dot {}", current().to_lowercase())></span>
                <strong>{move || status_words(&current())}</strong>
                {move || ws.presence.with(|p| p.as_ref().and_then(|p| p.reason.clone()))
                    .filter(|_| current() == "BREAK")
                    .map(|r| view! { <span class="muted">" · " {r}</span> })}
                <span class="muted clock" title="Time in this status">{move || elapsed().map(|e| format!(" · {e}"))}</span>
            </p>
            <div class="status-buttons" role="group" aria-label="Set your status">
                <button
                    id="go-available"
                    disabled=move || busy() || current() == "AVAILABLE"
                    on:click=move |_| set("AVAILABLE")
                >"Available"</button>
                <label class="visually-hidden" for="break-reason">"Break reason"</label>
                <select
                    id="break-reason"
                    disabled=busy
                    on:change=move |ev| reason.set(event_target_value(&ev))
                >
                    {BREAK_REASONS.iter().map(|r| view! { <option value=*r>{*r}</option> }).collect_view()}
                </select>
                <button id="go-break" class="secondary" disabled=busy on:click=move |_| set("BREAK")>"Break"</button>
                <button
                    id="go-offline"
                    class="secondary"
                    disabled=move || busy() || current() == "OFFLINE"
                    on:click=move |_| set("OFFLINE")
                >"Offline"</button>
            </div>
        </div>
    }
}

#[component]
pub fn DialerBanner() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let center = ws.center.get_value();
    let leg = move || {
        ws.presence
            .with(|p| p.as_ref().and_then(|p| p.pinned_leg.clone()))
    };
    let leg_state = move || leg().map(|l| l.state).unwrap_or_else(|| "NONE".into());
    view! {
        <div class="dialer-banner" id="dialer-banner" role="status" aria-label="Dialer">
            {if center.dialer_enabled {
                view! {
                    <span class="pill dialer" title="Calls come from the dialer">"Dialer"</span>
                    <span class="campaign" id="running-campaign">
                        {move || match ws.running.get() {
                            Some(c) => format!("{} · {}", c.name, c.dial_mode.to_lowercase()),
                            None => "No campaign running".to_owned(),
                        }}
                    </span>
                    <span
                        class=move || format!("leg {}", leg_state().to_lowercase())
                        id="pinned-leg"
                        data-state=leg_state
                        data-kind=move || leg().and_then(|l| l.kind).unwrap_or_default()
                    >
                        {move || match leg().and_then(|l| l.kind).as_deref() {
                            Some("BROWSER") => "Audio (this browser): ",
                            Some("SIP_PHONE") => "Audio (your phone): ",
                            _ => "Audio: ",
                        }}
                        {move || leg_words(leg().as_ref())}
                    </span>
                }.into_any()
            } else {
                view! { <span class="muted">"Manual calling (the dialer is off in this contact center)"</span> }.into_any()
            }}
        </div>
    }
}
