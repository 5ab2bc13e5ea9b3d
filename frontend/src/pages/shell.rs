//! The signed-in shell: who you are, your organization, the contact
//! center you work in (a choice when you belong to several; remembered),
//! sign-out, and under it the page each app puts there (the workspace in
//! the agents' app, the supervisor views in the other). Without a valid
//! session it sends you to the sign-in page.

use std::sync::Arc;

use leptos::prelude::*;
use serde::Deserialize;
use serde_json::json;

use crate::api::graphql;
use crate::session;

/// A contact center the user belongs to.
#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Center {
    pub id: String,
    pub name: String,
    pub dialer_enabled: bool,
}

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

/// What a page inside the shell gets: who is signed in, the contact center
/// they work in (it changes when they pick another), and the token.
#[derive(Clone)]
pub struct ShellCtx {
    pub me_id: String,
    /// AGENT, SUPERVISOR or ADMIN.
    pub role: String,
    pub center: Memo<Option<Center>>,
    pub token: String,
}

impl ShellCtx {
    /// Supervisors and admins.
    pub fn supervises(&self) -> bool {
        self.role != "AGENT"
    }
}

/// The page under the shell's top bar.
pub type Body = Arc<dyn Fn(ShellCtx) -> AnyView + Send + Sync>;

#[component]
pub fn Shell(body: Body) -> impl IntoView {
    if session::token().is_none() {
        request_animation_frame(|| session::open("/login"));
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

    Effect::new(move |_| {
        if let Some(Err(e)) = me.get()
            && e.code == "UNAUTHENTICATED"
        {
            session::clear();
            session::open("/login");
        }
    });

    let sign_out = {
        Action::new_local(move |_: &()| {
            async move {
                if let Some(t) = session::token() {
                    // Ending the session on the server; the token is dropped
                    // locally whatever the answer.
                    let _ =
                        graphql::<serde_json::Value>("mutation { logout }", json!({}), Some(&t))
                            .await;
                }
                session::clear();
                session::open("/login");
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
                    let ctx = ShellCtx {
                        me_id: me.id.clone(),
                        role: me.role.clone(),
                        center,
                        token: session::token().unwrap_or_default(),
                    };
                    let body = body.clone();
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
                        {body(ctx)}
                    }.into_any()
                }
                Err(e) => view! {
                    <main class="center"><p class="error" role="alert">{e.for_people()}</p></main>
                }.into_any(),
            })}
        </Suspense>
    }
}
