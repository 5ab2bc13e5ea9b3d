//! The organization's number lists (PRODUCT.md §3): Do-Not-Call,
//! Do-Not-Text and invalid numbers. Search by digits, add numbers by hand
//! or from a CSV, take one off with a reason (audited), export the list as
//! CSV. A DNC or invalid mark stops every campaign from calling the number
//! at once; the server does that, this page only asks.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};

use super::pager::Pager;
use super::{error_line, words};
use crate::api::graphql;
use crate::time;

const PAGE: usize = 50;
const ENTRIES: &str = "query($list: NumberList!, $search: String, $first: Int, $after: String) { \
     listEntries(list: $list, search: $search, first: $first, after: $after) { \
     pageInfo { hasNextPage endCursor } nodes { id phone source reason invalidReason createdAt createdBy { name } } } }";
const ADD: &str = "mutation($input: AddListEntriesInput!) { addListEntries(input: $input) { \
     added alreadyListed rejected { index phone code message } } }";
const REMOVE: &str = "mutation($input: RemoveListEntryInput!) { removeListEntry(input: $input) }";

/// Each list: its API name, its name for people, what it does.
const LISTS: [(&str, &str, &str); 3] = [
    (
        "DO_NOT_CALL",
        "Do not call",
        "No campaign of the organization calls these numbers again; a lead with one is finished at once.",
    ),
    (
        "DO_NOT_TEXT",
        "Do not text",
        "Calls are still allowed; text-messaging tools must not text these numbers (leads show it).",
    ),
    (
        "INVALID",
        "Invalid numbers",
        "Wrong or disconnected numbers: never dialed again by any campaign.",
    ),
];
const INVALID_REASONS: [&str; 3] = ["WRONG_NUMBER", "DISCONNECTED", "OTHER"];

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Entry {
    id: String,
    phone: String,
    source: String,
    reason: String,
    invalid_reason: Option<String>,
    created_at: String,
    created_by: Option<Who>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Who {
    name: String,
}

/// What an add or a CSV import did.
#[derive(Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
struct Added {
    added: i64,
    already_listed: i64,
    rejected: Vec<Refused>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct Refused {
    index: i64,
    phone: String,
    message: String,
}

#[component]
pub fn Lists(token: String) -> impl IntoView {
    let list = RwSignal::new(LISTS[0].0.to_owned());
    let search = RwSignal::new(String::new());
    let pager = Pager::<Entry>::new();
    let (rows, error) = (pager.rows, pager.error);
    let token = StoredValue::new(token);
    // The entry whose removal is being confirmed, and why.
    let removing = RwSignal::new(None::<String>);
    let remove_reason = RwSignal::new(String::new());
    let notice = RwSignal::new(None::<String>);

    let load = move |after: Option<String>| {
        let q = search.get_untracked();
        let q = q.trim();
        let vars = json!({"list": list.get_untracked(), "search": (!q.is_empty()).then_some(q), "first": PAGE});
        pager.fetch(ENTRIES, "listEntries", vars, after, token.get_value());
    };
    let first_page = move || {
        pager.reset();
        removing.set(None);
        load(None);
    };
    Effect::new(move |_| {
        list.track();
        first_page();
    });
    let typed = pager.search_as_typed(search, first_page);

    let remove = move |phone: String| {
        let reason = remove_reason.get_untracked();
        if reason.trim().is_empty() {
            error.set(Some("Say why the number comes off the list.".into()));
            return;
        }
        let input = json!({"list": list.get_untracked(), "phone": phone, "reason": reason.trim()});
        spawn_local(async move {
            match graphql::<Value>(REMOVE, json!({"input": input}), Some(&token.get_value())).await
            {
                Ok(_) => {
                    error.set(None);
                    removing.set(None);
                    remove_reason.set(String::new());
                    notice.set(Some(format!("{phone} is off the list.")));
                    first_page();
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };

    let exporting = RwSignal::new(false);
    let export = move |_| {
        let l = list.get_untracked();
        exporting.set(true);
        spawn_local(async move {
            let name = format!("{}.csv", l.to_lowercase().replace('_', "-"));
            let r = crate::api::download(
                &format!("/exports/list.csv?list={l}"),
                &token.get_value(),
                &name,
            )
            .await;
            exporting.set(false);
            if let Err(e) = r {
                error.set(Some(e));
            }
        });
    };

    let about = move || {
        LISTS
            .iter()
            .find(|(k, _, _)| *k == list.get())
            .map(|(_, _, about)| *about)
            .unwrap_or_default()
    };
    let invalid = move || list.get() == "INVALID";

    view! {
        <section class="floor lists" id="lists" data-list=move || list.get()>
            <div class="page-head">
                <h1>"Lists"</h1>
                <div class="filters">
                    <label for="list-kind">"List"</label>
                    <select id="list-kind" on:change=move |ev| { notice.set(None); list.set(event_target_value(&ev)); }>
                        {LISTS.iter().map(|(k, name, _)| view! { <option value=*k>{*name}</option> }).collect_view()}
                    </select>
                    <label class="visually-hidden" for="list-search">"Search by number"</label>
                    <input id="list-search" type="search" inputmode="numeric" placeholder="Search digits" on:input=typed/>
                    <button class="secondary" id="list-export" on:click=export disabled=move || exporting.get()>
                        {move || if exporting.get() { "Exporting…" } else { "Export CSV" }}
                    </button>
                </div>
            </div>
            <p class="help" id="list-about">{about}</p>
            {error_line(error)}
            {move || notice.get().map(|n| view! { <p class="notice" role="status" id="list-notice">{n}</p> })}
            <div class="card">
                <div class="table-wrap">
                    <table id="list-table">
                        <thead><tr>
                            <th>"Number"</th><th>"Reason"</th>
                            {move || invalid().then(|| view! { <th>"Kind"</th> })}
                            <th>"Source"</th><th>"Added"</th><th>"By"</th><th><span class="visually-hidden">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {move || rows.get().into_iter().map(|e| {
                                let phone = e.phone.clone();
                                let confirm_phone = e.phone.clone();
                                let id = e.id.clone();
                                let id2 = e.id.clone();
                                let added = time::parse_ms(&e.created_at).map(|ms| time::in_zone(ms, None)).unwrap_or_default();
                                view! {
                                    <tr data-phone=e.phone.clone() data-source=e.source.clone()>
                                        <td>{e.phone.clone()}</td>
                                        <td>{e.reason.clone()}</td>
                                        {invalid().then(|| view! { <td>{e.invalid_reason.as_deref().map(words).unwrap_or_default()}</td> })}
                                        <td>{words(&e.source)}</td>
                                        <td>{added}</td>
                                        <td>{e.created_by.map(|w| w.name).unwrap_or_else(|| "—".into())}</td>
                                        <td class="actions">
                                            {move || if removing.get().as_deref() == Some(id.as_str()) {
                                                let confirm_phone = confirm_phone.clone();
                                                view! {
                                                    <form class="inline-form remove-form" on:submit=move |ev| { ev.prevent_default(); remove(confirm_phone.clone()); }>
                                                        <label class="visually-hidden" for="remove-reason">"Why it comes off"</label>
                                                        <input id="remove-reason" placeholder="Why it comes off" required
                                                            prop:value=move || remove_reason.get()
                                                            on:input=move |ev| remove_reason.set(event_target_value(&ev))/>
                                                        <button type="submit" class="danger" id="confirm-remove">"Remove"</button>
                                                        <button type="button" class="secondary" on:click=move |_| removing.set(None)>"Cancel"</button>
                                                    </form>
                                                }.into_any()
                                            } else {
                                                let id = id2.clone();
                                                view! {
                                                    <button class="secondary remove" aria-label=format!("Remove {phone}")
                                                        on:click=move |_| { remove_reason.set(String::new()); removing.set(Some(id.clone())); }>"Remove…"</button>
                                                }.into_any()
                                            }}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {move || rows.with(Vec::is_empty).then(|| view! { <p class="muted" id="no-entries">"No numbers on this list match."</p> })}
                {pager.buttons(load)}
            </div>
            <div class="report-grid">
                <AddNumbers token=token.get_value() list=list invalid=Signal::derive(invalid) added=move || first_page()/>
                <ImportList token=token.get_value() list=list invalid=Signal::derive(invalid) added=move || first_page()/>
            </div>
        </section>
    }
}

/// The state of a form that puts numbers on a list: the reason, the
/// invalid kind, what it did, what went wrong, whether it is sending.
#[derive(Clone, Copy)]
struct Marking {
    reason: RwSignal<String>,
    kind: RwSignal<String>,
    result: RwSignal<Option<Added>>,
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
}

impl Marking {
    fn new() -> Marking {
        Marking {
            reason: RwSignal::new(String::new()),
            kind: RwSignal::new(INVALID_REASONS[0].to_owned()),
            result: RwSignal::new(None),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
        }
    }
}

/// The reason field and, for the invalid list, its kind: shared by the
/// add form and the CSV import.
fn reason_fields(
    prefix: &'static str,
    reason: RwSignal<String>,
    kind: RwSignal<String>,
    invalid: Signal<bool>,
    required: bool,
) -> impl IntoView {
    let reason_id = format!("{prefix}-reason");
    let kind_id = format!("{prefix}-kind");
    view! {
        <div class="field">
            <label for=reason_id.clone()>{if required { "Reason" } else { "Reason (for rows without one)" }}</label>
            <input id=reason_id required=required prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
        </div>
        {move || invalid.get().then(|| {
            let kind_id = kind_id.clone();
            view! {
                <div class="field">
                    <label for=kind_id.clone()>"Kind"</label>
                    <select id=kind_id on:change=move |ev| kind.set(event_target_value(&ev))>
                        {INVALID_REASONS.iter().map(|k| view! { <option value=*k selected=move || kind.get() == *k>{words(k)}</option> }).collect_view()}
                    </select>
                </div>
            }
        })}
    }
}

/// What an add or import did, with the refused rows.
fn outcome(
    id: &'static str,
    result: RwSignal<Option<Added>>,
    row_word: &'static str,
) -> impl IntoView {
    move || {
        result.get().map(|r| {
            view! {
                <div id=id role="status">
                    <p>{format!("{} added · {} already listed · {} refused", r.added, r.already_listed, r.rejected.len())}</p>
                    {(!r.rejected.is_empty()).then(|| view! {
                        <ul class="refused">
                            {r.rejected.into_iter().map(|x| view! {
                                <li>{format!("{row_word} {}: {} — {}", x.index + 1, x.phone, crate::api::capitalize(&x.message))}</li>
                            }).collect_view()}
                        </ul>
                    })}
                </div>
            }
        })
    }
}

#[component]
fn AddNumbers(
    token: String,
    list: RwSignal<String>,
    invalid: Signal<bool>,
    added: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let phones = RwSignal::new(String::new());
    let m = Marking::new();
    let (reason, kind, result, error, busy) = (m.reason, m.kind, m.result, m.error, m.busy);
    let token = StoredValue::new(token);
    let submit = move || {
        let numbers: Vec<String> = phones
            .get_untracked()
            .split(['\n', ',', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if numbers.is_empty() {
            error.set(Some("Type at least one number.".into()));
            return;
        }
        if reason.get_untracked().trim().is_empty() {
            error.set(Some("Say why these numbers go on the list.".into()));
            return;
        }
        let mut input = json!({"list": list.get_untracked(), "phones": numbers, "reason": reason.get_untracked().trim()});
        if invalid.get_untracked() {
            input["invalidReason"] = json!(kind.get_untracked());
        }
        busy.set(true);
        spawn_local(async move {
            let r = graphql::<Value>(ADD, json!({"input": input}), Some(&token.get_value())).await;
            busy.set(false);
            match r {
                Ok(d) => {
                    error.set(None);
                    result.set(serde_json::from_value(d["addListEntries"].clone()).ok());
                    phones.set(String::new());
                    added();
                }
                Err(e) => error.set(Some(e.for_people())),
            }
        });
    };
    view! {
        <form class="card" id="list-add" novalidate on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <h2>"Add numbers"</h2>
            <div class="field">
                <label for="add-phones">"Numbers (one a line, or separated by commas)"</label>
                <textarea id="add-phones" rows="4" prop:value=move || phones.get() on:input=move |ev| phones.set(event_target_value(&ev))></textarea>
                <p class="help">"Numbers without a country code are read as US numbers."</p>
            </div>
            {reason_fields("add", reason, kind, invalid, true)}
            {error_line(error)}
            <div class="submit-row"><button type="submit" id="add-submit" disabled=move || busy.get()>"Add to the list"</button></div>
            {outcome("add-result", result, "Number")}
        </form>
    }
}

#[component]
fn ImportList(
    token: String,
    list: RwSignal<String>,
    invalid: Signal<bool>,
    added: impl Fn() + Copy + 'static,
) -> impl IntoView {
    use wasm_bindgen::JsCast;
    let file = StoredValue::new_local(None::<web_sys::File>);
    let file_name = RwSignal::new(String::new());
    let m = Marking::new();
    let (reason, kind, result, error, busy) = (m.reason, m.kind, m.result, m.error, m.busy);
    let token = StoredValue::new(token);
    let choose = move |ev: leptos::ev::Event| {
        let f = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|fs| fs.get(0));
        file_name.set(f.as_ref().map(|f| f.name()).unwrap_or_default());
        result.set(None);
        file.set_value(f);
    };
    let upload = move |_| {
        let Some(f) = file.get_value() else {
            error.set(Some("Choose a CSV file first.".into()));
            return;
        };
        let enc = |s: &str| String::from(js_sys::encode_uri_component(s));
        let mut url = format!("/imports/list?list={}", list.get_untracked());
        let r = reason.get_untracked();
        if !r.trim().is_empty() {
            url.push_str(&format!("&reason={}", enc(r.trim())));
        }
        if invalid.get_untracked() {
            url.push_str(&format!("&invalidReason={}", kind.get_untracked()));
        }
        busy.set(true);
        spawn_local(async move {
            let answer = crate::api::post_file(&url, &token.get_value(), f).await;
            busy.set(false);
            match answer.and_then(|v| {
                serde_json::from_value::<Added>(v)
                    .map_err(|e| format!("Unexpected answer from the server: {e}"))
            }) {
                Ok(a) => {
                    error.set(None);
                    result.set(Some(a));
                    added();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="card" id="list-import">
            <h2>"Import a CSV"</h2>
            <p class="help">"A header row with a phone column; a reason column is used where it has a value."</p>
            <div class="field">
                <label for="list-file">"CSV file"</label>
                <input id="list-file" type="file" accept=".csv,text/csv" on:change=choose/>
            </div>
            {reason_fields("import", reason, kind, invalid, false)}
            {error_line(error)}
            <div class="submit-row">
                <button id="list-import-start" on:click=upload disabled=move || busy.get() || file_name.with(String::is_empty)>
                    {move || if busy.get() { "Importing…".to_owned() } else { format!("Import {}", file_name.get()) }}
                </button>
            </div>
            {outcome("list-import-result", result, "Row")}
        </div>
    }
}
