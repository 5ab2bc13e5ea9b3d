//! Pinline web app (Leptos CSR), as two downloads that share this library:
//!
//! - the agents' app (`pinline-web`, `index.html`): sign-in and the agent
//!   workspace, live over one `graphql-transport-ws` connection;
//! - the supervisors' app (`pinline-supervisor`, `supervisor.html`, served
//!   under `/supervisor/`): the live floor, campaigns, leads, reports, lists, admin.
//!
//! Agents never download the supervisor views; each binary links only the
//! pages it mounts.

pub mod api;
mod audio;
mod live;
mod model;
pub mod pages;
mod session;
mod time;
mod webrtc;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use pages::shell::{Shell, ShellCtx};

/// The agents' app: `/login` and `/` (the workspace).
pub fn agent_main() {
    on_panic_say_so();
    leptos::mount::mount_to_body(AgentApp);
}

/// The supervisors' app: every path the server routes to it.
pub fn supervisor_main() {
    on_panic_say_so();
    leptos::mount::mount_to_body(SupervisorApp);
}

/// A panic leaves the app dead: log it (with the Rust message) and tell the
/// user to reload rather than leave a page that silently stops answering.
/// The browser tests fail on this banner.
fn on_panic_say_so() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let document = window().document();
        if let Some(doc) = document
            && doc.get_element_by_id("app-crashed").is_none()
            && let Ok(banner) = doc.create_element("div")
        {
            banner.set_id("app-crashed");
            let _ = banner.set_attribute("role", "alert");
            let _ = banner.set_attribute("class", "crashed");
            banner.set_text_content(Some(
                "Something went wrong in this page and it stopped updating. Reload the page to carry on; what you saved is kept.",
            ));
            if let Some(body) = doc.body() {
                let _ = body.prepend_with_node_1(&banner);
            }
        }
    }));
}

fn workspace(ctx: ShellCtx) -> AnyView {
    pages::workspace::for_shell(ctx)
}

#[component]
fn AgentApp() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=|| view! { <pages::NotFound/> }>
                <Route path=path!("/login") view=pages::login::Login/>
                <Route path=path!("/") view=|| view! { <Shell body=std::sync::Arc::new(workspace)/> }/>
            </Routes>
        </Router>
    }
}

#[component]
fn SupervisorApp() -> impl IntoView {
    use pages::supervisor::{self as s, View};
    let at = |v: View| move || view! { <Shell body=s::body(v)/> };
    view! {
        <Router>
            <Routes fallback=|| view! { <pages::NotFound/> }>
                <Route path=path!("/floor") view=at(View::Floor)/>
                <Route path=path!("/campaigns") view=at(View::Campaigns)/>
                <Route path=path!("/campaigns/new") view=at(View::NewCampaign)/>
                <Route path=path!("/campaigns/:id") view=at(View::Campaign)/>
                <Route path=path!("/leads/:id") view=at(View::Lead)/>
                <Route path=path!("/reports") view=at(View::Reports)/>
                <Route path=path!("/lists") view=at(View::Lists)/>
                <Route path=path!("/admin") view=at(View::Admin)/>
            </Routes>
        </Router>
    }
}
