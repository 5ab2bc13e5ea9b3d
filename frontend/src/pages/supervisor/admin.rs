//! Administration (admins only; the server refuses everyone else): the
//! organization's users — create one with a first password to pass on,
//! change a role, deactivate or reactivate — and its contact centers —
//! create one, turn its dialer on or off, choose who works there — and
//! the webhook endpoints with their delivery history.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};

use super::pager::Pager;
use super::{change, error_line, words};
use crate::api::graphql;

const ROLES: [&str; 3] = ["AGENT", "SUPERVISOR", "ADMIN"];
const USERS: &str = "query($first: Int, $after: String, $filter: UserFilter) { \
     users(first: $first, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor } \
     nodes { id name email role active contactCenters { id name } } } }";
const UPDATE_USER: &str =
    "mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id } } }";
const CREATE_USER: &str =
    "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id email } } }";
const CENTERS: &str = "query { contactCenters(first: 100) { nodes { id name dialerEnabled defaultRegion timeZone \
     members(first: 200) { nodes { id name role active } } } } }";
const CREATE_CENTER: &str = "mutation($input: CreateContactCenterInput!) { createContactCenter(input: $input) { contactCenter { id } } }";
const UPDATE_CENTER: &str = "mutation($input: UpdateContactCenterInput!) { updateContactCenter(input: $input) { contactCenter { id } } }";
const ADD_MEMBER: &str =
    "mutation($input: MembershipInput!) { addContactCenterMember(input: $input) { changed } }";
const REMOVE_MEMBER: &str =
    "mutation($input: MembershipInput!) { removeContactCenterMember(input: $input) { changed } }";

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct UserRow {
    id: String,
    name: String,
    email: String,
    role: String,
    active: bool,
    contact_centers: Vec<Named>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Named {
    id: String,
    name: String,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct CenterRow {
    id: String,
    name: String,
    dialer_enabled: bool,
    default_region: String,
    time_zone: String,
    members: Members,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Members {
    nodes: Vec<Member>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Member {
    id: String,
    name: String,
    role: String,
    active: bool,
}

#[component]
pub fn Admin(token: String, me_id: String) -> impl IntoView {
    let token = StoredValue::new(token);
    let me_id = StoredValue::new(me_id);
    let users = Pager::<UserRow>::new();
    let search = RwSignal::new(String::new());
    let centers = RwSignal::new(Vec::<CenterRow>::new());
    let center_error = RwSignal::new(None::<String>);

    let load_users = move |after: Option<String>| {
        let q = search.get_untracked();
        let q = q.trim();
        let filter = if q.is_empty() {
            json!({})
        } else {
            json!({"search": q})
        };
        users.fetch(
            USERS,
            "users",
            json!({"first": 50, "filter": filter}),
            after,
            token.get_value(),
        );
    };
    let first_users = move || {
        users.reset();
        load_users(None);
    };
    let load_centers = move || {
        spawn_local(async move {
            match graphql::<Value>(CENTERS, json!({}), Some(&token.get_value())).await {
                Ok(d) => {
                    center_error.set(None);
                    centers.set(
                        serde_json::from_value(d["contactCenters"]["nodes"].clone())
                            .unwrap_or_default(),
                    );
                }
                Err(e) => center_error.set(Some(e.for_people())),
            }
        });
    };
    let reload = move || {
        load_users(users.current());
        load_centers();
    };
    Effect::new(move |_| {
        first_users();
        load_centers();
    });
    let typed = users.search_as_typed(search, first_users);
    let user_error = users.error;

    let users_table = move || {
        users.rows.get().into_iter().map(|u| {
            let myself = u.id == me_id.get_value();
            let (id, id2) = (u.id.clone(), u.id.clone());
            let active = u.active;
            let role_id = format!("role-{}", u.id);
            view! {
                <tr data-user-id=u.id.clone() data-active=if u.active { "true" } else { "false" } data-role=u.role.clone()>
                    <td>{u.name.clone()}{myself.then_some(" (you)")}</td>
                    <td>{u.email.clone()}</td>
                    <td>
                        <label class="visually-hidden" for=role_id.clone()>{format!("Role of {}", u.name)}</label>
                        <select id=role_id class="role-select" disabled=myself on:change=move |ev| {
                            let input = json!({"id": id, "role": event_target_value(&ev)});
                            change(token, UPDATE_USER, input, user_error, reload);
                        }>
                            {ROLES.iter().map(|r| view! { <option value=*r selected=u.role == *r>{words(r)}</option> }).collect_view()}
                        </select>
                    </td>
                    <td>{u.contact_centers.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", ")}</td>
                    <td>{if active { "active" } else { "deactivated" }}</td>
                    <td class="actions">
                        <button class="secondary toggle-active" disabled=myself
                            aria-label=format!("{} {}", if active { "Deactivate" } else { "Reactivate" }, u.name)
                            on:click=move |_| change(token, UPDATE_USER, json!({"id": id2, "active": !active}), user_error, reload)>
                            {if active { "Deactivate" } else { "Reactivate" }}
                        </button>
                    </td>
                </tr>
            }
        }).collect_view()
    };

    view! {
        <section class="floor admin" id="admin">
            <div class="page-head"><h1>"Administration"</h1></div>
            <div class="card" id="users">
                <div class="page-head">
                    <h2>"Users"</h2>
                    <div class="filters">
                        <label class="visually-hidden" for="user-search">"Search users by name or email"</label>
                        <input id="user-search" type="search" placeholder="Name or email" on:input=typed/>
                    </div>
                </div>
                {error_line(user_error)}
                <div class="table-wrap">
                    <table id="user-table">
                        <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Contact centers"</th><th>"Status"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>{users_table}</tbody>
                    </table>
                </div>
                {users.buttons(load_users)}
            </div>
            <div class="report-grid">
                <NewUser token=token centers=centers created=reload/>
                <NewCenter token=token created=reload/>
            </div>
            <super::webhooks::Webhooks token=token/>
            <super::policy::CompliancePolicy token=token/>
            <div class="card" id="centers">
                <h2>"Contact centers"</h2>
                {error_line(center_error)}
                {move || {
                    let all_users = users.rows.get();
                    centers.get().into_iter().map(move |c| center_card(c, all_users.clone(), token, center_error, reload)).collect_view()
                }}
            </div>
        </section>
    }
}

fn center_card(
    c: CenterRow,
    users: Vec<UserRow>,
    token: StoredValue<String>,
    error: RwSignal<Option<String>>,
    reload: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let id = c.id.clone();
    let (id_dialer, id_add) = (c.id.clone(), c.id.clone());
    let enabled = c.dialer_enabled;
    let candidates: Vec<UserRow> = users
        .into_iter()
        .filter(|u| u.active && !c.members.nodes.iter().any(|m| m.id == u.id))
        .collect();
    let pick = RwSignal::new(candidates.first().map(|u| u.id.clone()).unwrap_or_default());
    let dialer_id = format!("dialer-{id}");
    let add_id = format!("add-member-{id}");
    view! {
        <div class="cc-card" data-center-id=id.clone() data-dialer=if enabled { "on" } else { "off" }>
            <h3>{c.name.clone()}</h3>
            <p class="help">{format!("Numbers without a country code read as {}; reports in {}.", c.default_region, c.time_zone)}</p>
            <label class="check">
                <input type="checkbox" id=dialer_id class="dialer-toggle" checked=enabled on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    change(token, UPDATE_CENTER, json!({"id": id_dialer, "dialerEnabled": on}), error, reload);
                }/>
                " Dialer enabled (campaigns can run here; agents get a pinned audio leg)"
            </label>
            <table class="members">
                <thead><tr><th>"Member"</th><th>"Role"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {c.members.nodes.into_iter().map(|m| {
                        let (center, user) = (id.clone(), m.id.clone());
                        view! {
                            <tr data-member-id=m.id.clone()>
                                <td>{m.name.clone()}{(!m.active).then_some(" (deactivated)")}</td>
                                <td>{words(&m.role)}</td>
                                <td class="actions">
                                    <button class="secondary remove-member" aria-label=format!("Remove {} from {}", m.name, c.name)
                                        on:click=move |_| change(token, REMOVE_MEMBER, json!({"contactCenterId": center, "userId": user}), error, reload)>
                                        "Remove"
                                    </button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {(!candidates.is_empty()).then(|| view! {
                <form class="inline-form add-member" on:submit=move |ev| {
                    ev.prevent_default();
                    let user = pick.get_untracked();
                    change(token, ADD_MEMBER, json!({"contactCenterId": id_add, "userId": user}), error, reload);
                }>
                    <label for=add_id.clone()>"Add"</label>
                    <select id=add_id on:change=move |ev| pick.set(event_target_value(&ev))>
                        {candidates.into_iter().map(|u| view! { <option value=u.id.clone()>{format!("{} ({})", u.name, words(&u.role))}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="secondary">"Add member"</button>
                </form>
            })}
        </div>
    }
}

/// A first password to pass on: 16 letters and digits from the browser's
/// random source.
fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..16)
        .map(|_| {
            let i = (js_sys::Math::random() * ALPHABET.len() as f64) as usize;
            ALPHABET[i.min(ALPHABET.len() - 1)] as char
        })
        .collect()
}

#[component]
fn NewUser(
    token: StoredValue<String>,
    centers: RwSignal<Vec<CenterRow>>,
    created: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("AGENT".to_owned());
    let password = RwSignal::new(new_password());
    let joins = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<(String, String)>);
    let submit = move || {
        let input = json!({"name": name.get_untracked().trim(), "email": email.get_untracked().trim(),
            "role": role.get_untracked(), "password": password.get_untracked(),
            "contactCenterIds": joins.get_untracked()});
        spawn_local(async move {
            match graphql::<Value>(
                CREATE_USER,
                json!({"input": input}),
                Some(&token.get_value()),
            )
            .await
            {
                Ok(d) => {
                    error.set(None);
                    let who = d["createUser"]["user"]["email"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    done.set(Some((who, password.get_untracked())));
                    name.set(String::new());
                    email.set(String::new());
                    password.set(new_password());
                    joins.set(Vec::new());
                    created();
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };
    let text = |id: &'static str,
                label: &'static str,
                kind: &'static str,
                sig: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type=kind prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev))/>
            </div>
        }
    };
    view! {
        <form class="card" id="new-user" novalidate on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <h2>"New user"</h2>
            {text("user-name", "Name", "text", name)}
            {text("user-email", "Email", "email", email)}
            <div class="field">
                <label for="user-role">"Role"</label>
                <select id="user-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    {ROLES.iter().map(|r| view! { <option value=*r selected=move || role.get() == *r>{words(r)}</option> }).collect_view()}
                </select>
            </div>
            {text("user-password", "First password (pass it on; they can change it)", "text", password)}
            <fieldset class="field">
                <legend>"Contact centers"</legend>
                {move || centers.get().into_iter().map(|c| {
                    let (cid, cid2) = (c.id.clone(), c.id.clone());
                    let box_id = format!("join-{}", c.id);
                    view! {
                        <label class="check">
                            <input type="checkbox" id=box_id prop:checked=move || joins.with(|j| j.contains(&cid))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    joins.update(|j| { j.retain(|x| *x != cid2); if on { j.push(cid2.clone()); } });
                                }/>
                            {format!(" {}", c.name)}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            {error_line(error)}
            <div class="submit-row"><button type="submit" id="create-user">"Create user"</button></div>
            {move || done.get().map(|(who, pw)| view! {
                <p class="notice" role="status" id="user-created">{format!("{who} can sign in with the password {pw}")}</p>
            })}
        </form>
    }
}

#[component]
fn NewCenter(token: StoredValue<String>, created: impl Fn() + Copy + 'static) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let region = RwSignal::new("US".to_owned());
    let zone = RwSignal::new("America/New_York".to_owned());
    let dialer = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    let submit = move || {
        let input = json!({"name": name.get_untracked().trim(), "dialerEnabled": dialer.get_untracked(),
            "defaultRegion": region.get_untracked().trim(), "timeZone": zone.get_untracked().trim()});
        change(token, CREATE_CENTER, input, error, move || {
            name.set(String::new());
            created();
        });
    };
    view! {
        <form class="card" id="new-center" novalidate on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <h2>"New contact center"</h2>
            <div class="field">
                <label for="center-name">"Name"</label>
                <input id="center-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="center-region">"Region (for numbers without a country code)"</label>
                <input id="center-region" prop:value=move || region.get() on:input=move |ev| region.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="center-zone">"Time zone (IANA name)"</label>
                <input id="center-zone" prop:value=move || zone.get() on:input=move |ev| zone.set(event_target_value(&ev))/>
            </div>
            <label class="check">
                <input type="checkbox" id="center-dialer" prop:checked=move || dialer.get() on:change=move |ev| dialer.set(event_target_checked(&ev))/>
                " Dialer enabled"
            </label>
            {error_line(error)}
            <div class="submit-row"><button type="submit" id="create-center">"Create contact center"</button></div>
        </form>
    }
}
