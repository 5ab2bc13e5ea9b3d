//! Sign-in: email and password; on success the token is kept and the shell
//! opens.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use serde::Deserialize;
use serde_json::json;

use crate::api::{ApiError, graphql};
use crate::session;

#[derive(Deserialize, Clone)]
struct LoginData {
    login: LoginPayload,
}

#[derive(Deserialize, Clone)]
struct LoginPayload {
    token: String,
    user: Role,
}

#[derive(Deserialize, Clone)]
struct Role {
    role: String,
}

const LOGIN: &str = "mutation Login($email: String!, $password: String!) { login(input: {email: $email, password: $password}) { token user { role } } }";

#[component]
pub fn Login() -> impl IntoView {
    let (email, set_email) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let navigate = use_navigate();

    let submit = Action::new_local(move |(email, password): &(String, String)| {
        let vars = json!({"email": email, "password": password});
        async move { graphql::<LoginData>(LOGIN, vars, None).await }
    });

    Effect::new(move |_| {
        if let Some(Ok(data)) = submit.value().get() {
            session::save(&data.login.token);
            // The supervisor views are their own app (not in the agents'
            // download); admins start in administration.
            match data.login.user.role.as_str() {
                "AGENT" => navigate("/", NavigateOptions::default()),
                "ADMIN" => crate::session::open("/admin"),
                _ => crate::session::open("/floor"),
            }
        }
    });

    let error = move || match submit.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    };

    view! {
        <main class="center">
            <form
                class="card login"
                aria-labelledby="login-title"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit.dispatch((email.get_untracked(), password.get_untracked()));
                }
            >
                <h1 id="login-title">"Sign in to Pinline"</h1>
                <label for="email">"Email"</label>
                <input
                    id="email"
                    type="email"
                    autocomplete="username"
                    required
                    prop:value=email
                    on:input=move |ev| set_email.set(event_target_value(&ev))
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    prop:value=password
                    on:input=move |ev| set_password.set(event_target_value(&ev))
                />
                {move || error().map(|e: ApiError| view! { <p class="error" role="alert">{e.for_people()}</p> })}
                <button type="submit" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
