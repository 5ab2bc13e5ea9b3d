//! The signed-in shell: who you are, your organization, and the contact
//! centers you belong to (with the dialer badge), and sign-out. Without a
//! valid session it sends you to the sign-in page.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use serde::Deserialize;
use serde_json::json;

use crate::api::graphql;
use crate::session;

#[derive(Deserialize, Clone)]
struct MeData {
    me: Me,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Me {
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

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Center {
    id: String,
    name: String,
    dialer_enabled: bool,
}

const ME: &str = "query Me { me { name email role organization { name } contactCenters { id name dialerEnabled } } }";

#[component]
pub fn Shell() -> impl IntoView {
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

    view! {
        <Suspense fallback=|| view! { <main class="center"><p>"Loading…"</p></main> }>
            {move || me.get().map(|result| match result {
                Ok(me) => view! {
                    <header class="topbar">
                        <span class="brand">"Pinline"</span>
                        <span class="org">{me.organization.name.clone()}</span>
                        <span class="spacer"></span>
                        <span class="who" title=me.email.clone()>
                            {me.name.clone()} " · " <span class="role">{me.role.to_lowercase()}</span>
                        </span>
                        <button class="secondary" on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
                    </header>
                    <main class="content">
                        <h1>"Your contact centers"</h1>
                        {if me.contact_centers.is_empty() {
                            view! { <p class="muted">"You are not a member of any contact center yet. Ask your admin to add you."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="centers">
                                    {me.contact_centers.iter().map(|c| view! {
                                        <li class="card" data-id=c.id.clone()>
                                            <span class="name">{c.name.clone()}</span>
                                            {c.dialer_enabled.then(|| view! { <span class="pill dialer">"Dialer"</span> })}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    </main>
                }.into_any(),
                Err(e) => view! {
                    <main class="center"><p class="error" role="alert">{e.for_people()}</p></main>
                }.into_any(),
            })}
        </Suspense>
    }
}
