//! The signed-in shell: who you are, your organization, the contact
//! center you work in (a choice when you belong to several; remembered),
//! sign-out, and under it the page: the agent workspace for agents; for
//! supervisors and admins a navigation between their views (the live
//! floor first). Without a valid session it sends you to the sign-in page.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use serde::Deserialize;
use serde_json::json;

use super::floor::LiveFloor;
use super::workspace::{Center, Workspace};
use crate::api::graphql;
use crate::session;

#[derive(Deserialize, Clone)]
struct MeData {
    me: Me,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Me {
    id: String,
    name: String,
    email: String,
    role: String,
    organization: Org,
    contact_centers: Vec<Center>,
}

#[derive(Deserialize, Clone)]
struct Org {
    name: String,
}

const ME: &str = "query Me { me { id name email role organization { name } contactCenters { id name dialerEnabled } } }";

/// Which page the shell shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Page {
    /// The agent workspace for agents, the live floor for the others.
    Home,
    Floor,
}

#[component]
pub fn Shell(page: Page) -> impl IntoView {
    let navigate = use_navigate();
    let token = session::token();
    if token.is_none() {
        let navigate = navigate.clone();
        request_animation_frame(move || navigate("/login", NavigateOptions::default()));
    }
    let me = LocalResource::new(move || {
        let token = session::token();
        async move {
            match token {
                Some(t) => graphql::<MeData>(ME, json!({}), Some(&t))
                    .await
                    .map(|d| d.me),
                None => Err(crate::api::ApiError {
                    code: "UNAUTHENTICATED".into(),
                    message: "not signed in".into(),
                }),
            }
        }
    });

    let go_login = navigate.clone();
    Effect::new(move |_| {
        if let Some(Err(e)) = me.get()
            && e.code == "UNAUTHENTICATED"
        {
            session::clear();
            go_login("/login", NavigateOptions::default());
        }
    });

    let sign_out = {
        let navigate = navigate.clone();
        Action::new_local(move |_: &()| {
            let navigate = navigate.clone();
            async move {
                if let Some(t) = session::token() {
                    // Ending the session on the server; the token is dropped
                    // locally whatever the answer.
                    let _ =
                        graphql::<serde_json::Value>("mutation { logout }", json!({}), Some(&t))
                            .await;
                }
                session::clear();
                navigate("/login", NavigateOptions::default());
            }
        })
    };

    let chosen = RwSignal::new(session::center());

    view! {
        <Suspense fallback=|| view! { <main class="center"><p>"Loading…"</p></main> }>
            {move || me.get().map(|result| match result {
                Ok(me) => {
                    let centers = me.contact_centers.clone();
                    // The remembered choice, else the first with the dialer, else the first.
                    let center = move || {
                        let want = chosen.get();
                        centers
                            .iter()
                            .find(|c| Some(&c.id) == want.as_ref())
                            .or_else(|| centers.iter().find(|c| c.dialer_enabled))
                            .or_else(|| centers.first())
                            .cloned()
                    };
                    let center = Memo::new(move |_| center());
                    let many = me.contact_centers.len() > 1;
                    let options = me.contact_centers.clone();
                    let token = session::token().unwrap_or_default();
                    let me_id = me.id.clone();
                    let supervises = me.role != "AGENT";
                    // Home is the workspace for agents and the floor for the others.
                    let shown = match page {
                        Page::Home if supervises => Page::Floor,
                        p => p,
                    };
                    view! {
                        <header class="topbar">
                            <span class="brand">"Pinline"</span>
                            <span class="org">{me.organization.name.clone()}</span>
                            {many.then(|| view! {
                                <label class="visually-hidden" for="center-select">"Contact center"</label>
                                <select id="center-select" on:change=move |ev| {
                                    let id = event_target_value(&ev);
                                    session::save_center(&id);
                                    chosen.set(Some(id));
                                }>
                                    {options.iter().map(|c| {
                                        let id = c.id.clone();
                                        view! { <option value=c.id.clone() selected=move || center.get().is_some_and(|x| x.id == id)>{c.name.clone()}</option> }
                                    }).collect_view()}
                                </select>
                            })}
                            {(!many).then(|| center.get_untracked().map(|c| view! { <span class="cc-name">{c.name}</span> }))}
                            <span class="spacer"></span>
                            <span class="who" title=me.email.clone()>
                                {me.name.clone()} " · " <span class="role">{me.role.to_lowercase()}</span>
                            </span>
                            <button class="secondary" on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
                        </header>
                        {supervises.then(|| view! {
                            <nav class="tabs" aria-label="Views">
                                <a href="/floor" aria-current=(shown == Page::Floor).then_some("page")>"Live floor"</a>
                            </nav>
                        })}
                        <main class="content wide">
                            {move || match center.get() {
                                Some(c) if shown == Page::Floor => {
                                    if supervises {
                                        view! { <LiveFloor center=c token=token.clone()/> }.into_any()
                                    } else {
                                        view! { <p class="card">"This page is for supervisors. " <a href="/">"Back to your workspace"</a></p> }.into_any()
                                    }
                                }
                                Some(c) => view! { <Workspace me=me_id.clone() center=c token=token.clone()/> }.into_any(),
                                None => view! {
                                    <p class="muted">"You are not a member of any contact center yet. Ask your admin to add you."</p>
                                }.into_any(),
                            }}
                        </main>
                    }.into_any()
                }
                Err(e) => view! {
                    <main class="center"><p class="error" role="alert">{e.for_people()}</p></main>
                }.into_any(),
            })}
        </Suspense>
    }
}
