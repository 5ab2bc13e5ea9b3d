//! A campaign: its page (state and lifecycle buttons, settings, leads and
//! their import) and the editor of every setting of PRODUCT.md §3, which
//! asks the server (`checkCampaign`) as the supervisor types, so the form
//! shows exactly the rules `createCampaign` / `updateCampaign` apply, and
//! explains each compliance setting next to it.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::campaigns::Count;
use super::week::{DayHours, Week, week_table};
use super::{error_line, words};
use crate::api::graphql;
use crate::pages::shell::Center;

const CATEGORIES: [&str; 4] = ["CONTACT", "NON_CONTACT", "CALLBACK", "FINAL"];

const SETTINGS: &str = "id name state dialMode callerId callingWindow { hours { day start end } } \
     ringTimeoutSeconds maxAttempts maxAttemptsPerDay retryDelays { noAnswerMinutes busyMinutes \
     machineMinutes abandonedMinutes failedMinutes } maxAbandonRate maxDialRatio wrapUpLimitSeconds \
     machineHandling automatedConsent allowTollFree safeHarborMessage dispositions { code label category endsLead retryDelayMinutes conversion } \
     leadCounts { status count }";

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Loaded {
    id: String,
    name: String,
    state: String,
    dial_mode: String,
    caller_id: String,
    calling_window: Window,
    ring_timeout_seconds: i64,
    max_attempts: i64,
    max_attempts_per_day: i64,
    retry_delays: Delays,
    max_abandon_rate: f64,
    max_dial_ratio: f64,
    wrap_up_limit_seconds: Option<i64>,
    machine_handling: String,
    automated_consent: String,
    allow_toll_free: bool,
    safe_harbor_message: String,
    dispositions: Vec<LoadedDispo>,
    lead_counts: Vec<Count>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Window {
    hours: Vec<DayHours>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Delays {
    no_answer_minutes: i64,
    busy_minutes: i64,
    machine_minutes: i64,
    abandoned_minutes: i64,
    failed_minutes: i64,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct LoadedDispo {
    code: String,
    label: String,
    category: String,
    ends_lead: bool,
    retry_delay_minutes: Option<i64>,
    conversion: bool,
}

/// One disposition row as typed; `key` keeps its inputs across edits.
#[derive(Clone, Debug, PartialEq, Default)]
struct Dispo {
    key: u32,
    code: String,
    label: String,
    category: String,
    ends_lead: bool,
    retry: String,
    conversion: bool,
}

/// The form as typed (numbers as text until sent).
#[derive(Clone, Debug, PartialEq)]
struct Form {
    name: String,
    dial_mode: String,
    caller_id: String,
    week: Week,
    ring: String,
    max_attempts: String,
    per_day: String,
    no_answer: String,
    busy: String,
    machine: String,
    abandoned: String,
    failed: String,
    abandon_pct: String,
    dial_ratio: String,
    wrap_limit: String,
    machine_handling: String,
    automated_consent: String,
    /// "true" or "false" (a select).
    allow_toll_free: String,
    safe_harbor: String,
    dispositions: Vec<Dispo>,
}

impl Form {
    /// A new campaign's form: the server's defaults (PRODUCT.md §3).
    fn new() -> Form {
        let d = |key, code: &str, label: &str, category: &str, ends_lead, retry: &str| Dispo {
            key,
            code: code.into(),
            label: label.into(),
            category: category.into(),
            ends_lead,
            retry: retry.into(),
            conversion: code == "INTERESTED",
        };
        Form {
            name: String::new(),
            dial_mode: "PROGRESSIVE".into(),
            caller_id: String::new(),
            week: Week::default(),
            ring: "25".into(),
            max_attempts: "5".into(),
            per_day: "2".into(),
            no_answer: "240".into(),
            busy: "30".into(),
            machine: "1440".into(),
            abandoned: "4320".into(),
            failed: "1440".into(),
            abandon_pct: "3".into(),
            dial_ratio: "2.5".into(),
            wrap_limit: String::new(),
            machine_handling: "HANG_UP".into(),
            automated_consent: "LAW".into(),
            allow_toll_free: "false".into(),
            safe_harbor: "Sorry we missed you. This call was from {callerId}; we will try again later. To stop these calls, call us back on {callerId} and ask to be removed.".into(),
            dispositions: vec![
                d(1, "INTERESTED", "Connected – Interested", "CONTACT", true, ""),
                d(2, "NOT_INTERESTED", "Connected – Not interested", "FINAL", true, ""),
                d(3, "CALL_BACK", "Call back", "CALLBACK", false, ""),
                d(4, "LEFT_VOICEMAIL", "Left voicemail", "NON_CONTACT", false, "1440"),
                d(5, "NO_ANSWER", "No answer", "NON_CONTACT", false, ""),
                d(6, "WRONG_PARTY", "Wrong party", "NON_CONTACT", true, ""),
            ],
        }
    }

    fn from_loaded(c: &Loaded) -> Form {
        Form {
            name: c.name.clone(),
            dial_mode: c.dial_mode.clone(),
            caller_id: c.caller_id.clone(),
            week: Week::from_hours(&c.calling_window.hours),
            ring: c.ring_timeout_seconds.to_string(),
            max_attempts: c.max_attempts.to_string(),
            per_day: c.max_attempts_per_day.to_string(),
            no_answer: c.retry_delays.no_answer_minutes.to_string(),
            busy: c.retry_delays.busy_minutes.to_string(),
            machine: c.retry_delays.machine_minutes.to_string(),
            abandoned: c.retry_delays.abandoned_minutes.to_string(),
            failed: c.retry_delays.failed_minutes.to_string(),
            abandon_pct: trim_float(c.max_abandon_rate * 100.0),
            dial_ratio: trim_float(c.max_dial_ratio),
            wrap_limit: c
                .wrap_up_limit_seconds
                .map(|s| s.to_string())
                .unwrap_or_default(),
            machine_handling: c.machine_handling.clone(),
            automated_consent: c.automated_consent.clone(),
            allow_toll_free: c.allow_toll_free.to_string(),
            safe_harbor: c.safe_harbor_message.clone(),
            dispositions: c
                .dispositions
                .iter()
                .enumerate()
                .map(|(i, d)| Dispo {
                    key: i as u32 + 1,
                    code: d.code.clone(),
                    label: d.label.clone(),
                    category: d.category.clone(),
                    ends_lead: d.ends_lead,
                    retry: d
                        .retry_delay_minutes
                        .map(|m| m.to_string())
                        .unwrap_or_default(),
                    conversion: d.conversion,
                })
                .collect(),
        }
    }

    /// The settings as API input, and the fields that are not numbers.
    fn to_input(&self) -> (Map<String, Value>, Vec<(String, String)>) {
        let mut bad = Vec::new();
        let mut int = |field: &str, text: &str| -> Value {
            match text.trim().parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => {
                    bad.push((field.to_owned(), "must be a whole number".to_owned()));
                    Value::Null
                }
            }
        };
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("dialMode".into(), json!(self.dial_mode));
        m.insert("callerId".into(), json!(self.caller_id));
        m.insert(
            "callingWindow".into(),
            json!({ "hours": self.week.to_input() }),
        );
        m.insert(
            "ringTimeoutSeconds".into(),
            int("ringTimeoutSeconds", &self.ring),
        );
        m.insert("maxAttempts".into(), int("maxAttempts", &self.max_attempts));
        m.insert(
            "maxAttemptsPerDay".into(),
            int("maxAttemptsPerDay", &self.per_day),
        );
        m.insert(
            "retryDelays".into(),
            json!({
                "noAnswerMinutes": int("retryDelays.noAnswer", &self.no_answer),
                "busyMinutes": int("retryDelays.busy", &self.busy),
                "machineMinutes": int("retryDelays.machine", &self.machine),
                "abandonedMinutes": int("retryDelays.abandoned", &self.abandoned),
                "failedMinutes": int("retryDelays.failed", &self.failed),
            }),
        );
        let wrap = if self.wrap_limit.trim().is_empty() {
            Value::Null
        } else {
            int("wrapUpLimitSeconds", &self.wrap_limit)
        };
        m.insert("wrapUpLimitSeconds".into(), wrap);
        let dispositions: Vec<Value> = self
            .dispositions
            .iter()
            .map(|d| {
                let retry = if d.retry.trim().is_empty() {
                    Value::Null
                } else {
                    int("dispositions.retryDelayMinutes", &d.retry)
                };
                json!({"code": d.code, "label": d.label, "category": d.category,
                       "endsLead": d.ends_lead, "retryDelayMinutes": retry, "conversion": d.conversion})
            })
            .collect();
        m.insert("dispositions".into(), json!(dispositions));
        m.insert("machineHandling".into(), json!(self.machine_handling));
        m.insert("automatedConsent".into(), json!(self.automated_consent));
        m.insert(
            "allowTollFree".into(),
            json!(self.allow_toll_free == "true"),
        );
        m.insert("safeHarborMessage".into(), json!(self.safe_harbor));
        match self.abandon_pct.trim().parse::<f64>() {
            Ok(p) => m.insert("maxAbandonRate".into(), json!(p / 100.0)),
            Err(_) => {
                bad.push(("maxAbandonRate".into(), "must be a number".into()));
                None
            }
        };
        match self.dial_ratio.trim().parse::<f64>() {
            Ok(r) => m.insert("maxDialRatio".into(), json!(r)),
            Err(_) => {
                bad.push(("maxDialRatio".into(), "must be a number".into()));
                None
            }
        };
        // Leave out what did not parse: the server checks the rest.
        strip_nulls(&mut m, &bad);
        (m, bad)
    }
}

/// Drop the values that did not parse (they are reported by the form), but
/// keep an explicit "no wrap-up limit".
fn strip_nulls(m: &mut Map<String, Value>, bad: &[(String, String)]) {
    let wrap_ok = !bad.iter().any(|(f, _)| f == "wrapUpLimitSeconds");
    m.retain(|k, v| !v.is_null() || (k == "wrapUpLimitSeconds" && wrap_ok));
    if let Some(Value::Object(r)) = m.get_mut("retryDelays") {
        r.retain(|_, v| !v.is_null());
    }
}

fn trim_float(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Problem {
    field: String,
    message: String,
}

const CHECK: &str =
    "query($input: CreateCampaignInput!) { checkCampaign(input: $input) { field message } }";

/// A field's label, input and the words under it: the rule's explanation
/// and, when it is broken, the problem.
fn field_row(
    id: &'static str,
    label: &'static str,
    help: &'static str,
    problems: RwSignal<Vec<Problem>>,
    fields: &'static [&'static str],
    input: AnyView,
) -> AnyView {
    let problem = move || {
        problems.with(|ps| {
            ps.iter()
                .find(|p| fields.contains(&p.field.as_str()))
                .map(|p| crate::api::capitalize(&p.message))
        })
    };
    view! {
        <div class="field" data-field=fields[0] data-invalid=move || problem().is_some().then_some("true")>
            <label for=id>{label}</label>
            {input}
            {move || problem().map(|p| view! { <p class="error field-problem">{p}</p> })}
            {(!help.is_empty()).then(|| view! { <p class="help">{help}</p> })}
        </div>
    }
    .into_any()
}

/// A text input bound to one field of the form.
fn text_input(
    id: &'static str,
    kind: &'static str,
    form: RwSignal<Form>,
    get: fn(&Form) -> &String,
    set: fn(&mut Form) -> &mut String,
) -> AnyView {
    view! {
        <input id=id type=kind prop:value=move || form.with(|f| get(f).clone())
            on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| *set(f) = v); }/>
    }
    .into_any()
}

/// A select bound to one field of the form.
fn select_input(
    id: &'static str,
    options: &'static [(&'static str, &'static str)],
    form: RwSignal<Form>,
    get: fn(&Form) -> &String,
    set: fn(&mut Form) -> &mut String,
) -> AnyView {
    view! {
        <select id=id on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| *set(f) = v); }>
            {options.iter().map(|(value, text)| view! {
                <option value=*value selected=move || form.with(|f| get(f) == value)>{*text}</option>
            }).collect_view()}
        </select>
    }
    .into_any()
}

/// Create (`id` None) or edit a campaign.
#[component]
pub fn Editor(center: Center, token: String, id: Option<String>) -> impl IntoView {
    let loaded = RwSignal::new(id.is_none());
    let form = RwSignal::new(Form::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let version = StoredValue::new(0u32);
    let token = StoredValue::new(token);
    let cc = StoredValue::new(center.id.clone());
    let editing = StoredValue::new(id.clone());
    let next_key = StoredValue::new(100u32);

    if let Some(id) = id.clone() {
        spawn_local(async move {
            let q = format!("query($id: ID!) {{ campaign(id: $id) {{ {SETTINGS} }} }}");
            match graphql::<Value>(&q, json!({"id": id}), Some(&token.get_value())).await {
                Ok(d) => match serde_json::from_value::<Loaded>(d["campaign"].clone()) {
                    Ok(c) => {
                        form.set(Form::from_loaded(&c));
                        loaded.set(true);
                    }
                    Err(e) => error.set(Some(format!("Unexpected answer from the server: {e}"))),
                },
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    }

    // Ask the server about the form 250 ms after the last keystroke.
    Effect::new(move |_| {
        let f = form.get();
        if !loaded.get() {
            return;
        }
        saved.set(None);
        let v = version.get_value() + 1;
        version.set_value(v);
        set_timeout(
            move || {
                if version.get_value() != v {
                    return;
                }
                let (mut input, bad) = f.to_input();
                input.insert("contactCenterId".into(), json!(cc.get_value()));
                spawn_local(async move {
                    let answer =
                        graphql::<Value>(CHECK, json!({"input": input}), Some(&token.get_value()))
                            .await;
                    if version.get_value() != v {
                        return;
                    }
                    let mut list: Vec<Problem> = bad
                        .into_iter()
                        .map(|(field, message)| Problem { field, message })
                        .collect();
                    match answer {
                        Ok(d) => {
                            let server: Vec<Problem> =
                                serde_json::from_value(d["checkCampaign"].clone())
                                    .unwrap_or_default();
                            let fresh: Vec<Problem> = server
                                .into_iter()
                                .filter(|p| !list.iter().any(|b| b.field == p.field))
                                .collect();
                            list.extend(fresh);
                            error.set(None);
                        }
                        Err(e) => error.set(Some(e.for_people())),
                    }
                    problems.set(list);
                });
            },
            Duration::from_millis(250),
        );
    });

    // `use_navigate` needs the router's context: taken here, not in the task.
    let navigate = StoredValue::new_local(leptos_router::hooks::use_navigate());
    let save = move || {
        let (mut input, bad) = form.get_untracked().to_input();
        if !bad.is_empty() {
            return;
        }
        saving.set(true);
        let editing_id = editing.get_value();
        let (query, key) = match &editing_id {
            Some(id) => {
                input.insert("id".into(), json!(id));
                (
                    "mutation($input: UpdateCampaignInput!) { updateCampaign(input: $input) { campaign { id } } }",
                    "updateCampaign",
                )
            }
            None => {
                input.insert("contactCenterId".into(), json!(cc.get_value()));
                (
                    "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { campaign { id } } }",
                    "createCampaign",
                )
            }
        };
        spawn_local(async move {
            let r =
                graphql::<Value>(query, json!({"input": input}), Some(&token.get_value())).await;
            saving.set(false);
            match r {
                Ok(d) => {
                    error.set(None);
                    let id = d[key]["campaign"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    if editing_id.is_none() {
                        navigate
                            .with_value(|nav| nav(&format!("/campaigns/{id}"), Default::default()));
                    } else {
                        saved.set(Some("Saved.".into()));
                    }
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };

    let add_dispo = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        form.update(|f| {
            f.dispositions.push(Dispo {
                key,
                category: "CONTACT".into(),
                ..Dispo::default()
            })
        });
    };

    let row =
        move |id, label, help, fields, input| field_row(id, label, help, problems, fields, input);
    let title = if id.is_some() {
        "Settings"
    } else {
        "New campaign"
    };
    view! {
        <form class="card editor" id="campaign-editor" novalidate on:submit=move |ev| { ev.prevent_default(); save(); }>
            <h2>{title}</h2>
            {error_line(error)}
            <div class="form-grid">
                {row("c-name", "Name", "", &["name"], text_input("c-name", "text", form, |f| &f.name, |f| &mut f.name))}
                {row("c-mode", "Dial mode", "Preview: the agent sees the lead and chooses to dial. Progressive: one call per available agent, never abandons. Predictive: more calls than agents, paced to the abandonment limit.", &["dialMode"],
                    select_input("c-mode", &[("PREVIEW", "Preview"), ("PROGRESSIVE", "Progressive"), ("PREDICTIVE", "Predictive")], form, |f| &f.dial_mode, |f| &mut f.dial_mode))}
                {row("c-caller", "Caller ID", "The number leads see. It must be a number they can call back (US Truth in Caller ID Act); written in the contact center's region or as +E.164.", &["callerId"],
                    text_input("c-caller", "tel", form, |f| &f.caller_id, |f| &mut f.caller_id))}
                <fieldset class="field wide" data-field="callingWindow.hours">
                    <legend>"Calling hours"</legend>
                    <p class="help">"Read on each lead's own clock (its time zone). US rules (TCPA) allow 08:00 to 21:00, and the rules of the lead's state or country may allow less: the window only ever narrows what the law allows. \"Until\" is exclusive: no call starts at or after it."</p>
                    {week_table("c", form, |f| &f.week, |f| &mut f.week)}
                    {move || problems.with(|ps| ps.iter().find(|p| p.field.starts_with("callingWindow")).map(|p| view! { <p class="error field-problem">{crate::api::capitalize(&p.message)}</p> }))}
                </fieldset>
                {row("c-ring", "Ring timeout (seconds)", "How long an unanswered call rings. At least 15 seconds (FCC: 15 s or four rings), at most 120.", &["ringTimeoutSeconds"],
                    text_input("c-ring", "number", form, |f| &f.ring, |f| &mut f.ring))}
                {row("c-attempts", "Attempts per lead", "Calls to one lead before it is finished (1–100).", &["maxAttempts"],
                    text_input("c-attempts", "number", form, |f| &f.max_attempts, |f| &mut f.max_attempts))}
                {row("c-perday", "Attempts per lead per day", "How often one lead's phone may ring in a day, in its time zone.", &["maxAttemptsPerDay"],
                    text_input("c-perday", "number", form, |f| &f.per_day, |f| &mut f.per_day))}
                {row("c-abandon", "Abandonment limit (%)", "Live answers that find no free agent, over 30 days. The FTC's safe harbor allows at most 3 %; the pacer slows before it gets there.", &["maxAbandonRate"],
                    text_input("c-abandon", "number", form, |f| &f.abandon_pct, |f| &mut f.abandon_pct))}
                {row("c-ratio", "Most calls in flight per working agent", "The predictive pacer's ceiling (1.0–5.0): calls ringing or waiting per agent idle, on a call or in wrap-up.", &["maxDialRatio"],
                    text_input("c-ratio", "number", form, |f| &f.dial_ratio, |f| &mut f.dial_ratio))}
                {row("c-wrap", "Wrap-up limit (seconds)", "Empty: no limit. Otherwise 5–3600; agents see a countdown.", &["wrapUpLimitSeconds"],
                    text_input("c-wrap", "number", form, |f| &f.wrap_limit, |f| &mut f.wrap_limit))}
                {row("c-machine", "When a machine answers", "", &["machineHandling"],
                    select_input("c-machine", &[("HANG_UP", "Hang up and retry later"), ("LEAVE_MESSAGE", "Leave the message"), ("CONNECT_AGENT", "Connect an agent")], form, |f| &f.machine_handling, |f| &mut f.machine_handling))}
                {row("c-consent", "Consent for predictive and progressive calls", "What a number needs before the dialer calls it by itself. The law asks written consent in Florida, Oklahoma and Maryland; preview calls are a person's choice.", &["automatedConsent"],
                    select_input("c-consent", &[("LAW", "What the called party's law requires"), ("EXPRESS", "Express consent everywhere"), ("EXPRESS_WRITTEN", "Written consent everywhere")], form, |f| &f.automated_consent, |f| &mut f.automated_consent))}
                {row("c-toll-free", "Toll-free leads", "Toll-free numbers reach businesses; a campaign that calls businesses may dial them.", &["allowTollFree"],
                    select_input("c-toll-free", &[("false", "Refused"), ("true", "Dialed (this campaign calls businesses)")], form, |f| &f.allow_toll_free, |f| &mut f.allow_toll_free))}
            </div>
            <h3>"Retry delays (minutes)"</h3>
            <div class="form-grid">
                {row("c-noanswer", "No answer", "", &["retryDelays.noAnswer"], text_input("c-noanswer", "number", form, |f| &f.no_answer, |f| &mut f.no_answer))}
                {row("c-busy", "Busy", "", &["retryDelays.busy"], text_input("c-busy", "number", form, |f| &f.busy, |f| &mut f.busy))}
                {row("c-machine-delay", "Machine", "", &["retryDelays.machine"], text_input("c-machine-delay", "number", form, |f| &f.machine, |f| &mut f.machine))}
                {row("c-abandoned", "Abandoned", "A lead whose call was abandoned waits at least 72 hours (4320 minutes) in a predictive campaign.", &["retryDelays.abandoned"],
                    text_input("c-abandoned", "number", form, |f| &f.abandoned, |f| &mut f.abandoned))}
                {row("c-failed", "Failed", "", &["retryDelays.failed"], text_input("c-failed", "number", form, |f| &f.failed, |f| &mut f.failed))}
            </div>
            <div class="form-grid">
                <div class="field wide" data-field="safeHarborMessage">
                    <label for="c-harbor">"Safe-harbor message"</label>
                    <textarea id="c-harbor" rows="3" prop:value=move || form.with(|f| f.safe_harbor.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.safe_harbor = v); }></textarea>
                    {move || problems.with(|ps| ps.iter().find(|p| p.field == "safeHarborMessage").map(|p| view! { <p class="error field-problem">{crate::api::capitalize(&p.message)}</p> }))}
                    <p class="help">"Played within 2 seconds to a person who answers when no agent is free (and to answering machines when the campaign leaves a message): name your company and a number to call back — {callerId} is read out as the campaign's caller ID (FTC safe harbor; Ofcom's information message). Such a call counts as abandoned."</p>
                </div>
            </div>
            <h3>"Dispositions"</h3>
            <p class="help">"What agents choose at wrap-up. Contacts are every category but non-contact; a conversion counts in the reports."</p>
            <div class="table-wrap">
                <table id="dispositions-editor">
                    <thead><tr><th>"Code"</th><th>"Label"</th><th>"Category"</th><th>"Ends the lead"</th><th>"Retry after (min)"</th><th>"Conversion"</th><th><span class="visually-hidden">"Remove"</span></th></tr></thead>
                    <tbody>
                        <For each=move || form.with(|f| f.dispositions.iter().map(|d| d.key).collect::<Vec<_>>()) key=|k| *k let:key>
                            {dispo_row(form, key)}
                        </For>
                    </tbody>
                </table>
            </div>
            {move || problems.with(|ps| ps.iter().find(|p| p.field.starts_with("dispositions")).map(|p| view! { <p class="error field-problem" data-field="dispositions">{crate::api::capitalize(&p.message)}</p> }))}
            <button type="button" class="secondary" on:click=add_dispo>"Add disposition"</button>
            <div class="submit-row">
                {move || {
                    let n = problems.with(Vec::len);
                    (n > 0).then(|| view! { <span class="error" id="problem-count">{if n == 1 { "1 setting to fix".to_owned() } else { format!("{n} settings to fix") }}</span> })
                }}
                {move || saved.get().map(|s| view! { <span class="muted" role="status">{s}</span> })}
                <button type="submit" id="save-campaign" disabled=move || saving.get() || !loaded.get() || problems.with(|p| !p.is_empty())>
                    {if id.is_some() { "Save settings" } else { "Create campaign" }}
                </button>
            </div>
        </form>
    }
}

fn dispo_row(form: RwSignal<Form>, key: u32) -> impl IntoView {
    let get = move |f: fn(&Dispo) -> String| {
        move || {
            form.with(|x| {
                x.dispositions
                    .iter()
                    .find(|d| d.key == key)
                    .map(f)
                    .unwrap_or_default()
            })
        }
    };
    let edit = move |apply: fn(&mut Dispo, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            form.update(|x| {
                if let Some(d) = x.dispositions.iter_mut().find(|d| d.key == key) {
                    apply(d, v);
                }
            })
        }
    };
    let check = move |get: fn(&Dispo) -> bool, set: fn(&mut Dispo, bool)| {
        view! {
            <input type="checkbox" prop:checked=move || form.with(|x| x.dispositions.iter().find(|d| d.key == key).is_some_and(get))
                on:change=move |ev| { let on = event_target_checked(&ev); form.update(|x| {
                    if let Some(d) = x.dispositions.iter_mut().find(|d| d.key == key) { set(d, on); }
                }); }/>
        }
    };
    let category = get(|d| d.category.clone());
    view! {
        <tr data-key=key>
            <td><input aria-label="Code" class="code" prop:value=get(|d| d.code.clone()) on:input=edit(|d, v| d.code = v.to_uppercase())/></td>
            <td><input aria-label="Label" prop:value=get(|d| d.label.clone()) on:input=edit(|d, v| d.label = v)/></td>
            <td><select aria-label="Category" on:change=edit(|d, v| d.category = v)>
                {CATEGORIES.iter().map(|c| { view! {
                    <option value=*c selected=move || category() == *c>{words(c)}</option>
                }}).collect_view()}
            </select></td>
            <td><label class="check">{check(|d| d.ends_lead, |d, on| d.ends_lead = on)}<span class="visually-hidden">"Ends the lead"</span></label></td>
            <td><input aria-label="Retry after (minutes)" type="number" prop:value=get(|d| d.retry.clone()) on:input=edit(|d, v| d.retry = v)/></td>
            <td><label class="check">{check(|d| d.conversion, |d, on| d.conversion = on)}<span class="visually-hidden">"Conversion"</span></label></td>
            <td><button type="button" class="secondary small" aria-label="Remove disposition"
                on:click=move |_| form.update(|x| x.dispositions.retain(|d| d.key != key))>"Remove"</button></td>
        </tr>
    }
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Head {
    id: String,
    name: String,
    state: String,
    dial_mode: String,
    lead_counts: Vec<Count>,
}

/// A campaign's page: state and lifecycle, settings, leads.
#[component]
pub fn CampaignPage(center: Center, token: String, id: String) -> impl IntoView {
    let head = RwSignal::new(None::<Head>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let tok = StoredValue::new(token.clone());
    let cid = StoredValue::new(id.clone());
    let reload = move || {
        spawn_local(async move {
            let q = "query($id: ID!) { campaign(id: $id) { id name state dialMode leadCounts { status count } } }";
            match graphql::<Value>(q, json!({"id": cid.get_value()}), Some(&tok.get_value())).await
            {
                Ok(d) => head.set(serde_json::from_value(d["campaign"].clone()).ok()),
                Err(e) => error.set(Some(e.for_people())),
            }
        })
    };
    // Re-read the lead counts after each import.
    let imported = RwSignal::new(0u32);
    Effect::new(move |_| {
        imported.track();
        reload();
    });
    let act = move |mutation: &'static str| {
        busy.set(true);
        spawn_local(async move {
            let q = format!(
                "mutation($id: ID!) {{ {mutation}(input: {{campaignId: $id}}) {{ campaign {{ state }} }} }}"
            );
            let r =
                graphql::<Value>(&q, json!({"id": cid.get_value()}), Some(&tok.get_value())).await;
            busy.set(false);
            match r {
                Ok(_) => {
                    error.set(None);
                    reload();
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        })
    };
    let state = move || head.with(|h| h.as_ref().map(|h| h.state.clone()).unwrap_or_default());
    let button = move |label: &'static str,
                       mutation: &'static str,
                       when: &'static [&'static str],
                       class: &'static str| {
        view! {
            <button class=class id=format!("{mutation}-button") disabled=move || busy.get() || !when.contains(&state().as_str())
                on:click=move |_| act(mutation)>{label}</button>
        }
    };
    view! {
        <section class="floor campaign-page" data-state=state>
            <div class="page-head">
                <div>
                    <p class="eyebrow"><a href="/campaigns">"Campaigns"</a></p>
                    <h1>{move || head.with(|h| h.as_ref().map(|h| h.name.clone()).unwrap_or_default())}</h1>
                    <p class="muted">
                        <span id="campaign-state" class=move || format!("state {}", state().to_lowercase())>{move || words(&state())}</span>
                        " · " {move || head.with(|h| h.as_ref().map(|h| words(&h.dial_mode)).unwrap_or_default())}
                        " · " {move || head.with(|h| h.as_ref().map(|h| lead_summary(&h.lead_counts)).unwrap_or_default())}
                    </p>
                </div>
                <div class="controls">
                    {button("Start", "startCampaign", &["DRAFT", "PAUSED"], "")}
                    {button("Pause", "pauseCampaign", &["RUNNING"], "secondary")}
                    {button("Complete", "completeCampaign", &["RUNNING", "PAUSED"], "secondary")}
                    <a class="button secondary" href=move || format!("/reports?campaign={}", cid.get_value())>"Report"</a>
                </div>
            </div>
            {error_line(error)}
            <super::import::Import campaign=id.clone() token=token.clone() done=imported/>
            <super::leads::Leads campaign=id.clone() token=token.clone() refresh=imported/>
            <super::follow_ups::FollowUps campaign=id.clone() token=token.clone()/>
            <details class="card-details" open=move || state() == "DRAFT">
                <summary>"Settings and dispositions"</summary>
                <Editor center=center.clone() token=token.clone() id=Some(id.clone())/>
            </details>
        </section>
    }
}

/// "120 leads: 100 new, 20 finished".
fn lead_summary(counts: &[Count]) -> String {
    let total: i64 = counts.iter().map(|c| c.count).sum();
    let parts: Vec<String> = counts
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| format!("{} {}", c.count, words(&c.status)))
        .collect();
    let noun = if total == 1 { "lead" } else { "leads" };
    if parts.is_empty() {
        format!("{total} {noun}")
    } else {
        format!("{total} {noun}: {}", parts.join(", "))
    }
}
