//! Importing a campaign's leads from a CSV file: a preview of the first
//! rows, the column mapping, the upload (`POST /imports/leads`, the file
//! sent as it is), a progress bar fed by the `importProgress`
//! subscription, and the per-row report of refused and flagged rows,
//! downloadable as CSV.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, HtmlInputElement};

use super::{csv, error_line, words};
use crate::api::graphql;
use crate::live::{Handlers, Live};

/// What the preview reads of a file: enough for a header and some rows.
const PREVIEW_BYTES: i32 = 64 * 1024;
const PREVIEW_ROWS: usize = 6;

/// The server's column names and matching, so the guess shown is the one
/// the import would make.
#[path = "../../../../api/src/import/columns.rs"]
mod columns;

/// The column the server would pick by itself, or "" (none).
fn guess(header: &[String], names: &[&str]) -> String {
    columns::guess(header, names)
        .and_then(|i| header.get(i).cloned())
        .unwrap_or_default()
}

#[derive(Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
struct Job {
    id: String,
    state: String,
    total_rows: i64,
    processed_rows: i64,
    percent: f64,
    added: i64,
    merged: i64,
    rejected: i64,
    warned: i64,
    error: Option<String>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct RowResult {
    index: i64,
    phone: String,
    code: String,
    message: String,
}

const JOB: &str = "id state totalRows processedRows percent added merged rejected warned error";

#[derive(Clone, Copy)]
struct Mapping {
    phone: RwSignal<String>,
    first: RwSignal<String>,
    last: RwSignal<String>,
    zone: RwSignal<String>,
    region: RwSignal<String>,
}

/// The import card of a campaign's page; `done` counts finished imports
/// (the page re-reads its leads on each).
#[component]
pub fn Import(campaign: String, token: String, done: RwSignal<u32>) -> impl IntoView {
    let file = StoredValue::new_local(None::<File>);
    let file_name = RwSignal::new(String::new());
    let preview = RwSignal::new(Vec::<Vec<String>>::new());
    let map = Mapping {
        phone: RwSignal::new(String::new()),
        first: RwSignal::new(String::new()),
        last: RwSignal::new(String::new()),
        zone: RwSignal::new(String::new()),
        region: RwSignal::new(String::new()),
    };
    let job = RwSignal::new(None::<Job>);
    let report = RwSignal::new(Vec::<RowResult>::new());
    let error = RwSignal::new(None::<String>);
    let uploading = RwSignal::new(false);
    let live = StoredValue::new_local(None::<Live>);
    let token = StoredValue::new(token);
    let campaign = StoredValue::new(campaign);

    let choose = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(f) = input.files().and_then(|l| l.get(0)) else {
            return;
        };
        error.set(None);
        job.set(None);
        report.set(Vec::new());
        file_name.set(f.name());
        let head = f.slice_with_i32_and_i32(0, PREVIEW_BYTES);
        let whole = f.size() <= f64::from(PREVIEW_BYTES);
        file.set_value(Some(f));
        spawn_local(async move {
            let text = match head {
                Ok(blob) => JsFuture::from(blob.text())
                    .await
                    .ok()
                    .and_then(|t| t.as_string()),
                Err(_) => None,
            };
            let Some(text) = text else {
                error.set(Some("That file could not be read.".into()));
                return;
            };
            let mut rows = csv::read(&text, PREVIEW_ROWS + 1);
            // A cut-off last row of a longer file is not shown.
            if !whole && rows.len() <= PREVIEW_ROWS && rows.len() > 1 {
                rows.pop();
            }
            let header = rows.first().cloned().unwrap_or_default();
            map.phone.set(guess(&header, columns::PHONE));
            map.first.set(guess(&header, columns::FIRST_NAME));
            map.last.set(guess(&header, columns::LAST_NAME));
            map.zone.set(guess(&header, columns::TIME_ZONE));
            map.region.set(guess(&header, columns::REGION));
            if header.is_empty() {
                error.set(Some(
                    "The file is empty: its first line must be a header row.".into(),
                ));
            }
            preview.set(rows);
        });
    };

    let follow = move |job_id: String| {
        let q = format!("subscription($id: ID!) {{ importProgress(jobId: $id) {{ {JOB} }} }}");
        let started = Live::start_many(
            token.get_value(),
            vec![(q, json!({"id": job_id}))],
            Handlers {
                on_data: Box::new(move |_, data| {
                    let Ok(j) = serde_json::from_value::<Job>(data["importProgress"].clone())
                    else {
                        return;
                    };
                    let finished = j.state != "RUNNING";
                    let id = j.id.clone();
                    job.set(Some(j));
                    if finished {
                        let _ = live.try_update_value(|l| l.take().map(|l| l.stop()));
                        spawn_local(async move {
                            let q = "query($id: ID!) { importJob(id: $id) { report(first: 10000) { index phone code message } } }";
                            match graphql::<Value>(q, json!({"id": id}), Some(&token.get_value()))
                                .await
                            {
                                Ok(d) => report.set(
                                    serde_json::from_value(d["importJob"]["report"].clone())
                                        .unwrap_or_default(),
                                ),
                                Err(e) => error.set(Some(e.for_people())),
                            }
                            done.update(|n| *n += 1);
                        });
                    }
                }),
                on_subscribed: Box::new(|| {}),
                on_error: Box::new(move |text| error.set(Some(crate::api::capitalize(&text)))),
            },
        );
        live.set_value(Some(started));
    };

    let upload = move |_| {
        let Some(f) = file.get_value() else { return };
        uploading.set(true);
        error.set(None);
        let mut url = format!(
            "/imports/leads?campaignId={}&fileName={}",
            enc(&campaign.get_value()),
            enc(&f.name())
        );
        for (key, col) in [
            ("phoneColumn", map.phone),
            ("firstNameColumn", map.first),
            ("lastNameColumn", map.last),
            ("timeZoneColumn", map.zone),
            ("regionColumn", map.region),
        ] {
            let col = col.get_untracked();
            if !col.is_empty() {
                url.push_str(&format!("&{key}={}", enc(&col)));
            }
        }
        spawn_local(async move {
            let answer = crate::api::post_file(&url, &token.get_value(), f).await;
            uploading.set(false);
            let body = match answer {
                Ok(b) => b,
                Err(e) => {
                    error.set(Some(e));
                    return;
                }
            };
            let id = body["jobId"].as_str().unwrap_or_default().to_owned();
            job.set(Some(Job {
                id: id.clone(),
                state: "RUNNING".into(),
                total_rows: body["totalRows"].as_i64().unwrap_or(0),
                ..Job::default()
            }));
            preview.set(Vec::new());
            follow(id);
        });
    };
    on_cleanup(move || {
        let _ = live.try_update_value(|l| l.take().map(|l| l.stop()));
    });

    let header = move || preview.with(|p| p.first().cloned().unwrap_or_default());
    let column = move |id: &'static str,
                       label: &'static str,
                       sig: RwSignal<String>,
                       required: bool| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <select id=id on:change=move |ev| sig.set(event_target_value(&ev))>
                    {(!required).then(|| view! { <option value="" selected=move || sig.get().is_empty()>"— none —"</option> })}
                    {move || header().into_iter().map(|h| {
                        let v = h.clone();
                        view! { <option value=h.clone() selected=move || sig.get() == v>{h.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };

    view! {
        <section class="card import" id="lead-import">
            <h2>"Import leads"</h2>
            <p class="help">"A CSV file with a header row. Phone numbers without a country code are read in the contact center's region; a lead's time zone comes from its column or from the number; a state or province column (FL or US-FL) adds that jurisdiction's calling rules. Other columns become the lead's custom properties, in their order."</p>
            <label for="lead-file">"CSV file"</label>
            <input id="lead-file" type="file" accept=".csv,text/csv" on:change=choose/>
            {error_line(error)}
            {move || (!preview.with(Vec::is_empty)).then(|| view! {
                <h3>"Preview of " {file_name.get()}</h3>
                <div class="table-wrap">
                    <table id="import-preview">
                        <thead><tr>{header().into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {preview.get().into_iter().skip(1).map(|r| view! {
                                <tr>{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <h3>"Columns"</h3>
                <div class="form-grid">
                    {column("map-phone", "Phone number", map.phone, true)}
                    {column("map-first", "First name", map.first, false)}
                    {column("map-last", "Last name", map.last, false)}
                    {column("map-zone", "Time zone", map.zone, false)}
                    {column("map-region", "State or province", map.region, false)}
                </div>
                {move || {
                    let h = header();
                    let found: Vec<String> = [columns::CONSENT, columns::CONSENT_AT, columns::CONSENT_METHOD, columns::CONSENT_SOURCE]
                        .iter()
                        .filter_map(|names| columns::guess(&h, names).and_then(|i| h.get(i).cloned()))
                        .collect();
                    let line = if found.is_empty() {
                        "No consent columns. Predictive and progressive campaigns call Florida, Oklahoma and Maryland numbers only with written consent: add consent, consent_at, consent_method and consent_source columns to bring it.".to_owned()
                    } else {
                        format!("Consent to be called comes from {}: it is kept for each number across the organization.", found.join(", "))
                    };
                    view! { <p class="help" id="import-consent">{line}</p> }
                }}
                <div class="submit-row">
                    <button id="start-import" on:click=upload disabled=move || uploading.get() || map.phone.get().is_empty()>
                        "Import " {file_name.get()}
                    </button>
                </div>
            })}
            {move || job.get().map(|j| {
                let running = j.state == "RUNNING";
                view! {
                    <div class="import-job" data-state=j.state.clone()>
                        <label for="import-progress">{if running { "Importing…" } else { "Import finished" }}</label>
                        <progress id="import-progress" max="100" value=j.percent></progress>
                        <p role="status">
                            {format!("{} of {} rows", j.processed_rows, j.total_rows)}
                            {(!running).then(|| format!(" · {} added · {} merged · {} refused · {} flagged", j.added, j.merged, j.rejected, j.warned))}
                        </p>
                        {j.error.clone().map(|e| view! { <p class="error" role="alert">{crate::api::capitalize(&e)}</p> })}
                    </div>
                }
            })}
            {move || (!report.with(Vec::is_empty)).then(|| {
                let rows = report.get();
                let data = csv::write(
                    &["row", "phone", "code", "message"],
                    rows.iter().map(|r| vec![(r.index + 1).to_string(), r.phone.clone(), r.code.clone(), r.message.clone()]),
                );
                view! {
                    <h3>"Rows refused or flagged"</h3>
                    <p><a class="button secondary" id="import-report-csv" download="import-report.csv" href=csv::href(&data)>"Download the report (CSV)"</a></p>
                    <div class="table-wrap">
                        <table id="import-report">
                            <thead><tr><th class="num">"Row"</th><th>"Phone"</th><th>"Problem"</th><th>"Details"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|r| view! {
                                    <tr data-code=r.code.clone()>
                                        <td class="num">{r.index + 1}</td><td>{r.phone}</td><td>{words(&r.code)}</td><td>{crate::api::capitalize(&r.message)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            })}
        </section>
    }
}

fn enc(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}
