//! CSV exports over plain HTTP (for spreadsheets and auditors), with the
//! same bearer-token auth and access rules as the GraphQL API
//! (supervisors and admins; another organization's campaign is 404).
//!
//! - `GET /exports/calls.csv?campaignId=…&from=…&to=…` — calls created in
//!   the range with their outcome, durations and disposition;
//! - `GET /exports/wrap-ups.csv?…` — wrap-ups submitted in the range, with
//!   notes and marks;
//! - `GET /exports/compliance-trail.csv?…` — every gate decision;
//! - `GET /exports/list.csv?list=DO_NOT_CALL|DO_NOT_TEXT|INVALID` — the
//!   organization's numbers on that list, newest first (the same file
//!   `POST /imports/list` reads back).
//!
//! Bodies are streamed a page (1 000 rows) at a time, so an export of a
//! million calls never sits in memory. Free-text cells (notes, names) that
//! a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) are
//! prefixed with `'`.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::graphql::caller_from_headers;
use super::{HttpState, api_error};
use crate::app::App;
use crate::domain::identity::Role;
use crate::graphql::Caller;
use crate::graphql::campaign_api::load_campaign;
use crate::graphql::error::ApiError;
use crate::store::{self, models};

const PAGE: usize = 1_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RangeParams {
    campaign_id: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

/// What an export works on: the campaign the caller may export, the
/// range, and the agents' addresses looked up so far.
#[derive(Clone)]
struct Export {
    app: App,
    campaign: String,
    from: NaiveDateTime,
    to: NaiveDateTime,
    emails: std::sync::Arc<tokio::sync::Mutex<Emails>>,
}

async fn authorize(
    state: &HttpState,
    headers: &HeaderMap,
    p: &RangeParams,
) -> Result<Export, ApiError> {
    let actor = match caller_from_headers(&state.app, headers).await {
        Caller::Actor(a) => a,
        Caller::Anonymous => return Err(ApiError::Unauthenticated("send a bearer token".into())),
        Caller::Refused(reason) => return Err(ApiError::Unauthenticated(reason)),
    };
    crate::graphql::access_require_role(&actor, Role::Supervisor)?;
    let campaign = load_campaign(&state.app, &actor, &p.campaign_id).await?;
    if p.to <= p.from {
        return Err(ApiError::validation("to", "must be after from"));
    }
    Ok(Export {
        app: state.app.clone(),
        campaign: campaign.row.id,
        from: p.from.naive_utc(),
        to: p.to.naive_utc(),
        emails: Default::default(),
    })
}

/// Authorize, then stream `what-<campaign>.csv`: `columns`, then the pages
/// `page(export, after)` yields.
async fn export<F, Fut>(
    state: &HttpState,
    headers: &HeaderMap,
    params: &RangeParams,
    what: &str,
    columns: &'static [&'static str],
    page: F,
) -> Response
where
    F: Fn(Export, Option<String>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Rows, ApiError>> + Send,
{
    let x = match authorize(state, headers, params).await {
        Ok(x) => x,
        Err(e) => return api_error(e),
    };
    let name = format!("{what}-{}.csv", x.campaign);
    csv_response(name, csv_body(columns, move |after| page(x.clone(), after)))
}

/// One page of rows, and where the next starts (none: the last page).
type Rows = (Vec<Vec<String>>, Option<String>);

/// A CSV body: the header, then pages from `page(after)` until the last.
fn csv_body<F, Fut>(header: &'static [&'static str], mut page: F) -> Body
where
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Rows, ApiError>> + Send,
{
    let stream = async_stream::stream! {
        let mut w = csv::Writer::from_writer(Vec::new());
        if w.write_record(header).is_err() {
            return;
        }
        let mut after = None;
        loop {
            match page(after.take()).await {
                Ok((rows, next)) => {
                    for r in &rows {
                        // Every cell, whatever its column: an email or a
                        // name can be a formula too.
                        if let Err(e) = w.write_record(r.iter().map(|c| spreadsheet_safe(c))) {
                            yield Err(std::io::Error::other(e));
                            return;
                        }
                    }
                    let chunk = match w.into_inner() {
                        Ok(bytes) => bytes,
                        Err(e) => {
                            yield Err(std::io::Error::other(e.to_string()));
                            return;
                        }
                    };
                    yield Ok::<Bytes, std::io::Error>(Bytes::from(chunk));
                    w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
                    match next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
                Err(e) => {
                    tracing::error!("export stopped: {}", e.message());
                    yield Err(std::io::Error::other(e.message()));
                    return;
                }
            }
        }
    };
    Body::from_stream(stream)
}

fn csv_response(name: String, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A cell a spreadsheet will not run as a formula: one starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, unless it
/// is a plain number (an E.164 phone number, a negative amount).
pub fn spreadsheet_safe(s: &str) -> String {
    let number = {
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
        !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && digits.bytes().filter(|b| *b == b'.').count() <= 1
    };
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !number {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn t(v: Option<NaiveDateTime>) -> String {
    v.map(|t| t.and_utc().to_rfc3339()).unwrap_or_default()
}

fn secs(ms: i32) -> String {
    format!("{:.3}", f64::from(ms) / 1000.0)
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

pub const LIST_COLUMNS: &[&str] = &[
    "phone",
    "reason",
    "invalid_reason",
    "source",
    "created_at",
    "created_by_email",
];

#[derive(Deserialize)]
pub struct ListParams {
    list: String,
}

/// `GET /exports/list.csv?list=…` (supervisors and admins, their own
/// organization's list).
pub async fn list_csv(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<ListParams>,
) -> Response {
    let who = async {
        let actor = match caller_from_headers(&state.app, &headers).await {
            Caller::Actor(a) => a,
            Caller::Anonymous => {
                return Err(ApiError::Unauthenticated("send a bearer token".into()));
            }
            Caller::Refused(reason) => return Err(ApiError::Unauthenticated(reason)),
        };
        crate::graphql::access_require_role(&actor, Role::Supervisor)?;
        Ok((actor, super::imports::list_param(&params.list)?))
    };
    let (actor, list) = match who.await {
        Ok(x) => x,
        Err(e) => return api_error(e),
    };
    let app = state.app.clone();
    let org = actor.organization_id.clone();
    let emails: std::sync::Arc<tokio::sync::Mutex<Emails>> = Default::default();
    let name = format!("{}.csv", list.as_str().to_lowercase().replace('_', "-"));
    csv_response(
        name,
        csv_body(LIST_COLUMNS, move |after| {
            let (app, org, emails) = (app.clone(), org.clone(), emails.clone());
            async move {
                let page =
                    store::lists::search(&app.db, list, &org, None, after.as_deref(), PAGE).await?;
                let mut emails = emails.lock().await;
                let mut rows = Vec::with_capacity(page.items.len());
                for e in &page.items {
                    rows.push(vec![
                        e.phone.clone(),
                        e.reason.clone(),
                        opt(&e.invalid_kind),
                        e.source.clone(),
                        t(Some(e.created_at)),
                        emails.of(&app, &e.created_by).await?,
                    ]);
                }
                let next = page
                    .has_next
                    .then(|| page.items.last().map(|e| e.id.clone()))
                    .flatten();
                Ok((rows, next))
            }
        }),
    )
}

/// Agents' e-mail addresses, looked up once each.
#[derive(Default)]
struct Emails(HashMap<String, String>);

impl Emails {
    async fn of(&mut self, app: &App, id: &Option<String>) -> Result<String, ApiError> {
        let Some(id) = id else {
            return Ok(String::new());
        };
        if let Some(e) = self.0.get(id) {
            return Ok(e.clone());
        }
        let email = store::users::get(&app.db, id)
            .await?
            .map(|u| u.email)
            .unwrap_or_default();
        self.0.insert(id.clone(), email.clone());
        Ok(email)
    }
}

pub const CALL_COLUMNS: &[&str] = &[
    "call_id",
    "created_at",
    "dialed_at",
    "answered_at",
    "connected_at",
    "ended_at",
    "origin",
    "phone",
    "lead_id",
    "agent_id",
    "agent_email",
    "state",
    "outcome",
    "answered_by",
    "talk_seconds",
    "hold_seconds",
    "disposition_code",
    "disposition_category",
    "conversion",
    "do_not_call",
    "do_not_text",
    "invalid_number",
];

/// `GET /exports/calls.csv?campaignId=…&from=…&to=…`
pub async fn calls_csv(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<RangeParams>,
) -> Response {
    export(&state, &headers, &params, "calls", CALL_COLUMNS, calls_page).await
}

async fn calls_page(x: Export, after: Option<String>) -> Result<Rows, ApiError> {
    let app = &x.app;
    let page =
        store::calls::page_of_campaign(&app.db, &x.campaign, x.from, x.to, after.as_deref(), PAGE)
            .await?;
    let ids: Vec<String> = page.items.iter().map(|c| c.id.clone()).collect();
    let wraps: HashMap<String, models::WrapUp> = store::wrap_ups::for_calls(&app.db, &ids)
        .await?
        .into_iter()
        .map(|w| (w.call_id.clone(), w))
        .collect();
    let mut emails = x.emails.lock().await;
    let mut rows = Vec::with_capacity(page.items.len());
    for c in &page.items {
        let w = wraps.get(&c.id);
        rows.push(vec![
            c.id.clone(),
            t(Some(c.created_at)),
            t(c.dialed_at),
            t(c.answered_at),
            t(c.connected_at),
            t(c.ended_at),
            c.origin.clone(),
            c.phone.clone(),
            opt(&c.lead_id),
            opt(&c.agent_id),
            emails.of(app, &c.agent_id).await?,
            c.state.clone(),
            opt(&c.outcome),
            opt(&c.answered_by),
            secs(c.talk_ms),
            secs(c.hold_ms),
            w.map(|w| w.disposition_code.clone()).unwrap_or_default(),
            w.map(|w| w.category.clone()).unwrap_or_default(),
            w.map(|w| w.conversion.to_string()).unwrap_or_default(),
            w.map(|w| w.do_not_call.to_string()).unwrap_or_default(),
            w.map(|w| w.do_not_text.to_string()).unwrap_or_default(),
            w.and_then(|w| w.invalid_number.clone()).unwrap_or_default(),
        ]);
    }
    let next = page.has_next.then(|| ids.last().cloned()).flatten();
    Ok((rows, next))
}

pub const WRAP_UP_COLUMNS: &[&str] = &[
    "wrap_up_id",
    "created_at",
    "updated_at",
    "call_id",
    "call_outcome",
    "lead_id",
    "phone",
    "agent_id",
    "agent_email",
    "disposition_code",
    "disposition_category",
    "conversion",
    "notes",
    "do_not_call",
    "do_not_text",
    "invalid_number",
    "callback_at",
    "callback_agent_id",
    "automatic",
    "corrections",
    "wrap_seconds",
];

/// `GET /exports/wrap-ups.csv?campaignId=…&from=…&to=…`
pub async fn wrap_ups_csv(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<RangeParams>,
) -> Response {
    export(
        &state,
        &headers,
        &params,
        "wrap-ups",
        WRAP_UP_COLUMNS,
        wrap_ups_page,
    )
    .await
}

async fn wrap_ups_page(x: Export, after: Option<String>) -> Result<Rows, ApiError> {
    let app = &x.app;
    let page = store::wrap_ups::page_of_campaign(
        &app.db,
        &x.campaign,
        x.from,
        x.to,
        after.as_deref(),
        PAGE,
    )
    .await?;
    let call_ids: Vec<String> = page.items.iter().map(|w| w.call_id.clone()).collect();
    let calls: HashMap<String, models::Call> = store::calls::by_ids(&app.db, &call_ids)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let mut emails = x.emails.lock().await;
    let mut rows = Vec::with_capacity(page.items.len());
    for w in &page.items {
        let c = calls.get(&w.call_id);
        rows.push(vec![
            w.id.clone(),
            t(Some(w.created_at)),
            t(w.updated_at),
            w.call_id.clone(),
            c.and_then(|c| c.outcome.clone()).unwrap_or_default(),
            opt(&w.lead_id),
            c.map(|c| c.phone.clone()).unwrap_or_default(),
            w.agent_id.clone(),
            emails.of(app, &Some(w.agent_id.clone())).await?,
            w.disposition_code.clone(),
            w.category.clone(),
            w.conversion.to_string(),
            w.notes.clone(),
            w.do_not_call.to_string(),
            w.do_not_text.to_string(),
            opt(&w.invalid_number),
            t(w.callback_at),
            opt(&w.callback_agent_id),
            w.automatic.to_string(),
            w.corrections.to_string(),
            secs(w.wrap_ms),
        ]);
    }
    let next = page
        .has_next
        .then(|| page.items.last().map(|w| w.id.clone()))
        .flatten();
    Ok((rows, next))
}

pub const TRAIL_COLUMNS: &[&str] = &[
    "at",
    "campaign_id",
    "lead_id",
    "phone",
    "verdict",
    "allowed",
    "time_zone",
    "local_time",
    "attempts",
    "attempts_today",
    "dnc",
    "invalid",
    "rule",
    "rules_version",
    "facts",
];

/// `GET /exports/compliance-trail.csv?campaignId=…&from=…&to=…`
pub async fn compliance_trail_csv(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<RangeParams>,
) -> Response {
    export(
        &state,
        &headers,
        &params,
        "compliance-trail",
        TRAIL_COLUMNS,
        trail_page,
    )
    .await
}

async fn trail_page(x: Export, after: Option<String>) -> Result<Rows, ApiError> {
    let app = &x.app;
    let page =
        store::trail::list(&app.db, &x.campaign, x.from, x.to, after.as_deref(), PAGE).await?;
    let rows = page
        .items
        .iter()
        .map(|e| {
            let facts: serde_json::Value = serde_json::from_str(&e.facts).unwrap_or_default();
            let field = |k: &str| match &facts[k] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            vec![
                e.at.and_utc().to_rfc3339(),
                e.campaign_id.clone(),
                e.lead_id.clone(),
                e.phone.clone(),
                e.verdict.clone(),
                e.allowed.to_string(),
                field("timeZone"),
                field("localTime"),
                field("attempts"),
                field("attemptsToday"),
                field("dnc"),
                field("invalid"),
                // "Fla. Stat. §501.616(6)(a) (US-FL)" when a law decided.
                facts["law"]["rule"]["citation"]
                    .as_str()
                    .map(|c| {
                        let j = facts["law"]["rule"]["jurisdiction"].as_str().unwrap_or("");
                        format!("{c} ({j})")
                    })
                    .unwrap_or_default(),
                facts["law"]["version"].as_str().unwrap_or("").to_owned(),
                e.facts.clone(),
            ]
        })
        .collect();
    let next = page
        .has_next
        .then(|| page.items.last().map(|e| e.id.clone()))
        .flatten();
    Ok((rows, next))
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formulas_are_defused_and_text_is_kept() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            spreadsheet_safe("call back, \"after 5\""),
            "call back, \"after 5\""
        );
        assert_eq!(spreadsheet_safe("=1+1@x.test"), "'=1+1@x.test");
        assert_eq!(spreadsheet_safe("-2+3"), "'-2+3");
        assert_eq!(spreadsheet_safe("\t=1"), "'\t=1");
        // Numbers stay numbers: phone numbers keep their +.
        assert_eq!(spreadsheet_safe("+15551234567"), "+15551234567");
        assert_eq!(spreadsheet_safe("-12.5"), "-12.5");
        assert_eq!(
            spreadsheet_safe("2026-12-06T10:00:00+00:00"),
            "2026-12-06T10:00:00+00:00"
        );
    }
}
