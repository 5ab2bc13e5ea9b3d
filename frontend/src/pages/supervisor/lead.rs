//! A lead's page: who and where, whether it may be dialed now and why not
//! ("not dialable until 09:00 America/Chicago: outside calling window"),
//! its custom properties, and every call with its outcome, agent and
//! wrap-up.

use leptos::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::words;
use crate::api::graphql;
use crate::model::{full_name, outcome_words};
use crate::time;

const LEAD: &str = "query($id: ID!) { lead(id: $id) { id phone firstName lastName timeZone status \
     attempts doNotText consent { kind givenAt method revokedAt } priority customProperties { key value } campaign { id name } \
     history(first: 50) { id createdAt outcome origin agent { name } \
     wrapUp { dispositionCode notes doNotCall doNotText invalidNumber callbackAt } } } \
     eligibility(leadId: $id) { eligible reason explanation } }";

#[derive(Deserialize, Clone)]
struct Data {
    lead: Lead,
    eligibility: Eligibility,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Lead {
    phone: String,
    first_name: Option<String>,
    last_name: Option<String>,
    time_zone: Option<String>,
    status: String,
    attempts: i64,
    do_not_text: bool,
    consent: Consent,
    priority: i64,
    custom_properties: Vec<Prop>,
    campaign: Named,
    history: Vec<Call>,
}

/// What stands for the number now.
#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Consent {
    kind: String,
    given_at: Option<String>,
    method: Option<String>,
    revoked_at: Option<String>,
}

impl Consent {
    /// "written consent (web form, 2026-05-01)", "consent revoked 2026-06-05".
    fn words(&self) -> String {
        let day = |t: &str| t.get(..10).unwrap_or(t).to_owned();
        match (self.kind.as_str(), &self.given_at, &self.revoked_at) {
            ("NONE", _, Some(r)) => format!("consent revoked {}", day(r)),
            ("NONE", _, None) => "no consent on record".into(),
            (kind, given, _) => format!(
                "{} ({}{})",
                if kind == "EXPRESS_WRITTEN" {
                    "written consent"
                } else {
                    "express consent"
                },
                self.method.clone().unwrap_or_default(),
                given
                    .as_deref()
                    .map(|g| format!(", {}", day(g)))
                    .unwrap_or_default()
            ),
        }
    }
}

#[derive(Deserialize, Clone)]
struct Prop {
    key: String,
    value: String,
}

#[derive(Deserialize, Clone)]
struct Named {
    id: String,
    name: String,
}

#[derive(Deserialize, Clone)]
struct Agent {
    name: String,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Call {
    id: String,
    created_at: String,
    outcome: Option<String>,
    origin: String,
    agent: Option<Agent>,
    wrap_up: Option<WrapUp>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct WrapUp {
    disposition_code: String,
    notes: String,
    do_not_call: bool,
    do_not_text: bool,
    invalid_number: Option<String>,
    callback_at: Option<String>,
}

#[derive(Deserialize, Clone)]
struct Eligibility {
    eligible: bool,
    reason: String,
    explanation: String,
}

#[component]
pub fn LeadPage(token: String, id: String) -> impl IntoView {
    let data = LocalResource::new(move || {
        let (id, token) = (id.clone(), token.clone());
        async move { graphql::<Data>(LEAD, json!({"id": id}), Some(&token)).await }
    });
    view! {
        <section class="floor lead-page">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e.for_people()}</p> }.into_any(),
                    Ok(Data { lead, eligibility }) => {
                        let name = full_name(lead.first_name.as_deref(), lead.last_name.as_deref());
                        let zone = lead.time_zone.clone();
                        view! {
                            <div class="page-head">
                                <div>
                                    <p class="eyebrow"><a href=format!("/campaigns/{}", lead.campaign.id)>{lead.campaign.name.clone()}</a></p>
                                    <h1>{if name.is_empty() { lead.phone.clone() } else { name }}</h1>
                                    <p class="muted">{lead.phone.clone()} " · " {words(&lead.status)} " · "
                                        {format!("{} attempts", lead.attempts)} " · "
                                        {zone.clone().unwrap_or_else(|| "time zone unknown".into())}
                                        {lead.do_not_text.then_some(" · do not text")}
                                        " · " <span id="lead-consent" data-kind=lead.consent.kind.clone()>{lead.consent.words()}</span></p>
                                </div>
                            </div>
                            <p class=if eligibility.eligible { "card eligibility ok" } else { "card eligibility no" }
                                id="eligibility" data-reason=eligibility.reason.clone()>
                                <strong>{if eligibility.eligible { "Dialable now. " } else { "Not dialable now. " }}</strong>
                                {crate::api::capitalize(&eligibility.explanation)}
                            </p>
                            <div class="panes two">
                                <div class="card">
                                    <h2>"Properties"</h2>
                                    <dl class="props">
                                        <dt>"Priority"</dt><dd>{lead.priority}</dd>
                                        {lead.custom_properties.into_iter().map(|p| view! { <dt>{p.key}</dt><dd>{p.value}</dd> }).collect_view()}
                                    </dl>
                                </div>
                                <div class="card">
                                    <h2>"Calls"</h2>
                                    {lead.history.is_empty().then(|| view! { <p class="muted">"Not called yet."</p> })}
                                    <ul class="history" id="lead-calls">
                                        {lead.history.into_iter().map(|c| {
                                            let when = time::parse_ms(&c.created_at).map(|ms| time::in_zone(ms, None)).unwrap_or_default();
                                            let wrap = c.wrap_up.map(|w| {
                                                let mut marks = Vec::new();
                                                if w.do_not_call { marks.push("do not call".to_owned()); }
                                                if w.do_not_text { marks.push("do not text".to_owned()); }
                                                if let Some(r) = w.invalid_number { marks.push(format!("invalid number ({})", words(&r))); }
                                                if let Some(cb) = w.callback_at.as_deref().and_then(time::parse_ms) {
                                                    marks.push(format!("callback {}", time::in_zone(cb, zone.as_deref())));
                                                }
                                                view! {
                                                    <div><strong>{words(&w.disposition_code)}</strong>
                                                        {(!marks.is_empty()).then(|| format!(" · {}", marks.join(", ")))}</div>
                                                    {(!w.notes.is_empty()).then(|| view! { <div class="muted">{w.notes}</div> })}
                                                }
                                            });
                                            view! {
                                                <li data-call-id=c.id>
                                                    <div>{when} " · " {c.outcome.as_deref().map(outcome_words).unwrap_or("in progress")}
                                                        " · " {words(&c.origin)}
                                                        {c.agent.map(|a| format!(" · {}", a.name))}</div>
                                                    {wrap}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                </div>
                            </div>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}
