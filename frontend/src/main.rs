//! Pinline web app (Leptos CSR). At this stage: sign-in, and the shell that
//! shows who is signed in and their contact centers. The agent workspace
//! and supervisor views grow inside this shell.

mod api;
mod pages;
mod session;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=|| view! { <pages::NotFound/> }>
                <Route path=path!("/login") view=pages::login::Login/>
                <Route path=path!("/") view=pages::shell::Shell/>
            </Routes>
        </Router>
    }
}
