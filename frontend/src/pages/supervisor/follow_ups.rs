//! A campaign's follow-up rules (PRODUCT.md §3): what happens after a
//! wrap-up with a given disposition or category — dial again after a
//! delay, a callback, move or copy the lead to another campaign, or send
//! the wrap-up to a webhook endpoint. Rules are considered in order.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{change, error_line, words};
use crate::api::graphql;

const RULES: &str = "query($c: ID!) { followUpRules(campaignId: $c) { id position dispositionCode category \
     action delayMinutes targetCampaignId endpointId } \
     campaign(id: $c) { dispositions { code label } } campaigns(first: 100) { nodes { id name } } }";
/// Admins only: supervisors type the endpoint's id an admin gave them.
const ENDPOINTS: &str = "query { webhookEndpoints { id name active } }";
const ADD: &str =
    "mutation($input: AddFollowUpRuleInput!) { addFollowUpRule(input: $input) { id } }";
const REMOVE: &str = "mutation($id: ID!) { removeFollowUpRule(id: $id) }";
const ACTIONS: [(&str, &str); 5] = [
    ("RETRY", "Dial again after a delay"),
    ("CALLBACK", "A callback (any agent) after a delay"),
    ("MOVE", "Move the lead to another campaign"),
    ("COPY", "Copy the lead to another campaign"),
    ("WEBHOOK", "Send the wrap-up to a webhook endpoint"),
];
const CATEGORIES: [&str; 4] = ["CONTACT", "NON_CONTACT", "CALLBACK", "FINAL"];

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    position: i64,
    disposition_code: Option<String>,
    category: Option<String>,
    action: Option<String>,
    delay_minutes: Option<i64>,
    target_campaign_id: Option<String>,
    endpoint_id: Option<String>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Choice {
    #[serde(alias = "code")]
    id: String,
    #[serde(alias = "label")]
    name: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
struct Known {
    rules: Vec<Rule>,
    dispositions: Vec<Choice>,
    campaigns: Vec<Choice>,
    /// None: not an admin (the id is typed).
    endpoints: Option<Vec<Choice>>,
}

impl Known {
    fn name_of(list: &[Choice], id: &str) -> String {
        list.iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| id.to_owned())
    }

    /// "Interested → send to CRM".
    fn describe(&self, r: &Rule) -> (String, String) {
        let when = match (&r.disposition_code, &r.category) {
            (Some(code), _) => format!("disposition {}", Self::name_of(&self.dispositions, code)),
            (None, Some(cat)) => format!("any {} disposition", words(cat)),
            (None, None) => "any disposition".into(),
        };
        let delay = r
            .delay_minutes
            .map(|m| format!(" after {m} min"))
            .unwrap_or_default();
        let then = match r.action.as_deref() {
            Some("RETRY") => format!("dial again{delay}"),
            Some("CALLBACK") => format!("callback{delay}"),
            Some(a @ ("MOVE" | "COPY")) => format!(
                "{} to {}",
                words(a),
                Self::name_of(
                    &self.campaigns,
                    r.target_campaign_id.as_deref().unwrap_or("")
                )
            ),
            Some("WEBHOOK") => {
                let id = r.endpoint_id.as_deref().unwrap_or("");
                let name = self
                    .endpoints
                    .as_deref()
                    .map(|e| Self::name_of(e, id))
                    .unwrap_or_else(|| id.to_owned());
                format!("send to {name}")
            }
            _ => "nothing".into(),
        };
        (when, then)
    }
}

#[component]
pub fn FollowUps(campaign: String, token: String) -> impl IntoView {
    let known = RwSignal::new(Known::default());
    let error = RwSignal::new(None::<String>);
    let token = StoredValue::new(token);
    let campaign = StoredValue::new(campaign);
    // The rule being added.
    let matching = RwSignal::new(String::new()); // "", "code:X" or "cat:Y"
    let action = RwSignal::new("RETRY".to_owned());
    let delay = RwSignal::new("60".to_owned());
    let target = RwSignal::new(String::new());
    let endpoint = RwSignal::new(String::new());

    let load = move || {
        spawn_local(async move {
            let tok = token.get_value();
            let r = graphql::<Value>(RULES, json!({"c": campaign.get_value()}), Some(&tok)).await;
            let endpoints = graphql::<Value>(ENDPOINTS, json!({}), Some(&tok))
                .await
                .ok();
            match r {
                Ok(d) => {
                    error.set(None);
                    let parse = |v: &Value| {
                        serde_json::from_value::<Vec<Choice>>(v.clone()).unwrap_or_default()
                    };
                    let me = campaign.get_value();
                    known.set(Known {
                        rules: serde_json::from_value(d["followUpRules"].clone())
                            .unwrap_or_default(),
                        dispositions: parse(&d["campaign"]["dispositions"]),
                        campaigns: parse(&d["campaigns"]["nodes"])
                            .into_iter()
                            .filter(|c| c.id != me)
                            .collect(),
                        endpoints: endpoints.map(|e| parse(&e["webhookEndpoints"])),
                    });
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };
    Effect::new(move |_| load());

    let add = move || {
        let mut input =
            json!({"campaignId": campaign.get_value(), "action": action.get_untracked()});
        let m = matching.get_untracked();
        if let Some(code) = m.strip_prefix("code:") {
            input["dispositionCode"] = json!(code);
        } else if let Some(cat) = m.strip_prefix("cat:") {
            input["category"] = json!(cat);
        }
        match action.get_untracked().as_str() {
            "RETRY" | "CALLBACK" => match delay.get_untracked().trim().parse::<i64>() {
                Ok(n) => input["delayMinutes"] = json!(n),
                Err(_) => {
                    error.set(Some("The delay must be a whole number of minutes.".into()));
                    return;
                }
            },
            "MOVE" | "COPY" => input["targetCampaignId"] = json!(target.get_untracked()),
            _ => input["endpointId"] = json!(endpoint.get_untracked().trim()),
        }
        change(token, ADD, input, error, load);
    };
    let remove = move |id: String| {
        spawn_local(async move {
            match graphql::<Value>(REMOVE, json!({"id": id}), Some(&token.get_value())).await {
                Ok(_) => load(),
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };

    let needs =
        move |kinds: &'static [&'static str]| move || kinds.contains(&action.get().as_str());
    view! {
        <section class="card" id="follow-ups">
            <h2>"After the call"</h2>
            <p class="help">"What happens after a wrap-up, rule by rule in this order. The disposition's own retry and end-of-lead settings apply first."</p>
            {error_line(error)}
            <ol id="follow-up-rules">
                {move || {
                    let k = known.get();
                    k.rules.iter().map(|r| {
                        let (when, then) = k.describe(r);
                        let id = r.id.clone();
                        view! {
                            <li class="follow-up-rule" data-rule-id=r.id.clone() data-action=r.action.clone().unwrap_or_default()>
                                <span>{format!("When {when}: {then}")}</span>
                                <button class="secondary remove-rule" aria-label=format!("Remove the rule: when {when}, {then}")
                                    on:click=move |_| remove(id.clone())>"Remove"</button>
                            </li>
                        }
                    }).collect_view()
                }}
            </ol>
            {move || known.with(|k| k.rules.is_empty()).then(|| view! { <p class="muted" id="no-rules">"No rules: wrap-ups only follow their disposition's settings."</p> })}
            <form class="form-grid" id="add-rule" novalidate on:submit=move |ev| { ev.prevent_default(); add(); }>
                <div class="field">
                    <label for="rule-match">"When the wrap-up is"</label>
                    <select id="rule-match" on:change=move |ev| matching.set(event_target_value(&ev))>
                        <option value="">"any disposition"</option>
                        {move || known.get().dispositions.into_iter().map(|d| view! {
                            <option value=format!("code:{}", d.id)>{d.name}</option>
                        }).collect_view()}
                        {CATEGORIES.iter().map(|c| view! { <option value=format!("cat:{c}")>{format!("any {} disposition", words(c))}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="rule-action">"Then"</label>
                    <select id="rule-action" on:change=move |ev| action.set(event_target_value(&ev))>
                        {ACTIONS.iter().map(|(a, label)| view! { <option value=*a>{*label}</option> }).collect_view()}
                    </select>
                </div>
                <Show when=needs(&["RETRY", "CALLBACK"])>
                    <div class="field">
                        <label for="rule-delay">"Delay (minutes)"</label>
                        <input id="rule-delay" type="number" min="1" max="43200" prop:value=move || delay.get() on:input=move |ev| delay.set(event_target_value(&ev))/>
                    </div>
                </Show>
                <Show when=needs(&["MOVE", "COPY"])>
                    <div class="field">
                        <label for="rule-target">"Campaign"</label>
                        <select id="rule-target" on:change=move |ev| target.set(event_target_value(&ev))>
                            <option value="">"— choose —"</option>
                            {move || known.get().campaigns.into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view()}
                        </select>
                    </div>
                </Show>
                <Show when=needs(&["WEBHOOK"])>
                    <div class="field">
                        <label for="rule-endpoint">"Endpoint"</label>
                        {move || match known.get().endpoints {
                            Some(list) => view! {
                                <select id="rule-endpoint" on:change=move |ev| endpoint.set(event_target_value(&ev))>
                                    <option value="">"— choose —"</option>
                                    {list.into_iter().map(|e| view! { <option value=e.id>{e.name}</option> }).collect_view()}
                                </select>
                            }.into_any(),
                            None => view! {
                                <input id="rule-endpoint" placeholder="Endpoint ID" prop:value=move || endpoint.get() on:input=move |ev| endpoint.set(event_target_value(&ev))/>
                                <p class="help">"An admin creates endpoints (Admin page) and gives you the ID."</p>
                            }.into_any(),
                        }}
                    </div>
                </Show>
                <div class="submit-row"><button type="submit" id="add-rule-submit">"Add rule"</button></div>
            </form>
        </section>
    }
}
