//! Pinline web app (Leptos CSR): sign-in, and the shell with the agent
//! workspace (live over one `graphql-transport-ws` connection). The
//! supervisor views grow inside this shell.

mod api;
mod audio;
mod live;
mod model;
mod pages;
mod session;
mod time;

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
                <Route path=path!("/") view=|| view! { <pages::shell::Shell page=pages::shell::Page::Home/> }/>
                <Route path=path!("/floor") view=|| view! { <pages::shell::Shell page=pages::shell::Page::Floor/> }/>
            </Routes>
        </Router>
    }
}
