//! The conversation view (who, the timer, the state, the Dialer pill) and
//! its controls, the preview card (Dial / Skip), and the keyboard
//! shortcuts. A control that the call's state does not allow now is
//! disabled (the same rules as the server's `domain::call::allows`).

use leptos::ev;
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ws;
use crate::api::graphql;
use crate::model::{Call, state_words};
use crate::time;

const MUTE: &str = "mutation($id: ID!, $m: Boolean!) { muteCall(input: {callId: $id, muted: $m}) }";
const HOLD: &str =
    "mutation($id: ID!, $h: Boolean!) { holdCall(input: {callId: $id, onHold: $h}) }";
const HANG_UP: &str = "mutation($id: ID!) { hangUp(input: {callId: $id}) }";
const TRANSFER: &str = "mutation($id: ID!, $to: TransferTargetInput!, $mode: TransferMode!) { \
     transferCall(input: {callId: $id, to: $to, mode: $mode}) }";
const ADD: &str = "mutation($id: ID!, $phone: String, $agent: ID) { \
     addParticipant(input: {callId: $id, phone: $phone, agentId: $agent}) }";
const DIAL: &str = "mutation($id: ID!) { dialPreview(input: {callId: $id}) { call { id } } }";
const SKIP: &str = "mutation($id: ID!) { skipPreview(input: {callId: $id}) { call { id } } }";
const AGENTS: &str = "query($id: ID!) { contactCenter(id: $id) { members(role: AGENT, first: 100) { edges { node { id name } } } } }";

#[derive(Clone, Copy, PartialEq)]
enum Control {
    Mute,
    Hold,
    Resume,
    Transfer,
    HangUp,
}

/// Whether the call's state allows `control` now.
fn allows(state: &str, control: Control) -> bool {
    use Control::*;
    match (state, control) {
        ("ENDED" | "OFFERED", _) => false,
        (_, HangUp) => true,
        ("CONNECTED" | "HELD", Mute | Transfer) => true,
        ("CONNECTED", Hold) => true,
        ("HELD", Resume) => true,
        _ => false,
    }
}

fn mute(ws: Ws, c: &Call) {
    if ws.live() && allows(&c.state, Control::Mute) {
        ws.run(MUTE, json!({"id": c.id, "m": !c.muted}), |_| {});
    }
}

fn hold(ws: Ws, c: &Call) {
    let control = if c.on_hold {
        Control::Resume
    } else {
        Control::Hold
    };
    if ws.live() && allows(&c.state, control) {
        ws.run(HOLD, json!({"id": c.id, "h": !c.on_hold}), |_| {});
    }
}

fn hang_up(ws: Ws, c: &Call) {
    if ws.live() && allows(&c.state, Control::HangUp) {
        ws.run(HANG_UP, json!({"id": c.id}), |_| {});
    }
}

fn preview(ws: Ws, dial: bool) {
    let offered = ws
        .presence
        .with_untracked(|p| p.as_ref().and_then(|p| p.offered_call.clone()));
    if let Some(c) = offered
        && ws.live()
    {
        ws.run(if dial { DIAL } else { SKIP }, json!({"id": c.id}), |_| {});
    }
}

/// Alt+M mute, Alt+H hold/resume, Alt+X hang up, Alt+D / Alt+S dial or
/// skip a preview.
pub fn shortcuts(ws: Ws) {
    let handle = window_event_listener(ev::keydown, move |e| {
        if !e.alt_key() || e.ctrl_key() || e.meta_key() {
            return;
        }
        let call = ws
            .presence
            .with_untracked(|p| p.as_ref().and_then(|p| p.active_call.clone()));
        let key = e.key().to_lowercase();
        let done = match (key.as_str(), call) {
            ("m", Some(c)) => {
                mute(ws, &c);
                true
            }
            ("h", Some(c)) => {
                hold(ws, &c);
                true
            }
            ("x", Some(c)) => {
                hang_up(ws, &c);
                true
            }
            ("d", None) => {
                preview(ws, true);
                true
            }
            ("s", None) => {
                preview(ws, false);
                true
            }
            _ => false,
        };
        if done {
            e.prevent_default();
        }
    });
    on_cleanup(move || handle.remove());
}

/// The call header: who, the number, the Dialer pill, state and timer.
#[component]
fn CallHeader(#[prop(into)] call: Signal<Option<Call>>) -> impl IntoView {
    let ws = expect_context::<Ws>();
    let timer = move || {
        call.with(|c| {
            c.as_ref().map(|c| {
                let from = c
                    .connected_at
                    .clone()
                    .unwrap_or_else(|| c.created_at.clone());
                time::clock(time::seconds_since(&from, ws.now.get()))
            })
        })
    };
    move || {
        call.get().map(|c| {
            let number = (c.title() != c.phone).then(|| c.phone.clone());
            view! {
                <header class="call-header">
                    <div>
                        <h2 id="call-title">{c.title()}</h2>
                        {number.map(|n| view! { <p class="muted" id="call-phone">{n}</p> })}
                    </div>
                    <div class="call-meta">
                        {c.dialer.then(|| view! { <span class="pill dialer" id="dialer-pill">"Dialer"</span> })}
                        {(!c.dialer).then(|| view! { <span class="pill manual">{if c.origin == "INBOUND" { "Inbound" } else { "Manual" }}</span> })}
                        {c.campaign.as_ref().map(|k| view! { <span class="muted">{k.name.clone()}</span> })}
                        <span class="call-state" id="call-state" data-state=c.state.clone()>{state_words(&c.state)}</span>
                        <span class="timer" id="call-timer" aria-label="Call time">{timer}</span>
                    </div>
                </header>
            }
        })
    }
}

#[derive(Deserialize, Clone, PartialEq)]
struct Agent {
    id: String,
    name: String,
}

#[component]
pub fn CallView() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let call = Signal::derive(move || ws.active());
    let state = move || call.with(|c| c.as_ref().map(|c| c.state.clone()).unwrap_or_default());
    let can = move |control| ws.live() && allows(&state(), control);
    let muted = move || call.with(|c| c.as_ref().is_some_and(|c| c.muted));
    let held = move || call.with(|c| c.as_ref().is_some_and(|c| c.on_hold));
    let panel = RwSignal::new(None::<&'static str>);

    view! {
        <article class="card call" id="active-call" data-call-id=move || call.with(|c| c.as_ref().map(|c| c.id.clone()))>
            <CallHeader call=call/>
            <div class="controls" role="toolbar" aria-label="Call controls">
                <button
                    id="mute"
                    aria-pressed=move || muted().to_string()
                    aria-keyshortcuts="Alt+M"
                    title="Alt+M"
                    disabled=move || !can(Control::Mute)
                    on:click=move |_| { if let Some(c) = call.get_untracked() { mute(ws, &c) } }
                >{move || if muted() { "Unmute" } else { "Mute" }}</button>
                <button
                    id="hold"
                    aria-pressed=move || held().to_string()
                    aria-keyshortcuts="Alt+H"
                    title="Alt+H"
                    disabled=move || !can(if held() { Control::Resume } else { Control::Hold })
                    on:click=move |_| { if let Some(c) = call.get_untracked() { hold(ws, &c) } }
                >{move || if held() { "Resume" } else { "Hold" }}</button>
                <button
                    id="open-transfer"
                    class="secondary"
                    aria-expanded=move || (panel.get() == Some("transfer")).to_string()
                    disabled=move || !can(Control::Transfer)
                    on:click=move |_| panel.update(|p| *p = if *p == Some("transfer") { None } else { Some("transfer") })
                >"Transfer"</button>
                <button
                    id="open-add"
                    class="secondary"
                    aria-expanded=move || (panel.get() == Some("add")).to_string()
                    disabled=move || !can(Control::Transfer)
                    on:click=move |_| panel.update(|p| *p = if *p == Some("add") { None } else { Some("add") })
                >"Add participant"</button>
                <button
                    id="hang-up"
                    class="danger"
                    aria-keyshortcuts="Alt+X"
                    title="Alt+X"
                    disabled=move || !can(Control::HangUp)
                    on:click=move |_| { if let Some(c) = call.get_untracked() { hang_up(ws, &c) } }
                >"Hang up"</button>
            </div>
            {move || panel.get().map(|which| view! { <TargetForm which=which call=call close=move || panel.set(None)/> })}
        </article>
    }
}

/// Transfer (blind or warm) or add a participant: an agent of the
/// contact center, or a number.
#[component]
fn TargetForm(
    which: &'static str,
    call: Signal<Option<Call>>,
    close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let ws = expect_context::<Ws>();
    let transfer = which == "transfer";
    let agents = LocalResource::new(move || {
        let token = ws.token.get_value();
        let id = ws.center.get_value().id;
        let me = ws.me.get_value();
        async move {
            let data = graphql::<Value>(AGENTS, json!({"id": id}), Some(&token))
                .await
                .ok()?;
            let edges = data["contactCenter"]["members"]["edges"]
                .as_array()?
                .clone();
            Some(
                edges
                    .into_iter()
                    .filter_map(|e| serde_json::from_value::<Agent>(e["node"].clone()).ok())
                    .filter(|a| a.id != me)
                    .collect::<Vec<_>>(),
            )
        }
    });
    let agent = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let mode = RwSignal::new("BLIND".to_owned());
    let submit = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let Some(c) = call.get_untracked() else {
            return;
        };
        let (a, p) = (
            agent.get_untracked(),
            phone.get_untracked().trim().to_owned(),
        );
        if a.is_empty() && p.is_empty() {
            ws.error
                .set(Some("Choose an agent or type a number first.".into()));
            return;
        }
        let close = close.clone();
        if transfer {
            let to = if a.is_empty() {
                json!({"phone": p})
            } else {
                json!({"agentId": a})
            };
            ws.run(
                TRANSFER,
                json!({"id": c.id, "to": to, "mode": mode.get_untracked()}),
                move |_| close(),
            );
        } else {
            let (phone, agent) = if a.is_empty() {
                (Some(p), None)
            } else {
                (None, Some(a))
            };
            ws.run(
                ADD,
                json!({"id": c.id, "phone": phone, "agent": agent}),
                move |_| close(),
            );
        }
    };
    let prefix = if transfer { "transfer" } else { "add" };
    view! {
        <form class="target-form" id=format!("{prefix}-form") on:submit=submit>
            <h3>{if transfer { "Transfer the call" } else { "Add a participant" }}</h3>
            <label for=format!("{prefix}-agent")>"To an agent"</label>
            <select id=format!("{prefix}-agent") on:change=move |ev| { agent.set(event_target_value(&ev)); if !agent.get_untracked().is_empty() { phone.set(String::new()) } }>
                <option value="">"— choose an agent —"</option>
                {move || agents.get().flatten().unwrap_or_default().into_iter().map(|a| view! {
                    <option value=a.id.clone() selected=move || agent.get() == a.id>{a.name.clone()}</option>
                }).collect_view()}
            </select>
            <label for=format!("{prefix}-phone")>"or to a number"</label>
            <input
                id=format!("{prefix}-phone")
                type="tel"
                inputmode="tel"
                placeholder="+1 555 010 0000"
                prop:value=phone
                on:input=move |ev| { phone.set(event_target_value(&ev)); agent.set(String::new()) }
            />
            {transfer.then(|| view! {
                <fieldset class="inline">
                    <legend>"How"</legend>
                    <label><input type="radio" name="transfer-mode" value="BLIND" checked=true on:change=move |_| mode.set("BLIND".into())/>" Blind (hand over now)"</label>
                    <label><input type="radio" name="transfer-mode" value="WARM" on:change=move |_| mode.set("WARM".into())/>" Warm (talk first)"</label>
                </fieldset>
            })}
            <button type="submit" id=format!("{prefix}-submit") disabled=move || !ws.live()>
                {if transfer { "Transfer" } else { "Add" }}
            </button>
        </form>
    }
}

/// PREVIEW mode: the offered lead, with Dial and Skip.
#[component]
pub fn PreviewCard() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let call = Signal::derive(move || {
        ws.presence
            .with(|p| p.as_ref().and_then(|p| p.offered_call.clone()))
    });
    view! {
        <article class="card preview" id="preview">
            <p class="eyebrow">"Preview — your next lead"</p>
            <CallHeader call=call/>
            <p class="muted">"Read the lead's details, then dial when you are ready."</p>
            <div class="controls" role="group" aria-label="Preview">
                <button id="preview-dial" aria-keyshortcuts="Alt+D" title="Alt+D" disabled=move || !ws.live() on:click=move |_| preview(ws, true)>"Dial"</button>
                <button id="preview-skip" class="secondary" aria-keyshortcuts="Alt+S" title="Alt+S" disabled=move || !ws.live() on:click=move |_| preview(ws, false)>"Skip"</button>
            </div>
        </article>
    }
}
