//! The wrap-up panel after each call: the call's dispositions (searchable,
//! keyboard-selectable), notes, Do Not Call, Do Not Text, invalid number
//! with a reason, a callback (shown in the lead's local time and the
//! agent's), where to go next, and a countdown when the campaign limits
//! wrap-up time. Submitting returns the agent to Available (or the chosen
//! status) — the live stream moves the view on.

use leptos::ev;
use leptos::prelude::*;
use serde_json::json;

use super::Ws;
use crate::time;

const SUBMIT: &str = "mutation($input: SubmitWrapUpInput!) { submitWrapUp(input: $input) { wrapUp { id } presence { status } } }";

#[component]
pub fn WrapUpPanel() -> impl IntoView {
    let ws = expect_context::<Ws>();
    let call = ws
        .presence
        .with_untracked(|p| p.as_ref().and_then(|p| p.wrap_up_call.clone()));
    let Some(call) = call else {
        return view! { <p class="muted">"Nothing to wrap up."</p> }.into_any();
    };
    let dispositions = call.dispositions.clone();
    let lead_zone = call.lead.as_ref().and_then(|l| l.time_zone.clone());
    let limit = call.campaign.as_ref().and_then(|c| c.wrap_up_limit_seconds);
    let ended = call.ended_at.as_deref().and_then(time::parse_ms);

    let search = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<String>);
    let notes = RwSignal::new(String::new());
    let dnc = RwSignal::new(false);
    let dnt = RwSignal::new(false);
    let revoke = RwSignal::new(false);
    let invalid = RwSignal::new(false);
    let invalid_reason = RwSignal::new("WRONG_NUMBER".to_owned());
    let callback = RwSignal::new(String::new());
    let callback_mine = RwSignal::new(true);
    let next = RwSignal::new("AVAILABLE".to_owned());
    let sending = RwSignal::new(false);

    let all = StoredValue::new(dispositions);
    let filtered = move || {
        let q = search.get().to_lowercase();
        all.get_value()
            .into_iter()
            .filter(|d| {
                q.is_empty()
                    || d.label.to_lowercase().contains(&q)
                    || d.code.to_lowercase().contains(&q)
            })
            .collect::<Vec<_>>()
    };
    // Enter in the search box picks the first match; arrows move the pick.
    let search_keys = move |e: ev::KeyboardEvent| {
        let list = filtered();
        let at = chosen
            .get_untracked()
            .and_then(|c| list.iter().position(|d| d.code == c));
        let pick = match e.key().as_str() {
            "Enter" => Some(at.unwrap_or(0)),
            "ArrowDown" => Some(at.map_or(0, |i| (i + 1).min(list.len().saturating_sub(1)))),
            "ArrowUp" => Some(at.map_or(0, |i| i.saturating_sub(1))),
            _ => None,
        };
        if let Some(i) = pick {
            e.prevent_default();
            if let Some(d) = list.get(i) {
                chosen.set(Some(d.code.clone()));
            }
        }
    };

    let remaining = move || {
        let (limit, ended) = (limit?, ended?);
        let left = ((ended + f64::from(limit) * 1000.0 - ws.now.get()) / 1000.0).ceil() as i64;
        Some(left.max(0))
    };
    let callback_ms = move || time::local_input_ms(&callback.get());
    let call_id = call.id.clone();
    let submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        let Some(code) = chosen.get_untracked() else {
            ws.error.set(Some("Choose a disposition first.".into()));
            return;
        };
        let callback_at = callback_ms().map(time::iso);
        let input = json!({
            "callId": call_id,
            "dispositionCode": code,
            "notes": notes.get_untracked(),
            "doNotCall": dnc.get_untracked(),
            "doNotText": dnt.get_untracked(),
            "revokeConsent": revoke.get_untracked(),
            "invalidNumber": invalid.get_untracked().then(|| invalid_reason.get_untracked()),
            "callbackAt": callback_at,
            "callbackAgentId": (callback_at.is_some() && callback_mine.get_untracked()).then(|| ws.me.get_value()),
            "nextStatus": next.get_untracked(),
        });
        sending.set(true);
        ws.run(SUBMIT, json!({"input": input}), move |_| sending.set(false));
    };
    // A failed submit must let the agent try again.
    Effect::new(move |_| {
        if ws.error.get().is_some() {
            sending.set(false);
        }
    });

    let title = call.title();
    let dialer = call.dialer;
    view! {
        <form class="card wrap-up" id="wrap-up" on:submit=submit aria-labelledby="wrap-up-title">
            <header class="call-header">
                <div>
                    <h2 id="wrap-up-title">"Wrap up: " {title}</h2>
                    <p class="muted">{call.phone.clone()}</p>
                </div>
                <div class="call-meta">
                    {dialer.then(|| view! { <span class="pill dialer" id="dialer-pill">"Dialer"</span> })}
                    {move || remaining().map(|s| view! {
                        <span class=if s <= 10 { "countdown urgent" } else { "countdown" } id="wrap-up-countdown" role="timer" aria-label="Wrap-up time left">
                            {if s > 0 { format!("{} left", time::clock(s)) } else { "Time's up — the server records it".to_owned() }}
                        </span>
                    })}
                </div>
            </header>

            <label for="disposition-search">"Disposition"</label>
            <input
                id="disposition-search"
                type="search"
                placeholder="Type to filter, Enter to pick"
                autocomplete="off"
                aria-controls="dispositions"
                prop:value=search
                on:input=move |e| search.set(event_target_value(&e))
                on:keydown=search_keys
            />
            <div class="dispositions" id="dispositions" role="radiogroup" aria-label="Dispositions">
                {move || {
                    let list = filtered();
                    if list.is_empty() {
                        return view! { <p class="muted">"No disposition matches."</p> }.into_any();
                    }
                    list.into_iter().map(|d| {
                        let code = d.code.clone();
                        let code2 = d.code.clone();
                        let id = format!("dispo-{}", d.code);
                        view! {
                            <label class="dispo" data-category=d.category.to_lowercase()>
                                <input
                                    type="radio"
                                    name="disposition"
                                    id=id
                                    value=d.code.clone()
                                    prop:checked=move || chosen.get().as_deref() == Some(code.as_str())
                                    on:change=move |_| chosen.set(Some(code2.clone()))
                                />
                                " " {d.label.clone()}
                            </label>
                        }
                    }).collect_view().into_any()
                }}
            </div>

            <label for="notes">"Notes"</label>
            <textarea id="notes" rows="3" prop:value=notes on:input=move |e| notes.set(event_target_value(&e))></textarea>

            <fieldset class="marks">
                <legend>"Marks for this number"</legend>
                <label><input type="checkbox" id="dnc" prop:checked=dnc on:change=move |e| dnc.set(event_target_checked(&e))/>" Do not call"</label>
                <label><input type="checkbox" id="dnt" prop:checked=dnt on:change=move |e| dnt.set(event_target_checked(&e))/>" Do not text"</label>
                <label title="The called party withdrew their consent to be called: recorded for the number across the organization; automated campaigns that need consent stop calling it"><input type="checkbox" id="revoke-consent" prop:checked=revoke on:change=move |e| revoke.set(event_target_checked(&e))/>" Consent revoked (stop calling me)"</label>
                <label><input type="checkbox" id="invalid" prop:checked=invalid on:change=move |e| invalid.set(event_target_checked(&e))/>" Invalid number"</label>
                <label class="visually-hidden" for="invalid-reason">"Why the number is invalid"</label>
                <select id="invalid-reason" disabled=move || !invalid.get() on:change=move |e| invalid_reason.set(event_target_value(&e))>
                    <option value="WRONG_NUMBER">"Wrong number"</option>
                    <option value="DISCONNECTED">"Disconnected"</option>
                    <option value="OTHER">"Other"</option>
                </select>
            </fieldset>

            <fieldset class="callback">
                <legend>"Callback"</legend>
                <label for="callback-at">"When (your time)"</label>
                <input type="datetime-local" id="callback-at" prop:value=callback on:input=move |e| callback.set(event_target_value(&e))/>
                <label><input type="checkbox" id="callback-mine" prop:checked=callback_mine on:change=move |e| callback_mine.set(event_target_checked(&e))/>" Call back myself"</label>
                {move || callback_ms().map(|ms| view! {
                    <p class="muted" id="callback-times">
                        "Lead's time: " {time::in_zone(ms, lead_zone.as_deref())}
                        <br/>
                        "Your time: " {time::in_zone(ms, None)}
                    </p>
                })}
            </fieldset>

            <div class="submit-row">
                <label for="next-status">"Then"</label>
                <select id="next-status" on:change=move |e| next.set(event_target_value(&e))>
                    <option value="AVAILABLE">"Available"</option>
                    <option value="BREAK">"Break"</option>
                    <option value="OFFLINE">"Offline"</option>
                </select>
                <button type="submit" id="submit-wrap-up" disabled=move || chosen.get().is_none() || sending.get() || !ws.live()>
                    {move || if sending.get() { "Saving…" } else { "Submit wrap-up" }}
                </button>
            </div>
        </form>
    }
    .into_any()
}
