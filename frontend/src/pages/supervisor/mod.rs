//! The supervisors' app (PRODUCT.md §3): its navigation and its pages —
//! the live floor, campaigns (list, editor, leads and their import), a
//! lead's page, reports with charts, the DNC/DNT/invalid lists,
//! administration (users and contact centers, for admins). Agents are turned away here; the
//! server refuses them whatever the page shows.

mod admin;
mod campaign;
mod campaigns;
mod charts;
mod csv;
pub mod floor;
mod follow_ups;
mod import;
mod lead;
mod leads;
mod lists;
mod pager;
mod policy;
mod reports;
mod webhooks;
mod week;

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use crate::api::graphql;
use leptos_router::hooks::use_params_map;

use super::shell::{Body, ShellCtx};
use super::workspace::no_center;

/// A supervisor page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum View {
    Floor,
    Campaigns,
    NewCampaign,
    Campaign,
    Lead,
    Reports,
    Lists,
    Admin,
}

/// The shell's body for `view`.
pub fn body(view: View) -> Body {
    Arc::new(move |ctx| page(view, ctx))
}

fn page(view: View, ctx: ShellCtx) -> AnyView {
    if !ctx.supervises() {
        return view! {
            <main class="content wide">
                <p class="card">"This page is for supervisors. " <a href="/" rel="external">"Back to your workspace"</a></p>
            </main>
        }
        .into_any();
    }
    let tab = |v: View| {
        let current = match view {
            View::Floor => View::Floor,
            View::Reports => View::Reports,
            View::Lists => View::Lists,
            View::Admin => View::Admin,
            _ => View::Campaigns,
        };
        (current == v).then_some("page")
    };
    let id = use_params_map();
    let id = move || id.with(|p| p.get("id").unwrap_or_default());
    let admin = ctx.role == "ADMIN";
    let ShellCtx {
        center,
        token,
        me_id,
        ..
    } = ctx;
    view! {
        <nav class="tabs" aria-label="Views">
            <a href="/floor" aria-current=tab(View::Floor)>"Live floor"</a>
            <a href="/campaigns" aria-current=tab(View::Campaigns)>"Campaigns"</a>
            <a href="/reports" aria-current=tab(View::Reports)>"Reports"</a>
            <a href="/lists" aria-current=tab(View::Lists)>"Lists"</a>
            {admin.then(|| view! { <a href="/admin" aria-current=tab(View::Admin)>"Admin"</a> })}
        </nav>
        <main class="content wide">
            {move || {
                if view == View::Admin {
                    return if admin {
                        view! { <admin::Admin token=token.clone() me_id=me_id.clone()/> }.into_any()
                    } else {
                        view! { <p class="card">"This page is for administrators."</p> }.into_any()
                    };
                }
                let Some(c) = center.get() else { return no_center() };
                let token = token.clone();
                match view {
                    View::Floor => view! { <floor::LiveFloor center=c token=token/> }.into_any(),
                    View::Campaigns => view! { <campaigns::Campaigns center=c token=token/> }.into_any(),
                    View::NewCampaign => view! { <campaign::Editor center=c token=token id=None/> }.into_any(),
                    View::Campaign => {
                        let id = id();
                        view! { <campaign::CampaignPage center=c token=token id=id/> }.into_any()
                    }
                    View::Lead => view! { <lead::LeadPage token=token id=id()/> }.into_any(),
                    View::Reports => view! { <reports::Reports center=c token=token/> }.into_any(),
                    View::Lists => view! { <lists::Lists token=token/> }.into_any(),
                    View::Admin => unreachable!("handled above"),
                }
            }}
        </main>
    }
    .into_any()
}

/// "12.3 %".
pub fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// Words for an enum value from the API: "NEEDS_TIME_ZONE" → "needs time zone".
pub fn words(value: &str) -> String {
    value.to_lowercase().replace('_', " ")
}

/// A failed read or change, in words, where the page shows its errors.
pub fn error_line(error: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|e| view! { <p class="error" role="alert">{e}</p> })
    }
}

/// Run `mutation` with `$input`, then `done` (a reload); its error goes to `error`.
pub fn change(
    token: StoredValue<String>,
    mutation: &'static str,
    input: Value,
    error: RwSignal<Option<String>>,
    done: impl Fn() + 'static,
) {
    spawn_local(async move {
        match graphql::<Value>(mutation, json!({"input": input}), Some(&token.get_value())).await {
            Ok(_) => {
                error.set(None);
                done();
            }
            Err(e) => error.set(Some(e.for_people())),
        }
    });
}
