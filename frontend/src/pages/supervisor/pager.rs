//! A table paged through a GraphQL connection: the rows shown, the cursor
//! of their page, the cursors of the pages before it (for "Previous"), the
//! next page's cursor, and the error of the last load.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::graphql;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

pub struct Pager<T: Send + Sync + 'static> {
    pub rows: RwSignal<Vec<T>>,
    pub error: RwSignal<Option<String>>,
    next: RwSignal<Option<String>>,
    /// The cursors of the pages before this one (None: the first page).
    back: RwSignal<Vec<Option<String>>>,
    at: RwSignal<Option<String>>,
    /// Counts loads: an answer a later load overtook is dropped.
    version: StoredValue<u32>,
}

impl<T: Send + Sync + 'static> Clone for Pager<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Pager<T> {}

impl<T: DeserializeOwned + Send + Sync + 'static> Pager<T> {
    pub fn new() -> Pager<T> {
        Pager {
            rows: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            next: RwSignal::new(None),
            back: RwSignal::new(Vec::new()),
            at: RwSignal::new(None),
            version: StoredValue::new(0),
        }
    }

    /// The cursor of the page shown (to reload it in place).
    pub fn current(&self) -> Option<String> {
        self.at.get_untracked()
    }

    /// Back to the first page (a new filter or search).
    pub fn reset(&self) {
        self.back.set(Vec::new());
    }

    /// Load the page of connection `field` after `after` (the query's
    /// `$after`; `vars` has the rest).
    pub fn fetch(
        &self,
        query: &'static str,
        field: &'static str,
        mut vars: Value,
        after: Option<String>,
        token: String,
    ) {
        let v = self.version.get_value() + 1;
        self.version.set_value(v);
        vars["after"] = after.clone().into();
        let me = *self;
        spawn_local(async move {
            let r = graphql::<Value>(query, vars, Some(&token)).await;
            if me.version.get_value() != v {
                return;
            }
            match r {
                Ok(d) => {
                    me.error.set(None);
                    me.rows
                        .set(serde_json::from_value(d[field]["nodes"].clone()).unwrap_or_default());
                    let info: Option<PageInfo> =
                        serde_json::from_value(d[field]["pageInfo"].clone()).ok();
                    me.next
                        .set(info.filter(|i| i.has_next_page).and_then(|i| i.end_cursor));
                    me.at.set(after);
                }
                Err(e) => me.error.set(Some(e.for_people())),
            }
        });
    }

    /// An `on:input` handler for a search box: keeps `search` and runs
    /// `first_page` 300 ms after the last keystroke (a later keystroke or
    /// load wins).
    pub fn search_as_typed(
        self,
        search: RwSignal<String>,
        first_page: impl Fn() + Copy + 'static,
    ) -> impl Fn(leptos::ev::Event) + Copy + 'static {
        let version = self.version;
        move |ev| {
            search.set(event_target_value(&ev));
            let v = version.get_value();
            set_timeout(
                move || {
                    if version.get_value() == v {
                        first_page();
                    }
                },
                Duration::from_millis(300),
            );
        }
    }

    /// "Previous page" and "Next page", calling `load(after)`.
    pub fn buttons(self, load: impl Fn(Option<String>) + Copy + 'static) -> impl IntoView {
        let Pager { next, back, at, .. } = self;
        view! {
            <div class="pager">
                <button class="secondary" id="previous-page" disabled=move || back.with(Vec::is_empty) on:click=move |_| {
                    let mut stack = back.get_untracked();
                    if let Some(prev) = stack.pop() {
                        back.set(stack);
                        load(prev);
                    }
                }>"Previous page"</button>
                <button class="secondary" id="next-page" disabled=move || next.with(Option::is_none) on:click=move |_| {
                    if let Some(cursor) = next.get_untracked() {
                        back.update(|b| b.push(at.get_untracked()));
                        load(Some(cursor));
                    }
                }>"Next page"</button>
            </div>
        }
    }
}
