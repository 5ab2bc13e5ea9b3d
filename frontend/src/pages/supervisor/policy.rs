//! The organization's own calling rules (admins): hours per weekday, closing
//! days and caps on calls per number. They narrow what the law of each
//! called party allows; each save is a new revision the gate applies from
//! that instant.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error_line;
use super::week::{DayHours, Week, week_table};
use crate::api::graphql;
use crate::time;

const POLICY: &str = "query { compliancePolicy { revision setAt hours { day start end } \
     closingDays { name date } caps { max withinHours } } }";
const SET: &str = "mutation($input: CompliancePolicyInput!) { setCompliancePolicy(input: $input) { policy { revision } } }";

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Loaded {
    revision: i64,
    set_at: Option<String>,
    hours: Option<Vec<DayHours>>,
    closing_days: Vec<ClosingDay>,
    caps: Vec<Cap>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct ClosingDay {
    name: String,
    date: String,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Cap {
    max: i64,
    within_hours: i64,
}

/// The form as typed.
#[derive(Clone, Debug, PartialEq, Default)]
struct Form {
    own_hours: bool,
    week: Week,
    /// One per line: "12-24 Christmas Eve" or "2027-01-02 Inventory".
    closing_days: String,
    /// (max, within hours) as typed.
    caps: Vec<(String, String)>,
}

impl Form {
    fn from_loaded(p: &Loaded) -> Form {
        Form {
            own_hours: p.hours.is_some(),
            week: p.hours.as_deref().map(Week::from_hours).unwrap_or_default(),
            closing_days: p
                .closing_days
                .iter()
                .map(|d| format!("{} {}", d.date, d.name))
                .collect::<Vec<_>>()
                .join("\n"),
            caps: p
                .caps
                .iter()
                .map(|c| (c.max.to_string(), c.within_hours.to_string()))
                .collect(),
        }
    }

    /// The mutation's input, or what cannot be read.
    fn to_input(&self) -> Result<Value, String> {
        let hours: Vec<Value> = if self.own_hours {
            self.week.to_input()
        } else {
            Vec::new()
        };
        let closing: Vec<Value> = self
            .closing_days
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (date, name) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
                json!({"date": date, "name": name.trim()})
            })
            .collect();
        let caps = self
            .caps
            .iter()
            .map(
                |(m, h)| match (m.trim().parse::<i64>(), h.trim().parse::<i64>()) {
                    (Ok(max), Ok(within)) => Ok(json!({"max": max, "withinHours": within})),
                    _ => Err(format!(
                        "a cap needs whole numbers: {m:?} calls in {h:?} hours"
                    )),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json!({"hours": hours, "closingDays": closing, "caps": caps}))
    }
}

#[component]
pub fn CompliancePolicy(token: StoredValue<String>) -> impl IntoView {
    let form = RwSignal::new(Form::default());
    let loaded = RwSignal::new(None::<Loaded>);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<i64>);

    let load = move || {
        spawn_local(async move {
            match graphql::<Value>(POLICY, json!({}), Some(&token.get_value())).await {
                Ok(d) => match serde_json::from_value::<Loaded>(d["compliancePolicy"].clone()) {
                    Ok(p) => {
                        error.set(None);
                        form.set(Form::from_loaded(&p));
                        loaded.set(Some(p));
                    }
                    Err(e) => error.set(Some(format!("unexpected answer: {e}"))),
                },
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };
    Effect::new(move |_| load());
    let save = move || {
        let input = match form.with_untracked(Form::to_input) {
            Ok(i) => i,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        spawn_local(async move {
            match graphql::<Value>(SET, json!({"input": input}), Some(&token.get_value())).await {
                Ok(d) => {
                    error.set(None);
                    saved.set(d["setCompliancePolicy"]["policy"]["revision"].as_i64());
                    load();
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };

    let revision_line = move || {
        loaded.get().map(|p| match (p.revision, p.set_at) {
            (0, _) | (_, None) => "Pinline's defaults: no hours or closing days of your own; at most 3 calls to a number in any 24 hours.".to_owned(),
            (n, Some(at)) => format!(
                "Revision {n}, set {}.",
                time::parse_ms(&at).map(|ms| time::in_zone(ms, None)).unwrap_or(at)
            ),
        })
    };

    view! {
        <form class="card" id="compliance-policy" novalidate on:submit=move |ev| { ev.prevent_default(); save(); }>
            <h2>"Calling rules of the organization"</h2>
            <p class="help">"Added to the law of every called party, for every campaign and manual call: they can only narrow what the law allows. Each save is a new revision, applied from that moment and cited in the compliance trail."</p>
            <p class="muted" id="policy-revision">{revision_line}</p>
            {error_line(error)}
            {move || saved.get().map(|n| view! { <p class="notice" role="status" id="policy-saved">{format!("Saved as revision {n}.")}</p> })}
            <fieldset class="field wide">
                <legend>"Calling hours"</legend>
                <label><input type="checkbox" id="policy-own-hours" prop:checked=move || form.with(|f| f.own_hours)
                    on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| f.own_hours = on); }/>
                    "Keep our own calling hours (read on each lead's clock)"</label>
                <div hidden=move || form.with(|f| !f.own_hours)>
                    {week_table("policy", form, |f| &f.week, |f| &mut f.week)}
                </div>
            </fieldset>
            <div class="field wide">
                <label for="policy-closing-days">"Closing days"</label>
                <p class="help">"One per line: MM-DD for every year or YYYY-MM-DD for once, then a name — \"12-24 Christmas Eve\", \"2027-01-02 Inventory\". In the lead's local date."</p>
                <textarea id="policy-closing-days" rows="4"
                    prop:value=move || form.with(|f| f.closing_days.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.closing_days = v); }></textarea>
            </div>
            <fieldset class="field wide">
                <legend>"Calls per number"</legend>
                <p class="help">"Across the organization, whichever campaign, contact center or lead. At least one cap; the law's caps (Florida, Oklahoma, Maryland: 3 in 24 hours) apply as well."</p>
                <ul class="caps">
                    {move || (0..form.with(|f| f.caps.len())).map(|i| view! {
                        <li class="cap">
                            "At most "
                            <input type="number" min="1" class="cap-max" aria-label="Calls"
                                prop:value=move || form.with(|f| f.caps.get(i).map(|c| c.0.clone()).unwrap_or_default())
                                on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| if let Some(c) = f.caps.get_mut(i) { c.0 = v }); }/>
                            " calls in any "
                            <input type="number" min="1" class="cap-hours" aria-label="Hours"
                                prop:value=move || form.with(|f| f.caps.get(i).map(|c| c.1.clone()).unwrap_or_default())
                                on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| if let Some(c) = f.caps.get_mut(i) { c.1 = v }); }/>
                            " hours "
                            <button type="button" class="secondary remove-cap" aria-label=format!("Remove cap {}", i + 1)
                                on:click=move |_| form.update(|f| { if i < f.caps.len() { f.caps.remove(i); } })>"Remove"</button>
                        </li>
                    }).collect_view()}
                </ul>
                <button type="button" class="secondary" id="add-cap"
                    on:click=move |_| form.update(|f| f.caps.push(("1".into(), "8".into())))>"Add a cap"</button>
            </fieldset>
            <div class="controls">
                <button type="submit" id="save-policy">"Save as a new revision"</button>
            </div>
        </form>
    }
}
