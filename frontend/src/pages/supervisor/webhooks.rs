//! Webhook endpoints (admins): create one (its signing secret is shown
//! once), pause or resume it, rotate its secret, and read its delivery
//! history — each message with its attempts (status, error, duration) and
//! a button to send it again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error_line;
use crate::api::graphql;
use crate::time;

const ENDPOINTS: &str = "query { webhookEndpoints { id name url active \
     messages(first: 20) { id event createdAt attempts deliveredAt nextAttemptAt lastError \
     history { attempt at statusCode error durationMs } } } }";
const CREATE: &str = "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id name } secret } }";
const UPDATE: &str = "mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { endpoint { id name } secret } }";
const REDELIVER: &str = "mutation($id: ID!) { redeliverWebhook(messageId: $id) }";

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Endpoint {
    id: String,
    name: String,
    url: String,
    active: bool,
    messages: Vec<Message>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Message {
    id: String,
    event: String,
    created_at: String,
    attempts: i64,
    delivered_at: Option<String>,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    history: Vec<Attempt>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Attempt {
    attempt: i64,
    at: String,
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
}

fn when(t: &str) -> String {
    time::parse_ms(t)
        .map(|ms| time::in_zone(ms, None))
        .unwrap_or_default()
}

#[component]
pub fn Webhooks(token: StoredValue<String>) -> impl IntoView {
    let endpoints = RwSignal::new(Vec::<Endpoint>::new());
    let error = RwSignal::new(None::<String>);
    // The secret of the endpoint just created or rotated: shown once.
    let secret = RwSignal::new(None::<(String, String)>);
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());

    let load = move || {
        spawn_local(async move {
            match graphql::<Value>(ENDPOINTS, json!({}), Some(&token.get_value())).await {
                Ok(d) => {
                    error.set(None);
                    endpoints.set(
                        serde_json::from_value(d["webhookEndpoints"].clone()).unwrap_or_default(),
                    );
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };
    Effect::new(move |_| load());
    let send = move |mutation: &'static str, vars: Value, key: &'static str| {
        spawn_local(async move {
            match graphql::<Value>(mutation, vars, Some(&token.get_value())).await {
                Ok(d) => {
                    error.set(None);
                    if let Some(s) = d[key]["secret"].as_str() {
                        let who = d[key]["endpoint"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        secret.set(Some((who, s.to_owned())));
                    }
                    if key == "createWebhookEndpoint" {
                        name.set(String::new());
                        url.set(String::new());
                    }
                    load();
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };

    let endpoint_view = move |e: Endpoint| {
        let (id1, id2) = (e.id.clone(), e.id.clone());
        let active = e.active;
        view! {
            <div class="endpoint" data-endpoint-id=e.id.clone() data-active=if active { "true" } else { "false" }>
                <h3>{e.name.clone()} <span class="muted">{format!(" · {}", e.url)}</span></h3>
                <p class="help">{format!("ID {} (for follow-up rules) · {}", e.id, if active { "sending" } else { "paused: messages wait" })}</p>
                <div class="controls">
                    <button class="secondary toggle-endpoint" on:click=move |_| send(UPDATE, json!({"input": {"id": id1, "active": !active}}), "updateWebhookEndpoint")>
                        {if active { "Pause" } else { "Resume" }}
                    </button>
                    <button class="secondary rotate-secret" on:click=move |_| send(UPDATE, json!({"input": {"id": id2, "rotateSecret": true}}), "updateWebhookEndpoint")>
                        "Rotate secret"
                    </button>
                </div>
                {if e.messages.is_empty() {
                    view! { <p class="muted">"Nothing sent yet."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table class="messages">
                                <thead><tr><th>"Event"</th><th>"Created"</th><th>"State"</th><th>"Attempts"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {e.messages.into_iter().map(|m| {
                                        let id = m.id.clone();
                                        let state = match (&m.delivered_at, &m.next_attempt_at) {
                                            (Some(t), _) => format!("delivered {}", when(t)),
                                            (None, Some(t)) => format!("next attempt {}{}", when(t), m.last_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()),
                                            (None, None) => format!("given up{}", m.last_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()),
                                        };
                                        view! {
                                            <tr class="message" data-message-id=m.id.clone() data-delivered=if m.delivered_at.is_some() { "true" } else { "false" } data-attempts=m.attempts.to_string()>
                                                <td>{m.event.clone()}</td>
                                                <td>{when(&m.created_at)}</td>
                                                <td>{state}</td>
                                                <td>
                                                    <details>
                                                        <summary>{format!("{} attempt{}", m.attempts, if m.attempts == 1 { "" } else { "s" })}</summary>
                                                        <ol class="attempts">
                                                            {m.history.into_iter().map(|a| view! {
                                                                <li>{format!("#{} {} · {} · {} ms", a.attempt, when(&a.at),
                                                                    a.status_code.map(|c| format!("HTTP {c}")).or(a.error).unwrap_or_else(|| "no answer".into()),
                                                                    a.duration_ms)}</li>
                                                            }).collect_view()}
                                                        </ol>
                                                    </details>
                                                </td>
                                                <td class="actions">
                                                    <button class="secondary redeliver" aria-label=format!("Send {} again", m.event)
                                                        on:click=move |_| send(REDELIVER, json!({"id": id}), "redeliverWebhook")>"Send again"</button>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </div>
        }
    };

    view! {
        <div class="card" id="webhooks">
            <div class="page-head">
                <h2>"Webhook endpoints"</h2>
                <button class="secondary" id="refresh-webhooks" on:click=move |_| load()>"Refresh"</button>
            </div>
            <p class="help">"Follow-up rules send wrap-ups here, signed with the endpoint's secret (HMAC-SHA256), retried until the receiver answers 2xx."</p>
            {error_line(error)}
            {move || secret.get().map(|(who, s)| view! {
                <p class="notice" role="status" id="endpoint-secret">{format!("The signing secret of {who} (shown this once): ")}<code>{s}</code></p>
            })}
            {move || endpoints.get().into_iter().map(endpoint_view).collect_view()}
            <form class="inline-form" id="new-endpoint" novalidate on:submit=move |ev| {
                ev.prevent_default();
                send(CREATE, json!({"input": {"name": name.get_untracked().trim(), "url": url.get_untracked().trim()}}), "createWebhookEndpoint");
            }>
                <label for="endpoint-name">"Name"</label>
                <input id="endpoint-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <label for="endpoint-url">"URL"</label>
                <input id="endpoint-url" type="url" placeholder="https://…" prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                <button type="submit" id="create-endpoint">"Add endpoint"</button>
            </form>
        </div>
    }
}
