//! The pages of the app.

pub mod login;
pub mod shell;
pub mod supervisor;
pub mod workspace;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="center">
            <h1>"Page not found"</h1>
            <a href="/">"Back to Pinline"</a>
        </main>
    }
}
