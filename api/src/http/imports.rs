//! CSV uploads of leads: `POST /imports/leads?campaignId=…` with the file
//! as the body. The file is checked whole (size, header), then imported as
//! a job in the background; `importJob(id)` and the `importProgress`
//! subscription follow it.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::HttpState;
use super::graphql::caller_from_headers;
use crate::domain::identity::Role;
use crate::events::{Event, EventKind};
use crate::graphql::Caller;
use crate::graphql::campaign_api::load_campaign;
use crate::graphql::error::ApiError;
use crate::import::{CsvMapping, parse_leads_csv, run_csv_job};
use crate::store::{self, imports::ImportJob};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadParams {
    campaign_id: String,
    file_name: Option<String>,
    phone_column: Option<String>,
    first_name_column: Option<String>,
    last_name_column: Option<String>,
    time_zone_column: Option<String>,
}

fn json_error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        axum::Json(serde_json::json!({"code": code, "message": message})),
    )
        .into_response()
}

fn api_error(e: ApiError) -> Response {
    let status = match e.code() {
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "VALIDATION" => StatusCode::BAD_REQUEST,
        "CONFLICT" => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    json_error(status, e.code(), e.message())
}

fn too_large(limit: usize) -> Response {
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "VALIDATION",
        format!(
            "the file is larger than the {} MB limit: split it into smaller files",
            limit / (1024 * 1024)
        ),
    )
}

pub async fn upload_leads(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<UploadParams>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let limit = state.app.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large(limit);
    }
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(limit),
        Err(e) => return json_error(StatusCode::BAD_REQUEST, "VALIDATION", e.body_text()),
    };
    match start(&state, &headers, params, body).await {
        Ok(job) => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({"jobId": job.id, "totalRows": job.total_rows})),
        )
            .into_response(),
        Err(e) => api_error(e),
    }
}

async fn start(
    state: &HttpState,
    headers: &HeaderMap,
    p: UploadParams,
    body: Bytes,
) -> Result<ImportJob, ApiError> {
    let actor = match caller_from_headers(&state.app, headers).await {
        Caller::Actor(a) => a,
        Caller::Anonymous => return Err(ApiError::Unauthenticated("send a bearer token".into())),
        Caller::Refused(reason) => return Err(ApiError::Unauthenticated(reason)),
    };
    crate::graphql::access_require_role(&actor, Role::Supervisor)?;
    let campaign = load_campaign(&state.app, &actor, &p.campaign_id).await?;
    crate::domain::campaign::check_open(campaign.state, "takes no new leads")
        .map_err(ApiError::Conflict)?;
    let cc = store::contact_centers::get(&state.app.db, &campaign.row.contact_center_id)
        .await?
        .ok_or(ApiError::Internal)?;
    let mapping = CsvMapping {
        phone: p.phone_column,
        first_name: p.first_name_column,
        last_name: p.last_name_column,
        time_zone: p.time_zone_column,
    };
    let parsed = tokio::task::spawn_blocking(move || parse_leads_csv(&body, &mapping))
        .await
        .map_err(|_| ApiError::Internal)?
        .map_err(|e| ApiError::validation("file", e.to_string()))?;
    let total = parsed.rows.len() + parsed.refused.len();
    let job = ImportJob::running(
        &actor.organization_id,
        &campaign.row.id,
        actor.user_id(),
        p.file_name.as_deref().unwrap_or("upload.csv"),
        total,
    );
    store::imports::insert(&state.app.db, &job).await?;
    let app = state.app.clone();
    let started = job.clone();
    let row = campaign.row;
    tokio::spawn(async move {
        let publish = |j: &ImportJob| {
            app.events.publish(Event {
                organization_id: j.organization_id.clone(),
                at: Utc::now(),
                kind: EventKind::ImportProgress {
                    job_id: j.id.clone(),
                },
            })
        };
        if let Err(e) =
            run_csv_job(&app.db, &row, &cc.default_region, started, parsed, publish).await
        {
            tracing::error!(error = %e, "lead import failed");
        }
    });
    Ok(job)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListUploadParams {
    /// DO_NOT_CALL, DO_NOT_TEXT or INVALID.
    list: String,
    /// Used for rows without a `reason` column value.
    reason: Option<String>,
    /// For INVALID: WRONG_NUMBER, DISCONNECTED or OTHER (default OTHER).
    invalid_reason: Option<String>,
    phone_column: Option<String>,
    default_region: Option<String>,
}

/// The `list` parameter of the list import and export, by its GraphQL name.
pub(super) fn list_param(name: &str) -> Result<crate::store::lists::List, ApiError> {
    use crate::store::lists::List;
    match name {
        "DO_NOT_CALL" => Ok(List::DoNotCall),
        "DO_NOT_TEXT" => Ok(List::DoNotText),
        "INVALID" => Ok(List::Invalid),
        _ => Err(ApiError::validation(
            "list",
            "must be DO_NOT_CALL, DO_NOT_TEXT or INVALID",
        )),
    }
}

/// `POST /imports/list?list=DO_NOT_CALL&reason=…` with a CSV body (a phone
/// column, optionally a reason column): every row gets a result.
pub async fn upload_list(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<ListUploadParams>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let limit = state.app.config.max_upload_bytes;
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(limit),
        Err(e) => return json_error(StatusCode::BAD_REQUEST, "VALIDATION", e.body_text()),
    };
    match import_list(&state, &headers, params, body).await {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => api_error(e),
    }
}

async fn import_list(
    state: &HttpState,
    headers: &HeaderMap,
    p: ListUploadParams,
    body: Bytes,
) -> Result<serde_json::Value, ApiError> {
    use crate::domain::{identity, phone};
    use crate::store::lists;
    let actor = match caller_from_headers(&state.app, headers).await {
        Caller::Actor(a) => a,
        Caller::Anonymous => return Err(ApiError::Unauthenticated("send a bearer token".into())),
        Caller::Refused(reason) => return Err(ApiError::Unauthenticated(reason)),
    };
    crate::graphql::access_require_role(&actor, Role::Supervisor)?;
    let list = list_param(&p.list)?;
    let invalid_kind = match p.invalid_reason.as_deref() {
        None => None,
        Some(k @ ("WRONG_NUMBER" | "DISCONNECTED" | "OTHER")) => Some(k.to_owned()),
        Some(_) => {
            return Err(ApiError::validation(
                "invalidReason",
                "must be WRONG_NUMBER, DISCONNECTED or OTHER",
            ));
        }
    };
    let region = identity::normalize_region(p.default_region.as_deref().unwrap_or("US"))?;
    let default_reason = p.reason.unwrap_or_else(|| "imported".into());
    let mapping = CsvMapping {
        phone: p.phone_column,
        ..Default::default()
    };
    let parsed = tokio::task::spawn_blocking(move || parse_leads_csv(&body, &mapping))
        .await
        .map_err(|_| ApiError::Internal)?
        .map_err(|e| ApiError::validation("file", e.to_string()))?;
    let row = |index: usize, phone: &str, code: &str, message: String| serde_json::json!({"index": index, "phone": phone, "code": code, "message": message});
    let mut rejected: Vec<serde_json::Value> = parsed
        .refused
        .iter()
        .map(|r| row(r.index, &r.phone, r.code.as_str(), r.message.clone()))
        .collect();
    let (mut added, mut already) = (0u64, 0u64);
    for r in &parsed.rows {
        let e164 = match phone::normalize(&r.lead.phone, &region) {
            Ok(p) => p,
            Err(e) => {
                rejected.push(row(
                    r.index,
                    &r.lead.phone,
                    "BAD_NUMBER",
                    format!("phone {e}"),
                ));
                continue;
            }
        };
        let reason = r
            .lead
            .custom_properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("reason"))
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default_reason.clone());
        let entry = store::audit::entry(
            &actor.organization_id,
            Some(actor.audit_id()),
            "list.add",
            &e164,
            format!("{} (import): {reason}", list.as_str()),
        );
        let new = lists::NewEntry {
            organization_id: &actor.organization_id,
            phone: &e164,
            invalid_kind: invalid_kind.as_deref(),
            source: "IMPORT",
            reason: &reason,
            created_by: actor.user_id(),
        };
        if lists::add(&state.app.db, list, &new, entry).await? {
            added += 1;
        } else {
            already += 1;
        }
    }
    rejected.sort_by_key(|r| r["index"].as_u64());
    Ok(serde_json::json!({"added": added, "alreadyListed": already, "rejected": rejected}))
}
